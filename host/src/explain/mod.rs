//! `whitebox explain`: why a learned policy chose an action, and how far the explanation can
//! be trusted.
//!
//! For each explained decision (a greedy decision of the model with at least two allowed
//! actions) the target is the chosen action's logit `z_a`. The baseline input is the encoding
//! of the empty cluster. Every report carries its faithfulness checks: the integrated-gradients
//! completeness residual, a deletion curve against random deletion orders, and a
//! model-randomization check (Adebayo et al., NeurIPS 2018).

pub mod attrib;
pub mod groups;

use std::path::Path;

use anyhow::{bail, Context, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use rayon::prelude::*;
use serde::Serialize;
use whitebox_core::encoding::Encoder;
use whitebox_core::nn::{masked_softmax, Mlp};
use whitebox_core::policy::Policy;
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::{Cluster, EndMode, Episode, Job, Scheduler};

use crate::models::LoadedModel;
use groups::{groups, Category, Group};

/// Which decisions to explain.
#[derive(Clone, Debug)]
pub enum Target {
    /// Decision `step` (0-based) of the model's greedy episode on `jobs`.
    One {
        /// The job sequence.
        jobs: Vec<Job>,
        /// Decision index.
        step: usize,
    },
    /// The first `decisions` explainable decisions on generated job sets.
    Workload {
        /// Workload.
        workload: Workload,
        /// Arrival rate per step.
        rate: f64,
        /// Number of decisions.
        decisions: usize,
        /// Seed of the job sets.
        seed: u64,
    },
}

/// One decision's state, as the model saw it.
struct Decision {
    obs: Vec<f64>,
    valid: Vec<bool>,
    action: usize,
    step: usize,
}

/// Per-group attribution of one decision.
#[derive(Clone, Debug, Serialize)]
pub struct GroupAttribution {
    /// Group label.
    pub group: String,
    /// Exact Shapley value of the chosen logit.
    pub shapley: f64,
    /// Sum of integrated gradients over the group.
    pub integrated_gradients: f64,
    /// Sum of gradient x input over the group.
    pub gradient_x_input: f64,
    /// Occlusion: logit drop when the group is set to the baseline.
    pub occlusion: f64,
}

/// One explained decision.
#[derive(Clone, Debug, Serialize)]
pub struct DecisionReport {
    /// Decision index in its episode.
    pub step: usize,
    /// Chosen action (output index; `M` is void).
    pub action: usize,
    /// Probability of the chosen action (masked softmax).
    pub probability: f64,
    /// `z_a(x) - z_a(baseline)`.
    pub logit_delta: f64,
    /// `|sum(IG) - logit_delta| / max(|logit_delta|, 1e-9)`.
    pub ig_completeness_residual: f64,
    /// `|sum(Shapley) - logit_delta|`.
    pub shapley_efficiency_error: f64,
    /// Per group.
    pub groups: Vec<GroupAttribution>,
    /// Mean probability of the chosen action while groups are removed in order of decreasing
    /// Shapley value (lower = the attribution found what matters).
    pub deletion_auc: f64,
    /// The same for random removal orders (mean of 20).
    pub deletion_auc_random: f64,
    /// Spearman rank correlation of |Shapley| per group between the model and a randomly
    /// re-initialized copy (near 0: the explanation depends on the learned weights).
    pub randomization_rank_corr: f64,
}

/// Shares of total |Shapley| per category, averaged over decisions.
#[derive(Clone, Debug, Serialize)]
pub struct Shares {
    /// Cluster occupancy, all resources.
    pub occupancy: f64,
    /// Cluster occupancy per resource.
    pub occupancy_per_resource: Vec<f64>,
    /// All job slots.
    pub job_slots: f64,
    /// Backlog.
    pub backlog: f64,
    /// Time since the last job.
    pub since_last_job: f64,
}

/// The report of `whitebox explain`.
#[derive(Clone, Debug, Serialize)]
pub struct ExplainReport {
    /// The groups, in order.
    pub groups: Vec<Group>,
    /// Mean share of |Shapley| per group over decisions.
    pub mean_group_share: Vec<f64>,
    /// The same per category.
    pub shares: Shares,
    /// Largest IG completeness residual over decisions.
    pub max_ig_completeness_residual: f64,
    /// Mean deletion AUC (Shapley order) and for random orders.
    pub mean_deletion_auc: (f64, f64),
    /// Mean randomization rank correlation.
    pub mean_randomization_rank_corr: f64,
    /// The explained decisions.
    pub decisions: Vec<DecisionReport>,
}

/// Explains `target` for `model`.
///
/// # Errors
/// An unsupported architecture, a step beyond the episode, or no explainable decision.
pub fn explain(model: &LoadedModel, target: &Target) -> Result<ExplainReport> {
    use crate::models::AnyModel;
    let mask = model.header.meta.mask_invalid;
    match &model.net {
        AnyModel::Compact5(n) => {
            explain_net::<whitebox_core::encoding::Compact, 5, _, _, _>(n, mask, target)
        }
        AnyModel::Compact10(n) => {
            explain_net::<whitebox_core::encoding::Compact, 10, _, _, _>(n, mask, target)
        }
        AnyModel::Image5(n) => {
            explain_net::<whitebox_core::encoding::Image, 5, _, _, _>(n, mask, target)
        }
        AnyModel::Image10(n) => {
            explain_net::<whitebox_core::encoding::Image, 10, _, _, _>(n, mask, target)
        }
    }
}

fn decisions_of<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    mask: bool,
    jobs: &[Job],
    out: &mut Vec<Decision>,
    only: Option<usize>,
    limit: usize,
) -> Result<()> {
    let end = EndMode::AllDone { time_cap: 10_000 };
    let mut ep: Episode<'_, M> =
        Episode::new(jobs, end, &mut ()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut policy: Policy<'_, E, M, I, H, O> = Policy::new(net, mask);
    let mut step = 0;
    while !ep.is_done() && out.len() < limit {
        let action = policy
            .decide(ep.cluster())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let choices = policy.valid().iter().filter(|&&v| v).count();
        if only.map_or(choices >= 2, |k| k == step) {
            out.push(Decision {
                obs: policy.obs().iter().map(|&v| f64::from(v)).collect(),
                valid: policy.valid().to_vec(),
                action: action.index(M),
                step,
            });
        }
        ep.step(action, &mut ());
        step += 1;
    }
    Ok(())
}

fn probability<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    x: &[f64],
    valid: &[bool],
    a: usize,
) -> f64 {
    let z: [f32; O] = std::array::from_fn(|k| attrib::logit(net, x, k) as f32);
    let v: [bool; O] = std::array::from_fn(|k| valid.get(k).copied().unwrap_or(false));
    let mut p = [0.0f32; O];
    if masked_softmax(&z, &v, &mut p) {
        f64::from(p[a])
    } else {
        0.0
    }
}

fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let rank = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        for (k, &i) in idx.iter().enumerate() {
            r[i] = k as f64;
        }
        r
    };
    let (ra, rb) = (rank(a), rank(b));
    let n = a.len() as f64;
    let mean = (n - 1.0) / 2.0;
    let cov: f64 = ra
        .iter()
        .zip(&rb)
        .map(|(x, y)| (x - mean) * (y - mean))
        .sum();
    let var: f64 = ra.iter().map(|x| (x - mean) * (x - mean)).sum();
    if var == 0.0 {
        0.0
    } else {
        cov / var
    }
}

fn report_one<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    random: &Mlp<I, H, O>,
    d: &Decision,
    baseline: &[f64],
    groups: &[Group],
) -> DecisionReport {
    let idx: Vec<Vec<usize>> = groups.iter().map(|g| g.inputs.clone()).collect();
    let a = d.action;
    let delta = attrib::logit(net, &d.obs, a) - attrib::logit(net, baseline, a);
    let grad = attrib::gradient(net, &d.obs, a);
    let ig = attrib::integrated_gradients(net, &d.obs, baseline, a);
    let phi = attrib::shapley(net, &d.obs, baseline, &idx, a);
    let occ = attrib::occlusion(net, &d.obs, baseline, &idx, a);
    let sum_over = |v: &[f64], g: &[usize]| g.iter().map(|&i| v[i]).sum::<f64>();
    let gxi: Vec<f64> = grad.iter().zip(&d.obs).map(|(g, x)| g * x).collect();
    // Deletion: remove groups cumulatively, most positive Shapley value first.
    let deletion = |order: &[usize]| {
        let mut x = d.obs.clone();
        let mut total = probability(net, &x, &d.valid, a);
        for &g in order {
            for &i in &idx[g] {
                x[i] = baseline[i];
            }
            total += probability(net, &x, &d.valid, a);
        }
        total / (order.len() + 1) as f64
    };
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&i, &j| phi[j].total_cmp(&phi[i]));
    let mut rng = Pcg32::seed_from_u64(d.step as u64);
    let random_auc = (0..20)
        .map(|_| {
            let mut o: Vec<usize> = (0..groups.len()).collect();
            o.shuffle(&mut rng);
            deletion(&o)
        })
        .sum::<f64>()
        / 20.0;
    let phi_random = attrib::shapley(random, &d.obs, baseline, &idx, a);
    let abs = |v: &[f64]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
    DecisionReport {
        step: d.step,
        action: a,
        probability: probability(net, &d.obs, &d.valid, a),
        logit_delta: delta,
        ig_completeness_residual: (ig.iter().sum::<f64>() - delta).abs() / delta.abs().max(1e-9),
        shapley_efficiency_error: (phi.iter().sum::<f64>() - delta).abs(),
        groups: groups
            .iter()
            .enumerate()
            .map(|(k, g)| GroupAttribution {
                group: g.name.clone(),
                shapley: phi[k],
                integrated_gradients: sum_over(&ig, &g.inputs),
                gradient_x_input: sum_over(&gxi, &g.inputs),
                occlusion: occ[k],
            })
            .collect(),
        deletion_auc: deletion(&order),
        deletion_auc_random: random_auc,
        randomization_rank_corr: spearman(&abs(&phi), &abs(&phi_random)),
    }
}

fn explain_net<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    mask: bool,
    target: &Target,
) -> Result<ExplainReport> {
    let mut decisions = Vec::new();
    match target {
        Target::One { jobs, step } => {
            decisions_of::<E, M, I, H, O>(net, mask, jobs, &mut decisions, Some(*step), 1)?;
            if decisions.is_empty() {
                bail!("the episode ends before decision {step}");
            }
        }
        Target::Workload {
            workload,
            rate,
            decisions: n,
            seed,
        } => {
            let mut k = 0u64;
            while decisions.len() < *n && k < 10_000 {
                let jobs: Vec<Job> =
                    JobGenerator::new(*workload, *rate, 50, seed.wrapping_add(k)).collect();
                decisions_of::<E, M, I, H, O>(net, mask, &jobs, &mut decisions, None, *n)?;
                k += 1;
            }
            if decisions.is_empty() {
                bail!("no decision with two or more allowed actions in the job sets");
            }
        }
    }
    let groups = groups(E::ENCODING, M);
    if groups.len() > 20 {
        bail!(
            "{} feature groups are too many for exact Shapley values",
            groups.len()
        );
    }
    let mut base = [0.0f32; I];
    E::encode(&Cluster::<M>::new(), &mut base);
    let baseline: Vec<f64> = base.iter().map(|&v| f64::from(v)).collect();
    // Model randomization: He-initialized weights of the same shapes.
    let mut random = Box::new(Mlp::<I, H, O>::zeroed());
    let mut rng = Pcg32::seed_from_u64(12345);
    let (b1, b2) = ((6.0 / I as f32).sqrt(), (6.0 / H as f32).sqrt());
    random
        .w1
        .iter_mut()
        .flatten()
        .for_each(|w| *w = rng.random_range(-b1..b1));
    random
        .w2
        .iter_mut()
        .flatten()
        .for_each(|w| *w = rng.random_range(-b2..b2));
    let reports: Vec<DecisionReport> = decisions
        .par_iter()
        .map(|d| report_one(net, &random, d, &baseline, &groups))
        .collect();
    let n = reports.len() as f64;
    let shares: Vec<Vec<f64>> = reports
        .iter()
        .map(|r| {
            let total: f64 = r.groups.iter().map(|g| g.shapley.abs()).sum();
            r.groups
                .iter()
                .map(|g| g.shapley.abs() / total.max(1e-12))
                .collect()
        })
        .collect();
    let mean_group_share: Vec<f64> = (0..groups.len())
        .map(|g| shares.iter().map(|s| s[g]).sum::<f64>() / n)
        .collect();
    let by = |c: Category| -> f64 {
        groups
            .iter()
            .zip(&mean_group_share)
            .filter(|(g, _)| g.category == c)
            .map(|(_, s)| s)
            .sum()
    };
    let per_resource = (0..whitebox_core::spec::NUM_RES)
        .map(|r| {
            groups
                .iter()
                .zip(&mean_group_share)
                .filter(|(g, _)| g.resource == Some(r))
                .map(|(_, s)| s)
                .sum()
        })
        .collect();
    let shares = Shares {
        occupancy: by(Category::Occupancy),
        occupancy_per_resource: per_resource,
        job_slots: by(Category::JobSlot),
        backlog: by(Category::Backlog),
        since_last_job: by(Category::SinceLastJob),
    };
    Ok(ExplainReport {
        mean_group_share,
        shares,
        max_ig_completeness_residual: reports
            .iter()
            .map(|r| r.ig_completeness_residual)
            .fold(0.0, f64::max),
        mean_deletion_auc: (
            reports.iter().map(|r| r.deletion_auc).sum::<f64>() / n,
            reports.iter().map(|r| r.deletion_auc_random).sum::<f64>() / n,
        ),
        mean_randomization_rank_corr: reports
            .iter()
            .map(|r| r.randomization_rank_corr)
            .sum::<f64>()
            / n,
        groups,
        decisions: reports,
    })
}

/// A plain-text summary of a report, in the field's terms.
pub fn text(r: &ExplainReport, model: &Path) -> String {
    let pct = |v: f64| format!("{:.1}%", 100.0 * v);
    let mut out = format!(
        "model {}: {} decision(s) explained (target: the chosen action's logit; baseline: empty cluster)\n\n",
        model.display(),
        r.decisions.len()
    );
    out += "share of |Shapley value| (mean over decisions):\n";
    out += &format!(
        "  cluster occupancy {} (per resource: {}), job slots {}, backlog {}, time since last job {}\n\n",
        pct(r.shares.occupancy),
        r.shares.occupancy_per_resource.iter().map(|&v| pct(v)).collect::<Vec<_>>().join(", "),
        pct(r.shares.job_slots),
        pct(r.shares.backlog),
        pct(r.shares.since_last_job)
    );
    out += "per group:\n";
    for (g, s) in r.groups.iter().zip(&r.mean_group_share) {
        out += &format!("  {:<16} {}\n", g.name, pct(*s));
    }
    if let [d] = r.decisions.as_slice() {
        out += &format!(
            "\ndecision {}: action {} with probability {:.3}; logit above the empty cluster's by {:+.4}\n",
            d.step, d.action, d.probability, d.logit_delta
        );
        out += "  group            Shapley    IG         grad*input occlusion\n";
        for g in &d.groups {
            out += &format!(
                "  {:<16} {:+.4}    {:+.4}    {:+.4}    {:+.4}\n",
                g.group, g.shapley, g.integrated_gradients, g.gradient_x_input, g.occlusion
            );
        }
    }
    out += &format!(
        "\nfaithfulness: max IG completeness residual {:.2e}; deletion AUC of p(action) {:.3} by Shapley order vs {:.3} random (lower is better); rank correlation with a randomized model {:.3} (near 0 passes)\n",
        r.max_ig_completeness_residual, r.mean_deletion_auc.0, r.mean_deletion_auc.1, r.mean_randomization_rank_corr
    );
    out
}

/// Loads a job file target or builds a workload target, for the CLI.
///
/// # Errors
/// An unknown workload or unreadable job file.
pub fn target_from(
    jobs: Option<&Path>,
    step: usize,
    workload: &str,
    rate: f64,
    decisions: usize,
) -> Result<Target> {
    Ok(match jobs {
        Some(path) => Target::One {
            jobs: crate::jobfile::load(path)?,
            step,
        },
        None => Target::Workload {
            workload: Workload::from_name(workload)
                .with_context(|| format!("unknown workload `{workload}`"))?,
            rate,
            decisions,
            seed: 9_000,
        },
    })
}

/// Output format of `whitebox explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
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
    /// Explain one decision of the model's greedy episode on this job file...
    #[arg(long)]
    pub jobs: Option<std::path::PathBuf>,
    /// ...the decision with this index (0-based).
    #[arg(long, default_value_t = 0)]
    pub step: usize,
    /// Otherwise aggregate over decisions on generated job sets of this workload...
    #[arg(long, default_value = "deeprm")]
    pub workload: String,
    /// ...at this arrival rate (default: the model's training rate)...
    #[arg(long)]
    pub rate: Option<f64>,
    /// ...this many decisions (only decisions with two or more allowed actions).
    #[arg(long, default_value_t = 200)]
    pub decisions: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
}

/// Runs `whitebox explain`; returns what to print.
///
/// # Errors
/// As [`explain`], and unreadable model or job files.
pub fn run(a: &ExplainArgs) -> Result<String> {
    let model = crate::models::load(&a.model)?;
    let rate = a.rate.unwrap_or(f64::from(model.header.meta.rate));
    let target = target_from(a.jobs.as_deref(), a.step, &a.workload, rate, a.decisions)?;
    let report = explain(&model, &target)?;
    Ok(match a.format {
        ExplainFormat::Text => text(&report, &a.model),
        ExplainFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    })
}
