//! A guard: a learned policy insured against a trusted fallback (SJF) by a shadow schedule of the
//! same arrivals.
//!
//! The guard is a [`Scheduler`] wrapping two schedulers, the *learned* one and the *fallback*
//! (SJF, or SJF under the same rules as the learned policy). Beside the real cluster it runs one
//! shadow [`Episode`] over the same job sequence, so it knows what the other schedule would have
//! cost. Costs are DeepRM's per-step charge (the sum of `1/len` over the jobs in the system, kept
//! exactly as `sum(INV_LEN_SCALE / len)`, see [`crate::episode::Charge`]); summed over an
//! all-done episode the charge is the total slowdown of the accepted jobs, waiting time included.
//!
//! Two modes, compared in `docs/guard.md`:
//!
//! * [`GuardMode::Renewal`] (proved): the policy in charge changes only at a *renewal*, a time
//!   step at which the real cluster and the shadow are in the same state ([`Cluster::same_state`]).
//!   The shadow runs whichever policy is not in charge, from the last renewal. At a renewal the
//!   learned policy gets the next round if the real cost so far is within `(1 + eps) * SJF + c`
//!   of SJF's cost so far. Theorem (`docs/guard.md`): for every job sequence, the total charge
//!   satisfies `R <= (1 + eps) * S + c + L`, where `S` is SJF's total charge on the same sequence
//!   and `L` the largest loss of the learned policy against SJF within one round it was given
//!   ([`GuardStats::worst_round_loss`]).
//! * [`GuardMode::Budget`] (empirical): the shadow is the pure fallback schedule from step 0; at
//!   every time step the learned policy decides while the real cost so far is within
//!   `(1 + eps) * S + c` of the shadow's, and the fallback decides otherwise. The fallback then
//!   starts from the real state, not the shadow's, so no bound follows; it is tested by search.
//! * [`GuardMode::Lookahead`] (empirical): a per-decision projection in the spirit of
//!   anytime-competitive RL (Yang et al., NeurIPS 2023). The shadow is the pure fallback schedule
//!   from step 0. Every decision, the learned choice stands if the real cost so far plus the
//!   cost of draining the state it leads to with the fallback (no further arrivals) is within
//!   `(1 + eps) * (S + drain(shadow)) + c`; otherwise the fallback's choice is taken. The drain
//!   charges a non-preemptive start at once (a long job started now delays every waiting job),
//!   which is what the budget test of the other modes sees only step by step, too late.
//!
//! Everything is integer arithmetic on exact charges, so the guard decides the same on every
//! target. Assumption of both modes: the two schedulers are deterministic functions of the
//! cluster state (true of the network policies, the baselines other than Random, and their rule
//! projections), and [`Scheduler::decide`] is called at least once per time step (as
//! [`crate::episode::run`] does: every step ends with a move-on decision).

use crate::cluster::{Cluster, JobLoad};
use crate::episode::{EndMode, Episode, EpisodeError};
use crate::job::Job;
use crate::projection::{Projected, Projection};
use crate::reserve::FallbackKind;
use crate::spec::INV_LEN_SCALE;
use crate::{Action, PolicyError, Scheduler};

/// Largest allowed relative slack `eps`.
pub const EPS_MAX: f32 = 10.0;
/// Largest allowed additive slack `c`, in slowdown units (total charge).
pub const C_MAX: f32 = 1.0e6;

/// How the guard chooses which scheduler decides (see the module docs and `docs/guard.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardMode {
    /// Hand over only at renewals; bound proved in `docs/guard.md`.
    Renewal,
    /// Hand over at any time step against a pure fallback shadow; bound empirical.
    Budget,
    /// Check every learned decision against the fallback's drain cost; bound empirical.
    Lookahead,
}

crate::names::named!(GuardMode {
    Renewal => "renewal",
    Budget => "budget",
    Lookahead => "lookahead",
});

/// Time steps a drain rollout (see [`GuardMode::Lookahead`]) plays at most. Without arrivals a
/// work-conserving fallback empties the `M + BACKLOG` waiting jobs (each at most `HORIZON` steps
/// long) well within this; a job that never fits (a rule forbids it) stops the drain here.
pub const DRAIN_CAP: u32 = 4096;

/// Why guard parameters or a guarded run were refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GuardError {
    /// A parameter is NaN or outside `[min, max]`.
    OutOfRange {
        /// Parameter name (`eps` or `c`).
        param: &'static str,
        /// The value given.
        value: f32,
        /// Smallest allowed value.
        min: f32,
        /// Largest allowed value.
        max: f32,
    },
    /// The shadow episode could not start: the job sequence is invalid.
    Episode(EpisodeError),
}

impl core::fmt::Display for GuardError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            GuardError::OutOfRange {
                param,
                value,
                min,
                max,
            } => write!(
                f,
                "guard parameter `{param}` = {value}, must be a number in [{min}, {max}]"
            ),
            GuardError::Episode(_) => write!(f, "guard shadow episode"),
        }
    }
}

impl core::error::Error for GuardError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            GuardError::Episode(e) => Some(e),
            GuardError::OutOfRange { .. } => None,
        }
    }
}

/// The guard's parameters: mode, relative slack `eps` and additive slack `c`, kept as exact
/// thousandths so the budget test is integer arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardParams {
    mode: GuardMode,
    eps_milli: u32,
    c_milli: u32,
}

impl GuardParams {
    /// Default relative slack: 10% over SJF.
    pub const DEFAULT_EPS: f32 = 0.1;
    /// Default additive slack, in slowdown units of total charge.
    pub const DEFAULT_C: f32 = 5.0;

    /// Parameters with `eps` in `[0, EPS_MAX]` and `c` in `[0, C_MAX]` slowdown units, both
    /// rounded to thousandths.
    ///
    /// # Errors
    /// [`GuardError::OutOfRange`] naming the parameter when it is NaN or out of range.
    pub fn new(mode: GuardMode, eps: f32, c: f32) -> Result<GuardParams, GuardError> {
        Ok(GuardParams {
            mode,
            eps_milli: milli("eps", eps, EPS_MAX)?,
            c_milli: milli("c", c, C_MAX)?,
        })
    }

    /// The mode.
    pub fn mode(&self) -> GuardMode {
        self.mode
    }

    /// The relative slack `eps` as stored (a multiple of 0.001).
    pub fn eps(&self) -> f64 {
        f64::from(self.eps_milli) / 1000.0
    }

    /// The additive slack `c` in slowdown units as stored (a multiple of 0.001).
    pub fn c(&self) -> f64 {
        f64::from(self.c_milli) / 1000.0
    }

    /// True when a cost `real` is within `(1 + eps) * sjf + c`; both costs are charges scaled by
    /// `INV_LEN_SCALE`. Exact: `1000 * real <= (1000 + 1000 eps) * sjf + 1000 c * INV_LEN_SCALE`
    /// in 128-bit integers.
    pub fn within(&self, real: u64, sjf: u64) -> bool {
        let lhs = u128::from(real) * 1000;
        let rhs = u128::from(sjf) * (1000 + u128::from(self.eps_milli))
            + u128::from(self.c_milli) * u128::from(INV_LEN_SCALE);
        lhs <= rhs
    }
}

impl Default for GuardParams {
    fn default() -> Self {
        GuardParams {
            mode: GuardMode::Renewal,
            eps_milli: 100,
            c_milli: 5000,
        }
    }
}

fn milli(param: &'static str, value: f32, max: f32) -> Result<u32, GuardError> {
    if !(0.0..=max).contains(&value) {
        return Err(GuardError::OutOfRange {
            param,
            value,
            min: 0.0,
            max,
        });
    }
    // In range, so the product is at most 1e9 and the cast cannot saturate.
    Ok((f64::from(value) * 1000.0 + 0.5) as u32)
}

/// Which scheduler makes the real decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leader {
    /// The learned policy.
    Learned,
    /// The fallback (SJF).
    Fallback,
}

crate::names::named!(Leader {
    Learned => "learned",
    Fallback => "fallback",
});

/// Why the guard handed the decisions over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandoverReason {
    /// The first decision of the run.
    Start,
    /// A renewal, with the real cost within budget of SJF's (to the learned policy).
    RenewalWithinBudget,
    /// A renewal, with the real cost over budget (to the fallback).
    RenewalOverBudget,
    /// Budget mode: the real cost came back within budget (to the learned policy).
    WithinBudget,
    /// Budget mode: the real cost went over budget (to the fallback).
    OverBudget,
    /// Lookahead mode: the learned choice's drain cost is within budget (to the learned policy).
    DrainWithinBudget,
    /// Lookahead mode: the learned choice's drain cost is over budget (to the fallback).
    DrainOverBudget,
}

crate::names::named!(HandoverReason {
    Start => "start",
    RenewalWithinBudget => "renewal-within-budget",
    RenewalOverBudget => "renewal-over-budget",
    WithinBudget => "within-budget",
    OverBudget => "over-budget",
    DrainWithinBudget => "drain-within-budget",
    DrainOverBudget => "drain-over-budget",
});

/// A change of the scheduler in charge, for audit traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handover {
    /// Time step from which `to` decides.
    pub step: u32,
    /// The scheduler in charge from now on.
    pub to: Leader,
    /// Why.
    pub reason: HandoverReason,
    /// The real schedule's charge over steps `0..=step`, scaled by `INV_LEN_SCALE`.
    pub real_cost: u64,
    /// SJF's charge over the same steps on the same arrivals, scaled by `INV_LEN_SCALE`.
    pub sjf_cost: u64,
}

/// Counters of a guarded run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuardStats {
    /// Time steps seen.
    pub steps: u32,
    /// Time steps in which the learned policy was in charge.
    pub learned_steps: u32,
    /// Renewals (real cluster and shadow in the same state at the start of a step).
    pub renewals: u32,
    /// Hand-overs after the start.
    pub handovers: u32,
    /// Renewal mode: the largest `(learned - SJF)` charge within one finished or running round
    /// given to the learned policy, scaled by `INV_LEN_SCALE` (the `L` of the theorem).
    pub worst_round_loss: u64,
    /// Lookahead mode: decisions in which the learned choice was replaced by the fallback's.
    pub overrides: u32,
}

/// Who makes the real cluster's fallback decisions: the fallback itself ([`SameFallback`], the
/// default) or a repairing scheduler ([`Repair`]). The shadow and the drains always run the
/// fallback `F`, which stays the cost reference.
pub trait RealFallback<F, const M: usize> {
    /// The fallback decision on the real cluster.
    ///
    /// # Errors
    /// A [`PolicyError`] of the scheduler deciding.
    fn decide(&mut self, fallback: &mut F, cluster: &Cluster<M>) -> Result<Action, PolicyError>;
}

/// The fallback decides the real cluster too (every guard mode's default; the renewal theorem
/// needs it).
#[derive(Clone, Copy, Debug, Default)]
pub struct SameFallback;

impl<F: Scheduler<M>, const M: usize> RealFallback<F, M> for SameFallback {
    fn decide(&mut self, fallback: &mut F, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        fallback.decide(cluster)
    }
}

/// A repairing scheduler `R` makes the real cluster's fallback decisions (e.g.
/// [`crate::SjfReserve`], which reserves a starved job's start), while the shadow and the drains
/// stay the fallback's. Budget and lookahead modes only in spirit: in renewal mode the real
/// cluster under `R` no longer equals the pure fallback run, so the theorem does not apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct Repair<R>(pub R);

impl<F, R: Scheduler<M>, const M: usize> RealFallback<F, M> for Repair<R> {
    fn decide(&mut self, _: &mut F, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        self.0.decide(cluster)
    }
}

/// The real cluster's fallback chosen at run time by [`FallbackKind`] (the command line's
/// `--guard-fallback`, a trace's `guard.fallback`), projected onto the guard's rules when there
/// are any: [`SameFallback`] for [`FallbackKind::Sjf`], a [`Repair`] by the named scheduler
/// otherwise. One type for every choice, so a trace replay or a firmware image builds one guard.
// Built once per episode, never moved on the decision path (as the firmware's schedulers).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum NamedFallback<const O: usize> {
    /// The fallback decides the real cluster too.
    Same,
    /// The named scheduler decides the real cluster's fallback decisions.
    Plain(FallbackKind),
    /// The same, projected onto the guard's rules (`O` = job slots + 1 outputs); lean, as it
    /// only decides ([`Projected::lean`]).
    Projected(Projected<FallbackKind, O, true>),
}

impl<const O: usize> NamedFallback<O> {
    /// The fallback named `kind`, projected onto `projection`'s rules if given.
    pub fn new(kind: FallbackKind, projection: Option<&Projection>) -> NamedFallback<O> {
        match (kind, projection) {
            (FallbackKind::Sjf, _) => NamedFallback::Same,
            (kind, None) => NamedFallback::Plain(kind),
            (kind, Some(p)) => NamedFallback::Projected(Projected::lean(kind, p.clone())),
        }
    }
}

impl<F: Scheduler<M>, const M: usize, const O: usize> RealFallback<F, M> for NamedFallback<O> {
    fn decide(&mut self, fallback: &mut F, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        match self {
            NamedFallback::Same => fallback.decide(cluster),
            NamedFallback::Plain(k) => k.decide(cluster),
            NamedFallback::Projected(p) => p.decide(cluster),
        }
    }
}

/// A learned scheduler `L` guarded by a fallback `F` on a cluster with `M` job slots, the real
/// cluster's fallback decisions made by `R` (see [`RealFallback`]); see the module docs. Memory:
/// the schedulers, one shadow [`Episode`] (a [`Cluster`] and its accounting) and a few counters;
/// no allocation.
#[derive(Clone, Debug)]
pub struct Guard<'a, L, F, const M: usize, R = SameFallback> {
    learned: L,
    fallback: F,
    repair: R,
    params: GuardParams,
    shadow: Episode<'a, M>,
    leader: Leader,
    now: Option<u32>,
    real_cost: u64,
    /// Real and shadow charges at the start of the current round (renewal mode).
    round_real: u64,
    round_shadow: u64,
    /// SJF's charge before the current round (renewal mode).
    sjf_before_round: u64,
    /// Lookahead mode: the shadow's drain cost at the current step, once a disagreement in the
    /// step needed it (the shadow does not move within a step).
    shadow_drain: Option<u64>,
    /// Lookahead mode: true while no decision of the current step was overridden.
    step_learned: bool,
    last: Option<Handover>,
    stats: GuardStats,
}

impl<'a, L: Scheduler<M>, F: Scheduler<M>, const M: usize> Guard<'a, L, F, M> {
    /// A guard for the episode of `jobs` with end mode `end` (the same the real episode plays),
    /// whose fallback also makes the real fallback decisions.
    ///
    /// # Errors
    /// [`GuardError::Episode`] when the job sequence is invalid.
    pub fn new(
        learned: L,
        fallback: F,
        params: GuardParams,
        jobs: &'a [Job],
        end: EndMode,
    ) -> Result<Self, GuardError> {
        Guard::with_repair(learned, fallback, SameFallback, params, jobs, end)
    }
}

impl<'a, L: Scheduler<M>, F: Scheduler<M>, const M: usize, R: RealFallback<F, M>>
    Guard<'a, L, F, M, R>
{
    /// As [`Guard::new`], with `repair` making the real cluster's fallback decisions.
    ///
    /// # Errors
    /// [`GuardError::Episode`] when the job sequence is invalid.
    pub fn with_repair(
        learned: L,
        fallback: F,
        repair: R,
        params: GuardParams,
        jobs: &'a [Job],
        end: EndMode,
    ) -> Result<Self, GuardError> {
        let shadow = Episode::new(jobs, end, &mut ()).map_err(GuardError::Episode)?;
        Ok(Guard {
            learned,
            fallback,
            repair,
            params,
            shadow,
            leader: Leader::Learned,
            now: None,
            real_cost: 0,
            round_real: 0,
            round_shadow: 0,
            sjf_before_round: 0,
            shadow_drain: None,
            step_learned: true,
            last: None,
            stats: GuardStats::default(),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &GuardParams {
        &self.params
    }

    /// The learned scheduler (for its logits in traces and explanations).
    pub fn learned(&self) -> &L {
        &self.learned
    }

    /// The fallback scheduler.
    pub fn fallback(&self) -> &F {
        &self.fallback
    }

    /// The scheduler in charge of the current time step.
    pub fn leader(&self) -> Leader {
        self.leader
    }

    /// The hand-over made at the start of the current time step, if any.
    pub fn last_handover(&self) -> Option<Handover> {
        self.last
    }

    /// Counters so far.
    pub fn stats(&self) -> GuardStats {
        self.stats
    }

    /// The real schedule's charge over the steps seen, scaled by `INV_LEN_SCALE`.
    pub fn real_cost(&self) -> u64 {
        self.real_cost
    }

    /// SJF's charge over the same steps on the same arrivals, scaled by `INV_LEN_SCALE`: the
    /// shadow's in budget mode; in renewal mode SJF's cost before this round plus this round's
    /// cost of whichever schedule runs SJF (the real one or the shadow).
    pub fn sjf_cost(&self) -> u64 {
        match self.params.mode {
            GuardMode::Budget | GuardMode::Lookahead => self.shadow.charged().inv_len_scaled,
            GuardMode::Renewal => {
                let (real, shadow) = self.round_costs();
                let round = match self.leader {
                    Leader::Learned => shadow,
                    Leader::Fallback => real,
                };
                self.sjf_before_round.saturating_add(round)
            }
        }
    }

    /// The real and shadow charges since the current round started.
    fn round_costs(&self) -> (u64, u64) {
        (
            self.real_cost.saturating_sub(self.round_real),
            self.shadow
                .charged()
                .inv_len_scaled
                .saturating_sub(self.round_shadow),
        )
    }

    /// Accounts for the real cluster's current time step (its charge, the shadow, a hand-over)
    /// if it has not been seen yet. [`Scheduler::decide`] does this; call it once more after the
    /// episode ends, so the final step's charge is counted in [`Guard::real_cost`] and
    /// [`GuardStats::worst_round_loss`].
    ///
    /// # Errors
    /// A [`PolicyError`] of the scheduler running the shadow.
    pub fn settle(&mut self, real: &Cluster<M>) -> Result<(), PolicyError> {
        if self.now == Some(real.now()) {
            return Ok(());
        }
        self.enter_step(real)
    }

    /// Brings the shadow to the real cluster's time step and settles who decides in it.
    fn enter_step(&mut self, real: &Cluster<M>) -> Result<(), PolicyError> {
        let load: JobLoad = real.in_system();
        self.real_cost = self.real_cost.saturating_add(load.inv_len_scaled);
        self.stats.steps = self.stats.steps.saturating_add(1);
        let first = self.now.is_none();
        self.now = Some(real.now());
        self.last = None;
        // The shadow runs the scheduler not in charge (renewal mode) or the fallback (budget).
        let shadow_learned =
            self.params.mode == GuardMode::Renewal && self.leader == Leader::Fallback;
        while !self.shadow.is_done() && self.shadow.cluster().now() < real.now() {
            let action = if shadow_learned {
                self.learned.decide(self.shadow.cluster())?
            } else {
                self.fallback.decide(self.shadow.cluster())?
            };
            self.shadow.step(action, &mut ());
        }
        let next = match self.params.mode {
            GuardMode::Renewal => self.renewal(real, first),
            GuardMode::Lookahead => {
                self.shadow_drain = None;
                self.step_learned = true;
                first.then_some((Leader::Learned, HandoverReason::Start))
            }
            GuardMode::Budget => {
                let within = self.params.within(self.real_cost, self.sjf_cost());
                match (within, first) {
                    (true, true) => Some((Leader::Learned, HandoverReason::Start)),
                    (false, true) => Some((Leader::Fallback, HandoverReason::Start)),
                    (true, false) => Some((Leader::Learned, HandoverReason::WithinBudget)),
                    (false, false) => Some((Leader::Fallback, HandoverReason::OverBudget)),
                }
            }
        };
        if let Some((to, reason)) = next {
            if first || to != self.leader {
                self.hand_over(real.now(), to, reason, !first);
            }
        }
        // Lookahead mode counts a step as the learned policy's until a decision is overridden.
        if self.leader == Leader::Learned || self.params.mode == GuardMode::Lookahead {
            self.stats.learned_steps = self.stats.learned_steps.saturating_add(1);
        }
        Ok(())
    }

    /// Records that `to` decides from `step` on.
    fn hand_over(&mut self, step: u32, to: Leader, reason: HandoverReason, count: bool) {
        if count {
            self.stats.handovers = self.stats.handovers.saturating_add(1);
        }
        self.leader = to;
        self.last = Some(Handover {
            step,
            to,
            reason,
            real_cost: self.real_cost,
            sjf_cost: self.sjf_cost(),
        });
    }

    /// Lookahead mode: one decision. Where the learned policy and the real fallback (the
    /// fallback, or the repair scheduler) agree the action is theirs and nothing changes hands. Otherwise the learned choice stands if
    /// `R(t) + drain(after it) <= (1 + eps) * (S(t) + drain(shadow)) + c` ([`drain`]), and the
    /// fallback's choice is taken if not.
    // Never inlined: its two cluster copies (the state after the learned choice and the shadow
    // to drain, ~0.7 KB each on Cortex-M) then live only in this frame, during a lookahead
    // decision, instead of in the frame of whatever plays the guard in any mode (the firmware's
    // `size_compact_guard` image had them in its `main`, +744 B of stack, docs/performance.md).
    #[inline(never)]
    fn lookahead(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        let learned = self.learned.decide(cluster)?;
        let fallback = self.repair.decide(&mut self.fallback, cluster)?;
        if learned == fallback {
            return Ok(learned);
        }
        let mut after = cluster.clone();
        after.step(learned);
        let cost = self
            .real_cost
            .saturating_add(drain(&mut self.fallback, after, cluster.now())?);
        let shadow_drain = match self.shadow_drain {
            Some(d) => d,
            None => {
                let shadow = self.shadow.cluster();
                let d = drain(&mut self.fallback, shadow.clone(), shadow.now())?;
                *self.shadow_drain.insert(d)
            }
        };
        let sjf = self.sjf_cost().saturating_add(shadow_drain);
        let (to, reason) = if self.params.within(cost, sjf) {
            (Leader::Learned, HandoverReason::DrainWithinBudget)
        } else {
            self.stats.overrides = self.stats.overrides.saturating_add(1);
            if core::mem::replace(&mut self.step_learned, false) {
                self.stats.learned_steps = self.stats.learned_steps.saturating_sub(1);
            }
            (Leader::Fallback, HandoverReason::DrainOverBudget)
        };
        if to != self.leader {
            self.hand_over(cluster.now(), to, reason, true);
        }
        Ok(match to {
            Leader::Learned => learned,
            Leader::Fallback => fallback,
        })
    }

    /// Renewal mode: tracks the round's loss and, at a renewal, closes the round and chooses the
    /// next round's scheduler by the budget test on the costs so far.
    fn renewal(&mut self, real: &Cluster<M>, first: bool) -> Option<(Leader, HandoverReason)> {
        let (real_round, shadow_round) = self.round_costs();
        if self.leader == Leader::Learned {
            let loss = real_round.saturating_sub(shadow_round);
            self.stats.worst_round_loss = self.stats.worst_round_loss.max(loss);
        }
        if !self.shadow.cluster().same_state(real) {
            return None;
        }
        self.stats.renewals = self.stats.renewals.saturating_add(1);
        self.sjf_before_round = self.sjf_cost();
        self.round_real = self.real_cost;
        self.round_shadow = self.shadow.charged().inv_len_scaled;
        let within = self.params.within(self.real_cost, self.sjf_before_round);
        Some(match (within, first) {
            (true, true) => (Leader::Learned, HandoverReason::Start),
            (false, true) => (Leader::Fallback, HandoverReason::Start),
            (true, false) => (Leader::Learned, HandoverReason::RenewalWithinBudget),
            (false, false) => (Leader::Fallback, HandoverReason::RenewalOverBudget),
        })
    }
}

impl<L: Scheduler<M>, F: Scheduler<M>, const M: usize, R: RealFallback<F, M>> Scheduler<M>
    for Guard<'_, L, F, M, R>
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        self.settle(cluster)?;
        if self.params.mode == GuardMode::Lookahead {
            return self.lookahead(cluster);
        }
        match self.leader {
            Leader::Learned => self.learned.decide(cluster),
            Leader::Fallback => self.repair.decide(&mut self.fallback, cluster),
        }
    }
}

/// The charge of the time steps after `counted` (scaled by `INV_LEN_SCALE`) when `fallback`
/// empties `cluster` with no further arrivals: the cost-to-go estimate of the lookahead mode.
/// Stops at the first empty step or after [`DRAIN_CAP`] steps.
///
/// # Errors
/// A [`PolicyError`] of `fallback`.
pub fn drain<F: Scheduler<M>, const M: usize>(
    fallback: &mut F,
    mut cluster: Cluster<M>,
    counted: u32,
) -> Result<u64, PolicyError> {
    let end = counted.saturating_add(DRAIN_CAP);
    let (mut cost, mut seen) = (0u64, counted);
    loop {
        if cluster.now() > seen {
            seen = cluster.now();
            let load = cluster.in_system();
            if load.jobs == 0 || seen > end {
                return Ok(cost);
            }
            cost = cost.saturating_add(load.inv_len_scaled);
        }
        // Every decision allocates a waiting job or moves time on, so the loop ends.
        let action = fallback.decide(&cluster)?;
        cluster.step(action);
    }
}

#[cfg(test)]
mod tests;
