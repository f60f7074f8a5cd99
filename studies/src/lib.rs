//! # whitebox-studies
//!
//! The middle host layer: the studies the `whitebox` subcommands run, on top of
//! `whitebox-runtime`. Each module takes settings as plain values and returns a report; text
//! tables, flags and progress bars belong to the command line (`whitebox-host`).
//!
//! Layers: core <- runtime <- **studies** <- command line.

pub mod check;
pub mod compare;
pub mod demo;
pub mod eval;
pub mod explain;
pub mod fuzz;
pub mod plots;
pub mod quant_report;
pub mod report;
pub mod simulate;
#[cfg(feature = "testing")]
pub mod testing;
/// Decision traces live in the runtime (so a replay builds without the studies); re-exported
/// here under their old path.
pub use whitebox_runtime::trace;
pub mod train;
pub mod tree;
pub mod verify;
