//! `whitebox explain`: why a learned policy chose an action, and how far the explanation can
//! be trusted.
//!
//! For each explained decision (a greedy decision of the model with at least two allowed
//! actions) the target is the chosen action's logit `z_a`. The baseline input is the encoding
//! of the empty cluster. Every report carries its faithfulness checks: the integrated-gradients
//! completeness residual, a deletion curve against random deletion orders, and a
//! model-randomization check (Adebayo et al., NeurIPS 2018).
//!
//! Over many decisions the report adds a hidden-layer analysis ([`hidden`]): what each hidden
//! unit correlates with in the cluster state, linear probes from the hidden layer, and the units
//! behind each action. SmoothGrad is optional; `--out DIR` draws the pictures ([`pictures`]).

pub mod attrib;
pub mod groups;
pub mod guard_note;
pub mod hidden;
pub mod pictures;

use std::path::Path;

use anyhow::{bail, Context, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use rayon::prelude::*;
use serde::Serialize;
use whitebox_core::encoding::Encoder;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::nn::{masked_softmax, Mlp};
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::{Cluster, EndMode, Episode, Job, Scheduler};

use groups::{groups, Category, Group};
use guard_note::GuardNote;
use whitebox_runtime::models::LoadedModel;

/// Which decisions to explain.
#[derive(Clone, Debug)]
pub enum Target {
    /// Decision `step` (0-based) of an episode on `jobs`: the model's greedy episode, or, with
    /// `actions`, the episode those actions play (a recorded trace's, whose decisions may have
    /// been changed by rules).
    One {
        /// The job sequence.
        jobs: Vec<Job>,
        /// Decision index.
        step: usize,
        /// How the episode ends.
        end: EndMode,
        /// Output indices to play before decision `step`, instead of the model's own choices.
        actions: Option<Vec<usize>>,
        /// A guarded trace's note on decision `step`: whose decision it was and why.
        guard: Option<GuardNote>,
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
    /// Interpretable features of the cluster at this decision ([`hidden::features`]).
    features: Vec<f64>,
}

/// SmoothGrad settings: `copies` noisy inputs with Gaussian noise of standard deviation `sigma`
/// (inputs are in `[0, 1]`), drawn from PCG-32 seeded with `seed + decision index`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SmoothGrad {
    /// Noisy copies per decision.
    pub copies: usize,
    /// Noise standard deviation, in input units.
    pub sigma: f64,
    /// Base seed.
    pub seed: u64,
}

/// What to compute beyond the standard attributions.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Options {
    /// SmoothGrad, if wanted.
    pub smoothgrad: Option<SmoothGrad>,
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
    /// With `--smoothgrad`: sum of SmoothGrad x input over the group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoothgrad_x_input: Option<f64>,
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
    /// With a single explained decision: its per-input saliency maps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saliency: Option<Saliency>,
    /// A decision of a guarded trace: whose decision it was (the network's or SJF's) and the
    /// hand-over behind it. The attributions are always the network's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardNote>,
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
    /// Observation encoding of the model (`compact` or `image`).
    pub encoding: &'static str,
    /// Job slots of the model.
    pub slots: usize,
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
    /// SmoothGrad settings, when it was computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoothgrad: Option<SmoothGrad>,
    /// With SmoothGrad: mean share of |SmoothGrad x input| per group over decisions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_smoothgrad_share: Option<Vec<f64>>,
    /// The hidden-layer analysis, when aggregating over decisions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<hidden::HiddenReport>,
    /// Mean |integrated gradient| per input over decisions (for the heatmap).
    #[serde(skip)]
    pub mean_abs_ig: Vec<f64>,
    /// The explained decisions.
    pub decisions: Vec<DecisionReport>,
}

/// The saliency maps of one decision, per input in the encoder's order (shape `[I]`), given
/// when a single decision is explained.
#[derive(Clone, Debug, Serialize)]
pub struct Saliency {
    /// `d z_a / d x`: gradient of the chosen action's logit.
    pub logit: Vec<f64>,
    /// `d p_a / d x`: gradient of its probability (softmax over the allowed actions).
    pub probability: Vec<f64>,
    /// Gradient of the logit times the input.
    pub gradient_x_input: Vec<f64>,
}

/// Explains `target` for `model`.
///
/// # Errors
/// An unsupported architecture, a step beyond the episode, or no explainable decision.
pub fn explain(model: &LoadedModel, target: &Target) -> Result<ExplainReport> {
    explain_with(model, target, &Options::default())
}

/// [`explain`] with options.
///
/// # Errors
/// As [`explain`].
pub fn explain_with(
    model: &LoadedModel,
    target: &Target,
    options: &Options,
) -> Result<ExplainReport> {
    use whitebox_core::encoding::{Compact, Image};
    use whitebox_runtime::models::AnyModel;
    let mask = model.header.meta.mask_invalid;
    let o = options;
    let mut report = match &model.net {
        AnyModel::Compact5(n) => explain_net::<Compact, 5, _, _, _>(n, mask, target, o),
        AnyModel::Compact10(n) => explain_net::<Compact, 10, _, _, _>(n, mask, target, o),
        AnyModel::Image5(n) => explain_net::<Image, 5, _, _, _>(n, mask, target, o),
        AnyModel::Image10(n) => explain_net::<Image, 10, _, _, _>(n, mask, target, o),
    }?;
    if let (Target::One { guard, .. }, [d]) = (target, report.decisions.as_mut_slice()) {
        d.guard.clone_from(guard);
    }
    Ok(report)
}

/// Where [`decisions_of`] looks: every explainable decision of a greedy all-done episode, or
/// one decision of an episode that may follow recorded actions.
struct Walk<'a> {
    end: EndMode,
    only: Option<usize>,
    actions: Option<&'a [usize]>,
}

impl Walk<'_> {
    const GREEDY: Walk<'static> = Walk {
        end: EndMode::AllDone {
            time_cap: whitebox_runtime::settings::TIME_CAP,
        },
        only: None,
        actions: None,
    };
}

fn decisions_of<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    mask: bool,
    jobs: &[Job],
    out: &mut Vec<Decision>,
    walk: &Walk<'_>,
    limit: usize,
) -> Result<()> {
    let (end, only) = (walk.end, walk.only);
    let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut ())?;
    let mut policy: MlpPolicy<'_, E, M, I, H, O> = MlpPolicy::new(net, mask);
    let mut step = 0;
    while !ep.is_done() && out.len() < limit {
        let action = policy.decide(ep.cluster())?;
        let choices = policy.valid().iter().filter(|&&v| v).count();
        if only.map_or(choices >= 2, |k| k == step) {
            out.push(Decision {
                obs: policy.obs().iter().map(|&v| f64::from(v)).collect(),
                valid: policy.valid().to_vec(),
                action: action.index(M),
                step,
                features: hidden::features(ep.cluster()),
            });
        }
        let played = match walk.actions {
            Some(recorded) => {
                let k = recorded
                    .get(step)
                    .copied()
                    .with_context(|| format!("the trace has no decision {step}"))?;
                whitebox_core::Action::from_index(k, M)
                    .with_context(|| format!("decision {step}: action {k} is not below {O}"))?
            }
            None => action,
        };
        ep.step(played, &mut ());
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

/// One decision's report and its per-input |integrated gradients|.
fn report_one<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    random: &Mlp<I, H, O>,
    (index, d): (usize, &Decision),
    baseline: &[f64],
    groups: &[Group],
    options: &Options,
) -> (DecisionReport, Vec<f64>) {
    let idx: Vec<Vec<usize>> = groups.iter().map(|g| g.inputs.clone()).collect();
    let a = d.action;
    let delta = attrib::logit(net, &d.obs, a) - attrib::logit(net, baseline, a);
    let grad = attrib::gradient(net, &d.obs, a);
    let ig = attrib::integrated_gradients(net, &d.obs, baseline, a);
    let phi = attrib::shapley(net, &d.obs, baseline, &idx, a);
    let occ = attrib::occlusion(net, &d.obs, baseline, &idx, a);
    let sum_over = |v: &[f64], g: &[usize]| g.iter().map(|&i| v[i]).sum::<f64>();
    let gxi: Vec<f64> = grad.iter().zip(&d.obs).map(|(g, x)| g * x).collect();
    let sgxi: Option<Vec<f64>> = options.smoothgrad.map(|s| {
        let mut rng = Pcg32::seed_from_u64(s.seed.wrapping_add(index as u64));
        let sg = attrib::smoothgrad(net, &d.obs, a, s.copies, s.sigma, &mut rng);
        sg.iter().zip(&d.obs).map(|(g, x)| g * x).collect()
    });
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
    let report = DecisionReport {
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
                smoothgrad_x_input: sgxi.as_ref().map(|v| sum_over(v, &g.inputs)),
            })
            .collect(),
        deletion_auc: deletion(&order),
        deletion_auc_random: random_auc,
        randomization_rank_corr: spearman(&abs(&phi), &abs(&phi_random)),
        saliency: None,
        guard: None,
    };
    (report, abs(&ig))
}

/// Mean over rows of each row's shares `|v_k| / sum |v|`.
fn mean_shares(rows: &[Vec<f64>]) -> Vec<f64> {
    let n = rows.len().max(1) as f64;
    let width = rows.first().map_or(0, Vec::len);
    let mut out = vec![0.0; width];
    for r in rows {
        let total: f64 = r.iter().map(|v| v.abs()).sum();
        for (o, v) in out.iter_mut().zip(r) {
            *o += v.abs() / total.max(1e-12) / n;
        }
    }
    out
}

fn explain_net<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    mask: bool,
    target: &Target,
    options: &Options,
) -> Result<ExplainReport> {
    let mut decisions = Vec::new();
    match target {
        Target::One {
            jobs,
            step,
            end,
            actions,
            ..
        } => {
            let walk = Walk {
                end: *end,
                only: Some(*step),
                actions: actions.as_deref(),
            };
            decisions_of::<E, M, I, H, O>(net, mask, jobs, &mut decisions, &walk, 1)?;
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
                decisions_of::<E, M, I, H, O>(net, mask, &jobs, &mut decisions, &Walk::GREEDY, *n)?;
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
    let (mut reports, abs_ig): (Vec<DecisionReport>, Vec<Vec<f64>>) = decisions
        .par_iter()
        .enumerate()
        .map(|d| report_one(net, &random, d, &baseline, &groups, options))
        .unzip();
    // One decision: its full saliency maps too (per input; too large to list for many).
    if let ([d], [r]) = (decisions.as_slice(), reports.as_mut_slice()) {
        let logit = attrib::gradient(net, &d.obs, d.action);
        let (_, probability) = attrib::probability_gradient(net, &d.obs, &d.valid, d.action);
        let gradient_x_input = logit.iter().zip(&d.obs).map(|(g, x)| g * x).collect();
        r.saliency = Some(Saliency {
            logit,
            probability,
            gradient_x_input,
        });
    }
    let n = reports.len() as f64;
    let mut mean_abs_ig = vec![0.0; I];
    for v in &abs_ig {
        for (m, x) in mean_abs_ig.iter_mut().zip(v) {
            *m += x / n;
        }
    }
    let per_group = |f: &dyn Fn(&GroupAttribution) -> Option<f64>| -> Option<Vec<Vec<f64>>> {
        reports
            .iter()
            .map(|r| r.groups.iter().map(f).collect())
            .collect()
    };
    let mean_group_share = mean_shares(&per_group(&|g| Some(g.shapley)).unwrap_or_default());
    let mean_smoothgrad_share = options
        .smoothgrad
        .and_then(|_| per_group(&|g| g.smoothgrad_x_input))
        .map(|rows| mean_shares(&rows));
    let hidden = matches!(target, Target::Workload { .. }).then(|| {
        let obs: Vec<&[f64]> = decisions.iter().map(|d| d.obs.as_slice()).collect();
        let features: Vec<Vec<f64>> = decisions.iter().map(|d| d.features.clone()).collect();
        let actions: Vec<usize> = decisions.iter().map(|d| d.action).collect();
        hidden::analyse_net(net, &obs, &features, &hidden::feature_names(M), &actions)
    });
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
        encoding: E::ENCODING.name(),
        slots: M,
        smoothgrad: options.smoothgrad,
        mean_smoothgrad_share,
        hidden,
        mean_abs_ig,
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
pub fn text(r: &ExplainReport, model: &Path, methods: &[Method]) -> String {
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
    match (&r.mean_smoothgrad_share, r.smoothgrad) {
        (Some(sg), Some(s)) => {
            out += &format!(
                "per group (|Shapley| share; |SmoothGrad x input| share, {} copies, sigma {}):\n",
                s.copies, s.sigma
            );
            for ((g, v), w) in r.groups.iter().zip(&r.mean_group_share).zip(sg) {
                out += &format!("  {:<16} {:>6}  {:>6}\n", g.name, pct(*v), pct(*w));
            }
        }
        _ => {
            out += "per group:\n";
            for (g, s) in r.groups.iter().zip(&r.mean_group_share) {
                out += &format!("  {:<16} {}\n", g.name, pct(*s));
            }
        }
    }
    if let [d] = r.decisions.as_slice() {
        if let Some(g) = &d.guard {
            out += &g.text(d.step, d.action);
        }
        out += &format!(
            "\ndecision {}: action {} with probability {:.3}; logit above the empty cluster's by {:+.4}\n",
            d.step, d.action, d.probability, d.logit_delta
        );
        out += "  group           ";
        for m in methods {
            out += &format!(" {:<10}", m.column().0);
        }
        out += "\n";
        for g in &d.groups {
            out += &format!("  {:<16}", g.group);
            for m in methods {
                out += &m
                    .of(g)
                    .map_or_else(|| format!(" {:<10}", "-"), |v| format!(" {v:<+10.4}"));
            }
            out += "\n";
        }
    }
    out += &format!(
        "\nfaithfulness: max IG completeness residual {:.2e}; deletion AUC of p(action) {:.3} by Shapley order vs {:.3} random (lower is better); rank correlation with a randomized model {:.3}: {}\n",
        r.max_ig_completeness_residual, r.mean_deletion_auc.0, r.mean_deletion_auc.1, r.mean_randomization_rank_corr,
        randomization_verdict(r.mean_randomization_rank_corr)
    );
    if let Some(h) = &r.hidden {
        out += "\n";
        out += &hidden::text(h);
    }
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
            jobs: whitebox_runtime::jobfile::load(path)?,
            step,
            end: EndMode::AllDone {
                time_cap: whitebox_runtime::settings::TIME_CAP,
            },
            actions: None,
            guard: None,
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

/// Base seed of SmoothGrad's noise (decision `k` uses this plus `k`).
pub const SMOOTHGRAD_SEED: u64 = 4_242;

/// Below this |rank correlation| with a re-initialized model, the model-randomization check
/// (Adebayo et al., NeurIPS 2018) is reported as passed: the attribution depends on the weights.
pub const RANDOMIZATION_PASS: f64 = 0.5;

/// The model-randomization check's verdict in words.
pub fn randomization_verdict(rank_corr: f64) -> &'static str {
    if rank_corr.abs() < RANDOMIZATION_PASS {
        "passes (below 0.5)"
    } else {
        "FAILS (0.5 or above: the group ranking owes more to the inputs than to the weights)"
    }
}

/// A per-group attribution method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
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

impl Method {
    /// The methods shown when `--method` is not given.
    pub const DEFAULT: [Method; 4] = [
        Method::Shapley,
        Method::Ig,
        Method::Gradient,
        Method::Occlusion,
    ];

    /// Column header in the text table and key in the JSON groups.
    fn column(self) -> (&'static str, &'static str) {
        match self {
            Method::Shapley => ("Shapley", "shapley"),
            Method::Ig => ("IG", "integrated_gradients"),
            Method::Gradient => ("grad*input", "gradient_x_input"),
            Method::Occlusion => ("occlusion", "occlusion"),
            Method::Smoothgrad => ("SmoothGrad*input", "smoothgrad_x_input"),
        }
    }

    /// This method's value in `g`, if computed.
    fn of(self, g: &GroupAttribution) -> Option<f64> {
        match self {
            Method::Shapley => Some(g.shapley),
            Method::Ig => Some(g.integrated_gradients),
            Method::Gradient => Some(g.gradient_x_input),
            Method::Occlusion => Some(g.occlusion),
            Method::Smoothgrad => g.smoothgrad_x_input,
        }
    }
}

/// The report as JSON, each decision's groups keeping only the values of `methods`.
///
/// # Errors
/// Never in practice (serialization of plain data).
pub fn json(report: &ExplainReport, methods: &[Method]) -> Result<String> {
    let mut v = serde_json::to_value(report)?;
    let keep: Vec<&str> = methods.iter().map(|m| m.column().1).collect();
    for d in v["decisions"].as_array_mut().into_iter().flatten() {
        for g in d["groups"].as_array_mut().into_iter().flatten() {
            if let Some(o) = g.as_object_mut() {
                o.retain(|k, _| k == "group" || keep.contains(&k.as_str()));
            }
        }
    }
    Ok(serde_json::to_string_pretty(&v)? + "\n")
}
