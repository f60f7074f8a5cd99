//! A tree and a tree decision as text, written through `core::fmt` without allocation:
//!
//! * [`TreeText`]: the whole tree, one line per node, indented by depth:
//!   ```text
//!   if slot0.fit <= 0:
//!     -> start slot 0
//!   else:
//!     -> void
//!   ```
//! * [`PathText`]: the path of one decision, its tests joined by `and`:
//!   `slot2.len <= 3 and res0.free_now > 4 -> start slot 2`.

use core::fmt;

use crate::tree::{Feature, Node, Tree, MAX_NODES};

/// An action index as text: `start slot i`, `void` for `M`, `sjf (...)` for `M + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionText {
    /// Network output index.
    pub action: usize,
    /// Job slots `M`.
    pub slots: usize,
}

impl fmt::Display for ActionText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.action < self.slots {
            write!(f, "start slot {}", self.action)
        } else if self.action == self.slots {
            f.write_str("void")
        } else {
            f.write_str("sjf (start the shortest job that fits now, else void)")
        }
    }
}

/// The whole tree as indented text (see the module docs).
#[derive(Clone, Copy, Debug)]
pub struct TreeText<'t, const M: usize>(pub &'t Tree<M>);

/// What is left to print: a node at a depth, or the `else:` between a split's branches.
#[derive(Clone, Copy)]
enum Item {
    Node(usize, usize),
    Else(usize),
}

impl<const M: usize> fmt::Display for TreeText<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Depth first with an explicit stack: each node is pushed once and each split adds at
        // most three items for the one it removes, so 2 * MAX_NODES + 1 entries suffice.
        let mut stack: heapless::Vec<Item, { 2 * MAX_NODES + 1 }> = heapless::Vec::new();
        stack.push(Item::Node(0, 0)).ok();
        while let Some(item) = stack.pop() {
            let (k, depth) = match item {
                Item::Else(depth) => {
                    writeln!(f, "{:indent$}else:", "", indent = 2 * depth)?;
                    continue;
                }
                Item::Node(k, depth) => (k, depth),
            };
            let indent = 2 * depth;
            match self.0.nodes().get(k) {
                Some(Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                }) => {
                    let name = Feature::from_index(usize::from(*feature), M);
                    match name {
                        Some(name) => writeln!(f, "{:indent$}if {name} <= {threshold}:", "")?,
                        None => writeln!(f, "{:indent$}if x{feature} <= {threshold}:", "")?,
                    }
                    stack.push(Item::Node(usize::from(*right), depth + 1)).ok();
                    stack.push(Item::Else(depth)).ok();
                    stack.push(Item::Node(usize::from(*left), depth + 1)).ok();
                }
                Some(Node::Leaf { action }) => {
                    let action = ActionText {
                        action: usize::from(*action),
                        slots: M,
                    };
                    writeln!(f, "{:indent$}-> {action}", "")?;
                }
                None => {}
            }
        }
        Ok(())
    }
}

/// The path of one decision: the tests on the way from the root to the leaf that the features
/// `x` (shape `[feature_count(M)]`) reach, and the leaf's action.
#[derive(Clone, Copy, Debug)]
pub struct PathText<'t, 'x, const M: usize> {
    /// The tree.
    pub tree: &'t Tree<M>,
    /// The operator features of the state.
    pub x: &'x [f32],
}

impl<const M: usize> fmt::Display for PathText<'_, '_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut result = Ok(());
        let mut first = true;
        let reached = self.tree.walk(self.x, |_, feature, threshold, left| {
            let sep = if first { "" } else { " and " };
            first = false;
            let op = if left { "<=" } else { ">" };
            result = result.and_then(|()| write!(f, "{sep}{feature} {op} {threshold}"));
        });
        result?;
        let action = ActionText {
            action: self.tree.leaf_action(reached.leaf),
            slots: M,
        };
        if first {
            write!(f, "-> {action}")
        } else {
            write!(f, " -> {action}")
        }
    }
}
