//! `whitebox demo`: the shipped learned policy ("dnn") against SJF, Packer, Tetris and Random
//! on the distribution it was trained on and on each shifted one, on held-out job sets.
//!
//! Everything but the model path, output directory and job-set count comes from the model
//! file's header: the training workload, arrival rate and slot count. The report reproduces the
//! shape of DeepRM's "DNN vs rule-based, training vs other distribution" table, adds the paired
//! difference DNN minus SJF per workload, and is written as JSON with plots beside it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Serialize, Serializer};
use whitebox_core::encoding::Encoding;
use whitebox_core::workload::Workload;

use crate::eval::{evaluate, paired_slowdown_difference, EvalConfig, EvalReport, EvalRow};
use crate::eval::{EvalSettings, SEED_STRIDE};
use crate::plots::{self, PolicyMean, WorkloadMeans};
use whitebox_core::Projection;
use whitebox_runtime::guard::GuardSettings;
use whitebox_runtime::policy::{NamedPolicy, PolicyName};
use whitebox_runtime::settings::{End, Slots};
use whitebox_runtime::stats::{FlatKeys, MeanCi};

/// Base seed of the demo's job sets: not `eval`'s default (1000), so anything tuned on the
/// default evaluation is judged on job sets it has not seen. Job set `k` uses seed
/// `7000 * 1000003 + k`, far below the seeds training and validation draw from (`2^40` and
/// up, see [`crate::train::TRAIN_SEED_BASE`]), so the demo's job sets are held out.
pub const DEMO_SEED: u64 = 7_000;

/// The model `whitebox demo` loads by default, relative to the current directory.
pub const DEFAULT_MODEL: &str = "fixtures/models/default.model";

/// The rule-distilled student `whitebox demo` shows beside the model by default (`--student`).
pub const DEFAULT_STUDENT: &str = "fixtures/models/distilled.model";

/// The model trained under the demo's rules (`train --rule-mode shielded`) that `whitebox demo`
/// shows under those rules by default (`--rules-model`).
pub const DEFAULT_RULES_MODEL: &str = "fixtures/models/rules.model";

/// The name of the rule-trained model, projected onto the demo's `--rule`s.
pub const RULES_DNN: &str = "rules-dnn+rules";

/// The rules the demo projects onto when no `--rule` is given: `docs/rules.md`'s running
/// example, the 80% utilization cap and work conservation, plus `shorter-first` (no job starts
/// ahead of a shorter one that fits now), which SJF always meets and which turns the learned
/// policy's loss under the other two into a gain (`docs/results.md`, "Guard"). A shield, `C`
/// infinite.
pub const DEFAULT_RULES: [&str; 3] = ["util<=0.8", "work-conserving", "shorter-first"];

/// The name the learned policy is shown under.
pub const DNN: &str = "dnn";

/// The name the rule-distilled student is shown under.
pub const STUDENT: &str = "distilled";

/// The name of the student projected onto the demo's rules.
pub const STUDENT_RULES: &str = "distilled+rules";

/// The name of the learned policy projected onto the demo's `--rule`s.
pub const DNN_RULES: &str = "dnn+rules";

/// The name of the learned policy guarded against SJF (`docs/guard.md`).
pub const DNN_GUARD: &str = "dnn+guard";

/// The name of the guarded learned policy under the demo's `--rule`s (SJF under the same rules
/// as its fallback).
pub const DNN_GUARD_RULES: &str = "dnn+guard+rules";

/// The name of SJF projected onto the demo's `--rule`s.
pub const SJF_RULES: &str = "sjf+rules";

/// The demo's arrival window and time cap: the shared defaults.
pub use whitebox_runtime::settings::{SIMU_LEN, TIME_CAP};

/// Decisions the demo's explanation section aggregates over.
pub const EXPLAIN_DECISIONS: usize = 200;

/// Base seed of the explanation's job sets (that of `whitebox explain`).
pub const EXPLAIN_SEED: u64 = 9_000;

/// How the model was trained, from its header.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    /// The model file, as given.
    pub path: PathBuf,
    /// Workload it was trained on (the header's headline cell).
    pub workload: &'static str,
    /// Every workload of its training mixture (the headline alone for a version-1 file).
    pub mixture_workloads: Vec<&'static str>,
    /// What it was trained on, in words ([`whitebox_runtime::models::training_summary`]): the
    /// whole mixture, curriculum, rules and initial model.
    pub trained: String,
    /// Training arrival rate, in jobs per time step.
    pub rate: f64,
    /// Job slots it decides for.
    pub slots: usize,
    /// Observation encoder.
    pub encoding: &'static str,
    /// Training seed.
    pub seed: u64,
    /// Policy-gradient iterations of the saved (best-on-validation) weights.
    pub iterations: u32,
    /// Whether invalid actions were masked in training (and are at evaluation).
    pub mask_invalid: bool,
}

/// What the demo will run: the model's training settings and the evaluation they imply.
#[derive(Clone, Debug)]
pub struct DemoPlan {
    /// The model and how it was trained.
    pub model: ModelInfo,
    /// The training workload (evaluated first).
    pub training: Workload,
    /// The evaluation: dnn, sjf, packer, tetris, random on every workload at the training rate
    /// and slot count, all-done, held-out seeds, per-job slowdowns kept.
    pub config: EvalConfig,
}

/// The error for a model path that does not exist: where it was looked for and how to get one.
fn missing_model(path: &Path) -> anyhow::Error {
    let cwd = std::env::current_dir().map_or_else(|_| "?".into(), |d| d.display().to_string());
    anyhow::anyhow!(
        "model file {} not found (relative paths are resolved from the current directory, {cwd}). \
         Use the shipped model (the default), give the path of a model file, or \
         train one: whitebox train --rate 0.7 --slots 10 --iterations 100 --out {}",
        path.display(),
        path.display()
    )
}

/// The training rate as the decimal it was written from: the header stores an `f32`, whose
/// shortest decimal form is the rate given to `train` (0.7, not 0.699999988).
fn rate_of(stored: f32, path: &Path) -> Result<f64> {
    let rate = whitebox_runtime::settings::rate_from_f32(stored);
    if !(0.0..=1.0).contains(&rate) {
        bail!(
            "model {}: training rate {stored} is outside [0, 1] jobs per time step",
            path.display()
        );
    }
    Ok(rate)
}

/// The workloads of a model's training mixture, each once, in mixture order.
fn mixture_workloads(header: &whitebox_core::model::ModelHeader) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for c in &header.provenance.cells {
        if !out.contains(&c.workload.name()) {
            out.push(c.workload.name());
        }
    }
    out
}

/// Reads the model's header and plans the demo with `jobsets` job sets per workload.
///
/// # Errors
/// A missing model file (the message says how to get one), an invalid model file, or a header
/// with an unknown workload code or a rate outside `[0, 1]`.
pub fn plan(
    model: &Path,
    student: Option<&Path>,
    rules_model: Option<&Path>,
    jobsets: usize,
    rules: Option<Projection>,
    guard: GuardSettings,
) -> Result<DemoPlan> {
    for m in std::iter::once(model).chain(student).chain(rules_model) {
        if !whitebox_runtime::shipped::available(m) {
            return Err(missing_model(m));
        }
    }
    let loaded = whitebox_runtime::models::load(model)?;
    let header = loaded.header.clone();
    let training = Workload::from_code(header.meta.workload).with_context(|| {
        format!(
            "model {}: unknown training workload code {} (known: 0-3)",
            model.display(),
            header.meta.workload
        )
    })?;
    let slots = match loaded.slots() {
        5 => Slots::Five,
        10 => Slots::Ten,
        other => bail!(
            "model {} has {other} job slots; 5 or 10 supported",
            model.display()
        ),
    };
    let info = ModelInfo {
        path: model.to_path_buf(),
        workload: training.name(),
        mixture_workloads: mixture_workloads(&header),
        trained: whitebox_runtime::models::training_summary(&header),
        rate: rate_of(header.meta.rate, model)?,
        slots: slots.count(),
        encoding: loaded.encoding().map_or("unknown", Encoding::name),
        seed: header.meta.seed,
        iterations: header.meta.iterations,
        mask_invalid: header.meta.mask_invalid,
    };
    let mut workloads = vec![training];
    workloads.extend(Workload::ALL.into_iter().filter(|&w| w != training));
    let mut policies = vec![NamedPolicy::labelled(
        DNN,
        PolicyName::Model(model.to_path_buf()),
    )];
    policies.extend(PolicyName::BASELINES.map(NamedPolicy::from));
    policies.push(
        NamedPolicy::labelled(DNN_GUARD, PolicyName::Model(model.to_path_buf()))
            .with_guard(Some(guard)),
    );
    let same_slots = |what: &str, p: &Path| -> Result<()> {
        let loaded = whitebox_runtime::models::load(p)?;
        if loaded.slots() != slots.count() {
            bail!(
                "{what} {} has {} job slots, the model {} has {}",
                p.display(),
                loaded.slots(),
                model.display(),
                slots.count()
            );
        }
        Ok(())
    };
    if let Some(s) = student {
        same_slots("student", s)?;
        policies.push(NamedPolicy::labelled(
            STUDENT,
            PolicyName::Model(s.to_path_buf()),
        ));
    }
    if let Some(rules) = rules {
        policies.push(
            NamedPolicy::labelled(DNN_RULES, PolicyName::Model(model.to_path_buf()))
                .with_rules(Some(rules.clone())),
        );
        policies.push(
            NamedPolicy::labelled(DNN_GUARD_RULES, PolicyName::Model(model.to_path_buf()))
                .with_rules(Some(rules.clone()))
                .with_guard(Some(guard)),
        );
        if let Some(s) = student {
            policies.push(
                NamedPolicy::labelled(STUDENT_RULES, PolicyName::Model(s.to_path_buf()))
                    .with_rules(Some(rules.clone())),
            );
        }
        if let Some(r) = rules_model {
            same_slots("rules model", r)?;
            policies.push(
                NamedPolicy::labelled(RULES_DNN, PolicyName::Model(r.to_path_buf()))
                    .with_rules(Some(rules.clone())),
            );
        }
        policies.push(NamedPolicy::labelled(SJF_RULES, PolicyName::Sjf).with_rules(Some(rules)));
    }
    let config = EvalConfig {
        workloads,
        rates: vec![info.rate],
        jobsets,
        seed: DEMO_SEED,
        policies,
        slots,
        end: End::AllDone,
        simu_len: SIMU_LEN,
        time_cap: TIME_CAP,
        tetris_knob: 0.5,
        job_slowdowns: true,
    };
    Ok(DemoPlan {
        model: info,
        training,
        config,
    })
}

/// The demo's settings as written to `demo.json`.
#[derive(Clone, Debug, Serialize)]
pub struct DemoSettings {
    /// The learned policy's model and its training metadata.
    pub model: ModelInfo,
    /// The policy string of the learned policy (`model:PATH`), shown as [`DNN`].
    pub dnn_policy: String,
    /// Policies in table order.
    pub policies: Vec<String>,
    /// The workload the model was trained on (first in the table).
    pub training_workload: &'static str,
    /// Every workload, in table order.
    pub workloads: Vec<&'static str>,
    /// Arrival rate of every job set, in jobs per time step (the training rate).
    pub rate: f64,
    /// Why the job sets are held out.
    pub held_out: String,
    /// The evaluation settings.
    pub eval: EvalSettings,
}

/// One table row: a policy on a workload.
#[derive(Clone, Debug, Serialize)]
pub struct DemoRow {
    /// The evaluation row.
    #[serde(flatten)]
    pub row: EvalRow,
    /// Whether the model was trained on this workload (any cell of its training mixture).
    pub training_distribution: bool,
}

/// How the learned policy compares with SJF on one workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The 95% interval of dnn - sjf lies entirely below 0: dnn's slowdown is lower.
    Beats,
    /// The interval contains 0.
    Ties,
    /// The interval lies entirely above 0.
    Loses,
    /// No interval (fewer than two job sets measured by both).
    Undetermined,
}

impl Verdict {
    /// The verdict for a difference's 95% interval.
    pub fn of(ci95: Option<(f64, f64)>) -> Verdict {
        match ci95 {
            Some((_, high)) if high < 0.0 => Verdict::Beats,
            Some((low, _)) if low > 0.0 => Verdict::Loses,
            Some(_) => Verdict::Ties,
            None => Verdict::Undetermined,
        }
    }

    /// The verdict in words, e.g. `dnn beats sjf`.
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Beats => "dnn beats sjf (CI below 0)",
            Verdict::Ties => "tie (CI contains 0)",
            Verdict::Loses => "dnn loses to sjf (CI above 0)",
            Verdict::Undetermined => "undetermined (fewer than 2 job sets)",
        }
    }
}

/// The paired difference dnn - sjf in mean slowdown on one workload.
#[derive(Clone, Debug, Serialize)]
pub struct PairedDiff {
    /// Workload name.
    pub workload: &'static str,
    /// Whether the model was trained on this workload (any cell of its training mixture).
    pub training_distribution: bool,
    /// Over the job sets measured by both policies, dnn's minus SJF's mean slowdown (negative:
    /// dnn is better): its mean and Student-t 95% interval, `None` when no job set was measured
    /// by both. Written as `pairs`, `mean_difference`, `ci95_low` and `ci95_high`.
    #[serde(flatten, serialize_with = "difference_fields")]
    pub difference: Option<MeanCi>,
    /// What the interval says.
    pub verdict: Verdict,
}

fn difference_fields<S: Serializer>(d: &Option<MeanCi>, s: S) -> Result<S::Ok, S::Error> {
    FlatKeys {
        n: Some("pairs"),
        mean: "mean_difference",
        low: "ci95_low",
        high: "ci95_high",
    }
    .serialize(d, s)
}

/// Everything `whitebox demo` reports; `demo.json` is its JSON form.
#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    /// The settings.
    pub settings: DemoSettings,
    /// Rows ordered by workload (training first), then policy (dnn first).
    pub table: Vec<DemoRow>,
    /// dnn - sjf per workload, in table order.
    pub dnn_vs_sjf: Vec<PairedDiff>,
    /// dnn+rules - sjf+rules per workload, in table order (empty without rule rows).
    pub rules_vs_sjf_rules: Vec<PairedDiff>,
    /// rules-dnn+rules - sjf+rules per workload, in table order (empty without a rules model).
    pub rules_model_vs_sjf_rules: Vec<PairedDiff>,
    /// Why the learned policy decides as it does, aggregated over decisions.
    pub explanation: Option<DemoExplanation>,
    /// Files written to the output directory, relative to it.
    pub files: Vec<String>,
}

/// The demo's explanation section: where the learned policy's decisions rest, per feature group,
/// on its training workload (as `whitebox explain --decisions 200`).
#[derive(Clone, Debug, Serialize)]
pub struct DemoExplanation {
    /// Decisions explained (greedy decisions with two or more allowed actions).
    pub decisions: usize,
    /// Workload of the job sets (the training workload).
    pub workload: &'static str,
    /// Their arrival rate (the training rate).
    pub rate: f64,
    /// Base seed of the job sets.
    pub seed: u64,
    /// What is attributed.
    pub method: String,
    /// Shares per category (occupancy per resource, job slots, backlog, time since last job).
    pub shares: crate::explain::Shares,
    /// Mean share per group, in group order.
    pub group_shares: Vec<GroupShare>,
    /// Largest completeness residual of the integrated gradients.
    pub max_ig_completeness_residual: f64,
    /// Mean deletion AUC by Shapley order and by random orders (lower is better).
    pub mean_deletion_auc: (f64, f64),
    /// Mean rank correlation with a randomized model (near 0 passes).
    pub mean_randomization_rank_corr: f64,
}

/// One feature group's mean share of |Shapley|.
#[derive(Clone, Debug, Serialize)]
pub struct GroupShare {
    /// Group name (`occupancy res0`, `slot 3`, `backlog`, `since last job`).
    pub group: String,
    /// Mean share over decisions.
    pub share: f64,
}

/// Explains [`EXPLAIN_DECISIONS`] decisions of the model on its training workload and draws the
/// per-group bar chart to `out/explanation_shares.{png,svg}`.
fn explanation(plan: &DemoPlan, out: &Path) -> Result<(DemoExplanation, Vec<PathBuf>)> {
    let model = whitebox_runtime::models::load(&plan.model.path)?;
    let target = crate::explain::Target::Workload {
        workload: plan.training,
        rate: plan.model.rate,
        decisions: EXPLAIN_DECISIONS,
        seed: EXPLAIN_SEED,
    };
    let r = crate::explain::explain(&model, &target)?;
    let files = crate::explain::pictures::group_shares(
        &r,
        &out.join("explanation_shares"),
        &format!(
            "dnn: |Shapley| share per feature group, {} decisions on {} at rate {}",
            r.decisions.len(),
            plan.training.name(),
            plan.model.rate
        ),
    )?;
    let e = DemoExplanation {
        decisions: r.decisions.len(),
        workload: plan.training.name(),
        rate: plan.model.rate,
        seed: EXPLAIN_SEED,
        method: "exact Shapley values of the chosen action's logit over feature groups, \
                 baseline the empty cluster; share of total |Shapley| per decision, averaged"
            .into(),
        group_shares: r
            .groups
            .iter()
            .zip(&r.mean_group_share)
            .map(|(g, s)| GroupShare {
                group: g.name.clone(),
                share: *s,
            })
            .collect(),
        shares: r.shares,
        max_ig_completeness_residual: r.max_ig_completeness_residual,
        mean_deletion_auc: r.mean_deletion_auc,
        mean_randomization_rank_corr: r.mean_randomization_rank_corr,
    };
    Ok((e, files))
}

/// Runs the planned evaluation and the explanation section, and writes `demo.json`,
/// `slowdown_by_workload.{png,svg}`, `slowdown_cdf_<workload>.{png,svg}` for every workload and
/// `explanation_shares.{png,svg}` to `out` (created if needed).
/// `on_task` is called after each job set.
///
/// # Errors
/// When the model fails on a cluster, or the directory or a file cannot be written.
pub fn run(plan: &DemoPlan, out: &Path, on_task: &(dyn Fn() + Sync)) -> Result<DemoReport> {
    let eval = evaluate(&plan.config, on_task)?;
    let mut report = report(plan, eval);
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create output directory {}", out.display()))?;
    let mut plots = write_plots(&report, out)?;
    let (explained, files) = explanation(plan, out)?;
    report.explanation = Some(explained);
    plots.extend(files);
    report.files = std::iter::once("demo.json".to_string())
        .chain(
            plots
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())),
        )
        .collect();
    let path = out.join("demo.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(report)
}

/// Builds the report (without files) from the evaluation.
fn report(plan: &DemoPlan, eval: EvalReport) -> DemoReport {
    let cfg = &plan.config;
    let training = plan.training.name();
    // Every workload of the training mixture is a training distribution, not only the headline.
    let trained_on = |w: &str| plan.model.mixture_workloads.contains(&w);
    let settings = DemoSettings {
        model: plan.model.clone(),
        dnn_policy: cfg
            .policies
            .iter()
            .find(|p| p.label == DNN)
            .map_or_else(String::new, |p| p.policy.name()),
        policies: cfg.policies.iter().map(|p| p.label.clone()).collect(),
        training_workload: training,
        workloads: cfg.workloads.iter().map(|w| w.name()).collect(),
        rate: plan.model.rate,
        held_out: format!(
            "job set k uses seed {DEMO_SEED} * {SEED_STRIDE} + k; training and validation job \
             sets use seeds from 2^40 up"
        ),
        eval: eval.settings,
    };
    let paired = |a: &str, b: &str| -> Vec<PairedDiff> {
        cfg.workloads
            .iter()
            .filter_map(|w| {
                let find = |label: &str| {
                    eval.rows
                        .iter()
                        .find(|r| r.workload == w.name() && r.policy == label)
                };
                let (x, y) = (find(a)?, find(b)?);
                let diff = paired_slowdown_difference(x, y);
                Some(PairedDiff {
                    workload: w.name(),
                    training_distribution: trained_on(w.name()),
                    difference: diff,
                    verdict: Verdict::of(diff.and_then(|d| d.ci95)),
                })
            })
            .collect()
    };
    let dnn_vs_sjf = paired(DNN, "sjf");
    let rules_vs_sjf_rules = paired(DNN_RULES, SJF_RULES);
    let rules_model_vs_sjf_rules = paired(RULES_DNN, SJF_RULES);
    let table = eval
        .rows
        .into_iter()
        .map(|row| DemoRow {
            training_distribution: trained_on(row.workload),
            row,
        })
        .collect();
    DemoReport {
        settings,
        table,
        dnn_vs_sjf,
        rules_vs_sjf_rules,
        rules_model_vs_sjf_rules,
        explanation: None,
        files: Vec::new(),
    }
}

/// True when the model was trained on workload `w` (for a mixture, any of its workloads), as
/// the table says.
fn trained(report: &DemoReport, w: &str) -> bool {
    rows_of(report, w).any(|r| r.training_distribution)
}

/// Writes the comparison plot and one CDF per workload; returns the paths written.
fn write_plots(report: &DemoReport, out: &Path) -> Result<Vec<PathBuf>> {
    let s = &report.settings;
    let groups: Vec<WorkloadMeans> = s
        .workloads
        .iter()
        .map(|&w| WorkloadMeans {
            workload: w.to_string(),
            training: trained(report, w),
            policies: rows_of(report, w)
                .map(|r| PolicyMean {
                    policy: r.row.policy.clone(),
                    mean: r.row.slowdown.map(|c| c.mean),
                    ci95: r.row.slowdown.and_then(|c| c.ci95),
                })
                .collect(),
        })
        .collect();
    let mut written = plots::slowdown_by_workload(
        &out.join("slowdown_by_workload"),
        &format!(
            "mean slowdown by workload: rate {}, {} slots, {} held-out job sets each",
            s.rate, s.eval.slots, s.eval.jobsets
        ),
        &groups,
    )?;
    for &w in &s.workloads {
        let series: Vec<(String, Vec<f64>)> = rows_of(report, w)
            .map(|r| (r.row.policy.clone(), r.row.job_slowdowns.clone()))
            .collect();
        let which = if trained(report, w) {
            "training workload"
        } else {
            "shifted workload"
        };
        written.extend(plots::slowdown_cdf(
            &out.join(format!("slowdown_cdf_{w}")),
            &format!("per-job slowdown, {w} ({which}), rate {}", s.rate),
            &series,
        )?);
    }
    Ok(written)
}

fn rows_of<'a>(report: &'a DemoReport, workload: &'a str) -> impl Iterator<Item = &'a DemoRow> {
    report
        .table
        .iter()
        .filter(move |r| r.row.workload == workload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_differences_keep_their_json_keys() {
        let json = |difference| {
            serde_json::to_string(&PairedDiff {
                workload: "deeprm",
                training_distribution: true,
                difference,
                verdict: Verdict::Ties,
            })
            .unwrap_or_default()
        };
        assert_eq!(
            json(Some(MeanCi {
                n: 3,
                mean: -0.5,
                ci95: Some((-1.5, 0.5))
            })),
            r#"{"workload":"deeprm","training_distribution":true,"pairs":3,"mean_difference":-0.5,"ci95_low":-1.5,"ci95_high":0.5,"verdict":"ties"}"#
        );
        assert_eq!(
            json(None),
            r#"{"workload":"deeprm","training_distribution":true,"pairs":0,"mean_difference":null,"ci95_low":null,"ci95_high":null,"verdict":"ties"}"#
        );
    }

    #[test]
    fn rates_are_read_as_the_decimal_given_to_train() {
        let p = Path::new("m.model");
        assert_eq!(rate_of(0.7, p).ok(), Some(0.7));
        assert_eq!(rate_of(0.3, p).ok(), Some(0.3));
        assert!(rate_of(1.5, p).is_err());
        assert!(rate_of(f32::NAN, p).is_err());
    }

    #[test]
    fn verdicts_follow_the_interval() {
        assert_eq!(Verdict::of(Some((-2.0, -0.1))), Verdict::Beats);
        assert_eq!(Verdict::of(Some((-2.0, 0.1))), Verdict::Ties);
        assert_eq!(Verdict::of(Some((0.1, 2.0))), Verdict::Loses);
        assert_eq!(Verdict::of(None), Verdict::Undetermined);
    }

    #[test]
    fn a_missing_model_says_where_and_how_to_get_one() {
        let e = plan(
            Path::new("/nonexistent/x.model"),
            None,
            None,
            2,
            None,
            GuardSettings::default(),
        )
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
        assert!(
            e.contains("/nonexistent/x.model") && e.contains("whitebox train"),
            "{e}"
        );
    }
}
