//! What a sequence scores: played with the policy under test and with SJF, compared under an
//! [`Objective`].

use anyhow::Result;
use serde::{Deserialize, Serialize};
use whitebox_core::{EndMode, Job};
use whitebox_runtime::play::play;
use whitebox_runtime::policy::PolicySpec;
use whitebox_runtime::settings::Slots;

use super::support::Support;

/// What is maximized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// `mean slowdown(policy) - mean slowdown(SJF)`.
    Gap,
    /// `mean slowdown(policy) / mean slowdown(SJF)`.
    Ratio,
}

impl Objective {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Gap => "gap",
            Objective::Ratio => "ratio",
        }
    }

    /// The objective's own value (the gap, or the ratio) for an excess of [`Score::excess`]:
    /// what reports print, so a "ratio" is `policy / SJF`, never the excess `ratio - 1`.
    pub fn value(self, excess: f64) -> f64 {
        match self {
            Objective::Gap => excess,
            Objective::Ratio => excess + 1.0,
        }
    }
}

/// A sequence played by the policy and by SJF.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The policy's mean slowdown.
    pub policy_mean_slowdown: f64,
    /// SJF's mean slowdown.
    pub sjf_mean_slowdown: f64,
    /// `policy - sjf`.
    pub gap: f64,
    /// `policy / sjf`.
    pub ratio: f64,
}

impl Score {
    /// How far the policy is worse than SJF under `objective`: the gap, or the ratio minus 1.
    /// Positive exactly when the policy is worse.
    pub fn excess(&self, objective: Objective) -> f64 {
        match objective {
            Objective::Gap => self.gap,
            Objective::Ratio => self.ratio - 1.0,
        }
    }
}

/// What the search needs to evaluate a sequence.
#[derive(Clone, Debug)]
pub struct Target {
    /// The policy under test.
    pub policy: PolicySpec,
    /// Job slots.
    pub slots: Slots,
    /// Time cap of the all-done episodes, in steps.
    pub time_cap: u32,
    /// The sequences allowed.
    pub support: Support,
    /// What is maximized.
    pub objective: Objective,
    /// Sequences whose log-likelihood is below this are not scored (`None`: no bound).
    pub min_log_likelihood: Option<f64>,
    /// The operator rules `policy` is projected onto, if any (for replaying fixtures).
    pub rules: Option<whitebox_core::Projection>,
    /// The guard of `policy`, if any (for replaying fixtures).
    pub guard: Option<whitebox_runtime::guard::GuardSettings>,
}

/// Plays `jobs` (ids equal to positions) with the policy and SJF. `None` when either episode
/// is truncated or allocates nothing.
///
/// # Errors
/// When a policy fails or the jobs are invalid.
pub fn evaluate(target: &Target, jobs: &[Job]) -> Result<Option<Score>> {
    let end = EndMode::AllDone {
        time_cap: target.time_cap,
    };
    let p = play(jobs, target.slots, end, &target.policy, &mut ())?;
    let s = play(jobs, target.slots, end, &PolicySpec::Sjf, &mut ())?;
    if p.truncated || s.truncated {
        return Ok(None);
    }
    let (Some(pm), Some(sm)) = (p.mean_slowdown, s.mean_slowdown) else {
        return Ok(None);
    };
    Ok(Some(Score {
        policy_mean_slowdown: pm,
        sjf_mean_slowdown: sm,
        gap: pm - sm,
        ratio: pm / sm,
    }))
}

/// Evaluates `jobs`, applying the plausibility bound.
pub(super) fn score_of(target: &Target, jobs: &[Job]) -> Result<Option<Score>> {
    if let (Some(min), Some(ll)) = (
        target.min_log_likelihood,
        target.support.log_likelihood(jobs),
    ) {
        if ll < min {
            return Ok(None);
        }
    }
    evaluate(target, jobs)
}
