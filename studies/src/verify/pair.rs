//! `occupancy-robust` exactly, by two-copy (pair) queries: no two states of the user's region
//! that differ by one unit of occupancy in one horizon row (one resource) get different actions.
//!
//! A pair is a state `s` and its neighbour `s'`: `s` with one more free unit in row `r` of
//! resource `k` (compact feature `i`) and every job's wait recomputed (the first fit moves with
//! the occupancy); both must lie in the region. Every unordered pair is one `(s, s + e_i)`, so
//! there is one query per horizon feature `i`, over the first copies `s`.
//!
//! Branch and bound splits the first copies' region `B` feature by feature. A node is closed
//! when one action `a` wins on both copies of every pair of `B`: the first copies lie in `B` and
//! the second copies in the **hull** `H(B)`, which is `B` with feature `i` one unit higher at the
//! top and every wait from the region's lowest wait up to `B`'s highest (one more free unit can
//! only bring a first fit earlier). "`a` wins on `H(B)`" is a set of ordinary single-copy
//! queries (one per other output, strict against lower indices, which win ties), decided by the
//! same ReLU and feature branch and bound as every other property, each with its certificate.
//! A node that is one state is decided by evaluating both copies through the network; a
//! refutation is a pair, both states replayed through the simulator and the real policy where
//! the occupancy can be built. The search is complete (every pair is reached by splitting) and
//! sound (the single-copy bounds are rounded outward).
//!
//! With [`Compare::Effective`] two actions are the same when they have the same effect in the
//! simulator ([`effect`]): void, an empty slot and a job that fits nowhere are all "move on". A
//! hull leaf then also needs the winning output's effect to be one and the same on the whole
//! node (void; a slot empty on all of it; a slot holding a job that fits on all of it, the
//! neighbour's first fit being no later), and a determined leaf compares the two effects.

use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use whitebox_core::nn::Mlp;
use whitebox_core::spec::{HORIZON, NUM_RES};
use whitebox_core::verify::phase::{phase_lower, Phase};
use whitebox_runtime::models::HIDDEN;

use super::bab::{
    decide, feature_to_split, inside, logits_at, realize, to_box, Counterexample, QueryReport,
    Verdict,
};
use super::cert::Certificate;
use super::property::{unit, Compare, Holds, Query};
use super::region::{Feature, Region};

/// Branches each single-copy query of a hull gets before the pair node is split instead.
const HULL_BUDGET: u64 = 8;
/// Nodes with at most this many states (waits aside) are split down to their states without
/// trying a bound: evaluating them is cheaper than bounding their hull.
const SMALL_NODE: u64 = 32;
/// Random pairs tried before branch and bound.
const PAIR_SAMPLES: usize = 4096;
/// Restarts and moves of the local search for a pair.
const PAIR_CLIMB: (usize, usize) = (24, 1000);
/// Seed of the random pairs (fixed, so answers repeat).
const PAIR_SEED: u64 = 17;

/// One node of a pair query's proof tree.
#[derive(Clone, Debug, PartialEq)]
pub enum PairNode {
    /// The first copies split at compact feature `index`: values `..=at`, then `at + 1..`.
    Split {
        /// Compact input index.
        index: usize,
        /// Last value of the first child.
        at: u16,
        /// The children (indices into [`PairCertificate::nodes`]).
        children: [usize; 2],
    },
    /// `action` wins on the hull of the node (both copies of every pair): one certificate per
    /// other output `b` (its `index` is `b`), over [`hull`] of the node's region.
    Hull {
        /// The action both copies choose.
        action: usize,
        /// The single-copy certificates, one per other output.
        certificates: Vec<Certificate>,
    },
    /// [`Compare::Effective`]: some output of `outputs` (void and slots empty on the whole node,
    /// so all move time on) is strictly above every other output on the hull of the node; one
    /// certificate per other output `o` (its `index` is `o`).
    MoveOn {
        /// The move-on outputs.
        outputs: Vec<usize>,
        /// The single-copy certificates, one per other output.
        certificates: Vec<Certificate>,
    },
    /// Every feature but the waits is one value: the waits are the first fits, and this state
    /// is in the node, its neighbour is in the region and both have the same action.
    Point,
    /// Every feature but the waits is one value, and the waits that follow are outside the
    /// node (or the point is no state): no state.
    NotAState,
    /// As [`PairNode::Point`], but the neighbour is outside the region: no pair.
    NotAPair,
    /// The consistency rules leave nothing.
    Empty,
    /// Not closed: the budget ran out.
    Open,
}

/// The proof tree of one pair query: pairs `(s, s + e_feature)` with `s` in the region with
/// feature `feature` at most one unit below its top.
#[derive(Clone, Debug, PartialEq)]
pub struct PairCertificate {
    /// The horizon feature (compact input index) the two copies differ in.
    pub feature: usize,
    /// What the two copies' actions must share.
    pub compare: Compare,
    /// Nodes; 0 is the root.
    pub nodes: Vec<PairNode>,
}

/// The first copies of the pair query for feature `i`: the region with `i` below its top (`None`
/// when `i` holds one value, so no pair differs in it).
pub fn first_copies(region: &Region, i: usize) -> Option<Region> {
    let mut p = region.clone();
    if p.hi.get(i)? <= p.lo.get(i)? {
        return None;
    }
    p.hi[i] -= 1;
    Some(p)
}

/// Every state of `first` and every neighbour (in `region`) of such a state: `first` with
/// feature `i` one unit higher at the top and each wait from `region`'s lowest to `first`'s
/// highest.
pub fn hull(region: &Region, first: &Region, i: usize) -> Region {
    let mut h = first.clone();
    if let Some(v) = h.hi.get_mut(i) {
        *v += 1;
    }
    for slot in 0..h.m {
        if let Some(w) = h.index(Feature::Wait { slot }) {
            h.lo[w] = region.lo[w].min(h.lo[w]);
        }
    }
    h
}

/// The neighbour of state `s`: one more free unit in feature `i`, waits recomputed.
pub fn neighbour(m: usize, s: &[u16], i: usize) -> Vec<u16> {
    let mut t = s.to_vec();
    if let Some(v) = t.get_mut(i) {
        *v += 1;
    }
    realize(&Region::all(m), &mut t);
    t
}

/// The action the policy takes at these logits: the highest, the lowest index on ties.
pub fn action(y: &[f32]) -> usize {
    (0..y.len()).fold(0, |best, k| if y[k] > y[best] { k } else { best })
}

/// The effect of output `action` at state `s` (compact feature values, consistent) in
/// `Cluster::step`: `Some(slot)` when it starts the job of that slot (the slot holds a job that
/// fits somewhere in the horizon, wait below `HORIZON`), `None` when it moves time on (void, an
/// empty slot, a job that fits nowhere).
pub fn effect(m: usize, s: &[u16], action: usize) -> Option<usize> {
    let at = |f: Feature| f.position(m).and_then(|i| s.get(i).copied()).unwrap_or(0);
    (action < m
        && at(Feature::Len { slot: action }) > 0
        && usize::from(at(Feature::Wait { slot: action })) < HORIZON)
        .then_some(action)
}

/// True when the actions at `s` (logits `y`) and `t` (logits `z`) are the same under `compare`.
fn same(compare: Compare, m: usize, s: &[u16], y: &[f32], t: &[u16], z: &[f32]) -> bool {
    match compare {
        Compare::Raw => action(y) == action(z),
        Compare::Effective => effect(m, s, action(y)) == effect(m, t, action(z)),
    }
}

/// True when output `a` has one effect on every state of `b` and every neighbour of one:
/// void, a slot empty on all of `b`, or a slot holding a job that fits on all of `b` (the
/// neighbour's first fit is no later). Always true for [`Compare::Raw`].
fn constant_effect(compare: Compare, b: &Region, a: usize) -> bool {
    if compare == Compare::Raw || a >= b.m {
        return true;
    }
    let (Some(len), Some(wait)) = (
        b.index(Feature::Len { slot: a }),
        b.index(Feature::Wait { slot: a }),
    ) else {
        return true;
    };
    b.hi[len] == 0 || (b.lo[len] > 0 && (usize::from(b.hi[wait]) < HORIZON || fits_on_all(b, a)))
}

/// True when slot `slot`'s job fits somewhere in the horizon on every state of `b`: it fits at
/// the worst corner (every row's free units at their lowest, the length and demands at their
/// highest), and fitting only gets easier with more free units and a smaller job.
fn fits_on_all(b: &Region, slot: usize) -> bool {
    let hi = |f: Feature| b.index(f).map_or(0, |i| b.hi[i]);
    let free = |row: usize, res: usize| b.index(Feature::Free { row, res }).map_or(0, |i| b.lo[i]);
    let len = usize::from(hi(Feature::Len { slot }));
    let demand: Vec<u16> = (0..NUM_RES)
        .map(|res| hi(Feature::Demand { slot, res }))
        .collect();
    len > 0
        && (0..HORIZON.saturating_sub(len - 1))
            .any(|t| (t..t + len).all(|row| (0..NUM_RES).all(|res| free(row, res) >= demand[res])))
}

/// True when every feature of `r` but the waits holds one value.
pub fn determined(r: &Region) -> bool {
    (0..r.lo.len())
        .all(|j| r.lo[j] == r.hi[j] || matches!(Feature::at(j, r.m), Some(Feature::Wait { .. })))
}

/// The number of points of `r` with the waits left out (saturating).
fn states_without_waits(r: &Region) -> u64 {
    (0..r.lo.len())
        .filter(|&j| !matches!(Feature::at(j, r.m), Some(Feature::Wait { .. })))
        .map(|j| u64::from(r.hi[j].saturating_sub(r.lo[j])) + 1)
        .try_fold(1u64, |a, b| a.checked_mul(b))
        .unwrap_or(u64::MAX)
}

/// True when `s` is a cluster state (making it consistent changes nothing).
fn is_state(m: usize, s: &[u16]) -> bool {
    let mut c = s.to_vec();
    realize(&Region::all(m), &mut c);
    c == s
}

fn named(r: &Region, p: &[u16], logits: Vec<f32>) -> Counterexample {
    Counterexample {
        features: p
            .iter()
            .enumerate()
            .filter_map(|(i, &v)| Feature::at(i, r.m).map(|f| (f.name(), v)))
            .collect(),
        logits,
    }
}

/// The pair at state `s` of `first` for feature `i`: `Some((s', violated))` when it is a pair
/// (both states, both in `region`).
fn pair_at<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    compare: Compare,
    region: &Region,
    first: &Region,
    i: usize,
    s: &[u16],
) -> Option<(Vec<u16>, bool)> {
    if !inside(first, s) || !is_state(region.m, s) {
        return None;
    }
    let t = neighbour(region.m, s, i);
    if !inside(region, &t) {
        return None;
    }
    let (y, z) = (logits_at(net, region, s), logits_at(net, region, &t));
    Some((t.clone(), !same(compare, region.m, s, &y, &t, &z)))
}

/// How far the pair `(s, y)`, `(t, z)` (states, logits) is from a violation: each copy's
/// action (its effect, for [`Compare::Effective`]) keeps its lead on the other copy (the
/// smaller of the two leads; below or at 0 near a violation).
fn pair_margin(compare: Compare, m: usize, s: &[u16], y: &[f32], t: &[u16], z: &[f32]) -> f64 {
    let lead = |own_s: &[u16], own: &[f32], other_s: &[u16], other: &[f32]| {
        let a = action(own);
        let alike = |b: usize| match compare {
            Compare::Raw => b == a,
            Compare::Effective => effect(m, other_s, b) == effect(m, own_s, a),
        };
        let best = |want: bool| {
            (0..other.len())
                .filter(|&b| alike(b) == want)
                .map(|b| f64::from(other[b]))
                .fold(f64::NEG_INFINITY, f64::max)
        };
        best(true) - best(false)
    };
    lead(s, y, t, z).min(lead(t, z, s, y))
}

/// Random pairs, then a local search (one feature of `s`, or the row, at a time) toward a
/// smaller [`pair_margin`]. Returns `(i, s, s')` for a violating pair.
fn search<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    compare: Compare,
    region: &Region,
    features: &[(usize, Region)],
) -> Option<(usize, Vec<u16>, Vec<u16>)> {
    let mut rng = Pcg64::seed_from_u64(PAIR_SEED);
    let draw = |rng: &mut Pcg64, first: &Region| {
        let mut p = first.point(|_, lo, hi| rng.random_range(lo..=hi));
        realize(first, &mut p);
        p
    };
    // Staircases first: rows below a random row one unit lower than the rows above, the pair
    // at the last lower row. Both states then have used units that do not grow with the row,
    // which the replay can build as a cluster.
    for k in 0..2 * PAIR_SAMPLES {
        let (i, first) = &features[rng.random_range(0..features.len())];
        let mut s = draw(&mut rng, first);
        if k < PAIR_SAMPLES {
            let Some(Feature::Free { row, res }) = Feature::at(*i, region.m) else {
                continue;
            };
            let ends: [usize; NUM_RES] = core::array::from_fn(|r| {
                if r == res {
                    row + 1
                } else {
                    rng.random_range(0..=HORIZON)
                }
            });
            for (j, v) in s.iter_mut().enumerate() {
                if let Some(Feature::Free { row, res }) = Feature::at(j, region.m) {
                    let (lo, hi) = (first.lo[j], first.hi[j]);
                    *v = if row < ends[res] {
                        region.hi[j].saturating_sub(1).clamp(lo, hi)
                    } else {
                        hi
                    };
                }
            }
            realize(first, &mut s);
        }
        if let Some((t, true)) = pair_at(net, compare, region, first, *i, &s) {
            return Some((*i, s, t));
        }
    }
    let free: Vec<usize> = (0..region.lo.len())
        .filter(|&j| region.lo[j] < region.hi[j])
        .collect();
    for _ in 0..PAIR_CLIMB.0 {
        let mut k = rng.random_range(0..features.len());
        let mut s = draw(&mut rng, &features[k].1);
        let score = |k: usize, s: &[u16]| {
            let (i, first) = &features[k];
            pair_at(net, compare, region, first, *i, s).map(|(t, _)| {
                let (y, z) = (logits_at(net, region, s), logits_at(net, region, &t));
                pair_margin(compare, region.m, s, &y, &t, &z)
            })
        };
        let Some(mut v) = score(k, &s) else { continue };
        for _ in 0..PAIR_CLIMB.1 {
            let (mut k2, mut c) = (k, s.clone());
            if free.is_empty() || rng.random_range(0..8) == 0 {
                k2 = rng.random_range(0..features.len());
            } else {
                let j = free[rng.random_range(0..free.len())];
                let (lo, hi) = (features[k].1.lo[j], features[k].1.hi[j]);
                c[j] = match rng.random_range(0..4) {
                    0 => lo,
                    1 => hi,
                    _ => rng.random_range(lo..=hi.max(lo)),
                };
            }
            realize(&features[k2].1, &mut c);
            let Some(cv) = score(k2, &c) else { continue };
            if cv <= v {
                (v, k, s) = (cv, k2, c);
                let (i, first) = &features[k];
                if let Some((t, true)) = pair_at(net, compare, region, first, *i, &s) {
                    return Some((*i, s, t));
                }
            }
        }
    }
    None
}

/// The outcome of one pair query.
pub struct PairReport {
    /// Verdict, branches (pair nodes and the hulls' branches), leaves.
    pub report: QueryReport,
    /// The proof tree (proved and unknown).
    pub certificate: PairCertificate,
    /// The violating pair `(s, s')` (refuted only).
    pub pair: Option<(Vec<u16>, Vec<u16>)>,
}

/// Decides the pair query for horizon feature `i` over `region` with at most `budget` branches.
///
/// # Errors
/// A network with a non-finite weight.
pub fn decide_pair<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    compare: Compare,
    region: &Region,
    i: usize,
    budget: u64,
) -> Result<PairReport> {
    let name = Feature::at(i, region.m).map_or_else(String::new, Feature::name);
    let mut report = QueryReport::proved(format!("{name} one unit apart: same action"));
    let mut cert = PairCertificate {
        feature: i,
        compare,
        nodes: vec![PairNode::Open],
    };
    let Some(first) = first_copies(region, i) else {
        cert.nodes[0] = PairNode::Empty;
        return Ok(PairReport {
            report,
            certificate: cert,
            pair: None,
        });
    };
    let mut stack = vec![(first, 0usize)];
    let mut pair = None;
    while let Some((mut b, n)) = stack.pop() {
        if !b.tighten() {
            cert.nodes[n] = PairNode::Empty;
            continue;
        }
        if report.branches >= budget {
            report.verdict = Verdict::Unknown;
            break;
        }
        report.branches += 1;
        if determined(&b) {
            // Every feature but the waits is one value: the waits follow (first fits), so the
            // node holds at most one state.
            report.evaluated_leaves += 1;
            let mut s = b.lo.clone();
            realize(&Region::all(b.m), &mut s);
            cert.nodes[n] = if !inside(&b, &s) {
                PairNode::NotAState
            } else {
                match pair_at(net, compare, region, &b, i, &s) {
                    None => PairNode::NotAPair,
                    Some((_, false)) => PairNode::Point,
                    Some((t, true)) => {
                        pair = Some((s, t));
                        report.verdict = Verdict::Refuted;
                        break;
                    }
                }
            };
            continue;
        }
        let h = hull(region, &b, i);
        let mut mid = b.point(|_, lo, hi| lo + (hi - lo) / 2);
        realize(&b, &mut mid);
        let y = logits_at(net, region, &mid);
        let a = action(&y);
        // The most threatening outputs first: a failure there splits the node at once.
        let mut others: Vec<usize> = (0..O).filter(|&k| k != a).collect();
        others.sort_by(|&p, &q| y[q].total_cmp(&y[p]));
        let mut certificates = Vec::new();
        let mut failed = None;
        let small = states_without_waits(&b) <= SMALL_NODE;
        // Effective: where the middle state moves on, try "some move-on output wins" first.
        let moving = move_on_outputs(&b, O);
        let mut lead = a;
        if compare == Compare::Effective && !small && effect(b.m, &mid, a).is_none() {
            if let Some(&best) = moving.iter().max_by(|&&p, &&q| y[p].total_cmp(&y[q])) {
                lead = best;
                match move_on_hull(net, &h, &moving, &y, &mut report)? {
                    Ok(certificates) => {
                        report.bounded_leaves += 1;
                        cert.nodes[n] = PairNode::MoveOn {
                            outputs: moving,
                            certificates,
                        };
                        continue;
                    }
                    Err(o) => failed = Some(o),
                }
            }
        }
        // A small node, or one where the winner's effect is not fixed: split.
        if failed.is_none() && (small || !constant_effect(compare, &b, a)) {
            failed = others.first().copied();
        }
        for &o in others.iter().take(if failed.is_some() { 0 } else { O }) {
            let q = Query {
                name: format!("output {a} above output {o} on the hull"),
                region: h.clone(),
                specs: vec![unit(O, a, o)],
                holds: if o < a {
                    Holds::Above { a, b: o }
                } else {
                    Holds::AtLeast { a, b: o }
                },
                strict: o < a,
            };
            let r = decide(net, &q, o, HULL_BUDGET, false)?;
            report.branches += r.branches;
            match (r.verdict, r.certificate) {
                (Verdict::Proved, Some(c)) => certificates.push(c),
                _ => {
                    failed = Some(o);
                    break;
                }
            }
        }
        let Some(o) = failed else {
            report.bounded_leaves += 1;
            cert.nodes[n] = PairNode::Hull {
                action: a,
                certificates,
            };
            continue;
        };
        // Split the first copies where the failed bound's inputs move it most.
        let bound = phase_lower(
            net,
            &to_box::<I>(&h)?,
            &spec_array::<O>(&unit(O, lead, o)),
            &[Phase::Free; HIDDEN],
            None,
        )?;
        // Waits are not split: they follow from the other features at the leaves.
        let mut no_waits = b.clone();
        for slot in 0..b.m {
            if let Some(w) = b.index(Feature::Wait { slot }) {
                no_waits.hi[w] = no_waits.lo[w];
            }
        }
        // A bound that no feature moves: split any feature that is not one value (a node is
        // never left open).
        let Some(index) = feature_to_split(&bound, &no_waits)
            .or_else(|| (0..b.lo.len()).find(|&j| no_waits.lo[j] < no_waits.hi[j]))
        else {
            continue;
        };
        let Some((lo_half, hi_half)) = b.split(index) else {
            continue;
        };
        let at = lo_half.hi[index];
        let k = cert.nodes.len();
        cert.nodes.push(PairNode::Open);
        cert.nodes.push(PairNode::Open);
        cert.nodes[n] = PairNode::Split {
            index,
            at,
            children: [k, k + 1],
        };
        stack.push((hi_half, k + 1));
        stack.push((lo_half, k));
    }
    if let Some((s, t)) = &pair {
        report.counterexample = Some(named(region, s, logits_at(net, region, s)));
        report.neighbour = Some(named(region, t, logits_at(net, region, t)));
    }
    Ok(PairReport {
        report,
        certificate: cert,
        pair,
    })
}

/// The outputs that move time on at every state of `b` and every neighbour of one: void and the
/// slots empty on all of `b` (the neighbour has the same jobs).
fn move_on_outputs(b: &Region, outputs: usize) -> Vec<usize> {
    (0..b.m)
        .filter(|&slot| b.index(Feature::Len { slot }).is_some_and(|i| b.hi[i] == 0))
        .chain((b.m < outputs).then_some(b.m))
        .collect()
}

/// "Some output of `moving` is strictly above every other output on the hull `h`": one
/// single-copy query per other output `o` (alternatives `logit_j - logit_o > 0`, `j` in
/// `moving`; strict, so ties, which go to the lowest index, need no care). The certificates, or
/// the first output not beaten within the budget.
fn move_on_hull<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    h: &Region,
    moving: &[usize],
    y: &[f32],
    report: &mut QueryReport,
) -> Result<std::result::Result<Vec<Certificate>, usize>> {
    let set = moving.iter().fold(0u64, |m, &j| m | 1 << j);
    let mut others: Vec<usize> = (0..O).filter(|k| !moving.contains(k)).collect();
    others.sort_by(|&p, &q| y[q].total_cmp(&y[p]));
    let mut certificates = Vec::new();
    for o in others {
        let q = Query {
            name: format!("a move-on output above output {o} on the hull"),
            region: h.clone(),
            specs: moving.iter().map(|&j| unit(O, j, o)).collect(),
            holds: Holds::SomeAbove { set, b: o },
            strict: true,
        };
        let r = decide(net, &q, o, HULL_BUDGET, false)?;
        report.branches += r.branches;
        match (r.verdict, r.certificate) {
            (Verdict::Proved, Some(c)) => certificates.push(c),
            _ => return Ok(Err(o)),
        }
    }
    Ok(Ok(certificates))
}

fn spec_array<const O: usize>(v: &[f32]) -> [f32; O] {
    let mut out = [0.0f32; O];
    for (d, s) in out.iter_mut().zip(v) {
        *d = *s;
    }
    out
}

/// The horizon features (every row, every resource) as compact input indices.
pub fn horizon_features(m: usize) -> Vec<usize> {
    (0..HORIZON)
        .flat_map(|row| (0..NUM_RES).map(move |res| Feature::Free { row, res }))
        .filter_map(|f| f.position(m))
        .collect()
}

/// Every pair query of `region`, after a search for a violating pair over all of them: the
/// pair found, or each query's report and certificate.
///
/// # Errors
/// A network with a non-finite weight.
pub fn robust_pairs<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    compare: Compare,
    region: &Region,
    budget: u64,
) -> Result<Vec<PairReport>> {
    let features: Vec<(usize, Region)> = horizon_features(region.m)
        .into_iter()
        .filter_map(|i| first_copies(region, i).map(|f| (i, f)))
        .collect();
    if !features.is_empty() {
        if let Some((i, s, t)) = search(net, compare, region, &features) {
            let name = Feature::at(i, region.m).map_or_else(String::new, Feature::name);
            let report = QueryReport {
                verdict: Verdict::Refuted,
                counterexample: Some(named(region, &s, logits_at(net, region, &s))),
                neighbour: Some(named(region, &t, logits_at(net, region, &t))),
                ..QueryReport::proved(format!("{name} one unit apart: same action"))
            };
            return Ok(vec![PairReport {
                report,
                certificate: PairCertificate {
                    feature: i,
                    compare,
                    nodes: vec![PairNode::Open],
                },
                pair: Some((s, t)),
            }]);
        }
    }
    let mut out = Vec::new();
    for (i, _) in features {
        let r = decide_pair(net, compare, region, i, budget)?;
        let stop = r.report.verdict == Verdict::Refuted;
        out.push(r);
        if stop {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
