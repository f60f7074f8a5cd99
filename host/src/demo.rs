//! `whitebox demo`: the fixed showcase evaluation, written to a directory.
//!
//! For now the four baselines on DeepRM's workload at three loads; learned policies join later.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use whitebox_core::workload::Workload;

use crate::eval::{evaluate, EvalConfig, EvalReport};
use crate::play::{End, Slots};
use crate::policy::PolicyName;

/// Base seed of the demo's job sets: not `eval`'s default (1000), so anything tuned on the
/// default evaluation is judged on job sets it has not seen.
pub const DEMO_SEED: u64 = 7_000;

/// Arrival rates of the demo: expected loads 0.55, 0.92 and 1.29 on DeepRM's workload.
pub const DEMO_RATES: [f64; 3] = [0.3, 0.5, 0.7];

/// The demo's evaluation with `jobsets` job sets per rate.
pub fn config(jobsets: usize) -> EvalConfig {
    EvalConfig {
        workloads: vec![Workload::DeepRm],
        rates: DEMO_RATES.to_vec(),
        jobsets,
        seed: DEMO_SEED,
        policies: PolicyName::BASELINES.to_vec(),
        slots: Slots::Ten,
        end: End::AllDone,
        simu_len: 50,
        time_cap: 10_000,
        tetris_knob: 0.5,
    }
}

/// The JSON text of an evaluation report, as `eval --format json` prints it.
///
/// # Errors
/// Only if serialisation fails (it does not for these types).
pub fn report_json(report: &EvalReport) -> Result<String> {
    Ok(serde_json::to_string_pretty(report)? + "\n")
}

/// Runs the demo evaluation and writes `out/demo.json` (creating `out`). Returns the report
/// and the path written.
///
/// # Errors
/// When the directory or file cannot be written.
pub fn run(
    out: &Path,
    jobsets: usize,
    on_task: &(dyn Fn() + Sync),
) -> Result<(EvalReport, PathBuf)> {
    let report = evaluate(&config(jobsets), on_task)?;
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;
    let path = out.join("demo.json");
    std::fs::write(&path, report_json(&report)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok((report, path))
}
