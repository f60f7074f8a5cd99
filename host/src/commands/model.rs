//! `whitebox model info|export|import|quantize-report`: inspect a model file, convert it to and
//! from its readable JSON form, and compare its int8 quantization with it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use whitebox_runtime::models::{self, ModelJson};

/// What to do with a model file.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Print a model file's header (encoder, sizes, cluster, training metadata: the whole
    /// training mixture, curriculum, rules and initial model) as JSON.
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
    /// Quantize a model to int8 as the policy `int8:PATH` does (TFLite-style, see
    /// docs/embedded.md) and print, as JSON, how often it decides as the f32 model on the states
    /// the f32 model visits, both mean slowdowns with their paired difference, and the bytes of
    /// both networks.
    QuantizeReport {
        /// The model file (positional, as in `model info`).
        #[arg(
            value_name = "MODEL",
            required_unless_present = "model_flag",
            conflicts_with = "model_flag"
        )]
        model: Option<PathBuf>,
        /// The model file, as a flag (the same as the positional MODEL; kept for scripts).
        #[arg(long = "model", id = "model_flag", value_name = "MODEL")]
        model_flag: Option<PathBuf>,
        /// Job sets of the model's training workload.
        #[arg(long, default_value_t = 100, value_parser = crate::args::at_least(1u64))]
        jobsets: u64,
        /// Base seed; job set k uses seed * 1000003 + k (default: the demo's held-out seeds).
        #[arg(long, default_value_t = whitebox_studies::demo::DEMO_SEED)]
        seed: u64,
        /// Arrival rate in [0, 1] jobs per time step (default: the model's training rate).
        #[arg(long, allow_negative_numbers = true)]
        rate: Option<f64>,
    },
}

/// Runs a `model` subcommand; returns what to print on stdout.
///
/// # Errors
/// Unreadable or invalid files (the message names the file and what is wrong).
pub fn run(cmd: &ModelCommand) -> Result<String> {
    match cmd {
        ModelCommand::Info { model } => {
            // The header, and the layers' shapes instead of their weights (`export` has those).
            let loaded = models::load(model)?;
            let j = models::to_json(&loaded);
            let rows = |w: &[Vec<f32>]| [w.len(), w.first().map_or(0, Vec::len)];
            let shapes = serde_json::json!({
                "w1": rows(&j.w1),
                "b1": [j.b1.len()],
                "w2": rows(&j.w2),
                "b2": [j.b2.len()],
            });
            let parameters =
                j.w1.iter().chain(&j.w2).map(Vec::len).sum::<usize>() + j.b1.len() + j.b2.len();
            let mut info = serde_json::to_value(&j)?;
            if let Some(o) = info.as_object_mut() {
                for k in ["w1", "b1", "w2", "b2"] {
                    o.remove(k);
                }
                o.insert("shapes".into(), shapes);
                // The decimal the rate was given as (0.7), not the stored f32 widened
                // (0.699999988079071); `export` keeps the stored value for a lossless round trip.
                let rate = whitebox_runtime::settings::rate_from_f32(j.rate);
                o.insert("rate".into(), rate.into());
                o.insert("parameters".into(), parameters.into());
                // The provenance in words, as the demo's header prints it.
                let trained = models::training_summary(&loaded.header);
                o.insert("trained".into(), trained.into());
                if j.version < 2 {
                    // Not recorded by version 1: leave them out rather than print defaults.
                    for k in [
                        "mixture",
                        "curriculum_every",
                        "rules",
                        "rule_mode",
                        "rule_penalty",
                        "init_sha256",
                    ] {
                        o.remove(k);
                    }
                }
            }
            Ok(serde_json::to_string_pretty(&info)? + "\n")
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
        ModelCommand::QuantizeReport {
            model,
            model_flag,
            jobsets,
            seed,
            rate,
        } => {
            let jobsets = usize::try_from(*jobsets).context("--jobsets is too large")?;
            if let Some(rate) = rate.filter(|r| !(0.0..=1.0).contains(r)) {
                anyhow::bail!("--rate = {rate}, must be in [0, 1]");
            }
            let model = model
                .as_ref()
                .or(model_flag.as_ref())
                .context("model quantize-report: give the model file, MODEL")?;
            let report = whitebox_studies::quant_report::report(model, jobsets, *seed, *rate)?;
            Ok(serde_json::to_string_pretty(&report)? + "\n")
        }
    }
}
