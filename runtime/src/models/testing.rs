//! Fixtures shared by the tests of the runtime and the studies (not part of the API).

use whitebox_core::tree::{Node, Tree};

use super::tree::{AnyTree, LoadedTree};

/// The small tree `slot0.fit <= 0 ? start slot 0 : void` for `M` slots (feature 4 is
/// `slot0.fit`, the first time step from which slot 0's job fits; leaf `M` is void).
///
/// # Panics
/// Never for the slot counts of the shipped architectures (the tree is valid by construction).
pub fn fit_or_void<const M: usize>() -> Tree<M> {
    let nodes = [
        Node::Split {
            feature: 4,
            threshold: 0,
            left: 1,
            right: 2,
        },
        Node::Leaf { action: 0 },
        Node::Leaf {
            action: u16::try_from(M).unwrap_or(u16::MAX),
        },
    ];
    Tree::<M>::from_nodes(&nodes).expect("a valid tree")
}

/// [`fit_or_void`] for 10 slots as a loaded tree file.
pub fn fit_or_void_10() -> LoadedTree {
    LoadedTree {
        tree: AnyTree::Ten(Box::new(fit_or_void::<10>())),
    }
}
