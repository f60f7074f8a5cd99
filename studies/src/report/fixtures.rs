//! The guard and `shorter-first` on the shipped adversarial fixtures: each fixture is played by
//! the policy it was found for (its `policy` field), in every guard mode and under
//! `shorter-first`, against plain SJF ([`crate::check::fixture_run`], as `whitebox check`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use whitebox_core::guard::{GuardMode, GuardParams};
use whitebox_runtime::guard::GuardSettings;
use whitebox_runtime::policy::{NamedPolicy, PolicyName};
use whitebox_runtime::settings::Slots;

use super::page::{Section, Table};
use super::{write_json, ReportSettings};
use crate::check::{fixture_run, read_fixture, FixtureRun};
use crate::tree::extract::adversarial_files;

/// A way of playing the fixture's policy: its name, guard and rule flags.
struct Variant {
    name: &'static str,
    /// The guard's mode and its command-line name.
    guard: Option<(GuardMode, &'static str)>,
    shorter_first: bool,
}

const VARIANTS: [Variant; 6] = [
    Variant {
        name: "unguarded",
        guard: None,
        shorter_first: false,
    },
    Variant {
        name: "renewal guard",
        guard: Some((GuardMode::Renewal, "renewal")),
        shorter_first: false,
    },
    Variant {
        name: "budget guard",
        guard: Some((GuardMode::Budget, "budget")),
        shorter_first: false,
    },
    Variant {
        name: "lookahead guard",
        guard: Some((GuardMode::Lookahead, "lookahead")),
        shorter_first: false,
    },
    Variant {
        name: "shorter-first",
        guard: None,
        shorter_first: true,
    },
    Variant {
        name: "shorter-first + lookahead",
        guard: Some((GuardMode::Lookahead, "lookahead")),
        shorter_first: true,
    },
];

impl Variant {
    fn flags(&self) -> String {
        let mut f = String::new();
        if let Some((_, name)) = self.guard {
            f += &format!(" --guard {name}");
        }
        if self.shorter_first {
            f += " --rule shorter-first";
        }
        f
    }
}

/// One fixture under every variant.
#[derive(Clone, Debug, Serialize)]
pub struct FixtureRow {
    /// The fixture file.
    pub file: PathBuf,
    /// The policy it was found for.
    pub policy: String,
    /// SJF's mean slowdown.
    pub sjf: Option<f64>,
    /// Per variant, in [`FixturesReport::variants`] order.
    pub runs: Vec<FixtureRun>,
    /// `policy / SJF` per variant (`None`: truncated or no job started).
    pub ratios: Vec<Option<f64>>,
}

/// `fixtures.json`.
#[derive(Clone, Debug, Serialize)]
pub struct FixturesReport {
    /// The directory of fixtures.
    pub dir: PathBuf,
    /// Variant names.
    pub variants: Vec<&'static str>,
    /// Guard parameters of the guarded variants.
    pub guard_eps: f32,
    /// Additive slack of the guarded variants.
    pub guard_c: f32,
    /// One row per fixture.
    pub fixtures: Vec<FixtureRow>,
    /// The largest ratio per variant (`None` when a fixture has none).
    pub worst: Vec<Option<f64>>,
}

/// The fixture's recorded policy (`model:PATH`, as `whitebox fuzz` writes it).
fn recorded_policy(path: &Path) -> Result<String> {
    let text = whitebox_runtime::shipped::read_to_string(path)
        .with_context(|| format!("cannot read fixture {}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("fixture {} is not JSON", path.display()))?;
    v.get("policy")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .with_context(|| {
            format!(
                "fixture {} has no `policy` field (the policy it was found for)",
                path.display()
            )
        })
}

pub(super) fn section(s: &ReportSettings) -> Result<Section> {
    let files = adversarial_files(&s.fixtures).context("--fixtures")?;
    let shorter_first =
        whitebox_runtime::rules::projection(&["shorter-first".to_string()], f32::INFINITY)?;
    let sjf = NamedPolicy::from(PolicyName::Sjf).resolve(0.5, 0)?;
    let mut fixtures = Vec::new();
    for file in files {
        let Some((jobs, slots)) = read_fixture(&file, Slots::Ten)? else {
            continue;
        };
        let policy = recorded_policy(&file)?;
        let name = PolicyName::parse(&policy).with_context(|| format!("{}", file.display()))?;
        let mut runs = Vec::new();
        for v in &VARIANTS {
            let guard = v
                .guard
                .map(|(m, _)| {
                    GuardSettings::new(m, GuardParams::DEFAULT_EPS, GuardParams::DEFAULT_C)
                })
                .transpose()?;
            let rules = if v.shorter_first {
                shorter_first.clone()
            } else {
                None
            };
            let p = NamedPolicy::from(name.clone())
                .with_guard(guard)
                .with_rules(rules)
                .resolve(0.5, 0)?;
            runs.push(
                fixture_run(&jobs, slots, &p, &sjf)
                    .with_context(|| format!("fixture {}", file.display()))?,
            );
        }
        fixtures.push(FixtureRow {
            file,
            policy,
            sjf: runs.first().and_then(|r| r.sjf),
            ratios: runs.iter().map(FixtureRun::ratio).collect(),
            runs,
        });
    }
    let worst = (0..VARIANTS.len())
        .map(|i| {
            fixtures
                .iter()
                .map(|f| f.ratios[i])
                .try_fold(f64::NEG_INFINITY, |m, r| r.map(|r| m.max(r)))
                .filter(|m| m.is_finite())
        })
        .collect();
    let report = FixturesReport {
        dir: s.fixtures.clone(),
        variants: VARIANTS.iter().map(|v| v.name).collect(),
        guard_eps: GuardParams::DEFAULT_EPS,
        guard_c: GuardParams::DEFAULT_C,
        fixtures,
        worst,
    };
    write_json(&s.out, "fixtures.json", &report)?;
    Ok(render(s, &report))
}

fn render(s: &ReportSettings, r: &FixturesReport) -> Section {
    let ratio = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("x{r:.2}"));
    let mut columns = vec!["fixture".to_string(), "SJF".to_string()];
    columns.extend(r.variants.iter().map(|v| v.to_string()));
    let mut rows: Vec<Vec<String>> = r
        .fixtures
        .iter()
        .map(|f| {
            let name = f.file.file_stem().map_or_else(
                || f.file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let mut row = vec![name, f.sjf.map_or("-".into(), |v| format!("{v:.3}"))];
            row.extend(f.ratios.iter().map(|&x| ratio(x)));
            row
        })
        .collect();
    let mut worst = vec!["worst ratio".to_string(), String::new()];
    worst.extend(r.worst.iter().map(|&x| ratio(x)));
    rows.push(worst);
    let command = format!(
        "whitebox simulate --jobs {}/FIXTURE.json --slots 10 --end all-done --format json \
         --policy POLICY [FLAGS]\n# POLICY: the fixture's `policy` field, or sjf; FLAGS per \
         column: {}",
        s.fixtures.display(),
        VARIANTS
            .iter()
            .map(|v| match v.flags().trim() {
                "" => format!("{}: none", v.name),
                f => format!("{}: {f}", v.name),
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    Section {
        title: "The guard on the adversarial fixtures".into(),
        text: vec![format!(
            "Each fixture in {} is a job sequence on which `whitebox fuzz` found the learned \
             policy far worse than SJF. Cells are the ratio of the policy's mean slowdown to \
             plain SJF's on the fixture (all-done, 10 slots), each fixture played by the policy \
             it was found for; guards with eps {} and c {}. The target of the guard was 1.10.",
            s.fixtures.display(),
            r.guard_eps,
            r.guard_c
        )],
        tables: vec![Table {
            title: "Ratio of mean slowdown to SJF's per fixture".into(),
            command,
            seeds: "none: fixed job sequences (each fixture's `command` field says which fuzz \
                    campaign and seed found it)"
                .into(),
            json: "fixtures.json".into(),
            columns,
            rows,
        }],
        figures: Vec::new(),
    }
}
