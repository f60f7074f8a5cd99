//! Golden tree decisions worked out by hand, and every tree-file corruption.

use super::file::{file_len, load, save, NODE_LEN};
use super::text::{PathText, TreeText};
use super::*;
use crate::framing::FramingError;
use crate::model::SpecField;
use crate::projection::{Projected, Projection};
use crate::rules::{Rule, RuleSet};
use crate::scheduler::{Preference, Scheduler};
use crate::{Action, Cluster, Job};

/// Features for 3 slots: 15 slot features, then res0.free_now = 15, ..., 23 in all.
const I: usize = feature_count(3);

/// `d` written out (the core has no `String`).
fn text(d: impl core::fmt::Display) -> heapless::String<512> {
    let mut s = heapless::String::new();
    core::fmt::write(&mut s, format_args!("{d}")).ok();
    s
}

fn job(id: u32, len: u32, res: [u32; 2]) -> Job {
    Job::new(id, 0, len, res).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Job A (5 steps, [6, 2]) runs from step 0; slot 0 is empty, slot 1 holds B (2 steps, [5, 1]),
/// which needs 5 units of res0 while A leaves 4, so its first fit is offset 5; slot 2 holds C
/// (3 steps, [3, 3]), which fits now.
fn state() -> Cluster<3> {
    let mut c = Cluster::new();
    for j in [job(0, 5, [6, 2]), job(1, 2, [5, 1]), job(2, 3, [3, 3])] {
        c.submit(j).ok();
    }
    c.step(Action::Schedule(0));
    c
}

fn split(feature: Feature, threshold: i32, left: u8, right: u8) -> Node {
    Node::Split {
        feature: u16::try_from(feature.index(3)).unwrap_or(u16::MAX),
        threshold,
        left,
        right,
    }
}

fn leaf(action: u16) -> Node {
    Node::Leaf { action }
}

const FREE_NOW0: Feature = Feature::Resource {
    res: 0,
    kind: features::ResFeature::FreeNow,
};
const LEN1: Feature = Feature::Slot {
    slot: 1,
    kind: features::SlotFeature::Len,
};

/// `res0.free_now <= 4` ? (`slot1.len <= 2` ? start slot 1 : void) : start slot 2.
fn nodes() -> [Node; 5] {
    [
        split(FREE_NOW0, 4, 1, 2),
        split(LEN1, 2, 3, 4),
        leaf(2),
        leaf(1),
        leaf(3),
    ]
}

fn tree() -> Tree<3> {
    Tree::from_nodes(&nodes()).unwrap_or_else(|e| unreachable!("{e}"))
}

#[test]
fn operator_features_of_the_golden_state() {
    let mut x = [0i32; I];
    operator_features(&state(), &mut x);
    // slot0 empty; slot1 = B, first fit 5; slot2 = C, fits now.
    assert_eq!(&x[..15], &[0, 0, 0, 0, 20, 2, 5, 1, 0, 5, 3, 3, 3, 0, 0]);
    // res0: 4 free in rows 0..5, 10 in the other 15: sum 170, min 4; res1: 8, 190, 8.
    assert_eq!(&x[15..], &[4, 170, 4, 8, 190, 8, 0, 0]);
}

#[test]
fn golden_decision_path_and_scores() {
    let t = tree();
    assert_eq!((t.leaves(), t.depth()), (3, 2));
    let mut p: TreePolicy<'_, 3, I, 4> = TreePolicy::new(&t, true);
    // res0.free_now = 4 <= 4 goes left, slot1.len = 2 <= 2 goes left: leaf 3, start slot 1
    // (B, reserved at offset 5: allowed, since B fits in the horizon).
    // Deciding reads only what the path needs; evaluating fills every buffer, same action.
    assert_eq!(p.decide(&state()), Ok(Action::Schedule(1)));
    p.evaluate(&state());
    assert_eq!(p.greedy(), Ok(Action::Schedule(1)));
    assert_eq!(*p.scratch(), Reached { leaf: 3, depth: 2 });
    // Scores: the leaf's action 0; then SJF's order: C (slot 2, fits now) -65, void -66, the
    // empty slot 0 last at -67.
    assert_eq!(p.logits(), &[-67.0, 0.0, -65.0, -66.0]);
    assert_eq!(p.valid(), &[false, true, true, true]);
    let path = text(PathText {
        tree: &t,
        x: p.obs(),
    });
    assert_eq!(
        path,
        "res0.free_now <= 4 and slot1.len <= 2 -> start slot 1"
    );
}

#[test]
fn masked_leaf_falls_back_to_sjf_order() {
    // A lone leaf "start slot 0" on a state whose slot 0 is empty: the mask forbids it, and the
    // best allowed action in SJF's order is C in slot 2, which fits now.
    let t: Tree<3> = Tree::from_nodes(&[leaf(0)]).unwrap_or_else(|e| unreachable!("{e}"));
    let mut p: TreePolicy<'_, 3, I, 4> = TreePolicy::new(&t, true);
    // Deciding reads only what the path needs; evaluating fills every buffer, same action.
    assert_eq!(p.decide(&state()), Ok(Action::Schedule(2)));
    p.evaluate(&state());
    assert_eq!(p.greedy(), Ok(Action::Schedule(2)));
    assert_eq!(p.logits(), &[0.0, -67.0, -65.0, -66.0]);
    let path = text(PathText {
        tree: &t,
        x: p.obs(),
    });
    assert_eq!(path, "-> start slot 0");
}

#[test]
fn an_sjf_leaf_takes_the_shortest_job_that_fits_now() {
    // A lone SJF leaf: C (slot 2, 3 steps) is the only job that fits now, so it goes first;
    // then void, then B (fits at offset 5), the empty slot 0 last.
    let t: Tree<3> = Tree::from_nodes(&[leaf(4)]).unwrap_or_else(|e| unreachable!("{e}"));
    let mut p: TreePolicy<'_, 3, I, 4> = TreePolicy::new(&t, true);
    // Deciding reads only what the path needs; evaluating fills every buffer, same action.
    assert_eq!(p.decide(&state()), Ok(Action::Schedule(2)));
    p.evaluate(&state());
    assert_eq!(p.greedy(), Ok(Action::Schedule(2)));
    assert_eq!(p.logits(), &[-67.0, -66.0, 0.0, -65.0]);
    let path = text(PathText {
        tree: &t,
        x: p.obs(),
    });
    assert_eq!(
        path,
        "-> sjf (start the shortest job that fits now, else void)"
    );
}

#[test]
fn a_rule_shield_composes_with_the_tree() {
    // No reservation forbids starting B at offset 5; the shield takes the tree's next choice,
    // C in slot 2.
    let mut rules = RuleSet::new();
    rules.push(Rule::NoReservation, 1.0).ok();
    let t = tree();
    let mut shielded: Projected<TreePolicy<'_, 3, I, 4>, 4> =
        Projected::new(TreePolicy::new(&t, true), Projection::shield(rules));
    assert_eq!(shielded.decide(&state()), Ok(Action::Schedule(2)));
    let (mut logits, mut valid) = ([0.0; 4], [false; 4]);
    let mut p: TreePolicy<'_, 3, I, 4> = TreePolicy::new(&t, true);
    assert_eq!(p.preference(&state(), &mut logits, &mut valid), Ok(()));
    assert_eq!(logits, [-67.0, 0.0, -65.0, -66.0]);
}

#[test]
fn the_whole_tree_as_text() {
    assert_eq!(
        text(TreeText(&tree())),
        "if res0.free_now <= 4:\n  if slot1.len <= 2:\n    -> start slot 1\n  else:\n    \
         -> void\nelse:\n  -> start slot 2\n"
    );
}

fn bytes() -> ([u8; file_len(5)], usize) {
    let mut buf = [0u8; file_len(5)];
    let n = save(&tree(), &mut buf).unwrap_or_else(|e| unreachable!("{e}"));
    (buf, n)
}

/// Recomputes the CRC after an edit, so the edit reaches the checks behind it.
fn reseal(b: &mut [u8]) {
    let n = b.len() - 4;
    let crc = crate::framing::crc32(&b[..n]);
    b[n..].copy_from_slice(&crc.to_le_bytes());
}

/// The file with node `k`'s record replaced, resealed.
fn with_node(k: usize, rec: [u8; NODE_LEN]) -> [u8; file_len(5)] {
    let (mut b, _) = bytes();
    let at = 17 + NODE_LEN * k;
    b[at..at + NODE_LEN].copy_from_slice(&rec);
    reseal(&mut b);
    b
}

fn split_rec(feature: u16, left: u8, right: u8, threshold: i32) -> [u8; NODE_LEN] {
    let mut r = [0u8; NODE_LEN];
    r[1..3].copy_from_slice(&feature.to_le_bytes());
    r[3] = left;
    r[4] = right;
    r[5..9].copy_from_slice(&threshold.to_le_bytes());
    r
}

#[test]
fn round_trip_is_exact() {
    let (buf, n) = bytes();
    assert_eq!(n, 8 + 2 + 5 + 2 + 9 * 5 + 4);
    assert_eq!(&buf[..8], b"WBXTREE\0");
    // The root: split on feature 15 (res0.free_now), children 1 and 2, threshold 4.
    assert_eq!(&buf[17..26], &[0, 15, 0, 1, 2, 4, 0, 0, 0]);
    assert_eq!(load::<3>(&buf[..n]), Ok(tree()));
    assert_eq!(
        save(&tree(), &mut [0u8; 20]),
        Err(TreeError::BufferTooSmall {
            available: 20,
            needed: n
        })
    );
}

#[test]
fn header_corruptions_have_their_own_errors() {
    let (buf, n) = bytes();
    let mut flipped = buf;
    flipped[30] ^= 0x10;
    assert!(matches!(
        load::<3>(&flipped),
        Err(TreeError::Framing(FramingError::CrcMismatch { .. }))
    ));
    let mut magic = buf;
    magic[0] = b'X';
    assert!(matches!(
        load::<3>(&magic),
        Err(TreeError::Framing(FramingError::BadMagic { .. }))
    ));
    let mut version = buf;
    version[8] = 7;
    assert_eq!(
        load::<3>(&version),
        Err(TreeError::Framing(FramingError::UnsupportedVersion {
            found: 7,
            oldest: 1,
            newest: 1
        }))
    );
    assert_eq!(
        load::<5>(&buf),
        Err(TreeError::SpecMismatch {
            field: SpecField::Slots,
            found: 3,
            expected: 5
        })
    );
    assert_eq!(
        load::<3>(&buf[..n - 1]),
        Err(TreeError::Framing(FramingError::Truncated {
            found: n - 1,
            expected: n
        }))
    );
    assert_eq!(
        load::<3>(&buf[..5]),
        Err(TreeError::Framing(FramingError::Truncated {
            found: 5,
            expected: 17
        }))
    );
    let mut long = [0u8; file_len(5) + 1];
    long[..n].copy_from_slice(&buf);
    assert_eq!(
        load::<3>(&long),
        Err(TreeError::Framing(FramingError::TrailingBytes {
            found: n + 1,
            expected: n
        }))
    );
    for count in [0u16, 256] {
        let mut c = buf;
        c[15..17].copy_from_slice(&count.to_le_bytes());
        assert_eq!(
            load::<3>(&c),
            Err(TreeError::NodeCount {
                found: usize::from(count),
                max: 255
            })
        );
    }
}

#[test]
fn node_corruptions_have_their_own_errors() {
    let mut kind = [0u8; NODE_LEN];
    kind[0] = 2;
    assert_eq!(
        load::<3>(&with_node(2, kind)),
        Err(TreeError::BadNodeKind { node: 2, kind: 2 })
    );
    let mut reserved = [1, 2, 0, 0, 0, 0, 0, 0, 0];
    reserved[8] = 1;
    assert_eq!(
        load::<3>(&with_node(2, reserved)),
        Err(TreeError::ReservedNotZero { node: 2 })
    );
    assert_eq!(
        load::<3>(&with_node(0, split_rec(23, 1, 2, 4))),
        Err(TreeError::UnknownFeature {
            node: 0,
            feature: 23,
            features: 23
        })
    );
    assert_eq!(
        load::<3>(&with_node(4, [1, 5, 0, 0, 0, 0, 0, 0, 0])),
        Err(TreeError::ActionOutOfRange {
            node: 4,
            action: 5,
            actions: 5
        })
    );
    assert_eq!(
        load::<3>(&with_node(1, split_rec(5, 3, 9, 2))),
        Err(TreeError::BadNodeIndex {
            node: 1,
            child: 9,
            nodes: 5
        })
    );
    // Node 1 pointing back at the root; node 1 pointing at itself (then it has two parents).
    assert_eq!(
        load::<3>(&with_node(1, split_rec(5, 3, 0, 2))),
        Err(TreeError::Cycle { node: 0 })
    );
    assert_eq!(
        load::<3>(&with_node(1, split_rec(5, 3, 1, 2))),
        Err(TreeError::SharedNode { node: 1 })
    );
    // Node 1's children 3 and 3: node 3 has two parents (and node 4 none).
    assert_eq!(
        load::<3>(&with_node(1, split_rec(5, 3, 3, 2))),
        Err(TreeError::SharedNode { node: 3 })
    );
    // The root's children 2 and 2.
    assert_eq!(
        load::<3>(&with_node(0, split_rec(15, 2, 2, 4))),
        Err(TreeError::SharedNode { node: 2 })
    );
}

/// A spine of `(N - 1) / 2` splits ending in a leaf.
fn spine<const N: usize>() -> [Node; N] {
    let mut nodes = [leaf(0); N];
    for d in 0..(N - 1) / 2 {
        nodes[2 * d] = split(LEN1, 0, (2 * d + 1) as u8, (2 * d + 2) as u8);
    }
    nodes
}

#[test]
fn shape_errors_from_nodes() {
    // A two-node cycle away from the root: 1 -> 2 -> 1, the root a lone leaf.
    let cycle = [
        leaf(0),
        split(LEN1, 0, 2, 3),
        split(LEN1, 0, 1, 4),
        leaf(0),
        leaf(0),
    ];
    assert_eq!(
        Tree::<3>::from_nodes(&cycle),
        Err(TreeError::Cycle { node: 1 })
    );
    // A leaf nobody points to.
    let orphan = [split(LEN1, 0, 1, 2), leaf(0), leaf(1), leaf(3)];
    assert_eq!(
        Tree::<3>::from_nodes(&orphan),
        Err(TreeError::Unreachable { node: 3 })
    );
    // A spine of MAX_DEPTH + 1 splits (split 2d has leaf 2d + 1 on the left, the next split
    // on the right): leaf 2 MAX_DEPTH + 1 is one split too deep.
    assert_eq!(
        Tree::<3>::from_nodes(&spine::<{ 2 * MAX_DEPTH + 3 }>()),
        Err(TreeError::DepthOverLimit {
            node: 2 * MAX_DEPTH + 1,
            depth: MAX_DEPTH + 1,
            max: MAX_DEPTH
        })
    );
    let deepest = Tree::<3>::from_nodes(&spine::<{ 2 * MAX_DEPTH + 1 }>());
    assert_eq!(deepest.map(|t| t.depth()), Ok(MAX_DEPTH));
    assert_eq!(
        Tree::<3>::from_nodes(&[]),
        Err(TreeError::NodeCount { found: 0, max: 255 })
    );
}
