//! A tree in closed loop against its network and SJF: mean slowdowns over the same generated
//! job sets (by default the demo's held-out ones, which extraction never uses), with the paired
//! differences `tree - network` and `tree - sjf` and their 95% intervals.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use whitebox_core::projection::Projection;
use whitebox_runtime::models::{self, int8::training_setting};
use whitebox_runtime::policy::{NamedPolicy, PolicyName};
use whitebox_runtime::settings::{End, Slots, SIMU_LEN, TIME_CAP};
use whitebox_runtime::stats::MeanCi;

use crate::eval::{evaluate, paired_slowdown_difference, EvalConfig, EvalRow};

/// A mean with its 95% interval.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Estimate {
    /// Mean over job sets.
    pub mean: f64,
    /// Low end of the 95% interval.
    pub ci95_low: Option<f64>,
    /// High end of the 95% interval.
    pub ci95_high: Option<f64>,
}

impl From<MeanCi> for Estimate {
    fn from(m: MeanCi) -> Estimate {
        Estimate {
            mean: m.mean,
            ci95_low: m.ci95.map(|c| c.0),
            ci95_high: m.ci95.map(|c| c.1),
        }
    }
}

/// The closed-loop comparison.
#[derive(Clone, Debug, Serialize)]
pub struct ClosedLoopReport {
    /// The model (shown as `network`).
    pub model: PathBuf,
    /// The tree (shown as `tree`).
    pub tree: PathBuf,
    /// Workload of the job sets (the model's training workload).
    pub workload: &'static str,
    /// Arrival rate.
    pub rate: f64,
    /// Job sets, all-done, `simu_len` 50.
    pub jobsets: usize,
    /// Base seed: job set `k` uses `seed * 1000003 + k`.
    pub seed: u64,
    /// Rules every policy is projected onto (empty: none).
    pub rules: Vec<String>,
    /// Mean slowdown of the network.
    pub network: Option<Estimate>,
    /// Mean slowdown of the tree.
    pub tree_slowdown: Option<Estimate>,
    /// Mean slowdown of SJF.
    pub sjf: Option<Estimate>,
    /// Paired `tree - network`.
    pub tree_minus_network: Option<Estimate>,
    /// `tree_minus_network` relative to the network's mean.
    pub tree_vs_network_relative: Option<f64>,
    /// Paired `tree - sjf`.
    pub tree_minus_sjf: Option<Estimate>,
}

/// Plays the network, the tree and SJF (each projected onto `rules` when given) on `jobsets`
/// job sets of the model's training workload and rate, from `seed`.
///
/// # Errors
/// An invalid model or tree file, or a tree for another slot count than the model.
pub fn closed_loop(
    model: &Path,
    tree: &Path,
    jobsets: usize,
    seed: u64,
    rules: Option<Projection>,
    rule_texts: Vec<String>,
) -> Result<ClosedLoopReport> {
    let loaded = models::load(model)?;
    let (workload, rate) = training_setting(&loaded)?;
    let slots = Slots::from_count(loaded.slots())
        .with_context(|| format!("model has {} job slots", loaded.slots()))?;
    let named =
        |label: &str, p: PolicyName| NamedPolicy::labelled(label, p).with_rules(rules.clone());
    let cfg = EvalConfig {
        workloads: vec![workload],
        rates: vec![rate],
        jobsets,
        seed,
        policies: vec![
            named("network", PolicyName::Model(model.to_path_buf())),
            named("tree", PolicyName::Tree(tree.to_path_buf())),
            named("sjf", PolicyName::Sjf),
        ],
        slots,
        end: End::AllDone,
        simu_len: SIMU_LEN,
        time_cap: TIME_CAP,
        tetris_knob: 0.5,
        job_slowdowns: false,
    };
    let report = evaluate(&cfg, &|| {})?;
    let row = |label: &str| report.rows.iter().find(|r| r.policy == label);
    let mean = |r: Option<&EvalRow>| r.and_then(|r| r.slowdown).map(Estimate::from);
    let diff = |a: &str, b: &str| {
        row(a)
            .zip(row(b))
            .and_then(|(a, b)| paired_slowdown_difference(a, b))
            .map(Estimate::from)
    };
    let network = mean(row("network"));
    let tree_minus_network = diff("tree", "network");
    Ok(ClosedLoopReport {
        model: model.to_path_buf(),
        tree: tree.to_path_buf(),
        workload: workload.name(),
        rate,
        jobsets,
        seed,
        rules: rule_texts,
        network,
        tree_slowdown: mean(row("tree")),
        sjf: mean(row("sjf")),
        tree_vs_network_relative: tree_minus_network
            .zip(network)
            .map(|(d, n)| d.mean / n.mean),
        tree_minus_network,
        tree_minus_sjf: diff("tree", "sjf"),
    })
}
