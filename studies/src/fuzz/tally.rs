//! Scored candidates, their ranking, and the counts and best distinct candidates of a search.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use whitebox_core::Job;

use super::config::{SearchKind, Shard};
use super::job_serde;
use super::score::{Objective, Score};

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

/// Counts and the best distinct candidates seen so far.
pub(super) struct Tally {
    keep: usize,
    objective: Objective,
    evaluations: u64,
    scored: u64,
    worse: u64,
    best: Vec<Candidate>,
}

impl Tally {
    pub(super) fn new(keep: usize, objective: Objective) -> Self {
        Tally {
            keep,
            objective,
            evaluations: 0,
            scored: 0,
            worse: 0,
            best: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, c: Candidate) {
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

    pub(super) fn best_excess(&self) -> f64 {
        self.best
            .first()
            .map_or(f64::NEG_INFINITY, |c| c.excess(self.objective))
    }

    pub(super) fn finish(mut self, search: SearchKind, shard: Shard) -> SearchResult {
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
