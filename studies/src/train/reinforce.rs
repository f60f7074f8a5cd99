//! REINFORCE with DeepRM's time-dependent baseline (Williams 1992; Mao et al. 2016 section 3.3;
//! `SEMANTICS.md` section 4).
//!
//! Per iteration, for each training job set, `N` trajectories are sampled; the return of
//! decision `t` is the undiscounted reward-to-go `G_t`, the baseline `b_t` is the mean of `G_t`
//! over the `N` trajectories (shorter ones zero-padded, as DeepRM), and the gradient is
//! `sum_t (G_t - b_t) grad log pi(a_t | s_t)` (plus an optional entropy bonus) divided by the
//! number of decisions. Job sets run in parallel with rayon and are summed in index order, so
//! the result has the same bits for any thread count.

use rayon::prelude::*;
use whitebox_core::encoding::Encoder;
use whitebox_core::nn::Mlp;
use whitebox_core::{EndMode, Job};

use super::rollout::{accumulate, rollout, stream, Reward};

/// Settings of one policy-gradient step.
#[derive(Clone, Debug)]
pub struct PgSettings {
    /// Trajectories per job set (DeepRM `num_seq_per_batch`).
    pub trajectories: usize,
    /// End mode of training episodes.
    pub end: EndMode,
    /// Mask invalid actions.
    pub mask_invalid: bool,
    /// Reward signal.
    pub objective: Reward,
    /// Entropy bonus weight (0 = DeepRM).
    pub entropy: f32,
    /// Seed of the action-sampling streams.
    pub seed: u64,
    /// Rule distillation: the teacher and this iteration's imitation weight, if any.
    pub teacher: Option<Teacher>,
    /// Shielded or penalised training under rules, if any ([`super::shield`]).
    pub rules: Option<super::shield::RuleTraining>,
}

/// The rule teacher of teacher-student distillation (Hu et al., ACL 2016, adapted to policy
/// gradient as in the project's methods notes): on every visited state the teacher is the
/// student's own distribution projected onto the rules, `q(a|s) ~ p(a|s) exp(-C sum_l
/// lambda_l (1 - r_l(s, a)))`, held constant. The student's loss is
/// `(1 - pi) * policy-gradient loss + pi * cross-entropy(q, p)`.
#[derive(Clone, Debug)]
pub struct Teacher {
    /// The projection defining `q`.
    pub projection: whitebox_core::projection::Projection,
    /// Imitation weight `pi_k = min(pi_0, 1 - alpha^k)` of this iteration.
    pub pi: f32,
}

impl Teacher {
    /// `pi_k = min(pi_0, 1 - alpha^k)` for iteration `k` (0-based).
    pub fn weight(pi0: f32, alpha: f32, k: u32) -> f32 {
        pi0.min(1.0 - alpha.powi(k as i32))
    }
}

/// Statistics of one iteration's rollouts.
#[derive(Clone, Copy, Debug, Default)]
pub struct IterationStats {
    /// Decisions over all trajectories.
    pub decisions: usize,
    /// Mean total reward per trajectory.
    pub mean_return: f64,
    /// Mean policy entropy per decision, in nats.
    pub mean_entropy: f64,
    /// Mean over trajectories of the all-done mean slowdown.
    pub mean_slowdown: f64,
    /// Decisions that paid the rule penalty, over all trajectories.
    pub penalised: u64,
}

/// The mean |advantage| over one job set's trajectories (0 for none), in a fixed order.
///
/// The distillation term's gradient `q - p` is at most 1 per logit, while the policy-gradient
/// term's is `A_t` times that, and returns here are sums of per-step rewards over whole episodes
/// (advantages of order 10). Multiplying the distillation term by this scale puts the two terms
/// of `(1 - pi) L_pg + pi L_distill` (Hu et al., ACL 2016, eq. 4) in the same units, so `pi`
/// mixes them as intended; the plain policy gradient is unchanged.
pub fn distill_scale(adv: &[Vec<f32>]) -> f32 {
    let (sum, n) = adv.iter().flatten().fold((0.0f64, 0usize), |(s, n), a| {
        (s + f64::from(a.abs()), n + 1)
    });
    if n == 0 {
        0.0
    } else {
        (sum / n as f64) as f32
    }
}

/// Time-dependent baseline: `b_t` = mean over trajectories of the return-to-go at decision `t`,
/// zero-padded past a trajectory's end. Returns the advantages `G_t - b_t` per trajectory.
pub fn advantages(rewards: &[Vec<f64>]) -> Vec<Vec<f32>> {
    let returns: Vec<Vec<f64>> = rewards
        .iter()
        .map(|r| {
            let mut g = r.clone();
            for t in (0..g.len().saturating_sub(1)).rev() {
                g[t] += g[t + 1];
            }
            g
        })
        .collect();
    let longest = returns.iter().map(Vec::len).max().unwrap_or(0);
    let n = returns.len().max(1) as f64;
    let baseline: Vec<f64> = (0..longest)
        .map(|t| returns.iter().filter_map(|g| g.get(t)).sum::<f64>() / n)
        .collect();
    returns
        .iter()
        .map(|g| {
            g.iter()
                .zip(baseline.iter())
                .map(|(g, b)| (g - b) as f32)
                .collect()
        })
        .collect()
}

/// The policy gradient of one iteration over `jobsets`, scaled by `1 / decisions`, and the
/// rollout statistics. `iteration` keys the sampling streams.
pub fn policy_gradient<
    E: Encoder,
    const M: usize,
    const I: usize,
    const H: usize,
    const O: usize,
>(
    net: &Mlp<I, H, O>,
    jobsets: &[Vec<Job>],
    settings: &PgSettings,
    iteration: u32,
) -> (Box<Mlp<I, H, O>>, IterationStats) {
    let per_set: Vec<(Box<Mlp<I, H, O>>, IterationStats)> = jobsets
        .par_iter()
        .enumerate()
        .map(|(j, jobs)| {
            let trajs: Vec<_> = (0..settings.trajectories)
                .map(|n| {
                    let mut rng = stream(
                        settings.seed,
                        &[1, u64::from(iteration), j as u64, n as u64],
                    );
                    rollout::<E, M, I, H, O>(
                        net,
                        jobs,
                        settings.end,
                        settings.mask_invalid,
                        settings.objective,
                        settings.rules.as_ref(),
                        &mut rng,
                    )
                })
                .collect();
            let rewards: Vec<Vec<f64>> = trajs.iter().map(|t| t.rewards.clone()).collect();
            let adv = advantages(&rewards);
            let scale = distill_scale(&adv);
            let mut grad = Box::new(Mlp::zeroed());
            for (t, a) in trajs.iter().zip(adv.iter()) {
                accumulate::<E, M, I, H, O>(net, jobs, settings, &t.actions, a, scale, &mut grad);
            }
            let stats = IterationStats {
                decisions: trajs.iter().map(|t| t.actions.len()).sum(),
                mean_return: trajs.iter().map(|t| t.rewards.iter().sum::<f64>()).sum(),
                mean_entropy: trajs.iter().map(|t| t.entropy).sum(),
                mean_slowdown: trajs
                    .iter()
                    .map(|t| super::charged_slowdown(&t.summary))
                    .sum(),
                penalised: trajs.iter().map(|t| u64::from(t.penalised)).sum(),
            };
            (grad, stats)
        })
        .collect();
    // Fixed-order reduction: the same bits whatever the thread count.
    let mut total = Box::new(Mlp::zeroed());
    let mut stats = IterationStats::default();
    for (g, s) in &per_set {
        for (t, &v) in total.params_mut().zip(g.params()) {
            *t += v;
        }
        stats.decisions += s.decisions;
        stats.mean_return += s.mean_return;
        stats.mean_entropy += s.mean_entropy;
        stats.mean_slowdown += s.mean_slowdown;
        stats.penalised += s.penalised;
    }
    let trajectories = (jobsets.len() * settings.trajectories).max(1) as f64;
    let scale = 1.0 / stats.decisions.max(1) as f32;
    total.params_mut().for_each(|p| *p *= scale);
    stats.mean_entropy /= stats.decisions.max(1) as f64;
    stats.mean_return /= trajectories;
    stats.mean_slowdown /= trajectories;
    (total, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_is_mean_return_to_go_zero_padded() {
        // Returns-to-go: [-3, -2, -1] and [-1]; baseline [(-3 - 1) / 2, -2 / 2, -1 / 2].
        let adv = advantages(&[vec![-1.0, -1.0, -1.0], vec![-1.0]]);
        assert_eq!(adv[0], vec![-1.0, -1.0, -0.5]);
        assert_eq!(adv[1], vec![1.0]);
        // Mean |advantage| of those four: (1 + 1 + 0.5 + 1) / 4.
        assert_eq!(distill_scale(&adv), 0.875);
        assert_eq!(distill_scale(&[]), 0.0);
    }
}
