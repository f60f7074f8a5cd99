//! What a learned policy needs of its network: features in, one logit (score) per action out.
//!
//! [`Network`] is implemented by the `f32` perceptron ([`crate::nn::Mlp`]) and the int8 one
//! ([`crate::quant::QMlp`]); anything that maps a feature vector of `I` values to `O` ordered
//! scores (a decision tree, say) can implement it too and becomes a policy through the one
//! generic [`crate::policy::Policy`]. The decision is the [`masked_argmax`] of the logits, so
//! the logit type needs an order and, for floats, a finiteness check ([`Logit`]).

use core::fmt::Debug;

use crate::cluster::Cluster;

/// A logit type: ordered, with a check that a value can be trusted to order actions.
pub trait Logit: Copy + PartialOrd + Debug {
    /// Zero, the value of a fresh logit buffer.
    const ZERO: Self;

    /// False for a value that must not decide an action (NaN or an infinity).
    fn is_finite(self) -> bool;
}

/// `f32` logits: NaN and the infinities are not finite.
impl Logit for f32 {
    const ZERO: Self = 0.0;

    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
}

/// `i32` logits (the int8 network's accumulators, requantized): always finite.
impl Logit for i32 {
    const ZERO: Self = 0;

    fn is_finite(self) -> bool {
        true
    }
}

/// A network mapping `I` features (`f32`, from an [`crate::encoding::Encoder`]) to `O` logits.
/// The forward pass writes only into buffers it is given, so a decision allocates nothing.
pub trait Network<const I: usize, const O: usize> {
    /// The type of one logit.
    type Logit: Logit;
    /// Work buffers of one forward pass (hidden activations, a quantized input, ...), kept by
    /// the policy so reports can read them after a decision.
    type Scratch: Clone + Debug;

    /// Fresh work buffers for [`Network::forward`].
    fn scratch(&self) -> Self::Scratch;

    /// Computes the logits (shape `[O]`) of the features `x` (shape `[I]`).
    fn forward(&self, x: &[f32; I], scratch: &mut Self::Scratch, logits: &mut [Self::Logit; O]);

    /// One logit as a real number, on a scale where the logit differences are log-odds of the
    /// network's distribution (for a rule projection and reports). Must be monotonic, so the
    /// argmax does not change.
    fn real_logit(&self, logit: Self::Logit) -> f32;

    /// The action index (`0..M` a slot, `M` void) that [`masked_argmax`] of this network's
    /// logits on the operator features of `cluster` would choose under
    /// [`crate::policy::valid_actions`]`(cluster, mask_invalid)`, decided without computing all
    /// the logits and the whole mask; `None` (the default) when the network cannot. The
    /// [`crate::policy::Policy`] asks only when its observation is the operator features
    /// ([`crate::encoding::Observe::OPERATOR_FEATURES`]), and only to decide: reports and rule
    /// projections evaluate in full. The decision tree answers with at most its depth of
    /// features ([`crate::tree::Tree`]).
    fn decide_direct<const M: usize>(
        &self,
        cluster: &Cluster<M>,
        mask_invalid: bool,
    ) -> Option<usize> {
        let _ = (cluster, mask_invalid);
        None
    }
}

/// The valid entry with the largest logit, lowest index on ties; `Ok(None)` when no entry is
/// valid, `Err(index)` for the first valid logit that is not finite ([`Logit::is_finite`]).
///
/// # Errors
/// The index of the first valid non-finite logit (never for `i32` logits).
pub fn masked_argmax<L: Logit, const O: usize>(
    logits: &[L; O],
    valid: &[bool; O],
) -> Result<Option<usize>, usize> {
    let mut best: Option<(usize, L)> = None;
    for (k, (&l, &v)) in logits.iter().zip(valid.iter()).enumerate() {
        if !v {
            continue;
        }
        if !l.is_finite() {
            return Err(k);
        }
        if best.is_none_or(|(_, b)| l > b) {
            best = Some((k, l));
        }
    }
    Ok(best.map(|(k, _)| k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_argmax_of_floats_and_integers() {
        let logits = [0.0, 1.0, 100.0, f32::NAN];
        let valid = [true, true, false, false];
        assert_eq!(masked_argmax(&logits, &valid), Ok(Some(1)));
        assert_eq!(masked_argmax(&logits, &[true; 4]), Err(3));
        assert_eq!(masked_argmax(&logits, &[false; 4]), Ok(None));
        // Ties go to the lowest index.
        assert_eq!(masked_argmax(&[2.0f32, 2.0], &[true, true]), Ok(Some(0)));
        let q = [96, 11922, i32::MAX, i32::MIN];
        assert_eq!(masked_argmax(&q, &[true, true, false, true]), Ok(Some(1)));
        assert_eq!(masked_argmax(&q, &[true; 4]), Ok(Some(2)));
        assert_eq!(masked_argmax(&[-5i32, -5], &[true, true]), Ok(Some(0)));
        assert_eq!(masked_argmax(&q, &[false; 4]), Ok(None));
    }
}
