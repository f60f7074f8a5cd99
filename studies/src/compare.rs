//! `whitebox compare`: policies on a fixed list of job files (for example DeepRM's reference
//! sequences), with per-policy means and paired differences against a reference policy.

use std::path::PathBuf;

use anyhow::{bail, Result};
use serde::Serialize;
use whitebox_core::Job;

use whitebox_runtime::play::play;
use whitebox_runtime::policy::PolicyName;
use whitebox_runtime::settings::{End, Slots};
use whitebox_runtime::stats::mean_ci95;

/// One policy's result over the files.
#[derive(Clone, Debug, Serialize)]
pub struct CompareRow {
    /// Policy name.
    pub policy: String,
    /// Mean over files of each file's mean slowdown.
    pub mean_slowdown: f64,
    /// 95% interval of that mean (Student t over files), if at least two files.
    pub ci95: Option<(f64, f64)>,
    /// Mean over files of (this policy's mean slowdown - the reference policy's).
    pub diff_vs_reference: f64,
    /// 95% interval of the paired difference.
    pub diff_ci95: Option<(f64, f64)>,
    /// Files where this policy's mean slowdown is lower than the reference's.
    pub better_files: usize,
    /// Files where it is higher.
    pub worse_files: usize,
    /// Episodes cut by the time cap.
    pub truncated: usize,
}

/// The report of `whitebox compare`.
#[derive(Clone, Debug, Serialize)]
pub struct CompareReport {
    /// The job files, in order.
    pub files: Vec<PathBuf>,
    /// The reference policy of the paired differences.
    pub reference: String,
    /// One row per policy.
    pub rows: Vec<CompareRow>,
}

/// Plays every job set with every policy (`reference` is `policies[0]`) and compares them.
/// A job set in which nothing was allocated counts with mean slowdown 0.
///
/// # Errors
/// No files or policies, a model that does not match `slots`, or a failing policy.
pub fn compare(
    files: &[(PathBuf, Vec<Job>)],
    policies: &[PolicyName],
    slots: Slots,
    end: End,
    simu_len: u32,
    time_cap: u32,
) -> Result<CompareReport> {
    if files.is_empty() || policies.is_empty() {
        bail!("compare needs at least one job file and one policy");
    }
    let mode = end.mode(simu_len, time_cap);
    let mut per_policy = Vec::new();
    for name in policies {
        let policy = name.with(0.5, 0)?;
        let mut sds = Vec::new();
        let mut truncated = 0;
        for (_, jobs) in files {
            let s = play(jobs, slots, mode, &policy, &mut ())?;
            truncated += usize::from(s.truncated);
            sds.push(s.mean_slowdown.unwrap_or(0.0));
        }
        per_policy.push((name.name(), sds, truncated));
    }
    let reference = per_policy[0].1.clone();
    let rows = per_policy
        .into_iter()
        .map(|(policy, sds, truncated)| {
            let diffs: Vec<f64> = sds.iter().zip(&reference).map(|(a, b)| a - b).collect();
            let m = mean_ci95(&sds);
            let d = mean_ci95(&diffs);
            CompareRow {
                policy,
                mean_slowdown: m.map_or(0.0, |c| c.mean),
                ci95: m.and_then(|c| c.ci95),
                diff_vs_reference: d.map_or(0.0, |c| c.mean),
                diff_ci95: d.and_then(|c| c.ci95),
                better_files: diffs.iter().filter(|&&x| x < 0.0).count(),
                worse_files: diffs.iter().filter(|&&x| x > 0.0).count(),
                truncated,
            }
        })
        .collect();
    Ok(CompareReport {
        files: files.iter().map(|(p, _)| p.clone()).collect(),
        reference: policies[0].name(),
        rows,
    })
}

/// A plain-text table of a comparison.
pub fn table(r: &CompareReport) -> String {
    let fmt_ci =
        |c: Option<(f64, f64)>| c.map_or("-".to_string(), |(a, b)| format!("[{a:.3}, {b:.3}]"));
    let w = r
        .rows
        .iter()
        .map(|row| row.policy.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!(
        "{} job files; paired differences against {}\n{:<w$} {:>9} {:>18} {:>10} {:>20} {:>7} {:>6}\n",
        r.files.len(),
        r.reference,
        "policy",
        "slowdown",
        "95% CI",
        "diff",
        "diff 95% CI",
        "better",
        "worse"
    );
    for row in &r.rows {
        out += &format!(
            "{:<w$} {:>9.3} {:>18} {:>+10.3} {:>20} {:>7} {:>6}\n",
            row.policy,
            row.mean_slowdown,
            fmt_ci(row.ci95),
            row.diff_vs_reference,
            fmt_ci(row.diff_ci95),
            row.better_files,
            row.worse_files
        );
    }
    out
}
