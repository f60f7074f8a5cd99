//! One module per subcommand: its clap arguments and how it runs (check the flags, call the
//! studies layer, render the report).

pub mod check;
pub mod compare;
pub mod demo;
pub mod eval;
pub mod explain;
pub mod fuzz;
pub mod import;
pub mod model;
pub mod plot_curve;
pub mod record;
pub mod replay;
pub mod report;
pub mod simulate;
pub mod train;
pub mod tree;
pub mod verify;
