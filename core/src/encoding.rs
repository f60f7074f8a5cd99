//! Observation encoders: what a policy network sees of the cluster.
//!
//! * [`Image`]: DeepRM's 20 x W picture ([`crate::image`], `SEMANTICS.md` section 3).
//! * [`Compact`]: whitebox's small feature vector, every feature scaled to `[0, 1]`:
//!   1. free capacity of each horizon row and resource, `avbl[t][r] / r`, row-major
//!      (`T * d` = 40 features; row 0 is the current step);
//!   2. per job slot, `len / T`, each demand `res[r] / r`, and the wait until its first fit in
//!      time (`first_fit / T`, 1 when it fits nowhere in the horizon): `(2 + d) * M` features,
//!      all zero for an empty slot. The wait is what SJF and Packer test ("fits now" is wait 0)
//!      and what DeepRM's image shows only implicitly;
//!   3. backlog length / backlog capacity (1 feature);
//!   4. time since the last new job / 10 (1 feature).
//!
//!   That is `T * d + (2 + d) * M + 2` = 62 features for `M = 5` and 82 for `M = 10`.

use crate::cluster::Cluster;
use crate::image::{encode_image, image_len, update_image, ImageMemo};
use crate::spec::{BACKLOG, HORIZON, MAX_JOB_LEN, MAX_TRACK_SINCE_NEW, NUM_RES, RES_UNITS};

/// Which encoder a model was trained with (stored in model files).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// DeepRM's image, shape `[20][W]`.
    Image,
    /// whitebox's compact feature vector.
    Compact,
}

impl Encoding {
    /// Input length of the network for `m` job slots.
    pub const fn input_len(self, m: usize) -> usize {
        match self {
            Encoding::Image => image_len(m),
            Encoding::Compact => compact_len(m),
        }
    }

    /// Name on the command line and in model files' JSON form.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Image => "image",
            Encoding::Compact => "compact",
        }
    }

    /// The encoding called `name`.
    pub fn from_name(name: &str) -> Option<Encoding> {
        [Encoding::Image, Encoding::Compact]
            .into_iter()
            .find(|e| e.name() == name)
    }

    /// Stable numeric code used in the binary model format.
    pub const fn code(self) -> u8 {
        match self {
            Encoding::Image => 0,
            Encoding::Compact => 1,
        }
    }

    /// The encoding with numeric code `code`.
    pub fn from_code(code: u8) -> Option<Encoding> {
        [Encoding::Image, Encoding::Compact]
            .into_iter()
            .find(|e| e.code() == code)
    }
}

/// Length of the compact encoding for `m` job slots: `T * d + (2 + d) * m + 2`.
pub const fn compact_len(m: usize) -> usize {
    HORIZON * NUM_RES + (2 + NUM_RES) * m + 2
}

/// An observation encoder chosen at compile time, so input sizes are checked by the compiler.
pub trait Encoder {
    /// The encoding this type implements.
    const ENCODING: Encoding;

    /// What an observation buffer shows, so that [`Encoder::encode_update`] can rewrite only
    /// what changed (`()` for an encoder that always writes everything). `Default` is
    /// "unknown": the next update writes the whole observation.
    type Memo<const M: usize>: Clone + core::fmt::Debug + Default;

    /// Writes the observation of `cluster` into `out`, shape `[I]` with
    /// `I == Self::ENCODING.input_len(M)` (checked at compile time by the callers' const
    /// assertions; here a shorter buffer is filled only as far as it goes).
    fn encode<const M: usize, const I: usize>(cluster: &Cluster<M>, out: &mut [f32; I]);

    /// As [`Encoder::encode`], for a buffer `out` that still holds the observation `memo`
    /// describes (or any values, with a `Default` memo); updates `memo`. The result is
    /// [`Encoder::encode`]'s, bit for bit. By default it is [`Encoder::encode`].
    fn encode_update<const M: usize, const I: usize>(
        memo: &mut Self::Memo<M>,
        cluster: &Cluster<M>,
        out: &mut [f32; I],
    ) {
        let _ = memo;
        Self::encode(cluster, out);
    }
}

/// What a policy's network reads of the cluster: an observation of `I` values for `M` job slots.
///
/// Every [`Encoder`] is one (its [`Encoding`] fixes the length). Other observations computed
/// from the cluster state, such as the decision tree's operator features
/// ([`crate::tree::Operator`]), implement it directly, so they go through the same generic
/// [`crate::policy::Policy`] as the networks.
pub trait Observe<const M: usize, const I: usize> {
    /// True when `I` is this observation's length for `M` slots; the policy asserts it at
    /// compile time.
    const SHAPE_OK: bool;

    /// True when the observation is the operator features
    /// ([`crate::tree::operator_features`] as `f32`), so a network over them may read single
    /// features from the cluster instead ([`crate::network::Network::decide_direct`]).
    const OPERATOR_FEATURES: bool = false;

    /// What an observation buffer shows, for [`Observe::observe_update`] (`()` when the
    /// observation is always written in full). `Default` is "unknown".
    type Memo: Clone + core::fmt::Debug + Default;

    /// Writes the observation of `cluster` into `out`, shape `[I]`.
    fn observe(cluster: &Cluster<M>, out: &mut [f32; I]);

    /// As [`Observe::observe`], for a buffer `out` that still holds the observation `memo`
    /// describes (or any values, with a `Default` memo), rewriting only what changed where the
    /// observation supports it; updates `memo`. The result is [`Observe::observe`]'s, bit for
    /// bit. By default it is [`Observe::observe`].
    fn observe_update(memo: &mut Self::Memo, cluster: &Cluster<M>, out: &mut [f32; I]) {
        let _ = memo;
        Self::observe(cluster, out);
    }
}

impl<E: Encoder, const M: usize, const I: usize> Observe<M, I> for E {
    const SHAPE_OK: bool = I == E::ENCODING.input_len(M);
    type Memo = E::Memo<M>;

    fn observe(cluster: &Cluster<M>, out: &mut [f32; I]) {
        E::encode(cluster, out);
    }

    fn observe_update(memo: &mut Self::Memo, cluster: &Cluster<M>, out: &mut [f32; I]) {
        E::encode_update(memo, cluster, out);
    }
}

/// DeepRM's image encoder (see [`crate::image`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Image;

/// whitebox's compact encoder (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct Compact;

impl Encoder for Image {
    const ENCODING: Encoding = Encoding::Image;
    type Memo<const M: usize> = ImageMemo<M>;

    fn encode<const M: usize, const I: usize>(cluster: &Cluster<M>, out: &mut [f32; I]) {
        encode_image(cluster, out);
    }

    /// [`update_image`]: only the cells that changed since the state `memo` records.
    fn encode_update<const M: usize, const I: usize>(
        memo: &mut ImageMemo<M>,
        cluster: &Cluster<M>,
        out: &mut [f32; I],
    ) {
        update_image(memo, cluster, out);
    }
}

impl Encoder for Compact {
    const ENCODING: Encoding = Encoding::Compact;
    // 62 or 82 values, most of which change every step: always written in full.
    type Memo<const M: usize> = ();

    fn encode<const M: usize, const I: usize>(cluster: &Cluster<M>, out: &mut [f32; I]) {
        const {
            assert!(
                I == compact_len(M),
                "compact input must be compact_len(M) long"
            )
        };
        // Each part is written through its own fixed-length slice, not value by value through
        // one iterator: the same values, a fraction of the instructions.
        // The const assertion makes both splits succeed.
        let Some((rows, rest)) = out.split_at_mut_checked(HORIZON * NUM_RES) else {
            return;
        };
        for (o, &free) in rows.iter_mut().zip(cluster.avbl().as_flattened()) {
            *o = units_fraction(free);
        }
        let Some((slots, tail)) = rest.split_at_mut_checked((2 + NUM_RES) * M) else {
            return;
        };
        let horizon = HORIZON as f32;
        for (o, slot) in slots.chunks_exact_mut(2 + NUM_RES).zip(cluster.slots()) {
            let Some(job) = slot else {
                o.fill(0.0);
                continue;
            };
            let wait = cluster.first_fit(job).map_or(1.0, |t| t as f32 / horizon);
            let values = core::iter::once(f32::from(job.len) / f32::from(MAX_JOB_LEN))
                .chain(job.res.iter().map(|&r| units_fraction(r)))
                .chain(core::iter::once(wait));
            for (o, v) in o.iter_mut().zip(values) {
                *o = v;
            }
        }
        let backlog = cluster.backlog_len() as f32 / BACKLOG as f32;
        let since = f32::from(cluster.since_last_new()) / f32::from(MAX_TRACK_SINCE_NEW);
        for (o, v) in tail.iter_mut().zip([backlog, since]) {
            *o = v;
        }
    }
}

/// `units / RES_UNITS`, the scaled capacity and demand features: a table of the correctly
/// rounded quotients (the same bits as dividing, without a division per feature).
fn units_fraction(units: u8) -> f32 {
    const TABLE: [f32; RES_UNITS as usize + 1] = {
        let mut table = [0.0; RES_UNITS as usize + 1];
        let mut k = 0;
        while k < table.len() {
            table[k] = k as f32 / RES_UNITS as f32;
            k += 1;
        }
        table
    };
    TABLE
        .get(usize::from(units))
        .copied()
        .unwrap_or_else(|| f32::from(units) / f32::from(RES_UNITS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Action, Job};

    /// The compact encoding written value by value from its definition (module docs), as a
    /// reference for the sliced writes of [`Compact::encode`]: same bits on every state of busy
    /// episodes, with empty and full slots and a backlog.
    #[test]
    fn compact_equals_its_definition_on_busy_episodes() {
        let (mut backlog, mut reserved) = (false, false);
        let visit = |step: usize, c: &Cluster<10>| {
            let mut want = heapless::Vec::<f32, 82>::new();
            for row in c.avbl() {
                for &free in row {
                    want.push(f32::from(free) / f32::from(RES_UNITS)).ok();
                }
            }
            for slot in c.slots() {
                let (len, res, wait) = slot.map_or((0, [0; NUM_RES], 0.0), |j| {
                    let wait = c.first_fit(&j).map_or(1.0, |t| t as f32 / HORIZON as f32);
                    (j.len, j.res, wait)
                });
                want.push(f32::from(len) / f32::from(MAX_JOB_LEN)).ok();
                for r in res {
                    want.push(f32::from(r) / f32::from(RES_UNITS)).ok();
                }
                want.push(wait).ok();
            }
            want.push(c.backlog_len() as f32 / BACKLOG as f32).ok();
            want.push(f32::from(c.since_last_new()) / f32::from(MAX_TRACK_SINCE_NEW))
                .ok();
            let mut x = [f32::NAN; 82];
            Compact::encode(c, &mut x);
            let bits = |v: &[f32]| {
                v.iter()
                    .map(|f| f.to_bits())
                    .collect::<heapless::Vec<u32, 82>>()
            };
            assert_eq!(bits(&x), bits(&want), "step {step}");
            backlog |= c.backlog_len() > 0;
            reserved |= (0..10).any(|k| x.get(43 + 4 * k).is_some_and(|w| *w > 0.0 && *w < 1.0));
        };
        let act = |step: usize, _: &Cluster<10>| {
            Action::from_index(step % 12, 10).unwrap_or(Action::Void)
        };
        crate::cluster::play_busy((crate::workload::Workload::DeepRm, 1.5, 5), 300, visit, act);
        // The states covered a backlog and a job that fits only later in the horizon.
        assert!(backlog && reserved);
    }

    #[test]
    fn compact_features_by_hand() {
        assert_eq!(compact_len(5), 62);
        assert_eq!(compact_len(10), 82);
        let mut c: Cluster<5> = Cluster::new();
        let job = |id, len, res: [u32; 2]| {
            Job::new(id, 0, len, res).unwrap_or_else(|e| unreachable!("{e}"))
        };
        c.submit(job(0, 3, [4, 2])).ok();
        c.submit(job(1, 10, [5, 1])).ok();
        c.submit(job(2, 2, [7, 1])).ok();
        c.step(Action::Schedule(0));
        let mut x = [9.0f32; 62];
        Compact::encode(&c, &mut x);
        // Rows 0..3 have 6 and 8 of 10 units free, the rest full.
        assert_eq!(&x[0..2], &[0.6, 0.8]);
        assert_eq!(&x[4..6], &[0.6, 0.8]);
        assert_eq!(&x[6..8], &[1.0, 1.0]);
        // Slot 0 was refilled by nothing; slot 1 holds the len-10 job: 10/20, 5/10, 1/10, and
        // it fits now (6 units free); slot 2's job needs 7 units, free from step 3: wait 3/20.
        assert_eq!(&x[40..44], &[0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&x[44..48], &[0.5, 0.5, 0.1, 0.0]);
        assert_eq!(&x[48..52], &[0.1, 0.7, 0.1, 0.15]);
        // Empty backlog; a job arrived this step.
        assert_eq!(&x[60..62], &[0.0, 0.0]);
    }
}
