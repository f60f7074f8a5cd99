//! The DeepRM cluster: resource availability over the time horizon, job slots and backlog.
//!
//! Semantics follow DeepRM's `environment.Env` (Mao et al., HotNets 2016; our description in
//! `SEMANTICS.md` section 3) with the conscious differences listed in
//! `docs/deeprm-differences.md`: the whole horizon is usable, finished jobs leave at once, and a
//! full backlog rejects a job with a reason instead of dropping it.

use heapless::Deque;

use crate::job::{Job, JobError};
use crate::spec::{
    BACKLOG, HORIZON, INV_LEN_SCALE, MAX_JOB_LEN, MAX_TRACK_SINCE_NEW, NUM_RES, RES_UNITS,
};

/// A scheduling action: start the job in a visible slot, or do nothing this time step.
///
/// As a network output index, `Schedule(i)` is `i` and `Void` is `M` (DeepRM's layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Allocate the job in job slot `i` (0-based) at its first fit in time.
    Schedule(usize),
    /// Advance time by one step ("MoveOn").
    Void,
}

impl Action {
    /// The action with network output index `index` for `m` job slots: `m` is void.
    /// Returns `None` for an index above `m`.
    pub fn from_index(index: usize, m: usize) -> Option<Action> {
        match index {
            i if i < m => Some(Action::Schedule(i)),
            i if i == m => Some(Action::Void),
            _ => None,
        }
    }

    /// The network output index of this action for `m` job slots.
    pub fn index(self, m: usize) -> usize {
        match self {
            Action::Schedule(i) => i,
            Action::Void => m,
        }
    }
}

/// Where a submitted job was put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// In the visible job slot with this index (the lowest empty one).
    Slot(usize),
    /// At this position of the backlog queue (0 is the head).
    Backlog(usize),
}

/// Why a submitted job was not admitted. Every rejected job is counted in the episode metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// The job itself is invalid for this cluster (the [`JobError`] is the error source).
    Invalid(JobError),
    /// Every job slot and the whole backlog were occupied.
    BacklogFull {
        /// Backlog capacity, in jobs.
        capacity: usize,
    },
    /// The job's `arrival` is not the cluster's current time step.
    WrongArrival {
        /// The job's arrival, in time steps.
        arrival: u32,
        /// The cluster's current time step.
        now: u32,
    },
}

impl core::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            // The job's own error is the source, printed after this by error reports.
            RejectReason::Invalid(_) => write!(f, "invalid job"),
            RejectReason::BacklogFull { capacity } => write!(
                f,
                "backlog full: all job slots and {capacity} backlog places occupied"
            ),
            RejectReason::WrongArrival { arrival, now } => write!(
                f,
                "field `arrival` = {arrival}, must equal the current time step {now}"
            ),
        }
    }
}

impl core::error::Error for RejectReason {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            RejectReason::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

/// Why an action led to "MoveOn" (time advancing) instead of an allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveOnCause {
    /// The void action was chosen.
    Void,
    /// The chosen slot index is at or above the number of slots.
    SlotOutOfRange,
    /// The chosen slot holds no job.
    EmptySlot,
    /// The chosen job fits nowhere in the time horizon.
    NoFit,
}

/// What one call to [`Cluster::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A job left its slot and was reserved on the cluster; time did not advance.
    Allocated {
        /// The job.
        job: Job,
        /// The slot it came from.
        slot: usize,
        /// First time step it runs.
        start: u32,
        /// Time step at which it is done (`start + len`).
        finish: u32,
    },
    /// Time advanced by one step.
    MovedOn {
        /// Why no job was allocated.
        cause: MoveOnCause,
        /// The time step that just ended.
        ended: u32,
        /// Units of each resource in use during the step that just ended.
        used: [u8; NUM_RES],
        /// Jobs that finished at the new current time.
        completed: u32,
    },
}

/// Allocated jobs that finish at the same future time step, aggregated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct FinishGroup {
    jobs: u32,
    /// Sum of `INV_LEN_SCALE / len` over the group.
    inv_len: u64,
}

/// Whether a horizon row has `demand` free: the test of [`Cluster::fits_at`], written out for
/// the two resources (size-optimized firmware keeps a two-step loop otherwise, several times
/// the instructions of a decision tree's fit tests).
fn row_fits(row: &[u8; NUM_RES], demand: &[u8; NUM_RES]) -> bool {
    let ([a0, a1], [d0, d1]) = (*row, *demand);
    a0 >= d0 && a1 >= d1
}

/// Index of time step `step`'s entry in a horizon-long ring (`step % T`): the finish groups of
/// the cluster and the episode's pending slowdowns.
pub(crate) fn ring_index(step: u32) -> usize {
    step as usize % HORIZON
}

/// Number of jobs, and their exact sum of `1 / len` scaled by [`INV_LEN_SCALE`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobLoad {
    /// Number of jobs.
    pub jobs: u32,
    /// `sum(INV_LEN_SCALE / len)` over those jobs.
    pub inv_len_scaled: u64,
}

impl JobLoad {
    fn add(&mut self, job: &Job) {
        self.jobs = self.jobs.saturating_add(1);
        self.inv_len_scaled = self.inv_len_scaled.saturating_add(inv_len_scaled(job.len));
    }

    /// Takes `job` out again (after [`JobLoad::add`]; no sum ever saturates: at most
    /// `M + BACKLOG + T * RES_UNITS` jobs of at most `INV_LEN_SCALE` each).
    fn remove(&mut self, job: &Job) {
        self.jobs = self.jobs.saturating_sub(1);
        self.inv_len_scaled = self.inv_len_scaled.saturating_sub(inv_len_scaled(job.len));
    }

    fn remove_group(&mut self, group: &FinishGroup) {
        self.jobs = self.jobs.saturating_sub(group.jobs);
        self.inv_len_scaled = self.inv_len_scaled.saturating_sub(group.inv_len);
    }
}

/// `INV_LEN_SCALE / len`, exact because `len` divides `INV_LEN_SCALE` (0 for `len == 0`).
pub fn inv_len_scaled(len: u8) -> u64 {
    // A table for every valid length: reward charges sum this over every waiting job each time
    // step, and a 64-bit division per job was a tenth of a simulator step.
    INV_LEN_TABLE
        .get(usize::from(len))
        .copied()
        .unwrap_or_else(|| INV_LEN_SCALE.checked_div(u64::from(len)).unwrap_or(0))
}

/// `INV_LEN_SCALE / len` for `len` in `0..=MAX_JOB_LEN` (0 for `len == 0`).
const INV_LEN_TABLE: [u64; MAX_JOB_LEN as usize + 1] = {
    let mut table = [0; MAX_JOB_LEN as usize + 1];
    let mut len = 1;
    while len < table.len() {
        table[len] = INV_LEN_SCALE / len as u64;
        len += 1;
    }
    table
};

/// The cluster state with `M` visible job slots.
///
/// Memory: about `T * d` bytes of availability, `M + 60` job records and `T` finish groups; no
/// allocation. Time is counted in steps from 0, resources in units.
#[derive(Clone, Debug)]
pub struct Cluster<const M: usize> {
    now: u32,
    /// Free units per horizon row (row 0 is the current step) and resource.
    avbl: [[u8; NUM_RES]; HORIZON],
    slots: [Option<Job>; M],
    backlog: Deque<Job, BACKLOG>,
    /// Allocated, unfinished jobs grouped by finish step, the group of step `f` at index
    /// `f % T`: finishes lie in `now + 1..=now + T`, so no two share an index, and a time step
    /// empties one group instead of shifting all of them.
    finishing: [FinishGroup; HORIZON],
    since_last_new: u8,
    /// The sums of `finishing` and of the slots and backlog, kept as jobs come and go: reward
    /// charges read them every time step.
    in_flight: JobLoad,
    waiting: JobLoad,
}

impl<const M: usize> Default for Cluster<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const M: usize> Cluster<M> {
    const SLOTS_OK: () = assert!(M >= 1 && M <= 64, "job slots M must be in 1..=64");

    /// An empty cluster at time step 0.
    pub fn new() -> Self {
        let () = Self::SLOTS_OK;
        Cluster {
            now: 0,
            avbl: [[RES_UNITS; NUM_RES]; HORIZON],
            slots: [None; M],
            backlog: Deque::new(),
            finishing: [FinishGroup::default(); HORIZON],
            since_last_new: 0,
            in_flight: JobLoad::default(),
            waiting: JobLoad::default(),
        }
    }

    /// The current time step.
    pub fn now(&self) -> u32 {
        self.now
    }

    /// Free units of each resource for each horizon row; row 0 is the current step.
    /// Shape `[T][d]`.
    pub fn avbl(&self) -> &[[u8; NUM_RES]; HORIZON] {
        &self.avbl
    }

    /// The visible job slots.
    pub fn slots(&self) -> &[Option<Job>; M] {
        &self.slots
    }

    /// Jobs waiting in the backlog, head first.
    pub fn backlog(&self) -> impl Iterator<Item = &Job> {
        self.backlog.iter()
    }

    /// Number of jobs in the backlog.
    pub fn backlog_len(&self) -> usize {
        self.backlog.len()
    }

    /// Time steps since the last job arrived, capped at [`MAX_TRACK_SINCE_NEW`].
    pub fn since_last_new(&self) -> u8 {
        self.since_last_new
    }

    /// Allocated jobs that have not finished (running now or reserved for a later start).
    pub fn in_flight(&self) -> JobLoad {
        self.in_flight
    }

    /// Jobs waiting in the slots and the backlog.
    pub fn waiting(&self) -> JobLoad {
        self.waiting
    }

    /// Every job in the system: allocated and unfinished, or waiting. DeepRM's reward charges
    /// these (running, slot and backlog jobs).
    pub fn in_system(&self) -> JobLoad {
        let (a, b) = (self.in_flight(), self.waiting());
        JobLoad {
            jobs: a.jobs.saturating_add(b.jobs),
            inv_len_scaled: a.inv_len_scaled.saturating_add(b.inv_len_scaled),
        }
    }

    /// True when `other` is in exactly the same state: time, free units per horizon row, job
    /// slots, backlog (in order), allocated jobs by finish step and the time-since-new-job
    /// counter. Two clusters in the same state evolve identically under the same arrivals and the
    /// same memoryless policy (the guard's renewals rest on this, see `docs/guard.md`).
    pub fn same_state(&self, other: &Cluster<M>) -> bool {
        self.now == other.now
            && self.avbl == other.avbl
            && self.slots == other.slots
            && self.backlog.iter().eq(other.backlog.iter())
            && self.finishing == other.finishing
            && self.since_last_new == other.since_last_new
    }

    /// True when no job is waiting or allocated-and-unfinished.
    pub fn is_empty(&self) -> bool {
        self.in_system().jobs == 0
    }

    /// Units of each resource in use during the current step.
    pub fn used_now(&self) -> [u8; NUM_RES] {
        self.avbl[0].map(|free| RES_UNITS.saturating_sub(free))
    }

    /// True when `job` fits starting now: rows `0..len` all have at least its demand free.
    /// This is the eligibility test of DeepRM's SJF and Packer (`SEMANTICS.md` section 5).
    pub fn fits_now(&self, job: &Job) -> bool {
        self.fits_at(job, 0)
    }

    /// The earliest start offset `t` in `0..=T-len` (first fit in time) at which `job` fits, or
    /// `None`. DeepRM stops at `T-len-1`; whitebox lets a job use the last horizon row.
    pub fn first_fit(&self, job: &Job) -> Option<usize> {
        let len = usize::from(job.len);
        if len == 0 || len > HORIZON {
            return None;
        }
        // One pass over the rows: the first window of `len` fitting rows ends where the run of
        // consecutive fitting rows first reaches `len` (the same offset as testing every start).
        let mut run = 0;
        for (end, row) in self.avbl.iter().enumerate() {
            if row_fits(row, &job.res) {
                run += 1;
                if run == len {
                    return Some(end + 1 - len);
                }
            } else {
                run = 0;
            }
        }
        None
    }

    /// Rows at the end of the horizon with every unit of every resource free, `0..=T`: the rows
    /// after the last one that a running or reserved job uses.
    pub fn free_tail(&self) -> usize {
        self.avbl
            .iter()
            .rev()
            .take_while(|row| row.iter().all(|&free| free == RES_UNITS))
            .count()
    }

    /// True when `job` fits somewhere in the horizon ([`Cluster::first_fit`] is `Some`), given
    /// `free_tail` = [`Cluster::free_tail`]: a job no longer than the free tail and within the
    /// capacity fits there, so most slots are answered without a scan (the invalid-action mask
    /// asks this of every slot at every decision). `free_tail` must be this cluster's current
    /// [`Cluster::free_tail`]: another value gives a wrong answer (never a panic), so this is
    /// crate-private; [`crate::policy::valid_actions`] computes the tail once per decision.
    pub(crate) fn fits_somewhere(&self, job: &Job, free_tail: usize) -> bool {
        let len = usize::from(job.len);
        if (1..=free_tail).contains(&len) && job.res.iter().all(|&r| r <= RES_UNITS) {
            return true;
        }
        self.first_fit(job).is_some()
    }

    /// True when [`Cluster::first_fit`] is at most `offset`: `job` fits at some start offset in
    /// `0..=offset`. Stops there instead of scanning the whole horizon.
    pub fn fits_by(&self, job: &Job, offset: usize) -> bool {
        let len = usize::from(job.len);
        if len == 0 || len > HORIZON {
            return false;
        }
        // Offsets stop at `T - len`, so every window `t..t + len` is inside the horizon.
        (0..=offset.min(HORIZON - len)).any(|t| {
            self.avbl
                .get(t..t + len)
                .is_some_and(|rows| rows.iter().all(|row| row_fits(row, &job.res)))
        })
    }

    fn fits_at(&self, job: &Job, offset: usize) -> bool {
        let end = offset.saturating_add(usize::from(job.len));
        match self.avbl.get(offset..end) {
            Some(rows) if end > offset => rows.iter().all(|row| row_fits(row, &job.res)),
            _ => false,
        }
    }

    /// Admits a job arriving now: into the lowest empty slot, else the backlog tail.
    ///
    /// # Errors
    /// A [`RejectReason`] when the job is invalid, arrives at another time step than now, or
    /// the slots and backlog are full. A rejected job changes nothing but the "time since last
    /// new job" counter (reset for a valid job arriving now, as DeepRM does for dropped jobs).
    pub fn submit(&mut self, job: Job) -> Result<Placement, RejectReason> {
        job.validate().map_err(RejectReason::Invalid)?;
        if job.arrival != self.now {
            return Err(RejectReason::WrongArrival {
                arrival: job.arrival,
                now: self.now,
            });
        }
        self.since_last_new = 0;
        if let Some((i, slot)) = self.slots.iter_mut().enumerate().find(|(_, s)| s.is_none()) {
            *slot = Some(job);
            self.waiting.add(&job);
            return Ok(Placement::Slot(i));
        }
        let pos = self.backlog.len();
        self.backlog
            .push_back(job)
            .map_err(|_| RejectReason::BacklogFull { capacity: BACKLOG })?;
        self.waiting.add(&job);
        Ok(Placement::Backlog(pos))
    }

    /// Applies one action (DeepRM `Env.step` without arrivals and reward, which the episode
    /// adds). An allocation keeps the time step; anything else advances time by one step.
    pub fn step(&mut self, action: Action) -> Step {
        let slot = match action {
            Action::Void => return self.move_on(MoveOnCause::Void),
            Action::Schedule(i) => i,
        };
        let job = match self.slots.get(slot) {
            None => return self.move_on(MoveOnCause::SlotOutOfRange),
            Some(None) => return self.move_on(MoveOnCause::EmptySlot),
            Some(Some(job)) => *job,
        };
        let Some(offset) = self.first_fit(&job) else {
            return self.move_on(MoveOnCause::NoFit);
        };
        let len = usize::from(job.len);
        for row in self.avbl.iter_mut().skip(offset).take(len) {
            for (a, d) in row.iter_mut().zip(job.res.iter()) {
                *a = a.saturating_sub(*d);
            }
        }
        let start = self.now.saturating_add(offset as u32);
        let finish = start.saturating_add(u32::from(job.len));
        if let Some(group) = self.finishing.get_mut(ring_index(finish)) {
            group.jobs = group.jobs.saturating_add(1);
            group.inv_len = group.inv_len.saturating_add(inv_len_scaled(job.len));
        }
        self.in_flight.add(&job);
        self.waiting.remove(&job);
        // The backlog head refills the freed slot (DeepRM quirk 8, kept).
        if let Some(s) = self.slots.get_mut(slot) {
            *s = self.backlog.pop_front();
        }
        Step::Allocated {
            job,
            slot,
            start,
            finish,
        }
    }

    fn move_on(&mut self, cause: MoveOnCause) -> Step {
        let used = self.used_now();
        let ended = self.now;
        self.now = self.now.saturating_add(1);
        self.avbl.rotate_left(1);
        self.avbl[HORIZON - 1] = [RES_UNITS; NUM_RES];
        // The jobs finishing at the new time step leave.
        let done = self
            .finishing
            .get_mut(ring_index(self.now))
            .map(core::mem::take)
            .unwrap_or_default();
        let completed = done.jobs;
        self.in_flight.remove_group(&done);
        self.since_last_new = self
            .since_last_new
            .saturating_add(1)
            .min(MAX_TRACK_SINCE_NEW);
        Step::MovedOn {
            cause,
            ended,
            used,
            completed,
        }
    }
}

/// Test support: plays `steps` time steps of the generator's job set (`workload`, `rate`, 60
/// steps of arrivals, `seed`) on an empty cluster, calling `visit` on each state once its
/// arrivals are submitted and then taking `act`'s action.
#[cfg(test)]
pub(crate) fn play_busy<const M: usize>(
    (workload, rate, seed): (crate::workload::Workload, f64, u64),
    steps: usize,
    mut visit: impl FnMut(usize, &Cluster<M>),
    mut act: impl FnMut(usize, &Cluster<M>) -> Action,
) {
    let mut jobs = heapless::Vec::<Job, 256>::new();
    for j in crate::workload::JobGenerator::new(workload, rate, 60, seed) {
        jobs.push(j).ok();
    }
    let mut c: Cluster<M> = Cluster::new();
    let mut next = 0;
    for step in 0..steps {
        while let Some(j) = jobs.get(next).filter(|j| j.arrival == c.now()) {
            c.submit(*j).ok();
            next += 1;
        }
        visit(step, &c);
        let action = act(step, &c);
        c.step(action);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u32, len: u32, res: [u32; 2]) -> Job {
        Job::new(id, 0, len, res).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn first_fit_reserves_in_the_future_and_uses_the_last_row() {
        let mut c: Cluster<5> = Cluster::new();
        c.submit(job(0, 15, [10, 1])).ok();
        c.submit(job(1, 5, [10, 1])).ok();
        assert!(matches!(
            c.step(Action::Schedule(0)),
            Step::Allocated {
                start: 0,
                finish: 15,
                ..
            }
        ));
        // Slot 0 was refilled by nothing (empty backlog); the len-5 job is now in slot 1 and
        // fits only at offset 15 = T - len, the row DeepRM could not use.
        assert_eq!(c.first_fit(&job(1, 5, [10, 1])), Some(15));
        assert_eq!(c.first_fit(&job(1, 6, [10, 1])), None);
        assert!(matches!(
            c.step(Action::Schedule(1)),
            Step::Allocated {
                start: 15,
                finish: 20,
                ..
            }
        ));
    }

    /// The kept sums equal the sums recomputed from the slots, the backlog and the finish
    /// groups after every step of busy episodes (backlog overflow included).
    #[test]
    fn kept_loads_equal_recomputed_sums() {
        use crate::workload::{JobGenerator, Workload};
        for (seed, rate) in [(1u64, 0.5), (2, 0.9), (3, 3.0)] {
            let mut jobs = heapless::Vec::<Job, 256>::new();
            for j in JobGenerator::new(Workload::LongJobs, rate, 60, seed) {
                jobs.push(j).ok();
            }
            let mut c: Cluster<5> = Cluster::new();
            // Actions from xorshift: any slot (empty or not), or void three times in eight.
            let mut state = seed as u32 | 1;
            let mut next = 0;
            for _ in 0..600 {
                while let Some(j) = jobs.get(next).filter(|j| j.arrival == c.now()) {
                    c.submit(*j).ok();
                    next += 1;
                }
                let mut waiting = JobLoad::default();
                c.slots
                    .iter()
                    .flatten()
                    .chain(c.backlog.iter())
                    .for_each(|j| waiting.add(j));
                let in_flight = c
                    .finishing
                    .iter()
                    .fold(JobLoad::default(), |acc, g| JobLoad {
                        jobs: acc.jobs + g.jobs,
                        inv_len_scaled: acc.inv_len_scaled + g.inv_len,
                    });
                assert_eq!(c.waiting(), waiting);
                assert_eq!(c.in_flight(), in_flight);
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let k = state as usize % 8;
                c.step(Action::from_index(k, 5).unwrap_or(Action::Void));
            }
        }
    }

    /// `fits_somewhere` is `first_fit(..).is_some()` for every length 0-21 and a grid of demands
    /// (0, 1, full, over capacity) on every state of a busy episode.
    #[test]
    fn fits_somewhere_is_first_fit_found() {
        let mut tails = [false; HORIZON + 1];
        let visit = |step: usize, c: &Cluster<5>| {
            let tail = c.free_tail();
            if let Some(t) = tails.get_mut(tail) {
                *t = true;
            }
            for len in 0..=HORIZON as u8 + 1 {
                for d0 in 0..=RES_UNITS + 1 {
                    for d1 in [0, 1, RES_UNITS, RES_UNITS + 1] {
                        let job = Job {
                            id: 0,
                            arrival: 0,
                            len,
                            res: [d0, d1],
                        };
                        assert_eq!(
                            c.fits_somewhere(&job, tail),
                            c.first_fit(&job).is_some(),
                            "{job:?} at step {step}, free tail {tail}"
                        );
                    }
                }
            }
        };
        let act =
            |step: usize, _: &Cluster<5>| Action::from_index(step % 7, 5).unwrap_or(Action::Void);
        play_busy(
            (crate::workload::Workload::DeepRm, 0.9, 11),
            400,
            visit,
            act,
        );
        // The fast path and the scan were both exercised: full, partial and empty tails.
        assert!(
            tails[HORIZON] && tails.iter().filter(|t| **t).count() > 5,
            "{tails:?}"
        );
    }

    /// `first_fit` equals testing every start offset in order, on random availability.
    #[test]
    fn first_fit_equals_every_offset_tested() {
        let mut state = 7u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..20_000 {
            let mut c: Cluster<2> = Cluster::new();
            for row in c.avbl.iter_mut() {
                *row = [(next() % 11) as u8, (next() % 11) as u8];
            }
            let j = job(0, next() % 20 + 1, [next() % 11, next() % 11]);
            let by_offset = (0..=HORIZON - usize::from(j.len)).find(|&t| c.fits_at(&j, t));
            assert_eq!(c.first_fit(&j), by_offset);
        }
    }

    #[test]
    fn inv_len_table_is_the_division() {
        assert_eq!(inv_len_scaled(0), 0);
        for len in 1..=u8::MAX {
            assert_eq!(
                inv_len_scaled(len),
                INV_LEN_SCALE / u64::from(len),
                "len {len}"
            );
        }
        assert_eq!(inv_len_scaled(20), 11_639_628);
    }

    #[test]
    fn full_backlog_rejects_with_reason() {
        let mut c: Cluster<2> = Cluster::new();
        for id in 0..(2 + BACKLOG as u32) {
            assert!(c.submit(job(id, 1, [1, 1])).is_ok());
        }
        assert_eq!(
            c.submit(job(99, 1, [1, 1])),
            Err(RejectReason::BacklogFull { capacity: 60 })
        );
        assert_eq!(c.waiting().jobs, 62);
    }

    #[test]
    fn move_on_frees_rows_and_completes_jobs() {
        let mut c: Cluster<2> = Cluster::new();
        c.submit(job(0, 2, [4, 3])).ok();
        c.step(Action::Schedule(0));
        assert_eq!(c.used_now(), [4, 3]);
        assert!(matches!(
            c.step(Action::Void),
            Step::MovedOn {
                completed: 0,
                used: [4, 3],
                ..
            }
        ));
        assert!(matches!(
            c.step(Action::Void),
            Step::MovedOn { completed: 1, .. }
        ));
        assert!(c.is_empty());
        assert_eq!(c.avbl()[0], [10, 10]);
    }
}
