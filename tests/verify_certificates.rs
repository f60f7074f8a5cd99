//! An independent checker of `whitebox verify`'s proofs, in exact rational arithmetic.
//!
//! For every proved query it walks the certificate tree from the query's region: it rebuilds
//! each child's region from its parent and the split (so the leaves cover the region by
//! construction), removes non-states by its own copy of the consistency rules, and re-derives
//! every leaf: the hidden pre-activation intervals of the box exactly, the `f32` rounding of the
//! forward pass by Higham's bound (`|fl(sum) - sum| <= gamma(n) sum |terms|`, `gamma(n) =
//! n u / (1 - n u)`, `u = 2^-24`, plus `n 2^-149` for underflow), each line against
//! `lambda relu` at the ends of its phase interval and at 0, and the bound's minimum over the box,
//! all without rounding. It shares no arithmetic with the prover (which works in `f64` with
//! outward margins).

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use whitebox_core::encoding::{compact_len, Compact};
use whitebox_core::nn::Mlp;
use whitebox_core::spec::NUM_RES;
use whitebox_core::verify::phase::{Line, Phase};
use whitebox_runtime::models::{self, HIDDEN};
use whitebox_studies::verify::pair::{PairCertificate, PairNode};
use whitebox_studies::verify::parse_region;
use whitebox_studies::verify::region::{Feature, Region};
use whitebox_studies::verify::suite::{check_robust, robust_region};
use whitebox_studies::verify::{
    verify_queries, CertNode, Certificate, Compare, Holds, Property, Query, SplitOn, Verdict,
};

type Q = BigRational;

fn q(v: f64) -> Q {
    Q::from_float(v).unwrap_or_else(|| panic!("non-finite {v}"))
}

fn pow2(e: i32) -> Q {
    let two = Q::from_integer(BigInt::from(2));
    if e >= 0 {
        num_traits::pow(two, e as usize)
    } else {
        Q::one() / num_traits::pow(two, (-e) as usize)
    }
}

/// Higham's `gamma(n)` for `f32`, exactly, plus the underflow term's factor.
fn gamma(n: usize) -> Q {
    let nu = Q::from_integer(BigInt::from(n)) * pow2(-24);
    nu.clone() / (Q::one() - nu)
}

fn min(a: Q, b: Q) -> Q {
    if a < b {
        a
    } else {
        b
    }
}

fn max(a: Q, b: Q) -> Q {
    if a > b {
        a
    } else {
        b
    }
}

/// The checker's own consistency rules (the same facts as the prover's, written again): an empty
/// slot has no demand and wait 0, a demand or a wait means a job, the backlog is empty while a
/// slot is.
fn tighten(r: &mut Region) -> bool {
    for _ in 0..2 {
        let mut some_empty = false;
        for slot in 0..r.m {
            let li = r.index(Feature::Len { slot }).unwrap_or(0);
            let mut rest: Vec<usize> = (0..NUM_RES)
                .filter_map(|res| r.index(Feature::Demand { slot, res }))
                .collect();
            rest.extend(r.index(Feature::Wait { slot }));
            if r.hi[li] == 0 {
                some_empty = true;
                rest.iter().for_each(|&i| r.hi[i] = 0);
            } else if rest.iter().any(|&i| r.lo[i] > 0) {
                r.lo[li] = r.lo[li].max(1);
            }
        }
        let b = r.index(Feature::Backlog).unwrap_or(0);
        if some_empty {
            r.hi[b] = 0;
        } else if r.lo[b] > 0 {
            for slot in 0..r.m {
                let li = r.index(Feature::Len { slot }).unwrap_or(0);
                r.lo[li] = r.lo[li].max(1);
            }
        }
    }
    r.lo.iter().zip(&r.hi).all(|(l, h)| l <= h)
}

/// A network in exact form.
struct Exact {
    w1: Vec<Vec<Q>>,
    b1: Vec<Q>,
    w2: Vec<Vec<Q>>,
    b2: Vec<Q>,
}

impl Exact {
    fn new<const I: usize, const O: usize>(net: &Mlp<I, HIDDEN, O>) -> Exact {
        let v = |r: &[f32]| r.iter().map(|w| q(f64::from(*w))).collect::<Vec<_>>();
        Exact {
            w1: net.w1.iter().map(|r| v(r)).collect(),
            b1: v(&net.b1),
            w2: net.w2.iter().map(|r| v(r)).collect(),
            b2: v(&net.b2),
        }
    }
}

/// Pre-activation intervals `[lo, hi]` of `fl(z_j)` over the box, rounding included.
fn hidden(net: &Exact, lo: &[Q], hi: &[Q]) -> Vec<(Q, Q)> {
    let n = lo.len() + 1;
    let tiny = Q::from_integer(BigInt::from(n)) * pow2(-149);
    net.w1
        .iter()
        .zip(&net.b1)
        .map(|(row, b)| {
            let (mut l, mut h, mut mag) = (b.clone(), b.clone(), b.abs());
            for ((w, xl), xh) in row.iter().zip(lo).zip(hi) {
                let (a, c) = (w * xl, w * xh);
                l += min(a.clone(), c.clone());
                h += max(a, c);
                mag += w.abs() * max(xl.abs(), xh.abs());
            }
            let e = gamma(n) * mag + tiny.clone();
            (l - e.clone(), h + e)
        })
        .collect()
}

/// Checks one bound leaf; returns the exact bound.
fn check_bound(
    net: &Exact,
    c: &[f32],
    r: &Region,
    phases: &[Phase],
    lines: &[Line],
) -> Result<Q, String> {
    let (flo, fhi) = r.input_box();
    let lo: Vec<Q> = flo.iter().map(|v| q(f64::from(*v))).collect();
    let hi: Vec<Q> = fhi.iter().map(|v| q(f64::from(*v))).collect();
    let c: Vec<Q> = c.iter().map(|v| q(f64::from(*v))).collect();
    let hb = hidden(net, &lo, &hi);
    let n_in = lo.len() + 1;
    let n_out = hb.len() + 1;
    let mut total = Q::zero();
    // Output rounding.
    for ((ck, row), b) in c.iter().zip(&net.w2).zip(&net.b2) {
        total += ck * b;
        let mut mag = b.abs();
        for (w, (_, h)) in row.iter().zip(&hb) {
            mag += w.abs() * max(h.clone(), Q::zero());
        }
        let e = gamma(n_out) * mag + Q::from_integer(BigInt::from(n_out)) * pow2(-149);
        total -= ck.abs() * e;
    }
    let mut g = vec![Q::zero(); lo.len()];
    for j in 0..hb.len() {
        let lam: Q = c.iter().zip(&net.w2).map(|(ck, row)| ck * &row[j]).sum();
        let (l, h) = hb[j].clone();
        let (tl, th) = match phases[j] {
            Phase::Free => (l, h),
            Phase::Active => (max(l, Q::zero()), h),
            Phase::Inactive => (l, min(h, Q::zero())),
        };
        if tl > th {
            return Ok(pow2(100)); // no input has this phase: vacuous
        }
        let (a, o) = (q(lines[j].slope), q(lines[j].offset));
        let relu = |t: &Q| max(t.clone(), Q::zero());
        let mut pts = vec![tl.clone(), th.clone()];
        if tl < Q::zero() && th > Q::zero() {
            pts.push(Q::zero());
        }
        for t in &pts {
            if &lam * relu(t) < &a * t + &o {
                return Err(format!("line {j} is above lambda relu at t = {t}"));
            }
        }
        // a fl(z) >= a z - |a| e, with e the rounding of unit j: recompute e from the box.
        let mut mag = net.b1[j].abs();
        for ((w, xl), xh) in net.w1[j].iter().zip(&lo).zip(&hi) {
            mag += w.abs() * max(xl.abs(), xh.abs());
        }
        let e = gamma(n_in) * mag + Q::from_integer(BigInt::from(n_in)) * pow2(-149);
        total += &o + &a * &net.b1[j] - a.abs() * e;
        for (gi, w) in g.iter_mut().zip(&net.w1[j]) {
            *gi += &a * w;
        }
    }
    for ((gi, l), h) in g.iter().zip(&lo).zip(&hi) {
        total += min(gi * l, gi * h);
    }
    Ok(total)
}

/// The spec alternative must imply the property: `e_a - e_b` for at-least, `e_j - e_void` for
/// void-not-first.
fn implies(holds: Holds, c: &[f32]) -> bool {
    let unit = |a: usize, b: usize| {
        c.iter().enumerate().all(|(i, v)| {
            *v == if i == a {
                1.0
            } else if i == b {
                -1.0
            } else {
                0.0
            }
        })
    };
    match holds {
        Holds::AtLeast { a, b } | Holds::Above { a, b } => unit(a, b),
        Holds::VoidNotFirst => (0..c.len() - 1).any(|j| unit(j, c.len() - 1)),
        Holds::SomeAbove { set, b } => (0..c.len()).any(|j| set >> j & 1 == 1 && unit(j, b)),
    }
}

/// Walks the certificate of `query`; returns the number of leaves checked.
fn check<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    query: &Query,
    cert: &Certificate,
) -> Result<usize, String> {
    let exact = Exact::new(net);
    let mut stack = vec![(0usize, query.region.clone(), vec![Phase::Free; HIDDEN])];
    let mut leaves = 0;
    while let Some((n, mut r, phases)) = stack.pop() {
        leaves += 1;
        let node = cert.nodes.get(n).ok_or(format!("node {n} missing"))?;
        if !tighten(&mut r) {
            continue; // no state here, whatever the node says
        }
        match node {
            CertNode::Split { on, children } => {
                leaves -= 1;
                match *on {
                    SplitOn::Feature { index, at } => {
                        if !(r.lo[index] <= at && at < r.hi[index]) {
                            return Err(format!("node {n}: split {index} at {at} outside"));
                        }
                        let (mut a, mut b) = (r.clone(), r);
                        a.hi[index] = at;
                        b.lo[index] = at + 1;
                        stack.push((children[0], a, phases.clone()));
                        stack.push((children[1], b, phases));
                    }
                    SplitOn::Relu { unit } => {
                        if phases[unit] != Phase::Free {
                            return Err(format!("node {n}: unit {unit} split twice"));
                        }
                        let (mut a, mut b) = (phases.clone(), phases);
                        a[unit] = Phase::Active;
                        b[unit] = Phase::Inactive;
                        stack.push((children[0], r.clone(), a));
                        stack.push((children[1], r, b));
                    }
                }
            }
            CertNode::Bound { spec, lines, .. } => {
                let c = query.specs.get(*spec).ok_or("no such spec")?;
                if !implies(query.holds, c) {
                    return Err(format!("node {n}: spec {spec} does not imply the property"));
                }
                let b = check_bound(&exact, c, &r, &phases, lines)?;
                let ok = if query.strict {
                    b > Q::zero()
                } else {
                    b >= Q::zero()
                };
                if !ok {
                    return Err(format!("node {n}: exact bound {b} fails"));
                }
            }
            CertNode::Infeasible { unit } => {
                let (flo, fhi) = r.input_box();
                let lo: Vec<Q> = flo.iter().map(|v| q(f64::from(*v))).collect();
                let hi: Vec<Q> = fhi.iter().map(|v| q(f64::from(*v))).collect();
                let (l, h) = hidden(&exact, &lo, &hi)[*unit].clone();
                let impossible = match phases[*unit] {
                    Phase::Active => h <= Q::zero(),
                    Phase::Inactive => l > Q::zero(),
                    Phase::Free => false,
                };
                if !impossible {
                    return Err(format!("node {n}: unit {unit} is feasible"));
                }
            }
            CertNode::Point | CertNode::NotAState => {
                if r.lo != r.hi {
                    return Err(format!("node {n}: not a single point"));
                }
                let x = r.encode(&r.lo);
                let mut input = [0.0f32; I];
                input.copy_from_slice(&x);
                let (mut h, mut y) = ([0.0f32; HIDDEN], [0.0f32; O]);
                net.forward(&input, &mut h, &mut y);
                if matches!(node, CertNode::Point) && !query.holds.check(&y) {
                    return Err(format!("node {n}: property fails at the point"));
                }
                if matches!(node, CertNode::NotAState) {
                    return Err(format!("node {n}: not-a-state leaves are not checked here"));
                }
            }
            CertNode::Empty => return Err(format!("node {n}: claimed empty but is not")),
            CertNode::Open => return Err(format!("node {n}: open")),
        }
    }
    Ok(leaves)
}

fn check_all<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    queries: &[Query],
    certs: &[Certificate],
) -> usize {
    certs
        .iter()
        .map(|c| check(net, &queries[c.index], c).unwrap_or_else(|e| panic!("{}: {e}", c.query)))
        .sum()
}

type Net5 = Mlp<{ compact_len(5) }, HIDDEN, 6>;

/// Slot 0 scores `1 + 3 relu(z) - 3 relu(z)`: proved only by splitting a ReLU.
fn cancelling() -> Box<Net5> {
    let mut net = Box::new(Net5::zeroed());
    let len0 = Region::all(5).index(Feature::Len { slot: 0 }).unwrap_or(0);
    for j in [0, 1] {
        net.w1[j][len0] = 4.0;
        net.b1[j] = -2.0;
    }
    net.w2[0][0] = 3.0;
    net.w2[0][1] = -3.0;
    net.b2 = [1.0, -1.0, -1.0, -1.0, -1.0, 0.0];
    net
}

#[test]
fn relu_split_certificates_check_and_a_forged_one_does_not() {
    let net = cancelling();
    let queries = Property::NoIdle.queries(5);
    let o = verify_queries(&*net, "no-idle", &queries, 10_000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Proved);
    assert!(check_all(&*net, &queries, &o.certificates) >= 6);
    // Forge: raise one bound leaf's line offset so the line is above lambda relu.
    let mut forged = o.certificates[0].clone();
    let leaf = forged
        .nodes
        .iter_mut()
        .find_map(|n| match n {
            CertNode::Bound { lines, .. } if lines[0].slope != 0.0 => Some(lines),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no leaf with a line on unit 0"));
    leaf[0].offset += 0.5;
    assert!(check(&*net, &queries[0], &forged).is_err());
    // Forge: claim the root is closed by the leaf's lines without the split.
    let mut cut = o.certificates[0].clone();
    let first_bound = cut
        .nodes
        .iter()
        .find(|n| matches!(n, CertNode::Bound { .. }))
        .cloned()
        .unwrap_or_else(|| panic!("no bound leaf"));
    cut.nodes[0] = first_bound;
    assert!(check(&*net, &queries[0], &cut).is_err());
}

/// Random small networks with void pushed down, proved; every certificate checks.
#[test]
fn certificates_of_random_networks_check() {
    let mut rng = Pcg64::seed_from_u64(21);
    let mut leaves = 0;
    for _ in 0..3 {
        let mut net = Box::new(Net5::zeroed());
        for p in net.params_mut() {
            *p = rng.random_range(-0.3f32..0.3);
        }
        net.b2[5] = -2.0;
        let queries = Property::NoIdle.queries(5);
        let o =
            verify_queries(&*net, "no-idle", &queries, 20_000).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.verdict, Verdict::Proved, "{:?}", o.open.first());
        leaves += check_all(&*net, &queries, &o.certificates);
    }
    assert!(leaves >= 15);
}

/// The shipped model on idle clusters with jobs in slots 0 to 4 only: proved with ReLU splits
/// (361 branches), every leaf checks exactly, and 200,000 random states of the regions agree.
#[test]
fn certificates_of_the_shipped_model_check() {
    let model = models::load(std::path::Path::new("../fixtures/models/deeprm.model"))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let net = model
        .net
        .net::<Compact, 10, { compact_len(10) }, 11>()
        .expect("the shipped model is compact with 10 slots");
    let queries: Vec<Query> = Property::NoIdle
        .queries(10)
        .into_iter()
        .take(5)
        .map(|mut q| {
            for slot in 5..10 {
                q.region.set(Feature::Len { slot }, 0, 0);
            }
            q
        })
        .collect();
    let o = verify_queries(net, "no-idle", &queries, 100_000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Proved, "{:?}", o.open.first());
    let relu_splits = o
        .certificates
        .iter()
        .flat_map(|c| &c.nodes)
        .filter(|n| {
            matches!(
                n,
                CertNode::Split {
                    on: SplitOn::Relu { .. },
                    ..
                }
            )
        })
        .count();
    assert!(relu_splits > 10, "{relu_splits}");
    assert!(check_all(net, &queries, &o.certificates) > 100);
    let mut rng = Pcg64::seed_from_u64(3);
    for q in &queries {
        for _ in 0..40_000 {
            let mut r = q.region.clone();
            let p = r.point(|_, lo, hi| rng.random_range(lo..=hi));
            r.lo.clone_from(&p);
            r.hi.clone_from(&p);
            if !tighten(&mut r) || r.lo != p {
                continue; // not a state
            }
            let x = r.encode(&p);
            let mut input = [0.0f32; compact_len(10)];
            input.copy_from_slice(&x);
            let (mut h, mut y) = ([0.0f32; HIDDEN], [0.0f32; 11]);
            net.forward(&input, &mut h, &mut y);
            assert!(q.holds.check(&y), "{p:?}");
        }
    }
}

/// The checker's own consistent state for a point: every job's wait is its first fit in the
/// free rows (20 when none), an empty slot has no demand and wait 0, no backlog while a slot is
/// empty.
fn consistent(r: &Region, p: &[u16]) -> Vec<u16> {
    use whitebox_core::spec::HORIZON;
    let mut s = p.to_vec();
    let at = |f: Feature| r.index(f).unwrap_or(0);
    let mut some_empty = false;
    for slot in 0..r.m {
        let len = usize::from(s[at(Feature::Len { slot })]);
        if len == 0 {
            some_empty = true;
            for res in 0..NUM_RES {
                s[at(Feature::Demand { slot, res })] = 0;
            }
            s[at(Feature::Wait { slot })] = 0;
            continue;
        }
        let fits = |t: usize| {
            t + len <= HORIZON
                && (t..t + len).all(|row| {
                    (0..NUM_RES).all(|res| {
                        s[at(Feature::Free { row, res })] >= s[at(Feature::Demand { slot, res })]
                    })
                })
        };
        let wait = (0..HORIZON).find(|&t| fits(t)).unwrap_or(HORIZON);
        s[at(Feature::Wait { slot })] = wait as u16;
    }
    if some_empty {
        s[at(Feature::Backlog)] = 0;
    }
    s
}

fn within(r: &Region, p: &[u16]) -> bool {
    p.iter()
        .zip(r.lo.iter().zip(&r.hi))
        .all(|(v, (l, h))| l <= v && v <= h)
}

fn chosen(y: &[f32]) -> usize {
    (0..y.len()).fold(0, |best, k| if y[k] > y[best] { k } else { best })
}

fn logits<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    r: &Region,
    p: &[u16],
) -> [f32; O] {
    let mut input = [0.0f32; I];
    input.copy_from_slice(&r.encode(p));
    let (mut h, mut y) = ([0.0f32; HIDDEN], [0.0f32; O]);
    net.forward(&input, &mut h, &mut y);
    y
}

/// What output `a` does at consistent state `s`: for a raw certificate the output itself; for
/// an effective one `Some(a)` when slot `a` holds a job with a first fit (wait below the
/// horizon), else `None` (time moves on, as `Cluster::step` does).
fn starts(s: &[u16], a: usize, compare: Compare, m: usize) -> Option<usize> {
    use whitebox_core::spec::HORIZON;
    if compare == Compare::Raw {
        return Some(a);
    }
    let r = Region::all(m);
    let v = |f: Feature| r.index(f).map_or(0, |i| s[i]);
    (a < m
        && v(Feature::Len { slot: a }) > 0
        && usize::from(v(Feature::Wait { slot: a })) < HORIZON)
        .then_some(a)
}

/// True when output `a` has one effect on all of `b` and its neighbours: void, a slot empty on
/// all of `b`, or a slot whose job fits with the fewest free units and its longest length and
/// largest demands (more free units and smaller jobs only fit better).
fn one_effect(b: &Region, a: usize, outputs: usize) -> bool {
    use whitebox_core::spec::HORIZON;
    if a == outputs - 1 {
        return true;
    }
    let (Some(l), Some(w)) = (
        b.index(Feature::Len { slot: a }),
        b.index(Feature::Wait { slot: a }),
    ) else {
        return false;
    };
    if b.hi[l] == 0 {
        return true;
    }
    if b.lo[l] == 0 {
        return false;
    }
    if usize::from(b.hi[w]) < HORIZON {
        return true;
    }
    let len = usize::from(b.hi[l]);
    let d: Vec<u16> = (0..NUM_RES)
        .map(|res| {
            b.index(Feature::Demand { slot: a, res })
                .map_or(0, |k| b.hi[k])
        })
        .collect();
    (0..=HORIZON - len).any(|t| {
        (t..t + len).all(|row| {
            (0..NUM_RES)
                .all(|res| b.index(Feature::Free { row, res }).map_or(0, |k| b.lo[k]) >= d[res])
        })
    })
}

/// Walks a pair certificate of `occupancy-robust` over `region`: rebuilds every node's first
/// copies from the splits, its own hull (feature `i` one unit higher at the top, waits from the
/// region's lowest: one more free unit only brings a first fit earlier), checks each hull leaf's
/// single-copy certificates with [`check`] (one per other output, on queries it builds itself),
/// and re-evaluates the determined leaves with its own consistency rules.
fn check_pair<const I: usize, const O: usize>(
    net: &Mlp<I, HIDDEN, O>,
    region: &Region,
    cert: &PairCertificate,
) -> Result<usize, String> {
    let i = cert.feature;
    let mut root = region.clone();
    if root.hi[i] <= root.lo[i] {
        return match cert.nodes.first() {
            Some(PairNode::Empty) => Ok(0),
            _ => Err("no pairs, but the root is not empty".to_string()),
        };
    }
    root.hi[i] -= 1;
    let mut stack = vec![(0usize, root)];
    let mut leaves = 0;
    while let Some((n, mut b)) = stack.pop() {
        if !tighten(&mut b) {
            continue;
        }
        let node = cert.nodes.get(n).ok_or(format!("node {n} missing"))?;
        let waits: Vec<usize> = (0..b.m)
            .filter_map(|slot| b.index(Feature::Wait { slot }))
            .collect();
        match node {
            PairNode::Split {
                index,
                at,
                children,
            } => {
                if waits.contains(index) || !(b.lo[*index] <= *at && *at < b.hi[*index]) {
                    return Err(format!("node {n}: bad split"));
                }
                let (mut x, mut y) = (b.clone(), b);
                x.hi[*index] = *at;
                y.lo[*index] = at + 1;
                stack.push((children[0], x));
                stack.push((children[1], y));
            }
            PairNode::MoveOn {
                outputs,
                certificates,
            } => {
                if cert.compare != Compare::Effective {
                    return Err(format!("node {n}: a move-on leaf in a raw certificate"));
                }
                // Each output moves time on for both copies: void, or a slot empty on the node.
                for &j in outputs {
                    let len = b.index(Feature::Len { slot: j });
                    if !(j == O - 1 || len.is_some_and(|l| b.hi[l] == 0)) {
                        return Err(format!("node {n}: output {j} may start a job"));
                    }
                }
                let set = outputs.iter().fold(0u64, |m, &j| m | 1 << j);
                let mut h = b.clone();
                h.hi[i] += 1;
                for &w in &waits {
                    h.lo[w] = h.lo[w].min(region.lo[w]);
                }
                for o in (0..O).filter(|o| !outputs.contains(o)) {
                    let c = certificates
                        .iter()
                        .find(|c| c.index == o)
                        .ok_or(format!("node {n}: no certificate for output {o}"))?;
                    let q = Query {
                        name: c.query.clone(),
                        region: h.clone(),
                        specs: outputs
                            .iter()
                            .map(|&j| {
                                let mut spec = vec![0.0f32; O];
                                (spec[j], spec[o]) = (1.0, -1.0);
                                spec
                            })
                            .collect(),
                        holds: Holds::SomeAbove { set, b: o },
                        strict: true,
                    };
                    leaves += check(net, &q, c)?;
                }
            }
            PairNode::Hull {
                action,
                certificates,
            } => {
                if cert.compare == Compare::Effective && !one_effect(&b, *action, O) {
                    return Err(format!("node {n}: output {action} has two effects"));
                }
                let mut h = b.clone();
                h.hi[i] += 1;
                for &w in &waits {
                    h.lo[w] = h.lo[w].min(region.lo[w]);
                }
                for o in (0..O).filter(|o| o != action) {
                    let c = certificates
                        .iter()
                        .find(|c| c.index == o)
                        .ok_or(format!("node {n}: no certificate for output {o}"))?;
                    let mut spec = vec![0.0f32; O];
                    (spec[*action], spec[o]) = (1.0, -1.0);
                    let q = Query {
                        name: c.query.clone(),
                        region: h.clone(),
                        specs: vec![spec],
                        holds: if o < *action {
                            Holds::Above { a: *action, b: o }
                        } else {
                            Holds::AtLeast { a: *action, b: o }
                        },
                        strict: o < *action,
                    };
                    leaves += check(net, &q, c)?;
                }
            }
            PairNode::Point | PairNode::NotAState | PairNode::NotAPair => {
                let non_waits_fixed =
                    (0..b.lo.len()).all(|j| b.lo[j] == b.hi[j] || waits.contains(&j));
                if !non_waits_fixed {
                    return Err(format!("node {n}: not determined"));
                }
                leaves += 1;
                let s = consistent(&b, &b.lo);
                let mut t = s.clone();
                t[i] += 1;
                let t = consistent(&b, &t);
                let expect = if !within(&b, &s) {
                    PairNode::NotAState
                } else if !within(region, &t) {
                    PairNode::NotAPair
                } else if starts(&s, chosen(&logits(net, &b, &s)), cert.compare, b.m)
                    == starts(&t, chosen(&logits(net, &b, &t)), cert.compare, b.m)
                {
                    PairNode::Point
                } else {
                    return Err(format!("node {n}: the pair has two actions"));
                };
                if &expect != node {
                    return Err(format!("node {n}: claimed {node:?}, is {expect:?}"));
                }
            }
            PairNode::Empty => return Err(format!("node {n}: claimed empty but is not")),
            PairNode::Open => return Err(format!("node {n}: open")),
        }
    }
    Ok(leaves)
}

/// Pair certificates of `occupancy-robust` check, for a network whose action depends only on
/// slot 0's length (hull leaves and determined leaves) and for the shipped model on a small
/// region (determined leaves); a forged claim does not.
#[test]
fn pair_certificates_check_and_a_forged_one_does_not() {
    let mut net = Box::new(Net5::zeroed());
    net.b2 = [1.0, 0.5, 0.5, 0.5, 0.5, 0.0];
    let len0 = Region::all(5).index(Feature::Len { slot: 0 }).unwrap_or(0);
    net.w1[0][len0] = 20.0;
    net.b1[0] = -10.5;
    net.w2[5][0] = 4.0;
    let r = robust_region(5);
    let o = check_robust::<5, { compact_len(5) }, 6>(&net, Compare::Raw, &r, 10_000)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Proved);
    let leaves: usize = o
        .pair_certificates
        .iter()
        .map(|c| check_pair(&*net, &r, c).unwrap_or_else(|e| panic!("feature {}: {e}", c.feature)))
        .sum();
    assert!(leaves >= 40, "{leaves}");
    // Forge: claim a hull leaf chooses void (output 5) where slot 0 wins.
    let mut forged = o.pair_certificates[0].clone();
    let hull = forged
        .nodes
        .iter_mut()
        .find_map(|n| match n {
            PairNode::Hull { action, .. } => Some(action),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no hull leaf"));
    *hull = if *hull == 0 { 5 } else { 0 };
    assert!(check_pair(&*net, &r, &forged).is_err());

    let model = models::load(std::path::Path::new("../fixtures/models/deeprm.model"))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let net = model
        .net
        .net::<Compact, 10, { compact_len(10) }, 11>()
        .expect("the shipped model is compact with 10 slots");
    let r = parse_region(
        "free[0..1].res0=9..10, free[2..19].res0=10, free[*].res1=10, slot[0].len=1..5, \
         slot[0].res0=1..5, slot[0].res1=1..5, slot[1..9].len=0, backlog=0, since_new=0..2",
        Region::all(10),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let o = check_robust::<10, { compact_len(10) }, 11>(net, Compare::Raw, &r, 100_000)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Proved);
    let leaves: usize = o
        .pair_certificates
        .iter()
        .map(|c| check_pair(net, &r, c).unwrap_or_else(|e| panic!("feature {}: {e}", c.feature)))
        .sum();
    assert_eq!(leaves, 1500);
    // The effective property on the same region: move-on and hull leaves, checked here.
    let o = check_robust::<10, { compact_len(10) }, 11>(net, Compare::Effective, &r, 100_000)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.verdict, Verdict::Proved);
    for c in &o.pair_certificates {
        check_pair(net, &r, c).unwrap_or_else(|e| panic!("feature {}: {e}", c.feature));
    }
    // A move-on leaf relabelled as a raw proof is refused: raw pairs need the same action.
    let mut forged = o
        .pair_certificates
        .iter()
        .find(|c| c.nodes.iter().any(|n| matches!(n, PairNode::MoveOn { .. })))
        .cloned()
        .expect("the effective proof has a move-on leaf");
    forged.compare = Compare::Raw;
    assert!(check_pair(net, &r, &forged).is_err());
}
