//! The `whitebox` command line: the subcommands and where each one runs
//! ([`crate::commands`]).
//!
//! Reports go to stdout, progress and notes to stderr, so stdout can be piped into `jq` or a
//! file. Errors are returned to `main`, which prints them and exits non-zero.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::commands::{
    check, compare, demo, eval, explain, fuzz, import, model, plot_curve, record, replay, report,
    simulate, train, tree, verify,
};
use crate::output;

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
    Simulate(simulate::SimulateArgs),
    /// Compare policies on generated job sets, with 95% confidence intervals.
    Eval(eval::EvalArgs),
    /// The shipped learned policy vs SJF, Packer, Tetris and Random on its training workload
    /// and the shifted ones: prints the table, writes DIR/demo.json and plots.
    Demo(demo::DemoArgs),
    /// Train a policy network with REINFORCE (optionally warm-started by imitating SJF).
    Train(train::TrainArgs),
    /// Plot a learning-curve CSV of `train` as PNG and SVG next to it.
    PlotCurve(plot_curve::PlotCurveArgs),
    /// Compare policies on given job files (e.g. DeepRM's reference sequences), with paired
    /// differences against the first policy.
    Compare(compare::CompareArgs),
    /// Inspect a model file or convert it to and from JSON.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Search a workload's support for job sequences on which a policy loses to SJF, shrink
    /// them and write them as fixtures (DIR/campaign.json, DIR/*.json job files).
    Fuzz(fuzz::FuzzArgs),
    /// Explain a learned policy's decisions: saliency, integrated gradients, Shapley values
    /// over feature groups, occlusion, with faithfulness checks.
    Explain(explain::ExplainArgs),
    /// Record a learned policy's decision trace (actions, masks, exact logit bits, metrics).
    Record(record::RecordArgs),
    /// Replay decision traces and report the first divergence, or `identical`.
    Replay(replay::ReplayArgs),
    /// Prove or refute properties of a model's network over whole sets of cluster states
    /// (no-idle, shorter-first), with sound bounds and branch and bound; exit code 0 when none
    /// is refuted, 1 when one is, 2 when they cannot be checked.
    Verify(verify::VerifyArgs),
    /// Convert a workload log (SWF or CSV) into job files, printing every count (see
    /// docs/import.md).
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Distil a model into a decision tree (extract), or print a tree file (show); a tree is
    /// a policy as tree:PATH (see docs/tree.md).
    #[command(subcommand)]
    Tree(tree::TreeCommand),
    /// A gate for CI: adversarial fixtures, held-out job sets and golden traces against
    /// bounds; exit code 0 when all pass, 1 when one fails, 2 when they cannot run.
    Check(check::CheckArgs),
    /// Reproduce the headline results (held-out comparison, rules, the guard on the adversarial
    /// fixtures, the NASA trace, the decision tree) with fixed seeds and 95% intervals, as a
    /// report directory (index.html, report.md, JSON, figures).
    Report(report::ReportArgs),
}

/// Runs a parsed command line and gives the exit code: 0 done, 1 the command ran and found a
/// failure (`check` failed a check, `replay` diverged, `verify` refuted a property), 2 it could
/// not run (an error, exit code
/// set by `main`, as clap does for a bad argument).
///
/// # Errors
/// Any invalid input (named with its value and limit), or a failure to write the output.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Check(a) => return Ok(check::run(&a)),
        Command::Replay(a) => return replay::run(&a),
        Command::Simulate(a) => simulate::run(&a),
        Command::Eval(a) => eval::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Train(a) => train::run(&a),
        Command::Compare(a) => compare::run(&a),
        Command::Model(c) => output::emit(&model::run(&c)?),
        Command::Explain(a) => output::emit(&explain::run(&a)?),
        Command::PlotCurve(a) => plot_curve::run(&a),
        Command::Fuzz(a) => output::emit(&fuzz::run(&a)?),
        Command::Record(a) => record::run(&a),
        Command::Verify(a) => return verify::run(&a),
        Command::Import(c) => import::run(&c),
        Command::Tree(c) => output::emit(&tree::run(&c)?),
        Command::Report(a) => report::run(&a),
    }?;
    Ok(ExitCode::SUCCESS)
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
