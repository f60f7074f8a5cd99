//! Training under the rule projection: a policy that acts through the shield (or a soft
//! projection of strength `C`), and a policy penalised for breaking the rules without one.
//!
//! **Shielded.** Rollouts act with the projected policy
//! `q(a|s) ~ p(a|s) w(a|s)`, `w = exp(-C sum_l lambda_l (1 - r_l(s, a)))` (`w` is 0 or 1 for
//! the shield, `C = inf`). On its kept actions `log q(a) = z_a - C pen_a - log sum_b exp(z_b -
//! C pen_b)`, so `d log q(a) / dz = onehot(a) - q`, zero on removed actions: the same form as
//! the unprojected score, with `q` for `p` ([`super::grad::dlog_prob`] on `q`).
//!
//! The action is drawn by a coupling: a raw choice `b ~ p`, kept with probability `w(b)`,
//! otherwise replaced by a draw from `q`. Its marginal is `p w + (1 - Z) q = q`, where
//! `Z = sum_a p(a) w(a)` is the raw mass the projection keeps, and "the projection changed the
//! raw choice" is the event that `b` was not kept, with probability `1 - Z(s)` whatever action
//! is taken. An optional penalty `X` is subtracted from the reward at that event. Because the
//! score `d log q` never reaches the logits of removed actions, the penalty acts on the raw
//! policy through its exact expected gradient, `X dZ/dz` with `dZ/dz_k = p_k (w_k - Z)`, added
//! at every decision: together the two terms are the gradient of `E[sum_t (r_t - X c_t)]`.
//!
//! **Penalty.** The unshielded policy acts with `p`; the reward loses `X` whenever the action
//! breaks a rule of positive weight, and plain REINFORCE does the rest.

use rayon::prelude::*;
use whitebox_core::encoding::Encoder;
use whitebox_core::nn::{Mlp, MlpPolicy};
use whitebox_core::projection::{ProjectedDecision, Projection};
use whitebox_core::{Action, EndMode, Episode, Job};

/// How `train --rule` uses the rules (defined in the core, which records it in model files).
pub use whitebox_core::model::RuleMode;

/// The rules of a shielded or penalised training run.
#[derive(Clone, Debug)]
pub struct RuleTraining {
    /// The projection (its `C` is infinity for a shield).
    pub projection: Projection,
    /// [`RuleMode::Shielded`] or [`RuleMode::Penalty`].
    pub mode: RuleMode,
    /// Reward penalty `X >= 0` per changed raw choice (shielded) or broken rule (penalty), in
    /// the reward's units (slowdown per time step).
    pub penalty: f32,
}

/// `pen_a = sum_l lambda_l (1 - r_l(s, a))` of every action, shape `[O]`.
pub fn penalties<const O: usize>(projection: &Projection, d: &ProjectedDecision<O>) -> [f32; O] {
    std::array::from_fn(|a| {
        projection
            .rules()
            .iter()
            .zip(d.truth[a].iter())
            .map(|((_, lambda), t)| lambda * (1.0 - t))
            .sum()
    })
}

/// The keep weight `w_a = exp(-C pen_a)` of every action (1 without a penalty, as the
/// projection never computes `inf * 0`; 0 under the shield for any penalty).
pub fn keep_weights<const O: usize>(projection: &Projection, d: &ProjectedDecision<O>) -> [f32; O] {
    let c = projection.c();
    penalties(projection, d).map(|pen| if pen > 0.0 { (-c * pen).exp() } else { 1.0 })
}

/// One coupled draw: the action taken and whether the projection replaced the raw choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Draw {
    /// Output index of the action taken.
    pub action: usize,
    /// The raw choice was not kept (the penalty event).
    pub changed: bool,
}

/// Draws the raw choice from `raw` with `u[0]`, keeps it when `u[1] < w`, else draws from
/// `projected` with `u[2]` (each `u` in `[0, 1)`). `None` when a distribution is empty.
pub fn coupled_draw<const O: usize>(
    raw: &[f32; O],
    projected: &[f32; O],
    w: &[f32; O],
    u: [f32; 3],
) -> Option<Draw> {
    let b = whitebox_core::nn::sample(raw, u[0])?;
    if u[1] < *w.get(b)? {
        return Some(Draw {
            action: b,
            changed: false,
        });
    }
    Some(Draw {
        action: whitebox_core::nn::sample(projected, u[2])?,
        changed: true,
    })
}

/// The kept raw mass `Z = sum_a p_a w_a` and its gradient with respect to the logits,
/// `dZ/dz_k = p_k (w_k - Z)` (0 where `p_k = 0`, i.e. on masked actions).
pub fn kept_mass_grad<const O: usize>(p: &[f32; O], w: &[f32; O]) -> (f32, [f32; O]) {
    let z: f32 = p.iter().zip(w.iter()).map(|(p, w)| p * w).sum();
    (z, std::array::from_fn(|k| p[k] * (w[k] - z)))
}

/// Whether action `a` breaks a rule of positive weight in decision `d`.
pub fn breaks_rule<const O: usize>(
    projection: &Projection,
    d: &ProjectedDecision<O>,
    a: usize,
) -> bool {
    penalties(projection, d)
        .get(a)
        .is_some_and(|&pen| pen > 0.0)
}

/// The validation score of the greedy policy of `net` as `rules` deploys it on each of
/// `jobsets`, in order: the charged mean slowdown ([`super::charged_slowdown`]) plus `X` times the
/// penalty events per admitted job. Shielded: the projected greedy action, an event when it
/// differs from the raw greedy one. Penalty: the raw greedy action, an event when it breaks a
/// rule. With `net = None`, SJF's preference stands in for the network.
pub fn rule_scores<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: Option<&Mlp<I, H, O>>,
    jobsets: &[Vec<Job>],
    end: EndMode,
    mask_invalid: bool,
    rules: &RuleTraining,
) -> Vec<f64> {
    use whitebox_core::Preference;
    jobsets
        .par_iter()
        .map(|jobs| {
            let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut ()).expect("validated");
            let mut policy = net.map(|n| MlpPolicy::<'_, E, M, I, H, O>::new(n, mask_invalid));
            let mut events = 0u64;
            let (mut logits, mut valid) = ([0.0f32; O], [false; O]);
            while !ep.is_done() {
                let ok = match policy.as_mut() {
                    Some(p) => p.preference(ep.cluster(), &mut logits, &mut valid),
                    None => whitebox_core::Sjf.preference(ep.cluster(), &mut logits, &mut valid),
                };
                let d = ok
                    .ok()
                    .and_then(|()| rules.projection.project(&logits, &valid, ep.cluster()).ok());
                // A non-finite logit ends the episode; its unfinished jobs still count.
                let Some(d) = d else { break };
                let action = match rules.mode {
                    RuleMode::Shielded => {
                        events += u64::from(d.changed());
                        d.action
                    }
                    _ => {
                        events += u64::from(breaks_rule(&rules.projection, &d, d.raw_choice));
                        Action::from_index(d.raw_choice, M).unwrap_or(Action::Void)
                    }
                };
                ep.step(action, &mut ());
            }
            let s = ep.summary();
            let admitted = s.jobs.saturating_sub(s.rejected + s.not_arrived).max(1);
            super::charged_slowdown(&s) + f64::from(rules.penalty) * events as f64 / admitted as f64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg32;

    /// `log softmax(z - c * pen)` at `a` over the kept actions (pen = inf: removed), in f64.
    fn log_q(z: &[f64; 4], pen: &[f64; 4], c: f64, a: usize) -> f64 {
        let zs: Vec<f64> = (0..4)
            .map(|k| {
                if pen[k] > 0.0 {
                    z[k] - c * pen[k]
                } else {
                    z[k]
                }
            })
            .collect();
        let kept: Vec<usize> = (0..4).filter(|&k| zs[k].is_finite()).collect();
        let m = kept.iter().map(|&k| zs[k]).fold(f64::MIN, f64::max);
        let lse = m + kept.iter().map(|&k| (zs[k] - m).exp()).sum::<f64>().ln();
        zs[a] - lse
    }

    fn softmax_f32(z: &[f64; 4], pen: &[f64; 4], c: f64) -> [f32; 4] {
        std::array::from_fn(|k| log_q(z, pen, c, k).exp() as f32).map(|v: f32| {
            if v.is_nan() {
                0.0
            } else {
                v
            }
        })
    }

    #[test]
    fn score_of_the_projected_policy_matches_finite_differences() {
        // Action 1 breaks a rule (penalty 0.7); action 3 breaks two (1.5).
        let z = [0.4f64, 1.1, -0.3, 0.9];
        let pen = [0.0, 0.7, 0.0, 1.5];
        for c in [f64::INFINITY, 2.0] {
            let q = softmax_f32(&z, &pen, c);
            for a in (0..4).filter(|&a| q[a] > 0.0) {
                let g = super::super::grad::dlog_prob(&q, a);
                for k in 0..4 {
                    let (mut up, mut down) = (z, z);
                    up[k] += 1e-6;
                    down[k] -= 1e-6;
                    let fd = (log_q(&up, &pen, c, a) - log_q(&down, &pen, c, a)) / 2e-6;
                    assert!(
                        (f64::from(g[k]) - fd).abs() < 1e-5,
                        "c {c} a {a} k {k}: {} vs {fd}",
                        g[k]
                    );
                    // The shield's removed actions get no gradient at all.
                    if c.is_infinite() && pen[k] > 0.0 {
                        assert_eq!(g[k], 0.0);
                    }
                }
            }
        }
    }

    #[test]
    fn kept_mass_gradient_matches_finite_differences() {
        let z = [0.4f64, 1.1, -0.3, 0.9];
        let w = [1.0f64, 0.0, 0.25, 1.0];
        let kept = |z: &[f64; 4]| {
            let m = z.iter().cloned().fold(f64::MIN, f64::max);
            let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
            let s: f64 = e.iter().sum();
            (0..4).map(|k| e[k] / s * w[k]).sum::<f64>()
        };
        let p = softmax_f32(&z, &[0.0; 4], 0.0);
        let (zm, g) = kept_mass_grad(&p, &w.map(|v| v as f32));
        assert!((f64::from(zm) - kept(&z)).abs() < 1e-6);
        for k in 0..4 {
            let (mut up, mut down) = (z, z);
            up[k] += 1e-6;
            down[k] -= 1e-6;
            let fd = (kept(&up) - kept(&down)) / 2e-6;
            assert!((f64::from(g[k]) - fd).abs() < 1e-5, "{k}: {} vs {fd}", g[k]);
        }
    }

    #[test]
    fn coupled_draw_takes_the_projected_distribution_and_flags_replaced_choices() {
        // Raw p; action 1 removed by the shield, action 2 kept with weight 0.5 (soft C).
        let p = [0.1f32, 0.4, 0.2, 0.3];
        let w = [1.0f32, 0.0, 0.5, 1.0];
        let zk: f32 = p.iter().zip(&w).map(|(p, w)| p * w).sum(); // 0.5
        let q: [f32; 4] = std::array::from_fn(|k| p[k] * w[k] / zk);
        let mut rng = Pcg32::seed_from_u64(11);
        let n = 200_000;
        let (mut counts, mut changed) = ([0u32; 4], 0u32);
        for _ in 0..n {
            let u = [rng.random(), rng.random(), rng.random()];
            let d = coupled_draw(&p, &q, &w, u).expect("draw");
            counts[d.action] += 1;
            changed += u32::from(d.changed);
            // A kept raw choice is the action; a removed one is never taken.
            assert_ne!(d.action, 1);
        }
        for k in 0..4 {
            let f = f64::from(counts[k]) / f64::from(n);
            assert!((f - f64::from(q[k])).abs() < 0.005, "{k}: {f} vs {}", q[k]);
        }
        // The raw choice is replaced with probability 1 - Z = 0.5.
        let c = f64::from(changed) / f64::from(n);
        assert!((c - 0.5).abs() < 0.005, "{c}");
        // Deterministic cases: a raw draw of 0 is kept; a raw draw of 1 is replaced.
        assert_eq!(
            coupled_draw(&p, &q, &w, [0.05, 0.99, 0.0]),
            Some(Draw {
                action: 0,
                changed: false
            })
        );
        assert_eq!(
            coupled_draw(&p, &q, &w, [0.3, 0.0, 0.99]),
            Some(Draw {
                action: 3,
                changed: true
            })
        );
    }
}
