//! Checking a property of a loaded model, over the property's own regions or a region the user
//! gives, and the suite of every property.

use anyhow::{bail, Result};
use whitebox_core::encoding::Compact;
use whitebox_core::nn::{Mlp, MlpPolicy};
use whitebox_core::{Action, Scheduler};
use whitebox_runtime::jobfile::to_raw;
use whitebox_runtime::models::{CompactVisitor, LoadedModel, F32, HIDDEN};

use super::bab::{logits_at, realize, verify_queries, Outcome, Verdict};
use super::bmc::{starts_within, Script};
use super::property::{unit, Holds, Property, Query};
use super::region::{Feature, Region};
use super::replay::build;

/// Explicit states `starts-within` checks at most.
pub const STATE_LIMIT: u64 = 5_000_000;

/// Every property the suite checks, with the region each uses when none is given.
pub fn suite() -> Vec<Property> {
    vec![
        Property::NoIdle,
        Property::ShorterFirst,
        Property::OccupancyRobust,
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

/// The queries of `occupancy-robust` over `region`: the action `a0` chosen at the region's
/// middle state beats every other output over the widened region (strictly where the other
/// has the lower index, since ties go to the lowest index).
fn robust_queries<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    region: &Region,
) -> Vec<Query> {
    let mut mid = region.point(|_, lo, hi| lo + (hi - lo) / 2);
    realize(region, &mut mid);
    let y = logits_at(net, region, &mid);
    let a0 = (0..y.len()).fold(0, |best, k| if y[k] > y[best] { k } else { best });
    let wide = region.widened();
    (0..O)
        .filter(|&b| b != a0)
        .map(|b| Query {
            name: format!("output {a0} (chosen at the middle state) above output {b}"),
            region: wide.clone(),
            specs: vec![unit(O, a0, b)],
            holds: if b < a0 {
                Holds::Above { a: a0, b }
            } else {
                Holds::AtLeast { a: a0, b }
            },
            strict: b < a0,
        })
        .collect()
}

/// Replays a `no-idle` counterexample: builds the state as a cluster and lets the real policy
/// (no liveness mask) decide; `Some` when it chooses void there.
fn replay_idle<const M: usize, const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    region: &Region,
    units: &[u16],
) -> Option<Script> {
    let rp = build::<M, I>(region, units)?;
    let mut policy = MlpPolicy::<'_, Compact, M, I, HIDDEN, O>::new(net, false);
    let a = policy.decide(&rp.cluster).ok()?;
    let name = |a: Action| match a {
        Action::Schedule(i) => format!("slot {i}"),
        Action::Void => "void".to_string(),
    };
    (a == Action::Void).then(|| Script {
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
        Property::OccupancyRobust => {
            let r = region.cloned().unwrap_or_else(|| one_job_region(M));
            robust_queries(net, &r)
        }
        _ => property.queries(M),
    };
    if let (Some(r), false) = (region, property == Property::OccupancyRobust) {
        for q in &mut queries {
            q.region.intersect(r);
        }
    }
    let mut out = verify_queries(net, &name, &queries, budget)?;
    if property == Property::NoIdle && out.verdict == Verdict::Refuted {
        let c = out.open.first().and_then(|q| q.counterexample.as_ref());
        if let Some(c) = c {
            let units: Vec<u16> = c.features.iter().map(|(_, v)| *v).collect();
            out.replay = replay_idle::<M, I, O>(net, &Region::all(M), &units);
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

/// The number of job slots of a compact model (for parsing regions).
pub fn slots(model: &LoadedModel) -> usize {
    model.net.slots()
}

#[cfg(test)]
mod tests;
