//! x86 instructions per decision, the host twin of `firmware/src/bin/bench.rs`: the shipped
//! model plays the jobs of DeepRM case `rate0.7_seed1_nw10` and every state it decides on is
//! kept; then `decide_all` decides once on every kept state with the chosen case.
//!
//! ```sh
//! cargo build --release -p whitebox-host --example decisions
//! valgrind --tool=callgrind --toggle-collect='*decide_all*' \
//!   target/release/examples/decisions compact
//! ```
//!
//! Cases: `compact`, `compact+shield`, `compact-int8`, `compact-int8+shield` (the shipped model
//! quantized as the `int8:PATH` policy quantizes it), `image`, `image+shield` (the image network has
//! pseudo-random weights; speed does not depend on them), `tree`, `tree+shield` (the shipped
//! `default.tree` as the `tree:PATH` policy). Prints the number of decisions;
//! callgrind's total `Ir` divided by it is the instructions per decision.

use std::hint::black_box;
use std::path::Path;

use anyhow::{bail, Context, Result};
use whitebox_core::encoding::{compact_len, Compact, Encoding, Image};
use whitebox_core::image::image_len;
use whitebox_core::nn::Mlp;
use whitebox_core::nn::MlpPolicy;
use whitebox_core::quant::QPolicy;
use whitebox_core::spec::ClusterSpec;
use whitebox_core::tree::{feature_count, TreePolicy};
use whitebox_core::{
    model, run, Action, Cluster, EndMode, Episode, Permille, PolicyError, Projected, Projection,
    Rule, RuleSet, Scheduler,
};

const M: usize = 10;
const O: usize = M + 1;
const H: usize = 20;
const CI: usize = compact_len(M);
const II: usize = image_len(M);
const TI: usize = feature_count(M);

struct Recorder<S> {
    inner: S,
    states: Vec<Cluster<M>>,
}

impl<S: Scheduler<M>> Scheduler<M> for Recorder<S> {
    fn decide(&mut self, cluster: &Cluster<M>) -> Result<Action, PolicyError> {
        self.states.push(cluster.clone());
        self.inner.decide(cluster)
    }
}

/// The measured region: one decision per state.
#[inline(never)]
fn decide_all<S: Scheduler<M>>(scheduler: &mut S, states: &[Cluster<M>]) -> usize {
    let mut n = 0;
    for s in states {
        if black_box(scheduler.decide(black_box(s))).is_ok() {
            n += 1;
        }
    }
    n
}

/// `util<=0.8` and work-conserving (at the cap), weight 1 each, as a shield.
fn shield() -> Result<Projection> {
    let cap = Permille::new(800).context("cap")?;
    let mut rules = RuleSet::new();
    for rule in [
        Rule::UtilizationCap { max: cap },
        Rule::WorkConserving { max: cap },
    ] {
        rules.push(rule, 1.0)?;
    }
    Ok(Projection::shield(rules))
}

fn main() -> Result<()> {
    let case = std::env::args().nth(1).unwrap_or_else(|| "compact".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bytes = std::fs::read(root.join("fixtures/models/deeprm.model"))?;
    let mut net = Box::new(Mlp::<CI, H, O>::zeroed());
    model::load(
        &bytes,
        Encoding::Compact,
        &ClusterSpec::with_slots(M as u8),
        &mut net,
    )?;
    let jobs = whitebox_runtime::jobfile::load(
        &root.join("fixtures/reference/deeprm/cases/rate0.7_seed1_nw10.json"),
    )?;
    let mut episode: Episode<'_, M> =
        Episode::new(&jobs, EndMode::AllDone { time_cap: 10_000 }, &mut ())?;
    let mut recorder = Recorder {
        inner: MlpPolicy::<Compact, M, CI, H, O>::new(&net, true),
        states: Vec::new(),
    };
    run(&mut episode, &mut recorder, &mut ())?;
    let states = recorder.states;

    let mut image_net = Box::new(Mlp::<II, H, O>::zeroed());
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for p in image_net.params_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *p = ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1;
    }
    let compact = || MlpPolicy::<Compact, M, CI, H, O>::new(&net, true);
    let image = || MlpPolicy::<Image, M, II, H, O>::new(&image_net, true);
    // The int8 policy of `int8:PATH` (quantized with its fixed calibration), for its cases only.
    let qnet = if case.starts_with("compact-int8") {
        let loaded =
            whitebox_runtime::models::int8::load_int8(&root.join("fixtures/models/deeprm.model"))?;
        let q = loaded.int8.as_deref().context("int8 network")?;
        match q.net.net::<Compact, M, CI, O>() {
            Some(q) => Some(Box::new(q.clone())),
            None => bail!("the shipped model is not a compact 10-slot network"),
        }
    } else {
        None
    };
    let int8 = || {
        qnet.as_deref()
            .map(|q| QPolicy::<Compact, M, CI, H, O>::new(q, true))
            .context("int8 network")
    };
    let tree = whitebox_core::tree::file::load::<M>(&std::fs::read(
        root.join("fixtures/models/default.tree"),
    )?)?;
    let tree_policy = || TreePolicy::<M, TI, O>::new(&tree, true);
    let n = match case.as_str() {
        "compact-int8" => decide_all(&mut int8()?, &states),
        "compact-int8+shield" => decide_all(
            &mut Projected::<_, O, true>::lean(int8()?, shield()?),
            &states,
        ),
        "compact" => decide_all(&mut compact(), &states),
        "compact+shield" => decide_all(
            &mut Projected::<_, O, true>::lean(compact(), shield()?),
            &states,
        ),
        "image" => decide_all(&mut image(), &states),
        "image+shield" => decide_all(
            &mut Projected::<_, O, true>::lean(image(), shield()?),
            &states,
        ),
        "tree" => decide_all(&mut tree_policy(), &states),
        "tree+shield" => decide_all(
            &mut Projected::<_, O, true>::lean(tree_policy(), shield()?),
            &states,
        ),
        other => bail!("unknown case {other}"),
    };
    println!("{case} decisions={n}");
    Ok(())
}
