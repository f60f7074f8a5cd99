use super::*;
use whitebox_core::encoding::{compact_len, Compact, Encoder};
use whitebox_core::{Cluster, Job};

type Net5 = Mlp<{ compact_len(5) }, HIDDEN, 6>;

/// Slots score 1 and void 0 whatever the state: no-idle obviously holds.
fn slots_first() -> Box<Net5> {
    let mut net = Box::new(Net5::zeroed());
    net.b2 = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0];
    net
}

/// As [`slots_first`], plus one hidden unit that fires only when slot 0 holds a job of length
/// 20 (`20 * len/20 - 19.5 > 0` exactly when len = 20) and lifts void to 5: on an idle cluster
/// with such a job, void is ranked first.
fn planted() -> Box<Net5> {
    let mut net = slots_first();
    let len0 = Region::all(5)
        .index(Feature::Len { slot: 0 })
        .unwrap_or_else(|| unreachable!());
    net.w1[0][len0] = 20.0;
    net.b1[0] = -19.5;
    net.w2[5][0] = 10.0;
    net
}

#[test]
fn a_property_that_obviously_holds_is_proved_by_one_bound_per_region() {
    let o = verify_net(&*slots_first(), 5, Property::NoIdle, 100).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((o.verdict, o.proved, o.queries), (Verdict::Proved, 5, 5));
    assert_eq!(o.branches, 5);
}

#[test]
fn a_planted_idling_region_is_refuted_and_the_state_replays_through_the_policy() {
    let net = planted();
    let o = verify_net(&*net, 5, Property::NoIdle, 10_000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Refuted);
    let c = o.open[0]
        .counterexample
        .clone()
        .unwrap_or_else(|| panic!("no counterexample"));
    let units = |name: &str| c.features.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    assert_eq!(units("slot0.len"), Some(20));
    // Replay: an idle cluster with that job in slot 0, encoded by the real encoder and decided
    // by the real policy without the liveness mask, chooses void.
    let (r0, r1) = (
        units("slot0.res0").unwrap_or(0),
        units("slot0.res1").unwrap_or(0),
    );
    let mut cluster: Cluster<5> = Cluster::new();
    let job = Job::new(0, 0, 20, [u32::from(r0), u32::from(r1)]).unwrap_or_else(|e| panic!("{e}"));
    cluster.submit(job).unwrap_or_else(|e| panic!("{e}"));
    let mut x = [0.0f32; compact_len(5)];
    Compact::encode(&cluster, &mut x);
    let mut policy =
        whitebox_core::nn::MlpPolicy::<'_, Compact, 5, { compact_len(5) }, HIDDEN, 6>::new(
            &net, false,
        );
    use whitebox_core::Scheduler;
    assert_eq!(policy.decide(&cluster), Ok(whitebox_core::Action::Void));
}

/// Soundness: a random network with void pushed down is proved; then no random consistent state
/// of any region contradicts the proof.
#[test]
fn proved_answers_survive_random_states() {
    let mut rng = Pcg64::seed_from_u64(5);
    let mut net = Box::new(Net5::zeroed());
    for p in net.params_mut() {
        *p = rng.random_range(-0.05f32..0.05);
    }
    net.b2[5] = -3.0;
    let o = verify_net(&*net, 5, Property::NoIdle, 10_000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Proved, "{o:?}");
    for q in Property::NoIdle.queries(5) {
        for _ in 0..20_000 {
            let mut p = q.region.point(|_, lo, hi| rng.random_range(lo..=hi));
            realize(&q.region, &mut p);
            if inside(&q.region, &p) {
                assert!(q.holds.check(&logits_at(&*net, &q.region, &p)), "{p:?}");
            }
        }
    }
}

/// Slot 0 scores `1 + 3 relu(z) - 3 relu(z)` with `z = 4 len0/20 - 2` (two units computing the
/// same `z`), void 0: slot 0 always scores 1, but CROWN relaxes the two units apart (lower bound
/// below 0 at the root). Splitting one unit's phase fixes the other's, and the query is proved.
fn cancelling() -> Box<Net5> {
    let mut net = Box::new(Net5::zeroed());
    let len0 = Region::all(5)
        .index(Feature::Len { slot: 0 })
        .unwrap_or_else(|| unreachable!());
    for j in [0, 1] {
        net.w1[j][len0] = 4.0;
        net.b1[j] = -2.0;
    }
    net.w2[0][0] = 3.0;
    net.w2[0][1] = -3.0;
    // Slots 1 to 4 score -1 (below void): only slot 0 can beat void.
    net.b2 = [1.0, -1.0, -1.0, -1.0, -1.0, 0.0];
    net
}

#[test]
fn relu_splitting_proves_what_one_crown_bound_cannot() {
    let net = cancelling();
    let q = &Property::NoIdle.queries(5)[0];
    assert_eq!(
        q.region.lo[q.region.index(Feature::Len { slot: 0 }).unwrap_or(0)],
        1
    );
    let (lo, hi) = q.region.input_box();
    let bx = InputBox::new(
        lo.try_into().unwrap_or_else(|_| unreachable!()),
        hi.try_into().unwrap_or_else(|_| unreachable!()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut spec = [0.0f32; 6];
    (spec[0], spec[5]) = (1.0, -1.0);
    let root = phase_lower(&*net, &bx, &spec, &[Phase::Free; HIDDEN], None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(root.lower < 0.0, "CROWN alone proves it: {}", root.lower);
    let o = verify_net(&*net, 5, Property::NoIdle, 1_000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Proved, "{o:?}");
    let relu_splits = o
        .certificates
        .iter()
        .flat_map(|c| &c.nodes)
        .filter(|n| {
            matches!(
                n,
                CertNode::Split {
                    on: SplitOn::Relu { .. },
                    ..
                }
            )
        })
        .count();
    assert!(relu_splits >= 1, "{:?}", o.certificates[0]);
}
