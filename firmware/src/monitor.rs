//! On-device monitoring: running statistics of an episode for an operator to watch, computed
//! with `micromath`'s fast approximations. Off the decision path: nothing here feeds back into
//! a decision, so the approximations cannot change a schedule (see docs/embedded.md,
//! "On-device monitoring (micromath)").
//!
//! [`Monitor`] is a [`whitebox_core::Observer`]: attach it to an [`whitebox_core::Episode`]
//! (`Episode::new`, `Episode::step`, `run`) and it keeps, in a few dozen bytes and without
//! allocation,
//!
//! * the number of allocated jobs and the running mean and variance of their slowdown
//!   `(finish - arrival) / len` (Welford's algorithm, `f32`), and its standard deviation;
//! * per resource, an exponentially weighted moving average of the utilization `used / 10` of
//!   each ended time step, with the smoothing factor `alpha = 1 - exp(-ln 2 / half_life)` of a
//!   half-life given in steps (a step's weight halves every `half_life` steps);
//! * the number of ended steps, and of those in which some resource was above 80 % of its
//!   capacity (more than 8 of 10 units, the `util<=0.8` cap of the rules).
//!
//! Approximations (`micromath` 2.1, measured over every `f32` input of the ranges given):
//!
//! * `micromath`'s `sqrt` halves the exponent bits (`(bits + 0x3f80_0000) >> 1`): relative error
//!   up to 6.1 % (about 2 % on average; its docs say "average deviation of ~5%"). That is too
//!   coarse even for a dashboard, so [`Monitor::sd`] takes it as the seed of one Newton step,
//!   `(y + v / y) / 2`, which leaves at most 0.18 % (the error squared, halved).
//! * `micromath`'s `exp` reduces to `2^n * e^f` with a 4-term series for `e^f`: relative error
//!   up to 0.24 % on `[-10, 10]`; on the inputs used here, `-ln 2 / h` for half-lives `h` of 1
//!   to 1000 steps, at most 5.6e-5, and `alpha` is within 1.4e-4 of `1 - e^(-ln 2 / h)`.
//!
//! The `micromath` methods are called by path (`F32Ext::sqrt(x)`), in this module only: the
//! core bans the std float methods so that its decision path takes every transcendental from
//! `libm` and is bit-exact on every target; nothing of the decision path calls into here.

use micromath::F32Ext;
use whitebox_core::spec::{NUM_RES, RES_UNITS};
use whitebox_core::{Event, Observer, Step};

/// A step is over the cap when some resource uses more than this many units (80 % of 10).
pub const OVER_CAP_UNITS: u8 = 8;

/// Running statistics of an episode; see the module docs.
#[derive(Clone, Copy, Debug)]
pub struct Monitor {
    alpha: f32,
    jobs: u32,
    mean: f32,
    /// Sum of squared deviations from the running mean (Welford's `M2`).
    m2: f32,
    steps: u32,
    over_cap: u32,
    util: [f32; NUM_RES],
}

impl Monitor {
    /// A monitor whose utilization averages have a half-life of `half_life` time steps:
    /// `alpha = 1 - exp(-ln 2 / half_life)` with `micromath`'s `exp`. A half-life of 0 means no
    /// smoothing (`alpha = 1`, the averages are the last step's utilization).
    pub fn new(half_life: u32) -> Self {
        let alpha = if half_life == 0 {
            1.0
        } else {
            1.0 - F32Ext::exp(-core::f32::consts::LN_2 / half_life as f32)
        };
        Monitor {
            alpha,
            jobs: 0,
            mean: 0.0,
            m2: 0.0,
            steps: 0,
            over_cap: 0,
            util: [0.0; NUM_RES],
        }
    }

    /// The smoothing factor of the utilization averages.
    pub fn alpha(&self) -> f32 {
        self.alpha
    }

    /// Jobs allocated so far.
    pub fn jobs(&self) -> u32 {
        self.jobs
    }

    /// Mean slowdown of the allocated jobs, `None` before the first allocation.
    pub fn mean_slowdown(&self) -> Option<f32> {
        (self.jobs > 0).then_some(self.mean)
    }

    /// Variance of the allocated jobs' slowdown (population variance, `M2 / n`: the jobs of
    /// the episode are the whole population), `None` before the first allocation.
    pub fn variance(&self) -> Option<f32> {
        (self.jobs > 0).then(|| self.m2 / self.jobs as f32)
    }

    /// Standard deviation of the slowdown: `micromath`'s `sqrt` of [`Monitor::variance`]
    /// refined by one Newton step, within 0.18 % of the exact root.
    pub fn sd(&self) -> Option<f32> {
        let v = self.variance()?;
        if v <= 0.0 {
            // Also catches a rounding residue below 0, whose square root is not a number.
            return Some(0.0);
        }
        let y = F32Ext::sqrt(v);
        Some(0.5 * (y + v / y))
    }

    /// Per resource, the exponentially weighted moving average of the utilization (fraction of
    /// the capacity in use) of the ended steps; all 0 before the first step ends.
    pub fn utilization(&self) -> [f32; NUM_RES] {
        self.util
    }

    /// Time steps ended so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// Ended steps in which some resource used more than [`OVER_CAP_UNITS`] units.
    pub fn over_cap_steps(&self) -> u32 {
        self.over_cap
    }

    /// Share of the ended steps that were over the cap, in `[0, 1]`; `None` before the first
    /// step ends.
    pub fn over_cap_share(&self) -> Option<f32> {
        (self.steps > 0).then(|| self.over_cap as f32 / self.steps as f32)
    }

    /// Adds one job's slowdown (Welford's update).
    fn add_slowdown(&mut self, x: f32) {
        self.jobs = self.jobs.saturating_add(1);
        let delta = x - self.mean;
        self.mean += delta / self.jobs as f32;
        self.m2 += delta * (x - self.mean);
    }

    /// Adds one ended step's resource usage, in units.
    fn add_step(&mut self, used: [u8; NUM_RES]) {
        let first = self.steps == 0;
        self.steps = self.steps.saturating_add(1);
        if used.iter().any(|&u| u > OVER_CAP_UNITS) {
            self.over_cap = self.over_cap.saturating_add(1);
        }
        for (avg, &u) in self.util.iter_mut().zip(used.iter()) {
            let x = f32::from(u) / f32::from(RES_UNITS);
            // The first step starts the average; after that each step moves it by `alpha`.
            *avg = if first {
                x
            } else {
                *avg + self.alpha * (x - *avg)
            };
        }
    }
}

impl Observer for Monitor {
    fn on_event(&mut self, event: &Event) {
        if let Event::Decided { step, .. } = event {
            match *step {
                Step::Allocated { job, finish, .. } => {
                    let waited = finish.saturating_sub(job.arrival);
                    // `len >= 1` for every job an episode admits.
                    self.add_slowdown(waited as f32 / f32::from(job.len.max(1)));
                }
                Step::MovedOn { used, .. } => self.add_step(used),
            }
        }
    }
}
