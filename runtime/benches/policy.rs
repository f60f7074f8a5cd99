//! Policy-network speed: forward-pass latency per encoder (observation encoding + MLP, the
//! decision path without the simulator), and whole-episode DNN decisions per second.
//!
//! Networks have DeepRM's 20 hidden units and fixed pseudo-random weights (speed does not
//! depend on the values). Run: `cargo bench -p whitebox-runtime --bench policy`. Results:
//! `docs/performance.md`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use whitebox_core::encoding::{compact_len, Compact, Encoder, Image};
use whitebox_core::image::image_len;
use whitebox_core::nn::Mlp;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::{run, Cluster, EndMode, Episode, Job, Scheduler, Sjf};
use whitebox_runtime::models::HIDDEN;

fn random_net<const I: usize, const H: usize, const O: usize>() -> Box<Mlp<I, H, O>> {
    let mut rng = Pcg32::seed_from_u64(1);
    let mut net = Box::new(Mlp::zeroed());
    for p in net.params_mut() {
        *p = rng.random_range(-0.1..0.1);
    }
    net
}

/// A busy mid-episode cluster: SJF run on a rate-0.7 job set until step 20.
fn busy_cluster<const M: usize>(jobs: &[Job]) -> Cluster<M> {
    let mut ep: Episode<'_, M> =
        Episode::new(jobs, EndMode::NoNewJob { simu_len: 20 }, &mut ()).expect("valid jobs");
    while !ep.is_done() {
        let a = Sjf.decide(ep.cluster()).expect("SJF");
        ep.step(a, &mut ());
    }
    ep.cluster().clone()
}

fn forward<E: Encoder, const M: usize, const I: usize, const O: usize>(
    c: &mut Criterion,
    name: &str,
    jobs: &[Job],
) {
    let net = random_net::<I, HIDDEN, O>();
    let cluster = busy_cluster::<M>(jobs);
    let mut policy: MlpPolicy<'_, E, M, I, HIDDEN, O> = MlpPolicy::new(&net, true);
    c.bench_function(name, |b| {
        b.iter(|| black_box(policy.decide(black_box(&cluster))))
    });
}

fn decisions<E: Encoder, const M: usize, const I: usize, const O: usize>(
    c: &mut Criterion,
    name: &str,
    sets: &[Vec<Job>],
) {
    let net = random_net::<I, HIDDEN, O>();
    let end = EndMode::AllDone { time_cap: 10_000 };
    let count: u64 = sets
        .iter()
        .map(|jobs| {
            let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut ()).expect("valid");
            let mut p: MlpPolicy<'_, E, M, I, HIDDEN, O> = MlpPolicy::new(&net, true);
            u64::from(run(&mut ep, &mut p, &mut ()).expect("decides").decisions)
        })
        .sum();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(count));
    group.bench_function("episodes", |b| {
        b.iter(|| {
            for jobs in sets {
                let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut ()).expect("valid");
                let mut p: MlpPolicy<'_, E, M, I, HIDDEN, O> = MlpPolicy::new(&net, true);
                black_box(run(&mut ep, &mut p, &mut ()).ok());
            }
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let jobs: Vec<Job> = JobGenerator::new(Workload::DeepRm, 0.7, 50, 7).collect();
    forward::<Compact, 5, { compact_len(5) }, 6>(c, "decide/compact/M5", &jobs);
    forward::<Compact, 10, { compact_len(10) }, 11>(c, "decide/compact/M10", &jobs);
    forward::<Image, 5, { image_len(5) }, 6>(c, "decide/image/M5", &jobs);
    forward::<Image, 10, { image_len(10) }, 11>(c, "decide/image/M10", &jobs);
    let sets: Vec<Vec<Job>> = (0..16)
        .map(|s| JobGenerator::new(Workload::DeepRm, 0.7, 50, s).collect())
        .collect();
    decisions::<Compact, 10, { compact_len(10) }, 11>(c, "dnn_decisions/compact/M10", &sets);
    decisions::<Image, 10, { image_len(10) }, 11>(c, "dnn_decisions/image/M10", &sets);
}

criterion_group! {
    name = policy;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(policy);
