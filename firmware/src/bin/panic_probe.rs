//! Panic-freedom probe of the decision path: loads the embedded model, plays the first golden
//! job set (observe, encode, forward, mask, argmax, apply) and checks it against the trace. The
//! panic handler is `panic-never`, so the release build fails to link if any panicking branch
//! is reachable from this code. It also runs under QEMU and exits with the check's result.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use panic_never as _;
use whitebox_firmware::{load_model, replay, Net, GOLDEN};

#[entry]
fn main() -> ! {
    let mut net = Net::zeroed();
    let ok = match load_model(black_box(&mut net)) {
        Ok(mask) => GOLDEN
            .iter()
            .all(|g| replay(black_box(g), black_box(&net), mask).is_ok()),
        Err(_) => false,
    };
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::nop();
    }
}
