//! The shipped models, built into the binary so `whitebox demo`, `explain`, `verify` and any
//! `model:fixtures/models/default.model` work from every directory and after `cargo install`.
//!
//! A shipped model's path (`fixtures/models/default.model`, `distilled.model`, `rules.model`,
//! `deeprm.model` or `deeprm-distilled.model` there, or any path ending in one) reads the file when it exists, so a retrained model put there is
//! used, and otherwise the built-in copy, with a note on stderr the first time. Any other
//! missing path is an error as before.

use std::path::Path;
use std::sync::Once;

/// The shipped models: their path in the repository and their bytes.
pub const SHIPPED: [(&str, &[u8]); 5] = [
    (
        "fixtures/models/default.model",
        include_bytes!("../../../fixtures/models/default.model"),
    ),
    (
        "fixtures/models/distilled.model",
        include_bytes!("../../../fixtures/models/distilled.model"),
    ),
    (
        "fixtures/models/rules.model",
        include_bytes!("../../../fixtures/models/rules.model"),
    ),
    // The previous default (DeepRM's workload only) and its rule student: the golden traces,
    // adversarial fixtures and most measurements in the docs were made with them.
    (
        "fixtures/models/deeprm.model",
        include_bytes!("../../../fixtures/models/deeprm.model"),
    ),
    (
        "fixtures/models/deeprm-distilled.model",
        include_bytes!("../../../fixtures/models/deeprm-distilled.model"),
    ),
];

/// One note per shipped model.
static NOTED: [Once; SHIPPED.len()] = [const { Once::new() }; SHIPPED.len()];

/// The built-in bytes to read for `path`: `Some` only when no file exists at `path` and `path`
/// ends with a shipped model's repository path (whole components, so `other-default.model`
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

/// Whether a model can be read from `path`: a file, or a shipped model's built-in copy.
pub fn available(path: &Path) -> bool {
    path.exists() || SHIPPED.iter().any(|(shipped, _)| path.ends_with(shipped))
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
        // The file itself is read when it exists (the crate's own copy here).
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/default.model");
        assert!(builtin(&here).is_none());
    }

    #[test]
    fn built_in_models_load() {
        for (path, bytes) in SHIPPED {
            let m = crate::models::from_bytes(bytes).unwrap_or_else(|e| panic!("{path}: {e:#}"));
            assert_eq!(m.slots(), 10, "{path}");
        }
    }
}
