//! `whitebox replay`: decision traces played again, with the first divergence.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use whitebox_studies::trace::replay;

/// Arguments of `whitebox replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Trace files written by `whitebox record`.
    #[arg(required = true)]
    pub fixtures: Vec<PathBuf>,
    /// Model (or, for a tree trace, tree) file to replay with (default: the trace's path,
    /// looked up as given and then relative to each directory above the trace). A tree file
    /// other than the recorded one is refused.
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// Runs `whitebox replay`: prints `identical` per trace or its first divergence; exit code 1
/// when a trace diverged.
///
/// # Errors
/// When a trace cannot be replayed (unreadable, invalid, or its model is missing).
pub fn run(a: &ReplayArgs) -> Result<ExitCode> {
    let mut diverged = Vec::new();
    for path in &a.fixtures {
        match replay(path, a.model.as_deref())? {
            None => println!("{}: identical", path.display()),
            Some(d) => {
                println!("{}: first divergence at {d}", path.display());
                diverged.push(path.display().to_string());
            }
        }
    }
    if !diverged.is_empty() {
        eprintln!(
            "error: {} of {} traces diverged: {}",
            diverged.len(),
            a.fixtures.len(),
            diverged.join(", ")
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
