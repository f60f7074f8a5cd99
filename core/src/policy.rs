//! A learned policy as a [`Scheduler`]: observation ([`Observe`], an encoder or the tree's
//! operator features) + [`Network`] + invalid-action masking + argmax. One generic [`Policy`]
//! serves every network: the `f32` perceptron ([`crate::nn::MlpPolicy`]), the int8 one
//! ([`crate::quant::QPolicy`]), the decision tree ([`crate::tree::TreePolicy`]) and any other
//! [`Network`].
//!
//! The decision path needs no `exp`: the action is the valid output with the largest logit
//! (lowest index on ties). Probabilities ([`crate::nn::masked_softmax`]) are for training and
//! reports only.

use core::marker::PhantomData;

use crate::cluster::{Action, Cluster};
use crate::encoding::Observe;
use crate::network::{masked_argmax, Logit, Network};
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
        let free_tail = cluster.free_tail();
        for (v, slot) in valid.iter_mut().zip(cluster.slots()) {
            *v = slot.is_some_and(|j| cluster.fits_somewhere(&j, free_tail));
        }
        if let Some(void) = valid.get_mut(M) {
            *void = void_allowed(cluster);
        }
    }
    valid
}

/// [`valid_actions`]' entry for slot `k` with `mask_invalid`: the slot holds a job that fits
/// somewhere in the horizon.
pub fn slot_allowed<const M: usize>(cluster: &Cluster<M>, k: usize) -> bool {
    cluster
        .slots()
        .get(k)
        .copied()
        .flatten()
        .is_some_and(|j| cluster.first_fit(&j).is_some())
}

/// [`valid_actions`]' entry for void with `mask_invalid`: false only when the cluster is idle
/// (nothing running or reserved) while a waiting job fits now.
pub fn void_allowed<const M: usize>(cluster: &Cluster<M>) -> bool {
    let idle = cluster.in_flight().jobs == 0;
    !(idle
        && cluster
            .slots()
            .iter()
            .flatten()
            .any(|j| cluster.fits_now(j)))
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

/// A learned policy for `M` job slots: observation `E` (`I` features), network `N` and `O = M + 1`
/// outputs. Holds its work buffers (observation, the network's scratch, logits, mask), so a
/// decision allocates nothing.
#[derive(Clone, Debug)]
pub struct Policy<
    'm,
    E: Observe<M, I>,
    N: Network<I, O>,
    const M: usize,
    const I: usize,
    const O: usize,
> {
    net: &'m N,
    mask_invalid: bool,
    obs: [f32; I],
    /// What `obs` shows, so the next observation rewrites only what changed.
    memo: E::Memo,
    scratch: N::Scratch,
    logits: [N::Logit; O],
    valid: [bool; O],
    encoder: PhantomData<E>,
}

impl<'m, E: Observe<M, I>, N: Network<I, O>, const M: usize, const I: usize, const O: usize>
    Policy<'m, E, N, M, I, O>
{
    const SHAPES_OK: () = assert!(
        E::SHAPE_OK && O == M + 1,
        "network input must match the observation and output must be M + 1"
    );

    /// A policy deciding with `net`; `mask_invalid` should be `true` except to reproduce DeepRM
    /// (see [`valid_actions`]).
    pub fn new(net: &'m N, mask_invalid: bool) -> Self {
        let () = Self::SHAPES_OK;
        Policy {
            net,
            mask_invalid,
            obs: [0.0; I],
            memo: E::Memo::default(),
            scratch: net.scratch(),
            logits: [N::Logit::ZERO; O],
            valid: [true; O],
            encoder: PhantomData,
        }
    }

    /// The network.
    pub fn net(&self) -> &'m N {
        self.net
    }

    /// Encodes `cluster`, runs the network and computes the action mask. Afterwards
    /// [`Policy::obs`], [`Policy::scratch`], [`Policy::logits`] and [`Policy::valid`] describe
    /// this state.
    pub fn evaluate(&mut self, cluster: &Cluster<M>) {
        E::observe_update(&mut self.memo, cluster, &mut self.obs);
        self.net
            .forward(&self.obs, &mut self.scratch, &mut self.logits);
        self.valid = valid_actions(cluster, self.mask_invalid);
    }

    /// The last observation, shape `[I]` (before any quantization).
    pub fn obs(&self) -> &[f32; I] {
        &self.obs
    }

    /// The network's work buffers after the last evaluation (for the `f32` network its hidden
    /// activations, for the int8 one its quantized input and hidden codes).
    pub fn scratch(&self) -> &N::Scratch {
        &self.scratch
    }

    /// The last logits, shape `[M + 1]`, in the network's logit type.
    pub fn logits(&self) -> &[N::Logit; O] {
        &self.logits
    }

    /// The last action mask, shape `[M + 1]`.
    pub fn valid(&self) -> &[bool; O] {
        &self.valid
    }

    /// The greedy action for the last evaluated state: the allowed output with the largest
    /// logit, lowest index on ties.
    ///
    /// # Errors
    /// [`PolicyError::NonFiniteOutput`] when an allowed logit is NaN or infinite: a corrupted
    /// network never produces an action silently (integer logits never fail).
    pub fn greedy(&self) -> Result<Action, PolicyError> {
        match masked_argmax(&self.logits, &self.valid) {
            Ok(Some(k)) => Ok(Action::from_index(k, M).unwrap_or(Action::Void)),
            // Void is always allowed, so this is unreachable; void is the safe answer.
            Ok(None) => Ok(Action::Void),
            Err(index) => Err(PolicyError::NonFiniteOutput { index }),
        }
    }
}

impl<E: Observe<M, I>, N: Network<I, O>, const M: usize, const I: usize, const O: usize>
    Scheduler<M> for Policy<'_, E, N, M, I, O>
{
    /// [`Policy::evaluate`] then [`Policy::greedy`], except for a network over the operator
    /// features that decides directly ([`Network::decide_direct`], the same action): then
    /// [`Policy::logits`] and the other buffers are not refreshed (call
    /// [`Policy::evaluate`] for them).
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        if E::OPERATOR_FEATURES {
            if let Some(k) = self.net.decide_direct(cluster, self.mask_invalid) {
                return Ok(Action::from_index(k, M).unwrap_or(Action::Void));
            }
        }
        self.evaluate(cluster);
        self.greedy()
    }
}

/// The network's logits as real numbers ([`Network::real_logit`]: `f32` logits as they are,
/// int8 ones dequantized) and the invalid-action mask ([`valid_actions`]), as evaluated by
/// [`Policy::evaluate`]. The real logit is monotonic in the logit, so their masked argmax is
/// [`Policy::greedy`]'s action (for int8 up to ties between logits beyond `2^24` in magnitude,
/// which `f32` cannot tell apart).
impl<E: Observe<M, I>, N: Network<I, P>, const M: usize, const I: usize, const P: usize>
    Preference<M> for Policy<'_, E, N, M, I, P>
{
    fn preference<const O: usize>(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32; O],
        valid: &mut [bool; O],
    ) -> Result<(), PolicyError> {
        const { assert!(O == P, "the projection has as many outputs as the network") };
        self.evaluate(cluster);
        for (dst, &src) in logits.iter_mut().zip(self.logits.iter()) {
            *dst = self.net.real_logit(src);
        }
        for (dst, src) in valid.iter_mut().zip(self.valid.iter()) {
            *dst = *src;
        }
        Ok(())
    }
}
