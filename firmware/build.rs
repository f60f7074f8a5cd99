//! Links the Cortex-M image (memory.x, cortex-m-rt's link.x) and compiles the golden decision
//! traces of `fixtures/golden/*.json` into Rust constants (`$OUT_DIR/golden.rs`), since the
//! firmware has no JSON parser: per trace its model, jobs, end mode, every decision's time step,
//! action, action mask and logit bit patterns, and the final metrics' bits; for a trace recorded
//! with rules also the rule set, `C` and per decision the raw choice, the rules' truth values
//! and violations, the projected probabilities' bits and what the rules changed. Every model a
//! trace names (its `model.path`, relative to the repository root) is embedded once with
//! `include_bytes!` (`MODELS`), after checking its length and CRC-32 against the trace and its
//! shape against the firmware's network; likewise every tree file a decision-tree trace names
//! (`TREES`, with each decision's leaf). It also decodes the shipped model with
//! `whitebox_core::model::load` into a `static` network literal (`$OUT_DIR/compact_net.rs`,
//! weights in flash), quantizes it to int8 with the ranges of its int8 golden trace (as the
//! host's `int8:PATH` policy does) into a checked `QMlp::from_parts` literal
//! (`$OUT_DIR/compact_int8.rs`), and writes a pseudo-random network of the image encoder's shape
//! (`$OUT_DIR/image_net.rs`) for the size and instruction-count images. A trace of the int8
//! policy (`int8` section) also carries its quantization ranges (`INT8_{n}`), and its logits are
//! `i32` bit patterns.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use whitebox_core::guard::{GuardMode, HandoverReason, Leader};
use whitebox_core::{End, FallbackKind, Permille, RuleKind};

/// The shipped model decoded into `COMPACT_NET` for the size and speed images (compact
/// encoder, 10 slots).
const MODEL: &str = "fixtures/models/deeprm.model";
const OUTPUTS: usize = 11;
/// Shape of the firmware's network (`whitebox_firmware::Net`): every embedded model must have it.
const ENCODING: whitebox_core::encoding::Encoding = whitebox_core::encoding::Encoding::Compact;
const HIDDEN_UNITS: u32 = 20;

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
    // `WHITEBOX_GOLDEN_DIR` replaces `fixtures/golden` (e.g. to check that a tampered copy of
    // a trace fails on target); model paths stay relative to the repository root.
    println!("cargo:rerun-if-env-changed=WHITEBOX_GOLDEN_DIR");
    let golden_dir = std::env::var_os("WHITEBOX_GOLDEN_DIR")
        .map_or_else(|| root.join("fixtures/golden"), PathBuf::from);
    println!("cargo:rerun-if-changed={}", golden_dir.display());
    println!("cargo:rerun-if-changed={}", root.join(MODEL).display());
    let model = std::fs::read(root.join(MODEL)).expect("read the shipped model");

    let mut files: Vec<PathBuf> = std::fs::read_dir(&golden_dir)
        .expect("fixtures/golden")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut code = String::new();
    // The models the traces name, the shipped one first, then in order of first use: (path as
    // recorded, file, CRC-32).
    let mut models: Vec<(String, PathBuf, u32)> = Vec::new();
    // The shipped model first (`MODELS[0]`) when a trace uses it.
    for path in &files {
        let t: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read trace"))
            .expect("trace JSON");
        if t["model"]["path"] == MODEL {
            embed_model(&path.display().to_string(), &t["model"], &root, &mut models);
            break;
        }
    }
    let mut list = Vec::new();
    let mut trees: Vec<(String, PathBuf, u32)> = Vec::new();
    let mut heavy_end = None;
    // The shipped model's int8 ranges (input_max, hidden_max, calibration states), from its
    // first int8 trace.
    let mut shipped_int8: Option<(f32, f32, u64)> = None;
    for (n, path) in files.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(path).expect("read trace");
        let t: Value = serde_json::from_str(&text).expect("trace JSON");
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        assert_eq!(t["format"], "whitebox-trace", "{name}: not a trace");
        assert_eq!(t["version"], 1, "{name}: trace version");
        assert_eq!(
            t["slots"], 10,
            "{name}: the firmware replays 10-slot models"
        );
        // A decision-tree trace names a tree file instead of a model.
        let (model_index, tree_index) = match t.get("tree") {
            Some(tree) => (
                "None".to_string(),
                format!("Some({})", embed_tree(name, tree, &root, &mut trees)),
            ),
            None => (
                format!(
                    "Some({})",
                    embed_model(name, &t["model"], &root, &mut models)
                ),
                "None".to_string(),
            ),
        };
        let end = &t["end"];
        let steps = |k: &str| {
            let v = end[k].as_u64().unwrap_or_else(|| panic!("{name}: end.{k}"));
            u32::try_from(v).unwrap_or_else(|_| panic!("{name}: end.{k} = {v} is not 32 bits"))
        };
        let mode = named(name, "end mode", &end["mode"], End::from_name);
        // `EndMode`'s derived `Debug` is its Rust expression (`AllDone { time_cap: 10000 }`).
        let end = format!(
            "EndMode::{:?}",
            mode.mode(steps("simu_len"), steps("time_cap"))
        );
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
            let decided_by = match d.get("decided_by") {
                None => "None".to_string(),
                Some(by) => format!(
                    "Some(Leader::{:?})",
                    named(name, "decided_by", by, Leader::from_name)
                ),
            };
            let leaf = d
                .get("leaf")
                .map_or("None".to_string(), |l| format!("Some({l})"));
            writeln!(
                code,
                "    GoldenDecision {{ time: {}, action: {}, valid: {mask:#05x}, logits: [{}], \
                 decided_by: {decided_by}, leaf: {leaf} }},",
                d["time"],
                d["action"],
                logits.join(", ")
            )
            .unwrap();
        }
        writeln!(code, "];").unwrap();
        let rules = match t.get("rules") {
            Some(r) => {
                golden_rules(&mut code, n, name, r, &t["decisions"]);
                format!("Some(&RULES_{n})")
            }
            None => "None".to_string(),
        };
        let guard = match t.get("guard") {
            Some(g) => {
                golden_guard(&mut code, n, name, g);
                format!("Some(&GUARD_{n})")
            }
            None => "None".to_string(),
        };
        let int8 = match t.get("int8") {
            Some(q) => {
                let bits = |k: &str| {
                    let b = q[k].as_u64().unwrap_or_else(|| panic!("{name}: int8.{k}"));
                    u32::try_from(b).unwrap_or_else(|_| panic!("{name}: int8.{k} is not 32 bits"))
                };
                let (input, hidden) = (bits("input_max_bits"), bits("hidden_max_bits"));
                let states = q["calibration_states"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("{name}: int8.calibration_states"));
                if t["model"]["path"] == MODEL {
                    let ranges = (f32::from_bits(input), f32::from_bits(hidden), states);
                    assert!(
                        shipped_int8.is_none_or(|r| r == ranges),
                        "{name}: the shipped model's int8 traces disagree on its ranges"
                    );
                    shipped_int8 = Some(ranges);
                }
                writeln!(
                    code,
                    "static INT8_{n}: GoldenInt8 = GoldenInt8 {{ input_max_bits: {input:#010x}, \
                     hidden_max_bits: {hidden:#010x}, calibration_states: {states} }};"
                )
                .unwrap();
                format!("Some(&INT8_{n})")
            }
            None => "None".to_string(),
        };
        let s = &t["summary"];
        let f64_bits = |v: &Value| match v.as_f64() {
            Some(x) => format!("Some({:#018x})", x.to_bits()),
            None => "None".to_string(),
        };
        list.push(format!(
            "    Golden {{ name: {name:?}, model: {model_index}, tree: {tree_index}, end: {end}, jobs: JOBS_{n}, \
             decisions: DECISIONS_{n}, rules: {rules}, guard: {guard}, int8: {int8}, \
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
    writeln!(
        code,
        "/// Every model a golden trace names, the shipped one first (`Golden::model`)."
    )
    .unwrap();
    writeln!(code, "pub static MODELS: &[EmbeddedModel] = &[").unwrap();
    for (path, file, crc) in &models {
        writeln!(
            code,
            "    EmbeddedModel {{ path: {path:?}, bytes: include_bytes!({:?}), crc32: {crc:#010x} }},",
            file.display().to_string()
        )
        .unwrap();
    }
    writeln!(code, "];").unwrap();
    writeln!(
        code,
        "/// Every tree file a golden trace names (`Golden::tree`)."
    )
    .unwrap();
    // Each tree's bytes in a named static (`TREE_BYTES_{i}`), which the size script measures.
    for (i, (_, file, _)) in trees.iter().enumerate() {
        let len = std::fs::metadata(file).expect("tree file").len();
        writeln!(
            code,
            "static TREE_BYTES_{i}: [u8; {len}] = *include_bytes!({:?});",
            file.display().to_string()
        )
        .unwrap();
    }
    writeln!(code, "pub static TREES: &[EmbeddedModel] = &[").unwrap();
    for (i, (path, _, crc)) in trees.iter().enumerate() {
        writeln!(
            code,
            "    EmbeddedModel {{ path: {path:?}, bytes: &TREE_BYTES_{i}, crc32: {crc:#010x} }},"
        )
        .unwrap();
    }
    writeln!(code, "];").unwrap();
    writeln!(code, "/// Every golden trace, in file-name order.").unwrap();
    writeln!(
        code,
        "pub const GOLDEN: &[Golden] = &[\n{}\n];",
        list.join("\n")
    )
    .unwrap();
    std::fs::write(out.join("golden.rs"), code).expect("write golden.rs");
    let int8 =
        shipped_int8.expect("an int8 golden trace of the shipped model (record --policy int8:...)");
    networks(&model, int8, &out);
}

/// The core's value named by the trace's string `text` (the name the trace writer took from the
/// same core enum); its variant name is its derived `Debug`.
fn named<T>(name: &str, field: &str, text: &Value, from_name: fn(&str) -> Option<T>) -> T {
    text.as_str()
        .and_then(from_name)
        .unwrap_or_else(|| panic!("{name}: {field} {text}"))
}

/// Checks the model a trace names (`{"path", "bytes", "crc32"}`) and returns its index in
/// `models`, adding it on first use.
fn embed_model(
    name: &str,
    model: &Value,
    root: &Path,
    models: &mut Vec<(String, PathBuf, u32)>,
) -> usize {
    let path = model["path"].as_str().expect("model.path");
    let crc = model["crc32"].as_u64().expect("model.crc32");
    if let Some(i) = models.iter().position(|(p, _, _)| p == path) {
        assert_eq!(
            u64::from(models[i].2),
            crc,
            "{name}: model {path} recorded with another CRC-32 than an earlier trace"
        );
        return i;
    }
    let file = [root.join(path), PathBuf::from(path)]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name}: model {path} not found (relative to the repository)"));
    let file = file.canonicalize().expect("model path");
    println!("cargo:rerun-if-changed={}", file.display());
    let bytes = std::fs::read(&file).expect("read model");
    let stored = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().expect("crc"));
    assert!(
        model["bytes"].as_u64() == Some(bytes.len() as u64) && u64::from(stored) == crc,
        "{name}: {path} is not the model the trace was recorded with ({} bytes, CRC-32 \
         {stored:#010x}; the trace says {} bytes, CRC-32 {crc:#010x})",
        bytes.len(),
        model["bytes"]
    );
    let (header, _) = whitebox_core::model::read_header(&bytes)
        .unwrap_or_else(|e| panic!("{name}: model {path}: {e}"));
    assert!(
        header.encoding == ENCODING.code()
            && header.spec.slots == 10
            && header.hidden == HIDDEN_UNITS
            && header.output == OUTPUTS as u32,
        "{name}: model {path} is not a compact-encoder 10-slot network with {HIDDEN_UNITS} \
         hidden units, the only shape the firmware replays"
    );
    models.push((path.to_string(), file, stored));
    models.len() - 1
}

/// Checks the tree file a tree trace names (`{"path", "bytes", "crc32"}`: length, CRC-32, a
/// valid 10-slot tree) and returns its index in `trees`, adding it on first use.
fn embed_tree(
    name: &str,
    tree: &Value,
    root: &Path,
    trees: &mut Vec<(String, PathBuf, u32)>,
) -> usize {
    let path = tree["path"].as_str().expect("tree.path");
    let crc = tree["crc32"].as_u64().expect("tree.crc32");
    if let Some(i) = trees.iter().position(|(p, _, _)| p == path) {
        assert_eq!(
            u64::from(trees[i].2),
            crc,
            "{name}: tree {path} recorded with another CRC-32 than an earlier trace"
        );
        return i;
    }
    let file = root
        .join(path)
        .canonicalize()
        .unwrap_or_else(|_| panic!("{name}: tree {path} not found (relative to the repository)"));
    println!("cargo:rerun-if-changed={}", file.display());
    let bytes = std::fs::read(&file).expect("read tree");
    whitebox_core::tree::file::load::<10>(&bytes)
        .unwrap_or_else(|e| panic!("{name}: tree {path}: {e}"));
    let stored = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().expect("crc"));
    assert!(
        tree["bytes"].as_u64() == Some(bytes.len() as u64) && u64::from(stored) == crc,
        "{name}: {path} is not the tree the trace was recorded with ({} bytes, CRC-32 \
         {stored:#010x}; the trace says {} bytes, CRC-32 {crc:#010x}); re-record the tree \
         traces with scripts/golden-tree.sh",
        bytes.len(),
        tree["bytes"]
    );
    trees.push((path.to_string(), file, stored));
    trees.len() - 1
}

/// Writes `GUARD_{n}`: the guard of a guarded trace (mode, `eps` and `c` as `f32` bit patterns
/// of the stored values, the counters at the end) and every hand-over as the core's `Handover`.
fn golden_guard(code: &mut String, n: usize, name: &str, g: &Value) {
    let mode = named(name, "guard mode", &g["mode"], GuardMode::from_name);
    let f32_bits = |v: &Value| (v.as_f64().expect("guard parameter") as f32).to_bits();
    writeln!(code, "const HANDOVERS_{n}: &[Handover] = &[").unwrap();
    for h in g["handovers"].as_array().expect("guard.handovers") {
        let to = named(name, "hand-over to", &h["to"], Leader::from_name);
        let reason = named(
            name,
            "hand-over reason",
            &h["reason"],
            HandoverReason::from_name,
        );
        writeln!(
            code,
            "    Handover {{ step: {}, to: Leader::{to:?}, reason: HandoverReason::{reason:?}, \
             real_cost: {}, sjf_cost: {} }},",
            h["step"], h["real_cost"], h["sjf_cost"]
        )
        .unwrap();
    }
    writeln!(code, "];").unwrap();
    // Absent in a trace of the SJF fallback.
    let fallback = match &g["fallback"] {
        Value::Null => FallbackKind::Sjf,
        f => named(name, "guard fallback", f, FallbackKind::from_name),
    };
    let st = &g["stats"];
    writeln!(
        code,
        "static GUARD_{n}: GoldenGuard = GoldenGuard {{ mode: GuardMode::{mode:?}, eps_bits: {:#010x}, \
         c_bits: {:#010x}, fallback: FallbackKind::{fallback:?}, handovers: HANDOVERS_{n}, stats: GuardStats {{ steps: {}, \
         learned_steps: {}, renewals: {}, handovers: {}, worst_round_loss: {}, \
         overrides: {} }} }};",
        f32_bits(&g["eps"]),
        f32_bits(&g["c"]),
        st["steps"],
        st["learned_steps"],
        st["renewals"],
        st["handovers"],
        st["worst_round_loss"],
        // Absent from traces of the modes that never override.
        st["overrides"].as_u64().unwrap_or(0)
    )
    .unwrap();
}

/// Writes `RULES_{n}`: the rule set and `C` of a trace recorded with rules, and per decision
/// what the projection reported.
fn golden_rules(code: &mut String, n: usize, name: &str, rules: &Value, decisions: &Value) {
    let set = rules["set"].as_array().expect("rules.set");
    assert!(!set.is_empty() && set.len() <= 8, "{name}: 1 to 8 rules");
    let rule_list: Vec<String> = set
        .iter()
        .map(|r| {
            let kind = named(name, "rule kind", &r["kind"], RuleKind::from_name);
            let max = r["max_permille"].as_u64();
            let steps = r["wait_steps"].as_u64();
            let (p, s) = (max.unwrap_or(1000), steps.unwrap_or(0));
            let cap = u16::try_from(p)
                .ok()
                .and_then(Permille::new)
                .unwrap_or_else(|| panic!("{name}: cap {p} above 1000 permille"));
            let wait = u16::try_from(s).unwrap_or_else(|_| panic!("{name}: wait {s} steps"));
            // The parameters the core's rule of this kind has, no more and no fewer.
            let rule = kind.rule(cap, wait);
            assert_eq!(
                (rule.cap().is_some(), rule.wait_steps().is_some()),
                (max.is_some(), steps.is_some()),
                "{name}: the parameters of a {} rule",
                kind.name()
            );
            format!(
                "(RuleKind::{kind:?}.rule(permille({p}), {s}), {:#010x})",
                r["lambda_bits"].as_u64().expect("lambda_bits")
            )
        })
        .collect();
    let bits = |v: &Value, what: &str, len: usize| -> String {
        let a = v.as_array().unwrap_or_else(|| panic!("{name}: {what}"));
        assert_eq!(a.len(), len, "{name}: {what} length");
        let items: Vec<String> = a
            .iter()
            .map(|b| format!("{:#010x}", b.as_u64().expect("bits")))
            .collect();
        format!("[{}]", items.join(", "))
    };
    writeln!(code, "const PROJECTED_{n}: &[GoldenProjection] = &[").unwrap();
    for d in decisions.as_array().expect("decisions") {
        let verdicts = d["rule_verdicts"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: a decision without rule_verdicts"));
        assert_eq!(verdicts.len(), set.len(), "{name}: one verdict per rule");
        let truth: Vec<String> = verdicts
            .iter()
            .map(|v| bits(&v["truth_bits"], "truth_bits", OUTPUTS))
            .collect();
        let mut violated = [0u8; OUTPUTS];
        for (l, v) in verdicts.iter().enumerate() {
            let flags = v["violates"].as_str().expect("violates");
            assert_eq!(flags.len(), OUTPUTS, "{name}: violates length");
            for (k, b) in flags.bytes().enumerate() {
                violated[k] |= u8::from(b == b'1') << l;
            }
        }
        let changed_by = d["changed_by"]
            .as_array()
            .expect("changed_by")
            .iter()
            .fold(0u8, |m, l| m | 1 << l.as_u64().expect("rule index"));
        writeln!(
            code,
            "    GoldenProjection {{ raw_choice: {}, truth: &[{}], violated: {violated:?}, \
             probs: {}, fallback_void: {}, changed: {}, changed_by: {changed_by:#04x} }},",
            d["raw_choice"].as_u64().expect("raw_choice"),
            truth.join(", "),
            bits(&d["projected_probs_bits"], "projected_probs_bits", OUTPUTS),
            d["fallback_void"].as_bool().expect("fallback_void"),
            d["changed"].as_bool().expect("changed"),
        )
        .unwrap();
    }
    writeln!(code, "];").unwrap();
    writeln!(
        code,
        "const RULES_{n}: GoldenRules = GoldenRules {{ rules: &[{}], c_bits: {:#010x}, \
         decisions: PROJECTED_{n} }};",
        rule_list.join(", "),
        rules["c_bits"].as_u64().expect("c_bits")
    )
    .unwrap();
}

/// Writes the shipped model as a `Mlp` literal, its int8 quantization with the ranges `int8`
/// (input_max, hidden_max, calibration states) as a `QMlp::from_parts` literal, and a
/// pseudo-random image-encoder network.
fn networks(model: &[u8], int8: (f32, f32, u64), out: &Path) {
    use whitebox_core::encoding::{compact_len, Encoding};
    use whitebox_core::image::image_len;
    use whitebox_core::model;
    use whitebox_core::nn::Mlp;
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
    let (input_max, hidden_max, samples) = int8;
    let range = whitebox_core::quant::HiddenRange {
        max: hidden_max,
        samples,
    };
    let q = whitebox_core::quant::QMlp::from_range(&net, input_max, &range)
        .expect("the shipped model quantizes with its int8 trace's ranges");
    std::fs::write(out.join("compact_int8.rs"), qmlp_literal(&q.to_parts()))
        .expect("write compact_int8.rs");

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

/// A `QMlp::from_parts(QParts { .. })` expression, evaluated at compile time (an invalid part is
/// a compile error, not a run-time panic). Floats as bit patterns, multipliers through
/// `Multiplier::from_raw`.
fn qmlp_literal<const I: usize, const H: usize, const O: usize>(
    p: &whitebox_core::quant::QParts<I, H, O>,
) -> String {
    use whitebox_core::quant::Multiplier;
    let ints = |v: &[i32]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let bytes = |v: &[i8]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let rows = |r: Vec<String>| r.join(",\n");
    let f = |x: f32| format!("f32::from_bits({:#010x})", x.to_bits());
    let fs = |v: &[f32]| v.iter().map(|&x| f(x)).collect::<Vec<_>>().join(",");
    let ms = |v: &[Multiplier]| {
        v.iter()
            .map(|m| format!("multiplier({}, {})", m.q(), m.shift()))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "match QMlp::from_parts(QParts {{\nw1: [{}],\nb1: [{}],\nm1: [{}],\nw2: [{}],\nb2: [{}],\n\
         m2: [{}],\ninput_scale: {},\ninput_inv_scale: {},\nhidden_scale: {},\n\
         output_scale: {},\nw1_scale: [{}],\nw2_scale: [{}],\n}}) {{\n\
         Ok(q) => q,\nErr(_) => panic!(\"the int8 network's parts are out of range\"),\n}}\n",
        rows(p.w1.iter().map(|r| format!("[{}]", bytes(r))).collect()),
        ints(&p.b1),
        ms(&p.m1),
        rows(p.w2.iter().map(|r| format!("[{}]", bytes(r))).collect()),
        ints(&p.b2),
        ms(&p.m2),
        f(p.input_scale),
        f(p.input_inv_scale),
        f(p.hidden_scale),
        f(p.output_scale),
        fs(&p.w1_scale),
        fs(&p.w2_scale),
    )
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
