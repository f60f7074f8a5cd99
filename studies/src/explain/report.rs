//! The report of `whitebox explain`: per-decision attributions, their shares and the
//! faithfulness checks, as plain serializable data.

use serde::Serialize;

use super::groups::Group;
use super::guard_note::GuardNote;
use super::hidden;
use super::settings::SmoothGrad;

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
