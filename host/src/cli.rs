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
use crate::policy::{check_knob, NamedPolicy, PolicyName};
use crate::simulate::{simulate_with_rules, RuleSettings, SimSettings};
use crate::train::optim::OptimizerKind;
use crate::train::rollout::Objective;
use crate::train::{train, TrainConfig};
use crate::{demo, jobfile, output, plots};

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
    /// The shipped learned policy vs SJF, Packer, Tetris and Random on its training workload
    /// and the shifted ones: prints the table, writes DIR/demo.json and plots.
    Demo(DemoArgs),
    /// Train a policy network with REINFORCE (optionally warm-started by imitating SJF).
    Train(TrainArgs),
    /// Plot a learning-curve CSV of `train` as PNG and SVG next to it.
    PlotCurve(PlotCurveArgs),
    /// Compare policies on given job files (e.g. DeepRM's reference sequences), with paired
    /// differences against the first policy.
    Compare(CompareArgs),
    /// Inspect a model file or convert it to and from JSON.
    #[command(subcommand)]
    Model(crate::model_cmd::ModelCommand),
    /// Search a workload's support for job sequences on which a policy loses to SJF, shrink
    /// them and write them as fixtures (DIR/campaign.json, DIR/*.json job files).
    Fuzz(crate::fuzz::cmd::FuzzArgs),
    /// Explain a learned policy's decisions: saliency, integrated gradients, Shapley values
    /// over feature groups, occlusion, with faithfulness checks.
    Explain(crate::explain::ExplainArgs),
    /// Record a learned policy's decision trace (actions, masks, exact logit bits, metrics).
    Record(crate::trace::RecordArgs),
    /// Replay decision traces and report the first divergence, or `identical`.
    Replay(crate::trace::ReplayArgs),
}

/// Arguments of `whitebox compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Job files (JSON with a `jobs` array).
    #[arg(long, num_args = 1.., required = true)]
    pub jobs: Vec<PathBuf>,
    /// Policies, comma-separated; the first is the reference of the paired differences.
    #[arg(long, default_value = "sjf,packer,tetris")]
    pub policies: String,
    /// Visible job slots.
    #[arg(long)]
    pub slots: Slots,
    /// When each episode ends.
    #[arg(long, default_value = "all-done")]
    pub end: End,
    /// Arrival window for `no-new-job`, in time steps.
    #[arg(long, default_value_t = 50)]
    pub simu_len: u32,
    /// Time cap for `all-done`, in time steps.
    #[arg(long, default_value_t = 10_000)]
    pub time_cap: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SimFormat::Table)]
    pub format: SimFormat,
}

/// Optimizer of `train`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerArg {
    /// DeepRM's RMSProp (rho 0.9, eps 1e-9).
    Rmsprop,
    /// Adam (beta1 0.9, beta2 0.999, eps 1e-8).
    Adam,
}

/// Reward objective of `train`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ObjectiveArg {
    /// -sum(1/len) over jobs in the system per step (mean slowdown).
    Slowdown,
    /// -(jobs in the system) per step (mean completion time).
    CompletionTime,
}

/// Arguments of `whitebox train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Workload of the training job sets: deeprm, long-jobs, wide-demands, bursty.
    #[arg(long, default_value = "deeprm")]
    pub workload: String,
    /// Arrival rate, in jobs per time step, in [0, 1].
    #[arg(long)]
    pub rate: f64,
    /// Visible job slots.
    #[arg(long)]
    pub slots: Slots,
    /// Observation encoder: compact or image.
    #[arg(long, default_value = "compact")]
    pub encoding: String,
    /// Policy-gradient iterations.
    #[arg(long)]
    pub iterations: u32,
    /// Master seed (job sets, initial weights, action sampling).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Model file to write (best on validation); MODEL.ckpt.json and MODEL.curve.csv beside it.
    #[arg(long)]
    pub out: PathBuf,
    /// Training job sets (DeepRM num_ex).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobsets: u64,
    /// Reuse one fixed family of training job sets every iteration, as DeepRM does (default:
    /// draw new job sets each iteration).
    #[arg(long)]
    pub fixed_jobsets: bool,
    /// Trajectories per job set and iteration (DeepRM num_seq_per_batch).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub trajectories: u64,
    /// Arrival window of each job set, in time steps.
    #[arg(long, default_value_t = 50)]
    pub simu_len: u32,
    /// Time cap of training episodes, in time steps.
    #[arg(long, default_value_t = 1000)]
    pub time_cap: u32,
    /// Optimizer.
    #[arg(long, value_enum, default_value_t = OptimizerArg::Adam)]
    pub optimizer: OptimizerArg,
    /// Policy-gradient step size.
    #[arg(long, default_value_t = 1e-4)]
    pub lr: f32,
    /// Entropy bonus weight.
    #[arg(long, default_value_t = 0.0)]
    pub entropy: f32,
    /// Reward objective.
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Slowdown)]
    pub objective: ObjectiveArg,
    /// Do not mask invalid actions (DeepRM's behaviour: an invalid choice is a MoveOn).
    #[arg(long)]
    pub no_mask: bool,
    /// Epochs per round of SJF imitation before policy gradient (0 = no warm start).
    #[arg(long, default_value_t = 30)]
    pub imitation_epochs: u32,
    /// DAgger rounds of SJF imitation.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..))]
    pub imitation_rounds: u32,
    /// Adam step size of SJF imitation.
    #[arg(long, default_value_t = 3e-3)]
    pub imitation_lr: f32,
    /// Validation job sets (disjoint from training and evaluation seeds).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub val_jobsets: u64,
    /// Validate every this many iterations.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub eval_every: u32,
    /// Write a checkpoint every this many iterations.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub checkpoint_every: u32,
    /// Continue from MODEL.ckpt.json if it exists (same settings required).
    #[arg(long)]
    pub resume: bool,
    /// Teach a rule by teacher-student distillation (repeatable): util<=F, work-conserving,
    /// no-reservation, each optionally with @WEIGHT.
    #[arg(long = "rule")]
    pub rules: Vec<String>,
    /// Strength C of the rule teacher's projection: a number >= 0 or `inf` (hard shield).
    #[arg(long, default_value = "6")]
    pub rule_c: String,
    /// Cap pi_0 of the distillation weight pi_k = min(pi_0, 1 - alpha^k).
    #[arg(long, default_value_t = 0.9)]
    pub imitation_pi0: f32,
    /// Base alpha of the distillation weight (per iteration).
    #[arg(long, default_value_t = 0.995)]
    pub imitation_alpha: f32,
}

/// Operator rules every decision is projected onto (`simulate`, `eval`, `demo`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RuleArgs {
    /// A rule every decision must respect, repeatable: util<=0.8 (or util<=80%: usage of each
    /// resource at most that share in every step a started job takes; a job above the cap
    /// alone may run only on an otherwise idle resource), work-conserving (no idling while a
    /// job can start now within the cap), no-reservation (start jobs now only). Append @WEIGHT
    /// to weigh a rule (default 1).
    #[arg(long = "rule", value_name = "RULE")]
    pub rules: Vec<String>,
    /// Projection strength C: inf removes every action that violates a rule (a shield); a
    /// finite C only lowers their probability by exp(-C * weight * (1 - truth)); 0 changes
    /// nothing.
    #[arg(
        long,
        default_value = "inf",
        value_name = "C",
        allow_hyphen_values = true
    )]
    pub rule_c: String,
}

impl RuleArgs {
    /// The projection, or `None` without `--rule`.
    ///
    /// # Errors
    /// A bad rule or strength, named with its text and the allowed forms.
    pub fn projection(&self) -> Result<Option<whitebox_core::Projection>> {
        let c = crate::rules::parse_strength(&self.rule_c)?;
        crate::rules::projection(&self.rules, c)
    }
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
    /// Policy: sjf, packer, tetris, random, model:PATH, or int8:PATH (the model quantized to
    /// int8 at load time, see `whitebox model quantize-report`).
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
    /// Operator rules.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// With --rule: report every decision's probabilities and rule verdicts in the JSON, not
    /// only those the rules changed.
    #[arg(long)]
    pub explain_decisions: bool,
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
    /// Policies, comma-separated: sjf, packer, tetris, random, model:PATH, int8:PATH (the model
    /// quantized to int8); LABEL=POLICY shows POLICY as LABEL in the report (e.g.
    /// dnn=model:a.model).
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
    /// Operator rules applied to every policy (shown as LABEL+rules).
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// Arguments of `whitebox demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Model file of the learned policy (relative to the current directory); its header gives
    /// the training workload, arrival rate and slot count the demo evaluates at.
    #[arg(long, default_value = demo::DEFAULT_MODEL)]
    pub model: PathBuf,
    /// Output directory for demo.json and the plots.
    #[arg(long, default_value = "whitebox-out")]
    pub out: PathBuf,
    /// Held-out job sets per workload.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobsets: u64,
    /// Rule-distilled student model shown as `distilled` (and `distilled+rules`), or `none`.
    #[arg(long, default_value = demo::DEFAULT_STUDENT)]
    pub student: PathBuf,
    /// Operator rules of the rows dnn+rules, distilled+rules and sjf+rules; without --rule the
    /// demo uses util<=0.8 and work-conserving.
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// Arguments of `whitebox plot-curve`.
#[derive(Debug, clap::Args)]
pub struct PlotCurveArgs {
    /// Learning-curve CSV written by `train` (MODEL.curve.csv); CSV.png and CSV.svg are written
    /// beside it, without the `.csv`.
    pub csv: PathBuf,
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
        Command::Train(a) => run_train(&a),
        Command::Compare(a) => run_compare(&a),
        Command::Model(c) => emit(&crate::model_cmd::run(&c)?),
        Command::Explain(a) => emit(&crate::explain::run(&a)?),
        Command::PlotCurve(a) => run_plot_curve(&a),
        Command::Fuzz(a) => emit(&crate::fuzz::cmd::run(&a)?),
        Command::Record(a) => crate::trace::run_record(&a),
        Command::Replay(a) => crate::trace::run_replay(&a),
    }
}

fn run_compare(a: &CompareArgs) -> Result<()> {
    let policies = PolicyName::parse_list(&a.policies).context("--policies")?;
    let files = a
        .jobs
        .iter()
        .map(|p| Ok((p.clone(), jobfile::load(p)?)))
        .collect::<Result<Vec<_>>>()?;
    let report =
        crate::compare::compare(&files, &policies, a.slots, a.end, a.simu_len, a.time_cap)?;
    match a.format {
        SimFormat::Json => emit(&(serde_json::to_string_pretty(&report)? + "\n")),
        SimFormat::Table => emit(&crate::compare::table(&report)),
    }
}

fn run_train(a: &TrainArgs) -> Result<()> {
    let rate = parse_rates(&a.rate.to_string()).context("--rate")?[0];
    let lr = a.lr;
    if !(lr.is_finite() && lr > 0.0) {
        anyhow::bail!("--lr = {lr}, must be a positive number");
    }
    let config = TrainConfig {
        workload: parse_workloads(&a.workload).context("--workload")?[0]
            .name()
            .to_string(),
        rate,
        slots: a.slots.count(),
        encoding: a.encoding.clone(),
        iterations: a.iterations,
        seed: a.seed,
        jobsets: usize_of(a.jobsets)?,
        resample: !a.fixed_jobsets,
        trajectories: usize_of(a.trajectories)?,
        simu_len: a.simu_len,
        time_cap: a.time_cap,
        optimizer: match a.optimizer {
            OptimizerArg::Rmsprop => OptimizerKind::RmsProp {
                lr,
                rho: 0.9,
                eps: 1e-9,
            },
            OptimizerArg::Adam => OptimizerKind::adam(lr),
        },
        entropy: a.entropy,
        objective: match a.objective {
            ObjectiveArg::Slowdown => Objective::Slowdown,
            ObjectiveArg::CompletionTime => Objective::CompletionTime,
        },
        mask_invalid: !a.no_mask,
        imitation_epochs: a.imitation_epochs,
        imitation_rounds: a.imitation_rounds,
        imitation_lr: a.imitation_lr,
        val_jobsets: usize_of(a.val_jobsets)?,
        eval_every: a.eval_every,
        checkpoint_every: a.checkpoint_every,
        rules: a.rules.clone(),
        rule_c: {
            let c = crate::rules::parse_strength(&a.rule_c).context("--rule-c")?;
            c.is_finite().then_some(c)
        },
        rule_pi0: a.imitation_pi0,
        rule_alpha: a.imitation_alpha,
    };
    if !(0.0..=1.0).contains(&config.rule_pi0) || !(0.0..=1.0).contains(&config.rule_alpha) {
        anyhow::bail!(
            "--imitation-pi0 = {}, --imitation-alpha = {}: both must be in [0, 1]",
            config.rule_pi0,
            config.rule_alpha
        );
    }
    let report = train(&config, &a.out, a.resume, true)?;
    emit(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    eprintln!("wrote {}", a.out.display());
    // The model is written; a failed plot only warns (`plot-curve` can redo it).
    let curve = crate::train::Outputs::for_model(&a.out).curve;
    match plots::learning_curve(&curve) {
        Ok(paths) => paths
            .iter()
            .for_each(|p| eprintln!("wrote {}", p.display())),
        Err(e) => eprintln!("warning: learning curve not plotted: {e:#}"),
    }
    Ok(())
}

fn run_plot_curve(a: &PlotCurveArgs) -> Result<()> {
    for path in plots::learning_curve(&a.csv)? {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
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
    let rules = RuleSettings {
        rules: a.rules.projection()?,
        explain_all: a.explain_decisions,
    };
    let jobs = jobfile::load(&a.jobs)?;
    let report = simulate_with_rules(&jobs, &settings, &rules)?;
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
        policies: with_rules(
            NamedPolicy::parse_list(&a.policies).context("--policies")?,
            a.rules.projection()?,
        ),
        slots: a.slots,
        end: a.end,
        simu_len: a.simu_len,
        time_cap: a.time_cap,
        tetris_knob: check_knob(a.tetris_knob)?,
        job_slowdowns: false,
    };
    let report: EvalReport = with_progress(cfg.tasks(), |tick| evaluate(&cfg, tick))?;
    match a.format {
        EvalFormat::Table => emit(&output::eval_table(&report.rows)),
        EvalFormat::Json => emit(&output::eval_json(&report)?),
        EvalFormat::Csv => emit(&output::eval_csv(&report.rows)),
    }
}

/// Every policy projected onto `rules` and labelled `LABEL+rules`; unchanged without rules.
fn with_rules(
    policies: Vec<NamedPolicy>,
    rules: Option<whitebox_core::Projection>,
) -> Vec<NamedPolicy> {
    let Some(rules) = rules else {
        return policies;
    };
    policies
        .into_iter()
        .map(|p| NamedPolicy {
            label: format!("{}+rules", p.label),
            rules: Some(rules.clone()),
            policy: p.policy,
        })
        .collect()
}

fn run_demo(a: &DemoArgs) -> Result<()> {
    let student = (a.student.as_os_str() != "none").then_some(a.student.as_path());
    let rules = if a.rules.rules.is_empty() {
        RuleArgs {
            rules: demo::DEFAULT_RULES.map(String::from).to_vec(),
            rule_c: a.rules.rule_c.clone(),
        }
    } else {
        RuleArgs {
            rules: a.rules.rules.clone(),
            rule_c: a.rules.rule_c.clone(),
        }
    };
    let plan = demo::plan(&a.model, student, usize_of(a.jobsets)?, rules.projection()?)?;
    let report = with_progress(plan.config.tasks(), |tick| demo::run(&plan, &a.out, tick))?;
    emit(&output::demo_table(&report))?;
    eprintln!("wrote {} to {}", report.files.join(", "), a.out.display());
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
