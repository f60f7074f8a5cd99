//! Guard settings as text (the command line's `--guard`, `--guard-eps`, `--guard-c`,
//! `--guard-fallback`) and the core [`GuardParams`] they give. See `docs/guard.md` for the modes
//! and the bound.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use whitebox_core::guard::{GuardMode, GuardParams};

use crate::spelling::did_you_mean;

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
            None => bail!(
                "guard mode `{text}` is unknown{}; allowed: {GUARD_SYNTAX}",
                did_you_mean(text, GuardMode::ALL.map(GuardMode::name))
            ),
        }
    }
}

impl fmt::Display for ModeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// The scheduler that makes the real cluster's fallback decisions (`sjf`, `sjf-reserve`,
/// `sjf-reserve-aged`; the core's [`FallbackKind`]). The shadow and the lookahead drains run SJF
/// either way (the cost reference); see `docs/guard.md`.
pub use whitebox_core::FallbackKind as GuardFallback;

/// The fallbacks accepted, for error messages.
pub const FALLBACK_SYNTAX: &str =
    "sjf, sjf-reserve or sjf-reserve-aged (budget and lookahead modes only)";

/// The fallback named `text`.
///
/// # Errors
/// An unknown name (naming it and the allowed ones).
pub fn parse_fallback(text: &str) -> Result<GuardFallback> {
    match GuardFallback::from_name(text) {
        Some(f) => Ok(f),
        None => bail!(
            "guard fallback `{text}` is unknown{}; allowed: {FALLBACK_SYNTAX}",
            did_you_mean(text, GuardFallback::ALL.map(GuardFallback::name))
        ),
    }
}

/// A guard as configured: mode, relative slack `eps` and additive slack `c` (slowdown units of
/// total charge), checked by the core ([`GuardParams::new`]), and the real cluster's fallback.
/// The default is the core's (renewal, `eps` 0.1, `c` 5) with SJF.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GuardSettings {
    /// The validated parameters.
    pub params: GuardParams,
    /// Who makes the real cluster's fallback decisions.
    pub fallback: GuardFallback,
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
            fallback: GuardFallback::Sjf,
        })
    }

    /// The same settings with `fallback` making the real fallback decisions.
    ///
    /// # Errors
    /// A repairing fallback in renewal mode: the theorem there needs the real cluster under
    /// the fallback to be the pure SJF run.
    pub fn with_fallback(self, fallback: GuardFallback) -> Result<GuardSettings> {
        if fallback != GuardFallback::Sjf && self.params.mode() == GuardMode::Renewal {
            bail!(
                "guard fallback `{}` needs guard mode budget or lookahead, not renewal \
                 (the renewal bound holds for the SJF fallback only)",
                fallback.name()
            );
        }
        Ok(GuardSettings { fallback, ..self })
    }

    /// What reports print: `renewal(eps=0.1,c=5)`, with `,fallback=NAME` unless SJF.
    pub fn label(&self) -> String {
        let fallback = match self.fallback {
            GuardFallback::Sjf => String::new(),
            other => format!(",fallback={}", other.name()),
        };
        format!(
            "{}(eps={},c={}{fallback})",
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
            fallback: (self.fallback != GuardFallback::Sjf).then(|| self.fallback.name().into()),
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
    /// The real cluster's fallback when it is not SJF (absent: SJF, so older reports read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl GuardReportSettings {
    /// The settings these describe.
    ///
    /// # Errors
    /// An unknown mode, or `eps`/`c` out of range (parameter, value and range).
    pub fn settings(&self) -> Result<GuardSettings> {
        let mode: ModeName = self.mode.parse()?;
        // Stored values are multiples of 0.001, so rounding to thousandths again is exact.
        let s = GuardSettings::new(mode.0, self.eps as f32, self.c as f32)?;
        match &self.fallback {
            Some(f) => s.with_fallback(parse_fallback(f)?),
            None => Ok(s),
        }
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
        let e = "renwal".parse::<ModeName>().err().map(|e| format!("{e:#}"));
        assert!(e.is_some_and(|e| e.contains("did you mean `renewal`?")));
        let e = GuardSettings::new(GuardMode::Renewal, -0.5, 1.0).err();
        let e = e.map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(e.contains("`eps` = -0.5") && e.contains("[0, 10]"), "{e}");
        let s = GuardSettings::new(GuardMode::Budget, 0.25, 2.0).ok();
        assert_eq!(
            s.map(|s| s.label()).as_deref(),
            Some("budget(eps=0.25,c=2)")
        );
    }

    #[test]
    fn a_repairing_fallback_is_refused_in_renewal_mode_and_survives_a_report() {
        let e = GuardSettings::new(GuardMode::Renewal, 0.1, 5.0)
            .and_then(|s| s.with_fallback(GuardFallback::SjfReserve))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(e.contains("`sjf-reserve`") && e.contains("renewal"), "{e}");
        let e = parse_fallback("lifo").err().map(|e| format!("{e:#}"));
        assert!(e.is_some_and(|e| e.contains("`lifo`") && e.contains("sjf-reserve")));
        let e = parse_fallback("sjf-reserv-aged")
            .err()
            .map(|e| format!("{e:#}"));
        assert!(e.is_some_and(|e| e.contains("did you mean `sjf-reserve-aged`?")));
        let s = GuardSettings::new(GuardMode::Lookahead, 0.1, 5.0)
            .and_then(|s| s.with_fallback(GuardFallback::SjfReserve));
        let s = s.unwrap_or_default();
        assert_eq!(s.label(), "lookahead(eps=0.1,c=5,fallback=sjf-reserve)");
        assert_eq!(s.report().settings().ok(), Some(s));
        let plain = GuardSettings::new(GuardMode::Lookahead, 0.1, 5.0).unwrap_or_default();
        assert_eq!(plain.report().fallback, None);
        let aged = parse_fallback("sjf-reserve-aged").ok();
        assert_eq!(aged, Some(GuardFallback::SjfReserveAged));
        let s = GuardSettings::new(GuardMode::Budget, 0.1, 5.0)
            .and_then(|s| s.with_fallback(GuardFallback::SjfReserveAged))
            .unwrap_or_default();
        assert_eq!(s.label(), "budget(eps=0.1,c=5,fallback=sjf-reserve-aged)");
        assert_eq!(s.report().settings().ok(), Some(s));
    }
}
