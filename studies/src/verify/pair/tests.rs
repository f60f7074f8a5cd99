use super::*;
use crate::verify::suite::{one_job_region, robust_region};
use crate::verify::syntax::parse_region;
use whitebox_core::encoding::compact_len;

type Net5 = Mlp<{ compact_len(5) }, HIDDEN, 6>;

/// Slot 0 scores 1, the other slots 0.5, void 0; void gains `4 relu(len0 - 10.5)`: slot 0 is
/// chosen for jobs of length up to 10, void for longer ones (lead at least 1 either way). The
/// action never depends on the occupancy, but the widened region holds both actions.
fn by_length() -> Box<Net5> {
    let mut net = Box::new(Net5::zeroed());
    net.b2 = [1.0, 0.5, 0.5, 0.5, 0.5, 0.0];
    let len0 = Region::all(5)
        .index(Feature::Len { slot: 0 })
        .unwrap_or_else(|| unreachable!());
    net.w1[0][len0] = 20.0;
    net.b1[0] = -10.5;
    net.w2[5][0] = 4.0;
    net
}

/// As [`by_length`] for short jobs, plus void wins once row 3 of resource 0 has fewer than 10
/// free units (`100 (1 - free/10) - 5 > 0` exactly when free <= 9).
fn row3_edge() -> Box<Net5> {
    let mut net = Box::new(Net5::zeroed());
    net.b2 = [2.0, 1.0, 1.0, 1.0, 1.0, 0.0];
    let row3 = Region::all(5)
        .index(Feature::Free { row: 3, res: 0 })
        .unwrap_or_else(|| unreachable!());
    net.w1[0][row3] = -100.0;
    net.b1[0] = 95.0;
    net.w2[5][0] = 1.0;
    net
}

fn at(c: &Counterexample, name: &str) -> Option<u16> {
    c.features.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

#[test]
fn the_neighbour_has_one_more_free_unit_and_earlier_first_fits() {
    let r = Region::all(5);
    let row0 = r
        .index(Feature::Free { row: 0, res: 1 })
        .unwrap_or_else(|| unreachable!());
    // Rows 0..3 have 4 free units of resource 1, the rest 10; slot 0 holds a job of length 2
    // needing 5 units of resource 1: it first fits at row 4 (by hand).
    let mut s = r.point(|i, _, _| match Feature::at(i, 5) {
        Some(Feature::Free { row, res: 1 }) if row < 4 => 4,
        Some(Feature::Free { .. }) => 10,
        _ => 0,
    });
    let f = |f: Feature| r.index(f).unwrap_or_else(|| unreachable!());
    s[f(Feature::Len { slot: 0 })] = 2;
    s[f(Feature::Demand { slot: 0, res: 1 })] = 5;
    realize(&r, &mut s);
    assert_eq!(s[f(Feature::Wait { slot: 0 })], 4);
    // One more unit in row 0 (5 free) is not enough: rows 0 and 1 are needed.
    let t = neighbour(5, &s, row0);
    assert_eq!((t[row0], t[f(Feature::Wait { slot: 0 })]), (5, 4));
    // With rows 1 and 2 at 5 it first fits at row 1; one more unit in row 0 makes it fit now.
    s[f(Feature::Free { row: 1, res: 1 })] = 5;
    s[f(Feature::Free { row: 2, res: 1 })] = 5;
    realize(&r, &mut s);
    assert_eq!(s[f(Feature::Wait { slot: 0 })], 1);
    let t = neighbour(5, &s, row0);
    assert_eq!(t[f(Feature::Wait { slot: 0 })], 0);
    // The hull holds both: wait from 0 to 1.
    let first = Region {
        m: 5,
        lo: s.clone(),
        hi: s.clone(),
    };
    let h = hull(&Region::all(5), &first, row0);
    let w = f(Feature::Wait { slot: 0 });
    assert_eq!((h.lo[w], h.hi[w], h.lo[row0], h.hi[row0]), (0, 1, 4, 5));
}

#[test]
fn an_idle_region_has_no_pairs_and_is_proved_with_no_query() {
    let o = robust(&row3_edge(), &one_job_region(5));
    assert_eq!((o.verdict, o.queries, o.branches), (Verdict::Proved, 0, 0));
}

fn robust(net: &Net5, r: &Region) -> crate::verify::Outcome {
    crate::verify::suite::check_robust::<5, { compact_len(5) }, 6>(net, Compare::Raw, r, 10_000)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn robustness_that_holds_only_pairwise_is_proved() {
    let net = by_length();
    let r = robust_region(5);
    // The stronger check (one action on the whole region) fails: both actions occur in it.
    let len0 = r
        .index(Feature::Len { slot: 0 })
        .unwrap_or_else(|| unreachable!());
    let short = logits_at(
        &*net,
        &r,
        &r.point(|i, _, hi| if i == len0 { 1 } else { hi }),
    );
    let long = logits_at(
        &*net,
        &r,
        &r.point(|i, _, hi| if i == len0 { 20 } else { hi }),
    );
    assert_eq!((action(&short), action(&long)), (0, 5));
    let o = robust(&net, &r);
    assert_eq!(
        (o.verdict, o.queries, o.proved),
        (Verdict::Proved, 40, 40),
        "{:?}",
        o.open
    );
    // Soundness by sampling: no random pair of the region has two actions.
    let features: Vec<(usize, Region)> = horizon_features(5)
        .into_iter()
        .filter_map(|i| first_copies(&r, i).map(|f| (i, f)))
        .collect();
    let mut rng = Pcg64::seed_from_u64(9);
    let mut pairs = 0;
    for _ in 0..100_000 {
        let (i, first) = &features[rng.random_range(0..features.len())];
        let mut s = first.point(|_, lo, hi| rng.random_range(lo..=hi));
        realize(first, &mut s);
        if let Some((_, differ)) = pair_at(&*net, Compare::Raw, &r, first, *i, &s) {
            pairs += 1;
            assert!(!differ, "{s:?}");
        }
    }
    assert!(pairs > 50_000, "{pairs}");
}

#[test]
fn a_planted_row_edge_is_refuted_by_a_pair_that_replays_through_the_policy() {
    let net = row3_edge();
    let r = parse_region(
        "free[0..2].res0=9, free[3].res0=9..10, free[4..19].res0=10, free[*].res1=10",
        robust_region(5),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let o = robust(&net, &r);
    assert_eq!(o.verdict, Verdict::Refuted);
    let q = &o.open[0];
    let (s, t) = (
        q.counterexample.clone().unwrap_or_else(|| panic!("none")),
        q.neighbour.clone().unwrap_or_else(|| panic!("none")),
    );
    assert_eq!(at(&s, "free[3].res0"), Some(9));
    assert_eq!(at(&t, "free[3].res0"), Some(10));
    let differ: Vec<&String> = s
        .features
        .iter()
        .zip(&t.features)
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, _)| &a.0)
        .collect();
    assert_eq!(differ, ["free[3].res0"]);
    assert_eq!((action(&s.logits), action(&t.logits)), (5, 0));
    let (a, b) = (
        o.replay.unwrap_or_else(|| panic!("first state not built")),
        o.neighbour_replay
            .unwrap_or_else(|| panic!("second state not built")),
    );
    assert_eq!(
        (a.decisions, b.decisions),
        (vec!["void".to_string()], vec!["slot 0".to_string()])
    );
    // The occupancy is one job covering rows 0..=3 (first state) or 0..=2 (second), started
    // at time 0 and lengthened by the steps that follow.
    assert_eq!(a.jobs[0].res, [1, 0]);
    assert_eq!(b.jobs[0].len, a.jobs[0].len - 1);
}

#[test]
fn the_planted_row_edge_is_refuted_by_branch_and_bound_alone() {
    let net = row3_edge();
    let r = robust_region(5);
    let row3 = r
        .index(Feature::Free { row: 3, res: 0 })
        .unwrap_or_else(|| unreachable!());
    let p = decide_pair(&*net, Compare::Raw, &r, row3, 10_000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.report.verdict, Verdict::Refuted);
    let (s, t) = p.pair.unwrap_or_else(|| panic!("no pair"));
    assert_eq!((s[row3], t[row3]), (9, 10));
    // Other rows cannot change the action.
    let row4 = r
        .index(Feature::Free { row: 4, res: 0 })
        .unwrap_or_else(|| unreachable!());
    let p = decide_pair(&*net, Compare::Raw, &r, row4, 10_000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.report.verdict, Verdict::Proved);
}

/// Every pair of the region by brute force: `(pairs, pairs with two actions)`.
fn brute_force<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    compare: Compare,
    r: &Region,
) -> (u64, u64) {
    let (mut pairs, mut bad) = (0, 0);
    for i in horizon_features(r.m) {
        let Some(mut first) = first_copies(r, i) else {
            continue;
        };
        if !first.tighten() {
            continue;
        }
        let vary: Vec<usize> = (0..first.lo.len())
            .filter(|&j| !matches!(Feature::at(j, r.m), Some(Feature::Wait { .. })))
            .collect();
        let mut p = first.lo.clone();
        'points: loop {
            let mut s = p.clone();
            realize(&Region::all(r.m), &mut s);
            if let Some((_, differ)) = pair_at(net, compare, r, &first, i, &s) {
                pairs += 1;
                bad += u64::from(differ);
            }
            for &j in &vary {
                if p[j] < first.hi[j] {
                    p[j] += 1;
                    continue 'points;
                }
                p[j] = first.lo[j];
            }
            break;
        }
    }
    (pairs, bad)
}

/// The shipped DeepRM-trained model on a small region of fitting jobs and rows 0 and 1 one unit
/// from full: proved, and every one of its pairs, enumerated, agrees.
#[test]
fn a_proof_on_the_shipped_model_agrees_with_brute_force() {
    let model =
        whitebox_runtime::models::load(std::path::Path::new("../fixtures/models/deeprm.model"))
            .unwrap_or_else(|e| panic!("{e:#}"));
    let net = model
        .net
        .net::<whitebox_core::encoding::Compact, 10, { compact_len(10) }, 11>()
        .unwrap_or_else(|| panic!("compact, 10 slots"));
    let r = parse_region(
        "free[0..1].res0=9..10, free[2..19].res0=10, free[*].res1=10, slot[0].len=1..5, \
         slot[0].res0=1..5, slot[0].res1=1..5, slot[1..9].len=0, backlog=0, since_new=0..2",
        Region::all(10),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let o = crate::verify::suite::check_robust::<10, { compact_len(10) }, 11>(
        net,
        Compare::Raw,
        &r,
        100_000,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((o.verdict, o.queries), (Verdict::Proved, 2), "{:?}", o.open);
    // Rows 0 and 1: 1 x 2 (row 0 at 9, row 1 at 9 or 10) and 2 x 1 first copies, each with
    // 5 lengths x 25 demands x 3 counters.
    assert_eq!(brute_force(net, Compare::Raw, &r), (2 * 2 * 5 * 25 * 3, 0));
}

/// A planted edge the brute force finds too: the same region for [`row3_edge`] restricted to
/// rows 0..=3 has violating pairs exactly where row 3 moves from 9 to 10.
#[test]
fn brute_force_and_branch_and_bound_agree_on_a_planted_edge() {
    let net = row3_edge();
    let r = parse_region(
        "free[0..3].res0=9..10, free[4..19].res0=10, free[*].res1=10, slot[0].len=1..3",
        one_job_region(5).widened(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (pairs, bad) = brute_force(&*net, Compare::Raw, &r);
    assert!(bad > 0 && bad < pairs, "{bad} of {pairs}");
    let o = robust(&net, &r);
    assert_eq!(o.verdict, Verdict::Refuted);
}

/// Slot 0 (the job) scores -1, void -2; the empty slots 1 and 2 compete: slot 1 while row 3
/// of resource 0 is fully free, slot 2 once it has 9 free units or fewer
/// (`100 (1 - free/10) - 5 > 0` exactly when free <= 9). Slots 3 and 4 score -1.
fn empty_slots_flip() -> Box<Net5> {
    let mut net = Box::new(Net5::zeroed());
    net.b2 = [-1.0, 1.0, 0.0, -1.0, -1.0, -2.0];
    let row3 = Region::all(5)
        .index(Feature::Free { row: 3, res: 0 })
        .unwrap_or_else(|| unreachable!());
    net.w1[0][row3] = -100.0;
    net.b1[0] = 95.0;
    net.w2[2][0] = 2.0;
    net
}

fn robust_as(net: &Net5, compare: Compare, r: &Region) -> crate::verify::Outcome {
    crate::verify::suite::check_robust::<5, { compact_len(5) }, 6>(net, compare, r, 10_000)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Raw `occupancy-robust` fails between two empty slots (both move time on); the effective
/// property holds on the whole default region (2^40 occupancies: proved by move-on hulls, not
/// by enumeration).
#[test]
fn a_flip_between_empty_slots_is_refuted_raw_and_proved_effective() {
    let net = empty_slots_flip();
    let r = robust_region(5);
    let raw = robust_as(&net, Compare::Raw, &r);
    assert_eq!(raw.verdict, Verdict::Refuted);
    let c = raw.open[0]
        .counterexample
        .as_ref()
        .unwrap_or_else(|| panic!("no pair"));
    assert_eq!(action(&c.logits), 2);
    let eff = robust_as(&net, Compare::Effective, &r);
    assert_eq!(eff.verdict, Verdict::Proved, "{:?}", eff.open);
    assert_eq!(eff.queries, 40);
    assert!(
        eff.bounded_leaves >= 40 && eff.evaluated_leaves == 0,
        "{eff:?}"
    );
}

/// Planted: as [`empty_slots_flip`], but row 3 at 9 free units or fewer makes slot 0 (the job,
/// which fits: rows 9 or 10 free, demands at most 9 here) win instead of slot 2: a real start
/// against a move-on. The effective property is refuted with that pair, through the real policy.
#[test]
fn a_planted_job_start_flip_is_refuted_effective() {
    let mut net = empty_slots_flip();
    net.w2[2][0] = 0.0;
    net.w2[0][0] = 3.0;
    let r = parse_region("slot[0].res0=1..9, slot[0].res1=1..9", robust_region(5))
        .unwrap_or_else(|e| panic!("{e}"));
    let o = robust_as(&net, Compare::Effective, &r);
    assert_eq!(o.verdict, Verdict::Refuted);
    let (c, d) = (
        o.open[0]
            .counterexample
            .as_ref()
            .unwrap_or_else(|| panic!("no pair")),
        o.open[0]
            .neighbour
            .as_ref()
            .unwrap_or_else(|| panic!("no neighbour")),
    );
    assert_eq!(
        (at(c, "free[3].res0"), at(d, "free[3].res0")),
        (Some(9), Some(10))
    );
    assert_eq!((action(&c.logits), action(&d.logits)), (0, 1));
    let (a, b) = (
        o.replay.as_ref().unwrap_or_else(|| panic!("not replayed")),
        o.neighbour_replay
            .as_ref()
            .unwrap_or_else(|| panic!("not replayed")),
    );
    assert_eq!(
        (a.decisions[0].as_str(), b.decisions[0].as_str()),
        ("slot 0", "slot 1")
    );
}
