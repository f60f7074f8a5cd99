//! Operator rules as text (the command line's `--rule`, `--rule-c`) and what a projected
//! episode reports: per-decision explanations and the time steps whose usage breaks a cap.
//!
//! A rule is written `util<=0.8` (also `util<=80%`), `work-conserving`, `no-reservation`,
//! `shorter-first` (no job starts ahead of a shorter one that can start now) or `wait<=K`
//! (bounded wait: a job that has waited `K` or more time steps and can start now goes first),
//! optionally followed by `@WEIGHT` (its `lambda`, default 1; 0 disables it). The
//! work-conserving, shorter-first and bounded-wait rules count a job as startable within the
//! tightest `util<=` cap given (1 without one), so the caps never contradict them; only
//! `shorter-first` and `wait<=K` together can leave no action allowed (an aged long job and a
//! fresh short one), and the projection then falls back to void. `--rule-c` is the projection
//! strength `C`: `inf` (the default) is a shield that removes every violating action; `0`
//! changes nothing. See `whitebox_core::rules` and `whitebox_core::projection`.

use anyhow::{bail, Context, Result};
use serde::Serialize;
use whitebox_core::projection::{ProjectedDecision, Projection};
use whitebox_core::rules::{Permille, Rule, RuleMask, RuleSet};
use whitebox_core::spec::{NUM_RES, RES_UNITS};
use whitebox_core::{Event, Observer, Step};

use crate::record::JobOutcome;

/// The rule names accepted, for error messages.
pub const RULE_SYNTAX: &str =
    "util<=FRACTION (e.g. util<=0.8 or util<=80%), work-conserving, no-reservation, shorter-first, \
     wait<=STEPS (e.g. wait<=10, STEPS in 0..=1000), each optionally followed by @WEIGHT";

/// The largest `K` of `wait<=K`, in time steps.
pub const MAX_WAIT_STEPS: u16 = 1000;

/// A parsed `--rule`: the rule kind (the work-conserving cap is filled in later) and weight.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Spec {
    Cap(Permille),
    WorkConserving,
    NoReservation,
    ShorterFirst,
    BoundedWait(u16),
}

/// A fraction written as a decimal in `[0, 1]` with at most 3 decimals, or as a percentage
/// with at most one decimal, in thousandths, exactly.
fn parse_fraction(text: &str) -> Result<Permille> {
    let (number, percent) = match text.strip_suffix('%') {
        Some(p) => (p, true),
        None => (text, false),
    };
    // Thousandths per whole number, and decimals allowed: 0.805 or 80.5%.
    let (per_whole, decimals) = if percent { (10, 1) } else { (1000, 3) };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits_ok(whole) || !digits_ok(frac) || frac.len() > decimals {
        bail!("`{text}` is not a fraction like 0.8 or 80%");
    }
    let whole: u32 = whole.parse().context("too large")?;
    // Pad the decimals to thousandths: "0.8" -> 800, "80.5%" -> 805.
    let frac: u32 = format!("{frac:0<decimals$}").parse()?;
    let permille = whole
        .checked_mul(per_whole)
        .and_then(|w| w.checked_add(frac))
        .and_then(|p| u16::try_from(p).ok())
        .and_then(Permille::new)
        .with_context(|| format!("`{text}` is above 1 (100%)"))?;
    Ok(permille)
}

/// The `K` of `wait<=K`: whole time steps in `0..=MAX_WAIT_STEPS`.
fn parse_wait(text: &str) -> Result<u16> {
    text.parse::<u16>()
        .ok()
        .filter(|k| *k <= MAX_WAIT_STEPS)
        .with_context(|| {
            format!("wait `{text}` must be a whole number of time steps in 0..={MAX_WAIT_STEPS}")
        })
}

fn parse_spec(text: &str) -> Result<(Spec, f32)> {
    let (rule, weight) = match text.split_once('@') {
        Some((r, w)) => {
            let w: f32 = w
                .parse()
                .ok()
                .filter(|w: &f32| w.is_finite() && *w >= 0.0)
                .with_context(|| format!("weight `{w}` must be a number >= 0"))?;
            (r, w)
        }
        None => (text, 1.0),
    };
    let spec = match rule {
        "work-conserving" => Spec::WorkConserving,
        "no-reservation" => Spec::NoReservation,
        "shorter-first" => Spec::ShorterFirst,
        _ => match (rule.strip_prefix("util<="), rule.strip_prefix("wait<=")) {
            (Some(f), _) => Spec::Cap(parse_fraction(f)?),
            (None, Some(k)) => Spec::BoundedWait(parse_wait(k)?),
            (None, None) => match suggestion(rule) {
                Some(s) => bail!("unknown rule; did you mean `{s}`? allowed: {RULE_SYNTAX}"),
                None => bail!("unknown rule; allowed: {RULE_SYNTAX}"),
            },
        },
    };
    Ok((spec, weight))
}

/// The known rule closest to a misspelled one ([`crate::spelling::nearest`]). `util`/`wait`
/// rules keep what follows their `<=`: `utl<=0.8` suggests `util<=0.8`.
fn suggestion(rule: &str) -> Option<String> {
    let mut known: Vec<String> = ["work-conserving", "no-reservation", "shorter-first"]
        .map(String::from)
        .to_vec();
    let tail = rule.split_once("<=").map_or("0.8", |(_, t)| t);
    known.extend(["util", "wait"].map(|h| format!("{h}<={tail}")));
    crate::spelling::nearest(rule, known)
}

/// Operator rules as written: rule texts such as `util<=0.8@2` and the projection strength `C`
/// (a number >= 0, or `inf` for a shield).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleTexts {
    /// The rules, each as [`projection`] reads it.
    pub rules: Vec<String>,
    /// The strength, as [`parse_strength`] reads it.
    pub rule_c: String,
}

impl RuleTexts {
    /// The projection, or `None` without rules.
    ///
    /// # Errors
    /// As [`parse_strength`] and [`projection`].
    pub fn projection(&self) -> Result<Option<Projection>> {
        projection(&self.rules, parse_strength(&self.rule_c)?)
    }
}

/// The projection given by rule texts and a strength `c`, or `None` without rules.
///
/// # Errors
/// An unknown rule or bad fraction or weight (naming the text and the allowed forms), more
/// rules than the core holds, or a strength `c` that is NaN or negative.
pub fn projection(rules: &[String], c: f32) -> Result<Option<Projection>> {
    if rules.is_empty() {
        return Ok(None);
    }
    let specs = rules
        .iter()
        .map(|r| parse_spec(r).with_context(|| format!("rule `{r}`")))
        .collect::<Result<Vec<_>>>()?;
    let tightest = specs
        .iter()
        .filter_map(|(s, _)| match s {
            Spec::Cap(p) => Some(*p),
            _ => None,
        })
        .min()
        .unwrap_or(Permille::ONE);
    let mut set = RuleSet::new();
    for (spec, weight) in specs {
        let rule = match spec {
            Spec::Cap(max) => Rule::UtilizationCap { max },
            Spec::WorkConserving => Rule::WorkConserving { max: tightest },
            Spec::NoReservation => Rule::NoReservation,
            Spec::ShorterFirst => Rule::ShorterFirst { max: tightest },
            Spec::BoundedWait(steps) => Rule::BoundedWait {
                steps,
                max: tightest,
            },
        };
        set.push(rule, weight).context("rules")?;
    }
    Projection::new(set, c)
        .map(Some)
        .with_context(|| format!("strength C = {c}"))
}

/// Parses a projection strength `C`: a number >= 0, or `inf`.
///
/// # Errors
/// For anything else.
pub fn parse_strength(text: &str) -> Result<f32> {
    text.parse::<f32>()
        .ok()
        .filter(|c| *c >= 0.0)
        .with_context(|| format!("strength C = `{text}`, must be a number >= 0 or inf"))
}

/// The rules of a projection as text, with their weights when not 1: `util<=0.8`,
/// `no-reservation@2`.
pub fn names(p: &Projection) -> Vec<String> {
    p.rules()
        .iter()
        .map(|(r, w)| {
            if *w == 1.0 {
                r.to_string()
            } else {
                format!("{r}@{w}")
            }
        })
        .collect()
}

/// The strength `C` for reports: a number, or `"inf"` for the shield (JSON has no infinity).
pub fn strength(p: &Projection) -> serde_json::Value {
    if p.c().is_finite() {
        serde_json::json!(p.c())
    } else {
        serde_json::json!("inf")
    }
}

fn mask_names(p: &Projection, mask: RuleMask) -> Vec<String> {
    names(p)
        .into_iter()
        .enumerate()
        .filter(|(l, _)| mask & (1 << l) != 0)
        .map(|(_, n)| n)
        .collect()
}

/// One projected decision, as reported.
#[derive(Clone, Debug, Serialize)]
pub struct DecisionInfo {
    /// Index of the decision in the episode.
    pub decision: u32,
    /// Time step it was made in.
    pub step: u32,
    /// The action taken, as an output index (`slots` is void).
    pub action: usize,
    /// The policy's own greedy choice.
    pub raw_choice: usize,
    /// The policy's probabilities.
    pub raw: Vec<f32>,
    /// The projected probabilities (one-hot on void after a fallback).
    pub projected: Vec<f32>,
    /// Rules that changed the decision.
    pub changed_by: Vec<String>,
    /// Rules the raw choice violates.
    pub raw_violates: Vec<String>,
    /// Truth values `r_l(s, a)` of each rule for the action taken.
    pub truth: Vec<f32>,
    /// Every allowed action violated a rule, so the decision fell back to void.
    pub fallback_void: bool,
}

impl DecisionInfo {
    /// The report of `d`, decision number `decision` made in time step `step`.
    pub fn new<const O: usize>(
        p: &Projection,
        decision: u32,
        step: u32,
        d: &ProjectedDecision<O>,
    ) -> Self {
        let action = d.action.index(O.saturating_sub(1));
        let n = p.rules().len();
        DecisionInfo {
            decision,
            step,
            action,
            raw_choice: d.raw_choice,
            raw: d.raw.to_vec(),
            projected: d.projected.to_vec(),
            changed_by: mask_names(p, d.changed_by),
            raw_violates: mask_names(p, d.violated.get(d.raw_choice).copied().unwrap_or(0)),
            truth: d
                .truth
                .get(action)
                .map(|t| t.iter().take(n).copied().collect())
                .unwrap_or_default(),
            fallback_void: d.fallback_void,
        }
    }
}

/// A time step in which a resource's usage is above a cap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CapViolation {
    /// The time step.
    pub step: u32,
    /// The resource index.
    pub resource: usize,
    /// Units in use.
    pub used: u32,
    /// Capacity, in units.
    pub capacity: u8,
    /// A single job uses the resource in that step (the documented lone-job exception).
    pub lone_job: bool,
}

/// Whether `used` units of a resource's [`RES_UNITS`] are above `max` of its capacity (exactly at
/// the cap is within it: 8 of 10 units keeps `util<=0.8`).
pub fn above_cap(used: u32, max: Permille) -> bool {
    used * 1000 > u32::from(max.get()) * u32::from(RES_UNITS)
}

/// Per resource, the units used together by the jobs running in one time step (given by their
/// demands) and how many of those jobs use it.
fn usage<'a>(demands: impl IntoIterator<Item = &'a [u8; NUM_RES]>) -> [(u32, usize); NUM_RES] {
    let mut out = [(0, 0); NUM_RES];
    for res in demands {
        for (o, &u) in out.iter_mut().zip(res) {
            o.0 += u32::from(u);
            o.1 += usize::from(u > 0);
        }
    }
    out
}

/// Every (time step, resource) whose usage, recomputed from the jobs' start, finish and
/// demand, is above `max` of the capacity, in step order. Steps run to the last finish.
pub fn cap_violations(jobs: &[JobOutcome], max: Permille) -> Vec<CapViolation> {
    let end = jobs.iter().filter_map(|j| j.finish).max().unwrap_or(0);
    let mut out = Vec::new();
    for step in 0..end {
        let running = jobs
            .iter()
            .filter(|j| matches!((j.start, j.finish), (Some(s), Some(f)) if s <= step && step < f));
        for (resource, (used, on)) in usage(running.map(|j| &j.res)).into_iter().enumerate() {
            if above_cap(used, max) {
                out.push(CapViolation {
                    step,
                    resource,
                    used,
                    capacity: RES_UNITS,
                    lone_job: on == 1,
                });
            }
        }
    }
    out
}

/// An [`Observer`] counting an episode's ended time steps, those in which some resource is
/// above a cap, and those in which such a resource is used by two or more jobs (a violation:
/// not the lone-job exception). The test of [`cap_violations`], counted online from the jobs
/// allocated so far, without a per-step record.
#[derive(Clone, Debug)]
pub struct CapCount {
    max: Permille,
    /// Allocated jobs not yet finished: (start, finish, demand).
    running: Vec<(u32, u32, [u8; NUM_RES])>,
    /// Ended time steps.
    pub steps: u64,
    /// Ended time steps with some resource above the cap.
    pub over_cap: u64,
    /// Ended time steps with some resource above the cap and used by two or more jobs.
    pub violations: u64,
}

impl CapCount {
    /// Counts against `max` of each resource's capacity, from zero.
    pub fn new(max: Permille) -> Self {
        CapCount {
            max,
            running: Vec::new(),
            steps: 0,
            over_cap: 0,
            violations: 0,
        }
    }
}

impl Observer for CapCount {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::Decided {
                step: Step::Allocated {
                    job, start, finish, ..
                },
                ..
            } => self.running.push((*start, *finish, job.res)),
            Event::Decided {
                step: Step::MovedOn { ended, .. },
                ..
            } => {
                let t = *ended;
                self.running.retain(|&(_, finish, _)| finish > t);
                let on = usage(
                    self.running
                        .iter()
                        .filter(|&&(start, _, _)| start <= t)
                        .map(|(_, _, res)| res),
                );
                let over = |&(used, _): &(u32, usize)| above_cap(used, self.max);
                self.steps += 1;
                self.over_cap += u64::from(on.iter().any(over));
                self.violations += u64::from(on.iter().any(|u| over(u) && u.1 > 1));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.err().map(|e| format!("{e:#}")).unwrap_or_default()
    }

    #[test]
    fn rules_parse_with_exact_fractions_and_weights() {
        let p = |t: &str| parse_fraction(t).ok().map(Permille::get);
        assert_eq!(p("0.8"), Some(800));
        assert_eq!(p("80%"), Some(800));
        assert_eq!(p("80.5%"), Some(805));
        assert_eq!(p("0.805"), Some(805));
        assert_eq!(p("1"), Some(1000));
        assert_eq!(p("0"), Some(0));
        assert_eq!(p("1.5"), None);
        assert_eq!(p("0.8005"), None);
        assert_eq!(p("-0.1"), None);
        assert_eq!(p(".8"), None);
        let rules: Vec<String> = [
            "no-reservation@2",
            "work-conserving",
            "util<=0.9",
            "util<=80%",
            "shorter-first",
        ]
        .map(String::from)
        .to_vec();
        let proj = projection(&rules, f32::INFINITY).ok().flatten();
        let proj = proj.unwrap_or_else(|| unreachable!());
        assert_eq!(
            names(&proj),
            [
                "no-reservation@2",
                "work-conserving(util<=0.8)",
                "util<=0.9",
                "util<=0.8",
                "shorter-first(util<=0.8)"
            ]
        );
        assert_eq!(strength(&proj), serde_json::json!("inf"));
        assert!(projection(&[], 1.0).is_ok_and(|p| p.is_none()));
        let e = err(projection(&["fifo".to_string()], 1.0));
        assert!(e.contains("`fifo`") && e.contains("work-conserving"), "{e}");
        let e = err(projection(&["util<=2".to_string()], 1.0));
        assert!(e.contains("above 1"), "{e}");
        let e = err(projection(&["no-reservation@-1".to_string()], 1.0));
        assert!(e.contains("weight `-1`"), "{e}");
        let wait = projection(&["wait<=10".to_string(), "util<=0.8".to_string()], 1.0);
        let wait = wait.ok().flatten().unwrap_or_else(|| unreachable!());
        assert_eq!(names(&wait), ["wait<=10(util<=0.8)", "util<=0.8"]);
        let e = err(projection(&["wait<=1001".to_string()], 1.0));
        assert!(e.contains("`1001`") && e.contains("0..=1000"), "{e}");
        let e = err(projection(&["wait<=-3".to_string()], 1.0));
        assert!(e.contains("`-3`"), "{e}");
        assert_eq!(parse_strength("inf").ok(), Some(f32::INFINITY));
        assert_eq!(parse_strength("2.5").ok(), Some(2.5));
        assert!(parse_strength("-1").is_err() && parse_strength("NaN").is_err());
    }

    #[test]
    fn violations_are_recomputed_from_the_schedule() {
        let job = |start: u32, len: u8, res: [u8; 2]| JobOutcome {
            arrival: 0,
            len,
            res,
            start: Some(start),
            finish: Some(start + u32::from(len)),
            rejected: None,
        };
        let jobs = [job(0, 2, [5, 9]), job(1, 2, [4, 0]), job(5, 1, [0, 0])];
        let max = Permille::new(800).unwrap_or(Permille::ONE);
        let v = cap_violations(&jobs, max);
        // Step 0: 9 units of resource 1 by one job (lone). Step 1: 9 units of resource 0 by two
        // jobs, and the lone job again. Step 2: 4 units. Exactly 8 would be within the cap.
        assert_eq!(
            v.iter()
                .map(|v| (v.step, v.resource, v.used, v.lone_job))
                .collect::<Vec<_>>(),
            [(0, 1, 9, true), (1, 0, 9, false), (1, 1, 9, true)]
        );
    }

    #[test]
    fn a_misspelled_rule_gets_the_closest_known_one() {
        let e = |r: &str| {
            format!(
                "{:#}",
                parse_spec(r).err().unwrap_or_else(|| unreachable!())
            )
        };
        assert!(e("work-conservng").contains("did you mean `work-conserving`?"));
        assert!(e("shorter_first").contains("did you mean `shorter-first`?"));
        assert!(e("utl<=0.8").contains("did you mean `util<=0.8`?"));
        assert!(e("wiat<=5").contains("did you mean `wait<=5`?"));
        // Nothing close: no guess, the allowed forms only.
        let far = e("fastest");
        assert!(
            !far.contains("did you mean") && far.contains("allowed"),
            "{far}"
        );
    }
}
