//! Seeded job workloads: DeepRM's bi-modal distribution and shifted variants for transfer
//! experiments.
//!
//! Source: DeepRM `job_distribution.Dist.bi_model_dist` (our description in `SEMANTICS.md`
//! section 2; Mao et al. 2016, section 4). The random stream is PCG-32 (`rand_pcg`), not
//! numpy's MT19937, so sequences are statistically, not literally, DeepRM's. Generation is
//! deterministic for a seed on every target.

use rand::Rng;
use rand_core::SeedableRng;
use rand_pcg::Pcg32;

use crate::job::Job;
use crate::spec::{NUM_RES, RES_UNITS};

/// How jobs arrive over time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Arrivals {
    /// At each time step a job arrives with probability `rate` (DeepRM's `new_job_rate`).
    Bernoulli,
    /// A two-state on/off source: in the on state a job arrives with probability
    /// `min(1, 2 * rate)`, in the off state never; the state flips with probability `switch`
    /// each step. Starts on. Mean arrival rate `min(1, 2 * rate) / 2`, in bursts.
    OnOff {
        /// Probability of flipping state at each step.
        switch: f64,
    },
}

/// The parameters of a bi-modal job distribution. Lengths in time steps, demands in units,
/// all ranges inclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Distribution {
    /// Probability that a job is short.
    pub short_prob: f64,
    /// Range of short job lengths.
    pub short_len: (u8, u8),
    /// Range of long job lengths.
    pub long_len: (u8, u8),
    /// Demand range of the dominant resource (chosen uniformly among the `d` resources).
    pub dominant: (u8, u8),
    /// Demand range of every other resource.
    pub other: (u8, u8),
    /// Arrival process.
    pub arrivals: Arrivals,
}

/// The named workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// DeepRM's defaults: 80% of jobs last 1-3 steps, the rest 10-15; the dominant resource
    /// demands 5-10 units, the other 1-2. Expected load per resource `1.845 * rate`.
    DeepRm,
    /// Half the jobs are long (10-15 steps). Expected load `3.2625 * rate`.
    LongJobs,
    /// The non-dominant resource demands 1-5 units. Expected load `2.1525 * rate`.
    WideDemands,
    /// DeepRM's job mix with on/off bursty arrivals (mean on and off period 10 steps).
    /// Expected load `1.845 * min(1, 2 * rate) / 2`.
    Bursty,
}

impl Workload {
    /// Every workload, training distribution first.
    pub const ALL: [Workload; 4] = [
        Workload::DeepRm,
        Workload::LongJobs,
        Workload::WideDemands,
        Workload::Bursty,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::DeepRm => "deeprm",
            Workload::LongJobs => "long-jobs",
            Workload::WideDemands => "wide-demands",
            Workload::Bursty => "bursty",
        }
    }

    /// Stable numeric code used in model files.
    pub fn code(self) -> u8 {
        match self {
            Workload::DeepRm => 0,
            Workload::LongJobs => 1,
            Workload::WideDemands => 2,
            Workload::Bursty => 3,
        }
    }

    /// The workload with numeric code `code`, if any.
    pub fn from_code(code: u8) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.code() == code)
    }

    /// The workload called `name`, if any.
    pub fn from_name(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// The distribution behind this workload.
    pub fn distribution(self) -> Distribution {
        let deeprm = Distribution {
            short_prob: 0.8,
            short_len: (1, 3),
            long_len: (10, 15),
            dominant: (5, RES_UNITS),
            other: (1, 2),
            arrivals: Arrivals::Bernoulli,
        };
        match self {
            Workload::DeepRm => deeprm,
            Workload::LongJobs => Distribution {
                short_prob: 0.5,
                ..deeprm
            },
            Workload::WideDemands => Distribution {
                other: (1, 5),
                ..deeprm
            },
            Workload::Bursty => Distribution {
                arrivals: Arrivals::OnOff { switch: 0.1 },
                ..deeprm
            },
        }
    }
}

fn mean_of(range: (u8, u8)) -> f64 {
    (f64::from(range.0) + f64::from(range.1)) / 2.0
}

impl Distribution {
    /// Mean arrivals per time step for a given `rate`.
    pub fn mean_arrival_rate(&self, rate: f64) -> f64 {
        match self.arrivals {
            Arrivals::Bernoulli => rate,
            Arrivals::OnOff { .. } => (2.0 * rate).min(1.0) / 2.0,
        }
    }

    /// Expected load per resource: `rate * E[len] * E[demand] / r` (`SEMANTICS.md` section 2).
    /// Above 1 the cluster is overloaded.
    pub fn expected_load(&self, rate: f64) -> f64 {
        let e_len = self.short_prob * mean_of(self.short_len)
            + (1.0 - self.short_prob) * mean_of(self.long_len);
        let d = NUM_RES as f64;
        let e_demand = mean_of(self.dominant) / d + mean_of(self.other) * (d - 1.0) / d;
        self.mean_arrival_rate(rate) * e_len * e_demand / f64::from(RES_UNITS)
    }
}

/// Generates one job set: arrivals at time steps `1..simu_len` (DeepRM never injects index 0),
/// ids `0, 1, ...` in arrival order. An [`Iterator`] of [`Job`], so no allocation.
#[derive(Clone, Debug)]
pub struct JobGenerator {
    dist: Distribution,
    rate: f64,
    simu_len: u32,
    t: u32,
    next_id: u32,
    on: bool,
    rng: Pcg32,
}

impl JobGenerator {
    /// A job set of `workload` with arrival `rate` (per step, in `[0, 1]`) over `simu_len`
    /// steps, from `seed`.
    pub fn new(workload: Workload, rate: f64, simu_len: u32, seed: u64) -> Self {
        Self::from_distribution(workload.distribution(), rate, simu_len, seed)
    }

    /// As [`JobGenerator::new`] for any distribution.
    pub fn from_distribution(dist: Distribution, rate: f64, simu_len: u32, seed: u64) -> Self {
        JobGenerator {
            dist,
            rate,
            simu_len,
            t: 1,
            next_id: 0,
            on: true,
            rng: Pcg32::seed_from_u64(seed),
        }
    }

    fn uniform(&mut self, range: (u8, u8)) -> u8 {
        let (lo, hi) = (range.0.min(range.1), range.0.max(range.1));
        self.rng.random_range(lo..=hi)
    }

    fn arrives(&mut self) -> bool {
        match self.dist.arrivals {
            Arrivals::Bernoulli => self.rng.random::<f64>() < self.rate,
            Arrivals::OnOff { switch } => {
                let p = if self.on {
                    (2.0 * self.rate).min(1.0)
                } else {
                    0.0
                };
                let arrives = self.rng.random::<f64>() < p;
                if self.rng.random::<f64>() < switch {
                    self.on = !self.on;
                }
                arrives
            }
        }
    }

    fn job_at(&mut self, arrival: u32) -> Job {
        let len = if self.rng.random::<f64>() < self.dist.short_prob {
            self.uniform(self.dist.short_len)
        } else {
            self.uniform(self.dist.long_len)
        };
        let dominant = self.rng.random_range(0..NUM_RES as u32) as usize;
        let mut res = [0u8; NUM_RES];
        for (i, r) in res.iter_mut().enumerate() {
            let range = if i == dominant {
                self.dist.dominant
            } else {
                self.dist.other
            };
            *r = self.uniform(range);
        }
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        Job {
            id,
            arrival,
            len,
            res,
        }
    }
}

impl Iterator for JobGenerator {
    type Item = Job;

    fn next(&mut self) -> Option<Job> {
        while self.t < self.simu_len {
            let t = self.t;
            self.t += 1;
            if self.arrives() {
                return Some(self.job_at(t));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeprm_expected_load_matches_semantics() {
        // SEMANTICS.md section 2: 1.845 * rate = 0.55 / 0.92 / 1.29 at 0.3 / 0.5 / 0.7.
        let d = Workload::DeepRm.distribution();
        assert!((d.expected_load(1.0) - 1.845).abs() < 1e-12);
        assert!((Workload::LongJobs.distribution().expected_load(1.0) - 3.2625).abs() < 1e-12);
        assert!((Workload::WideDemands.distribution().expected_load(1.0) - 2.1525).abs() < 1e-12);
    }
}
