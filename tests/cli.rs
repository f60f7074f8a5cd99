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
        &r["mean_slowdown"],
        &reference["mean_sd_true"],
        "mean slowdown",
    );
    assert_close(
        &r["mean_slowdown_completed"],
        &reference["mean_sd_completed_by_end"],
        "mean slowdown of completed jobs",
    );
    assert_eq!(r["final_time"], reference["final_time"]);
    assert_eq!(r["decisions"], reference["steps"]);
    assert_eq!(r["actions"], reference["actions"]);
    assert_eq!(r["allocated"], reference["n_allocated"]);
    assert_close(
        &r["total_reward"],
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
    assert_eq!(r["truncated"], false);
    let utilization = r["utilization"].as_array().expect("utilization");
    assert_eq!(
        utilization.len() as u64,
        r["final_time"].as_u64().unwrap_or(0)
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
    assert_eq!(r["final_time"], reference["final_time"]);
    assert_eq!(r["allocated"], reference["n_allocated"]);
    assert_eq!(r["completed"], reference["n_completed_by_end"]);
    assert_close(
        &r["mean_slowdown"],
        &reference["mean_sd_true"],
        "mean slowdown",
    );
    assert_close(
        &r["mean_slowdown_completed"],
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
        assert_eq!(Some(count(status)), r[key].as_u64(), "{status}");
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
    let table = stdout_of(&base);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.contains("slowdown mean [95% CI]"), "{table}");
}

#[test]
fn demo_writes_the_eval_json_of_its_settings() {
    let dir = std::env::temp_dir().join(format!("whitebox-cli-{}-demo", std::process::id()));
    let d = dir.to_str().expect("utf-8 path");
    let table = stdout_of(&["demo", "--out", d, "--jobsets", "2"]);
    assert_eq!(table.lines().count(), 1 + 3 * 4, "{table}");
    let written = std::fs::read_to_string(dir.join("demo.json")).expect("demo.json written");
    let _ = std::fs::remove_dir_all(&dir);
    let eval = stdout_of(&[
        "eval",
        "--workload",
        "deeprm",
        "--rate",
        "0.3,0.5,0.7",
        "--jobsets",
        "2",
        "--seed",
        "7000",
        "--slots",
        "10",
        "--end",
        "all-done",
        "--format",
        "json",
    ]);
    assert_eq!(written, eval);
}
