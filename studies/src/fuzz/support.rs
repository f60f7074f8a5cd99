//! The sequences a workload's generator can produce ([`Support`]), their likelihood, and
//! sequences drawn from the generator itself.

use rand::Rng;
use rand_pcg::Pcg32;
use whitebox_core::spec::NUM_RES;
use whitebox_core::workload::{Arrivals, Distribution, JobGenerator, Workload};
use whitebox_core::Job;

use super::config::stream_seed;

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

pub(super) fn uniform(rng: &mut Pcg32, r: (u8, u8)) -> u8 {
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
    pub(super) fn random_job(&self, rng: &mut Pcg32, arrival: u32) -> Job {
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
}

/// Index of a job's dominant resource (its largest demand; the first on a tie).
pub(super) fn dominant(job: &Job) -> usize {
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
}
