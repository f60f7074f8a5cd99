//! # whitebox-host
//!
//! The host side of whitebox: job files, episode recording, evaluation and the `whitebox` CLI.

pub mod cli;
pub mod compare;
pub mod demo;
pub mod eval;
pub mod explain;
pub mod fuzz;
pub mod jobfile;
pub mod lists;
pub mod model_cmd;
pub mod models;
pub mod output;
pub mod play;
pub mod plots;
pub mod policy;
pub mod quant_report;
pub mod record;
pub mod rules;
pub mod simulate;
pub mod stats;
pub mod trace;
pub mod train;
