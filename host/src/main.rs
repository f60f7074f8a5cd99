//! The `whitebox` binary: parse the command line, run it, report errors on stderr.

use std::process::ExitCode;

use clap::Parser;
use whitebox_host::cli::{run, Cli};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole context chain on one line: what failed, then why.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
