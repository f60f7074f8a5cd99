//! The rule-based baselines of DeepRM's `other_agents.py` (our description in `SEMANTICS.md`
//! section 5), as [`Scheduler`]s and [`Preference`]s.
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
use crate::scheduler::{rank_logits, PolicyError, Preference, Scheduler};
use crate::spec::{NUM_RES, RES_UNITS};

/// The score a baseline ranks a job that fits now by: `score`, except that a zero-demand job
/// (demand 0 in every resource) scores at least [`f64::MIN_POSITIVE`].
///
/// DeepRM starts every baseline's best score at 0 with a strict `>`, so a score of 0 never wins.
/// Packer's alignment (and Tetris's with knob 1) is 0 exactly for a zero-demand job, which would
/// then never start and hold the run until its time cap. DeepRM never generates zero demand, so
/// this changes no DeepRM schedule; the job now starts when nothing with a positive score can
/// (see `docs/deeprm-differences.md`).
fn eligible_score<const M: usize>(
    cluster: &Cluster<M>,
    job: &Job,
    score: impl Fn(&Cluster<M>, &Job) -> f64,
) -> f64 {
    let s = score(cluster, job);
    if job.res.iter().all(|&d| d == 0) && s <= 0.0 {
        f64::MIN_POSITIVE
    } else {
        s
    }
}

/// The eligible slot with the strictly highest positive [`eligible_score`], lowest index on
/// ties, else void.
fn best_eligible<const M: usize>(
    cluster: &Cluster<M>,
    score: impl Fn(&Cluster<M>, &Job) -> f64,
) -> Action {
    let mut best = (0.0, Action::Void);
    for (i, job) in cluster.slots().iter().enumerate() {
        if let Some(job) = job.as_ref().filter(|j| cluster.fits_now(j)) {
            let s = eligible_score(cluster, job, &score);
            if s > best.0 {
                best = (s, Action::Schedule(i));
            }
        }
    }
    best.1
}

/// A score-based baseline's preference (see [`Preference`] and [`rank_logits`]): first the
/// jobs that fit now with a positive score, best score first (lowest index on ties), then void,
/// then the other jobs that fit somewhere in the horizon (by slot index). Its first entry is
/// [`best_eligible`]'s choice. Empty slots and jobs that fit nowhere are not allowed.
fn ranked_preference<const M: usize, const O: usize>(
    cluster: &Cluster<M>,
    score: impl Fn(&Cluster<M>, &Job) -> f64,
    logits: &mut [f32; O],
    valid: &mut [bool; O],
) {
    const { assert!(O == M + 1, "a policy has M + 1 outputs") };
    // (class, score) per action; class 3 is not allowed.
    let mut keys = [(3u8, 0.0f64); O];
    for (key, slot) in keys.iter_mut().zip(cluster.slots().iter()) {
        if let Some(job) = slot {
            let s = eligible_score(cluster, job, &score);
            *key = if cluster.fits_now(job) && s > 0.0 {
                (0, s)
            } else if cluster.first_fit(job).is_some() {
                (2, 0.0)
            } else {
                (3, 0.0)
            };
        }
    }
    if let Some(void) = keys.get_mut(M) {
        *void = (1, 0.0);
    }
    // Action k's place is the number of actions before it in (class, best score, index)
    // order: a strict total order, so places are 0..O, each once. Counting instead of sorting
    // keeps this free of panicking paths.
    let key = |k: usize| keys.get(k).copied().unwrap_or((3, 0.0));
    let before = |a: usize, b: usize| {
        let ((ca, sa), (cb, sb)) = (key(a), key(b));
        ca.cmp(&cb).then(sb.total_cmp(&sa)).then(a.cmp(&b)).is_lt()
    };
    let mut order = [0usize; O];
    for k in 0..O {
        let place = (0..O).filter(|&j| before(j, k)).count();
        if let Some(o) = order.get_mut(place) {
            *o = k;
        }
    }
    rank_logits(&order, logits);
    for (v, k) in valid.iter_mut().zip(keys.iter()) {
        *v = k.0 < 3;
    }
}

fn sjf_score<const M: usize>(_: &Cluster<M>, job: &Job) -> f64 {
    1.0 / f64::from(job.len)
}

fn packer_score<const M: usize>(cluster: &Cluster<M>, job: &Job) -> f64 {
    f64::from(alignment(cluster, job))
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
        Ok(best_eligible(cluster, sjf_score))
    }
}

impl<const M: usize> Preference<M> for Sjf {
    fn preference<const O: usize>(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32; O],
        valid: &mut [bool; O],
    ) -> Result<(), PolicyError> {
        ranked_preference(cluster, sjf_score, logits, valid);
        Ok(())
    }
}

/// DeepRM's Packer: among jobs that fit now, the best [`alignment`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Packer;

impl<const M: usize> Scheduler<M> for Packer {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        Ok(best_eligible(cluster, packer_score))
    }
}

impl<const M: usize> Preference<M> for Packer {
    fn preference<const O: usize>(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32; O],
        valid: &mut [bool; O],
    ) -> Result<(), PolicyError> {
        ranked_preference(cluster, packer_score, logits, valid);
        Ok(())
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

impl Tetris {
    fn score<const M: usize>(&self, cluster: &Cluster<M>, job: &Job) -> f64 {
        let max_align = (NUM_RES as f64) * f64::from(RES_UNITS) * f64::from(RES_UNITS);
        self.knob * f64::from(alignment(cluster, job)) / max_align
            + (1.0 - self.knob) / f64::from(job.len)
    }
}

impl<const M: usize> Scheduler<M> for Tetris {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        Ok(best_eligible(cluster, |c, j| self.score(c, j)))
    }
}

impl<const M: usize> Preference<M> for Tetris {
    fn preference<const O: usize>(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32; O],
        valid: &mut [bool; O],
    ) -> Result<(), PolicyError> {
        ranked_preference(cluster, |c, j| self.score(c, j), logits, valid);
        Ok(())
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

/// Random's preference: its draw first (the same draw as [`Scheduler::decide`]), then the other
/// actions in index order, all allowed (see [`rank_logits`]).
impl<const M: usize> Preference<M> for RandomPolicy {
    fn preference<const O: usize>(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32; O],
        valid: &mut [bool; O],
    ) -> Result<(), PolicyError> {
        let drawn = Scheduler::<M>::decide(self, cluster)?.index(M);
        let mut order = [0usize; O];
        let rest = (0..O).filter(|&k| k != drawn);
        for (o, k) in order.iter_mut().zip(core::iter::once(drawn).chain(rest)) {
            *o = k;
        }
        rank_logits(&order, logits);
        *valid = [true; O];
        Ok(())
    }
}
