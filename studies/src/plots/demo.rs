//! The figures of `whitebox demo`: mean slowdown per workload and policy with 95% intervals,
//! and the distribution (CDF) of per-job slowdowns.

use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{colour, font, text_err, write_both, Figure};

/// One policy's mean slowdown on one workload.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyMean {
    /// Policy name as shown in the legend.
    pub policy: String,
    /// Mean over job sets of the mean slowdown, if any job set was measured.
    pub mean: Option<f64>,
    /// Its 95% interval `(low, high)`, if there is one.
    pub ci95: Option<(f64, f64)>,
}

/// Every policy's mean slowdown on one workload (same policy order in every group).
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadMeans {
    /// Workload name.
    pub workload: String,
    /// Whether the learned policy was trained on this workload (marked on the axis).
    pub training: bool,
    /// One entry per policy.
    pub policies: Vec<PolicyMean>,
}

/// Writes `base.png` and `base.svg`: one group of bars per workload, one colour per policy
/// (in the order of the first group), each bar the mean slowdown with its 95% interval as an
/// error bar. Returns the paths written.
///
/// # Errors
/// When an image cannot be written.
pub fn slowdown_by_workload(
    base: &Path,
    title: &str,
    groups: &[WorkloadMeans],
) -> Result<Vec<PathBuf>> {
    write_both(base, &Bars { title, groups })
}

/// Writes `base.png` and `base.svg`: the empirical CDF of per-job slowdowns, one line per
/// `(policy, slowdowns)` pair, on a logarithmic slowdown axis (every slowdown is at least 1).
/// Returns the paths written.
///
/// # Errors
/// When an image cannot be written.
pub fn slowdown_cdf(
    base: &Path,
    title: &str,
    series: &[(String, Vec<f64>)],
) -> Result<Vec<PathBuf>> {
    let series = series
        .iter()
        .map(|(name, values)| (name.clone(), cdf_points(values, CDF_POINTS)))
        .collect();
    write_both(base, &Cdf { title, series })
}

/// At most this many points per CDF line (order statistics evenly spread over the ranks).
const CDF_POINTS: usize = 1000;

/// Points `(value, fraction of values <= value)` of the empirical CDF of the finite `values`,
/// thinned to at most `max` (always keeping the smallest and largest).
fn cdf_points(values: &[f64], max: usize) -> Vec<(f64, f64)> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 || max == 0 {
        return Vec::new();
    }
    let k = max.clamp(2, n.max(2)).min(n);
    (0..k)
        .map(|j| if k == 1 { n - 1 } else { j * (n - 1) / (k - 1) })
        .map(|i| (sorted[i], (i + 1) as f64 / n as f64))
        .collect()
}

struct Bars<'a> {
    title: &'a str,
    groups: &'a [WorkloadMeans],
}

impl Bars<'_> {
    fn policies(&self) -> Vec<String> {
        self.groups.first().map_or_else(Vec::new, |g| {
            g.policies.iter().map(|p| p.policy.clone()).collect()
        })
    }
}

impl Figure for Bars<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(text_err)?;
        let n = self.groups.len().max(1);
        let policies = self.policies();
        let k = policies.len().max(1);
        let top = self
            .groups
            .iter()
            .flat_map(|g| &g.policies)
            .filter_map(|p| p.ci95.map(|c| c.1).or(p.mean))
            .filter(|v| v.is_finite())
            .fold(1.0_f64, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, font(22))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(64)
            // Headroom above the tallest bar for the legend.
            .build_cartesian_2d(-0.5..n as f64 - 0.5, 0.0..top * 1.3)
            .map_err(text_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(BLACK.mix(0.04))
            .x_labels(0)
            .x_desc("workload")
            .y_desc("mean slowdown (95% CI over job sets)")
            .label_style(font(14))
            .axis_desc_style(font(16))
            .draw()
            .map_err(text_err)?;
        // Each group is 0.8 wide, split evenly between the policies.
        let width = 0.8 / k as f64;
        let left = |g: usize, p: usize| g as f64 - 0.4 + width * p as f64;
        for (p, name) in policies.iter().enumerate() {
            let c = colour(p);
            let bars = self.groups.iter().enumerate().filter_map(|(g, group)| {
                let mean = group.policies.get(p)?.mean?;
                let (x0, x1) = (left(g, p) + width * 0.08, left(g, p) + width * 0.92);
                Some(Rectangle::new(
                    [(x0, 0.0), (x1, mean)],
                    c.mix(0.75).filled(),
                ))
            });
            chart
                .draw_series(bars)
                .map_err(text_err)?
                .label(name.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled()));
            let whiskers = self.groups.iter().enumerate().filter_map(|(g, group)| {
                let (low, high) = group.policies.get(p)?.ci95?;
                let mid = left(g, p) + width / 2.0;
                let cap = width * 0.25;
                Some(PathElement::new(
                    [
                        (mid - cap, low),
                        (mid + cap, low),
                        (mid, low),
                        (mid, high),
                        (mid - cap, high),
                        (mid + cap, high),
                    ],
                    BLACK.stroke_width(1),
                ))
            });
            chart.draw_series(whiskers).map_err(text_err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(font(14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(text_err)?;
        // Workload names under their groups (the x axis is numeric, so no tick labels).
        let style = font(15).pos(Pos::new(HPos::Center, VPos::Top));
        for (g, group) in self.groups.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(g as f64, 0.0));
            let label = if group.training {
                format!("{} (training)", group.workload)
            } else {
                group.workload.clone()
            };
            root.draw(&Text::new(label, (x, y + 8), style.clone()))
                .map_err(text_err)?;
        }
        Ok(())
    }
}

struct Cdf<'a> {
    title: &'a str,
    series: Vec<(String, Vec<(f64, f64)>)>,
}

impl Figure for Cdf<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(text_err)?;
        let max = self
            .series
            .iter()
            .flat_map(|(_, pts)| pts.last().map(|p| p.0))
            .fold(1.0_f64, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, font(22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d((1.0..(max * 1.1).max(2.0)).log_scale().base(2.0), 0.0..1.0)
            .map_err(text_err)?;
        chart
            .configure_mesh()
            .light_line_style(BLACK.mix(0.04))
            .x_labels(12)
            .x_label_formatter(&|v| format!("{v}"))
            .x_desc("job slowdown (log scale)")
            .y_desc("fraction of jobs with slowdown ≤ x")
            .label_style(font(14))
            .axis_desc_style(font(16))
            .draw()
            .map_err(text_err)?;
        for (i, (name, pts)) in self.series.iter().enumerate() {
            let c = colour(i);
            let width = if i == 0 { 3 } else { 2 };
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(width)))
                .map_err(text_err)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], c.stroke_width(width))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(font(14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(text_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_points_are_order_statistics_with_ranks() {
        assert_eq!(
            cdf_points(&[3.0, 1.0, 2.0, f64::NAN], 10),
            vec![(1.0, 1.0 / 3.0), (2.0, 2.0 / 3.0), (3.0, 1.0)]
        );
        let many: Vec<f64> = (0..10_000).map(f64::from).collect();
        let pts = cdf_points(&many, 100);
        assert_eq!(pts.len(), 100);
        assert_eq!(pts[0], (0.0, 1e-4));
        assert_eq!(pts[99], (9999.0, 1.0));
        assert_eq!(cdf_points(&[5.0], 100), vec![(5.0, 1.0)]);
        assert!(cdf_points(&[], 100).is_empty());
    }
}
