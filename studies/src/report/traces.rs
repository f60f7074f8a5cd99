//! The NASA iPSC/860 log: imported with the documented defaults (`whitebox import swf`, windows
//! of 100 jobs) into the report directory, then every window played by SJF and the shipped model
//! with and without the guard and rules ([`crate::compare`], as `whitebox compare`). Evaluation
//! only: nothing is trained or tuned on the log.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use whitebox_core::guard::{GuardMode, GuardParams};
use whitebox_core::Job;
use whitebox_runtime::guard::GuardSettings;
use whitebox_runtime::import::{self, Options};
use whitebox_runtime::jobfile;
use whitebox_runtime::policy::{NamedPolicy, PolicyName};
use whitebox_runtime::settings::{End, Slots, SIMU_LEN, TIME_CAP};

use super::page::{diff_ci, mean_ci, verdict, Figure, Section, Table};
use super::{write_json, ReportSettings};
use crate::compare::{compare, CompareReport, CompareRow, CompareSettings};
use crate::plots::{self, PolicyMean, WorkloadMeans};

/// The report's subdirectory for the imported windows.
const DIR: &str = "nasa";

/// A slowdown ratio to SJF counted as a large loss (the guard's target).
const TARGET: f64 = 1.10;

/// One comparison run: rules and guard (with their command-line names), and the row to show.
struct Run {
    rules: &'static [&'static str],
    guard: Option<(GuardMode, &'static str)>,
}

const RUNS: [Run; 4] = [
    Run {
        rules: &[],
        guard: Some((GuardMode::Lookahead, "lookahead")),
    },
    Run {
        rules: &["shorter-first"],
        guard: Some((GuardMode::Renewal, "renewal")),
    },
    Run {
        rules: &["shorter-first"],
        guard: Some((GuardMode::Lookahead, "lookahead")),
    },
    Run {
        rules: &["shorter-first", "work-conserving"],
        guard: None,
    },
];

impl Run {
    fn flags(&self) -> String {
        let mut f: String = self.rules.iter().map(|r| format!(" --rule {r}")).collect();
        if let Some((_, name)) = self.guard {
            f += &format!(" --guard {name}");
        }
        f
    }

    /// How a row of this run is shown.
    fn label(&self, row: &str) -> String {
        let guard = self
            .guard
            .filter(|_| row.contains("+guard"))
            .map_or(String::new(), |(_, n)| format!(" + {n} guard"));
        let rules = if self.rules.is_empty() {
            String::new()
        } else {
            format!(" + {}", self.rules.join(" + "))
        };
        let base = if row.starts_with("sjf") {
            "SJF"
        } else {
            "model"
        };
        format!("{base}{rules}{guard}")
    }
}

/// One table row: a policy variant on every window.
#[derive(Clone, Debug, Serialize)]
pub struct TraceRow {
    /// As shown.
    pub variant: String,
    /// The comparison's row (mean, paired difference against SJF under the same rules, counts).
    pub row: CompareRow,
    /// The largest per-window ratio of mean slowdown to plain SJF's, and its window.
    pub worst_ratio: Option<(f64, String)>,
    /// Windows where the variant's mean slowdown is above plain SJF's.
    pub worse_than_sjf: usize,
    /// Windows where it is above [`TARGET`] times plain SJF's.
    pub above_target: usize,
}

/// `nasa.json`.
#[derive(Clone, Debug, Serialize)]
pub struct TracesReport {
    /// The log.
    pub trace: PathBuf,
    /// The import's report (also `nasa/import.json`).
    pub import: import::Report,
    /// The comparison runs, as `whitebox compare --format json` prints them.
    pub compares: Vec<CompareReport>,
    /// The table.
    pub rows: Vec<TraceRow>,
}

pub(super) fn section(s: &ReportSettings) -> Result<Section> {
    if !whitebox_runtime::shipped::available(&s.trace) {
        bail!(
            "--trace {}: no such file (the NASA iPSC/860 SWF log; the full log is \
             ../shared/traces/NASA-iPSC-1993-3.1-cln.swf.gz, an excerpt is \
             fixtures/traces/NASA-iPSC-1993-3.1-cln.swf)",
            s.trace.display()
        );
    }
    let text = import::read_text(&s.trace)?;
    let log = import::swf::parse(&text).with_context(|| format!("{}", s.trace.display()))?;
    let imported = import::convert("swf", log, &Options::default())
        .with_context(|| format!("cannot import {}", s.trace.display()))?;
    if imported.windows.is_empty() {
        bail!(
            "--trace {}: no full window of 100 jobs in the log",
            s.trace.display()
        );
    }
    let dir = s.out.join(DIR);
    import::write(&dir, &s.trace.display().to_string(), &imported)?;
    // Read back as `whitebox compare --jobs` would.
    let files: Vec<(PathBuf, Vec<Job>)> = imported
        .report
        .windows
        .iter()
        .map(|w| {
            let path = dir.join(&w.file);
            Ok((path.clone(), jobfile::load(&path)?))
        })
        .collect::<Result<_>>()?;
    let policies = vec![
        NamedPolicy::from(PolicyName::Sjf),
        NamedPolicy::labelled("model", PolicyName::Model(s.model.clone())),
    ];
    let mut compares = Vec::new();
    for run in &RUNS {
        let rules: Vec<String> = run.rules.iter().map(|r| r.to_string()).collect();
        let settings = CompareSettings {
            slots: Slots::Ten,
            end: End::AllDone,
            simu_len: SIMU_LEN,
            time_cap: TIME_CAP,
            guard: run
                .guard
                .map(|(m, _)| {
                    GuardSettings::new(m, GuardParams::DEFAULT_EPS, GuardParams::DEFAULT_C)
                })
                .transpose()?,
            rules: whitebox_runtime::rules::projection(&rules, f32::INFINITY)?,
        };
        compares.push(compare(&files, &policies, &settings)?);
    }
    let rows = table_rows(&compares, &files)?;
    let report = TracesReport {
        trace: s.trace.clone(),
        import: imported.report,
        compares,
        rows,
    };
    write_json(&s.out, "nasa.json", &report)?;
    let means = WorkloadMeans {
        workload: "NASA iPSC/860 windows".into(),
        training: false,
        policies: report
            .rows
            .iter()
            .map(|r| PolicyMean {
                policy: r.variant.clone(),
                mean: r.row.mean_slowdown,
                ci95: r.row.ci95,
            })
            .collect(),
    };
    plots::slowdown_by_workload(
        &s.out.join("nasa_slowdown"),
        &format!(
            "mean slowdown over {} windows of the NASA iPSC/860 log",
            report.import.windows.len()
        ),
        &[means],
    )?;
    Ok(render(s, &report))
}

/// The rows to show: SJF and the model from the first run, then every model row of each run,
/// each with its per-window ratios to plain SJF.
fn table_rows(compares: &[CompareReport], files: &[(PathBuf, Vec<Job>)]) -> Result<Vec<TraceRow>> {
    let Some(sjf) = compares.first().and_then(|c| c.rows.first()) else {
        bail!("internal error: no SJF row");
    };
    let mut rows: Vec<TraceRow> = Vec::new();
    for (r, (run, c)) in RUNS.iter().zip(compares).enumerate() {
        for (i, row) in c.rows.iter().enumerate() {
            let variant = run.label(&row.policy);
            // SJF is shown once, unprojected; a variant two runs share is shown once.
            if (r > 0 && i == 0) || rows.iter().any(|t| t.variant == variant) {
                continue;
            }
            let ratios: Vec<(f64, usize)> = row
                .file_slowdowns
                .iter()
                .zip(&sjf.file_slowdowns)
                .enumerate()
                .filter_map(|(k, (p, s))| Some(((*p)? / (*s)?, k)))
                .collect();
            let worst = ratios
                .iter()
                .copied()
                .fold(None, |m: Option<(f64, usize)>, r| match m {
                    Some(m) if m.0 >= r.0 => Some(m),
                    _ => Some(r),
                });
            let name = |k: usize| {
                files[k]
                    .0
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            };
            rows.push(TraceRow {
                variant,
                row: row.clone(),
                worst_ratio: worst.map(|(r, k)| (r, name(k))),
                worse_than_sjf: ratios.iter().filter(|(r, _)| *r > 1.0).count(),
                above_target: ratios.iter().filter(|(r, _)| *r > TARGET).count(),
            });
        }
    }
    Ok(rows)
}

fn render(s: &ReportSettings, r: &TracesReport) -> Section {
    let n = r.import.windows.len();
    let rows = r
        .rows
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let x = &t.row;
            let mut row = vec![t.variant.clone(), mean_ci(x.mean_slowdown, x.ci95)];
            if i == 0 {
                // The reference itself.
                row.extend(["", "", "", "", ""].map(String::from));
            } else {
                row.extend([
                    diff_ci(x.diff_vs_reference, x.diff_ci95),
                    verdict(x.diff_ci95).to_string(),
                    t.worst_ratio
                        .as_ref()
                        .map_or("-".into(), |(v, w)| format!("{v:.3} ({w})")),
                    t.worse_than_sjf.to_string(),
                    t.above_target.to_string(),
                ]);
            }
            row.extend([x.rejected.to_string(), x.truncated.to_string()]);
            row
        })
        .collect();
    let jobs = format!("{}/{DIR}/window-*.json", "DIR");
    let command = std::iter::once(format!(
        "whitebox import swf {} --out DIR/{DIR}",
        s.trace.display()
    ))
    .chain(RUNS.iter().map(|run| {
        format!(
            "whitebox compare --slots 10 --jobs {jobs} --policies sjf,model=model:{} --format json{}",
            s.model.display(),
            run.flags()
        )
    }))
    .collect::<Vec<_>>()
    .join("\n");
    let c = &r.import.counts;
    Section {
        title: "A real trace: the NASA iPSC/860 log".into(),
        text: vec![format!(
            "{} imported with the defaults of `whitebox import swf` ({} s per step, {} \
             records, {} windows of 100 jobs, {} jobs raised from 0 s, {} clipped to 20 \
             steps), each window played all-done on 10 slots. The paired difference is against \
             SJF under the same rules; ratios are per window against plain SJF. Evaluation \
             only: nothing was trained or tuned on this log.",
            s.trace.display(),
            r.import.seconds_per_step,
            c.records,
            n,
            c.raised_from_0,
            c.clipped_len
        )],
        tables: vec![Table {
            title: format!("Mean slowdown over {n} windows"),
            command,
            seeds: format!(
                "none: the log's windows in order ({}/import.json lists each window's log lines)",
                DIR
            ),
            json: "nasa.json".into(),
            columns: [
                "policy",
                "mean slowdown [95% CI]",
                "- SJF (same rules), paired [95% CI]",
                "vs SJF",
                "worst ratio to SJF (window)",
                "windows worse than SJF",
                "windows above 1.10 x SJF",
                "rejected",
                "truncated",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        }],
        figures: vec![Figure {
            title: "Mean slowdown over the NASA windows, with 95% intervals".into(),
            file: "nasa_slowdown.svg".into(),
        }],
    }
}
