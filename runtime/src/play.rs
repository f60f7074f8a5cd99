//! Playing one episode with run-time settings: the slot count `M` is a const generic in the
//! core, so the choice between 5 and 10 slots is dispatched here, once.

use anyhow::{anyhow, Result};
use serde::{Deserialize, Serialize};
use whitebox_core::guard::{GuardStats, NamedFallback};
use whitebox_core::projection::{Projected, ProjectionStats};
use whitebox_core::spec::INV_LEN_SCALE;
use whitebox_core::{
    run, Action, Cluster, EndMode, Episode, Guard, Handover, Job, Leader, Observer, PolicyError,
    Scheduler, Sjf, Summary,
};

use crate::guard::{GuardReportSettings, GuardSettings};
use crate::models::tree::LoadedTree;
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

/// What a projected or guarded episode says about its decisions (see [`play_explained`]).
#[derive(Clone, Debug, Default)]
pub struct Explanations {
    /// Which decisions to keep.
    pub keep: Keep,
    /// The decisions kept, in order.
    pub decisions: Vec<DecisionInfo>,
    /// Counts over every decision.
    pub stats: ProjectionStats,
    /// For a guarded policy ([`PolicySpec::Guarded`]): what the guard did.
    pub guard: Option<GuardOutcome>,
}

/// A charge scaled by `INV_LEN_SCALE` in slowdown units.
fn slowdown_units(scaled: u64) -> f64 {
    scaled as f64 / INV_LEN_SCALE as f64
}

/// One hand-over of a guarded run, as reports show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HandoverReport {
    /// Time step from which `to` decides.
    pub step: u32,
    /// `learned` or `sjf` (the fallback, under the same rules if any).
    pub to: &'static str,
    /// [`whitebox_core::guard::HandoverReason::name`]: `start`, `renewal-over-budget`, `drain-over-budget`, ...
    /// (`docs/guard.md`).
    pub reason: &'static str,
    /// The guarded schedule's charge over steps `0..=step`, in slowdown units.
    pub real_cost: f64,
    /// SJF's charge over the same steps on the same arrivals, in slowdown units.
    pub sjf_cost: f64,
}

impl From<&Handover> for HandoverReport {
    fn from(h: &Handover) -> Self {
        HandoverReport {
            step: h.step,
            to: match h.to {
                Leader::Learned => "learned",
                Leader::Fallback => "sjf",
            },
            reason: h.reason.name(),
            real_cost: slowdown_units(h.real_cost),
            sjf_cost: slowdown_units(h.sjf_cost),
        }
    }
}

/// What the guard of a guarded episode did: its settings, counters, the final costs and every
/// hand-over (the first, at step 0, included). Costs are total charges in slowdown units (the sum
/// over steps of `1/len` over the jobs in the system; `docs/guard.md`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GuardOutcome {
    /// Mode, `eps` and `c`.
    pub settings: GuardReportSettings,
    /// Time steps seen.
    pub steps: u32,
    /// Time steps the learned policy was in charge of.
    pub learned_steps: u32,
    /// Renewals: steps at whose start the real cluster and the shadow were in the same state.
    pub renewals: u32,
    /// Hand-overs after the start.
    pub handovers: u32,
    /// Lookahead mode: decisions whose learned choice was replaced by SJF's.
    pub overrides: u32,
    /// Renewal mode: the largest loss against SJF within one round led by the learned policy
    /// (the theorem's `L`), in slowdown units.
    pub worst_round_loss: f64,
    /// The guarded schedule's total charge `R`, in slowdown units.
    pub real_charge: f64,
    /// SJF's total charge on the same sequence as the guard accounts it, in slowdown units.
    pub sjf_charge: f64,
    /// Whether `real_charge <= (1 + eps) sjf_charge + c` at the end (the budget test without
    /// the theorem's `L`).
    pub within_budget: bool,
    /// Every hand-over, in order.
    pub handover_list: Vec<HandoverReport>,
    /// The exact values (charges scaled by `INV_LEN_SCALE`), for checks.
    #[serde(skip)]
    pub exact: GuardExact,
}

/// The exact counters of a guarded run, charges scaled by `INV_LEN_SCALE`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GuardExact {
    /// The core's counters.
    pub stats: GuardStats,
    /// The guarded schedule's total charge.
    pub real_cost: u64,
    /// SJF's total charge as the guard accounts it.
    pub sjf_cost: u64,
    /// Every hand-over, as the core reports it.
    pub handovers: Vec<Handover>,
    /// The time steps at which a renewal happened, in order.
    pub renewal_steps: Vec<u32>,
}

/// The counters of one guarded episode that [`GuardTotals`] sums: small enough to store per job
/// set (in an evaluation shard's file) and to read back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardCounts {
    /// Time steps seen.
    pub steps: u32,
    /// Time steps the learned policy was in charge of.
    pub learned_steps: u32,
    /// Hand-overs after the start.
    pub handovers: u32,
    /// Renewals.
    pub renewals: u32,
    /// Whether the final charge is within `(1 + eps) * SJF + c`.
    pub within_budget: bool,
}

impl GuardOutcome {
    /// The counters [`GuardTotals`] sums.
    pub fn counts(&self) -> GuardCounts {
        GuardCounts {
            steps: self.steps,
            learned_steps: self.learned_steps,
            handovers: self.handovers,
            renewals: self.renewals,
            within_budget: self.within_budget,
        }
    }

    /// The learned policy's share of time steps, in `[0, 1]` (`None` for no step).
    pub fn learned_share(&self) -> Option<f64> {
        (self.steps > 0).then(|| f64::from(self.learned_steps) / f64::from(self.steps))
    }
}

/// A guard's counters summed over several episodes (job sets or job files), as report rows show
/// them. Sums are `u64`, so no count over many episodes can overflow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GuardTotals {
    /// Episodes added.
    pub episodes: u64,
    /// Time steps seen.
    pub steps: u64,
    /// Time steps the learned policy was in charge of.
    pub learned_steps: u64,
    /// Hand-overs after the start.
    pub handovers: u64,
    /// Renewals.
    pub renewals: u64,
    /// Episodes whose final charge is not within `(1 + eps) * SJF + c`
    /// ([`GuardOutcome::within_budget`] false).
    pub over_budget: u64,
}

impl GuardTotals {
    /// Adds one episode's outcome.
    pub fn add(&mut self, g: &GuardOutcome) {
        self.add_counts(&g.counts());
    }

    /// Adds one episode's counters.
    pub fn add_counts(&mut self, g: &GuardCounts) {
        self.episodes += 1;
        self.steps += u64::from(g.steps);
        self.learned_steps += u64::from(g.learned_steps);
        self.handovers += u64::from(g.handovers);
        self.renewals += u64::from(g.renewals);
        self.over_budget += u64::from(!g.within_budget);
    }

    /// The learned policy's share of the time steps, pooled over episodes, in `[0, 1]`
    /// (`None` for no step).
    pub fn learned_share(&self) -> Option<f64> {
        (self.steps > 0).then(|| self.learned_steps as f64 / self.steps as f64)
    }
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

/// As [`play`], and for a projected policy also fills `explain` with its decisions; for a
/// guarded policy it sets `explain.guard` to what the guard did.
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
struct Explaining<'a, const O: usize, const LEAN: bool> {
    inner: Projected<AnyScheduler, O, LEAN>,
    out: Option<&'a mut Explanations>,
}

impl<const M: usize, const O: usize, const LEAN: bool> Scheduler<M> for Explaining<'_, O, LEAN>
where
    LoadedModel: Decide<M>,
    LoadedTree: Decide<M>,
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        let action = self.inner.decide(cluster)?;
        if let Some(out) = self.out.as_deref_mut() {
            out.stats = self.inner.stats();
        }
        // A lean projection keeps no details (only when none are asked for).
        if let (Some(out), Some(d)) = (self.out.as_deref_mut(), self.inner.last()) {
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

/// A scheduler as the guard holds it: plain, or projected onto rules.
enum Part<const O: usize> {
    Plain(AnyScheduler),
    Projected(Box<Projected<AnyScheduler, O, true>>),
}

impl<const M: usize, const O: usize> Scheduler<M> for Part<O>
where
    LoadedModel: Decide<M>,
    LoadedTree: Decide<M>,
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        match self {
            Part::Plain(s) => s.decide(cluster),
            Part::Projected(s) => s.decide(cluster),
        }
    }
}

/// A guard that notes the time steps of its renewals.
struct Noting<'a, const M: usize, const O: usize> {
    guard: Guard<'a, Part<O>, Part<O>, M, NamedFallback<O>>,
    renewal_steps: Vec<u32>,
    handovers: Vec<Handover>,
}

impl<const M: usize, const O: usize> Noting<'_, M, O>
where
    LoadedModel: Decide<M>,
    LoadedTree: Decide<M>,
{
    fn note(&mut self, cluster: &Cluster<M>, renewals: u32) {
        if self.guard.stats().renewals > renewals {
            self.renewal_steps.push(cluster.now());
        }
        if let Some(h) = self.guard.last_handover() {
            if self.handovers.last() != Some(&h) {
                self.handovers.push(h);
            }
        }
    }
}

impl<const M: usize, const O: usize> Scheduler<M> for Noting<'_, M, O>
where
    LoadedModel: Decide<M>,
    LoadedTree: Decide<M>,
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        let renewals = self.guard.stats().renewals;
        let action = self.guard.decide(cluster)?;
        self.note(cluster, renewals);
        Ok(action)
    }
}

/// Plays a guarded policy: `base` is the learned policy, possibly projected; the fallback is SJF
/// under the same projection, and the real cluster's fallback decisions are made by
/// `settings.fallback` under it too.
fn play_guarded<const M: usize, const O: usize>(
    episode: &mut Episode<'_, M>,
    jobs: &[Job],
    end: EndMode,
    base: &PolicySpec,
    settings: &GuardSettings,
    observer: &mut impl Observer,
) -> Result<(Summary, GuardOutcome)>
where
    LoadedModel: Decide<M>,
    LoadedTree: Decide<M>,
{
    let part = |s: AnyScheduler| match base.projection() {
        // The guard needs the parts' actions only, not their decision details.
        Some(p) => Part::Projected(Box::new(Projected::lean(s, p.clone()))),
        None => Part::Plain(s),
    };
    let (learned, fallback) = (part(base.scheduler()), part(AnyScheduler::Sjf(Sjf)));
    let (params, e) = (settings.params, |e| anyhow!("{e}"));
    let repair = NamedFallback::<O>::new(settings.fallback, base.projection());
    let guard = Guard::with_repair(learned, fallback, repair, params, jobs, end).map_err(e)?;
    // Played noting its renewals and hand-overs.
    let mut s = Noting::<M, O> {
        guard,
        renewal_steps: Vec::new(),
        handovers: Vec::new(),
    };
    let summary = run(episode, &mut s, observer)?;
    // The final step is seen only here: count its charge (and a renewal at it).
    let renewals = s.guard.stats().renewals;
    s.guard.settle(episode.cluster())?;
    s.note(episode.cluster(), renewals);
    let stats = s.guard.stats();
    let (real_cost, sjf_cost) = (s.guard.real_cost(), s.guard.sjf_cost());
    let outcome = GuardOutcome {
        settings: settings.report(),
        steps: stats.steps,
        learned_steps: stats.learned_steps,
        renewals: stats.renewals,
        handovers: stats.handovers,
        overrides: stats.overrides,
        worst_round_loss: slowdown_units(stats.worst_round_loss),
        real_charge: slowdown_units(real_cost),
        sjf_charge: slowdown_units(sjf_cost),
        within_budget: settings.params.within(real_cost, sjf_cost),
        handover_list: s.handovers.iter().map(HandoverReport::from).collect(),
        exact: GuardExact {
            stats,
            real_cost,
            sjf_cost,
            handovers: s.handovers,
            renewal_steps: s.renewal_steps,
        },
    };
    Ok((summary, outcome))
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
    LoadedTree: Decide<M>,
{
    // Core errors are `no_std` Display types, not `std::error::Error`, hence `anyhow!`.
    let mut episode: Episode<'_, M> = Episode::new(jobs, end, observer)?;
    if let PolicySpec::Guarded(base, settings) = policy {
        let (summary, outcome) =
            play_guarded::<M, O>(&mut episode, jobs, end, base, settings, observer)?;
        if let Some(out) = explain {
            out.guard = Some(outcome);
        }
        return Ok(summary);
    }
    let scheduler = policy.scheduler();
    let summary = match policy.projection() {
        Some(p) => {
            // Decision details only when some are kept; counts come from either.
            if explain.as_ref().is_some_and(|o| o.keep != Keep::Counts) {
                let mut s = Explaining::<O, false> {
                    inner: Projected::new(scheduler, p.clone()),
                    out: explain,
                };
                run(&mut episode, &mut s, observer)
            } else {
                let mut s = Explaining::<O, true> {
                    inner: Projected::lean(scheduler, p.clone()),
                    out: explain,
                };
                run(&mut episode, &mut s, observer)
            }
        }
        None => run(&mut episode, &mut { scheduler }, observer),
    };
    Ok(summary?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::tree::{save_tree, AnyTree};
    use crate::policy::{NamedPolicy, PolicyName};
    use crate::settings::{End, SIMU_LEN, TIME_CAP};
    use whitebox_core::tree::{feature_count, TreePolicy};

    #[test]
    fn tree_policies_play_with_rules_and_guard_like_the_core_policy() {
        use whitebox_core::workload::{JobGenerator, Workload};
        use whitebox_core::{run, Episode};

        let tree10 = crate::models::testing::fit_or_void_10();
        let dir = std::env::temp_dir().join(format!("wbx-tree-play-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("t.tree");
        save_tree(&path, &tree10).expect("save");
        let name = format!("tree:{}", path.display());
        assert_eq!(
            PolicyName::parse(&name).ok(),
            Some(PolicyName::Tree(path.clone()))
        );
        let end = End::AllDone.mode(SIMU_LEN, TIME_CAP);
        let jobs: Vec<_> = JobGenerator::new(Workload::DeepRm, 0.7, SIMU_LEN, 7).collect();
        // Through the runtime: the same summary as the core's tree policy played directly.
        let spec = NamedPolicy::parse(&name)
            .and_then(|p| p.resolve(0.5, 0))
            .expect("resolve");
        assert_eq!(spec.required_slots(), Some(10));
        let played = play(&jobs, Slots::Ten, end, &spec, &mut ()).expect("play");
        let AnyTree::Ten(t) = &tree10.tree else {
            unreachable!("a 10-slot tree")
        };
        let mut policy = TreePolicy::<'_, 10, { feature_count(10) }, 11>::new(t, true);
        let mut episode: Episode<'_, 10> = Episode::new(&jobs, end, &mut ()).expect("episode");
        let direct = run(&mut episode, &mut policy, &mut ()).expect("run");
        assert_eq!(played, direct);
        assert!(played.completed > 0, "{played:?}");
        // Rules and the guard compose with it as with a model.
        let rules =
            crate::rules::projection(&["util<=0.8".to_string()], f32::INFINITY).expect("rules");
        let guarded = NamedPolicy::parse(&name)
            .expect("parse")
            .with_rules(rules)
            .with_guard(Some(crate::guard::GuardSettings::default()))
            .resolve(0.5, 0)
            .expect("resolve guarded");
        assert!(guarded.guard().is_some());
        let g = play(&jobs, Slots::Ten, end, &guarded, &mut ()).expect("play");
        assert_eq!(g.completed, played.completed);
        std::fs::remove_dir_all(&dir).ok();
    }
}
