//! What the guard did to one decision of a guarded trace: whose decision it was (the learned
//! policy's or SJF's) and the hand-over that put that scheduler in charge, so an explanation
//! never attributes SJF's decision to the network.

use serde::Serialize;
use whitebox_core::spec::INV_LEN_SCALE;

use crate::trace::{HandoverRef, TraceEpisode};

/// The guard's part in one recorded decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GuardNote {
    /// Guard mode, `renewal` or `budget`.
    pub mode: String,
    /// `learned` or `fallback` (SJF, under the trace's rules if any).
    pub decided_by: String,
    /// The action played (output index), the decider's.
    pub played: usize,
    /// The hand-over that put `decided_by` in charge (the last one at or before the decision's
    /// time step), with both costs so far.
    pub handover: Option<HandoverRef>,
}

impl GuardNote {
    /// The note of decision `k` of a guarded trace; `None` for an unguarded trace or a decision
    /// beyond it.
    pub fn of(trace: &TraceEpisode, k: usize) -> Option<GuardNote> {
        let guard = trace.guard.as_ref()?;
        let d = trace.decisions.get(k)?;
        Some(GuardNote {
            mode: guard.mode.clone(),
            decided_by: d.decided_by.clone()?,
            played: d.action,
            handover: guard
                .handovers
                .iter()
                .rev()
                .find(|h| h.step <= d.time)
                .cloned(),
        })
    }

    /// One or two lines for the text report of decision `step`, whose network choice is
    /// `network_action`.
    pub fn text(&self, step: usize, network_action: usize) -> String {
        let slowdown = |cost: u64| cost as f64 / INV_LEN_SCALE as f64;
        let why = self.handover.as_ref().map_or_else(String::new, |h| {
            format!(
                " since step {} ({}; cost so far {:.3} vs SJF's {:.3} slowdown units, scaled \
                 charge {} vs {})",
                h.step,
                h.reason,
                slowdown(h.real_cost),
                slowdown(h.sjf_cost),
                h.real_cost,
                h.sjf_cost
            )
        });
        if self.decided_by == "fallback" {
            let own = if network_action == self.played {
                "the same action, which the guard did not let it play".to_string()
            } else {
                format!("action {network_action}, which was not played")
            };
            format!(
                "\ndecision {step} was SJF's, not the network's: the {} guard gave the decisions \
                 to SJF{why}.\n  SJF played action {}; the attributions below explain the \
                 network's own choice, {own}.\n",
                self.mode, self.played
            )
        } else {
            format!(
                "\ndecision {step} was the network's: the {} guard left the decisions to the \
                 learned policy{why}.\n",
                self.mode
            )
        }
    }
}
