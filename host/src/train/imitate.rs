//! Warm start by imitating SJF: supervised cross-entropy on the states SJF visits (DeepRM's
//! `pg_su.py`, `SEMANTICS.md` section 4), before policy-gradient training.

use rand::seq::SliceRandom;
use whitebox_core::encoding::Encoder;
use whitebox_core::nn::{masked_softmax, Mlp};
use whitebox_core::policy::valid_actions;
use whitebox_core::{EndMode, Episode, Job, Scheduler, Sjf};

use super::grad::{backprop, dlog_prob};
use super::optim::Optimizer;
use super::rollout::stream;

/// One labelled state: observation, action mask and SJF's action.
struct Sample<const I: usize, const O: usize> {
    obs: Box<[f32; I]>,
    valid: [bool; O],
    action: usize,
}

fn sjf_states<E: Encoder, const M: usize, const I: usize, const O: usize>(
    jobsets: &[Vec<Job>],
    end: EndMode,
    mask_invalid: bool,
) -> Vec<Sample<I, O>> {
    let mut samples = Vec::new();
    for jobs in jobsets {
        let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut ()).expect("jobs validated");
        while !ep.is_done() {
            let mut obs = Box::new([0.0f32; I]);
            E::encode(ep.cluster(), &mut obs);
            let action = Scheduler::<M>::decide(&mut Sjf, ep.cluster()).expect("SJF decides");
            samples.push(Sample {
                obs,
                valid: valid_actions(ep.cluster(), mask_invalid),
                action: action.index(M),
            });
            ep.step(action, &mut ());
        }
    }
    samples
}

/// Trains `net` to imitate SJF for `epochs` passes over SJF's states on `jobsets`, in
/// minibatches of 64 shuffled with `seed`. Returns the final training accuracy (fraction of
/// states where the network's greedy action equals SJF's).
#[allow(clippy::too_many_arguments)]
pub fn imitate_sjf<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &mut Mlp<I, H, O>,
    jobsets: &[Vec<Job>],
    end: EndMode,
    mask_invalid: bool,
    epochs: u32,
    optimizer: &mut Optimizer,
    seed: u64,
) -> f64 {
    let samples = sjf_states::<E, M, I, O>(jobsets, end, mask_invalid);
    let mut order: Vec<usize> = (0..samples.len()).collect();
    let (mut h, mut z, mut p) = ([0.0f32; H], [0.0f32; O], [0.0f32; O]);
    for epoch in 0..epochs {
        order.shuffle(&mut stream(seed, &[2, u64::from(epoch)]));
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
    let correct = samples
        .iter()
        .filter(|s| {
            net.forward(&s.obs, &mut h, &mut z);
            whitebox_core::nn::masked_argmax(&z, &s.valid) == Ok(Some(s.action))
        })
        .count();
    correct as f64 / samples.len().max(1) as f64
}
