//! Comma-separated command-line lists (`--workload`, `--rate`, `--policies`).
//!
//! Parsed here rather than by clap so each item's error says which list it came from and what
//! is allowed, and so a repeated item (which would duplicate report rows) is refused.

use anyhow::{bail, Context, Result};
use whitebox_core::workload::Workload;

/// Splits `text` on commas (spaces around items are ignored) and parses each item.
///
/// # Errors
/// When the list is empty, an item fails `parse` (the error names the `what` and the item),
/// or an item appears twice.
pub fn parse_list<T: PartialEq>(
    text: &str,
    what: &str,
    parse: impl Fn(&str) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out: Vec<T> = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            bail!("empty {what} in list `{text}`");
        }
        let value = parse(item)?;
        if out.contains(&value) {
            bail!("{what} `{item}` given more than once in `{text}`");
        }
        out.push(value);
    }
    Ok(out)
}

/// Parses one workload name.
///
/// # Errors
/// For an unknown name; the message lists the allowed names.
pub fn parse_workload(text: &str) -> Result<Workload> {
    Workload::from_name(text).with_context(|| {
        format!(
            "unknown workload `{text}`; allowed: {}",
            Workload::ALL.map(Workload::name).join(", ")
        )
    })
}

/// Parses one arrival rate: a number in `[0, 1]`, in jobs per time step.
///
/// # Errors
/// When `text` is not a number or is outside `[0, 1]`.
pub fn parse_rate(text: &str) -> Result<f64> {
    let rate: f64 = text
        .parse()
        .ok()
        .with_context(|| format!("rate `{text}` is not a number; must be in [0, 1]"))?;
    if !(0.0..=1.0).contains(&rate) {
        bail!("rate {text} is outside [0, 1] (jobs per time step)");
    }
    Ok(rate)
}

/// Parses `--workload`, e.g. `deeprm,long-jobs`.
///
/// # Errors
/// As [`parse_list`] and [`parse_workload`].
pub fn parse_workloads(text: &str) -> Result<Vec<Workload>> {
    parse_list(text, "workload", parse_workload)
}

/// Parses `--rate`, e.g. `0.3,0.5,0.7`.
///
/// # Errors
/// As [`parse_list`] and [`parse_rate`].
pub fn parse_rates(text: &str) -> Result<Vec<f64>> {
    parse_list(text, "rate", parse_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.err().map(|e| format!("{e:#}")).unwrap_or_default()
    }

    #[test]
    fn lists_parse_and_name_bad_items() {
        assert_eq!(parse_rates("0.3, 0.5,0.7").ok(), Some(vec![0.3, 0.5, 0.7]));
        assert_eq!(
            parse_workloads("deeprm,bursty").ok(),
            Some(vec![Workload::DeepRm, Workload::Bursty])
        );
        let e = err(parse_workloads("deeprm,huge"));
        assert!(
            e.contains("`huge`") && e.contains("deeprm, long-jobs"),
            "{e}"
        );
        let e = err(parse_rates("0.3,1.5"));
        assert!(e.contains("1.5") && e.contains("[0, 1]"), "{e}");
        let e = err(parse_rates("0.3,x"));
        assert!(e.contains("`x`") && e.contains("not a number"), "{e}");
        assert!(err(parse_rates("NaN")).contains("[0, 1]"));
        assert!(err(parse_rates("0.3,,0.5")).contains("empty rate"));
        assert!(err(parse_rates("0.5,0.5")).contains("more than once"));
    }
}
