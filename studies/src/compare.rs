//! `whitebox compare`: policies on a fixed list of job files (for example DeepRM's reference
//! sequences), with per-policy means and paired differences against a reference policy.

use std::path::PathBuf;

use anyhow::{bail, Result};
use serde::Serialize;
use whitebox_core::Job;

use whitebox_runtime::guard::{GuardReportSettings, GuardSettings};
use whitebox_runtime::play::{play_explained, Explanations, GuardOutcome, GuardTotals};
use whitebox_runtime::policy::{PolicyName, PolicySpec};
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
    /// For a guarded policy: the share of time steps, pooled over files, in which the learned
    /// policy was in charge, in `[0, 1]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard_learned_share: Option<f64>,
    /// For a guarded policy: hand-overs after the start, over all files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard_handovers: Option<u64>,
    /// For a guarded policy: renewals, over all files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard_renewals: Option<u64>,
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
    /// The guard of the `+guard` rows, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardReportSettings>,
}

/// Plays every job set with every policy (`reference` is `policies[0]`) and compares them.
/// With `guard`, every learned policy is followed by its guarded form, shown as `NAME+guard`.
/// A job set in which nothing was allocated counts with mean slowdown 0.
///
/// # Errors
/// No files or policies, a model that does not match `slots`, a failing policy, or a guard with
/// no learned policy to guard.
pub fn compare(
    files: &[(PathBuf, Vec<Job>)],
    policies: &[PolicyName],
    slots: Slots,
    end: End,
    simu_len: u32,
    time_cap: u32,
    guard: Option<GuardSettings>,
) -> Result<CompareReport> {
    if files.is_empty() || policies.is_empty() {
        bail!("compare needs at least one job file and one policy");
    }
    let learned = |p: &PolicyName| matches!(p, PolicyName::Model(_) | PolicyName::Int8(_));
    if guard.is_some() && !policies.iter().any(learned) {
        bail!("a guard insures a learned policy (model:PATH or int8:PATH); none is compared");
    }
    let mode = end.mode(simu_len, time_cap);
    let mut per_policy = Vec::new();
    for name in policies {
        let plain = name.with(0.5, 0)?;
        let mut specs = vec![(name.name(), plain.clone())];
        if let Some(g) = guard.filter(|_| learned(name)) {
            specs.push((format!("{}+guard", name.name()), plain.guarded(Some(g))?));
        }
        for (label, policy) in specs {
            let mut sds = Vec::new();
            let mut truncated = 0;
            let mut totals: Option<GuardTotals> = None;
            for (_, jobs) in files {
                let (s, g) = play_one(jobs, slots, mode, &policy)?;
                truncated += usize::from(s.truncated);
                sds.push(s.mean_slowdown.unwrap_or(0.0));
                if let Some(g) = g {
                    totals.get_or_insert_with(GuardTotals::default).add(&g);
                }
            }
            per_policy.push((label, sds, truncated, totals));
        }
    }
    let reference = per_policy[0].1.clone();
    let rows = per_policy
        .into_iter()
        .map(|(policy, sds, truncated, totals)| {
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
                guard_learned_share: totals.and_then(|t| t.learned_share()),
                guard_handovers: totals.map(|t| t.handovers),
                guard_renewals: totals.map(|t| t.renewals),
            }
        })
        .collect();
    Ok(CompareReport {
        files: files.iter().map(|(p, _)| p.clone()).collect(),
        reference: policies[0].name(),
        rows,
        guard: guard.map(|g| g.report()),
    })
}

/// One episode, with the guard's outcome for a guarded policy.
fn play_one(
    jobs: &[Job],
    slots: Slots,
    end: whitebox_core::EndMode,
    policy: &PolicySpec,
) -> Result<(whitebox_core::Summary, Option<GuardOutcome>)> {
    let mut out = Explanations::default();
    let s = play_explained(jobs, slots, end, policy, &mut (), Some(&mut out))?;
    Ok((s, out.guard))
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
    let guarded = r.rows.iter().any(|row| row.guard_handovers.is_some());
    let mut out = format!(
        "{} job files; paired differences against {}\n{:<w$} {:>9} {:>18} {:>10} {:>20} {:>7} {:>6}",
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
    if guarded {
        out += &format!(" {:>8} {:>9} {:>8}", "learned", "handovers", "renewals");
    }
    out += "\n";
    for row in &r.rows {
        out += &format!(
            "{:<w$} {:>9.3} {:>18} {:>+10.3} {:>20} {:>7} {:>6}",
            row.policy,
            row.mean_slowdown,
            fmt_ci(row.ci95),
            row.diff_vs_reference,
            fmt_ci(row.diff_ci95),
            row.better_files,
            row.worse_files
        );
        if guarded {
            let opt = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
            out += &format!(
                " {:>8} {:>9} {:>8}",
                row.guard_learned_share
                    .map_or("-".to_string(), |s| format!("{:.1}%", 100.0 * s)),
                opt(row.guard_handovers),
                opt(row.guard_renewals)
            );
        }
        out += "\n";
    }
    if let Some(g) = &r.guard {
        out += &format!(
            "guard {}(eps={},c={}): learned = share of time steps the learned policy decided\n",
            g.mode, g.eps, g.c
        );
    }
    out
}
