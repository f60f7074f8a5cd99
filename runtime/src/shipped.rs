//! The shipped files, built into the binary so `whitebox demo`, `report`, `check`, `explain`,
//! `verify` and any `model:fixtures/models/default.model` work from every directory and after
//! `cargo install`: the shipped models and decision tree, the adversarial fixtures and the NASA
//! iPSC/860 excerpt (`fixtures/traces/`).
//!
//! A shipped file's path (its repository path, or any path ending in it) reads the file when it
//! exists, so a retrained model put there is used, and otherwise the built-in copy, with a note on
//! stderr the first time. A missing directory whose path ends in `fixtures/adversarial` lists the
//! built-in fixtures. Any other missing path is an error as before.

use std::path::{Path, PathBuf};
use std::sync::Once;

/// A shipped file: its path in the repository and its bytes.
macro_rules! shipped {
    ($($path:literal),* $(,)?) => {
        [$(($path, include_bytes!(concat!("../../", $path)) as &[u8])),*]
    };
}

/// The shipped files: their path in the repository and their bytes.
pub const SHIPPED: [(&str, &[u8]); 14] = shipped![
    "fixtures/models/default.model",
    "fixtures/models/distilled.model",
    "fixtures/models/rules.model",
    // The previous default (DeepRM's workload only) and its rule student: the golden traces,
    // adversarial fixtures and many measurements in the docs were made with them.
    "fixtures/models/deeprm.model",
    "fixtures/models/deeprm-distilled.model",
    "fixtures/models/default.tree",
    "fixtures/adversarial/campaign.json",
    "fixtures/adversarial/default-deeprm-gap-seed1-1.json",
    "fixtures/adversarial/default-deeprm-gap-seed1-2.json",
    "fixtures/adversarial/default-deeprm-gap-seed1-3.json",
    "fixtures/adversarial/distilled-deeprm-gap-seed1-1.json",
    "fixtures/adversarial/distilled-deeprm-gap-seed1-2.json",
    "fixtures/adversarial/distilled-deeprm-gap-seed1-3.json",
    "fixtures/traces/NASA-iPSC-1993-3.1-cln.swf",
];

/// One note per shipped file.
static NOTED: [Once; SHIPPED.len()] = [const { Once::new() }; SHIPPED.len()];

/// The built-in bytes to read for `path`: `Some` only when no file exists at `path` and `path`
/// ends with a shipped file's repository path (whole components, so `other-default.model`
/// does not match).
pub fn builtin(path: &Path) -> Option<&'static [u8]> {
    if path.exists() {
        return None;
    }
    SHIPPED
        .iter()
        .position(|(shipped, _)| path.ends_with(shipped))
        .and_then(|i| {
            NOTED.get(i)?.call_once(|| {
                // A note, not an error: the result is the same as from the repository root.
                eprintln!(
                    "note: {} not found here; using the copy built into whitebox",
                    path.display()
                );
            });
            SHIPPED.get(i).map(|(_, bytes)| *bytes)
        })
}

/// Whether `path` can be read: a file or directory, a shipped file's built-in copy, or a folder
/// of them ([`list_dir`]).
pub fn available(path: &Path) -> bool {
    path.exists()
        || SHIPPED.iter().any(|(shipped, _)| {
            let shipped = Path::new(shipped);
            path.ends_with(shipped) || shipped.parent().is_some_and(|dir| path.ends_with(dir))
        })
}

/// The bytes at `path`: the file, or a shipped file's built-in copy when there is no file.
///
/// # Errors
/// The file system's error when there is neither.
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    match builtin(path) {
        Some(bytes) => Ok(bytes.to_vec()),
        None => std::fs::read(path),
    }
}

/// [`read`] as UTF-8 text.
///
/// # Errors
/// As [`read`], and `InvalidData` for bytes that are not UTF-8.
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read(path)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// The entries of directory `dir` (files and directories, unsorted); for a missing directory
/// whose path ends with a shipped file's repository folder, the built-in files of that folder
/// as `dir/NAME`.
///
/// # Errors
/// The file system's error for a directory that exists but cannot be read, or that is missing
/// and holds no shipped file.
pub fn list_dir(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !dir.exists() {
        let names: Vec<PathBuf> = SHIPPED
            .iter()
            .map(|(shipped, _)| Path::new(shipped))
            .filter(|p| p.parent().is_some_and(|parent| dir.ends_with(parent)))
            .filter_map(Path::file_name)
            .map(|name| dir.join(name))
            .collect();
        if !names.is_empty() {
            return Ok(names);
        }
    }
    std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_shipped_paths_use_the_built_in_copy() {
        let bytes = builtin(Path::new("/nonexistent/fixtures/models/default.model"));
        assert_eq!(bytes.map(<[u8]>::len), Some(SHIPPED[0].1.len()));
        assert!(builtin(Path::new("/nonexistent/default.model")).is_none());
        assert!(builtin(Path::new("/nonexistent/fixtures/models/other.model")).is_none());
        assert!(available(Path::new("fixtures/models/distilled.model")));
        assert!(!available(Path::new("/nonexistent/x.model")));
        assert!(available(Path::new("/nonexistent/fixtures/adversarial")));
        assert!(!available(Path::new("/nonexistent/adversarial")));
        // The file itself is read when it exists (the crate's own copy here).
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/default.model");
        assert!(builtin(&here).is_none());
    }

    #[test]
    fn a_missing_fixture_folder_lists_the_built_in_fixtures() {
        let mut files = list_dir(Path::new("/nonexistent/fixtures/adversarial")).unwrap();
        files.sort();
        assert_eq!(files.len(), 7);
        assert_eq!(
            files[0],
            Path::new("/nonexistent/fixtures/adversarial/campaign.json")
        );
        assert!(files.iter().all(|f| read(f).is_ok()));
        assert!(list_dir(Path::new("/nonexistent/fixtures/other")).is_err());
        // An existing folder is read from disk.
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        assert!(list_dir(&here)
            .unwrap()
            .iter()
            .any(|p| p.ends_with("lib.rs")));
    }
}
