//! `whitebox report --quick` end to end: the files it writes, and its numbers against the
//! commands each table names, run on their own.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_whitebox");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `whitebox` from the repository root.
fn whitebox(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

fn stdout_of(args: &[&str]) -> String {
    let out = whitebox(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("whitebox-report-{}-{name}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON ({e})", path.display()))
}

/// One quick report per test process, shared by the tests.
fn quick() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = temp("quick");
        let out = stdout_of(&[
            "report",
            "--quick",
            "--out",
            dir.to_str().unwrap_or_default(),
        ]);
        assert!(out.contains("index.html"), "does not say where: {out}");
        dir
    })
}

#[test]
fn a_quick_report_writes_the_page_the_figures_and_json_that_parses() {
    let dir = quick();
    let index = read_json(&dir.join("report.json"));
    let files: Vec<&str> = index["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for f in [
        "index.html",
        "report.md",
        "demo.json",
        "fixtures.json",
        "nasa.json",
        "tree.json",
        "nasa/import.json",
        "slowdown_by_workload.svg",
        "nasa_slowdown.svg",
    ] {
        assert!(files.contains(&f), "{f} not listed: {files:?}");
        assert!(dir.join(f).is_file(), "{f} not written");
    }
    for f in &files {
        if f.ends_with(".json") {
            read_json(&dir.join(f));
        }
    }
    // Every table names its command, seeds and an existing JSON file.
    let tables = index["tables"].as_array().expect("tables");
    assert_eq!(tables.len(), 6);
    for t in tables {
        let json = t["json"].as_str().unwrap_or_default();
        assert!(dir.join(json).is_file(), "{t}");
        assert!(
            t["command"]
                .as_str()
                .is_some_and(|c| c.starts_with("whitebox ")),
            "{t}"
        );
        assert!(!t["seeds"].as_str().unwrap_or_default().is_empty(), "{t}");
    }
    // Every figure the page shows exists.
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap_or_default();
    let mut shown = 0;
    for part in html.split("<img src=\"").skip(1) {
        let file = part.split('"').next().unwrap_or_default();
        assert!(dir.join(file).is_file(), "{file} missing");
        shown += 1;
    }
    assert_eq!(shown, 7, "6 demo figures and the NASA one");
    assert!(!html.contains("<script"));
}

#[test]
fn the_demo_tables_are_what_the_demo_prints() {
    let dir = quick();
    let alone = temp("demo");
    stdout_of(&[
        "demo",
        "--jobsets",
        "10",
        "--out",
        alone.to_str().unwrap_or_default(),
    ]);
    let (a, b) = (
        read_json(&dir.join("demo.json")),
        read_json(&alone.join("demo.json")),
    );
    for key in ["table", "dnn_vs_sjf", "rules_vs_sjf_rules", "explanation"] {
        assert_eq!(a[key], b[key], "{key} differs");
    }
    // The rules table pairs dnn+rules with sjf+rules on all four workloads.
    assert_eq!(a["rules_vs_sjf_rules"].as_array().map(Vec::len), Some(4));
    std::fs::remove_dir_all(&alone).ok();
}

#[test]
fn the_tree_tables_are_what_tree_eval_and_tree_fidelity_print() {
    let tree = read_json(&quick().join("tree.json"));
    let model = "fixtures/models/default.model";
    let t = "fixtures/models/default.tree";
    let eval: Value = serde_json::from_str(&stdout_of(&[
        "tree",
        "eval",
        "--model",
        model,
        "--tree",
        t,
        "--jobsets",
        "10",
        "--seed",
        "7000",
    ]))
    .expect("tree eval JSON");
    assert_eq!(tree["closed_loop"], eval);
    let fidelity: Value = serde_json::from_str(&stdout_of(&[
        "tree",
        "fidelity",
        "--model",
        model,
        "--tree",
        t,
        "--jobsets",
        "10",
        "--seed",
        "1",
    ]))
    .expect("tree fidelity JSON");
    assert_eq!(tree["fidelity"], fidelity);
    // The 6 shipped fixtures' 682 decisions of the default model, as docs/tree.md reports
    // from `tree extract`.
    assert_eq!(fidelity["adversarial"]["decisions"], 682);
}

/// Mean slowdown of `simulate --format json`.
fn simulated(policy: &str, jobs: &str, flags: &[&str]) -> f64 {
    let mut args = vec![
        "simulate", "--jobs", jobs, "--slots", "10", "--end", "all-done", "--format", "json",
        "--policy", policy,
    ];
    args.extend_from_slice(flags);
    let v: Value = serde_json::from_str(&stdout_of(&args)).expect("simulate JSON");
    v["summary"]["mean_slowdown"]
        .as_f64()
        .expect("a mean slowdown")
}

#[test]
fn the_fixture_ratios_are_simulate_s() {
    let f = read_json(&quick().join("fixtures.json"));
    let variants: Vec<&str> = f["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let col = |name: &str| variants.iter().position(|v| *v == name).expect(name);
    let row = f["fixtures"]
        .as_array()
        .and_then(|r| {
            r.iter().find(|x| {
                x["file"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("distilled-deeprm-gap-seed1-1.json"))
            })
        })
        .expect("the fixture");
    let jobs = "fixtures/adversarial/distilled-deeprm-gap-seed1-1.json";
    let policy = "model:fixtures/models/deeprm-distilled.model";
    let sjf = simulated("sjf", jobs, &[]);
    for (name, flags) in [
        ("unguarded", &[][..]),
        ("lookahead guard", &["--guard", "lookahead"][..]),
        ("shorter-first", &["--rule", "shorter-first"][..]),
    ] {
        let expected = simulated(policy, jobs, flags) / sjf;
        assert_eq!(row["ratios"][col(name)].as_f64(), Some(expected), "{name}");
    }
    // docs/results.md ("Lookahead mode and the shorter-first rule"), measured with simulate:
    // worst 9.68 unguarded, 4.81 under the lookahead guard, 1.34 under shorter-first.
    let worst = |name: &str| f["worst"][col(name)].as_f64().unwrap_or(f64::NAN);
    assert!(
        (worst("unguarded") - 9.68).abs() < 0.005,
        "{}",
        worst("unguarded")
    );
    assert!((worst("lookahead guard") - 4.81).abs() < 0.005);
    assert!((worst("shorter-first") - 1.34).abs() < 0.005);
}

#[test]
fn the_nasa_table_is_what_import_and_compare_give() {
    let nasa = read_json(&quick().join("nasa.json"));
    let dir = temp("nasa");
    let d = dir.to_str().unwrap_or_default();
    stdout_of(&[
        "import",
        "swf",
        "fixtures/traces/NASA-iPSC-1993-3.1-cln.swf",
        "--out",
        d,
    ]);
    let windows: Vec<String> = (0..3).map(|k| format!("{d}/window-{k:04}.json")).collect();
    let mut args = vec![
        "compare",
        "--slots",
        "10",
        "--policies",
        "sjf,model=model:fixtures/models/default.model",
        "--format",
        "json",
        "--guard",
        "lookahead",
        "--jobs",
    ];
    args.extend(windows.iter().map(String::as_str));
    let c: Value = serde_json::from_str(&stdout_of(&args)).expect("compare JSON");
    assert_eq!(nasa["compares"][0]["rows"], c["rows"]);
    assert_eq!(nasa["import"]["windows"].as_array().map(Vec::len), Some(3));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_missing_input_names_its_flag() {
    let dir = temp("missing");
    let out = whitebox(&[
        "report",
        "--quick",
        "--out",
        dir.to_str().unwrap_or_default(),
        "--trace",
        "/nonexistent.swf",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--trace /nonexistent.swf") && err.contains("not found"),
        "{err}"
    );
}

#[test]
fn a_report_from_outside_the_repository_uses_the_built_in_files_and_is_the_same() {
    let cwd = temp("elsewhere");
    std::fs::create_dir_all(&cwd).unwrap();
    let out = Command::new(BIN)
        .args(["report", "--quick", "--out", "r"])
        .current_dir(&cwd)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // Every input came from the binary, and said so.
    for file in [
        "default.model",
        "default.tree",
        "NASA-iPSC-1993-3.1-cln.swf",
    ] {
        assert!(err.contains(file), "no note for {file}: {err}");
    }
    for table in ["demo.json", "fixtures.json", "nasa.json", "tree.json"] {
        assert_eq!(
            file_names(read_json(&cwd.join("r").join(table))),
            file_names(read_json(&quick().join(table))),
            "{table}"
        );
    }
}

/// `v` with every path reduced to its file name: the output directories differ.
fn file_names(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.rsplit('/').next().unwrap_or_default().to_string()),
        Value::Array(a) => Value::Array(a.into_iter().map(file_names).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, file_names(v))).collect()),
        other => other,
    }
}
