//! The on-target test: replays every golden decision trace with whitebox-core on the emulated
//! Cortex-M, prints `ok NAME` or `FAIL NAME ...` per check and `N passed, N failed`, and exits
//! through semihosting with success only if every check passed. Run it with
//! `cargo run --release --target thumbv7em-none-eabihf --bin on_target` in `firmware/` (M4F,
//! hardware float) or `--target thumbv7m-none-eabi` (M3, software float).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use whitebox_firmware::{load_model, replay, Field, Net, GOLDEN, MODEL, MODEL_CRC32};

/// AHP, DN, FZ and RMode bits of FPSCR: all zero is IEEE 754 round-to-nearest-even with
/// subnormals and NaN payloads handled in full (the reset state).
#[cfg(has_fpu)]
const FPSCR_MODE_BITS: u32 = 0x07C0_0000;

struct Tally {
    passed: u32,
    failed: u32,
}

impl Tally {
    fn check(&mut self, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }
}

#[cfg(has_fpu)]
fn check_fpu(t: &mut Tally) {
    let bits = cortex_m::register::fpscr::read().bits();
    let ok = bits & FPSCR_MODE_BITS == 0;
    if ok {
        hprintln!(
            "ok fpscr {:#010x}: round to nearest even, FZ = 0, DN = 0, AHP = 0",
            bits
        );
    } else {
        hprintln!(
            "FAIL fpscr {:#010x}: mode bits {:#010x} set",
            bits,
            bits & FPSCR_MODE_BITS
        );
    }
    t.check(ok);
}

#[cfg(not(has_fpu))]
fn check_fpu(_: &mut Tally) {
    hprintln!("note: no FPU on this target (software float); FPSCR check skipped");
}

#[entry]
fn main() -> ! {
    let mut t = Tally {
        passed: 0,
        failed: 0,
    };
    hprintln!(
        "whitebox on-target: {} golden traces, model {} bytes, CRC-32 {:#010x}",
        GOLDEN.len(),
        MODEL.len(),
        MODEL_CRC32
    );
    check_fpu(&mut t);
    let mut net = Net::zeroed();
    match load_model(&mut net) {
        Ok(mask) => {
            hprintln!("ok load model");
            t.check(true);
            for g in GOLDEN {
                match replay(g, &net, mask) {
                    Ok(n) => {
                        hprintln!(
                            "ok {} ({} decisions: actions and logit bits equal)",
                            g.name,
                            n
                        );
                        t.check(true);
                    }
                    Err(m) => {
                        let field = match m.field {
                            Field::Logit(k) => {
                                hprintln!(
                                    "FAIL {} decision {}: logits_bits[{}] expected {:#010x}, got {:#010x}",
                                    g.name, m.decision, k, m.expected, m.got
                                );
                                t.check(false);
                                continue;
                            }
                            other => other,
                        };
                        hprintln!(
                            "FAIL {} decision {}: {:?} expected {:#x}, got {:#x}",
                            g.name,
                            m.decision,
                            field,
                            m.expected,
                            m.got
                        );
                        t.check(false);
                    }
                }
            }
        }
        Err(e) => {
            hprintln!("FAIL load model: {}", e);
            t.check(false);
        }
    }
    hprintln!("{} passed, {} failed", t.passed, t.failed);
    debug::exit(if t.failed == 0 {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::nop();
    }
}
