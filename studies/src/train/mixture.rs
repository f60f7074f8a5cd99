//! Training across workloads: the cells (workload x arrival rate) a run draws its job sets from,
//! and the validation score that weighs every cell alike.
//!
//! Job set `k` of a family belongs to cell `k % cells`, so every iteration's `jobsets` job sets
//! rotate through the cells and a family of `n * cells` validation job sets holds `n` of each.
//! The idea is domain randomization in the sense of Genet (Xia et al., SIGCOMM 2022, section 2):
//! a policy trained on one workload overfits it, one trained on a spread of them transfers.

use anyhow::{bail, Result};
use whitebox_core::workload::Workload;
use whitebox_core::Job;

use super::jobset;

/// One workload at one arrival rate (jobs per time step).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    /// The workload.
    pub workload: Workload,
    /// Arrival rate, in jobs per time step, in `[0, 1]`.
    pub rate: f64,
}

/// The cells of a run: every workload at every rate, workload-major. The first cell is the
/// run's headline (the one a model file's header names).
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture {
    cells: Vec<Cell>,
}

impl Mixture {
    /// Every workload in `workloads` at every rate in `rates`, in that order.
    ///
    /// # Errors
    /// When either list is empty or a rate is outside `[0, 1]`.
    pub fn new(workloads: &[Workload], rates: &[f64]) -> Result<Mixture> {
        if workloads.is_empty() || rates.is_empty() {
            bail!(
                "a training mixture needs at least one workload and one rate (got {} and {})",
                workloads.len(),
                rates.len()
            );
        }
        if let Some(r) = rates.iter().find(|r| !(0.0..=1.0).contains(*r)) {
            bail!("rate = {r}, must be in [0, 1] (jobs per time step)");
        }
        let cells = workloads
            .iter()
            .flat_map(|&workload| rates.iter().map(move |&rate| Cell { workload, rate }))
            .collect();
        Ok(Mixture { cells })
    }

    /// The cells, workload-major.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The headline cell (the first).
    pub fn headline(&self) -> Cell {
        self.cells[0]
    }

    /// The cell of job set `k`: `k % cells`.
    pub fn cell_of(&self, k: usize) -> usize {
        k % self.cells.len()
    }

    /// Job set `k` of the family `base` and `seed` ([`jobset`]), drawn from its cell. With one
    /// cell this is exactly the single-workload job set `k`.
    pub fn jobset(&self, simu_len: u32, base: u64, seed: u64, k: usize) -> Vec<Job> {
        let c = self.cells[self.cell_of(k)];
        jobset(c.workload, c.rate, simu_len, base, seed, k)
    }

    /// The validation score of per-job-set slowdowns `policy` against SJF's `sjf` on job sets
    /// `0..n` of one family (`n` = both lengths).
    ///
    /// With one cell it is the plain mean of `policy`. With several, each cell's mean is divided
    /// by SJF's mean on the same cell, the ratios are averaged over cells, and the result is
    /// multiplied by SJF's mean over all job sets: every cell weighs the same whatever its load
    /// (a cell at rate 0.9 has slowdowns several times those at 0.3), the score is in slowdown
    /// units, and SJF itself scores its own mean.
    pub fn score(&self, policy: &[f64], sjf: &[f64]) -> f64 {
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        if self.cells.len() == 1 {
            return mean(policy);
        }
        let per_cell = |v: &[f64], c: usize| -> Vec<f64> {
            v.iter()
                .enumerate()
                .filter(|(k, _)| self.cell_of(*k) == c)
                .map(|(_, s)| *s)
                .collect()
        };
        let ratios: Vec<f64> = (0..self.cells.len())
            .filter_map(|c| {
                let s = mean(&per_cell(sjf, c));
                // An empty cell has mean 0 and is left out, as is one where SJF scores 0.
                (s > 0.0).then(|| mean(&per_cell(policy, c)) / s)
            })
            .collect();
        mean(&ratios) * mean(sjf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_rotate_and_one_cell_is_the_plain_job_set() {
        let m = Mixture::new(&[Workload::DeepRm, Workload::LongJobs], &[0.3, 0.9]).expect("mix");
        assert_eq!(m.cells().len(), 4);
        assert_eq!(
            m.cells()[1],
            Cell {
                workload: Workload::DeepRm,
                rate: 0.9
            }
        );
        assert_eq!(m.cell_of(6), 2);
        let one = Mixture::new(&[Workload::Bursty], &[0.5]).expect("one");
        assert_eq!(
            one.jobset(50, 7, 1, 3),
            jobset(Workload::Bursty, 0.5, 50, 7, 1, 3)
        );
        assert!(Mixture::new(&[], &[0.5]).is_err());
        let e = Mixture::new(&[Workload::DeepRm], &[1.5]).expect_err("rate");
        assert!(e.to_string().contains("rate = 1.5"), "{e}");
    }

    #[test]
    fn score_weighs_cells_alike() {
        // Two cells, job sets alternate. Cell 0: policy (1 + 3) / 2 = 2 vs SJF (2 + 2) / 2 = 2,
        // ratio 1. Cell 1: policy (10 + 10) / 2 = 10 vs SJF (20 + 20) / 2 = 20, ratio 0.5.
        // Mean ratio 0.75, SJF's pooled mean (2 + 20 + 2 + 20) / 4 = 11: score 8.25.
        let m = Mixture::new(&[Workload::DeepRm], &[0.3, 0.9]).expect("mix");
        let policy = [1.0, 10.0, 3.0, 10.0];
        let sjf = [2.0, 20.0, 2.0, 20.0];
        assert_eq!(m.score(&policy, &sjf), 8.25);
        // SJF scores its own pooled mean.
        assert_eq!(m.score(&sjf, &sjf), 11.0);
        // One cell: the plain mean.
        let one = Mixture::new(&[Workload::DeepRm], &[0.7]).expect("one");
        assert_eq!(one.score(&[1.0, 2.0], &[9.0, 9.0]), 1.5);
    }
}
