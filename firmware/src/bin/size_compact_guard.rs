//! Decision-path size image: as `size_compact`, with the guard (renewal mode, default `eps` and
//! `c`) around the policy: SJF as the fallback and one shadow episode of the same jobs.
//! Paints the stack, plays the jobs of `default-heavy` (32 jobs, no golden decisions), then
//! reports `size_compact_guard decisions=N stack=BYTES` over semihosting and exits. `panic-never`
//! is the panic handler, so nothing of the panic or formatting machinery is linked. Measured by
//! `scripts/performance-embedded.sh` (sizes with `arm-none-eabi-size`, stack reported here).
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use panic_never as _;
use whitebox_core::GuardParams;
use whitebox_firmware::{guarded, measure, play, COMPACT_NET, HEAVY_END, HEAVY_JOBS};

#[entry]
fn main() -> ! {
    measure::paint_stack();
    let jobs = black_box(HEAVY_JOBS);
    // Played in place inside the `Result`: moving the guard (~3.6 KB) out would copy it.
    let mut guard = guarded(
        black_box(&COMPACT_NET),
        true,
        None,
        GuardParams::default(),
        jobs,
        HEAVY_END,
    );
    let decisions = match &mut guard {
        Ok(guard) => play(jobs, HEAVY_END, guard).unwrap_or(0),
        Err(_) => 0,
    };
    let stack = measure::stack_high_water();
    measure::report(
        b"size_compact_guard",
        &[(b"decisions", decisions), (b"stack", stack)],
    );
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::nop();
    }
}
