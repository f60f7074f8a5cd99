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

/// Writes `value` (a trace, tampered by the caller) to a temporary file named after `tag`,
/// replays it with `model` and gives the command's output.
fn replay_tampered(value: &serde_json::Value, tag: &str, model: &Path) -> Output {
    let copy =
        std::env::temp_dir().join(format!("whitebox-trace-{}-{tag}.json", std::process::id()));
    std::fs::write(&copy, value.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let out = whitebox(&[
        "replay",
        copy.to_str().unwrap_or_default(),
        "--model",
        model.to_str().unwrap_or_default(),
    ]);
    std::fs::remove_file(&copy).ok();
    out
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
    let out = replay_tampered(&value, "tampered", &model);
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

// ---- Traces with operator rules (`record --rule ...`) ----

fn load(name: &str) -> serde_json::Value {
    let path = golden_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The shipped traces recorded with rules: the shield and a finite `C`.
const RULE_TRACES: [&str; 2] = ["default-heavy-rules.json", "default-heavy-rules-c6.json"];

#[test]
fn rule_traces_replay_identically_and_record_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in RULE_TRACES {
        let golden = golden_dir().join(name);
        let out = whitebox(&["replay", golden.to_str().unwrap_or_default()]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
        assert!(stdout.contains(": identical"), "{stdout}");

        let value = load(name);
        let rules = &value["rules"];
        let given: Vec<&str> = rules["given"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no rules.given"))
            .iter()
            .filter_map(|r| r.as_str())
            .collect();
        assert_eq!(given, ["util<=0.8", "work-conserving"], "{name}");
        let c = match &rules["c"] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // Every decision carries the rule fields, one verdict per rule.
        for d in value["decisions"].as_array().unwrap_or(&Vec::new()) {
            assert_eq!(d["projected_probs_bits"].as_array().map(Vec::len), Some(11));
            assert_eq!(d["rule_verdicts"].as_array().map(Vec::len), Some(2));
            assert_eq!(
                d["changed"].as_bool(),
                Some(d["raw_choice"] != d["action"]),
                "{name}: {d}"
            );
        }
        let model = format!(
            "model:{}",
            value["model"]["path"].as_str().unwrap_or_default()
        );
        let source = value["source"].as_str().unwrap_or_default().to_string();
        let tmp =
            std::env::temp_dir().join(format!("whitebox-trace-{}-{name}", std::process::id()));
        let mut args = vec!["record", "--policy", &model, "--jobs", &source];
        for r in &given {
            args.extend(["--rule", r]);
        }
        args.extend(["--rule-c", &c, "--out"]);
        let o = Command::new(BIN)
            .current_dir(&root)
            .args(&args)
            .arg(&tmp)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(o.status.success(), "{}", text(&o.stderr));
        let got = std::fs::read_to_string(&tmp).unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_file(&tmp).ok();
        let expected = std::fs::read_to_string(&golden).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn a_tampered_projected_probability_bit_is_the_first_divergence() {
    let mut value = load("default-heavy-rules.json");
    // The first decision the rules changed: its projected probability of the action taken.
    let k = value["decisions"]
        .as_array()
        .and_then(|ds| ds.iter().position(|d| d["changed"] == true))
        .unwrap_or_else(|| panic!("no decision changed by the rules"));
    let action = value["decisions"][k]["action"].as_u64().unwrap_or_default() as usize;
    let bits = &mut value["decisions"][k]["projected_probs_bits"][action];
    let old = bits.as_u64().unwrap_or_else(|| panic!("no projected bits"));
    *bits = serde_json::json!(old ^ 1);
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model");
    let out = replay_tampered(&value, "tampered-rules", &model);
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    let expected = format!(
        "first divergence at decision {k}, field `projected_probs_bits[{action}]`: expected {:#010x} ({:?}), got {:#010x} ({:?})",
        old ^ 1,
        f32::from_bits((old ^ 1) as u32),
        old,
        f32::from_bits(old as u32)
    );
    assert!(stdout.contains(&expected), "{stdout}\nwanted: {expected}");
}

/// Plays a trace's recorded actions (no policy, no rules) and returns per job its start and
/// finish: the schedule the trace describes.
fn recorded_schedule(trace: &serde_json::Value) -> Vec<(u64, u64, [u64; 2])> {
    use whitebox_core::{run, Action, Cluster, EndMode, Episode, Job, PolicyError, Scheduler};
    use whitebox_runtime::record::Recorder;

    struct Replayed<'a> {
        decisions: &'a [serde_json::Value],
        next: usize,
    }
    impl Scheduler<10> for Replayed<'_> {
        fn decide(&mut self, cluster: &Cluster<10>) -> Result<Action, PolicyError> {
            let d = &self.decisions[self.next];
            assert_eq!(d["time"].as_u64(), Some(u64::from(cluster.now())), "{d}");
            self.next += 1;
            let k = d["action"].as_u64().unwrap_or(u64::MAX) as usize;
            Ok(Action::from_index(k, 10).unwrap_or_else(|| panic!("action {k}")))
        }
    }

    assert_eq!(trace["slots"], 10);
    assert_eq!(trace["end"]["mode"], "all-done");
    let field = |j: &serde_json::Value, k: &str| j[k].as_u64().unwrap_or_default() as u32;
    let jobs: Vec<Job> = trace["jobs"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .enumerate()
        .map(|(id, j)| {
            let res = [
                j["res"][0].as_u64().unwrap_or_default() as u32,
                j["res"][1].as_u64().unwrap_or_default() as u32,
            ];
            Job::new(id as u32, field(j, "arrival"), field(j, "len"), res)
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let end = EndMode::AllDone {
        time_cap: field(&trace["end"], "time_cap"),
    };
    let mut recorder = Recorder::new(&jobs, 10);
    let mut episode: Episode<'_, 10> =
        Episode::new(&jobs, end, &mut recorder).unwrap_or_else(|e| panic!("{e}"));
    let decisions = trace["decisions"]
        .as_array()
        .unwrap_or_else(|| panic!("decisions"));
    let mut scheduler = Replayed { decisions, next: 0 };
    run(&mut episode, &mut scheduler, &mut recorder).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        scheduler.next,
        decisions.len(),
        "every recorded decision used"
    );
    recorder
        .jobs
        .iter()
        .map(|j| {
            let (Some(s), Some(f)) = (j.start, j.finish) else {
                panic!("a job never started: {j:?}");
            };
            (u64::from(s), u64::from(f), j.res.map(u64::from))
        })
        .collect()
}

/// Per (time step, resource) above 8 of 10 units: the step, the units used, and how many jobs
/// use the resource in that step.
fn above_eight(schedule: &[(u64, u64, [u64; 2])]) -> Vec<(u64, usize, u64, usize)> {
    let end = schedule.iter().map(|j| j.1).max().unwrap_or(0);
    let mut out = Vec::new();
    for step in 0..end {
        for r in 0..2 {
            let users: Vec<u64> = schedule
                .iter()
                .filter(|(s, f, res)| *s <= step && step < *f && res[r] > 0)
                .map(|(_, _, res)| res[r])
                .collect();
            let used: u64 = users.iter().sum();
            if used > 8 {
                out.push((step, r, used, users.len()));
            }
        }
    }
    out
}

#[test]
fn the_shield_trace_schedule_never_exceeds_the_cap_except_for_lone_jobs() {
    let shielded = above_eight(&recorded_schedule(&load("default-heavy-rules.json")));
    let not_lone: Vec<_> = shielded.iter().filter(|v| v.3 != 1).collect();
    assert!(
        not_lone.is_empty(),
        "steps above 8 of 10 units with more than one job: {not_lone:?}"
    );
    // The jobs include 9- and 10-unit ones, so lone jobs above the cap do occur; and without
    // the rules the same model does exceed the cap with several jobs (so the check has teeth).
    assert!(!shielded.is_empty());
    let free = above_eight(&recorded_schedule(&load("default-heavy.json")));
    assert!(free.iter().any(|v| v.3 > 1), "{free:?}");
}

// ---- Guarded traces (`record --guard ...`) ----

/// The shipped guarded traces: renewal mode (a hand-over at a renewal), budget mode (f32 and
/// int8), and lookahead mode with the repairing fallback `sjf-reserve`.
const GUARD_TRACES: [&str; 4] = [
    "default-adversarial-guard-renewal.json",
    "default-adversarial-guard-budget.json",
    "default-adversarial-guard-budget-int8.json",
    "default-starvation-guard-lookahead-reserve.json",
];

#[test]
fn guarded_traces_hand_over_and_record_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in GUARD_TRACES {
        let value = load(name);
        let guard = &value["guard"];
        let handovers = guard["handovers"].as_array().cloned().unwrap_or_default();
        // The start and at least one hand-over to the fallback, and decisions by both.
        assert!(handovers.len() >= 2, "{name}: {guard}");
        assert!(handovers.iter().any(|h| h["to"] == "fallback"), "{name}");
        let by = |who: &str| {
            value["decisions"]
                .as_array()
                .map_or(0, |ds| ds.iter().filter(|d| d["decided_by"] == who).count())
        };
        assert!(by("learned") > 0 && by("fallback") > 0, "{name}");
        let mode = guard["mode"].as_str().unwrap_or_default().to_string();
        let (eps, c) = (guard["eps"].to_string(), guard["c"].to_string());
        let kind = if value["int8"].is_null() {
            "model"
        } else {
            "int8"
        };
        let model = format!(
            "{kind}:{}",
            value["model"]["path"].as_str().unwrap_or_default()
        );
        let fallback = guard["fallback"].as_str().unwrap_or("sjf").to_string();
        let source = value["source"].as_str().unwrap_or_default().to_string();
        let tmp =
            std::env::temp_dir().join(format!("whitebox-trace-{}-{name}", std::process::id()));
        let o = Command::new(BIN)
            .current_dir(&root)
            .args(["record", "--policy", &model, "--jobs", &source])
            .args([
                "--guard",
                &mode,
                "--guard-eps",
                &eps,
                "--guard-c",
                &c,
                "--guard-fallback",
                &fallback,
                "--out",
            ])
            .arg(&tmp)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(o.status.success(), "{}", text(&o.stderr));
        let got = std::fs::read_to_string(&tmp).unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_file(&tmp).ok();
        let expected =
            std::fs::read_to_string(golden_dir().join(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn a_tampered_hand_over_is_a_divergence_naming_its_step() {
    let mut value = load("default-adversarial-guard-renewal.json");
    let h = &mut value["guard"]["handovers"][1];
    let step = h["step"].as_u64().unwrap_or_else(|| panic!("no hand-over"));
    let cost = h["sjf_cost"].as_u64().unwrap_or_default();
    h["sjf_cost"] = serde_json::json!(cost + 1);
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model");
    let out = replay_tampered(&value, "tampered-guard", &model);
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "(step {step}), field `guard.handovers[1].sjf_cost`"
        )),
        "{stdout}"
    );
}

#[test]
fn the_repairing_fallback_decides_and_is_replayed_as_recorded() {
    // The trace recorded with `--guard-fallback sjf-reserve`, replayed as if the fallback had
    // been SJF: the schedules part at a fallback decision (the reservation), not at the
    // parameters, so the recorded fallback is what the replay rebuilt.
    let mut value = load("default-starvation-guard-lookahead-reserve.json");
    assert_eq!(value["guard"]["fallback"], "sjf-reserve");
    if let Some(g) = value["guard"].as_object_mut() {
        g.remove("fallback");
    }
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model");
    let out = replay_tampered(&value, "sjf-fallback", &model);
    // Exit code 1: the replay ran and diverged (2 would be a trace it could not replay).
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("first divergence at decision"), "{stdout}");
    assert!(!stdout.contains("guard.fallback"), "{stdout}");
}

#[test]
fn bad_guard_flags_name_flag_value_and_range() {
    let jobs = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/guard/default-deeprm-gap-seed1-1-twice.json");
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model");
    let model = format!("model:{}", model.display());
    let out_file =
        std::env::temp_dir().join(format!("whitebox-trace-{}-bad.json", std::process::id()));
    for (flags, wanted) in [
        (
            ["--guard", "shadow"],
            "--guard: guard mode `shadow` is unknown",
        ),
        (
            ["--guard-eps", "-0.5"],
            "--guard-eps: guard parameter `eps` = -0.5, must be a number in [0, 10]",
        ),
        (
            ["--guard-c", "NaN"],
            "--guard-c: guard parameter `c` = NaN, must be a number in [0, 1000000]",
        ),
    ] {
        let mut args = vec![
            "record",
            "--policy",
            &model,
            "--jobs",
            jobs.to_str().unwrap_or_default(),
        ];
        args.extend(flags);
        args.extend(["--out", out_file.to_str().unwrap_or_default()]);
        let out = whitebox(&args);
        assert!(!out.status.success(), "{flags:?}");
        assert!(text(&out.stderr).contains(wanted), "{}", text(&out.stderr));
    }
}

#[test]
fn explain_says_a_guarded_decision_was_sjfs() {
    let golden = golden_dir().join("default-adversarial-guard-renewal.json");
    let value = load("default-adversarial-guard-renewal.json");
    let decisions = value["decisions"].as_array().cloned().unwrap_or_default();
    let k = decisions
        .iter()
        .position(|d| d["decided_by"] == "fallback")
        .unwrap_or_else(|| panic!("no decision by the fallback"));
    let h = &value["guard"]["handovers"][1];
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model");
    let explain = |k: usize| {
        let out = whitebox(&[
            "explain",
            "--model",
            model.to_str().unwrap_or_default(),
            "--trace",
            golden.to_str().unwrap_or_default(),
            "--decision",
            &k.to_string(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let stdout = explain(k);
    let wanted = format!(
        "decision {k} was SJF's, not the network's: the renewal guard gave the decisions to SJF since step {} (renewal-over-budget;",
        h["step"]
    );
    assert!(stdout.contains(&wanted), "{stdout}\nwanted: {wanted}");
    assert!(
        stdout.contains(&format!(
            "scaled charge {} vs {}",
            h["real_cost"], h["sjf_cost"]
        )),
        "{stdout}"
    );
    let stdout = explain(0);
    assert!(
        stdout.contains("decision 0 was the network's: the renewal guard left the decisions to the learned policy since step 0 (start;"),
        "{stdout}"
    );
}

// ---- Traces of the int8 policy (`record --policy int8:PATH`) ----

/// The shipped traces of the int8 policy, with the `--rule` texts they were recorded with.
const INT8_TRACES: [(&str, &[&str]); 4] = [
    ("default-heavy-int8.json", &[]),
    ("default-adversarial-int8.json", &[]),
    (
        "default-heavy-rules-int8.json",
        &["util<=0.8", "work-conserving"],
    ),
    ("distilled-heavy-int8.json", &[]),
];

#[test]
fn int8_traces_record_byte_for_byte_and_decide_by_their_integer_logits() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (name, rules) in INT8_TRACES {
        let value = load(name);
        // The quantization of `int8:PATH`: input range 1 (0x3f800000), a calibrated hidden
        // range, and the calibration's 20 job sets.
        let q = &value["int8"];
        assert_eq!(q["input_max_bits"], 0x3f80_0000_u32, "{name}");
        assert!(
            q["calibration_states"].as_u64().unwrap_or(0) > 1000,
            "{name}"
        );
        // Without rules the action is the allowed output with the largest i32 logit (lowest
        // index on ties): decided here from the stored bits, read as two's complement.
        if rules.is_empty() {
            for d in value["decisions"].as_array().unwrap_or(&Vec::new()) {
                let valid: Vec<bool> = d["valid"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .map(|c| c == '1')
                    .collect();
                let logits: Vec<i32> = d["logits_bits"]
                    .as_array()
                    .unwrap_or(&Vec::new())
                    .iter()
                    .map(|b| (b.as_u64().unwrap_or(0) as u32).cast_signed())
                    .collect();
                assert_eq!(logits.len(), 11, "{name}");
                let mut best: Option<usize> = None;
                for (k, &l) in logits.iter().enumerate() {
                    if valid[k] && best.is_none_or(|b| l > logits[b]) {
                        best = Some(k);
                    }
                }
                assert_eq!(d["action"].as_u64(), best.map(|b| b as u64), "{name}: {d}");
            }
        }
        let model = format!(
            "int8:{}",
            value["model"]["path"].as_str().unwrap_or_default()
        );
        let source = value["source"].as_str().unwrap_or_default().to_string();
        let tmp =
            std::env::temp_dir().join(format!("whitebox-trace-{}-{name}", std::process::id()));
        let mut args = vec!["record", "--policy", &model, "--jobs", &source];
        for r in rules {
            args.extend(["--rule", r]);
        }
        args.push("--out");
        let o = Command::new(BIN)
            .current_dir(&root)
            .args(&args)
            .arg(&tmp)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(o.status.success(), "{}", text(&o.stderr));
        let got = std::fs::read_to_string(&tmp).unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_file(&tmp).ok();
        let expected =
            std::fs::read_to_string(golden_dir().join(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn a_tampered_int8_logit_is_reported_as_an_integer() {
    let mut value = load("default-heavy-int8.json");
    let bits = &mut value["decisions"][5]["logits_bits"][3];
    let old = bits.as_u64().unwrap_or_else(|| panic!("no logit bits"));
    *bits = serde_json::json!(old ^ 1);
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model");
    let out = replay_tampered(&value, "tampered-int8", &model);
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    let int = |b: u64| (b as u32).cast_signed();
    let expected = format!(
        "first divergence at decision 5, field `logits_bits[3]`: expected {:#010x} ({}), got {:#010x} ({})",
        old ^ 1,
        int(old ^ 1),
        old,
        int(old)
    );
    assert!(stdout.contains(&expected), "{stdout}\nwanted: {expected}");
}

// ---- Traces of a decision tree (`record --policy tree:PATH`) ----

/// The `--rule` arguments a golden trace was recorded with.
fn rule_args(t: &serde_json::Value) -> Vec<String> {
    t["rules"]["given"]
        .as_array()
        .map(|given| {
            given
                .iter()
                .flat_map(|r| ["--rule".to_string(), r.as_str().unwrap_or_default().into()])
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn tree_traces_record_byte_for_byte_and_name_a_leaf_per_decision() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in [
        "tree-heavy.json",
        "tree-adversarial.json",
        "tree-heavy-rules.json",
    ] {
        let expected =
            std::fs::read_to_string(golden_dir().join(name)).unwrap_or_else(|e| panic!("{e}"));
        let t: serde_json::Value =
            serde_json::from_str(&expected).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            t.get("model").is_none(),
            "{name}: a tree trace names no model"
        );
        let tree = t["tree"]["path"].as_str().unwrap_or_default();
        assert_eq!(tree, "fixtures/models/default.tree", "{name}");
        let decisions = t["decisions"].as_array().cloned().unwrap_or_default();
        assert!(
            decisions.len() > 100,
            "{name}: {} decisions",
            decisions.len()
        );
        for d in &decisions {
            // Leaves of a tree of at most 255 nodes; the root (0) is a split in the shipped one.
            let leaf = d["leaf"].as_u64().unwrap_or_else(|| panic!("{name}: {d}"));
            assert!((1..255).contains(&leaf), "{name}: {d}");
            if t.get("rules").is_none() {
                // Without rules the action is the argmax of the allowed rank scores (the
                // leaf's action 0 unless masked, the others -(64 + k)), lowest index on ties.
                let valid = d["valid"].as_str().unwrap_or_default().as_bytes();
                let score = |k: usize| {
                    let bits = d["logits_bits"][k].as_u64().unwrap_or_default() as u32;
                    f32::from_bits(bits)
                };
                let best = (0..valid.len()).filter(|&k| valid[k] == b'1').fold(
                    None,
                    |b: Option<usize>, k| match b {
                        Some(b) if score(b) >= score(k) => Some(b),
                        _ => Some(k),
                    },
                );
                assert_eq!(d["action"].as_u64(), best.map(|b| b as u64), "{name}: {d}");
            }
        }
        let out = std::env::temp_dir().join(format!("wbx-{}-{name}", std::process::id()));
        let mut args: Vec<String> = [
            "record",
            "--policy",
            &format!("tree:{tree}"),
            "--jobs",
            t["source"].as_str().unwrap_or_default(),
            "--out",
            out.to_str().unwrap_or_default(),
        ]
        .map(String::from)
        .to_vec();
        args.extend(rule_args(&t));
        let run = Command::new(BIN)
            .args(&args)
            .current_dir(&root)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(run.status.success(), "{}", text(&run.stderr));
        let written = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_file(&out).ok();
        assert!(written == expected, "{name}: re-recorded text differs");
    }
}

/// `tree-heavy.json` with `f` applied, written to a temporary file; replayed with `--model`
/// `tree` (default: the recorded tree). Returns (success, stdout, stderr).
fn replay_tampered_tree(
    tag: &str,
    f: impl FnOnce(&mut serde_json::Value),
    tree: Option<&Path>,
) -> (bool, String, String) {
    let mut value = load("tree-heavy.json");
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(value["tree"]["path"].as_str().unwrap_or_default());
    f(&mut value);
    let out = replay_tampered(&value, tag, tree.unwrap_or(&recorded));
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn a_tampered_tree_action_or_leaf_is_the_first_divergence() {
    let t = load("tree-heavy.json");
    let decisions = t["decisions"].as_array().cloned().unwrap_or_default();
    // The first decision that starts a job (action below 10 slots): recorded as void instead.
    let k = decisions
        .iter()
        .position(|d| d["action"].as_u64().is_some_and(|a| a < 10))
        .unwrap_or_else(|| panic!("no job started in tree-heavy"));
    let action = decisions[k]["action"].clone();
    let (ok, stdout, _) =
        replay_tampered_tree("action", |v| v["decisions"][k]["action"] = 10.into(), None);
    assert!(!ok);
    let want =
        format!("first divergence at decision {k}, field `action`: expected 10, got {action}");
    assert!(stdout.contains(&want), "{stdout}\nwanted: {want}");
    // Another leaf at decision 7: named as the leaf, before the scores it decides.
    let leaf = decisions[7]["leaf"].as_u64().unwrap_or_default();
    let (ok, stdout, _) = replay_tampered_tree(
        "leaf",
        |v| v["decisions"][7]["leaf"] = (leaf + 1).into(),
        None,
    );
    assert!(!ok);
    let want = format!(
        "first divergence at decision 7, field `leaf`: expected {}, got {leaf}",
        leaf + 1
    );
    assert!(stdout.contains(&want), "{stdout}\nwanted: {want}");
}

#[test]
fn a_tree_trace_is_refused_with_another_tree_file() {
    use whitebox_core::tree::{file, Node, Tree};
    // A valid 10-slot tree other than the shipped one: slot0.fit <= 0 ? start slot 0 : void.
    let nodes = [
        Node::Split {
            feature: 3,
            threshold: 0,
            left: 1,
            right: 2,
        },
        Node::Leaf { action: 0 },
        Node::Leaf { action: 10 },
    ];
    let tree = Tree::<10>::from_nodes(&nodes).unwrap_or_else(|e| panic!("{e}"));
    let mut bytes = vec![0u8; file::file_len(nodes.len())];
    let n = file::save(&tree, &mut bytes).unwrap_or_else(|e| panic!("{e}"));
    let other = std::env::temp_dir().join(format!("wbx-{}-other.tree", std::process::id()));
    std::fs::write(&other, &bytes[..n]).unwrap_or_else(|e| panic!("{e}"));
    let (ok, stdout, stderr) = replay_tampered_tree("other", |_| {}, Some(&other));
    std::fs::remove_file(&other).ok();
    assert!(!ok && !stdout.contains("identical"), "{stdout}");
    let t = load("tree-heavy.json");
    let want = format!(
        "was recorded with tree fixtures/models/default.tree ({} bytes, CRC-32 {:#010x}), but {} has {n} bytes",
        t["tree"]["bytes"],
        t["tree"]["crc32"].as_u64().unwrap_or_default(),
        other.display()
    );
    assert!(stderr.contains(&want), "{stderr}\nwanted: {want}");
}

#[test]
fn explain_on_a_tree_decision_prints_its_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let t = load("tree-heavy.json");
    let tree = root.join(t["tree"]["path"].as_str().unwrap_or_default());
    let policy = format!("tree:{}", tree.display());
    let golden = golden_dir().join("tree-heavy.json");
    for k in [0usize, 1, 7, 50] {
        let d = &t["decisions"][k];
        let out = whitebox(&[
            "explain",
            "--policy",
            &policy,
            "--trace",
            golden.to_str().unwrap_or_default(),
            "--decision",
            &k.to_string(),
        ]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
        let head = format!("decision {k} at time step {}: ", d["time"]);
        assert!(stdout.starts_with(&head), "{stdout}");
        // Tests joined by `and`, then the leaf's action; no gradients.
        let path = stdout.lines().next().unwrap_or_default();
        assert!(path.contains(" <= ") || path.contains(" > "), "{stdout}");
        assert!(
            path.contains(" -> ") && !stdout.contains("Shapley"),
            "{stdout}"
        );
        let action = d["action"].as_u64().unwrap_or(99);
        let name = if action == 10 {
            "void".to_string()
        } else {
            format!("start slot {action}")
        };
        assert!(
            stdout.contains(&format!("tree policy: {name}\nrecorded: {name}\n")),
            "{stdout}"
        );
    }
}
