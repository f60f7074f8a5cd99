//! The on-target test: replays every golden decision trace with whitebox-core on the emulated
//! Cortex-M, each with the model or decision tree it names and, for a trace recorded with rules, through the same
//! projection; prints `ok NAME` or `FAIL NAME ...` per check and `N passed, N failed`, and exits
//! through semihosting with success only if every check passed. Each trace's recorded actions
//! are also played a second time with the operator's [`Monitor`] attached (its running slowdown
//! and utilization statistics, `micromath` approximations), whose mean slowdown must match the
//! trace's and whose standard deviation must be within 1 % of an exact one. Run it with
//! `cargo run --release --target thumbv7em-none-eabihf --bin on_target` in `firmware/` (M4F,
//! hardware float) or `--target thumbv7m-none-eabi` (M3, software float).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use whitebox_core::cluster::inv_len_scaled;
use whitebox_core::spec::INV_LEN_SCALE;
use whitebox_core::{Action, Episode, Event, Observer, Step, Summary};
use whitebox_firmware::monitor::Monitor;
use whitebox_firmware::{
    admit, load_model, load_tree, replay, replay_tree, Golden, Mismatch, Net, COMPACT_INT8,
    COMPACT_NET, GOLDEN, MODELS, SLOTS, TREES,
};

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

/// Half-life of the monitor's utilization averages, in time steps.
const HALF_LIFE: u32 = 10;
/// Largest relative difference of the monitor's mean slowdown from the trace's.
const MEAN_TOLERANCE: f64 = 1e-4;
/// Largest relative difference of the monitor's standard deviation from the exact one.
const SD_TOLERANCE: f64 = 0.01;

/// The [`Monitor`], and beside it an exact reference for its spread: per allocated job the
/// slowdown scaled by `INV_LEN_SCALE`, `(finish - arrival) * INV_LEN_SCALE / len` (an integer),
/// summed with its square in `u128`.
struct Watched {
    monitor: Monitor,
    jobs: u32,
    sum: u128,
    sum_sq: u128,
}

impl Observer for Watched {
    fn on_event(&mut self, event: &Event) {
        self.monitor.on_event(event);
        if let Event::Decided {
            step: Step::Allocated { job, finish, .. },
            ..
        } = *event
        {
            let x = u128::from(finish.saturating_sub(job.arrival))
                * u128::from(inv_len_scaled(job.len));
            self.jobs += 1;
            self.sum += x;
            self.sum_sq += x * x;
        }
    }
}

impl Watched {
    /// The population standard deviation of the slowdown, `sqrt(n * sum_sq - sum^2) / (n * L)`
    /// with the integer part exact and `libm`'s correctly rounded `sqrt`.
    fn exact_sd(&self) -> Option<f64> {
        let n = u128::from(self.jobs);
        let spread = (n * self.sum_sq).checked_sub(self.sum * self.sum)?;
        let scale = f64::from(self.jobs) * INV_LEN_SCALE as f64;
        (n > 0).then(|| libm::sqrt(spread as f64) / scale)
    }
}

/// Plays the recorded actions of `g` again (the replay has checked them against the policy)
/// through the core's `Episode` with `watched` attached; the summary, or `None` if an action is
/// out of range or the episode does not end exactly at the last recorded decision.
fn watch(g: &Golden, watched: &mut Watched) -> Option<Summary> {
    let mut episode: Episode<'_, SLOTS> = Episode::new(g.jobs, g.end, watched).ok()?;
    for d in g.decisions {
        episode.step(Action::from_index(d.action.into(), SLOTS)?, watched)?;
    }
    episode.is_done().then(|| episode.summary())
}

/// Relative difference of `got` from `want` (absolute when `want` is 0).
fn relative(got: f64, want: f64) -> f64 {
    let d = if got > want { got - want } else { want - got };
    let w = if want < 0.0 { -want } else { want };
    if w > 0.0 {
        d / w
    } else {
        d
    }
}

/// Runs the monitor over `g` and checks its mean slowdown against the trace's summary and its
/// standard deviation against the exact one; prints one line.
fn check_monitor(t: &mut Tally, g: &Golden) {
    let mut w = Watched {
        monitor: Monitor::new(HALF_LIFE),
        jobs: 0,
        sum: 0,
        sum_sq: 0,
    };
    let Some(summary) = watch(g, &mut w) else {
        hprintln!(
            "FAIL monitor {}: the recorded actions do not replay",
            g.name
        );
        t.check(false);
        return;
    };
    let m = &w.monitor;
    let util = m.utilization();
    let over = m.over_cap_share().unwrap_or(0.0) * 100.0;
    let want_mean = g.mean_slowdown_bits.map(f64::from_bits);
    let (mean, sd, exact_sd, want_mean) = match (m.mean_slowdown(), m.sd(), w.exact_sd(), want_mean)
    {
        (Some(mean), Some(sd), Some(exact), Some(want)) if m.jobs() == g.allocated => {
            (mean, sd, exact, want)
        }
        (None, None, None, None) if g.allocated == 0 => {
            hprintln!(
                "ok monitor {}: jobs 0, util ewma [{:.3}, {:.3}], over-cap {:.1}%",
                g.name,
                util[0],
                util[1],
                over
            );
            t.check(true);
            return;
        }
        _ => {
            hprintln!(
                "FAIL monitor {}: jobs {} (trace: {}), mean slowdown {:?} (trace: {:?})",
                g.name,
                m.jobs(),
                g.allocated,
                m.mean_slowdown(),
                want_mean
            );
            t.check(false);
            return;
        }
    };
    let mean_err = relative(f64::from(mean), want_mean);
    let sd_err = relative(f64::from(sd), exact_sd);
    // The second pass must have played the recorded schedule: its exact mean is the trace's.
    let same = summary.mean_slowdown.map(f64::to_bits) == g.mean_slowdown_bits;
    let ok = same && mean_err <= MEAN_TOLERANCE && sd_err <= SD_TOLERANCE;
    hprintln!(
        "{} monitor {}: jobs {}, slowdown mean {:.4} sd {:.4}, util ewma [{:.3}, {:.3}], over-cap {:.1}% (mean vs trace {:.1e}, sd vs exact {:.4} {:.1e}{})",
        if ok { "ok" } else { "FAIL" },
        g.name,
        m.jobs(),
        mean,
        sd,
        util[0],
        util[1],
        over,
        mean_err,
        exact_sd,
        sd_err,
        if same { "" } else { "; replayed schedule differs" }
    );
    t.check(ok);
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

/// The admission check on `net`, which should be `admitted` (a shipped model) or not (a planted
/// void preference).
fn check_admission(t: &mut Tally, name: &str, net: &Net, admitted: bool) {
    match admit(net) {
        Ok(a) => {
            let ok = a.admitted == admitted;
            hprintln!(
                "{} admission {}: {} (lower bound on logit[{}] - logit[void] {:.4})",
                if ok { "ok" } else { "FAIL" },
                name,
                if a.admitted { "admitted" } else { "refused" },
                a.slot,
                a.lower
            );
            t.check(ok);
        }
        Err(e) => {
            hprintln!("FAIL admission {}: {}", name, e);
            t.check(false);
        }
    }
}

#[entry]
fn main() -> ! {
    let mut t = Tally {
        passed: 0,
        failed: 0,
    };
    hprintln!(
        "whitebox on-target: {} golden traces, {} models, {} trees",
        GOLDEN.len(),
        MODELS.len(),
        TREES.len()
    );
    check_fpu(&mut t);
    let mut net = Net::zeroed();
    for (i, model) in MODELS.iter().enumerate() {
        let traces = GOLDEN.iter().filter(|g| g.model == Some(i));
        let mask = match load_model(model, &mut net) {
            Ok(mask) => {
                hprintln!(
                    "ok load model {} ({} bytes, CRC-32 {:#010x})",
                    model.path,
                    model.bytes.len(),
                    model.crc32
                );
                t.check(true);
                check_admission(&mut t, model.path, &net, true);
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
            let result = match g.int8 {
                None => replay(g, &net, mask),
                Some(q) => match q.quantize(&net) {
                    Ok(qnet) => {
                        // The build script quantized the shipped model with the same ranges on
                        // the host: this core's quantization must give the same network.
                        if i == 0 {
                            let same = qnet == COMPACT_INT8;
                            hprintln!(
                                "{} {}: quantized here ({} hidden_max {:?}), {} the build-time int8 network",
                                if same { "ok" } else { "FAIL" },
                                g.name,
                                model.path,
                                qnet.hidden_scale() * 255.0,
                                if same { "equals" } else { "differs from" }
                            );
                            t.check(same);
                        }
                        replay(g, &qnet, mask)
                    }
                    Err(e) => {
                        hprintln!("FAIL {}: cannot quantize {}: {}", g.name, model.path, e);
                        t.check(false);
                        continue;
                    }
                },
            };
            report(&mut t, g, result);
            check_monitor(&mut t, g);
        }
    }
    // A planted void preference on an idle cluster: the check must refuse it.
    let mut planted = COMPACT_NET.clone();
    if let Some(void) = planted.b2.last_mut() {
        *void += 1000.0;
    }
    check_admission(&mut t, "planted void bias", &planted, false);
    for (i, file) in TREES.iter().enumerate() {
        let traces = GOLDEN.iter().filter(|g| g.tree == Some(i));
        let tree = match load_tree(file) {
            Ok(tree) => {
                hprintln!(
                    "ok load tree {} ({} bytes, CRC-32 {:#010x}, {} nodes)",
                    file.path,
                    file.bytes.len(),
                    file.crc32,
                    tree.nodes().len()
                );
                t.check(true);
                tree
            }
            Err(e) => {
                hprintln!("FAIL load tree {}: {}", file.path, e);
                t.check(false);
                for g in traces {
                    hprintln!("FAIL {}: its tree {} did not load", g.name, file.path);
                    t.check(false);
                }
                continue;
            }
        };
        for g in traces {
            report(&mut t, g, replay_tree(g, &tree));
            check_monitor(&mut t, g);
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

/// Prints and counts the outcome of one trace's replay.
fn report(t: &mut Tally, g: &Golden, result: Result<usize, Mismatch>) {
    match result {
        Ok(n) => {
            let what = match (g.rules.is_some(), g.guard.is_some()) {
                (true, false) => {
                    "actions, logit bits, rule verdicts and projected probability bits equal, \
                     lean decisions as the full projection's"
                }
                (true, true) => {
                    "actions, logit bits, rule verdicts, projected probability bits, \
                     hand-overs, deciders and guard counters equal, lean decisions as the full \
                     projection's"
                }
                (false, true) => {
                    "actions, logit bits, hand-overs, deciders and guard counters equal"
                }
                (false, false) => "actions and logit bits equal",
            };
            let int8 = if g.int8.is_some() {
                "int8 network, i32 logits; "
            } else if g.tree.is_some() {
                "decision tree, leaves equal; "
            } else {
                ""
            };
            hprintln!("ok {} ({} decisions, {}{})", g.name, n, int8, what);
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
