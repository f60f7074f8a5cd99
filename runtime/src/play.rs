//! Playing one episode with run-time settings: the slot count `M` is a const generic in the
//! core, so the choice between 5 and 10 slots is dispatched here, once.

use anyhow::Result;
use whitebox_core::projection::{Projected, ProjectionStats};
use whitebox_core::{
    run, Action, Cluster, EndMode, Episode, Job, Observer, PolicyError, Scheduler, Summary,
};

use crate::models::{Decide, LoadedModel};
use crate::policy::{AnyScheduler, PolicySpec};
use crate::rules::DecisionInfo;
use crate::settings::Slots;

/// Which projected decisions an [`Explanations`] keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Keep {
    /// None: only the counts.
    #[default]
    Counts,
    /// Those the rules changed or that fell back to void.
    Changed,
    /// Every decision.
    All,
}

/// What a projected episode says about its decisions (see [`play_explained`]).
#[derive(Clone, Debug, Default)]
pub struct Explanations {
    /// Which decisions to keep.
    pub keep: Keep,
    /// The decisions kept, in order.
    pub decisions: Vec<DecisionInfo>,
    /// Counts over every decision.
    pub stats: ProjectionStats,
}

/// Plays `jobs` to the end with `policy` on `slots` slots, reporting events to `observer`.
/// A projected policy ([`PolicySpec::Projected`]) decides through its rules.
///
/// # Errors
/// When the jobs are invalid or unsorted (nothing is simulated), or the policy fails.
pub fn play(
    jobs: &[Job],
    slots: Slots,
    end: EndMode,
    policy: &PolicySpec,
    observer: &mut impl Observer,
) -> Result<Summary> {
    play_explained(jobs, slots, end, policy, observer, None)
}

/// As [`play`], and for a projected policy also fills `explain` with its decisions.
///
/// # Errors
/// As [`play`].
pub fn play_explained(
    jobs: &[Job],
    slots: Slots,
    end: EndMode,
    policy: &PolicySpec,
    observer: &mut impl Observer,
    explain: Option<&mut Explanations>,
) -> Result<Summary> {
    if let Some(m) = policy.required_slots().filter(|&m| m != slots.count()) {
        anyhow::bail!(
            "the model decides for {m} job slots, but the cluster has {}",
            slots.count()
        );
    }
    match slots {
        Slots::Five => play_m::<5, 6>(jobs, end, policy, observer, explain),
        Slots::Ten => play_m::<10, 11>(jobs, end, policy, observer, explain),
    }
}

/// A projected scheduler that reports its decisions to an [`Explanations`].
struct Explaining<'a, const O: usize> {
    inner: Projected<AnyScheduler, O>,
    out: Option<&'a mut Explanations>,
}

impl<const M: usize, const O: usize> Scheduler<M> for Explaining<'_, O>
where
    LoadedModel: Decide<M>,
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        let action = self.inner.decide(cluster)?;
        if let (Some(out), Some(d)) = (self.out.as_deref_mut(), self.inner.last()) {
            out.stats = self.inner.stats();
            let kept = match out.keep {
                Keep::Counts => false,
                Keep::Changed => d.changed() || d.fallback_void,
                Keep::All => true,
            };
            if kept {
                let n = out.stats.decisions.saturating_sub(1);
                let info = DecisionInfo::new(self.inner.projection(), n, cluster.now(), d);
                out.decisions.push(info);
            }
        }
        Ok(action)
    }
}

fn play_m<const M: usize, const O: usize>(
    jobs: &[Job],
    end: EndMode,
    policy: &PolicySpec,
    observer: &mut impl Observer,
    explain: Option<&mut Explanations>,
) -> Result<Summary>
where
    LoadedModel: Decide<M>,
{
    // Core errors are `no_std` Display types, not `std::error::Error`, hence `anyhow!`.
    let mut episode: Episode<'_, M> = Episode::new(jobs, end, observer)?;
    let scheduler = policy.scheduler();
    let summary = match policy.projection() {
        Some(p) => {
            let mut s = Explaining::<O> {
                inner: Projected::new(scheduler, p.clone()),
                out: explain,
            };
            run(&mut episode, &mut s, observer)
        }
        None => run(&mut episode, &mut { scheduler }, observer),
    };
    Ok(summary?)
}
