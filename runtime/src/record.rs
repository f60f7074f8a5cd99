//! Recording an episode: the schedule of every job and the utilization of every time step.

use serde::Serialize;
use whitebox_core::spec::NUM_RES;
use whitebox_core::{Event, Job, Observer, RejectReason, Step};

/// What became of one job.
#[derive(Clone, Debug, Serialize)]
pub struct JobOutcome {
    /// Arrival time step.
    pub arrival: u32,
    /// Duration, in steps.
    pub len: u8,
    /// Demand per resource, in units.
    pub res: [u8; NUM_RES],
    /// First step it runs, or `None` if never started.
    pub start: Option<u32>,
    /// Step at which it is done, or `None` if never started.
    pub finish: Option<u32>,
    /// Why it was rejected at arrival, if it was.
    pub rejected: Option<String>,
}

/// An [`Observer`] that keeps per-job outcomes (in input order) and per-step utilization.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    /// Per job, indexed by job id.
    pub jobs: Vec<JobOutcome>,
    /// Units in use per resource for each ended time step, in order.
    pub used: Vec<[u8; NUM_RES]>,
    /// Actions taken, as network output indices.
    pub actions: Vec<usize>,
    /// Number of job slots, to turn actions into indices.
    pub slots: usize,
}

impl Recorder {
    /// A recorder for `jobs` (ids must be their positions) on a cluster with `slots` slots.
    pub fn new(jobs: &[Job], slots: usize) -> Self {
        Recorder {
            jobs: jobs
                .iter()
                .map(|j| JobOutcome {
                    arrival: j.arrival,
                    len: j.len,
                    res: j.res,
                    start: None,
                    finish: None,
                    rejected: None,
                })
                .collect(),
            used: Vec::new(),
            actions: Vec::new(),
            slots,
        }
    }

    fn outcome(&mut self, job: &Job) -> Option<&mut JobOutcome> {
        self.jobs.get_mut(job.id as usize)
    }

    /// Jobs rejected at arrival, with their reasons.
    pub fn rejections(&self) -> impl Iterator<Item = (usize, &str)> {
        self.jobs
            .iter()
            .enumerate()
            .filter_map(|(i, j)| j.rejected.as_deref().map(|r| (i, r)))
    }
}

fn reason_text(reason: &RejectReason) -> String {
    // The reason and its source (an invalid job's own error), as error chains are printed.
    format!("{:#}", anyhow::Error::new(*reason))
}

impl Observer for Recorder {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::Arrived { .. } => {}
            Event::Rejected { job, reason } => {
                let text = reason_text(reason);
                if let Some(o) = self.outcome(job) {
                    o.rejected = Some(text);
                }
            }
            Event::Decided { action, step, .. } => {
                self.actions.push(action.index(self.slots));
                match *step {
                    Step::Allocated {
                        job, start, finish, ..
                    } => {
                        if let Some(o) = self.outcome(&job) {
                            o.start = Some(start);
                            o.finish = Some(finish);
                        }
                    }
                    Step::MovedOn { used, .. } => self.used.push(used),
                }
            }
        }
    }
}
