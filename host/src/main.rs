//! The `whitebox` binary, the command-line layer: clap arguments ([`cli`], one module per
//! subcommand in [`commands`]), text/CSV/JSON rendering ([`output`]) and progress bars
//! ([`progress`]) over the studies (`whitebox-studies`) and the runtime (`whitebox-runtime`).
//! Parse the command line, run it, report errors on stderr.

mod args;
mod cli;
mod commands;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;
use cli::{run, Cli};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            // `{:#}` prints the whole context chain on one line: what failed, then why.
            eprintln!("error: {e:#}");
            // As for a bad argument (clap) and `check`: 2 = could not run; 1 is kept for a
            // command that ran and found a failure (a check, a replay divergence).
            ExitCode::from(2)
        }
    }
}
