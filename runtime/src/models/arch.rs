//! The shipped architectures (encoder x job slots, DeepRM's 20 hidden units) and the one place
//! that dispatches on them: adding an architecture (a slot count or an encoder) means a variant
//! of [`Arch`] and an arm in each match of this file, and nothing elsewhere. Everything else
//! reaches the network through [`Arch::visit`] (any architecture, such as the decision path of
//! [`super::Decide`]), [`Arch::visit_compact`] (compact-encoder code such as the verifier),
//! [`Arch::from_net`] and [`with_arch!`](crate::with_arch) (a run-time encoder and slot count).

use std::any::Any;
use std::marker::PhantomData;

use whitebox_core::encoding::{compact_len, Compact, Encoder, Encoding, Image};
use whitebox_core::image::image_len;
use whitebox_core::network::{Logit, Network};
use whitebox_core::nn::Mlp;
use whitebox_core::quant::QMlp;

/// Hidden units of every shipped architecture (DeepRM's Dense(20)).
pub const HIDDEN: usize = 20;

/// A family of networks with DeepRM's 20 hidden units: the `f32` perceptron ([`F32`]) or its
/// int8 quantization ([`Int8`]). [`Arch`] holds one network of a family in one of the shipped
/// architectures, so both families share one architecture dispatch and one decision path.
pub trait Family {
    /// The type of one logit of every network of the family.
    type Logit: Logit;
    /// The network with `I` inputs and `O` outputs.
    type Net<const I: usize, const O: usize>: Network<I, O, Logit = Self::Logit>
        + Clone
        + std::fmt::Debug
        + 'static;
}

/// `f32` networks ([`Mlp`]).
#[derive(Clone, Copy, Debug)]
pub struct F32;

impl Family for F32 {
    type Logit = f32;
    type Net<const I: usize, const O: usize> = Mlp<I, HIDDEN, O>;
}

/// Int8 networks ([`QMlp`]).
#[derive(Clone, Copy, Debug)]
pub struct Int8;

impl Family for Int8 {
    type Logit = i32;
    type Net<const I: usize, const O: usize> = QMlp<I, HIDDEN, O>;
}

/// Compact encoder, 5 slots.
pub type Compact5 = Mlp<{ compact_len(5) }, HIDDEN, 6>;
/// Compact encoder, 10 slots.
pub type Compact10 = Mlp<{ compact_len(10) }, HIDDEN, 11>;
/// Image encoder, 5 slots.
pub type Image5 = Mlp<{ image_len(5) }, HIDDEN, 6>;
/// Image encoder, 10 slots.
pub type Image10 = Mlp<{ image_len(10) }, HIDDEN, 11>;

/// Calls the generic function `$f::<Encoder, M, I, H, O>($args)` for a runtime encoding and slot
/// count, or evaluates `$err` for an unsupported combination.
#[macro_export]
macro_rules! with_arch {
    ($encoding:expr, $slots:expr, $f:ident ( $($arg:expr),* ), $err:expr) => {{
        use whitebox_core::encoding::{compact_len, Compact, Encoding, Image};
        use whitebox_core::image::image_len;
        use $crate::models::HIDDEN;
        match ($encoding, $slots) {
            (Encoding::Compact, 5) => $f::<Compact, 5, { compact_len(5) }, HIDDEN, 6>($($arg),*),
            (Encoding::Compact, 10) => $f::<Compact, 10, { compact_len(10) }, HIDDEN, 11>($($arg),*),
            (Encoding::Image, 5) => $f::<Image, 5, { image_len(5) }, HIDDEN, 6>($($arg),*),
            (Encoding::Image, 10) => $f::<Image, 10, { image_len(10) }, HIDDEN, 11>($($arg),*),
            _ => $err,
        }
    }};
}

/// A network of family `F` in one of the shipped architectures (encoder x job slots).
#[derive(Clone, Debug)]
pub enum Arch<F: Family> {
    /// Compact encoder, 5 slots.
    Compact5(Box<F::Net<{ compact_len(5) }, 6>>),
    /// Compact encoder, 10 slots.
    Compact10(Box<F::Net<{ compact_len(10) }, 11>>),
    /// Image encoder, 5 slots.
    Image5(Box<F::Net<{ image_len(5) }, 6>>),
    /// Image encoder, 10 slots.
    Image10(Box<F::Net<{ image_len(10) }, 11>>),
}

/// Code generic over the architecture, run by [`Arch::visit`] on the network (borrowed for
/// `'a`) with its types: encoder `E`, `M` job slots, `I = E::ENCODING.input_len(M)` inputs and
/// `O = M + 1` outputs.
pub trait ArchVisitor<'a, F: Family> {
    /// What the visit returns.
    type Out;

    /// Runs on `net`.
    fn visit<E: Encoder, const M: usize, const I: usize, const O: usize>(
        self,
        net: &'a F::Net<I, O>,
    ) -> Self::Out;
}

/// Code for the compact encoder's architectures only (it reads the compact feature layout, as
/// the verifier does), run by [`Arch::visit_compact`] on the network with `M` job slots,
/// `I = compact_len(M)` inputs and `O = M + 1` outputs.
pub trait CompactVisitor<'a, F: Family> {
    /// What the visit returns.
    type Out;

    /// Runs on `net`.
    fn visit<const M: usize, const I: usize, const O: usize>(
        self,
        net: &'a F::Net<I, O>,
    ) -> Self::Out;
}

impl<F: Family> Arch<F> {
    /// Runs `v` on the network with its architecture's types.
    pub fn visit<'a, V: ArchVisitor<'a, F>>(&'a self, v: V) -> V::Out {
        match self {
            Arch::Compact5(n) => v.visit::<Compact, 5, { compact_len(5) }, 6>(n),
            Arch::Compact10(n) => v.visit::<Compact, 10, { compact_len(10) }, 11>(n),
            Arch::Image5(n) => v.visit::<Image, 5, { image_len(5) }, 6>(n),
            Arch::Image10(n) => v.visit::<Image, 10, { image_len(10) }, 11>(n),
        }
    }

    /// Runs `v` on the network if its encoder is the compact one; `None` for the image encoder.
    pub fn visit_compact<'a, V: CompactVisitor<'a, F>>(&'a self, v: V) -> Option<V::Out> {
        match self {
            Arch::Compact5(n) => Some(v.visit::<5, { compact_len(5) }, 6>(n)),
            Arch::Compact10(n) => Some(v.visit::<10, { compact_len(10) }, 11>(n)),
            Arch::Image5(_) | Arch::Image10(_) => None,
        }
    }

    /// The architecture holding `net`, for encoder `E` and `M` slots; `None` when this build does
    /// not ship that architecture.
    pub fn from_net<E: Encoder, const M: usize, const I: usize, const O: usize>(
        net: Box<F::Net<I, O>>,
    ) -> Option<Self> {
        let net: Box<dyn Any> = net;
        match (E::ENCODING, M) {
            (Encoding::Compact, 5) => net.downcast().ok().map(Arch::Compact5),
            (Encoding::Compact, 10) => net.downcast().ok().map(Arch::Compact10),
            (Encoding::Image, 5) => net.downcast().ok().map(Arch::Image5),
            (Encoding::Image, 10) => net.downcast().ok().map(Arch::Image10),
            _ => None,
        }
    }

    /// The network, if its architecture is encoder `E` with `M` slots (`I` inputs, `O` outputs).
    pub fn net<E: Encoder, const M: usize, const I: usize, const O: usize>(
        &self,
    ) -> Option<&F::Net<I, O>> {
        struct Get<E2, const M2: usize>(PhantomData<E2>);
        impl<'a, F: Family, E2: Encoder, const M2: usize> ArchVisitor<'a, F> for Get<E2, M2> {
            type Out = Option<&'a dyn Any>;
            fn visit<E: Encoder, const M: usize, const I: usize, const O: usize>(
                self,
                net: &'a F::Net<I, O>,
            ) -> Self::Out {
                let same = E::ENCODING == E2::ENCODING && M == M2;
                same.then_some(net as &dyn Any)
            }
        }
        self.visit(Get::<E, M>(PhantomData))
            .and_then(<dyn Any>::downcast_ref)
    }

    /// Job slots of the architecture.
    pub fn slots(&self) -> usize {
        struct Slots;
        impl<F: Family> ArchVisitor<'_, F> for Slots {
            type Out = usize;
            fn visit<E: Encoder, const M: usize, const I: usize, const O: usize>(
                self,
                _: &F::Net<I, O>,
            ) -> usize {
                M
            }
        }
        self.visit(Slots)
    }
}
