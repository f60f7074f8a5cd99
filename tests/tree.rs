//! Decision trees end to end: the shipped tree is reproducible from its documented command,
//! `tree:PATH` works as a policy with rules and the guard, and bad tree files are named.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_whitebox");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn path(rel: &str) -> String {
    root().join(rel).to_string_lossy().into_owned()
}

fn whitebox(args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(root())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

fn stdout_of(args: &[&str]) -> String {
    let out = whitebox(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?} failed: {err}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failure(args: &[&str]) -> String {
    let out = whitebox(args);
    assert!(!out.status.success(), "{args:?} unexpectedly succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wbx-tree-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

#[test]
fn shipped_tree_is_reproducible_from_its_command() {
    let dir = temp_dir("repro");
    let out = dir.join("default.tree");
    let out_s = out.to_string_lossy().into_owned();
    // The command in docs/tree.md, run from the repository root.
    let report = stdout_of(&[
        "tree",
        "extract",
        "--model",
        "fixtures/models/default.model",
        "--out",
        &out_s,
    ]);
    let report: Value = serde_json::from_str(&report).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        report["leaves"].as_u64().is_some_and(|l| l <= 64),
        "{report}"
    );
    let share = report["heldout"]["share"].as_f64().unwrap_or(-1.0);
    assert!((0.0..=1.0).contains(&share), "{report}");
    let shipped = std::fs::read(root().join("fixtures/models/default.tree")).expect("shipped");
    assert_eq!(std::fs::read(&out).expect("extracted"), shipped);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn tree_show_prints_every_node_with_feature_names() {
    let text = stdout_of(&["tree", "show", &path("fixtures/models/default.tree")]);
    let first = text.lines().next().unwrap_or("");
    assert!(
        first.contains("10 job slots") && first.contains("leaves"),
        "{first}"
    );
    let leaves = text
        .lines()
        .filter(|l| l.trim_start().starts_with("-> "))
        .count();
    let splits = text
        .lines()
        .filter(|l| l.trim_start().starts_with("if "))
        .count();
    assert_eq!(leaves, splits + 1, "{text}");
    assert!(leaves <= 64 && text.contains(" <= "), "{text}");
}

#[test]
fn tree_policy_runs_with_rules_and_guard_and_bad_files_are_named() {
    let tree = format!("tree:{}", path("fixtures/models/default.tree"));
    let jobs = path("fixtures/reference/deeprm/cases/rate0.7_seed1_nw10.json");
    let base = [
        "simulate", "--jobs", &jobs, "--policy", &tree, "--slots", "10", "--end", "all-done",
        "--format", "json",
    ];
    let plain: Value = serde_json::from_str(&stdout_of(&base)).expect("json");
    let mut guarded = base.to_vec();
    guarded.extend(["--rule", "util<=0.8", "--guard", "renewal"]);
    let g: Value = serde_json::from_str(&stdout_of(&guarded)).expect("json");
    assert!(plain.is_object() && g.is_object());
    let e = failure(&[
        "simulate", "--jobs", &jobs, "--policy", &tree, "--slots", "5", "--end", "all-done",
    ]);
    assert!(e.contains("10 job slots"), "{e}");

    let dir = temp_dir("bad");
    let bytes = std::fs::read(root().join("fixtures/models/default.tree")).expect("tree");
    let mut flipped = bytes.clone();
    flipped[20] ^= 1;
    let bad = dir.join("flipped.tree");
    std::fs::write(&bad, &flipped).expect("write");
    let bad_policy = format!("tree:{}", bad.display());
    let e = failure(&[
        "simulate",
        "--jobs",
        &jobs,
        "--policy",
        &bad_policy,
        "--slots",
        "10",
        "--end",
        "all-done",
    ]);
    assert!(e.contains("flipped.tree") && e.contains("CRC-32"), "{e}");
    let short = dir.join("short.tree");
    std::fs::write(&short, &bytes[..bytes.len() - 1]).expect("write");
    let e = failure(&["tree", "show", &short.to_string_lossy()]);
    assert!(
        e.contains("short.tree") && e.contains(&format!("expected {}", bytes.len())),
        "{e}"
    );
    // A model file where a tree is expected, and the other way round, is named as such.
    let e = failure(&["tree", "show", &path("fixtures/models/default.model")]);
    assert!(
        e.contains("this is a model file") && e.contains("model:PATH"),
        "{e}"
    );
    let as_model = format!("model:{}", path("fixtures/models/default.tree"));
    let e = failure(&[
        "simulate", "--jobs", &jobs, "--policy", &as_model, "--slots", "10", "--end", "all-done",
    ]);
    assert!(
        e.contains("decision-tree file") && e.contains("tree:PATH"),
        "{e}"
    );
    // A drawing into a directory that does not exist names it.
    let missing = dir.join("missing");
    let svg = missing.join("t.svg");
    let e = failure(&[
        "tree",
        "show",
        &path("fixtures/models/default.tree"),
        "--svg",
        &svg.to_string_lossy(),
    ]);
    let want = format!("directory {} does not exist", missing.display());
    assert!(e.contains(&want), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn tree_eval_pairs_the_tree_with_its_network_and_sjf() {
    let report = stdout_of(&[
        "tree",
        "eval",
        "--model",
        &path("fixtures/models/default.model"),
        "--tree",
        &path("fixtures/models/default.tree"),
        "--jobsets",
        "5",
    ]);
    let r: Value = serde_json::from_str(&report).expect("json");
    let mean = |k: &str| r[k]["mean"].as_f64().unwrap_or(f64::NAN);
    let diff = mean("tree_slowdown") - mean("network");
    assert!((mean("tree_minus_network") - diff).abs() < 1e-9, "{r}");
    assert_eq!(r["seed"], 7000);
}

#[test]
fn tree_check_decides_every_leaf_and_tree_show_draws_every_node() {
    let t = path("fixtures/models/default.tree");
    let report = stdout_of(&[
        "tree",
        "check",
        "--tree",
        &t,
        "--rule",
        "util<=0.8",
        "--rule",
        "work-conserving",
        "--json",
    ]);
    let r: Value = serde_json::from_str(&report).expect("json");
    let leaves = r["leaves"].as_array().expect("leaves");
    assert!(!leaves.is_empty() && leaves.len() <= 64);
    let names = [
        "no-idle",
        "verify:starts-within:1",
        "verify:shorter-first",
        "util<=0.8",
    ];
    for (i, name) in names.iter().enumerate() {
        assert_eq!(r["properties"][i], *name, "{r}");
    }
    // The work-conserving rule takes the cap given beside it.
    assert_eq!(r["properties"][4], "work-conserving(util<=0.8)");
    for tally in r["tally"].as_array().expect("tally") {
        let n = |k: &str| tally[k].as_u64().unwrap_or(0) as usize;
        assert_eq!(
            n("holds") + n("violated") + n("unknown"),
            leaves.len(),
            "{tally}"
        );
    }
    for leaf in leaves {
        let path = leaf["path"].as_str().unwrap_or("");
        assert!(path.contains(" -> "), "{path}");
        for v in leaf["verdicts"].as_array().expect("verdicts") {
            match v["verdict"].as_str() {
                Some("violated") => assert!(v["witness"].is_string(), "{v}"),
                Some("unknown") => assert!(v["why"].is_string(), "{v}"),
                Some("holds") => assert!(v.get("witness").is_none(), "{v}"),
                other => panic!("verdict {other:?}"),
            }
        }
        // A void leaf never starts a job, so it cannot break the cap.
        if leaf["action"] == "void" {
            assert_eq!(leaf["verdicts"][3]["verdict"], "holds", "{leaf}");
        }
    }
    let e = failure(&["tree", "check", "--tree", &t, "--rule", "util<=2"]);
    assert!(e.contains("--rule") && e.contains("util<=2"), "{e}");

    let dir = temp_dir("svg");
    let svg = dir.join("tree.svg");
    let text = stdout_of(&["tree", "show", &t, "--svg", &svg.to_string_lossy()]);
    let nodes: usize = text
        .split(" nodes")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("node count in the first line");
    let drawn = std::fs::read_to_string(&svg).expect("svg");
    assert!(drawn.trim_end().ends_with("</svg>"));
    assert_eq!(drawn.matches("<rect").count(), nodes);
    std::fs::remove_dir_all(&dir).ok();
}
