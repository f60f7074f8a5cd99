//! What `whitebox explain` explains and how: the target decisions and the optional SmoothGrad.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use whitebox_core::workload::Workload;
use whitebox_core::{EndMode, Job};

use super::guard_note::GuardNote;

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

/// Base seed of SmoothGrad's noise (decision `k` uses this plus `k`).
pub const SMOOTHGRAD_SEED: u64 = 4_242;

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
