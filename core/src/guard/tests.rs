use super::*;
use crate::episode::run;
use crate::workload::{JobGenerator, Workload};
use crate::Sjf;

const SCALE: u64 = INV_LEN_SCALE;

fn job(id: u32, arrival: u32, len: u32, res: [u32; 2]) -> Job {
    Job::new(id, arrival, len, res).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Longest job first among the jobs that fit now: a deliberately bad "learned" policy.
#[derive(Clone, Copy, Debug, Default)]
struct LongestFirst;

impl<const M: usize> Scheduler<M> for LongestFirst {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        let mut best: Option<(usize, u8)> = None;
        for (i, j) in cluster.slots().iter().enumerate() {
            if let Some(j) = j.as_ref().filter(|j| cluster.fits_now(j)) {
                if best.is_none_or(|(_, len)| j.len > len) {
                    best = Some((i, j.len));
                }
            }
        }
        Ok(best.map_or(Action::Void, |(i, _)| Action::Schedule(i)))
    }
}

/// `simu_len` time steps of DeepRM's workload at `rate`, seeded.
fn deeprm_jobs(rate: f64, seed: u64) -> heapless::Vec<Job, 256> {
    JobGenerator::new(Workload::DeepRm, rate, 100, seed)
        .take(256)
        .collect()
}

fn params(mode: GuardMode, eps: f32, c: f32) -> GuardParams {
    GuardParams::new(mode, eps, c).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Plays `jobs` guarded; returns the real episode's total charge and the guard.
fn guarded<'a, L: Scheduler<5>>(
    jobs: &'a [Job],
    learned: L,
    p: GuardParams,
) -> (u64, Guard<'a, L, Sjf, 5>) {
    let end = EndMode::AllDone { time_cap: 10_000 };
    let mut guard = Guard::new(learned, Sjf, p, jobs, end).unwrap_or_else(|e| unreachable!("{e}"));
    let mut ep: Episode<'_, 5> =
        Episode::new(jobs, end, &mut ()).unwrap_or_else(|e| unreachable!("{e}"));
    run(&mut ep, &mut guard, &mut ()).unwrap_or_else(|e| unreachable!("{e}"));
    guard
        .settle(ep.cluster())
        .unwrap_or_else(|e| unreachable!("{e}"));
    (ep.charged().inv_len_scaled, guard)
}

fn pure<S: Scheduler<5>>(jobs: &[Job], mut s: S) -> u64 {
    let end = EndMode::AllDone { time_cap: 10_000 };
    let mut ep: Episode<'_, 5> =
        Episode::new(jobs, end, &mut ()).unwrap_or_else(|e| unreachable!("{e}"));
    run(&mut ep, &mut s, &mut ()).unwrap_or_else(|e| unreachable!("{e}"));
    ep.charged().inv_len_scaled
}

#[test]
fn parameters_out_of_range_name_the_parameter_value_and_range() {
    let e = GuardParams::new(GuardMode::Renewal, -0.1, 1.0);
    assert_eq!(
        e,
        Err(GuardError::OutOfRange {
            param: "eps",
            value: -0.1,
            min: 0.0,
            max: EPS_MAX
        })
    );
    let e = GuardParams::new(GuardMode::Budget, 0.1, f32::NAN);
    assert!(matches!(e, Err(GuardError::OutOfRange { param: "c", .. })));
    assert!(GuardParams::new(GuardMode::Budget, 10.5, 0.0).is_err());
    let p = params(GuardMode::Budget, 0.1, 5.0);
    assert_eq!((p.eps(), p.c()), (0.1, 5.0));
}

#[test]
fn budget_test_by_hand() {
    // real <= 1.1 * sjf + c, exactly.
    let p = params(GuardMode::Renewal, 0.1, 0.0);
    assert!(p.within(110, 100));
    assert!(!p.within(111, 100));
    let p = params(GuardMode::Renewal, 0.1, 1.0);
    assert!(p.within(110 + SCALE, 100));
    assert!(!p.within(111 + SCALE, 100));
}

/// Two pairs of jobs, each a full-cluster job of length 10 and one of length 1 arriving
/// together (at 0 and at 20). By hand: SJF charges 1.1 at the pair's first step and 0.1 for ten
/// steps, 2.1 per pair; longest-first charges 1.1 for ten steps and 1.0 for one, 12 per pair.
/// Both empty the cluster at the pair's 11th step, a renewal.
fn two_pairs() -> [Job; 4] {
    [
        job(0, 0, 10, [10, 10]),
        job(1, 0, 1, [10, 10]),
        job(2, 20, 10, [10, 10]),
        job(3, 20, 1, [10, 10]),
    ]
}

#[test]
fn hand_calculated_pairs_match_the_theorem_with_equality() {
    let jobs = two_pairs();
    assert_eq!(pure(&jobs, Sjf), 42 * SCALE / 10);
    assert_eq!(pure(&jobs, LongestFirst), 24 * SCALE);
    for mode in [GuardMode::Renewal, GuardMode::Budget] {
        // eps = c = 0: the learned policy starts, loses 9.9 in its first round, and SJF runs the
        // second pair: R = 12 + 2.1 = 14.1 = S + L.
        let (real, guard) = guarded(&jobs, LongestFirst, params(mode, 0.0, 0.0));
        assert_eq!(real, 141 * SCALE / 10, "{mode:?}");
        assert_eq!(guard.real_cost(), real);
        assert_eq!(guard.sjf_cost(), 42 * SCALE / 10, "{mode:?}");
        assert_eq!(guard.leader(), Leader::Fallback);
        assert_eq!(guard.stats().handovers, 1);
        if mode == GuardMode::Renewal {
            assert_eq!(guard.stats().worst_round_loss, 99 * SCALE / 10);
        }
    }
}

#[test]
fn lookahead_overrides_the_long_first_start_by_hand() {
    let jobs = two_pairs();
    // At step 0 longest-first starts the length-10 job. Draining that state with SJF charges
    // steps 1..=10: the long job 0.1 for steps 1..=9, the short one 1 for steps 1..=10, so
    // 10.9, and 1.1 for step 0: 12. SJF's shadow: 1.1 + 1.0 (the long job over steps 1..=10)
    // = 2.1. 12 > 2.1, so SJF's choice is taken; the same at step 20. The run is SJF's.
    let (real, guard) = guarded(&jobs, LongestFirst, params(GuardMode::Lookahead, 0.0, 0.0));
    assert_eq!(real, 42 * SCALE / 10);
    assert_eq!(guard.sjf_cost(), 42 * SCALE / 10);
    assert_eq!(guard.stats().overrides, 2);
    assert_eq!(guard.stats().handovers, 1);
    assert_eq!(guard.leader(), Leader::Fallback);
    // With c = 10 slowdown units the first loss of 9.9 is within budget, the second is not.
    let (real, guard) = guarded(&jobs, LongestFirst, params(GuardMode::Lookahead, 0.0, 10.0));
    assert_eq!(real, 141 * SCALE / 10);
    assert_eq!(guard.stats().overrides, 1);
}

#[test]
fn drain_by_hand() {
    // One length-3 job waiting alone: SJF starts it now, it is charged 1/3 at steps 1 and 2.
    let mut c: Cluster<5> = Cluster::new();
    c.submit(job(0, 0, 3, [5, 5])).ok();
    assert_eq!(drain(&mut Sjf, c.clone(), 0), Ok(2 * SCALE / 3));
    // From an empty cluster nothing is charged.
    assert_eq!(drain(&mut Sjf, Cluster::<5>::new(), 0), Ok(0));
}

#[test]
fn guarding_sjf_with_sjf_is_sjf_with_a_renewal_every_step() {
    let jobs = deeprm_jobs(0.7, 3);
    let (real, guard) = guarded(&jobs, Sjf, params(GuardMode::Renewal, 0.0, 0.0));
    assert_eq!(real, pure(&jobs, Sjf));
    let s = guard.stats();
    assert_eq!(
        (s.renewals, s.handovers, s.worst_round_loss),
        (s.steps, 0, 0)
    );
    assert_eq!(s.learned_steps, s.steps);
}

#[test]
fn renewal_guard_bound_holds_against_a_bad_policy() {
    for seed in 0..20 {
        let jobs = deeprm_jobs(0.7, seed);
        let p = params(GuardMode::Renewal, 0.1, 5.0);
        let (real, guard) = guarded(&jobs, LongestFirst, p);
        let sjf = pure(&jobs, Sjf);
        assert_eq!(
            guard.sjf_cost(),
            sjf,
            "seed {seed}: SJF's cost along the rounds"
        );
        let bound = u128::from(sjf) * 1100 / 1000
            + 5 * u128::from(SCALE)
            + u128::from(guard.stats().worst_round_loss);
        assert!(u128::from(real) <= bound, "seed {seed}: {real} > {bound}");
    }
}

/// The names traces use (written by the runtime, read by the firmware's build script), checked
/// against the documented spelling, one per value and back.
#[test]
fn guard_names_are_the_documented_ones_and_parse_back() {
    let modes = GuardMode::ALL.map(GuardMode::name);
    assert_eq!(modes, ["renewal", "budget", "lookahead"]);
    let leaders = Leader::ALL.map(Leader::name);
    assert_eq!(leaders, ["learned", "fallback"]);
    let reasons = HandoverReason::ALL.map(HandoverReason::name);
    assert_eq!(
        reasons,
        [
            "start",
            "renewal-within-budget",
            "renewal-over-budget",
            "within-budget",
            "over-budget",
            "drain-within-budget",
            "drain-over-budget"
        ]
    );
    for m in GuardMode::ALL {
        assert_eq!(GuardMode::from_name(m.name()), Some(m));
    }
    for l in Leader::ALL {
        assert_eq!(Leader::from_name(l.name()), Some(l));
    }
    for r in HandoverReason::ALL {
        assert_eq!(HandoverReason::from_name(r.name()), Some(r));
    }
    assert_eq!(GuardMode::from_name("Renewal"), None);
    assert_eq!(Leader::from_name("sjf"), None);
    assert_eq!(HandoverReason::from_name(""), None);
}

/// Plays `jobs` guarded against SJF with `repair` making the real fallback decisions; returns
/// the real episode's charge and the guard's SJF cost.
fn repaired<R: RealFallback<Sjf, 5>>(jobs: &[Job], p: GuardParams, repair: R) -> (u64, u64) {
    let end = EndMode::AllDone { time_cap: 10_000 };
    let mut g = Guard::with_repair(LongestFirst, Sjf, repair, p, jobs, end)
        .unwrap_or_else(|e| unreachable!("{e}"));
    let mut ep: Episode<'_, 5> =
        Episode::new(jobs, end, &mut ()).unwrap_or_else(|e| unreachable!("{e}"));
    run(&mut ep, &mut g, &mut ()).unwrap_or_else(|e| unreachable!("{e}"));
    g.settle(ep.cluster())
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(g.real_cost(), ep.charged().inv_len_scaled);
    (g.real_cost(), g.sjf_cost())
}

/// With a repairing fallback the shadow stays pure SJF (its cost is SJF's own charge), the real
/// fallback decisions are the repair scheduler's, and a repair that decides as the fallback
/// changes nothing.
#[test]
fn a_repair_scheduler_makes_only_the_real_fallback_decisions() {
    let jobs = deeprm_jobs(0.9, 11);
    let sjf = pure(&jobs, Sjf);
    for mode in [GuardMode::Budget, GuardMode::Lookahead] {
        let p = params(mode, 0.1, 5.0);
        let (plain, _) = guarded(&jobs, LongestFirst, p);
        let same = repaired(&jobs, p, Repair(Sjf));
        let reserve = repaired(&jobs, p, Repair(crate::SjfReserve));
        // The fallback chosen by name builds the same guards.
        let named = |k| repaired(&jobs, p, NamedFallback::<6>::new(k, None));
        assert_eq!(named(FallbackKind::Sjf), same, "{mode:?}");
        assert_eq!(named(FallbackKind::SjfReserve), reserve, "{mode:?}");
        let aged = repaired(&jobs, p, Repair(crate::SjfReserveAged));
        assert_eq!(named(FallbackKind::SjfReserveAged), aged, "{mode:?}");
        assert_eq!(
            same,
            (plain, sjf),
            "{mode:?}: Repair(Sjf) is the plain guard"
        );
        assert_eq!(reserve.1, sjf, "{mode:?}: the shadow stays SJF");
        // This sequence hands over to the fallback, so the repair changes the real schedule.
        assert_ne!(reserve.0, plain, "{mode:?}");
    }
}
