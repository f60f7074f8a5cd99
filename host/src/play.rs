//! Playing one episode with run-time settings: the slot count `M` is a const generic in the
//! core, so the choice between 5 and 10 slots is dispatched here, once.

use std::fmt;

use anyhow::{anyhow, Result};
use clap::ValueEnum;
use whitebox_core::{run, EndMode, Episode, Job, Observer, Summary};

use crate::models::{Decide, LoadedModel};
use crate::policy::Policy;

/// Visible job slots `M`: the two values DeepRM's scripts use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Slots {
    /// `M = 5`.
    #[value(name = "5")]
    Five,
    /// `M = 10`.
    #[value(name = "10")]
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
}

/// When an episode ends, as chosen on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum End {
    /// Every job arrived and left, or the time cap was reached (truncated).
    AllDone,
    /// At time step `simu_len`; later arrivals never enter (DeepRM's `no_new_job`).
    NoNewJob,
}

impl End {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            End::AllDone => "all-done",
            End::NoNewJob => "no-new-job",
        }
    }

    /// The core end mode; `simu_len` and `time_cap` are in time steps.
    pub fn mode(self, simu_len: u32, time_cap: u32) -> EndMode {
        match self {
            End::AllDone => EndMode::AllDone { time_cap },
            End::NoNewJob => EndMode::NoNewJob { simu_len },
        }
    }
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Plays `jobs` to the end with `policy` on `slots` slots, reporting events to `observer`.
///
/// # Errors
/// When the jobs are invalid or unsorted (nothing is simulated), or the policy fails.
pub fn play(
    jobs: &[Job],
    slots: Slots,
    end: EndMode,
    policy: &Policy,
    observer: &mut impl Observer,
) -> Result<Summary> {
    if let Some(m) = policy.required_slots().filter(|&m| m != slots.count()) {
        anyhow::bail!(
            "the model decides for {m} job slots, but --slots is {}",
            slots.count()
        );
    }
    match slots {
        Slots::Five => play_m::<5>(jobs, end, policy, observer),
        Slots::Ten => play_m::<10>(jobs, end, policy, observer),
    }
}

fn play_m<const M: usize>(
    jobs: &[Job],
    end: EndMode,
    policy: &Policy,
    observer: &mut impl Observer,
) -> Result<Summary>
where
    LoadedModel: Decide<M>,
{
    // Core errors are `no_std` Display types, not `std::error::Error`, hence `anyhow!`.
    let mut episode: Episode<'_, M> =
        Episode::new(jobs, end, observer).map_err(|e| anyhow!("{e}"))?;
    let mut scheduler = policy.scheduler();
    run(&mut episode, &mut scheduler, observer).map_err(|e| anyhow!("{e}"))
}
