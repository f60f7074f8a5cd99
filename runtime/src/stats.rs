//! Means and Student-t 95% confidence intervals over job sets.
//!
//! Job sets are independent draws, so the t interval on their per-set means is the honest
//! uncertainty of a policy's mean. Sums run in input order so results do not depend on how the
//! values were computed (e.g. on the number of threads).

use serde::ser::{SerializeStruct, Serializer};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// A sample mean with its two-sided 95% confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanCi {
    /// Number of values.
    pub n: usize,
    /// Sample mean.
    pub mean: f64,
    /// `(low, high)` of the Student-t 95% interval, or `None` when `n < 2` (one value gives
    /// no estimate of the spread, so no interval is claimed).
    pub ci95: Option<(f64, f64)>,
}

/// The keys a [`MeanCi`] is written under as flat fields of a report, in this order: the count
/// (left out when `n` is `None`), the mean, the low and the high end of the 95% interval.
///
/// A report keeps one `Option<MeanCi>` field and writes it with
/// `#[serde(flatten, serialize_with = ...)]` through [`FlatKeys::serialize`], so its JSON has
/// the same keys, in the same order, as separate `n`/mean/low/high fields would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlatKeys {
    /// Key of the count `n` (0 for `None`), if it is written.
    pub n: Option<&'static str>,
    /// Key of the mean (`null` for `None`).
    pub mean: &'static str,
    /// Key of the interval's low end (`null` without an interval).
    pub low: &'static str,
    /// Key of the interval's high end (`null` without an interval).
    pub high: &'static str,
}

impl FlatKeys {
    /// Writes `ci` as the fields named by `self`.
    ///
    /// # Errors
    /// As the serializer.
    pub fn serialize<S: Serializer>(self, ci: &Option<MeanCi>, s: S) -> Result<S::Ok, S::Error> {
        let ends = ci.and_then(|c| c.ci95);
        let mut out = s.serialize_struct("MeanCi", 3 + usize::from(self.n.is_some()))?;
        if let Some(key) = self.n {
            out.serialize_field(key, &ci.map_or(0, |c| c.n))?;
        }
        out.serialize_field(self.mean, &ci.map(|c| c.mean))?;
        out.serialize_field(self.low, &ends.map(|e| e.0))?;
        out.serialize_field(self.high, &ends.map(|e| e.1))?;
        out.end()
    }
}

/// The `p` quantile of Student's t with `df` degrees of freedom, or `None` when `df` is 0.
pub fn t_quantile(p: f64, df: usize) -> Option<f64> {
    let dist = StudentsT::new(0.0, 1.0, df as f64).ok()?;
    Some(dist.inverse_cdf(p))
}

/// Mean of `values` and its 95% interval `mean ± t(0.975, n-1) * s / sqrt(n)` with `s` the
/// sample standard deviation (divisor `n - 1`). `None` for an empty slice.
pub fn mean_ci95(values: &[f64]) -> Option<MeanCi> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let mean = values.iter().sum::<f64>() / nf;
    let ci95 = (n >= 2)
        .then(|| {
            let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            let half = t_quantile(0.975, n - 1)? * (ss / (nf - 1.0)).sqrt() / nf.sqrt();
            Some((mean - half, mean + half))
        })
        .flatten();
    Some(MeanCi { n, mean, ci95 })
}

/// What the 95% interval of a paired difference `a - b` of mean slowdowns says about `a`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PairedVerdict {
    /// The interval lies below 0: `a`'s slowdown is lower.
    Better,
    /// The interval lies above 0.
    Worse,
    /// The interval contains 0.
    Tie,
    /// No interval (fewer than two pairs).
    Undetermined,
}

impl PairedVerdict {
    /// The verdict of an interval `(low, high)`.
    pub fn of(ci95: Option<(f64, f64)>) -> PairedVerdict {
        match ci95 {
            Some((_, high)) if high < 0.0 => PairedVerdict::Better,
            Some((low, _)) if low > 0.0 => PairedVerdict::Worse,
            Some(_) => PairedVerdict::Tie,
            None => PairedVerdict::Undetermined,
        }
    }

    /// `better`, `worse`, `tie` or `-`.
    pub fn name(self) -> &'static str {
        match self {
            PairedVerdict::Better => "better",
            PairedVerdict::Worse => "worse",
            PairedVerdict::Tie => "tie",
            PairedVerdict::Undetermined => "-",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantile_matches_tables() {
        // Standard t tables: t(0.975, 4) = 2.776445, t(0.975, 1) = 12.706205.
        let t4 = t_quantile(0.975, 4).unwrap_or(f64::NAN);
        assert!((t4 - 2.776_445).abs() < 1e-6, "{t4}");
        let t1 = t_quantile(0.975, 1).unwrap_or(f64::NAN);
        assert!((t1 - 12.706_205).abs() < 1e-5, "{t1}");
        assert_eq!(t_quantile(0.975, 0), None);
    }

    #[test]
    fn interval_of_one_to_five_by_hand() {
        // mean 3, s = sqrt(2.5), half-width = 2.776445 * sqrt(2.5) / sqrt(5) = 1.963243.
        let ci = mean_ci95(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let Some(MeanCi {
            n: 5,
            mean,
            ci95: Some((low, high)),
        }) = ci
        else {
            panic!("unexpected {ci:?}")
        };
        assert_eq!(mean, 3.0);
        assert!((high - 3.0 - 1.963_243).abs() < 1e-5, "{high}");
        assert!((3.0 - low - 1.963_243).abs() < 1e-5, "{low}");
    }

    #[derive(serde::Serialize)]
    struct Row {
        name: &'static str,
        #[serde(flatten, serialize_with = "keys")]
        ci: Option<MeanCi>,
        after: u8,
    }

    fn keys<S: Serializer>(ci: &Option<MeanCi>, s: S) -> Result<S::Ok, S::Error> {
        FlatKeys {
            n: Some("pairs"),
            mean: "mean",
            low: "lo",
            high: "hi",
        }
        .serialize(ci, s)
    }

    #[test]
    fn flat_keys_write_the_fields_in_place() {
        let json = |ci| {
            serde_json::to_string(&Row {
                name: "a",
                ci,
                after: 7,
            })
            .unwrap_or_default()
        };
        assert_eq!(
            json(mean_ci95(&[2.0, 2.0])),
            r#"{"name":"a","pairs":2,"mean":2.0,"lo":2.0,"hi":2.0,"after":7}"#
        );
        assert_eq!(
            json(mean_ci95(&[2.5])),
            r#"{"name":"a","pairs":1,"mean":2.5,"lo":null,"hi":null,"after":7}"#
        );
        assert_eq!(
            json(None),
            r#"{"name":"a","pairs":0,"mean":null,"lo":null,"hi":null,"after":7}"#
        );
    }

    #[test]
    fn small_samples() {
        assert_eq!(mean_ci95(&[]), None);
        assert_eq!(
            mean_ci95(&[2.5]),
            Some(MeanCi {
                n: 1,
                mean: 2.5,
                ci95: None
            })
        );
        // No spread: a zero-width interval.
        assert_eq!(
            mean_ci95(&[2.0, 2.0]).and_then(|c| c.ci95),
            Some((2.0, 2.0))
        );
    }

    #[test]
    fn verdicts_follow_the_interval() {
        assert_eq!(PairedVerdict::of(Some((-2.0, -0.1))), PairedVerdict::Better);
        assert_eq!(PairedVerdict::of(Some((-2.0, 0.1))), PairedVerdict::Tie);
        assert_eq!(PairedVerdict::of(Some((0.1, 2.0))), PairedVerdict::Worse);
        assert_eq!(PairedVerdict::of(None).name(), "-");
    }
}
