//! Plots, written as PNG and SVG: the learning curve of `whitebox train`
//! ([`learning_curve`]) and the figures of `whitebox demo` ([`slowdown_by_workload`],
//! [`slowdown_cdf`]), of `whitebox explain` ([`share_bars`], [`heatmap`]) and of
//! `whitebox tree show` ([`tree_picture`]).
//!
//! Text is laid out and rasterised by plotters' pure-Rust `ab_glyph` renderer with DejaVu Sans
//! embedded in the binary (the `dejavu` crate), so plotting needs no system fonts, fontconfig
//! or freetype, and draws the same pixels on every machine. SVG files name the `sans-serif`
//! family and leave the glyphs to the viewer.

mod curve;
mod demo;
mod explain;
mod tree;

use std::ffi::OsString;
use std::fmt::Display;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

pub use curve::{learning_curve, parse_curve, read_curve, CurveRow};
pub use demo::{slowdown_by_workload, slowdown_cdf, PolicyMean, WorkloadMeans};
pub use explain::{heatmap, share_bars, Heatmap, Region, ShareBar};
pub use tree::tree_picture;

/// The font family every plot uses (registered as the embedded DejaVu Sans).
const FAMILY: &str = "sans-serif";

/// Size of every figure, in pixels.
const SIZE: (u32, u32) = (960, 640);

/// Registers the embedded font with plotters, once per process.
fn register_font() -> Result<()> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok = *OK.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    if !ok {
        bail!("the embedded DejaVu Sans font could not be parsed");
    }
    Ok(())
}

/// A figure that can be drawn on any plotters backend.
trait Figure {
    /// Draws the whole figure on `root`; errors are plotters' drawing errors, as text.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Turns a plotters error into a string for [`Figure::draw`].
fn text_err(e: impl Display) -> String {
    e.to_string()
}

/// `base` with `suffix` appended to its last component (`a.b` + `.png` = `a.b.png`).
fn with_suffix(base: &Path, suffix: &str) -> PathBuf {
    let mut s = OsString::from(base.as_os_str());
    s.push(suffix);
    PathBuf::from(s)
}

/// Refuses an output path whose directory does not exist, naming both (the drawing backend
/// would report only the OS error).
///
/// # Errors
/// When `path`'s parent directory does not exist or is not a directory.
pub fn check_out_dir(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => Err(anyhow!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        )),
        _ => Ok(()),
    }
}

/// Draws `figure` to `base.png` and `base.svg` and returns both paths.
fn write_both(base: &Path, figure: &impl Figure) -> Result<Vec<PathBuf>> {
    check_out_dir(base)?;
    register_font()?;
    let png = with_suffix(base, ".png");
    let svg = with_suffix(base, ".svg");
    let fail = |path: &Path, e: String| anyhow!("cannot draw {}: {e}", path.display());
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        figure.draw(&root).map_err(|e| fail(&png, e))?;
        root.present().map_err(|e| fail(&png, e.to_string()))?;
    }
    {
        let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
        figure.draw(&root).map_err(|e| fail(&svg, e))?;
        root.present().map_err(|e| fail(&svg, e.to_string()))?;
    }
    // plotters reports some write failures only on drop; check the files are really there.
    for path in [&png, &svg] {
        let len = std::fs::metadata(path)
            .with_context(|| format!("cannot write {}", path.display()))?
            .len();
        if len == 0 {
            bail!("{} was written empty", path.display());
        }
    }
    Ok(vec![png, svg])
}

/// Colour of the `i`th series: the learned policy (first) in red, then blue, green, orange,
/// grey, purple, and plotters' 99-colour palette after that.
fn colour(i: usize) -> RGBColor {
    const FIRST: [RGBColor; 6] = [
        RGBColor(214, 39, 40),
        RGBColor(31, 119, 180),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(127, 127, 127),
        RGBColor(148, 103, 189),
    ];
    FIRST.get(i).copied().unwrap_or_else(|| {
        let (r, g, b) = Palette99::pick(i).rgb();
        RGBColor(r, g, b)
    })
}

/// A range covering `values` with 5% headroom on both sides (`0..1` when there are none, a
/// unit-wide range around a single value).
fn padded(values: impl IntoIterator<Item = f64>) -> Range<f64> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return 0.0..1.0;
    }
    let pad = if hi - lo < 1e-9 {
        0.5_f64.max(hi.abs() * 0.05)
    } else {
        (hi - lo) * 0.05
    };
    lo - pad..hi + pad
}

/// Text in the plots' font at `size` pixels.
fn font(size: u32) -> TextStyle<'static> {
    TextStyle::from((FAMILY, size).into_font())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_is_appended_not_substituted() {
        assert_eq!(
            with_suffix(Path::new("d/x.model.curve"), ".png"),
            PathBuf::from("d/x.model.curve.png")
        );
    }

    #[test]
    fn padded_ranges() {
        assert_eq!(padded([]), 0.0..1.0);
        assert_eq!(padded([f64::NAN]), 0.0..1.0);
        assert_eq!(padded([2.0]), 1.5..2.5);
        let r = padded([0.0, 10.0, f64::INFINITY]);
        assert!((r.start + 0.5).abs() < 1e-12 && (r.end - 10.5).abs() < 1e-12);
    }

    #[test]
    fn colours_are_distinct_for_the_demo_policies() {
        let c: Vec<_> = (0..8).map(colour).collect();
        for i in 0..c.len() {
            for j in 0..i {
                assert_ne!(c[i], c[j], "{i} {j}");
            }
        }
    }
}
