//! Shards of a campaign: shard `i/n` runs a deterministic part of the work (an equal part of a
//! fuzz budget, a block of an evaluation's job sets), and merging the `n` shards' outputs gives
//! what one unsharded run gives. Each shard is an ordinary process, so any batch system can run
//! them (a Kubernetes Indexed Job, a Slurm job array; `docs/sharding.md`).

use std::ops::Range;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

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

    /// This shard's block of the indices `0..len`: `len * i / n .. len * (i + 1) / n`. The
    /// blocks of shards `0..n` are disjoint, in order, and cover `0..len`.
    pub fn range(&self, len: usize) -> Range<usize> {
        let at = |i: u32| {
            let x = len as u128 * u128::from(i) / u128::from(self.count.max(1));
            // x <= len, so it fits.
            usize::try_from(x).unwrap_or(len)
        };
        at(self.index)..at(self.index + 1)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
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

    #[test]
    fn ranges_are_blocks_in_order_that_cover_everything() {
        // By hand: 10 job sets in 3 shards: 0..3, 3..6, 6..10.
        let r: Vec<_> = (0..3)
            .map(|i| Shard { index: i, count: 3 }.range(10))
            .collect();
        assert_eq!(r, vec![0..3, 3..6, 6..10]);
        // More shards than items: some shards are empty, none overlap.
        let r: Vec<_> = (0..4)
            .map(|i| Shard { index: i, count: 4 }.range(2))
            .collect();
        assert_eq!(r, vec![0..0, 0..1, 1..1, 1..2]);
        assert_eq!(Shard::ALL.range(7), 0..7);
        assert_eq!(Shard { index: 2, count: 3 }.to_string(), "2/3");
    }
}
