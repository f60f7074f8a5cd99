//! Lower bounds on `c . logits` over a box **and** a phase split of the hidden ReLUs, for branch
//! and bound on unstable units (the one-hidden-layer case of beta-CROWN, Wang et al., NeurIPS
//! 2021, and of the LP relaxation it equals, Ehlers 2017).
//!
//! A branch fixes some units [`Phase::Active`] (the network's computed pre-activation
//! `fl(z_j) > 0`, so `relu = fl(z_j)`) or [`Phase::Inactive`] (`fl(z_j) <= 0`, so `relu = 0`).
//! Unit `j` then only takes values `t` in `T_j = [lo_j, hi_j]` intersected with its phase. A
//! bound is given by one [`Line`] per unit, `slope * t + offset <= lambda_j relu(t)` on `T_j`
//! with `lambda = c^T w2`: summing the lines and substituting `t = w1_j . x + b1_j + delta_j`
//! (`|delta_j| <= err_j`, the network's rounding) gives a linear function of `x`, minimized at a
//! corner of the box. Any lines give a sound bound here, because [`phase_lower`] first checks
//! each line against `lambda_j relu` on `T_j` (at its ends and at the kink 0, where the
//! difference of two piecewise-linear functions is smallest) and lowers its offset by any
//! violation plus the `f64` rounding of the check. The best lines come from an LP (the dual of
//! the triangle relaxation, solved on the host); [`crown_lines`] gives CROWN's own choice.
//!
//! A phase that no input of the box can have (`T_j` empty) makes the branch infeasible: the
//! bound is `+inf`, and [`PhaseBound::infeasible`] names the unit.

use super::{check_net, hidden_bounds, margin, HiddenBounds, InputBox, VerifyError, U64};
use crate::nn::Mlp;

/// The phase of a hidden unit in a branch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub enum Phase {
    /// Not split: any value its bounds allow.
    #[default]
    Free,
    /// `fl(z_j) > 0`: the unit passes its pre-activation.
    Active,
    /// `fl(z_j) <= 0`: the unit outputs 0.
    Inactive,
}

/// `slope * t + offset`, a lower bound on `lambda_j * relu(t)` over the unit's values `t`.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Line {
    /// Coefficient of the unit's pre-activation `t`.
    pub slope: f64,
    /// Constant term.
    pub offset: f64,
}

/// The values `T_j` a unit with pre-activation bounds `[lo, hi]` takes in `phase`, or `None`
/// when the phase is impossible on the box.
pub fn phase_interval(lo: f64, hi: f64, phase: Phase) -> Option<(f64, f64)> {
    let (l, h) = match phase {
        Phase::Free => (lo, hi),
        Phase::Active => (lo.max(0.0), hi),
        Phase::Inactive => (lo, hi.min(0.0)),
    };
    // An active unit needs some t > 0; `hi <= 0` rules it out.
    let impossible = l > h || (phase == Phase::Active && hi <= 0.0);
    (!impossible).then_some((l, h))
}

/// A sound lower bound on `c . logits(x)` over the box and the branch's phases, with what it
/// rests on (the quantities a separate checker recomputes).
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseBound<const I: usize, const H: usize> {
    /// `c . logits(x) >= lower` for every `x` of the box whose units have the branch's phases;
    /// `+inf` when no such `x` exists.
    pub lower: f64,
    /// The first unit whose phase is impossible on the box (then `lower` is `+inf`).
    pub infeasible: Option<usize>,
    /// Hidden pre-activation bounds over the box (before the phases).
    pub hidden: HiddenBounds<H>,
    /// `(c^T w2)_j`, shape `[H]`.
    pub lambda: [f64; H],
    /// The lines used, after any repair, shape `[H]`.
    pub lines: [Line; H],
    /// Coefficients of the inputs after substitution, shape `[I]`.
    pub input_coef: [f64; I],
    /// Total outward margin subtracted.
    pub margin: f64,
}

/// CROWN's lines for a branch: exact for split or stable units, `lambda * alpha t` (alpha 1
/// when `hi > -lo`) for free unstable units with `lambda >= 0`, and `lambda` times the chord
/// for those with `lambda < 0`.
pub fn crown_lines<const H: usize>(
    hidden: &HiddenBounds<H>,
    lambda: &[f64; H],
    phases: &[Phase; H],
) -> [Line; H] {
    let mut out = [Line::default(); H];
    for (j, line) in out.iter_mut().enumerate() {
        let (Some(&l), Some(&h), Some(&lam), Some(&p)) = (
            hidden.lo.get(j),
            hidden.hi.get(j),
            lambda.get(j),
            phases.get(j),
        ) else {
            continue;
        };
        *line = match p {
            Phase::Active => Line {
                slope: lam,
                offset: 0.0,
            },
            Phase::Inactive => Line::default(),
            Phase::Free => {
                let (s, o) = super::relax(l, h, lam >= 0.0);
                Line {
                    slope: lam * s,
                    offset: lam * o,
                }
            }
        };
    }
    out
}

/// Lowers `line`'s offset until it lies below `lam * relu(t)` on `[l, h]`, with the `f64`
/// rounding of the check as slack.
fn repair(line: Line, lam: f64, l: f64, h: f64) -> Line {
    let gap = |t: f64| lam * t.max(0.0) - (line.slope * t + line.offset);
    let mut worst = gap(l).min(gap(h));
    if l < 0.0 && h > 0.0 {
        worst = worst.min(gap(0.0));
    }
    let m = l.abs().max(h.abs());
    let slack = 8.0 * U64 * (lam.abs() * m + line.slope.abs() * m + line.offset.abs());
    Line {
        slope: line.slope,
        offset: line.offset - worst.min(0.0).abs() - slack,
    }
}

/// Lower bound on `c . logits(x)` over `bx` and the branch `phases` with the given `lines` (or
/// CROWN's when `None`). Every line is checked and repaired first, so the bound is sound for
/// any lines, including ones from an inexact LP solve.
///
/// # Errors
/// [`VerifyError::NonFiniteWeight`] for a corrupted network, [`VerifyError::BadSpec`] for a
/// non-finite coefficient of `c` or a non-finite line.
pub fn phase_lower<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    bx: &InputBox<I>,
    c: &[f32; O],
    phases: &[Phase; H],
    lines: Option<&[Line; H]>,
) -> Result<PhaseBound<I, H>, VerifyError> {
    if let Some(index) = c.iter().position(|v| !v.is_finite()) {
        return Err(VerifyError::BadSpec { index });
    }
    check_net(net)?;
    let hidden = hidden_bounds(net, bx)?;
    let mut lambda = [0.0; H];
    let mut constant = 0.0;
    let mut out_err = 0.0;
    for ((&ck, row), &b) in c.iter().zip(net.w2.iter()).zip(net.b2.iter()) {
        let ck = f64::from(ck);
        constant += ck * f64::from(b);
        let mut mag = f64::from(b).abs();
        for ((lam, &w), &h) in lambda.iter_mut().zip(row.iter()).zip(hidden.hi.iter()) {
            let w = f64::from(w);
            *lam += ck * w;
            mag += w.abs() * h.max(0.0);
        }
        out_err += ck.abs() * margin(H, mag);
    }
    let mut out = PhaseBound {
        lower: f64::INFINITY,
        infeasible: None,
        lines: lines
            .copied()
            .unwrap_or_else(|| crown_lines(&hidden, &lambda, phases)),
        hidden,
        lambda,
        input_coef: [0.0; I],
        margin: 0.0,
    };
    let mut mag = constant.abs();
    let mut coef_abs = [0.0f64; I];
    for j in 0..H {
        let (Some(&l), Some(&h), Some(&e), Some(&p), Some(&lam), Some(line)) = (
            out.hidden.lo.get(j),
            out.hidden.hi.get(j),
            out.hidden.err.get(j),
            phases.get(j),
            out.lambda.get(j),
            out.lines.get_mut(j),
        ) else {
            continue;
        };
        if !(line.slope.is_finite() && line.offset.is_finite()) {
            return Err(VerifyError::BadSpec { index: j });
        }
        let Some((tl, th)) = phase_interval(l, h, p) else {
            out.infeasible = Some(j);
            return Ok(out);
        };
        *line = repair(*line, lam, tl, th);
        let (a, b1) = (line.slope, net.b1.get(j).map_or(0.0, |b| f64::from(*b)));
        constant += line.offset + a * b1 - a.abs() * e;
        mag += line.offset.abs() + a.abs() * (e + b1.abs());
        if let Some(row) = net.w1.get(j) {
            for ((g, ga), &w) in out.input_coef.iter_mut().zip(coef_abs.iter_mut()).zip(row) {
                *g += a * f64::from(w);
                *ga += (a * f64::from(w)).abs();
            }
        }
    }
    let mut lower = constant;
    for (i, (&g, &ga)) in out.input_coef.iter().zip(coef_abs.iter()).enumerate() {
        let (l, h) = (
            bx.lo.get(i).map_or(0.0, |v| f64::from(*v)),
            bx.hi.get(i).map_or(0.0, |v| f64::from(*v)),
        );
        lower += if g >= 0.0 { g * l } else { g * h };
        mag += ga * bx.magnitude(i);
    }
    let own = (I as f64 + 2.0 * H as f64 + 8.0) * U64 * mag;
    out.margin = out_err + own;
    out.lower = lower - out.margin;
    Ok(out)
}

#[cfg(test)]
mod tests;
