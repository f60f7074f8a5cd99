//! The decision tree: closed loop against its network and SJF ([`crate::tree::closed_loop`], as
//! `whitebox tree eval`) and its fidelity to the network ([`crate::tree::extract::fidelity`], as
//! `whitebox tree fidelity` and `tree extract`).

use anyhow::{Context, Result};
use serde::Serialize;

use super::page::{diff_ci, mean_ci, verdict, Section, Table};
use super::{write_json, ReportSettings};
use crate::demo::DEMO_SEED;
use crate::tree::closed_loop::{closed_loop, ClosedLoopReport, Estimate};
use crate::tree::extract::{adversarial_files, fidelity, Agreement, Fidelity};

/// Extraction seed whose held-out job sets measure fidelity (the shipped tree's `--seed`).
pub const FIDELITY_SEED: u64 = 1;

/// `tree.json`.
#[derive(Clone, Debug, Serialize)]
pub struct TreeReport {
    /// As `whitebox tree eval` prints it.
    pub closed_loop: ClosedLoopReport,
    /// As `whitebox tree fidelity` prints it.
    pub fidelity: Fidelity,
}

pub(super) fn section(s: &ReportSettings) -> Result<Section> {
    let closed_loop = closed_loop(
        &s.tree_model,
        &s.tree,
        s.jobsets,
        DEMO_SEED,
        None,
        Vec::new(),
    )
    .context("--tree")?;
    let adversarial = adversarial_files(&s.fixtures).context("--fixtures")?;
    let fidelity = fidelity(
        &s.tree_model,
        &s.tree,
        None,
        FIDELITY_SEED,
        s.jobsets,
        &adversarial,
    )
    .context("--tree")?;
    let report = TreeReport {
        closed_loop,
        fidelity,
    };
    write_json(&s.out, "tree.json", &report)?;
    Ok(render(s, &report))
}

fn estimate(e: Option<Estimate>, signed: bool) -> String {
    let ci = e.and_then(|e| e.ci95_low.zip(e.ci95_high));
    if signed {
        diff_ci(e.map(|e| e.mean), ci)
    } else {
        mean_ci(e.map(|e| e.mean), ci)
    }
}

fn agreement_row(name: &str, a: &Agreement) -> Vec<String> {
    vec![
        name.to_string(),
        a.decisions.to_string(),
        format!("{:.1}%", 100.0 * a.share),
        format!("{:.1}% ({})", 100.0 * a.contested_share, a.contested),
    ]
}

fn render(s: &ReportSettings, r: &TreeReport) -> Section {
    let c = &r.closed_loop;
    let ci = |e: Option<Estimate>| e.and_then(|e| e.ci95_low.zip(e.ci95_high));
    let rows = vec![
        vec![
            "network".to_string(),
            estimate(c.network, false),
            String::new(),
        ],
        vec![
            "tree".to_string(),
            estimate(c.tree_slowdown, false),
            String::new(),
        ],
        vec!["SJF".to_string(), estimate(c.sjf, false), String::new()],
        vec![
            "tree - network (paired)".to_string(),
            estimate(c.tree_minus_network, true),
            format!("tree {}", verdict(ci(c.tree_minus_network))),
        ],
        vec![
            "tree - SJF (paired)".to_string(),
            estimate(c.tree_minus_sjf, true),
            format!("tree {}", verdict(ci(c.tree_minus_sjf))),
        ],
    ];
    let closed = Table {
        title: "Closed loop: mean slowdown [95% CI]".into(),
        command: format!(
            "whitebox tree eval --model {} --tree {} --jobsets {} --seed {DEMO_SEED}",
            s.tree_model.display(),
            s.tree.display(),
            s.jobsets
        ),
        seeds: format!(
            "{} job sets of the model's training workload ({}) at rate {}; job set k uses seed \
             {DEMO_SEED} * 1000003 + k (the demo's held-out sets)",
            c.jobsets, c.workload, c.rate
        ),
        json: "tree.json".into(),
        columns: ["", "mean slowdown [95% CI]", "verdict"]
            .map(String::from)
            .to_vec(),
        rows,
    };
    let f = &r.fidelity;
    let fid = Table {
        title: "Fidelity: the tree's action equals the network's, on the network's states".into(),
        command: format!(
            "whitebox tree fidelity --model {} --tree {} --jobsets {} --seed {FIDELITY_SEED} \
             --adversarial {}",
            s.tree_model.display(),
            s.tree.display(),
            s.jobsets,
            s.fixtures.display()
        ),
        seeds: format!(
            "{} held-out job sets, job set k from seed 5 * 2^40 + {FIDELITY_SEED} * 2^24 + k \
             (those of `tree extract --seed {FIDELITY_SEED}`, never used to fit or choose the \
             tree); the adversarial fixtures in {}",
            s.jobsets,
            s.fixtures.display()
        ),
        json: "tree.json".into(),
        columns: [
            "states",
            "decisions",
            "agreement",
            "with more than one allowed action",
        ]
        .map(String::from)
        .to_vec(),
        rows: vec![
            agreement_row(&format!("held-out job sets ({})", s.jobsets), &f.heldout),
            agreement_row(
                &format!("adversarial fixtures ({})", f.adversarial_files.len()),
                &f.adversarial,
            ),
        ],
    };
    Section {
        title: "The decision tree distilled from the model".into(),
        text: vec![format!(
            "{} (tree:PATH) played against its network {} and SJF, and how often it takes the \
             network's action.",
            s.tree.display(),
            s.tree_model.display()
        )],
        tables: vec![closed, fid],
        figures: Vec::new(),
    }
}
