//! Decision-path size image: DeepRM's image encoder (20 x 224 inputs), 10 slots, with a
//! pseudo-random network of the right shape generated at build time (not trained; weights in
//! flash).
//! Paints the stack, plays the jobs of `default-heavy` (32 jobs, no golden decisions), then
//! reports `size_image decisions=N stack=BYTES` over semihosting and exits. `panic-never` is the
//! panic handler, so nothing of the panic or formatting machinery is linked. Measured by
//! `scripts/performance-embedded.sh` (sizes with `arm-none-eabi-size`, stack reported here).
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use panic_never as _;
#[allow(unused_imports)]
use whitebox_firmware::{measure, play, shield, HEAVY_END, HEAVY_JOBS};

#[entry]
fn main() -> ! {
    measure::paint_stack();
    use whitebox_core::{encoding::Image, nn::MlpPolicy};
    use whitebox_firmware::{HIDDEN, IMAGE_INPUTS, IMAGE_NET, OUTPUTS, SLOTS};
    let mut policy: MlpPolicy<'_, Image, SLOTS, IMAGE_INPUTS, HIDDEN, OUTPUTS> =
        MlpPolicy::new(black_box(&IMAGE_NET), true);
    let decisions = play(black_box(HEAVY_JOBS), HEAVY_END, &mut policy).unwrap_or(0);
    let stack = measure::stack_high_water();
    measure::report(
        b"size_image",
        &[(b"decisions", decisions), (b"stack", stack)],
    );
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::nop();
    }
}
