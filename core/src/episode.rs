//! An episode: a job sequence fed into a [`Cluster`] as time advances, with rewards, end modes
//! and metrics.
//!
//! Source: DeepRM `Env.step` and `slow_down_cdf.py` (our description in `SEMANTICS.md`
//! sections 3 and 6). Rewards and slowdowns are summed exactly in integers scaled by
//! [`INV_LEN_SCALE`] and converted to `f64` once, so every target gets the same bits.

use crate::cluster::{ring_index, Action, Cluster, JobLoad, Placement, RejectReason, Step};
use crate::job::{Job, JobError};
use crate::spec::{HORIZON, INV_LEN_SCALE};

/// When an episode ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndMode {
    /// When every job has arrived and left. If time reaches `time_cap` steps first, the
    /// episode stops there and is reported as truncated.
    AllDone {
        /// Time step at which an unfinished episode is cut, in steps.
        time_cap: u32,
    },
    /// At time step `simu_len` (DeepRM `no_new_job`): jobs arriving at or after it never enter;
    /// jobs still waiting or running are left as they are.
    NoNewJob {
        /// Length of the arrival window, in time steps.
        simu_len: u32,
    },
}

/// Which end mode, without its parameter: the name settings, reports and traces use for an
/// [`EndMode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Every job arrived and left, or the time cap was reached (truncated).
    AllDone,
    /// At time step `simu_len`; later arrivals never enter (DeepRM's `no_new_job`).
    NoNewJob,
}

crate::names::named!(End {
    AllDone => "all-done",
    NoNewJob => "no-new-job",
});

impl End {
    /// The end mode with its parameter; `simu_len` and `time_cap` are in time steps.
    pub const fn mode(self, simu_len: u32, time_cap: u32) -> EndMode {
        match self {
            End::AllDone => EndMode::AllDone { time_cap },
            End::NoNewJob => EndMode::NoNewJob { simu_len },
        }
    }
}

impl core::fmt::Display for End {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a job sequence cannot be simulated. Nothing is simulated when this is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpisodeError {
    /// Job `index` of the sequence is invalid.
    InvalidJob {
        /// Position in the sequence (0-based).
        index: usize,
        /// What is wrong with it.
        error: JobError,
    },
    /// Job `index` arrives before the job listed before it.
    ArrivalsOutOfOrder {
        /// Position in the sequence (0-based).
        index: usize,
        /// Its arrival, in time steps.
        arrival: u32,
        /// The previous job's arrival, in time steps.
        previous: u32,
    },
}

impl core::fmt::Display for EpisodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            // The job's own error is the source, printed after this by error reports.
            EpisodeError::InvalidJob { index, .. } => write!(f, "job {index}"),
            EpisodeError::ArrivalsOutOfOrder {
                index,
                arrival,
                previous,
            } => write!(
                f,
                "job {index}: field `arrival` = {arrival}, must be at least the previous job's arrival {previous} (jobs must be sorted by arrival)"
            ),
        }
    }
}

impl core::error::Error for EpisodeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            EpisodeError::InvalidJob { error, .. } => Some(error),
            EpisodeError::ArrivalsOutOfOrder { .. } => None,
        }
    }
}

/// Checks a job sequence: every job valid, arrivals non-decreasing.
///
/// # Errors
/// The first [`EpisodeError`] found, by job index.
pub fn validate_jobs(jobs: &[Job]) -> Result<(), EpisodeError> {
    let mut previous = 0;
    for (index, job) in jobs.iter().enumerate() {
        job.validate()
            .map_err(|error| EpisodeError::InvalidJob { index, error })?;
        if job.arrival < previous {
            return Err(EpisodeError::ArrivalsOutOfOrder {
                index,
                arrival: job.arrival,
                previous,
            });
        }
        previous = job.arrival;
    }
    Ok(())
}

/// Something that happened in an episode, reported to an [`Observer`] in order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// A job entered the system.
    Arrived {
        /// The job.
        job: Job,
        /// Where it went.
        placement: Placement,
    },
    /// A job was refused at arrival; it is counted in [`Summary::rejected`].
    Rejected {
        /// The job.
        job: Job,
        /// Why.
        reason: RejectReason,
    },
    /// The result of one decision.
    Decided {
        /// Index of the decision in the episode (0-based).
        decision: u32,
        /// The action taken.
        action: Action,
        /// What it did.
        step: Step,
        /// Reward charges of this decision (zero for an allocation).
        charge: Charge,
    },
}

/// Receives the events of an episode, for example to record per-job schedules or utilization.
pub trait Observer {
    /// Called for each event, in order.
    fn on_event(&mut self, event: &Event);
}

impl Observer for () {
    fn on_event(&mut self, _event: &Event) {}
}

/// The reward charged for one time step: the jobs in the system during that step.
///
/// Slowdown objective (DeepRM): `-sum(1 / len)`; completion-time objective (Mao et al. 2016,
/// section 3.1, absent from DeepRM's code): `-(number of jobs)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Charge(pub JobLoad);

impl Charge {
    /// Reward under the slowdown objective.
    pub fn slowdown_reward(&self) -> f64 {
        -(self.0.inv_len_scaled as f64) / INV_LEN_SCALE as f64
    }

    /// Reward under the completion-time objective.
    pub fn completion_reward(&self) -> f64 {
        -f64::from(self.0.jobs)
    }
}

/// Per-episode metrics, as DeepRM's `slow_down_cdf.py` reports them plus whitebox's accounting.
///
/// Invariant: `jobs == allocated + waiting + rejected + not_arrived`, and
/// `allocated == completed + running`.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Jobs in the sequence.
    pub jobs: u32,
    /// Decisions made (allocations and MoveOns).
    pub decisions: u32,
    /// Time step at which the episode ended.
    pub final_time: u32,
    /// True when an all-done episode hit its time cap.
    pub truncated: bool,
    /// Jobs started or reserved (DeepRM's "finished": a finish time was set).
    pub allocated: u32,
    /// Allocated jobs whose finish is at or before `final_time`.
    pub completed: u32,
    /// Allocated jobs finishing after `final_time` (only in no-new-job or truncated episodes).
    pub running: u32,
    /// Jobs still in a slot or the backlog at the end.
    pub waiting: u32,
    /// Jobs refused at arrival (backlog full).
    pub rejected: u32,
    /// Jobs whose arrival is at or after the end of the episode.
    pub not_arrived: u32,
    /// Mean slowdown `(finish - arrival) / len` over allocated jobs (DeepRM's definition), or
    /// `None` when no job was allocated.
    pub mean_slowdown: Option<f64>,
    /// Mean slowdown over jobs completed by `final_time`.
    pub mean_slowdown_completed: Option<f64>,
    /// Mean completion time `finish - arrival` over allocated jobs, in time steps.
    pub mean_completion_time: Option<f64>,
    /// Latest finish over allocated jobs, in time steps (0 when none).
    pub makespan: u32,
    /// Sum of rewards under the slowdown objective over time steps `0..=final_time`.
    pub total_reward: f64,
    /// Sum of rewards under the completion-time objective over the same steps.
    pub total_completion_reward: f64,
}

/// Running sums of `(finish - arrival) * INV_LEN_SCALE / len`, exact.
#[derive(Clone, Copy, Debug, Default)]
struct SlowdownSum {
    jobs: u32,
    scaled: u64,
    completion_time: u64,
}

impl SlowdownSum {
    fn add(&mut self, job: &Job, finish: u32) {
        let ct = u64::from(finish.saturating_sub(job.arrival));
        self.jobs = self.jobs.saturating_add(1);
        self.scaled = self
            .scaled
            .saturating_add(ct.saturating_mul(crate::cluster::inv_len_scaled(job.len)));
        self.completion_time = self.completion_time.saturating_add(ct);
    }

    fn merge(&mut self, other: &SlowdownSum) {
        self.jobs = self.jobs.saturating_add(other.jobs);
        self.scaled = self.scaled.saturating_add(other.scaled);
        self.completion_time = self.completion_time.saturating_add(other.completion_time);
    }

    fn mean(&self) -> Option<f64> {
        (self.jobs > 0).then(|| self.scaled as f64 / INV_LEN_SCALE as f64 / f64::from(self.jobs))
    }
}

/// A job sequence played on a cluster with `M` job slots.
#[derive(Clone, Debug)]
pub struct Episode<'a, const M: usize> {
    cluster: Cluster<M>,
    jobs: &'a [Job],
    next: usize,
    end: EndMode,
    decisions: u32,
    done: bool,
    truncated: bool,
    rejected: u32,
    charged: JobLoad,
    allocated: SlowdownSum,
    completed: SlowdownSum,
    /// Allocated, unfinished jobs' sums by finish step, at index `finish % T` as the cluster's
    /// finish groups.
    pending: [SlowdownSum; HORIZON],
    makespan: u32,
}

impl<'a, const M: usize> Episode<'a, M> {
    /// Starts an episode at time step 0: jobs arriving at 0 are admitted and step 0 is charged.
    ///
    /// # Errors
    /// [`EpisodeError`] when a job is invalid or the arrivals are not sorted.
    pub fn new(
        jobs: &'a [Job],
        end: EndMode,
        observer: &mut impl Observer,
    ) -> Result<Self, EpisodeError> {
        validate_jobs(jobs)?;
        let mut ep = Episode {
            cluster: Cluster::new(),
            jobs,
            next: 0,
            end,
            decisions: 0,
            done: false,
            truncated: false,
            rejected: 0,
            charged: JobLoad::default(),
            allocated: SlowdownSum::default(),
            completed: SlowdownSum::default(),
            pending: [SlowdownSum::default(); HORIZON],
            makespan: 0,
        };
        ep.enter_time_step(observer);
        Ok(ep)
    }

    /// The cluster as a policy sees it.
    pub fn cluster(&self) -> &Cluster<M> {
        &self.cluster
    }

    /// The charges so far, summed over time steps `0..=now`: jobs in the system and their exact
    /// `sum(INV_LEN_SCALE / len)` (minus the slowdown return, scaled; see [`Charge`]).
    pub fn charged(&self) -> JobLoad {
        self.charged
    }

    /// True once the end mode's condition (or the time cap) has been reached.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Applies one decision. After the episode is done this does nothing and returns `None`.
    pub fn step(&mut self, action: Action, observer: &mut impl Observer) -> Option<Step> {
        if self.done {
            return None;
        }
        let step = self.cluster.step(action);
        let decision = self.decisions;
        self.decisions = self.decisions.saturating_add(1);
        let charge = match step {
            Step::Allocated { job, finish, .. } => {
                self.allocated.add(&job, finish);
                // `finish` is in `now + 1..=now + T`: its own index.
                if let Some(p) = self.pending.get_mut(ring_index(finish)) {
                    p.add(&job, finish);
                }
                self.makespan = self.makespan.max(finish);
                Charge::default()
            }
            Step::MovedOn { .. } => {
                // The jobs finishing at the new time step.
                if let Some(done) = self.pending.get_mut(ring_index(self.cluster.now())) {
                    self.completed.merge(&core::mem::take(done));
                }
                self.enter_time_step(observer)
            }
        };
        observer.on_event(&Event::Decided {
            decision,
            action,
            step,
            charge,
        });
        Some(step)
    }

    /// Admits the arrivals of the current time step, checks the end condition and charges the
    /// step's reward (DeepRM: after arrivals, on every MoveOn).
    fn enter_time_step(&mut self, observer: &mut impl Observer) -> Charge {
        let now = self.cluster.now();
        if let EndMode::NoNewJob { simu_len } = self.end {
            if now >= simu_len {
                self.done = true;
            }
        }
        if !self.done {
            while let Some(job) = self.jobs.get(self.next).filter(|j| j.arrival <= now) {
                self.next += 1;
                let event = match self.cluster.submit(*job) {
                    Ok(placement) => Event::Arrived {
                        job: *job,
                        placement,
                    },
                    Err(reason) => {
                        self.rejected = self.rejected.saturating_add(1);
                        Event::Rejected { job: *job, reason }
                    }
                };
                observer.on_event(&event);
            }
        }
        let load = self.cluster.in_system();
        self.charged.jobs = self.charged.jobs.saturating_add(load.jobs);
        self.charged.inv_len_scaled = self
            .charged
            .inv_len_scaled
            .saturating_add(load.inv_len_scaled);
        if let EndMode::AllDone { time_cap } = self.end {
            if self.next >= self.jobs.len() && self.cluster.is_empty() {
                self.done = true;
            } else if now >= time_cap {
                self.done = true;
                self.truncated = true;
            }
        }
        Charge(load)
    }

    /// The episode's metrics so far (final once [`Episode::is_done`]).
    pub fn summary(&self) -> Summary {
        let running = self.cluster.in_flight();
        let waiting = self.cluster.waiting();
        let final_time = self.cluster.now();
        let charge = Charge(self.charged);
        Summary {
            jobs: self.jobs.len() as u32,
            decisions: self.decisions,
            final_time,
            truncated: self.truncated,
            allocated: self.allocated.jobs,
            completed: self.completed.jobs,
            running: running.jobs,
            waiting: waiting.jobs,
            rejected: self.rejected,
            not_arrived: (self.jobs.len() - self.next) as u32,
            mean_slowdown: self.allocated.mean(),
            mean_slowdown_completed: self.completed.mean(),
            mean_completion_time: (self.allocated.jobs > 0)
                .then(|| self.allocated.completion_time as f64 / f64::from(self.allocated.jobs)),
            makespan: self.makespan,
            total_reward: charge.slowdown_reward(),
            total_completion_reward: charge.completion_reward(),
        }
    }
}

/// Plays an episode to its end with `scheduler` and returns its metrics.
///
/// # Errors
/// The scheduler's [`PolicyError`](crate::scheduler::PolicyError); the episode stops at that decision.
pub fn run<const M: usize, S: crate::scheduler::Scheduler<M> + ?Sized>(
    episode: &mut Episode<'_, M>,
    scheduler: &mut S,
    observer: &mut impl Observer,
) -> Result<Summary, crate::scheduler::PolicyError> {
    while !episode.is_done() {
        let action = scheduler.decide(episode.cluster())?;
        episode.step(action, observer);
    }
    Ok(episode.summary())
}
