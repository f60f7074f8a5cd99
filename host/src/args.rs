//! Argument types shared by several subcommands: clap value enums for the runtime's settings and
//! the operator-rule flags.

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use whitebox_core::guard::{GuardMode, GuardParams};
use whitebox_runtime::guard::{parse_fallback, GuardSettings, ModeName};
use whitebox_runtime::rules::RuleTexts;
use whitebox_runtime::settings::{End, Slots};

/// `--slots`: visible job slots `M`, the two values DeepRM's scripts use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SlotsArg {
    /// `M = 5`.
    #[value(name = "5")]
    Five,
    /// `M = 10`.
    #[value(name = "10")]
    Ten,
}

impl From<SlotsArg> for Slots {
    fn from(s: SlotsArg) -> Slots {
        match s {
            SlotsArg::Five => Slots::Five,
            SlotsArg::Ten => Slots::Ten,
        }
    }
}

/// `--end`: when an episode ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EndArg {
    /// Every job arrived and left, or the time cap was reached (truncated).
    AllDone,
    /// At time step `simu_len`; later arrivals never enter (DeepRM's `no_new_job`).
    NoNewJob,
}

impl From<EndArg> for End {
    fn from(e: EndArg) -> End {
        match e {
            EndArg::AllDone => End::AllDone,
            EndArg::NoNewJob => End::NoNewJob,
        }
    }
}

/// Operator rules every decision is projected onto (`simulate`, `eval`, `demo`, `fuzz`,
/// `record`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RuleArgs {
    /// A rule every decision must respect, repeatable: util<=0.8 (or util<=80%: usage of each
    /// resource at most that share in every step a started job takes; a job above the cap
    /// alone may run only on an otherwise idle resource), work-conserving (no idling while a
    /// job can start now within the cap), no-reservation (start jobs now only), shorter-first
    /// (no job starts while a strictly shorter one in a slot may start now), wait<=K (a job
    /// that has waited K steps or more and can start now goes before later arrivals; K in
    /// 0..=1000). Append @WEIGHT to weigh a rule (default 1). See docs/rules.md.
    #[arg(long = "rule", value_name = "RULE")]
    pub rules: Vec<String>,
    /// Projection strength C: inf removes every action that violates a rule (a shield); a
    /// finite C only lowers their probability by exp(-C * weight * (1 - truth)); 0 changes
    /// nothing.
    #[arg(
        long,
        default_value = "inf",
        value_name = "C",
        allow_hyphen_values = true
    )]
    pub rule_c: String,
}

impl RuleArgs {
    /// The rules as the library takes them.
    pub fn texts(&self) -> RuleTexts {
        RuleTexts {
            rules: self.rules.clone(),
            rule_c: self.rule_c.clone(),
        }
    }

    /// The projection, or `None` without `--rule`.
    ///
    /// # Errors
    /// A bad rule or strength, named with its flag, its text and the allowed forms.
    pub fn projection(&self) -> Result<Option<whitebox_core::Projection>> {
        let c = whitebox_runtime::rules::parse_strength(&self.rule_c).context("--rule-c")?;
        whitebox_runtime::rules::projection(&self.rules, c).context("--rule")
    }
}

/// A clap value parser for a whole number of at least `min`. Its error states the bound alone:
/// clap's own range parser prints the type's maximum (18446744073709551615) as the upper end.
pub fn at_least<T>(min: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy + Send + Sync + 'static,
{
    move |text: &str| {
        let value: T = text
            .trim()
            .parse()
            .map_err(|_| format!("must be a whole number >= {min}"))?;
        if value < min {
            return Err(format!("must be at least {min}"));
        }
        Ok(value)
    }
}

/// A path flag that may be `none` (for an optional model): `None` for `none`.
pub fn unless_none(path: &std::path::Path) -> Option<&std::path::Path> {
    (path.as_os_str() != "none").then_some(path)
}

/// A count flag as `usize`.
///
/// # Errors
/// When it does not fit, naming `flag`.
pub fn usize_of(n: u64, flag: &str) -> Result<usize> {
    usize::try_from(n).with_context(|| format!("{flag} = {n} is too large"))
}

/// Checks `--tetris-knob`.
///
/// # Errors
/// When it is NaN or outside `[0, 1]`.
pub fn tetris_knob(knob: f64) -> Result<f64> {
    whitebox_runtime::policy::check_knob(knob).context("--tetris-knob")
}

/// `--guard`, `--guard-eps`, `--guard-c`: a guard insuring a learned policy against SJF
/// (`docs/guard.md`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GuardArgs {
    /// Guard learned policies (model:PATH, int8:PATH, tree:PATH) against SJF: renewal (hands
    /// over only where the two schedules meet; proved bound R <= (1+eps) SJF + c + L), budget
    /// (hands over at any step) or lookahead (checks every learned decision against SJF's drain
    /// cost); the last two have empirical bounds. Absent: no guard.
    #[arg(long = "guard", value_name = "MODE")]
    pub mode: Option<String>,
    /// Relative slack of the guard's budget test, in [0, 10] [default: 0.1].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub guard_eps: Option<String>,
    /// Additive slack of the guard's budget test, in slowdown units (total charge), in
    /// [0, 1000000] [default: 5].
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub guard_c: Option<String>,
    /// Who makes the real cluster's fallback decisions: sjf, sjf-reserve (SJF that reserves
    /// the shortest waiting job's start when it does not fit now) or sjf-reserve-aged (the same,
    /// once that job has waited its length); budget and lookahead modes only. The shadow stays
    /// SJF [default: sjf].
    #[arg(long, value_name = "NAME")]
    pub guard_fallback: Option<String>,
}

impl GuardArgs {
    /// The guard, or `None` without `--guard`; `--guard-eps` and `--guard-c` are checked either
    /// way.
    ///
    /// # Errors
    /// An unknown mode or a parameter that is not a number in its range, named with its flag,
    /// its value and the allowed range.
    pub fn settings(&self) -> Result<Option<GuardSettings>> {
        let (eps, c) = self.parameters()?;
        let Some(mode) = &self.mode else {
            let flag = match (&self.guard_eps, &self.guard_c, &self.guard_fallback) {
                (Some(_), _, _) => "--guard-eps",
                (_, Some(_), _) => "--guard-c",
                (_, _, Some(_)) => "--guard-fallback",
                (None, None, None) => return Ok(None),
            };
            bail!("{flag} sets a guard parameter, but no guard is on: add --guard MODE");
        };
        let mode: ModeName = mode.parse().context("--guard")?;
        let settings = GuardSettings::new(mode.0, eps, c)?;
        Ok(Some(match &self.guard_fallback {
            Some(f) => settings
                .with_fallback(parse_fallback(f).context("--guard-fallback")?)
                .context("--guard-fallback")?,
            None => settings,
        }))
    }

    /// The guard, renewal mode when `--guard` is absent (the demo's default).
    ///
    /// # Errors
    /// As [`GuardArgs::settings`].
    pub fn settings_or_renewal(&self) -> Result<GuardSettings> {
        let (eps, c) = self.parameters()?;
        Ok(match self.settings()? {
            Some(s) => s,
            None => GuardSettings::new(GuardMode::Renewal, eps, c)?,
        })
    }

    /// `eps` and `c`, each checked alone so the error names its flag.
    fn parameters(&self) -> Result<(f32, f32)> {
        let number = |text: &str, param: &str, flag: &str| -> Result<f32> {
            text.trim().parse::<f32>().map_err(|_| {
                anyhow::anyhow!("{flag}: guard parameter `{param}` = {text} is not a number")
            })
        };
        let eps = match &self.guard_eps {
            Some(t) => number(t, "eps", "--guard-eps")?,
            None => GuardParams::DEFAULT_EPS,
        };
        let c = match &self.guard_c {
            Some(t) => number(t, "c", "--guard-c")?,
            None => GuardParams::DEFAULT_C,
        };
        let d = GuardParams::default();
        GuardSettings::new(d.mode(), eps, GuardParams::DEFAULT_C).context("--guard-eps")?;
        GuardSettings::new(d.mode(), GuardParams::DEFAULT_EPS, c).context("--guard-c")?;
        Ok((eps, c))
    }
}
