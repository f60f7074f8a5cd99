//! The best lines for a branch: the LP dual of the triangle relaxation (Ehlers 2017), solved
//! with `microlp`. Its optimum equals the LP relaxation's minimum of `c . logits` over the box
//! and the branch's phases, which is exact once every unit is split or stable.
//!
//! Variables, per hidden unit `j` with `lambda_j = (c^T w2)_j` and values `t` in `T_j`:
//! * a split-active unit (`lo_j < 0`): `beta >= 0`, line `(lambda - beta) t` (the Lagrange
//!   multiplier of `t >= 0`);
//! * a split-inactive unit (`hi_j > 0`): `beta >= 0`, line `beta t` (multiplier of `t <= 0`);
//! * a free unstable unit: `mu, nu >= 0` with `mu - nu <= lambda`, line `mu t - nu s (t - lo)`
//!   with `s = hi / (hi - lo)` (multipliers of `r >= t` and of the chord `r <= s (t - lo)`; the
//!   one of `r >= 0` is `lambda - mu + nu >= 0`);
//! * stable or fixed units: their exact line.
//!
//! Summing the lines gives `g . x + const`; its minimum over the box is `g . lo - q . (hi - lo)`
//! with `q >= 0, q >= -g` per input. The LP maximizes that. Its answer is only a suggestion:
//! [`whitebox_core::verify::phase::phase_lower`] checks and repairs the lines and computes the
//! sound bound.

use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem, Variable};
use whitebox_core::nn::Mlp;
use whitebox_core::verify::phase::{phase_interval, Line, Phase};
use whitebox_core::verify::HiddenBounds;

/// How a unit's line depends on the LP variables: `slope = base + sum coef * var`,
/// `offset = sum ocoef * var`.
struct UnitLine {
    base: f64,
    terms: Vec<(Variable, f64, f64)>,
}

/// The LP-optimal lines for the branch, or `None` when the solver fails (then the caller keeps
/// CROWN's lines) or the branch is infeasible.
pub fn best_lines<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    hidden: &HiddenBounds<H>,
    lambda: &[f64; H],
    phases: &[Phase; H],
    lo: &[f32; I],
    hi: &[f32; I],
) -> Option<[Line; H]> {
    let cap = 1e4 * (1.0 + lambda.iter().fold(0.0f64, |m, l| m.max(l.abs())));
    let mut p = Problem::new(OptimizationDirection::Maximize);
    let mut units = Vec::with_capacity(H);
    for j in 0..H {
        let (l, h, lam) = (hidden.lo[j], hidden.hi[j], lambda[j]);
        let (tl, th) = phase_interval(l, h, phases[j])?;
        // Objective weight of the slope: b1_j + w1_j . lo (the box's lower corner).
        let wobj = f64::from(net.b1[j])
            + net.w1[j]
                .iter()
                .zip(lo.iter())
                .map(|(w, x)| f64::from(*w) * f64::from(*x))
                .sum::<f64>();
        let unit = if tl >= 0.0 {
            if phases[j] == Phase::Active && l < 0.0 {
                let beta = p.add_var(-wobj, (0.0, cap));
                UnitLine {
                    base: lam,
                    terms: vec![(beta, -1.0, 0.0)],
                }
            } else {
                UnitLine {
                    base: lam,
                    terms: Vec::new(),
                }
            }
        } else if th <= 0.0 {
            if phases[j] == Phase::Inactive && h > 0.0 {
                let beta = p.add_var(wobj, (0.0, cap));
                UnitLine {
                    base: 0.0,
                    terms: vec![(beta, 1.0, 0.0)],
                }
            } else {
                UnitLine {
                    base: 0.0,
                    terms: Vec::new(),
                }
            }
        } else {
            let s = th / (th - tl);
            let mu = p.add_var(wobj, (0.0, cap));
            // nu's objective: slope -s (times wobj) and offset s * lo.
            let nu = p.add_var(-s * wobj + s * tl, (0.0, cap));
            p.add_constraint([(mu, 1.0), (nu, -1.0)], ComparisonOp::Le, lam);
            UnitLine {
                base: 0.0,
                terms: vec![(mu, 1.0, 0.0), (nu, -s, s * tl)],
            }
        };
        units.push(unit);
    }
    for i in 0..I {
        let width = f64::from(hi[i]) - f64::from(lo[i]);
        if width <= 0.0 {
            continue;
        }
        // q_i + g_i >= 0 with g_i = sum_j slope_j w1_ji.
        let q = p.add_var(-width, (0.0, f64::INFINITY));
        let mut expr = LinearExpr::empty();
        expr.add(q, 1.0);
        let mut rhs = 0.0;
        for (u, row) in units.iter().zip(net.w1.iter()) {
            let w = f64::from(row[i]);
            if w == 0.0 {
                continue;
            }
            rhs -= u.base * w;
            for &(v, coef, _) in &u.terms {
                expr.add(v, coef * w);
            }
        }
        p.add_constraint(expr, ComparisonOp::Ge, rhs);
    }
    let outcome = p.solve().ok()?;
    let sol = outcome.solution()?;
    let mut lines = [Line::default(); H];
    for (line, u) in lines.iter_mut().zip(&units) {
        let mut slope = u.base;
        let mut offset = 0.0;
        for &(v, coef, ocoef) in &u.terms {
            let x = sol.var_value(v).max(0.0);
            slope += coef * x;
            offset += ocoef * x;
        }
        *line = Line { slope, offset };
    }
    Some(lines)
}
