//! Sets of cluster states as the compact encoder sees them (`whitebox_core::encoding::Compact`):
//! each feature is a whole number of units over a fixed denominator (free units of a horizon row
//! over 10, a job's length over 20, a demand over 10, a wait over 20, the backlog over 60, the
//! time since the last new job over 10). A [`Region`] gives every feature a range of whole
//! numbers; [`Region::input_box`] is its sound box over the encoder's inputs (the same `f32`
//! divisions the encoder does, so every state in the set encodes inside the box).

use whitebox_core::spec::{BACKLOG, HORIZON, MAX_JOB_LEN, MAX_TRACK_SINCE_NEW, NUM_RES, RES_UNITS};

/// Features per job slot: length, one demand per resource, wait until the first fit.
pub const SLOT_FEATURES: usize = 2 + NUM_RES;

/// What a compact feature counts, with its denominator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// Free units of resource `res` in horizon row `row` (over 10).
    Free {
        /// Horizon row (0 is now).
        row: usize,
        /// Resource.
        res: usize,
    },
    /// Length of the job in `slot` (over 20; 0 for an empty slot).
    Len {
        /// Job slot.
        slot: usize,
    },
    /// Demand of the job in `slot` on `res` (over 10).
    Demand {
        /// Job slot.
        slot: usize,
        /// Resource.
        res: usize,
    },
    /// Steps until the job in `slot` first fits (over 20; 20 when it fits nowhere).
    Wait {
        /// Job slot.
        slot: usize,
    },
    /// Jobs in the backlog (over 60).
    Backlog,
    /// Steps since the last new job (over 10).
    SinceNew,
}

impl Feature {
    /// The feature at compact input index `i` for `m` slots.
    pub fn at(i: usize, m: usize) -> Option<Feature> {
        let rows = HORIZON * NUM_RES;
        let slots = rows + SLOT_FEATURES * m;
        if i < rows {
            return Some(Feature::Free {
                row: i / NUM_RES,
                res: i % NUM_RES,
            });
        }
        if i < slots {
            let (slot, k) = ((i - rows) / SLOT_FEATURES, (i - rows) % SLOT_FEATURES);
            return Some(match k {
                0 => Feature::Len { slot },
                k if k <= NUM_RES => Feature::Demand { slot, res: k - 1 },
                _ => Feature::Wait { slot },
            });
        }
        match i - slots {
            0 => Some(Feature::Backlog),
            1 => Some(Feature::SinceNew),
            _ => None,
        }
    }

    /// The compact input index of the feature for `m` slots: the inverse of [`Feature::at`],
    /// in constant time (`None` for a row, slot or resource out of range).
    pub fn position(self, m: usize) -> Option<usize> {
        let rows = HORIZON * NUM_RES;
        let slot_at = |slot: usize, k: usize| (slot < m).then_some(rows + slot * SLOT_FEATURES + k);
        match self {
            Feature::Free { row, res } => {
                (row < HORIZON && res < NUM_RES).then_some(row * NUM_RES + res)
            }
            Feature::Len { slot } => slot_at(slot, 0),
            Feature::Demand { slot, res } => slot_at(slot, 1 + res).filter(|_| res < NUM_RES),
            Feature::Wait { slot } => slot_at(slot, SLOT_FEATURES - 1),
            Feature::Backlog => Some(rows + SLOT_FEATURES * m),
            Feature::SinceNew => Some(rows + SLOT_FEATURES * m + 1),
        }
    }

    /// The whole-number range and the denominator of the feature.
    pub fn domain(self) -> (u16, u16) {
        match self {
            Feature::Free { .. } | Feature::Demand { .. } => {
                (u16::from(RES_UNITS), u16::from(RES_UNITS))
            }
            Feature::Len { .. } => (u16::from(MAX_JOB_LEN), u16::from(MAX_JOB_LEN)),
            Feature::Wait { .. } => (HORIZON as u16, HORIZON as u16),
            Feature::Backlog => (BACKLOG as u16, BACKLOG as u16),
            Feature::SinceNew => (
                u16::from(MAX_TRACK_SINCE_NEW),
                u16::from(MAX_TRACK_SINCE_NEW),
            ),
        }
    }

    /// A readable name: `free[3].res0`, `slot2.len`, `backlog`.
    pub fn name(self) -> String {
        match self {
            Feature::Free { row, res } => format!("free[{row}].res{res}"),
            Feature::Len { slot } => format!("slot{slot}.len"),
            Feature::Demand { slot, res } => format!("slot{slot}.res{res}"),
            Feature::Wait { slot } => format!("slot{slot}.wait"),
            Feature::Backlog => "backlog".to_string(),
            Feature::SinceNew => "since_new".to_string(),
        }
    }
}

/// A set of cluster states with `m` job slots: every compact feature in a range of whole units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// Job slots.
    pub m: usize,
    /// Lower ends in whole units, one per compact input.
    pub lo: Vec<u16>,
    /// Upper ends in whole units.
    pub hi: Vec<u16>,
}

impl Region {
    /// Every state of a cluster with `m` slots (each feature over its whole domain).
    pub fn all(m: usize) -> Region {
        let n = whitebox_core::encoding::compact_len(m);
        let hi = (0..n)
            .map(|i| Feature::at(i, m).map_or(0, |f| f.domain().0))
            .collect();
        Region {
            m,
            lo: vec![0; n],
            hi,
        }
    }

    /// Index of `feature` in the compact input.
    pub fn index(&self, feature: Feature) -> Option<usize> {
        feature.position(self.m).filter(|&i| i < self.lo.len())
    }

    /// Restricts `feature` to `[lo, hi]` whole units (intersected with what it already allows).
    pub fn set(&mut self, feature: Feature, lo: u16, hi: u16) {
        if let Some(i) = self.index(feature) {
            self.lo[i] = self.lo[i].max(lo);
            self.hi[i] = self.hi[i].min(hi);
        }
    }

    /// The idle cluster: every horizon row entirely free.
    pub fn idle(mut self) -> Region {
        let units = u16::from(RES_UNITS);
        for row in 0..HORIZON {
            for res in 0..NUM_RES {
                self.set(Feature::Free { row, res }, units, units);
            }
        }
        self
    }

    /// Slot `slot` holds a job (length at least 1).
    pub fn with_job(mut self, slot: usize) -> Region {
        self.set(Feature::Len { slot }, 1, u16::from(MAX_JOB_LEN));
        self
    }

    /// Removes from the region the points that are no cluster state, by rules that hold for
    /// every state the compact encoder produces: an empty slot (length 0) has no demand and wait
    /// 0; a slot with a demand or a wait holds a job; the backlog is empty while a slot is.
    /// Returns false when nothing is left.
    pub fn tighten(&mut self) -> bool {
        let m = self.m;
        for _ in 0..2 {
            let mut some_empty = false;
            for slot in 0..m {
                let Some(li) = self.index(Feature::Len { slot }) else {
                    continue;
                };
                let mut rest: Vec<usize> = (0..NUM_RES)
                    .filter_map(|res| self.index(Feature::Demand { slot, res }))
                    .collect();
                rest.extend(self.index(Feature::Wait { slot }));
                if self.hi[li] == 0 {
                    some_empty = true;
                    for &i in &rest {
                        self.hi[i] = 0;
                    }
                } else if rest.iter().any(|&i| self.lo[i] > 0) {
                    self.lo[li] = self.lo[li].max(1);
                }
            }
            if let Some(b) = self.index(Feature::Backlog) {
                if some_empty {
                    self.hi[b] = 0;
                } else if self.lo[b] > 0 {
                    for slot in 0..m {
                        if let Some(li) = self.index(Feature::Len { slot }) {
                            self.lo[li] = self.lo[li].max(1);
                        }
                    }
                }
            }
        }
        !self.is_empty()
    }

    /// Intersects every range with `other`'s (same number of slots).
    pub fn intersect(&mut self, other: &Region) {
        for i in 0..self.lo.len().min(other.lo.len()) {
            self.lo[i] = self.lo[i].max(other.lo[i]);
            self.hi[i] = self.hi[i].min(other.hi[i]);
        }
    }

    /// The region with every free-unit range widened by one unit each way (within 0..=10) and
    /// every wait free: the states one unit of occupancy away, row by row, from a state of the
    /// region, and more.
    pub fn widened(&self) -> Region {
        let mut r = self.clone();
        for row in 0..HORIZON {
            for res in 0..NUM_RES {
                if let Some(i) = r.index(Feature::Free { row, res }) {
                    r.lo[i] = r.lo[i].saturating_sub(1);
                    r.hi[i] = (r.hi[i] + 1).min(u16::from(RES_UNITS));
                }
            }
        }
        // A job's first fit moves with the occupancy.
        for slot in 0..r.m {
            r.set_range(Feature::Wait { slot }, 0, HORIZON as u16);
        }
        r
    }

    /// Sets `feature` to exactly `[lo, hi]` (not intersected).
    pub fn set_range(&mut self, feature: Feature, lo: u16, hi: u16) {
        if let Some(i) = self.index(feature) {
            self.lo[i] = lo;
            self.hi[i] = hi;
        }
    }

    /// True when some feature's range is empty.
    pub fn is_empty(&self) -> bool {
        self.lo.iter().zip(&self.hi).any(|(l, h)| l > h)
    }

    /// The sound input box: feature `i` in `[lo_i / d_i, hi_i / d_i]`, divided in `f32` as the
    /// encoder divides.
    pub fn input_box(&self) -> (Vec<f32>, Vec<f32>) {
        let scale = |i: usize, v: u16| {
            Feature::at(i, self.m).map_or(0.0, |f| f32::from(v) / f32::from(f.domain().1))
        };
        let lo = self
            .lo
            .iter()
            .enumerate()
            .map(|(i, &v)| scale(i, v))
            .collect();
        let hi = self
            .hi
            .iter()
            .enumerate()
            .map(|(i, &v)| scale(i, v))
            .collect();
        (lo, hi)
    }

    /// The point of the region with every feature at `pick(lo, hi)`, encoded as the compact
    /// encoder would encode it.
    pub fn point(&self, mut pick: impl FnMut(usize, u16, u16) -> u16) -> Vec<u16> {
        self.lo
            .iter()
            .zip(&self.hi)
            .enumerate()
            .map(|(i, (&l, &h))| pick(i, l, h))
            .collect()
    }

    /// Whole units to encoder inputs.
    pub fn encode(&self, units: &[u16]) -> Vec<f32> {
        units
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                Feature::at(i, self.m).map_or(0.0, |f| f32::from(v) / f32::from(f.domain().1))
            })
            .collect()
    }

    /// Splits the range of feature `i` at its middle; `None` when it holds one value.
    pub fn split(&self, i: usize) -> Option<(Region, Region)> {
        let (l, h) = (*self.lo.get(i)?, *self.hi.get(i)?);
        if l >= h {
            return None;
        }
        let mid = l + (h - l) / 2;
        let (mut a, mut b) = (self.clone(), self.clone());
        a.hi[i] = mid;
        b.lo[i] = mid + 1;
        Some((a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_inverts_feature_at() {
        for m in [5, 10] {
            let r = Region::all(m);
            for i in 0..r.lo.len() {
                let f = Feature::at(i, m);
                assert_eq!(
                    f.and_then(|f| r.index(f)),
                    Some(i),
                    "m = {m}, input {i}: {f:?}"
                );
            }
            for f in [
                Feature::Free {
                    row: HORIZON,
                    res: 0,
                },
                Feature::Free {
                    row: 0,
                    res: NUM_RES,
                },
                Feature::Len { slot: m },
                Feature::Demand {
                    slot: 0,
                    res: NUM_RES,
                },
                Feature::Wait { slot: m },
            ] {
                assert_eq!(r.index(f), None, "m = {m}: {f:?}");
            }
        }
    }
}
