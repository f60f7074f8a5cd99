//! Run-time settings shared by every study: the slot count, the end mode, the default episode
//! lengths and the job-set seeds.

/// Default time cap of `all-done` episodes, in time steps: long enough that no shipped
/// workload reaches it, so a truncated episode means a policy that stopped scheduling.
pub const TIME_CAP: u32 = 10_000;

/// Default arrival window of generated job sets, in time steps (DeepRM's `simu_len` 50).
pub const SIMU_LEN: u32 = 50;

/// Multiplier of [`jobset_seed`]: a prime above any sensible job-set count, so distinct
/// `seed`s give disjoint job-set seeds for up to this many job sets.
pub const SEED_STRIDE: u64 = 1_000_003;

/// The seed of job set `k`: `seed * 1_000_003 + k` (wrapping). Depends on nothing else, so
/// every policy, workload and rate uses the same seeds.
pub fn jobset_seed(seed: u64, k: usize) -> u64 {
    seed.wrapping_mul(SEED_STRIDE).wrapping_add(k as u64)
}

/// An arrival rate stored as `f32` (a model header) as the decimal it was written from: the
/// shortest decimal form of the `f32` is the rate given to `train` (0.7, not 0.699999988).
/// NaN when that is not a number; callers check the range.
pub fn rate_from_f32(stored: f32) -> f64 {
    stored.to_string().parse().unwrap_or(f64::NAN)
}

/// Visible job slots `M`: the two values DeepRM's scripts use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slots {
    /// `M = 5`.
    Five,
    /// `M = 10`.
    Ten,
}

impl Slots {
    /// The number of slots.
    pub fn count(self) -> usize {
        match self {
            Slots::Five => 5,
            Slots::Ten => 10,
        }
    }

    /// The setting for `count` slots, if it is 5 or 10.
    pub fn from_count(count: usize) -> Option<Slots> {
        match count {
            5 => Some(Slots::Five),
            10 => Some(Slots::Ten),
            _ => None,
        }
    }
}

/// When an episode ends (the core's, re-exported where the settings are).
pub use whitebox_core::episode::End;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_depend_on_seed_and_index_only() {
        assert_eq!(jobset_seed(1, 0), SEED_STRIDE);
        assert_eq!(jobset_seed(2, 3), 2 * SEED_STRIDE + 3);
        assert_ne!(jobset_seed(1, 0), jobset_seed(0, 1));
    }

    #[test]
    fn stored_rates_read_back_as_written() {
        assert_eq!(rate_from_f32(0.7), 0.7);
        assert_eq!(rate_from_f32(0.3), 0.3);
        assert!(rate_from_f32(f32::NAN).is_nan());
    }

    #[test]
    fn names_round_trip() {
        for e in [End::AllDone, End::NoNewJob] {
            assert_eq!(End::from_name(e.name()), Some(e));
        }
        assert_eq!(Slots::from_count(10), Some(Slots::Ten));
        assert_eq!(Slots::from_count(7), None);
    }
}
