//! Job files that lead the **policy itself** to a `no-idle` counterexample: from the empty
//! cluster, the real policy (the model's own invalid-action mask, as `whitebox simulate` and
//! `whitebox record` run it) decides every step, and at some decision the cluster is idle with a
//! waiting job while the raw network ranks void strictly first (a state of a `no-idle` region
//! where the property fails). The replay of [`super::replay`] reaches a counterexample with a
//! scripted action prefix; this one has no prefix, only arrivals.
//!
//! The search is empirical: job files built around the refuted state (a job that takes the whole
//! cluster while the state's jobs arrive, so they wait until it ends) or random, improved by
//! local moves (one job's arrival, length or demand) toward a smaller margin `max_j logit_j -
//! logit_void` over the idle decisions. Finding none proves nothing.

use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::Serialize;
use whitebox_core::encoding::{Compact, Encoder};
use whitebox_core::episode::{EndMode, Episode};
use whitebox_core::nn::{Mlp, MlpPolicy};
use whitebox_core::spec::{MAX_JOB_LEN, NUM_RES, RES_UNITS};
use whitebox_core::{Cluster, Job, Scheduler};
use whitebox_runtime::jobfile::{to_raw, RawJob};
use whitebox_runtime::models::{CompactVisitor, LoadedModel, F32, HIDDEN};

use super::property::Holds;
use super::region::{Feature, Region};

/// Decisions played per job file at most (the episode is cut there).
const MAX_DECISIONS: u32 = 400;
/// Time cap of the episodes, in steps.
const TIME_CAP: u32 = 200;
/// Restarts of the local search.
const RESTARTS: usize = 40;
/// Moves per restart.
const MOVES: usize = 300;
/// Seed (fixed, so answers repeat).
const SEED: u64 = 29;
/// Job files played at most by one search.
pub const MAX_TRIES: u64 = (RESTARTS * (MOVES + 1)) as u64;

/// A job file that leads the policy to a `no-idle` violation.
#[derive(Clone, Debug, Serialize)]
pub struct Reached {
    /// The job file's jobs (the format of `fixtures/adversarial/*.json`).
    pub jobs: Vec<RawJob>,
    /// The decision (0-based, as in `whitebox record`'s trace) where the violation is.
    pub decision: u32,
    /// Its time step.
    pub time: u32,
    /// The first occupied slot there (the `no-idle` region it falls in).
    pub first_slot: usize,
    /// The raw network's logits there, shape `[M + 1]` (void last, strictly the largest).
    pub logits: Vec<f32>,
    /// Job files played before this one.
    pub tries: u64,
}

/// A hit: `(decision, time, first slot, logits)`.
type Hit = (u32, u32, usize, Vec<f32>);

fn idle<const M: usize>(c: &Cluster<M>) -> bool {
    c.avbl().iter().flatten().all(|&a| a == RES_UNITS)
}

/// Plays `jobs` with the policy; the first `no-idle` violation, else the smallest margin over the
/// idle decisions with a waiting job (`+inf` when there is none).
pub fn play<const M: usize, const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    mask: bool,
    jobs: &[Job],
) -> Result<(f64, Option<Hit>)> {
    let mut ep = Episode::<M>::new(jobs, EndMode::AllDone { time_cap: TIME_CAP }, &mut ())?;
    let mut policy = MlpPolicy::<'_, Compact, M, I, HIDDEN, O>::new(net, mask);
    let mut best = f64::INFINITY;
    let mut decision = 0;
    while !ep.is_done() && decision < MAX_DECISIONS {
        let c = ep.cluster();
        if let Some(first) = c
            .slots()
            .iter()
            .position(Option::is_some)
            .filter(|_| idle(c))
        {
            let mut x = [0.0f32; I];
            Compact::encode(c, &mut x);
            let (mut h, mut y) = ([0.0f32; HIDDEN], [0.0f32; O]);
            net.forward(&x, &mut h, &mut y);
            if !Holds::VoidNotFirst.check(&y) {
                return Ok((
                    f64::NEG_INFINITY,
                    Some((decision, c.now(), first, y.to_vec())),
                ));
            }
            best = best.min(Holds::VoidNotFirst.margin(&y));
        }
        let a = policy.decide(c)?;
        ep.step(a, &mut ());
        decision += 1;
    }
    Ok((best, None))
}

/// One job of the search: `(arrival, len, demand)`.
type Spec = (u32, u32, [u32; NUM_RES]);

fn jobs_of(specs: &[Spec]) -> Vec<Job> {
    let mut s = specs.to_vec();
    s.sort_by_key(|j| j.0);
    s.iter()
        .enumerate()
        .filter_map(|(id, &(t, len, res))| Job::new(id as u32, t, len, res).ok())
        .collect()
}

fn random_job(rng: &mut Pcg64, horizon: u32) -> Spec {
    let units = u32::from(RES_UNITS);
    let demand = |rng: &mut Pcg64| {
        if rng.random_range(0..3) == 0 {
            units
        } else {
            rng.random_range(0..=units)
        }
    };
    (
        rng.random_range(0..=horizon),
        rng.random_range(1..=u32::from(MAX_JOB_LEN)),
        [demand(rng), demand(rng)],
    )
}

/// The state's jobs (slot order) and its backlog (jobs of length 1, demand 1: only their number
/// is seen), all arriving at `at`, behind a job that takes the whole cluster from time 0 for
/// `hold` steps.
fn behind_blocker(r: &Region, s: &[u16], hold: u32, at: u32) -> Vec<Spec> {
    let units = u32::from(RES_UNITS);
    let mut out = vec![(0, hold, [units; NUM_RES])];
    let get = |f: Feature| {
        r.index(f)
            .and_then(|i| s.get(i))
            .map_or(0, |v| u32::from(*v))
    };
    for slot in 0..r.m {
        let len = get(Feature::Len { slot });
        if len > 0 {
            let res = core::array::from_fn(|res| get(Feature::Demand { slot, res }));
            out.push((at, len, res));
        }
    }
    for _ in 0..get(Feature::Backlog) {
        out.push((at, 1, [1; NUM_RES]));
    }
    out
}

/// A starting job file: the first restart puts the refuted state's jobs behind a job holding the
/// whole horizon (20 steps: nothing else fits anywhere meanwhile, so the masked policy can only
/// wait, and when it ends the cluster is idle with the state's jobs, 19 steps after their
/// arrival); later restarts shorten the hold or start at random.
fn start(rng: &mut Pcg64, restart: usize, state: Option<(&Region, &[u16])>) -> Vec<Spec> {
    match state {
        Some((r, s)) if restart == 0 => behind_blocker(r, s, u32::from(MAX_JOB_LEN), 1),
        Some((r, s)) if rng.random_range(0..2) == 0 => {
            let hold = rng.random_range(1..=u32::from(MAX_JOB_LEN));
            behind_blocker(r, s, hold, rng.random_range(1..=hold))
        }
        _ => (0..rng.random_range(2..=20))
            .map(|_| random_job(rng, 30))
            .collect(),
    }
}

/// Searches for a job file that leads the policy (`mask` as the model's) to a `no-idle`
/// violation, starting partly from `state` (a refuted state of `region`).
///
/// # Errors
/// A policy error (a non-finite logit).
pub fn reach_no_idle<const M: usize, const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    mask: bool,
    state: Option<(&Region, &[u16])>,
) -> Result<Option<Reached>> {
    let mut rng = Pcg64::seed_from_u64(SEED);
    let mut tries = 0u64;
    let found = |specs: &[Spec], hit: Hit, tries: u64| {
        let (decision, time, first_slot, logits) = hit;
        Reached {
            jobs: to_raw(&jobs_of(specs)),
            decision,
            time,
            first_slot,
            logits,
            tries,
        }
    };
    for restart in 0..RESTARTS {
        let mut specs = start(&mut rng, restart, state);
        tries += 1;
        let (mut v, hit) = play::<M, I, O>(net, mask, &jobs_of(&specs))?;
        if let Some(hit) = hit {
            return Ok(Some(found(&specs, hit, tries)));
        }
        for _ in 0..MOVES {
            let mut c = specs.clone();
            let k = rng.random_range(0..c.len());
            match rng.random_range(0..6) {
                0 => c[k].0 = rng.random_range(0..=40),
                1 => c[k].1 = rng.random_range(1..=u32::from(MAX_JOB_LEN)),
                2 | 3 => {
                    let res = rng.random_range(0..NUM_RES);
                    c[k].2[res] = rng.random_range(0..=u32::from(RES_UNITS));
                }
                4 if c.len() < 40 => c.push(random_job(&mut rng, 40)),
                _ if c.len() > 1 => {
                    c.remove(k);
                }
                _ => continue,
            }
            tries += 1;
            let (cv, hit) = play::<M, I, O>(net, mask, &jobs_of(&c))?;
            if let Some(hit) = hit {
                return Ok(Some(found(&c, hit, tries)));
            }
            if cv <= v {
                (v, specs) = (cv, c);
            }
        }
    }
    Ok(None)
}

/// [`reach_no_idle`] for a loaded compact model, with its own mask setting; `state` is a refuted
/// state in whole units (for `Region::all`), to start part of the search from.
///
/// # Errors
/// An image-encoder or int8 model, or a policy error.
pub fn reach_model(model: &LoadedModel, state: Option<&[u16]>) -> Result<Option<Reached>> {
    struct Reach<'s> {
        mask: bool,
        state: Option<&'s [u16]>,
    }
    impl CompactVisitor<'_, F32> for Reach<'_> {
        type Out = Result<Option<Reached>>;
        fn visit<const M: usize, const I: usize, const O: usize>(
            self,
            net: &Mlp<I, HIDDEN, O>,
        ) -> Self::Out {
            let r = Region::all(M);
            reach_no_idle::<M, I, O>(net, self.mask, self.state.map(|s| (&r, s)))
        }
    }
    if model.int8.is_some() {
        anyhow::bail!("a job file for the counterexample needs an f32 model, not int8:PATH");
    }
    let reach = Reach {
        mask: model.header.meta.mask_invalid,
        state,
    };
    match model.net.visit_compact(reach) {
        Some(r) => r,
        None => anyhow::bail!("verify supports the compact encoder only"),
    }
}

#[cfg(test)]
mod tests;
