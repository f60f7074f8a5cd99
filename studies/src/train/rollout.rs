//! Trajectories of a stochastic policy, and their replay for gradients.
//!
//! A rollout keeps only actions and rewards; the gradient pass replays the same actions on the
//! same jobs, which rebuilds every observation exactly (the simulator is deterministic). Memory
//! per trajectory is then a few bytes per decision, even for DeepRM's 20 x 224 image.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use whitebox_core::encoding::Encoder;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::nn::{masked_softmax, sample, Mlp};
use whitebox_core::{Action, Charge, EndMode, Episode, Event, Job, Observer, Summary};

use super::grad::{backprop, dlog_prob, entropy_grad};

/// The reward signal to maximize.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Reward {
    /// `-sum(1 / len)` over jobs in the system per step (DeepRM; return = -sum of slowdowns).
    Slowdown,
    /// `-(number of jobs in the system)` per step (mean completion time).
    CompletionTime,
}

impl Reward {
    fn reward(self, charge: &Charge) -> f64 {
        match self {
            Reward::Slowdown => charge.slowdown_reward(),
            Reward::CompletionTime => charge.completion_reward(),
        }
    }
}

/// Remembers the reward charge of the last decision.
#[derive(Default)]
struct LastCharge(Charge);

impl Observer for LastCharge {
    fn on_event(&mut self, event: &Event) {
        if let Event::Decided { charge, .. } = event {
            self.0 = *charge;
        }
    }
}

/// One sampled episode.
#[derive(Clone, Debug)]
pub struct Trajectory {
    /// Output index of each decision.
    pub actions: Vec<u8>,
    /// Reward of each decision.
    pub rewards: Vec<f64>,
    /// Sum of the policy's entropy over decisions, in nats.
    pub entropy: f64,
    /// The episode's metrics.
    pub summary: Summary,
}

/// Samples one episode of `jobs` with the softmax policy of `net`, drawing from `rng`.
pub fn rollout<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    jobs: &[Job],
    end: EndMode,
    mask_invalid: bool,
    objective: Reward,
    rng: &mut Pcg32,
) -> Trajectory {
    let mut obs = LastCharge::default();
    let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut obs).expect("jobs validated");
    let mut policy: MlpPolicy<'_, E, M, I, H, O> = MlpPolicy::new(net, mask_invalid);
    let mut t = Trajectory {
        actions: Vec::new(),
        rewards: Vec::new(),
        entropy: 0.0,
        summary: Summary::default(),
    };
    let mut probs = [0.0f32; O];
    while !ep.is_done() {
        policy.evaluate(ep.cluster());
        let k = if masked_softmax(policy.logits(), policy.valid(), &mut probs) {
            t.entropy += f64::from(entropy_grad(&probs).0);
            sample(&probs, rng.random::<f32>()).unwrap_or(M)
        } else {
            M // non-finite logits: void, the safe action
        };
        ep.step(Action::from_index(k, M).unwrap_or(Action::Void), &mut obs);
        t.actions.push(k as u8);
        t.rewards.push(objective.reward(&obs.0));
    }
    t.summary = ep.summary();
    t
}

/// Replays `actions` on `jobs` and adds to `grad` the gradient of
/// `(1 - pi) sum_t adv[t] log p(a_t | s_t) + beta H(p(. | s_t)) + pi scale sum_t sum_a q log p`,
/// where the last term (rule distillation, `pi` and `q` from `settings.teacher`, `scale` from
/// [`super::reinforce::distill_scale`]) is absent without a teacher.
pub fn accumulate<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    jobs: &[Job],
    settings: &super::reinforce::PgSettings,
    actions: &[u8],
    adv: &[f32],
    scale: f32,
    grad: &mut Mlp<I, H, O>,
) {
    let mut ep: Episode<'_, M> = Episode::new(jobs, settings.end, &mut ()).expect("jobs validated");
    let mut policy: MlpPolicy<'_, E, M, I, H, O> = MlpPolicy::new(net, settings.mask_invalid);
    let mut probs = [0.0f32; O];
    let pi = settings.teacher.as_ref().map_or(0.0, |t| t.pi);
    let distill = pi * scale;
    for (&a, &adv) in actions.iter().zip(adv.iter()) {
        policy.evaluate(ep.cluster());
        if masked_softmax(policy.logits(), policy.valid(), &mut probs) {
            let gl = dlog_prob(&probs, usize::from(a));
            let (_, ge) = entropy_grad(&probs);
            let teacher = settings.teacher.as_ref().and_then(|t| {
                t.projection
                    .project(policy.logits(), policy.valid(), ep.cluster())
                    .ok()
                    .map(|d| distill_grad(&probs, &d.projected))
            });
            let gd = teacher.unwrap_or([0.0; O]);
            let g: [f32; O] = std::array::from_fn(|k| {
                (1.0 - pi) * adv * gl[k] + settings.entropy * ge[k] + distill * gd[k]
            });
            backprop(net, policy.obs(), policy.hidden(), &g, grad);
        }
        ep.step(
            Action::from_index(usize::from(a), M).unwrap_or(Action::Void),
            &mut (),
        );
    }
}

/// Gradient of `sum_a q(a) log p(a)` (minus the cross-entropy of the constant teacher `q`)
/// with respect to the student's logits: `q - p` (masked entries have `p = q = 0`).
pub fn distill_grad<const O: usize>(p: &[f32; O], q: &[f32; O]) -> [f32; O] {
    std::array::from_fn(|k| q[k] - p[k])
}

/// A random stream for one purpose, decorrelated from others by `seed_from_u64`'s mixing.
pub fn stream(seed: u64, keys: &[u64]) -> Pcg32 {
    let key = keys
        .iter()
        .fold(seed, |acc, &k| acc.wrapping_mul(1_000_003).wrapping_add(k));
    Pcg32::seed_from_u64(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distillation_gradient_matches_finite_differences_of_the_cross_entropy() {
        // f(z) = sum_a q(a) log softmax(z)_a over all 3 actions, by central differences.
        let z = [0.3f64, -1.2, 0.8];
        let q = [0.5f64, 0.1, 0.4];
        let f = |z: &[f64; 3]| {
            let m = z.iter().cloned().fold(f64::MIN, f64::max);
            let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            q.iter().zip(z).map(|(q, z)| q * (z - lse)).sum::<f64>()
        };
        let e: Vec<f64> = z.iter().map(|v| v.exp()).collect();
        let s: f64 = e.iter().sum();
        let p = [e[0] / s, e[1] / s, e[2] / s].map(|v| v as f32);
        let g = distill_grad(&p, &q.map(|v| v as f32));
        for k in 0..3 {
            let (mut up, mut down) = (z, z);
            up[k] += 1e-6;
            down[k] -= 1e-6;
            let fd = (f(&up) - f(&down)) / 2e-6;
            assert!((f64::from(g[k]) - fd).abs() < 1e-6, "{k}: {} vs {fd}", g[k]);
        }
    }

    #[test]
    fn distillation_weight_follows_hu_et_al_schedule() {
        use crate::train::reinforce::Teacher;
        // 1 - 0.995^100 = 0.39423 (by hand), below the cap 0.9; capped later.
        assert!((Teacher::weight(0.9, 0.995, 100) - 0.394_230).abs() < 1e-4);
        assert_eq!(Teacher::weight(0.9, 0.995, 2000), 0.9);
        assert_eq!(Teacher::weight(0.9, 0.995, 0), 0.0);
    }
}
