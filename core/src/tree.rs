//! A decision-tree policy: a fixed-capacity binary tree over the operator features
//! ([`features`]), run by the one generic [`Policy`] with the same liveness mask, rule
//! projection and guard as the networks.
//!
//! A [`Tree`] holds at most [`MAX_NODES`] nodes in a bounded array; node 0 is the root. An
//! internal node tests one feature against an integer threshold (`x <= t` goes left), a leaf
//! names an action (slot `i`, or void as index `M`) or, as index `M + 1` ([`sjf_leaf`]), SJF's
//! choice: the shortest job that fits now, or void when none does. A leaf that names a rule
//! over the slots instead of one slot lets a few leaves say what would take one leaf per slot. The features are whole numbers and the
//! thresholds integers, so the comparison is exact on every target and no threshold can be NaN.
//!
//! As a [`Network`] the tree turns its leaf into per-action scores ([`crate::rank_logits`]):
//! the leaf's action first, then the other actions in SJF's order (jobs that fit now, shortest
//! first; void; jobs that fit later; the rest), computed from the same features. When the mask
//! forbids the leaf's action, or a rule projection removes it, the decision is therefore the
//! best remaining action in SJF's order, never an arbitrary one.
//!
//! Submodules: [`features`] (the named operator features), [`file`] (the versioned, checksummed
//! tree file and every [`TreeError`]), [`text`] (the tree and a decision's path as text).

pub mod features;
pub mod file;
pub mod text;

use crate::cluster::Cluster;
use crate::network::Network;
use crate::policy::{slot_allowed, void_allowed, Policy};
use crate::scheduler::rank_logits;
pub use features::{feature_count, operator_features, Feature, Operator, NO_FIT};
pub use file::TreeError;

/// The leaf action index of SJF's choice for `m` slots: `m + 1`, one past void.
pub const fn sjf_leaf(m: usize) -> usize {
    m + 1
}

/// Most nodes a tree holds (node indices are `u8`).
pub const MAX_NODES: usize = 255;
/// Deepest leaf allowed, in splits from the root.
pub const MAX_DEPTH: usize = 32;

/// One node of a [`Tree`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// `feature <= threshold` goes to `left`, otherwise to `right` (node indices).
    Split {
        /// Feature index ([`Feature::index`]).
        feature: u16,
        /// Integer threshold.
        threshold: i32,
        /// Node taken when the feature is at most the threshold.
        left: u8,
        /// Node taken otherwise.
        right: u8,
    },
    /// Decide action `action` (`0..M` a slot, `M` void, `M + 1` SJF's choice).
    Leaf {
        /// Network output index of the action.
        action: u16,
    },
}

/// A validated decision tree for `M` job slots: every feature and action in range, every node
/// reached from the root exactly once, no leaf deeper than [`MAX_DEPTH`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tree<const M: usize> {
    nodes: [Node; MAX_NODES],
    len: usize,
}

/// Where a tree decision ended: the leaf reached (the tree's work buffer as a [`Network`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reached {
    /// Index of the leaf node.
    pub leaf: u8,
    /// Splits on the way from the root.
    pub depth: u8,
}

impl<const M: usize> Tree<M> {
    /// The tree made of `nodes` (node 0 is the root), after every structural check of
    /// [`file::load`].
    ///
    /// # Errors
    /// [`TreeError::NodeCount`], [`TreeError::UnknownFeature`], [`TreeError::ActionOutOfRange`],
    /// [`TreeError::BadNodeIndex`], [`TreeError::Cycle`], [`TreeError::SharedNode`],
    /// [`TreeError::Unreachable`], [`TreeError::DepthOverLimit`].
    pub fn from_nodes(nodes: &[Node]) -> Result<Tree<M>, TreeError> {
        if nodes.is_empty() || nodes.len() > MAX_NODES {
            return Err(TreeError::NodeCount {
                found: nodes.len(),
                max: MAX_NODES,
            });
        }
        let mut tree = Tree {
            nodes: [Node::Leaf { action: 0 }; MAX_NODES],
            len: nodes.len(),
        };
        for (dst, src) in tree.nodes.iter_mut().zip(nodes) {
            *dst = *src;
        }
        tree.validate()?;
        Ok(tree)
    }

    /// The nodes, root first.
    pub fn nodes(&self) -> &[Node] {
        self.nodes.get(..self.len).unwrap_or(&[])
    }

    /// Number of leaves.
    pub fn leaves(&self) -> usize {
        self.nodes()
            .iter()
            .filter(|n| matches!(n, Node::Leaf { .. }))
            .count()
    }

    /// Depth of the deepest leaf, in splits.
    pub fn depth(&self) -> usize {
        let mut parent = [None; MAX_NODES];
        self.parents(&mut parent).ok();
        (0..self.len)
            .map(|k| {
                let (mut cur, mut depth) = (k, 0);
                // A validated tree reaches the root within MAX_DEPTH steps.
                while let (Some(Some(p)), true) = (parent.get(cur), depth <= MAX_DEPTH) {
                    cur = usize::from(*p);
                    depth += 1;
                }
                depth
            })
            .max()
            .unwrap_or(0)
    }

    fn node(&self, k: usize) -> Node {
        self.nodes()
            .get(k)
            .copied()
            .unwrap_or(Node::Leaf { action: 0 })
    }

    /// Each node's parent; errors for an out-of-range child or a node with two parents.
    fn parents(&self, parent: &mut [Option<u8>; MAX_NODES]) -> Result<(), TreeError> {
        for (k, node) in self.nodes().iter().enumerate() {
            let Node::Split { left, right, .. } = *node else {
                continue;
            };
            for child in [left, right] {
                let c = usize::from(child);
                if c >= self.len {
                    return Err(TreeError::BadNodeIndex {
                        node: k,
                        child,
                        nodes: self.len,
                    });
                }
                if c == 0 {
                    // An edge back to the root closes a cycle through it.
                    return Err(TreeError::Cycle { node: 0 });
                }
                match parent.get_mut(c) {
                    Some(p @ None) => *p = u8::try_from(k).ok(),
                    _ => return Err(TreeError::SharedNode { node: c }),
                }
            }
        }
        Ok(())
    }

    /// Checks features, actions, child indices and the shape: every node reached from the root
    /// exactly once, within [`MAX_DEPTH`] splits.
    fn validate(&self) -> Result<(), TreeError> {
        let features = feature_count(M);
        for (k, node) in self.nodes().iter().enumerate() {
            match *node {
                Node::Split { feature, .. } if usize::from(feature) >= features => {
                    return Err(TreeError::UnknownFeature {
                        node: k,
                        feature,
                        features,
                    })
                }
                Node::Leaf { action } if usize::from(action) > sjf_leaf(M) => {
                    return Err(TreeError::ActionOutOfRange {
                        node: k,
                        action,
                        actions: sjf_leaf(M) + 1,
                    })
                }
                _ => {}
            }
        }
        let mut parent = [None; MAX_NODES];
        self.parents(&mut parent)?;
        // Walking up from each node must reach the root: a chain that ends at another node
        // without a parent is unreachable, one longer than the node count goes round a cycle.
        for k in 1..self.len {
            let mut cur = k;
            let mut depth = 0;
            while cur != 0 {
                match parent.get(cur).copied().flatten() {
                    None => return Err(TreeError::Unreachable { node: cur }),
                    Some(p) => cur = usize::from(p),
                }
                depth += 1;
                if depth > self.len {
                    return Err(TreeError::Cycle { node: k });
                }
            }
            if depth > MAX_DEPTH {
                return Err(TreeError::DepthOverLimit {
                    node: k,
                    depth,
                    max: MAX_DEPTH,
                });
            }
        }
        Ok(())
    }

    /// The leaf that features `x` (shape `[feature_count(M)]`) reach, and the way there: calls
    /// `step(node, feature, threshold, went_left)` at each split.
    pub fn walk(&self, x: &[f32], step: impl FnMut(usize, Feature, i32, bool)) -> Reached {
        // Features and thresholds are exact in f64, so the walk's test is the integer test
        // (NaN and a missing feature go right).
        self.walk_by(
            |i, t| x.get(i).is_some_and(|&v| f64::from(v) <= f64::from(t)),
            step,
        )
    }

    /// [`Tree::walk`] over the features of `cluster`, each computed when a split tests it
    /// ([`features::index_at_most`]): the same leaf, at most the depth's features.
    pub fn walk_cluster<const S: usize>(
        &self,
        cluster: &Cluster<S>,
        step: impl FnMut(usize, Feature, i32, bool),
    ) -> Reached {
        // Integer tests: on a core without a double-precision FPU each f64 conversion and
        // comparison would be a library call.
        self.walk_by(|i, t| features::index_at_most(cluster, M, i, t), step)
    }

    /// The walk with `at_most(i, t)`, whether feature `i` is at most `t`, as each split's test.
    fn walk_by(
        &self,
        mut at_most: impl FnMut(usize, i32) -> bool,
        mut step: impl FnMut(usize, Feature, i32, bool),
    ) -> Reached {
        let mut k = 0;
        for depth in 0..=MAX_DEPTH {
            match self.node(k) {
                Node::Leaf { .. } => {
                    return Reached {
                        leaf: u8::try_from(k).unwrap_or(0),
                        depth: u8::try_from(depth).unwrap_or(u8::MAX),
                    }
                }
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    let i = usize::from(feature);
                    let go_left = at_most(i, threshold);
                    if let Some(f) = Feature::from_index(i, M) {
                        step(k, f, threshold, go_left);
                    }
                    k = usize::from(if go_left { left } else { right });
                }
            }
        }
        // Unreachable for a validated tree (every leaf within MAX_DEPTH).
        Reached::default()
    }

    /// The action of leaf `leaf` as a network output index (`M` is void).
    pub fn leaf_action(&self, leaf: u8) -> usize {
        match self.node(usize::from(leaf)) {
            Node::Leaf { action } => usize::from(action),
            Node::Split { .. } => M,
        }
    }
}

/// The preference order behind a leaf: `first`, then SJF's order read from the features `x`
/// (jobs that fit now by length, shortest first; void; jobs that fit later; empty slots and jobs
/// that fit nowhere), lowest slot first on ties. Writes action indices into `order`, best first.
fn sjf_order<const M: usize, const O: usize>(first: usize, x: &[f32], order: &mut [usize; O]) {
    let slot = |k: usize, kind| {
        let i = Feature::Slot {
            slot: u8::try_from(k).unwrap_or(u8::MAX),
            kind,
        }
        .index(M);
        x.get(i).copied().unwrap_or(0.0)
    };
    // (class, length) per action; index breaks ties.
    let key = |k: usize| -> (u8, f32) {
        if k == first {
            return (0, 0.0);
        }
        if k >= M {
            return (2, 0.0);
        }
        let fit = slot(k, features::SlotFeature::Fit);
        if fit == 0.0 {
            (1, slot(k, features::SlotFeature::Len))
        } else if fit < NO_FIT as f32 {
            (3, 0.0)
        } else {
            (4, 0.0)
        }
    };
    // Each action's key once (O of them), not once per comparison (2 O^2): on a Cortex-M4F
    // the repeated feature lookups were most of a tree decision's cost.
    let mut keys = [(0u8, 0.0f32); O];
    for (k, slot_key) in keys.iter_mut().enumerate() {
        *slot_key = key(k);
    }
    // Counting places instead of sorting keeps this free of panicking paths.
    for (k, &(ck, lk)) in keys.iter().enumerate() {
        let place = keys
            .iter()
            .enumerate()
            .filter(|&(j, &(cj, lj))| cj.cmp(&ck).then(lj.total_cmp(&lk)).then(j.cmp(&k)).is_lt())
            .count();
        if let Some(o) = order.get_mut(place) {
            *o = k;
        }
    }
}

/// SJF's choice in `cluster`: the shortest job that fits now, lowest slot on ties (the head of
/// [`sjf_order`] with no action put first), else void (`S`).
fn sjf_choice<const S: usize>(cluster: &Cluster<S>) -> usize {
    let mut best: Option<(u8, usize)> = None;
    for (k, job) in cluster.slots().iter().enumerate() {
        if let Some(job) = job {
            // Only a strictly shorter job can win, so longer ones need no fit test.
            if best.is_none_or(|(len, _)| job.len < len) && cluster.fits_by(job, 0) {
                best = Some((job.len, k));
            }
        }
    }
    best.map_or(S, |(_, k)| k)
}

/// The tree as a network over the operator features: `f32` logits from [`rank_logits`] (the
/// leaf's action 0, the others `-(64 + k)` in [`sjf_order`]), the leaf reached as work buffer.
impl<const M: usize, const I: usize, const O: usize> Network<I, O> for Tree<M> {
    type Logit = f32;
    type Scratch = Reached;

    fn scratch(&self) -> Reached {
        Reached::default()
    }

    fn forward(&self, x: &[f32; I], reached: &mut Reached, logits: &mut [f32; O]) {
        const {
            assert!(
                I == feature_count(M) && O == M + 1,
                "a tree reads the operator features and scores M + 1 actions"
            )
        };
        *reached = self.walk(x, |_, _, _, _| {});
        let mut order = [0usize; O];
        // SJF's choice is the head of SJF's order with no leaf action put first.
        let first = self.leaf_action(reached.leaf);
        sjf_order::<M, O>(
            if first == sjf_leaf(M) {
                usize::MAX
            } else {
                first
            },
            x,
            &mut order,
        );
        rank_logits(&order, logits);
    }

    fn real_logit(&self, logit: f32) -> f32 {
        logit
    }

    /// The leaf's action unless the mask forbids it, else the best allowed action in SJF's
    /// order, which is always SJF's choice ([`sjf_choice`]): a forbidden slot neither fits now
    /// nor outranks it; void is forbidden only on an idle cluster where a job fits now, so SJF's
    /// choice is then a job; and with nothing that fits now void is allowed and heads the rest.
    /// Reads only the features the path tests, the leaf's slot and, for a void or `sjf` leaf,
    /// the jobs that fit now.
    fn decide_direct<const S: usize>(
        &self,
        cluster: &Cluster<S>,
        mask_invalid: bool,
    ) -> Option<usize> {
        if S != M {
            return None;
        }
        let action = self.leaf_action(self.walk_cluster(cluster, |_, _, _, _| {}).leaf);
        let allowed = if action == sjf_leaf(M) {
            false
        } else if !mask_invalid {
            true
        } else if action < M {
            slot_allowed(cluster, action)
        } else {
            void_allowed(cluster)
        };
        Some(if allowed { action } else { sjf_choice(cluster) })
    }
}

/// A decision-tree policy for `M` job slots: the generic [`Policy`] over the [`Operator`]
/// features (`I = feature_count(M)`) and a [`Tree`], with `O = M + 1` outputs.
pub type TreePolicy<'t, const M: usize, const I: usize, const O: usize> =
    Policy<'t, Operator, Tree<M>, M, I, O>;

#[cfg(test)]
mod tests;
