//! Decision-tree files on the host: the `tree:PATH` policy.
//!
//! A tree file ([`whitebox_core::tree::file`]) records the job slots it decides for; this build
//! reads trees for 5 and 10 slots. A loaded tree decides through the core's one generic
//! [`whitebox_core::policy::Policy`] ([`TreePolicy`]: the operator features, the tree, the
//! invalid-action mask, argmax), so rules and the guard compose with it as with a model.

use std::path::Path;

use anyhow::{bail, Context, Result};
use whitebox_core::model::SpecField;
use whitebox_core::tree::file::{self, TreeError};
use whitebox_core::tree::{feature_count, Tree, TreePolicy};
use whitebox_core::PolicyError;

use crate::models::decide::run_as;
use crate::models::{Decide, PolicyOps};

/// A tree for one of the slot counts this build supports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyTree {
    /// 5 job slots.
    Five(Box<Tree<5>>),
    /// 10 job slots.
    Ten(Box<Tree<10>>),
}

/// A loaded tree file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedTree {
    /// The tree.
    pub tree: AnyTree,
}

impl LoadedTree {
    /// Job slots the tree decides for.
    pub fn slots(&self) -> usize {
        match self.tree {
            AnyTree::Five(_) => 5,
            AnyTree::Ten(_) => 10,
        }
    }

    /// The whole tree as indented text with feature names
    /// ([`whitebox_core::tree::text::TreeText`]).
    pub fn text(&self) -> String {
        use whitebox_core::tree::text::TreeText;
        match &self.tree {
            AnyTree::Five(t) => TreeText(t).to_string(),
            AnyTree::Ten(t) => TreeText(t).to_string(),
        }
    }

    /// `(nodes, leaves, depth)`.
    pub fn size(&self) -> (usize, usize, usize) {
        match &self.tree {
            AnyTree::Five(t) => (t.nodes().len(), t.leaves(), t.depth()),
            AnyTree::Ten(t) => (t.nodes().len(), t.leaves(), t.depth()),
        }
    }

    /// The tree file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        fn bytes<const M: usize>(t: &Tree<M>) -> Vec<u8> {
            let mut buf = vec![0u8; file::file_len(t.nodes().len())];
            // The buffer has the file's exact length, so saving cannot fail.
            let n = file::save(t, &mut buf).unwrap_or(0);
            buf.truncate(n);
            buf
        }
        match &self.tree {
            AnyTree::Five(t) => bytes(t),
            AnyTree::Ten(t) => bytes(t),
        }
    }
}

/// Reads a tree file from bytes: the slot count in its header picks the tree type, then every
/// check of [`whitebox_core::tree::file::load`] applies.
///
/// # Errors
/// Every [`TreeError`] (it names the field, the value found and the limit), and a slot count
/// this build does not support.
pub fn tree_from_bytes(bytes: &[u8]) -> Result<LoadedTree> {
    if bytes.starts_with(&whitebox_core::model::MAGIC) {
        bail!(
            "this is a model file (magic WBXMODEL), not a decision tree; pass it as \
             model:PATH or --model, or extract a tree from it with `whitebox tree extract`"
        );
    }
    // Byte 13 is the slot count (see the file layout); a shorter or foreign file is reported
    // by the full load below.
    let tree = match bytes.get(13) {
        Some(5) => AnyTree::Five(Box::new(file::load::<5>(bytes)?)),
        Some(10) => AnyTree::Ten(Box::new(file::load::<10>(bytes)?)),
        _ => match file::load::<10>(bytes) {
            Err(TreeError::SpecMismatch {
                field: SpecField::Slots,
                found,
                ..
            }) => bail!("tree has {found} job slots; this build supports 5 and 10"),
            Err(e) => return Err(e.into()),
            Ok(t) => AnyTree::Ten(Box::new(t)),
        },
    };
    Ok(LoadedTree { tree })
}

/// Loads a tree file.
///
/// # Errors
/// When the file cannot be read, and as [`tree_from_bytes`]; both name the path.
pub fn load_tree(path: &Path) -> Result<LoadedTree> {
    let bytes = crate::shipped::read(path)
        .with_context(|| format!("cannot read tree {}", super::where_is(path)))?;
    tree_from_bytes(&bytes).with_context(|| format!("invalid tree file {}", path.display()))
}

/// Writes a tree file.
///
/// # Errors
/// An I/O error, naming the path.
pub fn save_tree(path: &Path, tree: &LoadedTree) -> Result<()> {
    std::fs::write(path, tree.to_bytes())
        .with_context(|| format!("cannot write tree {}", path.display()))
}

impl<const M: usize> Decide<M> for LoadedTree {
    /// The tree's policy, invalid actions masked (as the networks it is extracted from).
    fn with_policy<T>(
        &self,
        f: impl FnOnce(&mut dyn PolicyOps<M>) -> Result<T, PolicyError>,
    ) -> Result<T, PolicyError> {
        match &self.tree {
            AnyTree::Five(t) => run_as(
                TreePolicy::<'_, 5, { feature_count(5) }, 6>::new(t, true),
                f,
            ),
            AnyTree::Ten(t) => run_as(
                TreePolicy::<'_, 10, { feature_count(10) }, 11>::new(t, true),
                f,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::testing::fit_or_void_10 as tree10;

    #[test]
    fn files_round_trip_and_errors_name_path_field_and_limit() {
        let dir = std::env::temp_dir().join(format!("wbx-tree-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("t.tree");
        save_tree(&path, &tree10()).expect("save");
        assert_eq!(load_tree(&path).expect("load"), tree10());
        let e = format!(
            "{:#}",
            load_tree(&dir.join("missing.tree")).expect_err("missing")
        );
        assert!(e.contains("missing.tree"), "{e}");
        let mut bytes = tree10().to_bytes();
        // Leaf 2's action 10 -> 12 (past SJF's choice, 11), CRC resealed below with crc32fast.
        let at = 17 + 9 * 2 + 1;
        bytes[at] = 12;
        let n = bytes.len() - 4;
        let crc = crc32fast::hash(&bytes[..n]);
        bytes[n..].copy_from_slice(&crc.to_le_bytes());
        std::fs::write(&path, &bytes).expect("write");
        let e = format!("{:#}", load_tree(&path).expect_err("bad action"));
        assert!(
            e.contains("t.tree") && e.contains("action = 12, must be below 12"),
            "{e}"
        );
        bytes[13] = 7;
        let e = format!("{:#}", tree_from_bytes(&bytes).expect_err("slots"));
        assert!(e.contains("7 job slots"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
