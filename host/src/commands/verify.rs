//! `whitebox verify`: properties of a model's network over whole sets of cluster states.

use std::path::PathBuf;

use anyhow::{Context, Result};
use whitebox_runtime::models;
use whitebox_studies::verify::{verify_model, Outcome, Property, Verdict};

/// Arguments of `whitebox verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Model file (compact encoder).
    #[arg(long, default_value = "fixtures/models/default.model")]
    pub model: PathBuf,
    /// Property to check (repeatable): no-idle, shorter-first. Default: every property.
    #[arg(long = "property", value_parser = parse_property)]
    pub properties: Vec<Property>,
    /// Branch budget per query; a query still open after it is `unknown`.
    #[arg(long, default_value_t = 20_000, value_parser = crate::args::at_least(1u64))]
    pub max_branches: u64,
    /// Output: text or json (one object per property).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

fn parse_property(text: &str) -> Result<Property> {
    text.parse()
}

fn text(o: &Outcome) -> String {
    let verdict = match o.verdict {
        Verdict::Proved => "proved",
        Verdict::Refuted => "refuted",
        Verdict::Unknown => "unknown",
    };
    let mut s = format!(
        "{}: {verdict} ({} of {} regions proved, {} branches, {:.3} s)\n",
        o.property, o.proved, o.queries, o.branches, o.seconds
    );
    for q in &o.open {
        s += &format!(
            "  {}: {:?} after {} branches",
            q.query, q.verdict, q.branches
        );
        if let Some(b) = q.worst_bound {
            s += &format!(", worst bound {b:.4}");
        }
        s += "\n";
        if let Some(c) = &q.counterexample {
            let shown: Vec<String> = c
                .features
                .iter()
                .filter(|(n, v)| *v != 0 && !n.starts_with("free["))
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            s += &format!(
                "    state: {}\n    logits: {:?}\n",
                shown.join(" "),
                c.logits
            );
        }
    }
    s
}

/// Runs `whitebox verify`.
///
/// # Errors
/// An unreadable or unsupported model.
pub fn run(a: &VerifyArgs) -> Result<()> {
    let model = models::load(&a.model).with_context(|| format!("--model {}", a.model.display()))?;
    let properties = if a.properties.is_empty() {
        vec![Property::NoIdle, Property::ShorterFirst]
    } else {
        a.properties.clone()
    };
    for p in properties {
        let o = verify_model(&model, p, a.max_branches)?;
        if a.format == "json" {
            println!("{}", serde_json::to_string(&o)?);
        } else {
            print!("{}", text(&o));
        }
    }
    Ok(())
}
