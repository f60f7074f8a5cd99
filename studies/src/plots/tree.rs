//! A decision tree as a picture (`whitebox tree show --svg/--png`): one row per depth, leaves
//! spaced by their order from left to right, each split centred over its leaves; a split's box
//! holds its test, a leaf's box its action; the edge to the left child (the test holds) is
//! labelled `yes`, the other `no`.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use whitebox_core::tree::{Feature, Node};

use super::{font, register_font, text_err};

/// Width of a leaf's column, height of a depth row and a node box, in pixels.
const COLUMN: u32 = 112;
const ROW: u32 = 72;
const BOX: (i32, i32) = (104, 26);
const MARGIN: u32 = 24;

/// Where each node is drawn (centre, pixels) and the picture's size.
fn layout(nodes: &[Node]) -> (Vec<(i32, i32)>, (u32, u32)) {
    let mut pos = vec![(0i32, 0i32); nodes.len()];
    let (mut leaves, mut depth) = (0u32, 0u32);
    // Post-order with an explicit stack: children first, so a split can centre itself.
    let mut stack = vec![(0usize, 0u32, false)];
    while let Some((k, d, children_done)) = stack.pop() {
        depth = depth.max(d);
        let y = (MARGIN + d * ROW + ROW / 2) as i32;
        match nodes.get(k) {
            Some(Node::Leaf { .. }) => {
                if let Some(p) = pos.get_mut(k) {
                    *p = ((MARGIN + leaves * COLUMN + COLUMN / 2) as i32, y);
                }
                leaves += 1;
            }
            Some(&Node::Split { left, right, .. }) if children_done => {
                let x = |c: u8| pos.get(usize::from(c)).map_or(0, |p| p.0);
                let mid = (x(left) + x(right)) / 2;
                if let Some(p) = pos.get_mut(k) {
                    *p = (mid, y);
                }
            }
            Some(&Node::Split { left, right, .. }) => {
                stack.push((k, d, true));
                stack.push((usize::from(right), d + 1, false));
                stack.push((usize::from(left), d + 1, false));
            }
            None => {}
        }
    }
    let size = (
        2 * MARGIN + leaves.max(1) * COLUMN,
        2 * MARGIN + (depth + 1) * ROW,
    );
    (pos, size)
}

/// The text in a node's box: the test of a split, the action of a leaf.
fn label(node: &Node, m: usize) -> String {
    match *node {
        Node::Split {
            feature, threshold, ..
        } => {
            let name = Feature::from_index(usize::from(feature), m)
                .map_or(format!("x{feature}"), |f| f.to_string());
            format!("{name} <= {threshold}")
        }
        Node::Leaf { action } => match usize::from(action) {
            a if a < m => format!("start slot {a}"),
            a if a == m => "void".into(),
            _ => "sjf".into(),
        },
    }
}

fn fill(node: &Node, m: usize) -> RGBColor {
    match *node {
        Node::Split { .. } => RGBColor(230, 230, 230),
        Node::Leaf { action } if usize::from(action) == m => RGBColor(253, 208, 162),
        Node::Leaf { action } if usize::from(action) > m => RGBColor(199, 233, 192),
        Node::Leaf { .. } => RGBColor(198, 219, 239),
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    nodes: &[Node],
    m: usize,
    pos: &[(i32, i32)],
    opaque: bool,
) -> Result<(), String> {
    if opaque {
        root.fill(&WHITE).map_err(text_err)?;
    }
    let at = |k: u8| pos.get(usize::from(k)).copied().unwrap_or((0, 0));
    let centre = font(13).pos(Pos::new(HPos::Center, VPos::Center));
    let (w, h) = (BOX.0 / 2, BOX.1 / 2);
    for (k, node) in nodes.iter().enumerate() {
        let Node::Split { left, right, .. } = *node else {
            continue;
        };
        let (x, y) = pos.get(k).copied().unwrap_or((0, 0));
        for (child, word) in [(left, "yes"), (right, "no")] {
            let (cx, cy) = at(child);
            root.draw(&PathElement::new(vec![(x, y + h), (cx, cy - h)], BLACK))
                .map_err(text_err)?;
            let mid = ((x + cx) / 2, (y + h + cy - h) / 2);
            root.draw(&Text::new(
                word,
                mid,
                font(11).pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(text_err)?;
        }
    }
    for (k, node) in nodes.iter().enumerate() {
        let (x, y) = pos.get(k).copied().unwrap_or((0, 0));
        root.draw(&Rectangle::new(
            [(x - w, y - h), (x + w, y + h)],
            fill(node, m).filled(),
        ))
        .map_err(text_err)?;
        root.draw(&Text::new(label(node, m), (x, y), centre.clone()))
            .map_err(text_err)?;
    }
    Ok(())
}

/// Draws the tree of `nodes` (root first, for `m` job slots) to `path`: PNG (white
/// background) when `png`, else SVG (transparent). One filled box per node.
///
/// # Errors
/// When `path`'s directory does not exist, or the picture cannot be drawn or written.
pub fn tree_picture(path: &Path, nodes: &[Node], m: usize, png: bool) -> Result<()> {
    super::check_out_dir(path)?;
    register_font()?;
    let (pos, size) = layout(nodes);
    let fail = |e: String| anyhow!("cannot draw {}: {e}", path.display());
    if png {
        let root = BitMapBackend::new(path, size).into_drawing_area();
        draw(&root, nodes, m, &pos, true).map_err(fail)?;
        root.present().map_err(|e| fail(e.to_string()))?;
    } else {
        let root = SVGBackend::new(path, size).into_drawing_area();
        draw(&root, nodes, m, &pos, false).map_err(fail)?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        anyhow::bail!("cannot write {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> Vec<Node> {
        vec![
            Node::Split {
                feature: 4,
                threshold: 0,
                left: 1,
                right: 2,
            },
            Node::Leaf { action: 0 },
            Node::Split {
                feature: 27,
                threshold: 3,
                left: 3,
                right: 4,
            },
            Node::Leaf { action: 5 },
            Node::Leaf { action: 6 },
        ]
    }

    #[test]
    fn leaves_are_spaced_by_order_and_splits_centred() {
        let (pos, size) = layout(&nodes());
        let col = |i: u32| (MARGIN + i * COLUMN + COLUMN / 2) as i32;
        let row = |d: u32| (MARGIN + d * ROW + ROW / 2) as i32;
        assert_eq!(pos[1], (col(0), row(1)));
        assert_eq!(pos[3], (col(1), row(2)));
        assert_eq!(pos[4], (col(2), row(2)));
        assert_eq!(pos[2], ((col(1) + col(2)) / 2, row(1)));
        assert_eq!(pos[0], ((col(0) + pos[2].0) / 2, row(0)));
        assert_eq!(size, (2 * MARGIN + 3 * COLUMN, 2 * MARGIN + 3 * ROW));
    }

    #[test]
    fn the_svg_has_one_box_per_node_and_every_label() {
        let dir = std::env::temp_dir().join(format!("wbx-tree-svg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let svg = dir.join("t.svg");
        tree_picture(&svg, &nodes(), 5, false).expect("svg");
        let text = std::fs::read_to_string(&svg).expect("read");
        assert!(text.trim_start().starts_with("<svg") && text.trim_end().ends_with("</svg>"));
        assert_eq!(text.matches("<rect").count(), 5);
        for want in [
            "slot0.fit ",
            "res0.free_min ",
            "start slot 0",
            "void",
            "sjf",
        ] {
            assert!(text.contains(want), "{want} missing");
        }
        // plotters writes each text on a line of its own.
        assert_eq!(text.matches("\nyes\n").count(), 2);
        assert_eq!(text.matches("\nno\n").count(), 2);
        let png = dir.join("t.png");
        tree_picture(&png, &nodes(), 5, true).expect("png");
        let bytes = std::fs::read(&png).expect("png bytes");
        assert_eq!(bytes.get(1..4), Some(&b"PNG"[..]));
        std::fs::remove_dir_all(&dir).ok();
    }
}
