//! `whitebox record`: a learned policy's (model's or decision tree's) decision trace on one
//! job file.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use whitebox_runtime::jobfile;
use whitebox_runtime::policy::PolicyName;
use whitebox_runtime::settings::{SIMU_LEN, TIME_CAP};
use whitebox_studies::trace::{end_ref, record, record_tree};

use crate::args::{EndArg, GuardArgs, RuleArgs};

/// Arguments of `whitebox record`.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The learned policy, `model:PATH`, `int8:PATH` or `tree:PATH` (baselines have no logits
    /// to record; a tree's trace also names the leaf of every decision).
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
    /// Guard the model against SJF (under the same rules); the trace records every hand-over
    /// and who decided each decision.
    #[command(flatten)]
    pub guard: GuardArgs,
}

/// Runs `whitebox record`.
///
/// # Errors
/// A policy that is not `model:PATH`, `int8:PATH` or `tree:PATH`, and as [`record`] and
/// [`record_tree`]; a failure to write the trace.
pub fn run(a: &RecordArgs) -> Result<()> {
    let policy = PolicyName::parse(&a.policy).context("--policy")?;
    let jobs = jobfile::load(&a.jobs).context("--jobs")?;
    a.rules.projection()?;
    let c = whitebox_runtime::rules::parse_strength(&a.rules.rule_c)?;
    let guard = a.guard.settings()?;
    let (source, end) = (
        a.jobs.to_string_lossy(),
        end_ref(a.end.into(), a.simu_len, a.time_cap),
    );
    let rules = &a.rules.rules;
    let t = match policy {
        PolicyName::Model(path) => record(&path, false, &jobs, &source, end, rules, c, guard)?,
        PolicyName::Int8(path) => record(&path, true, &jobs, &source, end, rules, c, guard)?,
        PolicyName::Tree(path) => record_tree(&path, &jobs, &source, end, rules, c, guard)?,
        _ => bail!(
            "--policy {}: record needs a learned policy model:PATH, int8:PATH or tree:PATH \
             (baselines have no logits)",
            a.policy
        ),
    };
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
