//! Warm start by imitating SJF: supervised cross-entropy on the states SJF visits (DeepRM's
//! `pg_su.py`, `SEMANTICS.md` section 4), before policy-gradient training.
//!
//! Plain imitation trains only on SJF's own states, so one early mistake leads the student into
//! states it never saw. DAgger (Ross, Gordon and Bagnell, AISTATS 2011) fixes this: after each
//! round the student's own greedy rollouts are labelled with SJF's action and added to the data.

use rand::seq::SliceRandom;
use whitebox_core::encoding::Encoder;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::nn::{masked_softmax, Mlp};
use whitebox_core::policy::valid_actions;
use whitebox_core::{Action, EndMode, Episode, Job, Scheduler, Sjf};

use super::grad::{backprop, dlog_prob};
use super::optim::Optimizer;
use super::rollout::stream;

/// One labelled state: observation, action mask and SJF's action.
struct Sample<const I: usize, const O: usize> {
    obs: Box<[f32; I]>,
    valid: [bool; O],
    action: usize,
}

/// States visited on `jobsets` labelled with SJF's action; the episode follows SJF, or the
/// student's greedy action when `student` is given.
fn labelled_states<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    jobsets: &[Vec<Job>],
    end: EndMode,
    mask_invalid: bool,
    student: Option<&Mlp<I, H, O>>,
    samples: &mut Vec<Sample<I, O>>,
) {
    for jobs in jobsets {
        let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut ()).expect("jobs validated");
        let mut policy = student.map(|net| MlpPolicy::<'_, E, M, I, H, O>::new(net, mask_invalid));
        while !ep.is_done() {
            let mut obs = Box::new([0.0f32; I]);
            E::encode(ep.cluster(), &mut obs);
            let label = Scheduler::<M>::decide(&mut Sjf, ep.cluster()).expect("SJF decides");
            let action = match policy.as_mut() {
                Some(p) => p.decide(ep.cluster()).unwrap_or(Action::Void),
                None => label,
            };
            samples.push(Sample {
                obs,
                valid: valid_actions(ep.cluster(), mask_invalid),
                action: label.index(M),
            });
            ep.step(action, &mut ());
        }
    }
}

/// Trains `net` to imitate SJF on `jobsets`: `rounds` DAgger rounds (round 0 on SJF's own
/// states), each `epochs` passes over the data in minibatches of 64 shuffled with `seed`.
/// Returns the final accuracy on the data (fraction of states where the greedy action equals
/// SJF's; ties between equally short jobs count as misses).
#[allow(clippy::too_many_arguments)]
pub fn imitate_sjf<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &mut Mlp<I, H, O>,
    jobsets: &[Vec<Job>],
    end: EndMode,
    mask_invalid: bool,
    rounds: u32,
    epochs: u32,
    optimizer: &mut Optimizer,
    seed: u64,
) -> f64 {
    let mut samples = Vec::new();
    for round in 0..rounds.max(1) {
        let student = (round > 0).then_some(&*net);
        labelled_states::<E, M, I, H, O>(jobsets, end, mask_invalid, student, &mut samples);
        fit(net, &samples, epochs, optimizer, seed, round);
    }
    accuracy(net, &samples)
}

fn fit<const I: usize, const H: usize, const O: usize>(
    net: &mut Mlp<I, H, O>,
    samples: &[Sample<I, O>],
    epochs: u32,
    optimizer: &mut Optimizer,
    seed: u64,
    round: u32,
) {
    let mut order: Vec<usize> = (0..samples.len()).collect();
    let (mut h, mut z, mut p) = ([0.0f32; H], [0.0f32; O], [0.0f32; O]);
    for epoch in 0..epochs {
        order.shuffle(&mut stream(seed, &[2, u64::from(round), u64::from(epoch)]));
        for batch in order.chunks(64) {
            let mut grad = Box::new(Mlp::<I, H, O>::zeroed());
            for &i in batch {
                let s = &samples[i];
                net.forward(&s.obs, &mut h, &mut z);
                if masked_softmax(&z, &s.valid, &mut p) {
                    backprop(net, &s.obs, &h, &dlog_prob(&p, s.action), &mut grad);
                }
            }
            let scale = 1.0 / batch.len() as f32;
            grad.params_mut().for_each(|g| *g *= scale);
            optimizer.ascend(net, &grad);
        }
    }
}

fn accuracy<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    samples: &[Sample<I, O>],
) -> f64 {
    let (mut h, mut z) = ([0.0f32; H], [0.0f32; O]);
    let correct = samples
        .iter()
        .filter(|s| {
            net.forward(&s.obs, &mut h, &mut z);
            whitebox_core::network::masked_argmax(&z, &s.valid) == Ok(Some(s.action))
        })
        .count();
    correct as f64 / samples.len().max(1) as f64
}
