//! `whitebox import swf|csv`: a workload log to job files, with every count printed.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use whitebox_core::spec::NUM_RES;
use whitebox_runtime::import::csv::{Column, Columns};
use whitebox_runtime::import::{self, Imported, Options, TooBig, Windows};

/// The log formats.
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// A Standard Workload Format log (Parallel Workloads Archive), plain or gzipped.
    Swf(SwfArgs),
    /// A CSV log, plain or gzipped, with the columns named by --arrival, --runtime and --res.
    Csv(CsvArgs),
}

/// Options shared by both formats.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The log file.
    pub file: PathBuf,
    /// Directory for the job files (window-NNNN.json) and the report (import.json).
    #[arg(long)]
    pub out: PathBuf,
    /// Seconds per time step [default: the 95th percentile of run times / 20, rounded up].
    #[arg(long)]
    pub seconds_per_step: Option<f64>,
    /// Capacity per resource in the log's units, `P` or `P,M` (a demand of P is 10 units)
    /// [default: SWF header MaxProcs or MaxNodes; CSV the largest value per column].
    #[arg(long, value_delimiter = ',')]
    pub capacity: Vec<f64>,
    /// Jobs per window (one job file per window).
    #[arg(long, default_value_t = 100)]
    pub window: usize,
    /// First job of the first window (0-based, after drops and sorting by submit time).
    #[arg(long, default_value_t = 0)]
    pub start: usize,
    /// Number of windows to write [default: every full window].
    #[arg(long)]
    pub windows: Option<usize>,
    /// Write one window out of every N consecutive ones.
    #[arg(long, default_value_t = 1)]
    pub every: usize,
    /// Rescale each window's inter-arrival times to this expected load (largest resource).
    #[arg(long)]
    pub target_load: Option<f64>,
    /// Jobs longer than 20 steps or wider than the capacity: clip them or drop them.
    #[arg(long, value_enum, default_value_t = TooBigArg::Clip)]
    pub too_big: TooBigArg,
}

/// `--too-big`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TooBigArg {
    /// Clip to 20 steps and 10 units.
    Clip,
    /// Leave them out.
    Drop,
}

/// Arguments of `whitebox import swf`.
#[derive(Debug, clap::Args)]
pub struct SwfArgs {
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of `whitebox import csv`.
#[derive(Debug, clap::Args)]
pub struct CsvArgs {
    #[command(flatten)]
    pub common: Common,
    /// Column of the submit time in seconds: a 1-based number, or a name with --header.
    #[arg(long)]
    pub arrival: String,
    /// Column of the run time in seconds.
    #[arg(long)]
    pub runtime: String,
    /// Columns of the demands, one or two (`COL` or `COL,COL`).
    #[arg(long, value_delimiter = ',', required = true)]
    pub res: Vec<String>,
    /// The first row is a header (then columns may be named).
    #[arg(long)]
    pub header: bool,
}

fn options(c: &Common) -> Result<Options> {
    if c.capacity.len() > NUM_RES {
        bail!(
            "--capacity: {} values, the cluster has {NUM_RES} resources",
            c.capacity.len()
        );
    }
    let mut capacity = [None; NUM_RES];
    for (dst, &v) in capacity.iter_mut().zip(&c.capacity) {
        *dst = Some(v);
    }
    Ok(Options {
        seconds_per_step: c.seconds_per_step,
        capacity,
        windows: Windows {
            size: c.window,
            start: c.start,
            count: c.windows,
            every: c.every,
        },
        target_load: c.target_load,
        too_big: match c.too_big {
            TooBigArg::Clip => TooBig::Clip,
            TooBigArg::Drop => TooBig::Drop,
        },
    })
}

/// Runs `whitebox import`: writes the job files and `import.json`, prints the counts.
///
/// # Errors
/// An unreadable or malformed log (the line, field and value), or invalid settings.
pub fn run(command: &ImportCommand) -> Result<()> {
    let (common, imported) = match command {
        ImportCommand::Swf(a) => {
            let text = import::read_text(&a.common.file)?;
            let log = import::swf::parse(&text)
                .with_context(|| format!("{}", a.common.file.display()))?;
            let imported = import::convert("swf", log, &options(&a.common)?)
                .context("cannot import (capacity: --capacity, time unit: --seconds-per-step, windows: --window, --target-load)")?;
            (&a.common, imported)
        }
        ImportCommand::Csv(a) => {
            let text = import::read_text(&a.common.file)?;
            let column = |s: &String| s.parse::<Column>().unwrap_or(Column::Number(0));
            let columns = Columns {
                arrival: column(&a.arrival),
                runtime: column(&a.runtime),
                res: a.res.iter().map(column).collect(),
                header: a.header,
            };
            let log = import::csv::parse(&text, &columns).with_context(|| {
                format!(
                    "{} (columns: --arrival, --runtime, --res, --header)",
                    a.common.file.display()
                )
            })?;
            let imported = import::convert("csv", log, &options(&a.common)?)
                .context("cannot import (capacity: --capacity, time unit: --seconds-per-step, windows: --window, --target-load)")?;
            (&a.common, imported)
        }
    };
    import::write(&common.out, &common.file.display().to_string(), &imported)?;
    print!("{}", summary(&imported, &common.out));
    Ok(())
}

/// The counts as text, one `name: value` per line.
fn summary(imported: &Imported, out: &std::path::Path) -> String {
    let r = &imported.report;
    let c = &r.counts;
    let d = &c.dropped;
    let mut s = String::new();
    let mut line = |k: &str, v: String| s.push_str(&format!("{k:<28} {v}\n"));
    line("format", r.format.to_string());
    line(
        "seconds_per_step",
        format!("{} ({})", r.seconds_per_step, r.seconds_per_step_from),
    );
    for (k, (cap, from)) in r.capacity.iter().zip(&r.capacity_from).enumerate() {
        let cap = cap.map_or("-".to_string(), |c| c.to_string());
        line(&format!("capacity[{k}]"), format!("{cap} ({from})"));
    }
    line("records", c.records.to_string());
    line("imported", c.imported.to_string());
    line("outside_windows", c.outside_windows.to_string());
    line("dropped", d.total().to_string());
    line("  cancelled", d.cancelled.to_string());
    line("  unknown_submit", d.unknown_submit.to_string());
    line("  unknown_runtime", d.unknown_runtime.to_string());
    line("  unknown_demand", d.unknown_demand.to_string());
    line("  too_long", d.too_long.to_string());
    line("  too_wide", d.too_wide.to_string());
    line("raised_from_0", c.raised_from_0.to_string());
    line("clipped_len", c.clipped_len.to_string());
    line("clipped_width", c.clipped_width.to_string());
    line("rounded_up", format!("{:?}", c.rounded_up));
    line(
        "unknown_demand_zeroed",
        format!("{:?}", c.unknown_demand_zeroed),
    );
    line("zero_demand", c.zero_demand.to_string());
    line("out_of_order", c.out_of_order.to_string());
    for (k, v) in &r.format_counts {
        line(k, v.to_string());
    }
    line("windows", r.windows.len().to_string());
    if !r.windows.is_empty() {
        let loads: Vec<f64> = r.windows.iter().map(|w| w.load[0]).collect();
        let mean = loads.iter().sum::<f64>() / loads.len() as f64;
        let max = loads.iter().copied().fold(0.0, f64::max);
        line("load[0] mean / max", format!("{mean:.3} / {max:.3}"));
    }
    line(
        "written",
        format!(
            "{}/window-*.json, {}/import.json",
            out.display(),
            out.display()
        ),
    );
    s
}
