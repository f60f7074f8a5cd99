//! The in-support changes of a sequence the evolutionary search makes: [`Mutation`]s of one
//! job and the crossover of two sequences.

use rand::seq::IndexedRandom;
use rand::Rng;
use rand_pcg::Pcg32;
use whitebox_core::spec::NUM_RES;
use whitebox_core::Job;

use super::support::{dominant, renumber, uniform, Support};

impl Support {
    /// A random in-support change of `jobs` (see [`Mutation`]); `jobs` stays sorted, with ids
    /// equal to positions.
    pub fn mutate(&self, rng: &mut Pcg32, jobs: &mut Vec<Job>) -> Mutation {
        let mut free: Vec<u32> = (1..self.simu_len)
            .filter(|t| !jobs.iter().any(|j| j.arrival == *t))
            .collect();
        loop {
            let m = Mutation::ALL[rng.random_range(0..Mutation::ALL.len())];
            let n = jobs.len();
            let pick = |rng: &mut Pcg32| rng.random_range(0..n.max(1));
            match m {
                Mutation::Insert if n < self.max_jobs && !free.is_empty() => {
                    let t = free.swap_remove(rng.random_range(0..free.len()));
                    jobs.push(self.random_job(rng, t));
                }
                Mutation::Delete if n > 1 => {
                    jobs.remove(pick(rng));
                }
                Mutation::Length if n > 0 => {
                    let lens = self.lengths();
                    let i = pick(rng);
                    if let Some(&l) = lens.choose(rng) {
                        jobs[i].len = l;
                    }
                }
                Mutation::Demand if n > 0 => {
                    let i = pick(rng);
                    let dom = dominant(&jobs[i]);
                    let r = rng.random_range(0..NUM_RES);
                    let range = if r == dom {
                        self.dist.dominant
                    } else {
                        self.dist.other
                    };
                    jobs[i].res[r] = uniform(rng, range);
                }
                Mutation::Dominant if n > 0 => {
                    let i = pick(rng);
                    jobs[i].res.reverse();
                }
                Mutation::Shift if n > 0 && !free.is_empty() => {
                    let i = pick(rng);
                    let a = i64::from(jobs[i].arrival);
                    // Prefer a nearby free step; fall back to any free step.
                    let near: Vec<u32> = free
                        .iter()
                        .copied()
                        .filter(|&t| (i64::from(t) - a).abs() <= 3)
                        .collect();
                    let pool = if near.is_empty() { &free } else { &near };
                    if let Some(&t) = pool.choose(rng) {
                        jobs[i].arrival = t;
                    }
                }
                _ => continue,
            }
            jobs.sort_by_key(|j| j.arrival);
            renumber(jobs);
            return m;
        }
    }

    /// A child of two sequences: `a`'s jobs before a random step, `b`'s from it on.
    pub(super) fn crossover(&self, rng: &mut Pcg32, a: &[Job], b: &[Job]) -> Vec<Job> {
        let cut = rng.random_range(1..self.simu_len.max(2));
        let mut jobs: Vec<Job> = a
            .iter()
            .filter(|j| j.arrival < cut)
            .chain(b.iter().filter(|j| j.arrival >= cut))
            .copied()
            .take(self.max_jobs)
            .collect();
        renumber(&mut jobs);
        jobs
    }
}

/// The in-support changes the evolutionary search makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// Another length of the support.
    Length,
    /// Another demand of one resource, in its range.
    Demand,
    /// Swap which resource is dominant.
    Dominant,
    /// Move a job to a free nearby step.
    Shift,
    /// Add a job drawn from the distribution at a free step.
    Insert,
    /// Remove a job.
    Delete,
}

impl Mutation {
    /// Every mutation.
    pub const ALL: [Mutation; 6] = [
        Mutation::Length,
        Mutation::Demand,
        Mutation::Dominant,
        Mutation::Shift,
        Mutation::Insert,
        Mutation::Delete,
    ];
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use whitebox_core::workload::Workload;

    use super::*;

    fn support() -> Support {
        Support::new(Workload::DeepRm, 0.7, 50, None)
    }

    #[test]
    fn samples_and_mutations_stay_in_support() {
        let s = support();
        let mut rng = Pcg32::seed_from_u64(3);
        for seed in 0..50 {
            let mut jobs = s.sample(seed);
            assert!(s.contains(&jobs));
            for _ in 0..40 {
                s.mutate(&mut rng, &mut jobs);
                assert!(s.contains(&jobs), "{jobs:?}");
                assert!(jobs.len() <= s.max_jobs);
                assert!(jobs.iter().enumerate().all(|(i, j)| j.id as usize == i));
            }
            let other = s.sample(seed + 100);
            assert!(s.contains(&s.crossover(&mut rng, &jobs, &other)));
        }
    }
}
