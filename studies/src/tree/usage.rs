//! Which features a tree's decisions rest on: for each group of operator features, the share of
//! states whose path from the root tests it. The groups are those of `whitebox explain`'s
//! Shapley table (each job slot, the free capacity of each resource, the backlog, the time since
//! the last job), so the tree's reading can be set beside the network's attributions
//! (`docs/results.md`, "Reading the shipped tree").

use serde::Serialize;
use whitebox_core::tree::features::Feature;
use whitebox_core::tree::Tree;

/// One group of features and how often it decides.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupUse {
    /// `slot K`, `occupancy resR` (free units now, summed over the horizon, or fewest in a
    /// row), `backlog` or `since last job`.
    pub group: String,
    /// Share of the states whose path tests at least one feature of the group, in `[0, 1]`.
    pub tested: f64,
}

/// The Shapley group of `f`.
fn group(f: Feature) -> String {
    match f {
        Feature::Slot { slot, .. } => format!("slot {slot}"),
        Feature::Resource { res, .. } => format!("occupancy res{res}"),
        Feature::Backlog => "backlog".into(),
        Feature::SinceLastNew => "since last job".into(),
    }
}

/// For every group some split of `tree` tests, the share of the `states` (operator feature
/// vectors, `feature_count(M)` each) whose path tests it; groups in first-tested order of the
/// tree's nodes, most tested first. Empty when there are no states.
pub fn group_use<'a, const M: usize>(
    tree: &Tree<M>,
    states: impl IntoIterator<Item = &'a [f32]>,
) -> Vec<GroupUse> {
    let mut counts: Vec<(String, u64)> = Vec::new();
    let mut n = 0u64;
    for x in states {
        n += 1;
        let mut seen: Vec<String> = Vec::new();
        tree.walk(x, |_, f, _, _| {
            let g = group(f);
            if !seen.contains(&g) {
                seen.push(g);
            }
        });
        for g in seen {
            match counts.iter_mut().find(|(name, _)| *name == g) {
                Some((_, c)) => *c += 1,
                None => counts.push((g, 1)),
            }
        }
    }
    if n == 0 {
        return Vec::new();
    }
    // Stable: equal counts keep first-seen order.
    counts.sort_by_key(|g| std::cmp::Reverse(g.1));
    counts
        .into_iter()
        .map(|(group, c)| GroupUse {
            group,
            tested: c as f64 / n as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use whitebox_core::tree::features::{ResFeature, SlotFeature};
    use whitebox_core::tree::{feature_count, Node};

    const I: usize = feature_count(5);

    fn index(f: Feature) -> u16 {
        u16::try_from(f.index(5)).unwrap_or(u16::MAX)
    }

    #[test]
    fn shares_count_each_state_once_per_group() {
        let slot0 = |kind| Feature::Slot { slot: 0, kind };
        let free0 = Feature::Resource {
            res: 0,
            kind: ResFeature::FreeNow,
        };
        // slot0.fit <= 0 ? start slot 0 : (res0.free_now <= 4 ? void : (slot0.len <= 2 ?
        // start slot 0 : void)).
        let split = |f, threshold, left, right| Node::Split {
            feature: index(f),
            threshold,
            left,
            right,
        };
        let nodes = [
            split(slot0(SlotFeature::Fit), 0, 1, 2),
            Node::Leaf { action: 0 },
            split(free0, 4, 3, 4),
            Node::Leaf { action: 5 },
            split(slot0(SlotFeature::Len), 2, 5, 6),
            Node::Leaf { action: 0 },
            Node::Leaf { action: 5 },
        ];
        let tree = Tree::<5>::from_nodes(&nodes).unwrap_or_else(|e| panic!("{e}"));
        let state = |fit: f32, free: f32| {
            let mut x = [0.0f32; I];
            x[slot0(SlotFeature::Fit).index(5)] = fit;
            x[free0.index(5)] = free;
            x
        };
        // Paths: root leaf (slot 0 only); free <= 4 (slot 0, res0); free > 4 (slot 0 twice,
        // res0). By hand: slot 0 on 4 of 4 states, res0 on 3 of 4.
        let states = [
            state(0.0, 9.0),
            state(3.0, 2.0),
            state(3.0, 9.0),
            state(1.0, 5.0),
        ];
        let u = group_use(&tree, states.iter().map(|x| &x[..]));
        let want = |group: &str, tested| GroupUse {
            group: group.into(),
            tested,
        };
        assert_eq!(u, vec![want("slot 0", 1.0), want("occupancy res0", 0.75)]);
        assert!(group_use(&tree, std::iter::empty::<&[f32]>()).is_empty());
    }
}
