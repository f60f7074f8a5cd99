//! Workload logs to job files: the Standard Workload Format ([`swf`]) and CSV ([`csv`]) read
//! into [`Record`]s, then [`convert`]ed (time unit, capacity scaling, clipping or dropping,
//! windows, target load) into job files with a [`Report`] of every count.
//!
//! Every treatment is described in `docs/import.md`. Input may be gzip-compressed (detected by
//! its magic bytes).

pub mod csv;
pub mod swf;
mod window;

#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use whitebox_core::spec::NUM_RES;

use crate::jobfile::RawJob;

pub use window::{convert, default_seconds_per_step, FIT_SHARE};

/// One job of a log, in the log's own units, before any treatment. A negative number means
/// unknown (the logs' `-1`).
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// 1-based line number in the log.
    pub line: usize,
    /// Submit time, in seconds.
    pub submit: f64,
    /// Run time, in seconds.
    pub run: f64,
    /// Demand per resource, in the log's units (processors, memory, ...).
    pub res: [f64; NUM_RES],
    /// Whether the log marks the job cancelled (SWF status 5).
    pub cancelled: bool,
}

/// What to do with a job longer than the horizon or wider than the capacity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TooBig {
    /// Clip it to 20 steps or 10 units.
    #[default]
    Clip,
    /// Leave it out.
    Drop,
}

/// Which jobs go into which job file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Windows {
    /// Jobs per window (per job file).
    pub size: usize,
    /// Index of the first window's first job among the imported jobs (0-based).
    pub start: usize,
    /// Number of windows to write (`None`: every full window).
    pub count: Option<usize>,
    /// Sampling: write one window out of every `every` consecutive windows (1: all).
    pub every: usize,
}

impl Default for Windows {
    fn default() -> Self {
        Windows {
            size: 100,
            start: 0,
            count: None,
            every: 1,
        }
    }
}

/// Conversion settings. `None` picks the documented default.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Options {
    /// Seconds per time step (default: see [`default_seconds_per_step`]).
    pub seconds_per_step: Option<f64>,
    /// The log's capacity per resource, in the log's units: a demand of `capacity` is 10 units.
    pub capacity: [Option<f64>; NUM_RES],
    /// Windows.
    pub windows: Windows,
    /// Expected load each window's inter-arrival times are rescaled to (`None`: as logged).
    pub target_load: Option<f64>,
    /// Jobs longer than the horizon or wider than the capacity.
    pub too_big: TooBig,
}

/// Jobs left out, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Dropped {
    /// Marked cancelled in the log (SWF status 5).
    pub cancelled: usize,
    /// Submit time unknown (negative).
    pub unknown_submit: usize,
    /// Run time unknown (negative).
    pub unknown_runtime: usize,
    /// Every demand unknown (negative), or no processors at all.
    pub unknown_demand: usize,
    /// Longer than the horizon of 20 steps, with [`TooBig::Drop`].
    pub too_long: usize,
    /// Wider than the capacity in some resource, with [`TooBig::Drop`].
    pub too_wide: usize,
}

impl Dropped {
    /// All dropped jobs.
    pub fn total(&self) -> usize {
        self.cancelled
            + self.unknown_submit
            + self.unknown_runtime
            + self.unknown_demand
            + self.too_long
            + self.too_wide
    }
}

/// Every count of an import. `records = imported + dropped.total() + outside_windows`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Job records read from the log.
    pub records: usize,
    /// Jobs written to job files.
    pub imported: usize,
    /// Kept jobs that fell outside the written windows (before `start`, in a skipped or a last
    /// partial window).
    pub outside_windows: usize,
    /// Jobs left out, by reason.
    pub dropped: Dropped,
    /// Kept jobs with a run time of 0 s, raised to 1 step.
    pub raised_from_0: usize,
    /// Kept jobs clipped to 20 steps ([`TooBig::Clip`]).
    pub clipped_len: usize,
    /// Kept jobs clipped to 10 units in some resource ([`TooBig::Clip`]).
    pub clipped_width: usize,
    /// Kept jobs whose demand was rounded up to a whole unit, per resource.
    pub rounded_up: [usize; NUM_RES],
    /// Kept jobs with an unknown demand in a resource (set to 0 units), per resource.
    pub unknown_demand_zeroed: [usize; NUM_RES],
    /// Kept jobs with demand 0 in every resource (they run; see `docs/deeprm-differences.md`).
    pub zero_demand: usize,
    /// Kept jobs whose records were out of submit order in the log (sorted by submit time).
    pub out_of_order: usize,
}

/// One written job file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowReport {
    /// File name inside the output directory.
    pub file: String,
    /// Log lines of its first and last job (in submit order).
    pub lines: (usize, usize),
    /// Jobs.
    pub jobs: usize,
    /// Last arrival, in steps (the first is 0).
    pub last_arrival: u32,
    /// Factor applied to its inter-arrival times (1 without a target load).
    pub arrival_scale: f64,
    /// `sum(len * demand) / (10 * max(last_arrival, 1))` per resource.
    pub load: [f64; NUM_RES],
    /// What was done to its jobs.
    pub counts: WindowCounts,
}

/// The treatments applied to one window's jobs (see [`Counts`] for their meaning).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WindowCounts {
    /// Run time 0 s, raised to 1 step.
    pub raised_from_0: usize,
    /// Clipped to 20 steps.
    pub clipped_len: usize,
    /// Clipped to 10 units in some resource.
    pub clipped_width: usize,
    /// Demand rounded up to a whole unit, per resource.
    pub rounded_up: [usize; NUM_RES],
    /// Demand 0 in every resource.
    pub zero_demand: usize,
}

impl WindowCounts {
    /// Adds another job's or window's counts.
    pub fn add(&mut self, other: &WindowCounts) {
        self.raised_from_0 += other.raised_from_0;
        self.clipped_len += other.clipped_len;
        self.clipped_width += other.clipped_width;
        for (a, b) in self.rounded_up.iter_mut().zip(other.rounded_up) {
            *a += b;
        }
        self.zero_demand += other.zero_demand;
    }
}

/// The report of an import, written as `import.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The log's format, `swf` or `csv`.
    pub format: &'static str,
    /// Seconds per time step.
    pub seconds_per_step: f64,
    /// How `seconds_per_step` was chosen.
    pub seconds_per_step_from: String,
    /// Capacity per resource in the log's units (`None`: resource not imported, demand 0).
    pub capacity: [Option<f64>; NUM_RES],
    /// Where each capacity came from.
    pub capacity_from: [String; NUM_RES],
    /// The settings used.
    pub options: Options,
    /// Every count.
    pub counts: Counts,
    /// Format-specific counts (SWF: processors taken from the request, ...), as name, count.
    pub format_counts: Vec<(String, usize)>,
    /// The job files.
    pub windows: Vec<WindowReport>,
}

/// An import: the report and each window's jobs (arrivals relative to its first job, in steps).
#[derive(Clone, Debug)]
pub struct Imported {
    /// Counts and settings.
    pub report: Report,
    /// One job list per [`Report::windows`] entry.
    pub windows: Vec<Vec<RawJob>>,
}

/// A parsed log: its records and what its header or columns say about capacity.
#[derive(Clone, Debug, Default)]
pub struct Log {
    /// Job records, in file order.
    pub records: Vec<Record>,
    /// Capacity per resource from the log itself, with where it came from.
    pub capacity: [Option<(f64, String)>; NUM_RES],
    /// Format-specific counts.
    pub format_counts: Vec<(String, usize)>,
}

/// Reads a file as text, gunzipping it when it starts with the gzip magic bytes.
///
/// # Errors
/// When the file cannot be read or decompressed, or is not UTF-8.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = crate::shipped::read(path)
        .with_context(|| format!("cannot read log {}", path.display()))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .with_context(|| format!("cannot gunzip {} as UTF-8 text", path.display()))?;
        Ok(text)
    } else {
        String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", path.display()))
    }
}

/// Writes each window as `window-NNNN.json` (a job file, with `source`, `lines` and
/// `seconds_per_step` keys that job-file readers ignore) and the report as `import.json`.
///
/// # Errors
/// When the directory or a file cannot be written.
pub fn write(dir: &Path, source: &str, imported: &Imported) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (w, jobs) in imported.report.windows.iter().zip(&imported.windows) {
        let file = serde_json::json!({
            "source": source,
            "lines": w.lines,
            "seconds_per_step": imported.report.seconds_per_step,
            "jobs": jobs,
        });
        let path = dir.join(&w.file);
        std::fs::write(&path, serde_json::to_string(&file)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let path = dir.join("import.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&imported.report)? + "\n",
    )
    .with_context(|| format!("cannot write {}", path.display()))
}
