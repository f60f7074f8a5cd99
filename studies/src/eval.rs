//! Evaluation: every policy on the same generated job sets, per workload and arrival rate,
//! with Student-t 95% intervals over job sets.
//!
//! Job set `k` of a (workload, rate) is generated from [`jobset_seed`]`(seed, k)` only, so
//! every policy sees the very same jobs (a paired comparison). Job sets run in parallel with
//! rayon, but results are collected in index order and reduced sequentially, so the output is
//! bit-identical for any number of threads.

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize, Serializer};
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::{Event, Job, Observer, Step, Summary};

use whitebox_core::rules::Permille;

use whitebox_runtime::guard::GuardReportSettings;
use whitebox_runtime::play::{play_explained, Explanations, GuardCounts, GuardTotals};
use whitebox_runtime::policy::{check_knob, NamedPolicy};
use whitebox_runtime::rules::CapCount;
pub use whitebox_runtime::settings::{jobset_seed, SEED_STRIDE};
use whitebox_runtime::settings::{End, Slots};
use whitebox_runtime::shard::Shard;
use whitebox_runtime::stats::{mean_ci95, FlatKeys, MeanCi, PairedVerdict};

/// XORed into a job set's seed to seed the random policy, so its stream is not the one that
/// generated the jobs.
pub const RANDOM_POLICY_SALT: u64 = 0x9E37_79B9_7F4A_7C15;

/// What to evaluate.
#[derive(Clone, Debug)]
pub struct EvalConfig {
    /// Workloads, in report order.
    pub workloads: Vec<Workload>,
    /// Arrival rates, in jobs per time step, each in `[0, 1]`.
    pub rates: Vec<f64>,
    /// Job sets per (workload, rate).
    pub jobsets: usize,
    /// Base seed, see [`jobset_seed`].
    pub seed: u64,
    /// Policies, in report order, with the names rows show.
    pub policies: Vec<NamedPolicy>,
    /// Visible job slots.
    pub slots: Slots,
    /// End mode.
    pub end: End,
    /// Arrival window of each job set (and the `no-new-job` end), in time steps.
    pub simu_len: u32,
    /// Time cap of `all-done` episodes, in time steps.
    pub time_cap: u32,
    /// Tetris knob, in `[0, 1]`.
    pub tetris_knob: f64,
    /// Also keep every allocated job's slowdown ([`EvalRow::job_slowdowns`]); off for plain
    /// evaluations, which then run with no observer at all.
    pub job_slowdowns: bool,
}

/// The settings echoed in the JSON report (and in a shard's file, which a merge reads back).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalSettings {
    /// Job sets per (workload, rate).
    pub jobsets: usize,
    /// Base seed.
    pub seed: u64,
    /// How job-set seeds are derived.
    pub jobset_seed: String,
    /// Visible job slots.
    pub slots: usize,
    /// End mode name.
    pub end: String,
    /// Arrival window, in steps.
    pub simu_len: u32,
    /// Time cap, in steps.
    pub time_cap: u32,
    /// Tetris knob.
    pub tetris_knob: f64,
    /// Rules of each projected policy, by label (empty: no policy is projected).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<PolicyRules>,
    /// Guard of each guarded policy, by label (empty: no policy is guarded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guards: Vec<PolicyGuard>,
}

/// The guard of a guarded policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyGuard {
    /// The policy's label.
    pub policy: String,
    /// Mode, `eps` and `c`.
    #[serde(flatten)]
    pub guard: GuardReportSettings,
}

/// The rules a policy's decisions are projected onto.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyRules {
    /// The policy's label.
    pub policy: String,
    /// The rules, as written on the command line (with weights when not 1).
    pub rules: Vec<String>,
    /// The strength `C`: a number, or `"inf"` for the shield.
    pub c: serde_json::Value,
}

/// One (policy, workload, rate) result. Means are over job sets of each set's own mean; a job
/// set with no allocated job has no mean and is left out (`measured` counts the others).
/// Intervals are `null` when fewer than two job sets were measured.
#[derive(Clone, Debug, Serialize)]
pub struct EvalRow {
    /// Policy name.
    pub policy: String,
    /// Workload name.
    pub workload: &'static str,
    /// Arrival rate, in jobs per time step.
    pub rate: f64,
    /// Expected load per resource (above 1 is overloaded).
    pub load: f64,
    /// Job sets run.
    pub jobsets: usize,
    /// Mean over job sets of the mean slowdown (DeepRM's definition) with its 95% interval;
    /// its count `n` is the job sets with at least one allocated job. Written as `measured`,
    /// `mean_slowdown`, `ci95_low` and `ci95_high`.
    #[serde(flatten, serialize_with = "slowdown_fields")]
    pub slowdown: Option<MeanCi>,
    /// Mean over job sets of the mean completion time, in steps, with its 95% interval, over
    /// the same job sets. Written as `mean_completion_time`, `completion_ci95_low` and
    /// `completion_ci95_high`.
    #[serde(flatten, serialize_with = "completion_fields")]
    pub completion_time: Option<MeanCi>,
    /// Job sets cut by the time cap.
    pub truncated: usize,
    /// Jobs rejected at arrival, over all job sets.
    pub rejected: u64,
    /// For a policy projected onto rules: its decisions, over all job sets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_decisions: Option<u64>,
    /// For a projected policy: decisions the rules changed, over all job sets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_changed: Option<u64>,
    /// For a projected policy: decisions that fell back to void because every allowed action
    /// violated a rule, over all job sets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_fallbacks: Option<u64>,
    /// Share of ended time steps, pooled over job sets, in which some resource was above
    /// [`UTILIZATION_CAP`] (more than 8 of its 10 units in use), as `--rule util<=0.8` counts.
    /// `None` when no time step ended.
    pub over_cap_share: Option<f64>,
    /// The part of [`EvalRow::over_cap_share`] not excused as a lone job: steps where a
    /// resource above the cap was used by two or more jobs (`docs/rules.md`: a job whose demand
    /// alone exceeds the cap may run alone). This is the rule-violation rate; a shield keeps it
    /// at 0. `None` when no time step ended.
    pub violation_share: Option<f64>,
    /// For a guarded policy: the share of time steps, pooled over job sets, in which the learned
    /// policy was in charge, in `[0, 1]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard_learned_share: Option<f64>,
    /// For a guarded policy: hand-overs after the start, over all job sets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard_handovers: Option<u64>,
    /// For a guarded policy: renewals, over all job sets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard_renewals: Option<u64>,
    /// For a guarded policy: job sets whose final charge is not within `(1 + eps) * SJF + c`
    /// (the budget test without the theorem's `L`, `docs/guard.md`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard_over_budget: Option<u64>,
    /// For a guarded policy: time steps, over all job sets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard_steps: Option<u64>,
    /// The paired difference against the first policy of the same workload and rate, with its
    /// verdict (`None` for the first policy itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_reference: Option<PairedVs>,
    /// Each job set's mean slowdown, by job-set index (`None`: nothing allocated), for paired
    /// comparisons; not serialised.
    #[serde(skip)]
    pub jobset_slowdowns: Vec<Option<f64>>,
    /// With [`EvalConfig::job_slowdowns`], the slowdown `(finish - arrival) / len` of every
    /// allocated job, job sets in index order; empty otherwise. Not serialised.
    #[serde(skip)]
    pub job_slowdowns: Vec<f64>,
}

/// A row's paired difference `row - reference` in mean slowdown over the job sets both measured.
#[derive(Clone, Debug, Serialize)]
pub struct PairedVs {
    /// The reference policy's label.
    pub reference: String,
    /// Its mean and 95% interval, written as `pairs`, `mean_difference`, `ci95_low` and
    /// `ci95_high`.
    #[serde(flatten, serialize_with = "difference_fields")]
    pub difference: Option<MeanCi>,
    /// What the interval says about the row's policy.
    pub verdict: PairedVerdict,
}

fn difference_fields<S: Serializer>(c: &Option<MeanCi>, s: S) -> Result<S::Ok, S::Error> {
    FlatKeys {
        n: Some("pairs"),
        mean: "mean_difference",
        low: "ci95_low",
        high: "ci95_high",
    }
    .serialize(c, s)
}

impl EvalRow {
    /// Job sets with at least one allocated job (those the means are over).
    pub fn measured(&self) -> usize {
        self.slowdown.map_or(0, |c| c.n)
    }
}

fn slowdown_fields<S: Serializer>(c: &Option<MeanCi>, s: S) -> Result<S::Ok, S::Error> {
    FlatKeys {
        n: Some("measured"),
        mean: "mean_slowdown",
        low: "ci95_low",
        high: "ci95_high",
    }
    .serialize(c, s)
}

fn completion_fields<S: Serializer>(c: &Option<MeanCi>, s: S) -> Result<S::Ok, S::Error> {
    FlatKeys {
        n: None,
        mean: "mean_completion_time",
        low: "completion_ci95_low",
        high: "completion_ci95_high",
    }
    .serialize(c, s)
}

/// The per-job-set differences `a - b` of two rows' mean slowdowns over the job sets both
/// measured, with their Student-t 95% interval (`None` when no job set was measured by both).
/// Meaningful for rows of the same evaluation, workload and rate, which ran the same job sets.
pub fn paired_slowdown_difference(a: &EvalRow, b: &EvalRow) -> Option<MeanCi> {
    let diffs: Vec<f64> = a
        .jobset_slowdowns
        .iter()
        .zip(&b.jobset_slowdowns)
        .filter_map(|(x, y)| Some((*x)? - (*y)?))
        .collect();
    mean_ci95(&diffs)
}

/// The utilization cap the rows' [`EvalRow::over_cap_share`] and [`EvalRow::violation_share`]
/// count against: 80% of each resource (a step using 9 or 10 of 10 units violates `util<=0.8`).
pub const UTILIZATION_CAP: Permille = match Permille::new(800) {
    Some(p) => p,
    None => Permille::ONE,
};

/// An [`Observer`] counting the time steps above [`UTILIZATION_CAP`] (a [`CapCount`]) and, when
/// asked, keeping the slowdown of every allocated job, in allocation order.
#[derive(Debug)]
struct EpisodeLog {
    keep_slowdowns: bool,
    slowdowns: Vec<f64>,
    cap: CapCount,
}

impl EpisodeLog {
    fn new(keep_slowdowns: bool) -> Self {
        EpisodeLog {
            keep_slowdowns,
            slowdowns: Vec::new(),
            cap: CapCount::new(UTILIZATION_CAP),
        }
    }
}

impl Observer for EpisodeLog {
    fn on_event(&mut self, event: &Event) {
        self.cap.on_event(event);
        if let Event::Decided {
            step: Step::Allocated { job, finish, .. },
            ..
        } = event
        {
            if self.keep_slowdowns {
                let waited = finish.saturating_sub(job.arrival);
                self.slowdowns
                    .push(f64::from(waited) / f64::from(job.len.max(1)));
            }
        }
    }
}

/// The JSON report of `whitebox eval` and `whitebox demo`.
#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    /// The settings.
    pub settings: EvalSettings,
    /// Rows ordered by workload, then rate, then policy.
    pub rows: Vec<EvalRow>,
}

impl EvalConfig {
    /// The settings part of the report.
    pub fn settings(&self) -> EvalSettings {
        EvalSettings {
            jobsets: self.jobsets,
            seed: self.seed,
            jobset_seed: "seed * 1000003 + k (wrapping u64)".to_string(),
            slots: self.slots.count(),
            end: self.end.name().to_string(),
            simu_len: self.simu_len,
            time_cap: self.time_cap,
            tetris_knob: self.tetris_knob,
            rules: self
                .policies
                .iter()
                .filter_map(|p| {
                    p.rules.as_ref().map(|r| PolicyRules {
                        policy: p.label.clone(),
                        rules: whitebox_runtime::rules::names(r),
                        c: whitebox_runtime::rules::strength(r),
                    })
                })
                .collect(),
            guards: self
                .policies
                .iter()
                .filter_map(|p| {
                    p.guard.map(|g| PolicyGuard {
                        policy: p.label.clone(),
                        guard: g.report(),
                    })
                })
                .collect(),
        }
    }

    /// Number of (workload, rate, job set) tasks, for progress reporting.
    pub fn tasks(&self) -> usize {
        self.shard_tasks(Shard::ALL)
    }

    /// Number of (workload, rate, job set) tasks of one shard.
    pub fn shard_tasks(&self, shard: Shard) -> usize {
        self.workloads.len() * self.rates.len() * shard.range(self.jobsets).len()
    }
}

/// One policy's result on one job set: what the rows are reduced from, and what a shard's file
/// stores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobsetOutcome {
    /// The episode's summary.
    pub summary: Summary,
    /// Ended time steps, those above the 80% cap, and those not excused as a lone job.
    pub steps: [u64; 3],
    /// For a projected policy: decisions, decisions the rules changed, fallbacks to void.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<[u32; 3]>,
    /// For a guarded policy: the guard's counters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardCounts>,
    /// With [`EvalConfig::job_slowdowns`], every allocated job's slowdown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_slowdowns: Vec<f64>,
}

/// A shard of an evaluation (`eval --shard i/n`): the same settings, and for every (workload,
/// rate) cell the outcomes of the job sets `shard.range(jobsets)` only. [`merge`] turns the `n`
/// shards into the report one unsharded run gives, bit for bit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalShard {
    /// Which shard.
    pub shard: Shard,
    /// The whole evaluation's settings (`jobsets` is the total over shards).
    pub settings: EvalSettings,
    /// Workload names, in report order.
    pub workloads: Vec<String>,
    /// Arrival rates, in report order.
    pub rates: Vec<f64>,
    /// Policy labels, in report order.
    pub policies: Vec<String>,
    /// The job sets of this shard, `first..end` of every cell.
    pub jobsets: (usize, usize),
    /// `outcomes[cell][j][p]`: cell `w * rates + r`, job set `first + j`, policy `p`.
    pub outcomes: Vec<Vec<Vec<JobsetOutcome>>>,
}

/// Runs the evaluation; `on_task` is called (from any thread) after each job set is done.
///
/// # Errors
/// When the Tetris knob is outside `[0, 1]` or a policy fails (never for the baselines).
pub fn evaluate(cfg: &EvalConfig, on_task: &(dyn Fn() + Sync)) -> Result<EvalReport> {
    reduce(evaluate_shard(cfg, Shard::ALL, on_task)?)
}

/// Runs one shard of the evaluation: job sets `shard.range(cfg.jobsets)` of every cell;
/// `on_task` is called after each.
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_shard(
    cfg: &EvalConfig,
    shard: Shard,
    on_task: &(dyn Fn() + Sync),
) -> Result<EvalShard> {
    check_knob(cfg.tetris_knob)?;
    // Resolve once: a model file is read and checked here, not per job set.
    let policies = cfg
        .policies
        .iter()
        .map(|p| p.resolve(cfg.tetris_knob, 0))
        .collect::<Result<Vec<_>>>()?;
    let end = cfg.end.mode(cfg.simu_len, cfg.time_cap);
    let grid: Vec<(Workload, f64)> = cfg
        .workloads
        .iter()
        .flat_map(|&w| cfg.rates.iter().map(move |&r| (w, r)))
        .collect();
    let range = shard.range(cfg.jobsets);
    let tasks: Vec<(Workload, f64, usize)> = grid
        .iter()
        .flat_map(|&(w, r)| range.clone().map(move |k| (w, r, k)))
        .collect();
    // Indexed parallel collect keeps task order: per task, one outcome per policy.
    let results: Vec<Vec<JobsetOutcome>> = tasks
        .par_iter()
        .map(|&(workload, rate, k)| {
            let seed = jobset_seed(cfg.seed, k);
            let jobs: Vec<Job> = JobGenerator::new(workload, rate, cfg.simu_len, seed).collect();
            let out = policies
                .iter()
                .map(|p| {
                    let policy = p.reseeded(seed ^ RANDOM_POLICY_SALT);
                    let projected = policy.projection().is_some();
                    let mut counts =
                        (projected || policy.guard().is_some()).then(Explanations::default);
                    let mut log = EpisodeLog::new(cfg.job_slowdowns);
                    let s =
                        play_explained(&jobs, cfg.slots, end, &policy, &mut log, counts.as_mut())?;
                    let (rules, guard) = match counts {
                        Some(c) => (
                            projected.then_some([
                                c.stats.decisions,
                                c.stats.changed,
                                c.stats.fallbacks,
                            ]),
                            c.guard.map(|g| g.counts()),
                        ),
                        None => (None, None),
                    };
                    Ok(JobsetOutcome {
                        summary: s,
                        steps: [log.cap.steps, log.cap.over_cap, log.cap.violations],
                        job_slowdowns: log.slowdowns,
                        rules,
                        guard,
                    })
                })
                .collect::<Result<Vec<_>>>();
            on_task();
            out
        })
        .collect::<Result<Vec<_>>>()?;
    let mut results = results.into_iter();
    let outcomes = grid
        .iter()
        .map(|_| results.by_ref().take(range.len()).collect())
        .collect();
    Ok(EvalShard {
        shard,
        settings: cfg.settings(),
        workloads: cfg.workloads.iter().map(|w| w.name().to_string()).collect(),
        rates: cfg.rates.clone(),
        policies: cfg.policies.iter().map(|p| p.label.clone()).collect(),
        jobsets: (range.start, range.end),
        outcomes,
    })
}

/// Merges the shards `0/n` to `n-1/n` of one evaluation (in any order) into its report, the
/// same bit for bit as the unsharded [`evaluate`].
///
/// # Errors
/// No shard; shards of different evaluations (settings, workloads, rates or policies differ) or
/// of different counts; a shard missing or given twice; a shard whose job sets or outcomes do
/// not have the shape its settings imply.
pub fn merge(mut shards: Vec<EvalShard>) -> Result<EvalReport> {
    shards.sort_by_key(|s| s.shard.index);
    let Some(first) = shards.first() else {
        bail!("no shard to merge");
    };
    let count = first.shard.count;
    for s in &shards {
        if s.shard.count != count {
            bail!(
                "shard {} is one of {} shards, shard {} one of {count}: merge the shards of one run",
                s.shard,
                s.shard.count,
                first.shard
            );
        }
        if (&s.settings, &s.workloads, &s.rates, &s.policies)
            != (
                &first.settings,
                &first.workloads,
                &first.rates,
                &first.policies,
            )
        {
            bail!(
                "shard {} was run with other settings than shard {} (job sets, seed, workloads, \
                 rates, policies, slots, end, rules and guards must be the same)",
                s.shard,
                first.shard
            );
        }
    }
    let given: Vec<u32> = shards.iter().map(|s| s.shard.index).collect();
    if given != (0..count).collect::<Vec<_>>() {
        let missing: Vec<u32> = (0..count).filter(|i| !given.contains(i)).collect();
        let mut twice = given.clone();
        twice.dedup();
        let repeated: Vec<u32> = twice
            .into_iter()
            .filter(|i| given.iter().filter(|g| *g == i).count() > 1)
            .collect();
        bail!(
            "shards of {count} given: {given:?}; each of 0..{count} is needed once (missing: \
             {missing:?}, repeated: {repeated:?})"
        );
    }
    let total = first.settings.jobsets;
    let cells = first.workloads.len() * first.rates.len();
    let mut merged = EvalShard {
        shard: Shard::ALL,
        outcomes: vec![Vec::with_capacity(total); cells],
        jobsets: (0, total),
        ..first.clone()
    };
    for s in shards {
        let range = s.shard.range(total);
        if s.jobsets != (range.start, range.end) || s.outcomes.len() != cells {
            bail!(
                "shard {}: job sets {}..{} in {} cells, expected {}..{} in {cells}",
                s.shard,
                s.jobsets.0,
                s.jobsets.1,
                s.outcomes.len(),
                range.start,
                range.end
            );
        }
        for (all, part) in merged.outcomes.iter_mut().zip(s.outcomes) {
            if part.len() != range.len() {
                bail!(
                    "shard {}: a cell holds {} job sets, expected {}",
                    s.shard,
                    part.len(),
                    range.len()
                );
            }
            all.extend(part);
        }
    }
    reduce(merged)
}

/// The report's rows from every job set's outcomes.
fn reduce(s: EvalShard) -> Result<EvalReport> {
    let workloads = s
        .workloads
        .iter()
        .map(|w| {
            Workload::from_name(w).with_context(|| format!("unknown workload `{w}` in a shard"))
        })
        .collect::<Result<Vec<_>>>()?;
    let grid: Vec<(Workload, f64)> = workloads
        .iter()
        .flat_map(|&w| s.rates.iter().map(move |&r| (w, r)))
        .collect();
    if s.outcomes.len() != grid.len() {
        bail!(
            "{} cells of outcomes for {} (workload, rate) cells",
            s.outcomes.len(),
            grid.len()
        );
    }
    let n = s.policies.len();
    let mut rows = Vec::with_capacity(grid.len() * n);
    for (&(workload, rate), sets) in grid.iter().zip(&s.outcomes) {
        if let Some(bad) = sets.iter().find(|o| o.len() != n) {
            bail!("a job set has {} outcomes for {n} policies", bad.len());
        }
        let start = rows.len();
        for (p, label) in s.policies.iter().enumerate() {
            rows.push(row(
                label,
                workload,
                rate,
                sets.iter().filter_map(|o| o.get(p)),
            ));
        }
        if let Some((reference, others)) = rows[start..].split_first_mut() {
            for r in others {
                let d = paired_slowdown_difference(r, reference);
                r.vs_reference = Some(PairedVs {
                    reference: reference.policy.clone(),
                    difference: d,
                    verdict: PairedVerdict::of(d.and_then(|d| d.ci95)),
                });
            }
        }
    }
    Ok(EvalReport {
        settings: s.settings,
        rows,
    })
}

fn row<'a>(
    policy: &str,
    workload: Workload,
    rate: f64,
    sets: impl Iterator<Item = &'a JobsetOutcome>,
) -> EvalRow {
    let (mut slowdowns, mut completions) = (Vec::new(), Vec::new());
    let (mut jobsets, mut truncated, mut rejected) = (0, 0, 0u64);
    let (mut jobset_slowdowns, mut job_slowdowns) = (Vec::new(), Vec::new());
    let mut rules: Option<[u64; 3]> = None;
    let mut steps = [0u64; 3];
    let mut totals: Option<GuardTotals> = None;
    for o in sets {
        if let Some(g) = &o.guard {
            totals
                .get_or_insert_with(GuardTotals::default)
                .add_counts(g);
        }
        for (sum, n) in steps.iter_mut().zip(o.steps) {
            *sum += n;
        }
        let (s, jobs) = (&o.summary, &o.job_slowdowns);
        if let Some(r) = o.rules {
            let sum = rules.get_or_insert([0; 3]);
            for (a, b) in sum.iter_mut().zip(r) {
                *a += u64::from(b);
            }
        }
        jobsets += 1;
        jobset_slowdowns.push(s.mean_slowdown);
        job_slowdowns.extend_from_slice(jobs);
        truncated += usize::from(s.truncated);
        rejected += u64::from(s.rejected);
        // Both are `Some` exactly when a job was allocated.
        if let (Some(sd), Some(ct)) = (s.mean_slowdown, s.mean_completion_time) {
            slowdowns.push(sd);
            completions.push(ct);
        }
    }
    EvalRow {
        policy: policy.to_string(),
        workload: workload.name(),
        rate,
        load: workload.distribution().expected_load(rate),
        jobsets,
        slowdown: mean_ci95(&slowdowns),
        completion_time: mean_ci95(&completions),
        truncated,
        rejected,
        rule_decisions: rules.map(|r| r[0]),
        rule_changed: rules.map(|r| r[1]),
        rule_fallbacks: rules.map(|r| r[2]),
        over_cap_share: (steps[0] > 0).then(|| steps[1] as f64 / steps[0] as f64),
        violation_share: (steps[0] > 0).then(|| steps[2] as f64 / steps[0] as f64),
        guard_learned_share: totals.and_then(|t| t.learned_share()),
        guard_handovers: totals.map(|t| t.handovers),
        guard_renewals: totals.map(|t| t.renewals),
        guard_steps: totals.map(|t| t.steps),
        guard_over_budget: totals.map(|t| t.over_budget),
        vs_reference: None,
        jobset_slowdowns,
        job_slowdowns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use whitebox_runtime::play::play;
    use whitebox_runtime::policy::PolicyName;

    fn config(jobsets: usize) -> EvalConfig {
        EvalConfig {
            workloads: vec![Workload::DeepRm, Workload::LongJobs],
            rates: vec![0.0, 0.5],
            jobsets,
            seed: 7,
            policies: PolicyName::BASELINES.map(NamedPolicy::from).to_vec(),
            slots: Slots::Five,
            end: End::AllDone,
            simu_len: 30,
            time_cap: whitebox_runtime::settings::TIME_CAP,
            tetris_knob: 0.5,
            job_slowdowns: false,
        }
    }

    #[test]
    fn over_cap_steps_are_counted_per_ended_time_step() {
        // By hand: SJF starts the 1-step job [9, 1] and the 3-step job [1, 1] at step 0, so
        // step 0 uses 10 units of res0 (over 8) shared by two jobs (a violation, not a lone
        // job), steps 1 and 2 use 1 unit: 1 of 3 steps.
        let jobs = [
            Job::new(0, 0, 1, [9, 1]).unwrap_or_else(|e| unreachable!("{e}")),
            Job::new(1, 0, 3, [1, 1]).unwrap_or_else(|e| unreachable!("{e}")),
        ];
        let mut log = EpisodeLog::new(false);
        let end = End::AllDone.mode(30, 100);
        play(
            &jobs,
            Slots::Five,
            end,
            &whitebox_runtime::policy::PolicySpec::Sjf,
            &mut log,
        )
        .unwrap_or_else(|e| unreachable!("{e:#}"));
        assert_eq!(
            (log.cap.steps, log.cap.over_cap, log.cap.violations),
            (3, 1, 1)
        );
        // A lone 9-unit job first, then a 1-unit job after it: over the cap, never shared.
        let jobs = [
            Job::new(0, 0, 2, [9, 1]).unwrap_or_else(|e| unreachable!("{e}")),
            Job::new(1, 0, 3, [2, 1]).unwrap_or_else(|e| unreachable!("{e}")),
        ];
        let mut log = EpisodeLog::new(false);
        play(
            &jobs,
            Slots::Five,
            end,
            &whitebox_runtime::policy::PolicySpec::Sjf,
            &mut log,
        )
        .unwrap_or_else(|e| unreachable!("{e:#}"));
        // SJF starts the 2-step [9, 1] at 0; [2, 1] does not fit (11 units) and is reserved at
        // step 2: steps 0-1 use 9 units alone, steps 2-4 use 2.
        assert_eq!(
            (log.cap.steps, log.cap.over_cap, log.cap.violations),
            (5, 2, 0)
        );
        assert!(log.slowdowns.is_empty(), "slowdowns were not asked for");
    }

    #[test]
    fn seeds_depend_on_seed_and_index_only() {
        assert_eq!(jobset_seed(1000, 3), 1_000_003_003);
        assert_ne!(jobset_seed(1, 0), jobset_seed(0, 999_999));
    }

    #[test]
    fn rows_cover_the_grid_and_agree_with_a_direct_run() {
        let cfg = config(3);
        let r = evaluate(&cfg, &|| {}).unwrap_or_else(|e| unreachable!("{e:#}"));
        assert_eq!(r.rows.len(), 2 * 2 * 4);
        // Rate 0: no jobs, so nothing is measured.
        assert!(r.rows[0].slowdown.is_none() && r.rows[0].measured() == 0);
        // Row 4 is deeprm, rate 0.5, sjf: recompute it by hand from the same job sets.
        let row = &r.rows[4];
        assert_eq!(
            (row.policy.as_str(), row.workload, row.rate),
            ("sjf", "deeprm", 0.5)
        );
        let mut sds = Vec::new();
        for k in 0..3 {
            let jobs: Vec<Job> =
                JobGenerator::new(Workload::DeepRm, 0.5, 30, jobset_seed(7, k)).collect();
            let s = play(
                &jobs,
                Slots::Five,
                cfg.end.mode(30, whitebox_runtime::settings::TIME_CAP),
                &whitebox_runtime::policy::PolicySpec::Sjf,
                &mut (),
            );
            sds.extend(s.ok().and_then(|s| s.mean_slowdown));
        }
        let expected = mean_ci95(&sds).map(|c| c.mean);
        assert_eq!(row.slowdown.map(|c| c.mean), expected);
        let Some(MeanCi {
            mean,
            ci95: Some((low, high)),
            ..
        }) = row.slowdown
        else {
            panic!("no interval: {:?}", row.slowdown)
        };
        assert!(low <= mean && mean <= high);
    }

    #[test]
    fn job_slowdowns_are_collected_on_request_and_match_the_means() {
        let plain = evaluate(&config(3), &|| {}).unwrap_or_else(|e| unreachable!("{e:#}"));
        let mut cfg = config(3);
        cfg.job_slowdowns = true;
        let with = evaluate(&cfg, &|| {}).unwrap_or_else(|e| unreachable!("{e:#}"));
        for (a, b) in plain.rows.iter().zip(&with.rows) {
            assert!(a.job_slowdowns.is_empty());
            assert_eq!(a.slowdown, b.slowdown);
            assert_eq!(a.jobset_slowdowns, b.jobset_slowdowns);
            assert!(b.job_slowdowns.iter().all(|&s| s >= 1.0));
        }
        // Row 4 (deeprm, 0.5, sjf): the pooled job slowdowns, split by job set, average to the
        // per-set means.
        let row = &with.rows[4];
        let mut offset = 0;
        for (k, mean) in row.jobset_slowdowns.iter().enumerate() {
            let jobs: Vec<Job> =
                JobGenerator::new(Workload::DeepRm, 0.5, 30, jobset_seed(7, k)).collect();
            let part = &row.job_slowdowns[offset..offset + jobs.len()];
            offset += jobs.len();
            let m = part.iter().sum::<f64>() / part.len() as f64;
            assert!(
                mean.is_some_and(|mean| (mean - m).abs() < 1e-9),
                "{mean:?} {m}"
            );
        }
        assert_eq!(offset, row.job_slowdowns.len());
    }

    #[test]
    fn paired_difference_is_over_common_job_sets() {
        let r = evaluate(&config(4), &|| {}).unwrap_or_else(|e| unreachable!("{e:#}"));
        let (sjf, random) = (&r.rows[4], &r.rows[7]);
        assert_eq!(random.policy, "random");
        let d = paired_slowdown_difference(random, sjf);
        let expected: f64 = (0..4)
            .map(|k| {
                random.jobset_slowdowns[k].unwrap_or(f64::NAN)
                    - sjf.jobset_slowdowns[k].unwrap_or(f64::NAN)
            })
            .sum::<f64>()
            / 4.0;
        assert!(d.is_some_and(|d| d.n == 4 && (d.mean - expected).abs() < 1e-12));
        assert_eq!(
            paired_slowdown_difference(sjf, sjf).map(|d| d.mean),
            Some(0.0)
        );
        // Rate 0: nothing allocated, nothing to pair.
        assert_eq!(paired_slowdown_difference(&r.rows[0], &r.rows[1]), None);
        // Each row carries its difference against the cell's first policy, with the verdict
        // its interval gives.
        assert!(sjf.vs_reference.is_none());
        let vs = random.vs_reference.as_ref().expect("paired against sjf");
        assert_eq!((vs.reference.as_str(), vs.difference), ("sjf", d));
        let ci = d.and_then(|d| d.ci95);
        assert_eq!(vs.verdict, PairedVerdict::of(ci));
    }

    /// Every baseline, a projected SJF and (for the guard's counters) a guarded shipped model.
    fn mixed_config(jobsets: usize) -> EvalConfig {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let model = PolicyName::Model(root.join("fixtures/models/deeprm.model"));
        let rules = whitebox_runtime::rules::projection(&["util<=0.8".to_string()], f32::INFINITY)
            .unwrap_or_else(|e| unreachable!("{e:#}"));
        let guard = whitebox_runtime::guard::GuardSettings::new(
            whitebox_core::guard::GuardMode::Lookahead,
            0.1,
            5.0,
        )
        .unwrap_or_else(|e| unreachable!("{e:#}"));
        let mut policies = PolicyName::BASELINES.map(NamedPolicy::from).to_vec();
        policies.push(NamedPolicy::labelled("sjf+rules", PolicyName::Sjf).with_rules(rules));
        policies.push(NamedPolicy::labelled("dnn+guard", model).with_guard(Some(guard)));
        EvalConfig {
            slots: Slots::Ten,
            rates: vec![0.7],
            policies,
            job_slowdowns: true,
            ..config(jobsets)
        }
    }

    #[test]
    fn merged_shards_give_the_unsharded_report_bit_for_bit() {
        let cfg = mixed_config(7);
        let whole = evaluate(&cfg, &|| {}).unwrap_or_else(|e| unreachable!("{e:#}"));
        for count in [1, 3, 9] {
            // Each shard through its JSON file's text and back, in reverse order.
            let shards: Vec<EvalShard> = (0..count)
                .rev()
                .map(|index| {
                    let s = evaluate_shard(&cfg, Shard { index, count }, &|| {})
                        .unwrap_or_else(|e| unreachable!("{e:#}"));
                    let text = serde_json::to_string(&s).unwrap_or_default();
                    serde_json::from_str(&text).unwrap_or_else(|e| unreachable!("{e}"))
                })
                .collect();
            let merged = merge(shards).unwrap_or_else(|e| unreachable!("{e:#}"));
            assert_eq!(
                serde_json::to_string(&merged).ok(),
                serde_json::to_string(&whole).ok(),
                "{count} shards"
            );
            for (a, b) in merged.rows.iter().zip(&whole.rows) {
                let bits = |r: &EvalRow| r.slowdown.map(|c| c.mean.to_bits());
                assert_eq!(bits(a), bits(b));
                assert_eq!(a.jobset_slowdowns, b.jobset_slowdowns);
                assert_eq!(a.job_slowdowns, b.job_slowdowns);
            }
        }
        // The guard's and the rules' counters came through the files.
        let guarded = whole.rows.iter().find(|r| r.policy == "dnn+guard");
        assert!(guarded.is_some_and(|r| r.guard_steps.is_some_and(|s| s > 0)));
    }

    #[test]
    fn a_missing_repeated_or_foreign_shard_is_refused() {
        let cfg = config(4);
        let shard = |index, count| {
            evaluate_shard(&cfg, Shard { index, count }, &|| {})
                .unwrap_or_else(|e| unreachable!("{e:#}"))
        };
        let err = |shards| {
            format!(
                "{:#}",
                merge(shards).err().unwrap_or_else(|| unreachable!())
            )
        };
        let e = err(vec![shard(0, 3), shard(2, 3)]);
        assert!(e.contains("missing: [1]"), "{e}");
        let e = err(vec![shard(0, 2), shard(0, 2), shard(1, 2)]);
        assert!(e.contains("repeated: [0]"), "{e}");
        let e = err(vec![shard(0, 2), shard(1, 3)]);
        assert!(e.contains("one of 3 shards"), "{e}");
        let mut other = shard(1, 2);
        other.settings.seed += 1;
        let e = err(vec![shard(0, 2), other]);
        assert!(e.contains("other settings"), "{e}");
        assert!(err(Vec::new()).contains("no shard"));
    }

    #[test]
    fn one_job_set_has_no_interval() {
        let r = evaluate(&config(1), &|| {}).unwrap_or_else(|e| unreachable!("{e:#}"));
        let row = &r.rows[4];
        assert!(row.slowdown.is_some_and(|c| c.ci95.is_none()));
    }
}
