//! The int8 network [`QMlp`] (scheme in the [module docs](super)), its calibration
//! ([`HiddenRange`]) and quantization from an `f32` [`Mlp`] ([`QMlp::quantize`],
//! [`QMlp::from_range`], failing with a [`QuantError`]).

use core::fmt;

use super::fixed::{CodeRequant, Multiplier};
use super::kernel::quantize_code;
use super::packed::PackedRows;
use crate::network::Network;
use crate::nn::Mlp;

/// Largest activation code: activations are `u8` with zero point 0.
pub const ACT_MAX: i32 = 255;
/// Largest weight magnitude: weights are symmetric `i8` in `[-127, 127]`.
pub const WEIGHT_MAX: i32 = 127;

/// A tensor whose range sets a scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tensor {
    /// The network input (`input_max`).
    Input,
    /// The hidden activations (calibrated maximum).
    Hidden,
}

/// A layer of the quantized network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QLayer {
    /// Input to hidden.
    Hidden,
    /// Hidden to output.
    Output,
}

/// What does not fit in its integer type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// The bias at scale `s_in * s_w` is beyond `i32`.
    Bias,
    /// The requantization multiplier is `2^30` or more (or not finite).
    Multiplier,
    /// The worst-case accumulator (or its requantized value) could leave `i32`.
    Accumulator,
    /// A weight is -128, outside the symmetric range `[-127, 127]`.
    Weight,
}

/// Why a network could not be quantized.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QuantError {
    /// The float network has a NaN or infinite parameter (index in [`Mlp::params`] order).
    NonFiniteWeight {
        /// Parameter index.
        index: usize,
    },
    /// A calibration sample produced a NaN or infinite hidden activation.
    NonFiniteActivation {
        /// Sample index, from 0.
        sample: u64,
    },
    /// No calibration sample was given.
    NoCalibration,
    /// A range that sets a scale is zero, negative or not finite (for the hidden layer: every
    /// calibration activation was 0), so the scale would be 0 or undefined.
    ZeroRange {
        /// Which tensor.
        tensor: Tensor,
        /// The range found.
        max: f32,
    },
    /// A quantized quantity does not fit its integer type.
    OutOfRange {
        /// Which layer.
        layer: QLayer,
        /// Output unit of that layer.
        unit: usize,
        /// What does not fit.
        what: Quantity,
    },
}

impl fmt::Display for QuantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantError::NonFiniteWeight { index } => {
                write!(f, "weight {index} is NaN or infinite; cannot quantize")
            }
            QuantError::NonFiniteActivation { sample } => write!(
                f,
                "calibration sample {sample} gives a NaN or infinite hidden activation"
            ),
            QuantError::NoCalibration => f.write_str("no calibration sample was given"),
            QuantError::ZeroRange { tensor, max } => {
                let t = match tensor {
                    Tensor::Input => "input range",
                    Tensor::Hidden => "calibrated hidden-activation range",
                };
                write!(f, "{t} is {max}; it must be a finite number above 0")
            }
            QuantError::OutOfRange { layer, unit, what } => {
                let l = match layer {
                    QLayer::Hidden => "hidden",
                    QLayer::Output => "output",
                };
                let w = match what {
                    Quantity::Bias => "bias does not fit in int32",
                    Quantity::Multiplier => "requantization multiplier is 2^30 or more",
                    Quantity::Accumulator => "worst-case accumulator does not fit in int32",
                    Quantity::Weight => "a weight is -128, outside [-127, 127]",
                };
                write!(f, "{l} unit {unit}: {w}")
            }
        }
    }
}

impl core::error::Error for QuantError {}

/// The largest hidden activation over calibration samples, accumulated one sample at a time
/// (so the samples need not be stored).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HiddenRange {
    /// Largest activation seen, 0 before any sample.
    pub max: f32,
    /// Samples seen.
    pub samples: u64,
}

impl HiddenRange {
    /// Adds one sample's hidden activations (shape `[H]`, after ReLU).
    ///
    /// # Errors
    /// [`QuantError::NonFiniteActivation`] for a NaN or infinite activation.
    pub fn observe<const H: usize>(&mut self, hidden: &[f32; H]) -> Result<(), QuantError> {
        for &h in hidden {
            if !h.is_finite() {
                return Err(QuantError::NonFiniteActivation {
                    sample: self.samples,
                });
            }
            self.max = self.max.max(h);
        }
        self.samples = self.samples.saturating_add(1);
        Ok(())
    }
}

/// An int8 network `I -> H (ReLU) -> O`; see the module docs for the scheme. Built only by
/// [`QMlp::quantize`] or [`QMlp::from_range`], which check every bound the integer path relies on.
#[derive(Clone, Debug, PartialEq)]
pub struct QMlp<const I: usize, const H: usize, const O: usize> {
    pub(super) b1: [i32; H],
    pub(super) m1: [Multiplier; H],
    /// `m1` prepared for the hidden codes ([`CodeRequant`]).
    pub(super) c1: [CodeRequant; H],
    /// The hidden weights `w1`, packed for the multiply-accumulate of two units at once
    /// ([`PackedRows`]).
    pub(super) p1: PackedRows<I, H>,
    /// The output weights `w2`, packed likewise.
    pub(super) p2: PackedRows<H, O>,
    pub(super) b2: [i32; O],
    pub(super) m2: [Multiplier; O],
    pub(super) input_scale: f32,
    pub(super) input_inv_scale: f32,
    pub(super) hidden_scale: f32,
    pub(super) output_scale: f32,
    pub(super) w1_scale: [f32; H],
    pub(super) w2_scale: [f32; O],
}

/// Symmetric per-channel weights: `s = max |w| / 127` (`zero_scale` for an all-zero channel),
/// `q = clamp(round(w / s), -127, 127)`; returns `s`.
fn quantize_row<const N: usize>(w: &[f32; N], q: &mut [i8; N], zero_scale: f32) -> f32 {
    let max = w.iter().fold(0.0f32, |m, &x| m.max(libm::fabsf(x)));
    let scale = max / WEIGHT_MAX as f32;
    let scale = if scale > 0.0 { scale } else { zero_scale };
    for (q, &x) in q.iter_mut().zip(w.iter()) {
        let r = libm::roundf(x / scale).clamp(-(WEIGHT_MAX as f32), WEIGHT_MAX as f32);
        // In [-127, 127] (a NaN cannot occur: weights are checked finite, scale > 0).
        *q = r as i8;
    }
    scale
}

/// `round(b / scale)` as an `i32`, if it fits (a NaN or infinity does not).
fn quantize_bias(b: f32, scale: f64) -> Option<i32> {
    let r = libm::round(f64::from(b) / scale);
    (f64::from(i32::MIN)..=f64::from(i32::MAX))
        .contains(&r)
        .then_some(r as i32)
}

/// `bias + sum_i w[i] * x[i]` in int32, one row at a time: the reference form of
/// `kernel::dot_rows`. Each product is at most `127 * 255` in magnitude and the quantizer bounds
/// the sum, so the wrapping adds never wrap.
#[cfg(test)]
fn dot_q<const N: usize>(bias: i32, w: &[i8; N], x: &[u8; N]) -> i32 {
    w.iter().zip(x.iter()).fold(bias, |acc, (&w, &x)| {
        acc.wrapping_add(i32::from(w) * i32::from(x))
    })
}

/// Each multiplier of `m` prepared for the hidden codes. `const`, for [`QMlp::from_parts`].
pub(super) const fn code_requants<const H: usize>(m: &[Multiplier; H]) -> [CodeRequant; H] {
    let mut c = [CodeRequant::new(Multiplier { q: 0, shift: 0 }); H];
    let mut j = 0;
    while j < H {
        c[j] = CodeRequant::new(m[j]);
        j += 1;
    }
    c
}

/// The worst-case magnitude of `bias + sum of n products`, in i64.
pub(super) const fn worst_acc(bias: i32, n: usize) -> i64 {
    // Network shapes are far below i64::MAX.
    let n = if n as u64 > i64::MAX as u64 {
        i64::MAX
    } else {
        n as i64
    };
    (bias as i64)
        .abs()
        .saturating_add(n.saturating_mul((WEIGHT_MAX * ACT_MAX) as i64))
}

/// Checks that [`Multiplier::apply`] of every accumulator up to `worst` in magnitude stays in
/// range: the left shift, and the product `worst * M` (plus one for rounding).
pub(super) const fn fits_after(worst: i64, m: Multiplier) -> bool {
    let limit = i32::MAX as i64;
    let left = if m.shift() > 0 { m.shift() } else { 0 };
    let shifted = worst.saturating_mul(1i64 << left);
    shifted <= limit && (worst as f64) * m.real() + 1.0 <= limit as f64
}

impl<const I: usize, const H: usize, const O: usize> QMlp<I, H, O> {
    /// Bytes of `i8` weights: `H * I + O * H`.
    pub const WEIGHT_BYTES: usize = H * I + O * H;
    /// Bytes of `i32` biases: `4 * (H + O)`.
    pub const BIAS_BYTES: usize = 4 * (H + O);
    /// Bytes of per-channel requantization parameters, an `i32` multiplier and an `i32` shift
    /// per output unit as in TFLite Micro: `8 * (H + O)`.
    pub const REQUANT_BYTES: usize = 8 * (H + O);
    /// Bytes of the `f32` scales inference needs: the input scale (to quantize observations) and
    /// the output scale (to dequantize logits for reports).
    pub const SCALE_BYTES: usize = 8;
    /// Everything inference needs.
    pub const INT8_BYTES: usize =
        Self::WEIGHT_BYTES + Self::BIAS_BYTES + Self::REQUANT_BYTES + Self::SCALE_BYTES;

    /// Quantizes `net`: inputs are taken to lie in `[0, input_max]` (1 for both shipped
    /// encoders; larger values saturate at 255), and the hidden scale is calibrated on the
    /// largest hidden activation of `net` over `calibration` (observations, shape `[I]` each).
    ///
    /// # Errors
    /// As [`QMlp::from_range`], and [`QuantError::NonFiniteActivation`] for a calibration
    /// sample with a non-finite activation.
    pub fn quantize<'a>(
        net: &Mlp<I, H, O>,
        input_max: f32,
        calibration: impl IntoIterator<Item = &'a [f32; I]>,
    ) -> Result<Self, QuantError> {
        if let Some(index) = net.first_non_finite() {
            return Err(QuantError::NonFiniteWeight { index });
        }
        let mut range = HiddenRange::default();
        let mut h = [0.0f32; H];
        for x in calibration {
            net.hidden(x, &mut h);
            range.observe(&h)?;
        }
        Self::from_range(net, input_max, &range)
    }

    /// Quantizes `net` with a hidden range accumulated elsewhere (for example from a float
    /// [`crate::nn::MlpPolicy`]'s [`hidden`](crate::nn::MlpPolicy::hidden) activations while
    /// it plays episodes).
    ///
    /// # Errors
    /// [`QuantError::NonFiniteWeight`], [`QuantError::ZeroRange`] for a bad `input_max` or an
    /// all-zero hidden range, [`QuantError::NoCalibration`], and [`QuantError::OutOfRange`] when
    /// a bias, multiplier or worst-case accumulator does not fit its integer type.
    pub fn from_range(
        net: &Mlp<I, H, O>,
        input_max: f32,
        range: &HiddenRange,
    ) -> Result<Self, QuantError> {
        if let Some(index) = net.first_non_finite() {
            return Err(QuantError::NonFiniteWeight { index });
        }
        let input_scale = input_max / ACT_MAX as f32;
        if !(input_max.is_finite() && input_scale > 0.0) {
            return Err(QuantError::ZeroRange {
                tensor: Tensor::Input,
                max: input_max,
            });
        }
        if range.samples == 0 {
            return Err(QuantError::NoCalibration);
        }
        let hidden_scale = range.max / ACT_MAX as f32;
        if !(range.max.is_finite() && hidden_scale > 0.0) {
            return Err(QuantError::ZeroRange {
                tensor: Tensor::Hidden,
                max: range.max,
            });
        }
        let mut q = QMlp {
            b1: [0; H],
            m1: [Multiplier::default(); H],
            c1: [CodeRequant::new(Multiplier::default()); H],
            p1: PackedRows::pack(&[[0; I]; H]),
            p2: PackedRows::pack(&[[0; H]; O]),
            b2: [0; O],
            m2: [Multiplier::default(); O],
            input_scale,
            input_inv_scale: ACT_MAX as f32 / input_max,
            hidden_scale,
            output_scale: 0.0,
            w1_scale: [0.0; H],
            w2_scale: [0.0; O],
        };
        let out_of_range = |layer, unit, what| QuantError::OutOfRange { layer, unit, what };

        // Hidden layer: accumulator scale s_in * s_w1[j], requantized to s_h.
        let (s_in, s_h) = (f64::from(input_scale), f64::from(hidden_scale));
        // The weights are packed at the end.
        let (mut w1, mut w2) = ([[0i8; I]; H], [[0i8; H]; O]);
        let rows = w1.iter_mut().zip(net.w1.iter()).zip(net.b1.iter());
        let params = q
            .w1_scale
            .iter_mut()
            .zip(q.b1.iter_mut())
            .zip(q.m1.iter_mut());
        for (j, (((wq, w), &b), ((s, bq), m))) in rows.zip(params).enumerate() {
            *s = quantize_row(w, wq, 1.0 / WEIGHT_MAX as f32);
            let acc_scale = s_in * f64::from(*s);
            *bq = quantize_bias(b, acc_scale).ok_or(out_of_range(
                QLayer::Hidden,
                j,
                Quantity::Bias,
            ))?;
            *m = Multiplier::from_real(acc_scale / s_h).ok_or(out_of_range(
                QLayer::Hidden,
                j,
                Quantity::Multiplier,
            ))?;
            if !fits_after(worst_acc(*bq, I), *m) {
                return Err(out_of_range(QLayer::Hidden, j, Quantity::Accumulator));
            }
        }

        // Output layer: per-channel weight scales first, then the common output scale (the
        // finest accumulator scale), then biases and multipliers.
        let mut zero = [false; O];
        for ((wq, w), (s, z)) in w2
            .iter_mut()
            .zip(net.w2.iter())
            .zip(q.w2_scale.iter_mut().zip(zero.iter_mut()))
        {
            *s = quantize_row(w, wq, 0.0);
            *z = *s == 0.0;
        }
        let output_scale = q
            .w2_scale
            .iter()
            .filter(|&&s| s > 0.0)
            .map(|&s| hidden_scale * s)
            .fold(f32::INFINITY, f32::min);
        // All channels zero: as if every weight scale were 1/127.
        let output_scale = if output_scale.is_finite() {
            output_scale
        } else {
            hidden_scale / WEIGHT_MAX as f32
        };
        q.output_scale = output_scale;
        let s_out = f64::from(output_scale);
        let params = q
            .w2_scale
            .iter_mut()
            .zip(q.b2.iter_mut())
            .zip(q.m2.iter_mut());
        for (k, (((s, bq), m), (&b, &z))) in params.zip(net.b2.iter().zip(zero.iter())).enumerate()
        {
            if z {
                *s = output_scale / hidden_scale;
            }
            let acc_scale = s_h * f64::from(*s);
            *bq = quantize_bias(b, acc_scale).ok_or(out_of_range(
                QLayer::Output,
                k,
                Quantity::Bias,
            ))?;
            *m = Multiplier::from_real(acc_scale / s_out).ok_or(out_of_range(
                QLayer::Output,
                k,
                Quantity::Multiplier,
            ))?;
            if !fits_after(worst_acc(*bq, H), *m) {
                return Err(out_of_range(QLayer::Output, k, Quantity::Accumulator));
            }
        }
        q.c1 = code_requants(&q.m1);
        q.p1 = PackedRows::pack(&w1);
        q.p2 = PackedRows::pack(&w2);
        Ok(q)
    }

    /// `x_q = clamp(round(x / s_in), 0, 255)` (computed as `x * (255 / input_max)`), shape `[I]`;
    /// a NaN becomes 0.
    pub fn quantize_input(&self, x: &[f32; I], xq: &mut [u8; I]) {
        // `roundf` and the clamp, without a call per feature (`kernel::quantize_code`); eight
        // features per iteration: the loop's own instructions (about six per iteration on the
        // M4F, as many as the cheapest features need) once per eight.
        let inv = self.input_inv_scale;
        let (q8, qr) = xq.as_chunks_mut::<8>();
        let (x8, xr) = x.as_chunks::<8>();
        for (qs, vs) in q8.iter_mut().zip(x8) {
            let [q0, q1, q2, q3, q4, q5, q6, q7] = qs;
            let &[v0, v1, v2, v3, v4, v5, v6, v7] = vs;
            *q0 = quantize_code(v0 * inv);
            *q1 = quantize_code(v1 * inv);
            *q2 = quantize_code(v2 * inv);
            *q3 = quantize_code(v3 * inv);
            *q4 = quantize_code(v4 * inv);
            *q5 = quantize_code(v5 * inv);
            *q6 = quantize_code(v6 * inv);
            *q7 = quantize_code(v7 * inv);
        }
        for (q, &v) in qr.iter_mut().zip(xr) {
            *q = quantize_code(v * inv);
        }
    }

    /// Quantized hidden activations `h_q` (shape `[H]`, scale [`QMlp::hidden_scale`]) from a
    /// quantized input (shape `[I]`): integer only.
    pub fn hidden_q(&self, xq: &[u8; I], h: &mut [u8; H]) {
        // ReLU and saturation (clamp to [zero point, 255]) of each unit's sum as soon as its
        // pass gives it.
        self.p1.dot_each(&self.b1, xq, |j, a| {
            if let (Some(hj), Some(c)) = (h.get_mut(j), self.c1.get(j)) {
                *hj = c.code(a);
            }
        });
    }

    /// Quantized logits (shape `[O]`, scale [`QMlp::output_scale`]) from quantized hidden
    /// activations: integer only.
    pub fn output_q(&self, h: &[u8; H], logits: &mut [i32; O]) {
        self.p2.dot_each(&self.b2, h, |k, a| {
            if let (Some(lk), Some(m)) = (logits.get_mut(k), self.m2.get(k)) {
                *lk = m.apply(a);
            }
        });
    }

    /// Forward pass: quantizes `x` (shape `[I]`) into `xq`, fills the hidden codes `h` (shape
    /// `[H]`) and the int32 logits (shape `[O]`).
    pub fn forward(&self, x: &[f32; I], xq: &mut [u8; I], h: &mut [u8; H], logits: &mut [i32; O]) {
        self.quantize_input(x, xq);
        self.hidden_q(xq, h);
        self.output_q(h, logits);
    }

    /// Real-valued logits `logit_q * s_out`, for reports (the decision does not need them).
    pub fn dequantize(&self, logits: &[i32; O], out: &mut [f32; O]) {
        for (o, &l) in out.iter_mut().zip(logits.iter()) {
            *o = l as f32 * self.output_scale;
        }
    }

    /// Input scale `s_in = input_max / 255`.
    pub fn input_scale(&self) -> f32 {
        self.input_scale
    }

    /// Hidden-activation scale `s_h = hidden_max / 255`.
    pub fn hidden_scale(&self) -> f32 {
        self.hidden_scale
    }

    /// Logit scale `s_out`.
    pub fn output_scale(&self) -> f32 {
        self.output_scale
    }

    /// Per-unit hidden weight scales `s_w1`, shape `[H]`.
    pub fn w1_scale(&self) -> &[f32; H] {
        &self.w1_scale
    }

    /// Per-unit output weight scales `s_w2`, shape `[O]`.
    pub fn w2_scale(&self) -> &[f32; O] {
        &self.w2_scale
    }

    /// Quantized hidden weights, shape `[H][I]` (unpacked: a copy).
    pub fn w1(&self) -> [[i8; I]; H] {
        self.p1.unpack()
    }

    /// Quantized hidden biases (scale `s_in * s_w1[j]`), shape `[H]`.
    pub fn b1(&self) -> &[i32; H] {
        &self.b1
    }

    /// Hidden requantization multipliers `s_in * s_w1[j] / s_h`, shape `[H]`.
    pub fn m1(&self) -> &[Multiplier; H] {
        &self.m1
    }

    /// Quantized output weights, shape `[O][H]` (unpacked: a copy).
    pub fn w2(&self) -> [[i8; H]; O] {
        self.p2.unpack()
    }

    /// Quantized output biases (scale `s_h * s_w2[k]`), shape `[O]`.
    pub fn b2(&self) -> &[i32; O] {
        &self.b2
    }

    /// Output requantization multipliers `s_h * s_w2[k] / s_out`, shape `[O]`.
    pub fn m2(&self) -> &[Multiplier; O] {
        &self.m2
    }
}

/// The int8 network's work buffers: the quantized input and the hidden codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QScratch<const I: usize, const H: usize> {
    /// Quantized input, shape `[I]`, scale [`QMlp::input_scale`].
    pub input: [u8; I],
    /// Hidden codes, shape `[H]`, scale [`QMlp::hidden_scale`].
    pub hidden: [u8; H],
}

/// The int8 network: `i32` logits at scale [`QMlp::output_scale`], real logits dequantized
/// (`logit_q * s_out`, exactly as [`QMlp::dequantize`]).
impl<const I: usize, const H: usize, const O: usize> Network<I, O> for QMlp<I, H, O> {
    type Logit = i32;
    type Scratch = QScratch<I, H>;

    fn scratch(&self) -> QScratch<I, H> {
        QScratch {
            input: [0; I],
            hidden: [0; H],
        }
    }

    fn forward(&self, x: &[f32; I], scratch: &mut QScratch<I, H>, logits: &mut [i32; O]) {
        QMlp::forward(self, x, &mut scratch.input, &mut scratch.hidden, logits);
    }

    fn real_logit(&self, logit: i32) -> f32 {
        logit as f32 * self.output_scale
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::network::masked_argmax;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg32;

    const TWO_POW_MINUS_31: f64 = 1.0 / 2_147_483_648.0;

    /// The 2-2-2 network of the hand computation: weights are multiples of 2^-8 whose per-unit
    /// maxima are 127 * 2^-k, so every weight scale is a power of two.
    fn tiny() -> Mlp<2, 2, 2> {
        Mlp {
            w1: [[0.992_187_5, -0.25], [0.25, 0.496_093_75]],
            b1: [0.007_812_5, -0.003_906_25],
            w2: [[1.984_375, -0.5], [-0.25, 0.992_187_5]],
            b2: [0.25, -0.125],
        }
    }

    #[test]
    fn tiny_network_by_hand() {
        // Calibration on x = [1, 0] and [0, 1]: h = [1, 0.24609375] and [0, 0.4921875], so
        // hidden_max = 1 and s_h = 1/255 = s_in (input_max = 1).
        let calib = [[1.0f32, 0.0], [0.0, 1.0]];
        let q = QMlp::quantize(&tiny(), 1.0, calib.iter()).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(q.input_scale(), 1.0 / 255.0);
        assert_eq!(q.hidden_scale(), 1.0 / 255.0);
        // s_w1 = [0.9921875 / 127, 0.49609375 / 127] = [1/128, 1/256];
        // w1_q = [[127, -0.25 * 128], [0.25 * 256, 127]] = [[127, -32], [64, 127]].
        assert_eq!(q.w1_scale(), &[1.0 / 128.0, 1.0 / 256.0]);
        assert_eq!(q.w1(), [[127, -32], [64, 127]]);
        // b1_q = b1 / (s_in * s_w1) = [2^-7 * 255 * 2^7, -2^-8 * 255 * 2^8] = [255, -255].
        assert_eq!(q.b1(), &[255, -255]);
        // M1 = s_in * s_w1 / s_h = [2^-7, 2^-8] = 0.5 * [2^-6, 2^-7]: q = 2^30.
        assert_eq!(
            q.m1(),
            &[
                Multiplier {
                    q: 1 << 30,
                    shift: -6
                },
                Multiplier {
                    q: 1 << 30,
                    shift: -7
                }
            ]
        );
        // s_w2 = [1.984375 / 127, 0.9921875 / 127] = [1/64, 1/128]; s_out = s_h / 128.
        assert_eq!(q.w2_scale(), &[1.0 / 64.0, 1.0 / 128.0]);
        assert_eq!(q.output_scale(), 1.0 / 255.0 / 128.0);
        assert_eq!(q.w2(), [[127, -32], [-32, 127]]);
        // b2_q = [0.25 * 255 * 64, -0.125 * 255 * 128] = [4080, -4080].
        assert_eq!(q.b2(), &[4080, -4080]);
        // M2 = s_h * s_w2 / s_out = [2, 1].
        assert_eq!(
            q.m2(),
            &[
                Multiplier {
                    q: 1 << 30,
                    shift: 2
                },
                Multiplier {
                    q: 1 << 30,
                    shift: 1
                }
            ]
        );

        let (mut xq, mut h, mut l) = ([0u8; 2], [0u8; 2], [0i32; 2]);
        // x = [0.6, 0.8]: x_q = [153, 204].
        // acc1[0] = 255 + 127 * 153 - 32 * 204 = 13158; SRDHM(13158, 2^30) = 6579 (exact);
        //   6579 / 64 = 102.797: 6579 >> 6 = 102, remainder 51 > 31 -> h_q[0] = 103.
        // acc1[1] = -255 + 64 * 153 + 127 * 204 = 35445; SRDHM = 17722.5 -> 17723 (half up);
        //   17723 / 128 = 138.46: remainder 59 <= 63 -> h_q[1] = 138.
        // acc2[0] = 4080 + 127 * 103 - 32 * 138 = 12745; * 2 -> logit_q[0] = 25490.
        // acc2[1] = -4080 - 32 * 103 + 127 * 138 = 10150; * 1 -> logit_q[1] = 10150.
        q.forward(&[0.6, 0.8], &mut xq, &mut h, &mut l);
        assert_eq!((xq, h, l), ([153, 204], [103, 138], [25490, 10150]));
        // Dequantized: 25490 / 32640 = 0.78094, 10150 / 32640 = 0.31097; the f32 network gives
        // [0.77847, 0.31295].
        let mut d = [0.0f32; 2];
        q.dequantize(&l, &mut d);
        assert!(libm::fabsf(d[0] - 25490.0 / 32640.0) < 1e-6);
        assert!(libm::fabsf(d[1] - 10150.0 / 32640.0) < 1e-6);

        // x = [0, 1]: x_q = [0, 255].
        // acc1[0] = 255 - 32 * 255 = -7905; SRDHM = -3952.5 -> -3952 (half up);
        //   -3952 >> 6 = -62, remainder 16 <= 32 -> -62; ReLU clamps to h_q[0] = 0.
        // acc1[1] = -255 + 127 * 255 = 32130; SRDHM = 16065; 16065 / 128 = 125.51 -> 126.
        // acc2 = [4080 - 32 * 126, -4080 + 127 * 126] = [48, 11922] -> logits [96, 11922].
        q.forward(&[0.0, 1.0], &mut xq, &mut h, &mut l);
        assert_eq!((xq, h, l), ([0, 255], [0, 126], [96, 11922]));
        assert_eq!(masked_argmax(&l, &[true, true]), Ok(Some(1)));
        assert_eq!(masked_argmax(&l, &[true, false]), Ok(Some(0)));
        assert_eq!(masked_argmax(&l, &[false, false]), Ok(None));
        // Inputs outside [0, 1] saturate; NaN quantizes to 0.
        q.quantize_input(&[2.0, f32::NAN], &mut xq);
        assert_eq!(xq, [255, 0]);
        q.quantize_input(&[-1.0, f32::INFINITY], &mut xq);
        assert_eq!(xq, [0, 255]);
    }

    #[test]
    fn bad_networks_and_ranges_are_typed_errors() {
        let calib = [[1.0f32, 0.0], [0.0, 1.0]];
        let mut nan = tiny();
        nan.w1[0][1] = f32::NAN;
        assert_eq!(
            QMlp::quantize(&nan, 1.0, calib.iter()),
            Err(QuantError::NonFiniteWeight { index: 1 })
        );
        assert_eq!(
            QMlp::quantize(&tiny(), 1.0, [].iter()),
            Err(QuantError::NoCalibration)
        );
        assert_eq!(
            QMlp::quantize(&Mlp::<2, 2, 2>::zeroed(), 1.0, calib.iter()),
            Err(QuantError::ZeroRange {
                tensor: Tensor::Hidden,
                max: 0.0
            })
        );
        assert_eq!(
            QMlp::quantize(&tiny(), 0.0, calib.iter()),
            Err(QuantError::ZeroRange {
                tensor: Tensor::Input,
                max: 0.0
            })
        );
        assert!(matches!(
            QMlp::quantize(&tiny(), f32::NAN, calib.iter()),
            Err(QuantError::ZeroRange {
                tensor: Tensor::Input,
                ..
            })
        ));
        let inf = [[0.0f32, 1.0], [f32::INFINITY, 0.0]];
        assert_eq!(
            QMlp::quantize(&tiny(), 1.0, inf.iter()),
            Err(QuantError::NonFiniteActivation { sample: 1 })
        );
        let one = HiddenRange {
            max: 1.0,
            samples: 1,
        };
        // A bias of 1e5 at scale 1/255/128 is 3.3e9 > 2^31.
        let mut big = tiny();
        big.b1[1] = 1e5;
        assert_eq!(
            QMlp::from_range(&big, 1.0, &one),
            Err(QuantError::OutOfRange {
                layer: QLayer::Hidden,
                unit: 1,
                what: Quantity::Bias
            })
        );
        // 65792 * 255 * 128 = 2147450880 fits, but not with 2 * 127 * 255 added.
        big.b1[1] = 0.0;
        big.b1[0] = 65792.0;
        assert_eq!(
            QMlp::from_range(&big, 1.0, &one),
            Err(QuantError::OutOfRange {
                layer: QLayer::Hidden,
                unit: 0,
                what: Quantity::Accumulator
            })
        );
        // A tiny hidden range makes s_in * s_w1 / s_h astronomically large.
        let tiny_range = HiddenRange {
            max: 1e-38,
            samples: 1,
        };
        assert_eq!(
            QMlp::from_range(&tiny(), 1.0, &tiny_range),
            Err(QuantError::OutOfRange {
                layer: QLayer::Hidden,
                unit: 0,
                what: Quantity::Multiplier
            })
        );
        // An all-zero output channel takes the output scale (M2 = 1) and keeps its bias.
        let mut zero = tiny();
        zero.w2[1] = [0.0, 0.0];
        let q = QMlp::from_range(&zero, 1.0, &one).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(q.output_scale(), 1.0 / 255.0 / 64.0);
        assert_eq!(
            q.m2()[1],
            Multiplier {
                q: 1 << 30,
                shift: 1
            }
        );
        assert_eq!(q.b2()[1], -2040);
    }

    /// A network with weights uniform in `[-1, 1)`.
    pub(crate) fn random_net<const I: usize, const H: usize, const O: usize>(
        rng: &mut Pcg32,
    ) -> Mlp<I, H, O> {
        let mut net = Mlp::zeroed();
        for p in net.params_mut() {
            *p = rng.random_range(-1.0f32..1.0);
        }
        net
    }

    /// Quantized logits are within a bound derived from the scales: with `x^ = s_in x_q`, `w^ =
    /// s_w w_q`, `h^ = s_h h_q`, and `|x^ - x| <= s_in / 2`, `|w^ - w| <= s_w / 2`, a bias error
    /// of half its scale, and a requantization error of at most one output unit plus the
    /// multiplier's relative error `2^-31`:
    ///
    /// `|h^_j - h_j| <= s_acc1/2 + s_w1/2 sum_i x^_i + s_in/2 sum_i |w1_ji| + s_h (1 + |acc1| M1 2^-31)`
    ///
    /// (ReLU and the clamp at `255 = hidden_max / s_h` are 1-Lipschitz, and the calibration
    /// covers these inputs), and for each logit
    ///
    /// `|l^_k - l_k| <= s_acc2/2 + s_w2/2 sum_j h^_j + sum_j |w2_kj| e_j + s_out (1 + |acc2| M2 2^-31)`.
    #[test]
    fn quantized_logits_are_within_the_scale_bound() {
        const I: usize = 8;
        const H: usize = 6;
        const O: usize = 4;
        let mut rng = Pcg32::seed_from_u64(7);
        let mut worst_ratio = 0.0f64;
        for _ in 0..20 {
            let net: Mlp<I, H, O> = random_net(&mut rng);
            let mut xs = [[0.0f32; I]; 32];
            for x in xs.iter_mut().flatten() {
                *x = rng.random_range(0.0f32..=1.0);
            }
            let q = QMlp::quantize(&net, 1.0, xs.iter()).unwrap_or_else(|e| unreachable!("{e}"));
            let (s_in, s_h, s_out) = (
                f64::from(q.input_scale()),
                f64::from(q.hidden_scale()),
                f64::from(q.output_scale()),
            );
            for x in &xs {
                let (mut hf, mut lf) = ([0.0f32; H], [0.0f32; O]);
                net.forward(x, &mut hf, &mut lf);
                let (mut xq, mut hq, mut lq) = ([0u8; I], [0u8; H], [0i32; O]);
                q.forward(x, &mut xq, &mut hq, &mut lq);
                let sum_x: f64 = xq.iter().map(|&v| s_in * f64::from(v)).sum();
                let mut e_h = [0.0f64; H];
                for (j, e) in e_h.iter_mut().enumerate() {
                    let s_w = f64::from(q.w1_scale()[j]);
                    let acc = dot_q(q.b1()[j], &q.w1()[j], &xq);
                    let sum_w: f64 = net.w1[j].iter().map(|w| f64::from(libm::fabsf(*w))).sum();
                    *e = s_in * s_w / 2.0
                        + s_w / 2.0 * sum_x
                        + s_in / 2.0 * sum_w
                        + s_h * (1.0 + f64::from(acc.abs()) * q.m1()[j].real() * TWO_POW_MINUS_31);
                }
                let sum_h: f64 = hq.iter().map(|&v| s_h * f64::from(v)).sum();
                let mut deq = [0.0f32; O];
                q.dequantize(&lq, &mut deq);
                for k in 0..O {
                    let s_w = f64::from(q.w2_scale()[k]);
                    let acc = dot_q(q.b2()[k], &q.w2()[k], &hq);
                    let prop: f64 = net.w2[k]
                        .iter()
                        .zip(e_h.iter())
                        .map(|(w, e)| f64::from(libm::fabsf(*w)) * e)
                        .sum();
                    let bound = s_h * s_w / 2.0
                        + s_w / 2.0 * sum_h
                        + prop
                        + s_out
                            * (1.0 + f64::from(acc.abs()) * q.m2()[k].real() * TWO_POW_MINUS_31);
                    let err = libm::fabs(f64::from(deq[k]) - f64::from(lf[k]));
                    // 1e-5 covers the f32 rounding of the reference forward pass itself.
                    assert!(
                        err <= bound + 1e-5,
                        "logit {k}: error {err} > bound {bound}"
                    );
                    worst_ratio = worst_ratio.max(err / bound);
                }
            }
        }
        // The bound is a worst case; the typical error is well inside it.
        assert!(worst_ratio > 0.0 && worst_ratio < 1.0, "{worst_ratio}");
    }
}
