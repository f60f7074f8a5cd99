//! How closely can a CART tree imitate the network? An experiment behind `docs/tree.md`
//! ("How far agreement can go"), run by hand:
//!
//! ```sh
//! cargo test --release -p whitebox-studies --lib tree::ceiling -- --ignored --nocapture
//! ```
//!
//! The shipped model plays extraction's own training job sets (seed 1, 400 sets) and validation
//! job sets (200 sets); the held-out fidelity sets and the demo's sets are not touched. Every
//! state is labelled as extraction labels it. Trees are fitted on the training states, with
//! leaf budgets from 16 to 128, over three feature sets:
//!
//! 1. the shipped operator features (`5 M + 8`);
//! 2. those plus ten summaries over the job slots that a tree otherwise spells out slot by slot
//!    (SJF's choice's length, wait and demands, how many jobs fit now, how many short ones, ...);
//! 3. those plus the free units of each resource in each horizon row (the network's own
//!    occupancy inputs).
//!
//! Agreement is measured on the network's states (the network plays), as the tree policy would
//! decide there: the leaf's action when the mask allows it, else SJF's choice (what
//! `TreePolicy` does), against the label. This is what `tree fidelity` measures for a core tree
//! (88.9% for the shipped one, on held-out states); here the trees may read features the core
//! does not have, so the walk and the mask are applied here.

use std::path::Path;

use whitebox_core::policy::valid_actions;
use whitebox_core::tree::{feature_count, operator_features, sjf_leaf, Node, Tree};
use whitebox_core::{run, Action, Cluster, Episode, PolicyError, Scheduler};
use whitebox_runtime::models::int8::training_setting;
use whitebox_runtime::models::{self, LoadedModel};
use whitebox_runtime::settings::{End, SIMU_LEN, TIME_CAP};

use super::cart::{self, Samples};
use super::extract::{
    label, sets, sjf_tree, tree_scheduler, TREE_TRAIN_BASE, TREE_VALIDATION_BASE,
};

const M: usize = 10;
const I: usize = feature_count(M);
const O: usize = M + 1;
/// Summaries over the job slots appended to the operator features.
const SUMMARIES: usize = 10;
/// A length past every job's: "no such job".
const NO_LEN: i32 = 21;
/// Jobs this short count as short (the shipped tree's own split, `slot*.len <= 3`).
const SHORT: i32 = 3;

/// One state the network visited: operator features, summaries and horizon rows; the label as
/// extraction sets it.
struct State {
    x: Vec<i32>,
    label: usize,
    /// The label is what SJF decides.
    sjf: bool,
    weight: f64,
    contested: bool,
    /// The liveness mask, shape `[M + 1]`.
    valid: [bool; O],
}

impl State {
    /// The class extraction fits: SJF's leaf where SJF decides the same.
    fn class(&self) -> usize {
        if self.sjf {
            sjf_leaf(M)
        } else {
            self.label
        }
    }

    /// Whether a leaf of class `p` takes the network's action here: a leaf action the mask
    /// forbids becomes SJF's choice, as in `TreePolicy`.
    fn agrees(&self, p: usize) -> bool {
        let allowed = self.valid.get(p).copied().unwrap_or(false);
        if p == sjf_leaf(M) || !allowed {
            self.sjf
        } else {
            p == self.label
        }
    }
}

/// Slot `i`'s `(len, res0, res1, wait, fit)` in the operator features.
fn slot(x: &[i32], i: usize) -> [i32; 5] {
    let mut s = [0; 5];
    for (k, v) in s.iter_mut().enumerate() {
        *v = x.get(5 * i + k).copied().unwrap_or(0);
    }
    s
}

/// The slots whose job fits now, in slot order.
fn fitting(x: &[i32]) -> Vec<usize> {
    (0..M)
        .filter(|&i| slot(x, i)[0] > 0 && slot(x, i)[4] == 0)
        .collect()
}

/// SJF's choice from the operator features: the shortest job that fits now, lowest slot first.
fn sjf_choice(x: &[i32]) -> Option<usize> {
    fitting(x).into_iter().min_by_key(|&i| (slot(x, i)[0], i))
}

/// The ten summaries: SJF's choice's length (or [`NO_LEN`]), wait, res0, res1; jobs that fit
/// now; short jobs that fit now; slot jobs; the shortest slot job's length (or [`NO_LEN`]); the
/// earliest first fit of a short job (or the horizon, 20); the longest wait.
fn summaries(x: &[i32]) -> [i32; SUMMARIES] {
    let jobs: Vec<[i32; 5]> = (0..M).map(|i| slot(x, i)).filter(|s| s[0] > 0).collect();
    let fit_now: Vec<[i32; 5]> = jobs.iter().copied().filter(|s| s[4] == 0).collect();
    let sjf = sjf_choice(x).map_or([NO_LEN, 0, 0, 0, 0], |i| slot(x, i));
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    [
        sjf[0],
        sjf[3],
        sjf[1],
        sjf[2],
        count(fit_now.len()),
        count(fit_now.iter().filter(|s| s[0] <= SHORT).count()),
        count(jobs.len()),
        jobs.iter().map(|s| s[0]).min().unwrap_or(NO_LEN),
        jobs.iter()
            .filter(|s| s[0] <= SHORT)
            .map(|s| s[4])
            .min()
            .unwrap_or(20),
        jobs.iter().map(|s| s[3]).max().unwrap_or(0),
    ]
}

/// Follows the network and records every state.
struct Record<'a> {
    model: &'a LoadedModel,
    sjf: Box<dyn Scheduler<M> + 'a>,
    states: Vec<State>,
}

impl Scheduler<M> for Record<'_> {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        let (label, weight, contested) = label::<M, O>(self.model, None, cluster)?;
        let sjf = self.sjf.decide(cluster)?.index(M) == label;
        let mut ops = [0i32; I];
        operator_features(cluster, &mut ops);
        let mut x = ops.to_vec();
        x.extend(summaries(&ops));
        for r in 0..2 {
            x.extend(cluster.avbl().iter().map(|row| i32::from(row[r])));
        }
        self.states.push(State {
            x,
            label,
            sjf,
            weight,
            contested,
            valid: valid_actions::<M, O>(cluster, true),
        });
        Ok(Action::from_index(label, M).unwrap_or(Action::Void))
    }
}

fn states(model: &LoadedModel, base: u64, n: usize) -> Vec<State> {
    let (workload, rate) = training_setting(model).expect("training setting");
    let sjf = sjf_tree::<M>().expect("SJF leaf");
    let mut out = Vec::new();
    for jobs in sets(workload, rate, base + (1 << 24), 0, n) {
        let mut rec = Record {
            model,
            sjf: tree_scheduler::<M, I, O>(&sjf, None),
            states: Vec::new(),
        };
        let end = End::AllDone.mode(SIMU_LEN, TIME_CAP);
        let mut episode: Episode<'_, M> = Episode::new(&jobs, end, &mut ()).expect("episode");
        run(&mut episode, &mut rec, &mut ()).expect("network episode");
        out.extend(rec.states);
    }
    out
}

/// The class of the leaf that `x` reaches.
fn predict(nodes: &[Node], x: &[i32]) -> usize {
    let mut k = 0;
    while let Some(node) = nodes.get(k) {
        match *node {
            Node::Leaf { action } => return usize::from(action),
            Node::Split {
                feature,
                threshold,
                left,
                right,
            } => {
                let v = x.get(usize::from(feature)).copied().unwrap_or(0);
                k = usize::from(if v <= threshold { left } else { right });
            }
        }
    }
    M
}

/// Shares of `states` (all, contested) where the tree `nodes` over the first `features`
/// features agrees with the network.
fn agreement(nodes: &[Node], states: &[State], features: usize) -> (f64, f64) {
    let (mut same, mut c, mut c_same) = (0usize, 0usize, 0usize);
    for s in states {
        let ok = s.agrees(predict(nodes, &s.x[..features]));
        same += usize::from(ok);
        c += usize::from(s.contested);
        c_same += usize::from(ok && s.contested);
    }
    (same as f64 / states.len() as f64, c_same as f64 / c as f64)
}

#[test]
#[ignore = "an experiment for docs/tree.md: about 15 s in release"]
fn agreement_ceiling_of_cart_trees() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model = models::load(&root.join("fixtures/models/default.model")).expect("model");
    let train = states(&model, TREE_TRAIN_BASE, 400);
    let val = states(&model, TREE_VALIDATION_BASE, 200);

    // What the network does against SJF on the training states.
    let contested: Vec<&State> = train.iter().filter(|s| s.contested).collect();
    let n = contested.len() as f64;
    let share = |k: usize| format!("{:.1}%", 100.0 * k as f64 / n);
    let as_sjf = contested.iter().filter(|s| s.sjf).count();
    let waits = contested.iter().filter(|s| !s.sjf && s.label == M).count();
    let other: Vec<&&State> = contested.iter().filter(|s| !s.sjf && s.label < M).collect();
    let rule = |f: &dyn Fn(&State) -> bool| share(other.iter().filter(|s| f(s)).count());
    let len = |s: &State, i: usize| slot(&s.x, i)[0];
    println!(
        "training states {}, contested {}: network takes SJF's action {}, waits instead {}, \
         another job {}",
        train.len(),
        contested.len(),
        share(as_sjf),
        share(waits),
        share(other.len())
    );
    println!(
        "  another job: reserves one that fits later {}; the second-shortest length that fits \
         now {}; the lowest slot that fits now {}; the longest that fits now {}",
        rule(&|s| slot(&s.x, s.label)[4] > 0),
        rule(&|s| {
            let mut lens: Vec<i32> = fitting(&s.x).iter().map(|&i| len(s, i)).collect();
            lens.sort_unstable();
            lens.dedup();
            slot(&s.x, s.label)[4] == 0 && lens.get(1) == Some(&len(s, s.label))
        }),
        rule(&|s| fitting(&s.x).first() == Some(&s.label)),
        rule(&|s| {
            slot(&s.x, s.label)[4] == 0
                && fitting(&s.x).iter().all(|&i| len(s, i) <= len(s, s.label))
        }),
    );

    println!("| features | weights | leaf budget | leaves | train, contested | validation, all | validation, contested |");
    println!("|---|---|---|---|---|---|---|");
    let sets = [
        ("operator", I),
        ("+ summaries", I + SUMMARIES),
        ("+ summaries + rows", I + SUMMARIES + 40),
    ];
    for (name, features) in sets {
        for (gap, leaves) in [
            (false, 16),
            (false, 32),
            (false, 64),
            (false, 128),
            (true, 64),
        ] {
            let mut data = Samples {
                features,
                ..Samples::default()
            };
            for s in train.iter().filter(|s| s.weight > 0.0) {
                let w = if gap { s.weight } else { 1.0 };
                data.push(&s.x[..features], s.class() as u16, w);
            }
            let settings = cart::Settings {
                leaves,
                classes: O + 1,
                min_leaf: 5,
            };
            let nodes = cart::fit(&data, &settings);
            let (_, train_c) = agreement(&nodes, &train, features);
            let (val_all, val_c) = agreement(&nodes, &val, features);
            let leaf_count = nodes
                .iter()
                .filter(|n| matches!(n, Node::Leaf { .. }))
                .count();
            println!(
                "| {name} | {} | {leaves} | {leaf_count} | {:.1}% | {:.1}% | {:.1}% |",
                if gap { "logit gap" } else { "one" },
                100.0 * train_c,
                100.0 * val_all,
                100.0 * val_c
            );
            if features == I && gap {
                // Over the shipped features the fit is a valid core tree, as extraction's.
                assert!(Tree::<M>::from_nodes(&nodes).is_ok());
            }
        }
    }
}
