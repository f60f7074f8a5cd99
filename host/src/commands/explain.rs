//! `whitebox explain`: why a learned policy chose an action, with faithfulness checks.

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use whitebox_studies::explain::guard_note::GuardNote;
use whitebox_studies::explain::{
    explain_with, json, pictures, target_from, text, Method, Options, SmoothGrad, Target,
    SMOOTHGRAD_SEED,
};

/// `--method`: a per-group attribution method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// Exact Shapley values over the feature groups.
    Shapley,
    /// Integrated gradients, summed over each group.
    Ig,
    /// Gradient x input (the saliency map times the input), summed over each group.
    Gradient,
    /// Occlusion: the logit drop when the group is set to the baseline.
    Occlusion,
    /// SmoothGrad x input (turns on `--smoothgrad 16` unless given).
    Smoothgrad,
}

impl MethodArg {
    /// The methods shown when `--method` is not given.
    pub const DEFAULT: [MethodArg; 4] = [
        MethodArg::Shapley,
        MethodArg::Ig,
        MethodArg::Gradient,
        MethodArg::Occlusion,
    ];
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Method {
        match m {
            MethodArg::Shapley => Method::Shapley,
            MethodArg::Ig => Method::Ig,
            MethodArg::Gradient => Method::Gradient,
            MethodArg::Occlusion => Method::Occlusion,
            MethodArg::Smoothgrad => Method::Smoothgrad,
        }
    }
}

/// Output format of `whitebox explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// A summary in the field's terms.
    Text,
    /// The whole report.
    Json,
}

/// Arguments of `whitebox explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The model file.
    #[arg(long, default_value = "fixtures/models/default.model")]
    pub model: std::path::PathBuf,
    /// Or a decision tree, `tree:PATH`: a decision (`--jobs`/`--step` or `--trace`/
    /// `--decision`) is explained by its path from the root to the leaf, not by gradients.
    #[arg(long, value_name = "tree:PATH", conflicts_with = "model")]
    pub policy: Option<String>,
    /// Explain one decision of the model's greedy episode on this job file...
    #[arg(long)]
    pub jobs: Option<std::path::PathBuf>,
    /// ...the decision with this index (0-based).
    #[arg(long, default_value_t = 0)]
    pub step: usize,
    /// Or explain a decision of a trace written by `whitebox record`: its jobs and end mode,
    /// the recorded actions up to the decision (rules included)...
    #[arg(
        long,
        value_name = "FIXTURE",
        conflicts_with = "jobs",
        requires = "decision"
    )]
    pub trace: Option<std::path::PathBuf>,
    /// ...and this decision index (0-based). The model is `--model`, which should be the one
    /// the trace names (checked: size and CRC-32).
    #[arg(long, value_name = "K", requires = "trace")]
    pub decision: Option<usize>,
    /// Otherwise aggregate over decisions on generated job sets of this workload...
    #[arg(long, default_value = "deeprm")]
    pub workload: String,
    /// ...at this arrival rate (default: the model's training rate)...
    #[arg(long, allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// ...this many decisions (only decisions with two or more allowed actions).
    #[arg(long, default_value_t = 200)]
    pub decisions: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
    /// Also compute SmoothGrad: the gradient averaged over N noisy copies of each input,
    /// reported per group as SmoothGrad x input.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub smoothgrad: Option<u64>,
    /// SmoothGrad's noise standard deviation, in input units (every input is in [0, 1]).
    #[arg(
        long,
        value_name = "SIGMA",
        default_value_t = 0.1,
        requires = "smoothgrad"
    )]
    pub noise: f64,
    /// Per-group methods to show, comma-separated: shapley, ig, gradient (gradient x input),
    /// occlusion, smoothgrad. Exact Shapley values are always computed (the shares and the
    /// deletion check rest on them); the others are cheap and computed too, this chooses what
    /// the per-decision table and the JSON groups show.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = MethodArg::DEFAULT)]
    pub method: Vec<MethodArg>,
    /// Write pictures to DIR: the per-group |Shapley| shares, the hidden-unit correlations and,
    /// for image-encoded models, the mean |IG| per pixel of the DeepRM image (PNG and SVG).
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
}

/// Runs `whitebox explain`; returns what to print.
///
/// # Errors
/// Invalid flags, unreadable model, job or trace files, and as [`explain_with`].
pub fn run(a: &ExplainArgs) -> Result<String> {
    if let Some(policy) = &a.policy {
        return explain_tree(a, policy);
    }
    let model = whitebox_runtime::models::load(&a.model)?;
    if let Some(rate) = a.rate.filter(|r| !(0.0..=1.0).contains(r)) {
        bail!("--rate = {rate}, must be in [0, 1] jobs per time step");
    }
    let rate = a.rate.unwrap_or(f64::from(model.header.meta.rate));
    let target = match (&a.trace, a.decision) {
        (Some(path), Some(k)) => {
            let t = whitebox_studies::trace::episode_of(path, &a.model)?;
            Target::One {
                step: k,
                end: t.end,
                actions: Some(t.actions()),
                guard: GuardNote::of(&t, k),
                jobs: t.jobs,
            }
        }
        _ => target_from(a.jobs.as_deref(), a.step, &a.workload, rate, a.decisions)?,
    };
    if !(a.noise.is_finite() && a.noise >= 0.0) {
        bail!("--noise = {}, must be a finite number >= 0", a.noise);
    }
    let copies = a
        .smoothgrad
        .or(a.method.contains(&MethodArg::Smoothgrad).then_some(16));
    // `--smoothgrad N` shows SmoothGrad even when `--method` leaves it out.
    let mut methods: Vec<Method> = a.method.iter().map(|&m| m.into()).collect();
    if a.smoothgrad.is_some() && !methods.contains(&Method::Smoothgrad) {
        methods.push(Method::Smoothgrad);
    }
    let options = Options {
        smoothgrad: copies
            .map(|n| -> Result<SmoothGrad> {
                Ok(SmoothGrad {
                    copies: usize::try_from(n).context("--smoothgrad")?,
                    sigma: a.noise,
                    seed: SMOOTHGRAD_SEED,
                })
            })
            .transpose()?,
    };
    let report = explain_with(&model, &target, &options)?;
    if let Some(dir) = &a.out {
        for path in pictures::write(&report, dir)? {
            eprintln!("wrote {}", path.display());
        }
    }
    match a.format {
        ExplainFormat::Text => Ok(text(&report, &a.model, &methods)),
        ExplainFormat::Json => json(&report, &methods),
    }
}

/// `explain --policy tree:PATH`: the path of one decision of the tree's episode on `--jobs`, or
/// of a recorded trace's decision (`--trace`, which must name this tree file).
fn explain_tree(a: &ExplainArgs, policy: &str) -> Result<String> {
    use whitebox_runtime::policy::PolicyName;
    let PolicyName::Tree(path) = PolicyName::parse(policy).context("--policy")? else {
        bail!("--policy {policy}: explain takes a decision tree here, tree:PATH (a model is --model PATH)");
    };
    let tree = whitebox_runtime::models::tree::load_tree(&path)?;
    match (&a.trace, a.decision, &a.jobs) {
        (Some(trace), Some(k), _) => {
            let t = whitebox_studies::trace::episode_of(trace, &path)?;
            let mut text = whitebox_studies::tree::explain::explain_tree(
                &tree,
                &t.jobs,
                t.end,
                k,
                Some(&t.actions()),
            )?;
            if let Some(note) = GuardNote::of(&t, k) {
                let action = t.decisions.get(k).map_or(tree.slots(), |d| d.action);
                text.push_str(&note.text(k, action));
                text.push('\n');
            }
            Ok(text)
        }
        (None, _, Some(jobs)) => {
            let jobs = whitebox_runtime::jobfile::load(jobs)?;
            let end = whitebox_core::EndMode::AllDone {
                time_cap: whitebox_runtime::settings::TIME_CAP,
            };
            whitebox_studies::tree::explain::explain_tree(&tree, &jobs, end, a.step, None)
        }
        _ => bail!(
            "--policy {policy}: a tree decision is explained by its path; give --jobs FILE [--step K] or --trace FIXTURE --decision K"
        ),
    }
}
