//! A learned policy as a [`Scheduler`]: encoder + [`Mlp`] + invalid-action masking + argmax.
//!
//! The decision path needs no `exp`: the action is the valid output with the largest logit
//! (lowest index on ties). Probabilities ([`crate::nn::masked_softmax`]) are for training and
//! reports only.

use core::marker::PhantomData;

use crate::cluster::{Action, Cluster};
use crate::encoding::Encoder;
use crate::nn::{masked_argmax, Mlp};
use crate::scheduler::{PolicyError, Preference, Scheduler};

/// Which actions are allowed in `cluster`, as network output indices (shape `[M + 1]`).
///
/// With `mask_invalid`: slot `i` only if it holds a job that fits somewhere in the horizon; void
/// unless the cluster is idle (nothing running or reserved) while a waiting job fits now. The
/// second rule is a liveness guarantee: a greedy policy sees the same observation again after
/// voiding on an idle cluster with no arrivals, so it could void forever and starve the waiting
/// jobs; with the rule every all-done episode ends. Without `mask_invalid` (DeepRM's behaviour,
/// `SEMANTICS.md` quirk 7) every action is allowed and an invalid choice becomes a MoveOn.
pub fn valid_actions<const M: usize, const O: usize>(
    cluster: &Cluster<M>,
    mask_invalid: bool,
) -> [bool; O] {
    const { assert!(O == M + 1, "a policy has M + 1 outputs") };
    let mut valid = [true; O];
    if mask_invalid {
        for (v, slot) in valid.iter_mut().zip(cluster.slots().iter()) {
            *v = slot.is_some_and(|j| cluster.first_fit(&j).is_some());
        }
        let idle = cluster.in_flight().jobs == 0;
        let startable = cluster
            .slots()
            .iter()
            .flatten()
            .any(|j| cluster.fits_now(j));
        if idle && startable {
            if let Some(void) = valid.get_mut(M) {
                *void = false;
            }
        }
    }
    valid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Job;

    #[test]
    fn mask_forbids_empty_slots_and_idling_an_empty_cluster() {
        let mut c: Cluster<3> = Cluster::new();
        assert_eq!(valid_actions::<3, 4>(&c, true), [false, false, false, true]);
        let job = |id, len| Job::new(id, 0, len, [6, 1]).unwrap_or_else(|e| unreachable!("{e}"));
        c.submit(job(0, 2)).ok();
        c.submit(job(1, 20)).ok();
        // Idle cluster, a job fits now: void is not allowed.
        assert_eq!(valid_actions::<3, 4>(&c, true), [true, true, false, false]);
        assert_eq!(valid_actions::<3, 4>(&c, false), [true; 4]);
        c.step(Action::Schedule(0));
        // Job 1 (20 steps, 6 units) cannot run beside job 0 and fits nowhere in the horizon
        // (it would need rows 2..22); void is allowed again since a job is running.
        assert_eq!(valid_actions::<3, 4>(&c, true), [false, false, false, true]);
    }
}

/// A network policy for `M` job slots with encoder `E`, `I` inputs, `H` hidden units and
/// `O = M + 1` outputs. Holds its work buffers (observation, hidden activations, logits), so a
/// decision allocates nothing.
#[derive(Clone, Debug)]
pub struct Policy<'m, E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize> {
    net: &'m Mlp<I, H, O>,
    mask_invalid: bool,
    obs: [f32; I],
    hidden: [f32; H],
    logits: [f32; O],
    valid: [bool; O],
    encoder: PhantomData<E>,
}

impl<'m, E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>
    Policy<'m, E, M, I, H, O>
{
    const SHAPES_OK: () = assert!(
        I == E::ENCODING.input_len(M) && O == M + 1,
        "network input must match the encoder and output must be M + 1"
    );

    /// A policy deciding with `net`; `mask_invalid` should be `true` except to reproduce DeepRM.
    pub fn new(net: &'m Mlp<I, H, O>, mask_invalid: bool) -> Self {
        let () = Self::SHAPES_OK;
        Policy {
            net,
            mask_invalid,
            obs: [0.0; I],
            hidden: [0.0; H],
            logits: [0.0; O],
            valid: [true; O],
            encoder: PhantomData,
        }
    }

    /// The network.
    pub fn net(&self) -> &Mlp<I, H, O> {
        self.net
    }

    /// Encodes `cluster`, runs the network and computes the action mask. Afterwards
    /// [`Policy::obs`], [`Policy::hidden`], [`Policy::logits`] and [`Policy::valid`] describe this
    /// state.
    pub fn evaluate(&mut self, cluster: &Cluster<M>) {
        E::encode(cluster, &mut self.obs);
        self.net
            .forward(&self.obs, &mut self.hidden, &mut self.logits);
        self.valid = valid_actions(cluster, self.mask_invalid);
    }

    /// The last observation, shape `[I]`.
    pub fn obs(&self) -> &[f32; I] {
        &self.obs
    }

    /// The last hidden activations, shape `[H]`.
    pub fn hidden(&self) -> &[f32; H] {
        &self.hidden
    }

    /// The last logits, shape `[M + 1]`.
    pub fn logits(&self) -> &[f32; O] {
        &self.logits
    }

    /// The last action mask, shape `[M + 1]`.
    pub fn valid(&self) -> &[bool; O] {
        &self.valid
    }

    /// The greedy action for the last evaluated state.
    ///
    /// # Errors
    /// [`PolicyError::NonFiniteOutput`] when an allowed logit is NaN or infinite: a corrupted
    /// network never produces an action silently.
    pub fn greedy(&self) -> Result<Action, PolicyError> {
        match masked_argmax(&self.logits, &self.valid) {
            Ok(Some(k)) => Ok(Action::from_index(k, M).unwrap_or(Action::Void)),
            // Void is always allowed, so this is unreachable; void is the safe answer.
            Ok(None) => Ok(Action::Void),
            Err(index) => Err(PolicyError::NonFiniteOutput { index }),
        }
    }
}

impl<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize> Scheduler<M>
    for Policy<'_, E, M, I, H, O>
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        self.evaluate(cluster);
        self.greedy()
    }
}

/// The network's logits and the invalid-action mask ([`valid_actions`]), as evaluated by
/// [`Policy::evaluate`].
impl<E: Encoder, const M: usize, const I: usize, const H: usize, const P: usize> Preference<M>
    for Policy<'_, E, M, I, H, P>
{
    fn preference<const O: usize>(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32; O],
        valid: &mut [bool; O],
    ) -> Result<(), PolicyError> {
        const { assert!(O == P, "the projection has as many outputs as the network") };
        self.evaluate(cluster);
        for (dst, src) in logits.iter_mut().zip(self.logits.iter()) {
            *dst = *src;
        }
        for (dst, src) in valid.iter_mut().zip(self.valid.iter()) {
            *dst = *src;
        }
        Ok(())
    }
}
