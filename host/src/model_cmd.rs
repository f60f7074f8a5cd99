//! `whitebox model info|export|import`: inspect a model file and convert it to and from its
//! readable JSON form.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::models::{self, ModelJson};

/// What to do with a model file.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Print a model file's header (encoder, sizes, cluster, training metadata) as JSON.
    Info {
        /// The model file.
        model: PathBuf,
    },
    /// Write a model file's readable JSON form.
    Export {
        /// The model file.
        model: PathBuf,
        /// The JSON file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a model file from its JSON form (every check of loading applies).
    Import {
        /// The JSON file.
        json: PathBuf,
        /// The model file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs a `model` subcommand; returns what to print on stdout.
///
/// # Errors
/// Unreadable or invalid files (the message names the file and what is wrong).
pub fn run(cmd: &ModelCommand) -> Result<String> {
    match cmd {
        ModelCommand::Info { model } => {
            let mut json = models::to_json(&models::load(model)?);
            json.w1.clear();
            json.w2.clear();
            json.b1.clear();
            json.b2.clear();
            Ok(serde_json::to_string_pretty(&json)? + "\n")
        }
        ModelCommand::Export { model, out } => {
            let json = models::to_json(&models::load(model)?);
            std::fs::write(out, serde_json::to_string(&json)?)
                .with_context(|| format!("cannot write {}", out.display()))?;
            Ok(format!("wrote {}\n", out.display()))
        }
        ModelCommand::Import { json, out } => {
            let text = std::fs::read_to_string(json)
                .with_context(|| format!("cannot read {}", json.display()))?;
            let parsed: ModelJson = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a model JSON file", json.display()))?;
            let bytes = models::from_json(&parsed)
                .with_context(|| format!("invalid model JSON {}", json.display()))?;
            std::fs::write(out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            Ok(format!("wrote {}\n", out.display()))
        }
    }
}
