use super::*;
use crate::verify::{verify_model, Property, Verdict};
use whitebox_core::episode::EndMode;

/// The shipped DeepRM-trained model: the job file found leads the policy itself (with its
/// mask, as `whitebox record` and `whitebox simulate` play it) to a decision on an idle cluster
/// with a waiting job where the raw network ranks void strictly first. Checked on the trace
/// `whitebox record` writes for the file, written and read back as a job file.
#[test]
fn a_found_job_file_leads_the_policy_to_a_no_idle_violation() {
    let path = std::path::Path::new("../fixtures/models/deeprm.model");
    let model = whitebox_runtime::models::load(path).unwrap_or_else(|e| panic!("{e:#}"));
    let o = verify_model(&model, Property::NoIdle, None, 1000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Refuted);
    let units: Vec<u16> = o.open[0]
        .counterexample
        .as_ref()
        .map(|c| c.features.iter().map(|(_, v)| *v).collect())
        .unwrap_or_default();
    let r = reach_model(&model, Some(&units))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no job file found"));
    let dir = std::env::temp_dir().join(format!("whitebox-reach-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let file = dir.join("jobs.json");
    let text = serde_json::json!({ "jobs": r.jobs, "reaches": &r });
    std::fs::write(&file, text.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let jobs = whitebox_runtime::jobfile::load(&file).unwrap_or_else(|e| panic!("{e:#}"));
    let t = whitebox_runtime::trace::trace(
        &model,
        &jobs,
        EndMode::AllDone { time_cap: 10_000 },
        None,
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let d = &t.decisions[r.decision as usize];
    assert_eq!(d.time, r.time);
    // The mask forbids void exactly on an idle cluster with a job that fits now (the premise of
    // no-idle); the raw logits rank void strictly first.
    assert!(d.valid.ends_with('0'), "{}", d.valid);
    let logits: Vec<f32> = d.logits_bits.iter().map(|b| f32::from_bits(*b)).collect();
    let (void, slots) = logits.split_last().unwrap_or_else(|| unreachable!());
    assert!(slots.iter().all(|l| l < void), "{logits:?}");
    assert_eq!(logits, r.logits);
    // `whitebox simulate` plays the same decisions.
    let settings = crate::simulate::SimSettings {
        policy: whitebox_runtime::policy::PolicyName::parse(
            "model:../fixtures/models/deeprm.model",
        )
        .unwrap_or_else(|e| panic!("{e}")),
        slots: whitebox_runtime::settings::Slots::Ten,
        end: whitebox_core::episode::End::AllDone,
        simu_len: 50,
        time_cap: 10_000,
        seed: 0,
        tetris_knob: 0.5,
        guard: None,
    };
    let rules = crate::simulate::RuleSettings {
        rules: None,
        explain_all: false,
    };
    let sim = crate::simulate::simulate_with_rules(&jobs, &settings, &rules)
        .unwrap_or_else(|e| panic!("{e}"));
    let traced: Vec<usize> = t.decisions.iter().map(|d| d.action).collect();
    assert_eq!(sim.actions, traced);
    std::fs::remove_dir_all(&dir).ok();
}
