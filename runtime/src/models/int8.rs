//! Int8 models on the host: the `int8:PATH` policy, a model quantized at load time.
//!
//! `int8:PATH` loads the f32 model file and quantizes it with [`whitebox_core::quant`] at load
//! time, calibrated by a fixed procedure so the same file always gives the same int8 network:
//! the f32 policy (greedy, the model's own mask setting) plays [`CALIBRATION_JOBSETS`] job sets of
//! the model's training workload at its training rate, job set `k` seeded with
//! `jobset_seed(CALIBRATION_SEED, k)` as in `eval` (all-done, `simu_len` 50, time cap 10,000),
//! and the hidden scale is set by the largest hidden activation over every state it decides in.
//! The input range is [`INPUT_MAX`] = 1: both shipped encoders write features in `[0, 1]`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use whitebox_core::encoding::Encoder;
use whitebox_core::nn::Mlp;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::quant::{HiddenRange, QMlp, QuantError};
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::{run, Action, Cluster, EndMode, Episode, Job, PolicyError, Scheduler};

use crate::models::{Arch, ArchVisitor, Int8, LoadedModel, F32, HIDDEN};
use crate::settings::{jobset_seed, rate_from_f32, SIMU_LEN, TIME_CAP};

/// Job sets the calibration plays.
pub const CALIBRATION_JOBSETS: usize = 20;
/// Base seed of the calibration job sets (disjoint from `eval`'s and the demo's seeds).
pub const CALIBRATION_SEED: u64 = 424_242;
/// The input range `[0, INPUT_MAX]`: every feature of both shipped encoders is in `[0, 1]`, so
/// the input scale is `1 / 255`.
pub const INPUT_MAX: f32 = 1.0;

/// An int8 network of one of the shipped architectures.
pub type AnyQModel = Arch<Int8>;

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
///
/// # Errors
/// An unknown workload code, or a rate outside `[0, 1]`.
pub fn training_setting(loaded: &LoadedModel) -> Result<(Workload, f64)> {
    let meta = loaded.header.meta;
    let workload = Workload::from_code(meta.workload)
        .with_context(|| format!("unknown training workload code {}", meta.workload))?;
    // The decimal the rate was written from, as the demo reads it, so the job sets are the
    // demo's.
    let rate = rate_from_f32(meta.rate);
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
        bail!("calibration: {e}");
    }
    let q = QMlp::from_range(net, INPUT_MAX, &s.range)?;
    Ok((Box::new(q), s.range))
}

/// [`calibrate`] on one architecture.
struct Quantize {
    mask: bool,
    workload: Workload,
    rate: f64,
}

impl ArchVisitor<'_, F32> for Quantize {
    type Out = Result<(AnyQModel, HiddenRange)>;

    fn visit<E: Encoder, const M: usize, const I: usize, const O: usize>(
        self,
        net: &Mlp<I, HIDDEN, O>,
    ) -> Self::Out {
        let (q, range) = calibrate::<E, M, I, HIDDEN, O>(net, self.mask, self.workload, self.rate)?;
        let q = AnyQModel::from_net::<E, M, I, O>(q).context("no int8 architecture matches")?;
        Ok((q, range))
    }
}

/// Quantizes a loaded f32 model with the fixed calibration of the module docs.
///
/// # Errors
/// An unknown training workload or rate in the header, or a [`QuantError`] (for example a
/// network whose hidden units are never active on the calibration states).
pub fn quantize(loaded: &LoadedModel) -> Result<Int8Model> {
    let (workload, rate) = training_setting(loaded)?;
    let mask = loaded.header.meta.mask_invalid;
    let (net, range) = loaded.net.visit(Quantize {
        mask,
        workload,
        rate,
    })?;
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
