//! Property tests of the simulator: job conservation, capacity, reward accounting, determinism.
//! Each invariant is checked against state rebuilt independently from the event stream.

use proptest::prelude::*;
use whitebox_core::spec::{HORIZON, NUM_RES, RES_UNITS};
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::{
    run, Action, Cluster, EndMode, Episode, Event, Job, Observer, Packer, RandomPolicy, Scheduler,
    Sjf, Step, Summary, Tetris,
};
use whitebox_runtime::record::Recorder;

/// Arbitrary valid job sequences, with bursts so the backlog can overflow.
fn jobs_strategy() -> impl Strategy<Value = Vec<Job>> {
    prop::collection::vec((0u32..4, 1u32..=20, 0u32..=10, 0u32..=10, 0u32..40), 0..120).prop_map(
        |raw| {
            let mut arrival = 0;
            raw.into_iter()
                .enumerate()
                .map(|(id, (gap, len, r0, r1, burst))| {
                    // Mostly many jobs per step (burst >= 8 keeps the time step) to fill the backlog.
                    if burst < 8 {
                        arrival += gap;
                    }
                    Job::new(id as u32, arrival, len, [r0, r1]).expect("generated in range")
                })
                .collect()
        },
    )
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Status {
    NotArrived,
    Waiting,
    Running { finish: u32 },
    Completed,
    Rejected,
}

/// Tracks every job's status and every allocation from events alone.
struct Ledger {
    status: Vec<Status>,
    allocations: Vec<(Job, u32, u32)>,
    now: u32,
}

impl Observer for Ledger {
    fn on_event(&mut self, event: &Event) {
        match *event {
            Event::Arrived { job, .. } => self.status[job.id as usize] = Status::Waiting,
            Event::Rejected { job, .. } => self.status[job.id as usize] = Status::Rejected,
            Event::Decided { step, .. } => match step {
                Step::Allocated {
                    job, start, finish, ..
                } => {
                    assert_eq!(self.status[job.id as usize], Status::Waiting);
                    self.status[job.id as usize] = Status::Running { finish };
                    self.allocations.push((job, start, finish));
                }
                Step::MovedOn { ended, .. } => {
                    self.now = ended + 1;
                    for s in &mut self.status {
                        if matches!(*s, Status::Running { finish } if finish <= self.now) {
                            *s = Status::Completed;
                        }
                    }
                }
            },
        }
    }
}

/// Plays `actions` (as output indices, some out of range), then SJF, checking invariants at
/// every step. Returns the summary and the ledger.
fn play<const M: usize>(jobs: &[Job], actions: &[usize], end: EndMode) -> (Summary, Ledger) {
    let mut ledger = Ledger {
        status: vec![Status::NotArrived; jobs.len()],
        allocations: Vec::new(),
        now: 0,
    };
    let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut ledger).expect("valid jobs");
    let mut k = 0;
    while !ep.is_done() {
        let action = match actions.get(k) {
            Some(&i) if i <= M => Action::from_index(i, M).expect("in range"),
            Some(&i) => Action::Schedule(i),
            None => Scheduler::<M>::decide(&mut Sjf, ep.cluster()).expect("sjf"),
        };
        k += 1;
        ep.step(action, &mut ledger);
        check_state(ep.cluster(), &ledger);
    }
    (ep.summary(), ledger)
}

fn check_state<const M: usize>(cluster: &Cluster<M>, ledger: &Ledger) {
    let now = cluster.now();
    assert_eq!(ledger.now.max(now), now);
    // Conservation: the cluster's counts equal the ledger's, job by job status.
    let count = |f: fn(&Status) -> bool| ledger.status.iter().filter(|s| f(s)).count() as u32;
    assert_eq!(cluster.waiting().jobs, count(|s| *s == Status::Waiting));
    assert_eq!(
        cluster.in_flight().jobs,
        count(|s| matches!(s, Status::Running { .. }))
    );
    // Capacity: usage rebuilt from allocations never exceeds capacity and matches `avbl`.
    for t in 0..HORIZON as u32 {
        let mut used = [0u32; NUM_RES];
        for &(job, start, finish) in &ledger.allocations {
            if start <= now + t && now + t < finish {
                for (u, &d) in used.iter_mut().zip(job.res.iter()) {
                    *u += u32::from(d);
                }
            }
        }
        for (&u, &free) in used.iter().zip(cluster.avbl()[t as usize].iter()) {
            assert!(u <= u32::from(RES_UNITS), "over capacity at {}", now + t);
            assert_eq!(u32::from(free), u32::from(RES_UNITS) - u);
        }
    }
}

fn check_episode<const M: usize>(jobs: &[Job], actions: &[usize]) {
    let (summary, ledger) = play::<M>(jobs, actions, EndMode::AllDone { time_cap: 2_000 });
    assert!(!summary.truncated);
    // Every job ends completed or rejected, and the summary agrees.
    let rejected = ledger
        .status
        .iter()
        .filter(|s| **s == Status::Rejected)
        .count() as u32;
    assert!(ledger
        .status
        .iter()
        .all(|s| matches!(s, Status::Completed | Status::Rejected)));
    assert_eq!(summary.rejected, rejected);
    assert_eq!(summary.completed + rejected, jobs.len() as u32);
    // All-done return = -(sum of slowdowns), slowdowns computed here from the allocations.
    let sum_sd: f64 = ledger
        .allocations
        .iter()
        .map(|(job, _, finish)| f64::from(finish - job.arrival) / f64::from(job.len))
        .sum();
    assert!(
        (summary.total_reward + sum_sd).abs() < 1e-9 * sum_sd.max(1.0),
        "return {} vs -sum slowdown {}",
        summary.total_reward,
        -sum_sd
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("WHITEBOX_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
    ))]

    #[test]
    fn conservation_capacity_and_return_m5(
        jobs in jobs_strategy(),
        actions in prop::collection::vec(0usize..8, 0..300),
    ) {
        check_episode::<5>(&jobs, &actions);
    }

    #[test]
    fn conservation_capacity_and_return_m10(
        jobs in jobs_strategy(),
        actions in prop::collection::vec(0usize..13, 0..300),
    ) {
        check_episode::<10>(&jobs, &actions);
    }

    #[test]
    fn no_new_job_accounts_for_every_job(
        jobs in jobs_strategy(),
        actions in prop::collection::vec(0usize..8, 0..300),
        simu_len in 0u32..40,
    ) {
        let (s, ledger) = play::<5>(&jobs, &actions, EndMode::NoNewJob { simu_len });
        let not_arrived = ledger.status.iter().filter(|s| **s == Status::NotArrived).count() as u32;
        prop_assert_eq!(s.not_arrived, not_arrived);
        prop_assert_eq!(s.final_time, simu_len);
        prop_assert_eq!(
            s.completed + s.running + s.waiting + s.rejected + s.not_arrived,
            jobs.len() as u32
        );
        prop_assert_eq!(s.allocated, s.completed + s.running);
    }

    /// The greedy baselines start a job whenever one fits now (zero-demand jobs included: see
    /// docs/deeprm-differences.md item 17), so every admitted job finishes long before the cap.
    #[test]
    fn greedy_baselines_finish_every_admitted_job(jobs in jobs_strategy()) {
        let mut schedulers: [(&str, Box<dyn Scheduler<10>>); 5] = [
            ("sjf", Box::new(Sjf)),
            ("packer", Box::new(Packer)),
            ("tetris0", Box::new(Tetris { knob: 0.0 })),
            ("tetris", Box::new(Tetris::default())),
            ("tetris1", Box::new(Tetris { knob: 1.0 })),
        ];
        for (name, scheduler) in &mut schedulers {
            let mut rec = Recorder::new(&jobs, 10);
            let mut ep: Episode<'_, 10> =
                Episode::new(&jobs, EndMode::AllDone { time_cap: 10_000 }, &mut rec).expect("valid");
            let s = run(&mut ep, scheduler.as_mut(), &mut rec).expect("baseline");
            prop_assert!(!s.truncated, "{}: {:?}", name, s);
            prop_assert_eq!(s.completed + s.rejected, jobs.len() as u32, "{}", name);
        }
    }

    #[test]
    fn same_seed_same_bits(seed in any::<u64>(), rate in 0.1f64..0.9) {
        let once = || {
            let jobs: Vec<Job> = JobGenerator::new(Workload::DeepRm, rate, 50, seed).collect();
            let mut rec = Recorder::new(&jobs, 10);
            let mut ep: Episode<'_, 10> =
                Episode::new(&jobs, EndMode::AllDone { time_cap: 10_000 }, &mut rec).expect("valid");
            let s = run(&mut ep, &mut RandomPolicy::new(seed), &mut rec).expect("random");
            (format!("{jobs:?}"), rec.actions, s.total_reward.to_bits(),
             s.mean_slowdown.map(f64::to_bits))
        };
        prop_assert_eq!(once(), once());
    }
}

#[test]
fn full_backlog_rejects_and_counts() {
    // 5 slots + 60 backlog places: the 66th job arriving at once is rejected, by hand.
    let jobs: Vec<Job> = (0..66)
        .map(|id| Job::new(id, 0, 1, [10, 10]).expect("valid"))
        .collect();
    let (s, ledger) = play::<5>(&jobs, &[], EndMode::AllDone { time_cap: 2_000 });
    assert_eq!(s.rejected, 1);
    assert_eq!(ledger.status[65], Status::Rejected);
    assert_eq!(s.completed, 65);
    // One full-width job per step: the last accepted job runs during step 64.
    assert_eq!(s.makespan, 65);
}
