//! `whitebox check`: a gate for CI. Runs the checks of [`whitebox_studies::check`], prints one
//! line per check, optionally writes a JUnit XML report, and exits 0 when every check passed,
//! 1 when one failed and 2 when the checks could not run (bad flags or files).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use whitebox_runtime::lists::{parse_rate, parse_workload};
use whitebox_runtime::policy::PolicyName;
use whitebox_runtime::settings::{SIMU_LEN, TIME_CAP};
use whitebox_studies::check::{check, CheckReport, CheckSettings, HeldOut};
use whitebox_studies::fuzz::campaign::{self, FuzzOptions};
use whitebox_studies::fuzz::{Objective, SearchKind};

use crate::args::{usize_of, GuardArgs, RuleArgs, SlotsArg};
use crate::output::emit;
use crate::progress;

/// Base seed of the held-out job sets: neither `eval`'s default (1000) nor the demo's (7000),
/// and far below the seeds training and validation draw from (`2^40` and up).
pub const CHECK_SEED: u64 = 9_000;

/// Arguments of `whitebox check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The policy under test (e.g. model:fixtures/models/default.model).
    #[arg(long)]
    pub policy: String,
    /// Operator rules the policy and SJF are both projected onto.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// A guard insuring the policy under test against SJF.
    #[command(flatten)]
    pub guard: GuardArgs,
    /// Directory of adversarial fixtures (JSON job files, as `whitebox fuzz` writes them; JSON
    /// without a `jobs` array is skipped), or `none`.
    #[arg(long, default_value = "fixtures/adversarial", value_name = "DIR")]
    pub fixtures: String,
    /// Largest allowed mean-slowdown ratio policy / SJF on each fixture (all-done, >= 1).
    #[arg(long, default_value_t = 1.5, value_name = "F")]
    pub max_ratio: f64,
    /// Held-out job sets the policy's mean slowdown is compared with SJF's on (0: skip).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub jobsets: u64,
    /// Workload of the held-out job sets: deeprm, long-jobs, wide-demands, bursty.
    #[arg(long, default_value = "deeprm")]
    pub workload: String,
    /// Arrival rate of the held-out job sets, in [0, 1] jobs per time step.
    #[arg(long, default_value = "0.7", allow_hyphen_values = true)]
    pub rate: String,
    /// Base seed of the held-out job sets (job set k uses seed * 1000003 + k).
    #[arg(long, default_value_t = CHECK_SEED)]
    pub seed: u64,
    /// Allowed excess of the policy's held-out mean slowdown over SJF's, as a share of SJF's
    /// (0.05: at most 5% worse).
    #[arg(
        long,
        default_value_t = 0.05,
        value_name = "F",
        allow_hyphen_values = true
    )]
    pub margin: f64,
    /// Directory of decision traces that must replay bit for bit (e.g. fixtures/golden).
    #[arg(long, value_name = "DIR")]
    pub golden: Option<PathBuf>,
    /// Visible job slots of the held-out job sets (fixtures use the count they record).
    #[arg(long, default_value = "10")]
    pub slots: SlotsArg,
    /// Sequences an adversarial search (`whitebox fuzz`, ratio objective, random and
    /// evolutionary) evaluates against SJF per search; its shrunk fixtures, written to --out,
    /// must meet --max-ratio too (0: no search).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub budget: u64,
    /// Output directory of the search: campaign.json and the fixtures, replayable with
    /// `whitebox simulate` or `check --fixtures DIR`.
    #[arg(long, default_value = "whitebox-check", value_name = "DIR")]
    pub out: PathBuf,
    /// Write a JUnit XML report here (one test suite per kind of check).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Runs `whitebox check` and gives its exit code: 0 all passed, 1 a check failed, 2 the checks
/// could not run (the error is printed).
pub fn run(a: &CheckArgs) -> ExitCode {
    match checks(a) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the checks, prints them, writes the JUnit file; `Ok(true)` when all passed.
fn checks(a: &CheckArgs) -> Result<bool> {
    let mut settings = settings(a)?;
    if a.budget > 0 {
        search(a, &settings)?;
        settings.search = Some(a.out.clone());
    }
    let tasks = settings.held_out.as_ref().map_or(0, |h| h.jobsets);
    let report = progress::job_sets(tasks, |tick| check(&settings, tick))?;
    if let Some(path) = &a.junit {
        let xml = junit(&report)
            .to_string()
            .context("cannot write the JUnit report")?;
        std::fs::write(path, xml)
            .with_context(|| format!("--junit: cannot write {}", path.display()))?;
    }
    emit(&text(&report))?;
    Ok(report.failures() == 0)
}

/// Runs the adversarial search into `--out` (the seed is `--seed`, the workload and rate those
/// of the held-out job sets).
fn search(a: &CheckArgs, s: &CheckSettings) -> Result<()> {
    let options = FuzzOptions {
        policy: Some(a.policy.clone()),
        rules: a.rules.texts(),
        guard: s.guard,
        workload: parse_workload(&a.workload).context("--workload")?,
        rate: parse_rate(&a.rate).context("--rate")?,
        simu_len: SIMU_LEN,
        slots: s.slots,
        time_cap: TIME_CAP,
        budget: a.budget,
        seed: a.seed,
        max_jobs: None,
        shard: None,
        objective: Objective::Ratio,
        searches: vec![SearchKind::Random, SearchKind::Evolve],
        population: 64,
        fixtures: 3,
        shrink_keep: 0.5,
        max_ll_drop: None,
        merge: Vec::new(),
        out: a.out.clone(),
        command: super::fuzz::command_line(),
    };
    campaign::run(&options, &mut progress::Searches::default()).context("adversarial search")?;
    Ok(())
}

/// The study's settings from the flags, each checked with its flag named.
fn settings(a: &CheckArgs) -> Result<CheckSettings> {
    if !(a.max_ratio >= 1.0 && a.max_ratio.is_finite()) {
        bail!("--max-ratio = {}, must be a number >= 1", a.max_ratio);
    }
    if !(a.margin >= 0.0 && a.margin.is_finite()) {
        bail!("--margin = {}, must be a number >= 0", a.margin);
    }
    let held_out = (a.jobsets > 0)
        .then(|| -> Result<HeldOut> {
            Ok(HeldOut {
                workload: parse_workload(&a.workload).context("--workload")?,
                rate: parse_rate(&a.rate).context("--rate")?,
                jobsets: usize_of(a.jobsets, "--jobsets")?,
                seed: a.seed,
                margin: a.margin,
            })
        })
        .transpose()?;
    let fixtures = (a.fixtures != "none").then(|| PathBuf::from(&a.fixtures));
    for (flag, dir) in [("--fixtures", &fixtures), ("--golden", &a.golden)] {
        // The shipped fixtures are built in (runtime::shipped); golden traces are not.
        let missing = |d: &&PathBuf| !d.is_dir() && !whitebox_runtime::shipped::available(d);
        if let Some(dir) = dir.as_ref().filter(missing) {
            bail!(
                "{flag}: directory {} not found (paths are relative to the current directory{})",
                dir.display(),
                if flag == "--fixtures" {
                    "; --fixtures none skips the fixtures"
                } else {
                    ""
                }
            );
        }
    }
    Ok(CheckSettings {
        policy: PolicyName::parse(&a.policy).context("--policy")?,
        rules: a.rules.projection()?,
        guard: a.guard.settings()?,
        slots: a.slots.into(),
        fixtures,
        max_ratio: a.max_ratio,
        held_out,
        golden: a.golden.clone(),
        search: None,
    })
}

/// One line per check, then the count of failures.
fn text(r: &CheckReport) -> String {
    let mut out = format!("checks of {}\n", r.policy);
    for c in &r.cases {
        let verdict = if c.passed { "pass" } else { "FAIL" };
        out += &format!("{verdict} {} {}: {}\n", c.suite, c.name, c.message);
    }
    out += &format!("{} checks, {} failed\n", r.cases.len(), r.failures());
    out
}

/// The report as JUnit XML: one test suite per kind of check, one test case per check.
fn junit(r: &CheckReport) -> Report {
    let mut report = Report::new(format!("whitebox check {}", r.policy));
    for suite_name in ["fixtures", "search", "held-out", "golden"] {
        let mut suite = TestSuite::new(suite_name);
        for c in r.cases.iter().filter(|c| c.suite == suite_name) {
            let status = if c.passed {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(c.message.clone());
                s
            };
            let mut case = TestCase::new(c.name.clone(), status);
            case.set_classname(format!("whitebox.check.{suite_name}"))
                .set_time(Duration::from_secs_f64(c.seconds))
                .set_system_out(c.message.clone());
            suite.add_test_case(case);
        }
        if suite.tests > 0 {
            report.add_test_suite(suite);
        }
    }
    report
}
