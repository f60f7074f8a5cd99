//! The `whitebox` binary end to end: golden values from DeepRM's own schedules, input errors
//! that name what is wrong, and evaluation output that does not depend on the thread count.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_whitebox");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/reference/deeprm/cases")
        .join(name)
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

/// Runs a command that must succeed and returns its stdout.
fn stdout_of(args: &[&str]) -> String {
    let out = whitebox(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn json(args: &[&str]) -> Value {
    let s = stdout_of(args);
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {s}"))
}

/// Runs a command that must fail without printing a report; returns its stderr.
fn failure(args: &[&str]) -> String {
    let out = whitebox(args);
    assert!(!out.status.success(), "{args:?} unexpectedly succeeded");
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed: {}",
        text(&out.stdout)
    );
    text(&out.stderr)
}

/// A job file in the temp directory, unique per test process and name.
fn temp_jobs(name: &str, contents: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("whitebox-cli-{}-{name}.json", std::process::id()));
    std::fs::write(&path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// DeepRM sums floats in its own order; whitebox sums exactly, so agree to rounding only.
fn assert_close(got: &Value, want: &Value, what: &str) {
    let (g, w) = (got.as_f64(), want.as_f64());
    assert!(
        matches!((g, w), (Some(g), Some(w)) if (g - w).abs() < 1e-9),
        "{what}: {got} vs {want}"
    );
}

fn reference(case: &str, end: &str, policy: &str) -> Value {
    let text = std::fs::read_to_string(fixture(case)).expect("fixture readable");
    let case: Value = serde_json::from_str(&text).expect("fixture JSON");
    case["reference"][end][policy].clone()
}

#[test]
fn simulate_sjf_reproduces_deeprm_reference() {
    let case = "rate0.5_seed9.json";
    let reference = reference(case, "all_done", "SJF");
    // Pinned from the fixture (DeepRM's own output) so a changed fixture is noticed.
    assert_eq!(reference["mean_sd_true"].as_f64(), Some(2.7881944444444446));
    let path = fixture(case);
    let path = path.to_str().expect("utf-8 path");
    let r = json(&[
        "simulate", "--jobs", path, "--policy", "sjf", "--slots", "5", "--end", "all-done",
    ]);
    assert_close(
        &r["summary"]["mean_slowdown"],
        &reference["mean_sd_true"],
        "mean slowdown",
    );
    assert_close(
        &r["summary"]["mean_slowdown_completed"],
        &reference["mean_sd_completed_by_end"],
        "mean slowdown of completed jobs",
    );
    assert_eq!(r["summary"]["final_time"], reference["final_time"]);
    assert_eq!(r["summary"]["decisions"], reference["steps"]);
    assert_eq!(r["actions"], reference["actions"]);
    assert_eq!(r["summary"]["allocated"], reference["n_allocated"]);
    assert_close(
        &r["summary"]["total_reward"],
        &reference["total_reward_without_stale_jobs"],
        "total reward",
    );
    // Two jobs SJF had to delay: job 4 waits 13 -> 31, job 23 waits 49 -> 66.
    assert_eq!(
        (
            r["jobs"][4]["start"].as_u64(),
            r["jobs"][4]["finish"].as_u64()
        ),
        (Some(31), Some(34))
    );
    assert_eq!(
        (
            r["jobs"][23]["start"].as_u64(),
            r["jobs"][23]["finish"].as_u64()
        ),
        (Some(66), Some(69))
    );
    let jobs = r["jobs"].as_array().expect("jobs array");
    let schedule = reference["schedule"].as_array().expect("schedule");
    assert_eq!(jobs.len(), schedule.len());
    for (i, (got, want)) in jobs.iter().zip(schedule).enumerate() {
        assert_eq!(got["start"], want["start"], "job {i} start");
        assert_eq!(got["finish"], want["finish"], "job {i} finish");
        assert_eq!(got["arrival"], want["arrival"], "job {i} arrival");
        assert_eq!(got["status"], "completed", "job {i}");
    }
    assert_eq!(r["policy"], "sjf");
    assert_eq!(r["slots"], 5);
    assert_eq!(r["end"], "all-done");
    assert_eq!(r["simu_len"], 50);
    assert_eq!(r["summary"]["truncated"], false);
    let utilization = r["utilization"].as_array().expect("utilization");
    assert_eq!(
        utilization.len() as u64,
        r["summary"]["final_time"].as_u64().unwrap_or(0)
    );
    // Step 1 runs only job 0, demand [6, 1] of 10 units each.
    assert_eq!(utilization[1], serde_json::json!([0.6, 0.1]));
}

#[test]
fn simulate_no_new_job_statuses_match_reference_counts() {
    let case = "rate0.5_seed9.json";
    let reference = reference(case, "no_new_job", "Packer");
    let path = fixture(case);
    let r = json(&[
        "simulate",
        "--jobs",
        path.to_str().expect("utf-8 path"),
        "--policy",
        "packer",
        "--slots",
        "5",
        "--end",
        "no-new-job",
    ]);
    assert_eq!(r["summary"]["final_time"], reference["final_time"]);
    assert_eq!(r["summary"]["allocated"], reference["n_allocated"]);
    assert_eq!(r["summary"]["completed"], reference["n_completed_by_end"]);
    assert_close(
        &r["summary"]["mean_slowdown"],
        &reference["mean_sd_true"],
        "mean slowdown",
    );
    assert_close(
        &r["summary"]["mean_slowdown_completed"],
        &reference["mean_sd_completed_by_end"],
        "mean slowdown of completed jobs",
    );
    let jobs = r["jobs"].as_array().expect("jobs array");
    let count = |s: &str| jobs.iter().filter(|j| j["status"] == s).count() as u64;
    for (status, key) in [
        ("completed", "completed"),
        ("running", "running"),
        ("waiting", "waiting"),
        ("not_arrived", "not_arrived"),
    ] {
        assert_eq!(Some(count(status)), r["summary"][key].as_u64(), "{status}");
    }
    assert_eq!(count("running"), 1);
    assert_eq!(count("waiting"), 10);
    for j in jobs.iter().filter(|j| j["status"] == "waiting") {
        assert!(j["start"].is_null() && j["finish"].is_null());
    }
}

#[test]
fn simulate_table_lists_jobs_and_summary() {
    let path = fixture("rate0.5_seed9.json");
    let t = stdout_of(&[
        "simulate",
        "--jobs",
        path.to_str().expect("utf-8 path"),
        "--policy",
        "tetris",
        "--slots",
        "10",
        "--end",
        "all-done",
        "--format",
        "table",
    ]);
    assert!(t.starts_with("job  arrival"), "{t}");
    assert!(
        t.contains("mean slowdown") && t.contains("24 completed"),
        "{t}"
    );
}

#[test]
fn bad_job_files_name_the_job_field_value_and_limit() {
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "len0",
            r#"{"jobs":[{"arrival":1,"len":1,"res":[1,1]},{"arrival":1,"len":0,"res":[1,1]}]}"#,
            &["job 1", "`len` = 0"],
        ),
        (
            "demand11",
            r#"{"jobs":[{"arrival":1,"len":2,"res":[11,1]}]}"#,
            &["job 0", "`res[0]` = 11", "10 units"],
        ),
        (
            "rescount",
            r#"{"jobs":[{"arrival":1,"len":2,"res":[1,1,1]}]}"#,
            &["job 0", "`res`", "3 entries", "2 resources"],
        ),
        (
            "order",
            r#"{"jobs":[{"arrival":5,"len":2,"res":[1,1]},{"arrival":4,"len":2,"res":[1,1]}]}"#,
            &["job 1", "`arrival` = 4", "5"],
        ),
        (
            "malformed",
            r#"{"jobs": [ {"arrival": 1, "#,
            &["malformed JSON"],
        ),
    ];
    for (name, contents, needles) in cases {
        let path = temp_jobs(name, contents);
        let p = path.to_str().expect("utf-8 path");
        let err = failure(&[
            "simulate", "--jobs", p, "--policy", "sjf", "--slots", "5", "--end", "all-done",
        ]);
        let _ = std::fs::remove_file(&path);
        assert!(err.contains(p), "{name}: file not named: {err}");
        for needle in needles {
            assert!(
                err.contains(needle),
                "{name}: `{needle}` missing from: {err}"
            );
        }
    }
    let err = failure(&[
        "simulate",
        "--jobs",
        "/nonexistent/jobs.json",
        "--policy",
        "sjf",
        "--slots",
        "5",
        "--end",
        "all-done",
    ]);
    assert!(
        err.contains("cannot read job file /nonexistent/jobs.json"),
        "{err}"
    );
}

#[test]
fn bad_options_name_the_value_and_the_allowed_ones() {
    let path = fixture("rate0.5_seed9.json");
    let p = path.to_str().expect("utf-8 path");
    let sim = |extra: &[&str], slots: &str, policy: &str| {
        let mut args = vec![
            "simulate", "--jobs", p, "--policy", policy, "--slots", slots, "--end", "all-done",
        ];
        args.extend_from_slice(extra);
        failure(&args)
    };
    let err = sim(&[], "7", "sjf");
    assert!(err.contains("'7'") && err.contains("5, 10"), "{err}");
    let err = sim(&[], "5", "fifo");
    assert!(
        err.contains("`fifo`") && err.contains("sjf, packer, tetris, random"),
        "{err}"
    );
    let err = sim(&[], "5", "model:/nonexistent/policy.model");
    assert!(
        err.contains("cannot read model /nonexistent/policy.model"),
        "{err}"
    );
    let err = sim(&["--tetris-knob", "1.5"], "5", "tetris");
    assert!(err.contains("1.5") && err.contains("[0, 1]"), "{err}");
    let err = sim(&["--format", "csv"], "5", "sjf");
    assert!(
        err.contains("'csv'") && err.contains("json, table"),
        "{err}"
    );

    let err = failure(&["eval", "--rate", "0.3,1.2", "--jobsets", "1"]);
    assert!(
        err.contains("--rate") && err.contains("1.2") && err.contains("[0, 1]"),
        "{err}"
    );
    let err = failure(&["eval", "--workload", "deeprm,huge", "--jobsets", "1"]);
    assert!(err.contains("`huge`") && err.contains("long-jobs"), "{err}");
    let err = failure(&["eval", "--policies", "sjf,lifo", "--jobsets", "1"]);
    assert!(err.contains("`lifo`") && err.contains("packer"), "{err}");
    let err = failure(&["eval", "--jobsets", "0"]);
    assert!(err.contains("'0'") && err.contains("--jobsets"), "{err}");
}

const EVAL: [&str; 11] = [
    "eval",
    "--workload",
    "deeprm,bursty",
    "--rate",
    "0.3,0.7",
    "--jobsets",
    "6",
    "--slots",
    "5",
    "--format",
    "json",
];

fn eval_with_threads(threads: &str) -> Vec<u8> {
    let out = Command::new(BIN)
        .args(EVAL)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .expect("run whitebox");
    assert!(out.status.success(), "{}", text(&out.stderr));
    out.stdout
}

#[test]
fn eval_json_has_rows_with_ordered_intervals_independent_of_threads() {
    let one = eval_with_threads("1");
    let two = eval_with_threads("2");
    assert!(one == two, "output depends on the thread count");
    let r: Value = serde_json::from_slice(&one).expect("JSON");
    let rows = r["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2 * 2 * 4);
    assert_eq!(rows[0]["workload"], "deeprm");
    assert_eq!(rows[0]["rate"], 0.3);
    assert_eq!(rows[0]["policy"], "sjf");
    assert_eq!(rows[3]["policy"], "random");
    for row in rows {
        assert_eq!(row["jobsets"], 6, "{row}");
        for (mean, low, high) in [
            ("mean_slowdown", "ci95_low", "ci95_high"),
            (
                "mean_completion_time",
                "completion_ci95_low",
                "completion_ci95_high",
            ),
        ] {
            let get = |k: &str| row[k].as_f64().unwrap_or_else(|| panic!("{k} in {row}"));
            assert!(get(low) <= get(mean) && get(mean) <= get(high), "{row}");
        }
        assert!(row["load"].as_f64().is_some_and(|l| l > 0.0), "{row}");
        assert!(
            row["truncated"].is_u64() && row["rejected"].is_u64(),
            "{row}"
        );
    }
    // DeepRM's expected load formula, 1.845 * rate.
    let load = rows[0]["load"].as_f64().unwrap_or(0.0);
    assert!((load - 1.845 * 0.3).abs() < 1e-12, "{load}");
}

#[test]
fn eval_csv_and_table_have_one_line_per_row() {
    let base = [
        "eval",
        "--rate",
        "0.5",
        "--jobsets",
        "2",
        "--policies",
        "sjf,packer",
    ];
    let csv = stdout_of(&[&base[..], &["--format", "csv"]].concat());
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[0].starts_with("policy,workload,rate,load,jobsets"),
        "{csv}"
    );
    assert!(lines[1].starts_with("sjf,deeprm,0.5,"), "{csv}");
    // Every line has the header's columns; the reference row has no paired difference, and
    // Packer's row names SJF as its reference with a verdict.
    let columns = lines[0].split(',').count();
    assert!(
        lines.iter().all(|l| l.split(',').count() == columns),
        "{csv}"
    );
    assert!(lines[0].ends_with(",reference,diff_vs_reference,diff_ci95_low,diff_ci95_high,verdict"));
    assert!(lines[1].ends_with(",,,,,"), "{csv}");
    let packer: Vec<&str> = lines[2].split(',').collect();
    assert_eq!(packer[columns - 5], "sjf", "{csv}");
    assert!(
        ["better", "worse", "tie"].contains(&packer[columns - 1]),
        "{csv}"
    );
    let table = stdout_of(&base);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.contains("slowdown mean [95% CI]"), "{table}");
}

#[test]
fn eval_and_compare_tables_say_what_each_model_was_trained_on() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models");
    let rules = format!("rules=model:{}", utf8(&models.join("rules.model")));
    let v1 = format!("old=model:{}", utf8(&models.join("deeprm.model")));
    let policies = format!("sjf,{rules},{v1}");
    // The guard adds `rules+guard` and `old+guard`, which name the same files: listed once.
    let table = stdout_of(&[
        "eval",
        "--jobsets",
        "2",
        "--slots",
        "10",
        "--policies",
        &policies,
        "--guard",
        "renewal",
    ]);
    let said = trained_lines(&table);
    assert_eq!(said.len(), 2, "{table}");
    assert!(
        said[0].starts_with("rules: ")
            && said[0].contains(
                "trained on deeprm at rate 0.7, under util<=0.8, work-conserving(util<=0.8), \
                 shorter-first(util<=0.8) (shielded)"
            ),
        "{table}"
    );
    assert!(
        said[1].starts_with("old: ")
            && said[1].ends_with("trained on deeprm at rate 0.7 (a version-1 file: only the headline cell is recorded)"),
        "{table}"
    );
    // JSON stays one object: the lines are for people.
    let json_out = stdout_of(&[
        "eval",
        "--jobsets",
        "1",
        "--slots",
        "10",
        "--policies",
        &policies,
        "--format",
        "json",
    ]);
    assert!(!json_out.contains(", trained on "), "{json_out}");

    let jobs = temp_jobs(
        "provenance.json",
        r#"{"jobs":[{"arrival":0,"len":2,"res":[3,4]}]}"#,
    );
    let table = stdout_of(&[
        "compare",
        "--slots",
        "10",
        "--policies",
        &format!("sjf,{rules}"),
        "--jobs",
        utf8(&jobs),
    ]);
    let said = trained_lines(&table);
    assert_eq!(said.len(), 1, "{table}");
    assert!(
        said[0].starts_with("rules: ") && said[0].contains("(shielded)"),
        "{table}"
    );
}

/// The provenance lines under an eval or compare table.
fn trained_lines(table: &str) -> Vec<&str> {
    table
        .lines()
        .filter(|l| l.contains(", trained on "))
        .collect()
}

/// A fresh directory in the temp dir, unique per test process and name.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("whitebox-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Trains a tiny model (a second or so) into `dir` and returns its path.
fn tiny_model(dir: &Path, slots: &str, encoding: &str) -> PathBuf {
    let model = dir.join(format!("tiny-{slots}-{encoding}.model"));
    let out = whitebox(&[
        "train",
        "--rate",
        "0.5",
        "--slots",
        slots,
        "--encoding",
        encoding,
        "--iterations",
        "2",
        "--jobsets",
        "2",
        "--trajectories",
        "2",
        "--imitation-epochs",
        "1",
        "--imitation-rounds",
        "1",
        "--val-jobsets",
        "2",
        "--out",
        utf8(&model),
    ]);
    assert!(out.status.success(), "train failed: {}", text(&out.stderr));
    model
}

/// Asserts that `path` exists and starts like a PNG or SVG file, by its extension.
fn assert_image(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ok = match path.extension().and_then(|e| e.to_str()) {
        Some("png") => bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000,
        Some("svg") => bytes.starts_with(b"<svg") && bytes.len() > 1000,
        _ => false,
    };
    assert!(ok, "{} is not a plausible image", path.display());
}

fn f64_of(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn demo_json(model: &Path, out: &Path, threads: &str) -> (String, String) {
    let run = Command::new(BIN)
        .args(["demo", "--model", utf8(model), "--out", utf8(out)])
        .args(["--jobsets", "3", "--student", utf8(model)])
        .args(["--rules-model", utf8(model)])
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .expect("run whitebox");
    assert!(run.status.success(), "demo failed: {}", text(&run.stderr));
    let json = std::fs::read_to_string(out.join("demo.json")).expect("demo.json written");
    (text(&run.stdout), json)
}

#[test]
fn demo_compares_a_learned_model_with_the_baselines_on_every_workload() {
    let dir = temp_dir("demo");
    let model = tiny_model(&dir, "5", "compact");
    let out = dir.join("out");
    let (table, json) = demo_json(&model, &out, "2");
    assert!(
        table.contains("deeprm (training)") && table.contains("dnn - sjf"),
        "{table}"
    );
    // 3 header lines, table header, 4 workloads x 12 policies (dnn, 4 baselines, dnn+guard,
    // the student, and dnn, guarded dnn, student, rules model and sjf under the default
    // rules), the line saying what slowdown and load are, one line per projected policy naming its rules, one per guarded policy naming
    // its guard, blank, caption, header, 4 lines, the same block for dnn+rules - sjf+rules and
    // for rules-dnn+rules - sjf+rules, blank, the explanation's caption and 2 lines.
    assert_eq!(
        table.lines().count(),
        3 + 1 + 48 + 1 + 5 + 2 + 1 + 1 + 1 + 4 + 2 * (1 + 1 + 1 + 4) + 1 + 3,
        "{table}"
    );
    assert!(
        table.contains("dnn+guard: guard renewal(eps=0.1,c=5) against SJF"),
        "{table}"
    );
    assert!(table.contains("why dnn decides"), "{table}");
    assert!(table.contains("lower is better"), "{table}");
    let (_, again) = demo_json(&model, &dir.join("out1"), "1");
    assert_eq!(json, again, "demo.json depends on the thread count");

    let r: Value = serde_json::from_str(&json).expect("demo.json is JSON");
    let s = &r["settings"];
    assert_eq!(s["model"]["path"], utf8(&model));
    assert_eq!(s["model"]["slots"], 5);
    assert_eq!(s["model"]["encoding"], "compact");
    assert_eq!(s["model"]["workload"], "deeprm");
    assert_eq!(s["rate"], 0.5);
    assert_eq!(s["training_workload"], "deeprm");
    assert_eq!(
        s["policies"],
        serde_json::json!([
            "dnn",
            "sjf",
            "packer",
            "tetris",
            "random",
            "dnn+guard",
            "distilled",
            "dnn+rules",
            "dnn+guard+rules",
            "distilled+rules",
            "rules-dnn+rules",
            "sjf+rules"
        ])
    );
    assert_eq!(s["dnn_policy"], format!("model:{}", utf8(&model)));
    assert_eq!(s["eval"]["seed"], 7000);
    assert_eq!(s["eval"]["jobsets"], 3);
    assert_eq!(s["eval"]["end"], "all-done");
    let workloads = ["deeprm", "long-jobs", "wide-demands", "bursty"];
    assert_eq!(s["workloads"], serde_json::json!(workloads));

    let rows = r["table"].as_array().expect("table");
    assert_eq!(rows.len(), 4 * 12);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["workload"], workloads[i / 12], "{row}");
        assert_eq!(s["policies"][i % 12], row["policy"], "{row}");
        assert_eq!(row["training_distribution"], i < 12, "{row}");
        let guarded = row["policy"].as_str().is_some_and(|p| p.contains("+guard"));
        assert_eq!(row["guard_renewals"].is_u64(), guarded, "{row}");
        assert_eq!(row["jobsets"], 3, "{row}");
        assert_eq!(row["rate"], 0.5, "{row}");
        let (low, mean, high) = (
            f64_of(row, "ci95_low"),
            f64_of(row, "mean_slowdown"),
            f64_of(row, "ci95_high"),
        );
        assert!(low <= mean && mean <= high, "{row}");
    }
    let diffs = r["dnn_vs_sjf"].as_array().expect("dnn_vs_sjf");
    assert_eq!(diffs.len(), 4);
    for (d, w) in diffs.iter().zip(workloads) {
        assert_eq!(d["workload"], w, "{d}");
        assert_eq!(d["pairs"], 3, "{d}");
        let (low, mean, high) = (
            f64_of(d, "ci95_low"),
            f64_of(d, "mean_difference"),
            f64_of(d, "ci95_high"),
        );
        assert!(low <= mean && mean <= high, "{d}");
        let verdict = if high < 0.0 {
            "beats"
        } else if low > 0.0 {
            "loses"
        } else {
            "ties"
        };
        assert_eq!(d["verdict"], verdict, "{d}");
    }
    // dnn+rules - sjf+rules: every job set is measured by both, so the paired mean is the
    // difference of the two rows' means.
    // The same for the rule-trained model under the rules.
    for (key, policy) in [
        ("rules_vs_sjf_rules", "dnn+rules"),
        ("rules_model_vs_sjf_rules", "rules-dnn+rules"),
    ] {
        let rule_diffs = r[key].as_array().expect(key);
        assert_eq!(rule_diffs.len(), 4);
        for (d, w) in rule_diffs.iter().zip(workloads) {
            let mean_of = |policy: &str| {
                rows.iter()
                    .find(|row| row["workload"] == w && row["policy"] == policy)
                    .map(|row| f64_of(row, "mean_slowdown"))
                    .expect("row")
            };
            let expected = mean_of(policy) - mean_of("sjf+rules");
            assert_eq!(d["workload"], w, "{d}");
            assert!(
                (f64_of(d, "mean_difference") - expected).abs() < 1e-9,
                "{d}"
            );
        }
    }

    let files: Vec<&str> = r["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut expected = vec![
        "demo.json".to_string(),
        "slowdown_by_workload.png".to_string(),
        "slowdown_by_workload.svg".to_string(),
    ];
    for w in workloads {
        expected.push(format!("slowdown_cdf_{w}.png"));
        expected.push(format!("slowdown_cdf_{w}.svg"));
    }
    expected.push("explanation_shares.png".to_string());
    expected.push("explanation_shares.svg".to_string());
    assert_eq!(files, expected);
    // The explanation section: shares per category add up to 1, per resource to occupancy.
    let e = &r["explanation"];
    assert_eq!(e["workload"], "deeprm");
    assert_eq!(e["rate"], 0.5);
    assert!(e["decisions"].as_u64().is_some_and(|n| n > 0), "{e}");
    let sh = &e["shares"];
    let total: f64 = ["occupancy", "job_slots", "backlog", "since_last_job"]
        .iter()
        .map(|k| f64_of(sh, k))
        .sum();
    assert!((total - 1.0).abs() < 1e-9, "{e}");
    let per_res: f64 = sh["occupancy_per_resource"]
        .as_array()
        .expect("per resource")
        .iter()
        .filter_map(Value::as_f64)
        .sum();
    assert!((per_res - f64_of(sh, "occupancy")).abs() < 1e-9, "{e}");
    assert_eq!(e["group_shares"].as_array().map(Vec::len), Some(2 + 5 + 2));
    for f in &expected[1..] {
        assert_image(&out.join(f));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_runs_ten_slot_image_models() {
    let dir = temp_dir("demo-image");
    let model = tiny_model(&dir, "10", "image");
    let out = dir.join("out");
    let (_, json) = demo_json(&model, &out, "2");
    let r: Value = serde_json::from_str(&json).expect("demo.json is JSON");
    assert_eq!(r["settings"]["model"]["slots"], 10);
    assert_eq!(r["settings"]["model"]["encoding"], "image");
    assert_eq!(r["settings"]["eval"]["slots"], 10);
    assert_eq!(r["table"].as_array().map(Vec::len), Some(48));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_without_a_model_says_which_path_and_how_to_train_one() {
    let dir = temp_dir("demo-missing");
    let out = Command::new(BIN)
        .args(["demo", "--jobsets", "1", "--model", "missing.model"])
        .current_dir(&dir)
        .output()
        .expect("run whitebox");
    assert!(!out.status.success() && out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.contains("missing.model") && err.contains("whitebox train"),
        "{err}"
    );
    let err = failure(&["demo", "--model", "/nonexistent/m.model", "--jobsets", "1"]);
    assert!(err.contains("/nonexistent/m.model"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plot_curve_draws_a_training_curve_and_names_bad_lines() {
    let dir = temp_dir("curve");
    let model = tiny_model(&dir, "5", "compact");
    let csv = PathBuf::from(format!("{}.curve.csv", utf8(&model)));
    let out = whitebox(&["plot-curve", utf8(&csv)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for ext in ["png", "svg"] {
        assert_image(&csv.with_extension(ext));
    }
    let bad = dir.join("bad.curve.csv");
    std::fs::write(
        &bad,
        "iteration,val_mean_slowdown,sjf_val_mean_slowdown,entropy,mean_return,\
         train_mean_slowdown,seconds\n0,5.7,4.6,,,,6.7\n1,,4.6,oops,-189.8,5.5,7.0\n",
    )
    .expect("write bad CSV");
    let err = failure(&["plot-curve", utf8(&bad)]);
    assert!(
        err.contains(&format!("{}:3:", utf8(&bad))) && err.contains("`entropy` = `oops`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn eval_shows_labelled_policies_under_their_label() {
    let csv = stdout_of(&[
        "eval",
        "--rate",
        "0.5",
        "--jobsets",
        "2",
        "--policies",
        "shortest=sjf,packer",
        "--format",
        "csv",
    ]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[1].starts_with("shortest,deeprm,0.5,"), "{csv}");
    assert!(lines[2].starts_with("packer,deeprm,0.5,"), "{csv}");
}

#[test]
fn model_files_round_trip_through_json_and_corruption_is_named() {
    let dir = temp_dir("model-json");
    let model = tiny_model(&dir, "5", "compact");
    let info = json(&["model", "info", utf8(&model)]);
    assert_eq!(info["encoding"], "compact");
    assert_eq!(info["slots"], 5);
    // Shapes, not empty weight arrays: compact input 40 + 4 * 5 + 2 = 62, 20 hidden, 6 outputs;
    // 20 * 62 + 20 + 6 * 20 + 6 = 1386 parameters.
    assert_eq!(info["shapes"]["w1"], serde_json::json!([20, 62]));
    assert_eq!(info["shapes"]["b2"], serde_json::json!([6]));
    assert_eq!(info["parameters"], 1386);
    assert!(info.get("w1").is_none(), "{info}");
    // The rate as given to `train`: the shipped model's 0.7, not its stored f32 widened to
    // 0.699999988079071.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model");
    assert_eq!(json(&["model", "info", utf8(&shipped)])["rate"], 0.7);
    // A version-1 file says it records only its headline cell; the shipped default (version
    // 2, re-trained bit for bit by docs/results.md's commands) records its whole mixture and
    // the stage-1 model it started from; rules.model names default.model as its start.
    let v1 = json(&["model", "info", utf8(&shipped)]);
    assert_eq!(v1["version"], 1);
    assert_eq!(
        v1["trained"],
        "deeprm at rate 0.7 (a version-1 file: only the headline cell is recorded)"
    );
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models");
    let default = json(&["model", "info", utf8(&models.join("default.model"))]);
    assert_eq!(default["version"], 2);
    let trained = default["trained"].as_str().expect("trained");
    assert!(
        trained.starts_with(
            "deeprm, long-jobs, wide-demands, bursty at rates 0.3, 0.5, 0.7, 0.9 (+ curriculum \
             every 10 iterations), from a model with sha256 "
        ),
        "{trained}"
    );
    assert_eq!(default["mixture"].as_array().map(Vec::len), Some(16));
    let rules = json(&["model", "info", utf8(&models.join("rules.model"))]);
    let trained = rules["trained"].as_str().expect("trained");
    assert!(
        trained.starts_with(
            "deeprm at rate 0.7, under util<=0.8, work-conserving(util<=0.8), \
             shorter-first(util<=0.8) (shielded), from fixtures/models/default.model (sha256 "
        ),
        "{trained}"
    );
    // The two-rule model of docs/results.md: 2000 shielded iterations from the shipped default.
    let wc = json(&["model", "info", utf8(&models.join("util80-wc.model"))]);
    assert_eq!(wc["iterations"], 2000);
    // `sha256sum fixtures/models/default.model`, first 16 hex digits.
    assert_eq!(wc["init_sha256"], "e4af28028880a69a");
    let trained = wc["trained"].as_str().expect("trained");
    assert!(
        trained.starts_with(
            "deeprm at rate 0.7, under util<=0.8, work-conserving(util<=0.8) (shielded), from "
        ),
        "{trained}"
    );
    let exported = dir.join("model.json");
    let imported = dir.join("imported.model");
    stdout_of(&["model", "export", utf8(&model), "--out", utf8(&exported)]);
    stdout_of(&["model", "import", utf8(&exported), "--out", utf8(&imported)]);
    let bytes = std::fs::read(&model).expect("model");
    assert_eq!(std::fs::read(&imported).expect("imported"), bytes);

    // One flipped bit in the weights: the CRC names the corruption; nothing is simulated.
    let mut flipped = bytes.clone();
    let k = flipped.len() - 10;
    flipped[k] ^= 0x40;
    let corrupt = dir.join("corrupt.model");
    std::fs::write(&corrupt, &flipped).expect("write");
    let policy = format!("model:{}", utf8(&corrupt));
    let case = fixture("rate0.5_seed9.json");
    let err = failure(&[
        "simulate",
        "--jobs",
        utf8(&case),
        "--policy",
        &policy,
        "--slots",
        "5",
        "--end",
        "all-done",
    ]);
    assert!(
        err.contains("CRC-32") && err.contains("corrupt.model"),
        "{err}"
    );
    // A 5-slot model on a 10-slot cluster.
    let policy = format!("model:{}", utf8(&model));
    let err = failure(&[
        "simulate",
        "--jobs",
        utf8(&case),
        "--policy",
        &policy,
        "--slots",
        "10",
        "--end",
        "all-done",
    ]);
    assert!(err.contains("5 job slots") && err.contains("10"), "{err}");
}

#[test]
fn compare_on_reference_cases_matches_their_sjf_and_packer_means() {
    // Golden values: the mean over rate-0.5 five-slot cases of DeepRM's own `mean_sd_true`.
    let files: Vec<PathBuf> = (0..10)
        .map(|s| fixture(&format!("rate0.5_seed{s}.json")))
        .collect();
    let want = |policy: &str| {
        files
            .iter()
            .map(|f| {
                let case: Value =
                    serde_json::from_str(&std::fs::read_to_string(f).expect("case")).expect("json");
                case["reference"]["all_done"][policy]["mean_sd_true"]
                    .as_f64()
                    .expect("mean_sd_true")
            })
            .sum::<f64>()
            / 10.0
    };
    let mut args = vec![
        "compare",
        "--slots",
        "5",
        "--policies",
        "sjf,packer",
        "--format",
        "json",
    ];
    args.push("--jobs");
    let names: Vec<String> = files.iter().map(|f| utf8(f).to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let report = json(&args);
    let rows = report["rows"].as_array().expect("rows");
    assert!((rows[0]["mean_slowdown"].as_f64().expect("sjf") - want("SJF")).abs() < 1e-9);
    assert!((rows[1]["mean_slowdown"].as_f64().expect("packer") - want("Packer")).abs() < 1e-9);
    assert_eq!(rows[0]["diff_vs_reference"], 0.0);
}

#[test]
fn explain_reports_complete_attributions_for_the_shipped_model() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model");
    let r = json(&[
        "explain",
        "--model",
        utf8(&model),
        "--decisions",
        "25",
        "--format",
        "json",
    ]);
    let decisions = r["decisions"].as_array().expect("decisions");
    assert_eq!(decisions.len(), 25);
    for d in decisions {
        // Exact IG and exact Shapley values both add up to the logit change.
        assert!(d["ig_completeness_residual"].as_f64().expect("residual") < 1e-6);
        let delta = d["logit_delta"].as_f64().expect("delta");
        let sum: f64 = d["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| g["shapley"].as_f64().expect("shapley"))
            .sum();
        assert!(
            (sum - delta).abs() < 1e-6 * delta.abs().max(1.0),
            "{sum} vs {delta}"
        );
    }
    let shares = &r["shares"];
    let total: f64 = ["occupancy", "job_slots", "backlog", "since_last_job"]
        .iter()
        .map(|k| shares[*k].as_f64().expect("share"))
        .sum();
    assert!((total - 1.0).abs() < 1e-9, "{total}");
    let err = failure(&[
        "explain",
        "--model",
        utf8(&model),
        "--jobs",
        utf8(&fixture("rate0.3_seed0_nw10.json")),
        "--step",
        "100000",
    ]);
    assert!(err.contains("before decision 100000"), "{err}");
}

#[test]
fn explain_reports_hidden_units_smoothgrad_and_draws_pictures() {
    let dir = temp_dir("explain-out");
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model");
    let out = dir.join("pictures");
    let r = json(&[
        "explain",
        "--model",
        utf8(&model),
        "--decisions",
        "40",
        "--smoothgrad",
        "3",
        "--noise",
        "0",
        "--out",
        utf8(&out),
        "--format",
        "json",
    ]);
    // With no noise, SmoothGrad x input is gradient x input.
    for d in r["decisions"].as_array().expect("decisions") {
        for g in d["groups"].as_array().expect("groups") {
            let (sg, gx) = (
                f64_of(g, "smoothgrad_x_input"),
                f64_of(g, "gradient_x_input"),
            );
            assert!((sg - gx).abs() <= 1e-9 * gx.abs().max(1.0), "{g}");
        }
    }
    assert_eq!(r["smoothgrad"]["copies"], 3);
    assert_eq!(
        r["mean_smoothgrad_share"].as_array().map(Vec::len),
        Some(14)
    );
    let h = &r["hidden"];
    let units = h["units"].as_array().expect("units");
    assert_eq!(units.len(), 20);
    let features = h["features"].as_array().expect("features").len();
    for u in units {
        assert_eq!(u["correlations"].as_array().map(Vec::len), Some(features));
        for c in u["correlations"]
            .as_array()
            .expect("r")
            .iter()
            .flat_map(Value::as_f64)
        {
            assert!((-1.0..=1.0).contains(&c), "{u}");
        }
    }
    assert_eq!(h["probes"].as_array().map(Vec::len), Some(features));
    for a in h["actions"].as_array().expect("actions") {
        assert_eq!(a["top_units"].as_array().map(Vec::len), Some(3), "{a}");
    }
    for f in ["group_shares", "hidden_correlations"] {
        assert_image(&out.join(format!("{f}.png")));
        assert_image(&out.join(format!("{f}.svg")));
    }
    // Compact models have no image to draw the per-pixel heatmap on.
    assert!(!out.join("ig_heatmap.png").exists());
    let summary = stdout_of(&["explain", "--model", utf8(&model), "--decisions", "30"]);
    assert!(
        summary.contains("hidden units") && summary.contains("linear probes"),
        "{summary}"
    );

    // An image-encoded model gets the per-pixel heatmap laid out like the image.
    let image = tiny_model(&dir, "5", "image");
    let out = dir.join("image");
    let run = whitebox(&[
        "explain",
        "--model",
        utf8(&image),
        "--decisions",
        "5",
        "--out",
        utf8(&out),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    for f in ["group_shares", "ig_heatmap", "hidden_correlations"] {
        assert_image(&out.join(format!("{f}.png")));
        assert_image(&out.join(format!("{f}.svg")));
    }
    let err = failure(&["explain", "--noise", "0.1"]);
    assert!(err.contains("--smoothgrad"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn quantize_report_compares_the_int8_model_with_the_f32_one() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model");
    let model = model.to_str().expect("utf-8 path");
    let r = json(&[
        "model",
        "quantize-report",
        "--model",
        model,
        "--jobsets",
        "3",
        "--seed",
        "5",
    ]);
    let fraction = f64_of(&r["agreement"], "fraction");
    assert!((0.0..=1.0).contains(&fraction), "{r}");
    assert!(r["agreement"]["decisions"].as_u64().unwrap_or(0) > 0, "{r}");
    // Compact encoder, 10 slots: 82 inputs, 20 hidden units, 11 outputs.
    // f32: 4 * (82 * 20 + 20 + 20 * 11 + 11) = 4 * 1891 = 7564 bytes.
    // int8: 82 * 20 + 20 * 11 = 1860 weight bytes, 4 * (20 + 11) = 124 bias bytes,
    // 8 * (20 + 11) = 248 bytes of multipliers and shifts, 8 bytes of input/output scales.
    let bytes = &r["bytes"];
    assert_eq!(bytes["f32"].as_u64(), Some(7564), "{bytes}");
    assert_eq!(bytes["int8"]["weights"].as_u64(), Some(1860), "{bytes}");
    assert_eq!(bytes["int8"]["biases"].as_u64(), Some(124), "{bytes}");
    assert_eq!(bytes["int8"]["requant"].as_u64(), Some(248), "{bytes}");
    assert_eq!(bytes["int8"]["scales"].as_u64(), Some(8), "{bytes}");
    assert_eq!(bytes["int8"]["total"].as_u64(), Some(2240), "{bytes}");
    assert_eq!(r["calibration"]["jobsets"].as_u64(), Some(20), "{r}");
    assert_eq!(r["calibration"]["seed"].as_u64(), Some(424_242), "{r}");
    assert!(r["slowdown"]["int8_minus_f32"]["mean"].is_number(), "{r}");

    // int8:PATH is a policy wherever model:PATH is.
    let sim = json(&[
        "simulate",
        "--jobs",
        fixture("rate0.7_seed1_nw10.json")
            .to_str()
            .expect("utf-8 path"),
        "--policy",
        &format!("int8:{model}"),
        "--slots",
        "10",
        "--end",
        "all-done",
    ]);
    assert!(sim.to_string().contains("int8:"), "{sim}");
    let err = failure(&[
        "simulate", "--jobs", "x.json", "--policy", "int8:", "--slots", "10", "--end", "all-done",
    ]);
    assert!(err.contains("path is empty"), "{err}");
}

#[test]
fn explain_a_decision_of_a_recorded_trace() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model = root.join("fixtures/models/deeprm.model");
    let (model, trace) = (
        utf8(&model),
        root.join("fixtures/golden/default-heavy.json"),
    );
    let jobs = root.join("fixtures/reference/deeprm/cases/rate0.7_seed1_nw10.json");
    // default-heavy is the model's greedy all-done episode on that job file, so decision 5 of
    // the trace is decision 5 of `--jobs`: the same report.
    let by_trace = json(&[
        "explain",
        "--model",
        model,
        "--trace",
        utf8(&trace),
        "--decision",
        "5",
        "--format",
        "json",
    ]);
    let by_jobs = json(&[
        "explain",
        "--model",
        model,
        "--jobs",
        utf8(&jobs),
        "--step",
        "5",
        "--format",
        "json",
    ]);
    assert_eq!(by_trace, by_jobs);
    // The trace's model is checked, and a decision past the end is named.
    let other = root.join("fixtures/models/deeprm-distilled.model");
    let err = failure(&[
        "explain",
        "--model",
        utf8(&other),
        "--trace",
        utf8(&trace),
        "--decision",
        "5",
    ]);
    assert!(
        err.contains("was recorded with fixtures/models/deeprm.model"),
        "{err}"
    );
    let err = failure(&[
        "explain",
        "--model",
        model,
        "--trace",
        utf8(&trace),
        "--decision",
        "100000",
    ]);
    assert!(err.contains("decision 100000"), "{err}");
}

#[test]
fn explain_method_chooses_the_columns_shown() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model = root.join("fixtures/models/deeprm.model");
    let jobs = root.join("fixtures/reference/deeprm/cases/rate0.7_seed1_nw10.json");
    let base = [
        "explain",
        "--model",
        utf8(&model),
        "--jobs",
        utf8(&jobs),
        "--step",
        "5",
    ];
    let all = json(&[&base[..], &["--format", "json"]].concat());
    let some = json(&[&base[..], &["--format", "json", "--method", "ig,shapley"]].concat());
    for (a, s) in all["decisions"][0]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .zip(some["decisions"][0]["groups"].as_array().expect("groups"))
    {
        let keys: Vec<&str> = s
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 3, "{s}");
        for k in ["group", "shapley", "integrated_gradients"] {
            assert_eq!(s[k], a[k], "{k}");
        }
        assert!(
            a["occlusion"].is_number() && a["gradient_x_input"].is_number(),
            "{a}"
        );
    }
    // The per-input saliency map of one decision adds up to the per-group gradient x input.
    let d = &all["decisions"][0];
    let per_input: f64 = d["saliency"]["gradient_x_input"]
        .as_array()
        .expect("saliency")
        .iter()
        .filter_map(Value::as_f64)
        .sum();
    let per_group: f64 = d["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| f64_of(g, "gradient_x_input"))
        .sum();
    assert!(
        (per_input - per_group).abs() < 1e-9,
        "{per_input} vs {per_group}"
    );
    assert_eq!(
        d["saliency"]["probability"].as_array().map(Vec::len),
        Some(82)
    );
    let table = stdout_of(&[&base[..], &["--method", "occlusion"]].concat());
    assert!(
        table.contains("occlusion") && !table.contains("Shapley    "),
        "{table}"
    );
    let err = failure(&[&base[..], &["--method", "lime"]].concat());
    assert!(err.contains("lime") && err.contains("shapley"), "{err}");
}

#[test]
fn train_shielded_under_a_rule_writes_a_model_that_eval_loads() {
    let dir = temp_dir("train-shielded");
    let model = dir.join("shielded.model");
    let tiny = [
        "train",
        "--rate",
        "0.5",
        "--slots",
        "5",
        "--iterations",
        "2",
        "--jobsets",
        "2",
        "--trajectories",
        "2",
        "--imitation-epochs",
        "1",
        "--imitation-rounds",
        "1",
        "--val-jobsets",
        "2",
        "--rule",
        "util<=0.8",
    ];
    let mut args = tiny.to_vec();
    args.extend([
        "--rule-mode",
        "shielded",
        "--rule-penalty",
        "0.5",
        "--out",
        utf8(&model),
    ]);
    let report: Value = serde_json::from_str(&stdout_of(&args)).expect("report json");
    let share = report["penalised_share"].as_f64().expect("penalised share");
    assert!((0.0..=1.0).contains(&share), "{report}");
    let rows = stdout_of(&[
        "eval",
        "--rate",
        "0.5",
        "--jobsets",
        "2",
        "--slots",
        "5",
        "--policies",
        &format!("model:{}", utf8(&model)),
        "--format",
        "json",
    ]);
    assert!(rows.contains("\"rows\""), "{rows}");

    // A shielded or penalised run needs a rule; a penalty needs one of those modes.
    let mut no_rule: Vec<&str> = tiny[..tiny.len() - 2].to_vec();
    no_rule.extend(["--rule-mode", "shielded", "--out", utf8(&model)]);
    let err = text(&whitebox(&no_rule).stderr);
    assert!(err.contains("need at least one --rule"), "{err}");
    let mut distill_penalty = tiny.to_vec();
    distill_penalty.extend(["--rule-penalty", "1", "--out", utf8(&model)]);
    let err = text(&whitebox(&distill_penalty).stderr);
    assert!(err.contains("--rule-penalty needs --rule-mode"), "{err}");
}

fn trace(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/traces")
        .join(name)
}

#[test]
fn import_swf_with_only_the_file_and_out_uses_the_defaults() {
    let log = trace("NASA-iPSC-1993-3.1-cln.swf");
    let dir = temp_dir("import-swf");
    let (l, d) = (
        log.to_str().expect("utf-8"),
        dir.to_str().expect("utf-8").to_string(),
    );
    let out = stdout_of(&["import", "swf", l, "--out", &d]);
    let count = |name: &str| -> String {
        out.lines()
            .find_map(|line| {
                let mut w = line.split_whitespace();
                (w.next() == Some(name)).then(|| w.next().unwrap_or("").to_string())
            })
            .unwrap_or_else(|| panic!("no `{name}` in:\n{out}"))
    };
    assert_eq!(count("records"), "300");
    assert_eq!(count("imported"), "300");
    assert_eq!(count("windows"), "3");
    assert_eq!(count("dropped"), "0");
    // Lines 248-252 (and others) of the excerpt have run time 0.
    assert!(count("raised_from_0").parse::<usize>().expect("number") >= 5);
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("import.json")).expect("import.json"),
    )
    .expect("JSON");
    assert_eq!(report["capacity"][0], 128.0);
    assert_eq!(report["counts"]["records"], 300);
    // Each window is a job file every command reads.
    let window = dir.join("window-0002.json");
    let r = json(&[
        "simulate",
        "--jobs",
        window.to_str().expect("utf-8"),
        "--policy",
        "sjf",
        "--slots",
        "10",
        "--end",
        "all-done",
        "--format",
        "json",
    ]);
    assert_eq!(r["jobs"].as_array().map(Vec::len), Some(100));
    assert_eq!(r["summary"]["truncated"], false);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_errors_name_the_line_field_and_value() {
    let bad = temp_jobs(
        "bad-swf",
        "; MaxProcs: 8\n1 0 -1 5 1 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n2 3 -1 five 1 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n",
    );
    let dir = temp_dir("import-bad");
    let d = dir.to_str().expect("utf-8");
    let err = failure(&["import", "swf", bad.to_str().expect("utf-8"), "--out", d]);
    assert!(
        err.contains("line 3") && err.contains("field 4 (run time)") && err.contains("`five`"),
        "{err}"
    );
    let log = trace("NASA-iPSC-1993-3.1-cln.swf");
    let l = log.to_str().expect("utf-8");
    let err = failure(&["import", "swf", l, "--out", d, "--seconds-per-step", "1"]);
    assert!(
        err.contains("time cap 10000") && err.contains("--seconds-per-step"),
        "{err}"
    );
}

#[test]
fn import_csv_by_columns() {
    let log = trace("alibaba2018_spar_sample_tasks.csv");
    let dir = temp_dir("import-csv");
    let d = dir.to_str().expect("utf-8");
    let out = stdout_of(&[
        "import",
        "csv",
        log.to_str().expect("utf-8"),
        "--out",
        d,
        "--arrival",
        "1",
        "--runtime",
        "4",
        "--res",
        "5,6",
        "--window",
        "10",
        "--seconds-per-step",
        "30",
    ]);
    assert!(out.contains("records") && out.contains("40"), "{out}");
    let first: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("window-0000.json")).expect("window"),
    )
    .expect("JSON");
    // By hand (see runtime/src/import/tests.rs): 0 s, 268 s, 50 of 100 CPU, 0.3 of 0.64 memory.
    assert_eq!(
        first["jobs"][0],
        serde_json::json!({"arrival": 0, "len": 9, "res": [5, 5]})
    );
    let err = failure(&[
        "import",
        "csv",
        log.to_str().expect("utf-8"),
        "--out",
        d,
        "--arrival",
        "time",
        "--runtime",
        "4",
        "--res",
        "5",
    ]);
    assert!(err.contains("`time`") && err.contains("--header"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Zero-demand jobs (DeepRM never generates them) finish under every policy, including Packer
/// and Tetris with knob 1, whose alignment score is 0 for them.
#[test]
fn every_policy_finishes_zero_demand_jobs() {
    let path = temp_jobs(
        "zero-demand",
        r#"{"jobs":[{"arrival":0,"len":3,"res":[0,0]},{"arrival":0,"len":2,"res":[5,5]},
        {"arrival":2,"len":1,"res":[0,0]},{"arrival":2,"len":4,"res":[10,10]},
        {"arrival":3,"len":2,"res":[0,0]}]}"#,
    );
    let p = path.to_str().expect("utf-8");
    for (policy, extra) in [
        ("sjf", &[][..]),
        ("packer", &[][..]),
        ("tetris", &[][..]),
        ("tetris", &["--tetris-knob", "1"][..]),
        ("random", &[][..]),
        ("model:fixtures/models/deeprm.model", &[][..]),
    ] {
        let mut args = vec![
            "simulate", "--jobs", p, "--policy", policy, "--slots", "10", "--end", "all-done",
            "--format", "json",
        ];
        args.extend_from_slice(extra);
        let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let out = Command::new(BIN)
            .args(&args)
            .current_dir(&model)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{policy}: {}", text(&out.stderr));
        let r: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(r["summary"]["truncated"], false, "{policy} {extra:?}");
        let jobs = r["jobs"].as_array().expect("jobs");
        assert!(
            jobs.iter().all(|j| j["status"] == "completed"),
            "{policy} {extra:?}: {jobs:?}"
        );
        assert!(
            r["summary"]["final_time"].as_u64().unwrap_or(u64::MAX) < 20,
            "{policy} {extra:?}"
        );
    }
}

#[test]
fn raw_unix_second_arrivals_are_refused_with_the_cap() {
    let path = temp_jobs(
        "unix-seconds",
        r#"{"jobs":[{"arrival":749458803,"len":2,"res":[3,4]}]}"#,
    );
    let err = failure(&[
        "simulate",
        "--jobs",
        path.to_str().expect("utf-8"),
        "--policy",
        "sjf",
        "--slots",
        "5",
        "--end",
        "all-done",
    ]);
    assert!(
        err.contains("job 0")
            && err.contains("749458803")
            && err.contains("time cap 10000")
            && err.contains("whitebox import"),
        "{err}"
    );
}

/// Runs `compare` on job files with extra flags; returns the JSON report and the table.
fn compare_both(files: &[&Path], extra: &[&str]) -> (Value, String) {
    let mut args = vec!["compare", "--slots", "5", "--policies", "sjf,packer"];
    args.extend_from_slice(extra);
    args.push("--jobs");
    args.extend(files.iter().map(|f| utf8(f)));
    let table = stdout_of(&args);
    args.extend(["--format", "json"]);
    (json(&args), table)
}

/// The whitespace-separated cells of the table row of `policy`.
fn table_row<'a>(table: &'a str, policy: &str) -> Vec<&'a str> {
    table
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cells| cells.first() == Some(&policy))
        .unwrap_or_else(|| panic!("no row {policy} in\n{table}"))
}

/// An empty file and a file where no job starts (every arrival after the window) have no
/// slowdown: they are left out of the means with their reason, not counted as 0.
#[test]
fn compare_excludes_files_without_a_slowdown_and_says_why() {
    // Two [5, 5] jobs run side by side: slowdown 1 each. Three [10, 10] jobs of length 1 run
    // one after the other: slowdowns 1, 2, 3, mean 2. Mean over the two files: 1.5.
    let side = temp_jobs(
        "cmp-side",
        r#"{"jobs":[{"arrival":0,"len":2,"res":[5,5]},{"arrival":0,"len":2,"res":[5,5]}]}"#,
    );
    let serial = temp_jobs(
        "cmp-serial",
        r#"{"jobs":[{"arrival":0,"len":1,"res":[10,10]},{"arrival":0,"len":1,"res":[10,10]},
        {"arrival":0,"len":1,"res":[10,10]}]}"#,
    );
    let late = temp_jobs(
        "cmp-late",
        r#"{"jobs":[{"arrival":5,"len":1,"res":[1,1]}]}"#,
    );
    let empty = temp_jobs("cmp-empty", r#"{"jobs":[]}"#);
    let flags = ["--end", "no-new-job", "--simu-len", "3"];
    let (r, table) = compare_both(&[&side, &late, &serial, &empty], &flags);
    for row in r["rows"].as_array().expect("rows") {
        assert_eq!(row["paired_files"], 2, "{row}");
        assert_close(&row["mean_slowdown"], &Value::from(1.5), "mean slowdown");
        assert_eq!(row["diff_vs_reference"], 0.0, "{row}");
    }
    let excluded = r["excluded"].as_array().expect("excluded");
    assert_eq!(excluded.len(), 2, "{excluded:?}");
    assert_eq!(excluded[0]["file"], utf8(&late));
    assert_eq!(excluded[0]["reason"], "no-job-started");
    assert_eq!(
        excluded[0]["policies"],
        serde_json::json!(["sjf", "packer"])
    );
    assert_eq!(excluded[1]["file"], utf8(&empty));
    assert_eq!(excluded[1]["reason"], "empty");
    assert!(
        table.contains("4 job files (2 paired, 2 excluded)"),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "excluded {}: no job started under sjf, packer",
            utf8(&late)
        )) && table.contains(&format!("excluded {}: no jobs", utf8(&empty))),
        "{table}"
    );
    assert_eq!(table_row(&table, "sjf")[1], "1.500", "{table}");
    // Only files without a slowdown: no mean at all, rather than a mean of 0.
    let (r, table) = compare_both(&[&late, &empty], &flags);
    assert_eq!(r["rows"][0]["mean_slowdown"], Value::Null, "{r}");
    assert_eq!(r["rows"][0]["paired_files"], 0, "{r}");
    assert_eq!(table_row(&table, "sjf")[1], "-", "{table}");
}

/// Rejected jobs and truncated runs are shown per policy in the table, not only in JSON.
#[test]
fn compare_shows_rejected_jobs_and_truncated_runs() {
    // 70 jobs at step 0: 5 slots and a backlog of 60 hold 65, so 5 are refused under any
    // policy. A job of 20 steps arriving at 25 cannot finish before the time cap of 30.
    let crowd: Vec<String> = (0..70)
        .map(|_| r#"{"arrival":0,"len":1,"res":[1,1]}"#.to_string())
        .collect();
    let crowd = temp_jobs("cmp-crowd", &format!(r#"{{"jobs":[{}]}}"#, crowd.join(",")));
    let long = temp_jobs(
        "cmp-long",
        r#"{"jobs":[{"arrival":25,"len":20,"res":[1,1]}]}"#,
    );
    let (r, table) = compare_both(&[&crowd, &long], &["--time-cap", "30"]);
    let header = table.lines().nth(1).expect("header");
    assert!(header.ends_with("rejected truncated"), "{table}");
    for (i, policy) in ["sjf", "packer"].into_iter().enumerate() {
        let row = &r["rows"][i];
        assert_eq!(row["rejected"], 5, "{row}");
        assert_eq!(row["truncated"], 1, "{row}");
        assert_eq!(row["jobs"], 71, "{row}");
        // The last two columns (interval cells hold spaces, so count from the end).
        let cells = table_row(&table, policy);
        assert_eq!(cells[cells.len() - 2..], ["5", "1"], "{table}");
    }
}

/// `--rule` projects every policy, the reference too, so the pairs are under the same rules.
#[test]
fn compare_under_rules_pairs_against_sjf_under_the_same_rules() {
    // Two [5, 5] jobs of length 2: side by side without rules (slowdowns 1 and 1); under
    // util<=0.5 the second waits for the first (slowdowns 1 and 2, mean 1.5).
    let pair = temp_jobs(
        "cmp-rules",
        r#"{"jobs":[{"arrival":0,"len":2,"res":[5,5]},{"arrival":0,"len":2,"res":[5,5]}]}"#,
    );
    let (plain, _) = compare_both(&[&pair], &[]);
    assert_close(
        &plain["rows"][0]["mean_slowdown"],
        &Value::from(1.0),
        "plain",
    );
    let (r, table) = compare_both(&[&pair], &["--rule", "util<=0.5"]);
    assert_eq!(r["reference"], "sjf+rules");
    assert_eq!(r["rows"][0]["policy"], "sjf+rules");
    assert_eq!(r["rows"][1]["policy"], "packer+rules");
    assert_eq!(r["rules"]["rules"], serde_json::json!(["util<=0.5"]));
    for row in r["rows"].as_array().expect("rows") {
        assert_close(&row["mean_slowdown"], &Value::from(1.5), "under rules");
        assert_eq!(row["diff_vs_reference"], 0.0, "{row}");
    }
    assert!(
        table.contains("rules (every policy, C = inf): util<=0.5"),
        "{table}"
    );
    let err = failure(&[
        "compare",
        "--slots",
        "5",
        "--rule",
        "util<=2",
        "--jobs",
        utf8(&pair),
    ]);
    assert!(err.contains("--rule") && err.contains("util<=2"), "{err}");
}

/// Runs `whitebox check` from the repository root with a JUnit report; returns the exit code,
/// stdout and the parsed report.
fn check_run(args: &[&str], junit: &Path) -> (Option<i32>, String, quick_junit::Report) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(BIN)
        .arg("check")
        .args(args)
        .args(["--junit", utf8(junit)])
        .current_dir(&root)
        .output()
        .expect("run whitebox");
    let xml = std::fs::read_to_string(junit)
        .unwrap_or_else(|e| panic!("{args:?}: no JUnit file ({e}): {}", text(&out.stderr)));
    let report = quick_junit::Report::deserialize_from_str(&xml)
        .unwrap_or_else(|e| panic!("{args:?}: not JUnit XML ({e}): {xml}"));
    (out.status.code(), text(&out.stdout), report)
}

/// The CI gate: exit 0 with no JUnit failure when every check passes, 1 with one failure per
/// failing check, 2 (and no report) when the checks cannot run.
#[test]
fn check_passes_and_fails_with_exit_code_and_junit_report() {
    let dir = temp_dir("check");
    let fixtures = dir.join("fixtures");
    std::fs::create_dir_all(&fixtures).expect("mkdir");
    // A 10-step and a 1-step job of the same demand, which cannot run side by side. SJF runs
    // the short one first (slowdowns 1 and 1.1, mean 1.05); Packer ties on alignment and takes
    // the first, the long one (slowdowns 1 and 11, mean 6): ratio 6 / 1.05 = 5.714.
    std::fs::write(
        fixtures.join("long-first.json"),
        r#"{"jobs":[{"arrival":0,"len":10,"res":[6,6]},{"arrival":0,"len":1,"res":[6,6]}],
        "slots":5}"#,
    )
    .expect("write fixture");
    // JSON without a `jobs` array (a campaign summary) is not a fixture.
    std::fs::write(fixtures.join("campaign.json"), r#"{"searches":[]}"#).expect("write");
    let fx = utf8(&fixtures);
    let junit = dir.join("packer.xml");
    let (code, stdout, report) = check_run(
        &["--policy", "packer", "--fixtures", fx, "--jobsets", "0"],
        &junit,
    );
    assert_eq!(code, Some(1), "{stdout}");
    assert_eq!((report.tests, report.failures), (1, 1), "{stdout}");
    assert!(
        stdout.contains("FAIL fixtures long-first.json: ratio 5.714 > max 1.5"),
        "{stdout}"
    );
    let case = &report.test_suites[0].test_cases[0];
    assert_eq!(case.name.as_str(), "long-first.json");
    // A looser bound passes the same fixture.
    let (code, _, report) = check_run(
        &[
            "--policy",
            "packer",
            "--fixtures",
            fx,
            "--jobsets",
            "0",
            "--max-ratio",
            "6",
        ],
        &junit,
    );
    assert_eq!((code, report.failures), (Some(0), 0));
    // SJF against itself on the shipped fixtures and 3 held-out job sets, and the golden
    // traces: every check passes.
    let junit = dir.join("sjf.xml");
    let (code, stdout, report) = check_run(
        &[
            "--policy",
            "sjf",
            "--jobsets",
            "3",
            "--golden",
            "fixtures/golden",
        ],
        &junit,
    );
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(report.failures, 0, "{stdout}");
    let suites: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(suites, ["fixtures", "held-out", "golden"]);
    assert_eq!(report.test_suites[1].tests, 1);
    assert!(
        stdout.contains("pass held-out deeprm rate 0.7 (3 job sets)"),
        "{stdout}"
    );
    // Usage errors: exit 2, the flag named.
    for (args, flag) in [
        (
            vec!["--policy", "sjf", "--fixtures", "/nonexistent/dir"],
            "--fixtures",
        ),
        (vec!["--policy", "sjf", "--max-ratio", "0.5"], "--max-ratio"),
        (vec!["--policy", "nope"], "--policy"),
    ] {
        let out = Command::new(BIN)
            .arg("check")
            .args(&args)
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .output()
            .expect("run whitebox");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(flag), "{}", text(&out.stderr));
    }
    // The same code for a value error in any other command (README, "Commands").
    let out = Command::new(BIN)
        .args(["simulate", "--policy", "nope", "--jobs", "x.json"])
        .args(["--slots", "10", "--end", "all-done"])
        .output()
        .expect("run whitebox");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown policy `nope`"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The shipped models are built into the binary: the demo and `model:fixtures/models/...` work
/// from a directory without them, with a note, and give the same results as from the root.
#[test]
fn shipped_models_work_from_any_directory() {
    let dir = temp_dir("anywhere");
    let run = |args: &[&str], cwd: &Path| {
        let out = Command::new(BIN)
            .args(args)
            .current_dir(cwd)
            .output()
            .expect("run whitebox");
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        (text(&out.stdout), text(&out.stderr))
    };
    let (stdout, stderr) = run(&["demo", "--jobsets", "1"], &dir);
    assert!(
        stdout.contains(
            "model fixtures/models/default.model (compact encoder, 10 slots), trained on deeprm, \
             long-jobs, wide-demands, bursty at rates 0.3, 0.5, 0.7, 0.9 (+ curriculum every 10 \
             iterations), from a model with sha256 "
        ),
        "{stdout}"
    );
    for model in ["default", "distilled", "rules"] {
        let note = format!("note: fixtures/models/{model}.model not found here; using the copy");
        assert_eq!(stderr.matches(&note).count(), 1, "{stderr}");
    }
    assert!(dir.join("whitebox-out/demo.json").is_file());
    // The CI gate checks the built-in adversarial fixtures from here too: all six of them.
    let (stdout, _) = run(
        &[
            "check",
            "--policy",
            "model:fixtures/models/default.model",
            "--jobsets",
            "0",
        ],
        &dir,
    );
    assert_eq!(stdout.matches("fixtures ").count(), 6, "{stdout}");
    let case = fixture("rate0.7_seed1_nw10.json");
    let args = [
        "simulate",
        "--jobs",
        utf8(&case),
        "--policy",
        "model:fixtures/models/default.model",
        "--slots",
        "10",
        "--end",
        "all-done",
        "--format",
        "json",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (here, _) = run(&args, &dir);
    let (at_root, note) = run(&args, &root);
    assert_eq!(here, at_root);
    assert!(note.is_empty(), "{note}");
    // A golden trace copied out of the repository replays against the built-in model.
    let trace = dir.join("default-heavy.json");
    std::fs::copy(root.join("fixtures/golden/default-heavy.json"), &trace).expect("copy");
    let (replayed, _) = run(&["replay", utf8(&trace)], &dir);
    assert!(
        replayed.contains("default-heavy.json: identical"),
        "{replayed}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Negative rates reach the range check (clap took `-0.1` for a flag), count bounds are stated
/// without the type's maximum, and `quantize-report` takes the model as a positional path like
/// `model info` (the `--model` flag still works).
#[test]
fn rate_and_count_errors_state_the_bound_and_quantize_report_takes_a_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model = root.join("fixtures/models/deeprm.model");
    let model = utf8(&model);
    for args in [
        &["eval", "--rate", "-0.1"][..],
        &["eval", "--rate", "0.5,-0.1"][..],
        &[
            "fuzz",
            "--policy",
            "sjf",
            "--out",
            "/nonexistent/x",
            "--rate",
            "-0.1",
        ][..],
        &[
            "train",
            "--rate",
            "-0.1",
            "--slots",
            "10",
            "--iterations",
            "1",
            "--out",
            "/nonexistent/x",
        ][..],
        &["explain", "--model", model, "--rate", "-0.1"][..],
        &["model", "quantize-report", model, "--rate", "-0.1"][..],
        &[
            "check",
            "--policy",
            "sjf",
            "--fixtures",
            "none",
            "--rate",
            "-0.1",
        ][..],
    ] {
        let err = failure(args);
        assert!(
            err.contains("--rate") && err.contains("-0.1") && err.contains("[0, 1]"),
            "{args:?}: {err}"
        );
    }
    for (args, bound) in [
        (&["eval", "--jobsets", "0"][..], "must be at least 1"),
        (
            &[
                "fuzz",
                "--policy",
                "sjf",
                "--out",
                "/nonexistent/x",
                "--population",
                "1",
            ][..],
            "must be at least 2",
        ),
        (
            &["eval", "--jobsets", "many"][..],
            "must be a whole number >= 1",
        ),
    ] {
        let err = failure(args);
        assert!(
            err.contains(bound) && !err.contains(&u64::MAX.to_string()),
            "{args:?}: {err}"
        );
    }
    let positional = json(&["model", "quantize-report", model, "--jobsets", "2"]);
    let flag = json(&[
        "model",
        "quantize-report",
        "--model",
        model,
        "--jobsets",
        "2",
    ]);
    assert_eq!(positional, flag);
    let err = failure(&["model", "quantize-report", model, "--model", model]);
    assert!(err.contains("cannot be used with"), "{err}");
}

/// `check --budget` runs an adversarial search and checks the fixtures it writes: Packer loses
/// to SJF by more than the bound on each (recomputed here with `simulate`); SJF never loses to
/// itself, so its search finds nothing and passes.
#[test]
fn check_search_writes_fixtures_that_replay_and_fail_the_bound() {
    let dir = temp_dir("check-search");
    let out = dir.join("search");
    let (code, stdout, report) = check_run(
        &[
            "--policy",
            "packer",
            "--fixtures",
            "none",
            "--jobsets",
            "0",
            "--budget",
            "200",
            "--out",
            utf8(&out),
        ],
        &dir.join("packer.xml"),
    );
    assert_eq!(code, Some(1), "{stdout}");
    let campaign: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("campaign.json")).expect("read"))
            .expect("campaign JSON");
    let written = campaign["fixtures"].as_array().expect("fixtures");
    assert!(!written.is_empty(), "{campaign}");
    assert_eq!(report.test_suites[0].name.as_str(), "search");
    assert_eq!(
        (report.tests, report.failures),
        (written.len(), written.len())
    );
    for name in written {
        let path = out.join(name.as_str().expect("name"));
        let mean = |policy: &str| {
            let r = json(&[
                "simulate",
                "--jobs",
                utf8(&path),
                "--policy",
                policy,
                "--slots",
                "10",
                "--end",
                "all-done",
                "--format",
                "json",
            ]);
            f64_of(&r["summary"], "mean_slowdown")
        };
        let ratio = mean("packer") / mean("sjf");
        assert!(ratio > 1.5, "{}: {ratio}", path.display());
        assert!(
            stdout.contains(&format!("ratio {ratio:.3} > max 1.5")),
            "{ratio:.3}: {stdout}"
        );
    }
    let (code, stdout, report) = check_run(
        &[
            "--policy",
            "sjf",
            "--fixtures",
            "none",
            "--jobsets",
            "0",
            "--budget",
            "100",
            "--out",
            utf8(&dir.join("sjf")),
        ],
        &dir.join("sjf.xml"),
    );
    assert_eq!(
        (code, report.tests, report.failures),
        (Some(0), 1, 0),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn eval_shards_merge_into_the_unsharded_report_byte_for_byte() {
    let common = [
        "eval",
        "--workload",
        "deeprm,bursty",
        "--rate",
        "0.5,0.7",
        "--jobsets",
        "7",
        "--policies",
        "sjf,random,tetris",
        "--rule",
        "util<=0.8",
    ];
    let whole = stdout_of(&[&common[..], &["--format", "json"]].concat());
    let files: Vec<PathBuf> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            let text = stdout_of(&[&common[..], &["--shard", shard.as_str()]].concat());
            temp_jobs(&format!("shard-{i}"), &text)
        })
        .collect();
    // In another order than the shards' indices.
    let order = [&files[2], &files[0], &files[1]];
    let mut args = vec!["eval", "--format", "json", "--merge"];
    args.extend(order.iter().map(|p| p.to_str().unwrap_or_default()));
    assert_eq!(stdout_of(&args), whole);
    // A shard left out is named.
    let e = failure(&[
        "eval",
        "--merge",
        files[0].to_str().unwrap_or_default(),
        files[2].to_str().unwrap_or_default(),
    ]);
    assert!(e.contains("missing: [1]"), "{e}");
    for f in files {
        std::fs::remove_file(f).ok();
    }
}

#[test]
fn missing_paths_and_misspelled_rules_name_the_flag() {
    let e = failure(&["compare", "--slots", "10", "--jobs", "/nonexistent/a.json"]);
    assert!(
        e.contains("--jobs") && e.contains("/nonexistent/a.json"),
        "{e}"
    );
    let e = failure(&[
        "simulate",
        "--slots",
        "10",
        "--end",
        "all-done",
        "--policy",
        "sjf",
        "--jobs",
        "/nonexistent/b.json",
    ]);
    assert!(
        e.contains("--jobs") && e.contains("/nonexistent/b.json"),
        "{e}"
    );
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model");
    let model = model.to_str().unwrap_or_default();
    let e = failure(&[
        "tree",
        "eval",
        "--model",
        model,
        "--tree",
        "/nonexistent/c.tree",
    ]);
    assert!(e.contains("--tree /nonexistent/c.tree"), "{e}");
    let e = failure(&["eval", "--jobsets", "2", "--rule", "shorter-frist"]);
    assert!(
        e.contains("--rule") && e.contains("did you mean `shorter-first`?"),
        "{e}"
    );
}

#[test]
fn compare_and_eval_say_better_worse_or_tie_by_the_paired_interval() {
    // Packer loses to SJF on DeepRM's rate-0.7 reference cases (docs/results.md: 12.5 vs 5.0
    // on the demo's job sets).
    let files: Vec<String> = (0..10)
        .map(|s| {
            fixture(&format!("rate0.7_seed{s}_nw10.json"))
                .display()
                .to_string()
        })
        .collect();
    let mut args = vec![
        "compare",
        "--slots",
        "10",
        "--policies",
        "sjf,packer",
        "--format",
        "json",
        "--jobs",
    ];
    args.extend(files.iter().map(String::as_str));
    let c = json(&args);
    assert_eq!(c["rows"][0]["verdict"], Value::Null);
    let low = c["rows"][1]["diff_ci95"][0].as_f64().unwrap_or(f64::NAN);
    assert!(low > 0.0, "{}", c["rows"][1]);
    assert_eq!(c["rows"][1]["verdict"], "worse");
    let e = json(&[
        "eval",
        "--jobsets",
        "30",
        "--rate",
        "0.7",
        "--slots",
        "10",
        "--policies",
        "sjf,packer",
        "--format",
        "json",
    ]);
    let vs = &e["rows"][1]["vs_reference"];
    assert_eq!(vs["reference"], "sjf");
    assert!(vs["ci95_low"].as_f64().is_some_and(|l| l > 0.0), "{vs}");
    assert_eq!(vs["verdict"], "worse");
}

/// `verify` exits with 1 when a property is refuted and 0 when it is proved, so CI can gate on
/// it (docs/verify.md: `deeprm.model` proves `no-idle` with jobs only in slots 0-3, and
/// `util80-wc.model` refutes it).
#[test]
fn verify_exits_with_one_when_a_property_is_refuted() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models");
    let verify = |model: &str, region: &[&str]| {
        Command::new(BIN)
            .args(["verify", "--property", "no-idle", "--model"])
            .arg(models.join(model))
            .args(region)
            .output()
            .expect("run whitebox")
    };
    let proved = verify("deeprm.model", &["--region", "slot[4..9].len=0"]);
    assert_eq!(proved.status.code(), Some(0), "{}", text(&proved.stdout));
    assert!(text(&proved.stdout).contains("no-idle: proved"));
    let refuted = verify("util80-wc.model", &[]);
    assert_eq!(refuted.status.code(), Some(1), "{}", text(&refuted.stdout));
    assert!(text(&refuted.stdout).contains("no-idle: refuted"));
}
