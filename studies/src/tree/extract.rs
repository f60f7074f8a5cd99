//! Tree extraction by imitation with DAgger weighted by the logit gap (VIPER, Bastani, Pu and
//! Solar-Lezama, NeurIPS 2018), and the fidelity of a tree to its network.
//!
//! Iteration 0 plays the network on training job sets; iteration `i > 0` plays the tree fitted
//! at iteration `i - 1`. Every state visited is labelled with the network's action (masked,
//! and projected onto the rules when given), or with SJF's choice
//! ([`whitebox_core::tree::sjf_leaf`]) where a lone SJF leaf would take the same action, and
//! weighted by the gap between the network's best
//! and worst allowed logit, VIPER's `V(s) - min_a Q(s, a)` stand-in: a state where every
//! action is nearly as good weighs little, a state with one action allowed weighs nothing. The
//! samples of all iterations are pooled and a tree is refitted ([`crate::tree::cart`]). The
//! tree kept is the one with the lowest closed-loop mean slowdown on validation job sets, as
//! VIPER keeps the best-rewarded policy.
//!
//! Job sets (generator seed of job set `k`; `S` is the extraction seed, below 2^16):
//!
//! * training: `3 * 2^40 + S * 2^24 + i * jobsets + k` in iteration `i`;
//! * validation: `4 * 2^40 + S * 2^24 + k`;
//! * held-out fidelity: `5 * 2^40 + S * 2^24 + k`.
//!
//! All three are disjoint from each other, from `train`'s (`2^40` and `2^41` up, below
//! `3 * 2^40`) and from `eval`'s and the demo's (`seed * 1000003 + k`, below `2^40`), so the
//! demo's held-out job sets are never used to fit or choose a tree.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use whitebox_core::network::masked_argmax;
use whitebox_core::projection::{Projected, Projection};
use whitebox_core::tree::{feature_count, operator_features, sjf_leaf, Node, Tree, TreePolicy};
use whitebox_core::workload::JobGenerator;
use whitebox_core::{run, Action, Cluster, Episode, Job, PolicyError, Scheduler};
use whitebox_runtime::models::int8::training_setting;

use super::usage::{group_use, GroupUse};
use whitebox_runtime::models::tree::{AnyTree, LoadedTree};
use whitebox_runtime::models::{self, Decide, LoadedModel};
use whitebox_runtime::settings::{End, SIMU_LEN, TIME_CAP};

use crate::tree::cart::{self, Samples};

/// Base of the training job sets' seeds (see the module docs).
pub const TREE_TRAIN_BASE: u64 = 3 << 40;
/// Base of the validation job sets' seeds.
pub const TREE_VALIDATION_BASE: u64 = 4 << 40;
/// Base of the held-out fidelity job sets' seeds.
pub const TREE_HELDOUT_BASE: u64 = 5 << 40;
/// Largest extraction seed: `S * 2^24` stays below `2^40`, so the ranges stay apart.
pub const MAX_SEED: u64 = (1 << 16) - 1;
/// Default leaf budget.
pub const DEFAULT_LEAVES: usize = 64;

/// Everything that defines an extraction.
#[derive(Clone, Debug)]
pub struct ExtractSettings {
    /// The model file (the network to imitate).
    pub model: PathBuf,
    /// Most leaves, `1..=128`.
    pub leaves: usize,
    /// Rules the network's labels and the tree's play are projected onto, if any.
    pub rules: Option<Projection>,
    /// The rules as given, for the report.
    pub rule_texts: Vec<String>,
    /// Extraction seed, `0..=MAX_SEED`.
    pub seed: u64,
    /// DAgger iterations (`>= 1`).
    pub iterations: usize,
    /// Training job sets per iteration.
    pub jobsets: usize,
    /// Validation job sets (choosing the iteration).
    pub validation_jobsets: usize,
    /// Held-out job sets (fidelity).
    pub heldout_jobsets: usize,
    /// Adversarial job files (fidelity on the states the network visits in them).
    pub adversarial: Vec<PathBuf>,
    /// Fewest samples in a leaf.
    pub min_leaf: usize,
}

/// How often a tree takes the network's action.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Agreement {
    /// Decisions compared (states the network visits).
    pub decisions: u64,
    /// Decisions where the tree takes the network's action.
    pub same: u64,
    /// `same / decisions`.
    pub share: f64,
    /// Decisions with more than one allowed action.
    pub contested: u64,
    /// Contested decisions where the tree takes the network's action.
    pub contested_same: u64,
    /// `contested_same / contested`.
    pub contested_share: f64,
}

impl Agreement {
    fn add(&mut self, same: bool, contested: bool) {
        self.decisions += 1;
        self.same += u64::from(same);
        self.contested += u64::from(contested);
        self.contested_same += u64::from(same && contested);
    }

    fn merge(mut self, o: &Agreement) -> Agreement {
        self.decisions += o.decisions;
        self.same += o.same;
        self.contested += o.contested;
        self.contested_same += o.contested_same;
        self.finish()
    }

    fn finish(mut self) -> Agreement {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        self.share = ratio(self.same, self.decisions);
        self.contested_share = ratio(self.contested_same, self.contested);
        self
    }
}

/// One DAgger iteration.
#[derive(Clone, Debug, Serialize)]
pub struct Iteration {
    /// 0-based.
    pub iteration: usize,
    /// Who played the training job sets: `network` or `tree`.
    pub played_by: &'static str,
    /// Samples (states with positive weight) pooled so far.
    pub samples: usize,
    /// Leaves of the tree fitted.
    pub leaves: usize,
    /// How often its leaves name the pooled samples' labels, weighted by the samples' weights.
    pub weighted_train_agreement: f64,
    /// Its closed-loop mean slowdown on the validation job sets (mean of per-job-set means).
    pub validation_slowdown: f64,
}

/// Fidelity on one adversarial job file.
#[derive(Clone, Debug, Serialize)]
pub struct FileAgreement {
    /// The job file.
    pub file: PathBuf,
    /// Agreement on the states the network visits in it.
    pub agreement: Agreement,
}

/// What an extraction did and how faithful its tree is.
#[derive(Clone, Debug, Serialize)]
pub struct ExtractReport {
    /// The model imitated.
    pub model: PathBuf,
    /// Job slots.
    pub slots: usize,
    /// Workload and rate of every job set (the model's training setting).
    pub workload: &'static str,
    /// Arrival rate.
    pub rate: f64,
    /// Rules, as given (empty: none).
    pub rules: Vec<String>,
    /// Extraction seed.
    pub seed: u64,
    /// Leaf budget.
    pub leaf_budget: usize,
    /// Every iteration.
    pub iterations: Vec<Iteration>,
    /// The iteration whose tree was kept.
    pub chosen: usize,
    /// Nodes, leaves and depth of the tree kept.
    pub nodes: usize,
    /// Leaves of the tree kept.
    pub leaves: usize,
    /// Depth of the tree kept.
    pub depth: usize,
    /// Its agreement with the network on held-out states (the network's own, on held-out job
    /// sets).
    pub heldout: Agreement,
    /// Held-out job sets.
    pub heldout_jobsets: usize,
    /// Its agreement on the states the network visits in the adversarial job files, all of them.
    pub adversarial: Agreement,
    /// The same per file.
    pub adversarial_files: Vec<FileAgreement>,
    /// How the job sets were seeded.
    pub seeds: String,
}

/// One visited state: its operator features, the network's label and weight, whether more
/// than one action was allowed, and the tree's action when a tree was asked.
struct Visit {
    x: Vec<i32>,
    label: usize,
    /// The label is also what a lone SJF leaf would decide ([`sjf_leaf`]).
    sjf: bool,
    weight: f64,
    contested: bool,
    tree: Option<usize>,
}

/// The network's action (masked, projected onto `rules`), its logit gap and whether more than
/// one action was allowed.
pub(crate) fn label<const M: usize, const O: usize>(
    model: &LoadedModel,
    rules: Option<&Projection>,
    cluster: &Cluster<M>,
) -> Result<(usize, f64, bool), PolicyError>
where
    LoadedModel: Decide<M>,
{
    let (mut logits, mut valid) = ([0.0f32; O], [false; O]);
    Decide::<M>::preference(model, cluster, &mut logits, &mut valid)?;
    let action = match rules {
        Some(p) => p.project(&logits, &valid, cluster)?.action.index(M),
        None => match masked_argmax(&logits, &valid) {
            Ok(Some(k)) => k,
            Ok(None) => M,
            Err(index) => return Err(PolicyError::NonFiniteOutput { index }),
        },
    };
    let allowed = logits
        .iter()
        .zip(valid)
        .filter(|(_, v)| *v)
        .map(|(l, _)| *l);
    let (lo, hi, n) = allowed.fold((f32::INFINITY, f32::NEG_INFINITY, 0), |(lo, hi, n), l| {
        (lo.min(l), hi.max(l), n + 1)
    });
    let gap = if n > 1 { f64::from(hi - lo) } else { 0.0 };
    Ok((action, gap, n > 1))
}

/// Follows the network or the tree and records every state with the network's label.
struct Collect<'a, const M: usize, const I: usize, const O: usize> {
    model: &'a LoadedModel,
    rules: Option<&'a Projection>,
    tree: Option<Box<dyn Scheduler<M> + 'a>>,
    /// A lone SJF leaf, under the same rules.
    sjf: Box<dyn Scheduler<M> + 'a>,
    tree_acts: bool,
    visits: Vec<Visit>,
}

impl<const M: usize, const I: usize, const O: usize> Scheduler<M> for Collect<'_, M, I, O>
where
    LoadedModel: Decide<M>,
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        let (label, weight, contested) = label::<M, O>(self.model, self.rules, cluster)?;
        let mut x = [0i32; I];
        operator_features(cluster, &mut x);
        let tree = match self.tree.as_mut() {
            Some(t) => Some(t.decide(cluster)?.index(M)),
            None => None,
        };
        let sjf = self.sjf.decide(cluster)?.index(M) == label;
        self.visits.push(Visit {
            x: x.to_vec(),
            label,
            sjf,
            weight,
            contested,
            tree,
        });
        let act = if self.tree_acts { tree } else { None };
        Ok(Action::from_index(act.unwrap_or(label), M).unwrap_or(Action::Void))
    }
}

/// The tree's scheduler: the generic tree policy, projected onto the rules when given.
pub(crate) fn tree_scheduler<'a, const M: usize, const I: usize, const O: usize>(
    tree: &'a Tree<M>,
    rules: Option<&Projection>,
) -> Box<dyn Scheduler<M> + 'a> {
    let policy = TreePolicy::<'a, M, I, O>::new(tree, true);
    match rules {
        Some(p) => Box::new(Projected::<_, O>::new(policy, p.clone())),
        None => Box::new(policy),
    }
}

/// A tree of one leaf, SJF's choice.
pub(crate) fn sjf_tree<const M: usize>() -> Result<Tree<M>> {
    let action = u16::try_from(sjf_leaf(M))?;
    Tree::from_nodes(&[Node::Leaf { action }]).context("the SJF leaf")
}

/// Plays `jobs` and returns the visits and the episode's mean slowdown.
fn play<const M: usize, const I: usize, const O: usize>(
    model: &LoadedModel,
    rules: Option<&Projection>,
    tree: Option<&Tree<M>>,
    tree_acts: bool,
    jobs: &[Job],
) -> Result<(Vec<Visit>, f64)>
where
    LoadedModel: Decide<M>,
{
    let sjf_tree = sjf_tree::<M>()?;
    let mut c = Collect::<M, I, O> {
        model,
        rules,
        tree: tree.map(|t| tree_scheduler::<M, I, O>(t, rules)),
        sjf: tree_scheduler::<M, I, O>(&sjf_tree, rules),
        tree_acts,
        visits: Vec::new(),
    };
    let end = End::AllDone.mode(SIMU_LEN, TIME_CAP);
    let mut episode: Episode<'_, M> =
        Episode::new(jobs, end, &mut ()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let summary = run(&mut episode, &mut c, &mut ()).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((c.visits, summary.mean_slowdown.unwrap_or(0.0)))
}

/// Plays every job set in parallel, in index order.
fn play_all<const M: usize, const I: usize, const O: usize>(
    model: &LoadedModel,
    rules: Option<&Projection>,
    tree: Option<&Tree<M>>,
    tree_acts: bool,
    sets: &[Vec<Job>],
) -> Result<Vec<(Vec<Visit>, f64)>>
where
    LoadedModel: Decide<M>,
{
    sets.par_iter()
        .map(|jobs| play::<M, I, O>(model, rules, tree, tree_acts, jobs))
        .collect()
}

fn agreement(visits: &[Visit]) -> Agreement {
    let mut a = Agreement::default();
    for v in visits {
        a.add(v.tree == Some(v.label), v.contested);
    }
    a.finish()
}

/// Agreement of `nodes`' leaves with the labels, weighted by the samples' weights.
fn weighted_agreement<const M: usize>(tree: &Tree<M>, data: &Samples) -> f64 {
    let (mut same, mut total) = (0.0, 0.0);
    for (i, (&y, &w)) in data.y.iter().zip(&data.w).enumerate() {
        let row = data.x.get(i * data.features..(i + 1) * data.features);
        let x: Vec<f32> = row.unwrap_or(&[]).iter().map(|&v| v as f32).collect();
        let leaf = tree.walk(&x, |_, _, _, _| {}).leaf;
        total += w;
        if tree.leaf_action(leaf) == usize::from(y) {
            same += w;
        }
    }
    if total > 0.0 {
        same / total
    } else {
        0.0
    }
}

/// Job set `k` of a seed range.
pub(crate) fn sets(
    workload: whitebox_core::workload::Workload,
    rate: f64,
    base: u64,
    first: usize,
    n: usize,
) -> Vec<Vec<Job>> {
    (first..first + n)
        .map(|k| JobGenerator::new(workload, rate, SIMU_LEN, base + k as u64).collect())
        .collect()
}

/// Extraction for `M` slots (`I = feature_count(M)`, `O = M + 1`).
fn extract_m<const M: usize, const I: usize, const O: usize>(
    model: &LoadedModel,
    s: &ExtractSettings,
    progress: &mut dyn FnMut(&Iteration),
) -> Result<(Tree<M>, ExtractReport)>
where
    LoadedModel: Decide<M>,
{
    const { assert!(I == feature_count(M) && O == M + 1) };
    let (workload, rate) = training_setting(model)?;
    let rules = s.rules.as_ref();
    let base = |b: u64| b + (s.seed << 24);
    let validation = sets(
        workload,
        rate,
        base(TREE_VALIDATION_BASE),
        0,
        s.validation_jobsets,
    );
    let settings = cart::Settings {
        leaves: s.leaves,
        classes: O + 1,
        min_leaf: s.min_leaf,
    };
    let mut data = Samples {
        features: I,
        ..Samples::default()
    };
    let mut best: Option<(f64, usize, Tree<M>)> = None;
    let mut current: Option<Tree<M>> = None;
    let mut iterations = Vec::new();
    for it in 0..s.iterations {
        let train = sets(
            workload,
            rate,
            base(TREE_TRAIN_BASE),
            it * s.jobsets,
            s.jobsets,
        );
        let played = play_all::<M, I, O>(model, rules, current.as_ref(), true, &train)?;
        for v in played.iter().flat_map(|(v, _)| v) {
            if v.weight > 0.0 {
                // Where the network does what SJF would, the leaf to learn is SJF's choice.
                let class = if v.sjf { sjf_leaf(M) } else { v.label };
                data.push(&v.x, u16::try_from(class).unwrap_or(0), v.weight);
            }
        }
        if data.is_empty() {
            bail!(
                "no state with more than one allowed action in {} job sets",
                s.jobsets
            );
        }
        let nodes = cart::fit(&data, &settings);
        let tree = Tree::<M>::from_nodes(&nodes).context("fitted tree")?;
        let val = play_all::<M, I, O>(model, rules, Some(&tree), true, &validation)?;
        let slowdown = val.iter().map(|(_, m)| m).sum::<f64>() / val.len().max(1) as f64;
        let report = Iteration {
            iteration: it,
            played_by: if current.is_some() { "tree" } else { "network" },
            samples: data.len(),
            leaves: tree.leaves(),
            weighted_train_agreement: weighted_agreement(&tree, &data),
            validation_slowdown: slowdown,
        };
        progress(&report);
        iterations.push(report);
        if best.as_ref().is_none_or(|(b, _, _)| slowdown < *b) {
            best = Some((slowdown, it, tree.clone()));
        }
        current = Some(tree);
    }
    let Some((_, chosen, tree)) = best else {
        bail!("iterations = 0, must be at least 1");
    };

    let fid = fidelity_m::<M, I, O>(
        model,
        rules,
        &tree,
        s.seed,
        s.heldout_jobsets,
        &s.adversarial,
    )?;
    let report = ExtractReport {
        model: s.model.clone(),
        slots: M,
        workload: workload.name(),
        rate,
        rules: s.rule_texts.clone(),
        seed: s.seed,
        leaf_budget: s.leaves,
        iterations,
        chosen,
        nodes: tree.nodes().len(),
        leaves: tree.leaves(),
        depth: tree.depth(),
        heldout: fid.heldout,
        heldout_jobsets: s.heldout_jobsets,
        adversarial: fid.adversarial,
        adversarial_files: fid.adversarial_files,
        seeds: format!(
            "job set k: training {TREE_TRAIN_BASE} + seed * 2^24 + iteration * jobsets + k, \
             validation {TREE_VALIDATION_BASE} + seed * 2^24 + k, held-out \
             {TREE_HELDOUT_BASE} + seed * 2^24 + k; disjoint from train, eval and the demo"
        ),
    };
    Ok((tree, report))
}

/// How faithful a tree is to its network: agreement on the states the network visits on
/// held-out job sets and in adversarial job files (as [`ExtractReport`] reports it).
#[derive(Clone, Debug, Serialize)]
pub struct Fidelity {
    /// Agreement on the held-out job sets' states.
    pub heldout: Agreement,
    /// Agreement on the adversarial files' states, all files pooled.
    pub adversarial: Agreement,
    /// The same per file.
    pub adversarial_files: Vec<FileAgreement>,
    /// On the held-out states, how often the tree's path tests each group of features (the
    /// groups of `explain`'s Shapley table), most tested first.
    pub heldout_groups: Vec<GroupUse>,
    /// On the held-out states, what the network does against SJF's choice.
    pub heldout_network: NetworkVsSjf,
}

/// Shares of states on which the network takes SJF's action (start the shortest job that
/// fits now, else void), waits where SJF starts a job, or starts another job than SJF's.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct NetworkVsSjf {
    /// States compared.
    pub states: u64,
    /// Share where the network's action is SJF's.
    pub as_sjf: f64,
    /// Share where the network waits (void) and SJF starts a job.
    pub waits_instead: f64,
    /// Share where the network starts or reserves a job SJF does not choose.
    pub other_job: f64,
}

impl NetworkVsSjf {
    /// Over `visits` of an `M`-slot cluster.
    fn of<const M: usize>(visits: &[&Visit]) -> NetworkVsSjf {
        let n = visits.len().max(1) as f64;
        let share = |f: &dyn Fn(&Visit) -> bool| visits.iter().filter(|v| f(v)).count() as f64 / n;
        NetworkVsSjf {
            states: visits.len() as u64,
            as_sjf: share(&|v| v.sjf),
            waits_instead: share(&|v| !v.sjf && v.label == M),
            other_job: share(&|v| !v.sjf && v.label != M),
        }
    }
}

/// Fidelity for `M` slots: the network plays, the tree is asked. Held-out job set `k` is
/// generated from `TREE_HELDOUT_BASE + seed * 2^24 + k`.
fn fidelity_m<const M: usize, const I: usize, const O: usize>(
    model: &LoadedModel,
    rules: Option<&Projection>,
    tree: &Tree<M>,
    seed: u64,
    heldout_jobsets: usize,
    adversarial: &[PathBuf],
) -> Result<Fidelity>
where
    LoadedModel: Decide<M>,
{
    let (workload, rate) = training_setting(model)?;
    let heldout = sets(
        workload,
        rate,
        TREE_HELDOUT_BASE + (seed << 24),
        0,
        heldout_jobsets,
    );
    let held = play_all::<M, I, O>(model, rules, Some(tree), false, &heldout)?;
    let heldout = held
        .iter()
        .fold(Agreement::default(), |a, (v, _)| a.merge(&agreement(v)));
    let states: Vec<Vec<f32>> = held
        .iter()
        .flat_map(|(v, _)| v.iter().map(|s| s.x.iter().map(|&x| x as f32).collect()))
        .collect();
    let heldout_groups = group_use(tree, states.iter().map(Vec::as_slice));
    let visits: Vec<&Visit> = held.iter().flat_map(|(v, _)| v).collect();
    let heldout_network = NetworkVsSjf::of::<M>(&visits);
    let mut adversarial_files = Vec::new();
    for file in adversarial {
        let jobs = whitebox_runtime::jobfile::load(file)?;
        let (v, _) = play::<M, I, O>(model, rules, Some(tree), false, &jobs)?;
        adversarial_files.push(FileAgreement {
            file: file.clone(),
            agreement: agreement(&v),
        });
    }
    let adversarial = adversarial_files
        .iter()
        .fold(Agreement::default(), |a, f| a.merge(&f.agreement));
    Ok(Fidelity {
        heldout,
        adversarial,
        adversarial_files,
        heldout_groups,
        heldout_network,
    })
}

/// The fidelity of the tree file `tree` to the model file `model` (both projected onto `rules`
/// when given), on `heldout_jobsets` held-out job sets of the model's training workload and rate
/// from extraction seed `seed` (the job sets `tree extract --seed` measures on, disjoint from
/// its training and validation sets and from `eval`'s and the demo's) and on the `adversarial`
/// job files.
///
/// # Errors
/// An unreadable or invalid model, tree or job file, a tree for another slot count than the
/// model, a seed above [`MAX_SEED`], or a failing policy.
pub fn fidelity(
    model: &Path,
    tree: &Path,
    rules: Option<&Projection>,
    seed: u64,
    heldout_jobsets: usize,
    adversarial: &[PathBuf],
) -> Result<Fidelity> {
    if seed > MAX_SEED {
        bail!("seed = {seed}, must be at most {MAX_SEED}");
    }
    let loaded = models::load(model)?;
    let t = whitebox_runtime::models::tree::load_tree(tree)?;
    match (&t.tree, loaded.slots()) {
        (AnyTree::Five(t), 5) => fidelity_m::<5, { feature_count(5) }, 6>(
            &loaded,
            rules,
            t,
            seed,
            heldout_jobsets,
            adversarial,
        ),
        (AnyTree::Ten(t), 10) => fidelity_m::<10, { feature_count(10) }, 11>(
            &loaded,
            rules,
            t,
            seed,
            heldout_jobsets,
            adversarial,
        ),
        (_, slots) => bail!(
            "tree {} is for {} job slots, model {} for {slots}",
            tree.display(),
            t.slots(),
            model.display()
        ),
    }
}

/// Extracts a tree from the model `s.model` (see the module docs); `progress` sees each
/// iteration.
///
/// # Errors
/// An unreadable or invalid model or adversarial file, settings out of range (named with the
/// value and the limit), or a failing policy.
pub fn extract(
    s: &ExtractSettings,
    progress: &mut dyn FnMut(&Iteration),
) -> Result<(LoadedTree, ExtractReport)> {
    if !(1..=128).contains(&s.leaves) {
        bail!("leaves = {}, must be in 1..=128", s.leaves);
    }
    if s.seed > MAX_SEED {
        bail!("seed = {}, must be at most {MAX_SEED}", s.seed);
    }
    if s.iterations == 0 || s.jobsets == 0 || s.validation_jobsets == 0 {
        bail!(
            "iterations = {}, jobsets = {}, validation job sets = {}: each must be at least 1",
            s.iterations,
            s.jobsets,
            s.validation_jobsets
        );
    }
    let model = models::load(&s.model)?;
    Ok(match model.slots() {
        5 => {
            let (t, r) = extract_m::<5, { feature_count(5) }, 6>(&model, s, progress)?;
            (
                LoadedTree {
                    tree: AnyTree::Five(Box::new(t)),
                },
                r,
            )
        }
        10 => {
            let (t, r) = extract_m::<10, { feature_count(10) }, 11>(&model, s, progress)?;
            (
                LoadedTree {
                    tree: AnyTree::Ten(Box::new(t)),
                },
                r,
            )
        }
        other => bail!("model has {other} job slots; this build supports 5 and 10"),
    })
}

/// The adversarial job files in `dir`: every `*.json` but `campaign.json`, sorted by name.
///
/// # Errors
/// When `dir` cannot be read.
pub fn adversarial_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = whitebox_runtime::shipped::list_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .into_iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_name().is_some_and(|n| n != "campaign.json")
        })
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_against_sjf_shares_by_hand() {
        // 5 slots, void = 5: SJF's action twice, a wait where SJF starts once, another job once.
        let visit = |label, sjf| Visit {
            x: Vec::new(),
            label,
            sjf,
            weight: 1.0,
            contested: true,
            tree: None,
        };
        let v = [
            visit(2, true),
            visit(5, true),
            visit(5, false),
            visit(1, false),
        ];
        let refs: Vec<&Visit> = v.iter().collect();
        let s = NetworkVsSjf::of::<5>(&refs);
        assert_eq!(s.states, 4);
        assert_eq!((s.as_sjf, s.waits_instead, s.other_job), (0.5, 0.25, 0.25));
    }

    fn settings() -> ExtractSettings {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        ExtractSettings {
            model: root.join("fixtures/models/deeprm.model"),
            leaves: 8,
            rules: None,
            rule_texts: Vec::new(),
            seed: 3,
            iterations: 2,
            jobsets: 4,
            validation_jobsets: 2,
            heldout_jobsets: 2,
            adversarial: vec![root.join("fixtures/adversarial/default-deeprm-gap-seed1-1.json")],
            min_leaf: 2,
        }
    }

    #[test]
    fn extraction_is_reproducible_and_reports_fidelity() {
        let s = settings();
        let mut seen = 0;
        let (a, report) = extract(&s, &mut |_| seen += 1).expect("extract");
        assert_eq!(seen, 2);
        let (b, _) = extract(&s, &mut |_| {}).expect("extract again");
        assert_eq!(a.to_bytes(), b.to_bytes(), "same settings, same tree file");
        assert!(
            report.leaves <= 8 && report.leaves == a.size().1,
            "{report:?}"
        );
        assert_eq!(report.iterations[1].played_by, "tree");
        let h = report.heldout;
        assert!(h.decisions > 0 && h.same <= h.decisions && h.contested <= h.decisions);
        assert!((h.share - h.same as f64 / h.decisions as f64).abs() < 1e-12);
        assert_eq!(report.adversarial, report.adversarial_files[0].agreement);
    }

    #[test]
    fn fidelity_of_a_tree_file_is_what_its_extraction_reported() {
        let s = settings();
        let (tree, report) = extract(&s, &mut |_| {}).expect("extract");
        let path =
            std::env::temp_dir().join(format!("whitebox-fidelity-{}.tree", std::process::id()));
        std::fs::write(&path, tree.to_bytes()).expect("write tree");
        let f = fidelity(
            &s.model,
            &path,
            None,
            s.seed,
            s.heldout_jobsets,
            &s.adversarial,
        )
        .expect("fidelity");
        std::fs::remove_file(&path).ok();
        assert_eq!(f.heldout, report.heldout);
        assert_eq!(f.adversarial, report.adversarial);
        let e = fidelity(&s.model, &path, None, MAX_SEED + 1, 1, &[]).expect_err("seed");
        assert!(format!("{e:#}").contains("seed = 65536, must be at most 65535"));
    }

    #[test]
    fn settings_out_of_range_name_value_and_limit() {
        let e = |s: ExtractSettings| format!("{:#}", extract(&s, &mut |_| {}).expect_err("bad"));
        let msg = e(ExtractSettings {
            leaves: 0,
            ..settings()
        });
        assert!(msg.contains("leaves = 0, must be in 1..=128"), "{msg}");
        let msg = e(ExtractSettings {
            seed: 70_000,
            ..settings()
        });
        assert!(msg.contains("seed = 70000, must be at most 65535"), "{msg}");
        let msg = e(ExtractSettings {
            model: PathBuf::from("/nonexistent.model"),
            ..settings()
        });
        assert!(msg.contains("/nonexistent.model"), "{msg}");
    }
}
