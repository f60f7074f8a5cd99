//! Trajectories of a stochastic policy, and their replay for gradients.
//!
//! A rollout keeps only actions and rewards; the gradient pass replays the same actions on the
//! same jobs, which rebuilds every observation exactly (the simulator is deterministic). Memory
//! per trajectory is then a few bytes per decision, even for DeepRM's 20 x 224 image.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use whitebox_core::encoding::Encoder;
use whitebox_core::nn::{masked_softmax, sample, Mlp};
use whitebox_core::policy::Policy;
use whitebox_core::{Action, Charge, EndMode, Episode, Event, Job, Observer, Summary};

use super::grad::{backprop, dlog_prob, entropy_grad};

/// The reward signal to maximize.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Objective {
    /// `-sum(1 / len)` over jobs in the system per step (DeepRM; return = -sum of slowdowns).
    Slowdown,
    /// `-(number of jobs in the system)` per step (mean completion time).
    CompletionTime,
}

impl Objective {
    fn reward(self, charge: &Charge) -> f64 {
        match self {
            Objective::Slowdown => charge.slowdown_reward(),
            Objective::CompletionTime => charge.completion_reward(),
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
    objective: Objective,
    rng: &mut Pcg32,
) -> Trajectory {
    let mut obs = LastCharge::default();
    let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut obs).expect("jobs validated");
    let mut policy: Policy<'_, E, M, I, H, O> = Policy::new(net, mask_invalid);
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
/// `sum_t adv[t] * log pi(a_t | s_t) + beta * H(pi(. | s_t))`.
#[allow(clippy::too_many_arguments)]
pub fn accumulate<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    jobs: &[Job],
    end: EndMode,
    mask_invalid: bool,
    actions: &[u8],
    adv: &[f32],
    beta: f32,
    grad: &mut Mlp<I, H, O>,
) {
    let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut ()).expect("jobs validated");
    let mut policy: Policy<'_, E, M, I, H, O> = Policy::new(net, mask_invalid);
    let mut probs = [0.0f32; O];
    for (&a, &adv) in actions.iter().zip(adv.iter()) {
        policy.evaluate(ep.cluster());
        if masked_softmax(policy.logits(), policy.valid(), &mut probs) {
            let gl = dlog_prob(&probs, usize::from(a));
            let (_, ge) = entropy_grad(&probs);
            let g: [f32; O] = std::array::from_fn(|k| adv * gl[k] + beta * ge[k]);
            backprop(net, policy.obs(), policy.hidden(), &g, grad);
        }
        ep.step(
            Action::from_index(usize::from(a), M).unwrap_or(Action::Void),
            &mut (),
        );
    }
}

/// A random stream for one purpose, decorrelated from others by `seed_from_u64`'s mixing.
pub fn stream(seed: u64, keys: &[u64]) -> Pcg32 {
    let key = keys
        .iter()
        .fold(seed, |acc, &k| acc.wrapping_mul(1_000_003).wrapping_add(k));
    Pcg32::seed_from_u64(key)
}
