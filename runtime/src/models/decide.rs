//! The one decision path of every loaded policy (an `f32` or int8 model, a decision tree): the
//! core's generic [`Policy`] built on the fly for the policy's own slot count and asked about a
//! cluster through [`PolicyOps`]. A loaded policy implements [`Decide::with_policy`] only; the
//! greedy decision and the preference are written once, here.

use std::any::Any;

use whitebox_core::encoding::{Encoder, Observe};
use whitebox_core::network::Network;
use whitebox_core::policy::Policy;
use whitebox_core::{Action, Cluster, PolicyError, Preference, Scheduler};

use super::arch::{Arch, ArchVisitor, Family};

/// Greedy decisions of a loaded policy on a cluster with `M` slots, through the core's one
/// generic [`whitebox_core::policy::Policy`].
pub trait Decide<const M: usize> {
    /// Runs `f` on the policy (built for the policy's slot count, borrowing its network or tree).
    ///
    /// # Errors
    /// `f`'s error, or [`PolicyError::WrongSlots`] when the policy decides for another slot
    /// count than `M`.
    fn with_policy<T>(
        &self,
        f: impl FnOnce(&mut dyn PolicyOps<M>) -> Result<T, PolicyError>,
    ) -> Result<T, PolicyError>;

    /// The greedy action (invalid actions masked, as trained).
    ///
    /// # Errors
    /// [`PolicyError::NonFiniteOutput`] for a non-finite logit; [`PolicyError::WrongSlots`] when
    /// the policy decides for another slot count.
    fn decide_greedy(&self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        self.with_policy(|p| p.decide(cluster))
    }

    /// The logits and invalid-action mask (shape `[M + 1]`), for a rule projection.
    ///
    /// # Errors
    /// [`PolicyError::WrongSlots`] when the policy decides for another slot count.
    fn preference<const O: usize>(
        &self,
        cluster: &Cluster<M>,
        logits: &mut [f32; O],
        valid: &mut [bool; O],
    ) -> Result<(), PolicyError> {
        self.with_policy(|p| p.preference_into(cluster, logits, valid))
    }
}

/// A policy for `M` slots as a trait object: its decision, and its preference (logits and mask)
/// copied into slices (the core's [`Preference`] is generic over the width, so it cannot be
/// called through a trait object).
pub trait PolicyOps<const M: usize> {
    /// As [`Scheduler::decide`].
    ///
    /// # Errors
    /// As [`Scheduler::decide`].
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError>;

    /// As [`Preference::preference`], into the first `M + 1` entries of `logits` and `valid`.
    ///
    /// # Errors
    /// As [`Preference::preference`].
    fn preference_into(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32],
        valid: &mut [bool],
    ) -> Result<(), PolicyError>;
}

impl<E, N, const M: usize, const I: usize, const O: usize> PolicyOps<M>
    for Policy<'_, E, N, M, I, O>
where
    E: Observe<M, I>,
    N: Network<I, O>,
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        Scheduler::decide(self, cluster)
    }

    fn preference_into(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32],
        valid: &mut [bool],
    ) -> Result<(), PolicyError> {
        let (mut l, mut v) = ([0.0f32; O], [false; O]);
        Preference::preference(self, cluster, &mut l, &mut v)?;
        for (dst, src) in logits.iter_mut().zip(l) {
            *dst = src;
        }
        for (dst, src) in valid.iter_mut().zip(v) {
            *dst = src;
        }
        Ok(())
    }
}

/// Runs `f` on `policy`, a policy for `N` slots, as a policy for `M` slots: a
/// [`PolicyError::WrongSlots`] unless `N == M`.
///
/// # Errors
/// `f`'s error, or [`PolicyError::WrongSlots`].
pub fn run_as<P: PolicyOps<N>, T, const N: usize, const M: usize>(
    policy: P,
    f: impl FnOnce(&mut dyn PolicyOps<M>) -> Result<T, PolicyError>,
) -> Result<T, PolicyError> {
    if N != M {
        return Err(wrong_slots::<N, M>());
    }
    f(&mut SameSlots::<P, N>(policy))
}

fn wrong_slots<const N: usize, const M: usize>() -> PolicyError {
    PolicyError::WrongSlots {
        policy: N,
        cluster: M,
    }
}

/// A policy for `N` slots that answers for `M` slots when `M == N` (the cluster is the same
/// type then; [`run_as`] checks it before building one).
struct SameSlots<P, const N: usize>(P);

fn same<const M: usize, const N: usize>(cluster: &Cluster<M>) -> Result<&Cluster<N>, PolicyError> {
    (cluster as &dyn Any)
        .downcast_ref()
        .ok_or_else(wrong_slots::<N, M>)
}

impl<P: PolicyOps<N>, const N: usize, const M: usize> PolicyOps<M> for SameSlots<P, N> {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        self.0.decide(same(cluster)?)
    }

    fn preference_into(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32],
        valid: &mut [bool],
    ) -> Result<(), PolicyError> {
        self.0.preference_into(same(cluster)?, logits, valid)
    }
}

impl<F: Family> Arch<F> {
    /// Runs `f` on this network's policy (the core's generic [`Policy`] with its encoder) with
    /// masking setting `mask`, asked about clusters with `M` slots.
    ///
    /// # Errors
    /// `f`'s error, or [`PolicyError::WrongSlots`] when the network decides for another slot
    /// count.
    pub fn with_policy<const M: usize, T>(
        &self,
        mask: bool,
        f: impl FnOnce(&mut dyn PolicyOps<M>) -> Result<T, PolicyError>,
    ) -> Result<T, PolicyError> {
        self.visit(WithPolicy::<_, M> { mask, f })
    }
}

/// [`Arch::with_policy`] as a visitor.
struct WithPolicy<G, const M: usize> {
    mask: bool,
    f: G,
}

impl<'a, F: Family, G, T, const M: usize> ArchVisitor<'a, F> for WithPolicy<G, M>
where
    G: FnOnce(&mut dyn PolicyOps<M>) -> Result<T, PolicyError>,
{
    type Out = Result<T, PolicyError>;

    fn visit<E: Encoder, const N: usize, const I: usize, const O: usize>(
        self,
        net: &'a F::Net<I, O>,
    ) -> Self::Out {
        run_as(
            Policy::<'_, E, F::Net<I, O>, N, I, O>::new(net, self.mask),
            self.f,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{AnyModel, Compact5};
    use whitebox_core::encoding::{compact_len, Compact};
    use whitebox_core::Job;

    /// A compact 5-slot network with fixed, varied weights.
    fn net() -> Box<Compact5> {
        let mut net = Box::new(Compact5::zeroed());
        for (k, p) in net.params_mut().enumerate() {
            *p = ((k * 7919) % 13) as f32 / 13.0 - 0.5;
        }
        net
    }

    #[test]
    fn a_network_decides_as_the_core_policy_and_only_for_its_slot_count() {
        let model = AnyModel::from_net::<Compact, 5, { compact_len(5) }, 6>(net()).expect("arch");
        let mut c: Cluster<5> = Cluster::new();
        c.submit(Job::new(0, 0, 3, [4, 2]).expect("job")).ok();
        c.submit(Job::new(1, 0, 1, [1, 6]).expect("job")).ok();
        let n = net();
        let mut direct = Policy::<'_, Compact, Compact5, 5, { compact_len(5) }, 6>::new(&n, true);
        let (mut l, mut v) = ([0.0f32; 6], [false; 6]);
        Preference::preference(&mut direct, &c, &mut l, &mut v).expect("preference");
        let (mut l2, mut v2) = ([9.0f32; 6], [false; 6]);
        model
            .with_policy(true, |p| p.preference_into(&c, &mut l2, &mut v2))
            .expect("through the dispatch");
        assert_eq!(l.map(f32::to_bits), l2.map(f32::to_bits));
        assert_eq!(v, v2);
        assert_eq!(
            model.with_policy(true, |p| p.decide(&c)),
            Scheduler::decide(&mut direct, &c)
        );
        let ten: Cluster<10> = Cluster::new();
        assert_eq!(
            model.with_policy(true, |p| p.decide(&ten)),
            Err(PolicyError::WrongSlots {
                policy: 5,
                cluster: 10
            })
        );
    }

    #[test]
    fn a_tree_decides_only_for_its_slot_count() {
        let tree = crate::models::testing::fit_or_void_10();
        let five: Cluster<5> = Cluster::new();
        assert_eq!(
            tree.decide_greedy(&five),
            Err(PolicyError::WrongSlots {
                policy: 10,
                cluster: 5
            })
        );
        // An empty cluster: slot 0 has no job (no fit), so the tree says void.
        let ten: Cluster<10> = Cluster::new();
        assert_eq!(tree.decide_greedy(&ten), Ok(Action::Void));
    }
}
