//! Guard settings as text (the command line's `--guard`, `--guard-eps`, `--guard-c`) and the
//! core [`GuardParams`] they give. See `docs/guard.md` for the modes and the bound.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use whitebox_core::guard::{GuardMode, GuardParams};

/// The guard modes accepted, for error messages.
pub const GUARD_SYNTAX: &str = "renewal (proved bound), budget or lookahead (empirical bounds)";

/// A guard mode by name: `renewal`, `budget` or `lookahead`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeName(pub GuardMode);

impl FromStr for ModeName {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Self> {
        match GuardMode::from_name(text) {
            Some(mode) => Ok(ModeName(mode)),
            None => bail!("guard mode `{text}` is unknown; allowed: {GUARD_SYNTAX}"),
        }
    }
}

impl fmt::Display for ModeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// A guard as configured: mode, relative slack `eps` and additive slack `c` (slowdown units of
/// total charge), checked by the core ([`GuardParams::new`]). The default is the core's
/// (renewal, `eps` 0.1, `c` 5).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GuardSettings {
    /// The validated parameters.
    pub params: GuardParams,
}

impl GuardSettings {
    /// Settings for `mode` with `eps` and `c`.
    ///
    /// # Errors
    /// The core's `GuardError::OutOfRange` (parameter, value and allowed range) for a NaN or
    /// out-of-range `eps` or `c`.
    pub fn new(mode: GuardMode, eps: f32, c: f32) -> Result<GuardSettings> {
        Ok(GuardSettings {
            params: GuardParams::new(mode, eps, c)?,
        })
    }

    /// What reports print: `renewal(eps=0.1,c=5)`.
    pub fn label(&self) -> String {
        format!(
            "{}(eps={},c={})",
            ModeName(self.params.mode()),
            self.params.eps(),
            self.params.c()
        )
    }

    /// The settings as reports record them.
    pub fn report(&self) -> GuardReportSettings {
        GuardReportSettings {
            mode: ModeName(self.params.mode()).to_string(),
            eps: self.params.eps(),
            c: self.params.c(),
        }
    }
}

/// Guard settings in a report (and in fuzz campaigns and fixtures, which read them back).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuardReportSettings {
    /// `renewal`, `budget` or `lookahead`.
    pub mode: String,
    /// Relative slack.
    pub eps: f64,
    /// Additive slack, slowdown units of total charge.
    pub c: f64,
}

impl GuardReportSettings {
    /// The settings these describe.
    ///
    /// # Errors
    /// An unknown mode, or `eps`/`c` out of range (parameter, value and range).
    pub fn settings(&self) -> Result<GuardSettings> {
        let mode: ModeName = self.mode.parse()?;
        // Stored values are multiples of 0.001, so rounding to thousandths again is exact.
        GuardSettings::new(mode.0, self.eps as f32, self.c as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_bad_parameters_name_value_and_range() {
        assert_eq!(
            "renewal".parse::<ModeName>().ok(),
            Some(ModeName(GuardMode::Renewal))
        );
        assert_eq!(
            "budget".parse::<ModeName>().ok(),
            Some(ModeName(GuardMode::Budget))
        );
        let e = "shadow".parse::<ModeName>().err().map(|e| format!("{e:#}"));
        assert!(e.is_some_and(|e| e.contains("`shadow`") && e.contains("renewal")));
        let e = GuardSettings::new(GuardMode::Renewal, -0.5, 1.0).err();
        let e = e.map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(e.contains("`eps` = -0.5") && e.contains("[0, 10]"), "{e}");
        let s = GuardSettings::new(GuardMode::Budget, 0.25, 2.0).ok();
        assert_eq!(
            s.map(|s| s.label()).as_deref(),
            Some("budget(eps=0.25,c=2)")
        );
    }
}
