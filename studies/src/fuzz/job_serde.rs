//! Job lists as `{arrival, len, res}` objects (the job-file format).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use whitebox_core::spec::NUM_RES;
use whitebox_core::Job;

#[derive(Serialize, Deserialize)]
struct J {
    arrival: u32,
    len: u8,
    res: [u8; NUM_RES],
}

/// Serializes jobs without their ids.
///
/// # Errors
/// As the serializer.
pub fn serialize<S: Serializer>(jobs: &[Job], s: S) -> Result<S::Ok, S::Error> {
    let v: Vec<J> = jobs
        .iter()
        .map(|j| J {
            arrival: j.arrival,
            len: j.len,
            res: j.res,
        })
        .collect();
    v.serialize(s)
}

/// Reads jobs, numbering them by position.
///
/// # Errors
/// As the deserializer.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Job>, D::Error> {
    let v = Vec::<J>::deserialize(d)?;
    Ok(v.into_iter()
        .enumerate()
        .map(|(i, j)| Job {
            id: i as u32,
            arrival: j.arrival,
            len: j.len,
            res: j.res,
        })
        .collect())
}
