//! `whitebox eval`: policies on generated job sets, with 95% confidence intervals.

use anyhow::{Context, Result};
use clap::ValueEnum;
use whitebox_runtime::lists::{parse_rates, parse_workloads};
use whitebox_runtime::policy::NamedPolicy;
use whitebox_runtime::settings::{SIMU_LEN, TIME_CAP};
use whitebox_runtime::shard::Shard;
use whitebox_studies::eval::{evaluate_shard, merge, EvalConfig, EvalReport, EvalShard};

use crate::args::{tetris_knob, usize_of, EndArg, GuardArgs, RuleArgs, SlotsArg};
use crate::output::emit;
use crate::{output, progress};

/// Output format of `eval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    /// Aligned columns.
    Table,
    /// One JSON object `{"settings": .., "rows": [..]}`.
    Json,
    /// A header line and one line per row.
    Csv,
}

/// Arguments of `whitebox eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Workloads, comma-separated: deeprm, long-jobs, wide-demands, bursty.
    #[arg(long, default_value = "deeprm")]
    pub workload: String,
    /// Arrival rates, comma-separated, each in [0, 1] jobs per time step.
    #[arg(long, default_value = "0.3,0.5,0.7", allow_hyphen_values = true)]
    pub rate: String,
    /// Job sets per (workload, rate).
    #[arg(long, default_value_t = 100, value_parser = crate::args::at_least(1u64))]
    pub jobsets: u64,
    /// Base seed; job set k uses seed * 1000003 + k.
    #[arg(long, default_value_t = 1000)]
    pub seed: u64,
    /// Policies, comma-separated: sjf, sjf-reserve, sjf-reserve-aged, packer, tetris, random, model:PATH, int8:PATH (the model
    /// quantized to int8), tree:PATH (a decision tree); LABEL=POLICY shows POLICY as LABEL in the report (e.g.
    /// dnn=model:a.model).
    #[arg(long, default_value = "sjf,packer,tetris,random")]
    pub policies: String,
    /// Visible job slots.
    #[arg(long, default_value = "10")]
    pub slots: SlotsArg,
    /// Arrival window of each job set, in time steps.
    #[arg(long, default_value_t = SIMU_LEN)]
    pub simu_len: u32,
    /// When each episode ends.
    #[arg(long, default_value = "all-done")]
    pub end: EndArg,
    /// Time cap for `all-done`, in time steps.
    #[arg(long, default_value_t = TIME_CAP)]
    pub time_cap: u32,
    /// Tetris weight of alignment versus shortest-job-first, in [0, 1].
    #[arg(long, default_value_t = 0.5)]
    pub tetris_knob: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EvalFormat::Table)]
    pub format: EvalFormat,
    /// Run shard I of N (0-based): job sets I*J/N to (I+1)*J/N - 1 of every cell, J =
    /// --jobsets; print the shard as JSON (every job set's outcome) for --merge.
    #[arg(long, value_name = "I/N", conflicts_with_all = ["format", "merge"])]
    pub shard: Option<String>,
    /// Merge the JSON files of shards 0/N to N-1/N of one evaluation (any order) and print the
    /// report, bit for bit that of the unsharded run; the settings come from the files, so the
    /// other flags but --format are not used.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub merge: Vec<std::path::PathBuf>,
    /// Operator rules applied to every policy (shown as LABEL+rules).
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Guard of the learned policies: each is followed by its guarded form, LABEL+guard.
    #[command(flatten)]
    pub guard: GuardArgs,
}

/// Runs `whitebox eval`.
///
/// # Errors
/// Invalid flags or policies; a failure to write stdout.
pub fn run(a: &EvalArgs) -> Result<()> {
    if !a.merge.is_empty() {
        let shards = a
            .merge
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("--merge: cannot read {}", p.display()))?;
                serde_json::from_str::<EvalShard>(&text).with_context(|| {
                    format!(
                        "--merge: {} is not the JSON of `whitebox eval --shard I/N`",
                        p.display()
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        return print(a.format, &merge(shards).context("--merge")?);
    }
    let shard = match &a.shard {
        Some(s) => Some(Shard::parse(s).context("--shard")?),
        None => None,
    };
    let cfg = EvalConfig {
        workloads: parse_workloads(&a.workload).context("--workload")?,
        rates: parse_rates(&a.rate).context("--rate")?,
        jobsets: usize_of(a.jobsets, "--jobsets")?,
        seed: a.seed,
        policies: with_rules(
            with_guard(
                NamedPolicy::parse_list(&a.policies).context("--policies")?,
                a.guard.settings()?,
            )?,
            a.rules.projection()?,
        ),
        slots: a.slots.into(),
        end: a.end.into(),
        simu_len: a.simu_len,
        time_cap: a.time_cap,
        tetris_knob: tetris_knob(a.tetris_knob)?,
        job_slowdowns: false,
    };
    let part = shard.unwrap_or(Shard::ALL);
    let run: EvalShard = progress::job_sets(cfg.shard_tasks(part), |tick| {
        evaluate_shard(&cfg, part, tick)
    })?;
    if shard.is_some() {
        return emit(&(serde_json::to_string(&run)? + "\n"));
    }
    print(a.format, &whitebox_studies::eval::merge(vec![run])?)?;
    if a.format == EvalFormat::Table {
        // The rules applied now, as compare and demo say them (not a model's training rules).
        if !a.rules.rules.is_empty() {
            emit(&whitebox_studies::compare::rules_line(
                &a.rules.rule_c,
                &a.rules.rules,
            ))?;
        }
        emit(&output::model_provenance(&cfg.policies)?)?;
    }
    Ok(())
}

/// Prints a report in `format`.
fn print(format: EvalFormat, report: &EvalReport) -> Result<()> {
    match format {
        EvalFormat::Table => emit(&output::eval_table(&report.rows)),
        EvalFormat::Json => emit(&output::eval_json(report)?),
        EvalFormat::Csv => emit(&output::eval_csv(&report.rows)),
    }
}

/// Every learned policy followed by its guarded form, labelled `LABEL+guard`; unchanged
/// without a guard.
///
/// # Errors
/// A guard with no learned policy to guard.
pub fn with_guard(
    policies: Vec<NamedPolicy>,
    guard: Option<whitebox_runtime::guard::GuardSettings>,
) -> Result<Vec<NamedPolicy>> {
    let Some(guard) = guard else {
        return Ok(policies);
    };
    let learned = |p: &NamedPolicy| p.policy.is_learned();
    if !policies.iter().any(learned) {
        anyhow::bail!(
            "--guard: a guard insures a learned policy (model:PATH, int8:PATH or tree:PATH); none in --policies"
        );
    }
    let mut out = Vec::with_capacity(policies.len() * 2);
    for p in policies {
        let guarded = learned(&p).then(|| NamedPolicy {
            label: format!("{}+guard", p.label),
            ..p.clone().with_guard(Some(guard))
        });
        out.push(p);
        out.extend(guarded);
    }
    Ok(out)
}

/// Every policy projected onto `rules` and labelled `LABEL+rules`; unchanged without rules.
fn with_rules(
    policies: Vec<NamedPolicy>,
    rules: Option<whitebox_core::Projection>,
) -> Vec<NamedPolicy> {
    let Some(rules) = rules else {
        return policies;
    };
    policies
        .into_iter()
        .map(|p| NamedPolicy {
            label: format!("{}+rules", p.label),
            rules: Some(rules.clone()),
            policy: p.policy,
            guard: p.guard,
        })
        .collect()
}
