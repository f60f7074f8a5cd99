//! For users' own property tests (feature `testing`): proptest strategies for job sequences in a
//! workload's support, and a check of a policy against SJF with a bound.
//!
//! ```no_run
//! use proptest::prelude::*;
//! use whitebox_core::workload::Workload;
//! use whitebox_runtime::policy::{PolicyName, PolicySpec};
//! use whitebox_studies::fuzz::Support;
//! use whitebox_studies::testing::{jobs_in_support, SjfBound};
//!
//! proptest! {
//!     #[test]
//!     fn my_model_is_never_far_behind_sjf(
//!         jobs in jobs_in_support(&Support::new(Workload::DeepRm, 0.7, 50, None))
//!     ) {
//!         let model = PolicyName::parse("model:fixtures/models/default.model")
//!             .and_then(|p| p.with(0.5, 0))
//!             .unwrap();
//!         let bound = SjfBound::new(6.0, 10.0).unwrap();
//!         if let Err(e) = bound.check(&model, &jobs) {
//!             return Err(TestCaseError::fail(e));
//!         }
//!     }
//! }
//! ```
//!
//! `tests/adversarial.rs` uses both for the shipped models (docs/reliability.md).

use anyhow::{bail, Result};
use proptest::prelude::*;
use whitebox_core::spec::NUM_RES;
use whitebox_core::{EndMode, Job};
use whitebox_runtime::play::play;
use whitebox_runtime::policy::PolicySpec;
use whitebox_runtime::settings::{Slots, TIME_CAP};

use crate::fuzz::Support;

/// Job sequences `support` can produce (`Support::contains` holds for every one): 0 to
/// `support.max_jobs` jobs at distinct arrival steps in `1..simu_len`, ids in arrival order,
/// each length one the generator draws (`Support::lengths`), one resource (either) demanding
/// units in the dominant range and the others in the other range. The arrival process only
/// decides how likely a sequence is, not whether it can occur, so it is not modelled. Shrinks
/// towards fewer, earlier, shorter jobs.
pub fn jobs_in_support(support: &Support) -> impl Strategy<Value = Vec<Job>> {
    let steps: Vec<u32> = (1..support.simu_len).collect();
    let lengths = support.lengths();
    let dist = support.dist;
    let range = |r: (u8, u8)| r.0.min(r.1)..=r.0.max(r.1);
    let job = (
        prop::sample::select(lengths),
        0..NUM_RES,
        range(dist.dominant),
        prop::collection::vec(range(dist.other), NUM_RES),
    );
    prop::sample::subsequence(steps, 0..=support.max_jobs).prop_flat_map(move |arrivals| {
        let n = arrivals.len();
        prop::collection::vec(job.clone(), n).prop_map(move |specs| {
            arrivals
                .iter()
                .zip(specs)
                .enumerate()
                .map(|(id, (&arrival, (len, dominant, units, others)))| {
                    let mut res = [0u8; NUM_RES];
                    for (r, (slot, other)) in res.iter_mut().zip(&others).enumerate() {
                        *slot = if r == dominant { units } else { *other };
                    }
                    Job {
                        id: id as u32,
                        arrival,
                        len,
                        res,
                    }
                })
                .collect()
        })
    })
}

/// `mean slowdown(policy) <= ratio * mean slowdown(SJF) + additive` on one job sequence, all
/// jobs run to completion (all-done, time cap `TIME_CAP` steps), 10 job slots; SJF runs
/// unprojected, so compare a projected policy with a bound that allows for its rules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SjfBound {
    ratio: f64,
    additive: f64,
}

impl SjfBound {
    /// A bound with `ratio >= 1` and `additive >= 0` (slowdown units, per job on average).
    ///
    /// # Errors
    /// A parameter out of range or not finite, naming it, its value and the range.
    pub fn new(ratio: f64, additive: f64) -> Result<SjfBound> {
        if !(ratio.is_finite() && ratio >= 1.0) {
            bail!("SjfBound ratio {ratio} is outside [1, inf) (finite)");
        }
        if !(additive.is_finite() && additive >= 0.0) {
            bail!("SjfBound additive {additive} is outside [0, inf) (finite)");
        }
        Ok(SjfBound { ratio, additive })
    }

    /// Plays `policy` and SJF on `jobs` and checks the bound. A sequence where no job starts
    /// (empty, or nothing fits) passes: both means are undefined.
    ///
    /// # Errors
    /// The violation with both means and the sequence's size, a run cut at the time cap, or an
    /// error playing either policy.
    pub fn check(&self, policy: &PolicySpec, jobs: &[Job]) -> Result<()> {
        let end = EndMode::AllDone { time_cap: TIME_CAP };
        let run = |p: &PolicySpec| play(jobs, Slots::Ten, end, p, &mut ());
        let (p, s) = (run(policy)?, run(&PolicySpec::Sjf)?);
        if p.truncated || s.truncated {
            bail!(
                "a run of {} jobs reached the time cap {TIME_CAP}",
                jobs.len()
            );
        }
        match (p.mean_slowdown, s.mean_slowdown) {
            (Some(pm), Some(sm)) if pm > self.ratio * sm + self.additive => bail!(
                "mean slowdown {pm} > {} * SJF's {sm} + {} on {} jobs",
                self.ratio,
                self.additive,
                jobs.len()
            ),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::{Config, TestRunner};
    use whitebox_core::workload::Workload;

    #[test]
    fn every_generated_sequence_is_in_the_support() {
        for workload in [Workload::DeepRm, Workload::WideDemands, Workload::LongJobs] {
            let support = Support::new(workload, 0.7, 30, Some(12));
            let mut runner = TestRunner::new(Config::with_cases(64));
            runner
                .run(&jobs_in_support(&support), |jobs| {
                    prop_assert!(jobs.len() <= 12);
                    prop_assert!(support.contains(&jobs), "{jobs:?}");
                    Ok(())
                })
                .unwrap();
        }
    }

    #[test]
    fn the_bound_holds_or_breaks_as_computed_by_hand() {
        // Job 0 holds all 10 units of resource 0 for steps 1-3; jobs 1 (len 10) and 2 (len 1)
        // then wait for it and cannot run together (6 + 6 > 10). SJF starts job 2 at step 4
        // and job 1 at step 5: slowdowns 1, (15 - 2) / 10, (5 - 3) / 1, mean 4.3 / 3. Packer
        // (equal alignment, first slot first) starts job 1 at 4 and job 2 at 14: 1, 1.2, 12,
        // mean 14.2 / 3, a ratio of 142 / 43 = 3.302.
        let job = |id, arrival, len, res| Job {
            id,
            arrival,
            len,
            res,
        };
        let jobs = [
            job(0, 1, 3, [10, 1]),
            job(1, 2, 10, [6, 1]),
            job(2, 3, 1, [6, 1]),
        ];
        SjfBound::new(1.0, 0.0)
            .unwrap()
            .check(&PolicySpec::Sjf, &jobs)
            .unwrap();
        let err = SjfBound::new(3.3, 0.0)
            .unwrap()
            .check(&PolicySpec::Packer, &jobs)
            .unwrap_err();
        assert!(err.to_string().contains("4.733"), "{err}");
        SjfBound::new(3.31, 0.0)
            .unwrap()
            .check(&PolicySpec::Packer, &jobs)
            .unwrap();
        SjfBound::new(1.0, 3.31)
            .unwrap()
            .check(&PolicySpec::Packer, &jobs)
            .unwrap();
        assert!(SjfBound::new(0.9, 0.0).is_err());
        assert!(SjfBound::new(1.0, f64::NAN).is_err());
    }
}
