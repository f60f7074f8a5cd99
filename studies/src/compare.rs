//! `whitebox compare`: policies on a fixed list of job files (for example DeepRM's reference
//! sequences), with per-policy means and paired differences against a reference policy.
//!
//! A file has a mean slowdown under a policy only when the policy started at least one of its
//! jobs. A file without one under any policy (or with no jobs at all) is left out of every mean
//! and paired difference, so pairs stay pairs and no policy gains a made-up slowdown of 0; the
//! report lists each left-out file with its reason.

use std::path::PathBuf;

use anyhow::{bail, Result};
use serde::Serialize;
use whitebox_core::{Job, Projection};

use whitebox_runtime::guard::{GuardReportSettings, GuardSettings};
use whitebox_runtime::play::{play_explained, Explanations, GuardOutcome, GuardTotals};
use whitebox_runtime::policy::{NamedPolicy, PolicyName, PolicySpec};
use whitebox_runtime::settings::{End, Slots};
use whitebox_runtime::stats::{mean_ci95, PairedVerdict};

/// How the policies are played.
#[derive(Clone, Debug)]
pub struct CompareSettings {
    /// Visible job slots.
    pub slots: Slots,
    /// When each episode ends.
    pub end: End,
    /// Arrival window for `no-new-job`, in time steps.
    pub simu_len: u32,
    /// Time cap for `all-done`, in time steps.
    pub time_cap: u32,
    /// A guard: every learned policy is followed by its guarded form, `LABEL+guard`.
    pub guard: Option<GuardSettings>,
    /// Operator rules every policy (the reference too) is projected onto, shown as
    /// `LABEL+rules`; the guard's fallback SJF is projected onto the same rules.
    pub rules: Option<Projection>,
}

/// One policy's result over the files.
#[derive(Clone, Debug, Serialize)]
pub struct CompareRow {
    /// Policy label.
    pub policy: String,
    /// Files in the means and paired differences (the files that were not excluded).
    pub paired_files: usize,
    /// Mean over paired files of each file's mean slowdown; `null` when no file is paired.
    pub mean_slowdown: Option<f64>,
    /// 95% interval of that mean (Student t over files), if at least two files.
    pub ci95: Option<(f64, f64)>,
    /// Mean over paired files of (this policy's mean slowdown - the reference policy's).
    pub diff_vs_reference: Option<f64>,
    /// 95% interval of the paired difference.
    pub diff_ci95: Option<(f64, f64)>,
    /// What that interval says about this policy against the reference (`null` for the
    /// reference itself).
    pub verdict: Option<PairedVerdict>,
    /// Paired files where this policy's mean slowdown is lower than the reference's.
    pub better_files: usize,
    /// Paired files where it is higher.
    pub worse_files: usize,
    /// Jobs over all files, excluded ones too.
    pub jobs: u64,
    /// Jobs refused at arrival because the backlog was full, over all files. Slowdown counts
    /// only the jobs a policy started, so a policy that turns jobs away looks better than it is.
    pub rejected: u64,
    /// Episodes cut by the time cap, over all files (their slowdown counts the jobs started
    /// before the cap).
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
    /// Each file's mean slowdown under this policy, in file order, excluded files too (`None`:
    /// no job started); for per-file ratios. Not serialised.
    #[serde(skip)]
    pub file_slowdowns: Vec<Option<f64>>,
}

/// Why a file was left out of the means and paired differences.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Exclusion {
    /// The file has no jobs.
    Empty,
    /// Under these policies no job was started (every job arrived after the end, or was
    /// refused), so the file has no mean slowdown.
    NoJobStarted {
        /// The policies, by label.
        policies: Vec<String>,
    },
}

/// A file left out of the means and paired differences.
#[derive(Clone, Debug, Serialize)]
pub struct Excluded {
    /// The job file.
    pub file: PathBuf,
    /// Why.
    #[serde(flatten)]
    pub why: Exclusion,
}

/// The rules every policy of a comparison was projected onto.
#[derive(Clone, Debug, Serialize)]
pub struct CompareRules {
    /// The rules, as written on the command line (with weights when not 1).
    pub rules: Vec<String>,
    /// The strength `C`: a number, or `"inf"` for the shield.
    pub c: serde_json::Value,
}

/// The report of `whitebox compare`.
#[derive(Clone, Debug, Serialize)]
pub struct CompareReport {
    /// The job files, in order.
    pub files: Vec<PathBuf>,
    /// The reference policy of the paired differences (under the rules, if any).
    pub reference: String,
    /// One row per policy.
    pub rows: Vec<CompareRow>,
    /// Files left out of every mean and paired difference, with the reason.
    pub excluded: Vec<Excluded>,
    /// The rules of every policy, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<CompareRules>,
    /// The guard of the `+guard` rows, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardReportSettings>,
}

/// One policy's outcome on every file.
struct Played {
    label: String,
    /// Each file's mean slowdown, `None` when no job was started.
    slowdowns: Vec<Option<f64>>,
    jobs: u64,
    rejected: u64,
    truncated: usize,
    guard: Option<GuardTotals>,
}

/// The policies as played: each under the rules, each learned one followed by its guarded form.
fn expand(policies: &[NamedPolicy], s: &CompareSettings) -> Vec<NamedPolicy> {
    let learned = |p: &NamedPolicy| matches!(p.policy, PolicyName::Model(_) | PolicyName::Int8(_));
    let mut out = Vec::with_capacity(policies.len() * 2);
    for p in policies {
        let mut forms = vec![p.clone()];
        if let Some(g) = s.guard.filter(|_| learned(p)) {
            forms.push(NamedPolicy {
                label: format!("{}+guard", p.label),
                ..p.clone().with_guard(Some(g))
            });
        }
        for mut f in forms {
            if s.rules.is_some() {
                f.label += "+rules";
                f = f.with_rules(s.rules.clone());
            }
            out.push(f);
        }
    }
    out
}

/// Plays every job set with every policy (the reference is `policies[0]`, under the same rules)
/// and compares them, leaving out the files without a mean slowdown (see the module docs).
///
/// # Errors
/// No files or policies, a model that does not match the slot count, a failing policy, or a
/// guard with no learned policy to guard.
pub fn compare(
    files: &[(PathBuf, Vec<Job>)],
    policies: &[NamedPolicy],
    s: &CompareSettings,
) -> Result<CompareReport> {
    if files.is_empty() || policies.is_empty() {
        bail!("compare needs at least one job file and one policy");
    }
    let learned = |p: &NamedPolicy| matches!(p.policy, PolicyName::Model(_) | PolicyName::Int8(_));
    if s.guard.is_some() && !policies.iter().any(learned) {
        bail!("a guard insures a learned policy (model:PATH or int8:PATH); none is compared");
    }
    let mode = s.end.mode(s.simu_len, s.time_cap);
    let played = expand(policies, s)
        .into_iter()
        .map(|p| {
            let policy = p.resolve(0.5, 0)?;
            let mut out = Played {
                label: p.label,
                slowdowns: Vec::with_capacity(files.len()),
                jobs: 0,
                rejected: 0,
                truncated: 0,
                guard: None,
            };
            for (_, jobs) in files {
                let (sum, g) = play_one(jobs, s.slots, mode, &policy)?;
                out.jobs += u64::from(sum.jobs);
                out.rejected += u64::from(sum.rejected);
                out.truncated += usize::from(sum.truncated);
                out.slowdowns.push(sum.mean_slowdown);
                if let Some(g) = g {
                    out.guard.get_or_insert_with(GuardTotals::default).add(&g);
                }
            }
            Ok(out)
        })
        .collect::<Result<Vec<_>>>()?;
    let excluded = exclusions(files, &played);
    let paired: Vec<bool> = files
        .iter()
        .map(|(f, _)| !excluded.iter().any(|e| &e.file == f))
        .collect();
    // Kept files have a mean under every policy; `flatten` only drops the excluded ones.
    let kept = |p: &Played| -> Vec<f64> {
        p.slowdowns
            .iter()
            .zip(&paired)
            .filter(|(_, &k)| k)
            .filter_map(|(v, _)| *v)
            .collect()
    };
    let reference = kept(&played[0]);
    let rows = played
        .iter()
        .map(|p| {
            let sds = kept(p);
            let diffs: Vec<f64> = sds.iter().zip(&reference).map(|(a, b)| a - b).collect();
            let m = mean_ci95(&sds);
            let d = mean_ci95(&diffs);
            CompareRow {
                policy: p.label.clone(),
                paired_files: sds.len(),
                mean_slowdown: m.map(|c| c.mean),
                ci95: m.and_then(|c| c.ci95),
                diff_vs_reference: d.map(|c| c.mean),
                diff_ci95: d.and_then(|c| c.ci95),
                verdict: (!std::ptr::eq(p, &played[0]))
                    .then(|| PairedVerdict::of(d.and_then(|c| c.ci95))),
                better_files: diffs.iter().filter(|&&x| x < 0.0).count(),
                worse_files: diffs.iter().filter(|&&x| x > 0.0).count(),
                jobs: p.jobs,
                rejected: p.rejected,
                truncated: p.truncated,
                guard_learned_share: p.guard.and_then(|t| t.learned_share()),
                guard_handovers: p.guard.map(|t| t.handovers),
                guard_renewals: p.guard.map(|t| t.renewals),
                file_slowdowns: p.slowdowns.clone(),
            }
        })
        .collect();
    Ok(CompareReport {
        files: files.iter().map(|(p, _)| p.clone()).collect(),
        reference: played[0].label.clone(),
        rows,
        excluded,
        rules: s.rules.as_ref().map(|r| CompareRules {
            rules: whitebox_runtime::rules::names(r),
            c: whitebox_runtime::rules::strength(r),
        }),
        guard: s.guard.map(|g| g.report()),
    })
}

/// The files to leave out: empty ones, and those where some policy started no job.
fn exclusions(files: &[(PathBuf, Vec<Job>)], played: &[Played]) -> Vec<Excluded> {
    files
        .iter()
        .enumerate()
        .filter_map(|(i, (file, jobs))| {
            let why = if jobs.is_empty() {
                Exclusion::Empty
            } else {
                let policies: Vec<String> = played
                    .iter()
                    .filter(|p| p.slowdowns[i].is_none())
                    .map(|p| p.label.clone())
                    .collect();
                if policies.is_empty() {
                    return None;
                }
                Exclusion::NoJobStarted { policies }
            };
            Some(Excluded {
                file: file.clone(),
                why,
            })
        })
        .collect()
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

/// The line under a table that names the rules every policy was projected onto, and the
/// projection strength `C` (`compare`, and `eval` on the command line).
pub fn rules_line(c: &str, rules: &[String]) -> String {
    format!("rules (every policy, C = {c}): {}\n", rules.join(", "))
}

/// A plain-text table of a comparison.
pub fn table(r: &CompareReport) -> String {
    let fmt_ci =
        |c: Option<(f64, f64)>| c.map_or("-".to_string(), |(a, b)| format!("[{a:.3}, {b:.3}]"));
    let fmt_f = |v: Option<f64>, signed: bool| match v {
        Some(v) if signed => format!("{v:+.3}"),
        Some(v) => format!("{v:.3}"),
        None => "-".to_string(),
    };
    let w = r
        .rows
        .iter()
        .map(|row| row.policy.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let guarded = r.rows.iter().any(|row| row.guard_handovers.is_some());
    let paired = r.files.len() - r.excluded.len();
    let mut out = format!(
        "{} job files ({paired} paired, {} excluded); paired differences against {}\n\
         {:<w$} {:>9} {:>18} {:>10} {:>20} {:>7} {:>7} {:>6} {:>9} {:>9}",
        r.files.len(),
        r.excluded.len(),
        r.reference,
        "policy",
        "slowdown",
        "95% CI",
        "diff",
        "diff 95% CI",
        "verdict",
        "better",
        "worse",
        "rejected",
        "truncated"
    );
    if guarded {
        out += &format!(" {:>8} {:>9} {:>8}", "learned", "handovers", "renewals");
    }
    out += "\n";
    for row in &r.rows {
        out += &format!(
            "{:<w$} {:>9} {:>18} {:>10} {:>20} {:>7} {:>7} {:>6} {:>9} {:>9}",
            row.policy,
            fmt_f(row.mean_slowdown, false),
            fmt_ci(row.ci95),
            fmt_f(row.diff_vs_reference, true),
            fmt_ci(row.diff_ci95),
            row.verdict.map_or("", PairedVerdict::name),
            row.better_files,
            row.worse_files,
            row.rejected,
            row.truncated
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
    out += "verdict = what the paired 95% interval says about the policy against the reference: \
            better (below 0), worse (above 0) or tie (contains 0)\n";
    out +=
        "rejected = jobs refused at arrival (backlog full) and truncated = runs cut by the time \
            cap, over all files; slowdown counts only the jobs a policy started\n";
    if let Some(rules) = &r.rules {
        let c = rules.c.as_str().map_or(rules.c.to_string(), str::to_string);
        out += &rules_line(&c, &rules.rules);
    }
    for e in &r.excluded {
        let why = match &e.why {
            Exclusion::Empty => "no jobs".to_string(),
            Exclusion::NoJobStarted { policies } => {
                format!("no job started under {}", policies.join(", "))
            }
        };
        out += &format!("excluded {}: {why}\n", e.file.display());
    }
    if let Some(g) = &r.guard {
        out += &format!(
            "guard {}(eps={},c={}): learned = share of time steps the learned policy decided\n",
            g.mode, g.eps, g.c
        );
    }
    out
}
