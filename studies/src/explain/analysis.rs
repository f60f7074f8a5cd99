//! The analysis behind `whitebox explain`: the decisions of an episode as the model saw them,
//! each attributed to feature groups with its faithfulness checks, and the means over them.

use anyhow::{bail, Context, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use rayon::prelude::*;
use whitebox_core::encoding::Encoder;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::nn::{masked_softmax, Mlp};
use whitebox_core::workload::JobGenerator;
use whitebox_core::{Cluster, EndMode, Episode, Job, Scheduler};
use whitebox_runtime::models::{ArchVisitor, LoadedModel, F32, HIDDEN};

use super::groups::{groups, Category, Group};
use super::report::{DecisionReport, ExplainReport, GroupAttribution, Saliency, Shares};
use super::settings::{Options, Target};
use super::{attrib, hidden};

/// One decision's state, as the model saw it.
struct Decision {
    obs: Vec<f64>,
    valid: Vec<bool>,
    action: usize,
    step: usize,
    /// Interpretable features of the cluster at this decision ([`hidden::features`]).
    features: Vec<f64>,
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
    let mut report = model.net.visit(ExplainNet {
        mask: model.header.meta.mask_invalid,
        target,
        options,
    })?;
    if let (Target::One { guard, .. }, [d]) = (target, report.decisions.as_mut_slice()) {
        d.guard.clone_from(guard);
    }
    Ok(report)
}

/// [`explain_net`] on one architecture.
struct ExplainNet<'a> {
    mask: bool,
    target: &'a Target,
    options: &'a Options,
}

impl ArchVisitor<'_, F32> for ExplainNet<'_> {
    type Out = Result<ExplainReport>;

    fn visit<E: Encoder, const M: usize, const I: usize, const O: usize>(
        self,
        net: &Mlp<I, HIDDEN, O>,
    ) -> Self::Out {
        explain_net::<E, M, I, HIDDEN, O>(net, self.mask, self.target, self.options)
    }
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
