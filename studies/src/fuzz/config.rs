//! What a search is asked to do: which search, its budget and seed, this run's shard of the
//! campaign, and the seeds of its random streams.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;

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
