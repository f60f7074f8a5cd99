//! Hand-built trees with verdicts derived by hand, and a brute-force cross-check: small
//! cluster states built with the simulator, their features computed by the core, the leaf
//! reached and its action judged with the core's rules, against the leaf's verdicts.

use super::*;
use whitebox_core::rules::{effect, Effect as CoreEffect, Permille};
use whitebox_core::tree::text::PathText;
use whitebox_core::tree::{feature_count, operator_features, sjf_leaf, Tree};
use whitebox_core::{Action, Cluster, Job, Scheduler, Sjf};

const M: usize = 2;
const VOID: u16 = M as u16;
const SJF: u16 = sjf_leaf(M) as u16;

fn tree(nodes: &[Node]) -> Tree<M> {
    Tree::<M>::from_nodes(nodes).expect("valid tree")
}

fn split(f: Feature, threshold: i32, left: u8, right: u8) -> Node {
    Node::Split {
        feature: u16::try_from(f.index(M)).expect("index"),
        threshold,
        left,
        right,
    }
}

fn sf(slot: u8, kind: whitebox_core::tree::features::SlotFeature) -> Feature {
    Feature::Slot { slot, kind }
}

fn rf(res: u8, kind: whitebox_core::tree::features::ResFeature) -> Feature {
    Feature::Resource { res, kind }
}

use whitebox_core::tree::features::{ResFeature as R, SlotFeature as S};

fn cap(p: u16) -> Permille {
    Permille::new(p).expect("permille")
}

fn rules() -> Vec<Rule> {
    vec![
        Rule::UtilizationCap { max: cap(800) },
        Rule::WorkConserving { max: Permille::ONE },
        Rule::WorkConserving { max: cap(800) },
        Rule::NoReservation,
        Rule::ShorterFirst { max: Permille::ONE },
        Rule::ShorterFirst { max: cap(800) },
        Rule::BoundedWait {
            steps: 1,
            max: Permille::ONE,
        },
        Rule::BoundedWait {
            steps: 1,
            max: cap(800),
        },
    ]
}

/// The verdicts of leaf `node` by property name.
fn verdicts(c: &TreeCheck, node: usize) -> Vec<(String, &'static str)> {
    let leaf = c.leaves.iter().find(|l| l.node == node).expect("leaf");
    leaf.verdicts
        .iter()
        .map(|v| (v.property.clone(), v.verdict))
        .collect()
}

fn expect(c: &TreeCheck, node: usize, want: &[(&str, &str)]) {
    let got = verdicts(c, node);
    for (p, v) in want {
        let found = got.iter().find(|(q, _)| q == p).map(|(_, v)| *v);
        assert_eq!(found, Some(*v), "leaf {node}, {p}: {got:?}");
    }
}

#[test]
fn a_void_leaf_idles_and_an_sjf_leaf_does_not() {
    let c = check_nodes(M, &[Node::Leaf { action: VOID }], &rules());
    expect(
        &c,
        0,
        &[
            ("no-idle", "violated"),
            ("verify:starts-within:1", "violated"),
            ("verify:shorter-first", "holds"),
            ("util<=0.8", "holds"),
            ("work-conserving", "violated"),
            // A job of length 1 with demands within the cap of a free row 0 starts within it.
            ("work-conserving(util<=0.8)", "violated"),
            ("no-reservation", "holds"),
            ("shorter-first", "holds"),
            ("wait<=1", "violated"),
        ],
    );
    assert_eq!(c.leaves[0].path, "-> void");
    let c = check_nodes(M, &[Node::Leaf { action: SJF }], &rules());
    expect(
        &c,
        0,
        &[
            ("no-idle", "holds"),
            ("verify:starts-within:1", "holds"),
            ("verify:shorter-first", "holds"),
            // 5 units busy now and a 5-unit job: 100% > 80% in row 0.
            ("util<=0.8", "violated"),
            ("work-conserving", "holds"),
            ("no-reservation", "holds"),
            ("shorter-first", "holds"),
            // The shortest job has waited less than a longer aged one.
            ("wait<=1", "violated"),
        ],
    );
}

/// `slot0.fit <= 0 ? start slot 0 : void`.
fn fit_tree() -> Tree<M> {
    tree(&[
        split(sf(0, S::Fit), 0, 1, 2),
        Node::Leaf { action: 0 },
        Node::Leaf { action: VOID },
    ])
}

#[test]
fn start_and_void_leaves_of_a_fit_test() {
    let c = check_nodes(M, fit_tree().nodes(), &rules());
    assert_eq!(c.leaves[0].path, "slot0.fit <= 0 -> start slot 0");
    assert_eq!(c.leaves[1].path, "slot0.fit > 0 -> void");
    expect(
        &c,
        1,
        &[
            ("no-idle", "holds"),
            ("verify:starts-within:1", "holds"),
            // Slot 1 holds a shorter job with the same demands that fits now.
            ("verify:shorter-first", "violated"),
            ("shorter-first", "violated"),
            ("no-reservation", "holds"),
            ("work-conserving", "holds"),
        ],
    );
    expect(
        &c,
        2,
        &[
            // Slot 0 empty (fit 20), slot 1's job fits on the idle cluster.
            ("no-idle", "violated"),
            // On the idle cluster slot 0's job fits now, so this leaf is not reached there.
            ("verify:starts-within:1", "holds"),
            ("work-conserving", "violated"),
            ("verify:shorter-first", "holds"),
        ],
    );
}

#[test]
fn a_cap_that_depends_on_the_rows_is_unknown_until_the_rows_are_known() {
    // slot0.fit <= 0, slot0.len > 1, both resources free now -> start slot 0, split further on
    // res0.free_min > 9 and res1.free_min > 9 (every row free).
    let nodes = [
        split(sf(0, S::Fit), 0, 1, 2),
        split(sf(0, S::Len), 1, 3, 4),
        Node::Leaf { action: VOID },
        Node::Leaf { action: VOID },
        split(rf(0, R::FreeNow), 9, 5, 6),
        Node::Leaf { action: VOID },
        split(rf(1, R::FreeNow), 9, 7, 8),
        Node::Leaf { action: VOID },
        split(rf(0, R::FreeMin), 9, 9, 10),
        Node::Leaf { action: 0 },
        split(rf(1, R::FreeMin), 9, 11, 12),
        Node::Leaf { action: 0 },
        Node::Leaf { action: 0 },
    ];
    let c = check_nodes(M, tree(&nodes).nodes(), &rules());
    // Row 0 is free; whether a 5-unit job stays within 80% depends on rows 1.. (free_min 0).
    expect(
        &c,
        9,
        &[("util<=0.8", "unknown"), ("no-reservation", "holds")],
    );
    let why = c
        .leaves
        .iter()
        .find(|l| l.node == 9)
        .expect("leaf")
        .verdicts[3]
        .why
        .clone()
        .unwrap_or_default();
    assert!(why.contains("horizon rows"), "{why}");
    // res0 idle in every row but res1 not: still unknown.
    expect(&c, 11, &[("util<=0.8", "unknown")]);
    // Every row free: within the cap, or alone above it.
    expect(&c, 12, &[("util<=0.8", "holds")]);
}

#[test]
fn a_contradictory_path_is_unreachable_and_holds() {
    // slot0.len <= 0 and slot0.fit <= 0: an empty slot has fit 20.
    let nodes = [
        split(sf(0, S::Len), 0, 1, 2),
        split(sf(0, S::Fit), 0, 3, 4),
        Node::Leaf { action: SJF },
        Node::Leaf { action: VOID },
        Node::Leaf { action: SJF },
    ];
    let c = check_nodes(M, tree(&nodes).nodes(), &rules());
    let leaf = c.leaves.iter().find(|l| l.node == 3).expect("leaf");
    assert!(!leaf.reachable);
    assert!(
        leaf.verdicts.iter().all(|v| v.verdict == "holds"),
        "{leaf:?}"
    );
}

/// A deeper mixed tree for the brute-force check.
fn mixed_tree() -> Tree<M> {
    tree(&[
        split(rf(0, R::FreeNow), 6, 1, 2),
        split(sf(1, S::Len), 2, 3, 4),
        split(sf(0, S::Wait), 1, 5, 6),
        Node::Leaf { action: 1 },
        Node::Leaf { action: SJF },
        Node::Leaf { action: VOID },
        split(sf(0, S::Fit), 3, 7, 8),
        Node::Leaf { action: 0 },
        Node::Leaf { action: SJF },
    ])
}

/// Cluster states: up to two background jobs started (the second possibly reserved), two
/// slots each empty or holding one of a few jobs, maybe a backlog job, slot 0 maybe started,
/// then 0 to 2 steps of waiting.
fn states() -> Vec<Cluster<M>> {
    let job = |len: u32, res: [u32; 2]| Job::new(0, 0, len, res).expect("job");
    let bgs = [
        None,
        Some((1, [3, 0])),
        Some((3, [5, 5])),
        Some((2, [10, 2])),
    ];
    let bgs2 = [None, Some((4, [6, 9])), Some((1, [2, 1]))];
    let jobs = [
        None,
        Some((1, [2, 1])),
        Some((2, [2, 1])),
        Some((3, [5, 0])),
        Some((1, [9, 9])),
        Some((4, [0, 3])),
        Some((2, [7, 4])),
    ];
    let mut out = Vec::new();
    for bg in bgs {
        for bg2 in bgs2 {
            for a in jobs {
                for b in jobs {
                    for backlog in [false, true] {
                        for start0 in [false, true] {
                            for waits in 0..3 {
                                let mut c: Cluster<M> = Cluster::new();
                                for (len, res) in [bg, bg2].into_iter().flatten() {
                                    c.submit(job(len, res)).ok();
                                    c.step(Action::Schedule(0));
                                }
                                for (len, res) in [a, b].into_iter().flatten() {
                                    c.submit(job(len, res)).ok();
                                }
                                if backlog {
                                    c.submit(job(2, [1, 1])).ok();
                                }
                                if start0 {
                                    c.step(Action::Schedule(0));
                                }
                                for _ in 0..waits {
                                    c.step(Action::Void);
                                }
                                out.push(c);
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// Whether the leaf's action breaks `p` in cluster `c` (computed with the simulator and the
/// core's rules, not the check's formulas).
fn breaks(c: &Cluster<M>, leaf_action: usize, p: Property) -> bool {
    let action = match leaf_action {
        a if a < M => Action::Schedule(a),
        a if a == M => Action::Void,
        _ => Sjf.decide(c).expect("sjf"),
    };
    let e = effect(c, action);
    let idle = c.avbl().iter().all(|row| row.iter().all(|&f| f == 10));
    let fits_now: Vec<bool> = c
        .slots()
        .iter()
        .map(|s| s.is_some_and(|j| c.fits_now(&j)))
        .collect();
    match p {
        Property::NoIdle => idle && fits_now.contains(&true) && e == CoreEffect::Idle,
        Property::StartsWithin1 => {
            let lone = c.slots()[0].is_some() && c.slots()[1].is_none() && c.backlog_len() == 0;
            idle && lone && action != Action::Schedule(0)
        }
        Property::ShorterFirstPair => match (action, e) {
            (Action::Schedule(j), CoreEffect::Start { job, offset: 0 }) => {
                c.slots().iter().enumerate().any(|(k, s)| {
                    k != j && fits_now[k] && s.is_some_and(|o| o.len < job.len && o.res == job.res)
                })
            }
            _ => false,
        },
        Property::Rule(r) => !r.holds(c, &e),
    }
}

#[test]
fn brute_force_agrees_with_every_leaf_verdict() {
    let states = states();
    let rules = rules();
    let trees = [
        tree(&[Node::Leaf { action: VOID }]),
        tree(&[Node::Leaf { action: SJF }]),
        tree(&[Node::Leaf { action: 1 }]),
        fit_tree(),
        mixed_tree(),
    ];
    let mut seen_violations = 0;
    for t in &trees {
        let c = check_nodes(M, t.nodes(), &rules);
        let props = properties(&rules);
        let mut observed = vec![vec![false; props.len()]; c.leaves.len()];
        for s in &states {
            let mut xi = [0i32; feature_count(M)];
            operator_features(s, &mut xi);
            let x: Vec<f32> = xi.iter().map(|&v| v as f32).collect();
            // Consistency is sound: the features of every state satisfy it.
            let point: Vec<Range> = xi
                .iter()
                .map(|&v| Range {
                    lo: i64::from(v),
                    hi: i64::from(v),
                })
                .collect();
            assert!(
                matches!(find(&consistency(M), &point, 10), Found::Point(_)),
                "inconsistent features of a real state: {xi:?}"
            );
            let reached = t.walk(&x, |_, _, _, _| {});
            let li = c
                .leaves
                .iter()
                .position(|l| l.node == usize::from(reached.leaf))
                .expect("leaf");
            let leaf = &c.leaves[li];
            assert!(leaf.reachable, "a state reaches {}", leaf.path);
            for (pi, &p) in props.iter().enumerate() {
                if breaks(s, t.leaf_action(reached.leaf), p) {
                    observed[li][pi] = true;
                    assert_ne!(
                        leaf.verdicts[pi].verdict,
                        "holds",
                        "{} breaks {} at {xi:?}",
                        leaf.path,
                        p.name()
                    );
                }
            }
        }
        seen_violations += observed.iter().flatten().filter(|&&o| o).count();
        // Every witness lies in its leaf and is consistent.
        for l in &c.leaves {
            for v in l.verdicts.iter().filter(|v| v.witness.is_some()) {
                let x = parse_witness(v.witness.as_deref().unwrap_or(""));
                let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                assert_eq!(usize::from(t.walk(&xf, |_, _, _, _| {}).leaf), l.node);
                assert_eq!(PathText { tree: t, x: &xf }.to_string(), l.path);
                let b: Vec<Range> = x.iter().map(|&v| Range { lo: v, hi: v }).collect();
                assert!(matches!(find(&consistency(M), &b, 10), Found::Point(_)));
            }
        }
    }
    // The states are rich enough to break properties (the check is not vacuous).
    assert!(seen_violations >= 20, "{seen_violations}");
}

/// A witness back to features (empty slots: zeros and fit 20).
fn parse_witness(w: &str) -> Vec<i64> {
    let mut x = vec![0i64; feature_count(M)];
    for k in 0..M {
        x[formulas::slot(M, k, S::Fit)] = 20;
    }
    for item in w.split_whitespace() {
        let (name, value) = item.split_once('=').expect("name=value");
        let i = (0..feature_count(M))
            .find(|&i| Feature::from_index(i, M).is_some_and(|f| f.to_string() == name))
            .expect("feature");
        x[i] = value.parse().expect("value");
    }
    x
}
