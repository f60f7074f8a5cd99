//! Simulator speed: SJF decisions per second on DeepRM's workload, with and without the image
//! observation before every decision (what a learned policy would pay), rebuilt in full
//! (`encode_image`) or updated in place (`update_image`, what learned image policies do).
//!
//! Workload: DeepRM bi-modal jobs, arrival rate 0.7, `simu_len` 50, all-done episodes, for 5 and
//! 10 job slots. A fixed set of job sets is generated up front; one iteration plays all of them.
//! Criterion's throughput is decisions (allocations and MoveOns) per second.
//!
//! Run: `cargo bench -p whitebox-runtime --bench simulator`. Results: `docs/performance.md`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use whitebox_core::image::{encode_image, image_len, update_image, ImageMemo};
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::{EndMode, Episode, Job, Scheduler, Sjf};

const RATE: f64 = 0.7;
const SIMU_LEN: u32 = 50;
const JOB_SETS: u64 = 32;
/// Far above any all-done episode of this workload; the setup checks it is never hit.
const TIME_CAP: u32 = 10_000;

fn job_sets() -> Vec<Vec<Job>> {
    (0..JOB_SETS)
        .map(|seed| JobGenerator::new(Workload::DeepRm, RATE, SIMU_LEN, seed).collect())
        .collect()
}

/// How the image observation is made before every decision.
#[derive(Clone, Copy)]
enum Observation {
    None,
    /// `encode_image`: every cell.
    Rebuilt,
    /// `update_image`: the cells that changed since the last decision.
    Updated,
}

/// Plays every job set to the end with SJF and returns the number of decisions made, writing
/// the image observation into `buf` before every decision as `observation` says.
fn play<const M: usize, const N: usize>(
    sets: &[Vec<Job>],
    observation: Observation,
    buf: &mut [f32; N],
) -> u64 {
    let end = EndMode::AllDone { time_cap: TIME_CAP };
    let mut decisions = 0u64;
    // The memo of what `buf` shows, kept across episodes (a new episode starts from the last
    // state shown, a few cells away from its first).
    let mut memo = ImageMemo::<M>::new();
    for jobs in sets {
        let mut ep: Episode<'_, M> = match Episode::new(jobs, end, &mut ()) {
            Ok(ep) => ep,
            Err(e) => panic!("generated job set is invalid: {e}"),
        };
        while !ep.is_done() {
            match observation {
                Observation::None => {}
                Observation::Rebuilt => encode_image(ep.cluster(), buf),
                Observation::Updated => update_image(&mut memo, ep.cluster(), buf),
            }
            black_box(&*buf);
            let action = match Sjf.decide(ep.cluster()) {
                Ok(a) => a,
                Err(e) => panic!("SJF never fails: {e}"),
            };
            black_box(ep.step(action, &mut ()));
        }
        let summary = ep.summary();
        assert!(!summary.truncated, "time cap hit; raise TIME_CAP");
        decisions += u64::from(summary.decisions);
    }
    decisions
}

fn bench_slots<const M: usize, const N: usize>(c: &mut Criterion, sets: &[Vec<Job>]) {
    let mut buf = [0.0f32; N];
    let decisions = play::<M, N>(sets, Observation::None, &mut buf);
    println!(
        "M = {M}: {} job sets, {decisions} SJF decisions per iteration",
        sets.len()
    );
    let mut group = c.benchmark_group(format!("sjf_deeprm_rate0.7_M{M}"));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(decisions));
    for (name, observation) in [
        ("no_observation", Observation::None),
        ("image_observation", Observation::Rebuilt),
        ("image_updated", Observation::Updated),
    ] {
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| play::<M, N>(black_box(sets), observation, &mut buf))
        });
    }
    group.finish();
}

fn simulator(c: &mut Criterion) {
    let sets = job_sets();
    bench_slots::<5, { image_len(5) }>(c, &sets);
    bench_slots::<10, { image_len(10) }>(c, &sets);
}

criterion_group!(benches, simulator);
criterion_main!(benches);
