use super::*;
use whitebox_core::encoding::compact_len;

type Net5 = Mlp<{ compact_len(5) }, HIDDEN, 6>;

/// Slots score 1, void 0, whatever the state: slot 0 wins every decision (ties go low).
fn slots_first() -> Box<Net5> {
    let mut net = Box::new(Net5::zeroed());
    net.b2 = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0];
    net
}

/// As [`slots_first`], but void wins while fewer than 3 steps passed since the last new job
/// (`since_new / 10 < 0.25`): a job waits 3 decisions on an idle cluster.
fn waits_three() -> Box<Net5> {
    let mut net = slots_first();
    let since = Region::all(5)
        .index(Feature::SinceNew)
        .unwrap_or_else(|| unreachable!());
    // h0 = relu(0.25 - since/10) * 40 >= 1 exactly when since <= 2.
    net.w1[0][since] = -40.0;
    net.b1[0] = 10.0;
    net.w2[5][0] = 1.0;
    net
}

#[test]
fn starts_within_is_proved_for_a_planted_truth_and_refuted_with_a_replay() {
    let r = one_job_region(5);
    let o = check_net::<5, _, _>(&*slots_first(), Property::StartsWithin(1), Some(&r), 1)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Proved);
    // 20 lengths x 11 x 11 demands x 11 counter values, every one a state.
    assert_eq!(o.branches, 20 * 121 * 11);
    let net = waits_three();
    let o = check_net::<5, _, _>(&*net, Property::StartsWithin(3), Some(&r), 1)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Refuted);
    let s = o.replay.unwrap_or_else(|| panic!("no replay"));
    assert_eq!(s.decisions, ["void", "void", "void"]);
    let o = check_net::<5, _, _>(&*net, Property::StartsWithin(4), Some(&r), 1)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Proved);
}

#[test]
fn occupancy_robustness_is_proved_for_a_planted_truth_and_refuted_at_a_planted_edge() {
    // Pairs of states one unit of occupancy apart: every row 9 or 10 free units, one job.
    let r = robust_region(5);
    // Slot 0 scores 2, the other slots 1, void 0 (no exact ties, which a bound with rounding
    // margins cannot close): one query per horizon feature, each proved.
    let mut net = slots_first();
    net.b2[0] = 2.0;
    let o = check_net::<5, _, _>(
        &*net,
        Property::OccupancyRobust(Compare::Raw),
        Some(&r),
        100,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((o.verdict, o.queries, o.proved), (Verdict::Proved, 40, 40));
    assert_eq!(o.pair_certificates.len(), 40);
    // Void beats slot 0 once row 3 of resource 0 has fewer than 10 free units: the pair is
    // row 3 at 9 (void) and at 10 (slot 0), all else equal.
    let row3 = Region::all(5)
        .index(Feature::Free { row: 3, res: 0 })
        .unwrap_or_else(|| unreachable!());
    net.w1[0][row3] = -100.0;
    net.b1[0] = 95.0;
    net.w2[5][0] = 1.0;
    let o = check_net::<5, _, _>(
        &*net,
        Property::OccupancyRobust(Compare::Raw),
        Some(&r),
        1000,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Refuted);
    let units = |c: &Option<super::super::bab::Counterexample>| {
        c.as_ref()
            .and_then(|c| c.features.iter().find(|(n, _)| n == "free[3].res0"))
            .map(|(_, v)| *v)
    };
    assert_eq!(units(&o.open[0].counterexample), Some(9));
    assert_eq!(units(&o.open[0].neighbour), Some(10));
}

#[test]
fn a_no_idle_counterexample_replays_through_the_simulator_and_the_policy() {
    let model =
        whitebox_runtime::models::load(std::path::Path::new("../fixtures/models/deeprm.model"))
            .unwrap_or_else(|e| panic!("{e:#}"));
    let o = verify_model(&model, Property::NoIdle, None, 1000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Refuted);
    let s = o.replay.unwrap_or_else(|| panic!("not replayed"));
    assert_eq!(s.decisions, ["void"]);
    assert!(s.jobs.iter().all(|j| j.arrival <= 1));
}

/// The export writes tightened boxes (the slots a `no-idle` query empties have no demand or
/// wait, and then the backlog is empty) and skips the queries a region empties.
#[test]
fn exported_boxes_are_tightened_and_empty_queries_are_not_written() {
    let path = std::path::Path::new("../fixtures/models/deeprm.model");
    let model = whitebox_runtime::models::load(path).unwrap_or_else(|e| panic!("{e:#}"));
    let dir = std::env::temp_dir().join(format!("whitebox-vnnlib-{}", std::process::id()));
    let (written, empty) =
        export_vnnlib(&model, Property::NoIdle, None, &dir).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!((written, empty), (10, 0));
    let text =
        std::fs::read_to_string(dir.join("no-idle-0003.vnnlib")).unwrap_or_else(|e| panic!("{e}"));
    // Compact layout for 10 slots: 40 occupancy inputs, then (length, demand 0, demand 1,
    // wait) per slot, then the backlog (input 80). Slots 0-2 are empty in query 3.
    for i in [40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 80] {
        assert!(text.contains(&format!("(assert (<= X_{i} 0.0))")), "X_{i}");
    }
    // Slot 3 holds a job, whose demands keep their whole range.
    assert!(text.contains("(assert (<= X_53 1.0))"));
    // Slot 0's demand [5, 5] leaves the shorter-first queries that compare slot 0 with a
    // longer or shorter job of the same demand: 38 of 4,598 (the raw boxes of the others
    // have a lower end above the upper end).
    let region =
        super::super::syntax::parse_region("slot[0].res0=5,slot[0].res1=5", Region::all(10))
            .unwrap_or_else(|e| panic!("{e}"));
    let sf = dir.join("sf");
    let (written, empty) = export_vnnlib(&model, Property::ShorterFirst, Some(&region), &sf)
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!((written, empty), (38, 4_560));
    let files = std::fs::read_dir(&sf).map_or(0, Iterator::count);
    assert_eq!(files, 38);
    let _ = std::fs::remove_dir_all(&dir);
}
