//! Size image of the SJF baseline with the same harness and simulator as the other
//! `size_*` images: plays the jobs of `default-heavy` with SJF. `size_tree` minus this image
//! is what the decision tree adds over a baseline scheduler: its code (features, walk, SJF's
//! order, mask, argmax, the tree loader) and its file bytes. Reports `size_sjf decisions=N
//! stack=BYTES` over semihosting. Measured by `scripts/performance-embedded.sh`.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use panic_never as _;
use whitebox_core::Sjf;
use whitebox_firmware::{measure, play, HEAVY_END, HEAVY_JOBS};

#[entry]
fn main() -> ! {
    measure::paint_stack();
    let decisions = play(black_box(HEAVY_JOBS), HEAVY_END, &mut Sjf).unwrap_or(0);
    let stack = measure::stack_high_water();
    measure::report(b"size_sjf", &[(b"decisions", decisions), (b"stack", stack)]);
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::nop();
    }
}
