//! Policy names, as written on the command line, and the schedulers they build.
//!
//! Names are parsed before anything runs so a typo fails fast with the allowed names. A
//! `model:PATH` name is recognised already so learned policies slot into the same parser later.

use std::fmt;

use anyhow::{bail, Result};
use whitebox_core::{Action, Cluster, Packer, PolicyError, RandomPolicy, Scheduler, Sjf, Tetris};

/// A rule-based policy, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyName {
    /// Shortest job first.
    Sjf,
    /// DeepRM's Packer (best alignment).
    Packer,
    /// Tetris: alignment blended with SJF by a knob.
    Tetris,
    /// Uniformly random action.
    Random,
}

/// Prefix of learned-policy names (`model:PATH`).
pub const MODEL_PREFIX: &str = "model:";

impl PolicyName {
    /// Every baseline, in report order.
    pub const BASELINES: [PolicyName; 4] = [
        PolicyName::Sjf,
        PolicyName::Packer,
        PolicyName::Tetris,
        PolicyName::Random,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            PolicyName::Sjf => "sjf",
            PolicyName::Packer => "packer",
            PolicyName::Tetris => "tetris",
            PolicyName::Random => "random",
        }
    }

    /// Parses one policy name.
    ///
    /// # Errors
    /// For a `model:PATH` name (learned policies are not available yet) and for an unknown
    /// name (the message lists the allowed names).
    pub fn parse(text: &str) -> Result<PolicyName> {
        if text.starts_with(MODEL_PREFIX) {
            bail!("policy `{text}`: model policies are not available yet");
        }
        match PolicyName::BASELINES.into_iter().find(|p| p.name() == text) {
            Some(p) => Ok(p),
            None => bail!(
                "unknown policy `{text}`; allowed: {}, or {MODEL_PREFIX}PATH",
                PolicyName::BASELINES.map(PolicyName::name).join(", ")
            ),
        }
    }

    /// Parses a comma-separated list of policy names, e.g. `sjf,packer`.
    ///
    /// # Errors
    /// As [`PolicyName::parse`] for each item, and for an empty list or a repeated name.
    pub fn parse_list(text: &str) -> Result<Vec<PolicyName>> {
        crate::lists::parse_list(text, "policy", PolicyName::parse)
    }

    /// The policy with its parameters: `knob` for Tetris (in `[0, 1]`), `seed` for Random.
    ///
    /// # Errors
    /// When this is Tetris and `knob` is not a number in `[0, 1]`.
    pub fn with(self, knob: f64, seed: u64) -> Result<Policy> {
        Ok(match self {
            PolicyName::Sjf => Policy::Sjf,
            PolicyName::Packer => Policy::Packer,
            PolicyName::Tetris => Policy::Tetris {
                knob: check_knob(knob)?,
            },
            PolicyName::Random => Policy::Random { seed },
        })
    }
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Checks a Tetris knob.
///
/// # Errors
/// When `knob` is NaN or outside `[0, 1]`.
pub fn check_knob(knob: f64) -> Result<f64> {
    if !(0.0..=1.0).contains(&knob) {
        bail!("--tetris-knob = {knob}, must be in [0, 1]");
    }
    Ok(knob)
}

/// A fully parameterised policy, ready to build a scheduler for any slot count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Policy {
    /// Shortest job first.
    Sjf,
    /// DeepRM's Packer.
    Packer,
    /// Tetris with the weight of its alignment term.
    Tetris {
        /// In `[0, 1]`.
        knob: f64,
    },
    /// Random with its stream seed.
    Random {
        /// PCG-32 seed.
        seed: u64,
    },
}

impl Policy {
    /// A fresh scheduler (a new random stream for Random).
    pub fn scheduler(self) -> Baseline {
        match self {
            Policy::Sjf => Baseline::Sjf(Sjf),
            Policy::Packer => Baseline::Packer(Packer),
            Policy::Tetris { knob } => Baseline::Tetris(Tetris { knob }),
            Policy::Random { seed } => Baseline::Random(RandomPolicy::new(seed)),
        }
    }
}

/// A baseline scheduler for any slot count; an enum rather than a box so one value serves both
/// `M = 5` and `M = 10` without dynamic dispatch.
#[derive(Clone, Debug)]
pub enum Baseline {
    /// See [`Sjf`].
    Sjf(Sjf),
    /// See [`Packer`].
    Packer(Packer),
    /// See [`Tetris`].
    Tetris(Tetris),
    /// See [`RandomPolicy`].
    Random(RandomPolicy),
}

impl<const M: usize> Scheduler<M> for Baseline {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        match self {
            Baseline::Sjf(s) => s.decide(cluster),
            Baseline::Packer(s) => s.decide(cluster),
            Baseline::Tetris(s) => s.decide(cluster),
            Baseline::Random(s) => s.decide(cluster),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: fmt::Debug>(r: Result<T>) -> String {
        format!("{:#}", r.err().map(|e| e.to_string()).unwrap_or_default())
    }

    #[test]
    fn names_round_trip_and_errors_list_allowed_names() {
        for p in PolicyName::BASELINES {
            assert_eq!(PolicyName::parse(p.name()).ok(), Some(p));
        }
        let e = err(PolicyName::parse("fifo"));
        assert!(
            e.contains("`fifo`") && e.contains("sjf, packer, tetris, random"),
            "{e}"
        );
        let e = err(PolicyName::parse("model:x.json"));
        assert!(e.contains("model policies are not available yet"), "{e}");
        assert_eq!(
            PolicyName::parse_list("sjf,random").ok(),
            Some(vec![PolicyName::Sjf, PolicyName::Random])
        );
        let e = err(PolicyName::parse_list("sjf,sjf"));
        assert!(e.contains("`sjf`") && e.contains("more than once"), "{e}");
    }

    #[test]
    fn knob_outside_unit_interval_is_refused() {
        assert!(PolicyName::Tetris.with(0.0, 0).is_ok());
        assert!(PolicyName::Tetris.with(1.0, 0).is_ok());
        let e = err(PolicyName::Tetris.with(1.5, 0));
        assert!(e.contains("1.5") && e.contains("[0, 1]"), "{e}");
        assert!(PolicyName::Tetris.with(f64::NAN, 0).is_err());
        // Knob is ignored by the other policies.
        assert!(PolicyName::Sjf.with(f64::NAN, 0).is_ok());
    }
}
