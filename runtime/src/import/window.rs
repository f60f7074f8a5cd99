//! From records to job files: time unit, capacity scaling, treatment of each oddity, windows
//! and the target load. Each rule is described in `docs/import.md`.

use anyhow::{bail, Context, Result};
use whitebox_core::spec::{MAX_JOB_LEN, NUM_RES, RES_UNITS};

use super::{Counts, Imported, Log, Options, Report, TooBig, WindowCounts, WindowReport};
use crate::jobfile::{self, RawJob};
use crate::settings::TIME_CAP;

/// The share of known run times the default time unit fits into the horizon.
pub const FIT_SHARE: f64 = 0.95;

/// The default seconds per step: the smallest whole number of seconds `u >= 1` with
/// `20 * u >= p`, where `p` is the 95th percentile (nearest rank) of the positive known run
/// times, so at least 95% of jobs fit the horizon of 20 steps. 1 when no run time is positive.
pub fn default_seconds_per_step(runs: &[f64]) -> f64 {
    let mut positive: Vec<f64> = runs.iter().copied().filter(|&r| r > 0.0).collect();
    if positive.is_empty() {
        return 1.0;
    }
    positive.sort_by(f64::total_cmp);
    let rank = (FIT_SHARE * positive.len() as f64).ceil() as usize;
    let p = positive[rank.clamp(1, positive.len()) - 1];
    (p / f64::from(MAX_JOB_LEN)).ceil().max(1.0)
}

/// A kept job: its log line, submit time (s), length (steps) and demand (units).
struct Kept {
    line: usize,
    submit: f64,
    len: u32,
    res: [u32; NUM_RES],
    /// What was done to it.
    treated: WindowCounts,
}

/// Converts a parsed log into windows of jobs, with every count.
///
/// # Errors
/// A non-positive or non-finite time unit, capacity or target load, a window size or sampling
/// of 0, no capacity for resource 0, or a window whose jobs fail the job-file checks (the
/// message names the window and its log lines).
pub fn convert(format: &'static str, log: Log, options: &Options) -> Result<Imported> {
    let mut counts = Counts {
        records: log.records.len(),
        ..Counts::default()
    };
    let (mut capacity, mut capacity_from) = ([None; NUM_RES], [String::new(), String::new()]);
    for k in 0..NUM_RES {
        (capacity[k], capacity_from[k]) = match (options.capacity[k], &log.capacity[k]) {
            (Some(c), _) => (Some(c), "given".to_string()),
            (None, Some((c, from))) => (Some(*c), from.clone()),
            (None, None) => (None, "unknown: resource not imported, demand 0".to_string()),
        };
        if let Some(c) = capacity[k] {
            if !(c.is_finite() && c > 0.0) {
                bail!("capacity of resource {k} = {c}, must be a positive number");
            }
        }
    }
    if capacity[0].is_none() {
        bail!("no capacity for resource 0 (processors): the log states none (SWF header MaxProcs or MaxNodes); give one");
    }
    let w = options.windows;
    if w.size == 0 || w.every == 0 {
        bail!(
            "window size = {}, sampling = {}: both must be at least 1",
            w.size,
            w.every
        );
    }
    if let Some(l) = options.target_load {
        if !(l.is_finite() && l > 0.0) {
            bail!("target load = {l}, must be a positive number");
        }
    }

    // Records left after the drops that do not depend on the time unit.
    let mut records = Vec::with_capacity(log.records.len());
    for r in log.records {
        let d = &mut counts.dropped;
        if r.cancelled {
            d.cancelled += 1;
        } else if r.submit < 0.0 {
            d.unknown_submit += 1;
        } else if r.run < 0.0 {
            d.unknown_runtime += 1;
        } else if (0..NUM_RES)
            .filter(|&k| capacity[k].is_some())
            .all(|k| r.res[k] < 0.0)
        {
            d.unknown_demand += 1;
        } else {
            records.push(r);
        }
    }
    let (unit, unit_from) = match options.seconds_per_step {
        Some(u) if u.is_finite() && u > 0.0 => (u, "given".to_string()),
        Some(u) => bail!("seconds per step = {u}, must be a positive number"),
        None => {
            let runs: Vec<f64> = records.iter().map(|r| r.run).collect();
            (
                default_seconds_per_step(&runs),
                format!("default: 95th percentile of run times / {MAX_JOB_LEN}, rounded up"),
            )
        }
    };

    let mut kept = Vec::with_capacity(records.len());
    let mut latest = f64::NEG_INFINITY;
    for r in records {
        let mut len = (r.run / unit).ceil();
        if r.run == 0.0 {
            counts.raised_from_0 += 1;
            len = 1.0;
        }
        let too_long = len > f64::from(MAX_JOB_LEN);
        let mut res = [0u32; NUM_RES];
        let mut too_wide = false;
        let mut rounded = [false; NUM_RES];
        let mut zeroed = [false; NUM_RES];
        for k in 0..NUM_RES {
            let Some(c) = capacity[k] else { continue };
            if r.res[k] < 0.0 {
                zeroed[k] = true;
                continue;
            }
            // Within 1e-9 of a whole unit counts as whole, so that `c * 10 / c` is not
            // rounded up by a floating-point error.
            let exact = r.res[k] * f64::from(RES_UNITS) / c;
            let whole = (exact - exact.round()).abs() < 1e-9;
            rounded[k] = !whole;
            let units = if whole { exact.round() } else { exact.ceil() };
            too_wide |= units > f64::from(RES_UNITS);
            res[k] = units.min(f64::from(RES_UNITS)) as u32;
        }
        if options.too_big == TooBig::Drop && too_long {
            counts.dropped.too_long += 1;
            continue;
        }
        if options.too_big == TooBig::Drop && too_wide {
            counts.dropped.too_wide += 1;
            continue;
        }
        counts.clipped_len += usize::from(too_long);
        counts.clipped_width += usize::from(too_wide);
        for k in 0..NUM_RES {
            counts.rounded_up[k] += usize::from(rounded[k]);
            counts.unknown_demand_zeroed[k] += usize::from(zeroed[k]);
        }
        let zero_demand = res.iter().all(|&x| x == 0);
        counts.zero_demand += usize::from(zero_demand);
        if r.submit < latest {
            counts.out_of_order += 1;
        }
        latest = latest.max(r.submit);
        kept.push(Kept {
            line: r.line,
            submit: r.submit,
            len: len.min(f64::from(MAX_JOB_LEN)) as u32,
            res,
            treated: WindowCounts {
                raised_from_0: usize::from(r.run == 0.0),
                clipped_len: usize::from(too_long),
                clipped_width: usize::from(too_wide),
                rounded_up: rounded.map(usize::from),
                zero_demand: usize::from(zero_demand),
            },
        });
    }
    // Stable: jobs submitted at the same second keep their log order.
    kept.sort_by(|a, b| a.submit.total_cmp(&b.submit));

    let mut windows = Vec::new();
    let mut reports = Vec::new();
    let mut first = w.start;
    while first + w.size <= kept.len() && w.count.is_none_or(|c| windows.len() < c) {
        let jobs = &kept[first..first + w.size];
        let index = windows.len();
        let (raw, report) = window(jobs, unit, options.target_load, index)?;
        windows.push(raw);
        reports.push(report);
        first += w.size * w.every;
    }
    counts.imported = windows.iter().map(Vec::len).sum();
    counts.outside_windows = kept.len() - counts.imported;
    Ok(Imported {
        report: Report {
            format,
            seconds_per_step: unit,
            seconds_per_step_from: unit_from,
            capacity,
            capacity_from,
            options: options.clone(),
            counts,
            format_counts: log.format_counts,
            windows: reports,
        },
        windows,
    })
}

/// One window: arrivals in steps from its first job, rescaled to the target load, checked as a
/// job file.
fn window(
    jobs: &[Kept],
    unit: f64,
    target_load: Option<f64>,
    index: usize,
) -> Result<(Vec<RawJob>, WindowReport)> {
    let t0 = jobs.first().map_or(0.0, |j| j.submit);
    let work: Vec<f64> = (0..NUM_RES)
        .map(|k| jobs.iter().map(|j| f64::from(j.len * j.res[k])).sum())
        .collect();
    let span = jobs.last().map_or(0.0, |j| (j.submit - t0) / unit).max(1.0);
    let scale = match target_load {
        Some(target) => {
            let load = work.iter().copied().fold(0.0, f64::max) / (f64::from(RES_UNITS) * span);
            load / target
        }
        None => 1.0,
    };
    let raw: Vec<RawJob> = jobs
        .iter()
        .map(|j| RawJob {
            arrival: ((j.submit - t0) / unit * scale).floor() as i64,
            len: i64::from(j.len),
            res: j.res.iter().map(|&x| i64::from(x)).collect(),
        })
        .collect();
    let lines = (
        jobs.first().map_or(0, |j| j.line),
        jobs.last().map_or(0, |j| j.line),
    );
    let checked = jobfile::from_raw(&raw)
        .and_then(|jobs| jobfile::check_time_cap(&jobs, TIME_CAP).map(|()| jobs))
        .with_context(|| {
            format!(
                "window {index} (log lines {} to {}): with {unit} s per step and arrival \
                 scale {scale}; use a longer time unit, smaller windows or a target load",
                lines.0, lines.1
            )
        })?;
    let last_arrival = checked.last().map_or(0, |j| j.arrival);
    let mut counts = WindowCounts::default();
    for j in jobs {
        counts.add(&j.treated);
    }
    let load =
        std::array::from_fn(|k| work[k] / (f64::from(RES_UNITS) * f64::from(last_arrival.max(1))));
    Ok((
        raw,
        WindowReport {
            file: format!("window-{index:04}.json"),
            lines,
            jobs: jobs.len(),
            last_arrival,
            arrival_scale: scale,
            load,
            counts,
        },
    ))
}
