//! Weighted CART (Breiman, Friedman, Olshen and Stone, "Classification and Regression Trees",
//! 1984) over integer features, grown best first to a leaf budget.
//!
//! Each split is the one of largest weighted Gini decrease `G(parent) - G(left) - G(right)`
//! with `G(S) = W(S) (1 - sum_k p_k^2)` (`W` the summed sample weights, `p_k` class shares);
//! the leaf to split next is the one whose best split decreases the total most, so the tree
//! grown to `n` leaves is the greedy one of `n` leaves (as a leaf budget in CART
//! implementations works), not a deeper tree cut back.
//!
//! Thresholds are feature values present in the data: `x <= t` with `t` the largest value on
//! the left, so a split means the same for every integer, seen or not. Sums run in f64 in the
//! samples' order and ties go to the lowest feature, the lowest threshold and the earliest
//! leaf, so the same samples give the same tree on every run and thread count.

use whitebox_core::tree::{Node, MAX_DEPTH, MAX_NODES};

/// Training samples: `n` rows of `features` integer features, a class and a weight each.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    /// Features per sample.
    pub features: usize,
    /// Row-major features, shape `[n][features]`.
    pub x: Vec<i32>,
    /// Class of each sample (an action index), shape `[n]`.
    pub y: Vec<u16>,
    /// Weight of each sample (`>= 0`), shape `[n]`.
    pub w: Vec<f64>,
}

impl Samples {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Adds one sample.
    pub fn push(&mut self, x: &[i32], y: u16, w: f64) {
        self.x.extend_from_slice(x);
        self.y.push(y);
        self.w.push(w);
    }

    /// Feature `f` of sample `i`.
    fn at(&self, i: usize, f: usize) -> i32 {
        self.x.get(i * self.features + f).copied().unwrap_or(0)
    }
}

/// How far to grow.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Most leaves (at most `(MAX_NODES + 1) / 2` = 128).
    pub leaves: usize,
    /// Number of classes; classes are `0..classes`.
    pub classes: usize,
    /// Fewest samples in a leaf.
    pub min_leaf: usize,
}

/// Where a split cuts: feature `f`, left when the value's rank is at most `rank`.
#[derive(Clone, Copy, Debug)]
struct Cut {
    feature: usize,
    rank: usize,
    gain: f64,
}

/// A leaf that may still be split.
struct Open {
    node: usize,
    depth: usize,
    samples: Vec<u32>,
    cut: Option<Cut>,
}

/// Per feature, the sorted distinct values and each sample's rank among them.
struct Ranks {
    values: Vec<Vec<i32>>,
    /// Column-major, shape `[features][n]`.
    rank: Vec<u32>,
    n: usize,
}

impl Ranks {
    fn new(data: &Samples) -> Ranks {
        let n = data.len();
        let mut values = Vec::with_capacity(data.features);
        let mut rank = vec![0u32; data.features * n];
        for f in 0..data.features {
            let mut v: Vec<i32> = (0..n).map(|i| data.at(i, f)).collect();
            v.sort_unstable();
            v.dedup();
            for i in 0..n {
                let r = v.partition_point(|&u| u < data.at(i, f));
                rank[f * n + i] = u32::try_from(r).unwrap_or(u32::MAX);
            }
            values.push(v);
        }
        Ranks { values, rank, n }
    }

    fn of(&self, f: usize, i: u32) -> usize {
        self.rank.get(f * self.n + i as usize).copied().unwrap_or(0) as usize
    }
}

/// `W (1 - sum p_k^2) = W - sum w_k^2 / W`, 0 for no weight.
fn gini(classes: &[f64]) -> f64 {
    let w: f64 = classes.iter().sum();
    if w <= 0.0 {
        return 0.0;
    }
    w - classes.iter().map(|c| c * c).sum::<f64>() / w
}

/// Summed weight per class over `samples`.
fn class_weights(data: &Samples, samples: &[u32], classes: usize) -> Vec<f64> {
    let mut t = vec![0.0; classes];
    for &i in samples {
        let i = i as usize;
        if let (Some(&y), Some(&w)) = (data.y.get(i), data.w.get(i)) {
            if let Some(c) = t.get_mut(usize::from(y)) {
                *c += w;
            }
        }
    }
    t
}

/// The class of largest weight, lowest on ties.
fn majority(weights: &[f64]) -> u16 {
    let mut best = 0;
    for (k, &w) in weights.iter().enumerate() {
        if w > weights.get(best).copied().unwrap_or(0.0) {
            best = k;
        }
    }
    u16::try_from(best).unwrap_or(0)
}

/// The best cut of `samples`, if any decreases the impurity.
fn best_cut(data: &Samples, ranks: &Ranks, samples: &[u32], s: &Settings) -> Option<Cut> {
    let k = s.classes;
    let parent = class_weights(data, samples, k);
    let total: f64 = parent.iter().sum();
    let g_parent = gini(&parent);
    let mut best: Option<Cut> = None;
    for (f, values) in ranks.values.iter().enumerate() {
        let bins = values.len();
        if bins < 2 {
            continue;
        }
        let mut hist = vec![0.0f64; bins * k];
        let mut count = vec![0usize; bins];
        for &i in samples {
            let r = ranks.of(f, i);
            let iu = i as usize;
            let (y, w) = (data.y.get(iu).copied(), data.w.get(iu).copied());
            if let (Some(y), Some(w)) = (y, w) {
                if let Some(h) = hist.get_mut(r * k + usize::from(y)) {
                    *h += w;
                }
            }
            if let Some(c) = count.get_mut(r) {
                *c += 1;
            }
        }
        let mut left = vec![0.0f64; k];
        let mut n_left = 0;
        for r in 0..bins - 1 {
            let n_bin = count.get(r).copied().unwrap_or(0);
            if n_bin == 0 {
                continue;
            }
            n_left += n_bin;
            for (c, l) in left.iter_mut().enumerate() {
                *l += hist.get(r * k + c).copied().unwrap_or(0.0);
            }
            let n_right = samples.len() - n_left;
            if n_right == 0 {
                break;
            }
            if n_left < s.min_leaf || n_right < s.min_leaf {
                continue;
            }
            let right: Vec<f64> = parent.iter().zip(&left).map(|(p, l)| p - l).collect();
            let gain = g_parent - gini(&left) - gini(&right);
            if gain > 1e-12 * total && best.is_none_or(|b| gain > b.gain) {
                best = Some(Cut {
                    feature: f,
                    rank: r,
                    gain,
                });
            }
        }
    }
    best
}

/// Grows a tree on `data` (see the module docs). The nodes are in [`whitebox_core::tree::Tree`]
/// order: root first, children after their parent.
pub fn fit(data: &Samples, s: &Settings) -> Vec<Node> {
    let ranks = Ranks::new(data);
    let all: Vec<u32> = (0..data.len())
        .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
        .collect();
    let leaf = |samples: &[u32]| Node::Leaf {
        action: majority(&class_weights(data, samples, s.classes)),
    };
    let mut nodes = vec![leaf(&all)];
    let cut = best_cut(data, &ranks, &all, s);
    let mut open = vec![Open {
        node: 0,
        depth: 0,
        samples: all,
        cut,
    }];
    let budget = s.leaves.clamp(1, MAX_NODES.div_ceil(2));
    // Grow until the tree, with splits that decide nothing removed ([`collapse`]), has `budget`
    // leaves; splitting a leaf never lowers that count, but may raise it by two (when it
    // separates a leaf from a sibling of the same action), so such a last split is undone.
    let mut before = nodes.clone();
    while nodes.len() + 2 <= MAX_NODES && leaf_count(&collapse(&nodes)) < budget {
        before.clone_from(&nodes);
        // The open leaf whose cut gains most, the earliest on ties.
        let mut pick: Option<(usize, f64)> = None;
        for (j, o) in open.iter().enumerate() {
            if let Some(c) = o.cut {
                if pick.is_none_or(|(_, g)| c.gain > g) {
                    pick = Some((j, c.gain));
                }
            }
        }
        let Some((j, _)) = pick else { break };
        let o = open.remove(j);
        let Some(cut) = o.cut else { break };
        let (mut l, mut r) = (Vec::new(), Vec::new());
        for &i in &o.samples {
            if ranks.of(cut.feature, i) <= cut.rank {
                l.push(i);
            } else {
                r.push(i);
            }
        }
        let threshold = ranks
            .values
            .get(cut.feature)
            .and_then(|v| v.get(cut.rank))
            .copied()
            .unwrap_or(0);
        let (li, ri) = (nodes.len(), nodes.len() + 1);
        nodes.push(leaf(&l));
        nodes.push(leaf(&r));
        if let Some(n) = nodes.get_mut(o.node) {
            *n = Node::Split {
                feature: u16::try_from(cut.feature).unwrap_or(u16::MAX),
                threshold,
                left: u8::try_from(li).unwrap_or(u8::MAX),
                right: u8::try_from(ri).unwrap_or(u8::MAX),
            };
        }
        let depth = o.depth + 1;
        for (node, samples) in [(li, l), (ri, r)] {
            let cut = if depth < MAX_DEPTH {
                best_cut(data, &ranks, &samples, s)
            } else {
                None
            };
            open.push(Open {
                node,
                depth,
                samples,
                cut,
            });
        }
    }
    if leaf_count(&collapse(&nodes)) > budget {
        nodes = before;
    }
    collapse(&nodes)
}

fn leaf_count(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .filter(|n| matches!(n, Node::Leaf { .. }))
        .count()
}

/// A subtree with its splits resolved.
enum Sub {
    Leaf(u16),
    Split(u16, i32, Box<Sub>, Box<Sub>),
}

/// The subtree at node `k`, with every split whose two sides are the same leaf replaced by it.
fn simplify(nodes: &[Node], k: usize, depth: usize) -> Sub {
    match nodes.get(k) {
        Some(&Node::Split {
            feature,
            threshold,
            left,
            right,
        }) if depth <= MAX_NODES => {
            let l = simplify(nodes, usize::from(left), depth + 1);
            let r = simplify(nodes, usize::from(right), depth + 1);
            match (&l, &r) {
                (Sub::Leaf(a), Sub::Leaf(b)) if a == b => Sub::Leaf(*a),
                _ => Sub::Split(feature, threshold, Box::new(l), Box::new(r)),
            }
        }
        Some(&Node::Leaf { action }) => Sub::Leaf(action),
        _ => Sub::Leaf(0),
    }
}

/// The same decisions with fewer nodes: a split whose two sides decide the same action
/// becomes that leaf (the tree's scores depend only on the leaf's action and the features, so
/// every decision is unchanged). Nodes are renumbered breadth first.
pub fn collapse(nodes: &[Node]) -> Vec<Node> {
    let root = simplify(nodes, 0, 0);
    let mut out = vec![Node::Leaf { action: 0 }];
    let mut queue = std::collections::VecDeque::from([(&root, 0usize)]);
    while let Some((sub, at)) = queue.pop_front() {
        let node = match sub {
            Sub::Leaf(action) => Node::Leaf { action: *action },
            Sub::Split(feature, threshold, l, r) => {
                let (li, ri) = (out.len(), out.len() + 1);
                out.push(Node::Leaf { action: 0 });
                out.push(Node::Leaf { action: 0 });
                queue.push_back((l, li));
                queue.push_back((r, ri));
                Node::Split {
                    feature: *feature,
                    threshold: *threshold,
                    left: u8::try_from(li).unwrap_or(u8::MAX),
                    right: u8::try_from(ri).unwrap_or(u8::MAX),
                }
            }
        };
        if let Some(o) = out.get_mut(at) {
            *o = node;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(leaves: usize) -> Settings {
        Settings {
            leaves,
            classes: 3,
            min_leaf: 1,
        }
    }

    fn leaf(action: u16) -> Node {
        Node::Leaf { action }
    }

    #[test]
    fn splits_where_the_classes_change_and_keeps_thresholds_integer() {
        // One feature: values 0..=9; class 0 up to 3, class 1 from 4 to 6, class 2 from 7.
        let mut d = Samples {
            features: 1,
            ..Samples::default()
        };
        for v in 0..10 {
            let y = match v {
                0..=3 => 0,
                4..=6 => 1,
                _ => 2,
            };
            d.push(&[v], y, 1.0);
        }
        let nodes = fit(&d, &settings(3));
        // By hand: the root cut at 3 (class 0 | classes 1, 2) removes G = 10 - (16+9+9)/10 =
        // 6.6 minus 0 + (6 - 18/6 = 3) = 3.6; the cut at 6 gains 6.6 - (7 - 25/7) - 0 =
        // 3.171..., so the root splits at 3 and the right side at 6.
        assert_eq!(
            nodes,
            vec![
                Node::Split {
                    feature: 0,
                    threshold: 3,
                    left: 1,
                    right: 2
                },
                Node::Leaf { action: 0 },
                Node::Split {
                    feature: 0,
                    threshold: 6,
                    left: 3,
                    right: 4
                },
                Node::Leaf { action: 1 },
                Node::Leaf { action: 2 },
            ]
        );
        // A budget of 2 leaves keeps the root's split only; 1 leaf is the majority class.
        assert_eq!(fit(&d, &settings(2)).len(), 3);
        // A split whose sides decide the same action goes.
        let same = [nodes[0], nodes[1], nodes[2], leaf(1), leaf(1)];
        assert_eq!(
            collapse(&same),
            vec![
                Node::Split {
                    feature: 0,
                    threshold: 3,
                    left: 1,
                    right: 2
                },
                leaf(0),
                leaf(1)
            ]
        );
        assert_eq!(fit(&d, &settings(1)), vec![Node::Leaf { action: 0 }]);
    }

    #[test]
    fn weights_move_the_split_and_the_leaf_label() {
        // Two classes mixed on one value; the heavier class labels the leaf.
        let mut d = Samples {
            features: 2,
            ..Samples::default()
        };
        d.push(&[5, 0], 0, 1.0);
        d.push(&[5, 1], 1, 3.0);
        d.push(&[5, 1], 0, 0.5);
        assert_eq!(fit(&d, &settings(1)), vec![Node::Leaf { action: 1 }]);
        // Feature 0 is constant, so the cut is on feature 1 at 0.
        let nodes = fit(&d, &settings(2));
        assert_eq!(
            nodes.first(),
            Some(&Node::Split {
                feature: 1,
                threshold: 0,
                left: 1,
                right: 2
            })
        );
        assert_eq!(nodes.get(2), Some(&Node::Leaf { action: 1 }));
    }
}
