//! Branch and bound over a region's discrete features with CROWN bounds at every node.

use std::time::Instant;

use anyhow::{bail, Result};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::Serialize;
use whitebox_core::nn::Mlp;
use whitebox_core::spec::{HORIZON, NUM_RES};
use whitebox_core::verify::phase::{phase_lower, Phase, PhaseBound};
use whitebox_core::verify::InputBox;
use whitebox_runtime::models::HIDDEN;

use super::cert::{CertNode, Certificate, SplitOn};
use super::lp::best_lines;
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

impl Counterexample {
    /// The state as a `--region` that holds it alone (every feature pinned to its value, in
    /// the syntax of [`crate::verify::syntax`]): `slot0.len=8, ..., since_new=4`.
    pub fn region_text(&self) -> String {
        let items: Vec<String> = self
            .features
            .iter()
            .map(|(name, v)| format!("{name}={v}"))
            .collect();
        items.join(", ")
    }
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
    /// For a refuted pair query (`occupancy-robust`), the other state of the pair: one unit of
    /// occupancy less in one horizon row, with another action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub neighbour: Option<Counterexample>,
    /// The proof tree (proved and unknown queries), for a separate checker.
    #[serde(skip)]
    pub certificate: Option<Certificate>,
}

impl QueryReport {
    /// A query named `query`, proved until a branch says otherwise: no branch, no bound, no
    /// counterexample yet.
    pub(crate) fn proved(query: String) -> QueryReport {
        QueryReport {
            query,
            verdict: Verdict::Proved,
            branches: 0,
            bounded_leaves: 0,
            evaluated_leaves: 0,
            worst_bound: None,
            counterexample: None,
            neighbour: None,
            certificate: None,
        }
    }
}

/// A property's outcome over all its queries.
#[derive(Clone, Debug, Serialize)]
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
    /// Leaves closed by a bound, over all queries.
    pub bounded_leaves: u64,
    /// Leaves closed by evaluating one state, over all queries.
    pub evaluated_leaves: u64,
    /// The certificates of the proved queries.
    #[serde(skip)]
    pub certificates: Vec<Certificate>,
    /// A refutation replayed through the simulator and the real policy: the jobs, the actions
    /// that reach the state, the policy's decisions there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<super::bmc::Script>,
    /// For a refuted pair query, the other state of the pair replayed the same way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub neighbour_replay: Option<super::bmc::Script>,
    /// The certificates of proved pair queries (`occupancy-robust`).
    #[serde(skip)]
    pub pair_certificates: Vec<super::pair::PairCertificate>,
}

impl Outcome {
    /// Property `property` of `queries` queries, proved until one is not: nothing counted,
    /// nothing open, no replay yet.
    pub(crate) fn proved(property: String, queries: usize) -> Outcome {
        Outcome {
            property,
            verdict: Verdict::Proved,
            queries,
            proved: 0,
            branches: 0,
            seconds: 0.0,
            open: Vec::new(),
            bounded_leaves: 0,
            evaluated_leaves: 0,
            certificates: Vec::new(),
            replay: None,
            neighbour_replay: None,
            pair_certificates: Vec::new(),
        }
    }
}

/// Makes a point of whole units consistent with how a cluster encodes: an empty slot has no
/// demand and no wait; a job's wait is its first fit in the free rows (20 when none), after
/// raising the rows of the jobs the region says fit now; the backlog is empty while a slot is.
pub(crate) fn realize(region: &Region, point: &mut [u16]) {
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

pub(crate) fn inside(region: &Region, point: &[u16]) -> bool {
    point
        .iter()
        .zip(region.lo.iter().zip(&region.hi))
        .all(|(v, (l, h))| l <= v && v <= h)
}

pub(crate) fn logits_at<const I: usize, const O: usize>(
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
pub(crate) fn violation<const I: usize, const O: usize>(
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

/// Restarts and moves of the local search for counterexamples.
const CLIMB_RESTARTS: usize = 48;
/// Moves per restart.
const CLIMB_MOVES: usize = 1500;

/// Local search for a counterexample: from random states of the region, change one feature at
/// a time to a random value of its range, make the state consistent, and keep the change when
/// the property's margin does not grow.
fn climb<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    q: &Query,
    rng: &mut Pcg64,
) -> Option<Counterexample> {
    let r = &q.region;
    let free: Vec<usize> = (0..r.lo.len()).filter(|&i| r.lo[i] < r.hi[i]).collect();
    if free.is_empty() {
        return None;
    }
    let margin = |p: &[u16]| q.holds.margin(&logits_at(net, r, p));
    for _ in 0..CLIMB_RESTARTS {
        let mut p = r.point(|_, lo, hi| rng.random_range(lo..=hi));
        realize(r, &mut p);
        if !inside(r, &p) {
            continue;
        }
        let mut v = margin(&p);
        for _ in 0..CLIMB_MOVES {
            if let Some(c) = violation(net, q, r, &p) {
                return Some(c);
            }
            let i = free[rng.random_range(0..free.len())];
            let mut c = p.clone();
            // Half the moves jump to an end of the range, where a linear piece is smallest.
            c[i] = match rng.random_range(0..4) {
                0 => r.lo[i],
                1 => r.hi[i],
                _ => rng.random_range(r.lo[i]..=r.hi[i]),
            };
            realize(r, &mut c);
            if !inside(r, &c) {
                continue;
            }
            let cv = margin(&c);
            if cv <= v {
                (v, p) = (cv, c);
            }
        }
        if let Some(c) = violation(net, q, r, &p) {
            return Some(c);
        }
    }
    None
}

/// One open node: a region, the phases fixed on the way, and its certificate node.
struct Node<const H: usize> {
    region: Region,
    phases: [Phase; H],
    cert: usize,
}

pub(crate) fn to_box<const I: usize>(r: &Region) -> Result<InputBox<I>> {
    let (lo, hi) = r.input_box();
    let (mut l, mut h) = ([0.0f32; I], [0.0f32; I]);
    l.copy_from_slice(&lo);
    h.copy_from_slice(&hi);
    Ok(InputBox::new(l, h)?)
}

/// The tightest sound bound of a branch over the query's alternatives: CROWN's lines for each
/// (cheap); when none closes the branch, the LP's for the alternative that is largest at the
/// branch's middle state `mid` (the one most likely to hold on the whole branch). Returns the
/// alternative and its bound.
fn bound_node<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    bx: &InputBox<I>,
    specs: &[[f32; O]],
    phases: &[Phase; HIDDEN],
    mid: &[f32],
    closed: impl Fn(f64) -> bool,
) -> Result<(usize, PhaseBound<I, HIDDEN>)> {
    let mut best: Option<(f64, usize, PhaseBound<I, HIDDEN>)> = None;
    for (k, spec) in specs.iter().enumerate() {
        let b = phase_lower(net, bx, spec, phases, None)?;
        if b.infeasible.is_some() || closed(b.lower) {
            return Ok((k, b));
        }
        let at_mid: f64 = spec
            .iter()
            .zip(mid)
            .map(|(c, y)| f64::from(*c) * f64::from(*y))
            .sum();
        if best.as_ref().is_none_or(|(v, _, _)| at_mid > *v) {
            best = Some((at_mid, k, b));
        }
    }
    let Some((_, k, crown)) = best else {
        bail!("a query without specifications");
    };
    let Some(lines) = best_lines(net, &crown.hidden, &crown.lambda, phases, &bx.lo, &bx.hi) else {
        return Ok((k, crown));
    };
    let lp = phase_lower(net, bx, &specs[k], phases, Some(&lines))?;
    Ok((k, if lp.lower > crown.lower { lp } else { crown }))
}

/// The unit whose line leaves the largest gap below `lambda relu` (BaBSR-like), among free
/// unstable ones.
fn relu_to_split<const I: usize>(
    b: &PhaseBound<I, HIDDEN>,
    phases: &[Phase; HIDDEN],
) -> Option<usize> {
    (0..HIDDEN)
        .filter(|&j| phases[j] == Phase::Free && b.hidden.lo[j] < 0.0 && b.hidden.hi[j] > 0.0)
        .map(|j| {
            let (lam, line) = (b.lambda[j], b.lines[j]);
            let gap = |t: f64| lam * t.max(0.0) - line.slope * t - line.offset;
            (
                j,
                gap(b.hidden.lo[j]).max(gap(0.0)).max(gap(b.hidden.hi[j])),
            )
        })
        .filter(|&(_, gap)| gap > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(j, _)| j)
}

/// The feature whose range moves the bound most (`|coefficient| * width`).
pub(crate) fn feature_to_split<const I: usize>(
    b: &PhaseBound<I, HIDDEN>,
    r: &Region,
) -> Option<usize> {
    let width = |i: usize| {
        let d = Feature::at(i, r.m).map_or(1.0, |f| f64::from(f.domain().1));
        f64::from(r.hi[i] - r.lo[i]) / d
    };
    (0..r.lo.len())
        .filter(|&i| r.lo[i] < r.hi[i])
        .max_by(|&a, &c| {
            let s = |i: usize| b.input_coef[i].abs() * width(i) + width(i) * 1e-9;
            s(a).total_cmp(&s(c))
        })
}

/// Decides one query with at most `budget` branches: branch and bound over the unstable ReLUs
/// (complete for the continuous box) and then over the discrete features (complete for the
/// states), with CROWN or LP bounds at every node. With `search`, random states and a local
/// search look for a counterexample first (the pair queries of `occupancy-robust` call it
/// without, on many small regions).
pub(crate) fn decide<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    q: &Query,
    index: usize,
    budget: u64,
    search: bool,
) -> Result<QueryReport> {
    let mut report = QueryReport::proved(q.name.clone());
    let specs: Vec<[f32; O]> = q
        .specs
        .iter()
        .map(|v| {
            let mut spec = [0.0f32; O];
            for (d, s) in spec.iter_mut().zip(v) {
                *d = *s;
            }
            spec
        })
        .collect();
    let strict = q.strict;
    let closed = |v: f64| if strict { v > 0.0 } else { v >= 0.0 };
    if !q.region.clone().tighten() {
        // No state at all (a user region can empty a query's region): vacuously proved.
        report.certificate = Some(Certificate {
            query: q.name.clone(),
            index,
            nodes: vec![CertNode::Empty],
        });
        return Ok(report);
    }
    // Falsification first: random states of the region, made consistent.
    let mut rng = Pcg64::seed_from_u64(SAMPLE_SEED);
    for _ in 0..if search { SAMPLES } else { 0 } {
        let mut p = q.region.point(|_, lo, hi| rng.random_range(lo..=hi));
        realize(&q.region, &mut p);
        if let Some(c) = violation(net, q, &q.region, &p) {
            report.verdict = Verdict::Refuted;
            report.counterexample = Some(c);
            return Ok(report);
        }
    }
    let mut cert = Certificate {
        query: q.name.clone(),
        index,
        nodes: vec![CertNode::Open],
    };
    let mut stack = vec![Node {
        region: q.region.clone(),
        phases: [Phase::Free; HIDDEN],
        cert: 0,
    }];
    let mut worst = f64::INFINITY;
    while let Some(mut node) = stack.pop() {
        if !node.region.tighten() {
            cert.nodes[node.cert] = CertNode::Empty;
            continue;
        }
        if report.branches >= budget {
            report.verdict = Verdict::Unknown;
            stack.push(node);
            break;
        }
        report.branches += 1;
        let r = &node.region;
        let bx = to_box::<I>(r)?;
        let mid = logits_at(net, r, &r.point(|_, lo, hi| lo + (hi - lo) / 2));
        let (alt, bound) = bound_node(net, &bx, &specs, &node.phases, &mid, closed)?;
        if search && report.branches == 1 && !closed(bound.lower) {
            // Not proved at the root: search for a counterexample by local moves first.
            if let Some(c) = climb(net, q, &mut rng) {
                report.verdict = Verdict::Refuted;
                report.counterexample = Some(c);
                return Ok(report);
            }
        }
        if let Some(unit) = bound.infeasible {
            cert.nodes[node.cert] = CertNode::Infeasible { unit };
            report.bounded_leaves += 1;
            continue;
        }
        if closed(bound.lower) {
            cert.nodes[node.cert] = CertNode::Bound {
                spec: alt,
                lines: bound.lines.to_vec(),
                lower: bound.lower,
            };
            report.bounded_leaves += 1;
            continue;
        }
        // The box corner the bound's linear function prefers, made a state: a counterexample if
        // the property fails there.
        let mut p = r.point(|i, lo, hi| {
            let g = bound.input_coef[i];
            if g > 1e-9 {
                lo
            } else if g < -1e-9 {
                hi
            } else {
                lo + (hi - lo) / 2
            }
        });
        let raw = p.clone();
        realize(&q.region, &mut p);
        if let Some(c) = violation(net, q, &q.region, &p) {
            report.verdict = Verdict::Refuted;
            report.counterexample = Some(c);
            return Ok(report);
        }
        if r.lo == r.hi {
            // One point, not a violation: the property holds there, or it is no state.
            let holds = q.holds.check(&logits_at(net, r, &raw));
            cert.nodes[node.cert] = if holds {
                CertNode::Point
            } else {
                CertNode::NotAState
            };
            report.evaluated_leaves += 1;
            continue;
        }
        worst = worst.min(bound.lower);
        let (on, children) = if let Some(unit) = relu_to_split(&bound, &node.phases) {
            let (mut a, mut b) = (node.phases, node.phases);
            a[unit] = Phase::Active;
            b[unit] = Phase::Inactive;
            (
                SplitOn::Relu { unit },
                [(node.region.clone(), a), (node.region, b)],
            )
        } else {
            let Some(i) = feature_to_split(&bound, r) else {
                continue;
            };
            let Some((a, b)) = r.split(i) else { continue };
            let at = a.hi[i];
            (
                SplitOn::Feature { index: i, at },
                [(a, node.phases), (b, node.phases)],
            )
        };
        let first = cert.nodes.len();
        cert.nodes.push(CertNode::Open);
        cert.nodes.push(CertNode::Open);
        cert.nodes[node.cert] = CertNode::Split {
            on,
            children: [first, first + 1],
        };
        node.cert = first;
        // Push the second child first so the first (active / lower half) is explored first.
        for (k, (region, phases)) in children.into_iter().enumerate().rev() {
            stack.push(Node {
                region,
                phases,
                cert: first + k,
            });
        }
    }
    if report.verdict == Verdict::Unknown {
        report.worst_bound = Some(worst);
    }
    report.certificate = Some(cert);
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
    verify_queries(net, &property.to_string(), &property.queries(m), budget)
}

/// Decides a list of queries (a property, or a property restricted to a region) on a compact
/// network, at most `budget` branches per query.
///
/// # Errors
/// A network with a non-finite weight.
pub fn verify_queries<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    name: &str,
    queries: &[Query],
    budget: u64,
) -> Result<Outcome> {
    let start = Instant::now();
    let mut out = Outcome::proved(name.to_string(), queries.len());
    for (index, q) in queries.iter().enumerate() {
        let mut r = decide(net, q, index, budget, true)?;
        out.branches += r.branches;
        out.bounded_leaves += r.bounded_leaves;
        out.evaluated_leaves += r.evaluated_leaves;
        match r.verdict {
            Verdict::Proved => {
                out.proved += 1;
                out.certificates.extend(r.certificate.take());
            }
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

#[cfg(test)]
mod tests;
