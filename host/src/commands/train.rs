//! `whitebox train`: REINFORCE (optionally warm-started by imitating SJF), with validation,
//! checkpoints and the learning curve.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::ValueEnum;
use whitebox_runtime::lists::{parse_rates, parse_workloads};
use whitebox_runtime::settings::{Slots, SIMU_LEN};
use whitebox_studies::plots;
use whitebox_studies::train::curriculum::CurriculumConfig;
use whitebox_studies::train::optim::OptimizerKind;
use whitebox_studies::train::rollout::Reward;
use whitebox_studies::train::shield::RuleMode;
use whitebox_studies::train::{train, TrainConfig};

use crate::args::{usize_of, SlotsArg};
use crate::output::emit;
use crate::progress;

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

/// How `train --rule` uses the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RuleModeArg {
    /// Teacher-student distillation toward the projected policy; the policy acts unprojected.
    Distill,
    /// Act through the projection (a shield with the default --rule-c inf) and train on the
    /// log-probabilities of the projected policy.
    Shielded,
    /// Act unprojected; the reward loses --rule-penalty whenever an action breaks a rule.
    Penalty,
}

/// Arguments of `whitebox train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Workloads of the training job sets, comma-separated: deeprm, long-jobs, wide-demands,
    /// bursty. Several workloads or rates train on a mixture: every workload at every rate,
    /// job sets taken in turn; the first workload at the first rate names the model.
    #[arg(long, default_value = "deeprm")]
    pub workload: String,
    /// Arrival rates, in jobs per time step, each in [0, 1], comma-separated (e.g. 0.3,0.5,0.7).
    #[arg(long, allow_negative_numbers = true)]
    pub rate: String,
    /// Visible job slots.
    #[arg(long)]
    pub slots: SlotsArg,
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
    #[arg(long, default_value_t = 20, value_parser = crate::args::at_least(1u64))]
    pub jobsets: u64,
    /// Reuse one fixed family of training job sets every iteration, as DeepRM does (default:
    /// draw new job sets each iteration).
    #[arg(long)]
    pub fixed_jobsets: bool,
    /// Trajectories per job set and iteration (DeepRM num_seq_per_batch).
    #[arg(long, default_value_t = 20, value_parser = crate::args::at_least(1u64))]
    pub trajectories: u64,
    /// Arrival window of each job set, in time steps.
    #[arg(long, default_value_t = SIMU_LEN)]
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
    #[arg(long, default_value_t = 6, value_parser = crate::args::at_least(1u32))]
    pub imitation_rounds: u32,
    /// Adam step size of SJF imitation.
    #[arg(long, default_value_t = 3e-3)]
    pub imitation_lr: f32,
    /// Validation job sets (disjoint from training and evaluation seeds).
    #[arg(long, default_value_t = 50, value_parser = crate::args::at_least(1u64))]
    pub val_jobsets: u64,
    /// Validate every this many iterations.
    #[arg(long, default_value_t = 5, value_parser = crate::args::at_least(1u32))]
    pub eval_every: u32,
    /// Write a checkpoint every this many iterations.
    #[arg(long, default_value_t = 10, value_parser = crate::args::at_least(1u32))]
    pub checkpoint_every: u32,
    /// Continue from MODEL.ckpt.json if it exists (same settings required).
    #[arg(long)]
    pub resume: bool,
    /// Train under a rule (repeatable): util<=F, work-conserving, no-reservation, wait<=K, each
    /// optionally with @WEIGHT. --rule-mode says how.
    #[arg(long = "rule")]
    pub rules: Vec<String>,
    /// How the rules train the policy: distill (teacher-student distillation), shielded (act
    /// through the projection) or penalty (reward penalty for breaking a rule, no projection).
    #[arg(long, value_enum, default_value_t = RuleModeArg::Distill)]
    pub rule_mode: RuleModeArg,
    /// Strength C of the projection: a number >= 0 or `inf` (hard shield). Default: 6 for the
    /// distillation teacher, inf for --rule-mode shielded and penalty.
    #[arg(long)]
    pub rule_c: Option<String>,
    /// Reward penalty (slowdown units) per decision whose raw choice the projection replaced
    /// (shielded) or that breaks a rule (penalty).
    #[arg(long, default_value_t = 0.0)]
    pub rule_penalty: f32,
    /// Start from this model's weights (same encoder and slots) instead of an SJF warm start.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Cap pi_0 of the distillation weight pi_k = min(pi_0, 1 - alpha^k).
    #[arg(long, default_value_t = 0.9)]
    pub imitation_pi0: f32,
    /// Base alpha of the distillation weight (per iteration).
    #[arg(long, default_value_t = 0.995)]
    pub imitation_alpha: f32,
    /// Curriculum of counterexamples: every this many iterations, search (as `fuzz` does) for
    /// sequences where the current policy trails SJF most and train on them too (0 = off).
    #[arg(long, default_value_t = 0)]
    pub curriculum_every: u32,
    /// Sequences evaluated per curriculum search.
    #[arg(long, default_value_t = 2000)]
    pub curriculum_budget: u64,
    /// Share of each iteration's job sets drawn from the curriculum's pool, in (0, 1].
    #[arg(long, default_value_t = 0.25)]
    pub curriculum_share: f32,
    /// Most counterexamples kept in the curriculum's pool (oldest out first).
    #[arg(long, default_value_t = 200)]
    pub curriculum_pool: usize,
}

/// Runs `whitebox train`.
///
/// # Errors
/// Invalid flags, and as [`train`].
pub fn run(a: &TrainArgs) -> Result<()> {
    let lr = a.lr;
    if !(lr.is_finite() && lr > 0.0) {
        anyhow::bail!("--lr = {lr}, must be a positive number");
    }
    let config = TrainConfig {
        workloads: parse_workloads(&a.workload)
            .context("--workload")?
            .iter()
            .map(|w| w.name().to_string())
            .collect(),
        rates: parse_rates(&a.rate).context("--rate")?,
        slots: Slots::from(a.slots).count(),
        encoding: a.encoding.clone(),
        iterations: a.iterations,
        seed: a.seed,
        jobsets: usize_of(a.jobsets, "--jobsets")?,
        resample: !a.fixed_jobsets,
        trajectories: usize_of(a.trajectories, "--trajectories")?,
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
            ObjectiveArg::Slowdown => Reward::Slowdown,
            ObjectiveArg::CompletionTime => Reward::CompletionTime,
        },
        mask_invalid: !a.no_mask,
        imitation_epochs: a.imitation_epochs,
        imitation_rounds: a.imitation_rounds,
        imitation_lr: a.imitation_lr,
        val_jobsets: usize_of(a.val_jobsets, "--val-jobsets")?,
        eval_every: a.eval_every,
        checkpoint_every: a.checkpoint_every,
        rules: a.rules.clone(),
        rule_c: {
            let default = if a.rule_mode == RuleModeArg::Distill {
                "6"
            } else {
                "inf"
            };
            let text = a.rule_c.as_deref().unwrap_or(default);
            let c = whitebox_runtime::rules::parse_strength(text).context("--rule-c")?;
            c.is_finite().then_some(c)
        },
        rule_pi0: a.imitation_pi0,
        rule_alpha: a.imitation_alpha,
        rule_mode: match a.rule_mode {
            RuleModeArg::Distill => RuleMode::Distill,
            RuleModeArg::Shielded => RuleMode::Shielded,
            RuleModeArg::Penalty => RuleMode::Penalty,
        },
        rule_penalty: a.rule_penalty,
        init: a.init.clone(),
        curriculum: (a.curriculum_every > 0).then_some(CurriculumConfig {
            every: a.curriculum_every,
            budget: a.curriculum_budget,
            share: a.curriculum_share,
            pool: a.curriculum_pool,
        }),
    };
    if a.rule_mode != RuleModeArg::Distill && a.rules.is_empty() {
        anyhow::bail!("--rule-mode shielded and penalty need at least one --rule");
    }
    if !(a.rule_penalty.is_finite() && a.rule_penalty >= 0.0) {
        anyhow::bail!("--rule-penalty = {}, must be a number >= 0", a.rule_penalty);
    }
    if a.rule_penalty > 0.0 && a.rule_mode == RuleModeArg::Distill {
        anyhow::bail!("--rule-penalty needs --rule-mode shielded or penalty");
    }
    if !(0.0..=1.0).contains(&config.rule_pi0) || !(0.0..=1.0).contains(&config.rule_alpha) {
        anyhow::bail!(
            "--imitation-pi0 = {}, --imitation-alpha = {}: both must be in [0, 1]",
            config.rule_pi0,
            config.rule_alpha
        );
    }
    let report = train(&config, &a.out, a.resume, &mut progress::Iterations::new())?;
    emit(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    eprintln!("wrote {}", a.out.display());
    // The model is written; a failed plot only warns (`plot-curve` can redo it).
    let curve = whitebox_studies::train::Outputs::for_model(&a.out).curve;
    match plots::learning_curve(&curve) {
        Ok(paths) => paths
            .iter()
            .for_each(|p| eprintln!("wrote {}", p.display())),
        Err(e) => eprintln!("warning: learning curve not plotted: {e:#}"),
    }
    Ok(())
}
