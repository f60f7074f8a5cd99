//! Instructions per decision on the emulated core. Run under
//! `qemu-system-arm -icount shift=0` (one instruction = 1 ns of virtual time; the mps2 SysTick
//! counts the 25 MHz core clock, so one tick = 40 instructions), as
//! `scripts/performance-embedded.sh` does.
//!
//! 1. Calibration: a hand-written loop of exactly 12 000 instructions (1 000 x 10 `nop`, `subs`,
//!    `bne`) must read as 300 ticks; the factor it gives is printed and used below.
//! 2. The states: the shipped model plays the jobs of `default-heavy` (compact encoder, 10 slots)
//!    and every cluster state it decides on is kept (124 states).
//! 3. For each case, one SysTick read before and one after deciding on every kept state
//!    (encode, forward, mask, argmax; with the shield, `Projected::lean`: the integer rule
//!    verdicts of the allowed actions in logit order up to the first one kept, no softmax)
//!    gives the instructions per decision: `ticks * 40 / N`.
//!
//!    The int8 policy (the shipped model quantized, [`COMPACT_INT8`]) decides on the same states,
//!    alone and with the shield; and the parts of a decision are timed on their own over the
//!    same states: the compact encoding, the action mask, and the network's forward pass (f32,
//!    int8 with its input quantization, and the int8 integer layers alone).
//!
//!    The shipped decision tree (the tree traces' file, loaded from its bytes) decides on the
//!    same states, alone and with the shield.
//!
//! 4. Guarded decisions: a guard is stateful (its shadow follows the episode), so the policy
//!    alone and guarded (renewal, budget and lookahead mode, default `eps` and `c`) each play an episode
//!    and only the time inside `decide` is counted (policy, shadow step(s), comparison), on the
//!    jobs of `default-heavy` and of the two guarded golden traces.
//!
//! Prints one `bench ...` line per case and exits with failure if the calibration is off.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;
use whitebox_core::encoding::{Compact, Encoder, Image};
use whitebox_core::network::Network;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::policy::valid_actions;
use whitebox_core::quant::QPolicy;
use whitebox_core::{
    Action, Cluster, EndMode, FallbackKind, GuardMode, GuardParams, Job, PolicyError, Projected,
    Scheduler,
};
use whitebox_firmware::{
    admit, guarded_with, load_tree, play, shield, TreePolicy, COMPACT_INT8, COMPACT_NET, GOLDEN,
    HEAVY_END, HEAVY_JOBS, HIDDEN, IMAGE_INPUTS, IMAGE_NET, INPUTS, OUTPUTS, SLOTS, TREES,
};

/// Room for the kept states (`default-heavy` has 124 decisions).
const MAX_STATES: usize = 160;
/// SysTick counts down from this (24 bits).
const RELOAD: u32 = 0x00FF_FFFF;
/// Instructions of the calibration loop.
const CALIBRATION_INSTRUCTIONS: u32 = 12_000;

type CompactPolicy<'m> = MlpPolicy<'m, Compact, SLOTS, INPUTS, HIDDEN, OUTPUTS>;
type CompactInt8<'m> = QPolicy<'m, Compact, SLOTS, INPUTS, HIDDEN, OUTPUTS>;
type ImagePolicy<'m> = MlpPolicy<'m, Image, SLOTS, IMAGE_INPUTS, HIDDEN, OUTPUTS>;

/// Decides with the inner policy and keeps a copy of every state it decides on.
struct Recorder<'a, S> {
    inner: S,
    states: &'a mut [Cluster<SLOTS>],
    kept: usize,
}

impl<S: Scheduler<SLOTS>> Scheduler<SLOTS> for Recorder<'_, S> {
    fn decide(&mut self, cluster: &Cluster<SLOTS>) -> Result<Action, PolicyError> {
        if let Some(s) = self.states.get_mut(self.kept) {
            s.clone_from(cluster);
            self.kept += 1;
        }
        self.inner.decide(cluster)
    }
}

fn now() -> u32 {
    SYST::get_current()
}

/// Ticks elapsed between two SysTick readings (it counts down and wraps at 24 bits).
fn ticks(start: u32, end: u32) -> u32 {
    start.wrapping_sub(end) & RELOAD
}

/// 1 000 iterations of 10 `nop`, `subs`, `bne`: 12 000 instructions.
fn calibration_loop() -> u32 {
    let start = now();
    // SAFETY: touches only the named register and the flags.
    unsafe {
        core::arch::asm!(
            "2:",
            "nop", "nop", "nop", "nop", "nop", "nop", "nop", "nop", "nop", "nop",
            "subs {n}, {n}, #1",
            "bne 2b",
            n = inout(reg) 1000u32 => _,
            options(nomem, nostack),
        );
    }
    ticks(start, now())
}

/// Ticks for one decision of `scheduler` on every state.
fn time<S: Scheduler<SLOTS>>(scheduler: &mut S, states: &[Cluster<SLOTS>]) -> u32 {
    let start = now();
    for s in states {
        let _ = black_box(scheduler.decide(black_box(s)));
    }
    ticks(start, now())
}

/// Times the parts of a compact decision on their own over `states`: the encoding, the mask,
/// and the forward pass of the f32 and the int8 network on the encoded observations.
fn parts(states: &[Cluster<SLOTS>], per_tick: u32) {
    let mut obs = [[0.0f32; INPUTS]; MAX_STATES];
    let n = states.len().min(MAX_STATES);
    let start = now();
    for (s, o) in states.iter().zip(obs.iter_mut()) {
        Compact::encode(black_box(s), black_box(o));
    }
    report("part/encode", n, ticks(start, now()), per_tick);
    let start = now();
    for s in states {
        black_box(valid_actions::<SLOTS, OUTPUTS>(black_box(s), true));
    }
    report("part/mask", n, ticks(start, now()), per_tick);
    let obs = obs.get(..n).unwrap_or(&[]);
    let mut scratch = COMPACT_NET.scratch();
    let mut logits = [0.0f32; OUTPUTS];
    let start = now();
    for o in obs {
        COMPACT_NET.forward(black_box(o), &mut scratch, &mut logits);
        black_box(&logits);
    }
    report("part/network-f32", n, ticks(start, now()), per_tick);
    let mut scratch = COMPACT_INT8.scratch();
    let mut logits = [0i32; OUTPUTS];
    let start = now();
    for o in obs {
        Network::forward(&COMPACT_INT8, black_box(o), &mut scratch, &mut logits);
        black_box(&logits);
    }
    report("part/network-int8", n, ticks(start, now()), per_tick);
    let (mut xq, mut h) = ([0u8; INPUTS], [0u8; HIDDEN]);
    let start = now();
    for o in obs {
        COMPACT_INT8.quantize_input(black_box(o), &mut xq);
        black_box(&xq);
    }
    report("part/int8-quantize-input", n, ticks(start, now()), per_tick);
    let start = now();
    for _ in obs {
        COMPACT_INT8.hidden_q(black_box(&xq), &mut h);
        COMPACT_INT8.output_q(black_box(&h), &mut logits);
        black_box(&logits);
    }
    report("part/int8-integer-layers", n, ticks(start, now()), per_tick);
}

/// Decides with the inner scheduler in a played episode, counting the ticks inside `decide`
/// only (a guard is stateful: its shadow follows the episode, so it is timed in one).
struct Timed<S> {
    inner: S,
    ticks: u32,
    decisions: usize,
}

impl<S: Scheduler<SLOTS>> Scheduler<SLOTS> for Timed<S> {
    fn decide(&mut self, cluster: &Cluster<SLOTS>) -> Result<Action, PolicyError> {
        let start = now();
        let action = self.inner.decide(cluster);
        self.ticks = self.ticks.wrapping_add(ticks(start, now()));
        self.decisions += 1;
        action
    }
}

/// Times every decision of an episode on `jobs`: the policy alone, then guarded in each mode
/// (default `eps` and `c`; lookahead also with the repairing fallback `sjf-reserve`); one
/// `bench` line each, named `{label}/unguarded` and `{label}/{mode}`.
fn episode_cases(label: &str, jobs: &[Job], end: EndMode, per_tick: u32) {
    let mut plain = Timed {
        inner: CompactPolicy::new(&COMPACT_NET, true),
        ticks: 0,
        decisions: 0,
    };
    let _ = play(jobs, end, &mut plain);
    report_in(label, "unguarded", plain.decisions, plain.ticks, per_tick);
    for (mode, fallback, name) in [
        (GuardMode::Renewal, FallbackKind::Sjf, "renewal"),
        (GuardMode::Budget, FallbackKind::Sjf, "budget"),
        (GuardMode::Lookahead, FallbackKind::Sjf, "lookahead"),
        (
            GuardMode::Lookahead,
            FallbackKind::SjfReserve,
            "lookahead-reserve",
        ),
    ] {
        let Ok(params) = GuardParams::new(mode, GuardParams::DEFAULT_EPS, GuardParams::DEFAULT_C)
        else {
            continue;
        };
        let guard = guarded_with::<Compact, _, INPUTS>(
            &COMPACT_NET,
            true,
            None,
            params,
            fallback,
            jobs,
            end,
        );
        let Ok(guard) = guard else {
            hprintln!("FAIL guard on {}", label);
            continue;
        };
        let mut g = Timed {
            inner: guard,
            ticks: 0,
            decisions: 0,
        };
        let _ = play(jobs, end, &mut g);
        let stats = g.inner.stats();
        hprintln!(
            "guard {} {}: learned_steps={} of {} renewals={} handovers={}",
            label,
            name,
            stats.learned_steps,
            stats.steps,
            stats.renewals,
            stats.handovers
        );
        report_in(label, name, g.decisions, g.ticks, per_tick);
    }
}

fn report(case: &str, n: usize, ticks: u32, per_tick: u32) {
    report_in("", case, n, ticks, per_tick);
}

/// As [`report`], the case named `{label}/{case}` when `label` is not empty.
fn report_in(label: &str, case: &str, n: usize, ticks: u32, per_tick: u32) {
    let instructions = u64::from(ticks) * u64::from(per_tick);
    let n64 = n.max(1) as u64;
    hprintln!(
        "bench {}{}{} decisions={} ticks={} instructions={} per_decision={}",
        label,
        if label.is_empty() { "" } else { "/" },
        case,
        n,
        ticks,
        instructions,
        (instructions + n64 / 2) / n64
    );
}

#[entry]
fn main() -> ! {
    let Some(p) = cortex_m::Peripherals::take() else {
        hprintln!("FAIL peripherals taken");
        debug::exit(debug::EXIT_FAILURE);
        loop {
            cortex_m::asm::wfi();
        }
    };
    let mut syst = p.SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_counter();

    let cal = calibration_loop();
    let per_tick = (CALIBRATION_INSTRUCTIONS + cal / 2) / cal.max(1);
    let ok = per_tick == 40;
    hprintln!(
        "calibration loop={} ticks={} instructions_per_tick={} {}",
        CALIBRATION_INSTRUCTIONS,
        cal,
        per_tick,
        if ok { "ok" } else { "FAIL (expected 40)" }
    );

    let mut states: [Cluster<SLOTS>; MAX_STATES] = core::array::from_fn(|_| Cluster::new());
    let mut recorder = Recorder {
        inner: CompactPolicy::new(&COMPACT_NET, true),
        states: &mut states,
        kept: 0,
    };
    let played = play(HEAVY_JOBS, HEAVY_END, &mut recorder);
    let kept = recorder.kept;
    let states = states.get(..kept).unwrap_or(&[]);
    hprintln!("states {} (decisions played {:?})", states.len(), played);

    let mut compact = CompactPolicy::new(&COMPACT_NET, true);
    report(
        "compact",
        states.len(),
        time(&mut compact, states),
        per_tick,
    );
    let mut shielded: Projected<_, OUTPUTS, true> =
        Projected::lean(CompactPolicy::new(&COMPACT_NET, true), shield());
    let t = time(&mut shielded, states);
    report("compact+shield", states.len(), t, per_tick);
    let mut int8 = CompactInt8::new(&COMPACT_INT8, true);
    let t = time(&mut int8, states);
    report("compact-int8", states.len(), t, per_tick);
    let mut shielded: Projected<_, OUTPUTS, true> =
        Projected::lean(CompactInt8::new(&COMPACT_INT8, true), shield());
    let t = time(&mut shielded, states);
    report("compact-int8+shield", states.len(), t, per_tick);
    parts(states, per_tick);
    let mut image = ImagePolicy::new(&IMAGE_NET, true);
    report("image", states.len(), time(&mut image, states), per_tick);
    let mut shielded: Projected<_, OUTPUTS, true> =
        Projected::lean(ImagePolicy::new(&IMAGE_NET, true), shield());
    let t = time(&mut shielded, states);
    report("image+shield", states.len(), t, per_tick);

    // The shipped tree (`fixtures/models/default.tree`, the tree traces' file) on the same
    // states: operator features, the tree walk, SJF's order behind the leaf, mask, argmax.
    if let Some(tree) = TREES.first().and_then(|f| load_tree(f).ok()) {
        let mut policy = TreePolicy::new(&tree, true);
        report("tree", states.len(), time(&mut policy, states), per_tick);
        let mut shielded: Projected<_, OUTPUTS, true> =
            Projected::lean(TreePolicy::new(&tree, true), shield());
        let t = time(&mut shielded, states);
        report("tree+shield", states.len(), t, per_tick);
        // Its first part alone: the operator features of every state.
        let mut x = [0i32; whitebox_firmware::TREE_INPUTS];
        let start = now();
        for s in states {
            whitebox_core::tree::operator_features(black_box(s), &mut x);
            black_box(&x);
        }
        report(
            "part/tree-features",
            states.len(),
            ticks(start, now()),
            per_tick,
        );
    }

    // The admission check (issue 13): M CROWN bounds over the lone-job box, once per model.
    let start = now();
    let admitted = black_box(admit(black_box(&COMPACT_NET))).is_ok_and(|a| a.admitted);
    report("admission", 1, ticks(start, now()), per_tick);
    hprintln!("admission of the shipped model: {}", admitted);

    hprintln!(
        "ram guard={} shadow_episode={} policy={}",
        core::mem::size_of::<whitebox_firmware::Guarded<'_, '_>>(),
        core::mem::size_of::<whitebox_core::Episode<'_, SLOTS>>(),
        core::mem::size_of::<CompactPolicy<'_>>()
    );
    episode_cases("heavy", HEAVY_JOBS, HEAVY_END, per_tick);
    for name in [
        "default-adversarial-guard-renewal",
        "default-adversarial-guard-budget",
        "default-starvation-guard-lookahead-reserve",
    ] {
        if let Some(g) = GOLDEN.iter().find(|g| g.name == name) {
            episode_cases(name, g.jobs, g.end, per_tick);
        }
    }

    debug::exit(if ok && played.is_some() {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::nop();
    }
}
