//! What a search is asked to do: which search, its budget and seed, this run's shard of the
//! campaign, and the seeds of its random streams.

use serde::{Deserialize, Serialize};
pub use whitebox_runtime::shard::Shard;

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
