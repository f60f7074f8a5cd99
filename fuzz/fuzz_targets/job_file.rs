//! Arbitrary bytes as a job file, parsed by the host's parser (`whitebox_host::jobfile::parse`);
//! a valid file is simulated with SJF on 5 job slots to the end.
//!
//! Checks: no panic; a parsed file always starts an episode (the parser validated every job);
//! the episode's accounting holds; and SJF, which idles only while a job runs, finishes every
//! job by the last arrival plus the sum of lengths (the time cap), so nothing is left waiting,
//! running or unarrived: every job completed or was rejected.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whitebox_core::{run, EndMode, Episode, Sjf};

/// Longest episode simulated, in time steps; later files are cut there (truncated).
const MAX_CAP: u64 = 10_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(jobs) = whitebox_host::jobfile::parse(text) else {
        return;
    };
    let last_arrival = jobs.last().map_or(0, |j| u64::from(j.arrival));
    let work: u64 = jobs.iter().map(|j| u64::from(j.len)).sum();
    let bound = last_arrival + work + 1;
    let time_cap = bound.min(MAX_CAP) as u32;
    let mut episode = Episode::<5>::new(&jobs, EndMode::AllDone { time_cap }, &mut ())
        .expect("a parsed job file must start an episode");
    let s = run(&mut episode, &mut Sjf, &mut ()).expect("SJF never fails");
    assert_eq!(s.jobs as usize, jobs.len());
    assert_eq!(
        s.jobs,
        s.allocated + s.waiting + s.rejected + s.not_arrived,
        "{s:?}"
    );
    assert_eq!(s.allocated, s.completed + s.running, "{s:?}");
    if bound <= MAX_CAP {
        assert!(!s.truncated, "SJF did not finish by time {bound}: {s:?}");
        assert_eq!(s.jobs, s.completed + s.rejected, "{s:?}");
    }
});
