//! `whitebox plot-curve`: redraw a training run's learning curve.

use std::path::PathBuf;

use anyhow::Result;
use whitebox_studies::plots;

/// Arguments of `whitebox plot-curve`.
#[derive(Debug, clap::Args)]
pub struct PlotCurveArgs {
    /// Learning-curve CSV written by `train` (MODEL.curve.csv); CSV.png and CSV.svg are written
    /// beside it, without the `.csv`.
    pub csv: PathBuf,
}

/// Runs `whitebox plot-curve`.
///
/// # Errors
/// An unreadable CSV or a failed plot.
pub fn run(a: &PlotCurveArgs) -> Result<()> {
    for path in plots::learning_curve(&a.csv)? {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
