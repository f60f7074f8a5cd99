//! Property tests of decision-tree files and tree policies: any bytes load to a tree or a
//! typed error (never a panic), mutated files are refused unless the change is harmless, and
//! every valid tree round-trips and plays every job set to the end.

use proptest::prelude::*;
use whitebox_core::tree::file::{file_len, load, save};
use whitebox_core::tree::{feature_count, Node, Tree, TreePolicy};
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::{run, EndMode, Episode};

/// Random node lists: many are invalid (bad children, cycles, shared nodes), some are trees.
fn nodes_strategy() -> impl Strategy<Value = Vec<Node>> {
    let node = prop_oneof![
        (0u16..60, -5i32..40, 0u8..12, 0u8..12).prop_map(|(feature, threshold, left, right)| {
            Node::Split {
                feature,
                threshold,
                left,
                right,
            }
        }),
        (0u16..12).prop_map(|action| Node::Leaf { action }),
    ];
    prop::collection::vec(node, 1..12)
}

/// A valid random tree: node `k`'s children are `2k + 1` and `2k + 2` when both exist.
fn tree_strategy() -> impl Strategy<Value = Tree<10>> {
    prop::collection::vec((0u16..58, 0i32..25, 0u16..=10), 1..40).prop_map(|raw| {
        // An odd count, so every split has both children.
        let n = raw.len() - (1 - raw.len() % 2);
        let nodes: Vec<Node> = raw[..n]
            .iter()
            .enumerate()
            .map(|(k, &(feature, threshold, action))| {
                if 2 * k + 2 < n {
                    Node::Split {
                        feature,
                        threshold,
                        left: (2 * k + 1) as u8,
                        right: (2 * k + 2) as u8,
                    }
                } else {
                    Node::Leaf { action }
                }
            })
            .collect();
        Tree::from_nodes(&nodes).expect("a complete binary layout is a tree")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_bytes_give_a_tree_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = load::<10>(&bytes);
        let _ = load::<5>(&bytes);
    }

    #[test]
    fn any_node_list_is_a_tree_or_an_error(nodes in nodes_strategy()) {
        if let Ok(t) = Tree::<10>::from_nodes(&nodes) {
            prop_assert!(t.leaves() == t.nodes().len().div_ceil(2));
        }
    }

    #[test]
    fn valid_trees_round_trip_and_flipped_bits_are_refused(
        tree in tree_strategy(),
        at in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let mut buf = vec![0u8; file_len(tree.nodes().len())];
        let n = save(&tree, &mut buf).expect("buffer of the file's length");
        prop_assert_eq!(n, buf.len());
        prop_assert_eq!(load::<10>(&buf), Ok(tree.clone()));
        // CRC-32 detects every single-bit error.
        let i = at.index(buf.len());
        buf[i] ^= 1 << bit;
        prop_assert!(load::<10>(&buf).is_err());
    }

    #[test]
    fn resealed_edits_of_the_nodes_load_or_are_refused_without_panic(
        tree in tree_strategy(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut buf = vec![0u8; file_len(tree.nodes().len())];
        save(&tree, &mut buf).expect("buffer of the file's length");
        let (head, crc) = (17, buf.len() - 4);
        for (at, value) in edits {
            buf[head + at.index(crc - head)] = value;
        }
        // CRC-32 (ISO-HDLC) from another crate than the core's, to reseal edited files.
        let sum = crc32fast::hash(&buf[..crc]);
        buf[crc..].copy_from_slice(&sum.to_le_bytes());
        if let Ok(t) = load::<10>(&buf) {
            prop_assert!(t.depth() <= 32 && t.nodes().len() == tree.nodes().len());
        }
    }

    #[test]
    fn tree_policies_finish_every_all_done_episode(tree in tree_strategy(), seed in 0u64..1000) {
        let jobs: Vec<_> = JobGenerator::new(Workload::DeepRm, 0.7, 50, seed).collect();
        let end = EndMode::AllDone { time_cap: 10_000 };
        let mut policy = TreePolicy::<'_, 10, { feature_count(10) }, 11>::new(&tree, true);
        let mut episode: Episode<'_, 10> = Episode::new(&jobs, end, &mut ()).expect("episode");
        let summary = run(&mut episode, &mut policy, &mut ()).expect("a tree never fails");
        // The liveness mask: whatever the tree says, every job is done before the time cap.
        prop_assert!(!summary.truncated);
        prop_assert_eq!(summary.completed, summary.jobs);
    }
}
