//! The scheduler interface and the rule-based baselines of DeepRM's `other_agents.py`
//! (our description in `SEMANTICS.md` section 5).
//!
//! SJF, Packer and Tetris consider only the visible job slots, call a job eligible only if it
//! fits starting now, break ties towards the lowest slot index, and choose void when nothing is
//! eligible. Because a scheduler is asked again after every allocation, each keeps allocating
//! greedily within a time step until nothing fits.

use rand::Rng;
use rand_core::SeedableRng;
use rand_pcg::Pcg32;

use crate::cluster::{Action, Cluster};
use crate::job::Job;
use crate::spec::{NUM_RES, RES_UNITS};

/// Why a scheduler could not produce an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// A learned policy produced a non-finite value at this output index.
    NonFiniteOutput {
        /// Output (logit) index.
        index: usize,
    },
    /// The policy was built for another number of job slots.
    WrongSlots {
        /// Slots the policy decides for.
        policy: usize,
        /// Slots of the cluster.
        cluster: usize,
    },
}

impl core::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PolicyError::NonFiniteOutput { index } => {
                write!(f, "policy output {index} is not a finite number")
            }
            PolicyError::WrongSlots { policy, cluster } => write!(
                f,
                "policy decides for {policy} job slots, the cluster has {cluster}"
            ),
        }
    }
}

/// A scheduling policy for a cluster with `M` job slots.
pub trait Scheduler<const M: usize> {
    /// Chooses the next action for the cluster as it is now.
    ///
    /// # Errors
    /// [`PolicyError`] when the policy cannot decide (never for the baselines).
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError>;
}

/// The eligible slot with the strictly highest positive score, lowest index on ties, else void.
/// DeepRM starts every baseline's best score at 0 with a strict `>`, so a score of 0 never wins.
fn best_eligible<const M: usize>(
    cluster: &Cluster<M>,
    score: impl Fn(&Cluster<M>, &Job) -> f64,
) -> Action {
    let mut best = (0.0, Action::Void);
    for (i, job) in cluster.slots().iter().enumerate() {
        if let Some(job) = job.as_ref().filter(|j| cluster.fits_now(j)) {
            let s = score(cluster, job);
            if s > best.0 {
                best = (s, Action::Schedule(i));
            }
        }
    }
    best.1
}

/// Packer's alignment score: free capacity in the current step dotted with the demand, in
/// units squared (Grandl et al., "Multi-resource packing for cluster schedulers", SIGCOMM 2014).
pub fn alignment<const M: usize>(cluster: &Cluster<M>, job: &Job) -> u32 {
    cluster.avbl()[0]
        .iter()
        .zip(job.res.iter())
        .map(|(&a, &d)| u32::from(a) * u32::from(d))
        .sum()
}

/// Shortest job first: among jobs that fit now, the shortest (score `1 / len`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Sjf;

impl<const M: usize> Scheduler<M> for Sjf {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        Ok(best_eligible(cluster, |_, j| 1.0 / f64::from(j.len)))
    }
}

/// DeepRM's Packer: among jobs that fit now, the best [`alignment`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Packer;

impl<const M: usize> Scheduler<M> for Packer {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        Ok(best_eligible(cluster, |c, j| f64::from(alignment(c, j))))
    }
}

/// Tetris (Grandl et al. 2014): alignment blended with shortest-job-first.
///
/// Score = `knob * alignment / (d * r * r) + (1 - knob) / len`, both terms in `[0, 1]`.
/// `knob = 1` ranks like Packer, `knob = 0` like SJF. DeepRM's unused `packer_sjf` blends the raw
/// alignment (up to 200) with `1 / len`; we normalize so the knob means what it says.
#[derive(Clone, Copy, Debug)]
pub struct Tetris {
    /// Weight of the alignment term, in `[0, 1]`.
    pub knob: f64,
}

impl Default for Tetris {
    fn default() -> Self {
        Tetris { knob: 0.5 }
    }
}

impl<const M: usize> Scheduler<M> for Tetris {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        let max_align = (NUM_RES as f64) * f64::from(RES_UNITS) * f64::from(RES_UNITS);
        let knob = self.knob;
        Ok(best_eligible(cluster, |c, j| {
            knob * f64::from(alignment(c, j)) / max_align + (1.0 - knob) / f64::from(j.len)
        }))
    }
}

/// Uniform over all `M + 1` actions, valid or not (DeepRM's random agent); an invalid choice
/// becomes a MoveOn. Seeded PCG-32, so a seed gives the same actions on every target.
#[derive(Clone, Debug)]
pub struct RandomPolicy {
    rng: Pcg32,
}

impl RandomPolicy {
    /// A random policy with its own stream.
    pub fn new(seed: u64) -> Self {
        RandomPolicy {
            rng: Pcg32::seed_from_u64(seed),
        }
    }
}

impl<const M: usize> Scheduler<M> for RandomPolicy {
    fn decide(&mut self, _cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        let i = self.rng.random_range(0..=M as u32) as usize;
        Ok(Action::from_index(i, M).unwrap_or(Action::Void))
    }
}
