//! `whitebox model quantize-report`: the int8 policy ([`whitebox_runtime::models::int8`]) against the
//! f32 one.
//!
//! On the states the f32 policy visits in held-out job sets, how often the int8 policy picks the
//! same action and how far its dequantized logits are from the f32 ones; the mean slowdown of
//! each over the same job sets, with the paired difference; and the bytes each needs for its
//! parameters.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::{Serialize, Serializer};
use whitebox_core::encoding::{Encoder, Encoding};
use whitebox_core::nn::Mlp;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::quant::{QMlp, QPolicy};
use whitebox_core::workload::JobGenerator;
use whitebox_core::{run, Action, Cluster, EndMode, Episode, Job, PolicyError, Scheduler};

use whitebox_runtime::models::int8::{load_int8, training_setting, AnyQModel, Calibration};
use whitebox_runtime::models::{ArchVisitor, F32, HIDDEN};
use whitebox_runtime::policy::{NamedPolicy, PolicyName};
use whitebox_runtime::settings::{jobset_seed, End, Slots, SIMU_LEN, TIME_CAP};
use whitebox_runtime::stats::{FlatKeys, MeanCi};

use crate::eval::{evaluate, paired_slowdown_difference, EvalConfig};

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

/// Mean slowdowns of both policies on the same job sets, each with its 95% interval (`None`:
/// no job set measured). Each is written as an object with the job sets measured `n`, the
/// `mean`, `ci95_low` and `ci95_high`.
#[derive(Clone, Debug, Serialize)]
pub struct Slowdowns {
    /// The f32 policy.
    #[serde(serialize_with = "mean_fields")]
    pub f32: Option<MeanCi>,
    /// The int8 policy.
    #[serde(serialize_with = "mean_fields")]
    pub int8: Option<MeanCi>,
    /// Per-job-set int8 minus f32.
    #[serde(serialize_with = "mean_fields")]
    pub int8_minus_f32: Option<MeanCi>,
}

fn mean_fields<S: Serializer>(c: &Option<MeanCi>, s: S) -> Result<S::Ok, S::Error> {
    FlatKeys {
        n: Some("n"),
        mean: "mean",
        low: "ci95_low",
        high: "ci95_high",
    }
    .serialize(c, s)
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

/// [`arch_report`] on one architecture, with the int8 network of the same architecture.
struct ArchReportOf<'a> {
    int8: &'a AnyQModel,
    mask: bool,
    jobsets: &'a [Vec<Job>],
}

impl ArchVisitor<'_, F32> for ArchReportOf<'_> {
    type Out = Result<ArchReport>;

    fn visit<E: Encoder, const M: usize, const I: usize, const O: usize>(
        self,
        net: &Mlp<I, HIDDEN, O>,
    ) -> Self::Out {
        let q = self
            .int8
            .net::<E, M, I, O>()
            .context("the int8 network does not have the f32 network's architecture")?;
        arch_report::<E, M, I, HIDDEN, O>(net, q, self.mask, self.jobsets)
    }
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
        bail!("rate = {rate}, must be in [0, 1]");
    }
    let slots = match loaded.slots() {
        5 => Slots::Five,
        10 => Slots::Ten,
        other => bail!("model has {other} job slots; 5 or 10 supported"),
    };
    let sets: Vec<Vec<Job>> = (0..jobsets)
        .map(|k| JobGenerator::new(workload, rate, SIMU_LEN, jobset_seed(seed, k)).collect())
        .collect();
    let arch = loaded.net.visit(ArchReportOf {
        int8: &int8.net,
        mask: loaded.header.meta.mask_invalid,
        jobsets: &sets,
    })?;

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
            f32: row("f32").and_then(|r| r.slowdown),
            int8: row("int8").and_then(|r| r.slowdown),
            int8_minus_f32: diff,
        },
        bytes: arch.bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model")
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
        assert_eq!(
            r.calibration.jobsets,
            whitebox_runtime::models::int8::CALIBRATION_JOBSETS
        );
        assert!(r.calibration.hidden_max > 0.0);
        assert!(r.slowdown.int8.is_some());
    }
}
