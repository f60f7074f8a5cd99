//! Jobs and their validation.

use crate::spec::{MAX_JOB_LEN, NUM_RES, RES_UNITS};

/// A job as submitted to the cluster.
///
/// Source: DeepRM's `Job` (Mao et al. 2016, section 2): a duration in time steps and a demand
/// vector in resource units that stays constant while the job runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// Identifier chosen by the submitter (the index in a job file). Echoed in every event.
    pub id: u32,
    /// Time step at which the job enters the system.
    pub arrival: u32,
    /// Duration, in time steps: `1..=MAX_JOB_LEN`.
    pub len: u8,
    /// Resource demand per resource type, in units: each `0..=RES_UNITS`.
    pub res: [u8; NUM_RES],
}

/// Why a job is not a valid job for this cluster. Each variant names the field, the value found
/// and the limit it broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobError {
    /// `len` is 0: a job must run for at least one time step.
    ZeroLen,
    /// `len` is longer than the time horizon.
    LenTooLong {
        /// The duration found, in time steps.
        len: u32,
        /// The longest allowed, in time steps (`T`).
        max: u8,
    },
    /// A resource demand is larger than the cluster's capacity of that resource.
    DemandTooLarge {
        /// Index of the resource.
        resource: usize,
        /// The demand found, in units.
        demand: u32,
        /// The capacity, in units.
        max: u8,
    },
}

impl core::fmt::Display for JobError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            JobError::ZeroLen => write!(f, "field `len` = 0, must be at least 1 time step"),
            JobError::LenTooLong { len, max } => {
                write!(
                    f,
                    "field `len` = {len}, exceeds the time horizon of {max} steps"
                )
            }
            JobError::DemandTooLarge {
                resource,
                demand,
                max,
            } => write!(
                f,
                "field `res[{resource}]` = {demand}, exceeds the capacity of {max} units"
            ),
        }
    }
}

impl core::error::Error for JobError {}

impl Job {
    /// Builds a job from untrusted numbers, checking every field.
    ///
    /// # Errors
    /// [`JobError::ZeroLen`] when `len == 0`, [`JobError::LenTooLong`] when `len > T`,
    /// [`JobError::DemandTooLarge`] when a demand exceeds [`RES_UNITS`].
    pub fn new(id: u32, arrival: u32, len: u32, res: [u32; NUM_RES]) -> Result<Job, JobError> {
        if len == 0 {
            return Err(JobError::ZeroLen);
        }
        if len > u32::from(MAX_JOB_LEN) {
            return Err(JobError::LenTooLong {
                len,
                max: MAX_JOB_LEN,
            });
        }
        let mut demand = [0u8; NUM_RES];
        for (resource, (d, &r)) in demand.iter_mut().zip(res.iter()).enumerate() {
            if r > u32::from(RES_UNITS) {
                return Err(JobError::DemandTooLarge {
                    resource,
                    demand: r,
                    max: RES_UNITS,
                });
            }
            *d = r as u8;
        }
        Ok(Job {
            id,
            arrival,
            len: len as u8,
            res: demand,
        })
    }

    /// Checks a job built field by field (for example one read from a model-independent source).
    ///
    /// # Errors
    /// As [`Job::new`].
    pub fn validate(&self) -> Result<(), JobError> {
        Job::new(
            self.id,
            self.arrival,
            u32::from(self.len),
            self.res.map(u32::from),
        )
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_each_bad_field() {
        assert_eq!(Job::new(0, 0, 0, [1, 1]), Err(JobError::ZeroLen));
        assert_eq!(
            Job::new(0, 0, 21, [1, 1]),
            Err(JobError::LenTooLong { len: 21, max: 20 })
        );
        assert_eq!(
            Job::new(0, 0, 3, [1, 11]),
            Err(JobError::DemandTooLarge {
                resource: 1,
                demand: 11,
                max: 10
            })
        );
        assert!(Job::new(0, 0, 20, [10, 0]).is_ok());
    }
}
