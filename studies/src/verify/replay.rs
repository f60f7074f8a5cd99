//! Concrete clusters for states of regions, built by the simulator's own transitions, so a
//! counterexample is replayed through the real policy, not only through the network.
//!
//! An occupied horizon whose used units do not grow with the row is built first: jobs submitted
//! and started at time 0, one per length where the used units drop (lengthened by the steps that
//! follow). Then, as for an idle state: an idle state (every horizon row free) with jobs in some slots, `b` jobs in the backlog and
//! `s` steps since the last new job is reached from an empty cluster by: submitting at time 0 a
//! job for every slot (a filler of length 1 for the slots that must end empty) and the backlog
//! (fillers too: the encoder only sees their number); starting each filler in a slot that must
//! end empty; then `Void` steps until the fillers are done and the counter reads `s` (it caps at
//! 10). A state with an empty slot and `s = 0` gets slot 0's job at time 1 instead (it fills the
//! lowest empty slot); a backlog needs every slot full. The submitted jobs form a job file and the
//! actions a fixed prefix (scripted, not the policy's own).

use whitebox_core::encoding::{Compact, Encoder};
use whitebox_core::spec::{HORIZON, MAX_JOB_LEN, NUM_RES, RES_UNITS};
use whitebox_core::{Action, Cluster, Job, Step};

use super::region::{Feature, Region};

/// A cluster in a given state and how it was reached.
#[derive(Clone, Debug)]
pub struct Replay<const M: usize> {
    /// The jobs submitted at time 0, in order (a job file).
    pub jobs: Vec<Job>,
    /// The actions taken before the state.
    pub prefix: Vec<Action>,
    /// The cluster in the state.
    pub cluster: Cluster<M>,
}

/// Jobs that, started at time 0 and followed by `shift` steps, leave exactly the occupancy of
/// `units`: used units per row must not grow with the row (a job started now covers rows
/// `0..len`), one job of length `len + shift` per length where the used units drop, demand the
/// drop. `None` when the occupancy grows somewhere or a job would be longer than 20 steps.
fn occupancy_jobs(
    get: impl Fn(Feature) -> Option<u16>,
    shift: u16,
) -> Option<Vec<(u32, [u32; NUM_RES])>> {
    let used = |row: usize, res: usize| -> Option<u16> {
        if row >= HORIZON {
            return Some(0);
        }
        Some(u16::from(RES_UNITS).saturating_sub(get(Feature::Free { row, res })?))
    };
    let mut out = Vec::new();
    for len in 1..=HORIZON {
        let mut drop = [0u32; NUM_RES];
        for (res, d) in drop.iter_mut().enumerate() {
            let (here, next) = (used(len - 1, res)?, used(len, res)?);
            *d = u32::from(here.checked_sub(next)?);
        }
        if drop.iter().any(|&d| d > 0) {
            let total = len as u32 + u32::from(shift);
            if total > u32::from(MAX_JOB_LEN) {
                return None;
            }
            out.push((total, drop));
        }
    }
    Some(out)
}

/// Builds the state `units` (whole units per compact feature, `I` compact inputs for `M`
/// slots); `None` when it is not reachable this way. An occupied horizon is built first by
/// jobs started at time 0 (see [`occupancy_jobs`]; the used units must not grow with the row).
/// The result encodes exactly to `units`.
pub fn build<const M: usize, const I: usize>(region: &Region, units: &[u16]) -> Option<Replay<M>> {
    let get = |f: Feature| region.index(f).and_then(|i| units.get(i).copied());
    let filler = |id: u32| Job::new(id, 0, 1, [1; NUM_RES]).ok();
    let mut holes = Vec::new();
    for slot in 0..M {
        if get(Feature::Len { slot })? == 0 {
            holes.push(slot);
        }
    }
    let since = get(Feature::SinceNew)?;
    // With an empty slot and the counter at 0, slot 0's job arrives at time 1 instead, into the
    // lowest empty slot: slot 0 starts with a filler that is started with the others.
    let late = !holes.is_empty() && since == 0;
    if late && get(Feature::Len { slot: 0 })? == 0 {
        return None;
    }
    let voids = if holes.is_empty() && !late {
        since
    } else {
        since.max(1)
    };
    let mut cluster: Cluster<M> = Cluster::new();
    let mut jobs = Vec::new();
    let mut prefix: Vec<Action> = Vec::new();
    for (len, res) in occupancy_jobs(get, voids)? {
        let job = Job::new(jobs.len() as u32, 0, len, res).ok()?;
        cluster.submit(job).ok()?;
        jobs.push(job);
    }
    // Start every occupancy job now (each fits at row 0: the used units of every row stay
    // within the target's).
    while let Some(slot) = cluster.slots().iter().position(Option::is_some) {
        prefix.push(Action::Schedule(slot));
        if !matches!(
            cluster.step(Action::Schedule(slot)),
            Step::Allocated { start: 0, .. }
        ) {
            return None;
        }
    }
    let first = jobs.len();
    for slot in 0..M {
        let len = get(Feature::Len { slot })?;
        let id = jobs.len() as u32;
        if len == 0 {
            jobs.push(filler(id)?);
        } else {
            let res: [u32; NUM_RES] =
                core::array::from_fn(|res| get(Feature::Demand { slot, res }).map_or(0, u32::from));
            jobs.push(Job::new(id, 0, u32::from(len), res).ok()?);
        }
    }
    for _ in 0..get(Feature::Backlog)? {
        jobs.push(filler(jobs.len() as u32)?);
    }
    let mut late_job = None;
    if late {
        let job = *jobs.get(first)?;
        late_job = Some(Job::new(job.id, 1, u32::from(job.len), job.res.map(u32::from)).ok()?);
        jobs[first] = filler(job.id)?;
        holes.insert(0, 0);
    }
    for j in &jobs[first..] {
        cluster.submit(*j).ok()?;
    }
    prefix.extend(holes.iter().map(|&s| Action::Schedule(s)));
    prefix.extend((0..voids).map(|_| Action::Void));
    for &a in &prefix[prefix.len() - holes.len() - usize::from(voids)..] {
        cluster.step(a);
    }
    if let Some(j) = late_job {
        cluster.submit(j).ok()?;
        jobs.push(j);
    }
    let mut x = [0.0f32; I];
    Compact::encode(&cluster, &mut x);
    (x[..] == region.encode(units)[..]).then_some(Replay {
        jobs,
        prefix,
        cluster,
    })
}
