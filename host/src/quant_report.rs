//! Int8 models on the host: the `int8:PATH` policy and `whitebox model quantize-report`.
//!
//! `int8:PATH` loads the f32 model file and quantizes it with [`whitebox_core::quant`] at load
//! time, calibrated by a fixed procedure so the same file always gives the same int8 network:
//! the f32 policy (greedy, the model's own mask setting) plays [`CALIBRATION_JOBSETS`] job sets of
//! the model's training workload at its training rate, job set `k` seeded with
//! `jobset_seed(CALIBRATION_SEED, k)` as in `eval` (all-done, `simu_len` 50, time cap 10,000),
//! and the hidden scale is set by the largest hidden activation over every state it decides in.
//! The input range is [`INPUT_MAX`] = 1: both shipped encoders write features in `[0, 1]`.
//!
//! `quantize-report` compares the int8 policy with the f32 one: on the states the f32 policy
//! visits in held-out job sets, how often the int8 policy picks the same action and how far its
//! dequantized logits are from the f32 ones; the mean slowdown of each over the same job sets,
//! with the paired difference; and the bytes each needs for its parameters.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use whitebox_core::encoding::{compact_len, Compact, Encoder, Encoding, Image};
use whitebox_core::image::image_len;
use whitebox_core::nn::Mlp;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::quant::{HiddenRange, QMlp, QPolicy, QuantError};
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::Preference;
use whitebox_core::{run, Action, Cluster, EndMode, Episode, Job, PolicyError, Scheduler};

use crate::demo::{SIMU_LEN, TIME_CAP};
use crate::eval::{evaluate, jobset_seed, paired_slowdown_difference, EvalConfig, EvalRow};
use crate::models::{AnyModel, Decide, LoadedModel, HIDDEN};
use crate::play::{End, Slots};
use crate::policy::{NamedPolicy, PolicyName};

/// Job sets the calibration plays.
pub const CALIBRATION_JOBSETS: usize = 20;
/// Base seed of the calibration job sets (disjoint from `eval`'s and the demo's seeds).
pub const CALIBRATION_SEED: u64 = 424_242;
/// The input range `[0, INPUT_MAX]`: every feature of both shipped encoders is in `[0, 1]`, so
/// the input scale is `1 / 255`.
pub const INPUT_MAX: f32 = 1.0;

/// Int8 compact encoder, 5 slots.
pub type QCompact5 = QMlp<{ compact_len(5) }, HIDDEN, 6>;
/// Int8 compact encoder, 10 slots.
pub type QCompact10 = QMlp<{ compact_len(10) }, HIDDEN, 11>;
/// Int8 image encoder, 5 slots.
pub type QImage5 = QMlp<{ image_len(5) }, HIDDEN, 6>;
/// Int8 image encoder, 10 slots.
pub type QImage10 = QMlp<{ image_len(10) }, HIDDEN, 11>;

/// An int8 network of one of the shipped architectures.
#[derive(Clone, Debug)]
pub enum AnyQModel {
    /// Compact encoder, 5 slots.
    Compact5(Box<QCompact5>),
    /// Compact encoder, 10 slots.
    Compact10(Box<QCompact10>),
    /// Image encoder, 5 slots.
    Image5(Box<QImage5>),
    /// Image encoder, 10 slots.
    Image10(Box<QImage10>),
}

/// How an int8 network was calibrated.
#[derive(Clone, Debug, Serialize)]
pub struct Calibration {
    /// Workload the calibration job sets were drawn from (the model's training workload).
    pub workload: &'static str,
    /// Their arrival rate (the model's training rate).
    pub rate: f64,
    /// Job sets played.
    pub jobsets: usize,
    /// Base seed; job set `k` uses `seed * 1000003 + k`.
    pub seed: u64,
    /// Decisions (states) observed.
    pub decisions: u64,
    /// Largest hidden activation observed: the hidden scale is this / 255.
    pub hidden_max: f32,
    /// Input range: the input scale is this / 255.
    pub input_max: f32,
}

/// A model quantized to int8, with what the decision needs from its header.
#[derive(Clone, Debug)]
pub struct Int8Model {
    /// The int8 network.
    pub net: AnyQModel,
    /// Whether invalid actions are masked (from the model's training metadata).
    pub mask_invalid: bool,
    /// Job slots the model decides for.
    pub slots: usize,
    /// How it was calibrated.
    pub calibration: Calibration,
}

/// Plays with a float policy and records the range of its hidden activations.
struct Calibrating<'a, E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize> {
    policy: MlpPolicy<'a, E, M, I, H, O>,
    range: HiddenRange,
    error: Option<QuantError>,
}

impl<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize> Scheduler<M>
    for Calibrating<'_, E, M, I, H, O>
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        self.policy.evaluate(cluster);
        if let Err(e) = self.range.observe(self.policy.hidden()) {
            self.error.get_or_insert(e);
        }
        self.policy.greedy()
    }
}

/// The workload and rate a model was trained on.
fn training_setting(loaded: &LoadedModel) -> Result<(Workload, f64)> {
    let meta = loaded.header.meta;
    let workload = Workload::from_code(meta.workload)
        .with_context(|| format!("unknown training workload code {}", meta.workload))?;
    // The decimal the rate was written from (0.7, not 0.699999988), as the demo reads it, so
    // the job sets are the demo's.
    let rate: f64 = meta.rate.to_string().parse().unwrap_or(f64::NAN);
    if !(0.0..=1.0).contains(&rate) {
        bail!("training rate {rate} in the model header is outside [0, 1]");
    }
    Ok((workload, rate))
}

fn calibrate<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    mask: bool,
    workload: Workload,
    rate: f64,
) -> Result<(Box<QMlp<I, H, O>>, HiddenRange)> {
    let mut s = Calibrating::<E, M, I, H, O> {
        policy: MlpPolicy::new(net, mask),
        range: HiddenRange::default(),
        error: None,
    };
    let end = EndMode::AllDone { time_cap: TIME_CAP };
    for k in 0..CALIBRATION_JOBSETS {
        let seed = jobset_seed(CALIBRATION_SEED, k);
        let jobs: Vec<Job> = JobGenerator::new(workload, rate, SIMU_LEN, seed).collect();
        let mut episode: Episode<'_, M> = Episode::new(&jobs, end, &mut ())?;
        run(&mut episode, &mut s, &mut ())?;
    }
    if let Some(e) = s.error {
        return Err(e).context("calibration");
    }
    let q = QMlp::from_range(net, INPUT_MAX, &s.range)?;
    Ok((Box::new(q), s.range))
}

/// Quantizes a loaded f32 model with the fixed calibration of the module docs.
///
/// # Errors
/// An unknown training workload or rate in the header, or a [`QuantError`] (for example a
/// network whose hidden units are never active on the calibration states).
pub fn quantize(loaded: &LoadedModel) -> Result<Int8Model> {
    let (workload, rate) = training_setting(loaded)?;
    let mask = loaded.header.meta.mask_invalid;
    let (net, range) = match &loaded.net {
        AnyModel::Compact5(n) => {
            let (q, r) =
                calibrate::<Compact, 5, { compact_len(5) }, HIDDEN, 6>(n, mask, workload, rate)?;
            (AnyQModel::Compact5(q), r)
        }
        AnyModel::Compact10(n) => {
            let (q, r) =
                calibrate::<Compact, 10, { compact_len(10) }, HIDDEN, 11>(n, mask, workload, rate)?;
            (AnyQModel::Compact10(q), r)
        }
        AnyModel::Image5(n) => {
            let (q, r) =
                calibrate::<Image, 5, { image_len(5) }, HIDDEN, 6>(n, mask, workload, rate)?;
            (AnyQModel::Image5(q), r)
        }
        AnyModel::Image10(n) => {
            let (q, r) =
                calibrate::<Image, 10, { image_len(10) }, HIDDEN, 11>(n, mask, workload, rate)?;
            (AnyQModel::Image10(q), r)
        }
    };
    Ok(Int8Model {
        net,
        mask_invalid: mask,
        slots: loaded.slots(),
        calibration: Calibration {
            workload: workload.name(),
            rate,
            jobsets: CALIBRATION_JOBSETS,
            seed: CALIBRATION_SEED,
            decisions: range.samples,
            hidden_max: range.max,
            input_max: INPUT_MAX,
        },
    })
}

/// Loads a model file and quantizes it (the policy `int8:PATH`): the returned model decides
/// with its int8 network.
///
/// # Errors
/// As [`crate::models::load`] and [`quantize`].
pub fn load_int8(path: &Path) -> Result<LoadedModel> {
    let mut loaded = crate::models::load(path)?;
    let q = quantize(&loaded).with_context(|| format!("cannot quantize {}", path.display()))?;
    loaded.int8 = Some(Arc::new(q));
    Ok(loaded)
}

macro_rules! impl_decide_int8 {
    ($m:literal, $compact:ident, $image:ident) => {
        impl Decide<$m> for Int8Model {
            fn decide_greedy(&self, cluster: &Cluster<$m>) -> Result<Action, PolicyError> {
                let mask = self.mask_invalid;
                match &self.net {
                    AnyQModel::$compact(q) => {
                        QPolicy::<'_, Compact, $m, { compact_len($m) }, HIDDEN, { $m + 1 }>::new(
                            q, mask,
                        )
                        .decide(cluster)
                    }
                    AnyQModel::$image(q) => {
                        QPolicy::<'_, Image, $m, { image_len($m) }, HIDDEN, { $m + 1 }>::new(
                            q, mask,
                        )
                        .decide(cluster)
                    }
                    _ => Err(PolicyError::WrongSlots {
                        policy: self.slots,
                        cluster: $m,
                    }),
                }
            }

            fn preference<const O: usize>(
                &self,
                cluster: &Cluster<$m>,
                logits: &mut [f32; O],
                valid: &mut [bool; O],
            ) -> Result<(), PolicyError> {
                let mask = self.mask_invalid;
                match &self.net {
                    AnyQModel::$compact(q) => {
                        QPolicy::<'_, Compact, $m, { compact_len($m) }, HIDDEN, { $m + 1 }>::new(
                            q, mask,
                        )
                        .preference(cluster, logits, valid)
                    }
                    AnyQModel::$image(q) => {
                        QPolicy::<'_, Image, $m, { image_len($m) }, HIDDEN, { $m + 1 }>::new(
                            q, mask,
                        )
                        .preference(cluster, logits, valid)
                    }
                    _ => Err(PolicyError::WrongSlots {
                        policy: self.slots,
                        cluster: $m,
                    }),
                }
            }
        }
    };
}

impl_decide_int8!(5, Compact5, Image5);
impl_decide_int8!(10, Compact10, Image10);

/// Agreement counts over decisions.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    decisions: u64,
    same: u64,
    /// Allowed logits compared, their summed and largest `|int8 - f32|`.
    logits: u64,
    err_sum: f64,
    err_max: f64,
    /// Summed `|f32 logit|` over the same logits, for scale.
    abs_sum: f64,
    /// Hidden codes at 255 (activations clipped by the calibrated range), out of `hidden`.
    saturated: u64,
    hidden: u64,
}

impl Counts {
    fn add(mut self, o: &Counts) -> Counts {
        self.decisions += o.decisions;
        self.same += o.same;
        self.logits += o.logits;
        self.err_sum += o.err_sum;
        self.err_max = self.err_max.max(o.err_max);
        self.abs_sum += o.abs_sum;
        self.saturated += o.saturated;
        self.hidden += o.hidden;
        self
    }
}

/// Follows the f32 policy and asks the int8 policy about the same states.
struct Paired<'a, E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize> {
    f32: MlpPolicy<'a, E, M, I, H, O>,
    int8: QPolicy<'a, E, M, I, H, O>,
    counts: Counts,
}

impl<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize> Scheduler<M>
    for Paired<'_, E, M, I, H, O>
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        self.f32.evaluate(cluster);
        let action = self.f32.greedy()?;
        self.int8.evaluate(cluster);
        let c = &mut self.counts;
        c.decisions += 1;
        c.same += u64::from(self.int8.greedy() == Ok(action));
        let mut deq = [0.0f32; O];
        self.int8.net().dequantize(self.int8.logits(), &mut deq);
        for ((&q, &f), &v) in deq.iter().zip(self.f32.logits()).zip(self.int8.valid()) {
            if v {
                let e = (f64::from(q) - f64::from(f)).abs();
                c.logits += 1;
                c.err_sum += e;
                c.err_max = c.err_max.max(e);
                c.abs_sum += f64::from(f).abs();
            }
        }
        c.hidden += H as u64;
        c.saturated += self.int8.hidden().iter().filter(|&&h| h == u8::MAX).count() as u64;
        Ok(action)
    }
}

/// Parameter bytes of the f32 network and of the int8 one.
#[derive(Clone, Debug, Serialize)]
pub struct Bytes {
    /// `4 * PARAMS`: every weight and bias as `f32`.
    pub f32: usize,
    /// The int8 network's parts.
    pub int8: Int8Bytes,
    /// `f32 / int8.total`.
    pub ratio: f64,
}

/// What the int8 network needs for inference ([`QMlp::INT8_BYTES`]).
#[derive(Clone, Debug, Serialize)]
pub struct Int8Bytes {
    /// `i8` weights, `H * I + O * H`.
    pub weights: usize,
    /// `i32` biases, `4 * (H + O)`.
    pub biases: usize,
    /// Per-unit `i32` multiplier and `i32` shift, `8 * (H + O)`.
    pub requant: usize,
    /// The `f32` input and output scales.
    pub scales: usize,
    /// The sum.
    pub total: usize,
}

/// The int8 network's scales.
#[derive(Clone, Debug, Serialize)]
pub struct Scales {
    /// Input scale `s_in = input_max / 255`.
    pub input: f32,
    /// Hidden scale `s_h = hidden_max / 255`.
    pub hidden: f32,
    /// Logit scale `s_out`.
    pub output: f32,
}

/// Decision agreement on the states the f32 policy visits.
#[derive(Clone, Debug, Serialize)]
pub struct Agreement {
    /// Decisions of the f32 policy.
    pub decisions: u64,
    /// Those where the int8 policy picks the same action.
    pub same_action: u64,
    /// `same_action / decisions`.
    pub fraction: f64,
    /// Mean `|int8 - f32|` over the allowed logits of every decision (int8 dequantized).
    pub mean_abs_logit_error: f64,
    /// Largest such difference.
    pub max_abs_logit_error: f64,
    /// Mean `|f32 logit|` over the same logits, for scale.
    pub mean_abs_f32_logit: f64,
    /// Share of hidden codes at 255, that is activations above the calibrated range.
    pub hidden_saturated: f64,
}

/// A mean slowdown with its 95% interval.
#[derive(Clone, Debug, Serialize)]
pub struct Mean {
    /// Job sets measured.
    pub n: usize,
    /// The mean.
    pub mean: Option<f64>,
    /// Low end of the 95% interval.
    pub ci95_low: Option<f64>,
    /// High end of the 95% interval.
    pub ci95_high: Option<f64>,
}

/// Mean slowdowns of both policies on the same job sets.
#[derive(Clone, Debug, Serialize)]
pub struct Slowdowns {
    /// The f32 policy.
    pub f32: Mean,
    /// The int8 policy.
    pub int8: Mean,
    /// Per-job-set int8 minus f32.
    pub int8_minus_f32: Mean,
}

/// The JSON report of `whitebox model quantize-report`.
#[derive(Clone, Debug, Serialize)]
pub struct QuantReport {
    /// The model file.
    pub model: PathBuf,
    /// Its encoder.
    pub encoding: &'static str,
    /// Network shape `[inputs, hidden, outputs]`.
    pub shape: [usize; 3],
    /// Job slots.
    pub slots: usize,
    /// Workload of the job sets (the training workload).
    pub workload: &'static str,
    /// Their arrival rate.
    pub rate: f64,
    /// Job sets.
    pub jobsets: usize,
    /// Base seed; job set `k` uses `seed * 1000003 + k`.
    pub seed: u64,
    /// End mode of the episodes (`all-done`, `simu_len` 50, time cap 10,000).
    pub end: &'static str,
    /// How the int8 network was calibrated.
    pub calibration: Calibration,
    /// Its scales.
    pub scales: Scales,
    /// Decision agreement.
    pub agreement: Agreement,
    /// Mean slowdowns.
    pub slowdown: Slowdowns,
    /// Parameter bytes.
    pub bytes: Bytes,
}

struct ArchReport {
    counts: Counts,
    scales: Scales,
    bytes: Bytes,
    shape: [usize; 3],
}

fn arch_report<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    q: &QMlp<I, H, O>,
    mask: bool,
    jobsets: &[Vec<Job>],
) -> Result<ArchReport> {
    let end = EndMode::AllDone { time_cap: TIME_CAP };
    let per_set = jobsets
        .par_iter()
        .map(|jobs| {
            let mut s = Paired::<E, M, I, H, O> {
                f32: MlpPolicy::new(net, mask),
                int8: QPolicy::new(q, mask),
                counts: Counts::default(),
            };
            let mut episode: Episode<'_, M> = Episode::new(jobs, end, &mut ())?;
            run(&mut episode, &mut s, &mut ())?;
            Ok(s.counts)
        })
        .collect::<Result<Vec<_>>>()?;
    // Summed in job-set order, so the report does not depend on the thread count.
    let counts = per_set.iter().fold(Counts::default(), |acc, c| acc.add(c));
    let f32_bytes = 4 * Mlp::<I, H, O>::PARAMS;
    let total = QMlp::<I, H, O>::INT8_BYTES;
    Ok(ArchReport {
        counts,
        scales: Scales {
            input: q.input_scale(),
            hidden: q.hidden_scale(),
            output: q.output_scale(),
        },
        bytes: Bytes {
            f32: f32_bytes,
            int8: Int8Bytes {
                weights: QMlp::<I, H, O>::WEIGHT_BYTES,
                biases: QMlp::<I, H, O>::BIAS_BYTES,
                requant: QMlp::<I, H, O>::REQUANT_BYTES,
                scales: QMlp::<I, H, O>::SCALE_BYTES,
                total,
            },
            ratio: f32_bytes as f64 / total as f64,
        },
        shape: [I, H, O],
    })
}

fn mean_of(row: Option<&EvalRow>) -> Mean {
    Mean {
        n: row.map_or(0, |r| r.measured),
        mean: row.and_then(|r| r.mean_slowdown),
        ci95_low: row.and_then(|r| r.ci95_low),
        ci95_high: row.and_then(|r| r.ci95_high),
    }
}

/// Runs `whitebox model quantize-report`: `jobsets` job sets of the model's training workload
/// at `rate` (default: the training rate), seeded from `seed`.
///
/// # Errors
/// An invalid model file, a rate outside `[0, 1]`, or a failed quantization.
pub fn report(model: &Path, jobsets: usize, seed: u64, rate: Option<f64>) -> Result<QuantReport> {
    let loaded = load_int8(model)?;
    let Some(int8) = loaded.int8.clone() else {
        bail!("model {} was not quantized", model.display());
    };
    let (workload, training_rate) = training_setting(&loaded)?;
    let rate = rate.unwrap_or(training_rate);
    if !(0.0..=1.0).contains(&rate) {
        bail!("--rate = {rate}, must be in [0, 1]");
    }
    let slots = match loaded.slots() {
        5 => Slots::Five,
        10 => Slots::Ten,
        other => bail!("model has {other} job slots; 5 or 10 supported"),
    };
    let sets: Vec<Vec<Job>> = (0..jobsets)
        .map(|k| JobGenerator::new(workload, rate, SIMU_LEN, jobset_seed(seed, k)).collect())
        .collect();
    let mask = loaded.header.meta.mask_invalid;
    let arch = match (&loaded.net, &int8.net) {
        (AnyModel::Compact5(n), AnyQModel::Compact5(q)) => {
            arch_report::<Compact, 5, { compact_len(5) }, HIDDEN, 6>(n, q, mask, &sets)?
        }
        (AnyModel::Compact10(n), AnyQModel::Compact10(q)) => {
            arch_report::<Compact, 10, { compact_len(10) }, HIDDEN, 11>(n, q, mask, &sets)?
        }
        (AnyModel::Image5(n), AnyQModel::Image5(q)) => {
            arch_report::<Image, 5, { image_len(5) }, HIDDEN, 6>(n, q, mask, &sets)?
        }
        (AnyModel::Image10(n), AnyQModel::Image10(q)) => {
            arch_report::<Image, 10, { image_len(10) }, HIDDEN, 11>(n, q, mask, &sets)?
        }
        _ => bail!("the int8 network does not have the f32 network's architecture"),
    };

    let cfg = EvalConfig {
        workloads: vec![workload],
        rates: vec![rate],
        jobsets,
        seed,
        policies: vec![
            NamedPolicy::labelled("f32", PolicyName::Model(model.to_path_buf())),
            NamedPolicy::labelled("int8", PolicyName::Int8(model.to_path_buf())),
        ],
        slots,
        end: End::AllDone,
        simu_len: SIMU_LEN,
        time_cap: TIME_CAP,
        tetris_knob: 0.5,
        job_slowdowns: false,
    };
    let eval = evaluate(&cfg, &|| {})?;
    let row = |label: &str| eval.rows.iter().find(|r| r.policy == label);
    let diff = row("f32")
        .zip(row("int8"))
        .and_then(|(f, q)| paired_slowdown_difference(q, f));
    let c = arch.counts;
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(QuantReport {
        model: model.to_path_buf(),
        encoding: loaded.encoding().map_or("unknown", Encoding::name),
        shape: arch.shape,
        slots: slots.count(),
        workload: workload.name(),
        rate,
        jobsets,
        seed,
        end: End::AllDone.name(),
        calibration: int8.calibration.clone(),
        scales: arch.scales,
        agreement: Agreement {
            decisions: c.decisions,
            same_action: c.same,
            fraction: ratio(c.same, c.decisions),
            mean_abs_logit_error: if c.logits == 0 {
                0.0
            } else {
                c.err_sum / c.logits as f64
            },
            max_abs_logit_error: c.err_max,
            mean_abs_f32_logit: if c.logits == 0 {
                0.0
            } else {
                c.abs_sum / c.logits as f64
            },
            hidden_saturated: ratio(c.saturated, c.hidden),
        },
        slowdown: Slowdowns {
            f32: mean_of(row("f32")),
            int8: mean_of(row("int8")),
            int8_minus_f32: Mean {
                n: diff.map_or(0, |d| d.n),
                mean: diff.map(|d| d.mean),
                ci95_low: diff.and_then(|d| d.ci95.map(|c| c.0)),
                ci95_high: diff.and_then(|d| d.ci95.map(|c| c.1)),
            },
        },
        bytes: arch.bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/default.model")
    }

    #[test]
    fn int8_policy_decides_and_reports_the_shipped_model() {
        let r = report(&shipped(), 3, 1, None).expect("report");
        assert_eq!(r.shape, [82, 20, 11]);
        // 82 * 20 + 11 * 20 = 1860 weights, (20 + 11) * 4 = 124 bias bytes, (20 + 11) * 8 = 248
        // requantization bytes, 8 scale bytes; f32: 4 * (1640 + 20 + 220 + 11) = 7564.
        assert_eq!(r.bytes.f32, 7564);
        assert_eq!(r.bytes.int8.total, 1860 + 124 + 248 + 8);
        assert!(r.agreement.decisions > 0);
        assert!((0.0..=1.0).contains(&r.agreement.fraction));
        assert_eq!(r.calibration.jobsets, CALIBRATION_JOBSETS);
        assert!(r.calibration.hidden_max > 0.0);
        assert!(r.slowdown.int8.mean.is_some());
    }
}
