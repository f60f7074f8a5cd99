//! Divergence: the first field in which a replayed trace differs from the recorded one, causes
//! before effects.

use std::fmt;

use serde::Serialize;

use super::format::{Decision, GuardRef, HandoverRef, Trace};

/// The first place a replay differs from its trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Decision index, or `None` for the model, the guard's parameters or the final metrics.
    pub decision: Option<usize>,
    /// Guarded traces: the time step of the hand-over or decision that differs.
    pub step: Option<u32>,
    /// The field, e.g. `logits_bits[3]`.
    pub field: String,
    /// Value in the trace.
    pub expected: String,
    /// Value in the replay.
    pub got: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.decision, self.step) {
            (Some(d), Some(s)) => write!(f, "decision {d} (step {s})")?,
            (Some(d), None) => write!(f, "decision {d}")?,
            (None, Some(s)) => write!(f, "step {s}")?,
            (None, None) => write!(f, "trace")?,
        }
        write!(
            f,
            ", field `{}`: expected {}, got {}",
            self.field, self.expected, self.got
        )
    }
}

fn bits(b: u32) -> String {
    format!("{b:#010x} ({:?})", f32::from_bits(b))
}

/// A JSON value as text (`null` for an absent field).
fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The first difference of two bit-pattern lists named `field` (`field[k]`), of `unit`s.
fn bits_divergence(
    decision: usize,
    field: &str,
    unit: &str,
    expected: &[u32],
    got: &[u32],
) -> Option<Divergence> {
    if expected.len() != got.len() {
        return Some(Divergence {
            decision: Some(decision),
            step: None,
            field: field.to_string(),
            expected: format!("{} {unit}", expected.len()),
            got: format!("{} {unit}", got.len()),
        });
    }
    let (k, (&e, &g)) = expected
        .iter()
        .zip(got.iter())
        .enumerate()
        .find(|(_, (a, b))| a != b)?;
    Some(Divergence {
        decision: Some(decision),
        step: None,
        field: format!("{field}[{k}]"),
        expected: bits(e),
        got: bits(g),
    })
}

/// The first difference in the rule fields of one decision (both traces with or without rules),
/// causes before effects: raw choice, rule verdicts (truth, then violation), projected
/// probabilities; the action is compared by the caller, then [`effects_divergence`].
fn projection_divergence(k: usize, e: &Decision, g: &Decision) -> Option<Divergence> {
    let div = |field: &str, ev: String, gv: String| {
        Some(Divergence {
            decision: Some(k),
            step: None,
            field: field.to_string(),
            expected: ev,
            got: gv,
        })
    };
    if e.raw_choice != g.raw_choice {
        return div("raw_choice", json(&e.raw_choice), json(&g.raw_choice));
    }
    match (&e.rule_verdicts, &g.rule_verdicts) {
        (Some(ev), Some(gv)) if ev.len() != gv.len() => {
            return div(
                "rule_verdicts",
                format!("{} rules", ev.len()),
                format!("{} rules", gv.len()),
            );
        }
        (Some(ev), Some(gv)) => {
            for (l, (er, gr)) in ev.iter().zip(gv.iter()).enumerate() {
                let field = format!("rule_verdicts[{l}].truth_bits");
                if let Some(d) =
                    bits_divergence(k, &field, "actions", &er.truth_bits, &gr.truth_bits)
                {
                    return Some(d);
                }
                if er.violates != gr.violates {
                    return div(
                        &format!("rule_verdicts[{l}].violates"),
                        er.violates.clone(),
                        gr.violates.clone(),
                    );
                }
            }
        }
        (ev, gv) if ev.is_some() != gv.is_some() => {
            return div("rule_verdicts", json(ev), json(gv));
        }
        _ => {}
    }
    match (&e.projected_probs_bits, &g.projected_probs_bits) {
        (Some(ep), Some(gp)) => bits_divergence(k, "projected_probs_bits", "probabilities", ep, gp),
        (ep, gp) if ep.is_some() != gp.is_some() => div("projected_probs_bits", json(ep), json(gp)),
        _ => None,
    }
}

/// The first difference in what the rules did to one decision, once its action agrees.
fn effects_divergence(k: usize, e: &Decision, g: &Decision) -> Option<Divergence> {
    let div = |field: &str, ev: String, gv: String| {
        Some(Divergence {
            decision: Some(k),
            step: None,
            field: field.to_string(),
            expected: ev,
            got: gv,
        })
    };
    if e.fallback_void != g.fallback_void {
        return div(
            "fallback_void",
            json(&e.fallback_void),
            json(&g.fallback_void),
        );
    }
    if e.changed != g.changed {
        return div("changed", json(&e.changed), json(&g.changed));
    }
    if e.changed_by != g.changed_by {
        return div("changed_by", json(&e.changed_by), json(&g.changed_by));
    }
    None
}

/// Compares a replayed trace with the expected one, field by field in file order.
pub fn first_divergence(expected: &Trace, got: &Trace) -> Option<Divergence> {
    let div = |decision, field: &str, e: String, g: String| {
        Some(Divergence {
            decision,
            step: None,
            field: field.to_string(),
            expected: e,
            got: g,
        })
    };
    let file = |t: &Trace| {
        t.policy_file().map_or_else(
            |e| (String::from("model"), format!("{e}")),
            |(kind, f)| {
                (
                    kind.field().to_string(),
                    format!("{} bytes, CRC-32 {:#010x}", f.bytes, f.crc32),
                )
            },
        )
    };
    let (e_file, g_file) = (file(expected), file(got));
    if e_file != g_file {
        if e_file.0 == g_file.0 {
            return div(None, &e_file.0, e_file.1, g_file.1);
        }
        return div(
            None,
            "model or tree",
            format!("{} {}", e_file.0, e_file.1),
            format!("{} {}", g_file.0, g_file.1),
        );
    }
    if expected.slots != got.slots {
        return div(
            None,
            "slots",
            expected.slots.to_string(),
            got.slots.to_string(),
        );
    }
    if expected.int8 != got.int8 {
        return div(None, "int8", json(&expected.int8), json(&got.int8));
    }
    if expected.rules != got.rules {
        return div(None, "rules", json(&expected.rules), json(&got.rules));
    }
    if let Some(d) = guard_params_divergence(expected.guard.as_ref(), got.guard.as_ref()) {
        return Some(d);
    }
    let mut handovers = Handovers::new(expected, got);
    for (k, (e, g)) in expected
        .decisions
        .iter()
        .zip(got.decisions.iter())
        .enumerate()
    {
        let d = Some(k);
        // Hand-overs up to this decision's step come first: they decide who makes it.
        if let Some(d) = handovers.up_to(Some(e.time.min(g.time)), &expected.decisions) {
            return Some(d);
        }
        if e.decision != g.decision {
            return div(
                d,
                "decision",
                e.decision.to_string(),
                g.decision.to_string(),
            );
        }
        if e.time != g.time {
            return div(d, "time", e.time.to_string(), g.time.to_string());
        }
        // A tree's leaf decides its scores: compared before them.
        if e.leaf != g.leaf {
            return div(d, "leaf", json(&e.leaf), json(&g.leaf));
        }
        if let Some(mut d) =
            bits_divergence(k, "logits_bits", "logits", &e.logits_bits, &g.logits_bits)
        {
            if expected.int8.is_some() {
                // The int8 network's logits are `i32`, not `f32` bit patterns.
                let index = d
                    .field
                    .trim_start_matches("logits_bits[")
                    .trim_end_matches(']');
                if let Ok(i) = index.parse::<usize>() {
                    let int = |v: &[u32]| {
                        v.get(i).map_or(String::new(), |&b| {
                            format!("{b:#010x} ({})", b.cast_signed())
                        })
                    };
                    d.expected = int(&e.logits_bits);
                    d.got = int(&g.logits_bits);
                }
            }
            return Some(d);
        }
        if e.valid != g.valid {
            return div(d, "valid", e.valid.clone(), g.valid.clone());
        }
        if let Some(d) = projection_divergence(k, e, g) {
            return Some(d);
        }
        if e.decided_by != g.decided_by {
            return Some(Divergence {
                decision: d,
                step: Some(e.time),
                field: "decided_by".to_string(),
                expected: json(&e.decided_by),
                got: json(&g.decided_by),
            });
        }
        if e.action != g.action {
            return div(d, "action", e.action.to_string(), g.action.to_string());
        }
        if let Some(d) = effects_divergence(k, e, g) {
            return Some(d);
        }
    }
    if expected.decisions.len() != got.decisions.len() {
        let n = expected.decisions.len().min(got.decisions.len());
        return div(
            Some(n),
            "decisions",
            format!("{} decisions", expected.decisions.len()),
            format!("{} decisions", got.decisions.len()),
        );
    }
    if let Some(d) = handovers.up_to(None, &expected.decisions) {
        return Some(d);
    }
    if let (Some(e), Some(g)) = (&expected.guard, &got.guard) {
        if let Some(d) = fields_divergence("guard.stats.", &e.stats, &g.stats) {
            return Some(d);
        }
    }
    if let Some(d) = fields_divergence("summary.", &expected.summary, &got.summary) {
        return Some(d);
    }
    None
}

/// The first differing field of two flat records, named `prefix` + key.
fn fields_divergence<T: Serialize>(prefix: &str, expected: &T, got: &T) -> Option<Divergence> {
    let (e, g) = (
        serde_json::to_value(expected).unwrap_or_default(),
        serde_json::to_value(got).unwrap_or_default(),
    );
    let (e, g) = (e.as_object()?, g.as_object()?);
    let (key, ev) = e
        .iter()
        .find(|(key, ev)| g.get(key.as_str()).cloned().unwrap_or_default() != **ev)?;
    Some(Divergence {
        decision: None,
        step: None,
        field: format!("{prefix}{key}"),
        expected: ev.to_string(),
        got: g.get(key.as_str()).cloned().unwrap_or_default().to_string(),
    })
}

/// The first difference in a guard's parameters (mode, eps, c, fallback), or in its presence.
fn guard_params_divergence(
    expected: Option<&GuardRef>,
    got: Option<&GuardRef>,
) -> Option<Divergence> {
    let div = |field: &str, e: String, g: String| {
        Some(Divergence {
            decision: None,
            step: None,
            field: field.to_string(),
            expected: e,
            got: g,
        })
    };
    match (expected, got) {
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => div(
            "guard",
            json(&expected.map(|g| (&g.mode, g.eps, g.c))),
            json(&got.map(|g| (&g.mode, g.eps, g.c))),
        ),
        (Some(e), Some(g)) if e.mode != g.mode => div("guard.mode", json(&e.mode), json(&g.mode)),
        (Some(e), Some(g)) if e.eps != g.eps => div("guard.eps", json(&e.eps), json(&g.eps)),
        (Some(e), Some(g)) if e.c != g.c => div("guard.c", json(&e.c), json(&g.c)),
        (Some(e), Some(g)) if e.fallback != g.fallback => {
            div("guard.fallback", json(&e.fallback), json(&g.fallback))
        }
        _ => None,
    }
}

/// The hand-overs of two guarded traces, compared in time order as the decisions are.
struct Handovers<'t> {
    expected: &'t [HandoverRef],
    got: &'t [HandoverRef],
    next: usize,
}

impl<'t> Handovers<'t> {
    fn new(expected: &'t Trace, got: &'t Trace) -> Self {
        let list = |t: &'t Trace| t.guard.as_ref().map_or(&[][..], |g| g.handovers.as_slice());
        Handovers {
            expected: list(expected),
            got: list(got),
            next: 0,
        }
    }

    /// Compares the hand-overs not yet compared whose step is at most `step` (all with
    /// `None`); a difference names the hand-over's step and the first decision made then.
    fn up_to(&mut self, step: Option<u32>, decisions: &[Decision]) -> Option<Divergence> {
        loop {
            let (e, g) = (self.expected.get(self.next), self.got.get(self.next));
            let first = match (e, g) {
                (None, None) => return None,
                (Some(e), Some(g)) => e.step.min(g.step),
                (Some(h), None) | (None, Some(h)) => h.step,
            };
            if step.is_some_and(|s| first > s) {
                return None;
            }
            let k = self.next;
            self.next += 1;
            let div = |field: &str, ev: String, gv: String| {
                Some(Divergence {
                    decision: decisions.iter().position(|d| d.time >= first),
                    step: Some(first),
                    field: format!("guard.handovers[{k}]{field}"),
                    expected: ev,
                    got: gv,
                })
            };
            match (e, g) {
                (Some(e), Some(g)) if e != g => {
                    let (ev, gv) = (json(e), json(g));
                    let field = if e.step != g.step {
                        ".step"
                    } else if e.to != g.to {
                        ".to"
                    } else if e.reason != g.reason {
                        ".reason"
                    } else if e.real_cost != g.real_cost {
                        ".real_cost"
                    } else {
                        ".sjf_cost"
                    };
                    return div(field, ev, gv);
                }
                (Some(_), Some(_)) => {}
                (e, g) => return div("", json(&e), json(&g)),
            }
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::End;
    use crate::trace::format::tests::sample;
    use crate::trace::format::{end_ref, model_ref, RuleVerdict, FORMAT, VERSION};
    use crate::trace::record::rules_ref;
    use whitebox_core::Summary;

    #[test]
    fn a_tampered_hand_over_or_decider_names_its_step_before_later_decisions() {
        use crate::trace::format::{GuardRef, HandoverRef};
        let mut t = sample();
        let mut late = t.decisions[0].clone();
        (late.decision, late.time) = (1, 7);
        t.decisions.push(late);
        for d in &mut t.decisions {
            d.decided_by = Some("learned".into());
        }
        t.decisions[1].decided_by = Some("fallback".into());
        let hand_over = |step, to: &str, reason: &str| HandoverRef {
            step,
            to: to.into(),
            reason: reason.into(),
            real_cost: 10 * u64::from(step),
            sjf_cost: 3 * u64::from(step),
        };
        t.guard = Some(GuardRef {
            handovers: vec![
                hand_over(0, "learned", "start"),
                hand_over(7, "fallback", "over-budget"),
            ],
            ..GuardRef::new(&crate::guard::GuardSettings::default())
        });
        assert_eq!(first_divergence(&t, &t), None);
        let mut other = t.clone();
        if let Some(g) = other.guard.as_mut() {
            g.handovers[1].real_cost += 1;
        }
        // A later logit differs too; the hand-over at step 7 comes first, as decision 1.
        other.decisions[1].logits_bits[0] ^= 1;
        let d = first_divergence(&t, &other).expect("diverges");
        assert_eq!((d.decision, d.step), (Some(1), Some(7)));
        assert_eq!(d.field, "guard.handovers[1].real_cost");
        assert!(
            d.to_string().starts_with("decision 1 (step 7), field"),
            "{d}"
        );
        let mut other = t.clone();
        other.decisions[1].decided_by = Some("learned".into());
        let d = first_divergence(&t, &other).expect("diverges");
        assert_eq!((d.field.as_str(), d.step), ("decided_by", Some(7)));
        let mut other = t.clone();
        other.guard = None;
        let d = first_divergence(&t, &other).map(|d| d.field);
        assert_eq!(d.as_deref(), Some("guard"));
        let mut other = t.clone();
        if let Some(g) = other.guard.as_mut() {
            g.fallback = Some("sjf-reserve".into());
        }
        let d = first_divergence(&t, &other).map(|d| d.field);
        assert_eq!(d.as_deref(), Some("guard.fallback"));
    }

    #[test]
    fn a_flipped_logit_bit_is_named_with_its_decision_and_index() {
        let t = sample();
        let mut other = t.clone();
        other.decisions[0].logits_bits[2] ^= 1;
        let d = first_divergence(&t, &other).expect("diverges");
        assert_eq!(d.decision, Some(0));
        assert_eq!(d.field, "logits_bits[2]");
        assert!(d.expected.starts_with("0x3f800000") && d.got.starts_with("0x3f800001"));
        assert_eq!(first_divergence(&t, &t), None);
    }

    #[test]
    fn rule_fields_round_trip_and_diverge_causes_first() {
        let given = vec!["util<=0.8".to_string(), "work-conserving".to_string()];
        let p = crate::rules::projection(&given, 6.0)
            .ok()
            .flatten()
            .unwrap_or_else(|| unreachable!());
        let r = rules_ref(&given, &p);
        assert_eq!(r.c, serde_json::json!(6.0));
        assert_eq!(r.set[1].rule, "work-conserving(util<=0.8)");
        assert_eq!(r.set[1].max_permille, Some(800));
        let one = 0x3f80_0000;
        let d = Decision {
            valid: "111".into(),
            logits_bits: vec![0; 3],
            action: 1,
            raw_choice: Some(0),
            rule_verdicts: Some(vec![
                RuleVerdict {
                    violates: "100".into(),
                    truth_bits: vec![0x3f00_0000, one, one],
                },
                RuleVerdict {
                    violates: "000".into(),
                    truth_bits: vec![one; 3],
                },
            ]),
            projected_probs_bits: Some(vec![0x3e00_0000, 0x3f00_0000, 0x3e80_0000]),
            changed: Some(true),
            changed_by: Some(vec![0]),
            fallback_void: Some(false),
            ..Decision::default()
        };
        let t = Trace {
            format: FORMAT.to_string(),
            version: VERSION,
            model: Some(model_ref("m.model", &[0; 8])),
            tree: None,
            slots: 2,
            int8: None,
            end: end_ref(End::AllDone, 50, 100),
            rules: Some(r),
            guard: None,
            source: "jobs.json".into(),
            jobs: Vec::new(),
            decisions: vec![d],
            summary: Summary::default(),
        };
        let text = t.to_text().expect("text");
        assert_eq!(Trace::parse(&text).expect("parse"), t);
        let field = |f: &dyn Fn(&mut Decision)| {
            let mut o = t.clone();
            f(&mut o.decisions[0]);
            first_divergence(&t, &o).map(|d| d.field)
        };
        let probs = |d: &mut Decision| {
            if let Some(p) = d.projected_probs_bits.as_mut() {
                p[2] ^= 1;
            }
        };
        assert_eq!(field(&probs).as_deref(), Some("projected_probs_bits[2]"));
        // A truth value is a cause of the probabilities: reported first.
        let both = |d: &mut Decision| {
            probs(d);
            if let Some(v) = d.rule_verdicts.as_mut() {
                v[1].truth_bits[0] = 0;
            }
        };
        assert_eq!(
            field(&both).as_deref(),
            Some("rule_verdicts[1].truth_bits[0]")
        );
        let changed = |d: &mut Decision| d.changed_by = Some(vec![]);
        assert_eq!(field(&changed).as_deref(), Some("changed_by"));
        let gone = |d: &mut Decision| d.projected_probs_bits = None;
        assert_eq!(field(&gone).as_deref(), Some("projected_probs_bits"));
        let mut other = t.clone();
        other.rules = None;
        assert_eq!(
            first_divergence(&t, &other).map(|d| d.field).as_deref(),
            Some("rules")
        );
    }
}
