//! The scheduler interface shared by every policy: [`Scheduler`] (decide an action),
//! [`Preference`] (state the decision as logits, so a rule projection can reweigh it), their
//! errors, and [`rank_logits`], the logits of a scheduler that ranks actions instead of weighing
//! them.
//!
//! The baselines, the learned policies and the rule projection all build on this module and on
//! nothing of each other, so the core's modules import in one direction only.

use core::fmt;

use crate::cluster::{Action, Cluster};

/// Why a scheduler could not produce an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// A learned policy produced a non-finite value at this output index.
    NonFiniteOutput {
        /// Output (logit) index.
        index: usize,
    },
    /// The rule projection of the policy's decision failed; the [`ProjectionError`] is the
    /// [`source`](core::error::Error::source).
    Projection(ProjectionError),
    /// The policy was built for another number of job slots.
    WrongSlots {
        /// Slots the policy decides for.
        policy: usize,
        /// Slots of the cluster.
        cluster: usize,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::NonFiniteOutput { index } => {
                write!(f, "policy output {index} is not a finite number")
            }
            // The projection error itself is the source, printed after this by error reports.
            PolicyError::Projection(_) => f.write_str("rule projection"),
            PolicyError::WrongSlots { policy, cluster } => write!(
                f,
                "policy decides for {policy} job slots, the cluster has {cluster}"
            ),
        }
    }
}

impl core::error::Error for PolicyError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            PolicyError::Projection(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a rule projection (`crate::projection`) could not be computed. No action is produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectionError {
    /// The logit of allowed action `index` is NaN or infinite.
    NonFiniteLogit {
        /// Action (output) index.
        index: usize,
    },
    /// The policy allows no action at all.
    NoAllowedAction,
    /// The strength `C` is NaN or negative.
    BadStrength,
}

impl fmt::Display for ProjectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProjectionError::NonFiniteLogit { index } => {
                write!(f, "policy output {index} is not a finite number")
            }
            ProjectionError::NoAllowedAction => write!(f, "the policy allows no action"),
            ProjectionError::BadStrength => {
                write!(f, "projection strength C must be a number >= 0 or infinity")
            }
        }
    }
}

impl core::error::Error for ProjectionError {}

impl From<ProjectionError> for PolicyError {
    /// A non-finite logit is the policy's own failure ([`PolicyError::NonFiniteOutput`]); the
    /// other projection errors are wrapped.
    fn from(e: ProjectionError) -> Self {
        match e {
            ProjectionError::NonFiniteLogit { index } => PolicyError::NonFiniteOutput { index },
            other => PolicyError::Projection(other),
        }
    }
}

/// A scheduling policy for a cluster with `M` job slots.
pub trait Scheduler<const M: usize> {
    /// Chooses the next action for the cluster as it is now.
    ///
    /// # Errors
    /// [`PolicyError`] when the policy cannot decide (never for the baselines).
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError>;
}

/// A scheduler whose decision can be projected: it states its action distribution as logits.
pub trait Preference<const M: usize> {
    /// Writes the scheduler's logits and the actions it allows (shape `[M + 1]`, index `M` is
    /// void) for `cluster`. The masked argmax of the logits (lowest index on ties) is the
    /// action [`Scheduler::decide`] would return.
    ///
    /// # Errors
    /// As the scheduler's [`Scheduler::decide`].
    fn preference<const O: usize>(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32; O],
        valid: &mut [bool; O],
    ) -> Result<(), PolicyError>;
}

/// The logit gap between a ranked scheduler's first and second choices, see [`rank_logits`].
pub const RANK_GAP: f32 = 64.0;

/// Logits for a scheduler that ranks actions instead of weighing them: `order` lists action
/// indices best first; the first gets logit 0, the `k`-th (`k >= 1`) gets `-(RANK_GAP + k)`.
/// The distribution is one-hot on the first choice up to `exp(-64) ≈ 1.6e-28`, and what is
/// left of it after a projection is led by the best allowed action in the scheduler's own order.
/// So a shield makes the scheduler take its best rule-abiding choice, and a finite `C`
/// overrides its first choice only when `C * penalty` exceeds about 64. Indices not in `order`
/// keep their logits.
pub fn rank_logits<const O: usize>(order: &[usize], logits: &mut [f32; O]) {
    for (k, &a) in order.iter().enumerate() {
        if let Some(l) = logits.get_mut(a) {
            *l = if k == 0 { 0.0 } else { -(RANK_GAP + k as f32) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::error::Error;

    #[test]
    fn projection_errors_are_the_source_of_policy_errors() {
        let e = PolicyError::from(ProjectionError::NoAllowedAction);
        assert_eq!(e, PolicyError::Projection(ProjectionError::NoAllowedAction));
        let source = e.source().and_then(|s| s.downcast_ref::<ProjectionError>());
        assert_eq!(source, Some(&ProjectionError::NoAllowedAction));
        assert_eq!(
            PolicyError::from(ProjectionError::NonFiniteLogit { index: 2 }),
            PolicyError::NonFiniteOutput { index: 2 }
        );
        assert!(PolicyError::NonFiniteOutput { index: 2 }.source().is_none());
    }

    #[test]
    fn rank_logits_put_the_first_choice_64_above_the_rest() {
        let mut l = [9.0f32; 4];
        rank_logits(&[2, 0, 3], &mut l);
        assert_eq!(l, [-65.0, 9.0, 0.0, -66.0]);
    }
}
