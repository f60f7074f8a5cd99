//! The host's copy of an `f32` model laid out for vector units: the same sums in the same order
//! as [`Mlp::forward`], so the same bits, but stored so that one input's (or hidden unit's)
//! products for every unit are adjacent in memory and the compiler adds them as vectors.
//!
//! [`Mlp`] stores the hidden layer unit by unit (`w1[j][i]`), the layout of model files and of
//! the microcontroller's decision path; summing input by input over it loads each weight from
//! another row, so nothing vectorizes. [`InputMajor`] is built once when a model is loaded
//! ([`crate::models::from_bytes`]) and is what a loaded `f32` model decides with
//! ([`crate::models::Decide`]); reports that read the weights use the [`Mlp`].

use whitebox_core::network::Network;
use whitebox_core::nn::Mlp;

use super::arch::{Family, HIDDEN};

/// An [`Mlp`] with `I` inputs, [`HIDDEN`] units and `O` outputs, stored input-major.
#[derive(Clone, Debug, PartialEq)]
pub struct InputMajor<const I: usize, const O: usize> {
    /// `w1t[i][j] = w1[j][i]`, shape `[I][HIDDEN]` (a vector: the image encoder's `I` is large).
    w1t: Vec<[f32; HIDDEN]>,
    /// Hidden biases, shape `[HIDDEN]`.
    b1: [f32; HIDDEN],
    /// `w2t[j][k] = w2[k][j]`, shape `[HIDDEN][O]`.
    w2t: [[f32; O]; HIDDEN],
    /// Output biases, shape `[O]`.
    b2: [f32; O],
}

impl<const I: usize, const O: usize> InputMajor<I, O> {
    /// The input-major copy of `net`.
    pub fn new(net: &Mlp<I, HIDDEN, O>) -> Self {
        let mut w1t = vec![[0.0f32; HIDDEN]; I];
        for (j, row) in net.w1.iter().enumerate() {
            for (col, &w) in w1t.iter_mut().zip(row.iter()) {
                if let Some(c) = col.get_mut(j) {
                    *c = w;
                }
            }
        }
        let mut w2t = [[0.0f32; O]; HIDDEN];
        for (k, row) in net.w2.iter().enumerate() {
            for (col, &w) in w2t.iter_mut().zip(row.iter()) {
                if let Some(c) = col.get_mut(k) {
                    *c = w;
                }
            }
        }
        InputMajor {
            w1t,
            b1: net.b1,
            w2t,
            b2: net.b2,
        }
    }

    /// Hidden activations, shape `[HIDDEN]`, bit for bit [`Mlp::hidden`]: each unit's sum is
    /// the bias, then the inputs in index order, skipping inputs that are exactly zero (see
    /// there why that keeps the bits); here the units of one input are added as one vector.
    pub fn hidden(&self, x: &[f32; I], h: &mut [f32; HIDDEN]) {
        hidden_layer(&self.w1t, &self.b1, x, h);
    }

    /// Logits, shape `[O]`, bit for bit [`Mlp::output`]: each output's sum is the bias, then
    /// the hidden units in index order (none skipped: a zero activation can turn a `-0.0` sum
    /// into `+0.0`), the outputs of one unit added as one vector.
    pub fn output(&self, h: &[f32; HIDDEN], logits: &mut [f32; O]) {
        output_layer(&self.w2t, &self.b2, h, logits);
    }
}

/// [`InputMajor::hidden`]'s sums. Compiled also for AVX-512 and AVX2 and chosen at run time by
/// `multiversion`: wider vectors add the same terms in the same order, and products and sums
/// are never fused, so every target gives the same bits.
#[multiversion::multiversion(targets("x86_64+avx512f+avx2+avx", "x86_64+avx2+avx"))]
fn hidden_layer<const I: usize>(
    w1t: &[[f32; HIDDEN]],
    b1: &[f32; HIDDEN],
    x: &[f32; I],
    h: &mut [f32; HIDDEN],
) {
    let mut pre = *b1;
    for (&xi, col) in x.iter().zip(w1t.iter()) {
        if xi == 0.0 {
            continue;
        }
        for (p, &w) in pre.iter_mut().zip(col.iter()) {
            *p += w * xi;
        }
    }
    for (hj, p) in h.iter_mut().zip(pre) {
        *hj = if p > 0.0 { p } else { 0.0 };
    }
}

/// [`InputMajor::output`]'s sums, multiversioned as [`hidden_layer`].
#[multiversion::multiversion(targets("x86_64+avx512f+avx2+avx", "x86_64+avx2+avx"))]
fn output_layer<const O: usize>(
    w2t: &[[f32; O]; HIDDEN],
    b2: &[f32; O],
    h: &[f32; HIDDEN],
    logits: &mut [f32; O],
) {
    let mut acc = *b2;
    for (&hj, col) in h.iter().zip(w2t.iter()) {
        for (a, &w) in acc.iter_mut().zip(col.iter()) {
            *a += w * hj;
        }
    }
    *logits = acc;
}

/// The same network as the [`Mlp`] it was built from: hidden activations as work buffer.
impl<const I: usize, const O: usize> Network<I, O> for InputMajor<I, O> {
    type Logit = f32;
    type Scratch = [f32; HIDDEN];

    fn scratch(&self) -> [f32; HIDDEN] {
        [0.0; HIDDEN]
    }

    fn forward(&self, x: &[f32; I], hidden: &mut [f32; HIDDEN], logits: &mut [f32; O]) {
        self.hidden(x, hidden);
        self.output(hidden, logits);
    }

    fn real_logit(&self, logit: f32) -> f32 {
        logit
    }
}

/// `f32` networks stored input-major ([`InputMajor`]), the host's decision path of an
/// [`super::F32`] model.
#[derive(Clone, Copy, Debug)]
pub struct F32InputMajor;

impl Family for F32InputMajor {
    type Logit = f32;
    type Net<const I: usize, const O: usize> = InputMajor<I, O>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const I: usize = 7;
    const O: usize = 3;

    fn net_from(params: &[f32]) -> Mlp<I, HIDDEN, O> {
        let mut net = Mlp::<I, HIDDEN, O>::zeroed();
        for (p, &v) in net.params_mut().zip(params.iter().cycle()) {
            *p = v;
        }
        net
    }

    #[test]
    fn the_transpose_puts_each_weight_at_its_swapped_index() {
        let params: Vec<f32> = (0..Mlp::<I, HIDDEN, O>::PARAMS).map(|k| k as f32).collect();
        let net = net_from(&params);
        let t = InputMajor::new(&net);
        // w1 is [HIDDEN][I] in file order: w1[j][i] = j * I + i.
        assert_eq!(t.w1t[4][11], (11 * I + 4) as f32);
        let w2_start = (HIDDEN * I + HIDDEN) as f32;
        assert_eq!(t.w2t[13][2], w2_start + (2 * HIDDEN + 13) as f32);
        assert_eq!(t.b2, net.b2);
    }

    /// The shipped DeepRM model loaded (deciding input-major) and its `Mlp` give logits of the
    /// same bits and the same action on every state of an episode it plays itself.
    #[test]
    fn a_loaded_model_decides_as_its_mlp() {
        use crate::models::Decide;
        use whitebox_core::workload::{JobGenerator, Workload};
        use whitebox_core::{Action, Cluster};
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/models/deeprm.model"
        );
        let model = crate::models::load(std::path::Path::new(path)).expect("shipped model");
        let mask = model.header.meta.mask_invalid;
        let mut jobs = JobGenerator::new(Workload::DeepRm, 0.9, 60, 11).peekable();
        let mut c: Cluster<10> = Cluster::new();
        let mut compared = 0;
        while c.now() < 400 {
            while let Some(j) = jobs.next_if(|j| j.arrival <= c.now()) {
                let _ = c.submit(j);
            }
            let (mut l1, mut v1) = ([0.0f32; 11], [false; 11]);
            let (mut l2, mut v2) = ([0.0f32; 11], [false; 11]);
            model.preference(&c, &mut l1, &mut v1).expect("input-major");
            model
                .net
                .with_policy(mask, |p| p.preference_into(&c, &mut l2, &mut v2))
                .expect("unit-major");
            assert_eq!(
                l1.map(f32::to_bits),
                l2.map(f32::to_bits),
                "at step {}",
                c.now()
            );
            assert_eq!(v1, v2);
            let a = model.decide_greedy(&c).expect("decides");
            let b = model
                .net
                .with_policy(mask, |p| p.decide(&c))
                .expect("decides");
            assert_eq!(a, b);
            compared += 1;
            if a == Action::Void && c.is_empty() && jobs.peek().is_none() {
                break;
            }
            c.step(a);
        }
        assert!(compared > 100, "only {compared} states compared");
    }

    proptest! {
        /// Invariant: the forward pass has the same bits as the unit-major [`Mlp`], including
        /// inputs that are exactly zero (skipped) and signed zeros.
        #[test]
        fn same_bits_as_the_mlp(
            params in prop::collection::vec(-4.0f32..4.0, 64),
            x in prop::collection::vec(prop_oneof![Just(0.0f32), Just(-0.0f32), -2.0f32..2.0], I),
        ) {
            let net = net_from(&params);
            let t = InputMajor::new(&net);
            let mut xa = [0.0f32; I];
            xa.copy_from_slice(&x);
            let (mut h1, mut l1) = ([0.0f32; HIDDEN], [0.0f32; O]);
            let (mut h2, mut l2) = ([0.0f32; HIDDEN], [0.0f32; O]);
            net.forward(&xa, &mut h1, &mut l1);
            Network::forward(&t, &xa, &mut h2, &mut l2);
            prop_assert_eq!(h1.map(f32::to_bits), h2.map(f32::to_bits));
            prop_assert_eq!(l1.map(f32::to_bits), l2.map(f32::to_bits));
        }
    }
}
