//! # whitebox-host
//!
//! The host side of whitebox: job files, episode recording, evaluation and the `whitebox` CLI.

pub mod jobfile;
pub mod record;
