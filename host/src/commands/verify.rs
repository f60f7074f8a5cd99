//! `whitebox verify`: properties of a model's network over whole sets of cluster states.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use whitebox_runtime::models;
use whitebox_studies::verify::onnx::onnx_bytes;
use whitebox_studies::verify::reach::{reach_model, MAX_TRIES};
use whitebox_studies::verify::region::Region;
use whitebox_studies::verify::suite::{export_vnnlib, slots};
use whitebox_studies::verify::{parse_region, suite, verify_model, Outcome, Property, Verdict};

/// Arguments of `whitebox verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Model file (compact encoder).
    #[arg(long, default_value = "fixtures/models/default.model")]
    pub model: PathBuf,
    /// Property to check (repeatable): no-idle, shorter-first, occupancy-robust (the chosen
    /// output), occupancy-robust:effective (its effect: void, an empty slot and a job that fits
    /// nowhere all move time on), starts-within:K. Default: every property of the suite.
    #[arg(long = "property", value_parser = parse_property)]
    pub properties: Vec<Property>,
    /// Region of cluster states, e.g. `idle, slot[0].len=1..20, slot[1..9].len=0, backlog=0`
    /// (see docs/verify.md). For no-idle and shorter-first it narrows each of their regions;
    /// occupancy-robust and starts-within use it instead of their default (an idle cluster with
    /// one job, in slot 0; for occupancy-robust every row 9 or 10 free units, since both states
    /// of a pair must be in the region).
    #[arg(long)]
    pub region: Option<String>,
    /// Suite mode: check every property and write a Markdown report to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Branch budget per query; a query still open after it is `unknown`.
    #[arg(long, default_value_t = 20_000, value_parser = crate::args::at_least(1u64))]
    pub max_branches: u64,
    /// For a refuted no-idle: search for a job file that leads the policy itself (its own mask,
    /// as `whitebox simulate` plays it) from the empty cluster to a no-idle violation, and write
    /// it here (the `jobs` of a job file, plus `reaches`: the decision, its time, the logits).
    #[arg(long)]
    pub counterexample_jobs: Option<PathBuf>,
    /// Write each query of the properties as a VNN-LIB file (input box and unsafe outputs) into
    /// this directory (no-idle and shorter-first; see docs/verify.md for what is lost).
    #[arg(long)]
    pub export_vnnlib: Option<PathBuf>,
    /// Write the model's network as ONNX here (Gemm, Relu, Gemm; opset 13), for the VNN-LIB
    /// files of --export-vnnlib.
    #[arg(long)]
    pub export_onnx: Option<PathBuf>,
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
        if let Some(c) = q.counterexample.as_ref().filter(|c| !c.features.is_empty()) {
            let shown: Vec<String> = c
                .features
                .iter()
                .filter(|(n, v)| *v != 0 && !n.starts_with("free["))
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            s += &format!(
                "    state: {}\n    logits: {:?}\n    as a region (--region): {}\n",
                shown.join(" "),
                c.logits,
                c.region_text()
            );
            if let Some(n) = &q.neighbour {
                let changed: Vec<String> = c
                    .features
                    .iter()
                    .zip(&n.features)
                    .filter(|(a, b)| a.1 != b.1)
                    .map(|(a, b)| format!("{} {} -> {}", a.0, a.1, b.1))
                    .collect();
                s += &format!(
                    "    neighbour: {}\n    logits: {:?}\n",
                    changed.join(", "),
                    n.logits
                );
            }
        }
    }
    for (label, r) in [
        ("replay", &o.replay),
        ("neighbour replay", &o.neighbour_replay),
    ] {
        if let Some(r) = r {
            s += &format!(
                "  {label}: jobs {}, actions before the state: [{}], the policy then decides: [{}]\n",
                serde_json::to_string(&r.jobs).unwrap_or_default(),
                r.prefix.join(", "),
                r.decisions.join(", ")
            );
        }
    }
    if o.property.starts_with("occupancy-robust")
        && o.verdict == Verdict::Refuted
        && o.replay.is_none()
    {
        s += "  replay: the pair's occupancy is not buildable by the replay (used units grow with the row somewhere)\n";
    }
    s
}

/// One Markdown table row per outcome.
fn report_row(o: &Outcome) -> String {
    let verdict = match o.verdict {
        Verdict::Proved => "proved",
        Verdict::Refuted => "**refuted**",
        Verdict::Unknown => "unknown",
    };
    let detail = o.open.first().map(|q| q.query.clone()).unwrap_or_default();
    format!(
        "| `{}` | {verdict} | {} of {} | {} | {:.3} | {detail} |\n",
        o.property, o.proved, o.queries, o.branches, o.seconds
    )
}

/// Searches for a job file leading the policy to a `no-idle` violation and writes it to `path`;
/// says so on stderr when none is found.
fn write_jobs(model: &models::LoadedModel, o: &Outcome, path: &std::path::Path) -> Result<()> {
    let units: Option<Vec<u16>> = o
        .open
        .first()
        .and_then(|q| q.counterexample.as_ref())
        .map(|c| c.features.iter().map(|(_, v)| *v).collect());
    match reach_model(model, units.as_deref())? {
        Some(r) => {
            let text = serde_json::json!({ "jobs": &r.jobs, "reaches": &r });
            std::fs::write(path, serde_json::to_string_pretty(&text)? + "\n")
                .with_context(|| format!("--counterexample-jobs {}", path.display()))?;
            eprintln!(
                "no-idle: {} jobs written to {}; the policy reaches the violation at decision {} (time {}) after {} job files tried",
                r.jobs.len(),
                path.display(),
                r.decision,
                r.time,
                r.tries
            );
        }
        None => eprintln!(
            "no-idle: no job file leading the policy to a violation found in {MAX_TRIES} job files; nothing written"
        ),
    }
    Ok(())
}

/// Runs `whitebox verify`: exit status 0 when no property is refuted, 1 when one is (as
/// `check` and `replay` report a failure found).
///
/// # Errors
/// An unreadable or unsupported model (the command line exits with 2).
pub fn run(a: &VerifyArgs) -> Result<ExitCode> {
    let model = models::load(&a.model).with_context(|| format!("--model {}", a.model.display()))?;
    let properties = if a.properties.is_empty() {
        suite()
    } else {
        a.properties.clone()
    };
    let region = match &a.region {
        Some(t) => Some(parse_region(t, Region::all(slots(&model))).context("--region")?),
        None => None,
    };
    if let Some(path) = &a.export_onnx {
        let bytes = onnx_bytes(&model).context("--export-onnx")?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("--export-onnx {}", path.display()))?;
        }
        std::fs::write(path, &bytes)
            .with_context(|| format!("--export-onnx {}", path.display()))?;
        eprintln!(
            "network written to {} ({} bytes of ONNX)",
            path.display(),
            bytes.len()
        );
    }
    let mut report = format!(
        "# whitebox verify: {}\n\n| property | verdict | regions proved | branches | seconds | first open region |\n|---|---|---|---|---|---|\n",
        a.model.display()
    );
    let mut details = String::new();
    let mut refuted = false;
    for p in properties {
        if let Some(dir) = &a.export_vnnlib {
            if matches!(p, Property::NoIdle | Property::ShorterFirst) {
                let (n, empty) =
                    export_vnnlib(&model, p, region.as_ref(), dir).context("--export-vnnlib")?;
                eprintln!(
                    "{p}: {n} VNN-LIB files written to {} ({empty} queries hold no state: not written)",
                    dir.display()
                );
            } else {
                eprintln!("{p}: not exported (no single-network VNN-LIB query)");
            }
        }
        let o = verify_model(&model, p, region.as_ref(), a.max_branches)?;
        if let (Some(path), Property::NoIdle, Verdict::Refuted) =
            (&a.counterexample_jobs, p, o.verdict)
        {
            write_jobs(&model, &o, path)?;
        }
        refuted |= o.verdict == Verdict::Refuted;
        report += &report_row(&o);
        details += &format!("\n## `{}`\n\n```text\n{}```\n", o.property, text(&o));
        if a.format == "json" {
            println!("{}", serde_json::to_string(&o)?);
        } else {
            print!("{}", text(&o));
        }
    }
    if let Some(path) = &a.report {
        std::fs::write(path, report + &details)
            .with_context(|| format!("--report {}", path.display()))?;
    }
    // As `check` and `replay`: 1 when the command ran and found a failure, here a property
    // refuted (`unknown` is not a failure); errors exit with 2.
    Ok(if refuted {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
