//! `whitebox demo`: the shipped model against the baselines on its workload and shifted ones.

use std::path::PathBuf;

use anyhow::Result;
use whitebox_studies::demo;

use crate::args::{unless_none, usize_of, GuardArgs, RuleArgs};
use crate::output::emit;
use crate::{output, progress};

/// Arguments of `whitebox demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Model file of the learned policy (relative to the current directory); its header gives
    /// the training workload, arrival rate and slot count the demo evaluates at.
    #[arg(long, default_value = demo::DEFAULT_MODEL)]
    pub model: PathBuf,
    /// Output directory for demo.json and the plots.
    #[arg(long, default_value = "whitebox-out")]
    pub out: PathBuf,
    /// Held-out job sets per workload.
    #[arg(long, default_value_t = 100, value_parser = crate::args::at_least(1u64))]
    pub jobsets: u64,
    /// Rule-distilled student model shown as `distilled` (and `distilled+rules`), or `none`.
    #[arg(long, default_value = demo::DEFAULT_STUDENT)]
    pub student: PathBuf,
    /// Model trained under the demo's rules, shown as `rules-dnn+rules`, or `none`.
    #[arg(long, default_value = demo::DEFAULT_RULES_MODEL)]
    pub rules_model: PathBuf,
    /// Operator rules of the rows dnn+rules, distilled+rules and sjf+rules; without --rule the
    /// demo uses util<=0.8, work-conserving and shorter-first.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Guard of the rows dnn+guard and dnn+guard+rules (renewal with eps 0.1 and c 5 without
    /// --guard).
    #[command(flatten)]
    pub guard: GuardArgs,
}

/// Runs `whitebox demo`.
///
/// # Errors
/// A missing or invalid model, bad rules, or files that cannot be written.
pub fn run(a: &DemoArgs) -> Result<()> {
    let student = unless_none(&a.student);
    let rules_model = unless_none(&a.rules_model);
    let rules = RuleArgs {
        rules: if a.rules.rules.is_empty() {
            demo::DEFAULT_RULES.map(String::from).to_vec()
        } else {
            a.rules.rules.clone()
        },
        rule_c: a.rules.rule_c.clone(),
    };
    let plan = demo::plan(
        &a.model,
        student,
        rules_model,
        usize_of(a.jobsets, "--jobsets")?,
        rules.projection()?,
        a.guard.settings_or_renewal()?,
    )?;
    let report = progress::job_sets(plan.config.tasks(), |tick| demo::run(&plan, &a.out, tick))?;
    emit(&output::demo_table(&report))?;
    eprintln!("wrote {} to {}", report.files.join(", "), a.out.display());
    Ok(())
}
