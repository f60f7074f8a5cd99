//! `whitebox check`: checks a CI job can act on, each passed or failed with the numbers behind
//! it.
//!
//! * **fixtures**: every adversarial job sequence in a directory (as `whitebox fuzz` writes
//!   them) replays with `mean slowdown(policy) / mean slowdown(SJF) <= max_ratio`, SJF under
//!   the same rules;
//! * **held-out**: on generated job sets (paired: both policies see the same sets), the policy's
//!   mean slowdown is at most `(1 + margin)` times SJF's;
//! * **golden**: every decision trace in a directory replays bit for bit;
//! * **search**: the fixtures an adversarial search (`fuzz::campaign`, run by the caller just
//!   before) wrote meet the same ratio bound as the fixtures.
//!
//! A check that cannot be computed (no job started, a run cut by the time cap) fails with the
//! reason; it never passes by default.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use whitebox_core::workload::Workload;
use whitebox_core::{Job, Projection};

use crate::eval::{evaluate, paired_slowdown_difference, EvalConfig};
use crate::trace::replay;
use whitebox_runtime::guard::GuardSettings;
use whitebox_runtime::play::play;
use whitebox_runtime::policy::{NamedPolicy, PolicyName, PolicySpec};
use whitebox_runtime::settings::{End, Slots, SIMU_LEN, TIME_CAP};
use whitebox_runtime::{jobfile, shipped};

/// The held-out check's job sets.
#[derive(Clone, Debug)]
pub struct HeldOut {
    /// Workload of the generated job sets.
    pub workload: Workload,
    /// Arrival rate, jobs per time step, in `[0, 1]`.
    pub rate: f64,
    /// Number of job sets (at least 1).
    pub jobsets: usize,
    /// Base seed of the job sets (`eval`'s seeds).
    pub seed: u64,
    /// Allowed relative excess over SJF's mean slowdown, `>= 0` (0.05: at most 5% worse).
    pub margin: f64,
}

/// What to check.
#[derive(Clone, Debug)]
pub struct CheckSettings {
    /// The policy under test.
    pub policy: PolicyName,
    /// Rules the policy and SJF are both projected onto.
    pub rules: Option<Projection>,
    /// A guard insuring the (learned) policy against SJF.
    pub guard: Option<GuardSettings>,
    /// Visible job slots of the held-out check, and of fixtures that do not record theirs.
    pub slots: Slots,
    /// Directory of adversarial fixtures (`*.json` with a `jobs` array; other JSON is skipped).
    pub fixtures: Option<PathBuf>,
    /// Largest allowed `policy / SJF` mean-slowdown ratio on a fixture, `>= 1`.
    pub max_ratio: f64,
    /// The held-out check, if any.
    pub held_out: Option<HeldOut>,
    /// Directory of decision traces to replay, if any.
    pub golden: Option<PathBuf>,
    /// Output directory of an adversarial search just run (`fuzz::campaign`): the fixtures its
    /// `campaign.json` lists are checked like [`CheckSettings::fixtures`], under `search`.
    pub search: Option<PathBuf>,
}

/// One check's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct CheckCase {
    /// `fixtures`, `held-out` or `golden`.
    pub suite: &'static str,
    /// What was checked (a file name, or the workload and rate).
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// The numbers behind the verdict.
    pub message: String,
    /// Wall time of the check, in seconds.
    pub seconds: f64,
}

/// The report of `whitebox check`.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// The policy under test, with `+guard` and `+rules` as it was played.
    pub policy: String,
    /// Every check, in the order run.
    pub cases: Vec<CheckCase>,
}

impl CheckReport {
    /// Checks that failed.
    pub fn failures(&self) -> usize {
        self.cases.iter().filter(|c| !c.passed).count()
    }
}

impl CheckSettings {
    /// The policy under test as played: guarded, then projected onto the rules.
    fn tested(&self) -> NamedPolicy {
        let mut p = NamedPolicy::from(self.policy.clone()).with_guard(self.guard);
        if self.guard.is_some() {
            p.label += "+guard";
        }
        self.projected(p)
    }

    /// `p` projected onto the rules, labelled `+rules`; unchanged without rules.
    fn projected(&self, mut p: NamedPolicy) -> NamedPolicy {
        if self.rules.is_some() {
            p.label += "+rules";
        }
        p.with_rules(self.rules.clone())
    }
}

/// Runs every check asked for; `on_job_set` is called (from any thread) after each held-out job
/// set.
///
/// # Errors
/// Settings out of range (named with the value and limit), a policy that cannot be loaded, an
/// unreadable directory or fixture, or no check asked for. A check that runs and fails is not
/// an error: it is a failed [`CheckCase`].
pub fn check(s: &CheckSettings, on_job_set: &(dyn Fn() + Sync)) -> Result<CheckReport> {
    if !(s.max_ratio >= 1.0 && s.max_ratio.is_finite()) {
        bail!("max ratio = {}, must be a number >= 1", s.max_ratio);
    }
    if s.fixtures.is_none() && s.held_out.is_none() && s.golden.is_none() && s.search.is_none() {
        bail!("no check asked for: give fixtures, held-out job sets, golden traces or a search");
    }
    let tested = s.tested();
    let policy = tested.resolve(0.5, 0)?;
    let sjf = s
        .projected(NamedPolicy::from(PolicyName::Sjf))
        .resolve(0.5, 0)?;
    let mut cases = Vec::new();
    if let Some(dir) = &s.fixtures {
        for path in json_files(dir)? {
            let start = Instant::now();
            let Some((jobs, slots)) = read_fixture(&path, s.slots)? else {
                continue;
            };
            let (passed, message) = fixture_ratio(&jobs, slots, &policy, &sjf, s.max_ratio)
                .with_context(|| format!("fixture {}", path.display()))?;
            cases.push(case("fixtures", file_name(&path), passed, message, start));
        }
    }
    if let Some(dir) = &s.search {
        let written = campaign_fixtures(dir)?;
        if written.is_empty() {
            let message = "no sequence found on which the policy loses to SJF".to_string();
            cases.push(case(
                "search",
                "campaign".into(),
                true,
                message,
                Instant::now(),
            ));
        }
        for path in written {
            let start = Instant::now();
            let Some((jobs, slots)) = read_fixture(&path, s.slots)? else {
                bail!("search fixture {} has no jobs", path.display());
            };
            let (passed, message) = fixture_ratio(&jobs, slots, &policy, &sjf, s.max_ratio)
                .with_context(|| format!("fixture {}", path.display()))?;
            cases.push(case("search", file_name(&path), passed, message, start));
        }
    }
    if let Some(h) = &s.held_out {
        let start = Instant::now();
        let (passed, message) = held_out(s, h, &tested, on_job_set)?;
        let name = format!(
            "{} rate {} ({} job sets)",
            h.workload.name(),
            h.rate,
            h.jobsets
        );
        cases.push(case("held-out", name, passed, message, start));
    }
    if let Some(dir) = &s.golden {
        for path in json_files(dir)? {
            let start = Instant::now();
            let (passed, message) = match replay(&path, None)? {
                None => (true, "identical".to_string()),
                Some(d) => (false, format!("diverges: {d}")),
            };
            cases.push(case("golden", file_name(&path), passed, message, start));
        }
    }
    Ok(CheckReport {
        policy: tested.label,
        cases,
    })
}

fn case(
    suite: &'static str,
    name: String,
    passed: bool,
    message: String,
    start: Instant,
) -> CheckCase {
    CheckCase {
        suite,
        name,
        passed,
        message,
        seconds: start.elapsed().as_secs_f64(),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The `*.json` files of `dir`, sorted by name.
fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = shipped::list_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    files.retain(|p| p.extension().is_some_and(|e| e == "json") && !p.is_dir());
    files.sort();
    if files.is_empty() {
        bail!("directory {} holds no .json file", dir.display());
    }
    Ok(files)
}

/// The fixtures a campaign wrote, as listed in its `DIR/campaign.json` (older files in `DIR` are
/// not checked).
fn campaign_fixtures(dir: &Path) -> Result<Vec<PathBuf>> {
    let path = dir.join("campaign.json");
    let text = shipped::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let names = value
        .get("fixtures")
        .and_then(serde_json::Value::as_array)
        .with_context(|| format!("{} has no `fixtures` list", path.display()))?;
    names
        .iter()
        .map(|n| {
            n.as_str()
                .map(|n| dir.join(n))
                .with_context(|| format!("{}: fixture name {n} is not text", path.display()))
        })
        .collect()
}

/// A fixture's jobs and slot count (its recorded `slots`, else `slots`); `None` for JSON
/// without a `jobs` array (such as a campaign summary).
///
/// # Errors
/// An unreadable file, invalid JSON or jobs, or a recorded slot count other than 5 or 10.
pub fn read_fixture(path: &Path, slots: Slots) -> Result<Option<(Vec<Job>, Slots)>> {
    let text = shipped::read_to_string(path)
        .with_context(|| format!("cannot read fixture {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("fixture {} is not JSON", path.display()))?;
    if value.get("jobs").is_none() {
        return Ok(None);
    }
    let jobs = jobfile::parse(&text).with_context(|| format!("fixture {}", path.display()))?;
    let slots = match value.get("slots").and_then(serde_json::Value::as_u64) {
        None => slots,
        Some(5) => Slots::Five,
        Some(10) => Slots::Ten,
        Some(n) => bail!("fixture {}: slots = {n}, must be 5 or 10", path.display()),
    };
    Ok(Some((jobs, slots)))
}

/// A policy and SJF on one job sequence, all-done with the default time cap: their mean
/// slowdowns (`None`: no job started) and whether each run was cut by the time cap.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FixtureRun {
    /// The policy's mean slowdown.
    pub policy: Option<f64>,
    /// SJF's mean slowdown.
    pub sjf: Option<f64>,
    /// The policy's run hit the time cap.
    pub policy_truncated: bool,
    /// SJF's run hit the time cap.
    pub sjf_truncated: bool,
}

impl FixtureRun {
    /// `policy / sjf`, when both started a job and neither run was truncated.
    pub fn ratio(&self) -> Option<f64> {
        if self.policy_truncated || self.sjf_truncated {
            return None;
        }
        Some(self.policy? / self.sjf?)
    }
}

/// Plays `jobs` with `policy` and with `sjf` (all-done, time cap [`TIME_CAP`]).
///
/// # Errors
/// Invalid jobs or a failing policy.
pub fn fixture_run(
    jobs: &[Job],
    slots: Slots,
    policy: &PolicySpec,
    sjf: &PolicySpec,
) -> Result<FixtureRun> {
    let end = End::AllDone.mode(SIMU_LEN, TIME_CAP);
    let p = play(jobs, slots, end, policy, &mut ())?;
    let s = play(jobs, slots, end, sjf, &mut ())?;
    Ok(FixtureRun {
        policy: p.mean_slowdown,
        sjf: s.mean_slowdown,
        policy_truncated: p.truncated,
        sjf_truncated: s.truncated,
    })
}

/// The all-done ratio check on one fixture: `(passed, message)`.
fn fixture_ratio(
    jobs: &[Job],
    slots: Slots,
    policy: &PolicySpec,
    sjf: &PolicySpec,
    max_ratio: f64,
) -> Result<(bool, String)> {
    let run = fixture_run(jobs, slots, policy, sjf)?;
    if run.policy_truncated || run.sjf_truncated {
        let who = if run.policy_truncated {
            "the policy"
        } else {
            "SJF"
        };
        return Ok((false, format!("{who} hit the time cap {TIME_CAP}")));
    }
    let (Some(pm), Some(sm)) = (run.policy, run.sjf) else {
        return Ok((false, "no job started, so there is no slowdown".to_string()));
    };
    let ratio = pm / sm;
    let passed = ratio <= max_ratio;
    let verdict = if passed { "<=" } else { ">" };
    Ok((
        passed,
        format!("ratio {ratio:.3} {verdict} max {max_ratio} (mean slowdown {pm:.3}, SJF {sm:.3})"),
    ))
}

/// The held-out check: `(passed, message)`.
fn held_out(
    s: &CheckSettings,
    h: &HeldOut,
    tested: &NamedPolicy,
    on_job_set: &(dyn Fn() + Sync),
) -> Result<(bool, String)> {
    if !(h.margin >= 0.0 && h.margin.is_finite()) {
        bail!("margin = {}, must be a number >= 0", h.margin);
    }
    let mut sjf = s.projected(NamedPolicy::from(PolicyName::Sjf));
    if sjf.label == tested.label {
        sjf.label += " (reference)";
    }
    let cfg = EvalConfig {
        workloads: vec![h.workload],
        rates: vec![h.rate],
        jobsets: h.jobsets,
        seed: h.seed,
        policies: vec![sjf, tested.clone()],
        slots: s.slots,
        end: End::AllDone,
        simu_len: SIMU_LEN,
        time_cap: TIME_CAP,
        tetris_knob: 0.5,
        job_slowdowns: false,
    };
    let report = evaluate(&cfg, on_job_set)?;
    let [sjf_row, row] = report.rows.as_slice() else {
        bail!(
            "internal error: held-out evaluation gave {} rows",
            report.rows.len()
        );
    };
    let d = paired_slowdown_difference(row, sjf_row);
    let (Some(sm), Some(pm), Some(d)) = (sjf_row.slowdown, row.slowdown, d) else {
        return Ok((false, "no job set had a job started".to_string()));
    };
    let limit = h.margin * sm.mean;
    let passed = d.mean <= limit;
    let ci = d
        .ci95
        .map_or(String::new(), |(a, b)| format!(" [{a:+.3}, {b:+.3}]"));
    let verdict = if passed { "<=" } else { ">" };
    Ok((
        passed,
        format!(
            "mean slowdown {:.3} vs SJF {:.3} over {} job sets: paired difference {:+.3}{ci} \
             {verdict} allowed {limit:.3} (margin {} of SJF)",
            pm.mean, sm.mean, d.n, d.mean, h.margin
        ),
    ))
}
