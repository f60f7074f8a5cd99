//! The image observation updated in place ([`update_image`]) equals the full rebuild
//! ([`encode_image`]) bit for bit after every step of many episodes: every workload, rates from
//! light to overloaded (full backlogs, rejections), 5 and 10 job slots, decided by SJF, Packer,
//! Tetris, Random, arbitrary (partly invalid) actions and a learned image policy, whose
//! observation must be the rebuild too. Also when one memo follows unrelated clusters.

use proptest::prelude::*;
use whitebox_core::encoding::Image;
use whitebox_core::image::{encode_image, image_len, update_image, ImageMemo};
use whitebox_core::nn::{Mlp, MlpPolicy};
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::{
    Action, Cluster, EndMode, Episode, Job, Packer, RandomPolicy, Scheduler, Sjf, Tetris,
};

/// Who decides the episode's steps.
#[derive(Clone, Debug)]
enum Decider {
    Sjf,
    Packer,
    Tetris,
    Random(u64),
    /// These output indices first (some beyond `M`: invalid slots), then SJF.
    Actions(Vec<usize>),
}

fn decider() -> impl Strategy<Value = Decider> {
    prop_oneof![
        Just(Decider::Sjf),
        Just(Decider::Packer),
        Just(Decider::Tetris),
        any::<u64>().prop_map(Decider::Random),
        prop::collection::vec(0usize..14, 0..300).prop_map(Decider::Actions),
    ]
}

fn workload() -> impl Strategy<Value = Workload> {
    prop::sample::select(Workload::ALL.to_vec())
}

/// A generated job set; rates up to 3 jobs per step overflow the backlog.
fn generated() -> impl Strategy<Value = Vec<Job>> {
    (
        workload(),
        prop::sample::select(vec![0.1, 0.3, 0.5, 0.7, 0.9, 1.5, 3.0]),
        10u32..80,
        any::<u64>(),
    )
        .prop_map(|(w, rate, simu_len, seed)| JobGenerator::new(w, rate, simu_len, seed).collect())
}

/// Plays `jobs` with `decider`, and before every decision and after the last step checks the
/// updated image against the full rebuild. Returns the number of states checked.
fn check_episode<const M: usize, const N: usize>(jobs: &[Job], decider: &Decider) -> usize {
    let end = EndMode::AllDone { time_cap: 3_000 };
    let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut ()).expect("generated jobs");
    let mut memo = ImageMemo::<M>::new();
    // Garbage in the buffer: the first update must overwrite every cell.
    let mut kept = [f32::NAN; N];
    let mut full = [0.0f32; N];
    let mut random = RandomPolicy::new(match decider {
        Decider::Random(seed) => *seed,
        _ => 0,
    });
    let mut checked = 0;
    for k in 0.. {
        update_image(&mut memo, ep.cluster(), &mut kept);
        encode_image(ep.cluster(), &mut full);
        assert_eq!(
            kept.map(f32::to_bits),
            full.map(f32::to_bits),
            "state {k}, time step {}",
            ep.cluster().now()
        );
        checked += 1;
        if ep.is_done() {
            break;
        }
        let cluster = ep.cluster();
        let action = match decider {
            Decider::Sjf => Sjf.decide(cluster),
            Decider::Packer => Packer.decide(cluster),
            Decider::Tetris => Tetris::default().decide(cluster),
            Decider::Random(_) => random.decide(cluster),
            Decider::Actions(list) => match list.get(k) {
                Some(&i) => Ok(Action::from_index(i, M).unwrap_or(Action::Schedule(i))),
                None => Sjf.decide(cluster),
            },
        }
        .expect("baselines decide");
        ep.step(action, &mut ());
    }
    checked
}

/// A learned image policy (fixed pseudo-random weights) plays `jobs`; after each of its
/// evaluations its observation is the full rebuild of the state it decided on.
fn check_policy<const M: usize, const I: usize, const O: usize>(jobs: &[Job], seed: u32) {
    let mut net: Box<Mlp<I, 20, O>> = Box::new(Mlp::zeroed());
    let mut state = seed | 1;
    for p in net.params_mut() {
        // xorshift32: weights in about [-0.1, 0.1]; their values do not matter here.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        *p = (state as f32 / u32::MAX as f32 - 0.5) * 0.2;
    }
    let mut policy: MlpPolicy<'_, Image, M, I, 20, O> = MlpPolicy::new(&net, true);
    let end = EndMode::AllDone { time_cap: 3_000 };
    let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut ()).expect("generated jobs");
    let mut full = [0.0f32; I];
    while !ep.is_done() {
        let action = policy.decide(ep.cluster()).expect("finite logits");
        encode_image(ep.cluster(), &mut full);
        assert_eq!(policy.obs().map(f32::to_bits), full.map(f32::to_bits));
        ep.step(action, &mut ());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn updated_image_equals_rebuild_every_step(jobs in generated(), decider in decider()) {
        let states = check_episode::<5, { image_len(5) }>(&jobs, &decider)
            + check_episode::<10, { image_len(10) }>(&jobs, &decider);
        prop_assert!(states >= 2);
    }

    #[test]
    fn learned_image_policy_sees_the_rebuild(jobs in generated(), seed in any::<u32>()) {
        check_policy::<5, { image_len(5) }, 6>(&jobs, seed);
        check_policy::<10, { image_len(10) }, 11>(&jobs, seed);
    }

    /// One memo follows the states of two unrelated episodes alternately: the update must not
    /// rely on the states being successive.
    #[test]
    fn unrelated_states_in_turn(a in generated(), b in generated()) {
        let end = EndMode::AllDone { time_cap: 3_000 };
        let mut ea: Episode<'_, 10> = Episode::new(&a, end, &mut ()).expect("jobs");
        let mut eb: Episode<'_, 10> = Episode::new(&b, end, &mut ()).expect("jobs");
        let mut memo = ImageMemo::<10>::new();
        let mut kept = [0.0f32; image_len(10)];
        let mut full = [0.0f32; image_len(10)];
        let mut check = |c: &Cluster<10>| {
            update_image(&mut memo, c, &mut kept);
            encode_image(c, &mut full);
            assert_eq!(kept.map(f32::to_bits), full.map(f32::to_bits));
        };
        while !(ea.is_done() && eb.is_done()) {
            for ep in [&mut ea, &mut eb] {
                check(ep.cluster());
                if !ep.is_done() {
                    let action = Sjf.decide(ep.cluster()).expect("sjf");
                    ep.step(action, &mut ());
                }
            }
        }
    }
}

/// An update to the state the buffer already shows writes nothing (a poisoned cell stays), so
/// the update really is in place and not a rebuild.
#[test]
fn empty_cluster_needs_no_writes_after_the_first_update() {
    let c: Cluster<5> = Cluster::new();
    let mut memo = ImageMemo::<5>::new();
    let mut kept = [f32::NAN; image_len(5)];
    update_image(&mut memo, &c, &mut kept);
    assert!(kept.iter().all(|&v| v == 0.0));
    // Poison one cell the image does not change for this state: a second update with the
    // same state must leave it, showing that nothing is rewritten.
    kept[7] = 0.5;
    update_image(&mut memo, &c, &mut kept);
    assert_eq!(kept[7], 0.5);
}
