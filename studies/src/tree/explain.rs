//! `whitebox explain` on a decision tree (`tree:PATH`): a tree decision is explained by its
//! path, the tests from the root to the leaf it reached, not by gradients.

use anyhow::{bail, Result};
use whitebox_core::tree::text::ActionText;
use whitebox_core::tree::{feature_count, Tree, TreePolicy};
use whitebox_core::{Action, EndMode, Episode, Job};
use whitebox_runtime::models::tree::{AnyTree, LoadedTree};

use super::path_text;

/// Decision `step` (0-based) of an episode on `jobs` that `tree` decides, or that plays the
/// recorded `actions` (output indices) before it: its time step, the path of tests to the
/// leaf, and the action taken (the leaf's, unless the mask removed it; with a trace, the
/// recorded one, which rules may have changed).
///
/// # Errors
/// Invalid jobs, a policy error, a recorded action out of range, or an episode that ends before
/// decision `step`.
pub fn explain_tree(
    tree: &LoadedTree,
    jobs: &[Job],
    end: EndMode,
    step: usize,
    actions: Option<&[usize]>,
) -> Result<String> {
    match &tree.tree {
        AnyTree::Five(t) => explain_m::<5, { feature_count(5) }, 6>(t, jobs, end, step, actions),
        AnyTree::Ten(t) => explain_m::<10, { feature_count(10) }, 11>(t, jobs, end, step, actions),
    }
}

fn explain_m<const M: usize, const I: usize, const O: usize>(
    tree: &Tree<M>,
    jobs: &[Job],
    end: EndMode,
    step: usize,
    actions: Option<&[usize]>,
) -> Result<String> {
    let mut episode: Episode<'_, M> = Episode::new(jobs, end, &mut ())?;
    let mut policy = TreePolicy::<'_, M, I, O>::new(tree, true);
    for k in 0..=step {
        if episode.is_done() {
            bail!("the episode ends after {k} decisions, before decision {step}");
        }
        let cluster = episode.cluster();
        policy.evaluate(cluster);
        let own = policy.greedy()?;
        let recorded = match actions.and_then(|a| a.get(k)) {
            Some(&a) => Some(Action::from_index(a, M).ok_or_else(|| {
                anyhow::anyhow!("recorded action {a} of decision {k} is past void ({M})")
            })?),
            None => None,
        };
        if k == step {
            let path = path_text::<M, I>(tree, cluster);
            let action = |a: Action| ActionText {
                action: a.index(M),
                slots: M,
            };
            let mut text = format!(
                "decision {step} at time step {}: {path}\ntree policy: {}",
                cluster.now(),
                action(own)
            );
            if let Some(r) = recorded {
                let same = if r == own {
                    ""
                } else {
                    " (changed by the trace's rules or guard)"
                };
                text.push_str(&format!("\nrecorded: {}{same}", action(r)));
            }
            text.push('\n');
            return Ok(text);
        }
        episode.step(recorded.unwrap_or(own), &mut ());
    }
    bail!("the episode ends before decision {step}")
}
