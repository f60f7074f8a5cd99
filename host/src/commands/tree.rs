//! `whitebox tree extract|eval|fidelity|show|check`: distil a model into a decision tree, play
//! it in closed loop against its network and SJF, print or draw a tree file, and check every
//! leaf's properties and rules.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use whitebox_runtime::models::tree::{load_tree, save_tree, AnyTree, LoadedTree};
use whitebox_studies::plots::tree_picture;
use whitebox_studies::tree::check;
use whitebox_studies::tree::extract::{self, ExtractSettings, DEFAULT_LEAVES, MAX_SEED};

use crate::args::{usize_of, RuleArgs};

/// What to do with decision trees.
#[derive(Debug, Subcommand)]
pub enum TreeCommand {
    /// Distil a model into a decision tree over named operator features by imitation (DAgger
    /// weighted by the network's logit gap, as VIPER), write it, and print as JSON each
    /// iteration and the tree's agreement with the network on held-out job sets and on the
    /// adversarial job files (see docs/tree.md).
    Extract(ExtractArgs),
    /// Play the tree, its model and SJF on the same job sets of the model's training workload
    /// and rate (default: the demo's held-out ones) and print, as JSON, their mean slowdowns
    /// and the paired differences tree - network and tree - sjf with 95% intervals.
    Eval {
        /// The model the tree was extracted from.
        #[arg(long)]
        model: PathBuf,
        /// The tree file.
        #[arg(long)]
        tree: PathBuf,
        /// Job sets.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
        jobsets: u64,
        /// Base seed; job set k uses seed * 1000003 + k (default: the demo's held-out seeds).
        #[arg(long, default_value_t = whitebox_studies::demo::DEMO_SEED)]
        seed: u64,
        /// Rules every policy is projected onto.
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// How often the tree takes its network's action on the states the network visits, on
    /// held-out job sets (those `tree extract --seed S` measures on) and in adversarial job
    /// files; on the held-out states also which feature groups the tree's paths test and how
    /// often the network takes SJF's action, waits instead or starts another job; printed as
    /// JSON.
    Fidelity {
        /// The model the tree was extracted from.
        #[arg(long)]
        model: PathBuf,
        /// The tree file.
        #[arg(long)]
        tree: PathBuf,
        /// Held-out job sets of the model's training workload and rate.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
        jobsets: u64,
        /// Extraction seed whose held-out job sets are used (job set k: 5 * 2^40 + seed * 2^24
        /// + k).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=MAX_SEED))]
        seed: u64,
        /// Directory of adversarial job files (every *.json but campaign.json), or an empty
        /// string for none.
        #[arg(long, default_value = "fixtures/adversarial")]
        adversarial: PathBuf,
        /// Rules the network's and the tree's decisions are projected onto.
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Print a tree file as indented text with feature names, after its size; optionally draw
    /// it (one row per depth, a box per node, edges labelled yes/no).
    Show {
        /// The tree file.
        tree: PathBuf,
        /// Also draw the tree as SVG to this file.
        #[arg(long, value_name = "OUT.svg")]
        svg: Option<PathBuf>,
        /// Also draw the tree as PNG to this file.
        #[arg(long, value_name = "OUT.png")]
        png: Option<PathBuf>,
    },
    /// Decide, leaf by leaf and exactly over the operator features, whether each leaf can idle
    /// while the cluster is idle and a job fits now (no-idle), the one-decision properties of
    /// `whitebox verify` (starts-within:1, shorter-first), and whether its action can break
    /// each --rule; print holds / violated (with a witness) / unknown (with why) per leaf (see
    /// docs/tree.md, "Exhaustive checks").
    Check {
        /// The tree file.
        #[arg(long)]
        tree: PathBuf,
        /// A rule to check every leaf against, repeatable (as for eval: util<=0.8,
        /// work-conserving, no-reservation, shorter-first, wait<=K; work-conserving,
        /// shorter-first and wait<=K take the tightest util<= cap given).
        #[arg(long = "rule", value_name = "RULE")]
        rules: Vec<String>,
        /// Print the report as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `whitebox tree extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// The model file to imitate.
    #[arg(long)]
    pub model: PathBuf,
    /// Most leaves of the tree, 1 to 128.
    #[arg(long, default_value_t = DEFAULT_LEAVES as u64,
          value_parser = clap::value_parser!(u64).range(1..=128))]
    pub leaves: u64,
    /// Extraction seed (0 to 65535): picks the training, validation and held-out job sets,
    /// all disjoint from those of train, eval and the demo.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=MAX_SEED))]
    pub seed: u64,
    /// DAgger iterations; iteration 0 follows the network, the others the last tree.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u64).range(1..))]
    pub iterations: u64,
    /// Training job sets per iteration (the model's training workload and rate).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobsets: u64,
    /// Validation job sets, on which the iteration with the lowest mean slowdown is kept.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub validation_jobsets: u64,
    /// Held-out job sets on which fidelity is measured.
    #[arg(long, default_value_t = 100)]
    pub heldout_jobsets: u64,
    /// Directory of adversarial job files (every *.json but campaign.json); fidelity is also
    /// reported on the states the network visits in them.
    #[arg(long, default_value = "fixtures/adversarial")]
    pub adversarial: PathBuf,
    /// Fewest training states in a leaf.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub min_leaf: u64,
    /// Rules the network's labels and the tree's play are projected onto.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// The tree file to write.
    #[arg(long)]
    pub out: PathBuf,
}

/// Checks that `--model` and `--tree` exist (a shipped model is built in), naming the flag.
fn inputs(model: &std::path::Path, tree: &std::path::Path) -> Result<()> {
    if !whitebox_runtime::shipped::available(model) {
        anyhow::bail!("--model {}: no such model file", model.display());
    }
    if !whitebox_runtime::shipped::available(tree) {
        anyhow::bail!("--tree {}: no such tree file", tree.display());
    }
    Ok(())
}

/// Draws `tree` to `out` as PNG or SVG.
fn draw(tree: &LoadedTree, out: &std::path::Path, png: bool) -> Result<()> {
    let flag = if png { "--png" } else { "--svg" };
    match &tree.tree {
        AnyTree::Five(t) => tree_picture(out, t.nodes(), 5, png),
        AnyTree::Ten(t) => tree_picture(out, t.nodes(), 10, png),
    }
    .with_context(|| flag.to_string())
}

/// Runs a `tree` subcommand; returns what to print on stdout.
///
/// # Errors
/// Invalid flags, unreadable or invalid files (the message names the file and what is wrong).
pub fn run(cmd: &TreeCommand) -> Result<String> {
    match cmd {
        TreeCommand::Show { tree, svg, png } => {
            let t = load_tree(tree)?;
            for (out, is_png) in [(svg, false), (png, true)] {
                if let Some(out) = out {
                    draw(&t, out, is_png)?;
                    eprintln!("wrote {}", out.display());
                }
            }
            let (nodes, leaves, depth) = t.size();
            Ok(format!(
                "# {}: {} job slots, {nodes} nodes, {leaves} leaves, depth {depth}\n{}",
                tree.display(),
                t.slots(),
                t.text()
            ))
        }
        TreeCommand::Check { tree, rules, json } => {
            let t = load_tree(tree)?;
            let projection =
                whitebox_runtime::rules::projection(rules, f32::INFINITY).context("--rule")?;
            let rules: Vec<_> = projection
                .iter()
                .flat_map(|p| p.rules().iter().map(|(r, _)| *r))
                .collect();
            let report = check::check(&t, &rules);
            if *json {
                Ok(serde_json::to_string_pretty(&report)? + "\n")
            } else {
                Ok(check::render(&report))
            }
        }
        TreeCommand::Eval {
            model,
            tree,
            jobsets,
            seed,
            rules,
        } => {
            inputs(model, tree)?;
            let report = whitebox_studies::tree::closed_loop::closed_loop(
                model,
                tree,
                usize_of(*jobsets, "--jobsets")?,
                *seed,
                rules.projection()?,
                rules.rules.clone(),
            )?;
            Ok(serde_json::to_string_pretty(&report)? + "\n")
        }
        TreeCommand::Fidelity {
            model,
            tree,
            jobsets,
            seed,
            adversarial,
            rules,
        } => {
            inputs(model, tree)?;
            let files = if adversarial.as_os_str().is_empty() {
                Vec::new()
            } else {
                extract::adversarial_files(adversarial).context("--adversarial")?
            };
            let f = extract::fidelity(
                model,
                tree,
                rules.projection()?.as_ref(),
                *seed,
                usize_of(*jobsets, "--jobsets")?,
                &files,
            )?;
            Ok(serde_json::to_string_pretty(&f)? + "\n")
        }
        TreeCommand::Extract(a) => {
            let adversarial = if a.adversarial.as_os_str().is_empty() {
                Vec::new()
            } else {
                extract::adversarial_files(&a.adversarial).context("--adversarial")?
            };
            let settings = ExtractSettings {
                model: a.model.clone(),
                leaves: usize_of(a.leaves, "--leaves")?,
                rules: a.rules.projection()?,
                rule_texts: a.rules.rules.clone(),
                seed: a.seed,
                iterations: usize_of(a.iterations, "--iterations")?,
                jobsets: usize_of(a.jobsets, "--jobsets")?,
                validation_jobsets: usize_of(a.validation_jobsets, "--validation-jobsets")?,
                heldout_jobsets: usize_of(a.heldout_jobsets, "--heldout-jobsets")?,
                adversarial,
                min_leaf: usize_of(a.min_leaf, "--min-leaf")?,
            };
            let (tree, report) = extract::extract(&settings, &mut |it| {
                eprintln!(
                    "iteration {} ({} played): {} samples, {} leaves, weighted train agreement \
                     {:.4}, validation mean slowdown {:.4}",
                    it.iteration,
                    it.played_by,
                    it.samples,
                    it.leaves,
                    it.weighted_train_agreement,
                    it.validation_slowdown
                );
            })?;
            save_tree(&a.out, &tree)?;
            eprintln!("wrote {}", a.out.display());
            Ok(serde_json::to_string_pretty(&report)? + "\n")
        }
    }
}
