//! The figures of `whitebox explain`: a horizontal bar chart of shares per feature group, and
//! heatmaps (the mean |integrated gradient| per pixel of DeepRM's image, the correlation of
//! hidden units with interpretable features).

use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{colour, font, text_err, write_both, Figure, SIZE};

/// One bar: a label, its value (a share in `[0, 1]`) and its series colour index.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareBar {
    /// Label left of the bar.
    pub label: String,
    /// The share, drawn in percent.
    pub share: f64,
    /// Colour index (see the module's palette); bars of one kind share a colour.
    pub colour: usize,
}

/// Writes `base.png` and `base.svg`: one horizontal bar per entry, top to bottom, with its
/// percentage, and `legend` (`(text, colour index)`) in the lower right. Returns the paths.
///
/// # Errors
/// When an image cannot be written.
pub fn share_bars(
    base: &Path,
    title: &str,
    x_desc: &str,
    bars: &[ShareBar],
    legend: &[(String, usize)],
) -> Result<Vec<PathBuf>> {
    write_both(
        base,
        &Bars {
            title,
            x_desc,
            bars,
            legend,
        },
    )
}

/// A labelled range of columns drawn above a heatmap, separated by strong lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    /// Label.
    pub label: String,
    /// Columns it covers.
    pub columns: Range<usize>,
}

/// A heatmap of `values` (rows x columns; `None` is drawn grey).
#[derive(Clone, Debug, PartialEq)]
pub struct Heatmap {
    /// Title.
    pub title: String,
    /// Cell values.
    pub values: Vec<Vec<Option<f64>>>,
    /// One label per row (left), or empty.
    pub row_labels: Vec<String>,
    /// One label per column (below), or empty.
    pub col_labels: Vec<String>,
    /// What the rows are (left, above the labels).
    pub row_desc: String,
    /// What the columns are (below).
    pub col_desc: String,
    /// Labelled column ranges (above).
    pub regions: Vec<Region>,
    /// Columns left of which a thin divider is drawn.
    pub dividers: Vec<usize>,
    /// Diverging scale on `[-1, 1]` (blue-white-red) instead of `[0, max]` (white-red).
    pub diverging: bool,
    /// Write each value into its cell.
    pub annotate: bool,
    /// Colour-bar caption.
    pub scale_desc: String,
}

/// Writes `base.png` and `base.svg` for `map`; returns the paths.
///
/// # Errors
/// When an image cannot be written.
pub fn heatmap(base: &Path, map: &Heatmap) -> Result<Vec<PathBuf>> {
    write_both(base, map)
}

struct Bars<'a> {
    title: &'a str,
    x_desc: &'a str,
    bars: &'a [ShareBar],
    legend: &'a [(String, usize)],
}

impl Figure for Bars<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(text_err)?;
        let n = self.bars.len().max(1);
        let top = self
            .bars
            .iter()
            .map(|b| 100.0 * b.share)
            .filter(|v| v.is_finite())
            .fold(1.0_f64, f64::max);
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, font(20))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(130)
            .build_cartesian_2d(0.0..top * 1.18, -0.5..n as f64 - 0.5)
            .map_err(text_err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(BLACK.mix(0.04))
            .y_labels(0)
            .x_desc(self.x_desc)
            .label_style(font(14))
            .axis_desc_style(font(16))
            .draw()
            .map_err(text_err)?;
        // The first bar at the top.
        let y = |k: usize| (n - 1 - k) as f64;
        chart
            .draw_series(self.bars.iter().enumerate().map(|(k, b)| {
                Rectangle::new(
                    [(0.0, y(k) - 0.35), (100.0 * b.share, y(k) + 0.35)],
                    colour(b.colour).mix(0.8).filled(),
                )
            }))
            .map_err(text_err)?;
        let left = font(14).pos(Pos::new(HPos::Right, VPos::Center));
        let right = font(13).pos(Pos::new(HPos::Left, VPos::Center));
        for (k, b) in self.bars.iter().enumerate() {
            let (x0, yc) = chart.backend_coord(&(0.0, y(k)));
            root.draw(&Text::new(b.label.clone(), (x0 - 8, yc), left.clone()))
                .map_err(text_err)?;
            let (x1, _) = chart.backend_coord(&(100.0 * b.share, y(k)));
            root.draw(&Text::new(
                format!("{:.1}%", 100.0 * b.share),
                (x1 + 6, yc),
                right.clone(),
            ))
            .map_err(text_err)?;
        }
        // Legend: coloured squares with their text, lower right.
        let (xr, yb) = chart.backend_coord(&(top * 1.18, -0.5));
        let legend_font = font(14).pos(Pos::new(HPos::Right, VPos::Center));
        for (i, (text, c)) in self.legend.iter().rev().enumerate() {
            let yy = yb - 18 - 22 * i as i32;
            root.draw(&Rectangle::new(
                [(xr - 24, yy - 7), (xr - 10, yy + 7)],
                colour(*c).mix(0.8).filled(),
            ))
            .map_err(text_err)?;
            root.draw(&Text::new(text.clone(), (xr - 32, yy), legend_font.clone()))
                .map_err(text_err)?;
        }
        Ok(())
    }
}

/// The colour of `v` on the map's scale (`max` is the top of a sequential scale).
fn cell_colour(v: Option<f64>, diverging: bool, max: f64) -> RGBColor {
    let Some(v) = v.filter(|v| v.is_finite()) else {
        return RGBColor(200, 200, 200);
    };
    let (t, end) = if diverging {
        let t = v.clamp(-1.0, 1.0);
        if t >= 0.0 {
            (t, (178, 24, 43))
        } else {
            (-t, (33, 102, 172))
        }
    } else {
        ((v / max.max(1e-300)).clamp(0.0, 1.0), (153, 0, 13))
    };
    let mix = |e: u8| {
        (255.0 + t * (f64::from(e) - 255.0))
            .round()
            .clamp(0.0, 255.0) as u8
    };
    RGBColor(mix(end.0), mix(end.1), mix(end.2))
}

impl Figure for Heatmap {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(text_err)?;
        let rows = self.values.len().max(1);
        let cols = self.values.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let (w, h) = (SIZE.0 as i32, SIZE.1 as i32);
        let left = if self.row_labels.is_empty() { 60 } else { 170 };
        let top = if self.regions.is_empty() { 56 } else { 100 };
        let bottom = if self.col_labels.is_empty() { 100 } else { 120 };
        let (x0, x1, y0, y1) = (left, w - 24, top, h - bottom);
        let cw = f64::from(x1 - x0) / cols as f64;
        let ch = f64::from(y1 - y0) / rows as f64;
        let cx = |c: usize| x0 + (cw * c as f64).round() as i32;
        let cy = |r: usize| y0 + (ch * r as f64).round() as i32;
        root.draw(&Text::new(
            self.title.clone(),
            (w / 2, 12),
            font(20).pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(text_err)?;
        let max = self
            .values
            .iter()
            .flatten()
            .flatten()
            .filter(|v| v.is_finite())
            .fold(0.0_f64, |m, v| m.max(v.abs()));
        for (r, row) in self.values.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let fill = cell_colour(*v, self.diverging, max);
                root.draw(&Rectangle::new(
                    [(cx(c), cy(r)), (cx(c + 1), cy(r + 1))],
                    fill.filled(),
                ))
                .map_err(text_err)?;
                if self.annotate {
                    if let Some(v) = v {
                        let dark = if self.diverging {
                            v.abs() > 0.6
                        } else {
                            *v > 0.6 * max
                        };
                        let text = format!("{v:+.2}").replace("0.", ".");
                        let style = font(10)
                            .color(if dark { &WHITE } else { &BLACK })
                            .pos(Pos::new(HPos::Center, VPos::Center));
                        let mid = ((cx(c) + cx(c + 1)) / 2, (cy(r) + cy(r + 1)) / 2);
                        root.draw(&Text::new(text, mid, style)).map_err(text_err)?;
                    }
                }
            }
        }
        root.draw(&Rectangle::new([(x0, y0), (x1, y1)], BLACK.stroke_width(1)))
            .map_err(text_err)?;
        for &c in &self.dividers {
            root.draw(&PathElement::new(
                [(cx(c), y0), (cx(c), y1)],
                BLACK.mix(0.25).stroke_width(1),
            ))
            .map_err(text_err)?;
        }
        for (k, region) in self.regions.iter().enumerate() {
            let (a, b) = (cx(region.columns.start), cx(region.columns.end));
            for x in [a, b] {
                root.draw(&PathElement::new(
                    [(x, y0 - 8), (x, y1)],
                    BLACK.stroke_width(2),
                ))
                .map_err(text_err)?;
            }
            // Two label rows so neighbouring labels do not collide; narrow regions are labelled
            // right-aligned to their end.
            let y = y0 - 14 - 20 * (k % 2) as i32;
            let (x, hpos) = if b - a < 70 {
                (b, HPos::Right)
            } else {
                ((a + b) / 2, HPos::Center)
            };
            root.draw(&Text::new(
                region.label.clone(),
                (x, y),
                font(13).pos(Pos::new(hpos, VPos::Bottom)),
            ))
            .map_err(text_err)?;
        }
        let row_style = font(12).pos(Pos::new(HPos::Right, VPos::Center));
        for (r, label) in self.row_labels.iter().enumerate() {
            let y = (cy(r) + cy(r + 1)) / 2;
            root.draw(&Text::new(label.clone(), (x0 - 6, y), row_style.clone()))
                .map_err(text_err)?;
        }
        let col_style = font(12).pos(Pos::new(HPos::Center, VPos::Top));
        for (c, label) in self.col_labels.iter().enumerate() {
            let x = (cx(c) + cx(c + 1)) / 2;
            root.draw(&Text::new(label.clone(), (x, y1 + 4), col_style.clone()))
                .map_err(text_err)?;
        }
        let below = if self.col_labels.is_empty() { 6 } else { 24 };
        root.draw(&Text::new(
            self.col_desc.clone(),
            ((x0 + x1) / 2, y1 + below),
            font(15).pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(text_err)?;
        root.draw(&Text::new(
            self.row_desc.clone(),
            (8, y0 - 14),
            font(14).pos(Pos::new(HPos::Left, VPos::Bottom)),
        ))
        .map_err(text_err)?;
        // Colour bar with its ends labelled.
        let (bx0, bx1, by) = (x0 + (x1 - x0) / 4, x1 - (x1 - x0) / 4, h - 44);
        let lo = if self.diverging { -1.0 } else { 0.0 };
        let hi = if self.diverging { 1.0 } else { max };
        let steps = 100;
        for s in 0..steps {
            let v = lo + (hi - lo) * (s as f64 + 0.5) / f64::from(steps);
            let xa = bx0 + (bx1 - bx0) * s / steps;
            let xb = bx0 + (bx1 - bx0) * (s + 1) / steps;
            root.draw(&Rectangle::new(
                [(xa, by), (xb, by + 14)],
                cell_colour(Some(v), self.diverging, max).filled(),
            ))
            .map_err(text_err)?;
        }
        root.draw(&Rectangle::new(
            [(bx0, by), (bx1, by + 14)],
            BLACK.stroke_width(1),
        ))
        .map_err(text_err)?;
        let end = |x: i32, v: f64, hpos: HPos| {
            Text::new(
                format!("{v:.3}"),
                (x, by + 7),
                font(12).pos(Pos::new(hpos, VPos::Center)),
            )
        };
        root.draw(&end(bx0 - 6, lo, HPos::Right))
            .map_err(text_err)?;
        root.draw(&end(bx1 + 6, hi, HPos::Left)).map_err(text_err)?;
        root.draw(&Text::new(
            self.scale_desc.clone(),
            ((bx0 + bx1) / 2, by + 18),
            font(12).pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(text_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_colours_span_the_scales() {
        assert_eq!(cell_colour(Some(0.0), true, 1.0), RGBColor(255, 255, 255));
        assert_eq!(cell_colour(Some(1.0), true, 1.0), RGBColor(178, 24, 43));
        assert_eq!(cell_colour(Some(-1.0), true, 1.0), RGBColor(33, 102, 172));
        assert_eq!(cell_colour(Some(2.0), false, 2.0), RGBColor(153, 0, 13));
        assert_eq!(cell_colour(None, true, 1.0), RGBColor(200, 200, 200));
        assert_eq!(
            cell_colour(Some(f64::NAN), false, 1.0),
            RGBColor(200, 200, 200)
        );
    }
}
