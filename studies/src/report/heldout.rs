//! The held-out comparison and the rules, both from one run of `whitebox demo`
//! ([`crate::demo`]): its `demo.json` and figures are written into the report directory as they
//! are.

use anyhow::Result;
use whitebox_core::guard::{GuardMode, GuardParams};
use whitebox_runtime::guard::GuardSettings;

use super::page::{diff_ci, mean_ci, verdict, Figure, Section, Table};
use super::ReportSettings;
use crate::demo::{self, DemoReport};

/// Policies of the held-out table, in column order (demo labels).
const POLICIES: [&str; 7] = [
    demo::DNN,
    demo::DNN_GUARD,
    "sjf",
    "tetris",
    "packer",
    "random",
    demo::STUDENT,
];

/// Policies of the rules table.
const RULE_POLICIES: [&str; 5] = [
    demo::SJF_RULES,
    demo::DNN_RULES,
    demo::DNN_GUARD_RULES,
    demo::STUDENT_RULES,
    demo::RULES_DNN,
];

/// Runs the demo into the report directory; `on_task` ticks per job set.
pub(super) fn section(s: &ReportSettings, on_task: &(dyn Fn() + Sync)) -> Result<Section> {
    let rules: Vec<String> = demo::DEFAULT_RULES.map(String::from).to_vec();
    let projection = whitebox_runtime::rules::projection(&rules, f32::INFINITY)?;
    let guard = GuardSettings::new(
        GuardMode::Renewal,
        GuardParams::DEFAULT_EPS,
        GuardParams::DEFAULT_C,
    )?;
    let plan = demo::plan(
        &s.model,
        s.student.as_deref(),
        s.rules_model.as_deref(),
        s.jobsets,
        projection,
        guard,
    )?;
    let report = demo::run(&plan, &s.out, on_task)?;
    Ok(render(s, &report))
}

/// The demo's command line for these settings.
fn command(s: &ReportSettings) -> String {
    let named = |p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map_or("none".to_string(), |p| p.display().to_string())
    };
    format!(
        "whitebox demo --model {} --student {} --rules-model {} --jobsets {} --out DIR",
        s.model.display(),
        named(&s.student),
        named(&s.rules_model),
        s.jobsets
    )
}

fn render(s: &ReportSettings, r: &DemoReport) -> Section {
    let set = &r.settings;
    let seeds = format!(
        "{} held-out job sets per workload; job set k uses seed {} * 1000003 + k (training and \
         validation use seeds from 2^40 up); rate {}, {} slots, all-done",
        s.jobsets,
        demo::DEMO_SEED,
        set.rate,
        set.eval.slots
    );
    let cell = |w: &str, p: &str| {
        r.table
            .iter()
            .find(|row| row.row.workload == w && row.row.policy == p)
            .map_or("-".to_string(), |row| {
                mean_ci(
                    row.row.slowdown.map(|c| c.mean),
                    row.row.slowdown.and_then(|c| c.ci95),
                )
            })
    };
    let has = |p: &str| set.policies.iter().any(|q| q == p);
    let policies: Vec<&str> = POLICIES.into_iter().filter(|p| has(p)).collect();
    let mut columns = vec!["workload".to_string(), "load".to_string()];
    columns.extend(policies.iter().map(|p| p.to_string()));
    columns.push("dnn - sjf, paired [95% CI]".into());
    columns.push("dnn vs sjf".into());
    let rows = r
        .dnn_vs_sjf
        .iter()
        .map(|d| {
            let w = d.workload;
            let load = r
                .table
                .iter()
                .find(|row| row.row.workload == w)
                .map_or("-".to_string(), |row| format!("{:.2}", row.row.load));
            let name = if d.training_distribution {
                format!("{w} (training)")
            } else {
                w.to_string()
            };
            let mut row = vec![name, load];
            row.extend(policies.iter().map(|p| cell(w, p)));
            let ci = d.difference.and_then(|c| c.ci95);
            row.push(diff_ci(d.difference.map(|c| c.mean), ci));
            row.push(verdict(ci).to_string());
            row
        })
        .collect();
    let heldout = Table {
        title: "Held-out job sets: mean slowdown [95% CI]".into(),
        command: command(s),
        seeds: seeds.clone(),
        json: "demo.json".into(),
        columns,
        rows,
    };
    let rule_policies: Vec<&str> = RULE_POLICIES.into_iter().filter(|p| has(p)).collect();
    let mut columns = vec!["workload".to_string()];
    columns.extend(rule_policies.iter().map(|p| p.to_string()));
    columns.push("dnn+rules - sjf+rules, paired [95% CI]".into());
    columns.push("dnn+rules vs sjf+rules".into());
    let rows = r
        .rules_vs_sjf_rules
        .iter()
        .map(|d| {
            let mut row = vec![d.workload.to_string()];
            row.extend(rule_policies.iter().map(|p| cell(d.workload, p)));
            let ci = d.difference.and_then(|c| c.ci95);
            row.push(diff_ci(d.difference.map(|c| c.mean), ci));
            row.push(verdict(ci).to_string());
            row
        })
        .collect();
    let rules = Table {
        title: format!(
            "Under the rules {} (shield): learned vs SJF, mean slowdown [95% CI]",
            demo::DEFAULT_RULES.join(", ")
        ),
        command: command(s),
        seeds,
        json: "demo.json".into(),
        columns,
        rows,
    };
    let mut figures = vec![Figure {
        title: "Mean slowdown by workload and policy, with 95% intervals".into(),
        file: "slowdown_by_workload.svg".into(),
    }];
    figures.extend(set.workloads.iter().map(|w| Figure {
        title: format!("Per-job slowdown CDF, {w}"),
        file: format!("slowdown_cdf_{w}.svg"),
    }));
    figures.push(Figure {
        title: "What the learned policy's decisions rest on (share of |Shapley| per group)".into(),
        file: "explanation_shares.svg".into(),
    });
    Section {
        title: "The learned policy against the baselines, and under rules".into(),
        text: vec![format!(
            "The shipped model (`dnn`, {}; trained on {}) against SJF, Tetris, Packer and \
             Random on its training workloads (marked) and any shifted ones, with the renewal \
             guard (`dnn+guard`, eps 0.1, c 5) and the rule-distilled student; then every \
             learned policy and SJF projected onto the demo's rules. \"better\" / \"worse\" / \
             \"tie\" is what the paired 95% interval says about the learned policy's mean \
             slowdown (lower is better).",
            s.model.display(),
            set.model.trained
        )],
        tables: vec![heldout, rules],
        figures,
    }
}
