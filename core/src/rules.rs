//! Operator rules as plain data: each gives a soft truth value `r(s, a)` in `[0, 1]` for every
//! action `a` in a cluster state `s`, and a hard verdict (the rule holds exactly when `r = 1`).
//!
//! The rules judge what an action *does*, its [`Effect`], as [`Cluster::step`] would carry it
//! out: `Schedule(i)` starts slot `i`'s job at its first fit in time (possibly a later step: a
//! reservation); void, an empty slot, a slot out of range or a job that fits nowhere in the
//! horizon all let time move on and add no load.
//!
//! * [`Rule::UtilizationCap`]: after the action, every resource's usage is at most `max` of
//!   its capacity in every time step the started job occupies (rows `offset..offset + len`
//!   of the horizon, so a reservation respects the cap in the future rows it takes as well).
//!   Checked per resource the job uses (a demand of 0 adds nothing and cannot break the cap).
//!   **Lone-job exception**: a job whose demand on a resource alone exceeds the cap may start
//!   when that resource is otherwise idle in all those rows; it then runs alone on it. So the
//!   cap never makes a job unschedulable: any job runs on an idle cluster, exactly as a
//!   10-unit job needs an idle resource without the cap, and on an idle cluster every job that
//!   fits is allowed (all-done episodes still end). The hard verdict uses exact integers (units
//!   times permille), so exactly 80% is within a cap of 0.8. Soft truth (the methods note):
//!   `r = clip(1 - (U - max) / (1 - max), 0, 1)` with `U` the largest utilization, over the
//!   checked resources and rows, after the action.
//! * [`Rule::WorkConserving`]: do not idle (void, or an action that moves on) while a job in a
//!   visible slot could start now within a utilization cap of `max` (lone-job exception
//!   included). Give it the tightest [`Rule::UtilizationCap`] of the set, so the two never
//!   contradict each other: a job that may start now satisfies both. `r` is 0 or 1.
//! * [`Rule::NoReservation`]: a job may only be started now, not reserved for a later step
//!   (reservations lock capacity the operator may want to give to jobs arriving meanwhile).
//!   `r = 1 - offset / T` for a job whose first fit is `offset` steps ahead.
//!
//! * [`Rule::BoundedWait`] (aging): a job in a visible slot that has waited at least `steps`
//!   time steps (`now - arrival`, known from the state) and may start now within a cap of `max`
//!   is started before any job that arrived later, and before time moves on. Exactly: let `a*`
//!   be the earliest arrival among such aged, startable jobs; if there is one, only actions that
//!   start a job arriving at or before `a*` hold. Like the work-conserving rule it takes the
//!   set's tightest cap. `r` is 0 or 1. It targets the adversarial failure mode of learned
//!   policies (short jobs waiting tens of steps while later long jobs start).
//!
//! * [`Rule::ShorterFirst`]: a job may be started (now or reserved for later) only if no
//!   strictly shorter job in a visible slot may start now within a cap of `max` (the set's
//!   tightest cap). SJF always satisfies it; a learned policy keeps its freedom to wait and to
//!   choose among the shortest startable jobs, or to reserve a job no longer than them, but
//!   may not start a longer job ahead of a shorter one that fits. In DeepRM's non-preemptive
//!   model a long job started ahead of short ones blocks them for its whole length, the failure
//!   the adversarial search finds (`docs/guard.md`, "A rule against the failure mode"). `r` is
//!   0 or 1.
//!
//! The rules other than [`Rule::ShorterFirst`] can always be satisfied together: void breaks only the work-conserving and
//! bounded-wait rules, and only when some job can start now within the cap; starting the
//! earliest-arriving such job (aged or not, it has the smallest arrival of all aged startable
//! jobs, for every `steps`) breaks none.
//!
//! Source of the soft-truth formulation: Hu et al., "Harnessing Deep Neural Networks with Logic
//! Rules", ACL 2016 (see [`crate::projection`]).

use heapless::Vec;

use crate::cluster::{Action, Cluster};
use crate::job::Job;
use crate::spec::{HORIZON, NUM_RES, RES_UNITS};

/// Most rules in a [`RuleSet`]; a [`RuleMask`] has one bit per rule.
pub const MAX_RULES: usize = 8;

/// One bit per rule of a [`RuleSet`], bit `l` for the rule at position `l`.
pub type RuleMask = u8;

/// A fraction in `[0, 1]` in thousandths, so comparisons with unit counts are exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permille(u16);

impl Permille {
    /// 1, the whole capacity.
    pub const ONE: Permille = Permille(1000);

    /// `permille / 1000`, or `None` above 1000.
    pub const fn new(permille: u16) -> Option<Permille> {
        if permille <= 1000 {
            Some(Permille(permille))
        } else {
            None
        }
    }

    /// The value in thousandths, `0..=1000`.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// The value as a fraction.
    pub fn as_f32(self) -> f32 {
        f32::from(self.0) / 1000.0
    }
}

impl core::fmt::Display for Permille {
    /// Shortest decimal form: `0.8`, `0.805`, `1`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (whole, mut frac, mut digits) = (self.0 / 1000, self.0 % 1000, 3);
        if frac == 0 {
            return write!(f, "{whole}");
        }
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        write!(f, "{whole}.{frac:0digits$}")
    }
}

/// An operator rule. See the module documentation for each rule's meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Usage of every resource at most `max` of capacity in the steps a started job occupies,
    /// except for a job alone on a resource.
    UtilizationCap {
        /// The cap, default 0.8.
        max: Permille,
    },
    /// No idling while a visible job could start now within a cap of `max`.
    WorkConserving {
        /// The cap a job must respect to count as startable (the set's tightest cap, or 1).
        max: Permille,
    },
    /// Start jobs now only; no reservations for later steps.
    NoReservation,
    /// No job starts (now or reserved) ahead of a strictly shorter job that may start now
    /// within `max`.
    ShorterFirst {
        /// The cap a job must respect to count as startable (the set's tightest cap, or 1).
        max: Permille,
    },
    /// A job that has waited at least `steps` and may start now within `max` starts before any
    /// later arrival and before time moves on.
    BoundedWait {
        /// Wait, in time steps, from which a job has priority.
        steps: u16,
        /// The cap a job must respect to count as startable (the set's tightest cap, or 1).
        max: Permille,
    },
}

/// A rule's kind, without its parameters: the names traces use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    /// [`Rule::UtilizationCap`].
    UtilizationCap,
    /// [`Rule::WorkConserving`].
    WorkConserving,
    /// [`Rule::NoReservation`].
    NoReservation,
    /// [`Rule::ShorterFirst`].
    ShorterFirst,
    /// [`Rule::BoundedWait`].
    BoundedWait,
}

crate::names::named!(RuleKind {
    UtilizationCap => "utilization-cap",
    WorkConserving => "work-conserving",
    NoReservation => "no-reservation",
    ShorterFirst => "shorter-first",
    BoundedWait => "bounded-wait",
});

impl RuleKind {
    /// Stable numeric code used in model files ([`crate::model::provenance`]).
    pub const fn code(self) -> u8 {
        match self {
            RuleKind::UtilizationCap => 0,
            RuleKind::WorkConserving => 1,
            RuleKind::NoReservation => 2,
            RuleKind::ShorterFirst => 3,
            RuleKind::BoundedWait => 4,
        }
    }

    /// The kind with numeric code `code`, if any.
    pub fn from_code(code: u8) -> Option<RuleKind> {
        RuleKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The rule of this kind with cap `max` (unused by no-reservation) and, for bounded-wait,
    /// priority from a wait of `steps` time steps.
    pub const fn rule(self, max: Permille, steps: u16) -> Rule {
        match self {
            RuleKind::UtilizationCap => Rule::UtilizationCap { max },
            RuleKind::WorkConserving => Rule::WorkConserving { max },
            RuleKind::NoReservation => Rule::NoReservation,
            RuleKind::ShorterFirst => Rule::ShorterFirst { max },
            RuleKind::BoundedWait => Rule::BoundedWait { steps, max },
        }
    }
}

/// What an action does to the cluster, as [`Cluster::step`] would carry it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `job` is allocated `offset` steps from now (0: it starts now).
    Start {
        /// The job.
        job: Job,
        /// Its first fit in time, in steps from now: `0..=T - len`.
        offset: usize,
    },
    /// Time moves on and no load is added.
    Idle,
}

/// The effect of `action` on `cluster`.
pub fn effect<const M: usize>(cluster: &Cluster<M>, action: Action) -> Effect {
    let Action::Schedule(i) = action else {
        return Effect::Idle;
    };
    match cluster.slots().get(i) {
        Some(Some(job)) => cluster
            .first_fit(job)
            .map_or(Effect::Idle, |offset| Effect::Start { job: *job, offset }),
        _ => Effect::Idle,
    }
}

/// Units in use of resource `r` in a horizon row of free units.
fn used(row: &[u8; NUM_RES], r: usize) -> u32 {
    row.get(r)
        .map_or(0, |&free| u32::from(RES_UNITS.saturating_sub(free)))
}

/// How far starting `job` at `offset` takes usage above `max`, in thousandths of a unit: the
/// largest `(used + demand) * 1000 - max * RES_UNITS` over the resources the job uses (except
/// those where it is a lone job) and the rows it occupies; 0 when the cap holds.
pub fn cap_excess<const M: usize>(
    cluster: &Cluster<M>,
    job: &Job,
    offset: usize,
    max: Permille,
) -> u32 {
    let limit = u32::from(max.get()) * u32::from(RES_UNITS);
    let rows = || {
        cluster
            .avbl()
            .iter()
            .skip(offset)
            .take(usize::from(job.len))
    };
    let mut excess = 0;
    for (r, &demand) in job.res.iter().enumerate() {
        let demand = u32::from(demand);
        let lone = demand * 1000 > limit && rows().all(|row| used(row, r) == 0);
        if demand == 0 || lone {
            continue;
        }
        for row in rows() {
            excess = excess.max(((used(row, r) + demand) * 1000).saturating_sub(limit));
        }
    }
    excess
}

/// True when some job in a visible slot fits now and may start now within `max`.
pub fn startable_within<const M: usize>(cluster: &Cluster<M>, max: Permille) -> bool {
    cluster
        .slots()
        .iter()
        .flatten()
        .any(|j| cluster.fits_now(j) && cap_excess(cluster, j, 0, max) == 0)
}

/// The earliest arrival (time step) among jobs in visible slots that have waited at least
/// `steps` time steps and may start now within `max`; `None` when there is none.
pub fn oldest_aged_startable<const M: usize>(
    cluster: &Cluster<M>,
    steps: u16,
    max: Permille,
) -> Option<u32> {
    cluster
        .slots()
        .iter()
        .flatten()
        .filter(|j| cluster.now().saturating_sub(j.arrival) >= u32::from(steps))
        .filter(|j| cluster.fits_now(j) && cap_excess(cluster, j, 0, max) == 0)
        .map(|j| j.arrival)
        .min()
}

/// The shortest length, in time steps, among jobs in visible slots that fit now and may start
/// now within `max`; `None` when there is none.
pub fn shortest_startable<const M: usize>(cluster: &Cluster<M>, max: Permille) -> Option<u8> {
    cluster
        .slots()
        .iter()
        .flatten()
        .filter(|j| cluster.fits_now(j) && cap_excess(cluster, j, 0, max) == 0)
        .map(|j| j.len)
        .min()
}

impl Rule {
    /// The rule's kind.
    pub const fn kind(&self) -> RuleKind {
        match self {
            Rule::UtilizationCap { .. } => RuleKind::UtilizationCap,
            Rule::WorkConserving { .. } => RuleKind::WorkConserving,
            Rule::NoReservation => RuleKind::NoReservation,
            Rule::ShorterFirst { .. } => RuleKind::ShorterFirst,
            Rule::BoundedWait { .. } => RuleKind::BoundedWait,
        }
    }

    /// The rule's cap; `None` for no-reservation, which has none.
    pub const fn cap(&self) -> Option<Permille> {
        match *self {
            Rule::UtilizationCap { max }
            | Rule::WorkConserving { max }
            | Rule::ShorterFirst { max }
            | Rule::BoundedWait { max, .. } => Some(max),
            Rule::NoReservation => None,
        }
    }

    /// The wait, in time steps, from which bounded-wait gives a job priority; `None` for the
    /// other kinds.
    pub const fn wait_steps(&self) -> Option<u16> {
        match *self {
            Rule::BoundedWait { steps, .. } => Some(steps),
            _ => None,
        }
    }

    /// The hard verdict of this rule for an action with `effect` in `cluster`, in integers,
    /// with what its soft truth needs ([`Verdict::truth`]). [`Rule::truth`] is computed from it,
    /// so the rule holds exactly when its truth is 1.
    pub fn verdict<const M: usize>(&self, cluster: &Cluster<M>, effect: &Effect) -> Verdict {
        match (*self, *effect) {
            (Rule::UtilizationCap { max }, Effect::Start { job, offset }) => {
                match cap_excess(cluster, &job, offset, max) {
                    0 => Verdict::Holds,
                    excess => Verdict::OverCap { excess, max },
                }
            }
            (Rule::WorkConserving { max }, Effect::Idle) if startable_within(cluster, max) => {
                Verdict::Broken
            }
            (Rule::NoReservation, Effect::Start { offset, .. }) if offset > 0 => {
                Verdict::Reserved { offset }
            }
            (Rule::ShorterFirst { max }, Effect::Start { job, .. }) => {
                match shortest_startable(cluster, max) {
                    Some(shortest) if shortest < job.len => Verdict::Broken,
                    _ => Verdict::Holds,
                }
            }
            (Rule::BoundedWait { steps, max }, effect) => {
                match (oldest_aged_startable(cluster, steps, max), effect) {
                    (None, _) => Verdict::Holds,
                    (Some(oldest), Effect::Start { job, .. }) if job.arrival <= oldest => {
                        Verdict::Holds
                    }
                    _ => Verdict::Broken,
                }
            }
            _ => Verdict::Holds,
        }
    }

    /// The soft truth value `r(s, a)` in `[0, 1]` of this rule for an action with `effect` in
    /// `cluster`. It is exactly 1 when the rule holds (the hard verdict) and below 1 when it is
    /// violated.
    pub fn truth<const M: usize>(&self, cluster: &Cluster<M>, effect: &Effect) -> f32 {
        self.verdict(cluster, effect).truth()
    }

    /// True when the rule holds for an action with `effect` (`truth == 1`).
    pub fn holds<const M: usize>(&self, cluster: &Cluster<M>, effect: &Effect) -> bool {
        self.verdict(cluster, effect) == Verdict::Holds
    }
}

/// A rule's hard verdict on one action ([`Rule::verdict`]), with the integers its soft truth
/// is computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The rule holds: truth 1.
    Holds,
    /// A utilization cap of `max` is exceeded by `excess` thousandths of a unit
    /// ([`cap_excess`], at least 1).
    OverCap {
        /// How far usage goes above the cap, in thousandths of a unit.
        excess: u32,
        /// The cap.
        max: Permille,
    },
    /// A job is reserved `offset` steps ahead (at least 1) under no-reservation.
    Reserved {
        /// Its first fit in time, in steps from now.
        offset: usize,
    },
    /// A 0-or-1 rule is broken: truth 0.
    Broken,
}

impl Verdict {
    /// True unless the rule holds.
    pub fn violated(self) -> bool {
        self != Verdict::Holds
    }

    /// The soft truth value in `[0, 1]`: 1 exactly when the rule holds (see the module
    /// documentation for each rule's formula).
    pub fn truth(self) -> f32 {
        match self {
            Verdict::Holds => 1.0,
            Verdict::OverCap { excess, max } => {
                let room = u32::from(1000 - max.get().min(1000)) * u32::from(RES_UNITS);
                match room {
                    // Unreachable: with a cap of 1 usage cannot exceed it.
                    0 => 0.0,
                    // excess >= 1 and room <= 10_000, so 1 - ratio < 1 in f32.
                    room => 1.0 - (excess as f32 / room as f32).min(1.0),
                }
            }
            // offset >= 1, so the truth is at most 1 - 1 / T < 1.
            Verdict::Reserved { offset } => 1.0 - offset.min(HORIZON) as f32 / HORIZON as f32,
            Verdict::Broken => 0.0,
        }
    }
}

impl core::fmt::Display for Rule {
    /// The rule as written on the command line: `util<=0.8`, `work-conserving`,
    /// `no-reservation`, `shorter-first`, `wait<=10`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Rule::UtilizationCap { max } => write!(f, "util<={max}"),
            Rule::WorkConserving { max } if *max == Permille::ONE => write!(f, "work-conserving"),
            Rule::WorkConserving { max } => write!(f, "work-conserving(util<={max})"),
            Rule::NoReservation => write!(f, "no-reservation"),
            Rule::ShorterFirst { max } if *max == Permille::ONE => write!(f, "shorter-first"),
            Rule::ShorterFirst { max } => write!(f, "shorter-first(util<={max})"),
            Rule::BoundedWait { steps, max } if *max == Permille::ONE => write!(f, "wait<={steps}"),
            Rule::BoundedWait { steps, max } => write!(f, "wait<={steps}(util<={max})"),
        }
    }
}

/// Why a rule could not be added to a [`RuleSet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// The set already holds [`MAX_RULES`] rules.
    TooMany {
        /// The capacity.
        max: usize,
    },
    /// The weight `lambda` is NaN, negative or infinite.
    BadWeight,
}

impl core::fmt::Display for RuleError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RuleError::TooMany { max } => write!(f, "at most {max} rules"),
            RuleError::BadWeight => write!(f, "a rule weight must be a finite number >= 0"),
        }
    }
}

impl core::error::Error for RuleError {}

/// Up to [`MAX_RULES`] rules with their weights `lambda_l >= 0` (Hu et al.'s rule confidences);
/// a weight of 0 disables a rule. No allocation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleSet {
    rules: Vec<(Rule, f32), MAX_RULES>,
}

impl RuleSet {
    /// No rules.
    pub const fn new() -> Self {
        RuleSet { rules: Vec::new() }
    }

    /// Adds `rule` with weight `lambda`.
    ///
    /// # Errors
    /// [`RuleError::BadWeight`] for a NaN, negative or infinite weight, [`RuleError::TooMany`]
    /// when the set is full.
    pub fn push(&mut self, rule: Rule, lambda: f32) -> Result<(), RuleError> {
        if !(lambda.is_finite() && lambda >= 0.0) {
            return Err(RuleError::BadWeight);
        }
        self.rules
            .push((rule, lambda))
            .map_err(|_| RuleError::TooMany { max: MAX_RULES })
    }

    /// The rules and their weights, in the order added (rule `l` is bit `l` of a mask).
    pub fn iter(&self) -> impl Iterator<Item = &(Rule, f32)> {
        self.rules.iter()
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there is no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The smallest [`Rule::UtilizationCap`], if any.
    pub fn tightest_cap(&self) -> Option<Permille> {
        self.rules
            .iter()
            .filter_map(|(r, _)| match r {
                Rule::UtilizationCap { max } => Some(*max),
                _ => None,
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_kinds_name_build_and_take_apart_every_rule() {
        let names = RuleKind::ALL.map(RuleKind::name);
        assert_eq!(
            names,
            [
                "utilization-cap",
                "work-conserving",
                "no-reservation",
                "shorter-first",
                "bounded-wait"
            ]
        );
        let max = Permille::new(805).unwrap_or_else(|| unreachable!("805 permille"));
        for kind in RuleKind::ALL {
            assert_eq!(RuleKind::from_name(kind.name()), Some(kind));
            let rule = kind.rule(max, 7);
            assert_eq!(rule.kind(), kind);
            let no_cap = kind == RuleKind::NoReservation;
            assert_eq!(rule.cap(), (!no_cap).then_some(max));
            let wait = (kind == RuleKind::BoundedWait).then_some(7);
            assert_eq!(rule.wait_steps(), wait);
        }
        assert_eq!(
            RuleKind::BoundedWait.rule(max, 7),
            Rule::BoundedWait { steps: 7, max }
        );
        assert_eq!(RuleKind::from_name("util<=0.8"), None);
    }

    fn job(id: u32, len: u32, res: [u32; 2]) -> Job {
        Job::new(id, 0, len, res).unwrap_or_else(|e| unreachable!("{e}"))
    }

    const CAP: Rule = Rule::UtilizationCap { max: Permille(800) };

    #[test]
    fn cap_truth_by_hand() {
        let mut c: Cluster<3> = Cluster::new();
        c.submit(job(0, 5, [6, 1])).ok();
        c.submit(job(1, 2, [3, 0])).ok();
        c.submit(job(2, 2, [2, 0])).ok();
        c.step(Action::Schedule(0));
        // 6 of 10 units used; the 3-unit job makes U = 0.9: r = 1 - (0.9 - 0.8) / 0.2 = 0.5.
        let e = effect(&c, Action::Schedule(1));
        assert_eq!(
            e,
            Effect::Start {
                job: job(1, 2, [3, 0]),
                offset: 0
            }
        );
        assert_eq!(CAP.truth(&c, &e), 0.5);
        assert!(!CAP.holds(&c, &e));
        // The 2-unit job reaches exactly 80%: allowed.
        let e = effect(&c, Action::Schedule(2));
        assert_eq!(CAP.truth(&c, &e), 1.0);
        // Void and an empty slot add nothing.
        assert_eq!(effect(&c, Action::Void), Effect::Idle);
        assert_eq!(effect(&c, Action::Schedule(0)), Effect::Idle);
        assert_eq!(CAP.truth(&c, &Effect::Idle), 1.0);
        // The work-conserving rule forbids idling: the 2-unit job can start within the cap.
        let wc = Rule::WorkConserving { max: Permille(800) };
        assert_eq!(wc.truth(&c, &Effect::Idle), 0.0);
        assert_eq!(wc.truth(&c, &effect(&c, Action::Schedule(1))), 1.0);
        // With a cap of 0.7 no waiting job can start within it: idling is fine.
        let wc = Rule::WorkConserving { max: Permille(700) };
        assert_eq!(wc.truth(&c, &Effect::Idle), 1.0);
    }

    #[test]
    fn lone_jobs_may_exceed_the_cap_on_an_idle_resource_only() {
        let mut c: Cluster<3> = Cluster::new();
        c.submit(job(0, 3, [9, 0])).ok();
        c.submit(job(1, 2, [0, 9])).ok();
        c.submit(job(2, 1, [1, 1])).ok();
        // Idle cluster: the 9-unit job runs alone on resource 0.
        assert_eq!(CAP.truth(&c, &effect(&c, Action::Schedule(0))), 1.0);
        c.step(Action::Schedule(0));
        // Resource 1 is idle: the other 9-unit job may run beside it (they share no resource).
        assert_eq!(CAP.truth(&c, &effect(&c, Action::Schedule(1))), 1.0);
        // The small job would add 1 unit to the lone job's 9: U = 1.0, r = 0.
        assert_eq!(CAP.truth(&c, &effect(&c, Action::Schedule(2))), 0.0);
    }

    #[test]
    fn reservations_are_checked_in_the_rows_they_take() {
        let mut c: Cluster<3> = Cluster::new();
        c.submit(job(0, 2, [10, 0])).ok();
        c.submit(job(1, 3, [4, 0])).ok();
        c.submit(job(2, 4, [5, 0])).ok();
        c.step(Action::Schedule(0));
        // Job 1 fits from step 2 on: a reservation of 2 steps, r = 1 - 2 / 20 = 0.9.
        let e1 = effect(&c, Action::Schedule(1));
        assert_eq!(
            e1,
            Effect::Start {
                job: job(1, 3, [4, 0]),
                offset: 2
            }
        );
        assert_eq!(Rule::NoReservation.truth(&c, &e1), 0.9);
        assert_eq!(CAP.truth(&c, &e1), 1.0);
        c.step(Action::Schedule(1));
        // Job 2 also fits at step 2 (4 + 5 = 9 units): 90% in rows 2..5 breaks the cap there.
        let e2 = effect(&c, Action::Schedule(2));
        assert!(matches!(e2, Effect::Start { offset: 2, .. }));
        assert_eq!(CAP.truth(&c, &e2), 0.5);
    }

    #[test]
    fn bounded_wait_by_hand() {
        let at = |id, arrival, len, res| {
            Job::new(id, arrival, len, res).unwrap_or_else(|e| unreachable!("{e}"))
        };
        let mut c: Cluster<3> = Cluster::new();
        c.submit(at(0, 0, 2, [10, 0])).ok();
        c.submit(at(1, 0, 1, [5, 0])).ok();
        c.step(Action::Schedule(0));
        // Job 1 (arrived at 0) cannot start beside job 0 until step 2.
        c.step(Action::Void);
        c.step(Action::Void);
        assert_eq!(c.now(), 2);
        c.submit(at(2, 2, 1, [5, 0])).ok();
        let slot_of = |id| {
            c.slots()
                .iter()
                .position(|j| j.is_some_and(|j| j.id == id))
                .map(Action::Schedule)
                .unwrap_or(Action::Void)
        };
        let (old, new) = (slot_of(1), slot_of(2));
        // Job 1 has waited 2 steps: with K = 2 it goes before job 2 (arrived at 2) and void.
        let wait2 = Rule::BoundedWait {
            steps: 2,
            max: Permille::ONE,
        };
        assert_eq!(oldest_aged_startable(&c, 2, Permille::ONE), Some(0));
        assert_eq!(wait2.truth(&c, &effect(&c, old)), 1.0);
        assert_eq!(wait2.truth(&c, &effect(&c, new)), 0.0);
        assert_eq!(wait2.truth(&c, &Effect::Idle), 0.0);
        // With K = 3 nobody has waited long enough: every action holds.
        let wait3 = Rule::BoundedWait {
            steps: 3,
            max: Permille::ONE,
        };
        assert_eq!(wait3.truth(&c, &effect(&c, new)), 1.0);
        assert_eq!(wait3.truth(&c, &Effect::Idle), 1.0);
        // Under a cap of 0.4 the 5-unit job may still start: resource 0 is idle, so the lone-job
        // exception applies and it keeps its priority.
        let capped = Rule::BoundedWait {
            steps: 2,
            max: Permille(400),
        };
        assert_eq!(capped.truth(&c, &effect(&c, new)), 0.0);
        assert_eq!(capped.truth(&c, &effect(&c, old)), 1.0);
        assert_eq!(text(wait2), "wait<=2");
        assert_eq!(text(capped), "wait<=2(util<=0.4)");
    }

    fn text(v: impl core::fmt::Display) -> heapless::String<32> {
        use core::fmt::Write;
        let mut s = heapless::String::new();
        write!(s, "{v}").ok();
        s
    }

    #[test]
    fn shorter_first_by_hand() {
        // Slot 0: a 9-unit job of length 5 (fits now); slot 1: length 3, 6 units (fits now);
        // slot 2: length 2, but 10 units of resource 0 after slot 0's job starts.
        let mut c: Cluster<3> = Cluster::new();
        c.submit(job(0, 5, [4, 1])).ok();
        c.submit(job(1, 3, [6, 1])).ok();
        c.submit(job(2, 4, [1, 1])).ok();
        let rule = Rule::ShorterFirst { max: Permille::ONE };
        let holds = |c: &Cluster<3>, a| rule.holds(c, &effect(c, a));
        // All three fit now; the shortest startable is slot 1 (length 3).
        assert_eq!(shortest_startable(&c, Permille::ONE), Some(3));
        assert!(!holds(&c, Action::Schedule(0)));
        assert!(holds(&c, Action::Schedule(1)));
        assert!(!holds(&c, Action::Schedule(2)));
        assert!(holds(&c, Action::Void));
        // Start slot 1 (6 units of resource 0 for steps 0..3): slot 0's job (4 units) still
        // fits now, slot 2's (1 unit, length 4) too; the shortest startable is now length 4.
        c.step(Action::Schedule(1));
        assert_eq!(shortest_startable(&c, Permille::ONE), Some(4));
        assert!(!holds(&c, Action::Schedule(0)));
        assert!(holds(&c, Action::Schedule(2)));
        // Under a cap of 0.6 nothing else may start now (6 + 1 > 6 units), so any job may.
        assert_eq!(shortest_startable(&c, Permille(600)), None);
        let capped = Rule::ShorterFirst { max: Permille(600) };
        assert!(capped.holds(&c, &effect(&c, Action::Schedule(0))));
        assert_eq!(text(capped), "shorter-first(util<=0.6)");
        assert_eq!(text(rule), "shorter-first");
    }

    #[test]
    fn permille_prints_shortest_decimal_and_sets_check_weights() {
        let p = |v| Permille::new(v).map(text);
        assert_eq!(p(800).as_deref(), Some("0.8"));
        assert_eq!(p(805).as_deref(), Some("0.805"));
        assert_eq!(p(50).as_deref(), Some("0.05"));
        assert_eq!(p(1000).as_deref(), Some("1"));
        assert_eq!(p(1001), None);
        let mut set = RuleSet::new();
        assert_eq!(set.push(CAP, f32::NAN), Err(RuleError::BadWeight));
        assert_eq!(set.push(CAP, -1.0), Err(RuleError::BadWeight));
        for _ in 0..MAX_RULES {
            assert_eq!(set.push(Rule::NoReservation, 1.0), Ok(()));
        }
        assert_eq!(
            set.push(CAP, 1.0),
            Err(RuleError::TooMany { max: MAX_RULES })
        );
        let mut set = RuleSet::new();
        set.push(Rule::UtilizationCap { max: Permille(900) }, 1.0)
            .ok();
        set.push(CAP, 1.0).ok();
        assert_eq!(set.tightest_cap(), Some(Permille(800)));
        assert_eq!(text(CAP), "util<=0.8");
    }
}
