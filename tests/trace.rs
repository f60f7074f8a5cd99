//! Decision traces end to end: every golden trace in `fixtures/golden/` replays identically,
//! and a tampered logit bit is reported as the first divergence with its decision and field.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_whitebox");

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/golden")
}

fn goldens() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap_or_else(|e| panic!("fixtures/golden: {e}"))
        .map(|e| e.unwrap_or_else(|e| panic!("{e}")).path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn whitebox(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_golden_trace_replays_identically() {
    let files = goldens();
    assert!(
        files.len() >= 3,
        "expected at least 3 golden traces, found {files:?}"
    );
    let args: Vec<&str> = std::iter::once("replay")
        .chain(files.iter().map(|p| p.to_str().unwrap_or_default()))
        .collect();
    let out = whitebox(&args);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert_eq!(
        stdout.matches(": identical").count(),
        files.len(),
        "{stdout}"
    );
}

#[test]
fn record_reproduces_a_golden_trace_byte_for_byte() {
    let golden = golden_dir().join("default-heavy.json");
    let expected = std::fs::read_to_string(&golden).unwrap_or_else(|e| panic!("{e}"));
    let value: serde_json::Value =
        serde_json::from_str(&expected).unwrap_or_else(|e| panic!("{e}"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out =
        std::env::temp_dir().join(format!("whitebox-trace-{}-heavy.json", std::process::id()));
    let model = format!(
        "model:{}",
        value["model"]["path"].as_str().unwrap_or_default()
    );
    let source = value["source"].as_str().unwrap_or_default().to_string();
    let o = Command::new(BIN)
        .current_dir(&root)
        .args(["record", "--policy", &model, "--jobs", &source, "--out"])
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let got = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_file(&out).ok();
    assert_eq!(got, expected);
}

#[test]
fn a_tampered_logit_bit_is_the_first_divergence() {
    let golden = golden_dir().join("default-light.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&golden).unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|e| panic!("{e}"));
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(value["model"]["path"].as_str().unwrap_or_default());
    let model = model.canonicalize().unwrap_or(model);
    let bits = &mut value["decisions"][3]["logits_bits"][2];
    let old = bits
        .as_u64()
        .unwrap_or_else(|| panic!("no logit bits in {golden:?}"));
    *bits = serde_json::json!(old ^ 1);
    let copy = std::env::temp_dir().join(format!(
        "whitebox-trace-{}-tampered.json",
        std::process::id()
    ));
    std::fs::write(&copy, value.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let out = whitebox(&[
        "replay",
        copy.to_str().unwrap_or_default(),
        "--model",
        model.to_str().unwrap_or_default(),
    ]);
    std::fs::remove_file(&copy).ok();
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    let expected = format!(
        "first divergence at decision 3, field `logits_bits[2]`: expected {:#010x} ({:?}), got {:#010x} ({:?})",
        old ^ 1,
        f32::from_bits((old ^ 1) as u32),
        old,
        f32::from_bits(old as u32)
    );
    assert!(stdout.contains(&expected), "{stdout}\nwanted: {expected}");
    assert!(
        text(&out.stderr).contains("1 of 1 traces diverged"),
        "{}",
        text(&out.stderr)
    );
}
