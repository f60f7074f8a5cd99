//! Recording: the learned policy plays the trace's jobs and writes down every decision.

use std::path::Path;

use anyhow::{Context, Result};
use whitebox_core::encoding::{Compact, Encoder, Image};
use whitebox_core::nn::Mlp;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::{
    run, Action, Cluster, EndMode, Episode, Job, PolicyError, Projection, Rule, Scheduler, Summary,
};
use whitebox_runtime::models::{AnyModel, LoadedModel, HIDDEN};

use super::format::{
    end_mode, model_ref, Decision, EndRef, Metrics, RuleRef, RuleVerdict, RulesRef, Trace,
    TraceJob, FORMAT, VERSION,
};

/// A learned policy that writes down every decision it makes, projected onto `projection`'s
/// rules when there are any (as the core's `Projected` scheduler decides).
struct Tracing<'m, E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize> {
    policy: MlpPolicy<'m, E, M, I, H, O>,
    projection: Option<&'m Projection>,
    decisions: Vec<Decision>,
}

/// `1`/`0` per entry.
fn flags(bits: impl Iterator<Item = bool>) -> String {
    bits.map(|v| if v { '1' } else { '0' }).collect()
}

impl<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize> Scheduler<M>
    for Tracing<'_, E, M, I, H, O>
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
        let action = match self.projection {
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
        d.action = action.index(M);
        self.decisions.push(d);
        Ok(action)
    }
}

fn trace_net<E: Encoder, const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
    mask_invalid: bool,
    jobs: &[Job],
    end: EndMode,
    projection: Option<&Projection>,
) -> Result<(Vec<Decision>, Summary)> {
    let mut episode: Episode<'_, M> = Episode::new(jobs, end, &mut ())?;
    let mut scheduler = Tracing::<E, M, I, H, O> {
        policy: MlpPolicy::new(net, mask_invalid),
        projection,
        decisions: Vec::new(),
    };
    let summary = run(&mut episode, &mut scheduler, &mut ())?;
    Ok((scheduler.decisions, summary))
}

/// Plays `jobs` with the greedy policy of `model`, projected onto `projection`'s rules if given,
/// and returns every decision and the metrics.
///
/// # Errors
/// Invalid jobs, or a policy error (a non-finite logit).
pub fn trace(
    model: &LoadedModel,
    jobs: &[Job],
    end: EndMode,
    projection: Option<&Projection>,
) -> Result<(Vec<Decision>, Summary)> {
    use whitebox_core::encoding::compact_len;
    use whitebox_core::image::image_len;
    let mask = model.header.meta.mask_invalid;
    match &model.net {
        AnyModel::Compact5(n) => {
            trace_net::<Compact, 5, { compact_len(5) }, HIDDEN, 6>(n, mask, jobs, end, projection)
        }
        AnyModel::Compact10(n) => trace_net::<Compact, 10, { compact_len(10) }, HIDDEN, 11>(
            n, mask, jobs, end, projection,
        ),
        AnyModel::Image5(n) => {
            trace_net::<Image, 5, { image_len(5) }, HIDDEN, 6>(n, mask, jobs, end, projection)
        }
        AnyModel::Image10(n) => {
            trace_net::<Image, 10, { image_len(10) }, HIDDEN, 11>(n, mask, jobs, end, projection)
        }
    }
}

/// The resolved rules of a projection, as a trace records them.
pub(super) fn rules_ref(given: &[String], p: &Projection) -> RulesRef {
    RulesRef {
        given: given.to_vec(),
        c: whitebox_runtime::rules::strength(p),
        c_bits: p.c().to_bits(),
        set: p
            .rules()
            .iter()
            .map(|(rule, lambda)| {
                let (kind, max) = match rule {
                    Rule::UtilizationCap { max } => ("utilization-cap", Some(max.get())),
                    Rule::WorkConserving { max } => ("work-conserving", Some(max.get())),
                    Rule::NoReservation => ("no-reservation", None),
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
/// `rules` (`--rule` texts; none for an unprojected run) with strength `c`.
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
) -> Result<Trace> {
    let bytes = std::fs::read(model_path)
        .with_context(|| format!("cannot read model {}", model_path.display()))?;
    let model = whitebox_runtime::models::from_bytes(&bytes)
        .with_context(|| format!("invalid model file {}", model_path.display()))?;
    let projection = whitebox_runtime::rules::projection(rules, c)?;
    let (decisions, summary) = trace(&model, jobs, end_mode(&end)?, projection.as_ref())?;
    Ok(Trace {
        format: FORMAT.to_string(),
        version: VERSION,
        model: model_ref(&model_path.to_string_lossy(), &bytes),
        slots: model.header.spec.slots,
        end,
        rules: projection.as_ref().map(|p| rules_ref(rules, p)),
        source: source.to_string(),
        jobs: jobs
            .iter()
            .map(|j| TraceJob {
                arrival: j.arrival,
                len: j.len,
                res: j.res.to_vec(),
            })
            .collect(),
        decisions,
        summary: Metrics::from(&summary),
    })
}
