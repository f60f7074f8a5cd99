//! The four network architectures whitebox ships (compact or image encoder, 5 or 10 job slots,
//! DeepRM's 20 hidden units) and loading model files into them.

use std::path::Path;

use anyhow::{bail, Context, Result};
use whitebox_core::encoding::{compact_len, Compact, Encoding, Image};
use whitebox_core::model::{self, ModelHeader};
use whitebox_core::nn::Mlp;
use whitebox_core::observe::image_len;
use whitebox_core::policy::Policy;
use whitebox_core::spec::ClusterSpec;
use whitebox_core::{Action, Cluster, PolicyError, Scheduler};

/// Hidden units of every shipped architecture (DeepRM's Dense(20)).
pub const HIDDEN: usize = 20;

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
        use whitebox_core::observe::image_len;
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

/// A loaded model of one of the shipped architectures.
#[derive(Clone, Debug)]
pub enum AnyModel {
    /// Compact encoder, 5 slots.
    Compact5(Box<Compact5>),
    /// Compact encoder, 10 slots.
    Compact10(Box<Compact10>),
    /// Image encoder, 5 slots.
    Image5(Box<Image5>),
    /// Image encoder, 10 slots.
    Image10(Box<Image10>),
}

/// A model file's header and network.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    /// Everything but the weights.
    pub header: ModelHeader,
    /// The network.
    pub net: AnyModel,
}

impl LoadedModel {
    /// Job slots the model decides for.
    pub fn slots(&self) -> usize {
        usize::from(self.header.spec.slots)
    }

    /// The observation encoder it was trained with.
    pub fn encoding(&self) -> Option<Encoding> {
        Encoding::from_code(self.header.encoding)
    }
}

fn load_as<const I: usize, const H: usize, const O: usize>(
    bytes: &[u8],
    encoding: Encoding,
    slots: u8,
) -> Result<(ModelHeader, Box<Mlp<I, H, O>>)> {
    let mut net = Box::new(Mlp::<I, H, O>::zeroed());
    let header = model::load(bytes, encoding, &ClusterSpec::with_slots(slots), &mut net)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((header, net))
}

/// Loads a model file from bytes: the header picks the architecture, then every check of
/// [`whitebox_core::model::load`] applies.
///
/// # Errors
/// Every [`whitebox_core::model::ModelError`], and an architecture this build does not ship.
pub fn from_bytes(bytes: &[u8]) -> Result<LoadedModel> {
    let (header, _) = model::read_header(bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let encoding = Encoding::from_code(header.encoding).with_context(|| {
        format!(
            "model encoder code {} is unknown (0 = image, 1 = compact)",
            header.encoding
        )
    })?;
    let slots = header.spec.slots;
    let net = match (encoding, slots) {
        (Encoding::Compact, 5) => AnyModel::Compact5(load_as(bytes, encoding, slots)?.1),
        (Encoding::Compact, 10) => AnyModel::Compact10(load_as(bytes, encoding, slots)?.1),
        (Encoding::Image, 5) => AnyModel::Image5(load_as(bytes, encoding, slots)?.1),
        (Encoding::Image, 10) => AnyModel::Image10(load_as(bytes, encoding, slots)?.1),
        (_, other) => bail!("model has {other} job slots; this build supports 5 and 10"),
    };
    Ok(LoadedModel { header, net })
}

/// Loads a model file.
///
/// # Errors
/// When the file cannot be read, and as [`from_bytes`].
pub fn load(path: &Path) -> Result<LoadedModel> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read model {}", path.display()))?;
    from_bytes(&bytes).with_context(|| format!("invalid model file {}", path.display()))
}

/// Greedy decisions of a loaded model on a cluster with `M` slots. Implemented for the two
/// shipped slot counts, so each match arm builds a [`Policy`] whose shapes the compiler checks.
pub trait Decide<const M: usize> {
    /// The model's greedy action (invalid actions masked, as trained).
    ///
    /// # Errors
    /// [`PolicyError::NonFiniteOutput`] for a non-finite logit; [`PolicyError::WrongSlots`] when
    /// the model was trained for another slot count.
    fn decide_greedy(&self, cluster: &Cluster<M>) -> Result<Action, PolicyError>;
}

macro_rules! impl_decide {
    ($m:literal, $compact:ident, $image:ident) => {
        impl Decide<$m> for LoadedModel {
            fn decide_greedy(&self, cluster: &Cluster<$m>) -> Result<Action, PolicyError> {
                let mask = self.header.meta.mask_invalid;
                match &self.net {
                    AnyModel::$compact(net) => {
                        Policy::<'_, Compact, $m, { compact_len($m) }, HIDDEN, { $m + 1 }>::new(
                            net, mask,
                        )
                        .decide(cluster)
                    }
                    AnyModel::$image(net) => {
                        Policy::<'_, Image, $m, { image_len($m) }, HIDDEN, { $m + 1 }>::new(
                            net, mask,
                        )
                        .decide(cluster)
                    }
                    _ => Err(PolicyError::WrongSlots {
                        policy: self.slots(),
                        cluster: $m,
                    }),
                }
            }
        }
    };
}

impl_decide!(5, Compact5, Image5);
impl_decide!(10, Compact10, Image10);

/// Writes `net` with `header` to `path`.
///
/// # Errors
/// A non-finite weight, a header that does not match the network, or an I/O error.
pub fn save<const I: usize, const H: usize, const O: usize>(
    path: &Path,
    net: &Mlp<I, H, O>,
    header: &ModelHeader,
) -> Result<()> {
    let mut buf = vec![0u8; model::max_file_len(Mlp::<I, H, O>::PARAMS)];
    let n = model::save(net, header, &mut buf).map_err(|e| anyhow::anyhow!("{e}"))?;
    buf.truncate(n);
    std::fs::write(path, &buf).with_context(|| format!("cannot write model {}", path.display()))
}
