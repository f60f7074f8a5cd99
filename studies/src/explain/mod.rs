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

mod analysis;
pub mod attrib;
pub mod groups;
pub mod guard_note;
pub mod hidden;
pub mod pictures;
mod render;
mod report;
mod settings;

pub use analysis::{explain, explain_with};
pub use render::{json, randomization_verdict, text, Method, RANDOMIZATION_PASS};
pub use report::{DecisionReport, ExplainReport, GroupAttribution, Saliency, Shares};
pub use settings::{target_from, Options, SmoothGrad, Target, SMOOTHGRAD_SEED};
