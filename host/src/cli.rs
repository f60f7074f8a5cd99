//! The `whitebox` command line: argument definitions and what each subcommand does.
//!
//! Reports go to stdout, progress and notes to stderr, so stdout can be piped into `jq` or a
//! file. Errors are returned to `main`, which prints them and exits non-zero.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::eval::{evaluate, EvalConfig, EvalReport};
use crate::lists::{parse_rates, parse_workloads};
use crate::play::{End, Slots};
use crate::policy::{check_knob, PolicyName};
use crate::simulate::{simulate, SimSettings};
use crate::{demo, jobfile, output};

/// whitebox: a trustworthy DeepRM-style learned job scheduler. Time is in steps, resources in
/// units.
#[derive(Debug, Parser)]
#[command(name = "whitebox", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one policy on a job file and report what happened to every job.
    Simulate(SimulateArgs),
    /// Compare policies on generated job sets, with 95% confidence intervals.
    Eval(EvalArgs),
    /// Evaluate the baselines on DeepRM's workload and write DIR/demo.json.
    Demo(DemoArgs),
}

/// Output format of `simulate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SimFormat {
    /// One JSON object.
    Json,
    /// A per-job table and summary lines.
    Table,
}

/// Output format of `eval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    /// Aligned columns.
    Table,
    /// One JSON object `{"settings": .., "rows": [..]}`.
    Json,
    /// A header line and one line per row.
    Csv,
}

/// Arguments of `whitebox simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Job file: JSON with a `jobs` array of {arrival, len, res}, sorted by arrival.
    #[arg(long)]
    pub jobs: PathBuf,
    /// Policy: sjf, packer, tetris or random (model:PATH later).
    #[arg(long)]
    pub policy: String,
    /// Visible job slots.
    #[arg(long)]
    pub slots: Slots,
    /// When the episode ends.
    #[arg(long)]
    pub end: End,
    /// Arrival window for `no-new-job`, in time steps.
    #[arg(long, default_value_t = 50)]
    pub simu_len: u32,
    /// Time cap for `all-done`, in time steps; a longer episode is cut and marked truncated.
    #[arg(long, default_value_t = 10_000)]
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
}

/// Arguments of `whitebox eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Workloads, comma-separated: deeprm, long-jobs, wide-demands, bursty.
    #[arg(long, default_value = "deeprm")]
    pub workload: String,
    /// Arrival rates, comma-separated, each in [0, 1] jobs per time step.
    #[arg(long, default_value = "0.3,0.5,0.7")]
    pub rate: String,
    /// Job sets per (workload, rate).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobsets: u64,
    /// Base seed; job set k uses seed * 1000003 + k.
    #[arg(long, default_value_t = 1000)]
    pub seed: u64,
    /// Policies, comma-separated.
    #[arg(long, default_value = "sjf,packer,tetris,random")]
    pub policies: String,
    /// Visible job slots.
    #[arg(long, default_value = "10")]
    pub slots: Slots,
    /// Arrival window of each job set, in time steps.
    #[arg(long, default_value_t = 50)]
    pub simu_len: u32,
    /// When each episode ends.
    #[arg(long, default_value = "all-done")]
    pub end: End,
    /// Time cap for `all-done`, in time steps.
    #[arg(long, default_value_t = 10_000)]
    pub time_cap: u32,
    /// Tetris weight of alignment versus shortest-job-first, in [0, 1].
    #[arg(long, default_value_t = 0.5)]
    pub tetris_knob: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EvalFormat::Table)]
    pub format: EvalFormat,
}

/// Arguments of `whitebox demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Output directory.
    #[arg(long, default_value = "whitebox-out")]
    pub out: PathBuf,
    /// Job sets per rate.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobsets: u64,
}

/// Runs a parsed command line.
///
/// # Errors
/// Any invalid input (named with its value and limit), or a failure to write the output.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Simulate(a) => run_simulate(&a),
        Command::Eval(a) => run_eval(&a),
        Command::Demo(a) => run_demo(&a),
    }
}

fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to stdout")
}

fn run_simulate(a: &SimulateArgs) -> Result<()> {
    // Everything is checked before the job file is even read.
    let settings = SimSettings {
        policy: PolicyName::parse(&a.policy)?,
        slots: a.slots,
        end: a.end,
        simu_len: a.simu_len,
        time_cap: a.time_cap,
        seed: a.seed,
        tetris_knob: check_knob(a.tetris_knob)?,
    };
    let jobs = jobfile::load(&a.jobs)?;
    let report = simulate(&jobs, &settings)?;
    match a.format {
        SimFormat::Json => emit(&(serde_json::to_string(&report)? + "\n")),
        SimFormat::Table => emit(&output::sim_table(&report)),
    }
}

/// A progress bar on stderr; indicatif hides it when stderr is not a terminal.
fn progress(total: usize) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} job sets ({elapsed})") {
        bar.set_style(style);
    }
    bar
}

fn with_progress<T>(total: usize, f: impl FnOnce(&(dyn Fn() + Sync)) -> T) -> T {
    let bar = progress(total);
    let out = f(&|| bar.inc(1));
    bar.finish_and_clear();
    out
}

fn usize_of(n: u64) -> Result<usize> {
    usize::try_from(n).with_context(|| format!("--jobsets = {n} is too large"))
}

fn run_eval(a: &EvalArgs) -> Result<()> {
    let cfg = EvalConfig {
        workloads: parse_workloads(&a.workload).context("--workload")?,
        rates: parse_rates(&a.rate).context("--rate")?,
        jobsets: usize_of(a.jobsets)?,
        seed: a.seed,
        policies: PolicyName::parse_list(&a.policies).context("--policies")?,
        slots: a.slots,
        end: a.end,
        simu_len: a.simu_len,
        time_cap: a.time_cap,
        tetris_knob: check_knob(a.tetris_knob)?,
    };
    let report: EvalReport = with_progress(cfg.tasks(), |tick| evaluate(&cfg, tick))?;
    match a.format {
        EvalFormat::Table => emit(&output::eval_table(&report.rows)),
        EvalFormat::Json => emit(&demo::report_json(&report)?),
        EvalFormat::Csv => emit(&output::eval_csv(&report.rows)),
    }
}

fn run_demo(a: &DemoArgs) -> Result<()> {
    let jobsets = usize_of(a.jobsets)?;
    let total = demo::config(jobsets).tasks();
    let (report, path) = with_progress(total, |tick| demo::run(&a.out, jobsets, tick))?;
    emit(&output::eval_table(&report.rows))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
