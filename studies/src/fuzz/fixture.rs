//! Adversarial fixtures: a found (and shrunk) sequence as a job file for `whitebox simulate`,
//! with both schedules, the gap, and the seed and command that found it.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use serde::Serialize;
use whitebox_core::Job;

use super::{job_serde, Candidate, Objective, Score, Target};
use crate::simulate::{simulate_with_rules, JobReport, RuleSettings, SimSettings};
use whitebox_runtime::policy::PolicyName;
use whitebox_runtime::settings::End;

/// Where a fixture came from, before shrinking.
#[derive(Clone, Debug, Serialize)]
pub struct Origin {
    /// The search that found it.
    pub search: &'static str,
    /// The shard that found it.
    pub shard: u32,
    /// Its index in that shard's evaluation order.
    pub index: u64,
    /// Its score before shrinking.
    pub score: Score,
    /// Jobs before shrinking.
    pub jobs: usize,
    /// Sequences evaluated while shrinking.
    pub shrink_tries: u64,
    /// The excess the shrunk sequence had to keep.
    pub shrink_threshold: f64,
}

/// The JSON of a fixture. Its `jobs` array makes it a job file.
#[derive(Clone, Debug, Serialize)]
pub struct Fixture {
    /// The sequence (arrival, len, res), sorted by arrival.
    #[serde(with = "job_serde")]
    pub jobs: Vec<Job>,
    /// `policy_mean_slowdown - sjf_mean_slowdown`.
    pub gap: f64,
    /// `policy_mean_slowdown / sjf_mean_slowdown`.
    pub ratio: f64,
    /// Mean slowdown of the policy (all-done).
    pub policy_mean_slowdown: f64,
    /// Mean slowdown of SJF (all-done).
    pub sjf_mean_slowdown: f64,
    /// What the search maximized.
    pub objective: Objective,
    /// The policy, as on the command line.
    pub policy: String,
    /// Operator rules the policy was projected onto (`--rule`), and their strength.
    pub rules: Vec<String>,
    /// Projection strength (`--rule-c`).
    pub rule_c: String,
    /// The guard of the policy (`--guard`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<whitebox_runtime::guard::GuardReportSettings>,
    /// Job slots.
    pub slots: usize,
    /// End mode of both episodes.
    pub end: &'static str,
    /// Time cap, in steps.
    pub time_cap: u32,
    /// Workload whose support was searched.
    pub workload: &'static str,
    /// Its arrival rate.
    pub rate: f64,
    /// Its arrival window, in steps.
    pub simu_len: u32,
    /// Natural log-likelihood of `jobs` under the workload's generator.
    pub log_likelihood: Option<f64>,
    /// The generator's own sequences: mean, 5th, 50th and 95th percentile log-likelihood.
    pub typical_log_likelihood: Option<[f64; 4]>,
    /// The policy's schedule, per job (as `whitebox simulate` reports it).
    pub policy_schedule: Vec<JobReport>,
    /// SJF's schedule, per job.
    pub sjf_schedule: Vec<JobReport>,
    /// Master seed of the campaign.
    pub seed: u64,
    /// The command that found it.
    pub command: String,
    /// Where it came from.
    pub found: Origin,
}

fn schedule(
    jobs: &[Job],
    target: &Target,
    policy: PolicyName,
    rules: Option<whitebox_core::Projection>,
    guard: Option<whitebox_runtime::guard::GuardSettings>,
) -> Result<(Vec<JobReport>, f64)> {
    let settings = SimSettings {
        policy,
        slots: target.slots,
        end: End::AllDone,
        simu_len: target.support.simu_len,
        time_cap: target.time_cap,
        seed: 0,
        tetris_knob: 0.5,
        guard,
    };
    let rules = RuleSettings {
        rules,
        explain_all: false,
    };
    let r = simulate_with_rules(jobs, &settings, &rules)?;
    ensure!(
        !r.summary.truncated,
        "internal error: a fixture episode was truncated"
    );
    let mean = r
        .summary
        .mean_slowdown
        .context("internal error: a fixture episode allocated nothing")?;
    Ok((r.jobs, mean))
}

/// Builds a fixture for a shrunk sequence and checks, through `whitebox simulate`'s own code
/// path, that it reproduces the score.
///
/// # Errors
/// When simulation fails or (an internal bug) does not reproduce `score`.
#[allow(clippy::too_many_arguments)]
pub fn build(
    target: &Target,
    policy: &PolicyName,
    jobs: Vec<Job>,
    score: Score,
    origin: (&Candidate, u64, f64),
    typical: Option<[f64; 4]>,
    seed: u64,
    command: &str,
    rules: (&[String], &str),
) -> Result<Fixture> {
    let (policy_schedule, pm) = schedule(
        &jobs,
        target,
        policy.clone(),
        target.rules.clone(),
        target.guard,
    )?;
    let (sjf_schedule, sm) = schedule(&jobs, target, PolicyName::Sjf, None, None)?;
    ensure!(
        pm == score.policy_mean_slowdown && sm == score.sjf_mean_slowdown,
        "internal error: replay gives {pm} / {sm}, the search measured {} / {}",
        score.policy_mean_slowdown,
        score.sjf_mean_slowdown
    );
    let (found, tries, threshold) = origin;
    Ok(Fixture {
        log_likelihood: target.support.log_likelihood(&jobs),
        jobs,
        gap: score.gap,
        ratio: score.ratio,
        policy_mean_slowdown: pm,
        sjf_mean_slowdown: sm,
        objective: target.objective,
        policy: policy.name(),
        rules: rules.0.to_vec(),
        rule_c: rules.1.to_string(),
        guard: target.guard.map(|g| g.report()),
        slots: target.slots.count(),
        end: End::AllDone.name(),
        time_cap: target.time_cap,
        workload: target.support.workload.name(),
        rate: target.support.rate,
        simu_len: target.support.simu_len,
        typical_log_likelihood: typical,
        policy_schedule,
        sjf_schedule,
        seed,
        command: command.to_string(),
        found: Origin {
            search: found.search.name(),
            shard: found.shard,
            index: found.index,
            score: found.score.unwrap_or(score),
            jobs: found.jobs.len(),
            shrink_tries: tries,
            shrink_threshold: threshold,
        },
    })
}

/// Writes a fixture as pretty JSON.
///
/// # Errors
/// When the file cannot be written.
pub fn write(path: &Path, fixture: &Fixture) -> Result<()> {
    let text = serde_json::to_string_pretty(fixture)? + "\n";
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
