//! Branch and bound over a region's discrete features with CROWN bounds at every node.

use std::time::Instant;

use anyhow::{bail, Result};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::Serialize;
use whitebox_core::nn::Mlp;
use whitebox_core::spec::{HORIZON, NUM_RES};
use whitebox_core::verify::{crown_lower, InputBox};
use whitebox_runtime::models::{AnyModel, LoadedModel, HIDDEN};

use super::property::{Property, Query};
use super::region::{Feature, Region};

/// The answer for one query or a whole property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Holds on every state of the region: every leaf has a positive bound or was evaluated.
    Proved,
    /// Fails at the reported state.
    Refuted,
    /// The branch budget ran out first.
    Unknown,
}

/// A state where the property fails: every compact feature in whole units, and the logits.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Counterexample {
    /// `(feature name, whole units)` for every feature.
    pub features: Vec<(String, u16)>,
    /// The network's logits there, shape `[M + 1]`, as the core computes them.
    pub logits: Vec<f32>,
}

/// One query's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueryReport {
    /// The query.
    pub query: String,
    /// Proved, refuted or unknown.
    pub verdict: Verdict,
    /// Regions bounded.
    pub branches: u64,
    /// Leaves proved by a CROWN bound.
    pub bounded_leaves: u64,
    /// Leaves decided by evaluating the network at a single state (or found inconsistent).
    pub evaluated_leaves: u64,
    /// The lowest bound among the regions left open (unknown only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst_bound: Option<f64>,
    /// The failing state (refuted only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Counterexample>,
}

/// A property's outcome over all its queries.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// The property.
    pub property: String,
    /// Refuted if any query is, else unknown if any is, else proved.
    pub verdict: Verdict,
    /// Queries (regions) it consists of.
    pub queries: usize,
    /// Queries proved.
    pub proved: usize,
    /// Regions bounded over all queries.
    pub branches: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// The queries not proved (the first refuted one, then the unknown ones).
    pub open: Vec<QueryReport>,
}

/// Makes a point of whole units consistent with how a cluster encodes: an empty slot has no
/// demand and no wait; a job's wait is its first fit in the free rows (20 when none), after
/// raising the rows of the jobs the region says fit now; the backlog is empty while a slot is.
fn realize(region: &Region, point: &mut [u16]) {
    let m = region.m;
    let idx = |f: Feature| region.index(f);
    let get = |p: &[u16], f: Feature| idx(f).and_then(|i| p.get(i).copied()).unwrap_or(0);
    let mut all_full = true;
    // Jobs the region says fit now get the rows they need.
    for slot in 0..m {
        let len = get(point, Feature::Len { slot });
        let must_fit = idx(Feature::Wait { slot }).is_some_and(|i| region.hi[i] == 0);
        if len > 0 && must_fit {
            for row in 0..usize::from(len).min(HORIZON) {
                for res in 0..NUM_RES {
                    let d = get(point, Feature::Demand { slot, res });
                    if let Some(i) = idx(Feature::Free { row, res }) {
                        point[i] = point[i].max(d);
                    }
                }
            }
        }
    }
    for slot in 0..m {
        let len = get(point, Feature::Len { slot });
        if len == 0 {
            all_full = false;
            for res in 0..NUM_RES {
                if let Some(i) = idx(Feature::Demand { slot, res }) {
                    point[i] = 0;
                }
            }
            if let Some(i) = idx(Feature::Wait { slot }) {
                point[i] = 0;
            }
            continue;
        }
        let demand: Vec<u16> = (0..NUM_RES)
            .map(|res| get(point, Feature::Demand { slot, res }))
            .collect();
        let fits_at = |t: usize| {
            (t..t + usize::from(len)).all(|row| {
                row < HORIZON
                    && (0..NUM_RES).all(|res| get(point, Feature::Free { row, res }) >= demand[res])
            })
        };
        let wait = (0..HORIZON).find(|&t| fits_at(t)).unwrap_or(HORIZON);
        if let Some(i) = idx(Feature::Wait { slot }) {
            point[i] = wait as u16;
        }
    }
    if !all_full {
        if let Some(i) = idx(Feature::Backlog) {
            point[i] = 0;
        }
    }
}

fn inside(region: &Region, point: &[u16]) -> bool {
    point
        .iter()
        .zip(region.lo.iter().zip(&region.hi))
        .all(|(v, (l, h))| l <= v && v <= h)
}

fn logits_at<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    region: &Region,
    units: &[u16],
) -> Vec<f32> {
    let x = region.encode(units);
    let mut input = [0.0f32; I];
    for (d, s) in input.iter_mut().zip(x) {
        *d = s;
    }
    let (mut h, mut y) = ([0.0f32; HIDDEN], [0.0f32; O]);
    net.forward(&input, &mut h, &mut y);
    y.to_vec()
}

/// Random states tried on each query before branch and bound.
const SAMPLES: usize = 256;
/// Seed of those states (fixed, so answers repeat).
const SAMPLE_SEED: u64 = 13;

/// The counterexample at `p` if it is a state of `r` where the property fails.
fn violation<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    q: &Query,
    r: &Region,
    p: &[u16],
) -> Option<Counterexample> {
    if !inside(r, p) {
        return None;
    }
    let y = logits_at(net, r, p);
    (!q.holds.check(&y)).then(|| Counterexample {
        features: p
            .iter()
            .enumerate()
            .filter_map(|(i, &v)| Feature::at(i, r.m).map(|f| (f.name(), v)))
            .collect(),
        logits: y,
    })
}

/// Decides one query with at most `budget` branches.
fn decide<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    q: &Query,
    budget: u64,
) -> Result<QueryReport> {
    let mut report = QueryReport {
        query: q.name.clone(),
        verdict: Verdict::Proved,
        branches: 0,
        bounded_leaves: 0,
        evaluated_leaves: 0,
        worst_bound: None,
        counterexample: None,
    };
    let mut spec = [0.0f32; O];
    for (d, s) in spec.iter_mut().zip(&q.spec) {
        *d = *s;
    }
    // Falsification first: random states of the region, made consistent.
    let mut rng = Pcg64::seed_from_u64(SAMPLE_SEED);
    for _ in 0..SAMPLES {
        let mut p = q.region.point(|_, lo, hi| rng.random_range(lo..=hi));
        realize(&q.region, &mut p);
        if let Some(c) = violation(net, q, &q.region, &p) {
            report.verdict = Verdict::Refuted;
            report.counterexample = Some(c);
            return Ok(report);
        }
    }
    let mut stack = vec![q.region.clone()];
    while let Some(r) = stack.pop() {
        if r.is_empty() {
            continue;
        }
        if report.branches >= budget {
            report.verdict = Verdict::Unknown;
            stack.push(r);
            break;
        }
        report.branches += 1;
        let (lo, hi) = r.input_box();
        let (mut l, mut h) = ([0.0f32; I], [0.0f32; I]);
        l.copy_from_slice(&lo);
        h.copy_from_slice(&hi);
        let bound = crown_lower(net, &InputBox::new(l, h)?, &spec)?;
        if bound.lower >= 0.0 {
            report.bounded_leaves += 1;
            continue;
        }
        // A concrete state near the middle: a counterexample if the property fails there.
        let mut p = r.point(|_, lo, hi| lo + (hi - lo) / 2);
        realize(&r, &mut p);
        if let Some(c) = violation(net, q, &r, &p) {
            report.verdict = Verdict::Refuted;
            report.counterexample = Some(c);
            return Ok(report);
        }
        let single = r.lo == r.hi;
        if single {
            // One point: it is a state (checked above, property holds) or no state at all.
            report.evaluated_leaves += 1;
            continue;
        }
        let width = |i: usize| {
            let d = Feature::at(i, r.m).map_or(1.0, |f| f64::from(f.domain().1));
            f64::from(r.hi[i] - r.lo[i]) / d
        };
        let best = (0..r.lo.len())
            .filter(|&i| r.lo[i] < r.hi[i])
            .max_by(|&a, &b| {
                let s = |i: usize| bound.input_coef[i].abs() * width(i) + width(i) * 1e-9;
                s(a).total_cmp(&s(b))
            });
        match best.and_then(|i| r.split(i)) {
            Some((a, b)) => {
                stack.push(a);
                stack.push(b);
            }
            None => report.evaluated_leaves += 1,
        }
    }
    if report.verdict == Verdict::Unknown {
        let worst = stack
            .iter()
            .filter_map(|r| {
                let (lo, hi) = r.input_box();
                let (mut l, mut h) = ([0.0f32; I], [0.0f32; I]);
                l.copy_from_slice(&lo);
                h.copy_from_slice(&hi);
                let b = InputBox::new(l, h).ok()?;
                crown_lower(net, &b, &spec).ok().map(|c| c.lower)
            })
            .fold(f64::INFINITY, f64::min);
        report.worst_bound = Some(worst);
    }
    Ok(report)
}

/// Checks `property` on a compact network with `m` job slots, at most `budget` branches per
/// query.
///
/// # Errors
/// A network with a non-finite weight.
pub fn verify_net<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    m: usize,
    property: Property,
    budget: u64,
) -> Result<Outcome> {
    let start = Instant::now();
    let queries = property.queries(m);
    let mut out = Outcome {
        property: property.to_string(),
        verdict: Verdict::Proved,
        queries: queries.len(),
        proved: 0,
        branches: 0,
        seconds: 0.0,
        open: Vec::new(),
    };
    for q in &queries {
        let r = decide(net, q, budget)?;
        out.branches += r.branches;
        match r.verdict {
            Verdict::Proved => out.proved += 1,
            Verdict::Refuted => {
                out.verdict = Verdict::Refuted;
                out.open.insert(0, r);
                break;
            }
            Verdict::Unknown => {
                out.verdict = Verdict::Unknown;
                if out.open.len() < 20 {
                    out.open.push(r);
                }
            }
        }
    }
    out.seconds = start.elapsed().as_secs_f64();
    Ok(out)
}

/// Checks `property` on a loaded model (compact encoder only).
///
/// # Errors
/// An image-encoder or int8 model, or as [`verify_net`].
pub fn verify_model(model: &LoadedModel, property: Property, budget: u64) -> Result<Outcome> {
    if model.int8.is_some() {
        bail!("verify checks f32 networks; give the model file as model:PATH, not int8:PATH");
    }
    match &model.net {
        AnyModel::Compact5(n) => verify_net(n, 5, property, budget),
        AnyModel::Compact10(n) => verify_net(n, 10, property, budget),
        AnyModel::Image5(_) | AnyModel::Image10(_) => {
            bail!("verify supports the compact encoder only; this model uses the image encoder")
        }
    }
}

#[cfg(test)]
mod tests;
