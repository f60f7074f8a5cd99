//! `whitebox fuzz`: searching a workload's support for job sequences on which a policy does
//! worse than SJF, shrinking what is found, and writing it as replayable fixtures.
//!
//! * [`Support`] says which sequences the workload's generator can produce: at most one job per
//!   time step in `1..simu_len`, lengths in the short or long range, one dominant resource with
//!   a demand in the dominant range and the others in the other range. Every candidate the
//!   search or the shrinker builds stays inside it; [`Support::log_likelihood`] says how
//!   probable a sequence is under the generator.
//! * [`evaluate`] plays a sequence with the policy and with SJF (all-done) and scores it by the
//!   gap `mean slowdown(policy) - mean slowdown(SJF)` or their ratio. A truncated episode or one
//!   that allocated nothing has no score: it is neither side's win.
//! * [`search`] runs a random-sampling baseline ([`SearchKind::Random`]) or an evolutionary
//!   search ([`SearchKind::Evolve`]). All randomness comes from PCG streams keyed by
//!   `(seed, shard, generation, candidate index)`; candidates are evaluated in parallel with
//!   rayon and reduced in index order, so results do not depend on the thread count.
//! * [`shrink`] minimizes a found sequence (drop jobs, shorten lengths, lower demands) while its
//!   excess over SJF stays above a threshold.

pub mod campaign;
pub mod fixture;

use std::cmp::Ordering;

use anyhow::{bail, Result};
use rand::seq::IndexedRandom;
use rand::Rng;
use rand::SeedableRng;
use rand_pcg::Pcg32;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use whitebox_core::spec::NUM_RES;
use whitebox_core::workload::{Arrivals, Distribution, JobGenerator, Workload};
use whitebox_core::{EndMode, Job};

use whitebox_runtime::play::play;
use whitebox_runtime::policy::PolicySpec;
use whitebox_runtime::settings::Slots;

/// The sequences a workload's generator can produce, and their likelihood.
#[derive(Clone, Copy, Debug)]
pub struct Support {
    /// The workload.
    pub workload: Workload,
    /// Its distribution.
    pub dist: Distribution,
    /// Arrival rate, in jobs per step.
    pub rate: f64,
    /// Arrivals are at steps `1..simu_len`.
    pub simu_len: u32,
    /// Most jobs in a sequence (at most `simu_len - 1`).
    pub max_jobs: usize,
}

fn range_len(r: (u8, u8)) -> f64 {
    f64::from(r.1.max(r.0) - r.0.min(r.1)) + 1.0
}

fn in_range(r: (u8, u8), v: u8) -> bool {
    (r.0.min(r.1)..=r.0.max(r.1)).contains(&v)
}

fn uniform(rng: &mut Pcg32, r: (u8, u8)) -> u8 {
    rng.random_range(r.0.min(r.1)..=r.0.max(r.1))
}

impl Support {
    /// The support of `workload` at `rate` over `simu_len` steps, with at most `max_jobs` jobs
    /// (`None`: as many as there are steps).
    pub fn new(workload: Workload, rate: f64, simu_len: u32, max_jobs: Option<usize>) -> Self {
        let steps = simu_len.saturating_sub(1) as usize;
        Support {
            workload,
            dist: workload.distribution(),
            rate,
            simu_len,
            max_jobs: max_jobs.map_or(steps, |k| k.min(steps)),
        }
    }

    /// Every length the generator can draw, ascending.
    pub fn lengths(&self) -> Vec<u8> {
        let mut v: Vec<u8> = [self.dist.short_len, self.dist.long_len]
            .iter()
            .flat_map(|r| r.0.min(r.1)..=r.0.max(r.1))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Whether `jobs` is a sequence the generator can produce (ignoring `max_jobs`).
    pub fn contains(&self, jobs: &[Job]) -> bool {
        let mut previous = 0;
        jobs.iter().all(|j| {
            let ok = j.arrival > previous && j.arrival < self.simu_len && self.job_prob(j) > 0.0;
            previous = j.arrival;
            ok
        })
    }

    /// Probability that the generator draws this job, given that a job arrives.
    pub fn job_prob(&self, job: &Job) -> f64 {
        let d = &self.dist;
        let mut p_len = 0.0;
        if in_range(d.short_len, job.len) {
            p_len += d.short_prob / range_len(d.short_len);
        }
        if in_range(d.long_len, job.len) {
            p_len += (1.0 - d.short_prob) / range_len(d.long_len);
        }
        let p_res: f64 = (0..NUM_RES)
            .map(|dom| {
                job.res
                    .iter()
                    .enumerate()
                    .map(|(i, &u)| {
                        let r = if i == dom { d.dominant } else { d.other };
                        if in_range(r, u) {
                            1.0 / range_len(r)
                        } else {
                            0.0
                        }
                    })
                    .product::<f64>()
                    / NUM_RES as f64
            })
            .sum();
        p_len * p_res
    }

    /// Natural log of the probability that the generator produces exactly `jobs` (`None` for
    /// arrival processes other than Bernoulli; `-inf` outside the support).
    pub fn log_likelihood(&self, jobs: &[Job]) -> Option<f64> {
        if self.dist.arrivals != Arrivals::Bernoulli {
            return None;
        }
        if !self.contains(jobs) {
            return Some(f64::NEG_INFINITY);
        }
        let steps = f64::from(self.simu_len.saturating_sub(1));
        let n = jobs.len() as f64;
        let jobs_ll: f64 = jobs.iter().map(|j| self.job_prob(j).ln()).sum();
        Some(n * self.rate.ln() + (steps - n) * (1.0 - self.rate).ln() + jobs_ll)
    }

    /// One job drawn from the distribution, arriving at `arrival`.
    fn random_job(&self, rng: &mut Pcg32, arrival: u32) -> Job {
        let len = if rng.random::<f64>() < self.dist.short_prob {
            uniform(rng, self.dist.short_len)
        } else {
            uniform(rng, self.dist.long_len)
        };
        let dominant = rng.random_range(0..NUM_RES);
        let mut res = [0u8; NUM_RES];
        for (i, r) in res.iter_mut().enumerate() {
            *r = uniform(
                rng,
                if i == dominant {
                    self.dist.dominant
                } else {
                    self.dist.other
                },
            );
        }
        Job {
            id: 0,
            arrival,
            len,
            res,
        }
    }

    /// A sequence from the workload's own generator (seed `seed`), cut to `max_jobs` jobs.
    pub fn sample(&self, seed: u64) -> Vec<Job> {
        let mut jobs: Vec<Job> = JobGenerator::new(self.workload, self.rate, self.simu_len, seed)
            .take(self.max_jobs)
            .collect();
        renumber(&mut jobs);
        jobs
    }

    /// A random in-support change of `jobs` (see [`Mutation`]); `jobs` stays sorted, with ids
    /// equal to positions.
    pub fn mutate(&self, rng: &mut Pcg32, jobs: &mut Vec<Job>) -> Mutation {
        let mut free: Vec<u32> = (1..self.simu_len)
            .filter(|t| !jobs.iter().any(|j| j.arrival == *t))
            .collect();
        loop {
            let m = Mutation::ALL[rng.random_range(0..Mutation::ALL.len())];
            let n = jobs.len();
            let pick = |rng: &mut Pcg32| rng.random_range(0..n.max(1));
            match m {
                Mutation::Insert if n < self.max_jobs && !free.is_empty() => {
                    let t = free.swap_remove(rng.random_range(0..free.len()));
                    jobs.push(self.random_job(rng, t));
                }
                Mutation::Delete if n > 1 => {
                    jobs.remove(pick(rng));
                }
                Mutation::Length if n > 0 => {
                    let lens = self.lengths();
                    let i = pick(rng);
                    if let Some(&l) = lens.choose(rng) {
                        jobs[i].len = l;
                    }
                }
                Mutation::Demand if n > 0 => {
                    let i = pick(rng);
                    let dom = dominant(&jobs[i]);
                    let r = rng.random_range(0..NUM_RES);
                    let range = if r == dom {
                        self.dist.dominant
                    } else {
                        self.dist.other
                    };
                    jobs[i].res[r] = uniform(rng, range);
                }
                Mutation::Dominant if n > 0 => {
                    let i = pick(rng);
                    jobs[i].res.reverse();
                }
                Mutation::Shift if n > 0 && !free.is_empty() => {
                    let i = pick(rng);
                    let a = i64::from(jobs[i].arrival);
                    // Prefer a nearby free step; fall back to any free step.
                    let near: Vec<u32> = free
                        .iter()
                        .copied()
                        .filter(|&t| (i64::from(t) - a).abs() <= 3)
                        .collect();
                    let pool = if near.is_empty() { &free } else { &near };
                    if let Some(&t) = pool.choose(rng) {
                        jobs[i].arrival = t;
                    }
                }
                _ => continue,
            }
            jobs.sort_by_key(|j| j.arrival);
            renumber(jobs);
            return m;
        }
    }

    /// A child of two sequences: `a`'s jobs before a random step, `b`'s from it on.
    fn crossover(&self, rng: &mut Pcg32, a: &[Job], b: &[Job]) -> Vec<Job> {
        let cut = rng.random_range(1..self.simu_len.max(2));
        let mut jobs: Vec<Job> = a
            .iter()
            .filter(|j| j.arrival < cut)
            .chain(b.iter().filter(|j| j.arrival >= cut))
            .copied()
            .take(self.max_jobs)
            .collect();
        renumber(&mut jobs);
        jobs
    }
}

/// Index of a job's dominant resource (its largest demand; the first on a tie).
fn dominant(job: &Job) -> usize {
    let mut best = 0;
    for (i, &u) in job.res.iter().enumerate() {
        if u > job.res[best] {
            best = i;
        }
    }
    best
}

/// Sets every job's id to its position.
pub fn renumber(jobs: &mut [Job]) {
    for (i, j) in jobs.iter_mut().enumerate() {
        j.id = i as u32;
    }
}

/// The in-support changes the evolutionary search makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// Another length of the support.
    Length,
    /// Another demand of one resource, in its range.
    Demand,
    /// Swap which resource is dominant.
    Dominant,
    /// Move a job to a free nearby step.
    Shift,
    /// Add a job drawn from the distribution at a free step.
    Insert,
    /// Remove a job.
    Delete,
}

impl Mutation {
    /// Every mutation.
    pub const ALL: [Mutation; 6] = [
        Mutation::Length,
        Mutation::Demand,
        Mutation::Dominant,
        Mutation::Shift,
        Mutation::Insert,
        Mutation::Delete,
    ];
}

/// What is maximized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// `mean slowdown(policy) - mean slowdown(SJF)`.
    Gap,
    /// `mean slowdown(policy) / mean slowdown(SJF)`.
    Ratio,
}

impl Objective {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Gap => "gap",
            Objective::Ratio => "ratio",
        }
    }
}

/// A sequence played by the policy and by SJF.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The policy's mean slowdown.
    pub policy_mean_slowdown: f64,
    /// SJF's mean slowdown.
    pub sjf_mean_slowdown: f64,
    /// `policy - sjf`.
    pub gap: f64,
    /// `policy / sjf`.
    pub ratio: f64,
}

impl Score {
    /// How far the policy is worse than SJF under `objective`: the gap, or the ratio minus 1.
    /// Positive exactly when the policy is worse.
    pub fn excess(&self, objective: Objective) -> f64 {
        match objective {
            Objective::Gap => self.gap,
            Objective::Ratio => self.ratio - 1.0,
        }
    }
}

/// What the search needs to evaluate a sequence.
#[derive(Clone, Debug)]
pub struct Target {
    /// The policy under test.
    pub policy: PolicySpec,
    /// Job slots.
    pub slots: Slots,
    /// Time cap of the all-done episodes, in steps.
    pub time_cap: u32,
    /// The sequences allowed.
    pub support: Support,
    /// What is maximized.
    pub objective: Objective,
    /// Sequences whose log-likelihood is below this are not scored (`None`: no bound).
    pub min_log_likelihood: Option<f64>,
    /// The operator rules `policy` is projected onto, if any (for replaying fixtures).
    pub rules: Option<whitebox_core::Projection>,
}

/// Plays `jobs` (ids equal to positions) with the policy and SJF. `None` when either episode
/// is truncated or allocates nothing.
///
/// # Errors
/// When a policy fails or the jobs are invalid.
pub fn evaluate(target: &Target, jobs: &[Job]) -> Result<Option<Score>> {
    let end = EndMode::AllDone {
        time_cap: target.time_cap,
    };
    let p = play(jobs, target.slots, end, &target.policy, &mut ())?;
    let s = play(jobs, target.slots, end, &PolicySpec::Sjf, &mut ())?;
    if p.truncated || s.truncated {
        return Ok(None);
    }
    let (Some(pm), Some(sm)) = (p.mean_slowdown, s.mean_slowdown) else {
        return Ok(None);
    };
    Ok(Some(Score {
        policy_mean_slowdown: pm,
        sjf_mean_slowdown: sm,
        gap: pm - sm,
        ratio: pm / sm,
    }))
}

/// A scored candidate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Candidate {
    /// The sequence, sorted by arrival, ids equal to positions.
    #[serde(with = "job_serde")]
    pub jobs: Vec<Job>,
    /// Its score (`None`: not scored, see [`evaluate`]).
    pub score: Option<Score>,
    /// Which search found it.
    pub search: SearchKind,
    /// The shard that found it.
    pub shard: u32,
    /// Its index in that shard's evaluation order.
    pub index: u64,
}

impl Candidate {
    /// Excess under `objective`, `-inf` when unscored.
    pub fn excess(&self, objective: Objective) -> f64 {
        self.score
            .map_or(f64::NEG_INFINITY, |s| s.excess(objective))
    }
}

/// Best first; ties by shard, then index, so the order is total and deterministic.
pub fn rank(a: &Candidate, b: &Candidate, objective: Objective) -> Ordering {
    b.excess(objective)
        .total_cmp(&a.excess(objective))
        .then(a.shard.cmp(&b.shard))
        .then(a.index.cmp(&b.index))
}

/// Job lists as `{arrival, len, res}` objects (the job-file format).
pub mod job_serde {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use whitebox_core::spec::NUM_RES;
    use whitebox_core::Job;

    #[derive(Serialize, Deserialize)]
    struct J {
        arrival: u32,
        len: u8,
        res: [u8; NUM_RES],
    }

    /// Serializes jobs without their ids.
    ///
    /// # Errors
    /// As the serializer.
    pub fn serialize<S: Serializer>(jobs: &[Job], s: S) -> Result<S::Ok, S::Error> {
        let v: Vec<J> = jobs
            .iter()
            .map(|j| J {
                arrival: j.arrival,
                len: j.len,
                res: j.res,
            })
            .collect();
        v.serialize(s)
    }

    /// Reads jobs, numbering them by position.
    ///
    /// # Errors
    /// As the deserializer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Job>, D::Error> {
        let v = Vec::<J>::deserialize(d)?;
        Ok(v.into_iter()
            .enumerate()
            .map(|(i, j)| Job {
                id: i as u32,
                arrival: j.arrival,
                len: j.len,
                res: j.res,
            })
            .collect())
    }
}

/// Which search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// Independent samples from the workload's generator.
    Random,
    /// A (mu + lambda) evolutionary search with in-support mutations and crossover, started
    /// from generator samples.
    Evolve,
}

impl SearchKind {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            SearchKind::Random => "random",
            SearchKind::Evolve => "evolve",
        }
    }
}

/// Mixes stream keys into one 64-bit seed (SplitMix64 finalizer after each word).
pub fn stream_seed(keys: &[u64]) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    for &k in keys {
        h = h.wrapping_add(k).wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}

const TAG_RANDOM: u64 = 1;
const TAG_EVOLVE_INIT: u64 = 2;
const TAG_EVOLVE_CHILD: u64 = 3;

/// A deterministic split of a campaign: shard `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based.
    pub index: u32,
    /// At least 1.
    pub count: u32,
}

impl Shard {
    /// The whole campaign.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `i/n` with `i < n`.
    ///
    /// # Errors
    /// For anything else.
    pub fn parse(text: &str) -> Result<Shard> {
        let parsed = text
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if index < count => Ok(Shard { index, count }),
            _ => bail!("shard = `{text}`, must be i/n with 0 <= i < n (e.g. 0/4)"),
        }
    }

    /// This shard's part of `budget` evaluations: `budget / n`, plus one for the first
    /// `budget % n` shards, so the parts add up to `budget`.
    pub fn budget(&self, budget: u64) -> u64 {
        let n = u64::from(self.count);
        budget / n + u64::from(u64::from(self.index) < budget % n)
    }
}

/// Search settings.
#[derive(Clone, Copy, Debug)]
pub struct SearchConfig {
    /// Which search.
    pub kind: SearchKind,
    /// Sequences evaluated over the whole campaign (all shards).
    pub budget: u64,
    /// Master seed.
    pub seed: u64,
    /// This run's shard.
    pub shard: Shard,
    /// Population of the evolutionary search.
    pub population: usize,
    /// How many of the best distinct sequences to keep.
    pub keep: usize,
}

/// The outcome of one search on one shard.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SearchResult {
    /// Which search.
    pub search: SearchKind,
    /// Sequences evaluated.
    pub evaluations: u64,
    /// Sequences that had a score.
    pub scored: u64,
    /// Scored sequences on which the policy was worse than SJF (excess > 0).
    pub worse_than_sjf: u64,
    /// The best distinct candidates, best first.
    pub best: Vec<Candidate>,
}

/// Evaluates `jobs`, applying the plausibility bound.
fn score_of(target: &Target, jobs: &[Job]) -> Result<Option<Score>> {
    if let (Some(min), Some(ll)) = (
        target.min_log_likelihood,
        target.support.log_likelihood(jobs),
    ) {
        if ll < min {
            return Ok(None);
        }
    }
    evaluate(target, jobs)
}

/// Runs a search. `progress(evaluated, best_excess)` is called on the calling thread after
/// each batch.
///
/// # Errors
/// When a policy fails.
pub fn search(
    target: &Target,
    cfg: &SearchConfig,
    progress: &mut dyn FnMut(u64, f64),
) -> Result<SearchResult> {
    let budget = cfg.shard.budget(cfg.budget);
    let mut tally = Tally::new(cfg.keep.max(1), target.objective);
    match cfg.kind {
        SearchKind::Random => {
            // Global candidate k belongs to shard k % n, and its sequence depends on k only, so
            // the shards of a campaign together evaluate exactly the unsharded campaign.
            let n = u64::from(cfg.shard.count);
            let mut done = 0;
            while done < budget {
                let batch = (budget - done).min(512);
                let cands = (done..done + batch)
                    .into_par_iter()
                    .map(|j| {
                        let k = u64::from(cfg.shard.index) + j * n;
                        let jobs = target
                            .support
                            .sample(stream_seed(&[cfg.seed, TAG_RANDOM, k]));
                        let score = score_of(target, &jobs)?;
                        Ok(Candidate {
                            jobs,
                            score,
                            search: SearchKind::Random,
                            shard: 0,
                            index: k,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                cands.into_iter().for_each(|c| tally.add(c));
                done += batch;
                progress(done, tally.best_excess());
            }
        }
        SearchKind::Evolve => evolve(target, cfg, budget, &mut tally, progress)?,
    }
    Ok(tally.finish(cfg.kind, cfg.shard))
}

fn evolve(
    target: &Target,
    cfg: &SearchConfig,
    budget: u64,
    tally: &mut Tally,
    progress: &mut dyn FnMut(u64, f64),
) -> Result<()> {
    let key = [
        cfg.seed,
        u64::from(cfg.shard.index),
        u64::from(cfg.shard.count),
    ];
    let obj = target.objective;
    let pop_size = cfg.population.max(2).min(budget.max(1) as usize);
    let eval_batch = |range: std::ops::Range<u64>,
                      make: &(dyn Fn(u64) -> Vec<Job> + Sync)|
     -> Result<Vec<Candidate>> {
        range
            .into_par_iter()
            .map(|i| {
                let jobs = make(i);
                let score = score_of(target, &jobs)?;
                Ok(Candidate {
                    jobs,
                    score,
                    search: SearchKind::Evolve,
                    shard: 0,
                    index: i,
                })
            })
            .collect()
    };
    let mut pop = eval_batch(0..pop_size as u64, &|i| {
        target
            .support
            .sample(stream_seed(&[key[0], key[1], key[2], TAG_EVOLVE_INIT, i]))
    })?;
    for c in &pop {
        tally.add(c.clone());
    }
    let mut done = pop_size as u64;
    progress(done, tally.best_excess());
    let mut generation = 0u64;
    while done < budget {
        generation += 1;
        pop.sort_by(|a, b| rank(a, b, obj));
        let parents = &pop;
        let lambda = (budget - done).min(pop_size as u64);
        let children = eval_batch(done..done + lambda, &|i| {
            let mut rng = Pcg32::seed_from_u64(stream_seed(&[
                key[0],
                key[1],
                key[2],
                TAG_EVOLVE_CHILD,
                generation,
                i,
            ]));
            // Binary tournament on rank (parents are sorted best first).
            let pick = |rng: &mut Pcg32| {
                let a = rng.random_range(0..parents.len());
                let b = rng.random_range(0..parents.len());
                &parents[a.min(b)].jobs
            };
            let mut jobs = if rng.random::<f64>() < 0.2 {
                let (a, b) = (pick(&mut rng).clone(), pick(&mut rng).clone());
                target.support.crossover(&mut rng, &a, &b)
            } else {
                pick(&mut rng).clone()
            };
            let mutations = 1 + rng.random_range(0..3);
            for _ in 0..mutations {
                target.support.mutate(&mut rng, &mut jobs);
            }
            jobs
        })?;
        done += lambda;
        for c in &children {
            tally.add(c.clone());
        }
        pop.extend(children);
        pop.sort_by(|a, b| rank(a, b, obj));
        dedup_sorted(&mut pop);
        pop.truncate(pop_size);
        progress(done, tally.best_excess());
    }
    Ok(())
}

/// Removes later copies of equal job lists from a list.
fn dedup_sorted(list: &mut Vec<Candidate>) {
    let mut seen: Vec<Vec<Job>> = Vec::with_capacity(list.len());
    list.retain(|c| {
        if seen.contains(&c.jobs) {
            false
        } else {
            seen.push(c.jobs.clone());
            true
        }
    });
}

/// Counts and the best distinct candidates seen so far.
struct Tally {
    keep: usize,
    objective: Objective,
    evaluations: u64,
    scored: u64,
    worse: u64,
    best: Vec<Candidate>,
}

impl Tally {
    fn new(keep: usize, objective: Objective) -> Self {
        Tally {
            keep,
            objective,
            evaluations: 0,
            scored: 0,
            worse: 0,
            best: Vec::new(),
        }
    }

    fn add(&mut self, c: Candidate) {
        self.evaluations += 1;
        if c.score.is_none() {
            return;
        }
        self.scored += 1;
        let e = c.excess(self.objective);
        self.worse += u64::from(e > 0.0);
        if self.best.iter().any(|b| b.jobs == c.jobs) {
            return;
        }
        if self.best.len() == self.keep
            && self
                .best
                .last()
                .is_some_and(|w| rank(&c, w, self.objective) != Ordering::Less)
        {
            return;
        }
        self.best.push(c);
        self.best.sort_by(|a, b| rank(a, b, self.objective));
        self.best.truncate(self.keep);
    }

    fn best_excess(&self) -> f64 {
        self.best
            .first()
            .map_or(f64::NEG_INFINITY, |c| c.excess(self.objective))
    }

    fn finish(mut self, search: SearchKind, shard: Shard) -> SearchResult {
        for c in &mut self.best {
            c.shard = shard.index;
        }
        SearchResult {
            search,
            evaluations: self.evaluations,
            scored: self.scored,
            worse_than_sjf: self.worse,
            best: self.best,
        }
    }
}

/// What shrinking did.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The minimized sequence.
    pub jobs: Vec<Job>,
    /// Its score.
    pub score: Score,
    /// Sequences evaluated while shrinking.
    pub tries: u64,
}

/// Minimizes `jobs` (drop jobs, shorten lengths within the support, lower demands within their
/// ranges) while its excess stays at least `threshold`; greedy and sequential, so deterministic.
/// Returns `None` if `jobs` itself is unscored or below the threshold.
///
/// # Errors
/// When a policy fails.
pub fn shrink(target: &Target, jobs: &[Job], threshold: f64) -> Result<Option<Shrunk>> {
    let obj = target.objective;
    let ok = |j: &[Job]| -> Result<Option<Score>> {
        Ok(score_of(target, j)?.filter(|s| s.excess(obj) >= threshold))
    };
    let Some(mut score) = ok(jobs)? else {
        return Ok(None);
    };
    let mut cur = jobs.to_vec();
    let mut tries = 1u64;
    let lens = target.support.lengths();
    let dist = target.support.dist;
    let mut changed = true;
    while changed {
        changed = false;
        // Drop jobs, last first.
        let mut i = cur.len();
        while i > 0 {
            i -= 1;
            if cur.len() <= 1 {
                break;
            }
            let mut t = cur.clone();
            t.remove(i);
            renumber(&mut t);
            tries += 1;
            if let Some(s) = ok(&t)? {
                (cur, score, changed) = (t, s, true);
            }
        }
        // Shorten lengths: the shortest, else the next shorter one.
        for i in 0..cur.len() {
            let l = cur[i].len;
            let shorter: Vec<u8> = lens.iter().copied().filter(|&x| x < l).collect();
            for x in [shorter.first(), shorter.last()].into_iter().flatten() {
                let mut t = cur.clone();
                t[i].len = *x;
                tries += 1;
                if let Some(s) = ok(&t)? {
                    (cur, score, changed) = (t, s, true);
                    break;
                }
            }
        }
        // Lower demands: the range minimum, else one unit less.
        for i in 0..cur.len() {
            let dom = dominant(&cur[i]);
            for r in 0..NUM_RES {
                let range = if r == dom { dist.dominant } else { dist.other };
                let lo = range.0.min(range.1);
                let u = cur[i].res[r];
                for x in [lo, u.saturating_sub(1)] {
                    if x >= u || x < lo {
                        continue;
                    }
                    let mut t = cur.clone();
                    t[i].res[r] = x;
                    // Lowering must not change which resource is dominant.
                    if dominant(&t[i]) != dom || !target.support.contains(&t) {
                        continue;
                    }
                    tries += 1;
                    if let Some(s) = ok(&t)? {
                        (cur, score, changed) = (t, s, true);
                        break;
                    }
                }
            }
        }
    }
    Ok(Some(Shrunk {
        jobs: cur,
        score,
        tries,
    }))
}

/// Mean and 5th/50th/95th percentiles of the generator's own log-likelihoods over `n` samples
/// (seeds `stream_seed([seed, 4, k])`), the "typical" values a found sequence is compared with.
pub fn typical_log_likelihood(support: &Support, seed: u64, n: u64) -> Option<[f64; 4]> {
    let mut v: Vec<f64> = (0..n)
        .map(|k| support.log_likelihood(&support.sample(stream_seed(&[seed, 4, k]))))
        .collect::<Option<Vec<_>>>()?;
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    Some([mean, q(0.05), q(0.5), q(0.95)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn support() -> Support {
        Support::new(Workload::DeepRm, 0.7, 50, None)
    }

    #[test]
    fn samples_and_mutations_stay_in_support() {
        let s = support();
        let mut rng = Pcg32::seed_from_u64(3);
        for seed in 0..50 {
            let mut jobs = s.sample(seed);
            assert!(s.contains(&jobs));
            for _ in 0..40 {
                s.mutate(&mut rng, &mut jobs);
                assert!(s.contains(&jobs), "{jobs:?}");
                assert!(jobs.len() <= s.max_jobs);
                assert!(jobs.iter().enumerate().all(|(i, j)| j.id as usize == i));
            }
            let other = s.sample(seed + 100);
            assert!(s.contains(&s.crossover(&mut rng, &jobs, &other)));
        }
    }

    #[test]
    fn likelihood_of_the_empty_and_out_of_support_sequences() {
        let s = support();
        let ll = s.log_likelihood(&[]).unwrap_or(0.0);
        assert!((ll - 49.0 * 0.3f64.ln()).abs() < 1e-9);
        let bad = [Job {
            id: 0,
            arrival: 1,
            len: 5,
            res: [6, 1],
        }];
        assert_eq!(s.log_likelihood(&bad), Some(f64::NEG_INFINITY));
        // Job probabilities over the whole support sum to 1.
        let total: f64 = s
            .lengths()
            .iter()
            .flat_map(|&len| {
                (0..=10u8).flat_map(move |a| {
                    (0..=10u8).map(move |b| Job {
                        id: 0,
                        arrival: 1,
                        len,
                        res: [a, b],
                    })
                })
            })
            .map(|j| s.job_prob(&j))
            .sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }

    #[test]
    fn shards_parse_and_split_the_budget() {
        assert_eq!(Shard::parse("1/4").ok(), Some(Shard { index: 1, count: 4 }));
        assert!(Shard::parse("4/4").is_err() && Shard::parse("x").is_err());
        let total: u64 = (0..3)
            .map(|i| Shard { index: i, count: 3 }.budget(10))
            .sum();
        assert_eq!(total, 10);
    }
}
