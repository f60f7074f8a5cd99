//! The (mu + lambda) evolutionary search: generator samples, then children by binary
//! tournament, crossover and in-support mutations.

use anyhow::Result;
use rand::Rng;
use rand::SeedableRng;
use rand_pcg::Pcg32;
use rayon::prelude::*;
use whitebox_core::Job;

use super::config::{stream_seed, SearchConfig, SearchKind};
use super::score::{score_of, Target};
use super::tally::{rank, Candidate, Tally};

const TAG_EVOLVE_INIT: u64 = 2;
const TAG_EVOLVE_CHILD: u64 = 3;

/// Runs the evolutionary search for `budget` evaluations, adding every candidate to `tally`.
pub(super) fn evolve(
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
