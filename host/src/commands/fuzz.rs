//! `whitebox fuzz`: search a workload's support for job sequences on which a policy loses to
//! SJF, shrink them and write them as fixtures.

use std::path::PathBuf;

use anyhow::{ensure, Context, Result};
use clap::ValueEnum;
use whitebox_runtime::lists::{parse_rates, parse_workloads};
use whitebox_runtime::settings::{SIMU_LEN, TIME_CAP};
use whitebox_studies::fuzz::campaign::{self, FuzzOptions};
use whitebox_studies::fuzz::{Objective, SearchKind, Shard};

use crate::args::{GuardArgs, RuleArgs, SlotsArg};
use crate::progress;

/// What a fuzz campaign maximizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ObjectiveArg {
    /// `mean slowdown(policy) - mean slowdown(SJF)`.
    Gap,
    /// `mean slowdown(policy) / mean slowdown(SJF)`.
    Ratio,
}

impl From<ObjectiveArg> for Objective {
    fn from(o: ObjectiveArg) -> Objective {
        match o {
            ObjectiveArg::Gap => Objective::Gap,
            ObjectiveArg::Ratio => Objective::Ratio,
        }
    }
}

/// Which searches to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SearchArg {
    /// Random sampling from the workload's generator only.
    Random,
    /// The evolutionary search only.
    Evolve,
    /// Both, each with the full budget, to compare them.
    Both,
}

/// Arguments of `whitebox fuzz`.
#[derive(Debug, clap::Args)]
pub struct FuzzArgs {
    /// The policy under test (e.g. model:fixtures/models/default.model).
    #[arg(long, required_unless_present = "merge")]
    pub policy: Option<String>,
    /// Operator rules the policy under test is projected onto (SJF is not).
    #[command(flatten)]
    pub rules: RuleArgs,
    /// A guard insuring the policy under test against SJF; the search then attacks the
    /// guarded policy (`docs/guard.md`).
    #[command(flatten)]
    pub guard: GuardArgs,
    /// Workload whose support is searched: deeprm, long-jobs, wide-demands, bursty.
    #[arg(long, default_value = "deeprm")]
    pub workload: String,
    /// Arrival rate of the workload, in jobs per step (for random samples and likelihoods).
    #[arg(long, default_value_t = 0.7, allow_negative_numbers = true)]
    pub rate: f64,
    /// Arrival window: arrivals at steps 1..simu_len.
    #[arg(long, default_value_t = SIMU_LEN)]
    pub simu_len: u32,
    /// Visible job slots.
    #[arg(long, default_value = "10")]
    pub slots: SlotsArg,
    /// Time cap of the all-done episodes, in steps.
    #[arg(long, default_value_t = TIME_CAP)]
    pub time_cap: u32,
    /// Sequences evaluated per search over the whole campaign (each one by the policy and SJF).
    #[arg(long, default_value_t = 20_000, value_parser = crate::args::at_least(1u64))]
    pub budget: u64,
    /// Master seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Most jobs per sequence (default: one per step of the arrival window).
    #[arg(long)]
    pub max_jobs: Option<usize>,
    /// Run shard i of n (0-based) of the campaign; merge the shards' DIRs with --merge.
    #[arg(long)]
    pub shard: Option<String>,
    /// What to maximize.
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Gap)]
    pub objective: ObjectiveArg,
    /// Which searches to run.
    #[arg(long, value_enum, default_value_t = SearchArg::Both)]
    pub search: SearchArg,
    /// Population of the evolutionary search.
    #[arg(long, default_value_t = 64, value_parser = crate::args::at_least(2u64))]
    pub population: u64,
    /// Fixtures to write (the best distinct sequences on which the policy loses to SJF).
    #[arg(long, default_value_t = 3)]
    pub fixtures: usize,
    /// Shrinking keeps at least this fraction of a sequence's excess over SJF.
    #[arg(long, default_value_t = 0.5)]
    pub shrink_keep: f64,
    /// Only score sequences whose log-likelihood under the generator is at most this far (in
    /// nats) below the generator's mean.
    #[arg(long)]
    pub max_ll_drop: Option<f64>,
    /// Merge the campaign.json of these shard output directories instead of searching.
    #[arg(long, num_args = 1..)]
    pub merge: Vec<PathBuf>,
    /// Output directory: campaign.json and the fixtures.
    #[arg(long)]
    pub out: PathBuf,
}

/// The command line as typed, quoted for a POSIX shell, recorded in the campaign and fixtures.
pub fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quoted: Vec<String> = args
        .iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'') {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.clone()
            }
        })
        .collect();
    format!("whitebox {}", quoted.join(" "))
}

/// Runs `whitebox fuzz`; returns the text report.
///
/// # Errors
/// Invalid flags, a failing policy, or files that cannot be read or written.
pub fn run(a: &FuzzArgs) -> Result<String> {
    let workload = parse_workloads(&a.workload).context("--workload")?[0];
    let rate = parse_rates(&a.rate.to_string()).context("--rate")?[0];
    if let Some(s) = &a.shard {
        Shard::parse(s).context("--shard")?;
    }
    a.rules.projection()?;
    // The campaign checks these too; here they are named by their flags.
    ensure!(
        a.simu_len >= 2,
        "--simu-len = {}, must be at least 2",
        a.simu_len
    );
    ensure!(
        (0.0..=1.0).contains(&a.shrink_keep),
        "--shrink-keep = {}, must be in [0, 1]",
        a.shrink_keep
    );
    ensure!(a.max_jobs != Some(0), "--max-jobs = 0, must be at least 1");
    let options = FuzzOptions {
        policy: a.policy.clone(),
        rules: a.rules.texts(),
        guard: a.guard.settings()?,
        workload,
        rate,
        simu_len: a.simu_len,
        slots: a.slots.into(),
        time_cap: a.time_cap,
        budget: a.budget,
        seed: a.seed,
        max_jobs: a.max_jobs,
        shard: a.shard.clone(),
        objective: a.objective.into(),
        searches: match a.search {
            SearchArg::Random => vec![SearchKind::Random],
            SearchArg::Evolve => vec![SearchKind::Evolve],
            SearchArg::Both => vec![SearchKind::Random, SearchKind::Evolve],
        },
        population: a.population,
        fixtures: a.fixtures,
        shrink_keep: a.shrink_keep,
        max_ll_drop: a.max_ll_drop,
        merge: a.merge.clone(),
        out: a.out.clone(),
        command: command_line(),
    };
    campaign::run(&options, &mut progress::Searches::default())
}
