//! `whitebox simulate`: one job file, one policy, a per-job report.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::ValueEnum;
use whitebox_runtime::jobfile;
use whitebox_runtime::policy::PolicyName;
use whitebox_runtime::settings::{SIMU_LEN, TIME_CAP};
use whitebox_studies::simulate::{simulate_with_rules, RuleSettings, SimSettings};

use crate::args::{tetris_knob, EndArg, GuardArgs, RuleArgs, SlotsArg};
use crate::output;
use crate::output::emit;

/// Output format of `simulate` and `compare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimFormat {
    /// One JSON object.
    Json,
    /// A per-job table and summary lines.
    Table,
}

/// Arguments of `whitebox simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Job file: JSON with a `jobs` array of {arrival, len, res}, sorted by arrival.
    #[arg(long)]
    pub jobs: PathBuf,
    /// Policy: sjf, sjf-reserve, sjf-reserve-aged, packer, tetris, random, model:PATH, int8:PATH (the model quantized to
    /// int8 at load time, see `whitebox model quantize-report`), or tree:PATH (a decision tree,
    /// see `whitebox tree`).
    #[arg(long)]
    pub policy: String,
    /// Visible job slots.
    #[arg(long)]
    pub slots: SlotsArg,
    /// When the episode ends.
    #[arg(long)]
    pub end: EndArg,
    /// Arrival window for `no-new-job`, in time steps.
    #[arg(long, default_value_t = SIMU_LEN)]
    pub simu_len: u32,
    /// Time cap for `all-done`, in time steps; a longer episode is cut and marked truncated.
    #[arg(long, default_value_t = TIME_CAP)]
    pub time_cap: u32,
    /// Seed of the random policy.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Tetris weight of alignment versus shortest-job-first, in [0, 1].
    #[arg(long, default_value_t = 0.5)]
    pub tetris_knob: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SimFormat::Json)]
    pub format: SimFormat,
    /// Operator rules.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// With --rule: report every decision's probabilities and rule verdicts in the JSON, not
    /// only those the rules changed.
    #[arg(long)]
    pub explain_decisions: bool,
    /// Guard of a learned policy.
    #[command(flatten)]
    pub guard: GuardArgs,
}

/// Runs `whitebox simulate`.
///
/// # Errors
/// Invalid flags, job file or policy; a failure to write stdout.
pub fn run(a: &SimulateArgs) -> Result<()> {
    // Everything is checked before the job file is even read.
    let policy = PolicyName::parse(&a.policy)?;
    let guard = a.guard.settings()?;
    whitebox_runtime::policy::check_guardable(&policy, guard.as_ref()).context("--guard")?;
    let settings = SimSettings {
        policy,
        guard,
        slots: a.slots.into(),
        end: a.end.into(),
        simu_len: a.simu_len,
        time_cap: a.time_cap,
        seed: a.seed,
        tetris_knob: tetris_knob(a.tetris_knob)?,
    };
    let rules = RuleSettings {
        rules: a.rules.projection()?,
        explain_all: a.explain_decisions,
    };
    let jobs = jobfile::load(&a.jobs).context("--jobs")?;
    let report = simulate_with_rules(&jobs, &settings, &rules)?;
    match a.format {
        SimFormat::Json => emit(&(serde_json::to_string(&report)? + "\n")),
        SimFormat::Table => emit(&output::sim_table(&report)),
    }
}
