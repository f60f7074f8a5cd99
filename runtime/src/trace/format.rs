//! The trace file: its types, its line-per-decision JSON text, and the conversions between its
//! fields and the runtime's values (model identity, end mode, jobs).

use std::path::Path;

use crate::guard::{parse_fallback, GuardSettings, ModeName};
use crate::jobfile::{self, RawJob};
use crate::settings::End;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use whitebox_core::guard::{GuardStats, Handover};
use whitebox_core::{EndMode, Job, Summary};

/// Value of a trace's `format` field.
pub const FORMAT: &str = "whitebox-trace";
/// The trace format version this build writes and reads.
pub const VERSION: u32 = 1;

/// The policy file a trace was recorded with: a model file (`model`) or a decision-tree file
/// (`tree`). Both formats end in the CRC-32 of everything before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRef {
    /// Path as given to `record`.
    pub path: String,
    /// File length, in bytes.
    pub bytes: u64,
    /// The CRC-32 stored in the model file's last 4 bytes (covers everything before it).
    pub crc32: u32,
}

/// The int8 network a trace was recorded with: the trace's f32 model quantized with
/// [`whitebox_core::quant::QMlp::from_range`] at these ranges (the `int8:PATH` policy's
/// calibration, [`crate::models::int8`]). Its decisions' `logits_bits` are the `i32` logits as
/// two's complement bit patterns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Int8Ref {
    /// The input range `input_max` as an `f32` bit pattern (the input scale is it / 255).
    pub input_max_bits: u32,
    /// The calibrated hidden range `hidden_max` as an `f32` bit pattern (the hidden scale is it
    /// / 255).
    pub hidden_max_bits: u32,
    /// States the calibration observed.
    pub calibration_states: u64,
}

/// How the episode ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndRef {
    /// `all-done` or `no-new-job`.
    pub mode: String,
    /// Arrival window of `no-new-job`, in time steps.
    pub simu_len: u32,
    /// Time cap of `all-done`, in time steps.
    pub time_cap: u32,
}

/// One rule of a trace's rule set, resolved as the projection applies it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleRef {
    /// The rule as reports print it, e.g. `work-conserving(util<=0.8)`.
    pub rule: String,
    /// `utilization-cap`, `work-conserving`, `no-reservation` or `bounded-wait`.
    pub kind: String,
    /// The cap in thousandths of capacity (`utilization-cap`, `work-conserving`,
    /// `bounded-wait`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_permille: Option<u16>,
    /// The wait in time steps from which a job goes first (`bounded-wait`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_steps: Option<u16>,
    /// The weight `lambda` as an `f32` bit pattern.
    pub lambda_bits: u32,
}

/// The rules a trace was recorded with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesRef {
    /// The `--rule` texts as given (replay parses them again).
    pub given: Vec<String>,
    /// The strength `C`: a number, or `"inf"` for the shield (informational).
    pub c: serde_json::Value,
    /// `C` as an `f32` bit pattern (what replay uses).
    pub c_bits: u32,
    /// The rule set the texts resolve to, in order (rule `l` is bit/position `l` below).
    pub set: Vec<RuleRef>,
}

/// A rule's verdict on every action of one decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleVerdict {
    /// One character per output index: `1` the action violates the rule (soft truth below 1;
    /// a shield removes it when the rule's weight is positive), `0` it holds.
    pub violates: String,
    /// The soft truth `r_l(s, a)` per output index, as `f32` bit patterns.
    pub truth_bits: Vec<u32>,
}

/// One job of the trace, in job-file form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceJob {
    /// Arrival time step.
    pub arrival: u32,
    /// Duration, in time steps.
    pub len: u8,
    /// Demand per resource, in units.
    pub res: Vec<u8>,
}

/// One decision of the policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Index of the decision in the episode (0-based).
    pub decision: u32,
    /// Time step the decision was made at.
    pub time: u32,
    /// Network output index chosen: slot `0..M`, or `M` for void (move on).
    pub action: usize,
    /// Allowed outputs, one character per output index: `1` allowed, `0` masked.
    pub valid: String,
    /// The logits' bit patterns by output index: `f32::to_bits`, or for an int8 trace the `i32`
    /// logits as two's complement (`i32::cast_unsigned`). A tree's logits are its rank scores
    /// (the leaf's action 0, the others `-(64 + k)` in SJF's order).
    pub logits_bits: Vec<u32>,
    /// A tree trace: the node index of the leaf the decision reached (its path is the tests from
    /// the root to it, `explain --trace` prints them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf: Option<u8>,
    /// With rules: the policy's own greedy choice (argmax of the allowed logits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_choice: Option<usize>,
    /// With rules: each rule's verdict, in the order of `rules.set`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_verdicts: Option<Vec<RuleVerdict>>,
    /// With rules: the projected probabilities `q(a | s)` as `f32` bit patterns, by output index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projected_probs_bits: Option<Vec<u32>>,
    /// With rules: whether the projection changed the decision (`action != raw_choice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
    /// With rules: positions in `rules.set` of the rules less true for the raw choice than for
    /// the action taken (empty when unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<Vec<usize>>,
    /// With rules: every allowed action was removed, so the decision fell back to void.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_void: Option<bool>,
    /// With a guard: which scheduler's decision `action` is, `learned` or `fallback` (SJF, under
    /// the same rules). The logits and rule fields are always the learned policy's on the real
    /// state; for a fallback decision they say what it would have done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
}

/// A change of the scheduler in charge of a guarded run (the core's `Handover`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoverRef {
    /// Time step from which `to` decides.
    pub step: u32,
    /// `learned` or `fallback`.
    pub to: String,
    /// The core's `HandoverReason::name`: `start`, `renewal-over-budget`, ...
    pub reason: String,
    /// The real schedule's charge over steps `0..=step`, scaled by `INV_LEN_SCALE` (exact).
    pub real_cost: u64,
    /// SJF's charge over the same steps on the same arrivals, scaled by `INV_LEN_SCALE`.
    pub sjf_cost: u64,
}

/// The counters of a guarded run at its end (the core's `GuardStats`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardStatsRef {
    /// Time steps seen, the final one included.
    pub steps: u32,
    /// Time steps the learned policy was in charge of.
    pub learned_steps: u32,
    /// Renewals (real cluster and shadow in the same state).
    pub renewals: u32,
    /// Hand-overs after the start.
    pub handovers: u32,
    /// Renewal mode: the largest loss of the learned policy against SJF within one round,
    /// charge scaled by `INV_LEN_SCALE` (the `L` of the bound in `docs/guard.md`).
    pub worst_round_loss: u64,
    /// Lookahead mode: decisions whose learned choice was replaced (absent when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub overrides: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The guard of a guarded trace: its parameters as stored and every hand-over.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardRef {
    /// `renewal`, `budget` or `lookahead`.
    pub mode: String,
    /// Relative slack `eps` as stored (a multiple of 0.001).
    pub eps: f64,
    /// Additive slack `c` in slowdown units as stored (a multiple of 0.001).
    pub c: f64,
    /// The scheduler that made the real cluster's fallback decisions (`sjf-reserve` or
    /// `sjf-reserve-aged`, `docs/guard.md`); absent for SJF, so older traces read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// The counters at the end.
    pub stats: GuardStatsRef,
    /// Every hand-over, the start included, in order.
    pub handovers: Vec<HandoverRef>,
}

/// The episode metrics at the end: the core's [`Summary`], serialized field by field.
pub type Metrics = Summary;

impl From<&Handover> for HandoverRef {
    fn from(h: &Handover) -> Self {
        HandoverRef {
            step: h.step,
            to: h.to.name().to_string(),
            reason: h.reason.name().to_string(),
            real_cost: h.real_cost,
            sjf_cost: h.sjf_cost,
        }
    }
}

impl From<&GuardStats> for GuardStatsRef {
    fn from(s: &GuardStats) -> Self {
        GuardStatsRef {
            steps: s.steps,
            learned_steps: s.learned_steps,
            renewals: s.renewals,
            handovers: s.handovers,
            worst_round_loss: s.worst_round_loss,
            overrides: s.overrides,
        }
    }
}

impl GuardRef {
    /// The guard section of settings `s` (no hand-overs yet).
    pub fn new(s: &GuardSettings) -> GuardRef {
        // The settings as every report writes them.
        let r = s.report();
        GuardRef {
            mode: r.mode,
            eps: r.eps,
            c: r.c,
            fallback: r.fallback,
            stats: GuardStatsRef::default(),
            handovers: Vec::new(),
        }
    }

    /// The recorded settings, checked by the core as on the command line.
    ///
    /// # Errors
    /// An unknown mode or fallback, `eps`/`c` out of range, or a repairing fallback in renewal
    /// mode (naming the field, value and range).
    pub fn settings(&self) -> Result<GuardSettings> {
        let mode: ModeName = self.mode.parse().context("`guard.mode`")?;
        // Stored values are multiples of 0.001 well inside f32's exact range for thousandths,
        // so rounding them to thousandths again gives the recorded parameters.
        let s = GuardSettings::new(mode.0, self.eps as f32, self.c as f32)
            .context("`guard.eps` or `guard.c`")?;
        match &self.fallback {
            None => Ok(s),
            Some(f) => s
                .with_fallback(parse_fallback(f).context("`guard.fallback`")?)
                .context("`guard.fallback`"),
        }
    }
}

/// A decision trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trace {
    /// Always [`FORMAT`].
    pub format: String,
    /// Format version, [`VERSION`].
    pub version: u32,
    /// The model file (absent in a tree trace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
    /// The decision-tree file of a tree trace (`tree:PATH`); absent for a model's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree: Option<ModelRef>,
    /// Job slots `M` (from the model).
    pub slots: u8,
    /// For a trace of the int8 policy (`int8:PATH`): the quantization ranges; absent for the
    /// f32 policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8: Option<Int8Ref>,
    /// The end mode.
    pub end: EndRef,
    /// The rules every decision was projected onto; absent for a run without rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RulesRef>,
    /// The guard every decision went through; absent for an unguarded run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardRef>,
    /// The job file the jobs came from, as given (informational).
    pub source: String,
    /// The jobs, ids = positions.
    pub jobs: Vec<TraceJob>,
    /// Every decision, in order.
    pub decisions: Vec<Decision>,
    /// The metrics at the end.
    pub summary: Metrics,
}

/// Which kind of policy file a trace names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyFile {
    /// A model file (`model:PATH` or `int8:PATH`).
    Model,
    /// A decision-tree file (`tree:PATH`).
    Tree,
}

impl PolicyFile {
    /// The trace field naming the file: `model` or `tree`.
    pub fn field(self) -> &'static str {
        match self {
            PolicyFile::Model => "model",
            PolicyFile::Tree => "tree",
        }
    }
}

impl Trace {
    /// The policy file the trace was recorded with and its kind.
    ///
    /// # Errors
    /// A trace naming both a model and a tree, or neither.
    pub fn policy_file(&self) -> Result<(PolicyFile, &ModelRef)> {
        match (&self.model, &self.tree) {
            (Some(m), None) => Ok((PolicyFile::Model, m)),
            (None, Some(t)) => Ok((PolicyFile::Tree, t)),
            (Some(_), Some(_)) => bail!("the trace names both a `model` and a `tree`"),
            (None, None) => bail!("the trace names no policy file (`model` or `tree`)"),
        }
    }

    /// The trace as JSON text: one line per job and per decision, so traces diff line by line.
    ///
    /// # Errors
    /// A trace naming no policy file or two ([`Trace::policy_file`]).
    pub fn to_text(&self) -> Result<String> {
        let list = |items: Vec<String>| {
            if items.is_empty() {
                "[]".to_string()
            } else {
                format!("[\n    {}\n  ]", items.join(",\n    "))
            }
        };
        let jobs = self.jobs.iter().map(one_line).collect::<Result<_>>()?;
        let decisions = self.decisions.iter().map(one_line).collect::<Result<_>>()?;
        let summary = serde_json::to_string_pretty(&self.summary)?.replace('\n', "\n  ");
        let int8 = match &self.int8 {
            Some(q) => format!("\n  \"int8\": {},", serde_json::to_string(q)?),
            None => String::new(),
        };
        let rules = match &self.rules {
            Some(r) => format!("\n  \"rules\": {},", serde_json::to_string(r)?),
            None => String::new(),
        };
        let guard = match &self.guard {
            Some(g) => {
                let handovers = g.handovers.iter().map(one_line).collect::<Result<_>>()?;
                let fallback = match &g.fallback {
                    Some(f) => format!(", \"fallback\": {}", serde_json::to_string(f)?),
                    None => String::new(),
                };
                format!(
                    "\n  \"guard\": {{\"mode\": {}, \"eps\": {}, \"c\": {}{fallback}, \"stats\": {},\n  \"handovers\": {}}},",
                    serde_json::to_string(&g.mode)?,
                    serde_json::to_string(&g.eps)?,
                    serde_json::to_string(&g.c)?,
                    serde_json::to_string(&g.stats)?,
                    list(handovers)
                )
            }
            None => String::new(),
        };
        let (kind, file) = self.policy_file()?;
        Ok(format!(
            "{{\n  \"format\": {},\n  \"version\": {},\n  \"{}\": {},\n  \"slots\": {},{}\n  \"end\": {},{}{}\n  \"source\": {},\n  \"jobs\": {},\n  \"decisions\": {},\n  \"summary\": {}\n}}\n",
            serde_json::to_string(&self.format)?,
            self.version,
            kind.field(),
            serde_json::to_string(file)?,
            self.slots,
            int8,
            serde_json::to_string(&self.end)?,
            rules,
            guard,
            serde_json::to_string(&self.source)?,
            list(jobs),
            list(decisions),
            summary
        ))
    }

    /// Parses trace text, checking the format name and version.
    ///
    /// # Errors
    /// Malformed JSON, unknown fields, or another format or version.
    pub fn parse(text: &str) -> Result<Trace> {
        let t: Trace = serde_json::from_str(text).context("malformed trace JSON")?;
        if t.format != FORMAT {
            bail!("`format` = {:?}, expected {FORMAT:?}", t.format);
        }
        if t.version != VERSION {
            bail!(
                "trace format version {}, this build reads version {VERSION}",
                t.version
            );
        }
        t.policy_file()?;
        Ok(t)
    }

    /// Reads a trace file.
    ///
    /// # Errors
    /// As [`Trace::parse`], and when the file cannot be read.
    pub fn load(path: &Path) -> Result<Trace> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read trace {}", path.display()))?;
        Trace::parse(&text).with_context(|| format!("invalid trace {}", path.display()))
    }
}

/// One-line JSON of a value.
fn one_line<T: Serialize>(v: &T) -> Result<String> {
    Ok(serde_json::to_string(v)?)
}

/// A model's or tree's identity: its length and stored CRC-32.
pub(super) fn model_ref(path: &str, bytes: &[u8]) -> ModelRef {
    let crc32 = bytes
        .len()
        .checked_sub(4)
        .and_then(|at| bytes.get(at..))
        .and_then(|tail| <[u8; 4]>::try_from(tail).ok())
        .map_or(0, u32::from_le_bytes);
    ModelRef {
        path: path.to_string(),
        bytes: bytes.len() as u64,
        crc32,
    }
}

/// The end mode as a trace records it; `simu_len` and `time_cap` in time steps.
pub fn end_ref(end: End, simu_len: u32, time_cap: u32) -> EndRef {
    EndRef {
        mode: end.name().to_string(),
        simu_len,
        time_cap,
    }
}

pub(super) fn end_mode(e: &EndRef) -> Result<EndMode> {
    match End::from_name(&e.mode) {
        Some(end) => Ok(end.mode(e.simu_len, e.time_cap)),
        None => bail!(
            "`end.mode` = {:?}, expected \"all-done\" or \"no-new-job\"",
            e.mode
        ),
    }
}

/// The jobs of a trace, checked as a job file's are.
pub(super) fn trace_jobs(t: &Trace, path: &Path) -> Result<Vec<Job>> {
    let raw: Vec<RawJob> = t
        .jobs
        .iter()
        .map(|j| RawJob {
            arrival: i64::from(j.arrival),
            len: i64::from(j.len),
            res: j.res.iter().map(|&r| i64::from(r)).collect(),
        })
        .collect();
    jobfile::from_raw(&raw).with_context(|| format!("trace {}", path.display()))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A one-job, one-decision trace without rules.
    pub(in crate::trace) fn sample() -> Trace {
        Trace {
            format: FORMAT.to_string(),
            version: VERSION,
            model: Some(ModelRef {
                path: "m.model".into(),
                bytes: 10,
                crc32: 0xdead_beef,
            }),
            tree: None,
            slots: 5,
            int8: None,
            end: end_ref(End::NoNewJob, 50, 100),
            source: "jobs.json".into(),
            jobs: vec![TraceJob {
                arrival: 0,
                len: 3,
                res: vec![1, 2],
            }],
            decisions: vec![Decision {
                decision: 0,
                time: 0,
                action: 5,
                valid: "000001".into(),
                logits_bits: vec![0x3f80_0000; 6],
                ..Decision::default()
            }],
            rules: None,
            guard: None,
            summary: Summary {
                mean_slowdown: Some(1.0 / 3.0),
                total_reward: -0.1 - 0.2,
                ..Summary::default()
            },
        }
    }

    #[test]
    fn text_form_round_trips_and_has_no_rule_fields() {
        let t = sample();
        let text = t.to_text().expect("text");
        assert_eq!(Trace::parse(&text).expect("parse"), t);
        assert!(
            !text.contains("rules") && !text.contains("projected"),
            "{text}"
        );
    }
}
