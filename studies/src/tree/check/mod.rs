//! `whitebox tree check`: every leaf of a tree is a box over the operator features, so
//! properties of the tree's own logic are decided leaf by leaf, exactly over the feature
//! domain (`docs/tree.md`, "Exhaustive checks").
//!
//! For each leaf and property the check looks for a feature assignment in the leaf's box that
//! satisfies the consistency of [`formulas::consistency`] and at which the leaf's action breaks
//! the property ([`logic::find`], a complete search):
//! * **violated**, with that assignment as witness, when one breaks it for sure;
//! * **holds** when none can break it: a proof over the box (every cluster state whose
//!   features reach the leaf satisfies the consistency);
//! * **unknown** when the answer depends on what the features do not say (the horizon rows
//!   between `free_now` and `free_min`, for rules with a cap below 1), with the assignment
//!   where it does, or when the search budget ran out.
//!
//! The verdicts are about the leaf's action as the tree states it (an `sjf` leaf: SJF's
//! choice), before the policy's liveness mask and any rule projection: the mask forbids void
//! on a cluster with nothing in flight while a job fits now, so the policy as run can be safer
//! than its tree. Waits are taken below the feature's cap of 65,535 steps.

pub mod formulas;
pub mod logic;

use serde::Serialize;
use whitebox_core::rules::Rule;
use whitebox_core::tree::text::ActionText;
use whitebox_core::tree::{Feature, Node};
use whitebox_runtime::models::tree::{AnyTree, LoadedTree};

use formulas::{cases, consistency, domain, violation, Property};
use logic::{and, find, Formula, Found, Range};

/// Boxes searched per conjunction of a query before the answer is `unknown`.
pub const BUDGET: usize = 200_000;

/// One verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The property ([`Property::name`]).
    pub property: String,
    /// `holds`, `violated` or `unknown`.
    pub verdict: &'static str,
    /// For `violated`: features where the leaf breaks the property; for `unknown`: where it
    /// may. Slots that are empty there are left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness: Option<String>,
    /// For `unknown`: why the features cannot decide it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// The verdicts of one leaf.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeafCheck {
    /// Node index of the leaf.
    pub node: usize,
    /// The path to it, as the core writes a decision's path:
    /// `slot2.fit <= 0 and res0.free_now > 9 -> void`.
    pub path: String,
    /// The leaf's action.
    pub action: String,
    /// False when no consistent features reach the leaf (every property then holds).
    pub reachable: bool,
    /// One verdict per property, in the order of [`TreeCheck::properties`].
    pub verdicts: Vec<Verdict>,
}

/// Counts of one property's verdicts over the leaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// The property.
    pub property: String,
    /// Leaves where it holds.
    pub holds: usize,
    /// Leaves where it is violated.
    pub violated: usize,
    /// Leaves left unknown.
    pub unknown: usize,
}

/// `whitebox tree check`'s report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TreeCheck {
    /// Job slots.
    pub slots: usize,
    /// The properties, in order.
    pub properties: Vec<String>,
    /// Per property, its verdicts over the leaves.
    pub tally: Vec<Tally>,
    /// Per leaf, in node order.
    pub leaves: Vec<LeafCheck>,
}

/// The properties checked: `no-idle`, `whitebox verify`'s properties that are about one
/// decision, and each rule.
pub fn properties(rules: &[Rule]) -> Vec<Property> {
    let mut p = vec![
        Property::NoIdle,
        Property::StartsWithin1,
        Property::ShorterFirstPair,
    ];
    p.extend(rules.iter().map(|&r| Property::Rule(r)));
    p
}

/// Each leaf's node, action and path `(feature, threshold, went_left)` from the root.
type LeafPath = (usize, usize, Vec<(usize, i32, bool)>);

fn leaf_paths(nodes: &[Node]) -> Vec<LeafPath> {
    let mut out = Vec::new();
    let mut stack = vec![(0usize, Vec::new())];
    while let Some((k, path)) = stack.pop() {
        match nodes.get(k) {
            Some(Node::Leaf { action }) => out.push((k, usize::from(*action), path)),
            Some(Node::Split {
                feature,
                threshold,
                left,
                right,
            }) => {
                let step = |left| {
                    let mut p = path.clone();
                    p.push((usize::from(*feature), *threshold, left));
                    p
                };
                stack.push((usize::from(*right), step(false)));
                stack.push((usize::from(*left), step(true)));
            }
            None => {}
        }
    }
    out.sort_by_key(|l| l.0);
    out
}

/// The path as [`whitebox_core::tree::text::PathText`] writes it.
fn path_text(m: usize, action: usize, path: &[(usize, i32, bool)]) -> String {
    let tests: Vec<String> = path
        .iter()
        .map(|&(f, t, left)| {
            let name = Feature::from_index(f, m).map_or(format!("x{f}"), |f| f.to_string());
            format!("{name} {} {t}", if left { "<=" } else { ">" })
        })
        .collect();
    let action = ActionText { action, slots: m };
    if tests.is_empty() {
        format!("-> {action}")
    } else {
        format!("{} -> {action}", tests.join(" and "))
    }
}

/// The box of features a path leads to.
fn leaf_box(m: usize, path: &[(usize, i32, bool)]) -> Vec<Range> {
    let mut b = domain(m);
    for &(f, t, left) in path {
        if let Some(r) = b.get_mut(f) {
            if left {
                r.hi = r.hi.min(i64::from(t));
            } else {
                r.lo = r.lo.max(i64::from(t) + 1);
            }
        }
    }
    b
}

/// A point as `name=value` text, leaving out the features of empty slots.
pub fn witness_text(m: usize, x: &[i64]) -> String {
    let empty = |slot: u8| {
        let len = formulas::slot(
            m,
            usize::from(slot),
            whitebox_core::tree::features::SlotFeature::Len,
        );
        x.get(len).is_some_and(|&v| v == 0)
    };
    x.iter()
        .enumerate()
        .filter_map(|(i, &v)| {
            let f = Feature::from_index(i, m)?;
            match f {
                Feature::Slot { slot, .. } if empty(slot) => None,
                _ => Some(format!("{f}={v}")),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first point of `b` where one of `parts` holds, searching each in turn with what is left
/// of the budget.
fn find_any(parts: &[Formula], b: &[Range]) -> Found {
    let mut out_of_budget = false;
    for f in parts {
        match find(f, b, BUDGET) {
            Found::Point(x) => return Found::Point(x),
            Found::Budget => out_of_budget = true,
            Found::None => {}
        }
    }
    if out_of_budget {
        Found::Budget
    } else {
        Found::None
    }
}

fn verdict(m: usize, p: Property, action: usize, b: &[Range]) -> Verdict {
    let cons = consistency(m);
    // One conjunction per case of the action and alternative of the violation, so that the
    // search propagates each alternative's bounds instead of splitting between them.
    let breaks = |certain| {
        let mut parts = Vec::new();
        for (when, effect) in cases(m, action) {
            let alternatives = match violation(m, p, effect, certain) {
                Formula::Or(fs) => fs,
                f => vec![f],
            };
            for f in alternatives {
                parts.push(and(vec![when.clone(), f, cons.clone()]));
            }
        }
        parts
    };
    let v = |verdict, witness: Option<&[i64]>, why: Option<String>| Verdict {
        property: p.name(),
        verdict,
        witness: witness.map(|x| witness_text(m, x)),
        why,
    };
    let budget = || Some(format!("the search budget of {BUDGET} boxes ran out"));
    match find_any(&breaks(true), b) {
        Found::Point(x) => return v("violated", Some(&x), None),
        Found::Budget => return v("unknown", None, budget()),
        Found::None if p.exact() => return v("holds", None, None),
        Found::None => {}
    }
    match find_any(&breaks(false), b) {
        Found::None => v("holds", None, None),
        Found::Budget => v("unknown", None, budget()),
        Found::Point(x) => v(
            "unknown",
            Some(&x),
            Some(
                "the verdict depends on horizon rows the features give only as free_now, \
                 free_min and free_sum"
                    .into(),
            ),
        ),
    }
}

/// Checks every leaf of a tree for `m` slots given by its nodes (root first).
pub fn check_nodes(m: usize, nodes: &[Node], rules: &[Rule]) -> TreeCheck {
    let props = properties(rules);
    let cons = consistency(m);
    let leaves: Vec<LeafCheck> = leaf_paths(nodes)
        .into_iter()
        .map(|(node, action, path)| {
            let b = leaf_box(m, &path);
            let reachable = matches!(find(&cons, &b, BUDGET), Found::Point(_) | Found::Budget);
            LeafCheck {
                node,
                path: path_text(m, action, &path),
                action: ActionText { action, slots: m }.to_string(),
                reachable,
                verdicts: props.iter().map(|&p| verdict(m, p, action, &b)).collect(),
            }
        })
        .collect();
    let tally = props
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let count = |what| {
                leaves
                    .iter()
                    .filter(|l| l.verdicts.get(i).is_some_and(|v| v.verdict == what))
                    .count()
            };
            Tally {
                property: p.name(),
                holds: count("holds"),
                violated: count("violated"),
                unknown: count("unknown"),
            }
        })
        .collect();
    TreeCheck {
        slots: m,
        properties: props.iter().map(Property::name).collect(),
        tally,
        leaves,
    }
}

/// Checks every leaf of a loaded tree.
pub fn check(tree: &LoadedTree, rules: &[Rule]) -> TreeCheck {
    match &tree.tree {
        AnyTree::Five(t) => check_nodes(5, t.nodes(), rules),
        AnyTree::Ten(t) => check_nodes(10, t.nodes(), rules),
    }
}

/// The report as text: a tally line per property, then each leaf's path and its verdicts that
/// are not `holds`.
pub fn render(c: &TreeCheck) -> String {
    let mut s = String::new();
    for t in &c.tally {
        s += &format!(
            "{}: holds in {}, violated in {}, unknown in {} of {} leaves\n",
            t.property,
            t.holds,
            t.violated,
            t.unknown,
            c.leaves.len()
        );
    }
    for l in &c.leaves {
        s += &format!("\nleaf {}: {}\n", l.node, l.path);
        if !l.reachable {
            s += "  no consistent features reach it\n";
        }
        for v in l.verdicts.iter().filter(|v| v.verdict != "holds") {
            s += &format!("  {}: {}", v.property, v.verdict);
            if let Some(w) = &v.witness {
                s += &format!(" at {w}");
            }
            if let Some(why) = &v.why {
                s += &format!(" ({why})");
            }
            s += "\n";
        }
    }
    s
}

#[cfg(test)]
mod tests;
