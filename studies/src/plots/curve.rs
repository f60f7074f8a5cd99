//! The learning curve of `whitebox train`: `MODEL.curve.csv` read and plotted.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{colour, font, padded, text_err, write_both, Figure};

/// One line of a learning-curve CSV. Empty cells are `None`: validation runs only every few
/// iterations, and iteration 0 (before any update) has no rollout statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct CurveRow {
    /// Policy-gradient iterations done.
    pub iteration: u32,
    /// Validation mean slowdown of the greedy learned policy.
    pub val_mean_slowdown: Option<f64>,
    /// SJF's mean slowdown on the same validation job sets.
    pub sjf_val_mean_slowdown: Option<f64>,
    /// Mean policy entropy over the iteration's decisions, in nats.
    pub entropy: Option<f64>,
    /// Mean slowdown of the iteration's sampled training rollouts.
    pub train_mean_slowdown: Option<f64>,
}

/// The columns read; others (`mean_return`, `seconds`, any added later) are ignored.
const COLUMNS: [&str; 5] = [
    "iteration",
    "val_mean_slowdown",
    "sjf_val_mean_slowdown",
    "entropy",
    "train_mean_slowdown",
];

/// Parses a learning-curve CSV (`iteration,val_mean_slowdown,sjf_val_mean_slowdown,entropy,
/// mean_return,train_mean_slowdown,seconds`, columns found by name); `path` only names the
/// file in errors.
///
/// # Errors
/// `PATH:LINE: ...` for a header without a needed column, a line with the wrong number of
/// fields, an iteration that is not a whole number, or a cell that is neither empty nor a
/// finite number; `PATH: ...` when there are no data lines.
pub fn parse_curve(text: &str, path: &Path) -> Result<Vec<CurveRow>> {
    let file = path.display();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end()));
    let Some((_, header)) = lines.next() else {
        bail!("{file}: empty file, expected a header line");
    };
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let mut index = [0usize; COLUMNS.len()];
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        *slot = names
            .iter()
            .position(|n| *n == column)
            .with_context(|| format!("{file}:1: header has no column `{column}`: {header}"))?;
    }
    let mut rows = Vec::new();
    for (line, text) in lines.filter(|(_, l)| !l.is_empty()) {
        let cells: Vec<&str> = text.split(',').map(str::trim).collect();
        if cells.len() != names.len() {
            bail!(
                "{file}:{line}: {} fields, the header has {}",
                cells.len(),
                names.len()
            );
        }
        let cell = |c: usize| -> Result<Option<f64>> {
            let value = cells[index[c]];
            if value.is_empty() {
                return Ok(None);
            }
            match value.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Some(v)),
                _ => bail!(
                    "{file}:{line}: `{}` = `{value}` is not a finite number",
                    COLUMNS[c]
                ),
            }
        };
        let raw = cells[index[0]];
        let iteration = raw.parse::<u32>().with_context(|| {
            format!("{file}:{line}: `iteration` = `{raw}` is not a whole number")
        })?;
        rows.push(CurveRow {
            iteration,
            val_mean_slowdown: cell(1)?,
            sjf_val_mean_slowdown: cell(2)?,
            entropy: cell(3)?,
            train_mean_slowdown: cell(4)?,
        });
    }
    if rows.is_empty() {
        bail!("{file}: no data lines after the header");
    }
    Ok(rows)
}

/// Reads and parses a learning-curve CSV.
///
/// # Errors
/// When the file cannot be read, and as [`parse_curve`].
pub fn read_curve(csv: &Path) -> Result<Vec<CurveRow>> {
    let text = std::fs::read_to_string(csv)
        .with_context(|| format!("cannot read learning curve {}", csv.display()))?;
    parse_curve(&text, csv)
}

/// Plots a learning-curve CSV next to it (`x.model.curve.csv` gives `x.model.curve.png` and
/// `.svg`): validation mean slowdown per iteration with SJF's as a dashed reference line and
/// the training rollouts' mean slowdown faintly, and the policy entropy (nats) below. Returns
/// the paths written.
///
/// # Errors
/// As [`read_curve`], and when an image cannot be written.
pub fn learning_curve(csv: &Path) -> Result<Vec<PathBuf>> {
    let rows = read_curve(csv)?;
    let name = csv.file_name().map_or_else(
        || csv.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    write_both(
        &csv.with_extension(""),
        &CurveFigure {
            rows,
            title: format!("learning curve ({name})"),
        },
    )
}

/// Most validation points drawn with a marker each.
const MAX_MARKERS: usize = 100;

struct CurveFigure {
    rows: Vec<CurveRow>,
    title: String,
}

impl CurveFigure {
    fn series(&self, f: impl Fn(&CurveRow) -> Option<f64>) -> Vec<(u32, f64)> {
        self.rows
            .iter()
            .filter_map(|r| f(r).map(|v| (r.iteration, v)))
            .collect()
    }

    /// Iterations on the x axis (integers, so ticks are whole iterations).
    fn x_range(&self) -> std::ops::Range<u32> {
        let last = self.rows.iter().map(|r| r.iteration).max().unwrap_or(0);
        0..last.max(1)
    }

    fn slowdown_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let val = self.series(|r| r.val_mean_slowdown);
        let train = self.series(|r| r.train_mean_slowdown);
        // SJF's validation score is one number per run; the last one given is drawn.
        let sjf = self.rows.iter().rev().find_map(|r| r.sjf_val_mean_slowdown);
        let y = padded(val.iter().chain(&train).map(|p| p.1).chain(sjf));
        // Headroom above the data for the legend.
        let y = y.start..y.end + (y.end - y.start) * 0.4;
        let x = self.x_range();
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, font(22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(x.clone(), y)
            .map_err(text_err)?;
        chart
            .configure_mesh()
            .light_line_style(BLACK.mix(0.04))
            .x_desc("iteration")
            .y_desc("mean slowdown")
            .label_style(font(14))
            .axis_desc_style(font(16))
            .draw()
            .map_err(text_err)?;
        let (learned, rollouts, rule) = (colour(0), colour(1).mix(0.35), colour(1));
        chart
            .draw_series(LineSeries::new(train, rollouts.stroke_width(1)))
            .map_err(text_err)?
            .label("training rollouts (sampled actions)")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], rollouts));
        if let Some(s) = sjf {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x.start, s), (x.end, s)],
                    8,
                    5,
                    rule.stroke_width(2),
                ))
                .map_err(text_err)?
                .label(format!("SJF on validation ({s:.3})"))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], rule.stroke_width(2))
                });
        }
        chart
            .draw_series(LineSeries::new(
                val.iter().copied(),
                learned.stroke_width(2),
            ))
            .map_err(text_err)?
            .label("learned policy on validation (greedy)")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], learned.stroke_width(2)));
        // Markers only while they stay apart; a long run's line speaks for itself.
        if val.len() <= MAX_MARKERS {
            chart
                .draw_series(val.iter().map(|&p| Circle::new(p, 3, learned.filled())))
                .map_err(text_err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(font(14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(text_err)
    }

    fn entropy_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let entropy = self.series(|r| r.entropy);
        // Thick polylines get miter spikes at sharp turns: a noisy long run is drawn thin.
        let entropy_style = colour(5).stroke_width(if entropy.len() <= 200 { 2 } else { 1 });
        let y = padded(entropy.iter().map(|p| p.1));
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(self.x_range(), y)
            .map_err(text_err)?;
        chart
            .configure_mesh()
            .light_line_style(BLACK.mix(0.04))
            .x_desc("iteration")
            .y_desc("entropy (nats)")
            .y_labels(5)
            .label_style(font(14))
            .axis_desc_style(font(16))
            .draw()
            .map_err(text_err)?;
        chart
            .draw_series(LineSeries::new(entropy, entropy_style))
            .map_err(text_err)?;
        Ok(())
    }
}

impl Figure for CurveFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(text_err)?;
        let height = root.dim_in_pixel().1;
        let (top, bottom) = root.split_vertically(height * 64 / 100);
        self.slowdown_panel(&top)?;
        self.entropy_panel(&bottom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "iteration,val_mean_slowdown,sjf_val_mean_slowdown,entropy,mean_return,\
                          train_mean_slowdown,seconds\n";

    fn err(text: &str) -> String {
        parse_curve(text, Path::new("c.csv"))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default()
    }

    #[test]
    fn parses_empty_cells_as_missing() {
        let text = format!("{HEADER}0,5.7,4.6,,,,6.7\n1,,4.6,0.19,-189.8,5.5,7.0\n\n");
        let rows = parse_curve(&text, Path::new("c.csv")).unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].val_mean_slowdown, Some(5.7));
        assert_eq!(rows[0].entropy, None);
        assert_eq!(rows[1].val_mean_slowdown, None);
        assert_eq!(rows[1].train_mean_slowdown, Some(5.5));
        assert_eq!(rows[1].iteration, 1);
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = err(&format!(
            "{HEADER}0,5.7,4.6,,,,6.7\n1,x,4.6,0.19,-189.8,5.5,7.0\n"
        ));
        assert!(
            e.contains("c.csv:3:") && e.contains("val_mean_slowdown") && e.contains("`x`"),
            "{e}"
        );
        let e = err(&format!("{HEADER}0,5.7,4.6\n"));
        assert!(e.contains("c.csv:2:") && e.contains("3 fields"), "{e}");
        let e = err(&format!("{HEADER}-1,5.7,4.6,,,,6.7\n"));
        assert!(e.contains("c.csv:2:") && e.contains("iteration"), "{e}");
        let e = err(&format!("{HEADER}1,inf,4.6,,,,6.7\n"));
        assert!(e.contains("c.csv:2:") && e.contains("finite"), "{e}");
        let e = err("iteration,entropy\n");
        assert!(
            e.contains("c.csv:1:") && e.contains("val_mean_slowdown"),
            "{e}"
        );
        assert!(err(HEADER).contains("no data lines"));
        assert!(err("").contains("empty file"));
    }
}
