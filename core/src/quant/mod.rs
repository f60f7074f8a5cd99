//! An int8 quantized policy network, in the style of TensorFlow Lite Micro.
//!
//! [`QMlp`] is the integer-only version of an [`Mlp`](crate::nn::Mlp) `I -> H (ReLU) -> O`, built by
//! [`QMlp::quantize`] from the float network and a calibration set. The scheme is TFLite's
//! (Jacob et al., "Quantization and Training of Neural Networks for Efficient
//! Integer-Arithmetic-Only Inference", CVPR 2018; TFLite Micro's fully connected kernel):
//!
//! | tensor | type | scale | zero point |
//! |---|---|---|---|
//! | input `x`, shape `[I]` | `u8` | `s_in = input_max / 255` (per tensor) | 0 |
//! | hidden weights `w1`, shape `[H][I]` | `i8` in `[-127, 127]` | `s_w1[j] = max_i abs(w1[j][i]) / 127` (per output unit) | 0 |
//! | hidden biases `b1`, shape `[H]` | `i32` | `s_in * s_w1[j]` | 0 |
//! | hidden activations `h`, shape `[H]` | `u8` | `s_h = hidden_max / 255` (per tensor, calibrated) | 0 |
//! | output weights `w2`, shape `[O][H]` | `i8` in `[-127, 127]` | `s_w2[k] = max_j abs(w2[k][j]) / 127` (per output unit) | 0 |
//! | output biases `b2`, shape `[O]` | `i32` | `s_h * s_w2[k]` | 0 |
//! | logits, shape `[O]` | `i32` | `s_out = min_k s_h * s_w2[k]` (per tensor) | 0 |
//!
//! Activations are unsigned 8-bit with zero point 0, which is TFLite's asymmetric activation
//! scheme with `zero_point = 0`: the compact and image encoders write features in `[0, 1]` and
//! ReLU outputs are never negative, so all 256 codes cover `[0, max]` and no zero-point
//! correction term is needed. Weights are symmetric per output unit (per channel), `-128` unused.
//! A channel whose weights are all zero gets `s_w = 1 / 127` in the hidden layer and `s_w2[k] =
//! s_out / s_h` in the output layer.
//!
//! Inference, all in integers after the input is quantized (`x_q = clamp(round(x / s_in), 0,
//! 255)`):
//!
//! ```text
//! acc1[j]   = b1_q[j] + sum_i w1_q[j][i] * x_q[i]                      (int32)
//! h_q[j]    = clamp(MBQM(acc1[j], M1[j]), 0, 255)                     M1[j] = s_in * s_w1[j] / s_h
//! acc2[k]   = b2_q[k] + sum_j w2_q[k][j] * h_q[j]                      (int32)
//! logit_q[k] = MBQM(acc2[k], M2[k])                                   M2[k] = s_h * s_w2[k] / s_out
//! ```
//!
//! `MBQM` is TFLite's `MultiplyByQuantizedMultiplier` ([`Multiplier::apply`], in [`fixed`]): the real
//! multiplier `M = q * 2^(shift - 31)` with `q` a Q31 number in `[2^30, 2^31)`, applied as gemmlowp's
//! `SaturatingRoundingDoublingHighMul` (rounded high half of `2 x q`) followed by
//! `RoundingDivideByPOT` (an arithmetic right shift rounding half away from zero); a positive
//! shift is a left shift before the multiplication. ReLU is the lower clamp at the zero point 0
//! (TFLite's fused activation range `[zero_point, 255]`). The output is requantized once more to
//! one common scale `s_out` because per-channel output weights give each logit its own
//! accumulator scale; with `s_out` the finest of them every `M2[k] >= 1`, so no accumulator
//! precision is lost. The logits stay `int32`: the masked argmax needs no dequantization, and
//! `logit_q * s_out` ([`QMlp::dequantize`]) is for reports only.
//!
//! Every accumulator is bounded when the network is quantized (`|b| + 127 * 255 * n` must fit in
//! `i32`, before and after a left shift and the output multiplier), so the integer path cannot
//! overflow; the sums are written with wrapping arithmetic, which therefore never wraps, and no
//! operation can panic. Scales are `f32` (as TFLite stores them); the multipliers and biases are
//! derived from them in `f64`, as TFLite's `QuantizeMultiplier` does.
//!
//! Memory for inference ([`QMlp::INT8_BYTES`]): `H * I + O * H` bytes of `i8` weights, `4 * (H +
//! O)` of `i32` biases, `8 * (H + O)` of per-channel multipliers and shifts (TFLite Micro keeps
//! both as `int32` arrays) and 8 bytes for the input and output scales, against `4 *
//! Mlp::PARAMS` for the `f32` network. For the compact encoder with 10 slots (82 -> 20 -> 11):
//! 1860 + 124 + 248 + 8 = 2240 bytes against 7564. [`QMlp`] stores the weights packed two output
//! units to a 32-bit word per input ([`packed`]), so one 32 x 32 -> 64-bit multiply-accumulate
//! (the M4's `smlal`) gives two products: 2 bytes per weight, 3720 bytes of weights for the
//! compact network (a speed-for-flash trade, issue 16; [`QParts`] and [`QMlp::w1`] give them
//! as `i8` again). It also keeps each hidden unit's multiplier with its shifts prepared for the
//! unit's code (16 bytes a unit, 320 for the compact network; speed, issue 16).
//!
//! Files: [`fixed`] (the fixed-point requantization arithmetic), [`qmlp`] (the int8 network, its
//! calibration and quantization), [`packed`] (the packed weights and the layers' sums: two pairs
//! of units per pass over the input), `kernel` (the input quantization without a `roundf`
//! call), [`parts`] (the network as plain parts, for a `static` literal
//! in flash); the int8 policy is the generic [`Policy`] over a [`QMlp`]
//! ([`QPolicy`]).

pub mod fixed;
mod kernel;
pub mod packed;
pub mod parts;
pub mod qmlp;

pub use fixed::{rounding_divide_by_pot, saturating_rounding_doubling_high_mul, Multiplier};
pub use parts::QParts;
pub use qmlp::{
    HiddenRange, QLayer, QMlp, QScratch, QuantError, Quantity, Tensor, ACT_MAX, WEIGHT_MAX,
};

use crate::encoding::Encoder;
use crate::policy::Policy;

/// An int8 network policy for `M` job slots: the generic [`Policy`] (encoder `E`, the
/// invalid-action mask of [`crate::policy::valid_actions`], masked argmax) over a [`QMlp`] with
/// `H` hidden units. Its logits are the `i32` ones, its preference the dequantized ones.
pub type QPolicy<'m, E, const M: usize, const I: usize, const H: usize, const O: usize> =
    Policy<'m, E, QMlp<I, H, O>, M, I, O>;

impl<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>
    QPolicy<'_, E, M, I, H, O>
{
    /// The last quantized input, shape `[I]`, scale [`QMlp::input_scale`].
    pub fn input(&self) -> &[u8; I] {
        &self.scratch().input
    }

    /// The last hidden codes, shape `[H]`, scale [`QMlp::hidden_scale`].
    pub fn hidden(&self) -> &[u8; H] {
        &self.scratch().hidden
    }
}

#[cfg(test)]
mod tests {
    use super::qmlp::tests::random_net;
    use super::*;
    use crate::cluster::{Action, Cluster};
    use crate::encoding::{compact_len, Compact};
    use crate::network::masked_argmax;
    use crate::nn::{Mlp, MlpPolicy};
    use crate::policy::valid_actions;
    use crate::scheduler::{Preference, Scheduler};
    use crate::Job;
    use rand::SeedableRng;
    use rand_pcg::Pcg32;

    #[test]
    fn quantized_policy_masks_like_the_float_policy() {
        const M: usize = 3;
        const I: usize = compact_len(M);
        let mut rng = Pcg32::seed_from_u64(3);
        let net: Mlp<I, 5, 4> = random_net(&mut rng);
        let job = |id, len, res| Job::new(id, 0, len, res).unwrap_or_else(|e| unreachable!("{e}"));
        let mut c: Cluster<M> = Cluster::new();
        c.submit(job(0, 2, [6, 1])).ok();
        c.submit(job(1, 20, [6, 1])).ok();
        // Calibrate on the float policy's hidden activations in a few states.
        let mut fp = MlpPolicy::<Compact, M, I, 5, 4>::new(&net, true);
        let mut range = HiddenRange::default();
        let mut states = [c.clone(), c.clone(), c.clone()];
        states[1].step(Action::Schedule(0));
        states[2] = Cluster::new();
        for s in &states {
            fp.evaluate(s);
            range
                .observe(fp.hidden())
                .unwrap_or_else(|e| unreachable!("{e}"));
        }
        let q = QMlp::from_range(&net, 1.0, &range).unwrap_or_else(|e| unreachable!("{e}"));
        let mut qp = QPolicy::<Compact, M, I, 5, 4>::new(&q, true);
        for s in &states {
            let action = qp.decide(s).unwrap_or_else(|e| unreachable!("{e}"));
            fp.evaluate(s);
            assert_eq!(qp.valid(), fp.valid());
            assert_eq!(qp.valid(), &valid_actions::<M, 4>(s, true));
            let k = masked_argmax(qp.logits(), qp.valid()).ok().flatten();
            assert_eq!(Some(action), k.and_then(|k| Action::from_index(k, M)));
            // The dequantized preference picks the same action.
            let (mut l, mut v) = ([0.0f32; 4], [false; 4]);
            qp.preference(s, &mut l, &mut v)
                .unwrap_or_else(|e| unreachable!("{e}"));
            assert_eq!(masked_argmax(&l, &v), Ok(k));
            let mut xq = [0u8; I];
            q.quantize_input(fp.obs(), &mut xq);
            assert_eq!(qp.input(), &xq);
        }
        // The last state is the empty cluster: only void is allowed.
        assert_eq!(qp.valid(), &[false, false, false, true]);
        assert_eq!(qp.greedy(), Ok(Action::Void));
    }
}
