//! Formulas over integer variables in boxes, decided exactly by splitting boxes.
//!
//! A [`Formula`] is an and/or of linear atoms `sum coef * x <= c` over whole-number variables.
//! [`find`] looks for a point of a box where the formula is true: it evaluates the formula
//! three-valued on the box (an atom is true when its largest value is at most `c`, false when
//! its smallest is above it; both are exact for a box), stops on false, answers any point on
//! true, and otherwise splits one variable of the first undecided atom. Every split halves a
//! finite domain, so the search is complete; "none" is a proof over the box.

use std::cmp::Ordering;

/// An inclusive range of a whole-number variable; `lo > hi` is empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// Smallest value.
    pub lo: i64,
    /// Largest value.
    pub hi: i64,
}

/// `sum coef * x[var] <= c`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Atom {
    /// `(coefficient, variable)` terms.
    pub terms: Vec<(i64, usize)>,
    /// The bound.
    pub c: i64,
}

/// An and/or of atoms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Formula {
    /// An atom.
    Atom(Atom),
    /// All of them (true when empty).
    And(Vec<Formula>),
    /// One of them (false when empty).
    Or(Vec<Formula>),
}

/// `x[v] <= c`.
pub fn le(v: usize, c: i64) -> Formula {
    lin(&[(1, v)], c)
}

/// `x[v] >= c`.
pub fn ge(v: usize, c: i64) -> Formula {
    lin(&[(-1, v)], -c)
}

/// `x[v] == c`.
pub fn eq(v: usize, c: i64) -> Formula {
    Formula::And(vec![le(v, c), ge(v, c)])
}

/// `sum terms <= c`, with the terms of one variable added up (so `x - x <= -1` is false on
/// every box, not only on points).
pub fn lin(terms: &[(i64, usize)], c: i64) -> Formula {
    let mut merged: Vec<(i64, usize)> = Vec::new();
    for &(k, v) in terms {
        match merged.iter_mut().find(|(_, w)| *w == v) {
            Some((sum, _)) => *sum += k,
            None => merged.push((k, v)),
        }
    }
    merged.retain(|&(k, _)| k != 0);
    Formula::Atom(Atom { terms: merged, c })
}

/// All of `fs`.
pub fn and(fs: Vec<Formula>) -> Formula {
    Formula::And(fs)
}

/// One of `fs`.
pub fn or(fs: Vec<Formula>) -> Formula {
    Formula::Or(fs)
}

/// Always true.
pub fn truth() -> Formula {
    Formula::And(Vec::new())
}

impl Formula {
    /// The negation, pushed down to the atoms (`not (e <= c)` is `-e <= -c - 1` for integers).
    pub fn not(&self) -> Formula {
        match self {
            Formula::Atom(a) => Formula::Atom(Atom {
                terms: a.terms.iter().map(|&(k, v)| (-k, v)).collect(),
                c: -a.c - 1,
            }),
            Formula::And(fs) => Formula::Or(fs.iter().map(Formula::not).collect()),
            Formula::Or(fs) => Formula::And(fs.iter().map(Formula::not).collect()),
        }
    }
}

/// The smallest and largest value of the atom's sum over `b` (every range non-empty).
fn bounds(a: &Atom, b: &[Range]) -> (i64, i64) {
    a.terms.iter().fold((0, 0), |(lo, hi), &(k, v)| {
        let r = b.get(v).copied().unwrap_or(Range { lo: 0, hi: 0 });
        match k.cmp(&0) {
            Ordering::Greater => (lo + k * r.lo, hi + k * r.hi),
            Ordering::Less => (lo + k * r.hi, hi + k * r.lo),
            Ordering::Equal => (lo, hi),
        }
    })
}

/// Three-valued truth of `f` on box `b`: `Some(true)` everywhere, `Some(false)` nowhere,
/// `None` undecided, with the first undecided atom.
fn eval<'f>(f: &'f Formula, b: &[Range]) -> Result<bool, &'f Atom> {
    match f {
        Formula::Atom(a) => {
            let (lo, hi) = bounds(a, b);
            if hi <= a.c {
                Ok(true)
            } else if lo > a.c {
                Ok(false)
            } else {
                Err(a)
            }
        }
        Formula::And(fs) => {
            let mut open = None;
            for g in fs {
                match eval(g, b) {
                    Ok(false) => return Ok(false),
                    Ok(true) => {}
                    Err(a) => open = open.or(Some(a)),
                }
            }
            open.map_or(Ok(true), Err)
        }
        Formula::Or(fs) => {
            let mut open = None;
            for g in fs {
                match eval(g, b) {
                    Ok(true) => return Ok(true),
                    Ok(false) => {}
                    Err(a) => open = open.or(Some(a)),
                }
            }
            open.map_or(Ok(false), Err)
        }
    }
}

/// Shrinks box `b` to the points where a true `f` can hold (bounds propagation: an atom that
/// must hold bounds each of its variables by the others' extremes; a disjunction with one
/// undecided member and none true must hold by that member). Removes no point where `f` is
/// true. False when `b` has none left.
fn propagate(f: &Formula, b: &mut [Range]) -> bool {
    fn once(f: &Formula, b: &mut [Range], changed: &mut bool) -> bool {
        match f {
            Formula::Atom(a) => {
                let (lo, _) = bounds(a, b);
                for &(k, v) in &a.terms {
                    let Some(r) = b.get(v).copied() else { continue };
                    // The other terms' smallest sum: this term may take c - rest at most.
                    let own = if k > 0 { k * r.lo } else { k * r.hi };
                    let room = a.c - (lo - own);
                    let new = match k.cmp(&0) {
                        Ordering::Greater => Range {
                            lo: r.lo,
                            hi: r.hi.min(room.div_euclid(k)),
                        },
                        Ordering::Less => Range {
                            lo: r.lo.max(-(room.div_euclid(-k))),
                            hi: r.hi,
                        },
                        Ordering::Equal => r,
                    };
                    if new != r {
                        *changed = true;
                        if let Some(slot) = b.get_mut(v) {
                            *slot = new;
                        }
                    }
                    if new.lo > new.hi {
                        return false;
                    }
                }
                true
            }
            Formula::And(fs) => fs.iter().all(|g| once(g, b, changed)),
            Formula::Or(fs) => {
                let mut open = None;
                for g in fs {
                    match eval(g, b) {
                        Ok(true) => return true,
                        Ok(false) => {}
                        Err(_) if open.is_some() => return true,
                        Err(_) => open = Some(g),
                    }
                }
                open.is_some_and(|g| once(g, b, changed))
            }
        }
    }
    for _ in 0..64 {
        let mut changed = false;
        if !once(f, b, &mut changed) {
            return false;
        }
        if !changed {
            break;
        }
    }
    true
}

/// What [`find`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// A point of the box where the formula is true.
    Point(Vec<i64>),
    /// No such point: the formula is false on the whole box.
    None,
    /// The budget of boxes ran out first.
    Budget,
}

/// A point of box `b` where `f` is true, searching at most `budget` boxes.
pub fn find(f: &Formula, b: &[Range], budget: usize) -> Found {
    if b.iter().any(|r| r.lo > r.hi) {
        return Found::None;
    }
    let mut stack = vec![b.to_vec()];
    let mut spent = 0;
    while let Some(mut bx) = stack.pop() {
        spent += 1;
        if spent > budget {
            return Found::Budget;
        }
        if !propagate(f, &mut bx) {
            continue;
        }
        let atom = match eval(f, &bx) {
            Ok(true) => return Found::Point(bx.iter().map(|r| r.lo).collect()),
            Ok(false) => continue,
            Err(a) => a,
        };
        // Split the widest variable of the atom; a one-variable atom at its own bound, so that
        // one side decides it.
        let Some(&(k, v)) = atom
            .terms
            .iter()
            .filter(|&&(k, v)| k != 0 && bx.get(v).is_some_and(|r| r.lo < r.hi))
            .max_by_key(|&&(_, v)| bx.get(v).map_or(0, |r| r.hi - r.lo))
        else {
            continue; // cannot happen: an undecided atom has a variable with two values
        };
        let r = bx[v];
        let cut = if atom.terms.len() == 1 {
            // k x <= c: x <= floor(c / k) for k > 0, x >= ceil(c / k) for k < 0.
            let t = if k > 0 {
                atom.c.div_euclid(k)
            } else {
                -(atom.c.div_euclid(-k)) - 1
            };
            t.clamp(r.lo, r.hi - 1)
        } else {
            r.lo + (r.hi - r.lo) / 2
        };
        let (mut left, mut right) = (bx.clone(), bx);
        left[v].hi = cut;
        right[v].lo = cut + 1;
        // Depth first, the low side first (taken last from the stack).
        stack.push(right);
        stack.push(left);
    }
    Found::None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(rs: &[(i64, i64)]) -> Vec<Range> {
        rs.iter().map(|&(lo, hi)| Range { lo, hi }).collect()
    }

    #[test]
    fn finds_the_only_point_and_proves_absence() {
        // x0 + x1 == 7 and x0 - x1 == 5 on [0, 10]^2: only (6, 1).
        let f = and(vec![
            lin(&[(1, 0), (1, 1)], 7),
            lin(&[(-1, 0), (-1, 1)], -7),
            lin(&[(-1, 0), (1, 1)], -5),
            lin(&[(1, 0), (-1, 1)], 5),
        ]);
        let b = boxed(&[(0, 10), (0, 10)]);
        assert_eq!(find(&f, &b, 10_000), Found::Point(vec![6, 1]));
        // Also x1 >= 2: none.
        let g = and(vec![f, ge(1, 2)]);
        assert_eq!(find(&g, &b, 10_000), Found::None);
        // Propagation alone decides it: x0 >= x1 + 5 and x0 + x1 = 7 leave x1 <= 1.
        assert_eq!(find(&g, &b, 1), Found::None);
        // A disjunction needs a split: x0 <= 2 or x0 >= 8, with x0 in [3, 7] or x0 == 9.
        let h = and(vec![
            or(vec![le(0, 2), ge(0, 8)]),
            or(vec![and(vec![ge(0, 3), le(0, 7)]), eq(0, 9)]),
        ]);
        assert_eq!(find(&h, &b, 10_000), Found::Point(vec![9, 0]));
        assert_eq!(find(&h, &b, 1), Found::Budget);
    }

    #[test]
    fn negation_is_exact_on_integers() {
        let b = boxed(&[(0, 20)]);
        // not (3 x <= 10) is x >= 4.
        let f = lin(&[(3, 0)], 10).not();
        assert_eq!(find(&f, &b, 100), Found::Point(vec![4]));
        let g = and(vec![f, le(0, 3)]);
        assert_eq!(find(&g, &b, 100), Found::None);
        // -2 x <= -7 is x >= 4 (ceil 3.5).
        assert_eq!(find(&lin(&[(-2, 0)], -7), &b, 100), Found::Point(vec![4]));
        assert_eq!(find(&or(vec![]), &b, 100), Found::None);
        // One variable on both sides: x - x <= -1 is false at once.
        assert_eq!(find(&lin(&[(1, 0), (-1, 0)], -1), &b, 1), Found::None);
        assert_eq!(find(&truth(), &b, 100), Found::Point(vec![0]));
    }
}
