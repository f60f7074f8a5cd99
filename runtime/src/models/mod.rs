//! The four network architectures whitebox ships (compact or image encoder, 5 or 10 job slots,
//! DeepRM's 20 hidden units) and loading model files into them; [`int8`] quantizes them.

use std::path::Path;

use anyhow::{bail, Context, Result};
use whitebox_core::encoding::{Encoder, Encoding};
use whitebox_core::model::{self, ModelHeader};
use whitebox_core::nn::Mlp;
use whitebox_core::spec::ClusterSpec;
use whitebox_core::PolicyError;

pub mod arch;
pub mod decide;
pub mod int8;
#[doc(hidden)]
pub mod testing;
pub mod tree;

pub use arch::{
    Arch, ArchVisitor, Compact10, Compact5, CompactVisitor, Family, Image10, Image5, Int8, F32,
    HIDDEN,
};
pub use decide::{Decide, PolicyOps};

/// A loaded `f32` model of one of the shipped architectures.
pub type AnyModel = Arch<F32>;

/// A model file's header and network.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    /// Everything but the weights.
    pub header: ModelHeader,
    /// The network.
    pub net: AnyModel,
    /// The int8 quantization of `net` (policy `int8:PATH`, see [`int8`]); when
    /// present, [`Decide`] decides with it instead of `net`.
    pub int8: Option<std::sync::Arc<int8::Int8Model>>,
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

/// Loads the weights of architecture (`E`, `M`); `_H` is [`HIDDEN`], as [`crate::with_arch`]
/// passes it.
fn load_as<E: Encoder, const M: usize, const I: usize, const _H: usize, const O: usize>(
    bytes: &[u8],
    encoding: Encoding,
    slots: u8,
) -> Result<AnyModel> {
    let mut net = Box::new(Mlp::<I, HIDDEN, O>::zeroed());
    model::load(bytes, encoding, &ClusterSpec::with_slots(slots), &mut net)?;
    AnyModel::from_net::<E, M, I, O>(net)
        .with_context(|| format!("no shipped architecture has {slots} job slots"))
}

/// Loads a model file from bytes: the header picks the architecture, then every check of
/// [`whitebox_core::model::load`] applies.
///
/// # Errors
/// Every [`whitebox_core::model::ModelError`], and an architecture this build does not ship.
pub fn from_bytes(bytes: &[u8]) -> Result<LoadedModel> {
    if bytes.starts_with(&whitebox_core::tree::file::MAGIC) {
        bail!("this is a decision-tree file (magic WBXTREE), not a model; pass it as tree:PATH");
    }
    let (header, _) = model::read_header(bytes)?;
    let encoding = Encoding::from_code(header.encoding).with_context(|| {
        format!(
            "model encoder code {} is unknown (0 = image, 1 = compact)",
            header.encoding
        )
    })?;
    let slots = header.spec.slots;
    let net = crate::with_arch!(
        encoding,
        usize::from(slots),
        load_as(bytes, encoding, slots),
        bail!("model has {slots} job slots; this build supports 5 and 10")
    )?;
    Ok(LoadedModel {
        header,
        net,
        int8: None,
    })
}

/// The bytes of a model file; for a shipped model's path with no file there, the built-in copy
/// ([`shipped`]).
///
/// # Errors
/// When the file cannot be read.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    crate::shipped::read(path).with_context(|| format!("cannot read model {}", where_is(path)))
}

/// `path`, and for a relative path the directory it was looked up from (a file "not found" is
/// most often a command run from another directory).
pub fn where_is(path: &Path) -> String {
    match std::env::current_dir() {
        Ok(dir) if path.is_relative() => {
            format!("{} (relative to {})", path.display(), dir.display())
        }
        _ => path.display().to_string(),
    }
}

/// Loads a model file, as [`read`] finds it.
///
/// # Errors
/// When the file cannot be read, and as [`from_bytes`].
pub fn load(path: &Path) -> Result<LoadedModel> {
    let bytes = read(path)?;
    from_bytes(&bytes).with_context(|| format!("invalid model file {}", path.display()))
}

impl<const M: usize> Decide<M> for LoadedModel {
    /// The policy of the int8 network when the model has one, else of the `f32` network, with
    /// the model's masking setting.
    fn with_policy<T>(
        &self,
        f: impl FnOnce(&mut dyn PolicyOps<M>) -> Result<T, PolicyError>,
    ) -> Result<T, PolicyError> {
        let mask = self.header.meta.mask_invalid;
        match &self.int8 {
            Some(q) => q.net.with_policy(mask, f),
            None => self.net.with_policy(mask, f),
        }
    }
}

/// The model file bytes of `net` with `header`, as the core's writer lays them out.
///
/// # Errors
/// A non-finite weight or a header that does not match the network.
pub fn to_bytes<const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    header: &ModelHeader,
) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; model::max_file_len(Mlp::<I, H, O>::PARAMS)];
    let n = model::save(net, header, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// Writes `net` with `header` to `path`.
///
/// # Errors
/// As [`to_bytes`], or an I/O error.
pub fn save<const I: usize, const H: usize, const O: usize>(
    path: &Path,
    net: &Mlp<I, H, O>,
    header: &ModelHeader,
) -> Result<()> {
    let buf = to_bytes(net, header)?;
    std::fs::write(path, &buf).with_context(|| format!("cannot write model {}", path.display()))
}

/// The readable JSON form of a model file: the header fields and the weights by layer.
/// Floats are written in shortest round-trip form, so export then import gives the same bits.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ModelJson {
    /// Always `"whitebox-model"`.
    pub format: String,
    /// Binary format version the weights came from.
    pub version: u16,
    /// Observation encoder name (`compact` or `image`).
    pub encoding: String,
    /// Job slots `M`.
    pub slots: u8,
    /// Cluster the model was trained for: resources, units per resource, horizon, backlog.
    pub num_res: u8,
    /// Units per resource.
    pub res_units: u8,
    /// Time horizon, in steps.
    pub horizon: u8,
    /// Backlog capacity, in jobs.
    pub backlog: u8,
    /// Training metadata.
    pub workload: String,
    /// Arrival rate the model was trained at.
    pub rate: f32,
    /// Training seed.
    pub seed: u64,
    /// Training iterations.
    pub iterations: u32,
    /// Whether invalid actions are masked.
    pub mask_invalid: bool,
    /// Hidden weights, shape `[H][I]`.
    pub w1: Vec<Vec<f32>>,
    /// Hidden biases, shape `[H]`.
    pub b1: Vec<f32>,
    /// Output weights, shape `[O][H]`.
    pub w2: Vec<Vec<f32>>,
    /// Output biases, shape `[O]`.
    pub b2: Vec<f32>,
}

fn to_json_net<const I: usize, const H: usize, const O: usize>(
    header: &ModelHeader,
    net: &Mlp<I, H, O>,
) -> ModelJson {
    let workload = whitebox_core::workload::Workload::from_code(header.meta.workload).map_or_else(
        || format!("code {}", header.meta.workload),
        |w| w.name().to_string(),
    );
    ModelJson {
        format: "whitebox-model".to_string(),
        version: model::FORMAT_VERSION,
        encoding: Encoding::from_code(header.encoding)
            .map_or("unknown", Encoding::name)
            .to_string(),
        slots: header.spec.slots,
        num_res: header.spec.num_res,
        res_units: header.spec.res_units,
        horizon: header.spec.horizon,
        backlog: header.spec.backlog,
        workload,
        rate: header.meta.rate,
        seed: header.meta.seed,
        iterations: header.meta.iterations,
        mask_invalid: header.meta.mask_invalid,
        w1: net.w1.iter().map(|r| r.to_vec()).collect(),
        b1: net.b1.to_vec(),
        w2: net.w2.iter().map(|r| r.to_vec()).collect(),
        b2: net.b2.to_vec(),
    }
}

/// The JSON form of a loaded model.
pub fn to_json(m: &LoadedModel) -> ModelJson {
    struct ToJson<'h>(&'h ModelHeader);
    impl ArchVisitor<'_, F32> for ToJson<'_> {
        type Out = ModelJson;
        fn visit<E: Encoder, const M: usize, const I: usize, const O: usize>(
            self,
            net: &Mlp<I, HIDDEN, O>,
        ) -> ModelJson {
            to_json_net(self.0, net)
        }
    }
    m.net.visit(ToJson(&m.header))
}

fn rows<const N: usize>(field: &str, values: &[f32]) -> Result<[f32; N]> {
    <[f32; N]>::try_from(values)
        .map_err(|_| anyhow::anyhow!("`{field}` has {} values, expected {N}", values.len()))
}

fn binary_from_json<
    E: whitebox_core::encoding::Encoder,
    const M: usize,
    const I: usize,
    const H: usize,
    const O: usize,
>(
    j: &ModelJson,
    header: &ModelHeader,
) -> Result<Vec<u8>> {
    const { assert!(I == E::ENCODING.input_len(M) && O == M + 1) };
    let mut net = Box::new(Mlp::<I, H, O>::zeroed());
    if j.w1.len() != H || j.w2.len() != O {
        bail!(
            "`w1` has {} rows and `w2` {}, expected {H} and {O}",
            j.w1.len(),
            j.w2.len()
        );
    }
    for (k, (dst, src)) in net.w1.iter_mut().zip(j.w1.iter()).enumerate() {
        *dst = rows(&format!("w1[{k}]"), src)?;
    }
    for (k, (dst, src)) in net.w2.iter_mut().zip(j.w2.iter()).enumerate() {
        *dst = rows(&format!("w2[{k}]"), src)?;
    }
    net.b1 = rows("b1", &j.b1)?;
    net.b2 = rows("b2", &j.b2)?;
    let mut buf = vec![0u8; model::max_file_len(Mlp::<I, H, O>::PARAMS)];
    let n = model::save(&net, header, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// The binary model file for a JSON form, checked by loading it back.
///
/// # Errors
/// A wrong `format`, unknown encoder or workload, unsupported slot count, weight arrays of the
/// wrong shape (named with their lengths), or a non-finite weight.
pub fn from_json(j: &ModelJson) -> Result<Vec<u8>> {
    if j.format != "whitebox-model" {
        bail!("`format` = {:?}, expected \"whitebox-model\"", j.format);
    }
    let encoding = Encoding::from_name(&j.encoding)
        .with_context(|| format!("`encoding` = {:?}, expected compact or image", j.encoding))?;
    let workload = whitebox_core::workload::Workload::from_name(&j.workload)
        .with_context(|| format!("`workload` = {:?} is unknown", j.workload))?;
    let header = ModelHeader {
        encoding: encoding.code(),
        input: u32::try_from(encoding.input_len(usize::from(j.slots)))?,
        hidden: HIDDEN as u32,
        output: u32::from(j.slots) + 1,
        spec: ClusterSpec {
            num_res: j.num_res,
            res_units: j.res_units,
            horizon: j.horizon,
            slots: j.slots,
            backlog: j.backlog,
        },
        meta: whitebox_core::model::TrainingMeta {
            workload: workload.code(),
            rate: j.rate,
            seed: j.seed,
            iterations: j.iterations,
            mask_invalid: j.mask_invalid,
        },
    };
    let bytes = crate::with_arch!(
        encoding,
        usize::from(j.slots),
        binary_from_json(j, &header),
        bail!("`slots` = {}, this build supports 5 and 10", j.slots)
    )?;
    from_bytes(&bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use whitebox_core::encoding::compact_len;
    use whitebox_core::model::TrainingMeta;

    fn model_bytes() -> Vec<u8> {
        let mut net = Box::new(Compact5::zeroed());
        for (k, p) in net.params_mut().enumerate() {
            // Values whose decimal forms are long, to exercise exact float round trips.
            *p = (k as f32 * 0.1234567).sin() / 3.0;
        }
        let header = ModelHeader {
            encoding: Encoding::Compact.code(),
            input: compact_len(5) as u32,
            hidden: HIDDEN as u32,
            output: 6,
            spec: ClusterSpec::with_slots(5),
            meta: TrainingMeta {
                workload: 0,
                rate: 0.7,
                seed: 9,
                iterations: 12,
                mask_invalid: true,
            },
        };
        let mut buf = vec![0u8; model::max_file_len(Compact5::PARAMS)];
        let n = model::save(&net, &header, &mut buf).expect("save");
        buf.truncate(n);
        buf
    }

    #[test]
    fn json_export_import_gives_the_same_bytes() {
        let bytes = model_bytes();
        let json = to_json(&from_bytes(&bytes).expect("load"));
        let text = serde_json::to_string(&json).expect("json");
        let back: ModelJson = serde_json::from_str(&text).expect("parse");
        assert_eq!(from_json(&back).expect("import"), bytes);
    }

    #[test]
    fn json_with_wrong_shapes_or_nan_is_refused() {
        let json = to_json(&from_bytes(&model_bytes()).expect("load"));
        let mut short = json.clone();
        short.b1.pop();
        let e = format!("{:#}", from_json(&short).expect_err("short b1"));
        assert!(e.contains("`b1` has 19 values, expected 20"), "{e}");
        let mut nan = json.clone();
        nan.b2[0] = f32::NAN;
        let e = format!("{:#}", from_json(&nan).expect_err("nan"));
        assert!(e.contains("NaN or infinite"), "{e}");
        let mut slots = json;
        slots.slots = 7;
        let e = format!("{:#}", from_json(&slots).expect_err("slots"));
        assert!(e.contains("`slots` = 7"), "{e}");
    }

    #[test]
    fn built_in_models_load() {
        let models = crate::shipped::SHIPPED
            .iter()
            .filter(|(p, _)| p.ends_with(".model"));
        for (path, bytes) in models {
            let m = from_bytes(bytes).unwrap_or_else(|e| panic!("{path}: {e:#}"));
            assert_eq!(m.slots(), 10, "{path}");
        }
    }
}
