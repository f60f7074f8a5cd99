//! The check's formulas over the operator features ([`whitebox_core::tree::features`]): the
//! feature domain and its consistency, what a leaf's action does, and when it breaks a
//! property. Variables are feature indices.
//!
//! Consistency (every cluster state satisfies it; the converse is not claimed):
//! * a slot is empty (length, demands and wait 0, fit `T`) or holds a job (length `1..=T`,
//!   fit `0..=T - len` or `T`); a job that fits now needs each demand within `free_now`; a job
//!   whose demands are all within `free_min` fits now; a job of length 1 that does not fit now
//!   exceeds `free_now` somewhere; `since_last_new` is at most its wait (every arrival resets
//!   the counter);
//! * per resource, `free_min <= free_now`, and `free_sum` is `free_now` plus 19 rows in
//!   `[free_min, 10]`, one of them `free_min` when `free_min < free_now`;
//! * a non-empty backlog means every slot holds a job (arrivals fill the lowest empty slot).

use whitebox_core::rules::{Permille, Rule};
use whitebox_core::spec::{BACKLOG, HORIZON, MAX_TRACK_SINCE_NEW, NUM_RES, RES_UNITS};
use whitebox_core::tree::features::{ResFeature, SlotFeature, WAIT_CAP};
use whitebox_core::tree::{sjf_leaf, Feature, NO_FIT};

use super::logic::{and, eq, ge, le, lin, or, truth, Formula, Range};

const T: i64 = HORIZON as i64;
const UNITS: i64 = RES_UNITS as i64;

/// Variable of slot `k`'s feature `kind`.
pub fn slot(m: usize, k: usize, kind: SlotFeature) -> usize {
    Feature::Slot {
        slot: u8::try_from(k).unwrap_or(u8::MAX),
        kind,
    }
    .index(m)
}

/// Variable of resource `r`'s feature `kind`.
pub fn res(m: usize, r: usize, kind: ResFeature) -> usize {
    Feature::Resource {
        res: u8::try_from(r).unwrap_or(u8::MAX),
        kind,
    }
    .index(m)
}

fn demand(m: usize, k: usize, r: usize) -> usize {
    slot(
        m,
        k,
        SlotFeature::Demand(u8::try_from(r).unwrap_or(u8::MAX)),
    )
}

/// Every feature's range of values for `m` slots.
pub fn domain(m: usize) -> Vec<Range> {
    let count = whitebox_core::tree::feature_count(m);
    (0..count)
        .map(|i| {
            let hi = match Feature::from_index(i, m) {
                Some(Feature::Slot { kind, .. }) => match kind {
                    SlotFeature::Len | SlotFeature::Fit => T,
                    SlotFeature::Demand(_) => UNITS,
                    SlotFeature::Wait => i64::from(WAIT_CAP),
                },
                Some(Feature::Resource { kind, .. }) => match kind {
                    ResFeature::FreeSum => T * UNITS,
                    _ => UNITS,
                },
                Some(Feature::Backlog) => BACKLOG as i64,
                Some(Feature::SinceLastNew) => i64::from(MAX_TRACK_SINCE_NEW),
                None => 0,
            };
            Range { lo: 0, hi }
        })
        .collect()
}

/// The consistency of the features (module docs).
pub fn consistency(m: usize) -> Formula {
    let mut all = Vec::new();
    for r in 0..NUM_RES {
        let (now, sum, min) = (
            res(m, r, ResFeature::FreeNow),
            res(m, r, ResFeature::FreeSum),
            res(m, r, ResFeature::FreeMin),
        );
        all.push(lin(&[(1, min), (-1, now)], 0));
        all.push(lin(&[(1, now), (T - 1, min), (-1, sum)], 0));
        all.push(lin(&[(1, sum), (-1, now)], (T - 1) * UNITS));
        all.push(or(vec![
            lin(&[(1, now), (-1, min)], 0),
            lin(&[(1, sum), (-1, now), (-1, min)], (T - 2) * UNITS),
        ]));
    }
    let since = Feature::SinceLastNew.index(m);
    for k in 0..m {
        let (len, wait, fit) = (
            slot(m, k, SlotFeature::Len),
            slot(m, k, SlotFeature::Wait),
            slot(m, k, SlotFeature::Fit),
        );
        let demands = |f: &dyn Fn(usize) -> Formula| (0..NUM_RES).map(f).collect::<Vec<_>>();
        let mut empty = vec![le(len, 0), le(wait, 0), ge(fit, i64::from(NO_FIT))];
        empty.extend(demands(&|r| le(demand(m, k, r), 0)));
        let now = |r| res(m, r, ResFeature::FreeNow);
        let min = |r| res(m, r, ResFeature::FreeMin);
        let job = vec![
            ge(len, 1),
            or(vec![
                lin(&[(1, fit), (1, len)], T),
                ge(fit, i64::from(NO_FIT)),
            ]),
            or(vec![
                ge(fit, 1),
                and(demands(&|r| lin(&[(1, demand(m, k, r)), (-1, now(r))], 0))),
            ]),
            or(vec![
                le(fit, 0),
                or(demands(&|r| lin(&[(-1, demand(m, k, r)), (1, min(r))], -1))),
            ]),
            or(vec![
                le(fit, 0),
                ge(len, 2),
                or(demands(&|r| lin(&[(-1, demand(m, k, r)), (1, now(r))], -1))),
            ]),
            lin(&[(1, since), (-1, wait)], 0),
        ];
        all.push(or(vec![and(empty), and(job)]));
    }
    all.push(or(vec![
        le(Feature::Backlog.index(m), 0),
        and((0..m)
            .map(|k| ge(slot(m, k, SlotFeature::Len), 1))
            .collect()),
    ]));
    and(all)
}

/// What a decision does, as the rules see it ([`whitebox_core::rules::Effect`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Time moves on: void, an empty slot, or a job that fits nowhere.
    Idle,
    /// Slot `j`'s job starts at its first fit (`slot{j}.fit`, possibly later).
    Start(usize),
}

/// The cases of leaf action `action` (`0..m` a slot, `m` void, `m + 1` SJF's choice): when
/// each happens and what it does.
pub fn cases(m: usize, action: usize) -> Vec<(Formula, Effect)> {
    let fit = |k| slot(m, k, SlotFeature::Fit);
    let len = |k| slot(m, k, SlotFeature::Len);
    if action < m {
        return vec![
            (
                le(fit(action), i64::from(NO_FIT) - 1),
                Effect::Start(action),
            ),
            (ge(fit(action), i64::from(NO_FIT)), Effect::Idle),
        ];
    }
    if action != sjf_leaf(m) {
        return vec![(truth(), Effect::Idle)];
    }
    // SJF's choice: the shortest job that fits now, the lowest slot on ties; else void.
    let mut out: Vec<(Formula, Effect)> = (0..m)
        .map(|j| {
            let mut c = vec![le(fit(j), 0)];
            for k in (0..m).filter(|&k| k != j) {
                // Slot k does not come first: it does not fit now, or it is longer (or as
                // long and higher).
                let tie = if k < j { -1 } else { 0 };
                c.push(or(vec![
                    ge(fit(k), 1),
                    lin(&[(1, len(j)), (-1, len(k))], tie),
                ]));
            }
            (and(c), Effect::Start(j))
        })
        .collect();
    out.push((and((0..m).map(|k| ge(fit(k), 1)).collect()), Effect::Idle));
    out
}

/// Whole units `c` with `(used + d) * 1000 <= max * 10` exactly when `used + d <= c`.
fn cap_units(max: Permille) -> i64 {
    i64::from(max.get()) / 100
}

/// Slot `k`'s job may start now within `max` ([`whitebox_core::rules::startable_within`]):
/// for sure (`certain`), or possibly, given what the features say of the horizon rows (row 0
/// is `free_now`, the others lie in `[free_min, 10]`). Exact for a cap of 1 (then it is
/// "fits now") and for jobs of length 1.
pub fn startable(m: usize, k: usize, max: Permille, certain: bool) -> Formula {
    let fit0 = le(slot(m, k, SlotFeature::Fit), 0);
    if max == Permille::ONE {
        return fit0;
    }
    let c = cap_units(max);
    let len = slot(m, k, SlotFeature::Len);
    let mut all = vec![fit0];
    for r in 0..NUM_RES {
        let d = demand(m, k, r);
        let (now, min) = (
            res(m, r, ResFeature::FreeNow),
            res(m, r, ResFeature::FreeMin),
        );
        // Within the cap in a row with `free` units: 10 - free + d <= c; alone above it: every
        // row of the window idle.
        let row_ok = |free| {
            or(vec![
                lin(&[(1, d), (-1, free)], c - UNITS),
                and(vec![ge(d, c + 1), ge(free, UNITS)]),
            ])
        };
        all.push(if certain {
            or(vec![
                le(d, 0),
                row_ok(min),
                and(vec![le(len, 1), row_ok(now)]),
            ])
        } else {
            or(vec![le(d, 0), row_ok(now)])
        });
    }
    and(all)
}

/// Starting slot `j`'s job breaks `util <= max`: for sure (`certain`: row 0 alone is over the
/// cap and the job is not alone there), or possibly (not provably within it: every row in
/// `[free_min, 10]`, row 0 at `free_now` for a job of length 1 that starts now).
fn over_cap(m: usize, j: usize, max: Permille, certain: bool) -> Formula {
    if max == Permille::ONE {
        return or(Vec::new());
    }
    let c = cap_units(max);
    let (len, fit) = (slot(m, j, SlotFeature::Len), slot(m, j, SlotFeature::Fit));
    let per_res = |r: usize| {
        let d = demand(m, j, r);
        let (now, min) = (
            res(m, r, ResFeature::FreeNow),
            res(m, r, ResFeature::FreeMin),
        );
        if certain {
            and(vec![
                ge(d, 1),
                lin(&[(-1, d), (1, now)], UNITS - c - 1),
                or(vec![le(d, c), le(now, UNITS - 1)]),
            ])
        } else {
            let row_ok = |free| {
                or(vec![
                    lin(&[(1, d), (-1, free)], c - UNITS),
                    and(vec![ge(d, c + 1), ge(free, UNITS)]),
                ])
            };
            or(vec![
                le(d, 0),
                row_ok(min),
                and(vec![le(len, 1), le(fit, 0), row_ok(now)]),
            ])
            .not()
        }
    };
    let any = or((0..NUM_RES).map(per_res).collect());
    if certain {
        and(vec![le(fit, 0), any])
    } else {
        any
    }
}

/// A property checked leaf by leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Property {
    /// The leaf does not idle while the cluster is idle (every horizon row free) and a job fits
    /// now (issue 14's no-idle property, `whitebox verify`'s `no-idle` for the tree).
    NoIdle,
    /// `whitebox verify`'s `starts-within:1` on its default region: on an idle cluster with one
    /// job, in slot 0, and an empty backlog, the leaf starts slot 0.
    StartsWithin1,
    /// `whitebox verify`'s `shorter-first`, for any two slots: of two jobs that fit now and
    /// differ only in length (same demands), the leaf does not start the longer one.
    ShorterFirstPair,
    /// An operator rule: the leaf's action never breaks it.
    Rule(Rule),
}

impl Property {
    /// Its name in reports: `no-idle`, `verify:starts-within:1`, `verify:shorter-first`, or
    /// the rule as written on the command line.
    pub fn name(&self) -> String {
        match self {
            Property::NoIdle => "no-idle".into(),
            Property::StartsWithin1 => "verify:starts-within:1".into(),
            Property::ShorterFirstPair => "verify:shorter-first".into(),
            Property::Rule(r) => r.to_string(),
        }
    }

    /// True when [`violation`] is the same formula for sure and possibly: the property is a
    /// function of the features. Rules with a cap below 1 depend on horizon rows the features
    /// only summarize.
    pub fn exact(&self) -> bool {
        match self {
            Property::Rule(
                Rule::UtilizationCap { max }
                | Rule::WorkConserving { max }
                | Rule::ShorterFirst { max }
                | Rule::BoundedWait { max, .. },
            ) => *max == Permille::ONE,
            _ => true,
        }
    }
}

fn idle_cluster(m: usize) -> Formula {
    and((0..NUM_RES)
        .map(|r| ge(res(m, r, ResFeature::FreeSum), T * UNITS))
        .collect())
}

/// When an action with `effect` breaks property `p`: for sure (`certain`) or possibly; the
/// two are the same formula for an [`exact`](Property::exact) property.
pub fn violation(m: usize, p: Property, effect: Effect, certain: bool) -> Formula {
    let fit = |k| slot(m, k, SlotFeature::Fit);
    let len = |k| slot(m, k, SlotFeature::Len);
    let never = || or(Vec::new());
    match (p, effect) {
        (Property::NoIdle, Effect::Idle) => and(vec![
            idle_cluster(m),
            or((0..m).map(|k| le(fit(k), 0)).collect()),
        ]),
        (Property::StartsWithin1, e) if e != Effect::Start(0) => {
            let mut c = vec![idle_cluster(m), ge(len(0), 1)];
            c.extend((1..m).map(|k| le(len(k), 0)));
            c.push(le(Feature::Backlog.index(m), 0));
            and(c)
        }
        (Property::ShorterFirstPair, Effect::Start(j)) => or((0..m)
            .filter(|&k| k != j)
            .map(|k| {
                let mut c = vec![
                    le(fit(j), 0),
                    le(fit(k), 0),
                    lin(&[(1, len(k)), (-1, len(j))], -1),
                ];
                c.extend((0..NUM_RES).map(|r| {
                    and(vec![
                        lin(&[(1, demand(m, k, r)), (-1, demand(m, j, r))], 0),
                        lin(&[(-1, demand(m, k, r)), (1, demand(m, j, r))], 0),
                    ])
                }));
                and(c)
            })
            .collect()),
        (Property::Rule(rule), effect) => rule_violation(m, rule, effect, certain),
        _ => never(),
    }
}

fn rule_violation(m: usize, rule: Rule, effect: Effect, certain: bool) -> Formula {
    let fit = |k| slot(m, k, SlotFeature::Fit);
    let len = |k| slot(m, k, SlotFeature::Len);
    let wait = |k| slot(m, k, SlotFeature::Wait);
    match (rule, effect) {
        (Rule::UtilizationCap { max }, Effect::Start(j)) => over_cap(m, j, max, certain),
        (Rule::WorkConserving { max }, Effect::Idle) => {
            or((0..m).map(|k| startable(m, k, max, certain)).collect())
        }
        (Rule::NoReservation, Effect::Start(j)) => ge(fit(j), 1),
        (Rule::ShorterFirst { max }, Effect::Start(j)) => or((0..m)
            .map(|k| {
                and(vec![
                    startable(m, k, max, certain),
                    lin(&[(1, len(k)), (-1, len(j))], -1),
                ])
            })
            .collect()),
        (Rule::BoundedWait { steps, max }, effect) => or((0..m)
            .map(|k| {
                let mut c = vec![startable(m, k, max, certain), ge(wait(k), i64::from(steps))];
                // A start holds only for a job that arrived no later than every aged startable
                // one: it breaks the rule when one of them has waited longer.
                if let Effect::Start(j) = effect {
                    c.push(lin(&[(1, wait(j)), (-1, wait(k))], -1));
                }
                and(c)
            })
            .collect()),
        _ => or(Vec::new()),
    }
}

/// `x[v] == c` for each given feature, for tests and witnesses.
pub fn fix(values: &[(usize, i64)]) -> Formula {
    and(values.iter().map(|&(v, c)| eq(v, c)).collect())
}
