//! Sound bounds on the policy network's logits over a box of inputs: interval bound propagation
//! (IBP; Gowal et al. 2018) and the linear relaxation bound of CROWN / DeepPoly (Zhang et al.,
//! NeurIPS 2018; Singh et al., POPL 2019) for one ReLU hidden layer.
//!
//! **Sound for the network the core runs, not only for real arithmetic.** [`Mlp::forward`]
//! computes in `f32` with round-to-nearest. Every pre-activation and logit it returns lies within
//! `gamma(n) * mag` of the exact value, where `mag = |b| + sum |w_i x_i|` over the `n` terms and
//! `gamma(n) = n u / (1 - n u)` with `u = 2^-24` (Higham, *Accuracy and Stability of Numerical
//! Algorithms*, section 3.1, for a dot product in any summation order), plus `n * 2^-149` for
//! products that underflow. The bounds here are computed in `f64` and widened by that `f32` error
//! and by the `f64` error of the bound computation itself (`(n + 4) * 2^-52 * mag`, again a
//! Higham-style bound), so every float bound is rounded outward. The margins are returned with
//! each bound ([`HiddenBounds::err`], [`LinearBound::margin`]), so a separate checker can
//! recompute them.
//!
//! The network has one hidden layer, so the hidden pre-activations are an affine function of
//! the input and their bounds over a box are exact up to the margin. CROWN then relaxes each
//! unstable ReLU (`l < 0 < u`) linearly, `alpha t <= relu(t) <= u (t - l) / (u - l)` with
//! `alpha = 1` if `u > -l` else `0`, and substitutes back to the input box, which keeps the
//! correlation between hidden units that IBP loses. No allocation: everything is in fixed-size
//! arrays (for the compact encoder with 10 slots, a few KiB of stack).

use crate::nn::Mlp;

pub mod admission;
pub mod phase;

/// `f32` unit roundoff `2^-24`.
const U32: f64 = 1.0 / 16_777_216.0;
/// `f64` unit roundoff `2^-53`, doubled for safety margins of this module's own arithmetic.
const U64: f64 = 1.0 / 4_503_599_627_370_496.0;
/// Smallest positive subnormal `f32`, `2^-149`: the absolute error of an underflowing product.
const ETA32: f64 = 1.401_298_464_324_817e-45;

/// Why a bound cannot be computed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VerifyError {
    /// Input `index` has a NaN or infinite end, or `lo > hi`.
    BadInterval {
        /// Input index.
        index: usize,
        /// Lower end given.
        lo: f32,
        /// Upper end given.
        hi: f32,
    },
    /// The network has a NaN or infinite parameter (index in [`Mlp::params`] order).
    NonFiniteWeight {
        /// Parameter index.
        index: usize,
    },
    /// A specification coefficient is NaN or infinite.
    BadSpec {
        /// Output index.
        index: usize,
    },
}

impl core::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            VerifyError::BadInterval { index, lo, hi } => write!(
                f,
                "input {index}: interval [{lo}, {hi}] must have finite ends with lo <= hi"
            ),
            VerifyError::NonFiniteWeight { index } => {
                write!(f, "network parameter {index} is not a finite number")
            }
            VerifyError::BadSpec { index } => {
                write!(
                    f,
                    "specification coefficient {index} is not a finite number"
                )
            }
        }
    }
}

impl core::error::Error for VerifyError {}

/// A box of inputs `lo[i] <= x[i] <= hi[i]`, shape `[I]`.
#[derive(Clone, Debug, PartialEq)]
pub struct InputBox<const I: usize> {
    /// Lower ends.
    pub lo: [f32; I],
    /// Upper ends.
    pub hi: [f32; I],
}

impl<const I: usize> InputBox<I> {
    /// The box `[lo, hi]`.
    ///
    /// # Errors
    /// [`VerifyError::BadInterval`] for the first input with a non-finite end or `lo > hi`.
    pub fn new(lo: [f32; I], hi: [f32; I]) -> Result<Self, VerifyError> {
        for (index, (&l, &h)) in lo.iter().zip(hi.iter()).enumerate() {
            if !(l.is_finite() && h.is_finite() && l <= h) {
                return Err(VerifyError::BadInterval {
                    index,
                    lo: l,
                    hi: h,
                });
            }
        }
        Ok(InputBox { lo, hi })
    }

    /// The single point `x`.
    ///
    /// # Errors
    /// As [`InputBox::new`].
    pub fn point(x: [f32; I]) -> Result<Self, VerifyError> {
        Self::new(x, x)
    }

    /// True when `x` is inside the box.
    pub fn contains(&self, x: &[f32; I]) -> bool {
        x.iter()
            .zip(self.lo.iter().zip(self.hi.iter()))
            .all(|(v, (l, h))| l <= v && v <= h)
    }

    /// `max(|lo_i|, |hi_i|)`, the largest magnitude of input `i`.
    fn magnitude(&self, i: usize) -> f64 {
        match (self.lo.get(i), self.hi.get(i)) {
            (Some(&l), Some(&h)) => f64::from(l.abs().max(h.abs())),
            _ => 0.0,
        }
    }
}

/// `gamma(n) = n u / (1 - n u)` for `f32`, the relative error bound of an `n`-term dot product.
fn gamma32(n: usize) -> f64 {
    let nu = n as f64 * U32;
    nu / (1.0 - nu)
}

/// Outward margin of an `f32` dot product of `n` terms with magnitude sum `mag`, computed by the
/// network, plus the `f64` error of computing the bound itself.
fn margin(n: usize, mag: f64) -> f64 {
    let f32_err = gamma32(n + 1) * mag + (n as f64 + 1.0) * ETA32;
    let f64_err = (n as f64 + 4.0) * U64 * (mag + f32_err);
    f32_err + f64_err
}

/// Bounds on the hidden pre-activations `z_j = w1_j . x + b1_j` as the network computes them
/// (in `f32`), shape `[H]`: `lo[j] <= fl(z_j) <= hi[j]` for every `x` in the box.
#[derive(Clone, Debug, PartialEq)]
pub struct HiddenBounds<const H: usize> {
    /// Lower bounds, margin included.
    pub lo: [f64; H],
    /// Upper bounds, margin included.
    pub hi: [f64; H],
    /// The margin of each unit (`f32` rounding of the forward pass and `f64` rounding here).
    pub err: [f64; H],
}

impl<const H: usize> HiddenBounds<H> {
    /// Units that are neither always active nor always inactive over the box (`lo < 0 < hi`).
    pub fn unstable(&self) -> usize {
        self.lo
            .iter()
            .zip(self.hi.iter())
            .filter(|(l, h)| **l < 0.0 && **h > 0.0)
            .count()
    }
}

fn check_net<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
) -> Result<(), VerifyError> {
    match net.first_non_finite() {
        Some(index) => Err(VerifyError::NonFiniteWeight { index }),
        None => Ok(()),
    }
}

/// Hidden pre-activation bounds over `bx` (IBP, exact up to the margin for one affine layer).
///
/// # Errors
/// [`VerifyError::NonFiniteWeight`] for a corrupted network.
pub fn hidden_bounds<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    bx: &InputBox<I>,
) -> Result<HiddenBounds<H>, VerifyError> {
    check_net(net)?;
    let mut out = HiddenBounds {
        lo: [0.0; H],
        hi: [0.0; H],
        err: [0.0; H],
    };
    for (j, (row, &b)) in net.w1.iter().zip(net.b1.iter()).enumerate() {
        let (mut lo, mut hi, mut mag) = (f64::from(b), f64::from(b), f64::from(b).abs());
        for (i, (&w, (&l, &h))) in row.iter().zip(bx.lo.iter().zip(bx.hi.iter())).enumerate() {
            let (w, l, h) = (f64::from(w), f64::from(l), f64::from(h));
            let (a, c) = (w * l, w * h);
            lo += a.min(c);
            hi += a.max(c);
            mag += w.abs() * bx.magnitude(i);
        }
        let e = margin(I, mag);
        if let (Some(lj), Some(hj), Some(ej)) =
            (out.lo.get_mut(j), out.hi.get_mut(j), out.err.get_mut(j))
        {
            *lj = lo - e;
            *hj = hi + e;
            *ej = e;
        }
    }
    Ok(out)
}

/// IBP bounds on the logits as the network computes them, shape `[O]` each:
/// `lo[k] <= logit_k(x) <= hi[k]` for every `x` in the box.
///
/// # Errors
/// [`VerifyError::NonFiniteWeight`] for a corrupted network.
pub fn ibp_logits<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    bx: &InputBox<I>,
) -> Result<([f64; O], [f64; O]), VerifyError> {
    let hb = hidden_bounds(net, bx)?;
    let (mut lo, mut hi) = ([0.0; O], [0.0; O]);
    for (k, (row, &b)) in net.w2.iter().zip(net.b2.iter()).enumerate() {
        let (mut l, mut h, mut mag) = (f64::from(b), f64::from(b), f64::from(b).abs());
        for (&w, (&zl, &zh)) in row.iter().zip(hb.lo.iter().zip(hb.hi.iter())) {
            // The activation the network uses is relu of its computed pre-activation.
            let (al, ah) = (zl.max(0.0), zh.max(0.0));
            let w = f64::from(w);
            l += (w * al).min(w * ah);
            h += (w * al).max(w * ah);
            mag += w.abs() * ah;
        }
        let e = margin(H, mag);
        if let (Some(lk), Some(hk)) = (lo.get_mut(k), hi.get_mut(k)) {
            *lk = l - e;
            *hk = h + e;
        }
    }
    Ok((lo, hi))
}

/// A CROWN lower bound on `c . logits(x)` over a box, with the quantities it rests on: for hidden
/// unit `j`, `lambda[j] = (c^T w2)_j`, and the linear relaxation `slope[j] * t + offset[j]` of
/// `relu(t)` used for it (a lower relaxation where `lambda[j] >= 0`, an upper one where it is
/// negative) over `t` in `[hidden.lo[j], hidden.hi[j]]`; `input_coef[i]` is the coefficient of
/// input `i` after substitution, minimized at `lo[i]` or `hi[i]` by its sign.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearBound<const I: usize, const H: usize> {
    /// The bound: `c . logits(x) >= lower` for every `x` in the box, margins included.
    pub lower: f64,
    /// The hidden pre-activation bounds the relaxation used.
    pub hidden: HiddenBounds<H>,
    /// `(c^T w2)_j`, shape `[H]`.
    pub lambda: [f64; H],
    /// Relaxation slopes, shape `[H]`.
    pub slope: [f64; H],
    /// Relaxation offsets, shape `[H]`.
    pub offset: [f64; H],
    /// Coefficients of the inputs after substitution, shape `[I]`.
    pub input_coef: [f64; I],
    /// The total outward margin subtracted (output rounding of the network and of this sum).
    pub margin: f64,
}

/// The linear relaxation `(slope, offset)` of `relu(t)` for `t` in `[l, h]`: a lower bound when
/// `lower`, else an upper bound (CROWN's choice of slope for unstable units).
fn relax(l: f64, h: f64, lower: bool) -> (f64, f64) {
    if l >= 0.0 {
        (1.0, 0.0)
    } else if h <= 0.0 {
        (0.0, 0.0)
    } else if lower {
        (if h > -l { 1.0 } else { 0.0 }, 0.0)
    } else {
        let s = h / (h - l);
        // The chord through (l, 0) and (h, h). Its slope and offset are rounded in f64; raising
        // the offset by a few ulps of the terms keeps the line above relu on [l, h].
        let off = -s * l;
        let widen = 4.0 * U64 * (s.abs() + off.abs() + h.abs());
        (s, off + widen)
    }
}

/// CROWN lower bound on `c . logits(x)` over `bx` (for a property `logit_a >= logit_b`, take
/// `c = e_a - e_b`: a positive bound proves it on the whole box).
///
/// # Errors
/// [`VerifyError::NonFiniteWeight`] for a corrupted network, [`VerifyError::BadSpec`] for a
/// non-finite coefficient.
pub fn crown_lower<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    bx: &InputBox<I>,
    c: &[f32; O],
) -> Result<LinearBound<I, H>, VerifyError> {
    if let Some(index) = c.iter().position(|v| !v.is_finite()) {
        return Err(VerifyError::BadSpec { index });
    }
    let hidden = hidden_bounds(net, bx)?;
    let mut out = LinearBound {
        lower: 0.0,
        hidden,
        lambda: [0.0; H],
        slope: [0.0; H],
        offset: [0.0; H],
        input_coef: [0.0; I],
        margin: 0.0,
    };
    // Output rounding: c . fl(logits) >= c . exact(w2 h + b2) - sum_k |c_k| err_k.
    let mut constant = 0.0;
    let mut out_err = 0.0;
    for ((&ck, row), &b) in c.iter().zip(net.w2.iter()).zip(net.b2.iter()) {
        let ck = f64::from(ck);
        constant += ck * f64::from(b);
        let mut mag = f64::from(b).abs();
        for (j, &w) in row.iter().enumerate() {
            let w = f64::from(w);
            if let Some(l) = out.lambda.get_mut(j) {
                *l += ck * w;
            }
            mag += w.abs() * out.hidden.hi.get(j).map_or(0.0, |h| h.max(0.0));
        }
        out_err += ck.abs() * margin(H, mag);
    }
    // Substitute each hidden unit: lambda_j relu(t_j) >= lambda_j (slope t_j + offset), with
    // t_j = w1_j . x + b1_j + delta_j and |delta_j| <= err_j (the network's rounding).
    let mut mag = constant.abs();
    for j in 0..H {
        let (Some(&lam), Some(&l), Some(&h), Some(&e)) = (
            out.lambda.get(j),
            out.hidden.lo.get(j),
            out.hidden.hi.get(j),
            out.hidden.err.get(j),
        ) else {
            continue;
        };
        let (s, off) = relax(l, h, lam >= 0.0);
        let k = lam * s;
        constant += lam * off + k * net.b1.get(j).map_or(0.0, |b| f64::from(*b));
        constant -= k.abs() * e;
        mag +=
            (lam * off).abs() + k.abs() * (e + net.b1.get(j).map_or(0.0, |b| f64::from(*b).abs()));
        if let Some(row) = net.w1.get(j) {
            for (g, &w) in out.input_coef.iter_mut().zip(row.iter()) {
                *g += k * f64::from(w);
            }
        }
        if let (Some(sj), Some(oj)) = (out.slope.get_mut(j), out.offset.get_mut(j)) {
            *sj = s;
            *oj = off;
        }
    }
    let mut lower = constant;
    for (i, &g) in out.input_coef.iter().enumerate() {
        let (l, h) = (
            bx.lo.get(i).map_or(0.0, |v| f64::from(*v)),
            bx.hi.get(i).map_or(0.0, |v| f64::from(*v)),
        );
        lower += if g >= 0.0 { g * l } else { g * h };
        mag += g.abs() * bx.magnitude(i);
    }
    let own = (I as f64 + 2.0 * H as f64 + 8.0) * U64 * mag;
    out.margin = out_err + own;
    out.lower = lower - out.margin;
    Ok(out)
}

#[cfg(test)]
mod tests;
