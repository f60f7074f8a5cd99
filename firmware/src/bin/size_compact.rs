//! Decision-path size image: compact encoder, 10 slots, the shipped model (weights in flash): encode, forward, mask, argmax, and the simulator that applies the actions.
//! Paints the stack, plays the jobs of `default-heavy` (32 jobs, no golden decisions), then
//! reports `size_compact decisions=N stack=BYTES` over semihosting and exits. `panic-never` is the
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
    use whitebox_core::{encoding::Compact, nn::MlpPolicy};
    use whitebox_firmware::{COMPACT_NET, HIDDEN, INPUTS, OUTPUTS, SLOTS};
    let mut policy: MlpPolicy<'_, Compact, SLOTS, INPUTS, HIDDEN, OUTPUTS> =
        MlpPolicy::new(black_box(&COMPACT_NET), true);
    let decisions = play(black_box(HEAVY_JOBS), HEAVY_END, &mut policy).unwrap_or(0);
    let stack = measure::stack_high_water();
    measure::report(
        b"size_compact",
        &[(b"decisions", decisions), (b"stack", stack)],
    );
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::nop();
    }
}
