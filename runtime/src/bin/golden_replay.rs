//! The golden traces replayed on the CPU this runs on, for CPUs other than the host's: built for
//! `aarch64-unknown-linux-gnu` and the big-endian `s390x-unknown-linux-gnu` and run under
//! `qemu-user` in CI (`docs/embedded.md`, "Other Linux CPUs").
//!
//! ```sh
//! cargo run --release -p whitebox-runtime --bin golden_replay --target s390x-unknown-linux-gnu
//! ```
//!
//! Argument: the repository root (default: the one this was built from). For every
//! `fixtures/golden/*.json` (`WHITEBOX_GOLDEN_DIR` overrides the folder) it checks, with the
//! library code of `whitebox replay` and `whitebox record`:
//!
//! * the replay is identical to the stored trace: every decision's time step, logit bits, mask,
//!   rule fields and action, the guard's hand-overs, and the summary ([`replay`]);
//! * the new recording, written by this CPU ([`Trace::to_text`]), is the stored file byte for
//!   byte ([`rerecord`]);
//! * the trace's `source` job file loads to the trace's jobs.
//!
//! And for every model or tree file a trace names: it loads, and the core's writer writes it
//! again as the stored file byte for byte. The fixtures were written on x86-64, so on a
//! big-endian CPU a byte-order assumption in a reader or a writer fails a check.
//!
//! Prints one `ok`/`FAIL` line per trace and model and `N passed, N failed`; exits non-zero when
//! a check failed or there was no trace.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use whitebox_core::encoding::Encoder;
use whitebox_core::model::ModelHeader;
use whitebox_core::nn::Mlp;
use whitebox_runtime::jobfile;
use whitebox_runtime::models::{self, ArchVisitor, F32, HIDDEN};
use whitebox_runtime::trace::{replay, rerecord, Trace};

/// Checks passed and failed.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

impl Tally {
    /// Prints one check's outcome: `ok NAME: what was checked` or `FAIL NAME: why`.
    fn check(&mut self, name: &str, outcome: Result<String>) {
        match outcome {
            Ok(what) => {
                self.passed += 1;
                println!("ok {name}: {what}");
            }
            Err(e) => {
                self.failed += 1;
                println!("FAIL {name}: {e:#}");
            }
        }
    }
}

/// The first line where two texts differ (1-based), with both lines.
fn first_line_difference(expected: &str, got: &str) -> String {
    let (mut e, mut g) = (expected.lines(), got.lines());
    for n in 1.. {
        match (e.next(), g.next()) {
            (Some(a), Some(b)) if a == b => {}
            (None, None) => break,
            (a, b) => {
                return format!(
                    "line {n}: stored {:?}, written {:?}",
                    a.unwrap_or("<end>"),
                    b.unwrap_or("<end>")
                )
            }
        }
    }
    "line endings".to_string()
}

/// One golden trace: replay, writer and job file.
fn check_trace(path: &Path) -> Result<String> {
    if let Some(d) = replay(path, None)? {
        bail!("replay: first divergence at {d}");
    }
    let stored =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (expected, got) = rerecord(path, None)?;
    let written = got.to_text()?;
    if written != stored {
        bail!(
            "the replay is identical but its text is not the stored file: {}",
            first_line_difference(&stored, &written)
        );
    }
    let jobs: Vec<(u32, u8, Vec<u8>)> = jobfile::load(Path::new(&expected.source))?
        .iter()
        .map(|j| (j.arrival, j.len, j.res.to_vec()))
        .collect();
    let recorded: Vec<(u32, u8, Vec<u8>)> = expected
        .jobs
        .iter()
        .map(|j| (j.arrival, j.len, j.res.clone()))
        .collect();
    if jobs != recorded {
        bail!(
            "job file {} does not hold the trace's {} jobs",
            expected.source,
            recorded.len()
        );
    }
    Ok(format!(
        "{} decisions identical, written byte for byte; {} loads to its {} jobs",
        expected.decisions.len(),
        expected.source,
        recorded.len()
    ))
}

/// [`models::to_bytes`] on one architecture.
struct WriteModel<'h>(&'h ModelHeader);

impl ArchVisitor<'_, F32> for WriteModel<'_> {
    type Out = Result<Vec<u8>>;

    fn visit<E: Encoder, const M: usize, const I: usize, const O: usize>(
        self,
        net: &Mlp<I, HIDDEN, O>,
    ) -> Self::Out {
        models::to_bytes(net, self.0)
    }
}

/// One model file: loads, and is written again byte for byte.
fn check_model(path: &Path) -> Result<String> {
    let stored =
        std::fs::read(path).with_context(|| format!("cannot read model {}", path.display()))?;
    let m = models::from_bytes(&stored)?;
    let written = m.net.visit(WriteModel(&m.header))?;
    if written != stored {
        let at = written
            .iter()
            .zip(&stored)
            .position(|(a, b)| a != b)
            .unwrap_or(written.len().min(stored.len()));
        bail!(
            "written again as {} bytes, stored {} bytes; first difference at byte {at}",
            written.len(),
            stored.len()
        );
    }
    Ok(format!(
        "{} bytes, loaded and written again byte for byte",
        stored.len()
    ))
}

/// One tree file: loads, and is written again byte for byte.
fn check_tree(path: &Path) -> Result<String> {
    let stored =
        std::fs::read(path).with_context(|| format!("cannot read tree {}", path.display()))?;
    let written = models::tree::tree_from_bytes(&stored)?.to_bytes();
    if written != stored {
        bail!(
            "written again as {} bytes, stored {} bytes",
            written.len(),
            stored.len()
        );
    }
    Ok(format!(
        "{} bytes, loaded and written again byte for byte",
        stored.len()
    ))
}

/// Every check; `Err` only when the traces cannot be listed.
fn run(root: &Path, tally: &mut Tally) -> Result<()> {
    // Traces name their model and job file relative to the repository root.
    std::env::set_current_dir(root)
        .with_context(|| format!("repository root {}", root.display()))?;
    let dir = std::env::var_os("WHITEBOX_GOLDEN_DIR")
        .map_or_else(|| PathBuf::from("fixtures/golden"), PathBuf::from);
    let mut traces: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    traces.retain(|p| p.extension().is_some_and(|x| x == "json"));
    traces.sort();
    if traces.is_empty() {
        bail!("no golden trace in {}", dir.display());
    }
    let (mut model_paths, mut tree_paths) = (BTreeSet::new(), BTreeSet::new());
    for path in &traces {
        let name = path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        // A trace that does not load fails its own check below.
        if let Ok(t) = Trace::load(path) {
            model_paths.extend(t.model.map(|m| m.path));
            tree_paths.extend(t.tree.map(|m| m.path));
        }
        tally.check(&name, check_trace(path));
    }
    for path in &model_paths {
        tally.check(&format!("model {path}"), check_model(Path::new(path)));
    }
    for path in &tree_paths {
        tally.check(&format!("tree {path}"), check_tree(Path::new(path)));
    }
    Ok(())
}

fn main() -> ExitCode {
    let root = std::env::args_os().nth(1).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
        PathBuf::from,
    );
    let endian = if cfg!(target_endian = "big") {
        "big"
    } else {
        "little"
    };
    println!(
        "whitebox golden replay on {} ({endian}-endian)",
        std::env::consts::ARCH
    );
    let mut tally = Tally::default();
    if let Err(e) = run(&root, &mut tally) {
        tally.failed += 1;
        println!("FAIL {e:#}");
    }
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
