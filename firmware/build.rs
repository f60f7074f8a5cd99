//! Links the Cortex-M image (memory.x, cortex-m-rt's link.x) and compiles the golden decision
//! traces of `fixtures/golden/*.json` into Rust constants (`$OUT_DIR/golden.rs`), since the
//! firmware has no JSON parser: per trace its jobs, end mode, every decision's time step,
//! action, action mask and logit bit patterns, and the final metrics' bits. It also decodes the
//! shipped model with `whitebox_core::model::load` into a `static` network literal
//! (`$OUT_DIR/compact_net.rs`, weights in flash) and writes a pseudo-random network of the image
//! encoder's shape (`$OUT_DIR/image_net.rs`) for the size and instruction-count images.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The shipped model the firmware embeds (compact encoder, 10 slots).
const MODEL: &str = "fixtures/models/default.model";
const OUTPUTS: usize = 11;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo::rustc-check-cfg=cfg(has_fpu)");
    if target.starts_with("thumb") {
        std::fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
        println!("cargo:rustc-link-search={}", out.display());
        println!("cargo:rerun-if-changed=memory.x");
    }
    if target.ends_with("eabihf") {
        println!("cargo:rustc-cfg=has_fpu");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let golden_dir = root.join("fixtures/golden");
    println!("cargo:rerun-if-changed={}", golden_dir.display());
    println!("cargo:rerun-if-changed={}", root.join(MODEL).display());
    let model = std::fs::read(root.join(MODEL)).expect("read the shipped model");
    let crc = u32::from_le_bytes(model[model.len() - 4..].try_into().expect("crc"));

    let mut files: Vec<PathBuf> = std::fs::read_dir(&golden_dir)
        .expect("fixtures/golden")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut code = String::new();
    writeln!(
        code,
        "/// CRC-32 of the embedded model, as recorded in the traces."
    )
    .unwrap();
    writeln!(code, "pub const MODEL_CRC32: u32 = {crc:#010x};").unwrap();
    let mut list = Vec::new();
    let mut heavy_end = None;
    for (n, path) in files.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(path).expect("read trace");
        let t: Value = serde_json::from_str(&text).expect("trace JSON");
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        assert_eq!(t["format"], "whitebox-trace", "{name}: not a trace");
        assert_eq!(t["version"], 1, "{name}: trace version");
        assert_eq!(
            t["slots"], 10,
            "{name}: the firmware embeds a 10-slot model"
        );
        assert_eq!(
            t["model"]["crc32"].as_u64(),
            Some(u64::from(crc)),
            "{name}: recorded with another model than {MODEL}"
        );
        let end = &t["end"];
        let end = match end["mode"].as_str() {
            Some("all-done") => format!("EndMode::AllDone {{ time_cap: {} }}", end["time_cap"]),
            Some("no-new-job") => format!("EndMode::NoNewJob {{ simu_len: {} }}", end["simu_len"]),
            other => panic!("{name}: end mode {other:?}"),
        };
        if name == "default-heavy" {
            heavy_end = Some(end.clone());
        }
        writeln!(code, "const JOBS_{n}: &[Job] = &[").unwrap();
        for (id, j) in t["jobs"].as_array().expect("jobs").iter().enumerate() {
            let res = j["res"].as_array().expect("res");
            writeln!(
                code,
                "    Job {{ id: {id}, arrival: {}, len: {}, res: [{}, {}] }},",
                j["arrival"], j["len"], res[0], res[1]
            )
            .unwrap();
        }
        writeln!(code, "];").unwrap();
        writeln!(code, "const DECISIONS_{n}: &[GoldenDecision] = &[").unwrap();
        for d in t["decisions"].as_array().expect("decisions") {
            let valid = d["valid"].as_str().expect("valid");
            assert_eq!(valid.len(), OUTPUTS, "{name}: mask length");
            let mask = valid
                .bytes()
                .enumerate()
                .fold(0u32, |m, (k, b)| m | (u32::from(b == b'1') << k));
            let logits = d["logits_bits"].as_array().expect("logits_bits");
            assert_eq!(logits.len(), OUTPUTS, "{name}: logits length");
            let logits: Vec<String> = logits
                .iter()
                .map(|l| format!("{:#010x}", l.as_u64().expect("bits")))
                .collect();
            writeln!(
                code,
                "    GoldenDecision {{ time: {}, action: {}, valid: {mask:#05x}, logits: [{}] }},",
                d["time"],
                d["action"],
                logits.join(", ")
            )
            .unwrap();
        }
        writeln!(code, "];").unwrap();
        let s = &t["summary"];
        let f64_bits = |v: &Value| match v.as_f64() {
            Some(x) => format!("Some({:#018x})", x.to_bits()),
            None => "None".to_string(),
        };
        list.push(format!(
            "    Golden {{ name: {name:?}, end: {end}, jobs: JOBS_{n}, decisions: DECISIONS_{n}, \
             final_time: {}, allocated: {}, mean_slowdown_bits: {}, total_reward_bits: {} }},",
            s["final_time"],
            s["allocated"],
            f64_bits(&s["mean_slowdown"]),
            f64_bits(&s["total_reward"])
                .replace("Some(", "")
                .replace(')', ""),
        ));
    }
    let heavy = files
        .iter()
        .position(|p| p.file_stem().is_some_and(|s| s == "default-heavy"))
        .expect("fixtures/golden/default-heavy.json");
    writeln!(
        code,
        "/// The jobs of `default-heavy` (DeepRM case `rate0.7_seed1_nw10`), without its decisions."
    )
    .unwrap();
    writeln!(code, "pub const HEAVY_JOBS: &[Job] = JOBS_{heavy};").unwrap();
    writeln!(code, "/// The end mode of `default-heavy`.").unwrap();
    writeln!(
        code,
        "pub const HEAVY_END: EndMode = {};",
        heavy_end.expect("end")
    )
    .unwrap();
    writeln!(code, "/// Every golden trace, in file-name order.").unwrap();
    writeln!(
        code,
        "pub const GOLDEN: &[Golden] = &[\n{}\n];",
        list.join("\n")
    )
    .unwrap();
    std::fs::write(out.join("golden.rs"), code).expect("write golden.rs");
    networks(&model, &out);
}

/// Writes the shipped model as a `Mlp` literal, and a pseudo-random image-encoder network.
fn networks(model: &[u8], out: &Path) {
    use whitebox_core::encoding::{compact_len, Encoding};
    use whitebox_core::model;
    use whitebox_core::nn::Mlp;
    use whitebox_core::observe::image_len;
    use whitebox_core::spec::ClusterSpec;

    const SLOTS: usize = 10;
    const HIDDEN: usize = 20;
    let mut net = Box::new(Mlp::<{ compact_len(SLOTS) }, HIDDEN, OUTPUTS>::zeroed());
    model::load(
        model,
        Encoding::Compact,
        &ClusterSpec::with_slots(SLOTS as u8),
        &mut net,
    )
    .expect("the shipped model loads as a compact 10-slot network");
    let params: Vec<f32> = net.params().copied().collect();
    let text = mlp_literal(compact_len(SLOTS), HIDDEN, OUTPUTS, &params);
    std::fs::write(out.join("compact_net.rs"), text).expect("write compact_net.rs");

    // Image encoder, 10 slots: weights uniform in [-0.05, 0.05) from a fixed xorshift stream.
    // Only the shape matters for size and speed.
    let inputs = image_len(SLOTS);
    let count = HIDDEN * inputs + HIDDEN + OUTPUTS * HIDDEN + OUTPUTS;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let params: Vec<f32> = (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
        })
        .collect();
    let text = mlp_literal(inputs, HIDDEN, OUTPUTS, &params);
    std::fs::write(out.join("image_net.rs"), text).expect("write image_net.rs");
}

/// An `Mlp { w1, b1, w2, b2 }` expression of shape `i -> h -> o` from parameters in model-file
/// order. `{:?}` prints the shortest decimal that parses back to the same `f32`.
fn mlp_literal(i: usize, h: usize, o: usize, params: &[f32]) -> String {
    assert_eq!(params.len(), h * i + h + o * h + o, "parameter count");
    assert!(params.iter().all(|p| p.is_finite()), "finite weights");
    let list = |ps: &[f32]| {
        ps.iter()
            .map(|p| format!("{p:?}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let rows = |ps: &[f32], width: usize| {
        ps.chunks(width)
            .map(|r| format!("[{}]", list(r)))
            .collect::<Vec<_>>()
            .join(",\n")
    };
    let (w1, rest) = params.split_at(h * i);
    let (b1, rest) = rest.split_at(h);
    let (w2, b2) = rest.split_at(o * h);
    format!(
        "Mlp {{\nw1: [{}],\nb1: [{}],\nw2: [{}],\nb2: [{}],\n}}\n",
        rows(w1, i),
        list(b1),
        rows(w2, h),
        list(b2)
    )
}
