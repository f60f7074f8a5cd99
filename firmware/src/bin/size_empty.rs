//! Decision-path size image: the baseline: runtime, stack painting and the report, no decision (what the other images add to it is the decision path).
//! Paints the stack, plays the jobs of `default-heavy` (32 jobs, no golden decisions), then
//! reports `size_empty decisions=N stack=BYTES` over semihosting and exits. `panic-never` is the
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
    let decisions = black_box(0u32);
    let stack = measure::stack_high_water();
    measure::report(
        b"size_empty",
        &[(b"decisions", decisions), (b"stack", stack)],
    );
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::nop();
    }
}
