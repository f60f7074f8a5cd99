//! Adversarial-search throughput: job sequences evaluated per second, where one evaluation is
//! what `whitebox fuzz` scores per candidate: the shipped model's all-done episode plus SJF's on
//! the same sequence ([`whitebox_studies::fuzz::evaluate`]).
//!
//! 64 sequences from the DeepRM generator (rate 0.7, `simu_len` 50, at most 49 jobs) are
//! evaluated per iteration, on one thread and on a rayon pool of every core; throughput
//! (`Throughput::Elements`) is sequences per second. Run:
//! `cargo bench -p whitebox-studies --bench fuzz`. Results: `docs/performance.md`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::Job;
use whitebox_runtime::policy::PolicyName;
use whitebox_runtime::settings::Slots;
use whitebox_studies::fuzz::{evaluate, Objective, Support, Target};

const SEQUENCES: usize = 64;

fn target() -> Target {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/deeprm.model");
    let name = PolicyName::parse(&format!("model:{}", model.display())).expect("model policy");
    Target {
        policy: name.with(0.5, 0).expect("shipped model loads"),
        slots: Slots::Ten,
        time_cap: 10_000,
        support: Support::new(Workload::DeepRm, 0.7, 50, Some(49)),
        objective: Objective::Gap,
        min_log_likelihood: None,
        rules: None,
        guard: None,
    }
}

fn sequences() -> Vec<Vec<Job>> {
    (0..SEQUENCES as u64)
        .map(|k| JobGenerator::new(Workload::DeepRm, 0.7, 50, 5_000 + k).collect())
        .collect()
}

fn fuzz(c: &mut Criterion) {
    let target = target();
    let seqs = sequences();
    let mut group = c.benchmark_group("fuzz_evaluate");
    group.throughput(Throughput::Elements(SEQUENCES as u64));
    let all = rayon::current_num_threads();
    for threads in [1, all] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        group.bench_with_input(BenchmarkId::new("threads", threads), &seqs, |b, seqs| {
            b.iter(|| {
                pool.install(|| {
                    seqs.par_iter()
                        .map(|jobs| evaluate(&target, black_box(jobs)).ok().flatten())
                        .filter(Option::is_some)
                        .count()
                })
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = fuzz
}
criterion_main!(benches);
