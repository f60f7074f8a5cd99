//! Decision trees distilled from a policy network (`whitebox tree extract|show`, `docs/tree.md`).
//!
//! * [`extract`]: imitation with DAgger weighted by the logit gap (VIPER) on training job sets,
//!   the choice of iteration on validation job sets, and the tree's fidelity to the network on
//!   held-out job sets and adversarial job files.
//! * [`cart`]: the weighted CART the extraction fits.
//! * [`check`]: exhaustive leaf-by-leaf checks of a tree's properties and rules.
//! * [`closed_loop`]: the tree against its network and SJF on held-out job sets, with paired
//!   differences.
//! * [`explain`]: `whitebox explain` on a tree: one decision's path.
//! * [`usage`]: which feature groups the tree's decisions test, for comparison with the
//!   network's Shapley attributions.
//! * `ceiling` (tests only): how closely CART trees of a given size can imitate the network,
//!   with the shipped features and with richer ones (an experiment, `docs/tree.md`).
//! * [`path_text`]: one decision of a tree as the path of tests that led to it, for
//!   explanations.
//!
//! Why a CART of our own: `linfa-trees` (0.8) takes sample weights but has no leaf budget, and
//! it sums class weights in `HashMap` iteration order (random per map) in `f32` and breaks
//! ties between equal splits and equal classes in that order, so the same samples can give a
//! different tree on each run; the shipped tree must be reproducible from its command.
//! `smartcore` (0.4) has neither sample weights nor a leaf budget. The CART here is weighted,
//! grows best first to a leaf budget, sums in `f64` in a fixed order with fixed tie-breaks, and
//! places thresholds on feature values present in the data, which are exact integers.

pub mod cart;
#[cfg(test)]
mod ceiling;
pub mod check;
pub mod closed_loop;
pub mod explain;
pub mod extract;
pub mod usage;

use whitebox_core::tree::text::PathText;
use whitebox_core::tree::{operator_features, Tree};
use whitebox_core::Cluster;

/// The path of `tree`'s decision in `cluster`, as text:
/// `slot2.len <= 3 and res0.free_now > 4 -> start slot 2` (the leaf's action; the mask or a
/// rule may still replace it, see [`whitebox_core::tree`]). `I` is `feature_count(M)`.
pub fn path_text<const M: usize, const I: usize>(tree: &Tree<M>, cluster: &Cluster<M>) -> String {
    let mut x = [0i32; I];
    operator_features(cluster, &mut x);
    let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    PathText { tree, x: &x }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use whitebox_core::tree::feature_count;
    use whitebox_core::{Action, Job};

    #[test]
    fn path_text_of_a_cluster() {
        // slot0.fit <= 0 ? start slot 0 : void, on 5 slots.
        let tree = whitebox_runtime::models::testing::fit_or_void::<5>();
        let mut c: Cluster<5> = Cluster::new();
        c.submit(Job::new(0, 0, 4, [10, 1]).expect("job")).ok();
        c.submit(Job::new(1, 0, 2, [5, 1]).expect("job")).ok();
        let path = |c: &Cluster<5>| path_text::<5, { feature_count(5) }>(&tree, c);
        assert_eq!(path(&c), "slot0.fit <= 0 -> start slot 0");
        // Job 0 runs on all 10 units of resource 0 for 4 steps: job 1 (now in slot 1, slot 0
        // empty) cannot start now, and the empty slot 0 has the no-fit sentinel 20.
        c.step(Action::Schedule(0));
        assert_eq!(path(&c), "slot0.fit > 0 -> void");
    }
}
