//! Audit traces: `whitebox record` writes every decision of a learned policy on one job file
//! (time step, action, action mask and the logits as exact `f32` bit patterns) with the episode
//! metrics; `whitebox replay` plays the same jobs again and reports the first divergence.
//!
//! With operator rules (`--rule`, `--rule-c`, as for `simulate`) every decision goes through
//! the core's `Projection`, and the trace also holds the rule set and `C` (top-level `rules`)
//! and per decision the policy's raw choice, each rule's verdict and soft truth per action, the
//! projected probabilities as `f32` bit patterns and whether the rules changed the decision.
//! Without rules these fields are absent and the format is exactly the one of rule-free traces.
//!
//! For the int8 policy (`int8:PATH`) the trace also holds the quantization ranges (top-level
//! `int8`) and the logits are the network's `i32` ones as two's complement bit patterns; replay
//! quantizes the model again with the same calibration.
//!
//! For a decision tree (`tree:PATH`) the trace names the tree file (top-level `tree`, its
//! length and CRC-32, instead of `model`) and every decision the leaf it reached; replay
//! refuses a tree file other than the recorded one.
//!
//! The format is described in `docs/embedded.md` ("Audit trace format"). A trace's `jobs` array has
//! the job-file layout, so a trace is also a valid `--jobs` file. The firmware test in
//! `firmware/` compiles the traces in `fixtures/golden/` into its image and checks the same bits
//! on Cortex-M.

mod divergence;
mod format;
mod record;
mod replay;

pub use divergence::{first_divergence, Divergence};
pub use format::{
    end_ref, Decision, EndRef, GuardRef, GuardStatsRef, HandoverRef, Int8Ref, Metrics, ModelRef,
    PolicyFile, RuleRef, RuleVerdict, RulesRef, Trace, TraceJob, FORMAT, VERSION,
};
pub use record::{record, record_tree, trace, trace_tree, Recorded};
pub use replay::{episode_of, replay, rerecord, TraceEpisode};
