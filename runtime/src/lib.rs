//! # whitebox-runtime
//!
//! The lowest host layer, on top of `whitebox-core`: run-time settings and constants, job files,
//! model files and the shipped network architectures (f32 and int8), policies by name, playing
//! an episode with run-time settings, operator rules, recording, statistics and decision traces
//! (record, replay, first divergence).
//!
//! Layers: core <- **runtime** <- studies (`whitebox-studies`) <- command line (`whitebox`).
//! Nothing here parses command-line flags or draws progress; errors name values and limits.

pub mod guard;
pub mod import;
pub mod jobfile;
pub mod lists;
pub mod models;
pub mod play;
pub mod policy;
pub mod record;
pub mod rules;
pub mod settings;
pub mod shard;
pub mod shipped;
pub mod spelling;
pub mod stats;
pub mod trace;
