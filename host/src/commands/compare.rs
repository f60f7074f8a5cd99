//! `whitebox compare`: policies on given job files, with paired differences.

use std::path::PathBuf;

use anyhow::{Context, Result};
use whitebox_runtime::jobfile;
use whitebox_runtime::policy::NamedPolicy;
use whitebox_runtime::settings::{SIMU_LEN, TIME_CAP};

use super::simulate::SimFormat;
use whitebox_studies::compare::{compare, table, CompareSettings};

use crate::args::{EndArg, GuardArgs, RuleArgs, SlotsArg};
use crate::output::emit;

/// Arguments of `whitebox compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Job files (JSON with a `jobs` array).
    #[arg(long, num_args = 1.., required = true)]
    pub jobs: Vec<PathBuf>,
    /// Policies, comma-separated; the first is the reference of the paired differences (under
    /// the same rules with --rule). LABEL=POLICY shows POLICY as LABEL.
    #[arg(long, default_value = "sjf,packer,tetris")]
    pub policies: String,
    /// Visible job slots.
    #[arg(long)]
    pub slots: SlotsArg,
    /// When each episode ends.
    #[arg(long, default_value = "all-done")]
    pub end: EndArg,
    /// Arrival window for `no-new-job`, in time steps.
    #[arg(long, default_value_t = SIMU_LEN)]
    pub simu_len: u32,
    /// Time cap for `all-done`, in time steps.
    #[arg(long, default_value_t = TIME_CAP)]
    pub time_cap: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SimFormat::Table)]
    pub format: SimFormat,
    /// Guard of the learned policies: each is followed by its guarded form, NAME+guard.
    #[command(flatten)]
    pub guard: GuardArgs,
    /// Operator rules every policy, the reference too, is projected onto (shown as
    /// LABEL+rules).
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// Runs `whitebox compare`.
///
/// # Errors
/// Invalid flags, job files or policies; a failure to write stdout.
pub fn run(a: &CompareArgs) -> Result<()> {
    let policies = NamedPolicy::parse_list(&a.policies).context("--policies")?;
    let guard = a.guard.settings()?;
    let rules = a.rules.projection()?;
    let learned = |p: &NamedPolicy| p.policy.is_learned();
    if guard.is_some() && !policies.iter().any(learned) {
        anyhow::bail!(
            "--guard: a guard insures a learned policy (model:PATH, int8:PATH or tree:PATH); none in --policies"
        );
    }
    let files = a
        .jobs
        .iter()
        .map(|p| Ok((p.clone(), jobfile::load(p).context("--jobs")?)))
        .collect::<Result<Vec<_>>>()?;
    let settings = CompareSettings {
        slots: a.slots.into(),
        end: a.end.into(),
        simu_len: a.simu_len,
        time_cap: a.time_cap,
        guard,
        rules,
    };
    let report = compare(&files, &policies, &settings)?;
    match a.format {
        SimFormat::Json => emit(&(serde_json::to_string_pretty(&report)? + "\n")),
        SimFormat::Table => emit(&(table(&report) + &crate::output::model_provenance(&policies)?)),
    }
}
