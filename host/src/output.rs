//! Text renderings of reports: aligned tables for people, CSV for spreadsheets. JSON is the
//! reports' own `Serialize` form. [`emit`] writes them to stdout.

use std::fmt::Write;
use std::io::Write as _;

use anyhow::Context;
use whitebox_runtime::policy::{NamedPolicy, PolicyName};
use whitebox_runtime::stats::MeanCi;
use whitebox_studies::demo::{DemoReport, PairedDiff};
use whitebox_studies::eval::{EvalReport, EvalRow};
use whitebox_studies::simulate::SimReport;

/// Column alignment.
#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// Pads every cell to its column's widest entry.
fn table(headers: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.0.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(|h| h.0.to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(headers.iter().zip(&widths))
            .map(|(cell, ((_, align), &w))| match align {
                Align::Left => format!("{cell:<w$}"),
                Align::Right => format!("{cell:>w$}"),
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"))
}

/// A mean with its 95% interval as `mean [low, high]`, with `-` for what is missing.
fn mean_ci95(c: Option<MeanCi>) -> String {
    let ends = c.and_then(|c| c.ci95);
    let [mean, low, high] = [c.map(|c| c.mean), ends.map(|e| e.0), ends.map(|e| e.1)].map(num);
    format!("{mean} [{low}, {high}]")
}

/// The per-job table of a simulation followed by its summary lines.
pub fn sim_table(r: &SimReport) -> String {
    use Align::{Left, Right};
    let rows: Vec<Vec<String>> = r
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            vec![
                i.to_string(),
                j.arrival.to_string(),
                j.len.to_string(),
                format!("{:?}", j.res),
                opt(j.start),
                opt(j.finish),
                j.status.name().to_owned(),
                j.rejected_reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut out = table(
        &[
            ("job", Right),
            ("arrival", Right),
            ("len", Right),
            ("res", Left),
            ("start", Right),
            ("finish", Right),
            ("status", Left),
            ("reason", Left),
        ],
        &rows,
    );
    let _ = writeln!(
        out,
        "\npolicy {}, {} slots, end {}, simu_len {}, time_cap {}",
        r.policy, r.slots, r.end, r.simu_len, r.time_cap
    );
    let s = &r.summary;
    let _ = writeln!(
        out,
        "jobs {}: {} completed, {} running, {} waiting, {} rejected, {} not arrived",
        s.jobs, s.completed, s.running, s.waiting, s.rejected, s.not_arrived
    );
    let _ = writeln!(
        out,
        "mean slowdown {} (completed only {}), mean completion time {} steps, makespan {}",
        num(s.mean_slowdown),
        num(s.mean_slowdown_completed),
        num(s.mean_completion_time),
        s.makespan
    );
    let _ = writeln!(
        out,
        "total reward {:.3} (completion objective {:.3}), final time {}, {} decisions{}",
        s.total_reward,
        s.total_completion_reward,
        s.final_time,
        s.decisions,
        if s.truncated {
            ", TRUNCATED at the time cap"
        } else {
            ""
        }
    );
    if let Some(p) = &r.projection {
        let _ = writeln!(
            out,
            "rules {} (C = {}): {} of {} decisions changed, {} fell back to void",
            p.rules.join(", "),
            p.c.as_str().map_or_else(|| p.c.to_string(), str::to_owned),
            p.changed,
            p.decisions,
            p.fallbacks
        );
    }
    if let Some(v) = &r.rule_violations {
        let lone = v.iter().filter(|v| v.lone_job).count();
        let _ = writeln!(
            out,
            "{} (step, resource) pairs above the cap, {lone} of them a lone job (allowed)",
            v.len()
        );
    }
    if let Some(g) = &r.guard {
        let s = &g.settings;
        let _ = writeln!(
            out,
            "guard {}(eps={},c={}): learned policy decided {} of {} steps, {} renewals, {} \
             hand-overs, worst round loss {:.3}; charge {:.3} vs SJF {:.3}",
            s.mode,
            s.eps,
            s.c,
            g.learned_steps,
            g.steps,
            g.renewals,
            g.handovers,
            g.worst_round_loss,
            g.real_charge,
            g.sjf_charge
        );
    }
    out
}

/// `changed/decisions, fallbacks` of a projected policy's row, `-` otherwise.
fn rule_counts(r: &EvalRow) -> String {
    match (r.rule_decisions, r.rule_changed, r.rule_fallbacks) {
        (Some(d), Some(c), Some(f)) => format!("{c}/{d}, {f} void"),
        _ => "-".to_owned(),
    }
}

/// Adds the "changed by rules" column when some row is of a projected policy.
fn with_rule_column(
    headers: &mut Vec<(&'static str, Align)>,
    cells: &mut [Vec<String>],
    rows: &[&EvalRow],
) {
    if rows.iter().all(|r| r.rule_decisions.is_none()) {
        return;
    }
    headers.push(("changed by rules", Align::Right));
    for (c, r) in cells.iter_mut().zip(rows) {
        c.push(rule_counts(r));
    }
}

/// Adds the guard columns (learned share of steps, hand-overs, renewals) when some row is of a
/// guarded policy.
fn with_guard_columns(
    headers: &mut Vec<(&'static str, Align)>,
    cells: &mut [Vec<String>],
    rows: &[&EvalRow],
) {
    if rows.iter().all(|r| r.guard_steps.is_none()) {
        return;
    }
    headers.extend([
        ("guard: learned", Align::Right),
        ("handovers", Align::Right),
        ("renewals", Align::Right),
    ]);
    for (c, r) in cells.iter_mut().zip(rows) {
        c.push(percent(r.guard_learned_share));
        c.push(opt(r.guard_handovers));
        c.push(opt(r.guard_renewals));
    }
}

/// A share as a percentage with one decimal, or empty.
fn percent(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{:.1}%", 100.0 * v))
}

/// The evaluation table: one line per (workload, rate, policy).
pub fn eval_table(rows: &[EvalRow]) -> String {
    use Align::{Left, Right};
    let mut cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.workload.to_owned(),
                r.rate.to_string(),
                format!("{:.3}", r.load),
                r.policy.to_owned(),
                format!("{}/{}", r.measured(), r.jobsets),
                mean_ci95(r.slowdown),
                mean_ci95(r.completion_time),
                r.truncated.to_string(),
                r.rejected.to_string(),
                percent(r.over_cap_share),
                percent(r.violation_share),
                r.vs_reference.as_ref().map_or(String::new(), |v| {
                    let d = v.difference;
                    match (d, d.and_then(|d| d.ci95)) {
                        (Some(d), Some((a, b))) => format!("{:+.3} [{a:+.3}, {b:+.3}]", d.mean),
                        (Some(d), None) => format!("{:+.3}", d.mean),
                        (None, _) => "-".to_string(),
                    }
                }),
                r.vs_reference
                    .as_ref()
                    .map_or("", |v| v.verdict.name())
                    .to_string(),
            ]
        })
        .collect();
    let mut headers = vec![
        ("workload", Left),
        ("rate", Right),
        ("load", Right),
        ("policy", Left),
        ("jobsets", Right),
        ("slowdown mean [95% CI]", Left),
        ("completion time mean [95% CI]", Left),
        ("truncated", Right),
        ("rejected", Right),
        ("steps >80%", Right),
        ("not lone", Right),
        ("- first policy, paired [95% CI]", Left),
        ("verdict", Left),
    ];
    let refs = rows.iter().collect::<Vec<_>>();
    with_rule_column(&mut headers, &mut cells, &refs);
    with_guard_columns(&mut headers, &mut cells, &refs);
    table(&headers, &cells)
}

/// The JSON text of an evaluation report, as `eval --format json` prints it.
///
/// # Errors
/// Only if serialisation fails (it does not for these types).
pub fn eval_json(report: &EvalReport) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(report)? + "\n")
}

/// The demo's report for people: what was run, the table (one line per workload and policy,
/// the training workload marked) and the paired dnn - sjf differences with their verdicts.
pub fn demo_table(r: &DemoReport) -> String {
    use Align::{Left, Right};
    let s = &r.settings;
    let m = &s.model;
    let mut out = format!(
        "model {} ({} encoder, {} slots), trained on {} (weights of iteration {})\n\
         {} held-out job sets per workload at rate {} (seed {}), {} slots, {} episodes\n\n",
        m.path.display(),
        m.encoding,
        m.slots,
        m.trained,
        m.iterations,
        s.eval.jobsets,
        s.rate,
        s.eval.seed,
        s.eval.slots,
        s.eval.end,
    );
    let mut cells: Vec<Vec<String>> = r
        .table
        .iter()
        .map(|d| {
            let r = &d.row;
            vec![
                workload(r.workload, d.training_distribution),
                format!("{:.3}", r.load),
                r.policy.to_owned(),
                format!("{}/{}", r.measured(), r.jobsets),
                mean_ci95(r.slowdown),
                mean_ci95(r.completion_time),
                r.truncated.to_string(),
                percent(r.violation_share),
            ]
        })
        .collect();
    let mut headers = vec![
        ("workload", Left),
        ("load", Right),
        ("policy", Left),
        ("jobsets", Right),
        ("slowdown mean [95% CI]", Left),
        ("completion time mean [95% CI]", Left),
        ("truncated", Right),
        ("steps >80% (not lone)", Right),
    ];
    let rows: Vec<&EvalRow> = r.table.iter().map(|d| &d.row).collect();
    with_rule_column(&mut headers, &mut cells, &rows);
    with_guard_columns(&mut headers, &mut cells, &rows);
    out += &table(&headers, &cells);
    out += "slowdown: (finish - arrival) / length per job, lower is better; load: expected demand \
            per resource over its capacity (above 1 is overloaded)\n";
    for p in &s.eval.rules {
        let _ = writeln!(
            out,
            "{}: rules {} (C = {})",
            p.policy,
            p.rules.join(", "),
            p.c.as_str().map_or_else(|| p.c.to_string(), str::to_owned)
        );
    }
    for p in &s.eval.guards {
        let g = &p.guard;
        let _ = writeln!(
            out,
            "{}: guard {}(eps={},c={}) against SJF (docs/guard.md)",
            p.policy, g.mode, g.eps, g.c
        );
    }
    out += "\ndnn - sjf mean slowdown, paired over the same job sets (negative: dnn is better):\n";
    out += &paired_table(&r.dnn_vs_sjf);
    if !r.rules_vs_sjf_rules.is_empty() {
        out += "\ndnn+rules - sjf+rules, paired (the same rules projected onto both; negative: \
                dnn+rules is better):\n";
        out += &paired_table(&r.rules_vs_sjf_rules);
    }
    if !r.rules_model_vs_sjf_rules.is_empty() {
        out += "\nrules-dnn+rules - sjf+rules, paired (the model trained under the rules; \
                negative: rules-dnn+rules is better):\n";
        out += &paired_table(&r.rules_model_vs_sjf_rules);
    }
    if let Some(e) = &r.explanation {
        out += &demo_explanation(e);
    }
    out
}

/// A workload's name, marked when it is the training workload.
fn workload(name: &str, training: bool) -> String {
    if training {
        format!("{name} (training)")
    } else {
        name.to_owned()
    }
}

/// The paired differences of one comparison with their verdicts, one row per workload.
fn paired_table(diffs: &[PairedDiff]) -> String {
    use Align::{Left, Right};
    let cells: Vec<Vec<String>> = diffs
        .iter()
        .map(|d| {
            vec![
                workload(d.workload, d.training_distribution),
                d.difference.map_or(0, |c| c.n).to_string(),
                mean_ci95(d.difference),
                d.verdict.words().to_owned(),
            ]
        })
        .collect();
    table(
        &[
            ("workload", Left),
            ("pairs", Right),
            ("difference [95% CI]", Left),
            ("verdict", Left),
        ],
        &cells,
    )
}

/// The demo's explanation section in the field's terms.
fn demo_explanation(e: &whitebox_studies::demo::DemoExplanation) -> String {
    let pct = |v: f64| format!("{:.1}%", 100.0 * v);
    let s = &e.shares;
    let per_res: Vec<String> = s
        .occupancy_per_resource
        .iter()
        .enumerate()
        .map(|(r, v)| format!("res{r} {}", pct(*v)))
        .collect();
    format!(
        "\nwhy dnn decides (exact grouped Shapley values, {} decisions on {} at rate {}; \
         share of |Shapley| of the chosen action's logit):\n\
         \x20 cluster occupancy {} ({}), job slots {}, backlog {}, time since last job {}\n\
         \x20 faithfulness: deletion AUC {:.3} by Shapley order vs {:.3} random (lower is better); \
         rank correlation with a randomized model {:.2}: {}\n",
        e.decisions,
        e.workload,
        e.rate,
        pct(s.occupancy),
        per_res.join(", "),
        pct(s.job_slots),
        pct(s.backlog),
        pct(s.since_last_job),
        e.mean_deletion_auc.0,
        e.mean_deletion_auc.1,
        e.mean_randomization_rank_corr,
        whitebox_studies::explain::randomization_verdict(e.mean_randomization_rank_corr),
    )
}

/// The mean and the ends of its 95% interval as three CSV fields, empty where missing.
fn mean_ci_csv(c: Option<MeanCi>) -> String {
    let f = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let ends = c.and_then(|c| c.ci95);
    let [mean, low, high] = [c.map(|c| c.mean), ends.map(|e| e.0), ends.map(|e| e.1)].map(f);
    format!("{mean},{low},{high}")
}

/// CSV of the evaluation rows; missing values are empty fields. Names contain no commas. The
/// last four columns are the paired difference `row - reference` in mean slowdown (its mean and
/// 95% interval) and its verdict, empty for the reference row itself.
pub fn eval_csv(rows: &[EvalRow]) -> String {
    let f = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut out = String::from(
        "policy,workload,rate,load,jobsets,measured,mean_slowdown,ci95_low,ci95_high,\
         mean_completion_time,completion_ci95_low,completion_ci95_high,truncated,rejected,over_cap_share,violation_share,\
         reference,diff_vs_reference,diff_ci95_low,diff_ci95_high,verdict\n",
    );
    for r in rows {
        let vs = r.vs_reference.as_ref();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.policy,
            r.workload,
            r.rate,
            r.load,
            r.jobsets,
            r.measured(),
            mean_ci_csv(r.slowdown),
            mean_ci_csv(r.completion_time),
            r.truncated,
            r.rejected,
            f(r.over_cap_share),
            f(r.violation_share),
            vs.map_or("", |v| v.reference.as_str()),
            mean_ci_csv(vs.and_then(|v| v.difference)),
            vs.map_or("", |v| v.verdict.name()),
        );
    }
    out
}

/// One line per learned policy with a model file: its label, its path and what it was trained
/// on (`whitebox_runtime::models::training_summary`), so a table says which model it measured.
/// Empty when no policy has a model file; a file named by several policies is listed once.
///
/// # Errors
/// When a model file cannot be read again or its header is invalid.
pub fn model_provenance(policies: &[NamedPolicy]) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut seen = Vec::new();
    for p in policies {
        if let PolicyName::Model(path) | PolicyName::Int8(path) = &p.policy {
            // A guarded or projected copy of a policy names the same file: say it once.
            if seen.contains(&path) {
                continue;
            }
            seen.push(path);
            // The header alone: the evaluation has already decoded the network.
            let bytes = whitebox_runtime::models::read(path)?;
            let (header, _) = whitebox_core::model::read_header(&bytes)
                .with_context(|| format!("invalid model file {}", path.display()))?;
            let trained = whitebox_runtime::models::training_summary(&header);
            // Infallible: writing to a String.
            let _ = writeln!(out, "{}: {}, trained on {trained}", p.label, path.display());
        }
    }
    Ok(out)
}

/// Writes `text` to stdout.
///
/// # Errors
/// When stdout cannot be written.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to stdout")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned() {
        let t = table(
            &[("a", Align::Left), ("bb", Align::Right)],
            &[
                vec!["xyz".into(), "1".into()],
                vec!["q".into(), "100".into()],
            ],
        );
        assert_eq!(t, "a     bb\nxyz    1\nq    100\n");
    }
}
