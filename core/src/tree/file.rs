//! The versioned, checksummed tree file, read and written byte by byte without allocation.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `WBXTREE\0` |
//! | 2 | format version (`u16`, currently [`FORMAT_VERSION`]) |
//! | 5 | the cluster the tree decides for: resources, units per resource, horizon, job slots `M`, backlog (`u8` each, as [`ClusterSpec`]) |
//! | 2 | node count `n` (`u16`, `1..=255`) |
//! | `9 n` | the nodes, root first: kind (`u8`: 0 split, 1 leaf), then for a split the feature index (`u16`), left and right child (`u8` each), threshold (`i32`); for a leaf the action (`u16`, `M` is void, `M + 1` SJF's choice) and six zero bytes |
//! | 4 | CRC-32 (ISO-HDLC, as zlib) of every byte before it |
//!
//! Loading checks, in order: length, magic, version, cluster, node count, exact total length,
//! CRC, then each node's kind, reserved bytes, feature and action, then the shape (child
//! indices, cycles, nodes with two parents or none, depth). Each failure is its own
//! [`TreeError`] naming what was found and the limit. Thresholds are integers, so there is no
//! NaN threshold to refuse.

use core::fmt;

use crate::framing::{self, FramingError, CRC_LEN, PREFIX_LEN};
use crate::model::{spec_mismatch, SpecField};
use crate::spec::ClusterSpec;
use crate::tree::{Node, Tree, MAX_NODES};

/// File magic.
pub const MAGIC: [u8; 8] = *b"WBXTREE\0";
/// The format version this build reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes of one node.
pub const NODE_LEN: usize = 9;
/// Bytes before the nodes: magic, version, cluster, node count.
const HEAD_LEN: usize = PREFIX_LEN + 5 + 2;
const KIND_SPLIT: u8 = 0;
const KIND_LEAF: u8 = 1;

/// Size in bytes of the file of a tree with `nodes` nodes.
pub const fn file_len(nodes: usize) -> usize {
    HEAD_LEN + NODE_LEN * nodes + CRC_LEN
}

/// Why a tree file or a list of nodes was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeError {
    /// The shared file framing (length, magic `WBXTREE\0`, version, CRC) is wrong. Shown as
    /// `tree file: ` and the [`FramingError`]'s message (field, value and limit), so printing
    /// this error alone loses nothing.
    Framing(FramingError),
    /// The tree was made for another cluster.
    SpecMismatch {
        /// Which field.
        field: SpecField,
        /// Value in the file.
        found: u8,
        /// Value expected.
        expected: u8,
    },
    /// No nodes, or more than the capacity.
    NodeCount {
        /// Nodes in the file.
        found: usize,
        /// Capacity, [`MAX_NODES`].
        max: usize,
    },
    /// A node kind other than 0 (split) or 1 (leaf).
    BadNodeKind {
        /// Node index.
        node: usize,
        /// Kind byte found.
        kind: u8,
    },
    /// A leaf's unused bytes are not zero.
    ReservedNotZero {
        /// Node index.
        node: usize,
    },
    /// A split tests a feature index that does not exist for this slot count.
    UnknownFeature {
        /// Node index.
        node: usize,
        /// Feature index found.
        feature: u16,
        /// Number of features (valid indices are below it).
        features: usize,
    },
    /// A leaf names an action past SJF's choice (`M + 1`).
    ActionOutOfRange {
        /// Node index.
        node: usize,
        /// Action found.
        action: u16,
        /// Number of leaf actions, `M + 2` (valid actions are below it).
        actions: usize,
    },
    /// A split's child index is not a node of the tree.
    BadNodeIndex {
        /// Node index of the split.
        node: usize,
        /// Child index found.
        child: u8,
        /// Number of nodes (valid indices are below it).
        nodes: usize,
    },
    /// Following children from this node comes back to it (or to the root).
    Cycle {
        /// A node on the cycle.
        node: usize,
    },
    /// Two splits name this node as a child.
    SharedNode {
        /// Node index.
        node: usize,
    },
    /// No path from the root reaches this node.
    Unreachable {
        /// Node index.
        node: usize,
    },
    /// This node is deeper than the limit.
    DepthOverLimit {
        /// Node index.
        node: usize,
        /// Its depth, in splits from the root.
        depth: usize,
        /// The deepest allowed, [`crate::tree::MAX_DEPTH`].
        max: usize,
    },
    /// The output buffer is too small to write the tree.
    BufferTooSmall {
        /// Bytes available.
        available: usize,
        /// Bytes needed.
        needed: usize,
    },
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeError::Framing(e) => write!(f, "tree file: {e}"),
            TreeError::SpecMismatch {
                field,
                found,
                expected,
            } => write!(
                f,
                "tree made for cluster {field:?} = {found}, this cluster has {expected}"
            ),
            TreeError::NodeCount { found, max } => {
                write!(f, "tree node count = {found}, must be in 1..={max}")
            }
            TreeError::BadNodeKind { node, kind } => write!(
                f,
                "tree node {node}: kind = {kind}, must be 0 (split) or 1 (leaf)"
            ),
            TreeError::ReservedNotZero { node } => {
                write!(f, "tree node {node}: a leaf's reserved bytes must be zero")
            }
            TreeError::UnknownFeature {
                node,
                feature,
                features,
            } => write!(
                f,
                "tree node {node}: feature = {feature}, must be below {features}"
            ),
            TreeError::ActionOutOfRange {
                node,
                action,
                actions,
            } => write!(
                f,
                "tree node {node}: action = {action}, must be below {actions}"
            ),
            TreeError::BadNodeIndex { node, child, nodes } => write!(
                f,
                "tree node {node}: child = {child}, must be below the node count {nodes}"
            ),
            TreeError::Cycle { node } => write!(f, "tree has a cycle through node {node}"),
            TreeError::SharedNode { node } => {
                write!(f, "tree node {node} is the child of two splits")
            }
            TreeError::Unreachable { node } => {
                write!(f, "tree node {node} cannot be reached from the root")
            }
            TreeError::DepthOverLimit { node, depth, max } => write!(
                f,
                "tree node {node}: depth = {depth}, must be at most {max}"
            ),
            TreeError::BufferTooSmall { available, needed } => write!(
                f,
                "output buffer of {available} bytes is too small for the tree ({needed} bytes)"
            ),
        }
    }
}

// The framing error's message is part of this one's (see `Framing`), so it is not repeated as
// a source.
impl core::error::Error for TreeError {}

impl From<FramingError> for TreeError {
    fn from(e: FramingError) -> Self {
        TreeError::Framing(e)
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([byte(bytes, at), byte(bytes, at + 1)])
}

fn byte(bytes: &[u8], at: usize) -> u8 {
    bytes.get(at).copied().unwrap_or(0)
}

/// Writes `tree` into `buf` and returns the number of bytes used.
///
/// # Errors
/// [`TreeError::BufferTooSmall`] when `buf` is shorter than [`file_len`] of the tree.
pub fn save<const M: usize>(tree: &Tree<M>, buf: &mut [u8]) -> Result<usize, TreeError> {
    let nodes = tree.nodes();
    let needed = file_len(nodes.len());
    let available = buf.len();
    let out = buf
        .get_mut(..needed)
        .ok_or(TreeError::BufferTooSmall { available, needed })?;
    let spec = ClusterSpec::with_slots(u8::try_from(M).unwrap_or(u8::MAX));
    let count = u16::try_from(nodes.len()).unwrap_or(u16::MAX).to_le_bytes();
    let head = MAGIC
        .into_iter()
        .chain(FORMAT_VERSION.to_le_bytes())
        .chain([
            spec.num_res,
            spec.res_units,
            spec.horizon,
            spec.slots,
            spec.backlog,
        ])
        .chain(count);
    let mut at = 0;
    for b in head {
        if let Some(o) = out.get_mut(at) {
            *o = b;
        }
        at += 1;
    }
    for node in nodes {
        let mut rec = [0u8; NODE_LEN];
        match *node {
            Node::Split {
                feature,
                threshold,
                left,
                right,
            } => {
                rec[0] = KIND_SPLIT;
                rec[1..3].copy_from_slice(&feature.to_le_bytes());
                rec[3] = left;
                rec[4] = right;
                rec[5..9].copy_from_slice(&threshold.to_le_bytes());
            }
            Node::Leaf { action } => {
                rec[0] = KIND_LEAF;
                rec[1..3].copy_from_slice(&action.to_le_bytes());
            }
        }
        if let Some(o) = out.get_mut(at..at + NODE_LEN) {
            o.copy_from_slice(&rec);
        }
        at += NODE_LEN;
    }
    framing::seal(out, at).ok_or(TreeError::BufferTooSmall { available, needed })
}

/// Reads a tree file for a cluster with `M` job slots (see the module docs for the checks).
///
/// # Errors
/// Every [`TreeError`] but [`TreeError::BufferTooSmall`].
pub fn load<const M: usize>(bytes: &[u8]) -> Result<Tree<M>, TreeError> {
    framing::check_prefix(bytes, MAGIC, (FORMAT_VERSION, FORMAT_VERSION), HEAD_LEN)?;
    let found = ClusterSpec {
        num_res: byte(bytes, 10),
        res_units: byte(bytes, 11),
        horizon: byte(bytes, 12),
        slots: byte(bytes, 13),
        backlog: byte(bytes, 14),
    };
    let expected = ClusterSpec::with_slots(u8::try_from(M).unwrap_or(u8::MAX));
    if let Some((field, found, expected)) = spec_mismatch(&found, &expected) {
        return Err(TreeError::SpecMismatch {
            field,
            found,
            expected,
        });
    }
    let count = usize::from(u16_at(bytes, 15));
    if count == 0 || count > MAX_NODES {
        return Err(TreeError::NodeCount {
            found: count,
            max: MAX_NODES,
        });
    }
    let body = framing::check_length_and_crc(bytes, file_len(count))?;
    let mut nodes = [Node::Leaf { action: 0 }; MAX_NODES];
    let records = body.get(HEAD_LEN..).unwrap_or(&[]).chunks_exact(NODE_LEN);
    for (k, (node, rec)) in nodes.iter_mut().zip(records).enumerate() {
        let at = |i: usize| byte(rec, i);
        *node = match at(0) {
            KIND_SPLIT => Node::Split {
                feature: u16_at(rec, 1),
                left: at(3),
                right: at(4),
                threshold: i32::from_le_bytes([at(5), at(6), at(7), at(8)]),
            },
            KIND_LEAF if rec.iter().skip(3).all(|&b| b == 0) => Node::Leaf {
                action: u16_at(rec, 1),
            },
            KIND_LEAF => return Err(TreeError::ReservedNotZero { node: k }),
            kind => return Err(TreeError::BadNodeKind { node: k, kind }),
        };
    }
    Tree::from_nodes(nodes.get(..count).unwrap_or(&[]))
}
