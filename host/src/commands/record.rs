//! `whitebox record`: a learned policy's decision trace on one job file.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use whitebox_core::guard::{GuardMode, GuardParams, C_MAX, EPS_MAX};
use whitebox_runtime::guard::ModeName;
use whitebox_runtime::jobfile;
use whitebox_runtime::policy::PolicyName;
use whitebox_runtime::settings::{SIMU_LEN, TIME_CAP};
use whitebox_studies::trace::{end_ref, record};

use crate::args::{EndArg, RuleArgs};

/// Arguments of `whitebox record`.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The learned policy, `model:PATH` (baselines have no logits to record).
    #[arg(long)]
    pub policy: String,
    /// Job file: JSON with a `jobs` array of {arrival, len, res}, sorted by arrival.
    #[arg(long)]
    pub jobs: PathBuf,
    /// When the episode ends.
    #[arg(long, default_value = "all-done")]
    pub end: EndArg,
    /// Arrival window for `no-new-job`, in time steps.
    #[arg(long, default_value_t = SIMU_LEN)]
    pub simu_len: u32,
    /// Time cap for `all-done`, in time steps.
    #[arg(long, default_value_t = TIME_CAP)]
    pub time_cap: u32,
    /// Trace file to write (e.g. fixtures/golden/NAME.json).
    #[arg(long)]
    pub out: PathBuf,
    /// Operator rules every decision is projected onto; recorded with their verdicts.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Guard the model against SJF (under the same rules): renewal (proved bound) or budget
    /// (empirical bound); the trace records every hand-over and who decided each decision.
    /// Absent: no guard.
    #[arg(long = "guard", value_name = "MODE")]
    pub guard: Option<String>,
    /// Relative slack of the guard's budget test, in [0, 10].
    #[arg(
        long,
        default_value = "0.1",
        value_name = "F",
        allow_hyphen_values = true
    )]
    pub guard_eps: String,
    /// Additive slack of the guard's budget test, in slowdown units (total charge), in
    /// [0, 1000000].
    #[arg(
        long,
        default_value = "5",
        value_name = "F",
        allow_hyphen_values = true
    )]
    pub guard_c: String,
}

impl RecordArgs {
    /// The guard parameters, or `None` without `--guard`; `--guard-eps` and `--guard-c` are
    /// checked either way.
    ///
    /// # Errors
    /// An unknown mode or a parameter that is not a number in its range, named with its flag,
    /// its value and the allowed range.
    fn guard(&self) -> Result<Option<GuardParams>> {
        let number = |flag: &str, text: &str, max: f32| -> Result<f32> {
            text.trim().parse::<f32>().map_err(|_| {
                anyhow!("{flag} {text}: not a number; allowed: a number in [0, {max}]")
            })
        };
        let eps = number("--guard-eps", &self.guard_eps, EPS_MAX)?;
        let c = number("--guard-c", &self.guard_c, C_MAX)?;
        // Each parameter checked alone, so the error names its own flag.
        GuardParams::new(GuardMode::Renewal, eps, 0.0).context("--guard-eps")?;
        GuardParams::new(GuardMode::Renewal, 0.0, c).context("--guard-c")?;
        let Some(mode) = &self.guard else {
            return Ok(None);
        };
        let mode: ModeName = mode.parse().context("--guard")?;
        Ok(Some(GuardParams::new(mode.0, eps, c)?))
    }
}

/// Runs `whitebox record`.
///
/// # Errors
/// A policy that is not `model:PATH`, and as [`record`]; a failure to write the trace.
pub fn run(a: &RecordArgs) -> Result<()> {
    let PolicyName::Model(path) = PolicyName::parse(&a.policy).context("--policy")? else {
        bail!(
            "--policy {}: record needs a learned policy model:PATH (baselines have no logits)",
            a.policy
        );
    };
    let jobs = jobfile::load(&a.jobs)?;
    a.rules.projection()?;
    let c = whitebox_runtime::rules::parse_strength(&a.rules.rule_c)?;
    let guard = a.guard()?;
    let t = record(
        &path,
        &jobs,
        &a.jobs.to_string_lossy(),
        end_ref(a.end.into(), a.simu_len, a.time_cap),
        &a.rules.rules,
        c,
        guard,
    )?;
    std::fs::write(&a.out, t.to_text()?)
        .with_context(|| format!("cannot write trace {}", a.out.display()))?;
    let changed = t
        .decisions
        .iter()
        .filter(|d| d.changed == Some(true))
        .count();
    let fallbacks = t
        .decisions
        .iter()
        .filter(|d| d.fallback_void == Some(true))
        .count();
    let rules = match &t.rules {
        Some(_) => format!(", {changed} changed by the rules, {fallbacks} fell back to void"),
        None => String::new(),
    };
    let guard = match &t.guard {
        Some(g) => {
            let by_fallback = t
                .decisions
                .iter()
                .filter(|d| d.decided_by.as_deref() == Some("fallback"))
                .count();
            format!(
                ", guard {}: {} hand-overs, {by_fallback} decisions by the fallback",
                g.mode, g.stats.handovers
            )
        }
        None => String::new(),
    };
    eprintln!(
        "wrote {} ({} decisions{rules}{guard})",
        a.out.display(),
        t.decisions.len()
    );
    Ok(())
}
