//! whitebox-core on Cortex-M: the golden decision traces of `fixtures/golden/` compiled into
//! the image (see `build.rs`) and a replay that compares every decision's time step, action
//! mask, action and logit bit patterns, and the final metrics, with what the host recorded.
//! A trace recorded with operator rules is replayed through the core's [`Projection`] with the
//! recorded rules and `C`, and its raw choice, truth values, violations, projected-probability
//! bit patterns and changes are compared too. Every model a trace names is embedded
//! ([`MODELS`]); each trace is replayed with its own. A decision-tree trace is replayed with
//! its embedded tree file ([`TREES`], [`replay_tree`]) and its leaves compared too.
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
pub mod monitor;

use whitebox_core::encoding::{compact_len, Compact, Encoding, Observe};
use whitebox_core::guard::{
    Guard, GuardError, GuardMode, GuardParams, GuardStats, Handover, HandoverReason, Leader,
    NamedFallback,
};
use whitebox_core::model::{self, ModelError};
use whitebox_core::network::Network;
use whitebox_core::nn::Mlp;
use whitebox_core::policy::Policy as GenericPolicy;
use whitebox_core::quant::{HiddenRange, Multiplier, QMlp, QParts, QuantError};
use whitebox_core::spec::ClusterSpec;
use whitebox_core::tree::{feature_count, Operator, Reached, Tree, TreeError};
use whitebox_core::verify::admission::{admit_lone_job, Admission};
use whitebox_core::verify::VerifyError;
use whitebox_core::{
    run, Action, Cluster, EndMode, Episode, FallbackKind, Job, Permille, PolicyError, Projected,
    ProjectedDecision, Projection, Rule, RuleKind, RuleSet, Scheduler, Sjf,
};

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
/// The int8 network of that shape.
pub type QNet = QMlp<INPUTS, HIDDEN, OUTPUTS>;
/// Input length of DeepRM's image encoder for 10 slots (`20 x 224`).
pub const IMAGE_INPUTS: usize = whitebox_core::image::image_len(SLOTS);
/// A network for the image encoder, 10 slots, 20 hidden units.
pub type ImageNet = Mlp<IMAGE_INPUTS, HIDDEN, OUTPUTS>;
/// Operator features a decision tree for 10 slots reads (`5 M + 8`).
pub const TREE_INPUTS: usize = feature_count(SLOTS);
/// A decision tree for 10 slots.
pub type TreeNet = Tree<SLOTS>;
/// The decision-tree policy (`tree:PATH` on the host): operator features, the tree, invalid
/// actions masked, argmax.
pub type TreePolicy<'t> = whitebox_core::tree::TreePolicy<'t, SLOTS, TREE_INPUTS, OUTPUTS>;

/// Loads an embedded tree file (every check of `whitebox_core::tree::file::load`).
///
/// # Errors
/// Any [`TreeError`] of the file.
pub fn load_tree(tree: &EmbeddedModel) -> Result<TreeNet, TreeError> {
    whitebox_core::tree::file::load::<SLOTS>(tree.bytes)
}

/// The shipped model's weights (`fixtures/models/deeprm.model`), decoded at build time with
/// `whitebox_core::model::load`: the same bits as [`load_model`] produces, kept in flash.
pub static COMPACT_NET: Net = include!(concat!(env!("OUT_DIR"), "/compact_net.rs"));

/// The shipped model quantized to int8 as the host's `int8:PATH` policy quantizes it (the
/// calibrated hidden range of its int8 golden trace), built at build time with
/// `QMlp::from_range` and written as a `QMlp::from_parts` literal that is checked at compile
/// time: 2 240 bytes in flash, no quantization at run time.
pub static COMPACT_INT8: QNet = include!(concat!(env!("OUT_DIR"), "/compact_int8.rs"));

/// A multiplier of the generated int8 literal. Only evaluated at compile time (in the `static`
/// above), where an invalid one stops the build.
const fn multiplier(q: i32, shift: i32) -> Multiplier {
    match Multiplier::from_raw(q, shift) {
        Some(m) => m,
        None => panic!("invalid requantization multiplier"),
    }
}

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

/// A logit as a golden trace stores it: an `f32` logit's bit pattern, an int8 network's `i32`
/// logit as two's complement.
pub trait LogitBits: Copy {
    /// The stored bit pattern.
    fn bits(self) -> u32;
}

impl LogitBits for f32 {
    fn bits(self) -> u32 {
        self.to_bits()
    }
}

impl LogitBits for i32 {
    fn bits(self) -> u32 {
        self.cast_unsigned()
    }
}

/// The int8 quantization a trace of the host's `int8:PATH` policy was recorded with.
pub struct GoldenInt8 {
    /// `input_max` as an `f32` bit pattern.
    pub input_max_bits: u32,
    /// The calibrated `hidden_max` as an `f32` bit pattern.
    pub hidden_max_bits: u32,
    /// States the host's calibration observed.
    pub calibration_states: u64,
}

impl GoldenInt8 {
    /// `net` quantized with these ranges (`QMlp::from_range`, as the host does after its
    /// calibration).
    ///
    /// # Errors
    /// The [`QuantError`] of a network or range that cannot be quantized.
    pub fn quantize(&self, net: &Net) -> Result<QNet, QuantError> {
        let range = HiddenRange {
            max: f32::from_bits(self.hidden_max_bits),
            samples: self.calibration_states,
        };
        QMlp::from_range(net, f32::from_bits(self.input_max_bits), &range)
    }
}

/// A model (or tree) file a golden trace was recorded with, embedded byte for byte.
pub struct EmbeddedModel {
    /// Its path as recorded in the trace (relative to the repository root).
    pub path: &'static str,
    /// The file.
    pub bytes: &'static [u8],
    /// The CRC-32 stored in its last 4 bytes, as recorded in the trace.
    pub crc32: u32,
}

/// `permille / 1000` for the generated rule sets (the build script checks `permille <= 1000`).
pub const fn permille(permille: u16) -> Permille {
    match Permille::new(permille) {
        Some(p) => p,
        None => Permille::ONE,
    }
}

/// What the projection reported for one recorded decision.
pub struct GoldenProjection {
    /// The policy's own greedy choice.
    pub raw_choice: u8,
    /// Per rule (in set order), the soft truth bit patterns by output index.
    pub truth: &'static [[u32; OUTPUTS]],
    /// Per output index, the rules it violates (bit `l` = rule `l`).
    pub violated: [u8; OUTPUTS],
    /// Projected probability bit patterns by output index.
    pub probs: [u32; OUTPUTS],
    /// Every allowed action was removed and the decision fell back to void.
    pub fallback_void: bool,
    /// The rules changed the decision.
    pub changed: bool,
    /// The rules that changed it (bit `l` = rule `l`).
    pub changed_by: u8,
}

/// The rules of a trace recorded with them.
pub struct GoldenRules {
    /// The rules in order, each with its weight's `f32` bit pattern.
    pub rules: &'static [(Rule, u32)],
    /// The strength `C` as an `f32` bit pattern.
    pub c_bits: u32,
    /// Per decision, what the projection reported.
    pub decisions: &'static [GoldenProjection],
}

impl GoldenRules {
    /// The projection the trace was recorded with, or `None` if it cannot be built.
    pub fn projection(&self) -> Option<Projection> {
        let mut set = RuleSet::new();
        for &(rule, lambda) in self.rules {
            set.push(rule, f32::from_bits(lambda)).ok()?;
        }
        Projection::new(set, f32::from_bits(self.c_bits)).ok()
    }
}

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
    /// With a guard: the scheduler whose decision `action` is.
    pub decided_by: Option<Leader>,
    /// A tree trace: the node index of the leaf reached.
    pub leaf: Option<u8>,
}

/// The guard of a guarded golden trace.
pub struct GoldenGuard {
    /// The mode.
    pub mode: GuardMode,
    /// `eps` as stored, as an `f32` bit pattern.
    pub eps_bits: u32,
    /// `c` as stored, as an `f32` bit pattern.
    pub c_bits: u32,
    /// The scheduler that made the real cluster's fallback decisions.
    pub fallback: FallbackKind,
    /// Every hand-over, the start included.
    pub handovers: &'static [Handover],
    /// The counters at the end of the run.
    pub stats: GuardStats,
}

impl GoldenGuard {
    /// The parameters, or `None` when the recorded ones are out of range.
    pub fn params(&self) -> Option<GuardParams> {
        GuardParams::new(
            self.mode,
            f32::from_bits(self.eps_bits),
            f32::from_bits(self.c_bits),
        )
        .ok()
    }
}

/// The firmware's learned policy (greedy, compact encoder) with the `f32` network or another
/// ([`QNet`]).
pub type Policy<'m, N = Net> = GenericPolicy<'m, Compact, N, SLOTS, INPUTS, OUTPUTS>;

/// The guard's learned scheduler: the policy, projected onto rules if there are any.
// Built once per episode and never moved on the decision path; without a heap there is no box
// to shrink the projected variant into.
#[allow(clippy::large_enum_variant)]
pub enum Learned<
    'm,
    N: Network<I, OUTPUTS> = Net,
    E: Observe<SLOTS, I> = Compact,
    const I: usize = INPUTS,
> {
    /// The policy as it is.
    Plain(GenericPolicy<'m, E, N, SLOTS, I, OUTPUTS>),
    /// The policy projected onto rules.
    Projected(Projected<GenericPolicy<'m, E, N, SLOTS, I, OUTPUTS>, OUTPUTS, true>),
}

impl<N: Network<I, OUTPUTS>, E: Observe<SLOTS, I>, const I: usize> Scheduler<SLOTS>
    for Learned<'_, N, E, I>
{
    fn decide(&mut self, cluster: &Cluster<SLOTS>) -> Result<Action, PolicyError> {
        match self {
            Learned::Plain(p) => p.decide(cluster),
            Learned::Projected(p) => p.decide(cluster),
        }
    }
}

/// The guard's fallback: SJF, projected onto the same rules if there are any.
#[allow(clippy::large_enum_variant)] // as `Learned`
pub enum Fallback {
    /// SJF.
    Plain(Sjf),
    /// SJF projected onto rules.
    Projected(Projected<Sjf, OUTPUTS, true>),
}

impl Scheduler<SLOTS> for Fallback {
    fn decide(&mut self, cluster: &Cluster<SLOTS>) -> Result<Action, PolicyError> {
        match self {
            Fallback::Plain(p) => p.decide(cluster),
            Fallback::Projected(p) => p.decide(cluster),
        }
    }
}

/// The guarded learned scheduler of the firmware; the real cluster's fallback decisions are
/// SJF's or a repairing fallback's ([`NamedFallback`]).
pub type Guarded<'a, 'm, N = Net, E = Compact, const I: usize = INPUTS> =
    Guard<'a, Learned<'m, N, E, I>, Fallback, SLOTS, NamedFallback<OUTPUTS>>;

/// The greedy policy of `net` guarded against SJF with `params` on the episode of `jobs`, both
/// projected onto `projection` if given (as `whitebox record --guard` builds it).
///
/// # Errors
/// [`GuardError::Episode`] for an invalid job sequence.
pub fn guarded<'a, 'm, N: Network<INPUTS, OUTPUTS>>(
    net: &'m N,
    mask_invalid: bool,
    projection: Option<&Projection>,
    params: GuardParams,
    jobs: &'a [Job],
    end: EndMode,
) -> Result<Guarded<'a, 'm, N>, GuardError> {
    guarded_with(
        net,
        mask_invalid,
        projection,
        params,
        FallbackKind::Sjf,
        jobs,
        end,
    )
}

/// [`guarded`] for any observation `E` of `I` features (a tree's operator features), the real
/// cluster's fallback decisions made by `fallback` (projected as SJF is).
///
/// # Errors
/// [`GuardError::Episode`] for an invalid job sequence.
pub fn guarded_with<'a, 'm, E: Observe<SLOTS, I>, N: Network<I, OUTPUTS>, const I: usize>(
    net: &'m N,
    mask_invalid: bool,
    projection: Option<&Projection>,
    params: GuardParams,
    real_fallback: FallbackKind,
    jobs: &'a [Job],
    end: EndMode,
) -> Result<Guarded<'a, 'm, N, E, I>, GuardError> {
    let policy = GenericPolicy::new(net, mask_invalid);
    let (learned, fallback) = match projection {
        None => (Learned::Plain(policy), Fallback::Plain(Sjf)),
        Some(p) => (
            Learned::Projected(Projected::lean(policy, p.clone())),
            Fallback::Projected(Projected::lean(Sjf, p.clone())),
        ),
    };
    let repair = NamedFallback::new(real_fallback, projection);
    Guard::with_repair(learned, fallback, repair, params, jobs, end)
}

/// One recorded trace.
pub struct Golden {
    /// Trace file name without `.json`.
    pub name: &'static str,
    /// Index of its model in [`MODELS`] (`None` for a tree trace).
    pub model: Option<usize>,
    /// A decision-tree trace: index of its tree file in [`TREES`].
    pub tree: Option<usize>,
    /// End mode of the episode.
    pub end: EndMode,
    /// The jobs.
    pub jobs: &'static [Job],
    /// Every decision.
    pub decisions: &'static [GoldenDecision],
    /// The rules and what they did, for a trace recorded with rules.
    pub rules: Option<&'static GoldenRules>,
    /// The guard and its hand-overs, for a guarded trace.
    pub guard: Option<&'static GoldenGuard>,
    /// For a trace of the int8 policy: its quantization; the logits are then `i32`.
    pub int8: Option<&'static GoldenInt8>,
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
    /// The leaf a tree decision reached (node index; 256 for none).
    Leaf,
    /// The action mask (bit `k` = output `k`).
    Valid,
    /// The logit of this output index (bit patterns).
    Logit(usize),
    /// The chosen output index.
    Action,
    /// The policy's own greedy choice before the projection.
    RawChoice,
    /// The soft truth bit pattern of a rule for an action.
    Truth {
        /// Rule position in the set.
        rule: usize,
        /// Output index.
        action: usize,
    },
    /// The rules an action violates (bit `l` = rule `l`), by output index.
    Violated(usize),
    /// The projected probability of this output index (bit patterns).
    Probability(usize),
    /// Whether the decision fell back to void.
    FallbackVoid,
    /// Whether the rules changed the decision.
    Changed,
    /// The rules that changed it (bit `l` = rule `l`).
    ChangedBy,
    /// The recorded rule set or `C` is not a valid projection.
    Rules,
    /// The number of decisions.
    Decisions,
    /// The final time step.
    FinalTime,
    /// The policy's direct decision (`Policy::decide`; a tree reads only the features its path
    /// tests) against its full evaluation's greedy action, before any rule or guard.
    Direct,
    /// The lean projection's decision (`Projection::choose`, what the device decides with)
    /// against the full projection's action (bit 8: the fallback to void).
    Lean,
    /// Jobs allocated.
    Allocated,
    /// Mean slowdown bits (`u64::MAX` for none).
    MeanSlowdown,
    /// Slowdown return bits.
    TotalReward,
    /// The episode could not start (invalid jobs) or the policy failed.
    Run,
    /// A part of the hand-over with this index (`step`, `to`, `reason`, `real_cost`,
    /// `sjf_cost`, or `count` for the number of hand-overs).
    Handover(usize, &'static str),
    /// The scheduler a decision was given to (0 learned, 1 fallback, 2 none).
    DecidedBy,
    /// A guard counter at the end (`steps`, `learned_steps`, ...).
    GuardStat(&'static str),
    /// The recorded guard parameters are out of range.
    Guard,
}

impl Field {
    /// Whether the values are bit patterns or masks (shown in hexadecimal) rather than counts.
    pub fn hex(self) -> bool {
        matches!(
            self,
            Field::Valid
                | Field::Logit(_)
                | Field::Truth { .. }
                | Field::Violated(_)
                | Field::Probability(_)
                | Field::ChangedBy
                | Field::Lean
                | Field::MeanSlowdown
                | Field::TotalReward
        )
    }
}

impl core::fmt::Display for Field {
    /// The field as the host trace names it (`logits_bits[3]`, `projected_probs_bits[10]`, ...).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Field::Time => f.write_str("time"),
            Field::Leaf => f.write_str("leaf"),
            Field::Valid => f.write_str("valid (mask)"),
            Field::Logit(k) => write!(f, "logits_bits[{k}]"),
            Field::Action => f.write_str("action"),
            Field::Direct => f.write_str("direct decision (Policy::decide) vs the full evaluation"),
            Field::Lean => f.write_str("lean decision (Projection::choose) vs the full projection"),
            Field::RawChoice => f.write_str("raw_choice"),
            Field::Truth { rule, action } => {
                write!(f, "rule_verdicts[{rule}].truth_bits[{action}]")
            }
            Field::Violated(k) => write!(f, "violates (rule mask of action {k})"),
            Field::Probability(k) => write!(f, "projected_probs_bits[{k}]"),
            Field::FallbackVoid => f.write_str("fallback_void"),
            Field::Changed => f.write_str("changed"),
            Field::ChangedBy => f.write_str("changed_by (rule mask)"),
            Field::Rules => f.write_str("rules"),
            Field::Decisions => f.write_str("decisions"),
            Field::FinalTime => f.write_str("summary.final_time"),
            Field::Allocated => f.write_str("summary.allocated"),
            Field::MeanSlowdown => f.write_str("summary.mean_slowdown (f64 bits)"),
            Field::TotalReward => f.write_str("summary.total_reward (f64 bits)"),
            Field::Run => f.write_str("run (invalid jobs or a policy error)"),
            Field::Handover(k, part) => write!(f, "guard.handovers[{k}].{part}"),
            Field::DecidedBy => f.write_str("decided_by (0 learned, 1 fallback, 2 none)"),
            Field::GuardStat(name) => write!(f, "guard.stats.{name}"),
            Field::Guard => f.write_str("guard (parameters)"),
        }
    }
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

/// The admission check of `whitebox_core::verify::admission` on the firmware's compact network:
/// one CROWN bound proving that on an idle cluster with a lone fitting job in slot 0 the raw
/// network ranks starting it above waiting. A device refuses a model that is not `admitted`.
///
/// # Errors
/// [`VerifyError::NonFiniteWeight`] for a corrupted network.
pub fn admit(net: &Net) -> Result<Admission, VerifyError> {
    admit_lone_job::<SLOTS, INPUTS, HIDDEN, OUTPUTS>(net)
}

/// Loads an embedded model into `net`; returns whether invalid actions are masked.
///
/// # Errors
/// Any [`ModelError`] of the model file.
pub fn load_model(model: &EmbeddedModel, net: &mut Net) -> Result<bool, ModelError> {
    let header = model::load(
        model.bytes,
        Encoding::Compact,
        &ClusterSpec::with_slots(SLOTS as u8),
        net,
    )?;
    Ok(header.meta.mask_invalid)
}

/// The greedy policy (projected onto the recorded rules, if any), checking each decision
/// against the golden one as it goes.
/// A guard being replayed: the guard, the recorded hand-overs, how many were made and the last
/// one.
type Replayed<'a, 'm, N, E, const I: usize> = (
    Guarded<'a, 'm, N, E, I>,
    &'a [Handover],
    usize,
    Option<Handover>,
);

struct Checker<'a, 'm, E: Observe<SLOTS, I>, N: Network<I, OUTPUTS>, const I: usize> {
    policy: GenericPolicy<'m, E, N, SLOTS, I, OUTPUTS>,
    /// The leaf a tree decision reached, from the network's work buffer (`None` for a network).
    leaf: fn(&N::Scratch) -> Option<u8>,
    projection: Option<(Projection, &'a [GoldenProjection])>,
    /// With a guard: the guard, the recorded hand-overs, how many were made and the last one
    /// (the lookahead mode may hand over more than once in a step, each unlike the one before).
    guard: Option<Replayed<'a, 'm, N, E, I>>,
    expected: &'a [GoldenDecision],
    next: usize,
    first: Option<Mismatch>,
}

/// The first difference between a projected decision and the recorded one, before its action
/// (raw choice, truth values, violations, probabilities) or, with `after`, once the action agrees
/// (fallback, changed, changed by).
fn compare_projection(
    decision: usize,
    want: &GoldenProjection,
    got: &ProjectedDecision<OUTPUTS>,
    after: bool,
) -> Option<Mismatch> {
    let miss = |field, expected: u64, got: u64| {
        Some(Mismatch {
            decision,
            field,
            expected,
            got,
        })
    };
    if after {
        if want.fallback_void != got.fallback_void {
            return miss(
                Field::FallbackVoid,
                want.fallback_void.into(),
                got.fallback_void.into(),
            );
        }
        if want.changed != got.changed() {
            return miss(Field::Changed, want.changed.into(), got.changed().into());
        }
        if want.changed_by != got.changed_by {
            return miss(
                Field::ChangedBy,
                want.changed_by.into(),
                got.changed_by.into(),
            );
        }
        return None;
    }
    if usize::from(want.raw_choice) != got.raw_choice {
        return miss(
            Field::RawChoice,
            want.raw_choice.into(),
            got.raw_choice as u64,
        );
    }
    for (rule, truth) in want.truth.iter().enumerate() {
        for (action, (&w, t)) in truth.iter().zip(got.truth.iter()).enumerate() {
            let g = t.get(rule).map_or(0, |x| x.to_bits());
            if w != g {
                return miss(Field::Truth { rule, action }, w.into(), g.into());
            }
        }
    }
    for (k, (&w, &g)) in want.violated.iter().zip(got.violated.iter()).enumerate() {
        if w != g {
            return miss(Field::Violated(k), w.into(), g.into());
        }
    }
    for (k, (&w, g)) in want.probs.iter().zip(got.projected.iter()).enumerate() {
        if w != g.to_bits() {
            return miss(Field::Probability(k), w.into(), g.to_bits().into());
        }
    }
    None
}

impl<E: Observe<SLOTS, I>, N: Network<I, OUTPUTS>, const I: usize> Checker<'_, '_, E, N, I>
where
    N::Logit: LogitBits,
{
    fn compare(
        &self,
        cluster: &Cluster<SLOTS>,
        action: Action,
        projected: Option<&ProjectedDecision<OUTPUTS>>,
        decided_by: Option<Leader>,
    ) -> Option<Mismatch> {
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
        // A tree's leaf decides its scores: compared before them, as on the host.
        let leaf = (self.leaf)(self.policy.scratch());
        if e.leaf != leaf {
            let code = |l: Option<u8>| l.map_or(256, u64::from);
            return miss(Field::Leaf, code(e.leaf), code(leaf));
        }
        for (k, (&want, got)) in e.logits.iter().zip(self.policy.logits().iter()).enumerate() {
            if want != got.bits() {
                return miss(Field::Logit(k), want.into(), got.bits().into());
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
        // With rules: the recorded projection of this decision, and the one made here.
        let rules = match (&self.projection, projected) {
            (Some((_, golden)), Some(p)) => match golden.get(decision) {
                Some(g) => Some((g, p)),
                None => {
                    return miss(Field::Decisions, golden.len() as u64, decision as u64 + 1);
                }
            },
            _ => None,
        };
        if let Some(m) = rules.and_then(|(g, p)| compare_projection(decision, g, p, false)) {
            return Some(m);
        }
        let code = |l: Option<Leader>| match l {
            Some(Leader::Learned) => 0,
            Some(Leader::Fallback) => 1,
            None => 2,
        };
        if e.decided_by != decided_by {
            return miss(Field::DecidedBy, code(e.decided_by), code(decided_by));
        }
        let got = action.index(SLOTS) as u64;
        if u64::from(e.action) != got {
            return miss(Field::Action, e.action.into(), got);
        }
        rules.and_then(|(g, p)| compare_projection(decision, g, p, true))
    }
}

impl<E: Observe<SLOTS, I>, N: Network<I, OUTPUTS>, const I: usize> Checker<'_, '_, E, N, I> {
    /// Compares a hand-over made here with the next recorded one.
    fn compare_handover(&mut self, h: Handover) -> Option<Mismatch> {
        let decision = self.next;
        let (_, recorded, seen, _) = self.guard.as_mut()?;
        let k = *seen;
        *seen += 1;
        let miss = |part, expected: u64, got: u64| {
            Some(Mismatch {
                decision,
                field: Field::Handover(k, part),
                expected,
                got,
            })
        };
        let Some(want) = recorded.get(k) else {
            return miss("count", recorded.len() as u64, k as u64 + 1);
        };
        let to = |l: Leader| u64::from(l == Leader::Fallback);
        if want.step != h.step {
            return miss("step", want.step.into(), h.step.into());
        }
        if want.to != h.to {
            return miss("to", to(want.to), to(h.to));
        }
        if want.reason != h.reason {
            return miss("reason", want.reason as u64, h.reason as u64);
        }
        if want.real_cost != h.real_cost {
            return miss("real_cost", want.real_cost, h.real_cost);
        }
        if want.sjf_cost != h.sjf_cost {
            return miss("sjf_cost", want.sjf_cost, h.sjf_cost);
        }
        None
    }
}

impl<E: Observe<SLOTS, I>, N: Network<I, OUTPUTS>, const I: usize> Scheduler<SLOTS>
    for Checker<'_, '_, E, N, I>
where
    N::Logit: LogitBits,
{
    fn decide(&mut self, cluster: &Cluster<SLOTS>) -> Result<Action, PolicyError> {
        // Over the operator features the policy decides directly (only what the tree's path
        // tests): that action must be the full evaluation's greedy one, on every core.
        let direct = if E::OPERATOR_FEATURES {
            Some(Scheduler::decide(&mut self.policy, cluster)?)
        } else {
            None
        };
        self.policy.evaluate(cluster);
        let greedy = self.policy.greedy()?;
        let direct_miss = direct.filter(|&d| d != greedy).map(|d| Mismatch {
            decision: self.next,
            field: Field::Direct,
            expected: greedy.index(SLOTS) as u64,
            got: d.index(SLOTS) as u64,
        });
        let mut lean_miss = None;
        let (action, projected) = match &self.projection {
            None => (self.policy.greedy()?, None),
            // As the core's `Projected` scheduler decides: on the real-valued logits.
            Some((p, _)) => {
                let mut real = [0.0f32; OUTPUTS];
                for (r, &l) in real.iter_mut().zip(self.policy.logits()) {
                    *r = self.policy.net().real_logit(l);
                }
                let d = p.project(&real, self.policy.valid(), cluster)?;
                // The device decides through the lean path: it must take the same action.
                let lean = p.choose(&real, self.policy.valid(), cluster)?;
                let code = |a: Action, raw: usize, fallback: bool| {
                    a.index(SLOTS) as u64 | (raw as u64) << 4 | u64::from(fallback) << 8
                };
                let full = code(d.action, d.raw_choice, d.fallback_void);
                let got = code(lean.action, lean.raw_choice, lean.fallback_void);
                if full != got && lean_miss.is_none() {
                    lean_miss = Some(Mismatch {
                        decision: self.next,
                        field: Field::Lean,
                        expected: full,
                        got,
                    });
                }
                (d.action, Some(d))
            }
        };
        let (mut action, mut decided_by, mut handover) = (action, None, None);
        if let Some((g, _, _, last)) = &mut self.guard {
            action = g.decide(cluster)?;
            decided_by = Some(g.leader());
            if let Some(h) = g.last_handover() {
                if *last != Some(h) {
                    *last = Some(h);
                    handover = Some(h);
                }
            }
        }
        if self.first.is_none() {
            // A hand-over comes before the decision it gives away, as on the host.
            self.first = handover
                .and_then(|h| self.compare_handover(h))
                .or(direct_miss)
                .or(lean_miss)
                .or_else(|| self.compare(cluster, action, projected.as_ref(), decided_by));
        }
        self.next = self.next.saturating_add(1);
        Ok(action)
    }
}

/// Replays `golden` with `net` (loaded from its model, [`Golden::model`], and for an int8 trace
/// quantized with [`GoldenInt8::quantize`]), projected onto its recorded rules if it has any,
/// and returns the number of decisions, or the first mismatch.
///
/// # Errors
/// The first [`Mismatch`].
pub fn replay<N: Network<INPUTS, OUTPUTS>>(
    golden: &Golden,
    net: &N,
    mask_invalid: bool,
) -> Result<usize, Mismatch>
where
    N::Logit: LogitBits,
{
    replay_with::<Compact, N, INPUTS>(golden, net, mask_invalid, |_| None)
}

/// Replays a decision-tree trace with `tree` (loaded from its tree file, [`Golden::tree`]):
/// the host's `tree:PATH` policy (operator features, invalid actions masked), projected and
/// guarded as recorded, comparing every decision's leaf as well. Returns the number of
/// decisions, or the first mismatch.
///
/// # Errors
/// The first [`Mismatch`].
pub fn replay_tree(golden: &Golden, tree: &TreeNet) -> Result<usize, Mismatch> {
    fn leaf(r: &Reached) -> Option<u8> {
        Some(r.leaf)
    }
    replay_with::<Operator, TreeNet, TREE_INPUTS>(golden, tree, true, leaf)
}

/// [`replay`] for any observation `E` of `I` features; `leaf` reads a tree's leaf from the
/// network's work buffer.
fn replay_with<E: Observe<SLOTS, I>, N: Network<I, OUTPUTS>, const I: usize>(
    golden: &Golden,
    net: &N,
    mask_invalid: bool,
    leaf: fn(&N::Scratch) -> Option<u8>,
) -> Result<usize, Mismatch>
where
    N::Logit: LogitBits,
{
    let fail = |field, decision| Mismatch {
        decision,
        field,
        expected: 0,
        got: 1,
    };
    let projection = match golden.rules {
        Some(r) => Some((r.projection().ok_or(fail(Field::Rules, 0))?, r.decisions)),
        None => None,
    };
    let guard = match golden.guard {
        Some(g) => {
            let params = g.params().ok_or(fail(Field::Guard, 0))?;
            let p = projection.as_ref().map(|(p, _)| p);
            let guard = guarded_with::<E, N, I>(
                net,
                mask_invalid,
                p,
                params,
                g.fallback,
                golden.jobs,
                golden.end,
            )
            .map_err(|_| fail(Field::Run, 0))?;
            Some((guard, g.handovers, 0, None))
        }
        None => None,
    };
    let mut episode: Episode<'_, SLOTS> =
        Episode::new(golden.jobs, golden.end, &mut ()).map_err(|_| fail(Field::Run, 0))?;
    let mut checker = Checker {
        policy: GenericPolicy::new(net, mask_invalid),
        leaf,
        projection,
        guard,
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
    if let (Some(want), Some((g, recorded, seen, _))) = (golden.guard, &mut checker.guard) {
        end(
            Field::Handover(*seen, "count"),
            recorded.len() as u64,
            *seen as u64,
        )?;
        // The final step's charge counts in the counters, as on the host.
        g.settle(episode.cluster())
            .map_err(|_| fail(Field::Run, n))?;
        let (w, s) = (want.stats, g.stats());
        end(Field::GuardStat("steps"), w.steps.into(), s.steps.into())?;
        end(
            Field::GuardStat("learned_steps"),
            w.learned_steps.into(),
            s.learned_steps.into(),
        )?;
        end(
            Field::GuardStat("renewals"),
            w.renewals.into(),
            s.renewals.into(),
        )?;
        end(
            Field::GuardStat("handovers"),
            w.handovers.into(),
            s.handovers.into(),
        )?;
        end(
            Field::GuardStat("worst_round_loss"),
            w.worst_round_loss,
            s.worst_round_loss,
        )?;
        end(
            Field::GuardStat("overrides"),
            w.overrides.into(),
            s.overrides.into(),
        )?;
    }
    Ok(n)
}
