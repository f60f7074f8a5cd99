//! SJF with a reservation for the shortest waiting job (`sjf-reserve`): a repairing fallback.
//!
//! Greedy SJF ([`crate::Sjf`]) starts only jobs that fit now. Started from a state it did not
//! make (a guard's hand-over, `docs/guard.md`), it can starve a wide short job for as long as
//! narrow jobs keep fitting around it. `SjfReserve` is SJF with one reservation, in the manner
//! of EASY backfilling (Lifka 1995) with SJF as the queue order: when the shortest waiting job
//! in a slot does not fit now, and no job is already reserved for a later start, it is
//! scheduled anyway. [`Cluster::step`] places it at its first fit in time, which holds those
//! future rows, so later starts can only backfill around it and it cannot starve. Otherwise it
//! decides exactly as SJF. No parameter is tuned.
//!
//! [`SjfReserveAged`] (`sjf-reserve-aged`) is the same with one more condition, chosen before
//! any measurement: the shortest job is reserved only once it has waited at least its own
//! length (`now - arrival >= len`, so its slowdown is already at least 2). A reservation blocks
//! later jobs; under mean slowdown that is dear for a short job and cheap for a long one, so a
//! long job must wait in proportion to its length before it may block others.

use crate::baselines::Sjf;
use crate::cluster::{Action, Cluster};
use crate::scheduler::{PolicyError, Preference, Scheduler, RANK_GAP};

/// SJF plus a reservation for the shortest waiting slot job (lowest slot index on ties) when it
/// does not fit now; see the module docs. Deterministic and memoryless (a function of the
/// cluster state only).
#[derive(Clone, Copy, Debug, Default)]
pub struct SjfReserve;

impl<const M: usize> Scheduler<M> for SjfReserve {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        decide_reserving(cluster, false)
    }
}

/// SJF's preference ([`Sjf`]'s [`Preference`]), except that a reserved job comes first: its
/// logit is set to [`RANK_GAP`], that much above SJF's first choice (logit 0), so the first
/// entry is [`Scheduler::decide`]'s choice and the rest keep SJF's order.
impl<const M: usize> Preference<M> for SjfReserve {
    fn preference<const O: usize>(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32; O],
        valid: &mut [bool; O],
    ) -> Result<(), PolicyError> {
        prefer_reserved(self, cluster, logits, valid)
    }
}

/// [`SjfReserve`] that reserves the shortest waiting job only once it has waited at least its
/// length in steps (`now - arrival >= len`); see the module docs. Deterministic and
/// memoryless.
#[derive(Clone, Copy, Debug, Default)]
pub struct SjfReserveAged;

impl<const M: usize> Scheduler<M> for SjfReserveAged {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        decide_reserving(cluster, true)
    }
}

/// As for [`SjfReserve`]: SJF's preference with the reserved job first.
impl<const M: usize> Preference<M> for SjfReserveAged {
    fn preference<const O: usize>(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32; O],
        valid: &mut [bool; O],
    ) -> Result<(), PolicyError> {
        prefer_reserved(self, cluster, logits, valid)
    }
}

/// The scheduler that makes a guard's fallback decisions on the real cluster, by its name in
/// settings and traces (`--guard-fallback`): SJF itself or one of its reserving forms. A unit
/// enum, so a firmware image or a trace can name it, and itself a scheduler that decides as the
/// one it names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FallbackKind {
    /// [`Sjf`] (the default; the renewal theorem of `docs/guard.md` needs it).
    #[default]
    Sjf,
    /// [`SjfReserve`].
    SjfReserve,
    /// [`SjfReserveAged`].
    SjfReserveAged,
}

crate::names::named!(FallbackKind {
    Sjf => "sjf",
    SjfReserve => "sjf-reserve",
    SjfReserveAged => "sjf-reserve-aged",
});

impl<const M: usize> Scheduler<M> for FallbackKind {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        match self {
            FallbackKind::Sjf => Sjf.decide(cluster),
            FallbackKind::SjfReserve => decide_reserving(cluster, false),
            FallbackKind::SjfReserveAged => decide_reserving(cluster, true),
        }
    }
}

/// The preference of the scheduler it names.
impl<const M: usize> Preference<M> for FallbackKind {
    fn preference<const O: usize>(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32; O],
        valid: &mut [bool; O],
    ) -> Result<(), PolicyError> {
        match self {
            FallbackKind::Sjf => Sjf.preference(cluster, logits, valid),
            _ => prefer_reserved(self, cluster, logits, valid),
        }
    }
}

/// SJF, except that the shortest slot job (lowest slot index on ties) is scheduled at its first
/// fit in time when it does not fit now, fits somewhere in the horizon, no reservation is
/// pending and, if `aged`, it has waited at least its length.
fn decide_reserving<const M: usize>(
    cluster: &Cluster<M>,
    aged: bool,
) -> Result<Action, PolicyError> {
    let shortest = cluster
        .slots()
        .iter()
        .enumerate()
        .filter_map(|(i, j)| j.as_ref().map(|j| (i, j)))
        .min_by_key(|(i, j)| (j.len, *i));
    if let Some((i, job)) = shortest {
        let waited = cluster.now().saturating_sub(job.arrival);
        let reserve = !cluster.fits_now(job)
            && cluster.first_fit(job).is_some()
            && !reservation_pending(cluster)
            && (!aged || waited >= u32::from(job.len));
        if reserve {
            return Ok(Action::Schedule(i));
        }
    }
    Sjf.decide(cluster)
}

/// SJF's preference with `s`'s choice raised to [`RANK_GAP`] when it differs from SJF's.
fn prefer_reserved<const M: usize, const O: usize, S: Scheduler<M>>(
    s: &mut S,
    cluster: &Cluster<M>,
    logits: &mut [f32; O],
    valid: &mut [bool; O],
) -> Result<(), PolicyError> {
    Sjf.preference(cluster, logits, valid)?;
    let (ours, sjf) = (s.decide(cluster)?, Sjf.decide(cluster)?);
    if ours != sjf {
        if let Some(l) = logits.get_mut(ours.index(M)) {
            *l = RANK_GAP;
        }
    }
    Ok(())
}

/// True when the used units of some resource rise from one horizon row to the next: some
/// allocated job starts after the current step (running jobs only ever release units). A
/// reservation can be masked by jobs finishing at its start in every resource it uses; a second
/// job is then reserved, which still starves no one.
fn reservation_pending<const M: usize>(cluster: &Cluster<M>) -> bool {
    cluster
        .avbl()
        .windows(2)
        .any(|w| matches!(w, [a, b] if b.iter().zip(a.iter()).any(|(fb, fa)| fb < fa)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Step;
    use crate::job::Job;

    fn job(id: u32, len: u32, res: [u32; 2]) -> Job {
        Job::new(id, 0, len, res).unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// Plays a running job R (2 steps, 6 units) and two waiting jobs, W (1 step, 9 units) and
    /// L (5 steps, 4 units), all arriving at step 0, without further arrivals; returns the
    /// start steps of W and L.
    fn starts<S: Scheduler<5>>(mut s: S) -> (u32, u32) {
        let mut c: Cluster<5> = Cluster::new();
        for j in [job(0, 2, [6, 1]), job(1, 1, [9, 1]), job(2, 5, [4, 1])] {
            c.submit(j).ok();
        }
        c.step(Action::Schedule(0));
        let (mut w, mut l) = (u32::MAX, u32::MAX);
        while c.now() < 20 {
            let action = s.decide(&c).unwrap_or(Action::Void);
            if let Step::Allocated { job, start, .. } = c.step(action) {
                match job.id {
                    1 => w = start,
                    _ => l = start,
                }
            }
        }
        (w, l)
    }

    /// By hand: R holds 6 of 10 units in steps 0-1. SJF starts L at 0 (4 units free in steps
    /// 0-4) and W only at 5, when 9 units are free: slowdowns 6 + 1 = 7. SJF-reserve reserves W
    /// (shortest, does not fit now) at its first fit, step 2; L no longer fits before W ends
    /// and starts at 3: slowdowns (2 + 1)/1 + (3 + 5)/5 = 4.6.
    #[test]
    fn reserves_the_starved_short_wide_job() {
        assert_eq!(starts(Sjf), (5, 0));
        assert_eq!(starts(SjfReserve), (2, 3));
        // W has waited 0 < 1 step at step 0, so SJF starts L; at step 1 W (waited 1) is
        // reserved at its first fit, step 5, when L's 4 units are released: SJF's schedule.
        assert_eq!(starts(SjfReserveAged), (5, 0));
        // By name, each kind decides as the scheduler it names.
        assert_eq!(starts(FallbackKind::Sjf), (5, 0));
        assert_eq!(starts(FallbackKind::SjfReserve), (2, 3));
        assert_eq!(starts(FallbackKind::SjfReserveAged), (5, 0));
        let names = FallbackKind::ALL.map(FallbackKind::name);
        assert_eq!(names, ["sjf", "sjf-reserve", "sjf-reserve-aged"]);
    }

    /// By hand: R (3 steps, 6 units) runs from step 0; W (2 steps, 9 units) arrived at step 0
    /// and fits only from step 3. `sjf-reserve` reserves it at once; `sjf-reserve-aged` waits
    /// (SJF has nothing that fits: Void) until W has waited 2 steps, then reserves it.
    #[test]
    fn aged_reserves_only_after_waiting_the_job_length() {
        let mut c: Cluster<5> = Cluster::new();
        for j in [job(0, 3, [6, 1]), job(1, 2, [9, 1])] {
            c.submit(j).ok();
        }
        c.step(Action::Schedule(0));
        assert_eq!(SjfReserve.decide(&c).ok(), Some(Action::Schedule(1)));
        for now in 0..2 {
            assert_eq!(c.now(), now);
            assert_eq!(SjfReserveAged.decide(&c).ok(), Some(Action::Void));
            c.step(Action::Void);
        }
        assert_eq!(c.now(), 2);
        assert_eq!(SjfReserveAged.decide(&c).ok(), Some(Action::Schedule(1)));
        let mut logits = [0.0_f32; 6];
        let mut valid = [false; 6];
        assert!(SjfReserveAged
            .preference(&c, &mut logits, &mut valid)
            .is_ok());
        assert_eq!(logits[1], RANK_GAP);
    }

    #[test]
    fn decides_as_sjf_when_the_shortest_job_fits_or_a_reservation_is_pending() {
        let mut c: Cluster<5> = Cluster::new();
        for j in [job(0, 3, [2, 1]), job(1, 1, [9, 1])] {
            c.submit(j).ok();
        }
        // W (slot 1) is shortest and fits: both start it.
        assert_eq!(SjfReserve.decide(&c).ok(), Some(Action::Schedule(1)));
        assert_eq!(Sjf.decide(&c).ok(), Some(Action::Schedule(1)));
        let mut c: Cluster<5> = Cluster::new();
        for j in [job(0, 2, [6, 1]), job(1, 1, [9, 1]), job(2, 1, [9, 1])] {
            c.submit(j).ok();
        }
        c.step(Action::Schedule(0));
        // Slot 0 is empty (no backlog to refill it); W (slot 1) is reserved at its first fit.
        assert_eq!(SjfReserve.decide(&c).ok(), Some(Action::Schedule(1)));
        c.step(Action::Schedule(1));
        // W is reserved at step 2; the second wide job waits instead of being reserved too.
        assert!(reservation_pending(&c));
        assert_eq!(SjfReserve.decide(&c).ok(), Some(Action::Void));
    }
}
