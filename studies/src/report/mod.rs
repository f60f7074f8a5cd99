//! `whitebox report`: the project's headline results reproduced in one run, with fixed seeds and
//! 95% intervals, as a self-contained directory: `index.html` and `report.md` (the same tables
//! and figures), the JSON behind every table, the figures as SVG and PNG, and `report.json`, the
//! index of it all.
//!
//! Every section calls the study that its own command runs, with that command's settings, so each
//! table can be reproduced alone by the command printed under it:
//!
//! * [`heldout`]: `whitebox demo` (the held-out comparison, and the rules);
//! * [`fixtures`]: the guard on the adversarial fixtures ([`crate::check::fixture_run`]);
//! * [`traces`]: `whitebox import swf` and `whitebox compare` on the NASA windows;
//! * [`tree`]: `whitebox tree eval` and `whitebox tree fidelity`.
//!
//! Nothing depends on the thread count or the clock, so a report is the same on every run.

mod fixtures;
mod heldout;
pub mod page;
mod traces;
mod tree;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

pub use fixtures::{FixtureRow, FixturesReport};
pub use traces::{TraceRow, TracesReport};
pub use tree::{TreeReport, FIDELITY_SEED};

/// How much to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    /// For tests and CI: 10 job sets per cell, the NASA excerpt (about a minute on 2 cores).
    Quick,
    /// For the docs: 100 job sets per cell, the whole NASA log.
    Full,
}

impl Size {
    /// Held-out job sets per (workload, rate) cell and for the tree.
    pub fn jobsets(self) -> usize {
        match self {
            Size::Quick => 10,
            Size::Full => 100,
        }
    }

    /// The NASA log read by default, relative to the repository root.
    pub fn default_trace(self) -> &'static str {
        match self {
            Size::Quick => "fixtures/traces/NASA-iPSC-1993-3.1-cln.swf",
            Size::Full => "../shared/traces/NASA-iPSC-1993-3.1-cln.swf.gz",
        }
    }
}

/// What to run and where to write it.
#[derive(Clone, Debug, Serialize)]
pub struct ReportSettings {
    /// Output directory (created if needed).
    pub out: PathBuf,
    /// Quick or full.
    pub size: Size,
    /// Held-out job sets per cell ([`Size::jobsets`]).
    pub jobsets: usize,
    /// The learned policy's model file.
    pub model: PathBuf,
    /// The rule-distilled student shown beside it in the demo, if any.
    pub student: Option<PathBuf>,
    /// The model trained under the demo's rules, shown under them in the demo, if any.
    pub rules_model: Option<PathBuf>,
    /// The decision tree.
    pub tree: PathBuf,
    /// The model the tree was distilled from (its teacher), which the tree section compares
    /// it with.
    pub tree_model: PathBuf,
    /// Directory of adversarial fixtures.
    pub fixtures: PathBuf,
    /// The NASA iPSC/860 SWF log (plain or gzipped).
    pub trace: PathBuf,
}

/// One table in `report.json`.
#[derive(Clone, Debug, Serialize)]
pub struct TableIndex {
    /// Section heading.
    pub section: String,
    /// Table heading.
    pub title: String,
    /// The command that produces it alone.
    pub command: String,
    /// Its seeds or inputs.
    pub seeds: String,
    /// Its JSON file.
    pub json: String,
}

/// `report.json`: the settings, every table with its command, seeds and JSON file, and every
/// file written.
#[derive(Clone, Debug, Serialize)]
pub struct ReportIndex {
    /// The command line's version of whitebox.
    pub version: &'static str,
    /// The settings.
    pub settings: ReportSettings,
    /// Every table.
    pub tables: Vec<TableIndex>,
    /// The sections as rendered.
    pub sections: Vec<page::Section>,
    /// Every file written, relative to the output directory, sorted.
    pub files: Vec<String>,
}

/// Writes `value` as pretty JSON to `dir/name`.
fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Checks that an input exists, naming the flag that gives it.
fn exists(path: &Path, flag: &str, what: &str) -> Result<()> {
    if whitebox_runtime::shipped::available(path) {
        return Ok(());
    }
    let cwd = std::env::current_dir().map_or_else(|_| "?".into(), |d| d.display().to_string());
    anyhow::bail!(
        "{flag} {}: {what} not found (relative paths are resolved from the current directory, \
         {cwd}; run from the repository root or give {flag} PATH)",
        path.display()
    )
}

/// Runs every section and writes the report to `s.out`. `on_section` is told each section's
/// name before it runs; `on_task` ticks once per held-out job set of the demo
/// ([`demo_tasks`] of them).
///
/// # Errors
/// A missing or invalid input (named with its flag), a failing policy, or a file that cannot be
/// written.
pub fn run(
    s: &ReportSettings,
    on_section: &dyn Fn(&str),
    on_task: &(dyn Fn() + Sync),
) -> Result<ReportIndex> {
    exists(&s.model, "--model", "model file")?;
    if let Some(p) = &s.student {
        exists(p, "--student", "model file")?;
    }
    if let Some(p) = &s.rules_model {
        exists(p, "--rules-model", "model file")?;
    }
    exists(&s.tree, "--tree", "tree file")?;
    exists(
        &s.fixtures,
        "--fixtures",
        "directory of adversarial fixtures",
    )?;
    exists(&s.trace, "--trace", "SWF log")?;
    std::fs::create_dir_all(&s.out)
        .with_context(|| format!("cannot create output directory {}", s.out.display()))?;
    on_section("held-out comparison and rules (demo)");
    let mut sections = vec![heldout::section(s, on_task)?];
    on_section("guard on the adversarial fixtures");
    sections.push(fixtures::section(s)?);
    on_section("NASA iPSC/860 windows");
    sections.push(traces::section(s)?);
    on_section("decision tree");
    sections.push(tree::section(s)?);

    let title = "whitebox: reproduced results";
    let size = match s.size {
        Size::Quick => " --quick",
        Size::Full => "",
    };
    let intro = vec![format!(
        "Produced by `whitebox report{size} --out DIR` (whitebox {}), {} held-out job sets per \
         cell. Every table says which command reproduces it alone and from which seeds, and \
         links the JSON it was made from. Lower mean slowdown is better; intervals are Student-t \
         95% over job sets (or windows); \"better\" / \"worse\" / \"tie\" is what a paired 95% \
         interval says.",
        env!("CARGO_PKG_VERSION"),
        s.jobsets
    )];
    let md = page::markdown(title, &intro, &sections);
    let html = page::html(title, &intro, &sections);
    for (name, text) in [("report.md", md), ("index.html", html)] {
        let path = s.out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let tables = sections
        .iter()
        .flat_map(|sec| {
            sec.tables.iter().map(|t| TableIndex {
                section: sec.title.clone(),
                title: t.title.clone(),
                command: t.command.clone(),
                seeds: t.seeds.clone(),
                json: t.json.clone(),
            })
        })
        .collect();
    let mut files = list_files(&s.out, Path::new(""))?;
    files.push("report.json".into());
    files.sort();
    files.dedup();
    let index = ReportIndex {
        version: env!("CARGO_PKG_VERSION"),
        settings: s.clone(),
        tables,
        sections,
        files,
    };
    write_json(&s.out, "report.json", &index)?;
    Ok(index)
}

/// Held-out job sets the demo section plays (for a progress bar).
pub fn demo_tasks(s: &ReportSettings) -> usize {
    // The demo plays every workload at the model's rate.
    whitebox_core::workload::Workload::ALL.len() * s.jobsets
}

/// Files under `dir`, recursively, as paths under `prefix`.
fn list_files(dir: &Path, prefix: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let e = e.with_context(|| format!("cannot read {}", dir.display()))?;
        let rel = prefix.join(e.file_name());
        if e.path().is_dir() {
            out.extend(list_files(&e.path(), &rel)?);
        } else {
            out.push(rel.to_string_lossy().into_owned());
        }
    }
    Ok(out)
}
