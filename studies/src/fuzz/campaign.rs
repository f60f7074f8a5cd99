//! A `whitebox fuzz` campaign: its settings, searches, report, shard merging and fixtures.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use serde::{Deserialize, Serialize};

use super::fixture;
use super::{
    rank, search, shrink, typical_log_likelihood, Candidate, Objective, SearchConfig, SearchKind,
    SearchResult, Shard, Support, Target,
};
use whitebox_core::workload::Workload;
use whitebox_runtime::guard::{GuardReportSettings, GuardSettings};
use whitebox_runtime::lists::parse_workloads;
use whitebox_runtime::policy::PolicyName;
use whitebox_runtime::rules::RuleTexts;
use whitebox_runtime::settings::Slots;

/// What a `whitebox fuzz` campaign does: search (or merge shard results), shrink, write
/// fixtures. Counts are in sequences, times in steps.
#[derive(Clone, Debug)]
pub struct FuzzOptions {
    /// The policy under test (e.g. `model:fixtures/models/default.model`); `None` when merging.
    pub policy: Option<String>,
    /// Operator rules the policy under test is projected onto (SJF is not).
    pub rules: RuleTexts,
    /// A guard insuring the policy under test against SJF (`docs/guard.md`), if any.
    pub guard: Option<GuardSettings>,
    /// Workload whose support is searched.
    pub workload: Workload,
    /// Arrival rate of the workload, in jobs per step, in `[0, 1]`.
    pub rate: f64,
    /// Arrival window: arrivals at steps `1..simu_len`; at least 2.
    pub simu_len: u32,
    /// Visible job slots.
    pub slots: Slots,
    /// Time cap of the all-done episodes.
    pub time_cap: u32,
    /// Sequences evaluated per search over the whole campaign.
    pub budget: u64,
    /// Master seed.
    pub seed: u64,
    /// Most jobs per sequence (default: one per step of the arrival window); at least 1.
    pub max_jobs: Option<usize>,
    /// Shard `i/n` of the campaign to run, if not all of it.
    pub shard: Option<String>,
    /// What to maximize.
    pub objective: Objective,
    /// The searches to run, in order.
    pub searches: Vec<SearchKind>,
    /// Population of the evolutionary search.
    pub population: u64,
    /// Fixtures to write.
    pub fixtures: usize,
    /// Shrinking keeps at least this fraction of a sequence's excess over SJF, in `[0, 1]`.
    pub shrink_keep: f64,
    /// Plausibility bound, in nats below the generator's mean log-likelihood.
    pub max_ll_drop: Option<f64>,
    /// Shard output directories to merge instead of searching.
    pub merge: Vec<PathBuf>,
    /// Output directory: campaign.json and the fixtures.
    pub out: PathBuf,
    /// The command line, recorded in campaign.json and the fixtures.
    pub command: String,
}

/// What a campaign reports while it searches; the command line draws a progress bar per
/// search from it.
pub trait SearchProgress {
    /// `kind` starts, with `total` sequences to evaluate.
    fn start(&mut self, kind: SearchKind, total: u64);
    /// `done` sequences evaluated; the best excess so far is `best` (of `objective`).
    fn update(&mut self, done: u64, best: f64, objective: Objective);
    /// The current search is over.
    fn finish(&mut self);
}

impl SearchProgress for () {
    fn start(&mut self, _: SearchKind, _: u64) {}
    fn update(&mut self, _: u64, _: f64, _: Objective) {}
    fn finish(&mut self) {}
}

/// The campaign settings, echoed in campaign.json and checked when merging.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Policy name.
    pub policy: String,
    /// Operator rules of the policy under test.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Their projection strength.
    #[serde(default)]
    pub rule_c: String,
    /// The guard of the policy under test, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardReportSettings>,
    /// Workload name.
    pub workload: String,
    /// Arrival rate.
    pub rate: f64,
    /// Arrival window.
    pub simu_len: u32,
    /// Job slots.
    pub slots: usize,
    /// Time cap.
    pub time_cap: u32,
    /// Budget per search over the campaign.
    pub budget: u64,
    /// Master seed.
    pub seed: u64,
    /// Most jobs per sequence.
    pub max_jobs: usize,
    /// Objective.
    pub objective: Objective,
    /// Evolutionary population.
    pub population: usize,
    /// Plausibility bound, in nats below the generator's mean log-likelihood.
    pub max_ll_drop: Option<f64>,
}

/// One search's line of the report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SearchReport {
    /// Shards included.
    pub shards: Vec<Shard>,
    /// Wall time, in seconds (summed over shards).
    pub seconds: f64,
    /// Rayon threads (of the first shard).
    pub threads: usize,
    /// Sequences evaluated per second (each by the policy and SJF).
    pub evaluations_per_second: f64,
    /// The result.
    pub result: SearchResult,
}

/// campaign.json.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Campaign {
    /// Settings.
    pub settings: Settings,
    /// The command line.
    pub command: String,
    /// Generator log-likelihood: mean, 5th, 50th, 95th percentile over 1000 samples.
    pub typical_log_likelihood: Option<[f64; 4]>,
    /// Per search.
    pub searches: Vec<SearchReport>,
    /// Fixture files written.
    pub fixtures: Vec<String>,
}

/// Runs a `whitebox fuzz` campaign, reporting each search to `progress`; returns the text
/// report.
///
/// # Errors
/// Settings out of range (named with their value and limit), a failing policy, or files that
/// cannot be read or written.
pub fn run(a: &FuzzOptions, progress: &mut dyn SearchProgress) -> Result<String> {
    ensure!(
        (0.0..=1.0).contains(&a.rate),
        "rate = {}, must be in [0, 1]",
        a.rate
    );
    ensure!(
        a.simu_len >= 2,
        "simu_len = {}, must be at least 2",
        a.simu_len
    );
    ensure!(
        (0.0..=1.0).contains(&a.shrink_keep),
        "shrink_keep = {}, must be in [0, 1]",
        a.shrink_keep
    );
    if let Some(k) = a.max_jobs {
        ensure!(k >= 1, "max_jobs = 0, must be at least 1");
    }
    let support = Support::new(a.workload, a.rate, a.simu_len, a.max_jobs);
    let command = a.command.clone();
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let (mut campaign, policy_name) = if a.merge.is_empty() {
        let name = PolicyName::parse(a.policy.as_deref().unwrap_or_default())?;
        let shard = match &a.shard {
            Some(s) => Shard::parse(s)?,
            None => Shard::ALL,
        };
        (
            campaign(a, &name, support, shard, &command, progress)?,
            name,
        )
    } else {
        let c = merge(&a.merge)?;
        let name = PolicyName::parse(&c.settings.policy)?;
        (c, name)
    };
    let target = target_of(&campaign.settings, &policy_name, a.slots)?;
    campaign.command = command.clone();
    campaign.fixtures = write_fixtures(&campaign, &target, &policy_name, a, &command)?;
    let path = a.out.join("campaign.json");
    std::fs::write(&path, serde_json::to_string_pretty(&campaign)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(report(&campaign))
}

fn target_of(s: &Settings, name: &PolicyName, slots: Slots) -> Result<Target> {
    let workload = parse_workloads(&s.workload)?[0];
    let slots = Slots::from_count(s.slots).unwrap_or(slots);
    let support = Support::new(workload, s.rate, s.simu_len, Some(s.max_jobs));
    let min_log_likelihood = match s.max_ll_drop {
        Some(d) => typical_log_likelihood(&support, s.seed, 1000).map(|t| t[0] - d),
        None => None,
    };
    let rules = if s.rules.is_empty() {
        None
    } else {
        RuleTexts {
            rules: s.rules.clone(),
            rule_c: s.rule_c.clone(),
        }
        .projection()?
    };
    let guard = s.guard.as_ref().map(|g| g.settings()).transpose()?;
    Ok(Target {
        policy: name.with(0.5, 0)?.projected(rules.clone()).guarded(guard)?,
        rules,
        guard,
        slots,
        time_cap: s.time_cap,
        support,
        objective: s.objective,
        min_log_likelihood,
    })
}

fn campaign(
    a: &FuzzOptions,
    name: &PolicyName,
    support: Support,
    shard: Shard,
    command: &str,
    progress: &mut dyn SearchProgress,
) -> Result<Campaign> {
    let settings = Settings {
        policy: name.name(),
        rules: a.rules.rules.clone(),
        rule_c: a.rules.rule_c.clone(),
        guard: a.guard.map(|g| g.report()),
        workload: support.workload.name().to_string(),
        rate: support.rate,
        simu_len: support.simu_len,
        slots: a.slots.count(),
        time_cap: a.time_cap,
        budget: a.budget,
        seed: a.seed,
        max_jobs: support.max_jobs,
        objective: a.objective,
        population: usize::try_from(a.population).unwrap_or(usize::MAX),
        max_ll_drop: a.max_ll_drop,
    };
    let target = target_of(&settings, name, a.slots)?;
    if let Some(m) = target.policy.required_slots() {
        ensure!(
            m == a.slots.count(),
            "the model decides for {m} job slots, but the cluster has {}",
            a.slots.count()
        );
    }
    let mut searches = Vec::new();
    for &kind in &a.searches {
        let cfg = SearchConfig {
            kind,
            budget: a.budget,
            seed: a.seed,
            shard,
            population: settings.population,
            keep: a.fixtures.max(1) * 4,
        };
        progress.start(kind, shard.budget(a.budget));
        let start = Instant::now();
        let result = search(&target, &cfg, &mut |done, best| {
            progress.update(done, best, a.objective);
        })?;
        progress.finish();
        let seconds = start.elapsed().as_secs_f64();
        eprintln!(
            "{}: {} sequences in {seconds:.1} s ({:.0}/s on {} threads), best {} {:.4}",
            kind.name(),
            result.evaluations,
            result.evaluations as f64 / seconds,
            rayon::current_num_threads(),
            a.objective.name(),
            result
                .best
                .first()
                .map_or(f64::NAN, |c| a.objective.value(c.excess(a.objective))),
        );
        searches.push(SearchReport {
            shards: vec![shard],
            seconds,
            threads: rayon::current_num_threads(),
            evaluations_per_second: result.evaluations as f64 / seconds,
            result,
        });
    }
    Ok(Campaign {
        typical_log_likelihood: typical_log_likelihood(&support, a.seed, 1000),
        settings,
        command: command.to_string(),
        searches,
        fixtures: Vec::new(),
    })
}

/// Combines the campaign.json files of shard runs: same settings, distinct shards.
fn merge(dirs: &[PathBuf]) -> Result<Campaign> {
    let mut merged: Option<Campaign> = None;
    for dir in dirs {
        let path = dir.join("campaign.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let c: Campaign = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a fuzz campaign", path.display()))?;
        let Some(m) = merged.as_mut() else {
            merged = Some(c);
            continue;
        };
        ensure!(
            m.settings == c.settings,
            "{}: settings differ from the first campaign's",
            path.display()
        );
        ensure!(
            m.searches.len() == c.searches.len(),
            "{}: different searches",
            path.display()
        );
        for (ms, cs) in m.searches.iter_mut().zip(c.searches) {
            ensure!(
                ms.result.search == cs.result.search,
                "{}: different searches",
                path.display()
            );
            if cs.shards.iter().any(|s| ms.shards.contains(s)) {
                bail!("{}: shard merged twice", path.display());
            }
            ms.shards.extend(cs.shards);
            ms.seconds += cs.seconds;
            ms.evaluations_per_second += cs.evaluations_per_second;
            let r = &mut ms.result;
            r.evaluations += cs.result.evaluations;
            r.scored += cs.result.scored;
            r.worse_than_sjf += cs.result.worse_than_sjf;
            r.best.extend(cs.result.best);
        }
    }
    let mut m = merged.context("merging needs at least one shard directory")?;
    let obj = m.settings.objective;
    for s in &mut m.searches {
        s.shards.sort_by_key(|s| s.index);
        s.result.best.sort_by(|a, b| rank(a, b, obj));
    }
    Ok(m)
}

fn write_fixtures(
    c: &Campaign,
    target: &Target,
    policy: &PolicyName,
    a: &FuzzOptions,
    command: &str,
) -> Result<Vec<String>> {
    let obj = c.settings.objective;
    let mut pool: Vec<&Candidate> = c.searches.iter().flat_map(|s| &s.result.best).collect();
    pool.sort_by(|x, y| rank(x, y, obj).then(x.search.name().cmp(y.search.name())));
    let mut written = Vec::new();
    let mut kept: Vec<Vec<whitebox_core::Job>> = Vec::new();
    let shards = c.searches.first().map_or(1, |s| s.shards.len());
    let stem = format!(
        "{}-{}-{}-seed{}{}",
        policy_stem(policy),
        c.settings.workload,
        obj.name(),
        c.settings.seed,
        match (&a.shard, shards) {
            (Some(s), 1) => format!("-shard{}", s.replace('/', "of")),
            _ => String::new(),
        }
    );
    for cand in pool {
        if written.len() >= a.fixtures {
            break;
        }
        let excess = cand.excess(obj);
        if excess <= 0.0 || kept.contains(&cand.jobs) {
            continue;
        }
        let threshold = (a.shrink_keep * excess).max(f64::MIN_POSITIVE);
        let Some(sh) = shrink(target, &cand.jobs, threshold)? else {
            continue;
        };
        if kept.contains(&sh.jobs) {
            continue;
        }
        kept.push(cand.jobs.clone());
        kept.push(sh.jobs.clone());
        let fx = fixture::build(
            target,
            policy,
            sh.jobs,
            sh.score,
            (cand, sh.tries, threshold),
            c.typical_log_likelihood,
            c.settings.seed,
            command,
            (&c.settings.rules, &c.settings.rule_c),
        )?;
        let name = format!("{stem}-{}.json", written.len() + 1);
        fixture::write(&a.out.join(&name), &fx)?;
        eprintln!(
            "wrote {name}: {} jobs (from {}), gap {:.4}, ratio {:.4} (policy {:.4}, sjf {:.4})",
            fx.jobs.len(),
            cand.jobs.len(),
            fx.gap,
            fx.ratio,
            fx.policy_mean_slowdown,
            fx.sjf_mean_slowdown
        );
        written.push(name);
    }
    Ok(written)
}

fn policy_stem(p: &PolicyName) -> String {
    match p {
        PolicyName::Model(path) => Path::new(path)
            .file_stem()
            .map_or("model".to_string(), |s| s.to_string_lossy().into_owned()),
        other => other.name(),
    }
}

fn report(c: &Campaign) -> String {
    let obj = c.settings.objective;
    let mut out = format!(
        "policy {} vs sjf on {} (rate {}, simu_len {}, <= {} jobs), objective {}, budget {} per search, seed {}\n",
        c.settings.policy,
        c.settings.workload,
        c.settings.rate,
        c.settings.simu_len,
        c.settings.max_jobs,
        obj.name(),
        c.settings.budget,
        c.settings.seed
    );
    out += &format!(
        "{:<8} {:>11} {:>9} {:>14} {:>10} {:>10} {:>10} {:>8} {:>11}\n",
        "search",
        "evaluated",
        "seconds",
        "sequences/s",
        "worse",
        format!("best {}", obj.name()),
        "policy",
        "sjf",
        "best ll"
    );
    let support = Support::new(
        parse_workloads(&c.settings.workload)
            .ok()
            .and_then(|w| w.first().copied())
            .unwrap_or(whitebox_core::workload::Workload::DeepRm),
        c.settings.rate,
        c.settings.simu_len,
        Some(c.settings.max_jobs),
    );
    for s in &c.searches {
        let r = &s.result;
        let best = r.best.first();
        let score = best.and_then(|b| b.score);
        out += &format!(
            "{:<8} {:>11} {:>9.1} {:>14.0} {:>10} {:>10.4} {:>10.4} {:>8.4} {:>11.1}\n",
            r.search.name(),
            r.evaluations,
            s.seconds,
            s.evaluations_per_second,
            r.worse_than_sjf,
            best.map_or(f64::NAN, |b| obj.value(b.excess(obj))),
            score.map_or(f64::NAN, |s| s.policy_mean_slowdown),
            score.map_or(f64::NAN, |s| s.sjf_mean_slowdown),
            best.and_then(|b| support.log_likelihood(&b.jobs))
                .unwrap_or(f64::NAN),
        );
    }
    if let Some(t) = c.typical_log_likelihood {
        out += &format!(
            "generator log-likelihood: mean {:.1}, 5% {:.1}, median {:.1}, 95% {:.1}\n",
            t[0], t[1], t[2], t[3]
        );
    }
    for f in &c.fixtures {
        out += &format!("fixture {f}\n");
    }
    out
}
