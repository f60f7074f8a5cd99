//! The operator features a decision tree reads: integers computed from the cluster state, each
//! with a stable name (`slot2.len`, `res0.free_now`, ...).
//!
//! Layout for `M` job slots, [`feature_count`]`(M) = 5 M + 8` features:
//!
//! | index | name | value |
//! |---|---|---|
//! | `5 i` | `slot{i}.len` | length of the job in slot `i`, in time steps (0 when empty) |
//! | `5 i + 1 + r` | `slot{i}.res{r}` | its demand of resource `r`, in units (0 when empty) |
//! | `5 i + 3` | `slot{i}.wait` | time steps it has waited so far, `now - arrival` (0 when empty, capped at [`WAIT_CAP`]) |
//! | `5 i + 4` | `slot{i}.fit` | its first fit in time, the earliest start offset at which it fits (0 = fits now), or [`NO_FIT`] when it fits nowhere in the horizon or the slot is empty |
//! | `5 M + 3 r` | `res{r}.free_now` | free units of resource `r` in the current step |
//! | `5 M + 3 r + 1` | `res{r}.free_sum` | free units of `r` summed over the horizon's `T` rows (unit-steps) |
//! | `5 M + 3 r + 2` | `res{r}.free_min` | the fewest free units of `r` in any horizon row |
//! | `5 M + 6` | `backlog` | jobs in the backlog |
//! | `5 M + 7` | `since_last_new` | time steps since the last job arrived (capped at 10, as DeepRM) |
//!
//! Every value is a whole number in `[0, WAIT_CAP]`, so it is exact as an `f32` (below `2^24`)
//! and a tree's integer thresholds decide the same way on every target.

use core::fmt;

use crate::cluster::Cluster;
use crate::encoding::Observe;
use crate::job::Job;
use crate::spec::{HORIZON, NUM_RES};

/// Features per job slot: length, the demand of each resource, wait, first fit.
pub const SLOT_FEATURES: usize = 3 + NUM_RES;
/// Features per resource: free now, free summed over the horizon, fewest free in a row.
pub const RES_FEATURES: usize = 3;
/// The `slot{i}.fit` of a job that fits nowhere in the horizon, and of an empty slot: `T`, one
/// past the last start offset.
pub const NO_FIT: i32 = HORIZON as i32;
/// Cap on `slot{i}.wait`, in time steps, so every feature stays exact as an `f32`.
pub const WAIT_CAP: i32 = u16::MAX as i32;

/// Number of operator features for `m` job slots: `5 m + 8`.
pub const fn feature_count(m: usize) -> usize {
    SLOT_FEATURES * m + RES_FEATURES * NUM_RES + 2
}

/// A per-slot feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotFeature {
    /// Job length, in time steps.
    Len,
    /// Demand of resource `r`, in units.
    Demand(u8),
    /// Time steps waited so far.
    Wait,
    /// First fit in time (start offset), or [`NO_FIT`].
    Fit,
}

/// A per-resource feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResFeature {
    /// Free units in the current step.
    FreeNow,
    /// Free units summed over the horizon.
    FreeSum,
    /// Fewest free units in any horizon row.
    FreeMin,
}

/// One operator feature, by meaning; [`Feature::index`] is its position in the feature vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// A feature of job slot `slot`.
    Slot {
        /// Slot index.
        slot: u8,
        /// Which feature.
        kind: SlotFeature,
    },
    /// A feature of resource `res`.
    Resource {
        /// Resource index.
        res: u8,
        /// Which feature.
        kind: ResFeature,
    },
    /// Jobs in the backlog.
    Backlog,
    /// Time steps since the last job arrived.
    SinceLastNew,
}

impl Feature {
    /// The feature at `index` for `m` slots, or `None` at or past [`feature_count`]`(m)`.
    pub fn from_index(index: usize, m: usize) -> Option<Feature> {
        let slots = SLOT_FEATURES * m;
        if index < slots {
            let slot = u8::try_from(index / SLOT_FEATURES).ok()?;
            let kind = match index % SLOT_FEATURES {
                0 => SlotFeature::Len,
                k if k <= NUM_RES => SlotFeature::Demand(u8::try_from(k - 1).ok()?),
                k if k == NUM_RES + 1 => SlotFeature::Wait,
                _ => SlotFeature::Fit,
            };
            return Some(Feature::Slot { slot, kind });
        }
        let k = index - slots;
        if k < RES_FEATURES * NUM_RES {
            let res = u8::try_from(k / RES_FEATURES).ok()?;
            let kind = match k % RES_FEATURES {
                0 => ResFeature::FreeNow,
                1 => ResFeature::FreeSum,
                _ => ResFeature::FreeMin,
            };
            return Some(Feature::Resource { res, kind });
        }
        match k - RES_FEATURES * NUM_RES {
            0 => Some(Feature::Backlog),
            1 => Some(Feature::SinceLastNew),
            _ => None,
        }
    }

    /// Position in the feature vector for `m` slots (the inverse of [`Feature::from_index`]).
    pub fn index(self, m: usize) -> usize {
        let slots = SLOT_FEATURES * m;
        match self {
            Feature::Slot { slot, kind } => {
                let k = match kind {
                    SlotFeature::Len => 0,
                    SlotFeature::Demand(r) => 1 + usize::from(r),
                    SlotFeature::Wait => NUM_RES + 1,
                    SlotFeature::Fit => NUM_RES + 2,
                };
                SLOT_FEATURES * usize::from(slot) + k
            }
            Feature::Resource { res, kind } => {
                let k = match kind {
                    ResFeature::FreeNow => 0,
                    ResFeature::FreeSum => 1,
                    ResFeature::FreeMin => 2,
                };
                slots + RES_FEATURES * usize::from(res) + k
            }
            Feature::Backlog => slots + RES_FEATURES * NUM_RES,
            Feature::SinceLastNew => slots + RES_FEATURES * NUM_RES + 1,
        }
    }
}

/// The stable name: `slot2.len`, `slot2.res0`, `slot2.wait`, `slot2.fit`, `res0.free_now`,
/// `res0.free_sum`, `res0.free_min`, `backlog`, `since_last_new`.
impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Feature::Slot { slot, kind } => {
                write!(f, "slot{slot}.")?;
                match kind {
                    SlotFeature::Len => f.write_str("len"),
                    SlotFeature::Demand(r) => write!(f, "res{r}"),
                    SlotFeature::Wait => f.write_str("wait"),
                    SlotFeature::Fit => f.write_str("fit"),
                }
            }
            Feature::Resource { res, kind } => {
                let name = match kind {
                    ResFeature::FreeNow => "free_now",
                    ResFeature::FreeSum => "free_sum",
                    ResFeature::FreeMin => "free_min",
                };
                write!(f, "res{res}.{name}")
            }
            Feature::Backlog => f.write_str("backlog"),
            Feature::SinceLastNew => f.write_str("since_last_new"),
        }
    }
}

/// `slot{i}.wait` of `job` at time step `now`: `now - arrival`, capped at [`WAIT_CAP`].
fn wait(now: u32, job: &Job) -> i32 {
    let wait = now.saturating_sub(job.arrival);
    i32::try_from(wait).map_or(WAIT_CAP, |w| w.min(WAIT_CAP))
}

/// `slot{i}.fit` of `job`: its first fit in time, or [`NO_FIT`].
fn fit<const M: usize>(cluster: &Cluster<M>, job: &Job) -> i32 {
    // `first_fit` is at most `T - 1`, so the conversion cannot fail.
    cluster
        .first_fit(job)
        .map_or(NO_FIT, |t| i32::try_from(t).unwrap_or(NO_FIT))
}

/// Free units of resource `r` in each horizon row, top row first.
fn free_rows<const M: usize>(
    cluster: &Cluster<M>,
    r: usize,
) -> impl Iterator<Item = u8> + Clone + '_ {
    cluster
        .avbl()
        .iter()
        .map(move |row| row.get(r).copied().unwrap_or(0))
}

/// Writes the operator features of `cluster` (see the module docs) into `out`, shape
/// `[feature_count(M)]`.
pub fn operator_features<const M: usize, const I: usize>(cluster: &Cluster<M>, out: &mut [i32; I]) {
    const { assert!(I == feature_count(M), "operator features are 5 M + 8 long") };
    let now = cluster.now();
    let mut k = 0;
    let mut put = |v: i32| {
        if let Some(o) = out.get_mut(k) {
            *o = v;
        }
        k += 1;
    };
    for slot in cluster.slots() {
        match slot {
            Some(job) => {
                put(i32::from(job.len));
                job.res.iter().for_each(|&d| put(i32::from(d)));
                put(wait(now, job));
                put(fit(cluster, job));
            }
            None => {
                (0..SLOT_FEATURES - 1).for_each(|_| put(0));
                put(NO_FIT);
            }
        }
    }
    for r in 0..NUM_RES {
        let rows = free_rows(cluster, r);
        put(i32::from(cluster.avbl()[0].get(r).copied().unwrap_or(0)));
        put(rows.clone().map(i32::from).sum());
        put(rows.min().map_or(0, i32::from));
    }
    put(i32::try_from(cluster.backlog_len()).unwrap_or(i32::MAX));
    put(i32::from(cluster.since_last_new()));
}

/// One operator feature of `cluster` alone: the value [`operator_features`] writes at
/// `feature.index(M)`, computed without the others (a tree decision reads at most its depth
/// of them; a slot's first fit alone scans the horizon).
pub fn operator_feature<const M: usize>(cluster: &Cluster<M>, feature: Feature) -> i32 {
    match feature {
        Feature::Slot { slot, kind } => {
            let Some(job) = cluster.slots().get(usize::from(slot)).copied().flatten() else {
                return if kind == SlotFeature::Fit { NO_FIT } else { 0 };
            };
            match kind {
                SlotFeature::Len => i32::from(job.len),
                SlotFeature::Demand(r) => job.res.get(usize::from(r)).copied().map_or(0, i32::from),
                SlotFeature::Wait => wait(cluster.now(), &job),
                SlotFeature::Fit => fit(cluster, &job),
            }
        }
        Feature::Resource { res, kind } => {
            let rows = free_rows(cluster, usize::from(res));
            match kind {
                ResFeature::FreeNow => i32::from(
                    cluster.avbl()[0]
                        .get(usize::from(res))
                        .copied()
                        .unwrap_or(0),
                ),
                ResFeature::FreeSum => rows.map(i32::from).sum(),
                ResFeature::FreeMin => rows.min().map_or(0, i32::from),
            }
        }
        Feature::Backlog => i32::try_from(cluster.backlog_len()).unwrap_or(i32::MAX),
        Feature::SinceLastNew => i32::from(cluster.since_last_new()),
    }
}

/// Whether `operator_feature(cluster, feature) <= threshold`, a tree split's test: for a
/// slot's first fit it scans start offsets only up to `threshold`
/// ([`Cluster::fits_by`]), not the whole horizon.
pub fn feature_at_most<const M: usize>(
    cluster: &Cluster<M>,
    feature: Feature,
    threshold: i32,
) -> bool {
    match feature {
        Feature::Slot {
            slot,
            kind: SlotFeature::Fit,
        } => fit_at_most(cluster, usize::from(slot), threshold),
        _ => operator_feature(cluster, feature) <= threshold,
    }
}

/// [`feature_at_most`] of the feature at `index` for `m` slots (false past the last): a slot's
/// first fit, a tree's most frequent test, is tested without decoding the feature.
pub fn index_at_most<const M: usize>(
    cluster: &Cluster<M>,
    m: usize,
    index: usize,
    threshold: i32,
) -> bool {
    if index < SLOT_FEATURES * m && index % SLOT_FEATURES == SLOT_FEATURES - 1 {
        return fit_at_most(cluster, index / SLOT_FEATURES, threshold);
    }
    Feature::from_index(index, m).is_some_and(|f| feature_at_most(cluster, f, threshold))
}

/// Whether `slot{slot}.fit <= threshold`.
fn fit_at_most<const M: usize>(cluster: &Cluster<M>, slot: usize, threshold: i32) -> bool {
    if threshold >= NO_FIT {
        // Every first fit is at most T - 1, and NO_FIT itself is within the threshold.
        return true;
    }
    let Ok(offset) = usize::try_from(threshold) else {
        return false;
    };
    cluster
        .slots()
        .get(slot)
        .and_then(Option::as_ref)
        .is_some_and(|job| cluster.fits_by(job, offset))
}

/// The operator features as a policy's observation: [`operator_features`] written as `f32`
/// (exact, every value is below `2^24`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Operator;

impl<const M: usize, const I: usize> Observe<M, I> for Operator {
    const SHAPE_OK: bool = I == feature_count(M);
    const OPERATOR_FEATURES: bool = true;
    type Memo = ();

    fn observe(cluster: &Cluster<M>, out: &mut [f32; I]) {
        let mut ints = [0i32; I];
        operator_features(cluster, &mut ints);
        for (o, v) in out.iter_mut().zip(ints) {
            // Exact: |v| <= WAIT_CAP < 2^24 except the backlog's, which is at most 60.
            *o = v as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, Job};

    #[test]
    fn every_index_has_a_name_and_round_trips() {
        assert_eq!(feature_count(10), 58);
        let mut names: heapless::Vec<heapless::String<24>, 64> = heapless::Vec::new();
        for i in 0..feature_count(10) {
            let f = Feature::from_index(i, 10).unwrap_or_else(|| unreachable!("{i}"));
            assert_eq!(f.index(10), i);
            let mut s = heapless::String::new();
            core::fmt::write(&mut s, format_args!("{f}")).ok();
            assert!(!names.contains(&s), "{s} twice");
            names.push(s).ok();
        }
        assert_eq!(Feature::from_index(58, 10), None);
        assert!(!index_at_most(&Cluster::<10>::new(), 10, 58, i32::MAX));
        let name = |i: usize| names.get(i).map(|s| s.as_str());
        assert_eq!(name(0), Some("slot0.len"));
        assert_eq!(name(11), Some("slot2.res0"));
        assert_eq!(name(13), Some("slot2.wait"));
        assert_eq!(name(14), Some("slot2.fit"));
        assert_eq!(name(50), Some("res0.free_now"));
        assert_eq!(name(52), Some("res0.free_min"));
        assert_eq!(name(54), Some("res1.free_sum"));
        assert_eq!(name(56), Some("backlog"));
        assert_eq!(name(57), Some("since_last_new"));
    }

    #[test]
    fn features_by_hand() {
        let job = |id, arrival, len, res: [u32; 2]| {
            Job::new(id, arrival, len, res).unwrap_or_else(|e| unreachable!("{e}"))
        };
        let mut c: Cluster<2> = Cluster::new();
        c.submit(job(0, 0, 3, [4, 2])).ok();
        c.submit(job(1, 0, 10, [7, 1])).ok();
        c.submit(job(2, 0, 1, [1, 1])).ok(); // backlog
        c.step(Action::Schedule(0)); // job 0 runs in rows 0..3; job 2 refills slot 0
        c.step(Action::Void); // now = 1: rows 0..2 hold job 0
        let mut x = [-1i32; feature_count(2)];
        operator_features(&c, &mut x);
        // Slot 0: job 2 (len 1, [1, 1]), waited 1 step, fits now (6 and 8 units free).
        assert_eq!(&x[0..5], &[1, 1, 1, 1, 0]);
        // Slot 1: job 1 needs 7 units; rows 0 and 1 have 6 free, so its first fit is 2.
        assert_eq!(&x[5..10], &[10, 7, 1, 1, 2]);
        // res0: 6 free now; sum 6 + 6 + 18 * 10 = 192; min 6. res1: 8, 8 + 8 + 180 = 196, 8.
        assert_eq!(&x[10..16], &[6, 192, 6, 8, 196, 8]);
        // Empty backlog, one step since the last arrival.
        assert_eq!(&x[16..18], &[0, 1]);
        c.step(Action::Schedule(1)); // job 1 reserved at offset 2
        operator_features(&c, &mut x);
        // Slot 1 is now empty: zeros and the no-fit sentinel.
        assert_eq!(&x[5..10], &[0, 0, 0, 0, NO_FIT]);
        // Each feature alone is the value in the vector.
        for (i, &v) in x.iter().enumerate() {
            let f = Feature::from_index(i, 2).unwrap_or_else(|| unreachable!("{i}"));
            assert_eq!(operator_feature(&c, f), v, "{f}");
            for t in -2..=NO_FIT + 2 {
                assert_eq!(feature_at_most(&c, f, t), v <= t, "{f} <= {t}");
                assert_eq!(index_at_most(&c, 2, i, t), v <= t, "{f} <= {t}");
            }
        }
    }
}
