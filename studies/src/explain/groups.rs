//! Semantic feature groups of each observation encoding, for grouped attributions.

use whitebox_core::encoding::Encoding;
use whitebox_core::image::{
    backlog_column, cluster_column, image_width, since_new_column, slot_column, BACKLOG_WIDTH,
};
use whitebox_core::spec::{HORIZON, MAX_JOB_SIZE, NUM_RES, RES_UNITS};

/// What part of the state a group describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Cluster occupancy (free capacity) of one resource over the horizon.
    Occupancy,
    /// One job slot's length, demands (and, compact only, wait until first fit).
    JobSlot,
    /// Backlog length.
    Backlog,
    /// Time since the last job arrived.
    SinceLastJob,
}

/// A named set of input indices.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Group {
    /// Label, e.g. `occupancy res0` or `slot 3`.
    pub name: String,
    /// What it describes.
    pub category: Category,
    /// Resource index for occupancy groups.
    pub resource: Option<usize>,
    /// Input indices.
    #[serde(skip)]
    pub inputs: Vec<usize>,
}

fn group(name: String, category: Category, resource: Option<usize>, inputs: Vec<usize>) -> Group {
    Group {
        name,
        category,
        resource,
        inputs,
    }
}

/// The groups of `encoding` with `m` job slots: occupancy per resource, each slot, backlog,
/// time since the last job. Together they cover every input exactly once.
pub fn groups(encoding: Encoding, m: usize) -> Vec<Group> {
    let mut out = Vec::new();
    match encoding {
        Encoding::Compact => {
            let slots = HORIZON * NUM_RES;
            for r in 0..NUM_RES {
                let idx = (0..HORIZON).map(|t| t * NUM_RES + r).collect();
                out.push(group(
                    format!("occupancy res{r}"),
                    Category::Occupancy,
                    Some(r),
                    idx,
                ));
            }
            let per = 2 + NUM_RES;
            for j in 0..m {
                let idx = (slots + per * j..slots + per * (j + 1)).collect();
                out.push(group(format!("slot {j}"), Category::JobSlot, None, idx));
            }
            out.push(group(
                "backlog".into(),
                Category::Backlog,
                None,
                vec![slots + per * m],
            ));
            out.push(group(
                "since last job".into(),
                Category::SinceLastJob,
                None,
                vec![slots + per * m + 1],
            ));
        }
        Encoding::Image => {
            let w = image_width(m);
            let cells = |cols: std::ops::Range<usize>| -> Vec<usize> {
                (0..HORIZON)
                    .flat_map(|t| cols.clone().map(move |c| t * w + c))
                    .collect()
            };
            for r in 0..NUM_RES {
                let c = cluster_column(m, r);
                let idx = cells(c..c + usize::from(RES_UNITS));
                out.push(group(
                    format!("occupancy res{r}"),
                    Category::Occupancy,
                    Some(r),
                    idx,
                ));
            }
            for j in 0..m {
                let idx = (0..NUM_RES)
                    .flat_map(|r| {
                        let c = slot_column(m, r, j);
                        cells(c..c + MAX_JOB_SIZE)
                    })
                    .collect();
                out.push(group(format!("slot {j}"), Category::JobSlot, None, idx));
            }
            let b = backlog_column(m);
            out.push(group(
                "backlog".into(),
                Category::Backlog,
                None,
                cells(b..b + BACKLOG_WIDTH),
            ));
            let s = since_new_column(m);
            out.push(group(
                "since last job".into(),
                Category::SinceLastJob,
                None,
                cells(s..s + 1),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_partition_the_inputs() {
        for encoding in [Encoding::Compact, Encoding::Image] {
            for m in [5, 10] {
                let mut seen = vec![0u32; encoding.input_len(m)];
                for g in groups(encoding, m) {
                    for i in g.inputs {
                        seen[i] += 1;
                    }
                }
                assert!(seen.iter().all(|&c| c == 1), "{encoding:?} {m}");
            }
        }
    }
}
