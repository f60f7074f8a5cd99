//! `starts-within:K`: on an idle cluster with a job in slot 0, the raw network (no liveness
//! mask) starts that job within `K` decisions, no new job arriving meanwhile. Bounded model
//! checking as in whiRL (Eliyahu et al., SIGCOMM 2021), by explicit states: every state of the
//! region is built as a real cluster ([`super::replay::build`]), and the real policy
//! (`MlpPolicy` without the mask) decides `K` times through the simulator's own transition
//! (`Cluster::step`). The region is finite, so this is sound and complete; a state budget stops
//! it with **unknown**. A refutation is a replayable script: the jobs, the fixed action prefix
//! that reaches the state, and the policy's `K` decisions.

use std::time::Instant;

use anyhow::{bail, Result};
use serde::Serialize;
use whitebox_core::encoding::Compact;
use whitebox_core::nn::{Mlp, MlpPolicy};
use whitebox_core::spec::{HORIZON, NUM_RES, RES_UNITS};
use whitebox_core::{Action, Scheduler, Step};
use whitebox_runtime::jobfile::{to_raw, RawJob};
use whitebox_runtime::models::HIDDEN;

use super::bab::{Counterexample, Outcome, QueryReport, Verdict};
use super::region::{Feature, Region};
use super::replay::build;

/// A replayable refutation of `starts-within:K`.
#[derive(Clone, Debug, Serialize)]
pub struct Script {
    /// The jobs (a job file's `jobs`).
    pub jobs: Vec<RawJob>,
    /// The actions that reach the state, then the policy's decisions, as text.
    pub prefix: Vec<String>,
    /// The policy's `K` decisions from the state.
    pub decisions: Vec<String>,
}

fn name(a: Action) -> String {
    match a {
        Action::Schedule(i) => format!("slot {i}"),
        Action::Void => "void".to_string(),
    }
}

/// The region restricted to idle clusters with a job in slot 0 (every job fits now).
///
/// # Errors
/// When the region allows a horizon row that is not entirely free.
pub fn idle_region(region: &Region) -> Result<Region> {
    let mut r = region.clone();
    for row in 0..HORIZON {
        for res in 0..NUM_RES {
            let i = r.index(Feature::Free { row, res }).unwrap_or(0);
            if r.lo[i] < u16::from(RES_UNITS) {
                bail!(
                    "starts-within needs an idle cluster: free[{row}].res{res} may be {} (add `idle` to --region)",
                    r.lo[i]
                );
            }
        }
    }
    r = r.with_job(0);
    for slot in 0..r.m {
        r.set(Feature::Wait { slot }, 0, 0);
    }
    Ok(r)
}

/// Checks `starts-within:K` on every state of `region` (at most `limit` states).
///
/// # Errors
/// A region that is not idle.
pub fn starts_within<const M: usize, const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    region: &Region,
    k: u8,
    limit: u64,
) -> Result<Outcome> {
    let start = Instant::now();
    let mut r = idle_region(region)?;
    let label = format!("starts-within:{k}");
    let mut report = QueryReport::proved(format!(
        "idle cluster, job in slot 0: started within {k} decisions"
    ));
    let mut script = None;
    let count: u64 = if r.tighten() {
        r.lo.iter()
            .zip(&r.hi)
            .map(|(l, h)| u64::from(h - l) + 1)
            .try_fold(1u64, |a, b| a.checked_mul(b))
            .unwrap_or(u64::MAX)
    } else {
        0
    };
    if count > limit {
        report.verdict = Verdict::Unknown;
    } else if count > 0 {
        let mut p = r.lo.clone();
        'states: loop {
            let mut single = r.clone();
            single.lo.clone_from(&p);
            single.hi.clone_from(&p);
            if single.tighten() && single.lo == p {
                report.branches += 1;
                let Some(rp) = build::<M, I>(&r, &p) else {
                    bail!("state {p:?} of the region could not be built as a cluster");
                };
                let mut cluster = rp.cluster.clone();
                let mut policy = MlpPolicy::<'_, Compact, M, I, HIDDEN, O>::new(net, false);
                let mut decisions = Vec::new();
                let mut started = false;
                for _ in 0..k {
                    let a = policy.decide(&cluster)?;
                    decisions.push(a);
                    let step = cluster.step(a);
                    if matches!(step, Step::Allocated { slot: 0, .. }) {
                        started = true;
                        break;
                    }
                }
                report.evaluated_leaves += 1;
                if !started {
                    report.verdict = Verdict::Refuted;
                    report.counterexample = Some(Counterexample {
                        features: p
                            .iter()
                            .enumerate()
                            .filter_map(|(i, &v)| Feature::at(i, r.m).map(|f| (f.name(), v)))
                            .collect(),
                        logits: Vec::new(),
                    });
                    script = Some(Script {
                        jobs: to_raw(&rp.jobs),
                        prefix: rp.prefix.into_iter().map(name).collect(),
                        decisions: decisions.into_iter().map(name).collect(),
                    });
                    break 'states;
                }
            }
            // Next point, odometer order.
            let mut i = 0;
            loop {
                if i == p.len() {
                    break 'states;
                }
                if p[i] < r.hi[i] {
                    p[i] += 1;
                    break;
                }
                p[i] = r.lo[i];
                i += 1;
            }
        }
    }
    let out = Outcome {
        verdict: report.verdict,
        proved: usize::from(report.verdict == Verdict::Proved),
        branches: report.branches,
        seconds: start.elapsed().as_secs_f64(),
        evaluated_leaves: report.evaluated_leaves,
        open: if report.verdict == Verdict::Proved {
            Vec::new()
        } else {
            vec![report]
        },
        replay: script,
        ..Outcome::proved(label, 1)
    };
    Ok(out)
}
