//! Audit traces: `whitebox record` writes every decision of a learned policy on one job file
//! (time step, action, action mask and the logits as exact `f32` bit patterns) with the episode
//! metrics; `whitebox replay` plays the same jobs again and reports the first divergence.
//!
//! With operator rules (`--rule`, `--rule-c`, as for `simulate`) every decision goes through
//! the core's `Projection`, and the trace also holds the rule set and `C` (top-level `rules`)
//! and per decision the policy's raw choice, each rule's verdict and soft truth per action, the
//! projected probabilities as `f32` bit patterns and whether the rules changed the decision.
//! Without rules these fields are absent and the format is exactly the one of rule-free traces.
//!
//! The format is described in `docs/embedded.md` ("Audit trace format"). A trace's `jobs` array has
//! the job-file layout, so a trace is also a valid `--jobs` file. The firmware test in
//! `firmware/` compiles the traces in `fixtures/golden/` into its image and checks the same bits
//! on Cortex-M.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use whitebox_core::encoding::{Compact, Encoder, Image};
use whitebox_core::nn::Mlp;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::{
    run, Action, Cluster, EndMode, Episode, Job, PolicyError, Projection, Rule, Scheduler, Summary,
};

use whitebox_runtime::jobfile::{self, RawJob};
use whitebox_runtime::models::{AnyModel, LoadedModel, HIDDEN};
use whitebox_runtime::settings::End;

/// Value of a trace's `format` field.
pub const FORMAT: &str = "whitebox-trace";
/// The trace format version this build writes and reads.
pub const VERSION: u32 = 1;

/// The model a trace was recorded with.
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
    /// The logits' `f32` bit patterns (`f32::to_bits`), by output index.
    pub logits_bits: Vec<u32>,
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
}

/// The episode metrics at the end (the core's `Summary`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// Jobs in the sequence.
    pub jobs: u32,
    /// Decisions made.
    pub decisions: u32,
    /// Time step the episode ended at.
    pub final_time: u32,
    /// Whether an all-done episode hit its time cap.
    pub truncated: bool,
    /// Jobs started or reserved.
    pub allocated: u32,
    /// Allocated jobs finished by `final_time`.
    pub completed: u32,
    /// Allocated jobs still running at the end.
    pub running: u32,
    /// Jobs waiting in a slot or the backlog at the end.
    pub waiting: u32,
    /// Jobs refused at arrival.
    pub rejected: u32,
    /// Jobs arriving after the end.
    pub not_arrived: u32,
    /// Mean slowdown over allocated jobs.
    pub mean_slowdown: Option<f64>,
    /// Mean slowdown over completed jobs.
    pub mean_slowdown_completed: Option<f64>,
    /// Mean completion time over allocated jobs, in time steps.
    pub mean_completion_time: Option<f64>,
    /// Latest finish, in time steps.
    pub makespan: u32,
    /// Return under the slowdown objective.
    pub total_reward: f64,
    /// Return under the completion-time objective.
    pub total_completion_reward: f64,
}

impl From<&Summary> for Metrics {
    fn from(s: &Summary) -> Self {
        Metrics {
            jobs: s.jobs,
            decisions: s.decisions,
            final_time: s.final_time,
            truncated: s.truncated,
            allocated: s.allocated,
            completed: s.completed,
            running: s.running,
            waiting: s.waiting,
            rejected: s.rejected,
            not_arrived: s.not_arrived,
            mean_slowdown: s.mean_slowdown,
            mean_slowdown_completed: s.mean_slowdown_completed,
            mean_completion_time: s.mean_completion_time,
            makespan: s.makespan,
            total_reward: s.total_reward,
            total_completion_reward: s.total_completion_reward,
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
    /// The model file.
    pub model: ModelRef,
    /// Job slots `M` (from the model).
    pub slots: u8,
    /// The end mode.
    pub end: EndRef,
    /// The rules every decision was projected onto; absent for a run without rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RulesRef>,
    /// The job file the jobs came from, as given (informational).
    pub source: String,
    /// The jobs, ids = positions.
    pub jobs: Vec<TraceJob>,
    /// Every decision, in order.
    pub decisions: Vec<Decision>,
    /// The metrics at the end.
    pub summary: Metrics,
}

impl Trace {
    /// The trace as JSON text: one line per job and per decision, so traces diff line by line.
    ///
    /// # Errors
    /// Never in practice (serialization of plain data).
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
        let rules = match &self.rules {
            Some(r) => format!("\n  \"rules\": {},", serde_json::to_string(r)?),
            None => String::new(),
        };
        Ok(format!(
            "{{\n  \"format\": {},\n  \"version\": {},\n  \"model\": {},\n  \"slots\": {},\n  \"end\": {},{}\n  \"source\": {},\n  \"jobs\": {},\n  \"decisions\": {},\n  \"summary\": {}\n}}\n",
            serde_json::to_string(&self.format)?,
            self.version,
            serde_json::to_string(&self.model)?,
            self.slots,
            serde_json::to_string(&self.end)?,
            rules,
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

/// A model's identity: its length and stored CRC-32.
fn model_ref(path: &str, bytes: &[u8]) -> ModelRef {
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

/// A learned policy that writes down every decision it makes, projected onto `projection`'s
/// rules when there are any (as the core's `Projected` scheduler decides).
struct Tracing<'m, E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize> {
    policy: MlpPolicy<'m, E, M, I, H, O>,
    projection: Option<&'m Projection>,
    decisions: Vec<Decision>,
}

/// `1`/`0` per entry.
fn flags(bits: impl Iterator<Item = bool>) -> String {
    bits.map(|v| if v { '1' } else { '0' }).collect()
}

impl<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize> Scheduler<M>
    for Tracing<'_, E, M, I, H, O>
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        self.policy.evaluate(cluster);
        let mut d = Decision {
            decision: u32::try_from(self.decisions.len()).unwrap_or(u32::MAX),
            time: cluster.now(),
            action: M,
            valid: flags(self.policy.valid().iter().copied()),
            logits_bits: self.policy.logits().iter().map(|l| l.to_bits()).collect(),
            ..Decision::default()
        };
        let action = match self.projection {
            None => self.policy.greedy()?,
            Some(p) => {
                let q = p.project(self.policy.logits(), self.policy.valid(), cluster)?;
                let rules = 0..p.rules().len();
                d.raw_choice = Some(q.raw_choice);
                d.rule_verdicts = Some(
                    rules
                        .clone()
                        .map(|l| RuleVerdict {
                            violates: flags(q.violated.iter().map(|v| v & (1 << l) != 0)),
                            truth_bits: q
                                .truth
                                .iter()
                                .map(|t| t.get(l).map_or(0, |x| x.to_bits()))
                                .collect(),
                        })
                        .collect(),
                );
                d.projected_probs_bits = Some(q.projected.iter().map(|x| x.to_bits()).collect());
                d.changed = Some(q.changed());
                d.changed_by = Some(rules.filter(|l| q.changed_by & (1 << l) != 0).collect());
                d.fallback_void = Some(q.fallback_void);
                q.action
            }
        };
        d.action = action.index(M);
        self.decisions.push(d);
        Ok(action)
    }
}

fn trace_net<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    mask_invalid: bool,
    jobs: &[Job],
    end: EndMode,
    projection: Option<&Projection>,
) -> Result<(Vec<Decision>, Summary)> {
    let mut episode: Episode<'_, M> = Episode::new(jobs, end, &mut ())?;
    let mut scheduler = Tracing::<E, M, I, H, O> {
        policy: MlpPolicy::new(net, mask_invalid),
        projection,
        decisions: Vec::new(),
    };
    let summary = run(&mut episode, &mut scheduler, &mut ())?;
    Ok((scheduler.decisions, summary))
}

/// Plays `jobs` with the greedy policy of `model`, projected onto `projection`'s rules if given,
/// and returns every decision and the metrics.
///
/// # Errors
/// Invalid jobs, or a policy error (a non-finite logit).
pub fn trace(
    model: &LoadedModel,
    jobs: &[Job],
    end: EndMode,
    projection: Option<&Projection>,
) -> Result<(Vec<Decision>, Summary)> {
    use whitebox_core::encoding::compact_len;
    use whitebox_core::image::image_len;
    let mask = model.header.meta.mask_invalid;
    match &model.net {
        AnyModel::Compact5(n) => {
            trace_net::<Compact, 5, { compact_len(5) }, HIDDEN, 6>(n, mask, jobs, end, projection)
        }
        AnyModel::Compact10(n) => trace_net::<Compact, 10, { compact_len(10) }, HIDDEN, 11>(
            n, mask, jobs, end, projection,
        ),
        AnyModel::Image5(n) => {
            trace_net::<Image, 5, { image_len(5) }, HIDDEN, 6>(n, mask, jobs, end, projection)
        }
        AnyModel::Image10(n) => {
            trace_net::<Image, 10, { image_len(10) }, HIDDEN, 11>(n, mask, jobs, end, projection)
        }
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

fn end_mode(e: &EndRef) -> Result<EndMode> {
    match e.mode.as_str() {
        "all-done" => Ok(End::AllDone.mode(e.simu_len, e.time_cap)),
        "no-new-job" => Ok(End::NoNewJob.mode(e.simu_len, e.time_cap)),
        other => bail!("`end.mode` = {other:?}, expected \"all-done\" or \"no-new-job\""),
    }
}

/// The jobs of a trace, checked as a job file's are.
fn trace_jobs(t: &Trace, path: &Path) -> Result<Vec<Job>> {
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

/// A trace's episode: its jobs, end mode and the recorded action (output index) of every
/// decision, for `whitebox explain --trace`. `model` must be the model file the trace names:
/// same length and CRC-32.
///
/// # Errors
/// An unreadable or invalid trace, or a model file other than the trace's.
pub fn episode_of(path: &Path, model: &Path) -> Result<(Vec<Job>, EndMode, Vec<usize>)> {
    let t = Trace::load(path)?;
    let bytes =
        std::fs::read(model).with_context(|| format!("cannot read model {}", model.display()))?;
    let found = model_ref(&t.model.path, &bytes);
    if (found.bytes, found.crc32) != (t.model.bytes, t.model.crc32) {
        bail!(
            "trace {} was recorded with {} ({} bytes, CRC-32 {:#010x}), but --model {} has {} \
             bytes, CRC-32 {:#010x}",
            path.display(),
            t.model.path,
            t.model.bytes,
            t.model.crc32,
            model.display(),
            found.bytes,
            found.crc32
        );
    }
    let end = end_mode(&t.end)?;
    let actions = t.decisions.iter().map(|d| d.action).collect();
    Ok((trace_jobs(&t, path)?, end, actions))
}

/// The resolved rules of a projection, as a trace records them.
fn rules_ref(given: &[String], p: &Projection) -> RulesRef {
    RulesRef {
        given: given.to_vec(),
        c: whitebox_runtime::rules::strength(p),
        c_bits: p.c().to_bits(),
        set: p
            .rules()
            .iter()
            .map(|(rule, lambda)| {
                let (kind, max) = match rule {
                    Rule::UtilizationCap { max } => ("utilization-cap", Some(max.get())),
                    Rule::WorkConserving { max } => ("work-conserving", Some(max.get())),
                    Rule::NoReservation => ("no-reservation", None),
                    Rule::BoundedWait { max, .. } => ("bounded-wait", Some(max.get())),
                };
                RuleRef {
                    rule: rule.to_string(),
                    kind: kind.to_string(),
                    max_permille: max,
                    wait_steps: match rule {
                        Rule::BoundedWait { steps, .. } => Some(*steps),
                        _ => None,
                    },
                    lambda_bits: lambda.to_bits(),
                }
            })
            .collect(),
    }
}

/// Records the trace of `model_path`'s greedy policy on `jobs`, projected onto the rules
/// `rules` (`--rule` texts; none for an unprojected run) with strength `c`.
///
/// # Errors
/// An unreadable or invalid model, a bad rule or strength, invalid jobs, or a policy error.
pub fn record(
    model_path: &Path,
    jobs: &[Job],
    source: &str,
    end: EndRef,
    rules: &[String],
    c: f32,
) -> Result<Trace> {
    let bytes = std::fs::read(model_path)
        .with_context(|| format!("cannot read model {}", model_path.display()))?;
    let model = whitebox_runtime::models::from_bytes(&bytes)
        .with_context(|| format!("invalid model file {}", model_path.display()))?;
    let projection = whitebox_runtime::rules::projection(rules, c)?;
    let (decisions, summary) = trace(&model, jobs, end_mode(&end)?, projection.as_ref())?;
    Ok(Trace {
        format: FORMAT.to_string(),
        version: VERSION,
        model: model_ref(&model_path.to_string_lossy(), &bytes),
        slots: model.header.spec.slots,
        end,
        rules: projection.as_ref().map(|p| rules_ref(rules, p)),
        source: source.to_string(),
        jobs: jobs
            .iter()
            .map(|j| TraceJob {
                arrival: j.arrival,
                len: j.len,
                res: j.res.to_vec(),
            })
            .collect(),
        decisions,
        summary: Metrics::from(&summary),
    })
}

/// The first place a replay differs from its trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Decision index, or `None` for the model or the final metrics.
    pub decision: Option<usize>,
    /// The field, e.g. `logits_bits[3]`.
    pub field: String,
    /// Value in the trace.
    pub expected: String,
    /// Value in the replay.
    pub got: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.decision {
            Some(d) => write!(f, "decision {d}")?,
            None => write!(f, "trace")?,
        }
        write!(
            f,
            ", field `{}`: expected {}, got {}",
            self.field, self.expected, self.got
        )
    }
}

fn bits(b: u32) -> String {
    format!("{b:#010x} ({:?})", f32::from_bits(b))
}

/// A JSON value as text (`null` for an absent field).
fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The first difference of two bit-pattern lists named `field` (`field[k]`), of `unit`s.
fn bits_divergence(
    decision: usize,
    field: &str,
    unit: &str,
    expected: &[u32],
    got: &[u32],
) -> Option<Divergence> {
    if expected.len() != got.len() {
        return Some(Divergence {
            decision: Some(decision),
            field: field.to_string(),
            expected: format!("{} {unit}", expected.len()),
            got: format!("{} {unit}", got.len()),
        });
    }
    let (k, (&e, &g)) = expected
        .iter()
        .zip(got.iter())
        .enumerate()
        .find(|(_, (a, b))| a != b)?;
    Some(Divergence {
        decision: Some(decision),
        field: format!("{field}[{k}]"),
        expected: bits(e),
        got: bits(g),
    })
}

/// The first difference in the rule fields of one decision (both traces with or without rules),
/// causes before effects: raw choice, rule verdicts (truth, then violation), projected
/// probabilities; the action is compared by the caller, then [`effects_divergence`].
fn projection_divergence(k: usize, e: &Decision, g: &Decision) -> Option<Divergence> {
    let div = |field: &str, ev: String, gv: String| {
        Some(Divergence {
            decision: Some(k),
            field: field.to_string(),
            expected: ev,
            got: gv,
        })
    };
    if e.raw_choice != g.raw_choice {
        return div("raw_choice", json(&e.raw_choice), json(&g.raw_choice));
    }
    match (&e.rule_verdicts, &g.rule_verdicts) {
        (Some(ev), Some(gv)) if ev.len() != gv.len() => {
            return div(
                "rule_verdicts",
                format!("{} rules", ev.len()),
                format!("{} rules", gv.len()),
            );
        }
        (Some(ev), Some(gv)) => {
            for (l, (er, gr)) in ev.iter().zip(gv.iter()).enumerate() {
                let field = format!("rule_verdicts[{l}].truth_bits");
                if let Some(d) =
                    bits_divergence(k, &field, "actions", &er.truth_bits, &gr.truth_bits)
                {
                    return Some(d);
                }
                if er.violates != gr.violates {
                    return div(
                        &format!("rule_verdicts[{l}].violates"),
                        er.violates.clone(),
                        gr.violates.clone(),
                    );
                }
            }
        }
        (ev, gv) if ev.is_some() != gv.is_some() => {
            return div("rule_verdicts", json(ev), json(gv));
        }
        _ => {}
    }
    match (&e.projected_probs_bits, &g.projected_probs_bits) {
        (Some(ep), Some(gp)) => bits_divergence(k, "projected_probs_bits", "probabilities", ep, gp),
        (ep, gp) if ep.is_some() != gp.is_some() => div("projected_probs_bits", json(ep), json(gp)),
        _ => None,
    }
}

/// The first difference in what the rules did to one decision, once its action agrees.
fn effects_divergence(k: usize, e: &Decision, g: &Decision) -> Option<Divergence> {
    let div = |field: &str, ev: String, gv: String| {
        Some(Divergence {
            decision: Some(k),
            field: field.to_string(),
            expected: ev,
            got: gv,
        })
    };
    if e.fallback_void != g.fallback_void {
        return div(
            "fallback_void",
            json(&e.fallback_void),
            json(&g.fallback_void),
        );
    }
    if e.changed != g.changed {
        return div("changed", json(&e.changed), json(&g.changed));
    }
    if e.changed_by != g.changed_by {
        return div("changed_by", json(&e.changed_by), json(&g.changed_by));
    }
    None
}

/// Compares a replayed trace with the expected one, field by field in file order.
pub fn first_divergence(expected: &Trace, got: &Trace) -> Option<Divergence> {
    let div = |decision, field: &str, e: String, g: String| {
        Some(Divergence {
            decision,
            field: field.to_string(),
            expected: e,
            got: g,
        })
    };
    if expected.model.crc32 != got.model.crc32 || expected.model.bytes != got.model.bytes {
        return div(
            None,
            "model",
            format!(
                "{} bytes, CRC-32 {:#010x}",
                expected.model.bytes, expected.model.crc32
            ),
            format!(
                "{} bytes, CRC-32 {:#010x}",
                got.model.bytes, got.model.crc32
            ),
        );
    }
    if expected.slots != got.slots {
        return div(
            None,
            "slots",
            expected.slots.to_string(),
            got.slots.to_string(),
        );
    }
    if expected.rules != got.rules {
        return div(None, "rules", json(&expected.rules), json(&got.rules));
    }
    for (k, (e, g)) in expected
        .decisions
        .iter()
        .zip(got.decisions.iter())
        .enumerate()
    {
        let d = Some(k);
        if e.decision != g.decision {
            return div(
                d,
                "decision",
                e.decision.to_string(),
                g.decision.to_string(),
            );
        }
        if e.time != g.time {
            return div(d, "time", e.time.to_string(), g.time.to_string());
        }
        if let Some(d) = bits_divergence(k, "logits_bits", "logits", &e.logits_bits, &g.logits_bits)
        {
            return Some(d);
        }
        if e.valid != g.valid {
            return div(d, "valid", e.valid.clone(), g.valid.clone());
        }
        if let Some(d) = projection_divergence(k, e, g) {
            return Some(d);
        }
        if e.action != g.action {
            return div(d, "action", e.action.to_string(), g.action.to_string());
        }
        if let Some(d) = effects_divergence(k, e, g) {
            return Some(d);
        }
    }
    if expected.decisions.len() != got.decisions.len() {
        let n = expected.decisions.len().min(got.decisions.len());
        return div(
            Some(n),
            "decisions",
            format!("{} decisions", expected.decisions.len()),
            format!("{} decisions", got.decisions.len()),
        );
    }
    let (e, g) = (
        serde_json::to_value(&expected.summary).unwrap_or_default(),
        serde_json::to_value(&got.summary).unwrap_or_default(),
    );
    if let (Some(e), Some(g)) = (e.as_object(), g.as_object()) {
        for (key, ev) in e {
            let gv = g.get(key).cloned().unwrap_or_default();
            if *ev != gv {
                return div(
                    None,
                    &format!("summary.{key}"),
                    ev.to_string(),
                    gv.to_string(),
                );
            }
        }
    }
    None
}

/// Finds the model of a trace: `explicit` if given, else its recorded path as given, else that
/// path relative to each directory above the trace file.
fn find_model(trace_path: &Path, recorded: &str, explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let recorded = Path::new(recorded);
    if recorded.is_file() {
        return Ok(recorded.to_path_buf());
    }
    let dir = trace_path
        .canonicalize()
        .unwrap_or_else(|_| trace_path.to_path_buf());
    dir.ancestors()
        .skip(1)
        .map(|a| a.join(recorded))
        .find(|p| p.is_file())
        .with_context(|| {
            format!(
                "model {} of trace {} not found (give it with --model)",
                recorded.display(),
                trace_path.display()
            )
        })
}

/// Replays one trace file: `Ok(None)` when identical, else the first divergence.
///
/// # Errors
/// An unreadable trace or model, or jobs/end mode the trace cannot describe.
pub fn replay(path: &Path, model: Option<&Path>) -> Result<Option<Divergence>> {
    let expected = Trace::load(path)?;
    let model_path = find_model(path, &expected.model.path, model)?;
    let jobs = trace_jobs(&expected, path)?;
    // Re-apply the recorded rules: the texts as given, with the recorded `C` bit for bit. A
    // change in how they resolve shows as a divergence of the field `rules`.
    let (rules, c) = match &expected.rules {
        Some(r) => (r.given.as_slice(), f32::from_bits(r.c_bits)),
        None => (&[][..], f32::INFINITY),
    };
    let mut got = record(
        &model_path,
        &jobs,
        &expected.source,
        expected.end.clone(),
        rules,
        c,
    )
    .with_context(|| format!("replaying {}", path.display()))?;
    got.model.path.clone_from(&expected.model.path);
    Ok(first_divergence(&expected, &got))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        let t = Trace {
            format: FORMAT.to_string(),
            version: VERSION,
            model: ModelRef {
                path: "m.model".into(),
                bytes: 10,
                crc32: 0xdead_beef,
            },
            slots: 5,
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
            summary: Metrics::from(&Summary {
                mean_slowdown: Some(1.0 / 3.0),
                total_reward: -0.1 - 0.2,
                ..Summary::default()
            }),
        };
        let text = t.to_text().expect("text");
        assert_eq!(Trace::parse(&text).expect("parse"), t);
        let mut other = t.clone();
        other.decisions[0].logits_bits[2] ^= 1;
        let d = first_divergence(&t, &other).expect("diverges");
        assert_eq!(d.decision, Some(0));
        assert_eq!(d.field, "logits_bits[2]");
        assert!(d.expected.starts_with("0x3f800000") && d.got.starts_with("0x3f800001"));
        assert_eq!(first_divergence(&t, &t), None);
        assert!(
            !text.contains("rules") && !text.contains("projected"),
            "{text}"
        );
    }

    #[test]
    fn rule_fields_round_trip_and_diverge_causes_first() {
        let given = vec!["util<=0.8".to_string(), "work-conserving".to_string()];
        let p = whitebox_runtime::rules::projection(&given, 6.0)
            .ok()
            .flatten()
            .unwrap_or_else(|| unreachable!());
        let r = rules_ref(&given, &p);
        assert_eq!(r.c, serde_json::json!(6.0));
        assert_eq!(r.set[1].rule, "work-conserving(util<=0.8)");
        assert_eq!(r.set[1].max_permille, Some(800));
        let one = 0x3f80_0000;
        let d = Decision {
            valid: "111".into(),
            logits_bits: vec![0; 3],
            action: 1,
            raw_choice: Some(0),
            rule_verdicts: Some(vec![
                RuleVerdict {
                    violates: "100".into(),
                    truth_bits: vec![0x3f00_0000, one, one],
                },
                RuleVerdict {
                    violates: "000".into(),
                    truth_bits: vec![one; 3],
                },
            ]),
            projected_probs_bits: Some(vec![0x3e00_0000, 0x3f00_0000, 0x3e80_0000]),
            changed: Some(true),
            changed_by: Some(vec![0]),
            fallback_void: Some(false),
            ..Decision::default()
        };
        let t = Trace {
            format: FORMAT.to_string(),
            version: VERSION,
            model: model_ref("m.model", &[0; 8]),
            slots: 2,
            end: end_ref(End::AllDone, 50, 100),
            rules: Some(r),
            source: "jobs.json".into(),
            jobs: Vec::new(),
            decisions: vec![d],
            summary: Metrics::from(&Summary::default()),
        };
        let text = t.to_text().expect("text");
        assert_eq!(Trace::parse(&text).expect("parse"), t);
        let field = |f: &dyn Fn(&mut Decision)| {
            let mut o = t.clone();
            f(&mut o.decisions[0]);
            first_divergence(&t, &o).map(|d| d.field)
        };
        let probs = |d: &mut Decision| {
            if let Some(p) = d.projected_probs_bits.as_mut() {
                p[2] ^= 1;
            }
        };
        assert_eq!(field(&probs).as_deref(), Some("projected_probs_bits[2]"));
        // A truth value is a cause of the probabilities: reported first.
        let both = |d: &mut Decision| {
            probs(d);
            if let Some(v) = d.rule_verdicts.as_mut() {
                v[1].truth_bits[0] = 0;
            }
        };
        assert_eq!(
            field(&both).as_deref(),
            Some("rule_verdicts[1].truth_bits[0]")
        );
        let changed = |d: &mut Decision| d.changed_by = Some(vec![]);
        assert_eq!(field(&changed).as_deref(), Some("changed_by"));
        let gone = |d: &mut Decision| d.projected_probs_bits = None;
        assert_eq!(field(&gone).as_deref(), Some("projected_probs_bits"));
        let mut other = t.clone();
        other.rules = None;
        assert_eq!(
            first_divergence(&t, &other).map(|d| d.field).as_deref(),
            Some("rules")
        );
    }
}
