//! Decision-path size image: as `size_compact`, with the runtime projection (`util<=0.8` and work-conserving, as a shield) on every decision.
//! Paints the stack, plays the jobs of `default-heavy` (32 jobs, no golden decisions), then
//! reports `size_compact_shield decisions=N stack=BYTES` over semihosting and exits. `panic-never` is the
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
    use whitebox_core::{encoding::Compact, nn::MlpPolicy, Projected};
    use whitebox_firmware::{COMPACT_NET, HIDDEN, INPUTS, OUTPUTS, SLOTS};
    let policy: MlpPolicy<'_, Compact, SLOTS, INPUTS, HIDDEN, OUTPUTS> =
        MlpPolicy::new(black_box(&COMPACT_NET), true);
    let mut shielded: Projected<_, OUTPUTS, true> = Projected::lean(policy, shield());
    let decisions = play(black_box(HEAVY_JOBS), HEAVY_END, &mut shielded).unwrap_or(0);
    let stack = measure::stack_high_water();
    measure::report(
        b"size_compact_shield",
        &[(b"decisions", decisions), (b"stack", stack)],
    );
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::nop();
    }
}
