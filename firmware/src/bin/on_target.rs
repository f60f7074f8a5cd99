//! The on-target test: replays every golden decision trace with whitebox-core on the emulated
//! Cortex-M, each with the model it names and, for a trace recorded with rules, through the same
//! projection; prints `ok NAME` or `FAIL NAME ...` per check and `N passed, N failed`, and exits
//! through semihosting with success only if every check passed. Run it with
//! `cargo run --release --target thumbv7em-none-eabihf --bin on_target` in `firmware/` (M4F,
//! hardware float) or `--target thumbv7m-none-eabi` (M3, software float).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use whitebox_firmware::{load_model, replay, Net, GOLDEN, MODELS};

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
        "whitebox on-target: {} golden traces, {} models",
        GOLDEN.len(),
        MODELS.len()
    );
    check_fpu(&mut t);
    let mut net = Net::zeroed();
    for (i, model) in MODELS.iter().enumerate() {
        let traces = GOLDEN.iter().filter(|g| g.model == i);
        let mask = match load_model(model, &mut net) {
            Ok(mask) => {
                hprintln!(
                    "ok load model {} ({} bytes, CRC-32 {:#010x})",
                    model.path,
                    model.bytes.len(),
                    model.crc32
                );
                t.check(true);
                mask
            }
            Err(e) => {
                hprintln!("FAIL load model {}: {}", model.path, e);
                t.check(false);
                for g in traces {
                    hprintln!("FAIL {}: its model {} did not load", g.name, model.path);
                    t.check(false);
                }
                continue;
            }
        };
        for g in traces {
            match replay(g, &net, mask) {
                Ok(n) => {
                    let what = if g.rules.is_some() {
                        "actions, logit bits, rule verdicts and projected probability bits equal"
                    } else {
                        "actions and logit bits equal"
                    };
                    hprintln!("ok {} ({} decisions: {})", g.name, n, what);
                    t.check(true);
                }
                Err(m) if m.field.hex() => {
                    hprintln!(
                        "FAIL {} decision {}: {} expected {:#010x}, got {:#010x}",
                        g.name,
                        m.decision,
                        m.field,
                        m.expected,
                        m.got
                    );
                    t.check(false);
                }
                Err(m) => {
                    hprintln!(
                        "FAIL {} decision {}: {} expected {}, got {}",
                        g.name,
                        m.decision,
                        m.field,
                        m.expected,
                        m.got
                    );
                    t.check(false);
                }
            }
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
