//! Decision-path size image: compact encoder, 10 slots, the shipped model quantized to int8
//! (`COMPACT_INT8`, weights in flash): encode, quantize the input, integer forward pass, mask,
//! argmax, and the simulator that applies the actions. Paints the stack, plays the jobs of
//! `default-heavy` (32 jobs, no golden decisions), then reports
//! `size_compact_int8 decisions=N stack=BYTES` over semihosting and exits. `panic-never` is the
//! panic handler, so nothing of the panic or formatting machinery is linked. Measured by
//! `scripts/performance-embedded.sh` (sizes with `arm-none-eabi-size`, stack reported here).
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use panic_never as _;
use whitebox_core::encoding::Compact;
use whitebox_core::quant::QPolicy;
use whitebox_firmware::{
    measure, play, COMPACT_INT8, HEAVY_END, HEAVY_JOBS, HIDDEN, INPUTS, OUTPUTS, SLOTS,
};

#[entry]
fn main() -> ! {
    measure::paint_stack();
    let mut policy: QPolicy<'_, Compact, SLOTS, INPUTS, HIDDEN, OUTPUTS> =
        QPolicy::new(black_box(&COMPACT_INT8), true);
    let decisions = play(black_box(HEAVY_JOBS), HEAVY_END, &mut policy).unwrap_or(0);
    let stack = measure::stack_high_water();
    measure::report(
        b"size_compact_int8",
        &[(b"decisions", decisions), (b"stack", stack)],
    );
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::nop();
    }
}
