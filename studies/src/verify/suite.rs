//! Checking a property of a loaded model, over the property's own regions or a region the user
//! gives, and the suite of every property.

use anyhow::{bail, Result};
use whitebox_core::encoding::Compact;
use whitebox_core::nn::{Mlp, MlpPolicy};
use whitebox_core::{Action, Scheduler};
use whitebox_runtime::jobfile::to_raw;
use whitebox_runtime::models::{CompactVisitor, LoadedModel, F32, HIDDEN};

use super::bab::{verify_queries, Outcome, Verdict};
use super::bmc::{starts_within, Script};
use super::pair::{first_copies, horizon_features, robust_pairs};
use super::property::{Compare, Property};
use super::region::{Feature, Region};
use super::replay::build;

/// Explicit states `starts-within` checks at most.
pub const STATE_LIMIT: u64 = 5_000_000;

/// Every property the suite checks, with the region each uses when none is given.
pub fn suite() -> Vec<Property> {
    vec![
        Property::NoIdle,
        Property::ShorterFirst,
        // Not `occupancy-robust:effective`: on deeprm's default region it runs out of time
        // (docs/verify.md), so the suite would not stay under a second per property.
        Property::OccupancyRobust(Compare::Raw),
        Property::StartsWithin(1),
        Property::StartsWithin(5),
    ]
}

/// The default region of `occupancy-robust` and `starts-within`: an idle cluster with one job,
/// in slot 0, and an empty backlog.
pub fn one_job_region(m: usize) -> Region {
    let mut r = Region::all(m).idle().with_job(0);
    for slot in 1..m {
        r.set(Feature::Len { slot }, 0, 0);
    }
    r.set(Feature::Backlog, 0, 0);
    r
}

/// The default region of `occupancy-robust`: [`one_job_region`] widened by one unit of
/// occupancy in every horizon row (every row 9 or 10 free units, any wait), so that pairs of
/// states one unit apart lie in it.
pub fn robust_region(m: usize) -> Region {
    one_job_region(m).widened()
}

/// `occupancy-robust` over `region` by pair queries ([`super::pair`]), with both states of a
/// violating pair replayed through the simulator and the real policy where they can be built.
pub fn check_robust<const M: usize, const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    compare: Compare,
    region: &Region,
    budget: u64,
) -> Result<Outcome> {
    let start = std::time::Instant::now();
    let reports = robust_pairs(net, compare, region, budget)?;
    let queries = horizon_features(M)
        .into_iter()
        .filter(|&i| first_copies(region, i).is_some())
        .count();
    let mut out = Outcome::proved(Property::OccupancyRobust(compare).to_string(), queries);
    for r in reports {
        out.branches += r.report.branches;
        out.bounded_leaves += r.report.bounded_leaves;
        out.evaluated_leaves += r.report.evaluated_leaves;
        match r.report.verdict {
            Verdict::Proved => {
                out.proved += 1;
                out.pair_certificates.push(r.certificate);
            }
            Verdict::Refuted => {
                out.verdict = Verdict::Refuted;
                if let Some((s, t)) = &r.pair {
                    out.replay = replay_state::<M, I, O>(net, s, None);
                    out.neighbour_replay = replay_state::<M, I, O>(net, t, None);
                }
                out.open.insert(0, r.report);
            }
            Verdict::Unknown => {
                if out.verdict == Verdict::Proved {
                    out.verdict = Verdict::Unknown;
                }
                out.open.push(r.report);
            }
        }
    }
    out.seconds = start.elapsed().as_secs_f64();
    Ok(out)
}

/// Builds state `units` as a cluster ([`build`]) and lets the real policy (no liveness mask)
/// decide there; `None` when the state cannot be built, or when `want` is given and the policy
/// chooses otherwise.
fn replay_state<const M: usize, const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    units: &[u16],
    want: Option<Action>,
) -> Option<Script> {
    let rp = build::<M, I>(&Region::all(M), units)?;
    let mut policy = MlpPolicy::<'_, Compact, M, I, HIDDEN, O>::new(net, false);
    let a = policy.decide(&rp.cluster).ok()?;
    let name = |a: Action| match a {
        Action::Schedule(i) => format!("slot {i}"),
        Action::Void => "void".to_string(),
    };
    want.is_none_or(|w| w == a).then(|| Script {
        jobs: to_raw(&rp.jobs),
        prefix: rp.prefix.iter().map(|&a| name(a)).collect(),
        decisions: vec![name(a)],
    })
}

fn check_net<const M: usize, const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    property: Property,
    region: Option<&Region>,
    budget: u64,
) -> Result<Outcome> {
    let name = property.to_string();
    let mut queries = match property {
        Property::StartsWithin(k) => {
            let r = region.cloned().unwrap_or_else(|| one_job_region(M));
            return starts_within::<M, I, O>(net, &r, k, STATE_LIMIT);
        }
        Property::OccupancyRobust(compare) => {
            let r = region.cloned().unwrap_or_else(|| robust_region(M));
            return check_robust::<M, I, O>(net, compare, &r, budget);
        }
        _ => property.queries(M),
    };
    if let Some(r) = region {
        for q in &mut queries {
            q.region.intersect(r);
        }
    }
    let mut out = verify_queries(net, &name, &queries, budget)?;
    if property == Property::NoIdle && out.verdict == Verdict::Refuted {
        let c = out.open.first().and_then(|q| q.counterexample.as_ref());
        if let Some(c) = c {
            let units: Vec<u16> = c.features.iter().map(|(_, v)| *v).collect();
            out.replay = replay_state::<M, I, O>(net, &units, Some(Action::Void));
        }
    }
    Ok(out)
}

/// Checks `property` on a loaded model (compact encoder only), over `region` when given (for
/// `no-idle` and `shorter-first` it is intersected with each of the property's regions).
///
/// # Errors
/// An image-encoder or int8 model, a region that does not suit the property, or a network with
/// a non-finite weight.
pub fn verify_model(
    model: &LoadedModel,
    property: Property,
    region: Option<&Region>,
    budget: u64,
) -> Result<Outcome> {
    if model.int8.is_some() {
        bail!("verify checks f32 networks; give the model file as model:PATH, not int8:PATH");
    }
    // The verifier reads the compact encoder's feature layout, so it visits the compact
    // architectures only.
    struct Check<'r> {
        property: Property,
        region: Option<&'r Region>,
        budget: u64,
    }
    impl CompactVisitor<'_, F32> for Check<'_> {
        type Out = Result<Outcome>;
        fn visit<const M: usize, const I: usize, const O: usize>(
            self,
            net: &Mlp<I, HIDDEN, O>,
        ) -> Result<Outcome> {
            check_net::<M, I, O>(net, self.property, self.region, self.budget)
        }
    }
    let check = Check {
        property,
        region,
        budget,
    };
    match model.net.visit_compact(check) {
        Some(outcome) => outcome,
        None => {
            bail!("verify supports the compact encoder only; this model uses the image encoder")
        }
    }
}

/// Writes one VNN-LIB file per query of `property` into `dir`, named `PROPERTY-NNNN.vnnlib`
/// after the query's index. Each query's region is narrowed to `region` when given, then
/// tightened by [`Region::tighten`](super::region::Region::tighten): the points it drops are no
/// cluster state, so a tool's `unsat` on the written box still proves the query. A query whose
/// region holds no state is vacuously true and not written.
///
/// Returns how many files were written and how many queries held no state.
///
/// # Errors
/// A property that is no single-network query (`occupancy-robust` compares two copies of the
/// network, `starts-within` unrolls the simulator), or a file that cannot be written.
pub fn export_vnnlib(
    model: &LoadedModel,
    property: Property,
    region: Option<&Region>,
    dir: &std::path::Path,
) -> Result<(usize, usize)> {
    if matches!(
        property,
        Property::OccupancyRobust(_) | Property::StartsWithin(_)
    ) {
        bail!("{property} is not a single-network query: VNN-LIB export covers no-idle and shorter-first");
    }
    let m = model.net.slots();
    let inputs = whitebox_core::encoding::compact_len(m);
    let mut queries = property.queries(m);
    if let Some(r) = region {
        for q in &mut queries {
            q.region.intersect(r);
        }
    }
    std::fs::create_dir_all(dir)?;
    let mut written = 0;
    for (k, q) in queries.iter_mut().enumerate() {
        if !q.region.tighten() {
            continue;
        }
        let text = super::vnnlib::vnnlib(q, inputs, m + 1)?;
        std::fs::write(dir.join(format!("{property}-{k:04}.vnnlib")), text)?;
        written += 1;
    }
    Ok((written, queries.len() - written))
}

/// The number of job slots of a compact model (for parsing regions).
pub fn slots(model: &LoadedModel) -> usize {
    model.net.slots()
}

#[cfg(test)]
mod tests;
