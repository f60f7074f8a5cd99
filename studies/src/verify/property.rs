//! The properties `whitebox verify` checks, as queries over regions of cluster states.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Result};
use whitebox_core::spec::{HORIZON, MAX_JOB_LEN, NUM_RES, RES_UNITS};

use super::region::{Feature, Region};

/// A property of the raw network (no liveness mask, no rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Property {
    /// (a) On an idle cluster with a waiting job, void is never ranked first: some job slot's
    /// logit is at least void's (ties go to the lowest index, so void is not chosen).
    NoIdle,
    /// (b) Two jobs that fit now and differ only in length, in slots 0 and 1 (both orders): the
    /// shorter one's logit is at least the longer one's.
    ShorterFirst,
    /// (c) No two states of a region that differ by one unit of occupancy in one horizon row get
    /// different actions: the raw network's chosen output ([`Compare::Raw`]) or its effect in
    /// the simulator ([`Compare::Effective`]).
    OccupancyRobust(Compare),
    /// (d) On an idle cluster with a job in slot 0, the raw network starts it within `K`
    /// decisions (no arrivals meanwhile), checked by unrolling the simulator.
    StartsWithin(u8),
}

/// What two actions of `occupancy-robust` must share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// The chosen output itself (`occupancy-robust`).
    Raw,
    /// The effect in the simulator (`occupancy-robust:effective`): `Cluster::step` moves time on
    /// for void, an empty slot and a job that fits nowhere in the horizon (`MoveOnCause::Void`,
    /// `EmptySlot`, `NoFit`), so those are one effective action; a slot whose job fits starts
    /// that job, one effective action per slot.
    Effective,
}

/// The property names accepted, for error messages.
pub const PROPERTY_SYNTAX: &str =
    "no-idle, shorter-first, occupancy-robust, occupancy-robust:effective, starts-within:K (K from 1 to 50)";

impl FromStr for Property {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Property> {
        match text {
            "no-idle" => Ok(Property::NoIdle),
            "shorter-first" => Ok(Property::ShorterFirst),
            "occupancy-robust" => Ok(Property::OccupancyRobust(Compare::Raw)),
            "occupancy-robust:effective" => Ok(Property::OccupancyRobust(Compare::Effective)),
            _ if text.starts_with("starts-within:") => {
                let k = &text["starts-within:".len()..];
                match k.parse::<u8>() {
                    Ok(k) if (1..=50).contains(&k) => Ok(Property::StartsWithin(k)),
                    _ => bail!(
                        "property `{text}`: at column 15: expected K, a whole number from 1 to 50, found `{k}`"
                    ),
                }
            }
            _ => bail!("property `{text}` is unknown; expected one of: {PROPERTY_SYNTAX}"),
        }
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Property::NoIdle => "no-idle",
            Property::ShorterFirst => "shorter-first",
            Property::OccupancyRobust(Compare::Raw) => "occupancy-robust",
            Property::OccupancyRobust(Compare::Effective) => "occupancy-robust:effective",
            Property::StartsWithin(k) => return write!(f, "starts-within:{k}"),
        })
    }
}

/// One query: prove over `region` that some `spec . logits >= 0` (one of the alternatives, which
/// may differ from branch to branch), or find a state where `holds` fails.
#[derive(Clone, Debug)]
pub struct Query {
    /// What the query covers, for reports.
    pub name: String,
    /// The states.
    pub region: Region,
    /// The linear specifications, each of shape `[M + 1]`: any one that is at least 0 on a
    /// branch implies the property there.
    pub specs: Vec<Vec<f32>>,
    /// The property at one state, from the logits.
    pub holds: Holds,
    /// True when the bound must be strictly positive (`spec . logits > 0`).
    pub strict: bool,
}

/// The property at one state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holds {
    /// Void (the last output) is not strictly above every slot's logit.
    VoidNotFirst,
    /// Output `a`'s logit is at least output `b`'s.
    AtLeast {
        /// The output that must not lose (the shorter job's slot).
        a: usize,
        /// The other output.
        b: usize,
    },
    /// Output `a`'s logit is strictly above output `b`'s (`b` has the lower index and wins ties).
    Above {
        /// The output that must win.
        a: usize,
        /// The other output.
        b: usize,
    },
    /// Some output of `set` (bit `k` for output `k`) is strictly above output `b`.
    SomeAbove {
        /// The outputs, as a bit mask.
        set: u64,
        /// The other output.
        b: usize,
    },
}

impl Holds {
    /// How far the property holds at these logits: at least 0 (above 0 for a strict query)
    /// exactly when it holds. Void not first: the best slot's logit minus void's; at least: the
    /// difference. Used to steer the search for counterexamples.
    pub fn margin(self, logits: &[f32]) -> f64 {
        match self {
            Holds::VoidNotFirst => match logits.split_last() {
                Some((void, slots)) => slots
                    .iter()
                    .map(|l| f64::from(*l) - f64::from(*void))
                    .fold(f64::NEG_INFINITY, f64::max),
                None => 0.0,
            },
            Holds::AtLeast { a, b } | Holds::Above { a, b } => match (logits.get(a), logits.get(b))
            {
                (Some(x), Some(y)) => f64::from(*x) - f64::from(*y),
                _ => 0.0,
            },
            Holds::SomeAbove { set, b } => match logits.get(b) {
                Some(y) => (0..logits.len().min(64))
                    .filter(|k| set >> k & 1 == 1)
                    .map(|k| f64::from(logits[k]) - f64::from(*y))
                    .fold(f64::NEG_INFINITY, f64::max),
                None => 0.0,
            },
        }
    }

    /// Evaluates the property on logits, shape `[M + 1]` (exact: differences of `f32` values are
    /// exact in `f64`).
    pub fn check(self, logits: &[f32]) -> bool {
        match self {
            Holds::VoidNotFirst => match logits.split_last() {
                Some((void, slots)) => slots.iter().any(|l| l >= void),
                None => true,
            },
            Holds::AtLeast { a, b } => match (logits.get(a), logits.get(b)) {
                (Some(x), Some(y)) => f64::from(*x) >= f64::from(*y),
                _ => true,
            },
            Holds::Above { a, b } => match (logits.get(a), logits.get(b)) {
                (Some(x), Some(y)) => f64::from(*x) > f64::from(*y),
                _ => true,
            },
            Holds::SomeAbove { .. } => self.margin(logits) > 0.0,
        }
    }
}

pub(crate) fn unit(o: usize, k: usize, minus: usize) -> Vec<f32> {
    (0..o)
        .map(|i| match (i == k, i == minus) {
            (true, false) => 1.0,
            (false, true) => -1.0,
            _ => 0.0,
        })
        .collect()
}

impl Property {
    /// The queries of this property for a network with `m` job slots (none for
    /// `occupancy-robust`, whose queries depend on the network, and `starts-within`, checked by
    /// unrolling).
    pub fn queries(self, m: usize) -> Vec<Query> {
        match self {
            Property::OccupancyRobust(_) | Property::StartsWithin(_) => Vec::new(),
            Property::NoIdle => (0..m)
                .map(|k| {
                    // Slot k is the first slot holding a job: the regions split the idle states
                    // with a waiting job into disjoint parts.
                    let mut region = Region::all(m).idle().with_job(k);
                    for slot in 0..k {
                        region.set(Feature::Len { slot }, 0, 0);
                    }
                    // On an idle cluster every job fits now.
                    for slot in 0..m {
                        region.set(Feature::Wait { slot }, 0, 0);
                    }
                    Query {
                        name: format!(
                            "idle cluster, first job in slot {k}: some slot's logit >= logit(void)"
                        ),
                        region,
                        specs: (0..m).map(|j| unit(m + 1, j, m)).collect(),
                        holds: Holds::VoidNotFirst,
                        strict: false,
                    }
                })
                .collect(),
            Property::ShorterFirst => {
                let mut out = Vec::new();
                for (a, b) in [(0, 1), (1, 0)] {
                    for len in 1..u16::from(MAX_JOB_LEN) {
                        for r0 in 0..=u16::from(RES_UNITS) {
                            for r1 in 0..=u16::from(RES_UNITS) {
                                let mut region = Region::all(m);
                                for (slot, lo, hi) in
                                    [(a, len, len), (b, len + 1, u16::from(MAX_JOB_LEN))]
                                {
                                    region.set(Feature::Len { slot }, lo, hi);
                                    region.set(Feature::Demand { slot, res: 0 }, r0, r0);
                                    region.set(Feature::Demand { slot, res: 1 }, r1, r1);
                                    region.set(Feature::Wait { slot }, 0, 0);
                                }
                                // Both fit now: the rows the longer job takes at least have room.
                                for row in 0..usize::from(len + 1).min(HORIZON) {
                                    for (res, r) in [r0, r1].into_iter().enumerate().take(NUM_RES) {
                                        region.set(
                                            Feature::Free { row, res },
                                            r,
                                            u16::from(RES_UNITS),
                                        );
                                    }
                                }
                                out.push(Query {
                                    name: format!(
                                        "slot {a} len {len} vs slot {b} longer, demand [{r0}, {r1}]: logit(slot {a}) >= logit(slot {b})"
                                    ),
                                    region,
                                    specs: vec![unit(m + 1, a, b)],
                                    holds: Holds::AtLeast { a, b },
                                    strict: false,
                                });
                            }
                        }
                    }
                }
                out
            }
        }
    }
}
