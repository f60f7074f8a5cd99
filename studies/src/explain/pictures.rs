//! The pictures of `whitebox explain --out DIR` (each as PNG and SVG):
//!
//! * `group_shares`: the mean share of |Shapley value| per feature group, one bar per group,
//!   coloured by what the group describes;
//! * `ig_heatmap` (image-encoded models only): the mean |integrated gradient| of every pixel of
//!   DeepRM's `20 x W` image, laid out like the image, with its regions labelled;
//! * `hidden_correlations` (when aggregating over decisions): the Pearson correlation of every
//!   hidden unit with every interpretable feature.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use whitebox_core::image::{
    backlog_column, cluster_column, image_width, since_new_column, slot_column, BACKLOG_WIDTH,
};
use whitebox_core::spec::{HORIZON, MAX_JOB_SIZE, NUM_RES, RES_UNITS};

use super::groups::Category;
use super::ExplainReport;
use crate::plots::{self, Heatmap, Region, ShareBar};

/// Colour index of each category in the bar chart.
fn category_colour(c: Category) -> usize {
    match c {
        Category::Occupancy => 1,
        Category::JobSlot => 2,
        Category::Backlog => 3,
        Category::SinceLastJob => 4,
    }
}

/// Writes the per-group |Shapley| share chart to `base.{png,svg}`.
///
/// # Errors
/// When an image cannot be written.
pub fn group_shares(r: &ExplainReport, base: &Path, title: &str) -> Result<Vec<PathBuf>> {
    let bars: Vec<ShareBar> = r
        .groups
        .iter()
        .zip(&r.mean_group_share)
        .map(|(g, s)| ShareBar {
            label: g.name.clone(),
            share: *s,
            colour: category_colour(g.category),
        })
        .collect();
    let pct = |v: f64| format!("{:.1}%", 100.0 * v);
    let legend = vec![
        (
            format!("cluster occupancy {}", pct(r.shares.occupancy)),
            category_colour(Category::Occupancy),
        ),
        (
            format!("job slots {}", pct(r.shares.job_slots)),
            category_colour(Category::JobSlot),
        ),
        (
            format!("backlog {}", pct(r.shares.backlog)),
            category_colour(Category::Backlog),
        ),
        (
            format!("time since last job {}", pct(r.shares.since_last_job)),
            category_colour(Category::SinceLastJob),
        ),
    ];
    plots::share_bars(
        base,
        title,
        "share of |Shapley value| of the chosen action's logit (%, mean over decisions)",
        &bars,
        &legend,
    )
}

/// The mean |IG| heatmap of an image-encoded model, laid out like DeepRM's image.
fn ig_heatmap(r: &ExplainReport) -> Heatmap {
    let m = r.slots;
    let w = image_width(m);
    let values = (0..HORIZON)
        .map(|t| {
            (0..w)
                .map(|c| r.mean_abs_ig.get(t * w + c).copied())
                .collect()
        })
        .collect();
    let mut regions = Vec::new();
    let mut dividers = Vec::new();
    for res in 0..NUM_RES {
        let c = cluster_column(m, res);
        regions.push(Region {
            label: format!("cluster res{res}"),
            columns: c..c + usize::from(RES_UNITS),
        });
        let s = slot_column(m, res, 0);
        regions.push(Region {
            label: format!("job slots 0-{} res{res}", m - 1),
            columns: s..s + MAX_JOB_SIZE * m,
        });
        dividers.extend((1..m).map(|j| slot_column(m, res, j)));
    }
    let b = backlog_column(m);
    regions.push(Region {
        label: "backlog".into(),
        columns: b..b + BACKLOG_WIDTH,
    });
    let s = since_new_column(m);
    regions.push(Region {
        label: "since".into(),
        columns: s..s + 1,
    });
    Heatmap {
        title: format!(
            "mean |integrated gradient| per pixel, {} decisions ({m} slots)",
            r.decisions.len()
        ),
        values,
        row_labels: (0..HORIZON)
            .map(|t| {
                if t % 5 == 0 {
                    format!("t+{t}")
                } else {
                    String::new()
                }
            })
            .collect(),
        col_labels: Vec::new(),
        row_desc: "horizon row (t+0 = now)".into(),
        col_desc: "image column".into(),
        regions,
        dividers,
        diverging: false,
        annotate: false,
        scale_desc: "mean |IG| of the chosen action's logit".into(),
    }
}

/// The units x features correlation heatmap (features as rows, units as columns).
fn correlation_heatmap(r: &ExplainReport, h: &super::hidden::HiddenReport) -> Heatmap {
    let values = (0..h.features.len())
        .map(|k| {
            h.units
                .iter()
                .map(|u| u.correlations.get(k).copied().flatten())
                .collect()
        })
        .collect();
    Heatmap {
        title: format!(
            "hidden units vs cluster features: Pearson r over {} decisions",
            r.decisions.len()
        ),
        values,
        row_labels: h.features.clone(),
        col_labels: h.units.iter().map(|u| format!("h{}", u.unit)).collect(),
        row_desc: "feature (from the cluster state)".into(),
        col_desc: "hidden unit (grey: never active, or feature constant)".into(),
        regions: Vec::new(),
        dividers: Vec::new(),
        diverging: true,
        annotate: true,
        scale_desc: "Pearson r".into(),
    }
}

/// Writes every picture that applies to `r` into `dir` (created if needed); returns the paths.
///
/// # Errors
/// When the directory or an image cannot be written.
pub fn write(r: &ExplainReport, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let mut out = group_shares(
        r,
        &dir.join("group_shares"),
        &format!(
            "where the decision rests: |Shapley| share per group, {} decision(s), {} encoding",
            r.decisions.len(),
            r.encoding
        ),
    )?;
    if r.encoding == "image" && r.mean_abs_ig.len() == HORIZON * image_width(r.slots) {
        out.extend(plots::heatmap(&dir.join("ig_heatmap"), &ig_heatmap(r))?);
    }
    if let Some(h) = &r.hidden {
        out.extend(plots::heatmap(
            &dir.join("hidden_correlations"),
            &correlation_heatmap(r, h),
        )?);
    }
    Ok(out)
}
