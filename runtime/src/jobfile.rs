//! Job files: JSON with a top-level `jobs` array of `{arrival, len, res: [..]}`.
//!
//! Other keys are ignored, so DeepRM reference case files (`fixtures/reference/deeprm/cases/`)
//! are valid inputs. Every field is checked before anything is simulated; an error names the job
//! index, the field, the value and the limit.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use whitebox_core::episode::validate_jobs;
use whitebox_core::spec::NUM_RES;
use whitebox_core::Job;

use crate::settings::TIME_CAP;

/// One job as written in a file. Wide signed integers so that negative or huge values are
/// reported as such instead of failing to parse.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RawJob {
    /// Arrival time step.
    pub arrival: i64,
    /// Duration, in time steps.
    pub len: i64,
    /// Demand per resource, in units.
    pub res: Vec<i64>,
}

#[derive(Deserialize)]
struct RawFile {
    jobs: Vec<RawJob>,
}

/// Reads and validates a job file.
///
/// # Errors
/// When the file cannot be read, is not JSON with a `jobs` array, or a job is invalid (the
/// message names the job index, field, value and limit).
pub fn load(path: &Path) -> Result<Vec<Job>> {
    let text = crate::shipped::read_to_string(path)
        .with_context(|| format!("cannot read job file {}", path.display()))?;
    parse(&text).with_context(|| format!("invalid job file {}", path.display()))
}

/// Parses and validates job-file text. See [`load`].
///
/// # Errors
/// As [`load`].
pub fn parse(text: &str) -> Result<Vec<Job>> {
    let raw: RawFile = serde_json::from_str(text).context("malformed JSON job file")?;
    let jobs = from_raw(&raw.jobs)?;
    check_time_cap(&jobs, TIME_CAP)?;
    Ok(jobs)
}

/// Refuses a job that arrives at or after `time_cap`: an episode that ends at the cap would
/// never see it (and a log's raw Unix-second submit times would end the run with no job
/// arrived). Job files are checked against the default cap [`TIME_CAP`].
///
/// # Errors
/// The first such job, with its index, its arrival and the cap, and how to convert a log.
pub fn check_time_cap(jobs: &[Job], time_cap: u32) -> Result<()> {
    if let Some((index, job)) = jobs.iter().enumerate().find(|(_, j)| j.arrival >= time_cap) {
        bail!(
            "job {index}: field `arrival` = {} is at or beyond the time cap {time_cap}, so the \
             run would end before it arrives; arrivals are time steps counted from the start \
             (convert a workload log's submit times with `whitebox import`)",
            job.arrival
        );
    }
    Ok(())
}

/// `value` as a `u32`; a negative or too large value is refused with the field's own valid
/// range `lo..=hi` (the core checks values that fit in a `u32` against the same limits).
fn field_u32(index: usize, field: &str, value: i64, lo: u32, hi: u32) -> Result<u32> {
    u32::try_from(value).map_err(|_| {
        anyhow::anyhow!("job {index}: field `{field}` = {value}, must be in {lo}..={hi}")
    })
}

/// Converts raw jobs (ids = positions) and validates the whole sequence.
///
/// # Errors
/// As [`load`].
pub fn from_raw(raw: &[RawJob]) -> Result<Vec<Job>> {
    let mut jobs = Vec::with_capacity(raw.len());
    for (index, r) in raw.iter().enumerate() {
        if r.res.len() != NUM_RES {
            bail!(
                "job {index}: field `res` has {} entries, the cluster has {NUM_RES} resources",
                r.res.len()
            );
        }
        let mut res = [0u32; NUM_RES];
        for (k, (dst, &v)) in res.iter_mut().zip(r.res.iter()).enumerate() {
            let units = u32::from(whitebox_core::spec::RES_UNITS);
            *dst = field_u32(index, &format!("res[{k}]"), v, 0, units)?;
        }
        let id = u32::try_from(index).context("too many jobs")?;
        let job = Job::new(
            id,
            field_u32(index, "arrival", r.arrival, 0, u32::MAX)?,
            field_u32(
                index,
                "len",
                r.len,
                1,
                u32::from(whitebox_core::spec::MAX_JOB_LEN),
            )?,
            res,
        )
        .with_context(|| format!("job {index}"))?;
        jobs.push(job);
    }
    validate_jobs(&jobs)?;
    Ok(jobs)
}

/// The raw form of jobs, for writing job files.
pub fn to_raw(jobs: &[Job]) -> Vec<RawJob> {
    jobs.iter()
        .map(|j| RawJob {
            arrival: i64::from(j.arrival),
            len: i64::from(j.len),
            res: j.res.iter().map(|&r| i64::from(r)).collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        // The whole context chain, as the CLI prints it.
        parse(text)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default()
    }

    #[test]
    fn each_bad_field_is_named_with_index_value_and_limit() {
        let ok = r#"{"jobs":[{"arrival":1,"len":2,"res":[3,4]}], "other": 1}"#;
        assert_eq!(parse(ok).map(|j| j.len()).ok(), Some(1));
        let e = err(
            r#"{"jobs":[{"arrival":1,"len":2,"res":[3,4]},{"arrival":2,"len":0,"res":[1,1]}]}"#,
        );
        assert!(e.contains("job 1") && e.contains("`len` = 0"), "{e}");
        let e = err(r#"{"jobs":[{"arrival":1,"len":21,"res":[3,4]}]}"#);
        assert!(
            e.contains("job 0") && e.contains("21") && e.contains("20"),
            "{e}"
        );
        let e = err(r#"{"jobs":[{"arrival":1,"len":2,"res":[3,11]}]}"#);
        assert!(
            e.contains("res[1]") && e.contains("11") && e.contains("10 units"),
            "{e}"
        );
        let e = err(r#"{"jobs":[{"arrival":1,"len":2,"res":[3]}]}"#);
        assert!(e.contains("1 entries") && e.contains("2 resources"), "{e}");
        let e = err(
            r#"{"jobs":[{"arrival":5,"len":2,"res":[3,4]},{"arrival":4,"len":2,"res":[3,4]}]}"#,
        );
        assert!(
            e.contains("job 1") && e.contains("`arrival` = 4") && e.contains("5"),
            "{e}"
        );
        let e = err(r#"{"jobs":[{"arrival":-1,"len":2,"res":[3,4]}]}"#);
        assert!(e.contains("`arrival` = -1"), "{e}");
        // Values that do not fit a u32 name the field's own limits, not u32's.
        let e = err(r#"{"jobs":[{"arrival":1,"len":-2,"res":[3,4]}]}"#);
        assert!(e.contains("`len` = -2, must be in 1..=20"), "{e}");
        let e = err(r#"{"jobs":[{"arrival":1,"len":2,"res":[3,-1]}]}"#);
        assert!(e.contains("`res[1]` = -1, must be in 0..=10"), "{e}");
        let e = err(
            r#"{"jobs":[{"arrival":0,"len":2,"res":[3,4]},{"arrival":1700000000,"len":2,"res":[3,4]}]}"#,
        );
        assert!(
            e.contains("job 1")
                && e.contains("`arrival` = 1700000000")
                && e.contains("time cap 10000")
                && e.contains("whitebox import"),
            "{e}"
        );
        assert!(err(r#"{"jobs":[{"arrival":9999,"len":2,"res":[3,4]}]}"#).is_empty());
        let e = err(r#"{"jobs": [ }"#);
        assert!(e.contains("malformed JSON"), "{e}");
    }
}
