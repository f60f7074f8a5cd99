//! A curriculum of the policy's own counterexamples (Genet, Xia et al., SIGCOMM 2022: train
//! where the current policy trails the rule-based baseline most).
//!
//! Every `every` iterations an evolutionary search ([`crate::fuzz::search`]) looks for job
//! sequences on which the current greedy policy trails SJF most (by mean-slowdown ratio), in
//! one cell of the training mixture (round `r` takes cell `r % cells`). The sequences it finds
//! with the policy worse than SJF join a pool of bounded size (oldest out first), and a share
//! of every later iteration's job sets is drawn from that pool.
//!
//! The search's seeds derive from the training seed and the round, never from the seeds
//! `fuzz` uses by default or that built the adversarial fixtures, and the search draws from the
//! training workloads' generators: nothing evaluated later is trained on.

use std::collections::VecDeque;
use std::sync::Arc;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use whitebox_core::Job;
use whitebox_runtime::jobfile::{from_raw, to_raw, RawJob};
use whitebox_runtime::policy::PolicySpec;
use whitebox_runtime::settings::Slots;

use super::mixture::Mixture;
use super::TRAIN_SEED_BASE;
use crate::fuzz::{
    search, stream_seed, Objective, SearchConfig, SearchKind, Shard, Support, Target,
};

/// Curriculum settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurriculumConfig {
    /// Search every this many iterations (at least 1).
    pub every: u32,
    /// Sequences evaluated per search (each one is played by the policy and by SJF).
    pub budget: u64,
    /// Share of each iteration's job sets drawn from the pool, in `(0, 1]`.
    pub share: f32,
    /// Most sequences kept in the pool.
    pub pool: usize,
}

impl CurriculumConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// Names the field, its value and the allowed range.
    pub fn check(&self) -> Result<()> {
        if self.every == 0 {
            bail!("curriculum every = 0, must be at least 1 iteration");
        }
        if self.budget < 2 {
            bail!(
                "curriculum budget = {}, must be at least 2 sequences",
                self.budget
            );
        }
        if !(self.share > 0.0 && self.share <= 1.0) {
            bail!("curriculum share = {}, must be in (0, 1]", self.share);
        }
        if self.pool == 0 {
            bail!("curriculum pool = 0, must be at least 1 sequence");
        }
        Ok(())
    }

    /// How many of `jobsets` job sets per iteration come from the pool: `share * jobsets`
    /// rounded, at least 1.
    pub fn per_iteration(&self, jobsets: usize) -> usize {
        ((self.share as f64 * jobsets as f64).round() as usize).clamp(1, jobsets.max(1))
    }
}

/// The pool of counterexamples, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pool {
    seqs: VecDeque<Vec<Job>>,
}

/// Fields of a checkpoint that restore a [`Pool`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PoolState(Vec<Vec<RawJob>>);

impl Pool {
    /// Sequences in the pool.
    pub fn len(&self) -> usize {
        self.seqs.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.seqs.is_empty()
    }

    /// Adds `found`, then drops the oldest sequences beyond `cap`.
    pub fn extend(&mut self, found: Vec<Vec<Job>>, cap: usize) {
        self.seqs.extend(found);
        while self.seqs.len() > cap {
            self.seqs.pop_front();
        }
    }

    /// The `n` pool sequences of `iteration`: consecutive entries, starting where the previous
    /// iteration stopped, wrapping around (empty for an empty pool).
    pub fn draw(&self, iteration: u32, n: usize) -> Vec<Vec<Job>> {
        if self.seqs.is_empty() {
            return Vec::new();
        }
        let first = iteration as usize * n;
        (first..first + n)
            .map(|k| self.seqs[k % self.seqs.len()].clone())
            .collect()
    }

    /// The pool as a checkpoint stores it.
    pub fn state(&self) -> PoolState {
        PoolState(self.seqs.iter().map(|s| to_raw(s)).collect())
    }

    /// The pool a checkpoint stored.
    ///
    /// # Errors
    /// When a stored job is invalid.
    pub fn from_state(state: &PoolState) -> Result<Pool> {
        let seqs = state
            .0
            .iter()
            .map(|raw| from_raw(raw))
            .collect::<Result<_>>()?;
        Ok(Pool { seqs })
    }
}

/// What one search of the curriculum needs.
pub struct Round<'a> {
    /// The model file bytes of the current network.
    pub model: &'a [u8],
    /// Operator rules the policy is deployed under, if any.
    pub rules: Option<whitebox_core::Projection>,
    /// The training mixture.
    pub mixture: &'a Mixture,
    /// Job slots.
    pub slots: usize,
    /// Arrival window of the sequences, in time steps.
    pub simu_len: u32,
    /// All-done time cap, in time steps.
    pub time_cap: u32,
    /// The training seed.
    pub seed: u64,
}

/// Runs search number `round` and returns the sequences (at most `keep`) on which the greedy
/// policy was worse than SJF, worst first.
///
/// # Errors
/// When the model bytes do not load or a policy fails.
pub fn find(
    r: &Round<'_>,
    round: u32,
    cfg: &CurriculumConfig,
    keep: usize,
) -> Result<Vec<Vec<Job>>> {
    let cell = r.mixture.cells()[round as usize % r.mixture.cells().len()];
    let loaded = whitebox_runtime::models::from_bytes(r.model)?;
    let target = Target {
        policy: PolicySpec::Learned(Arc::new(loaded)).projected(r.rules.clone()),
        slots: Slots::from_count(r.slots)
            .ok_or_else(|| anyhow::anyhow!("slots = {}, must be 5 or 10", r.slots))?,
        time_cap: r.time_cap,
        support: Support::new(cell.workload, cell.rate, r.simu_len, None),
        objective: Objective::Ratio,
        min_log_likelihood: None,
        rules: None,
        guard: None,
    };
    let search_cfg = SearchConfig {
        kind: SearchKind::Evolve,
        budget: cfg.budget,
        seed: stream_seed(&[TRAIN_SEED_BASE, r.seed, u64::from(round)]),
        shard: Shard::ALL,
        population: 32,
        keep,
    };
    let result = search(&target, &search_cfg, &mut |_, _| {})?;
    Ok(result
        .best
        .into_iter()
        .filter(|c| c.excess(Objective::Ratio) > 0.0)
        .map(|c| c.jobs)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use whitebox_core::spec::NUM_RES;

    fn seq(arrival: u32) -> Vec<Job> {
        vec![Job {
            id: 0,
            arrival,
            len: 1,
            res: [1; NUM_RES],
        }]
    }

    #[test]
    fn the_pool_keeps_the_newest_and_draws_in_turn() {
        let mut p = Pool::default();
        assert!(p.draw(0, 3).is_empty());
        p.extend(vec![seq(1), seq(2), seq(3)], 2);
        assert_eq!(p.len(), 2);
        // Iteration 1 with 3 per iteration starts at entry 3 % 2 = 1: [3, 2, 3].
        let arrivals: Vec<u32> = p.draw(1, 3).iter().map(|s| s[0].arrival).collect();
        assert_eq!(arrivals, vec![3, 2, 3]);
        assert_eq!(Pool::from_state(&p.state()).expect("state"), p);
    }

    #[test]
    fn settings_are_checked_and_the_share_rounds() {
        let ok = CurriculumConfig {
            every: 10,
            budget: 500,
            share: 0.25,
            pool: 64,
        };
        assert!(ok.check().is_ok());
        assert_eq!(ok.per_iteration(20), 5);
        assert_eq!(ok.per_iteration(2), 1);
        let e = CurriculumConfig { share: 1.5, ..ok }
            .check()
            .expect_err("share");
        assert!(e.to_string().contains("share = 1.5"), "{e}");
        assert!(CurriculumConfig { every: 0, ..ok }.check().is_err());
    }
}
