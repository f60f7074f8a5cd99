//! Policies by name (`sjf`, `model:PATH`, ...), the policies they resolve to and the schedulers
//! those build.
//!
//! Names are parsed before anything runs so a typo fails fast with the allowed names; a
//! `model:PATH` name loads a model file once, when the policy is resolved, and an `int8:PATH`
//! name also quantizes it to int8 then ([`crate::models::int8::load_int8`]); a `tree:PATH`
//! name loads a decision-tree file ([`crate::models::tree::load_tree`]).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use whitebox_core::projection::Projection;
use whitebox_core::Preference;
use whitebox_core::{
    Action, Cluster, FallbackKind, Packer, PolicyError, RandomPolicy, Scheduler, Sjf, Tetris,
};

use crate::guard::GuardSettings;
use crate::models::tree::LoadedTree;
use crate::models::{Decide, LoadedModel};

/// A policy, by name: a baseline or a model file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyName {
    /// Shortest job first.
    Sjf,
    /// DeepRM's Packer (best alignment).
    Packer,
    /// Tetris: alignment blended with SJF by a knob.
    Tetris,
    /// Uniformly random action.
    Random,
    /// SJF with a reservation for the shortest waiting job when it does not fit now
    /// ([`whitebox_core::SjfReserve`]); not one of the report's [`PolicyName::BASELINES`].
    SjfReserve,
    /// [`whitebox_core::SjfReserve`] that reserves only a job that has waited at least its length
    /// ([`whitebox_core::SjfReserveAged`]); not a baseline either.
    SjfReserveAged,
    /// A learned policy from a model file (greedy, invalid actions masked).
    Model(PathBuf),
    /// The same, quantized to int8 when loaded ([`whitebox_core::quant`]).
    Int8(PathBuf),
    /// A decision tree from a tree file ([`whitebox_core::tree`]).
    Tree(PathBuf),
}

/// Prefix of learned-policy names (`model:PATH`).
pub const MODEL_PREFIX: &str = "model:";
/// Prefix of int8-quantized learned-policy names (`int8:PATH`).
pub const INT8_PREFIX: &str = "int8:";
/// Prefix of decision-tree policy names (`tree:PATH`).
pub const TREE_PREFIX: &str = "tree:";

impl PolicyName {
    /// Every baseline, in report order.
    pub const BASELINES: [PolicyName; 4] = [
        PolicyName::Sjf,
        PolicyName::Packer,
        PolicyName::Tetris,
        PolicyName::Random,
    ];

    /// Every rule-based policy a name selects: the baselines, `sjf-reserve` and
    /// `sjf-reserve-aged`.
    pub const RULE_BASED: [PolicyName; 6] = [
        PolicyName::Sjf,
        PolicyName::Packer,
        PolicyName::Tetris,
        PolicyName::Random,
        PolicyName::SjfReserve,
        PolicyName::SjfReserveAged,
    ];

    /// The command-line name of a baseline.
    fn baseline_name(&self) -> &'static str {
        match self {
            PolicyName::Sjf => "sjf",
            PolicyName::Packer => "packer",
            PolicyName::Tetris => "tetris",
            PolicyName::Random => "random",
            PolicyName::SjfReserve => "sjf-reserve",
            PolicyName::SjfReserveAged => "sjf-reserve-aged",
            PolicyName::Model(_) => "model",
            PolicyName::Int8(_) => "int8",
            PolicyName::Tree(_) => "tree",
        }
    }

    /// The command-line name (`model:PATH` for a model).
    pub fn name(&self) -> String {
        match self {
            PolicyName::Model(path) => format!("{MODEL_PREFIX}{}", path.display()),
            PolicyName::Int8(path) => format!("{INT8_PREFIX}{}", path.display()),
            PolicyName::Tree(path) => format!("{TREE_PREFIX}{}", path.display()),
            other => other.baseline_name().to_string(),
        }
    }

    /// True for a learned policy (a model, int8 or tree file): the kind a guard insures.
    pub fn is_learned(&self) -> bool {
        matches!(
            self,
            PolicyName::Model(_) | PolicyName::Int8(_) | PolicyName::Tree(_)
        )
    }

    /// Parses one policy name.
    ///
    /// # Errors
    /// For an empty `model:` path and for an unknown name (the message lists the allowed
    /// names).
    pub fn parse(text: &str) -> Result<PolicyName> {
        if let Some(path) = text.strip_prefix(MODEL_PREFIX) {
            if path.is_empty() {
                bail!("policy `{text}`: the model path is empty; write {MODEL_PREFIX}PATH");
            }
            return Ok(PolicyName::Model(PathBuf::from(path)));
        }
        if let Some(path) = text.strip_prefix(INT8_PREFIX) {
            if path.is_empty() {
                bail!("policy `{text}`: the model path is empty; write {INT8_PREFIX}PATH");
            }
            return Ok(PolicyName::Int8(PathBuf::from(path)));
        }
        if let Some(path) = text.strip_prefix(TREE_PREFIX) {
            if path.is_empty() {
                bail!("policy `{text}`: the tree path is empty; write {TREE_PREFIX}PATH");
            }
            return Ok(PolicyName::Tree(PathBuf::from(path)));
        }
        match PolicyName::RULE_BASED
            .into_iter()
            .find(|p| p.baseline_name() == text)
        {
            Some(p) => Ok(p),
            None => bail!(
                "unknown policy `{text}`; allowed: {}, {MODEL_PREFIX}PATH, {INT8_PREFIX}PATH or {TREE_PREFIX}PATH",
                PolicyName::RULE_BASED.map(|p| p.baseline_name()).join(", ")
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

    /// The policy with its parameters: `knob` for Tetris (in `[0, 1]`), `seed` for Random;
    /// a model file is loaded here.
    ///
    /// # Errors
    /// When this is Tetris and `knob` is not a number in `[0, 1]`, or the model file cannot be
    /// read or is invalid.
    pub fn with(&self, knob: f64, seed: u64) -> Result<PolicySpec> {
        Ok(match self {
            PolicyName::Model(path) => PolicySpec::Learned(Arc::new(crate::models::load(path)?)),
            PolicyName::Int8(path) => {
                PolicySpec::Learned(Arc::new(crate::models::int8::load_int8(path)?))
            }
            PolicyName::Tree(path) => {
                PolicySpec::Tree(Arc::new(crate::models::tree::load_tree(path)?))
            }
            PolicyName::Sjf => PolicySpec::Sjf,
            PolicyName::Packer => PolicySpec::Packer,
            PolicyName::Tetris => PolicySpec::Tetris {
                knob: check_knob(knob)?,
            },
            PolicyName::Random => PolicySpec::Random { seed },
            PolicyName::SjfReserve => PolicySpec::Reserving(FallbackKind::SjfReserve),
            PolicyName::SjfReserveAged => PolicySpec::Reserving(FallbackKind::SjfReserveAged),
        })
    }
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A policy with the name reports show for it. On the command line `LABEL=POLICY` (for example
/// `dnn=model:runs/a.model`) labels a policy; a plain `POLICY` is shown as its own name.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedPolicy {
    /// The policy.
    pub policy: PolicyName,
    /// The name shown in tables, JSON and plots.
    pub label: String,
    /// Rules every decision of the policy is projected onto, if any.
    pub rules: Option<Projection>,
    /// A guard insuring the (learned) policy against SJF, if any (`docs/guard.md`).
    pub guard: Option<GuardSettings>,
}

impl From<PolicyName> for NamedPolicy {
    fn from(policy: PolicyName) -> Self {
        let label = policy.name();
        NamedPolicy {
            policy,
            label,
            rules: None,
            guard: None,
        }
    }
}

impl NamedPolicy {
    /// `policy` shown as `label`.
    pub fn labelled(label: impl Into<String>, policy: PolicyName) -> Self {
        NamedPolicy {
            policy,
            label: label.into(),
            rules: None,
            guard: None,
        }
    }

    /// The same policy projected onto `rules` (see [`PolicySpec::projected`]).
    pub fn with_rules(mut self, rules: Option<Projection>) -> Self {
        self.rules = rules;
        self
    }

    /// The same policy guarded by `guard` (see [`PolicySpec::guarded`]).
    pub fn with_guard(mut self, guard: Option<GuardSettings>) -> Self {
        self.guard = guard;
        self
    }

    /// The policy with its parameters, rules and guard, as [`PolicyName::with`],
    /// [`PolicySpec::projected`] and [`PolicySpec::guarded`].
    ///
    /// # Errors
    /// As [`PolicyName::with`], and a guard on a policy that is not learned.
    pub fn resolve(&self, knob: f64, seed: u64) -> Result<PolicySpec> {
        check_guardable(&self.policy, self.guard.as_ref())?;
        self.policy
            .with(knob, seed)?
            .projected(self.rules.clone())
            .guarded(self.guard)
    }

    /// Parses `POLICY` or `LABEL=POLICY`; a label is letters, digits, `-`, `_` and `.` (so
    /// `model:a=b.model` is a model path, not a label).
    ///
    /// # Errors
    /// As [`PolicyName::parse`], and for a label that is another baseline's name.
    pub fn parse(text: &str) -> Result<NamedPolicy> {
        let is_label = |l: &str| {
            !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        let Some((label, policy)) = text.split_once('=').filter(|(l, _)| is_label(l)) else {
            return PolicyName::parse(text).map(NamedPolicy::from);
        };
        let policy = PolicyName::parse(policy)?;
        if label != policy.name() && PolicyName::RULE_BASED.iter().any(|b| b.name() == label) {
            bail!("policy `{text}`: the label `{label}` is the name of another policy");
        }
        Ok(NamedPolicy::labelled(label, policy))
    }

    /// Parses a comma-separated list of (optionally labelled) policies.
    ///
    /// # Errors
    /// As [`NamedPolicy::parse`] for each item, for an empty list, and when two items would be
    /// shown under the same name.
    pub fn parse_list(text: &str) -> Result<Vec<NamedPolicy>> {
        let list = crate::lists::parse_list(text, "policy", NamedPolicy::parse)?;
        for (i, p) in list.iter().enumerate() {
            if list[..i].iter().any(|q| q.label == p.label) {
                bail!("policy name `{}` given more than once in `{text}`", p.label);
            }
        }
        Ok(list)
    }
}

/// Refuses a guard on a policy that is not learned: the guard insures a learned policy against
/// SJF (guarding a baseline is pointless, and Random is not a deterministic function of the
/// cluster state, which the guard's theorem needs).
///
/// # Errors
/// When `guard` is given and `policy` is not `model:PATH`, `int8:PATH` or `tree:PATH`.
pub fn check_guardable(policy: &PolicyName, guard: Option<&GuardSettings>) -> Result<()> {
    if guard.is_some() && !policy.is_learned() {
        bail!(
            "policy `{policy}` cannot be guarded: a guard insures a learned policy \
             ({MODEL_PREFIX}PATH, {INT8_PREFIX}PATH or {TREE_PREFIX}PATH) against SJF"
        );
    }
    Ok(())
}

/// Checks a Tetris knob.
///
/// # Errors
/// When `knob` is NaN or outside `[0, 1]`.
pub fn check_knob(knob: f64) -> Result<f64> {
    if !(0.0..=1.0).contains(&knob) {
        bail!("tetris knob = {knob}, must be in [0, 1]");
    }
    Ok(knob)
}

/// A fully parameterised policy, ready to build a scheduler for any slot count.
#[derive(Clone, Debug)]
pub enum PolicySpec {
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
    /// SJF with or without a reservation, by its fallback name ([`FallbackKind`]: `sjf-reserve`
    /// and `sjf-reserve-aged` as policies of their own).
    Reserving(FallbackKind),
    /// A loaded model (deciding with its int8 network when it has one), shared between threads.
    Learned(Arc<LoadedModel>),
    /// A loaded decision tree, shared between threads.
    Tree(Arc<LoadedTree>),
    /// A policy whose every decision is projected onto operator rules
    /// ([`whitebox_core::projection`]).
    Projected(Box<PolicySpec>, Projection),
    /// A learned policy (possibly projected onto rules) guarded by SJF projected onto the same
    /// rules ([`whitebox_core::Guard`], `docs/guard.md`); built by [`PolicySpec::guarded`].
    Guarded(Box<PolicySpec>, GuardSettings),
}

impl PolicySpec {
    /// The same policy with another seed (only Random uses one).
    pub fn reseeded(&self, seed: u64) -> PolicySpec {
        match self {
            PolicySpec::Random { .. } => PolicySpec::Random { seed },
            PolicySpec::Projected(base, p) => {
                PolicySpec::Projected(Box::new(base.reseeded(seed)), p.clone())
            }
            PolicySpec::Guarded(base, g) => PolicySpec::Guarded(Box::new(base.reseeded(seed)), *g),
            other => other.clone(),
        }
    }

    /// This policy guarded by `guard` against SJF (under the same rules, if projected);
    /// unchanged for `None`, a guarded policy's settings are replaced.
    ///
    /// # Errors
    /// When `guard` is given and the policy underneath the rules is not learned.
    pub fn guarded(self, guard: Option<GuardSettings>) -> Result<PolicySpec> {
        let Some(g) = guard else {
            return Ok(self);
        };
        let base = match self {
            PolicySpec::Guarded(base, _) => *base,
            other => other,
        };
        let is_learned = |p: &PolicySpec| matches!(p, PolicySpec::Learned(_) | PolicySpec::Tree(_));
        let learned = match &base {
            PolicySpec::Projected(inner, _) => is_learned(inner),
            other => is_learned(other),
        };
        if !learned {
            bail!(
                "only a learned policy can be guarded \
                 ({MODEL_PREFIX}PATH, {INT8_PREFIX}PATH or {TREE_PREFIX}PATH)"
            );
        }
        Ok(PolicySpec::Guarded(Box::new(base), g))
    }

    /// The guard settings of a guarded policy.
    pub fn guard(&self) -> Option<&GuardSettings> {
        match self {
            PolicySpec::Guarded(_, g) => Some(g),
            _ => None,
        }
    }

    /// This policy projected onto `rules` (unchanged for `None`; a projected policy's rules are
    /// replaced; a guarded policy's learned part and fallback are both projected).
    pub fn projected(self, rules: Option<Projection>) -> PolicySpec {
        match (self, rules) {
            (PolicySpec::Guarded(base, g), rules) => {
                PolicySpec::Guarded(Box::new(base.projected(rules)), g)
            }
            (PolicySpec::Projected(base, _), Some(p)) => PolicySpec::Projected(base, p),
            (base, Some(p)) => PolicySpec::Projected(Box::new(base), p),
            (base, None) => base,
        }
    }

    /// The projection every decision goes through, if any (`None` for a guarded policy, whose
    /// learned part and fallback each go through the rules of [`PolicySpec::guarded`]'s base).
    pub fn projection(&self) -> Option<&Projection> {
        match self {
            PolicySpec::Projected(_, p) => Some(p),
            _ => None,
        }
    }

    /// Job slots the policy requires (a model's), if any.
    pub fn required_slots(&self) -> Option<usize> {
        match self {
            PolicySpec::Learned(m) => Some(m.slots()),
            PolicySpec::Tree(t) => Some(t.slots()),
            PolicySpec::Projected(base, _) | PolicySpec::Guarded(base, _) => base.required_slots(),
            _ => None,
        }
    }

    /// A fresh scheduler (a new random stream for Random). For a projected or guarded policy
    /// this is the scheduler of the policy underneath; [`crate::play`] adds the projection and
    /// the guard.
    pub fn scheduler(&self) -> AnyScheduler {
        match self {
            PolicySpec::Sjf => AnyScheduler::Sjf(Sjf),
            PolicySpec::Packer => AnyScheduler::Packer(Packer),
            PolicySpec::Tetris { knob } => AnyScheduler::Tetris(Tetris { knob: *knob }),
            PolicySpec::Random { seed } => AnyScheduler::Random(RandomPolicy::new(*seed)),
            PolicySpec::Reserving(kind) => AnyScheduler::Reserving(*kind),
            PolicySpec::Learned(m) => AnyScheduler::Learned(Arc::clone(m)),
            PolicySpec::Tree(t) => AnyScheduler::Tree(Arc::clone(t)),
            PolicySpec::Projected(base, _) | PolicySpec::Guarded(base, _) => base.scheduler(),
        }
    }
}

/// The scheduler of a [`PolicySpec`] for any slot count (a rule-based baseline or a learned
/// model); an enum rather than a box so one value serves both
/// `M = 5` and `M = 10` without dynamic dispatch.
#[derive(Clone, Debug)]
pub enum AnyScheduler {
    /// See [`Sjf`].
    Sjf(Sjf),
    /// See [`Packer`].
    Packer(Packer),
    /// See [`Tetris`].
    Tetris(Tetris),
    /// See [`RandomPolicy`].
    Random(RandomPolicy),
    /// See [`FallbackKind`] (the guard's fallbacks, also policies of their own).
    Reserving(FallbackKind),
    /// A learned policy, see [`Decide`].
    Learned(Arc<LoadedModel>),
    /// A decision tree, see [`Decide`].
    Tree(Arc<LoadedTree>),
}

impl<const M: usize> Scheduler<M> for AnyScheduler
where
    LoadedModel: Decide<M>,
    LoadedTree: Decide<M>,
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        match self {
            AnyScheduler::Sjf(s) => s.decide(cluster),
            AnyScheduler::Packer(s) => s.decide(cluster),
            AnyScheduler::Tetris(s) => s.decide(cluster),
            AnyScheduler::Random(s) => s.decide(cluster),
            AnyScheduler::Reserving(s) => s.decide(cluster),
            AnyScheduler::Learned(m) => m.decide_greedy(cluster),
            AnyScheduler::Tree(t) => t.decide_greedy(cluster),
        }
    }
}

impl<const M: usize> Preference<M> for AnyScheduler
where
    LoadedModel: Decide<M>,
    LoadedTree: Decide<M>,
{
    fn preference<const O: usize>(
        &mut self,
        cluster: &Cluster<M>,
        logits: &mut [f32; O],
        valid: &mut [bool; O],
    ) -> Result<(), PolicyError> {
        match self {
            AnyScheduler::Sjf(s) => s.preference(cluster, logits, valid),
            AnyScheduler::Packer(s) => s.preference(cluster, logits, valid),
            AnyScheduler::Tetris(s) => s.preference(cluster, logits, valid),
            AnyScheduler::Random(s) => s.preference(cluster, logits, valid),
            AnyScheduler::Reserving(s) => s.preference(cluster, logits, valid),
            AnyScheduler::Learned(m) => m.preference(cluster, logits, valid),
            AnyScheduler::Tree(t) => t.preference(cluster, logits, valid),
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
            assert_eq!(PolicyName::parse(&p.name()).ok(), Some(p));
        }
        let e = err(PolicyName::parse("fifo"));
        assert!(
            e.contains("`fifo`") && e.contains("sjf, packer, tetris, random"),
            "{e}"
        );
        assert_eq!(
            PolicyName::parse("model:x.model").ok(),
            Some(PolicyName::Model(PathBuf::from("x.model")))
        );
        let e = err(PolicyName::parse("model:"));
        assert!(e.contains("path is empty"), "{e}");
        assert_eq!(
            PolicyName::parse("int8:x.model").ok(),
            Some(PolicyName::Int8(PathBuf::from("x.model")))
        );
        assert_eq!(
            PolicyName::Int8(PathBuf::from("x.model")).name(),
            "int8:x.model"
        );
        let e = err(PolicyName::parse("int8:"));
        assert!(e.contains("path is empty"), "{e}");
        assert_eq!(
            PolicyName::Tree(PathBuf::from("t.tree")).name(),
            "tree:t.tree"
        );
        let e = err(PolicyName::parse("tree:"));
        assert!(e.contains("tree path is empty"), "{e}");
        let e = err(PolicyName::Tree(PathBuf::from("/nonexistent.tree")).with(0.5, 0));
        assert!(e.contains("/nonexistent.tree"), "{e}");
        let e = err(PolicyName::Model(PathBuf::from("/nonexistent.model")).with(0.5, 0));
        assert!(e.contains("/nonexistent.model"), "{e}");
        assert_eq!(
            PolicyName::parse_list("sjf,random").ok(),
            Some(vec![PolicyName::Sjf, PolicyName::Random])
        );
        let e = err(PolicyName::parse_list("sjf,sjf"));
        assert!(e.contains("`sjf`") && e.contains("more than once"), "{e}");
    }

    #[test]
    fn labels_name_policies_in_reports() {
        let p = NamedPolicy::parse("dnn=model:a=b.model").ok();
        assert_eq!(
            p,
            Some(NamedPolicy::labelled(
                "dnn",
                PolicyName::Model(PathBuf::from("a=b.model"))
            ))
        );
        // `model:a` is not a label: the whole text is a model path.
        let p = NamedPolicy::parse("model:a=b.model").ok();
        assert_eq!(p.map(|p| p.label), Some("model:a=b.model".to_string()));
        assert_eq!(
            NamedPolicy::parse("sjf").ok(),
            Some(NamedPolicy::labelled("sjf", PolicyName::Sjf))
        );
        let e = err(NamedPolicy::parse("sjf=packer"));
        assert!(e.contains("`sjf`") && e.contains("another policy"), "{e}");
        let e = err(NamedPolicy::parse("x=fifo"));
        assert!(e.contains("`fifo`"), "{e}");
        let e = err(NamedPolicy::parse_list("x=sjf,x=packer"));
        assert!(e.contains("`x`") && e.contains("more than once"), "{e}");
        assert_eq!(
            NamedPolicy::parse_list("a=sjf,sjf").map(|l| l.len()).ok(),
            Some(2)
        );
    }

    #[test]
    fn only_learned_policies_are_guarded_and_rules_reach_inside_the_guard() {
        let g = Some(GuardSettings::default());
        let e = err(PolicySpec::Sjf.guarded(g));
        assert!(e.contains("only a learned policy"), "{e}");
        assert!(matches!(PolicySpec::Sjf.guarded(None), Ok(PolicySpec::Sjf)));
        let e = err(NamedPolicy::from(PolicyName::Random)
            .with_guard(g)
            .resolve(0.5, 0));
        assert!(e.contains("`random` cannot be guarded"), "{e}");
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/models/deeprm.model"
        );
        let model = NamedPolicy::from(PolicyName::Model(PathBuf::from(path)));
        let rules = crate::rules::projection(&["util<=0.8".to_string()], f32::INFINITY)
            .unwrap_or_else(|e| unreachable!("{e:#}"));
        // Rules then guard, or guard then rules: the guard holds the projected learned policy.
        let a = model
            .clone()
            .with_rules(rules.clone())
            .with_guard(g)
            .resolve(0.5, 0);
        let b = model
            .resolve(0.5, 0)
            .and_then(|p| p.guarded(g))
            .map(|p| p.projected(rules));
        for p in [a, b] {
            let p = p.unwrap_or_else(|e| unreachable!("{e:#}"));
            assert!(p.projection().is_none() && p.guard().is_some());
            assert_eq!(p.required_slots(), Some(10));
            assert!(
                matches!(&p, PolicySpec::Guarded(base, _) if base.projection().is_some()),
                "{p:?}"
            );
        }
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
