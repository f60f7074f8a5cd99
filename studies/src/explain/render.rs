//! `whitebox explain`'s output: the plain-text summary and the JSON, showing the chosen
//! attribution methods.

use std::path::Path;

use anyhow::Result;

use super::hidden;
use super::report::{ExplainReport, GroupAttribution};

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
