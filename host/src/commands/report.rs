//! `whitebox report`: the headline results reproduced in one run, written as a report directory.

use std::path::{Path, PathBuf};

use anyhow::Result;
use whitebox_studies::demo;
use whitebox_studies::report::{self, ReportSettings, Size};

use crate::args::unless_none;
use crate::progress;

/// Arguments of `whitebox report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Output directory: index.html, report.md, report.json, the JSON behind each table and the
    /// figures (SVG and PNG).
    #[arg(long, default_value = "whitebox-report")]
    pub out: PathBuf,
    /// The small size for tests and CI (10 job sets per cell, the NASA excerpt; about a
    /// minute) instead of the full one for the docs (100 job sets, the whole NASA log).
    #[arg(long)]
    pub quick: bool,
    /// Model file of the learned policy.
    #[arg(long, default_value = demo::DEFAULT_MODEL)]
    pub model: PathBuf,
    /// Rule-distilled student shown beside it, or `none`.
    #[arg(long, default_value = demo::DEFAULT_STUDENT)]
    pub student: PathBuf,
    /// Model trained under the demo's rules, shown as `rules-dnn+rules`, or `none`.
    #[arg(long, default_value = demo::DEFAULT_RULES_MODEL)]
    pub rules_model: PathBuf,
    /// Decision tree.
    #[arg(long, default_value = "fixtures/models/default.tree")]
    pub tree: PathBuf,
    /// The model the tree was distilled from (the shipped tree's teacher is the shipped
    /// default model).
    #[arg(long, default_value = "fixtures/models/default.model")]
    pub tree_model: PathBuf,
    /// Directory of adversarial fixtures (as `whitebox fuzz` writes them).
    #[arg(long, default_value = "fixtures/adversarial")]
    pub fixtures: PathBuf,
    /// The NASA iPSC/860 SWF log [default: fixtures/traces/NASA-iPSC-1993-3.1-cln.swf with
    /// --quick, else ../shared/traces/NASA-iPSC-1993-3.1-cln.swf.gz].
    #[arg(long)]
    pub trace: Option<PathBuf>,
}

/// Runs `whitebox report` and prints where the report is.
///
/// # Errors
/// A missing input (named with its flag), a failing policy, or files that cannot be written.
pub fn run(a: &ReportArgs) -> Result<()> {
    let size = if a.quick { Size::Quick } else { Size::Full };
    let settings = ReportSettings {
        out: a.out.clone(),
        size,
        jobsets: size.jobsets(),
        model: a.model.clone(),
        student: unless_none(&a.student).map(Path::to_path_buf),
        rules_model: unless_none(&a.rules_model).map(Path::to_path_buf),
        tree: a.tree.clone(),
        tree_model: a.tree_model.clone(),
        fixtures: a.fixtures.clone(),
        trace: a
            .trace
            .clone()
            .unwrap_or_else(|| PathBuf::from(size.default_trace())),
    };
    let index = progress::job_sets(report::demo_tasks(&settings), |tick| {
        report::run(&settings, &|name| eprintln!("report: {name}"), tick)
    })?;
    println!(
        "report written to {} ({} tables; {}, {}, report.json and the JSON behind each table)",
        a.out.join("index.html").display(),
        index.tables.len(),
        a.out.join("report.md").display(),
        a.out.display()
    );
    Ok(())
}
