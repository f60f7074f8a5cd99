//! whitebox-core on Cortex-M: the golden decision traces of `fixtures/golden/` compiled into
//! the image (see `build.rs`) and a replay that compares every decision's time step, action
//! mask, action and logit bit patterns, and the final metrics, with what the host recorded.
//!
//! Shared by the QEMU test (`src/bin/on_target.rs`), the panic-never probe
//! (`src/bin/panic_probe.rs`), the decision-path size images (`src/bin/size_*.rs`) and the
//! instruction-count benchmark (`src/bin/bench.rs`); nothing here formats or panics.
//!
//! Besides the golden traces, the build script provides the shipped model decoded into a
//! `static` network ([`COMPACT_NET`], weights in flash, no loading at run time) and a
//! pseudo-random network of the image encoder's shape ([`IMAGE_NET`]).
#![no_std]

pub mod measure;

use whitebox_core::encoding::{compact_len, Compact, Encoding};
use whitebox_core::model::{self, ModelError};
use whitebox_core::nn::Mlp;
use whitebox_core::policy::Policy;
use whitebox_core::spec::ClusterSpec;
use whitebox_core::{run, Action, Cluster, EndMode, Episode, Job, PolicyError, Scheduler};

/// Job slots of the embedded model.
pub const SLOTS: usize = 10;
/// Network outputs, `SLOTS + 1`.
pub const OUTPUTS: usize = SLOTS + 1;
/// Input length of the compact encoder for 10 slots.
pub const INPUTS: usize = compact_len(SLOTS);
/// Hidden units.
pub const HIDDEN: usize = 20;
/// The embedded network's shape.
pub type Net = Mlp<INPUTS, HIDDEN, OUTPUTS>;
/// Input length of DeepRM's image encoder for 10 slots (`20 x 224`).
pub const IMAGE_INPUTS: usize = whitebox_core::observe::image_len(SLOTS);
/// A network for the image encoder, 10 slots, 20 hidden units.
pub type ImageNet = Mlp<IMAGE_INPUTS, HIDDEN, OUTPUTS>;

/// The shipped model's weights (`fixtures/models/default.model`), decoded at build time with
/// `whitebox_core::model::load`: the same bits as [`load_model`] produces, kept in flash.
pub static COMPACT_NET: Net = include!(concat!(env!("OUT_DIR"), "/compact_net.rs"));

/// A network of the image encoder's shape (4480 -> 20 -> 11, 89 851 parameters) with
/// pseudo-random weights in `[-0.05, 0.05)` generated at build time. Not a trained model: only
/// its size and the cost of a decision are meaningful.
pub static IMAGE_NET: ImageNet = include!(concat!(env!("OUT_DIR"), "/image_net.rs"));

/// Plays `jobs` to the end with `scheduler`; the number of decisions, or `None` if the episode
/// could not start or the scheduler failed.
pub fn play<S: Scheduler<SLOTS>>(jobs: &[Job], end: EndMode, scheduler: &mut S) -> Option<u32> {
    let mut episode: Episode<'_, SLOTS> = Episode::new(jobs, end, &mut ()).ok()?;
    run(&mut episode, scheduler, &mut ())
        .ok()
        .map(|s| s.decisions)
}

/// The runtime rules of the benchmarks, as `--rule 'util<=0.8' --rule work-conserving` on the
/// command line gives them (weight 1 each, the work-conserving rule at the tightest cap), as a
/// shield (`C` infinite).
pub fn shield() -> whitebox_core::Projection {
    use whitebox_core::{Permille, Rule, RuleSet};
    let cap = Permille::new(800).unwrap_or(Permille::ONE);
    let mut rules = RuleSet::new();
    // Two rules never exceed the capacity (8), so these cannot fail.
    let _ = rules.push(Rule::UtilizationCap { max: cap }, 1.0);
    let _ = rules.push(Rule::WorkConserving { max: cap }, 1.0);
    whitebox_core::Projection::shield(rules)
}

/// The shipped model file, byte for byte.
pub static MODEL: &[u8] = include_bytes!("../../fixtures/models/default.model");

/// One recorded decision.
pub struct GoldenDecision {
    /// Time step of the decision.
    pub time: u32,
    /// Network output index chosen (`SLOTS` = void).
    pub action: u8,
    /// Action mask, bit `k` = output `k` allowed.
    pub valid: u32,
    /// Logit bit patterns by output index.
    pub logits: [u32; OUTPUTS],
}

/// One recorded trace.
pub struct Golden {
    /// Trace file name without `.json`.
    pub name: &'static str,
    /// End mode of the episode.
    pub end: EndMode,
    /// The jobs.
    pub jobs: &'static [Job],
    /// Every decision.
    pub decisions: &'static [GoldenDecision],
    /// Final time step.
    pub final_time: u32,
    /// Jobs allocated.
    pub allocated: u32,
    /// `f64::to_bits` of the mean slowdown, if any job was allocated.
    pub mean_slowdown_bits: Option<u64>,
    /// `f64::to_bits` of the slowdown return.
    pub total_reward_bits: u64,
}

include!(concat!(env!("OUT_DIR"), "/golden.rs"));

/// Which value differed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The decision's time step.
    Time,
    /// The action mask (bit `k` = output `k`).
    Valid,
    /// The logit of this output index (bit patterns).
    Logit(usize),
    /// The chosen output index.
    Action,
    /// The number of decisions.
    Decisions,
    /// The final time step.
    FinalTime,
    /// Jobs allocated.
    Allocated,
    /// Mean slowdown bits (`u64::MAX` for none).
    MeanSlowdown,
    /// Slowdown return bits.
    TotalReward,
    /// The episode could not start (invalid jobs) or the policy failed.
    Run,
}

/// The first difference from a golden trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Decision index (the decision count for end-of-episode fields).
    pub decision: usize,
    /// Which value.
    pub field: Field,
    /// Recorded on the host.
    pub expected: u64,
    /// Computed here.
    pub got: u64,
}

/// Loads the embedded model into `net`; returns whether invalid actions are masked.
///
/// # Errors
/// Any [`ModelError`] of the model file.
pub fn load_model(net: &mut Net) -> Result<bool, ModelError> {
    let header = model::load(
        MODEL,
        Encoding::Compact,
        &ClusterSpec::with_slots(SLOTS as u8),
        net,
    )?;
    Ok(header.meta.mask_invalid)
}

/// The greedy policy, checking each decision against the golden one as it goes.
struct Checker<'a, 'm> {
    policy: Policy<'m, Compact, SLOTS, INPUTS, HIDDEN, OUTPUTS>,
    expected: &'a [GoldenDecision],
    next: usize,
    first: Option<Mismatch>,
}

impl Checker<'_, '_> {
    fn compare(&self, cluster: &Cluster<SLOTS>, action: Action) -> Option<Mismatch> {
        let decision = self.next;
        let miss = |field, expected: u64, got: u64| {
            Some(Mismatch {
                decision,
                field,
                expected,
                got,
            })
        };
        let Some(e) = self.expected.get(decision) else {
            return miss(
                Field::Decisions,
                self.expected.len() as u64,
                decision as u64 + 1,
            );
        };
        if e.time != cluster.now() {
            return miss(Field::Time, e.time.into(), cluster.now().into());
        }
        for (k, (&want, got)) in e.logits.iter().zip(self.policy.logits().iter()).enumerate() {
            if want != got.to_bits() {
                return miss(Field::Logit(k), want.into(), got.to_bits().into());
            }
        }
        let valid = self
            .policy
            .valid()
            .iter()
            .enumerate()
            .fold(0u32, |m, (k, &v)| m | (u32::from(v) << k));
        if e.valid != valid {
            return miss(Field::Valid, e.valid.into(), valid.into());
        }
        let got = action.index(SLOTS) as u64;
        if u64::from(e.action) != got {
            return miss(Field::Action, e.action.into(), got);
        }
        None
    }
}

impl Scheduler<SLOTS> for Checker<'_, '_> {
    fn decide(&mut self, cluster: &Cluster<SLOTS>) -> Result<Action, PolicyError> {
        self.policy.evaluate(cluster);
        let action = self.policy.greedy()?;
        if self.first.is_none() {
            self.first = self.compare(cluster, action);
        }
        self.next = self.next.saturating_add(1);
        Ok(action)
    }
}

/// Replays `golden` with `net` and returns the number of decisions, or the first mismatch.
///
/// # Errors
/// The first [`Mismatch`].
pub fn replay(golden: &Golden, net: &Net, mask_invalid: bool) -> Result<usize, Mismatch> {
    let fail = |field, decision| Mismatch {
        decision,
        field,
        expected: 0,
        got: 1,
    };
    let mut episode: Episode<'_, SLOTS> =
        Episode::new(golden.jobs, golden.end, &mut ()).map_err(|_| fail(Field::Run, 0))?;
    let mut checker = Checker {
        policy: Policy::new(net, mask_invalid),
        expected: golden.decisions,
        next: 0,
        first: None,
    };
    let summary =
        run(&mut episode, &mut checker, &mut ()).map_err(|_| fail(Field::Run, checker.next))?;
    if let Some(m) = checker.first {
        return Err(m);
    }
    let n = checker.next;
    let end = |field, expected: u64, got: u64| {
        if expected == got {
            Ok(())
        } else {
            Err(Mismatch {
                decision: n,
                field,
                expected,
                got,
            })
        }
    };
    end(Field::Decisions, golden.decisions.len() as u64, n as u64)?;
    end(
        Field::FinalTime,
        golden.final_time.into(),
        summary.final_time.into(),
    )?;
    end(
        Field::Allocated,
        golden.allocated.into(),
        summary.allocated.into(),
    )?;
    end(
        Field::MeanSlowdown,
        golden.mean_slowdown_bits.unwrap_or(u64::MAX),
        summary.mean_slowdown.map_or(u64::MAX, f64::to_bits),
    )?;
    end(
        Field::TotalReward,
        golden.total_reward_bits,
        summary.total_reward.to_bits(),
    )?;
    Ok(n)
}
