//! A fixed-size multilayer perceptron: one ReLU hidden layer, linear output logits.
//!
//! DeepRM's policy network (Mao et al. 2016, section 3.2; `SEMANTICS.md` section 1) is
//! input -> Dense(20, ReLU) -> Dense(M + 1) -> softmax. Sizes are const generics, weights are
//! `f32` arrays, and every sum runs in one fixed order (bias first, then inputs in index order),
//! so the logits have the same bits on every target. No allocation; a network of
//! `Mlp::<I, H, O>::PARAMS` floats occupies `4 * PARAMS` bytes.
//!
//! An `Mlp` is a [`Network`] with `f32` logits and its hidden activations as work buffer;
//! [`MlpPolicy`] is the learned policy deciding with one.

use crate::encoding::Encoder;
use crate::network::Network;
use crate::policy::Policy;

/// Weights of an `I -> H (ReLU) -> O` perceptron. `w1[j]` are hidden unit `j`'s input weights,
/// `w2[k]` are output `k`'s hidden weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<const I: usize, const H: usize, const O: usize> {
    /// Hidden-layer weights, shape `[H][I]`.
    pub w1: [[f32; I]; H],
    /// Hidden-layer biases, shape `[H]`.
    pub b1: [f32; H],
    /// Output weights, shape `[O][H]`.
    pub w2: [[f32; H]; O],
    /// Output biases, shape `[O]`.
    pub b2: [f32; O],
}

/// Dot product `bias + sum_i w[i] * x[i]`, summed in index order (fixed length, so the loop is
/// unrolled without bounds arithmetic; the same sums).
fn affine<const K: usize>(bias: f32, w: &[f32; K], x: &[f32; K]) -> f32 {
    w.iter().zip(x.iter()).fold(bias, |acc, (w, x)| acc + w * x)
}

impl<const I: usize, const H: usize, const O: usize> Mlp<I, H, O> {
    /// Number of parameters: `H * I + H + O * H + O`.
    pub const PARAMS: usize = H * I + H + O * H + O;

    /// All weights zero.
    pub fn zeroed() -> Self {
        Mlp {
            w1: [[0.0; I]; H],
            b1: [0.0; H],
            w2: [[0.0; H]; O],
            b2: [0.0; O],
        }
    }

    /// Hidden activations `relu(w1 x + b1)`, shape `[H]`.
    ///
    /// Each unit's pre-activation is summed in the fixed order (bias, then inputs in index
    /// order), but input by input for all units at once, so an input that is exactly zero is
    /// skipped for every unit with one comparison (most compact-encoder inputs of empty slots
    /// are zero). Skipping `+ w * 0` changes at most the sign of a zero sum (for finite `w`, as
    /// every loaded model's are), and ReLU maps both zeros to `+0.0`: the activations have the
    /// same bits as the plain row-by-row sum.
    pub fn hidden(&self, x: &[f32; I], h: &mut [f32; H]) {
        let mut pre = self.b1;
        for (i, &xi) in x.iter().enumerate() {
            if xi == 0.0 {
                continue;
            }
            for (p, row) in pre.iter_mut().zip(self.w1.iter()) {
                if let Some(&w) = row.get(i) {
                    *p += w * xi;
                }
            }
        }
        for (hj, p) in h.iter_mut().zip(pre) {
            *hj = if p > 0.0 { p } else { 0.0 };
        }
    }

    /// Logits `w2 h + b2`, shape `[O]`, from hidden activations.
    pub fn output(&self, h: &[f32; H], logits: &mut [f32; O]) {
        for ((lk, wk), bk) in logits.iter_mut().zip(self.w2.iter()).zip(self.b2.iter()) {
            *lk = affine(*bk, wk, h);
        }
    }

    /// Forward pass: fills the hidden activations `h` (shape `[H]`) and the logits (shape `[O]`).
    pub fn forward(&self, x: &[f32; I], h: &mut [f32; H], logits: &mut [f32; O]) {
        self.hidden(x, h);
        self.output(h, logits);
    }

    /// Every parameter in the canonical order of model files: `w1` row by row, `b1`, `w2` row by
    /// row, `b2`.
    pub fn params(&self) -> impl Iterator<Item = &f32> {
        self.w1
            .iter()
            .flatten()
            .chain(self.b1.iter())
            .chain(self.w2.iter().flatten())
            .chain(self.b2.iter())
    }

    /// Every parameter, mutably, in the order of [`Mlp::params`].
    pub fn params_mut(&mut self) -> impl Iterator<Item = &mut f32> {
        self.w1
            .iter_mut()
            .flatten()
            .chain(self.b1.iter_mut())
            .chain(self.w2.iter_mut().flatten())
            .chain(self.b2.iter_mut())
    }

    /// The index of the first non-finite parameter, if any.
    pub fn first_non_finite(&self) -> Option<usize> {
        self.params().position(|p| !p.is_finite())
    }
}

/// The `f32` network: logits as computed, hidden activations (shape `[H]`) as work buffer.
impl<const I: usize, const H: usize, const O: usize> Network<I, O> for Mlp<I, H, O> {
    type Logit = f32;
    type Scratch = [f32; H];

    fn scratch(&self) -> [f32; H] {
        [0.0; H]
    }

    fn forward(&self, x: &[f32; I], hidden: &mut [f32; H], logits: &mut [f32; O]) {
        Mlp::forward(self, x, hidden, logits);
    }

    fn real_logit(&self, logit: f32) -> f32 {
        logit
    }
}

/// A learned policy deciding with an `f32` [`Mlp`] of `H` hidden units (see [`Policy`]).
pub type MlpPolicy<'m, E, const M: usize, const I: usize, const H: usize, const O: usize> =
    Policy<'m, E, Mlp<I, H, O>, M, I, O>;

impl<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>
    MlpPolicy<'_, E, M, I, H, O>
{
    /// The last hidden activations, shape `[H]`.
    pub fn hidden(&self) -> &[f32; H] {
        self.scratch()
    }
}

/// Softmax over the entries with `valid[k]` (others get probability 0), with the maximum
/// subtracted first; `expf` from `libm`. Returns `false` (and leaves `probs` zero) when no entry
/// is valid or a valid logit is not finite.
pub fn masked_softmax<const O: usize>(
    logits: &[f32; O],
    valid: &[bool; O],
    probs: &mut [f32; O],
) -> bool {
    *probs = [0.0; O];
    let mut max = f32::NEG_INFINITY;
    for (&l, &v) in logits.iter().zip(valid.iter()) {
        if v {
            if !l.is_finite() {
                return false;
            }
            max = max.max(l);
        }
    }
    if max == f32::NEG_INFINITY {
        return false;
    }
    let mut sum = 0.0f32;
    for ((p, &l), &v) in probs.iter_mut().zip(logits.iter()).zip(valid.iter()) {
        if v {
            *p = libm::expf(l - max);
            sum += *p;
        }
    }
    // sum >= 1 because the maximum contributes exp(0) = 1.
    for p in probs.iter_mut() {
        *p /= sum;
    }
    true
}

/// Samples an index from `probs` by comparing the running sum against `u` in `[0, 1)`, as
/// DeepRM's `get_traj` does; falls back to the last index with positive probability when
/// rounding leaves the total just below `u`.
pub fn sample<const O: usize>(probs: &[f32; O], u: f32) -> Option<usize> {
    let mut acc = 0.0f32;
    let mut last = None;
    for (k, &p) in probs.iter().enumerate() {
        if p > 0.0 {
            acc += p;
            last = Some(k);
            if u < acc {
                return Some(k);
            }
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_skipping_hidden_layer_has_the_bits_of_the_row_by_row_sum() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg32::seed_from_u64(5);
        for _ in 0..200 {
            let mut net = Mlp::<16, 8, 3>::zeroed();
            for p in net.params_mut() {
                // Some exact zeros and negative zeros among the weights too.
                *p = match rng.random_range(0..6) {
                    0 => 0.0,
                    1 => -0.0,
                    _ => rng.random_range(-1.0f32..1.0),
                };
            }
            let x: [f32; 16] = core::array::from_fn(|_| match rng.random_range(0..3) {
                0 => 0.0,
                _ => rng.random_range(0.0f32..1.0),
            });
            let mut h = [0.0; 8];
            net.hidden(&x, &mut h);
            for (j, (hj, (row, bias))) in h.iter().zip(net.w1.iter().zip(net.b1)).enumerate() {
                // The reference: bias, then every input in index order, zeros included.
                let pre = x
                    .iter()
                    .zip(row.iter())
                    .fold(bias, |acc, (x, w)| acc + w * x);
                let want = if pre > 0.0 { pre } else { 0.0 };
                assert_eq!(hj.to_bits(), want.to_bits(), "unit {j}");
            }
        }
    }

    #[test]
    fn forward_matches_hand_computation() {
        // x = [1, 2]; hidden = relu([1*1 + 2*(-1) + 0.5, 1*2 + 2*1 - 1]) = relu([-0.5, 3]) = [0, 3]
        // logits = [0*1 + 3*2 + 0.25, 0*(-1) + 3*(-1) + 0] = [6.25, -3]
        let net = Mlp::<2, 2, 2> {
            w1: [[1.0, -1.0], [2.0, 1.0]],
            b1: [0.5, -1.0],
            w2: [[1.0, 2.0], [-1.0, -1.0]],
            b2: [0.25, 0.0],
        };
        let (mut h, mut l) = ([0.0; 2], [0.0; 2]);
        net.forward(&[1.0, 2.0], &mut h, &mut l);
        assert_eq!(h, [0.0, 3.0]);
        assert_eq!(l, [6.25, -3.0]);
        assert_eq!(Mlp::<2, 2, 2>::PARAMS, 12);
        assert_eq!(net.params().count(), 12);
    }

    #[test]
    fn softmax_argmax_and_sampling() {
        use crate::network::masked_argmax;
        let logits = [0.0, 1.0, 100.0, f32::NAN];
        let valid = [true, true, false, false];
        let mut p = [0.0; 4];
        assert!(masked_softmax(&logits, &valid, &mut p));
        // p1 / p0 = e, p0 + p1 = 1 => p0 = 1 / (1 + e) = 0.268941...
        assert!((p[0] - 0.268_941_42).abs() < 1e-6);
        assert_eq!(p[2], 0.0);
        assert_eq!(masked_argmax(&logits, &valid), Ok(Some(1)));
        assert_eq!(masked_argmax(&logits, &[true, true, true, true]), Err(3));
        assert_eq!(sample(&p, 0.1), Some(0));
        assert_eq!(sample(&p, 0.9), Some(1));
        assert_eq!(sample(&p, 1.0), Some(1));
        assert!(!masked_softmax(&logits, &[false; 4], &mut p));
    }
}
