//! The four network architectures whitebox ships (compact or image encoder, 5 or 10 job slots,
//! DeepRM's 20 hidden units) and loading model files into them; [`int8`] quantizes them.

use std::path::Path;

use anyhow::{bail, Context, Result};
use whitebox_core::encoding::{Encoder, Encoding};
use whitebox_core::model::{self, ModelHeader, Provenance};
use whitebox_core::nn::Mlp;
use whitebox_core::spec::ClusterSpec;
use whitebox_core::PolicyError;

pub mod arch;
pub mod decide;
pub mod input_major;
pub mod int8;
#[doc(hidden)]
pub mod testing;
pub mod tree;

pub use arch::{
    Arch, ArchVisitor, Compact10, Compact5, CompactVisitor, Family, Image10, Image5, Int8, F32,
    HIDDEN,
};
pub use decide::{Decide, PolicyOps};
pub use input_major::{F32InputMajor, InputMajor};

/// A loaded `f32` model of one of the shipped architectures.
pub type AnyModel = Arch<F32>;

/// A model file's header and network.
#[derive(Clone, Debug)]
pub struct LoadedModel {
    /// Everything but the weights.
    pub header: ModelHeader,
    /// The network (read-only once loaded: [`Decide`] decides with `input_major`, a copy).
    pub net: AnyModel,
    /// `net` stored input-major ([`input_major`]), built once at load; the same logits, faster
    /// on the host.
    input_major: Arch<F32InputMajor>,
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
    let input_major = net
        .visit(ToInputMajor)
        .context("no shipped input-major architecture matches the model")?;
    Ok(LoadedModel {
        header,
        net,
        input_major,
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
            None => self.input_major.with_policy(mask, f),
        }
    }
}

/// Builds the [`InputMajor`] copy of a network, in the same architecture.
struct ToInputMajor;

impl<'a> ArchVisitor<'a, F32> for ToInputMajor {
    type Out = Option<Arch<F32InputMajor>>;

    fn visit<E: Encoder, const M: usize, const I: usize, const O: usize>(
        self,
        net: &'a Mlp<I, HIDDEN, O>,
    ) -> Self::Out {
        Arch::from_net::<E, M, I, O>(Box::new(InputMajor::new(net)))
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
    /// Every cell of the training mixture (version 2; version 1 records only `workload` and
    /// `rate`, and this is ignored on import).
    #[serde(default)]
    pub mixture: Vec<CellJson>,
    /// Curriculum period in iterations; 0: no curriculum.
    #[serde(default)]
    pub curriculum_every: u32,
    /// The rules trained under.
    #[serde(default)]
    pub rules: Vec<RuleJson>,
    /// How the rules were used: `distill`, `shielded` or `penalty`.
    #[serde(default = "default_rule_mode")]
    pub rule_mode: String,
    /// Reward penalty of the shielded and penalty modes.
    #[serde(default)]
    pub rule_penalty: f32,
    /// First 16 hex digits of the SHA-256 of the model training started from (`null`: new
    /// weights, or not recorded in version 1).
    #[serde(default)]
    pub init_sha256: Option<String>,
    /// Hidden weights, shape `[H][I]`.
    pub w1: Vec<Vec<f32>>,
    /// Hidden biases, shape `[H]`.
    pub b1: Vec<f32>,
    /// Output weights, shape `[O][H]`.
    pub w2: Vec<Vec<f32>>,
    /// Output biases, shape `[O]`.
    pub b2: Vec<f32>,
}

fn default_rule_mode() -> String {
    model::RuleMode::Distill.name().to_string()
}

/// One cell of a training mixture in [`ModelJson`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CellJson {
    /// Workload name.
    pub workload: String,
    /// Arrival rate as stored (`f32`).
    pub rate: f32,
}

/// A rule a model was trained under, in [`ModelJson`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RuleJson {
    /// The rule as `--rule` and reports write it (for people; not read back).
    pub text: String,
    /// Rule kind name (`utilization-cap`, `work-conserving`, ...).
    pub kind: String,
    /// Its cap in thousandths (0 for no-reservation).
    pub cap_permille: u16,
    /// Bounded wait's steps (0 for the other kinds).
    pub steps: u16,
    /// Its weight `lambda`.
    pub weight: f32,
}

/// The first 8 bytes of the SHA-256 of `bytes` (what a model header records of its initial
/// model; `sha256sum` prints them as the first 16 hex digits).
pub fn sha256_prefix(bytes: &[u8]) -> [u8; 8] {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&digest[..8]);
    prefix
}

/// Lowercase hex digits of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<[u8; 8]> {
    if text.len() != 16 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 8];
    for (k, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(text.get(2 * k..2 * k + 2)?, 16).ok()?;
    }
    Some(out)
}

/// What a model was trained on, for headers and reports: the whole mixture, the curriculum,
/// the rules and the model it started from, e.g. `deeprm, long-jobs, wide-demands, bursty at
/// rates 0.3, 0.5, 0.7, 0.9 (+ curriculum every 10 iterations), from
/// fixtures/models/default-base.model (sha256 0123456789abcdef)`. An initial model that is a
/// shipped model is named by its path. A version-1 file records only its headline cell, and
/// says so.
pub fn training_summary(header: &ModelHeader) -> String {
    let p = &header.provenance;
    if header.version < 2 {
        return format!("{p} (a version-1 file: only the headline cell is recorded)");
    }
    match p.init_sha256 {
        None => format!("{p}, from new weights"),
        Some(init) => {
            let shipped = crate::shipped::SHIPPED
                .iter()
                .find(|(path, bytes)| path.ends_with(".model") && sha256_prefix(bytes) == init);
            match shipped {
                Some((path, _)) => format!("{p}, from {path} (sha256 {})", hex(&init)),
                None => format!("{p}, from a model with sha256 {}", hex(&init)),
            }
        }
    }
}

fn to_json_net<const I: usize, const H: usize, const O: usize>(
    header: &ModelHeader,
    net: &Mlp<I, H, O>,
) -> ModelJson {
    let workload = whitebox_core::workload::Workload::from_code(header.meta.workload).map_or_else(
        || format!("code {}", header.meta.workload),
        |w| w.name().to_string(),
    );
    let p = &header.provenance;
    ModelJson {
        format: "whitebox-model".to_string(),
        version: header.version,
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
        mixture: if header.version < 2 {
            Vec::new()
        } else {
            p.cells
                .iter()
                .map(|c| CellJson {
                    workload: c.workload.name().to_string(),
                    rate: c.rate,
                })
                .collect()
        },
        curriculum_every: p.curriculum_every,
        rules: p
            .rules
            .iter()
            .map(|r| RuleJson {
                text: r.rule.to_string(),
                kind: r.rule.kind().name().to_string(),
                cap_permille: r.rule.cap().map_or(0, |c| c.get()),
                steps: r.rule.wait_steps().unwrap_or(0),
                weight: r.weight,
            })
            .collect(),
        rule_mode: p.rule_mode.name().to_string(),
        rule_penalty: p.rule_penalty,
        init_sha256: p.init_sha256.map(|h| hex(&h)),
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

/// The provenance of a JSON form: for version 1, the headline cell alone.
fn provenance_from_json(
    j: &ModelJson,
    meta: &whitebox_core::model::TrainingMeta,
) -> Result<Provenance> {
    use whitebox_core::model::{MixtureCell, RuleMode, TrainedRule};
    use whitebox_core::rules::{Permille, RuleKind};
    use whitebox_core::workload::Workload;
    if j.version < 2 {
        return Ok(Provenance::headline_only(meta));
    }
    let mut p = Provenance::default();
    for (k, c) in j.mixture.iter().enumerate() {
        let workload = Workload::from_name(&c.workload)
            .with_context(|| format!("`mixture[{k}].workload` = {:?} is unknown", c.workload))?;
        let cell = MixtureCell {
            workload,
            rate: c.rate,
        };
        if p.cells.push(cell).is_err() {
            bail!(
                "`mixture` has {} cells, at most {}",
                j.mixture.len(),
                model::MAX_CELLS
            );
        }
    }
    for (k, r) in j.rules.iter().enumerate() {
        let kind = RuleKind::from_name(&r.kind)
            .with_context(|| format!("`rules[{k}].kind` = {:?} is unknown", r.kind))?;
        let cap = Permille::new(r.cap_permille).with_context(|| {
            format!(
                "`rules[{k}].cap_permille` = {}, at most 1000",
                r.cap_permille
            )
        })?;
        let rule = TrainedRule {
            rule: kind.rule(cap, r.steps),
            weight: r.weight,
        };
        if p.rules.push(rule).is_err() {
            bail!(
                "`rules` has {} rules, at most {}",
                j.rules.len(),
                whitebox_core::rules::MAX_RULES
            );
        }
    }
    p.curriculum_every = j.curriculum_every;
    p.rule_mode = RuleMode::from_name(&j.rule_mode).with_context(|| {
        format!(
            "`rule_mode` = {:?}, expected distill, shielded or penalty",
            j.rule_mode
        )
    })?;
    p.rule_penalty = j.rule_penalty;
    p.init_sha256 = match &j.init_sha256 {
        None => None,
        Some(h) => Some(
            from_hex(h)
                .with_context(|| format!("`init_sha256` = {h:?}, expected 16 hex digits"))?,
        ),
    };
    Ok(p)
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
    let meta = whitebox_core::model::TrainingMeta {
        workload: workload.code(),
        rate: j.rate,
        seed: j.seed,
        iterations: j.iterations,
        mask_invalid: j.mask_invalid,
    };
    let header = ModelHeader {
        version: j.version,
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
        meta,
        provenance: provenance_from_json(j, &meta)?,
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
    use whitebox_core::rules::{Permille, Rule};
    use whitebox_core::workload::Workload;

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
            version: model::FORMAT_VERSION,
            provenance: Provenance::default(),
        };
        let mut header = header;
        // The whole provenance, so the JSON round trip covers every field.
        let p = &mut header.provenance;
        for (workload, rate) in [(Workload::DeepRm, 0.7), (Workload::Bursty, 0.3)] {
            p.cells
                .push(model::MixtureCell { workload, rate })
                .expect("fits");
        }
        let cap = Permille::new(805).expect("cap");
        p.rules
            .push(model::TrainedRule {
                rule: Rule::BoundedWait {
                    steps: 12,
                    max: cap,
                },
                weight: 0.123_456_7,
            })
            .expect("fits");
        p.curriculum_every = 10;
        p.rule_mode = model::RuleMode::Penalty;
        p.rule_penalty = 0.25;
        p.init_sha256 = Some([1, 35, 69, 103, 137, 171, 205, 239]);
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
    fn version_1_files_export_and_import_byte_for_byte() {
        let v1 = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/models/deeprm.model"
        ))
        .expect("deeprm.model");
        let json = to_json(&from_bytes(&v1).expect("load"));
        assert_eq!(json.version, 1);
        assert!(json.mixture.is_empty());
        let text = serde_json::to_string(&json).expect("json");
        let back: ModelJson = serde_json::from_str(&text).expect("parse");
        assert_eq!(from_json(&back).expect("import"), v1);
    }

    #[test]
    fn the_training_summary_names_the_whole_mixture_and_the_initial_model() {
        let m = from_bytes(&model_bytes()).expect("load");
        assert_eq!(
            training_summary(&m.header),
            "deeprm at rate 0.7, bursty at rate 0.3 (+ curriculum every 10 iterations), under \
             wait<=12(util<=0.805)@0.1234567 (penalty, penalty 0.25), from a model with sha256 \
             0123456789abcdef"
        );
        let mut h = m.header.clone();
        h.provenance.init_sha256 = Some(sha256_prefix(crate::shipped::SHIPPED[0].1));
        assert!(training_summary(&h).ends_with(&format!(
            "from fixtures/models/default.model (sha256 {})",
            hex(&sha256_prefix(crate::shipped::SHIPPED[0].1))
        )));
        // The known prefix of an empty input (FIPS 180-2 test vector, e3b0c442...).
        assert_eq!(hex(&sha256_prefix(b"")), "e3b0c44298fc1c14");
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
