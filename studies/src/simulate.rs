//! `whitebox simulate`: one job file, one policy, a full report of what happened to each job.
//!
//! Job statuses are derived from the recorded events and then checked against the episode's
//! [`Summary`] counts, so the per-job view and the aggregate view can never disagree silently.

use anyhow::{ensure, Result};
use serde::Serialize;
use whitebox_core::spec::{NUM_RES, RES_UNITS};
use whitebox_core::{Event, Job, Observer, Summary};

use whitebox_core::projection::Projection;

use whitebox_runtime::guard::GuardSettings;
use whitebox_runtime::play::{play_explained, Explanations, GuardOutcome, Keep};
use whitebox_runtime::policy::{check_guardable, PolicyName, PolicySpec};
use whitebox_runtime::record::Recorder;
use whitebox_runtime::rules::{cap_violations, CapViolation, DecisionInfo};
use whitebox_runtime::settings::{End, Slots};

/// The settings of one simulation.
#[derive(Clone, Debug)]
pub struct SimSettings {
    /// Policy name.
    pub policy: PolicyName,
    /// Visible job slots.
    pub slots: Slots,
    /// End mode.
    pub end: End,
    /// Arrival window for `no-new-job`, in time steps.
    pub simu_len: u32,
    /// Time cap for `all-done`, in time steps.
    pub time_cap: u32,
    /// Seed of the random policy.
    pub seed: u64,
    /// Tetris knob, in `[0, 1]`.
    pub tetris_knob: f64,
    /// A guard insuring a learned policy against SJF (`docs/guard.md`), if any.
    pub guard: Option<GuardSettings>,
}

/// Operator rules of a simulation (see [`simulate_with_rules`]).
#[derive(Clone, Debug, Default)]
pub struct RuleSettings {
    /// Rules every decision is projected onto, if any.
    pub rules: Option<Projection>,
    /// Report every projected decision, not only those the rules changed.
    pub explain_all: bool,
}

/// What became of a job at the end of the episode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Finished at or before the final time step.
    Completed,
    /// Allocated, finishing after the final time step.
    Running,
    /// In a slot or the backlog at the end.
    Waiting,
    /// Refused at arrival.
    Rejected,
    /// Arrived at or after the end; never entered.
    NotArrived,
}

impl Status {
    /// The name used in reports (as in the JSON).
    pub fn name(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::Running => "running",
            Status::Waiting => "waiting",
            Status::Rejected => "rejected",
            Status::NotArrived => "not_arrived",
        }
    }
}

/// One job in the report. Times in steps, demands in units.
#[derive(Clone, Debug, Serialize)]
pub struct JobReport {
    /// Arrival time step.
    pub arrival: u32,
    /// Duration, in steps.
    pub len: u8,
    /// Demand per resource, in units.
    pub res: [u8; NUM_RES],
    /// First step it runs, `null` if never started.
    pub start: Option<u32>,
    /// Step at which it is done, `null` if never started.
    pub finish: Option<u32>,
    /// Its status at the end.
    pub status: Status,
    /// Why it was rejected (only for rejected jobs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_reason: Option<String>,
}

/// A rejected job and why.
#[derive(Clone, Debug, Serialize)]
pub struct Rejection {
    /// Job index in the input.
    pub job: usize,
    /// Reason.
    pub reason: String,
}

/// The full report of `whitebox simulate` (its JSON output).
#[derive(Clone, Debug, Serialize)]
pub struct SimReport {
    /// Policy name.
    pub policy: String,
    /// Visible job slots.
    pub slots: usize,
    /// End mode name.
    pub end: &'static str,
    /// Arrival window for `no-new-job`, in steps.
    pub simu_len: u32,
    /// Time cap for `all-done`, in steps.
    pub time_cap: u32,
    /// Random policy seed.
    pub seed: u64,
    /// Tetris knob.
    pub tetris_knob: f64,
    /// Per job, in input order.
    pub jobs: Vec<JobReport>,
    /// The episode's summary (the core's [`Summary`]: counts, mean slowdown and completion
    /// time, makespan, rewards, truncation), cross-checked against the per-job statuses.
    pub summary: Summary,
    /// Rejected jobs, in input order.
    pub rejected: Vec<Rejection>,
    /// Per ended time step, per resource: units in use / capacity, in `[0, 1]`.
    pub utilization: Vec<[f64; NUM_RES]>,
    /// Actions taken, as network output indices (`slots` is void).
    pub actions: Vec<usize>,
    /// With rules: what the projection did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection: Option<ProjectionReport>,
    /// With a `util<=` rule: every (time step, resource) whose usage, recomputed from the
    /// jobs' start, finish and demand, is above the tightest cap. Only lone jobs (the
    /// documented exception) may appear here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_violations: Option<Vec<CapViolation>>,
    /// With a guard: its settings, counters, final costs and hand-overs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardOutcome>,
}

/// What the rule projection did in a simulation.
#[derive(Clone, Debug, Serialize)]
pub struct ProjectionReport {
    /// The rules, as written on the command line (with weights when not 1).
    pub rules: Vec<String>,
    /// The strength `C`: a number, or `"inf"` for the shield.
    pub c: serde_json::Value,
    /// Decisions made.
    pub decisions: u32,
    /// Decisions the rules changed.
    pub changed: u32,
    /// Decisions that fell back to void because every allowed action violated a rule.
    pub fallbacks: u32,
    /// The decisions the rules changed or that fell back to void (every decision with
    /// `--explain-decisions`): action, raw and projected probabilities, the rules involved.
    pub decisions_explained: Vec<DecisionInfo>,
}

/// A [`Recorder`] that also notes which jobs entered the system (arrived or were rejected),
/// because "never entered" is decided by the episode's end rule, not by the job alone.
struct Tracker {
    rec: Recorder,
    entered: Vec<bool>,
}

impl Observer for Tracker {
    fn on_event(&mut self, event: &Event) {
        if let Event::Arrived { job, .. } | Event::Rejected { job, .. } = event {
            if let Some(e) = self.entered.get_mut(job.id as usize) {
                *e = true;
            }
        }
        self.rec.on_event(event);
    }
}

/// Simulates `jobs` (ids must be their positions, as [`whitebox_runtime::jobfile::load`] makes them).
///
/// # Errors
/// When the jobs are invalid (nothing is simulated), the Tetris knob is outside `[0, 1]`, or
/// (an internal bug) the per-job statuses disagree with the episode's counts.
pub fn simulate(jobs: &[Job], s: &SimSettings) -> Result<SimReport> {
    simulate_with_rules(jobs, s, &RuleSettings::default())
}

/// As [`simulate`], with every decision projected onto `r.rules`; the report then says what
/// the projection did and lists the steps above the tightest `util<=` cap.
///
/// # Errors
/// As [`simulate`].
pub fn simulate_with_rules(jobs: &[Job], s: &SimSettings, r: &RuleSettings) -> Result<SimReport> {
    check_guardable(&s.policy, s.guard.as_ref())?;
    let policy: PolicySpec = s
        .policy
        .with(s.tetris_knob, s.seed)?
        .projected(r.rules.clone())
        .guarded(s.guard)?;
    let mut tracker = Tracker {
        rec: Recorder::new(jobs, s.slots.count()),
        entered: vec![false; jobs.len()],
    };
    let end = s.end.mode(s.simu_len, s.time_cap);
    let mut explain = Explanations {
        keep: if r.explain_all {
            Keep::All
        } else {
            Keep::Changed
        },
        ..Explanations::default()
    };
    let summary = play_explained(
        jobs,
        s.slots,
        end,
        &policy,
        &mut tracker,
        Some(&mut explain),
    )?;
    let Tracker { rec, entered } = tracker;
    let job_reports: Vec<JobReport> = rec
        .jobs
        .iter()
        .zip(&entered)
        .map(|(o, &entered)| {
            // The recorder sets start and finish together, so `finish` alone decides.
            let status = match o.finish {
                _ if o.rejected.is_some() => Status::Rejected,
                None if !entered => Status::NotArrived,
                None => Status::Waiting,
                Some(f) if f <= summary.final_time => Status::Completed,
                Some(_) => Status::Running,
            };
            JobReport {
                arrival: o.arrival,
                len: o.len,
                res: o.res,
                start: o.start,
                finish: o.finish,
                status,
                rejected_reason: o.rejected.clone(),
            }
        })
        .collect();
    check_counts(&job_reports, &summary)?;
    let cap = f64::from(RES_UNITS);
    Ok(SimReport {
        policy: s.policy.name(),
        slots: s.slots.count(),
        end: s.end.name(),
        simu_len: s.simu_len,
        time_cap: s.time_cap,
        seed: s.seed,
        tetris_knob: s.tetris_knob,
        rejected: rec
            .rejections()
            .map(|(job, reason)| Rejection {
                job,
                reason: reason.to_owned(),
            })
            .collect(),
        jobs: job_reports,
        summary,
        utilization: rec
            .used
            .iter()
            .map(|u| u.map(|x| f64::from(x) / cap))
            .collect(),
        actions: rec.actions,
        projection: r.rules.as_ref().map(|p| ProjectionReport {
            rules: whitebox_runtime::rules::names(p),
            c: whitebox_runtime::rules::strength(p),
            decisions: explain.stats.decisions,
            changed: explain.stats.changed,
            fallbacks: explain.stats.fallbacks,
            decisions_explained: explain.decisions,
        }),
        rule_violations: r
            .rules
            .as_ref()
            .and_then(|p| p.rules().tightest_cap())
            .map(|max| cap_violations(&rec.jobs, max)),
        guard: explain.guard,
    })
}

fn check_counts(jobs: &[JobReport], summary: &Summary) -> Result<()> {
    let count = |s: Status| jobs.iter().filter(|j| j.status == s).count() as u32;
    let derived = [
        count(Status::Completed),
        count(Status::Running),
        count(Status::Waiting),
        count(Status::Rejected),
        count(Status::NotArrived),
    ];
    let expected = [
        summary.completed,
        summary.running,
        summary.waiting,
        summary.rejected,
        summary.not_arrived,
    ];
    ensure!(
        derived == expected,
        "internal error: job statuses (completed, running, waiting, rejected, not_arrived) = \
         {derived:?} disagree with the episode summary {expected:?}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(end: End, simu_len: u32, time_cap: u32) -> SimSettings {
        SimSettings {
            policy: PolicyName::Sjf,
            slots: Slots::Five,
            end,
            simu_len,
            time_cap,
            seed: 0,
            tetris_knob: 0.5,
            guard: None,
        }
    }

    fn job(id: u32, arrival: u32, len: u32, res: [u32; 2]) -> Job {
        Job::new(id, arrival, len, res).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn every_status_is_derived_consistently() {
        // SJF at step 0: job 1 (len 1, slot 1 wins the tie with job 2), then job 0 fills the
        // other half; job 2 and the fillers wait; the 66th job at step 0 finds the 5 slots and
        // 60 backlog places full; the last arrives after the window.
        let mut jobs = vec![
            job(0, 0, 2, [5, 5]),
            job(1, 0, 1, [5, 5]),
            job(2, 0, 1, [10, 10]),
        ];
        for id in 3..66 {
            jobs.push(job(id, 0, 20, [10, 10]));
        }
        jobs.push(job(66, 3, 1, [1, 1]));
        let r = simulate(&jobs, &settings(End::NoNewJob, 1, 0));
        let r = r.unwrap_or_else(|e| unreachable!("{e:#}"));
        let status = |i: usize| r.jobs[i].status;
        assert_eq!(status(0), Status::Running);
        assert_eq!(status(1), Status::Completed);
        assert_eq!(status(2), Status::Waiting);
        assert_eq!(status(65), Status::Rejected);
        assert!(r.jobs[65]
            .rejected_reason
            .as_deref()
            .is_some_and(|s| s.contains("backlog full")));
        assert_eq!(status(66), Status::NotArrived);
        assert_eq!(
            (
                r.summary.running,
                r.summary.completed,
                r.summary.waiting,
                r.summary.rejected
            ),
            (1, 1, 63, 1)
        );
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(r.rejected[0].job, 65);
        assert_eq!(r.summary.final_time, 1);
        assert_eq!(r.utilization, vec![[1.0, 1.0]]);

        let r = simulate(
            &jobs,
            &settings(End::AllDone, 0, whitebox_runtime::settings::TIME_CAP),
        );
        let r = r.unwrap_or_else(|e| unreachable!("{e:#}"));
        assert_eq!(
            (
                r.summary.completed,
                r.summary.rejected,
                r.summary.not_arrived
            ),
            (66, 1, 0)
        );
        assert!(!r.summary.truncated);
    }

    #[test]
    fn a_bad_knob_simulates_nothing() {
        let mut s = settings(End::AllDone, 0, 10);
        s.policy = PolicyName::Tetris;
        s.tetris_knob = 2.0;
        assert!(simulate(&[job(0, 0, 1, [1, 1])], &s).is_err());
    }
}
