//! Arbitrary jobs (raw, possibly invalid) and arbitrary action indices (possibly out of range)
//! played on an `Episode` with 5 or 10 job slots.
//!
//! Checks: no panic; an invalid sequence gives exactly the typed error an independent check
//! predicts (first bad job, by index); after every step the cluster's free units match a shadow
//! ledger of the allocations and never go below zero (usage within capacity), and every job is
//! accounted for: `jobs == allocated + waiting + rejected + not_arrived`,
//! `allocated == completed + running`, and arrivals seen == jobs admitted or rejected.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use whitebox_core::episode::EpisodeError;
use whitebox_core::spec::{HORIZON, MAX_JOB_LEN, NUM_RES, RES_UNITS};
use whitebox_core::{Action, EndMode, Episode, Event, Job, Observer, Step};

#[derive(Arbitrary, Debug)]
struct RawJob {
    /// Added to the previous job's arrival; negative values break the order.
    arrival_delta: i8,
    len: u8,
    res: [u8; NUM_RES],
}

#[derive(Arbitrary, Debug)]
struct Input {
    ten_slots: bool,
    no_new_job: bool,
    /// Time cap (all-done) or arrival window (no-new-job), in time steps.
    end: u8,
    jobs: Vec<RawJob>,
    /// Raw network output indices: `M` is void, above `M` is an out-of-range slot.
    actions: Vec<u8>,
}

/// Counts arrivals and rejections, and records every allocation (start, finish, demand).
#[derive(Default)]
struct Ledger {
    admitted: u32,
    rejected: u32,
    allocations: Vec<(u32, u32, [u8; NUM_RES])>,
}

impl Observer for Ledger {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::Arrived { .. } => self.admitted += 1,
            Event::Rejected { .. } => self.rejected += 1,
            Event::Decided {
                step: Step::Allocated {
                    job, start, finish, ..
                },
                ..
            } => self.allocations.push((*start, *finish, job.res)),
            Event::Decided { .. } => {}
        }
    }
}

impl Ledger {
    fn used_at(&self, time: u32) -> [u32; NUM_RES] {
        let mut used = [0; NUM_RES];
        for (start, finish, res) in &self.allocations {
            if (*start..*finish).contains(&time) {
                for (u, r) in used.iter_mut().zip(res) {
                    *u += u32::from(*r);
                }
            }
        }
        used
    }
}

/// The index of the first invalid job or out-of-order arrival, computed independently.
fn first_error(jobs: &[Job]) -> Option<usize> {
    jobs.iter().enumerate().position(|(i, j)| {
        j.len == 0
            || j.len > MAX_JOB_LEN
            || j.res.iter().any(|&r| r > RES_UNITS)
            || (i > 0 && j.arrival < jobs[i - 1].arrival)
    })
}

fn play<const M: usize>(input: &Input) {
    let mut arrival = 0u32;
    let jobs: Vec<Job> = (0u32..)
        .zip(&input.jobs)
        .map(|(id, r)| {
            arrival = arrival.saturating_add_signed(i32::from(r.arrival_delta));
            Job {
                id,
                arrival,
                len: r.len,
                res: r.res,
            }
        })
        .collect();
    let end = match input.no_new_job {
        true => EndMode::NoNewJob {
            simu_len: u32::from(input.end),
        },
        false => EndMode::AllDone {
            time_cap: u32::from(input.end),
        },
    };
    let mut ledger = Ledger::default();
    let mut episode = match (
        Episode::<M>::new(&jobs, end, &mut ledger),
        first_error(&jobs),
    ) {
        (Ok(episode), None) => episode,
        (Err(EpisodeError::InvalidJob { index, .. }), Some(i))
        | (Err(EpisodeError::ArrivalsOutOfOrder { index, .. }), Some(i)) => {
            assert_eq!(index, i, "wrong job blamed");
            return;
        }
        (result, expected) => {
            panic!("Episode::new gave {result:?}, expected error at {expected:?}")
        }
    };
    // The arbitrary actions, then void until the end (bounded: `end` is at most 255 steps).
    let actions = input
        .actions
        .iter()
        .map(|&a| usize::from(a))
        .chain(std::iter::repeat(M));
    for index in actions {
        let action = if index == M {
            Action::Void
        } else {
            Action::Schedule(index)
        };
        let Some(step) = episode.step(action, &mut ledger) else {
            break;
        };
        if let Step::MovedOn { ended, used, .. } = step {
            assert_eq!(
                used.map(u32::from),
                ledger.used_at(ended),
                "usage reported at {ended}"
            );
        }
        let cluster = episode.cluster();
        for (t, free) in (cluster.now()..).zip(cluster.avbl().iter().take(HORIZON)) {
            let used = ledger.used_at(t);
            for (f, u) in free.iter().zip(used) {
                assert!(u <= u32::from(RES_UNITS), "over capacity at {t}: {used:?}");
                assert_eq!(u32::from(*f), u32::from(RES_UNITS) - u, "free units at {t}");
            }
        }
        let s = episode.summary();
        assert_eq!(
            s.jobs,
            s.allocated + s.waiting + s.rejected + s.not_arrived,
            "{s:?}"
        );
        assert_eq!(s.allocated, s.completed + s.running, "{s:?}");
        assert_eq!(s.allocated as usize, ledger.allocations.len());
        let finished = ledger
            .allocations
            .iter()
            .filter(|a| a.1 <= cluster.now())
            .count();
        assert_eq!(s.completed as usize, finished, "{s:?}");
        assert_eq!(s.rejected, ledger.rejected);
        assert_eq!(ledger.admitted + ledger.rejected, s.jobs - s.not_arrived);
    }
    assert!(episode.is_done());
}

fuzz_target!(|input: Input| {
    if input.ten_slots {
        play::<10>(&input);
    } else {
        play::<5>(&input);
    }
});
