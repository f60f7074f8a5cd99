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
use super::shield::{
    breaks_rule, coupled_draw, keep_weights, kept_mass_grad, RuleMode, RuleTraining,
};

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
    /// Sum of the policy's entropy over decisions, in nats (of the projected policy when
    /// acting through the projection).
    pub entropy: f64,
    /// Decisions whose reward lost the rule penalty's `X` (a replaced raw choice when
    /// shielded, a broken rule when penalised; 0 without [`RuleTraining`]).
    pub penalised: u32,
    /// The episode's metrics.
    pub summary: Summary,
}

/// Samples one episode of `jobs` with the softmax policy of `net`, drawing from `rng`; with
/// `rules`, through the projection or with the rule penalty (see [`super::shield`]).
pub fn rollout<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    jobs: &[Job],
    end: EndMode,
    mask_invalid: bool,
    objective: Reward,
    rules: Option<&RuleTraining>,
    rng: &mut Pcg32,
) -> Trajectory {
    let mut obs = LastCharge::default();
    let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut obs).expect("jobs validated");
    let mut policy: MlpPolicy<'_, E, M, I, H, O> = MlpPolicy::new(net, mask_invalid);
    let mut t = Trajectory {
        actions: Vec::new(),
        rewards: Vec::new(),
        entropy: 0.0,
        penalised: 0,
        summary: Summary::default(),
    };
    let mut probs = [0.0f32; O];
    while !ep.is_done() {
        policy.evaluate(ep.cluster());
        let (k, penalised) = match rules {
            None if masked_softmax(policy.logits(), policy.valid(), &mut probs) => {
                t.entropy += f64::from(entropy_grad(&probs).0);
                (sample(&probs, rng.random::<f32>()).unwrap_or(M), false)
            }
            Some(r) => match r
                .projection
                .project(policy.logits(), policy.valid(), ep.cluster())
            {
                Ok(d) => {
                    let u = [rng.random(), rng.random(), rng.random()];
                    if r.mode == RuleMode::Shielded {
                        t.entropy += f64::from(entropy_grad(&d.projected).0);
                        let w = keep_weights(&r.projection, &d);
                        coupled_draw(&d.raw, &d.projected, &w, u)
                            .map_or((M, true), |d| (d.action, d.changed))
                    } else {
                        t.entropy += f64::from(entropy_grad(&d.raw).0);
                        let k = sample(&d.raw, u[0]).unwrap_or(M);
                        (k, breaks_rule(&r.projection, &d, k))
                    }
                }
                Err(_) => (M, false),
            },
            None => (M, false), // non-finite logits: void, the safe action
        };
        ep.step(Action::from_index(k, M).unwrap_or(Action::Void), &mut obs);
        t.actions.push(k as u8);
        let penalty = match rules {
            Some(r) if penalised => f64::from(r.penalty),
            _ => 0.0,
        };
        t.penalised += u32::from(penalised);
        t.rewards.push(objective.reward(&obs.0) - penalty);
    }
    t.summary = ep.summary();
    t
}

/// Replays `actions` on `jobs` and adds to `grad` the gradient of
/// `(1 - pi) sum_t adv[t] log p(a_t | s_t) + beta H(p(. | s_t)) + pi scale sum_t sum_a q log p`,
/// where the last term (rule distillation, `pi` and `q` from `settings.teacher`, `scale` from
/// [`super::reinforce::distill_scale`]) is absent without a teacher. With
/// `settings.rules` in shielded mode, `p` is the projected policy `q` and the penalty's
/// expected gradient `X dZ/dz` is added ([`super::shield`]).
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
        if let Some(r) = settings.rules.as_ref() {
            let d = r
                .projection
                .project(policy.logits(), policy.valid(), ep.cluster());
            if let Ok(d) = d {
                let shielded = r.mode == RuleMode::Shielded;
                let dist = if shielded { &d.projected } else { &d.raw };
                let gl = dlog_prob(dist, usize::from(a));
                let (_, ge) = entropy_grad(dist);
                let gz = if shielded && r.penalty > 0.0 {
                    kept_mass_grad(&d.raw, &keep_weights(&r.projection, &d)).1
                } else {
                    [0.0; O]
                };
                let g: [f32; O] = std::array::from_fn(|k| {
                    adv * gl[k] + settings.entropy * ge[k] + r.penalty * gz[k]
                });
                backprop(net, policy.obs(), policy.hidden(), &g, grad);
            }
        } else if masked_softmax(policy.logits(), policy.valid(), &mut probs) {
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

    /// A random 5-slot compact network, a rate-0.9 job set, and the cap + work-conserving
    /// rules in `mode` with penalty `x`.
    mod rules {
        use super::*;
        use crate::train::shield::{RuleMode, RuleTraining};
        use whitebox_core::encoding::{compact_len, Compact};
        use whitebox_core::workload::{JobGenerator, Workload};

        pub const I: usize = compact_len(5);
        pub type Net = Mlp<I, 8, 6>;

        pub fn net() -> Box<Net> {
            let mut net = Box::new(Net::zeroed());
            let mut rng = stream(5, &[9]);
            net.params_mut()
                .for_each(|p| *p = rng.random_range(-0.5..0.5));
            net
        }

        pub fn jobs() -> Vec<Job> {
            JobGenerator::new(Workload::DeepRm, 0.9, 30, 17).collect()
        }

        pub fn training(mode: RuleMode, x: f32) -> RuleTraining {
            let rules = ["util<=0.8".to_string(), "work-conserving".to_string()];
            RuleTraining {
                projection: whitebox_runtime::rules::projection(&rules, f32::INFINITY)
                    .expect("rules")
                    .expect("some"),
                mode,
                penalty: x,
            }
        }

        pub fn run(r: Option<&RuleTraining>, seed: u64) -> Trajectory {
            let end = EndMode::AllDone { time_cap: 300 };
            rollout::<Compact, 5, I, 8, 6>(
                &net(),
                &jobs(),
                end,
                true,
                Reward::Slowdown,
                r,
                &mut stream(seed, &[]),
            )
        }

        /// The projected decision of every step of `t`, replayed, with the action taken.
        pub fn replay(
            t: &Trajectory,
            r: &RuleTraining,
        ) -> Vec<(whitebox_core::projection::ProjectedDecision<6>, usize)> {
            let net = net();
            let jobs = jobs();
            let end = EndMode::AllDone { time_cap: 300 };
            let mut ep: Episode<'_, 5> = Episode::new(&jobs, end, &mut ()).expect("jobs");
            let mut policy: MlpPolicy<'_, Compact, 5, I, 8, 6> = MlpPolicy::new(&net, true);
            let mut out = Vec::new();
            for &a in &t.actions {
                policy.evaluate(ep.cluster());
                let d = r
                    .projection
                    .project(policy.logits(), policy.valid(), ep.cluster())
                    .expect("finite");
                out.push((d, usize::from(a)));
                ep.step(
                    Action::from_index(usize::from(a), 5).expect("index"),
                    &mut (),
                );
            }
            out
        }
    }

    #[test]
    fn the_penalty_is_subtracted_exactly_at_the_penalised_decisions() {
        use crate::train::shield::RuleMode;
        for mode in [RuleMode::Shielded, RuleMode::Penalty] {
            let (free, fined) = (rules::training(mode, 0.0), rules::training(mode, 2.5));
            let a = rules::run(Some(&free), 4);
            let b = rules::run(Some(&fined), 4);
            // The penalty changes the reward, never the draws.
            assert_eq!(a.actions, b.actions, "{mode:?}");
            assert_eq!(a.penalised, b.penalised);
            let steps = rules::replay(&a, &free);
            let mut count = 0;
            for (t, (d, k)) in steps.iter().enumerate() {
                let diff = a.rewards[t] - b.rewards[t];
                let fined = (diff - 2.5).abs() < 1e-9;
                assert!(diff == 0.0 || fined, "{mode:?} step {t}: {diff}");
                count += u32::from(fined);
                let breaks = d.violated[*k] != 0;
                match mode {
                    // The shield never takes a rule-breaking action (it never falls back with
                    // these rules); a penalised step is one whose raw choice broke a rule.
                    RuleMode::Shielded => assert!(!breaks && !d.fallback_void, "step {t}"),
                    // Unshielded: penalised exactly when the action taken breaks a rule.
                    _ => assert_eq!(fined, breaks, "step {t}"),
                }
            }
            assert_eq!(count, a.penalised);
            assert!(a.penalised > 0, "{mode:?}: the test should see penalties");
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
