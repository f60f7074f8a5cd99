//! Property tests of the rule projection over arbitrary valid cluster states (reached by playing
//! arbitrary jobs and actions through the simulator) and arbitrary logits, NaN and infinities
//! included. The cap is checked on the cluster after the action, independently of the rules
//! module's own arithmetic.

use proptest::prelude::*;
use whitebox_core::network::masked_argmax;
use whitebox_core::projection::{Projected, Projection};
use whitebox_core::rules::{effect, Effect, Permille, Rule, RuleSet};
use whitebox_core::scheduler::{Preference, ProjectionError};
use whitebox_core::spec::{NUM_RES, RES_UNITS};
use whitebox_core::{
    run, Action, Cluster, EndMode, Episode, Job, Packer, RandomPolicy, Scheduler, Sjf, Step, Tetris,
};
use whitebox_runtime::record::Recorder;
use whitebox_runtime::rules::cap_violations;

/// One step of building a cluster: submit a job now, or apply an action (any index).
type Op = (bool, u32, u32, u32, usize);

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        (any::<bool>(), 1u32..=20, 0u32..=10, 0u32..=10, 0usize..12),
        0..80,
    )
}

/// The cluster reached by `ops`: unconstrained actions, so it may already be above any cap.
fn cluster<const M: usize>(ops: &[Op]) -> Cluster<M> {
    let mut c = Cluster::new();
    for (id, &(submit, len, r0, r1, action)) in ops.iter().enumerate() {
        if submit {
            let job = Job::new(id as u32, c.now(), len, [r0, r1]).expect("generated in range");
            let _ = c.submit(job);
        } else {
            c.step(Action::from_index(action % (M + 1), M).unwrap_or(Action::Void));
        }
    }
    c
}

fn logit() -> impl Strategy<Value = f32> {
    prop_oneof![
        12 => -50.0f32..50.0,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
    ]
}

/// Which rules besides the cap, their weights, and the cap in thousandths.
#[derive(Clone, Debug)]
struct Rules {
    max: u16,
    weights: [f32; 5],
    work_conserving: bool,
    no_reservation: bool,
    /// The `K` of a bounded-wait rule, if any.
    wait: Option<u16>,
    shorter_first: bool,
}

fn rules() -> impl Strategy<Value = Rules> {
    (
        500u16..=1000,
        [
            0.1f32..3.0,
            0.1f32..3.0,
            0.1f32..3.0,
            0.1f32..3.0,
            0.1f32..3.0,
        ],
        any::<bool>(),
        any::<bool>(),
        prop::option::of(0u16..8),
        any::<bool>(),
    )
        .prop_map(
            |(max, weights, work_conserving, no_reservation, wait, shorter_first)| Rules {
                max,
                weights,
                work_conserving,
                no_reservation,
                wait,
                shorter_first,
            },
        )
}

impl Rules {
    fn max(&self) -> Permille {
        Permille::new(self.max).expect("in range")
    }

    fn set(&self) -> RuleSet {
        let mut set = RuleSet::new();
        set.push(Rule::UtilizationCap { max: self.max() }, self.weights[0])
            .expect("room");
        if self.work_conserving {
            set.push(Rule::WorkConserving { max: self.max() }, self.weights[1])
                .expect("room");
        }
        if self.no_reservation {
            set.push(Rule::NoReservation, self.weights[2])
                .expect("room");
        }
        if let Some(steps) = self.wait {
            let rule = Rule::BoundedWait {
                steps,
                max: self.max(),
            };
            set.push(rule, self.weights[3]).expect("room");
        }
        if self.shorter_first {
            set.push(Rule::ShorterFirst { max: self.max() }, self.weights[4])
                .expect("room");
        }
        set
    }
}

/// Applies `action` to a copy of `cluster` and checks the cap in every row the started job
/// takes, from the free units after the step: each resource it uses is at most `max` of
/// capacity, or it is the job's demand alone (above the cap, the resource idle otherwise).
fn assert_cap_holds<const M: usize>(cluster: &Cluster<M>, action: Action, max: u16) {
    let mut after = cluster.clone();
    if let Step::Allocated { job, start, .. } = after.step(action) {
        let offset = (start - cluster.now()) as usize;
        for row in &after.avbl()[offset..offset + usize::from(job.len)] {
            for r in 0..NUM_RES {
                let (used, demand) = (u32::from(RES_UNITS - row[r]), u32::from(job.res[r]));
                let within = used * 1000 <= u32::from(max) * u32::from(RES_UNITS);
                let lone = used == demand && demand * 1000 > u32::from(max) * u32::from(RES_UNITS);
                assert!(
                    demand == 0 || within || lone,
                    "{action:?} takes resource {r} to {used} units, cap {max}/1000, row {row:?}"
                );
            }
        }
    }
}

/// True when `action` starts a job now and the cap holds after it (checked on a copy of the
/// cluster, as [`assert_cap_holds`] does).
fn starts_now_within_cap<const M: usize>(cluster: &Cluster<M>, action: Action, max: u16) -> bool {
    let mut after = cluster.clone();
    match after.step(action) {
        Step::Allocated { job, start, .. } if start == cluster.now() => {
            after.avbl()[..usize::from(job.len)].iter().all(|row| {
                (0..NUM_RES).all(|r| {
                    let (used, demand) = (u32::from(RES_UNITS - row[r]), u32::from(job.res[r]));
                    let within = used * 1000 <= u32::from(max) * u32::from(RES_UNITS);
                    let lone =
                        used == demand && demand * 1000 > u32::from(max) * u32::from(RES_UNITS);
                    demand == 0 || within || lone
                })
            })
        }
        _ => false,
    }
}

/// Bounded wait, checked by brute force over the slots: if some job that has waited `k` steps
/// or more can start now within the cap, `action` starts a job that arrived no later than the
/// earliest of them.
fn assert_wait_holds<const M: usize>(cluster: &Cluster<M>, action: Action, k: u16, max: u16) {
    let oldest = (0..M)
        .filter_map(|i| {
            let job = cluster.slots()[i]?;
            let aged = cluster.now() - job.arrival >= u32::from(k);
            (aged && starts_now_within_cap(cluster, Action::Schedule(i), max))
                .then_some(job.arrival)
        })
        .min();
    if let Some(oldest) = oldest {
        let started = match (action, cluster.clone().step(action)) {
            (Action::Schedule(_), Step::Allocated { job, .. }) => Some(job.arrival),
            _ => None,
        };
        assert!(
            started.is_some_and(|a| a <= oldest),
            "{action:?} starts {started:?} while a job from step {oldest} has waited {k}+ steps"
        );
    }
}

/// Shorter first, checked by brute force over the slots: an action that starts (or reserves) a
/// job of length `len` leaves no strictly shorter job that could start now within the cap.
fn assert_shorter_first_holds<const M: usize>(cluster: &Cluster<M>, action: Action, max: u16) {
    let Step::Allocated { job, .. } = cluster.clone().step(action) else {
        return;
    };
    for i in 0..M {
        if let Some(other) = cluster.slots()[i].filter(|o| o.len < job.len) {
            assert!(
                !starts_now_within_cap(cluster, Action::Schedule(i), max),
                "{action:?} starts a length-{} job while slot {i}'s length-{} job could start now",
                job.len,
                other.len
            );
        }
    }
}

fn close_to_one(p: &[f32]) -> bool {
    (p.iter().map(|&x| f64::from(x)).sum::<f64>() - 1.0).abs() <= 1e-6
}

fn check_projection<const M: usize, const O: usize>(
    ops: &[Op],
    logits: &[f32; O],
    valid: &[bool; O],
    rules: &Rules,
) {
    let c: Cluster<M> = cluster(ops);
    let shield = Projection::shield(rules.set());
    let result = shield.project(logits, valid, &c);
    let first_bad = logits
        .iter()
        .zip(valid)
        .position(|(l, &v)| v && !l.is_finite());
    let d = match (result, first_bad) {
        (Err(e), Some(index)) => {
            assert_eq!(e, ProjectionError::NonFiniteLogit { index });
            return;
        }
        (Err(e), None) => {
            assert!(valid.iter().all(|v| !v), "{e}");
            assert_eq!(e, ProjectionError::NoAllowedAction);
            return;
        }
        (Ok(d), None) => d,
        (Ok(_), Some(index)) => panic!("logit {index} is not finite but an action was chosen"),
    };
    // The shield never breaks the cap, nor a reservation ban; a fallback is void.
    assert_cap_holds(&c, d.action, rules.max);
    if rules.no_reservation {
        assert!(!matches!(effect(&c, d.action), Effect::Start { offset, .. } if offset > 0));
    }
    if let (Some(k), false) = (rules.wait, d.fallback_void) {
        assert_wait_holds(&c, d.action, k, rules.max);
    }
    if rules.shorter_first {
        assert_shorter_first_holds(&c, d.action, rules.max);
    }
    assert!(close_to_one(&d.raw) && close_to_one(&d.projected), "{d:?}");
    if d.fallback_void {
        assert_eq!(d.action, Action::Void);
    } else {
        // The action is allowed and abides by every rule.
        let k = d.action.index(M);
        assert!(valid[k] && d.violated[k] == 0, "{d:?}");
    }

    // C = 0 is the identity.
    let none = Projection::new(rules.set(), 0.0).expect("C = 0");
    let d0 = none.project(logits, valid, &c).expect("finite");
    assert_eq!(d0.projected, d0.raw);
    assert_eq!(
        Some(d0.action.index(M)),
        masked_argmax(logits, valid).ok().flatten()
    );
    assert!(!d0.changed() && d0.changed_by == 0 && !d0.fallback_void);

    // A large C converges to the shield (logits are within [-50, 50], penalties >= 1e-4).
    if !d.fallback_void {
        let strong = Projection::new(rules.set(), 1e7).expect("C = 1e7");
        let dc = strong.project(logits, valid, &c).expect("finite");
        assert_eq!(dc.action, d.action);
        for (q, h) in dc.projected.iter().zip(&d.projected) {
            assert!(
                (q - h).abs() <= 1e-5,
                "{:?} vs {:?}",
                dc.projected,
                d.projected
            );
        }
    }
}

/// A baseline's preference puts its own decision first, and projected onto no rules it decides
/// as itself.
fn check_preference<const M: usize, const O: usize, S>(ops: &[Op], mut make: impl FnMut() -> S)
where
    S: Scheduler<M> + Preference<M>,
{
    let c: Cluster<M> = cluster(ops);
    let expected = make().decide(&c).expect("baselines always decide");
    let (mut logits, mut valid) = ([0.0f32; O], [false; O]);
    make().preference(&c, &mut logits, &mut valid).expect("ok");
    assert_eq!(
        masked_argmax(&logits, &valid),
        Ok(Some(expected.index(M))),
        "{logits:?} {valid:?}"
    );
    let mut p: Projected<S, O> = Projected::new(make(), Projection::shield(RuleSet::new()));
    assert_eq!(p.decide(&c), Ok(expected));
}

/// Plays `jobs` with `scheduler` projected onto the cap, work-conserving and no-reservation
/// rules and, with `wait`, a bounded-wait rule: no decision falls back (the rules can always be
/// met together), and no time step of the printed schedule has a resource above the cap but for
/// a lone job.
fn check_episode<const M: usize, const O: usize, S: Scheduler<M> + Preference<M>>(
    jobs: &[Job],
    scheduler: S,
    max: u16,
    wait: Option<u16>,
) {
    let rules = Rules {
        max,
        weights: [1.0; 5],
        work_conserving: true,
        no_reservation: true,
        wait,
        // With a bounded wait it can leave no action allowed (docs/rules.md), so only without.
        shorter_first: wait.is_none(),
    };
    let mut rec = Recorder::new(jobs, M);
    let mut ep: Episode<'_, M> =
        Episode::new(jobs, EndMode::AllDone { time_cap: 2000 }, &mut rec).expect("valid jobs");
    let mut p: Projected<S, O> = Projected::new(scheduler, Projection::shield(rules.set()));
    run(&mut ep, &mut p, &mut rec).expect("baselines always decide");
    assert_eq!(p.stats().fallbacks, 0);
    for v in cap_violations(&rec.jobs, rules.max()) {
        assert!(v.lone_job, "{v:?}");
    }
}

/// Logits with many ties (a few whole numbers), and the odd non-finite one.
fn tied_logit() -> impl Strategy<Value = f32> {
    prop_oneof![
        6 => (-2i8..=2).prop_map(f32::from),
        6 => -50.0f32..50.0,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
    ]
}

/// Rule weights, zero and subnormal ones included (a subnormal weight times a small truth
/// deficit rounds to a zero penalty: the shield keeps such an action).
fn weight() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => 0.1f32..3.0,
        1 => Just(0.0f32),
        1 => Just(1e-45f32),
        1 => Just(1e-39f32),
        1 => Just(3.0e38f32),
    ]
}

fn strength() -> impl Strategy<Value = f32> {
    prop_oneof![
        Just(f32::INFINITY),
        Just(0.0f32),
        Just(6.0f32),
        Just(1e7f32),
        Just(f32::MAX),
        0.0f32..100.0,
    ]
}

/// [`Projection::choose`] is [`Projection::project`]'s decision: the same action, raw choice
/// and fallback (or the same error) for every strength, and every rule's integer verdict is
/// violated exactly when its soft truth is below 1.
fn check_choose<const M: usize, const O: usize>(
    ops: &[Op],
    logits: &[f32; O],
    valid: &[bool; O],
    rules: &Rules,
    c: f32,
) {
    let cl: Cluster<M> = cluster(ops);
    let p = Projection::new(rules.set(), c).expect("valid strength");
    let full = p.project(logits, valid, &cl);
    let lean = p.choose(logits, valid, &cl);
    match (full, lean) {
        (Ok(d), Ok(l)) => {
            assert_eq!(
                (l.action, l.raw_choice, l.fallback_void),
                (d.action, d.raw_choice, d.fallback_void),
                "{d:?}"
            );
            assert_eq!(l.changed(M), d.changed());
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("project {a:?}, choose {b:?}"),
    }
    for k in 0..O {
        let e = effect(&cl, Action::from_index(k, M).unwrap_or(Action::Void));
        for (rule, _) in p.rules().iter() {
            let v = rule.verdict(&cl, &e);
            assert_eq!(v.violated(), rule.truth(&cl, &e) < 1.0, "{rule} {v:?}");
            assert_eq!(v.violated(), !rule.holds(&cl, &e));
        }
    }
}

/// A lean projected scheduler plays the same episode as the full one, with the same counts.
fn check_lean_episode<const M: usize, const O: usize, S>(jobs: &[Job], make: impl Fn() -> S)
where
    S: Scheduler<M> + Preference<M>,
{
    let rules = Rules {
        max: 800,
        weights: [1.0; 5],
        work_conserving: true,
        no_reservation: false,
        wait: None,
        shorter_first: false,
    };
    fn play<const M: usize, S: Scheduler<M>>(
        jobs: &[Job],
        p: &mut S,
    ) -> Vec<(Option<u32>, Option<u32>)> {
        let mut rec = Recorder::new(jobs, M);
        let mut ep: Episode<'_, M> =
            Episode::new(jobs, EndMode::AllDone { time_cap: 2000 }, &mut rec).expect("valid");
        run(&mut ep, p, &mut rec).expect("baselines always decide");
        rec.jobs
            .iter()
            .map(|j| (j.start, j.finish))
            .collect::<Vec<_>>()
    }
    let mut full: Projected<S, O> = Projected::new(make(), Projection::shield(rules.set()));
    let mut lean: Projected<S, O, true> = Projected::lean(make(), Projection::shield(rules.set()));
    assert_eq!(play::<M, _>(jobs, &mut full), play::<M, _>(jobs, &mut lean));
    assert_eq!(full.stats(), lean.stats());
    assert!(lean.last().is_none());
}

fn jobs() -> impl Strategy<Value = Vec<Job>> {
    prop::collection::vec((0u32..3, 1u32..=20, 0u32..=10, 0u32..=10), 0..60).prop_map(|raw| {
        let mut arrival = 0;
        raw.into_iter()
            .enumerate()
            .map(|(id, (gap, len, r0, r1))| {
                arrival += gap;
                Job::new(id as u32, arrival, len, [r0, r1]).expect("in range")
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn projection_properties_m5(
        ops in ops(),
        logits in prop::array::uniform6(logit()),
        valid in prop::array::uniform6(any::<bool>()),
        rules in rules(),
    ) {
        check_projection::<5, 6>(&ops, &logits, &valid, &rules);
    }

    #[test]
    fn projection_properties_m10(
        ops in ops(),
        logits in prop::array::uniform11(logit()),
        valid in prop::array::uniform11(any::<bool>()),
        rules in rules(),
    ) {
        check_projection::<10, 11>(&ops, &logits, &valid, &rules);
    }

    #[test]
    fn baseline_preferences_rank_their_own_choice_first(
        ops in ops(),
        knob in 0.0f64..=1.0,
        seed in any::<u64>(),
    ) {
        check_preference::<5, 6, _>(&ops, || Sjf);
        check_preference::<5, 6, _>(&ops, || Packer);
        check_preference::<10, 11, _>(&ops, || Tetris { knob });
        check_preference::<10, 11, _>(&ops, || RandomPolicy::new(seed));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn choose_decides_as_project_m5(
        ops in ops(),
        logits in prop::array::uniform6(tied_logit()),
        valid in prop::array::uniform6(any::<bool>()),
        rules in rules(),
        weights in prop::array::uniform5(weight()),
        c in strength(),
    ) {
        check_choose::<5, 6>(&ops, &logits, &valid, &Rules { weights, ..rules }, c);
    }

    #[test]
    fn choose_decides_as_project_m10(
        ops in ops(),
        logits in prop::array::uniform11(tied_logit()),
        valid in prop::array::uniform11(any::<bool>()),
        rules in rules(),
        weights in prop::array::uniform5(weight()),
        c in strength(),
    ) {
        check_choose::<10, 11>(&ops, &logits, &valid, &Rules { weights, ..rules }, c);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn projected_episodes_keep_the_cap(
        jobs in jobs(),
        max in 500u16..=1000,
        seed in any::<u64>(),
        wait in prop::option::of(0u16..12),
    ) {
        check_episode::<5, 6, _>(&jobs, Sjf, max, wait);
        check_episode::<10, 11, _>(&jobs, Packer, max, wait);
        check_episode::<5, 6, _>(&jobs, RandomPolicy::new(seed), max, wait);
        check_lean_episode::<5, 6, _>(&jobs, || Sjf);
        check_lean_episode::<10, 11, _>(&jobs, || Tetris { knob: 0.5 });
        check_lean_episode::<5, 6, _>(&jobs, || RandomPolicy::new(seed));
    }
}

// ---- The command line: `--rule` on simulate, eval and demo. ----

mod cli {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use serde_json::Value;

    const BIN: &str = env!("CARGO_BIN_EXE_whitebox");

    fn run(args: &[&str]) -> (bool, String, String) {
        let out = Command::new(BIN)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    fn json(args: &[&str]) -> Value {
        let (ok, out, err) = run(args);
        assert!(ok, "{args:?} failed: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e})"))
    }

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
    }

    /// Every job file under `fixtures/`: JSON whose `jobs` is an array of objects with an
    /// arrival, a length and demands.
    fn job_files() -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut dirs = vec![fixtures()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("readable fixtures") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read_to_string(&path).expect("readable");
                    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    let is_jobs = v["jobs"].as_array().is_some_and(|jobs| {
                        jobs.iter().all(|j| {
                            j["arrival"].is_u64() && j["len"].is_u64() && j["res"].is_array()
                        })
                    });
                    if is_jobs {
                        files.push(path);
                    }
                }
            }
        }
        files.sort();
        files
    }

    /// Per time step, per resource: the units in use and how many jobs use it, recomputed from
    /// the printed jobs' start, finish and demand.
    fn usage(report: &Value) -> Vec<[(u64, usize); 2]> {
        let jobs = report["jobs"].as_array().expect("jobs");
        let span = |j: &Value| Some((j["start"].as_u64()?, j["finish"].as_u64()?));
        let end = jobs.iter().filter_map(|j| span(j).map(|s| s.1)).max();
        let mut steps = vec![[(0, 0); 2]; end.unwrap_or(0) as usize];
        for j in jobs {
            let Some((start, finish)) = span(j) else {
                continue;
            };
            assert_eq!(finish - start, j["len"].as_u64().expect("len"));
            for step in &mut steps[start as usize..finish as usize] {
                for (r, cell) in step.iter_mut().enumerate() {
                    let d = j["res"][r].as_u64().expect("demand");
                    if d > 0 {
                        *cell = (cell.0 + d, cell.1 + 1);
                    }
                }
            }
        }
        steps
    }

    /// With `--rule util<=0.8`, no printed schedule has a step where a resource is above 8 of
    /// its 10 units, except a lone job; the report's own list of such steps agrees.
    #[test]
    fn simulate_with_a_cap_keeps_every_fixture_schedule_under_it() {
        let files = job_files();
        assert!(files.len() >= 60, "{files:?}");
        let model = fixtures().join("models/deeprm.model");
        let model = format!("model:{}", model.to_str().expect("utf-8"));
        let (mut runs, mut lone) = (0, 0);
        for file in &files {
            let file = file.to_str().expect("utf-8");
            for (policy, slots) in [
                ("sjf", "5"),
                ("sjf", "10"),
                ("random", "5"),
                ("tetris", "10"),
                (model.as_str(), "10"),
            ] {
                let args = [
                    "simulate",
                    "--jobs",
                    file,
                    "--policy",
                    policy,
                    "--slots",
                    slots,
                    "--end",
                    "all-done",
                    "--format",
                    "json",
                    "--rule",
                    "util<=0.8",
                ];
                let r = json(&args);
                let mut above = 0;
                for (t, step) in usage(&r).iter().enumerate() {
                    for (res, &(used, users)) in step.iter().enumerate() {
                        if used > 8 {
                            assert_eq!(
                                users, 1,
                                "{args:?}: step {t}, resource {res}: {used} units"
                            );
                            above += 1;
                        }
                    }
                }
                let listed = r["rule_violations"].as_array().expect("rule_violations");
                assert_eq!(listed.len(), above, "{args:?}");
                assert!(listed.iter().all(|v| v["lone_job"] == true), "{args:?}");
                assert_eq!(r["projection"]["fallbacks"], 0, "{args:?}");
                assert_eq!(r["summary"]["truncated"], false, "{args:?}");
                lone += above;
                runs += 1;
            }
        }
        assert_eq!(runs, files.len() * 5);
        // DeepRM's workload has jobs of up to 10 units: the lone-job case does occur.
        assert!(lone > 0);
    }

    #[test]
    fn simulate_explains_decisions_the_rules_changed() {
        let file = fixtures().join("reference/deeprm/cases/rate0.7_seed0.json");
        let file = file.to_str().expect("utf-8");
        let base = [
            "simulate", "--jobs", file, "--policy", "sjf", "--slots", "5", "--end", "all-done",
        ];
        let plain = json(&base);
        assert!(plain.get("projection").is_none() && plain.get("rule_violations").is_none());
        let mut args = base.to_vec();
        args.extend(["--rule", "util<=0.8", "--rule", "work-conserving"]);
        let r = json(&args);
        let p = &r["projection"];
        assert_eq!(
            p["rules"],
            serde_json::json!(["util<=0.8", "work-conserving(util<=0.8)"])
        );
        assert_eq!(p["c"], "inf");
        let explained = p["decisions_explained"].as_array().expect("decisions");
        assert_eq!(
            explained.len() as u64,
            p["changed"].as_u64().expect("changed")
        );
        assert!(!explained.is_empty());
        for d in explained {
            assert_ne!(d["action"], d["raw_choice"]);
            assert!(!d["changed_by"].as_array().expect("names").is_empty());
            let q: f64 = d["projected"]
                .as_array()
                .expect("q")
                .iter()
                .filter_map(Value::as_f64)
                .sum();
            assert!((q - 1.0).abs() < 1e-6);
        }
        // Every decision with --explain-decisions; C = 0 changes nothing.
        args.push("--explain-decisions");
        let all = json(&args);
        let n = all["projection"]["decisions_explained"]
            .as_array()
            .map(Vec::len);
        assert_eq!(
            n,
            Some(all["summary"]["decisions"].as_u64().expect("decisions") as usize)
        );
        args.extend(["--rule-c", "0"]);
        let zero = json(&args);
        assert_eq!(zero["actions"], plain["actions"]);
        assert_eq!(zero["projection"]["changed"], 0);
    }

    #[test]
    fn eval_projects_every_policy_and_bad_rules_are_named() {
        let r = json(&[
            "eval",
            "--rate",
            "0.7",
            "--jobsets",
            "3",
            "--policies",
            "sjf,random",
            "--slots",
            "5",
            "--format",
            "json",
            "--rule",
            "util<=80%",
            "--rule",
            "no-reservation@2",
        ]);
        let rows = r["rows"].as_array().expect("rows");
        assert_eq!(rows[0]["policy"], "sjf+rules");
        assert_eq!(rows[1]["policy"], "random+rules");
        assert!(rows
            .iter()
            .all(|row| row["rule_decisions"].as_u64() > Some(0)));
        assert!(rows.iter().all(|row| row["rule_fallbacks"] == 0));
        assert_eq!(r["settings"]["rules"][0]["rules"][1], "no-reservation@2");
        for (rule, expected) in [
            ("fifo", "`fifo`"),
            ("util<=1.2", "above 1"),
            ("util<=x", "`x`"),
        ] {
            let (ok, out, err) = run(&["eval", "--jobsets", "1", "--rule", rule]);
            assert!(!ok && out.is_empty(), "{rule}");
            assert!(
                err.contains(expected) && err.contains("--rule"),
                "{rule}: {err}"
            );
        }
        let (ok, _, err) = run(&[
            "eval",
            "--jobsets",
            "1",
            "--rule",
            "util<=0.8",
            "--rule-c",
            "-1",
        ]);
        assert!(!ok && err.contains("--rule-c"), "{err}");
    }

    #[test]
    fn demo_adds_projected_rows_when_rules_are_given() {
        let out = std::env::temp_dir().join(format!("whitebox-rules-demo-{}", std::process::id()));
        let model = fixtures().join("models/deeprm.model");
        let (ok, table, err) = run(&[
            "demo",
            "--model",
            model.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--jobsets",
            "2",
            "--student",
            model.to_str().expect("utf-8"),
            "--rule",
            "util<=0.8",
            "--rule",
            "work-conserving",
        ]);
        assert!(ok, "{err}");
        assert!(table.contains("changed by rules"), "{table}");
        let text = std::fs::read_to_string(out.join("demo.json")).expect("demo.json");
        let demo: Value = serde_json::from_str(&text).expect("JSON");
        let rows = demo["table"].as_array().expect("table");
        for label in ["dnn+rules", "distilled+rules", "sjf+rules"] {
            let ruled: Vec<&Value> = rows.iter().filter(|r| r["policy"] == label).collect();
            assert_eq!(ruled.len(), 4, "{label}: one row per workload");
            assert!(ruled.iter().all(|r| r["rule_fallbacks"] == 0), "{label}");
        }
        assert!(rows
            .iter()
            .any(|r| r["policy"] == "dnn" && r.get("rule_decisions").is_none()));
        let _ = std::fs::remove_dir_all(&out);
    }
}
