//! The cluster dimensions shared by the simulator, the encoders and the model files.
//!
//! These are DeepRM's defaults (`parameters.py`, Mao et al., HotNets 2016): `d = 2` resources of
//! `r = 10` units each, a time horizon of `T = 20` steps and a backlog of 60 jobs. The number of
//! visible job slots `M` is a const generic on [`crate::Cluster`] instead, because DeepRM's own
//! scripts use both 5 and 10.

/// Number of resource types `d` (DeepRM `num_res`).
pub const NUM_RES: usize = 2;
/// Capacity of each resource, in units (DeepRM `res_slot`).
pub const RES_UNITS: u8 = 10;
/// Time horizon `T`, in time steps: the rows of the cluster image and the look-ahead window in
/// which a job may be reserved (DeepRM `time_horizon`).
pub const HORIZON: usize = 20;
/// Longest job the simulator accepts, in time steps. Whitebox lets a job use the whole horizon
/// (start offsets `0..=T-len`, see `docs/deeprm-differences.md`), so this is `T`.
pub const MAX_JOB_LEN: u8 = HORIZON as u8;
/// Backlog capacity, in jobs (DeepRM `backlog_size`).
pub const BACKLOG: usize = 60;
/// Cap on the "time since the last new job" counter, in time steps (DeepRM `max_track_since_new`).
pub const MAX_TRACK_SINCE_NEW: u8 = 10;
/// Width of a job-slot block in the image observation, in units (DeepRM `max_job_size`).
pub const MAX_JOB_SIZE: usize = 10;

/// `lcm(1, ..., MAX_JOB_LEN)`: every `1 / len` is an integer multiple of `1 / INV_LEN_SCALE`,
/// so rewards and slowdowns are summed exactly in integers and converted to `f64` once.
pub const INV_LEN_SCALE: u64 = lcm_up_to(MAX_JOB_LEN as u64);

const fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

const fn lcm_up_to(n: u64) -> u64 {
    let mut acc = 1;
    let mut k = 2;
    while k <= n {
        acc = acc / gcd(acc, k) * k;
        k += 1;
    }
    acc
}

/// The cluster a model or an experiment was set up for. Stored in model files so a model trained
/// for one cluster is refused on another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClusterSpec {
    /// Resource types `d`.
    pub num_res: u8,
    /// Units per resource `r`.
    pub res_units: u8,
    /// Time horizon `T`, in steps.
    pub horizon: u8,
    /// Visible job slots `M`.
    pub slots: u8,
    /// Backlog capacity, in jobs.
    pub backlog: u8,
}

impl ClusterSpec {
    /// The spec of this build's cluster with `slots` visible job slots.
    pub const fn with_slots(slots: u8) -> Self {
        ClusterSpec {
            num_res: NUM_RES as u8,
            res_units: RES_UNITS,
            horizon: HORIZON as u8,
            slots,
            backlog: BACKLOG as u8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inv_len_scale_is_lcm_1_to_20() {
        // lcm(1..=20) = 2^4 * 3^2 * 5 * 7 * 11 * 13 * 17 * 19, by hand.
        assert_eq!(INV_LEN_SCALE, 16 * 9 * 5 * 7 * 11 * 13 * 17 * 19);
        assert_eq!(INV_LEN_SCALE, 232_792_560);
    }
}
