//! The versioned binary model format, read and written without allocation.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `WBXMODEL` |
//! | 2 | format version (`u16`, currently [`FORMAT_VERSION`]; version 1 is still read) |
//! | var | [`ModelHeader`] without its provenance, `postcard`-encoded |
//! | var | version 2 only: the [`Provenance`] (see [`provenance`]) |
//! | var | the weights: `postcard` sequence of `f32` in [`Mlp::params`] order |
//! | 4 | CRC-32 (ISO-HDLC, as zlib) of every byte before it |
//!
//! Loading checks, in order: length, magic, version, header (and its provenance), exact total
//! length, CRC, encoder, layer sizes, cluster spec, finite weights. Each failure is its own [`ModelError`] naming what
//! was found and what was expected, and the destination network is left unchanged.

use core::fmt;

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::encoding::Encoding;
use crate::framing::{self, FramingError, CRC_LEN};
use crate::nn::Mlp;
use crate::spec::ClusterSpec;

pub mod provenance;

pub use provenance::{
    MixtureCell, Provenance, ProvenanceError, ProvenanceField, RuleMode, TrainedRule, MAX_CELLS,
};

/// File magic.
pub const MAGIC: [u8; 8] = *b"WBXMODEL";
/// The format version this build writes (version 2: the header records the training
/// [`Provenance`]).
pub const FORMAT_VERSION: u16 = 2;
/// The oldest format version this build reads (version 1: the headline cell only).
pub const OLDEST_FORMAT_VERSION: u16 = 1;
const PREFIX: usize = framing::PREFIX_LEN;

/// The first field in which `found` differs from `expected`, with both values.
pub(crate) fn spec_mismatch(
    found: &ClusterSpec,
    expected: &ClusterSpec,
) -> Option<(SpecField, u8, u8)> {
    [
        (SpecField::NumRes, found.num_res, expected.num_res),
        (SpecField::ResUnits, found.res_units, expected.res_units),
        (SpecField::Horizon, found.horizon, expected.horizon),
        (SpecField::Slots, found.slots, expected.slots),
        (SpecField::Backlog, found.backlog, expected.backlog),
    ]
    .into_iter()
    .find(|(_, f, e)| f != e)
}

/// How a model was trained (informational; not checked on load).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingMeta {
    /// Workload code ([`crate::workload::Workload::code`]).
    pub workload: u8,
    /// Arrival rate per time step.
    pub rate: f32,
    /// Training seed.
    pub seed: u64,
    /// Training iterations.
    pub iterations: u32,
    /// Whether invalid actions were masked during training.
    pub mask_invalid: bool,
}

/// Everything in a model file but the weights.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelHeader {
    /// Format version the header was read from, and [`save`] writes: [`FORMAT_VERSION`], or
    /// 1 to rewrite a version-1 file byte for byte (its provenance is then not written).
    pub version: u16,
    /// [`Encoding::code`] of the observation encoder.
    pub encoding: u8,
    /// Network input length.
    pub input: u32,
    /// Hidden units.
    pub hidden: u32,
    /// Network outputs (`M + 1`).
    pub output: u32,
    /// The cluster the model was trained for.
    pub spec: ClusterSpec,
    /// Training metadata: the headline cell, seed, iterations, masking.
    pub meta: TrainingMeta,
    /// The whole training mixture, curriculum, rules and initial model. For a version-1 file,
    /// [`Provenance::headline_only`].
    pub provenance: Provenance,
}

/// The header fields of version 1, which version 2 keeps unchanged before the provenance.
#[derive(Serialize, Deserialize)]
struct Base {
    encoding: u8,
    input: u32,
    hidden: u32,
    output: u32,
    spec: ClusterSpec,
    meta: TrainingMeta,
}

impl Base {
    fn of(h: &ModelHeader) -> Base {
        Base {
            encoding: h.encoding,
            input: h.input,
            hidden: h.hidden,
            output: h.output,
            spec: h.spec,
            meta: h.meta,
        }
    }
}

/// A layer dimension of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Input length.
    Input,
    /// Hidden units.
    Hidden,
    /// Outputs.
    Output,
}

/// A field of the [`ClusterSpec`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecField {
    /// Resource types `d`.
    NumRes,
    /// Units per resource `r`.
    ResUnits,
    /// Time horizon `T`.
    Horizon,
    /// Job slots `M`.
    Slots,
    /// Backlog capacity.
    Backlog,
}

/// Why a model file was refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ModelError {
    /// The shared file framing (length, magic `WBXMODEL`, version, CRC) is wrong. Shown as
    /// `model file: ` and the [`FramingError`]'s message (field, value and limit), so printing
    /// this error alone loses nothing.
    Framing(FramingError),
    /// The header could not be decoded.
    MalformedHeader,
    /// A field of the version-2 provenance is out of its range (named, with value and limit).
    Provenance(ProvenanceError),
    /// The model was trained with another observation encoder (or an unknown code).
    EncodingMismatch {
        /// Encoder code in the file.
        found: u8,
        /// Encoder expected.
        expected: Encoding,
    },
    /// A layer size differs from the network it is loaded into.
    SizeMismatch {
        /// Which layer.
        layer: Layer,
        /// Size in the file.
        found: u32,
        /// Size expected.
        expected: usize,
    },
    /// The model was trained for another cluster.
    SpecMismatch {
        /// Which field.
        field: SpecField,
        /// Value in the file.
        found: u8,
        /// Value expected.
        expected: u8,
    },
    /// A weight is NaN or infinite.
    NonFiniteWeight {
        /// Index in [`Mlp::params`] order.
        index: usize,
    },
    /// The output buffer is too small to write the model.
    BufferTooSmall {
        /// Bytes available.
        available: usize,
    },
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Framing(e) => write!(f, "model file: {e}"),
            ModelError::MalformedHeader => write!(f, "model header cannot be decoded"),
            ModelError::Provenance(e) => write!(f, "{e}"),
            ModelError::EncodingMismatch { found, expected } => write!(
                f,
                "model encoder code {found}, expected {} (code {})",
                expected.name(),
                expected.code()
            ),
            ModelError::SizeMismatch {
                layer,
                found,
                expected,
            } => write!(f, "model {layer:?} size {found}, expected {expected}"),
            ModelError::SpecMismatch {
                field,
                found,
                expected,
            } => write!(
                f,
                "model trained for cluster {field:?} = {found}, this cluster has {expected}"
            ),
            ModelError::NonFiniteWeight { index } => {
                write!(f, "model weight {index} is NaN or infinite")
            }
            ModelError::BufferTooSmall { available } => {
                write!(
                    f,
                    "output buffer of {available} bytes is too small for the model"
                )
            }
        }
    }
}

// The framing error's message is part of this one's (see `Framing`), so it is not repeated as
// a source.
impl core::error::Error for ModelError {}

impl From<ProvenanceError> for ModelError {
    fn from(e: ProvenanceError) -> Self {
        ModelError::Provenance(e)
    }
}

impl From<FramingError> for ModelError {
    fn from(e: FramingError) -> Self {
        ModelError::Framing(e)
    }
}

/// Serializes the parameters as one `postcard` sequence of known length.
struct Params<'a, const I: usize, const H: usize, const O: usize>(&'a Mlp<I, H, O>);

impl<const I: usize, const H: usize, const O: usize> Serialize for Params<'_, I, H, O> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(Mlp::<I, H, O>::PARAMS))?;
        for p in self.0.params() {
            seq.serialize_element(p)?;
        }
        seq.end()
    }
}

/// Decodes the weight sequence; with `dest`, writes each weight in [`Mlp::params_mut`] order,
/// without it only checks count and finiteness. Yields the index of the first non-finite weight.
struct ParamsSeed<'a, const I: usize, const H: usize, const O: usize> {
    dest: Option<&'a mut Mlp<I, H, O>>,
}

/// Outcome of decoding the weights.
enum Weights {
    Ok,
    WrongCount,
    NonFinite(usize),
}

impl<'de, const I: usize, const H: usize, const O: usize> DeserializeSeed<'de>
    for ParamsSeed<'_, I, H, O>
{
    type Value = Weights;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Weights, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, const I: usize, const H: usize, const O: usize> Visitor<'de> for ParamsSeed<'_, I, H, O> {
    type Value = Weights;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} f32 weights", Mlp::<I, H, O>::PARAMS)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Weights, A::Error> {
        if seq.size_hint() != Some(Mlp::<I, H, O>::PARAMS) {
            return Ok(Weights::WrongCount);
        }
        match self.dest {
            None => {
                let mut index = 0;
                while let Some(w) = seq.next_element::<f32>()? {
                    if !w.is_finite() {
                        return Ok(Weights::NonFinite(index));
                    }
                    index += 1;
                }
                Ok(if index == Mlp::<I, H, O>::PARAMS {
                    Weights::Ok
                } else {
                    Weights::WrongCount
                })
            }
            Some(net) => {
                for p in net.params_mut() {
                    match seq.next_element::<f32>()? {
                        Some(w) => *p = w,
                        None => return Ok(Weights::WrongCount),
                    }
                }
                Ok(Weights::Ok)
            }
        }
    }
}

/// Writes `net` with `header` into `buf` and returns the number of bytes used.
///
/// # Errors
/// [`ModelError::NonFiniteWeight`] for a NaN or infinite weight (never written, so files hold
/// no NaN bit patterns); [`ModelError::SizeMismatch`] when the header's sizes are not `I, H, O`;
/// [`FramingError::UnsupportedVersion`] for a `header.version` other than 1 and
/// [`FORMAT_VERSION`]; [`ModelError::Provenance`] for a version-2 provenance that
/// [`Provenance::check`] refuses; [`ModelError::BufferTooSmall`] when `buf` cannot hold the file.
pub fn save<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    header: &ModelHeader,
    buf: &mut [u8],
) -> Result<usize, ModelError> {
    if let Some(index) = net.first_non_finite() {
        return Err(ModelError::NonFiniteWeight { index });
    }
    check_sizes::<I, H, O>(header)?;
    let version = header.version;
    if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(FramingError::UnsupportedVersion {
            found: version,
            oldest: OLDEST_FORMAT_VERSION,
            newest: FORMAT_VERSION,
        }
        .into());
    }
    if version >= 2 {
        header.provenance.check(&header.meta)?;
    }
    let too_small = ModelError::BufferTooSmall {
        available: buf.len(),
    };
    let prefix = buf.get_mut(..PREFIX).ok_or(too_small)?;
    prefix[..MAGIC.len()].copy_from_slice(&MAGIC);
    prefix[MAGIC.len()..].copy_from_slice(&version.to_le_bytes());
    let mut used = PREFIX;
    used += postcard::to_slice(&Base::of(header), buf.get_mut(used..).ok_or(too_small)?)
        .map_err(|_| too_small)?
        .len();
    if version >= 2 {
        used += header
            .provenance
            .encode(buf.get_mut(used..).ok_or(too_small)?)
            .ok_or(too_small)?;
    }
    used += postcard::to_slice(&Params(net), buf.get_mut(used..).ok_or(too_small)?)
        .map_err(|_| too_small)?
        .len();
    framing::seal(buf, used).ok_or(too_small)
}

/// Size in bytes of the file [`save`] writes for a network of `Mlp<I, H, O>` (an upper bound
/// on the header part, provenance included).
pub const fn max_file_len(params: usize) -> usize {
    PREFIX + 64 + provenance::MAX_ENCODED_LEN + 5 + 4 * params + CRC_LEN
}

fn check_sizes<const I: usize, const H: usize, const O: usize>(
    header: &ModelHeader,
) -> Result<(), ModelError> {
    for (layer, found, expected) in [
        (Layer::Input, header.input, I),
        (Layer::Hidden, header.hidden, H),
        (Layer::Output, header.output, O),
    ] {
        if usize::try_from(found).ok() != Some(expected) {
            return Err(ModelError::SizeMismatch {
                layer,
                found,
                expected,
            });
        }
    }
    Ok(())
}

fn check_spec(found: &ClusterSpec, expected: &ClusterSpec) -> Result<(), ModelError> {
    match spec_mismatch(found, expected) {
        Some((field, found, expected)) => Err(ModelError::SpecMismatch {
            field,
            found,
            expected,
        }),
        None => Ok(()),
    }
}

/// Checks everything that does not depend on the destination network: length, magic, version,
/// header (with the provenance of version 2) and CRC. Returns the header and the weight bytes.
///
/// # Errors
/// [`ModelError::Framing`] (each [`FramingError`]; a version outside
/// [`OLDEST_FORMAT_VERSION`]`..=`[`FORMAT_VERSION`] is [`FramingError::UnsupportedVersion`]),
/// [`ModelError::MalformedHeader`], [`ModelError::Provenance`].
pub fn read_header(bytes: &[u8]) -> Result<(ModelHeader, &[u8]), ModelError> {
    let version = framing::check_prefix(
        bytes,
        MAGIC,
        (OLDEST_FORMAT_VERSION, FORMAT_VERSION),
        PREFIX,
    )?;
    let truncated = FramingError::Truncated {
        found: bytes.len(),
        expected: bytes.len().saturating_add(1),
    };
    let rest = bytes.get(PREFIX..).ok_or(ModelError::MalformedHeader)?;
    let (base, rest) = match postcard::take_from_bytes::<Base>(rest) {
        Ok(ok) => ok,
        Err(postcard::Error::DeserializeUnexpectedEnd) => return Err(truncated.into()),
        Err(_) => return Err(ModelError::MalformedHeader),
    };
    let (provenance, weights) = if version >= 2 {
        match Provenance::decode(rest, &base.meta) {
            Ok(ok) => ok,
            Err(provenance::DecodeError::End) => return Err(truncated.into()),
            Err(provenance::DecodeError::Malformed) => return Err(ModelError::MalformedHeader),
            Err(provenance::DecodeError::Invalid(e)) => return Err(e.into()),
        }
    } else {
        (Provenance::headline_only(&base.meta), rest)
    };
    let header = ModelHeader {
        version,
        encoding: base.encoding,
        input: base.input,
        hidden: base.hidden,
        output: base.output,
        spec: base.spec,
        meta: base.meta,
        provenance,
    };
    let header_len = bytes.len().saturating_sub(weights.len());
    let params = params_of(&header).ok_or(ModelError::MalformedHeader)?;
    let expected = header_len
        .checked_add(varint_len(params))
        .and_then(|n| n.checked_add(params.checked_mul(4)?))
        .and_then(|n| n.checked_add(CRC_LEN))
        .ok_or(ModelError::MalformedHeader)?;
    // No panicking slicing even where the lengths above already rule it out, so the
    // panic-never probe links whatever model bytes it is given.
    let body = framing::check_length_and_crc(bytes, expected)?;
    let weights = body.get(header_len..).ok_or(ModelError::MalformedHeader)?;
    Ok((header, weights))
}

fn params_of(h: &ModelHeader) -> Option<usize> {
    let (i, hd, o) = (
        usize::try_from(h.input).ok()?,
        usize::try_from(h.hidden).ok()?,
        usize::try_from(h.output).ok()?,
    );
    hd.checked_mul(i)?
        .checked_add(hd)?
        .checked_add(o.checked_mul(hd)?)?
        .checked_add(o)
}

/// Bytes of postcard's LEB128 encoding of a length.
fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn decode_weights<const I: usize, const H: usize, const O: usize>(
    weights: &[u8],
    dest: Option<&mut Mlp<I, H, O>>,
) -> Result<(), ModelError> {
    let seed = ParamsSeed { dest };
    let mut de = postcard::Deserializer::from_bytes(weights);
    match seed.deserialize(&mut de) {
        Ok(Weights::Ok) => Ok(()),
        Ok(Weights::NonFinite(index)) => Err(ModelError::NonFiniteWeight { index }),
        Ok(Weights::WrongCount) | Err(_) => Err(ModelError::MalformedHeader),
    }
}

/// Loads a model file into `net`, checking that it was trained with `encoding` for the cluster
/// `spec`. On any error `net` is left unchanged.
///
/// # Errors
/// Every [`ModelError`] but [`ModelError::BufferTooSmall`]; see the module docs for the order.
pub fn load<const I: usize, const H: usize, const O: usize>(
    bytes: &[u8],
    encoding: Encoding,
    spec: &ClusterSpec,
    net: &mut Mlp<I, H, O>,
) -> Result<ModelHeader, ModelError> {
    let (header, weights) = read_header(bytes)?;
    if header.encoding != encoding.code() {
        return Err(ModelError::EncodingMismatch {
            found: header.encoding,
            expected: encoding,
        });
    }
    check_sizes::<I, H, O>(&header)?;
    check_spec(&header.spec, spec)?;
    // First pass checks every weight, second pass writes: `net` changes only if all are good.
    decode_weights::<I, H, O>(weights, None)?;
    decode_weights(weights, Some(net))?;
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::compact_len;
    use crate::spec::ClusterSpec;

    const I: usize = compact_len(5);
    type Net = Mlp<I, 20, 6>;
    const LEN: usize = max_file_len(Net::PARAMS);

    fn net() -> Net {
        let mut n = Net::zeroed();
        for (k, p) in n.params_mut().enumerate() {
            *p = libm::sinf(k as f32 * 0.37) * 0.5;
        }
        n
    }

    fn header(slots: u8) -> ModelHeader {
        let meta = TrainingMeta::default();
        ModelHeader {
            version: FORMAT_VERSION,
            encoding: Encoding::Compact.code(),
            input: I as u32,
            hidden: 20,
            output: 6,
            spec: ClusterSpec::with_slots(slots),
            meta,
            provenance: Provenance::headline_only(&meta),
        }
    }

    fn file() -> ([u8; LEN], usize) {
        let mut buf = [0u8; LEN];
        let n = save(&net(), &header(5), &mut buf).unwrap_or_else(|e| unreachable!("{e}"));
        (buf, n)
    }

    fn load5(bytes: &[u8]) -> Result<ModelHeader, ModelError> {
        let mut dest = Net::zeroed();
        let r = load(
            bytes,
            Encoding::Compact,
            &ClusterSpec::with_slots(5),
            &mut dest,
        );
        if r.is_err() {
            assert_eq!(
                dest,
                Net::zeroed(),
                "a failed load must not change the network"
            );
        }
        r
    }

    fn reseal(bytes: &mut [u8]) {
        let n = bytes.len() - CRC_LEN;
        let crc = framing::crc32(&bytes[..n]);
        bytes[n..].copy_from_slice(&crc.to_le_bytes());
    }

    #[test]
    fn round_trip_is_exact() {
        let (buf, n) = file();
        // The weights: a 2-byte length varint (1386 < 16384) and 4 bytes per weight.
        assert_eq!(Net::PARAMS, 62 * 20 + 20 + 6 * 20 + 6);
        let mut dest = Net::zeroed();
        let h = load(
            &buf[..n],
            Encoding::Compact,
            &ClusterSpec::with_slots(5),
            &mut dest,
        );
        assert_eq!(h, Ok(header(5)));
        assert_eq!(dest, net());
        let (h2, w) = read_header(&buf[..n]).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(h2, header(5));
        assert_eq!(w.len(), 2 + 4 * Net::PARAMS);
    }

    #[test]
    fn each_corruption_has_its_own_error() {
        let (buf, n) = file();
        let mut flipped = buf;
        flipped[n - 100] ^= 0x01;
        assert!(matches!(
            load5(&flipped[..n]),
            Err(ModelError::Framing(FramingError::CrcMismatch { .. }))
        ));
        assert_eq!(
            load5(&buf[..n - 1]),
            Err(ModelError::Framing(FramingError::Truncated {
                found: n - 1,
                expected: n
            }))
        );
        assert!(matches!(
            load5(&buf[..4]),
            Err(ModelError::Framing(FramingError::Truncated { .. }))
        ));
        let mut magic = buf;
        magic[0] = b'X';
        assert!(matches!(
            load5(&magic[..n]),
            Err(ModelError::Framing(FramingError::BadMagic { .. }))
        ));
        let mut version = buf;
        version[8] = 3;
        assert_eq!(
            load5(&version[..n]),
            Err(ModelError::Framing(FramingError::UnsupportedVersion {
                found: 3,
                oldest: 1,
                newest: 2
            }))
        );
        version[8] = 0;
        assert!(matches!(
            load5(&version[..n]),
            Err(ModelError::Framing(FramingError::UnsupportedVersion {
                found: 0,
                ..
            }))
        ));
        let mut dest = Net::zeroed();
        assert_eq!(
            load(
                &buf[..n],
                Encoding::Compact,
                &ClusterSpec::with_slots(10),
                &mut dest
            ),
            Err(ModelError::SpecMismatch {
                field: SpecField::Slots,
                found: 5,
                expected: 10
            })
        );
        assert_eq!(
            load(
                &buf[..n],
                Encoding::Image,
                &ClusterSpec::with_slots(5),
                &mut dest
            ),
            Err(ModelError::EncodingMismatch {
                found: 1,
                expected: Encoding::Image
            })
        );
        let mut other = Mlp::<I, 16, 6>::zeroed();
        assert_eq!(
            load(
                &buf[..n],
                Encoding::Compact,
                &ClusterSpec::with_slots(5),
                &mut other
            ),
            Err(ModelError::SizeMismatch {
                layer: Layer::Hidden,
                found: 20,
                expected: 16
            })
        );
        let mut long = [0u8; LEN];
        long[..n].copy_from_slice(&buf[..n]);
        assert!(matches!(
            load5(&long[..n + 1]),
            Err(ModelError::Framing(FramingError::TrailingBytes { .. }))
        ));
    }

    #[test]
    fn framing_errors_name_value_and_limit_in_the_message() {
        let (buf, n) = file();
        let Err(e) = load5(&buf[..n - 1]) else {
            unreachable!("a truncated file loads")
        };
        let framing = FramingError::Truncated {
            found: n - 1,
            expected: n,
        };
        assert_eq!(e, ModelError::Framing(framing));
        let (mut text, mut want) = (heapless::String::<64>::new(), heapless::String::<64>::new());
        core::fmt::write(&mut text, format_args!("{e}")).unwrap_or_else(|_| unreachable!());
        let m = n - 1;
        core::fmt::write(
            &mut want,
            format_args!("model file: truncated: {m} bytes, expected {n}"),
        )
        .unwrap_or_else(|_| unreachable!());
        assert_eq!(text, want);
    }

    #[test]
    fn nan_weights_are_refused_on_load_and_save() {
        let (mut buf, n) = file();
        // Weight 7 sits after the prefix, the header and the 2-byte length.
        let (_, weights) = read_header(&buf[..n]).unwrap_or_else(|e| unreachable!("{e}"));
        let start = n - CRC_LEN - weights.len() + 2 + 4 * 7;
        buf[start..start + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        reseal(&mut buf[..n]);
        assert_eq!(
            load5(&buf[..n]),
            Err(ModelError::NonFiniteWeight { index: 7 })
        );
        let mut bad = net();
        bad.b2[0] = f32::INFINITY;
        let mut out = [0u8; LEN];
        assert_eq!(
            save(&bad, &header(5), &mut out),
            Err(ModelError::NonFiniteWeight {
                index: Net::PARAMS - 6
            })
        );
        assert_eq!(
            save(&net(), &header(5), &mut out[..100]),
            Err(ModelError::BufferTooSmall { available: 100 })
        );
    }
}

#[cfg(test)]
mod provenance_tests {
    use super::*;
    use crate::encoding::compact_len;
    use crate::rules::{Permille, Rule};
    use crate::workload::Workload;

    const I: usize = compact_len(10);
    type Net = Mlp<I, 20, 11>;
    const LEN: usize = max_file_len(Net::PARAMS);
    /// The shipped model from before version 2, written by the version-1 build.
    const V1_FILE: &[u8] = include_bytes!("../../../fixtures/models/deeprm.model");

    fn load10(bytes: &[u8]) -> Result<ModelHeader, ModelError> {
        let mut net = Net::zeroed();
        load(
            bytes,
            Encoding::Compact,
            &ClusterSpec::with_slots(10),
            &mut net,
        )
    }

    /// `default.model`'s stage 2: 4 workloads at 4 rates, a curriculum, from a model file;
    /// with the demo's rules, shielded, penalty 1.
    fn header() -> ModelHeader {
        let meta = TrainingMeta {
            workload: Workload::DeepRm.code(),
            rate: 0.7,
            seed: 3,
            iterations: 1000,
            mask_invalid: true,
        };
        let mut p = Provenance::default();
        for workload in Workload::ALL {
            for rate in [0.7, 0.3, 0.5, 0.9] {
                p.cells
                    .push(MixtureCell { workload, rate })
                    .unwrap_or_else(|_| unreachable!("16 cells fit"));
            }
        }
        let cap = Permille::new(800).unwrap_or(Permille::ONE);
        for (rule, weight) in [
            (Rule::UtilizationCap { max: cap }, 1.0),
            (Rule::WorkConserving { max: cap }, 2.5),
            (
                Rule::BoundedWait {
                    steps: 300,
                    max: cap,
                },
                0.0,
            ),
        ] {
            p.rules
                .push(TrainedRule { rule, weight })
                .unwrap_or_else(|_| unreachable!("3 rules fit"));
        }
        p.curriculum_every = 10;
        p.rule_mode = RuleMode::Shielded;
        p.rule_penalty = 1.0;
        p.init_sha256 = Some([0x10, 0x11, 0xa0, 0x9b, 0x41, 0x96, 0xaf, 0xe2]);
        ModelHeader {
            version: FORMAT_VERSION,
            encoding: Encoding::Compact.code(),
            input: I as u32,
            hidden: 20,
            output: 11,
            spec: ClusterSpec::with_slots(10),
            meta,
            provenance: p,
        }
    }

    fn file(h: &ModelHeader) -> ([u8; LEN], usize) {
        let mut buf = [0u8; LEN];
        let mut net = Net::zeroed();
        for (k, p) in net.params_mut().enumerate() {
            *p = (k % 7) as f32 * 0.25 - 0.5;
        }
        let n = save(&net, h, &mut buf).unwrap_or_else(|e| unreachable!("{e}"));
        (buf, n)
    }

    /// Where the provenance starts: after the prefix and the version-1 fields.
    fn provenance_at(h: &ModelHeader) -> usize {
        let mut buf = [0u8; 64];
        PREFIX
            + postcard::to_slice(&Base::of(h), &mut buf)
                .unwrap_or_else(|_| unreachable!("fits"))
                .len()
    }

    fn reseal(bytes: &mut [u8]) {
        let n = bytes.len() - CRC_LEN;
        let crc = framing::crc32(&bytes[..n]);
        bytes[n..].copy_from_slice(&crc.to_le_bytes());
    }

    fn text(e: &ModelError) -> heapless::String<160> {
        let mut t = heapless::String::new();
        core::fmt::write(&mut t, format_args!("{e}")).unwrap_or_else(|_| unreachable!());
        t
    }

    #[test]
    fn the_whole_provenance_round_trips() {
        let h = header();
        let (buf, n) = file(&h);
        assert_eq!(load10(&buf[..n]), Ok(h.clone()));
        // By hand: 1 + 16 * 5 cell bytes, 1 + 3 rules of 1 + 2 + 1 + 4 (steps 0 is 1 byte,
        // 300 two) bytes, curriculum 1, mode 1, penalty 4, init 1 + 8.
        let rules = (1 + 2 + 1 + 4) + (1 + 2 + 1 + 4) + (1 + 2 + 2 + 4);
        let provenance = 81 + 1 + rules + 1 + 1 + 4 + 9;
        let v1 = {
            let mut one = h.clone();
            one.version = 1;
            file(&one).1
        };
        assert_eq!(n, v1 + provenance);
        assert!(n <= LEN);
    }

    #[test]
    fn a_version_1_file_loads_with_its_headline_cell_and_is_rewritten_byte_for_byte() {
        let h = load10(V1_FILE).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(h.version, 1);
        assert_eq!(h.meta.workload, Workload::DeepRm.code());
        assert_eq!(h.meta.rate, 0.7);
        assert_eq!(
            h.provenance.cells.as_slice(),
            &[MixtureCell {
                workload: Workload::DeepRm,
                rate: 0.7
            }]
        );
        assert!(h.provenance.rules.is_empty() && h.provenance.init_sha256.is_none());
        let mut net = Net::zeroed();
        load(
            V1_FILE,
            Encoding::Compact,
            &ClusterSpec::with_slots(10),
            &mut net,
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let mut buf = [0u8; LEN];
        let n = save(&net, &h, &mut buf).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(&buf[..n], V1_FILE);
    }

    #[test]
    fn saving_an_unknown_version_or_a_bad_provenance_is_refused() {
        let mut buf = [0u8; LEN];
        let net = Net::zeroed();
        let mut h = header();
        h.version = 3;
        assert_eq!(
            save(&net, &h, &mut buf),
            Err(ModelError::Framing(FramingError::UnsupportedVersion {
                found: 3,
                oldest: 1,
                newest: 2
            }))
        );
        let mut h = header();
        h.provenance.cells[5].rate = f32::NAN;
        assert!(matches!(
            save(&net, &h, &mut buf),
            Err(ModelError::Provenance(ProvenanceError::OutOfRange {
                field: ProvenanceField::CellRate,
                index: 5,
                found,
                ..
            })) if found.is_nan()
        ));
        let mut h = header();
        h.provenance.cells[0].rate = 0.3;
        assert!(matches!(
            save(&net, &h, &mut buf),
            Err(ModelError::Provenance(
                ProvenanceError::HeadlineMismatch { .. }
            ))
        ));
        let mut h = header();
        h.provenance.cells.clear();
        assert_eq!(
            save(&net, &h, &mut buf),
            Err(ModelError::Provenance(ProvenanceError::Count {
                field: ProvenanceField::Cells,
                found: 0,
                min: 1,
                max: 16
            }))
        );
        let mut h = header();
        h.provenance.rule_penalty = -1.0;
        assert!(matches!(
            save(&net, &h, &mut buf),
            Err(ModelError::Provenance(ProvenanceError::OutOfRange {
                field: ProvenanceField::RulePenalty,
                ..
            }))
        ));
    }

    #[test]
    fn each_provenance_corruption_has_its_own_error() {
        let h = header();
        let (buf, n) = file(&h);
        let at = provenance_at(&h);
        assert_eq!(buf[at], 16, "the cell count opens the provenance");
        let corrupt = |offset: usize, bytes: &[u8]| {
            let mut b = buf;
            b[at + offset..at + offset + bytes.len()].copy_from_slice(bytes);
            reseal(&mut b[..n]);
            load10(&b[..n])
        };
        let too_many = corrupt(0, &[17]);
        assert_eq!(
            too_many,
            Err(ModelError::Provenance(ProvenanceError::Count {
                field: ProvenanceField::Cells,
                found: 17,
                min: 1,
                max: 16
            }))
        );
        assert_eq!(
            text(&too_many.err().unwrap_or(ModelError::MalformedHeader)).as_str(),
            "model provenance: 17 mixture cells, expected 1 to 16"
        );
        // Cell 3's workload code (each cell: code byte, 4 rate bytes).
        let unknown = corrupt(1 + 5 * 3, &[9]);
        assert_eq!(
            unknown,
            Err(ModelError::Provenance(ProvenanceError::UnknownCode {
                field: ProvenanceField::CellWorkload,
                index: 3,
                found: 9,
                max: 3
            }))
        );
        assert_eq!(
            text(&unknown.err().unwrap_or(ModelError::MalformedHeader)).as_str(),
            "model provenance: workload code of mixture cell 3: 9 is unknown (known: 0 to 3)"
        );
        let nan = corrupt(1 + 5 * 2 + 1, &f32::NAN.to_le_bytes());
        assert!(matches!(
            nan,
            Err(ModelError::Provenance(ProvenanceError::OutOfRange {
                field: ProvenanceField::CellRate,
                index: 2,
                found,
                min: 0.0,
                max: 1.0
            })) if found.is_nan()
        ));
        assert_eq!(
            text(&nan.err().unwrap_or(ModelError::MalformedHeader)).as_str(),
            "model provenance: rate of mixture cell 2: NaN, expected in [0, 1]"
        );
        assert!(matches!(
            corrupt(1 + 5 * 9 + 1, &1.5f32.to_le_bytes()),
            Err(ModelError::Provenance(ProvenanceError::OutOfRange {
                field: ProvenanceField::CellRate,
                index: 9,
                ..
            }))
        ));
        // The rules follow the 81 cell bytes: count, then kind code, cap, steps, weight.
        let rules = 81;
        assert_eq!(buf[at + rules], 3);
        assert_eq!(
            corrupt(rules, &[9]),
            Err(ModelError::Provenance(ProvenanceError::Count {
                field: ProvenanceField::Rules,
                found: 9,
                min: 0,
                max: 8
            }))
        );
        assert_eq!(
            corrupt(rules + 1, &[5]),
            Err(ModelError::Provenance(ProvenanceError::UnknownCode {
                field: ProvenanceField::RuleKind,
                index: 0,
                found: 5,
                max: 4
            }))
        );
        // Cap 1001 permille (LEB128 0xe9 0x07), in place of 800 (0xa0 0x06).
        assert!(matches!(
            corrupt(rules + 2, &[0xe9, 0x07]),
            Err(ModelError::Provenance(ProvenanceError::OutOfRange {
                field: ProvenanceField::RuleCap,
                index: 0,
                ..
            }))
        ));
        // Rule 1's weight, after rule 0's 8 bytes and rule 1's kind, cap and steps.
        assert!(matches!(
            corrupt(rules + 1 + 8 + 4, &(-2.0f32).to_le_bytes()),
            Err(ModelError::Provenance(ProvenanceError::OutOfRange {
                field: ProvenanceField::RuleWeight,
                index: 1,
                ..
            }))
        ));
        // The rule mode follows the 3 rules (8 + 8 + 9 bytes) and the curriculum byte.
        let mode = rules + 1 + 25 + 1;
        assert_eq!(buf[at + mode], RuleMode::Shielded.code());
        assert_eq!(
            corrupt(mode, &[7]),
            Err(ModelError::Provenance(ProvenanceError::UnknownCode {
                field: ProvenanceField::RuleMode,
                index: 0,
                found: 7,
                max: 2
            }))
        );
        assert!(matches!(
            corrupt(1, &[Workload::Bursty.code()]),
            Err(ModelError::Provenance(
                ProvenanceError::HeadlineMismatch { .. }
            ))
        ));
        // Cut inside the provenance: the file is too short for it.
        let mut cut = [0u8; LEN];
        cut[..at + 40].copy_from_slice(&buf[..at + 40]);
        assert!(matches!(
            load10(&cut[..at + 40]),
            Err(ModelError::Framing(FramingError::Truncated { .. }))
        ));
    }
}
