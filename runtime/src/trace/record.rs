//! Recording: the learned policy plays the trace's jobs and writes down every decision.

use std::path::Path;

use crate::models::{AnyModel, LoadedModel, HIDDEN};
use anyhow::{Context, Result};
use whitebox_core::encoding::{Compact, Encoder, Image};
use whitebox_core::guard::{Guard, GuardParams};
use whitebox_core::nn::Mlp;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::{
    run, Action, Cluster, EndMode, Episode, Job, PolicyError, Projected, Projection, Rule,
    Scheduler, Sjf, Summary,
};

use super::format::{
    end_mode, leader_name, model_ref, Decision, EndRef, GuardRef, GuardStatsRef, HandoverRef,
    RuleRef, RuleVerdict, RulesRef, Trace, TraceJob, FORMAT, VERSION,
};

/// A scheduler borrowed as a trait object, so the guard can hold a plain or a projected one.
struct Dyn<'s, const M: usize>(&'s mut dyn Scheduler<M>);

impl<const M: usize> Scheduler<M> for Dyn<'_, M> {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        self.0.decide(cluster)
    }
}

/// A learned policy that writes down every decision made on the real cluster: the policy's
/// logits and mask, projected onto `projection`'s rules when there are any (as the core's
/// `Projected` scheduler decides). With a `guard` (around the same policy), the guard decides
/// and the record also says which scheduler it gave the decision to, and every hand-over.
struct Tracing<'m, 'g, E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize> {
    policy: MlpPolicy<'m, E, M, I, H, O>,
    projection: Option<&'m Projection>,
    guard: Option<Guard<'g, Dyn<'g, M>, Dyn<'g, M>, M>>,
    decisions: Vec<Decision>,
    handovers: Vec<HandoverRef>,
}

/// `1`/`0` per entry.
fn flags(bits: impl Iterator<Item = bool>) -> String {
    bits.map(|v| if v { '1' } else { '0' }).collect()
}

impl<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize> Scheduler<M>
    for Tracing<'_, '_, E, M, I, H, O>
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        self.policy.evaluate(cluster);
        let mut d = Decision {
            decision: u32::try_from(self.decisions.len()).unwrap_or(u32::MAX),
            time: cluster.now(),
            action: M,
            valid: flags(self.policy.valid().iter().copied()),
            logits_bits: self.policy.logits().iter().map(|l| l.to_bits()).collect(),
            ..Decision::default()
        };
        let mut action = match self.projection {
            None => self.policy.greedy()?,
            Some(p) => {
                let q = p.project(self.policy.logits(), self.policy.valid(), cluster)?;
                let rules = 0..p.rules().len();
                d.raw_choice = Some(q.raw_choice);
                d.rule_verdicts = Some(
                    rules
                        .clone()
                        .map(|l| RuleVerdict {
                            violates: flags(q.violated.iter().map(|v| v & (1 << l) != 0)),
                            truth_bits: q
                                .truth
                                .iter()
                                .map(|t| t.get(l).map_or(0, |x| x.to_bits()))
                                .collect(),
                        })
                        .collect(),
                );
                d.projected_probs_bits = Some(q.projected.iter().map(|x| x.to_bits()).collect());
                d.changed = Some(q.changed());
                d.changed_by = Some(rules.filter(|l| q.changed_by & (1 << l) != 0).collect());
                d.fallback_void = Some(q.fallback_void);
                q.action
            }
        };
        if let Some(g) = &mut self.guard {
            action = g.decide(cluster)?;
            d.decided_by = Some(leader_name(g.leader()).to_string());
            if let Some(h) = g.last_handover() {
                // Lookahead mode may hand over more than once in a step; each differs from
                // the one before it.
                let h = HandoverRef::from(&h);
                if self.handovers.last() != Some(&h) {
                    self.handovers.push(h);
                }
            }
        }
        d.action = action.index(M);
        self.decisions.push(d);
        Ok(action)
    }
}

/// What recording an episode gives: every decision, the metrics and, for a guarded run, the
/// guard section (parameters, counters at the end, every hand-over).
pub struct Recorded {
    /// Every decision, in order.
    pub decisions: Vec<Decision>,
    /// The metrics at the end.
    pub summary: Summary,
    /// The guard section, for a guarded run.
    pub guard: Option<GuardRef>,
}

fn trace_net<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    mask_invalid: bool,
    jobs: &[Job],
    end: EndMode,
    projection: Option<&Projection>,
    guard: Option<GuardParams>,
) -> Result<Recorded> {
    let mut episode: Episode<'_, M> = Episode::new(jobs, end, &mut ())?;
    // The guard's schedulers: the learned policy and SJF, both projected onto the same rules
    // when there are any (docs/guard.md, "Composition with rules").
    let mut learned_plain = MlpPolicy::<E, M, I, H, O>::new(net, mask_invalid);
    let mut learned_projected = projection.map(|p| {
        Projected::<_, O>::new(
            MlpPolicy::<E, M, I, H, O>::new(net, mask_invalid),
            p.clone(),
        )
    });
    let mut sjf_plain = Sjf;
    let mut sjf_projected = projection.map(|p| Projected::<_, O>::new(Sjf, p.clone()));
    let learned: &mut dyn Scheduler<M> = match &mut learned_projected {
        Some(p) => p,
        None => &mut learned_plain,
    };
    let fallback: &mut dyn Scheduler<M> = match &mut sjf_projected {
        Some(p) => p,
        None => &mut sjf_plain,
    };
    let guard = guard
        .map(|p| Guard::new(Dyn(learned), Dyn(fallback), p, jobs, end))
        .transpose()?;
    let mut scheduler = Tracing::<E, M, I, H, O> {
        policy: MlpPolicy::new(net, mask_invalid),
        projection,
        guard,
        decisions: Vec::new(),
        handovers: Vec::new(),
    };
    let summary = run(&mut episode, &mut scheduler, &mut ())?;
    let guard = match &mut scheduler.guard {
        None => None,
        Some(g) => {
            // The final step's charge counts in the counters.
            g.settle(episode.cluster())?;
            let mut r = GuardRef::new(g.params());
            r.stats = GuardStatsRef::from(&g.stats());
            r.handovers = std::mem::take(&mut scheduler.handovers);
            Some(r)
        }
    };
    Ok(Recorded {
        decisions: scheduler.decisions,
        summary,
        guard,
    })
}

/// Plays `jobs` with the greedy policy of `model`, projected onto `projection`'s rules if given
/// and guarded against SJF (under the same rules) with `guard` if given, and returns every
/// decision, the metrics and the guard's record.
///
/// # Errors
/// Invalid jobs, or a policy error (a non-finite logit).
pub fn trace(
    model: &LoadedModel,
    jobs: &[Job],
    end: EndMode,
    projection: Option<&Projection>,
    guard: Option<GuardParams>,
) -> Result<Recorded> {
    use whitebox_core::encoding::compact_len;
    use whitebox_core::image::image_len;
    let mask = model.header.meta.mask_invalid;
    let (p, g) = (projection, guard);
    match &model.net {
        AnyModel::Compact5(n) => {
            trace_net::<Compact, 5, { compact_len(5) }, HIDDEN, 6>(n, mask, jobs, end, p, g)
        }
        AnyModel::Compact10(n) => {
            trace_net::<Compact, 10, { compact_len(10) }, HIDDEN, 11>(n, mask, jobs, end, p, g)
        }
        AnyModel::Image5(n) => {
            trace_net::<Image, 5, { image_len(5) }, HIDDEN, 6>(n, mask, jobs, end, p, g)
        }
        AnyModel::Image10(n) => {
            trace_net::<Image, 10, { image_len(10) }, HIDDEN, 11>(n, mask, jobs, end, p, g)
        }
    }
}

/// The resolved rules of a projection, as a trace records them.
pub(super) fn rules_ref(given: &[String], p: &Projection) -> RulesRef {
    RulesRef {
        given: given.to_vec(),
        c: crate::rules::strength(p),
        c_bits: p.c().to_bits(),
        set: p
            .rules()
            .iter()
            .map(|(rule, lambda)| {
                let (kind, max) = match rule {
                    Rule::UtilizationCap { max } => ("utilization-cap", Some(max.get())),
                    Rule::WorkConserving { max } => ("work-conserving", Some(max.get())),
                    Rule::NoReservation => ("no-reservation", None),
                    Rule::ShorterFirst { max } => ("shorter-first", Some(max.get())),
                    Rule::BoundedWait { max, .. } => ("bounded-wait", Some(max.get())),
                };
                RuleRef {
                    rule: rule.to_string(),
                    kind: kind.to_string(),
                    max_permille: max,
                    wait_steps: match rule {
                        Rule::BoundedWait { steps, .. } => Some(*steps),
                        _ => None,
                    },
                    lambda_bits: lambda.to_bits(),
                }
            })
            .collect(),
    }
}

/// Records the trace of `model_path`'s greedy policy on `jobs`, projected onto the rules
/// `rules` (`--rule` texts; none for an unprojected run) with strength `c`, and guarded with
/// `guard` if given.
///
/// # Errors
/// An unreadable or invalid model, a bad rule or strength, invalid jobs, or a policy error.
pub fn record(
    model_path: &Path,
    jobs: &[Job],
    source: &str,
    end: EndRef,
    rules: &[String],
    c: f32,
    guard: Option<GuardParams>,
) -> Result<Trace> {
    let bytes = crate::models::read(model_path)?;
    let model = crate::models::from_bytes(&bytes)
        .with_context(|| format!("invalid model file {}", model_path.display()))?;
    let projection = crate::rules::projection(rules, c)?;
    let r = trace(&model, jobs, end_mode(&end)?, projection.as_ref(), guard)?;
    Ok(Trace {
        format: FORMAT.to_string(),
        version: VERSION,
        model: model_ref(&model_path.to_string_lossy(), &bytes),
        slots: model.header.spec.slots,
        end,
        rules: projection.as_ref().map(|p| rules_ref(rules, p)),
        guard: r.guard,
        source: source.to_string(),
        jobs: jobs
            .iter()
            .map(|j| TraceJob {
                arrival: j.arrival,
                len: j.len,
                res: j.res.to_vec(),
            })
            .collect(),
        decisions: r.decisions,
        summary: r.summary,
    })
}
