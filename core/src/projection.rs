//! Rule-constraint projection of a policy's action distribution (Hu et al., "Harnessing Deep
//! Neural Networks with Logic Rules", ACL 2016, the closed form of the projected teacher):
//!
//! ```text
//! q(a | s)  ∝  p(a | s) * exp(-C * sum_l lambda_l * (1 - r_l(s, a)))
//! ```
//!
//! computed in logit space, `z'_a = z_a - C * sum_l lambda_l * (1 - r_l(s, a))`, then a masked
//! softmax. `C = 0` leaves the policy unchanged; `C = f32::INFINITY` (the default, a *shield*)
//! removes every action that violates a rule of positive weight and keeps the others' relative
//! probabilities; a large finite `C` approaches the shield. The decision is the projected
//! distribution's mode (the largest projected logit, lowest index on ties), so with `C = 0` it is
//! the policy's own greedy action.
//!
//! Safe failure: a NaN or infinite logit of an allowed action is an error
//! ([`ProjectionError::NonFiniteLogit`]), never an action. When every allowed action is
//! removed (every one violates a rule), the decision falls back to void and
//! [`ProjectedDecision::fallback_void`] says so; void is then reported with probability 1.
//!
//! Any scheduler can be projected through [`Preference`]: a learned [`crate::policy::Policy`]
//! gives its network logits; the baselines, which have no distribution, give a near one-hot one
//! built from their own preference order ([`crate::scheduler::rank_logits`]).

use crate::cluster::{Action, Cluster};
use crate::network::masked_argmax;
use crate::nn::masked_softmax;
use crate::rules::{effect, RuleMask, RuleSet, Verdict, MAX_RULES};
use crate::scheduler::{PolicyError, Preference, ProjectionError, Scheduler};

/// The projection: rules with weights, and the strength `C` (`f32::INFINITY`: a shield).
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    rules: RuleSet,
    c: f32,
}

/// One projected decision over `O = M + 1` actions (index `M` is void).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProjectedDecision<const O: usize> {
    /// The action taken.
    pub action: Action,
    /// The policy's own greedy choice (largest raw logit among allowed actions).
    pub raw_choice: usize,
    /// The policy's probabilities `p(a | s)`, 0 for actions it does not allow.
    pub raw: [f32; O],
    /// The projected probabilities `q(a | s)`; one-hot on void after a fallback.
    pub projected: [f32; O],
    /// `r_l(s, a)` per action and rule (rule `l` at position `l` of the set; 1 past the set).
    pub truth: [[f32; MAX_RULES]; O],
    /// Per action, the rules it violates (hard verdict, whatever their weight).
    pub violated: [RuleMask; O],
    /// The rules that changed the decision: those less true for the raw choice than for the
    /// action taken (0 when the action is the raw choice).
    pub changed_by: RuleMask,
    /// Every allowed action was removed, so the decision fell back to void.
    pub fallback_void: bool,
}

impl<const O: usize> ProjectedDecision<O> {
    /// True when the rules changed the policy's choice.
    pub fn changed(&self) -> bool {
        self.action.index(O.saturating_sub(1)) != self.raw_choice
    }
}

/// The decision of a projection without its probabilities and rule verdicts
/// ([`Projection::choose`]): what a scheduler needs to act and to count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The action taken: [`ProjectedDecision::action`].
    pub action: Action,
    /// The policy's own greedy choice: [`ProjectedDecision::raw_choice`].
    pub raw_choice: usize,
    /// Every allowed action was removed: [`ProjectedDecision::fallback_void`].
    pub fallback_void: bool,
}

impl Choice {
    /// True when the rules changed the policy's choice (`M` job slots).
    pub fn changed(&self, m: usize) -> bool {
        self.action.index(m) != self.raw_choice
    }
}

impl Projection {
    /// A projection of strength `c` (`0`: none, `f32::INFINITY`: shield).
    ///
    /// # Errors
    /// [`ProjectionError::BadStrength`] for a NaN or negative `c`.
    pub fn new(rules: RuleSet, c: f32) -> Result<Projection, ProjectionError> {
        if c.is_nan() || c < 0.0 {
            return Err(ProjectionError::BadStrength);
        }
        Ok(Projection { rules, c })
    }

    /// The shield: `C = infinity`.
    pub fn shield(rules: RuleSet) -> Projection {
        Projection {
            rules,
            c: f32::INFINITY,
        }
    }

    /// The rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The strength `C`.
    pub fn c(&self) -> f32 {
        self.c
    }

    /// Projects the policy given by `logits` over the actions with `valid` set (shape
    /// `[M + 1]`, index `M` is void; other entries are ignored, whatever their value) in
    /// `cluster`.
    ///
    /// # Errors
    /// [`ProjectionError::NonFiniteLogit`] when an allowed logit is NaN or infinite,
    /// [`ProjectionError::NoAllowedAction`] when no action is allowed.
    pub fn project<const M: usize, const O: usize>(
        &self,
        logits: &[f32; O],
        valid: &[bool; O],
        cluster: &Cluster<M>,
    ) -> Result<ProjectedDecision<O>, ProjectionError> {
        const { assert!(O == M + 1, "a policy has M + 1 outputs") };
        let raw_choice = match masked_argmax(logits, valid) {
            Ok(Some(k)) => k,
            Ok(None) => return Err(ProjectionError::NoAllowedAction),
            Err(index) => return Err(ProjectionError::NonFiniteLogit { index }),
        };
        let mut raw = [0.0; O];
        masked_softmax(logits, valid, &mut raw);

        let mut truth = [[1.0f32; MAX_RULES]; O];
        let mut violated = [0 as RuleMask; O];
        let mut z = *logits;
        let mut keep = *valid;
        for (k, ((t, v), (zk, kk))) in truth
            .iter_mut()
            .zip(violated.iter_mut())
            .zip(z.iter_mut().zip(keep.iter_mut()))
            .enumerate()
        {
            let e = effect(cluster, Action::from_index(k, M).unwrap_or(Action::Void));
            let mut penalty = 0.0f32;
            for (l, ((rule, lambda), tl)) in self.rules.iter().zip(t.iter_mut()).enumerate() {
                *tl = rule.truth(cluster, &e);
                if *tl < 1.0 {
                    *v |= 1 << l;
                }
                penalty += lambda * (1.0 - *tl);
            }
            // `C * 0` would be NaN for the shield; an unpenalised action keeps its logit.
            if *kk && penalty > 0.0 {
                *zk -= self.c * penalty;
                // The shield (or an overflow) leaves -infinity: probability 0, removed.
                *kk = zk.is_finite();
            }
        }

        let mut projected = [0.0; O];
        let (chosen, fallback_void) = match masked_argmax(&z, &keep) {
            Ok(Some(k)) => {
                masked_softmax(&z, &keep, &mut projected);
                (k, false)
            }
            // Every allowed action was removed (finite values are all that is kept).
            _ => {
                if let Some(p) = projected.get_mut(M) {
                    *p = 1.0;
                }
                (M, true)
            }
        };
        let changed_by = match (truth.get(raw_choice), truth.get(chosen)) {
            (Some(tr), Some(tc)) if raw_choice != chosen => tr
                .iter()
                .zip(tc.iter())
                .enumerate()
                .filter(|(_, (a, b))| a < b)
                .fold(0, |m, (l, _)| m | (1 << l)),
            _ => 0,
        };
        Ok(ProjectedDecision {
            action: Action::from_index(chosen, M).unwrap_or(Action::Void),
            raw_choice,
            raw,
            projected,
            truth,
            violated,
            changed_by,
            fallback_void,
        })
    }
}

impl Projection {
    /// The decision of [`Projection::project`] alone, bit for bit the same `action`,
    /// `raw_choice` and `fallback_void`, at a fraction of the cost: no softmax (the decision is
    /// the projected logits' argmax, which the softmax does not change), rule verdicts only for
    /// the actions `valid` allows (a masked action can never be chosen), and in integers
    /// ([`Rule::verdict`](crate::rules::Rule::verdict)); a soft truth is computed only for a
    /// rule an allowed action violates.
    ///
    /// With the shield (`C` infinite) an allowed action's projected logit is its own when its
    /// penalty is 0 and `-inf` (removed) otherwise, so the decision is the first action, in the
    /// order of decreasing logit and increasing index (the argmax's tie-break), whose penalty is
    /// 0: the actions are checked in that order and the first one kept is taken; usually that
    /// is the raw choice, and only its verdicts are computed. With a finite `C` every allowed
    /// action's projected logit is computed as `project` does and the argmax taken.
    ///
    /// # Errors
    /// As [`Projection::project`].
    pub fn choose<const M: usize, const O: usize>(
        &self,
        logits: &[f32; O],
        valid: &[bool; O],
        cluster: &Cluster<M>,
    ) -> Result<Choice, ProjectionError> {
        const { assert!(O == M + 1, "a policy has M + 1 outputs") };
        let raw_choice = match masked_argmax(logits, valid) {
            Ok(Some(k)) => k,
            Ok(None) => return Err(ProjectionError::NoAllowedAction),
            Err(index) => return Err(ProjectionError::NonFiniteLogit { index }),
        };
        let chosen = if self.c == f32::INFINITY {
            self.first_kept(raw_choice, logits, valid, cluster)
        } else {
            let mut z = *logits;
            let mut keep = *valid;
            for (k, (zk, kk)) in z.iter_mut().zip(keep.iter_mut()).enumerate() {
                if !*kk {
                    continue;
                }
                let penalty = self.penalty::<M>(cluster, k, false);
                // As `project`: an unpenalised action keeps its logit.
                if penalty > 0.0 {
                    *zk -= self.c * penalty;
                    *kk = zk.is_finite();
                }
            }
            // The kept logits are finite, so the argmax cannot fail.
            masked_argmax(&z, &keep).ok().flatten()
        };
        let (chosen, fallback_void) = chosen.map_or((M, true), |k| (k, false));
        Ok(Choice {
            action: Action::from_index(chosen, M).unwrap_or(Action::Void),
            raw_choice,
            fallback_void,
        })
    }

    /// `sum_l lambda_l * (1 - r_l(s, a))` for action `k`, in rule order as
    /// [`Projection::project`] sums it (a rule that holds adds `lambda * 0 = +0`, which changes
    /// no sum, so it is skipped). With `any`, stops at the first positive term: the shield
    /// only asks whether the penalty is positive.
    fn penalty<const M: usize>(&self, cluster: &Cluster<M>, k: usize, any: bool) -> f32 {
        let e = effect(cluster, Action::from_index(k, M).unwrap_or(Action::Void));
        let mut penalty = 0.0f32;
        for (rule, lambda) in self.rules.iter() {
            let v: Verdict = rule.verdict(cluster, &e);
            if v.violated() {
                penalty += lambda * (1.0 - v.truth());
                if any && penalty > 0.0 {
                    break;
                }
            }
        }
        penalty
    }

    /// The shield's decision: the allowed action with the largest logit (lowest index on
    /// ties) whose penalty is 0, starting from the raw choice; `None` when there is none.
    fn first_kept<const M: usize, const O: usize>(
        &self,
        raw_choice: usize,
        logits: &[f32; O],
        valid: &[bool; O],
        cluster: &Cluster<M>,
    ) -> Option<usize> {
        let mut left = *valid;
        let mut next = Some(raw_choice);
        while let Some(k) = next {
            if self.penalty::<M>(cluster, k, true) <= 0.0 {
                return Some(k);
            }
            if let Some(l) = left.get_mut(k) {
                *l = false;
            }
            // The allowed logits are finite (checked by the raw argmax).
            next = masked_argmax(logits, &left).ok().flatten();
        }
        None
    }
}

/// Counts over the decisions of a [`Projected`] scheduler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProjectionStats {
    /// Decisions made.
    pub decisions: u32,
    /// Decisions the rules changed.
    pub changed: u32,
    /// Decisions that fell back to void because every allowed action violated a rule.
    pub fallbacks: u32,
}

/// A scheduler whose every decision goes through a [`Projection`]. `O = M + 1`. `LEAN`
/// ([`Projected::lean`]): decide through [`Projection::choose`] and keep no
/// [`ProjectedDecision`]; a type parameter, so a lean scheduler does not link
/// [`Projection::project`] (its softmax and `libm::expf`).
#[derive(Clone, Debug)]
pub struct Projected<S, const O: usize, const LEAN: bool = false> {
    inner: S,
    projection: Projection,
    last: Option<ProjectedDecision<O>>,
    stats: ProjectionStats,
}

impl<S, const O: usize> Projected<S, O> {
    /// `inner` projected by `projection`, keeping every decision's probabilities and rule
    /// verdicts ([`Projected::last`]).
    pub fn new(inner: S, projection: Projection) -> Self {
        Projected {
            inner,
            projection,
            last: None,
            stats: ProjectionStats::default(),
        }
    }
}

impl<S, const O: usize> Projected<S, O, true> {
    /// `inner` projected by `projection`, deciding through [`Projection::choose`]: the same
    /// actions and counts as [`Projected::new`] for less work, but no decision details
    /// ([`Projected::last`] stays `None`). The decision path of a device.
    pub fn lean(inner: S, projection: Projection) -> Self {
        Projected {
            inner,
            projection,
            last: None,
            stats: ProjectionStats::default(),
        }
    }
}

impl<S, const O: usize, const LEAN: bool> Projected<S, O, LEAN> {
    /// The last decision with its probabilities and rule verdicts (`None` for a
    /// [`Projected::lean`] scheduler).
    pub fn last(&self) -> Option<&ProjectedDecision<O>> {
        self.last.as_ref()
    }

    /// Counts over every decision so far.
    pub fn stats(&self) -> ProjectionStats {
        self.stats
    }

    /// The projection.
    pub fn projection(&self) -> &Projection {
        &self.projection
    }
}

impl<S: Preference<M>, const M: usize, const O: usize, const LEAN: bool> Scheduler<M>
    for Projected<S, O, LEAN>
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        let (mut logits, mut valid) = ([0.0; O], [false; O]);
        self.inner.preference(cluster, &mut logits, &mut valid)?;
        // A non-finite logit is the policy's error, as it would be without the projection.
        let (action, changed, fallback) = if LEAN {
            let c = self.projection.choose(&logits, &valid, cluster)?;
            (c.action, c.changed(M), c.fallback_void)
        } else {
            let d = self.projection.project(&logits, &valid, cluster)?;
            self.last = Some(d);
            (d.action, d.changed(), d.fallback_void)
        };
        let s = &mut self.stats;
        s.decisions = s.decisions.saturating_add(1);
        s.changed = s.changed.saturating_add(u32::from(changed));
        s.fallbacks = s.fallbacks.saturating_add(u32::from(fallback));
        Ok(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Permille, Rule};
    use crate::{Job, Sjf};

    fn job(id: u32, len: u32, res: [u32; 2]) -> Job {
        Job::new(id, 0, len, res).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn cap() -> RuleSet {
        let mut set = RuleSet::new();
        set.push(
            Rule::UtilizationCap {
                max: Permille::new(800).unwrap_or(Permille::ONE),
            },
            1.0,
        )
        .ok();
        set
    }

    /// 6 of 10 units used; slot 1 holds a 3-unit job (r = 0.5), slot 2 a 2-unit job (r = 1).
    fn cluster() -> Cluster<3> {
        let mut c: Cluster<3> = Cluster::new();
        c.submit(job(0, 5, [6, 1])).ok();
        c.submit(job(1, 2, [3, 0])).ok();
        c.submit(job(2, 2, [2, 0])).ok();
        c.step(Action::Schedule(0));
        c
    }

    #[test]
    fn soft_projection_by_hand() {
        let c = cluster();
        let logits = [0.0, 2.0, 1.0, 0.0];
        let valid = [false, true, true, true];
        // C = 2, lambda = 1: slot 1's logit drops by 2 * 1 * (1 - 0.5) = 1 to 1.0.
        let p = Projection::new(cap(), 2.0).unwrap_or_else(|e| unreachable!("{e}"));
        let d = p
            .project(&logits, &valid, &c)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(d.raw_choice, 1);
        // Slots 1 and 2 tie at logit 1; the lower index wins: the decision is unchanged.
        assert_eq!(d.action, Action::Schedule(1));
        // q = [0, e, e, 1] / (2e + 1).
        let e = core::f32::consts::E;
        assert!((d.projected[1] - e / (2.0 * e + 1.0)).abs() < 1e-6);
        assert!((d.projected[3] - 1.0 / (2.0 * e + 1.0)).abs() < 1e-6);
        assert_eq!(d.truth[1][0], 0.5);
        assert_eq!(d.violated, [0, 1, 0, 0]);
        assert_eq!((d.changed_by, d.fallback_void), (0, false));
        // C = 0 is the identity.
        let p = Projection::new(cap(), 0.0).unwrap_or_else(|e| unreachable!("{e}"));
        let d0 = p
            .project(&logits, &valid, &c)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(d0.projected, d0.raw);
        // The shield removes slot 1: slot 2 wins, changed by rule 0.
        let d = Projection::shield(cap())
            .project(&logits, &valid, &c)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(d.action, Action::Schedule(2));
        assert_eq!(d.projected[1], 0.0);
        assert_eq!((d.changed_by, d.changed()), (1, true));
    }

    #[test]
    fn non_finite_logits_are_errors_and_empty_projections_fall_back_to_void() {
        let c = cluster();
        let shield = Projection::shield(cap());
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let r = shield.project(&[0.0, bad, 1.0, 0.0], &[false, true, true, true], &c);
            assert_eq!(r, Err(ProjectionError::NonFiniteLogit { index: 1 }));
        }
        // Masked entries are ignored whatever they hold.
        assert!(shield
            .project(&[f32::NAN, 0.0, 1.0, 0.0], &[false, true, true, true], &c)
            .is_ok());
        assert_eq!(
            shield.project(&[0.0; 4], &[false; 4], &c),
            Err(ProjectionError::NoAllowedAction)
        );
        // Only slot 1 allowed, and it breaks the cap: void, and it says so.
        let d = shield
            .project(&[0.0; 4], &[false, true, false, false], &c)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((d.action, d.fallback_void), (Action::Void, true));
        assert_eq!(d.projected, [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(d.changed_by, 1);
        assert_eq!(
            Projection::new(cap(), f32::NAN),
            Err(ProjectionError::BadStrength)
        );
        assert_eq!(
            Projection::new(cap(), -1.0),
            Err(ProjectionError::BadStrength)
        );
    }

    #[test]
    fn projected_sjf_takes_its_best_rule_abiding_job() {
        let mut c: Cluster<3> = Cluster::new();
        c.submit(job(0, 5, [6, 1])).ok();
        c.submit(job(1, 1, [3, 0])).ok();
        c.submit(job(2, 2, [2, 0])).ok();
        c.step(Action::Schedule(0));
        // SJF picks the 1-step job (slot 1), which breaks the cap; projected, the 2-step one.
        assert_eq!(Sjf.decide(&c), Ok(Action::Schedule(1)));
        let mut p: Projected<Sjf, 4> = Projected::new(Sjf, Projection::shield(cap()));
        assert_eq!(p.decide(&c), Ok(Action::Schedule(2)));
        assert!(p
            .last()
            .is_some_and(|d| d.raw[1] == 1.0 && d.changed_by == 1));
        assert_eq!(
            p.stats(),
            ProjectionStats {
                decisions: 1,
                changed: 1,
                fallbacks: 0
            }
        );
        // Without rules the projected scheduler is SJF.
        let mut p: Projected<Sjf, 4> = Projected::new(Sjf, Projection::shield(RuleSet::new()));
        assert_eq!(p.decide(&c), Ok(Action::Schedule(1)));
    }
}
