//! The guard (`docs/guard.md`) through the runtime and the command line.
//!
//! * The renewal theorem, stated with the guard's own constants on generated and mutated job
//!   sequences with the shipped model: `R <= (1 + eps) S + c + L`, with `S` from an independent
//!   pure SJF episode; and, checked independently by playing the pure SJF and pure learned
//!   episodes step by step, that at every renewal the guard reported the two pure clusters are in
//!   the same state, and that `R` is the sum over time steps of the pure charge of the policy in
//!   charge (its rounds' costs).
//! * Both modes: a guarded run without a hand-over is the unguarded learned run, exactly.
//! * The command line: `simulate --guard` JSON, bad parameters named with flag, value and range,
//!   a guard refused on a baseline.
//!
//! Property tests run `WHITEBOX_PROPTEST_CASES` cases each (default 24).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::Value;
use whitebox_core::guard::{GuardMode, GuardParams};
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::{Cluster, EndMode, Episode, Job, Leader, Scheduler, Sjf};
use whitebox_runtime::guard::GuardSettings;
use whitebox_runtime::play::{play_explained, Explanations, GuardOutcome};
use whitebox_runtime::policy::{PolicyName, PolicySpec};
use whitebox_runtime::settings::Slots;

const BIN: &str = env!("CARGO_BIN_EXE_whitebox");
const MODEL: &str = "fixtures/models/deeprm.model";
const END: EndMode = EndMode::AllDone { time_cap: 10_000 };

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn model() -> &'static PolicySpec {
    static MODEL_POLICY: OnceLock<PolicySpec> = OnceLock::new();
    MODEL_POLICY.get_or_init(|| {
        PolicyName::parse(&format!("model:{}", root().join(MODEL).display()))
            .and_then(|p| p.with(0.5, 0))
            .unwrap_or_else(|e| panic!("cannot load the shipped model: {e:#}"))
    })
}

fn cases() -> u32 {
    std::env::var("WHITEBOX_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/proptest-regressions/guard.txt"
        )))),
        ..ProptestConfig::default()
    }
}

/// A generated job sequence (any workload, rates up to 0.9, `simu_len` 50) with up to 8 jobs
/// changed (length 1-20, demands 1-10 units) or dropped.
fn sequences() -> impl Strategy<Value = Vec<Job>> {
    let mutation = (any::<prop::sample::Index>(), 0u8..=20, 1u8..=10, 1u8..=10);
    (
        prop::sample::select(Workload::ALL.to_vec()),
        prop::sample::select(vec![0.3, 0.5, 0.7, 0.9]),
        any::<u64>(),
        prop::collection::vec(mutation, 0..8),
    )
        .prop_map(|(workload, rate, seed, mutations)| {
            let mut jobs: Vec<Job> = JobGenerator::new(workload, rate, 50, seed).collect();
            for (at, len, r0, r1) in mutations {
                if jobs.is_empty() {
                    break;
                }
                let i = at.index(jobs.len());
                if len == 0 {
                    jobs.remove(i);
                } else {
                    jobs[i].len = len;
                    jobs[i].res = [r0, r1];
                }
            }
            for (id, j) in jobs.iter_mut().enumerate() {
                j.id = id as u32;
            }
            jobs
        })
}

fn guarded(jobs: &[Job], mode: GuardMode) -> (whitebox_core::Summary, GuardOutcome) {
    let settings = GuardSettings::new(mode, GuardParams::DEFAULT_EPS, GuardParams::DEFAULT_C)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let policy = model()
        .clone()
        .guarded(Some(settings))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let mut out = Explanations::default();
    let s = play_explained(jobs, Slots::Ten, END, &policy, &mut (), Some(&mut out))
        .unwrap_or_else(|e| panic!("guarded play failed: {e:#}"));
    let g = out.guard.unwrap_or_else(|| panic!("no guard outcome"));
    (s, g)
}

/// A pure episode played step by step: the charge of every time step (scaled by
/// `INV_LEN_SCALE`) and the cluster at the start of every time step.
struct Pure {
    charges: Vec<u64>,
    states: Vec<Cluster<10>>,
    total: u64,
}

fn pure(jobs: &[Job], scheduler: &mut impl Scheduler<10>) -> Pure {
    let mut ep: Episode<'_, 10> =
        Episode::new(jobs, END, &mut ()).unwrap_or_else(|e| panic!("{e}"));
    let mut p = Pure {
        charges: vec![ep.cluster().in_system().inv_len_scaled],
        states: vec![ep.cluster().clone()],
        total: 0,
    };
    while !ep.is_done() {
        let a = scheduler
            .decide(ep.cluster())
            .unwrap_or_else(|e| panic!("{e}"));
        ep.step(a, &mut ());
        if ep.cluster().now() as usize == p.charges.len() {
            p.charges.push(ep.cluster().in_system().inv_len_scaled);
            p.states.push(ep.cluster().clone());
        }
    }
    p.total = ep.charged().inv_len_scaled;
    p
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn renewal_guard_keeps_its_theorem(jobs in sequences()) {
        let (_, g) = guarded(&jobs, GuardMode::Renewal);
        let x = &g.exact;
        let sjf = pure(&jobs, &mut Sjf);
        let learned = pure(&jobs, &mut model().scheduler());
        // The per-step accounting of the pure runs is the episode's own.
        prop_assert_eq!(sjf.charges.iter().sum::<u64>(), sjf.total);
        prop_assert_eq!(learned.charges.iter().sum::<u64>(), learned.total);
        // The theorem, exact: 1000 (R - L) <= (1000 + 1000 eps) S + 1000 c INV_LEN_SCALE.
        let params = GuardParams::default();
        let l = x.stats.worst_round_loss;
        prop_assert!(
            x.real_cost <= l || params.within(x.real_cost - l, sjf.total),
            "R = {} > (1 + eps) S + c + L with S = {}, L = {}", x.real_cost, sjf.total, l
        );
        // SJF's cost as the guard accounts it is the pure SJF cost over the guarded run's steps.
        let steps = x.stats.steps as usize;
        let s_prefix: u64 = sjf.charges.iter().take(steps).sum();
        prop_assert_eq!(x.sjf_cost, s_prefix);
        // At every renewal the pure schedules meet.
        prop_assert_eq!(x.renewal_steps.len(), x.stats.renewals as usize);
        prop_assert_eq!(x.renewal_steps.first().copied(), Some(0));
        for &t in &x.renewal_steps {
            let (a, b) = (sjf.states.get(t as usize), learned.states.get(t as usize));
            prop_assert!(
                a.zip(b).is_some_and(|(a, b)| a.same_state(b)),
                "pure SJF and pure learned differ at renewal step {}", t
            );
        }
        // Hand-overs happen at renewals only, and R is the leader's pure cost, step by step.
        for h in &x.handovers {
            prop_assert!(x.renewal_steps.contains(&h.step), "hand-over at {} off a renewal", h.step);
        }
        let mut r = 0u64;
        for t in 0..steps {
            let leader = x.handovers.iter().rev().find(|h| h.step as usize <= t).map(|h| h.to);
            let pure = match leader {
                Some(Leader::Learned) => &learned,
                Some(Leader::Fallback) => &sjf,
                None => return Err(TestCaseError::fail(format!("no leader at step {t}"))),
            };
            let c = pure.charges.get(t).copied();
            prop_assert!(c.is_some(), "the leader's pure run ended before step {}", t);
            r += c.unwrap_or(0);
        }
        prop_assert_eq!(r, x.real_cost);
    }

    #[test]
    fn without_a_handover_the_guard_changes_nothing(jobs in sequences()) {
        let plain = play_explained(&jobs, Slots::Ten, END, model(), &mut (), None)
            .unwrap_or_else(|e| panic!("{e:#}"));
        for mode in [GuardMode::Renewal, GuardMode::Budget, GuardMode::Lookahead] {
            let (s, g) = guarded(&jobs, mode);
            let start = g.exact.handovers.first().map(|h| h.to);
            if g.handovers == 0 && start == Some(Leader::Learned) {
                prop_assert_eq!(g.learned_steps, g.steps);
                prop_assert_eq!(&s, &plain);
            }
        }
    }
}

/// By hand: a sequence on which the learned policy never falls behind SJF (one job) is played
/// exactly as unguarded in budget mode, and a shrunk adversarial fixture makes the budget guard
/// hand over to SJF.
#[test]
fn budget_guard_hands_over_only_when_behind() {
    let one = [Job::new(0, 0, 3, [2, 2]).unwrap_or_else(|e| panic!("{e}"))];
    let (s, g) = guarded(&one, GuardMode::Budget);
    let plain = play_explained(&one, Slots::Ten, END, model(), &mut (), None)
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!((g.handovers, g.learned_steps), (0, g.steps));
    assert_eq!(s, plain);
    let fixture = root().join("fixtures/adversarial/default-deeprm-gap-seed1-1.json");
    let jobs = whitebox_runtime::jobfile::load(&fixture).unwrap_or_else(|e| panic!("{e:#}"));
    let (s, g) = guarded(&jobs, GuardMode::Budget);
    let plain = play_explained(&jobs, Slots::Ten, END, model(), &mut (), None)
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(g.handovers >= 1 && g.learned_steps < g.steps, "{g:?}");
    assert!(g.handover_list.iter().any(|h| h.reason == "over-budget"));
    assert!(s.mean_slowdown < plain.mean_slowdown);
}

fn whitebox(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(root())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run whitebox: {e}"))
}

const FIXTURE: &str = "fixtures/adversarial/default-deeprm-gap-seed1-1.json";

fn simulate(extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "simulate",
        "--jobs",
        FIXTURE,
        "--policy",
        "model:fixtures/models/deeprm.model",
        "--slots",
        "10",
        "--end",
        "all-done",
    ];
    args.extend_from_slice(extra);
    whitebox(&args)
}

#[test]
fn simulate_reports_the_guard_in_json() {
    let out = simulate(&["--guard", "renewal"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let g = &r["guard"];
    assert_eq!(g["settings"]["mode"], "renewal");
    assert_eq!(g["settings"]["eps"].as_f64(), Some(0.1));
    assert_eq!(g["settings"]["c"].as_f64(), Some(5.0));
    let n = |k: &str| {
        g[k].as_f64()
            .unwrap_or_else(|| panic!("guard.{k} missing: {g}"))
    };
    assert!(n("steps") >= n("learned_steps") && n("renewals") >= 1.0);
    let (real, sjf, loss) = (n("real_charge"), n("sjf_charge"), n("worst_round_loss"));
    assert!(real <= 1.1 * sjf + 5.0 + loss + 1e-6, "{g}");
    let list = g["handover_list"]
        .as_array()
        .unwrap_or_else(|| panic!("{g}"));
    assert_eq!(list.len() as f64, n("handovers") + 1.0);
    assert_eq!(list[0]["step"], 0);
    assert_eq!(list[0]["reason"], "start");
    for k in ["to", "real_cost", "sjf_cost"] {
        assert!(!list[0][k].is_null(), "{k} missing in {}", list[0]);
    }
    // Unguarded: no guard key; the renewal guard here never hands over, so the schedule is the
    // unguarded one.
    let plain = simulate(&[]);
    let p: Value = serde_json::from_slice(&plain.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert!(p.get("guard").is_none());
    if n("handovers") == 0.0 {
        assert_eq!(p["actions"], r["actions"]);
    }
    let table = simulate(&["--guard", "budget", "--format", "table"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("guard budget(eps=0.1,c=5): learned policy decided"),
        "{text}"
    );
}

#[test]
fn bad_guard_flags_name_flag_value_and_range() {
    let err = |extra: &[&str]| {
        let out = simulate(extra);
        assert!(!out.status.success(), "{extra:?} was accepted");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = err(&["--guard", "renewal", "--guard-eps", "-1"]);
    assert!(
        e.contains("--guard-eps: guard parameter `eps` = -1, must be a number in [0, 10]"),
        "{e}"
    );
    let e = err(&["--guard", "renewal", "--guard-c", "nan"]);
    assert!(
        e.contains("--guard-c") && e.contains("`c` = NaN") && e.contains("[0, 1000000]"),
        "{e}"
    );
    // A guard parameter without a guard is refused, not ignored.
    let e = err(&["--guard-eps", "0.2"]);
    assert!(
        e.contains("--guard-eps sets a guard parameter, but no guard is on"),
        "{e}"
    );
    let e = err(&["--guard", "foo"]);
    assert!(
        e.contains("--guard") && e.contains("`foo`") && e.contains("renewal"),
        "{e}"
    );
    let out = whitebox(&[
        "simulate", "--jobs", FIXTURE, "--policy", "random", "--slots", "10", "--end", "all-done",
        "--guard", "renewal",
    ]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && e.contains("`random` cannot be guarded"),
        "{e}"
    );
    let out = whitebox(&[
        "eval",
        "--policies",
        "sjf,random",
        "--jobsets",
        "1",
        "--guard",
        "budget",
    ]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && e.contains("--guard"), "{e}");
}

/// The lookahead guard overrides the learned policy on a shrunk adversarial fixture (the drain
/// test fails) and a fuzz campaign against the guarded policy records the guard in its
/// settings and fixtures, whose schedules are replayed through the guard.
#[test]
fn lookahead_guard_overrides_and_fuzz_attacks_the_guarded_policy() {
    let fixture = root().join("fixtures/adversarial/default-deeprm-gap-seed1-1.json");
    let jobs = whitebox_runtime::jobfile::load(&fixture).unwrap_or_else(|e| panic!("{e:#}"));
    let (s, g) = guarded(&jobs, GuardMode::Lookahead);
    let plain = play_explained(&jobs, Slots::Ten, END, model(), &mut (), None)
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(g.overrides >= 1, "{g:?}");
    assert!(g
        .handover_list
        .iter()
        .any(|h| h.reason == "drain-over-budget"));
    assert!(s.mean_slowdown < plain.mean_slowdown);

    let dir = std::env::temp_dir().join(format!("whitebox-fuzz-guard-{}", std::process::id()));
    let out = whitebox(&[
        "fuzz",
        "--policy",
        "model:fixtures/models/deeprm.model",
        "--guard",
        "lookahead",
        "--guard-eps",
        "0.2",
        "--budget",
        "40",
        "--population",
        "8",
        "--fixtures",
        "1",
        "--out",
        dir.to_str().unwrap_or_default(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("campaign.json")).unwrap_or_default();
    let campaign: Value = serde_json::from_str(&text).unwrap_or_default();
    let guard = &campaign["settings"]["guard"];
    assert_eq!(guard["mode"], "lookahead", "{text}");
    assert_eq!(guard["eps"], 0.2);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn eval_and_compare_add_guarded_rows() {
    let out = whitebox(&[
        "eval",
        "--policies",
        "sjf,dnn=model:fixtures/models/deeprm.model",
        "--jobsets",
        "2",
        "--rate",
        "0.7",
        "--guard",
        "renewal",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let rows = r["rows"].as_array().unwrap_or_else(|| panic!("{r}"));
    let labels: Vec<&str> = rows.iter().filter_map(|r| r["policy"].as_str()).collect();
    assert_eq!(labels, ["sjf", "dnn", "dnn+guard"]);
    assert!(rows[1].get("guard_handovers").is_none());
    for k in ["guard_learned_share", "guard_handovers", "guard_renewals"] {
        assert!(rows[2][k].is_number(), "{k} missing in {}", rows[2]);
    }
    assert_eq!(r["settings"]["guards"][0]["policy"], "dnn+guard");
    let out = whitebox(&[
        "compare",
        "--jobs",
        FIXTURE,
        "--policies",
        "sjf,model:fixtures/models/deeprm.model",
        "--slots",
        "10",
        "--guard",
        "budget",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("deeprm.model+guard"),
        "{text}"
    );
    assert!(
        text.contains("handovers") && text.contains("guard budget(eps=0.1,c=5)"),
        "{text}"
    );
}
