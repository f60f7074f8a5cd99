//! Parity with the original DeepRM: every SJF and Packer schedule of the reference cases
//! (`fixtures/reference/deeprm/cases/`, generated and scheduled by DeepRM's own code), for both
//! end modes and both slot counts, job for job.

use std::path::{Path, PathBuf};

use serde_json::Value;
use whitebox_core::{run, EndMode, Episode, Job, Packer, Scheduler, Sjf};
use whitebox_runtime::jobfile;
use whitebox_runtime::record::Recorder;

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/reference/deeprm/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.map(|e| e.path()).unwrap_or_default())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

struct Outcome {
    schedule: Vec<(i64, i64)>,
    mean_slowdown: f64,
    total_reward: f64,
}

fn simulate<const M: usize>(jobs: &[Job], end: EndMode, policy: &str) -> Outcome {
    let mut rec = Recorder::new(jobs, M);
    let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut rec).expect("valid jobs");
    let scheduler: &mut dyn Scheduler<M> = match policy {
        "SJF" => &mut Sjf,
        _ => &mut Packer,
    };
    let summary = run(&mut ep, scheduler, &mut rec).expect("baselines never fail");
    assert!(!summary.truncated);
    Outcome {
        schedule: rec
            .jobs
            .iter()
            .map(|o| {
                (
                    o.start.map_or(-1, i64::from),
                    o.finish.map_or(-1, i64::from),
                )
            })
            .collect(),
        mean_slowdown: summary.mean_slowdown.unwrap_or(f64::NAN),
        total_reward: summary.total_reward,
    }
}

#[test]
fn sjf_and_packer_match_deeprm_job_for_job() {
    let files = cases();
    assert_eq!(files.len(), 60, "expected the 60 reference cases");
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable case");
        let case: Value = serde_json::from_str(&text).expect("case JSON");
        let jobs = jobfile::parse(&text).expect("case jobs are valid");
        let slots = case["params"]["num_nw"].as_u64().expect("num_nw");
        let simu_len = case["params"]["simu_len"].as_u64().expect("simu_len") as u32;
        for (end_name, end) in [
            ("all_done", EndMode::AllDone { time_cap: 10_000 }),
            ("no_new_job", EndMode::NoNewJob { simu_len }),
        ] {
            for policy in ["SJF", "Packer"] {
                let reference = &case["reference"][end_name][policy];
                let got = match slots {
                    5 => simulate::<5>(&jobs, end, policy),
                    10 => simulate::<10>(&jobs, end, policy),
                    other => panic!("unexpected slot count {other}"),
                };
                let ctx = format!("{} {end_name} {policy}", file.display());
                let expected: Vec<(i64, i64)> = reference["schedule"]
                    .as_array()
                    .expect("schedule")
                    .iter()
                    .map(|j| {
                        (
                            j["start"].as_i64().expect("start"),
                            j["finish"].as_i64().expect("finish"),
                        )
                    })
                    .collect();
                assert_eq!(got.schedule, expected, "{ctx}: schedule");
                let sd = reference["mean_sd_true"].as_f64().expect("mean_sd_true");
                assert!(
                    (got.mean_slowdown - sd).abs() < 1e-9,
                    "{ctx}: mean slowdown {} vs {sd}",
                    got.mean_slowdown
                );
                let reward = reference["total_reward_without_stale_jobs"]
                    .as_f64()
                    .expect("reward");
                assert!(
                    (got.total_reward - reward).abs() < 1e-9,
                    "{ctx}: total reward {} vs {reward}",
                    got.total_reward
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 240);
}
