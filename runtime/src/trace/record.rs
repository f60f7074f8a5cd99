//! Recording: the learned policy plays the trace's jobs and writes down every decision.

use std::path::Path;

use crate::models::tree::{tree_from_bytes, AnyTree, LoadedTree};
use crate::models::{ArchVisitor, Family, LoadedModel};
use anyhow::{Context, Result};
use whitebox_core::encoding::{Encoder, Observe};
use whitebox_core::guard::{Guard, NamedFallback};

use crate::guard::GuardSettings;
use whitebox_core::network::Network;
use whitebox_core::policy::Policy;
use whitebox_core::tree::{feature_count, Operator, Reached, Tree};
use whitebox_core::{
    run, Action, Cluster, EndMode, Episode, Job, Permille, PolicyError, Projected, Projection,
    Scheduler, Sjf, Summary,
};

use super::format::{
    end_mode, model_ref, Decision, EndRef, GuardRef, GuardStatsRef, HandoverRef, Int8Ref, RuleRef,
    RuleVerdict, RulesRef, Trace, TraceJob, FORMAT, VERSION,
};

/// A logit as a trace stores it: an `f32` logit's bit pattern, an `i32` logit (int8 network) as
/// two's complement.
trait LogitBits: Copy {
    fn bits(self) -> u32;
}

impl LogitBits for f32 {
    fn bits(self) -> u32 {
        self.to_bits()
    }
}

impl LogitBits for i32 {
    fn bits(self) -> u32 {
        self.cast_unsigned()
    }
}

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
struct Tracing<
    'm,
    'g,
    E: Observe<M, I>,
    N: Network<I, O>,
    const M: usize,
    const I: usize,
    const O: usize,
> {
    policy: Policy<'m, E, N, M, I, O>,
    projection: Option<&'m Projection>,
    guard: Option<Guard<'g, Dyn<'g, M>, Dyn<'g, M>, M, NamedFallback<O>>>,
    /// The leaf a tree decision reached, read from the network's work buffer (`None` for a
    /// network).
    leaf: fn(&N::Scratch) -> Option<u8>,
    decisions: Vec<Decision>,
    handovers: Vec<HandoverRef>,
}

/// `1`/`0` per entry.
fn flags(bits: impl Iterator<Item = bool>) -> String {
    bits.map(|v| if v { '1' } else { '0' }).collect()
}

impl<E: Observe<M, I>, N: Network<I, O>, const M: usize, const I: usize, const O: usize>
    Scheduler<M> for Tracing<'_, '_, E, N, M, I, O>
where
    N::Logit: LogitBits,
{
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        self.policy.evaluate(cluster);
        let mut d = Decision {
            decision: u32::try_from(self.decisions.len()).unwrap_or(u32::MAX),
            time: cluster.now(),
            action: M,
            valid: flags(self.policy.valid().iter().copied()),
            logits_bits: self.policy.logits().iter().map(|l| l.bits()).collect(),
            leaf: (self.leaf)(self.policy.scratch()),
            ..Decision::default()
        };
        let mut action = match self.projection {
            None => self.policy.greedy()?,
            Some(p) => {
                // As the core's `Projected` scheduler decides: on the real-valued logits.
                let mut real = [0.0f32; O];
                for (r, &l) in real.iter_mut().zip(self.policy.logits()) {
                    *r = self.policy.net().real_logit(l);
                }
                let q = p.project(&real, self.policy.valid(), cluster)?;
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
            d.decided_by = Some(g.leader().name().to_string());
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

#[allow(clippy::too_many_arguments)]
fn trace_net<E: Observe<M, I>, N: Network<I, O>, const M: usize, const I: usize, const O: usize>(
    net: &N,
    mask_invalid: bool,
    leaf: fn(&N::Scratch) -> Option<u8>,
    jobs: &[Job],
    end: EndMode,
    projection: Option<&Projection>,
    guard: Option<GuardSettings>,
) -> Result<Recorded>
where
    N::Logit: LogitBits,
{
    let mut episode: Episode<'_, M> = Episode::new(jobs, end, &mut ())?;
    // The guard's schedulers: the learned policy and SJF, both projected onto the same rules
    // when there are any (docs/guard.md, "Composition with rules").
    let mut learned_plain = Policy::<E, N, M, I, O>::new(net, mask_invalid);
    let mut learned_projected = projection.map(|p| {
        Projected::<_, O>::new(Policy::<E, N, M, I, O>::new(net, mask_invalid), p.clone())
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
    // The real cluster's fallback decisions: SJF's, or a repairing fallback's under the same
    // rules.
    let settings = guard;
    let guard = settings
        .map(|s| {
            let repair = NamedFallback::new(s.fallback, projection);
            Guard::with_repair(Dyn(learned), Dyn(fallback), repair, s.params, jobs, end)
        })
        .transpose()?;
    let mut scheduler = Tracing::<E, N, M, I, O> {
        policy: Policy::new(net, mask_invalid),
        projection,
        guard,
        leaf,
        decisions: Vec::new(),
        handovers: Vec::new(),
    };
    let summary = run(&mut episode, &mut scheduler, &mut ())?;
    let guard = match (&mut scheduler.guard, settings) {
        (Some(g), Some(s)) => {
            // The final step's charge counts in the counters.
            g.settle(episode.cluster())?;
            let mut r = GuardRef::new(&s);
            r.stats = GuardStatsRef::from(&g.stats());
            r.handovers = std::mem::take(&mut scheduler.handovers);
            Some(r)
        }
        _ => None,
    };
    Ok(Recorded {
        decisions: scheduler.decisions,
        summary,
        guard,
    })
}

/// Plays `jobs` with the greedy policy of `model` (its int8 network when it has one), projected
/// onto `projection`'s rules if given and guarded against SJF (under the same rules) with `guard`
/// if given, and returns every decision, the metrics and the guard's record.
///
/// # Errors
/// Invalid jobs, or a policy error (a non-finite logit).
pub fn trace(
    model: &LoadedModel,
    jobs: &[Job],
    end: EndMode,
    projection: Option<&Projection>,
    guard: Option<GuardSettings>,
) -> Result<Recorded> {
    let t = TraceArch {
        mask: model.header.meta.mask_invalid,
        jobs,
        end,
        projection,
        guard,
    };
    match &model.int8 {
        Some(q) => q.net.visit(t),
        None => model.net.visit(t),
    }
}

/// [`trace_net`] on one architecture.
struct TraceArch<'a> {
    mask: bool,
    jobs: &'a [Job],
    end: EndMode,
    projection: Option<&'a Projection>,
    guard: Option<GuardSettings>,
}

impl<F: Family> ArchVisitor<'_, F> for TraceArch<'_>
where
    F::Logit: LogitBits,
{
    type Out = Result<Recorded>;

    fn visit<E: Encoder, const M: usize, const I: usize, const O: usize>(
        self,
        net: &F::Net<I, O>,
    ) -> Self::Out {
        let (p, g) = (self.projection, self.guard);
        trace_net::<E, _, M, I, O>(net, self.mask, |_| None, self.jobs, self.end, p, g)
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
            .map(|(rule, lambda)| RuleRef {
                rule: rule.to_string(),
                kind: rule.kind().name().to_string(),
                max_permille: rule.cap().map(Permille::get),
                wait_steps: rule.wait_steps(),
                lambda_bits: lambda.to_bits(),
            })
            .collect(),
    }
}

/// Records the trace of `model_path`'s greedy policy on `jobs` (with `int8`, of the model
/// quantized as the `int8:PATH` policy quantizes it), projected onto the rules `rules` (`--rule`
/// texts; none for an unprojected run) with strength `c`, and guarded with `guard` if given.
///
/// # Errors
/// An unreadable or invalid model, a model that cannot be quantized, a bad rule or strength,
/// invalid jobs, or a policy error.
#[allow(clippy::too_many_arguments)]
pub fn record(
    model_path: &Path,
    int8: bool,
    jobs: &[Job],
    source: &str,
    end: EndRef,
    rules: &[String],
    c: f32,
    guard: Option<GuardSettings>,
) -> Result<Trace> {
    let bytes = crate::models::read(model_path)?;
    let mut model = crate::models::from_bytes(&bytes)
        .with_context(|| format!("invalid model file {}", model_path.display()))?;
    let int8 = if int8 {
        let q = crate::models::int8::quantize(&model)
            .with_context(|| format!("cannot quantize {}", model_path.display()))?;
        let int8 = Int8Ref {
            input_max_bits: q.calibration.input_max.to_bits(),
            hidden_max_bits: q.calibration.hidden_max.to_bits(),
            calibration_states: q.calibration.decisions,
        };
        model.int8 = Some(std::sync::Arc::new(q));
        Some(int8)
    } else {
        None
    };
    let projection = crate::rules::projection(rules, c)?;
    let r = trace(&model, jobs, end_mode(&end)?, projection.as_ref(), guard)?;
    let rules = projection.as_ref().map(|p| rules_ref(rules, p));
    Ok(Trace {
        model: Some(model_ref(&model_path.to_string_lossy(), &bytes)),
        int8,
        ..trace_of(r, model.header.spec.slots, end, rules, source, jobs)
    })
}

/// The trace of the recording `r`, with the fields model and tree traces share; the caller
/// names the model or tree file (and the int8 ranges).
fn trace_of(
    r: Recorded,
    slots: u8,
    end: EndRef,
    rules: Option<RulesRef>,
    source: &str,
    jobs: &[Job],
) -> Trace {
    Trace {
        format: FORMAT.to_string(),
        version: VERSION,
        model: None,
        tree: None,
        slots,
        int8: None,
        end,
        rules,
        guard: r.guard,
        source: source.to_string(),
        jobs: trace_jobs_of(jobs),
        decisions: r.decisions,
        summary: r.summary,
    }
}

/// The jobs in job-file form.
fn trace_jobs_of(jobs: &[Job]) -> Vec<TraceJob> {
    jobs.iter()
        .map(|j| TraceJob {
            arrival: j.arrival,
            len: j.len,
            res: j.res.to_vec(),
        })
        .collect()
}

/// Plays `jobs` with the decision tree `tree` (`tree:PATH`: operator features, the tree,
/// invalid actions masked), projected and guarded as [`trace`] does, recording per decision
/// the leaf reached as well.
///
/// # Errors
/// Invalid jobs, or a policy error.
pub fn trace_tree(
    tree: &LoadedTree,
    jobs: &[Job],
    end: EndMode,
    projection: Option<&Projection>,
    guard: Option<GuardSettings>,
) -> Result<Recorded> {
    fn leaf(r: &Reached) -> Option<u8> {
        Some(r.leaf)
    }
    match &tree.tree {
        AnyTree::Five(t) => trace_net::<Operator, Tree<5>, 5, { feature_count(5) }, 6>(
            t, true, leaf, jobs, end, projection, guard,
        ),
        AnyTree::Ten(t) => trace_net::<Operator, Tree<10>, 10, { feature_count(10) }, 11>(
            t, true, leaf, jobs, end, projection, guard,
        ),
    }
}

/// Records the trace of the decision tree in `tree_path` (`tree:PATH`) on `jobs`, projected
/// onto the rules `rules` with strength `c` and guarded with `guard` if given, as [`record`]
/// does for a model. The trace names the tree file (`tree`: path, length, CRC-32) instead of a
/// model, and every decision the leaf it reached.
///
/// # Errors
/// An unreadable or invalid tree file, a bad rule or strength, invalid jobs, or a policy error.
#[allow(clippy::too_many_arguments)]
pub fn record_tree(
    tree_path: &Path,
    jobs: &[Job],
    source: &str,
    end: EndRef,
    rules: &[String],
    c: f32,
    guard: Option<GuardSettings>,
) -> Result<Trace> {
    let bytes = crate::shipped::read(tree_path)
        .with_context(|| format!("cannot read tree {}", tree_path.display()))?;
    let tree = tree_from_bytes(&bytes)
        .with_context(|| format!("invalid tree file {}", tree_path.display()))?;
    let projection = crate::rules::projection(rules, c)?;
    let r = trace_tree(&tree, jobs, end_mode(&end)?, projection.as_ref(), guard)?;
    let (slots, rules) = (
        u8::try_from(tree.slots()).unwrap_or(u8::MAX),
        projection.as_ref().map(|p| rules_ref(rules, p)),
    );
    Ok(Trace {
        tree: Some(model_ref(&tree_path.to_string_lossy(), &bytes)),
        ..trace_of(r, slots, end, rules, source, jobs)
    })
}
