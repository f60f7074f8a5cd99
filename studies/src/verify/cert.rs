//! Certificates of proved queries: the branch-and-bound tree, with every split and, at every
//! leaf, what closes it. A checker rebuilds each node's region from the query's region and the
//! splits above it (so the leaves cover the region by construction) and re-derives each leaf.

use serde::Serialize;
use whitebox_core::verify::phase::{Line, Phase};

/// What a node was split on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SplitOn {
    /// Compact feature `index`: the children hold the values `..=at` and `at + 1..`.
    Feature {
        /// Compact input index.
        index: usize,
        /// Last value of the first child.
        at: u16,
    },
    /// Hidden unit `unit`: the first child fixes it [`Phase::Active`], the second
    /// [`Phase::Inactive`].
    Relu {
        /// Hidden unit.
        unit: usize,
    },
}

/// One node of the tree.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum CertNode {
    /// Split into the two children (indices into [`Certificate::nodes`]).
    Split {
        /// What was split.
        on: SplitOn,
        /// The children, in the order [`SplitOn`] gives.
        children: [usize; 2],
    },
    /// Closed by the bound of these lines (one per hidden unit) over the node's box and
    /// phases: `specs[spec] . logits >= lower`, with `lower >= 0` (`> 0` for a strict query).
    Bound {
        /// The alternative of the query's specifications that is bounded.
        spec: usize,
        /// The lines, shape `[H]`.
        lines: Vec<Line>,
        /// The bound the prover computed (the checker recomputes it).
        lower: f64,
    },
    /// The node's phases are impossible on its box (the unit named has no value in its phase).
    Infeasible {
        /// The unit.
        unit: usize,
    },
    /// The region is one point, where the network was evaluated and the property holds.
    Point,
    /// The region is one point that is no cluster state (a job's wait is not its first fit).
    NotAState,
    /// The consistency rules of [`super::Region::tighten`] leave nothing.
    Empty,
    /// Not closed: the branch budget ran out (only in certificates of unknown queries).
    Open,
}

/// The proof tree of one query.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Certificate {
    /// The query's name.
    pub query: String,
    /// Its position in [`super::property::Property::queries`] (or the property's own list).
    pub index: usize,
    /// The nodes; the root is node 0.
    pub nodes: Vec<CertNode>,
}

impl Certificate {
    /// Leaves closed by a bound.
    pub fn bound_leaves(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| matches!(n, CertNode::Bound { .. }))
            .count()
    }

    /// The phases along the path from the root to every node, shape `[nodes][H]`.
    pub fn phases<const H: usize>(&self) -> Vec<[Phase; H]> {
        let mut out = vec![[Phase::Free; H]; self.nodes.len()];
        for (n, node) in self.nodes.iter().enumerate() {
            if let CertNode::Split { on, children } = node {
                let base = out[n];
                for (k, &c) in children.iter().enumerate() {
                    let mut p = base;
                    if let SplitOn::Relu { unit } = on {
                        p[*unit] = if k == 0 {
                            Phase::Active
                        } else {
                            Phase::Inactive
                        };
                    }
                    out[c] = p;
                }
            }
        }
        out
    }
}
