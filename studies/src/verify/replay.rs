//! Concrete clusters for states of idle-cluster regions, built by the simulator's own transitions,
//! so a counterexample is replayed through the real policy, not only through the network.
//!
//! An idle state (every horizon row free) with jobs in some slots, `b` jobs in the backlog and
//! `s` steps since the last new job is reached from an empty cluster by: submitting at time 0 a
//! job for every slot (a filler of length 1 for the slots that must end empty) and the backlog
//! (fillers too: the encoder only sees their number); starting each filler in a slot that must
//! end empty; then `Void` steps until the fillers are done and the counter reads `s` (it caps at
//! 10). A state with an empty slot and `s = 0` gets slot 0's job at time 1 instead (it fills the
//! lowest empty slot); a backlog needs every slot full. The submitted jobs form a job file and the
//! actions a fixed prefix (scripted, not the policy's own).

use whitebox_core::encoding::{Compact, Encoder};
use whitebox_core::spec::NUM_RES;
use whitebox_core::{Action, Cluster, Job};

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

/// Builds the idle-cluster state `units` (whole units per compact feature, `I` compact inputs
/// for `M` slots); `None` when the state is not idle or not reachable this way. The result encodes exactly to `units`.
pub fn build<const M: usize, const I: usize>(region: &Region, units: &[u16]) -> Option<Replay<M>> {
    let get = |f: Feature| region.index(f).and_then(|i| units.get(i).copied());
    let filler = |id: u32| Job::new(id, 0, 1, [1; NUM_RES]).ok();
    let mut jobs = Vec::new();
    let mut holes = Vec::new();
    for slot in 0..M {
        let len = get(Feature::Len { slot })?;
        let id = jobs.len() as u32;
        if len == 0 {
            holes.push(slot);
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
    let since = get(Feature::SinceNew)?;
    let mut cluster: Cluster<M> = Cluster::new();
    // With an empty slot and the counter at 0, slot 0's job arrives at time 1 instead, into the
    // lowest empty slot: slot 0 starts with a filler that is started with the others.
    let late = !holes.is_empty() && since == 0;
    let mut late_job = None;
    if late {
        let first = *jobs.first()?;
        if get(Feature::Len { slot: 0 })? == 0 {
            return None;
        }
        late_job =
            Some(Job::new(first.id, 1, u32::from(first.len), first.res.map(u32::from)).ok()?);
        jobs[0] = filler(0)?;
        holes.insert(0, 0);
    }
    for j in &jobs {
        cluster.submit(*j).ok()?;
    }
    let mut prefix: Vec<Action> = holes.iter().map(|&s| Action::Schedule(s)).collect();
    let voids = if holes.is_empty() {
        since
    } else {
        since.max(1)
    };
    prefix.extend((0..voids).map(|_| Action::Void));
    for &a in &prefix {
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
