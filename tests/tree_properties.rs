//! Property tests of decision-tree files and tree policies: any bytes load to a tree or a
//! typed error (never a panic), mutated files are refused unless the change is harmless, and
//! every valid tree round-trips and plays every job set to the end.

use proptest::prelude::*;
use whitebox_core::tree::file::{file_len, load, save};
use whitebox_core::tree::{feature_count, Node, Tree, TreePolicy};
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::{run, Action, Cluster, EndMode, Episode, PolicyError, Scheduler};

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
    tree_strategy_with(10)
}

/// [`tree_strategy`] with leaf actions `0..=max_action` (11 is SJF's choice).
fn tree_strategy_with(max_action: u16) -> impl Strategy<Value = Tree<10>> {
    prop::collection::vec((0u16..58, 0i32..25, 0u16..=max_action), 1..40).prop_map(|raw| {
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

/// Decides every state twice, directly (`decide`, the features the path tests) and in full
/// (`evaluate` then `greedy`), plays the full decision and keeps the first disagreement.
struct Both<'t> {
    direct: TreePolicy<'t, 10, { feature_count(10) }, 11>,
    full: TreePolicy<'t, 10, { feature_count(10) }, 11>,
    decisions: usize,
    first_mismatch: Option<(usize, Action, Action)>,
}

impl<'t> Both<'t> {
    fn new(tree: &'t Tree<10>, mask_invalid: bool) -> Self {
        Both {
            direct: TreePolicy::new(tree, mask_invalid),
            full: TreePolicy::new(tree, mask_invalid),
            decisions: 0,
            first_mismatch: None,
        }
    }
}

impl Scheduler<10> for Both<'_> {
    fn decide(&mut self, cluster: &Cluster<10>) -> Result<Action, PolicyError> {
        let direct = self.direct.decide(cluster)?;
        self.full.evaluate(cluster);
        let full = self.full.greedy()?;
        if direct != full && self.first_mismatch.is_none() {
            self.first_mismatch = Some((self.decisions, direct, full));
        }
        self.decisions += 1;
        Ok(full)
    }
}

/// Plays `jobs` with `tree` deciding both ways; the first disagreement, if any.
fn direct_vs_full(
    tree: &Tree<10>,
    mask_invalid: bool,
    seed: u64,
    rate: f64,
) -> Option<(usize, Action, Action)> {
    let jobs: Vec<_> = JobGenerator::new(Workload::DeepRm, rate, 50, seed).collect();
    // Without the mask a tree may void forever: a short cap ends those episodes.
    let end = EndMode::AllDone { time_cap: 500 };
    let mut both = Both::new(tree, mask_invalid);
    let mut episode: Episode<'_, 10> = Episode::new(&jobs, end, &mut ()).expect("episode");
    run(&mut episode, &mut both, &mut ()).expect("a tree never fails");
    assert!(both.decisions > 0);
    both.first_mismatch
}

#[test]
fn the_shipped_tree_decides_directly_as_in_full() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/models/default.tree"
    );
    let tree = load::<10>(&std::fs::read(path).expect("the shipped tree")).expect("loads");
    for seed in 0..40 {
        for rate in [0.3, 0.7, 1.0] {
            for mask in [true, false] {
                assert_eq!(
                    direct_vs_full(&tree, mask, seed, rate),
                    None,
                    "seed {seed} rate {rate} mask {mask}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The policy's direct decision (at most the depth's features, SJF's choice only when the
    /// leaf's action is forbidden or `sjf`) is the masked argmax of the full scores, on every
    /// state of an episode, with and without the mask.
    #[test]
    fn tree_decisions_directly_equal_the_full_evaluation(
        tree in tree_strategy_with(11),
        seed in 0u64..1000,
        mask in any::<bool>(),
    ) {
        prop_assert_eq!(direct_vs_full(&tree, mask, seed, 0.7), None);
    }

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
