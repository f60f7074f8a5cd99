//! Replay: a trace's jobs played again with its model and rules, compared with the recording.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use whitebox_core::{EndMode, Job};

use super::divergence::{first_divergence, Divergence};
use super::format::{end_mode, model_ref, trace_jobs, Decision, GuardRef, PolicyFile, Trace};
use super::record::{record, record_tree};

/// A recorded episode, for `whitebox explain --trace`.
#[derive(Clone, Debug)]
pub struct TraceEpisode {
    /// The jobs, checked as a job file's are.
    pub jobs: Vec<Job>,
    /// The end mode.
    pub end: EndMode,
    /// Every recorded decision (action, and with a guard who decided it).
    pub decisions: Vec<Decision>,
    /// The guard section of a guarded trace.
    pub guard: Option<GuardRef>,
}

impl TraceEpisode {
    /// The recorded action (output index) of every decision.
    pub fn actions(&self) -> Vec<usize> {
        self.decisions.iter().map(|d| d.action).collect()
    }
}

/// A trace's episode: its jobs, end mode and recorded decisions (and guard). `file` must be
/// the model or tree file the trace names: same length and CRC-32.
///
/// # Errors
/// An unreadable or invalid trace, or a policy file other than the trace's.
pub fn episode_of(path: &Path, file: &Path) -> Result<TraceEpisode> {
    let t = Trace::load(path)?;
    check_file(&t, path, file)?;
    Ok(TraceEpisode {
        jobs: trace_jobs(&t, path)?,
        end: end_mode(&t.end)?,
        decisions: t.decisions,
        guard: t.guard,
    })
}

/// Refuses `file` unless it is the model or tree file trace `t` (at `path`) was recorded with:
/// same length and CRC-32.
fn check_file(t: &Trace, path: &Path, file: &Path) -> Result<()> {
    let (kind, recorded) = t.policy_file()?;
    let bytes = crate::shipped::read(file)
        .with_context(|| format!("cannot read {} {}", kind.field(), file.display()))?;
    let found = model_ref(&recorded.path, &bytes);
    if (found.bytes, found.crc32) != (recorded.bytes, recorded.crc32) {
        bail!(
            "trace {} was recorded with {}{} ({} bytes, CRC-32 {:#010x}), but {} has {} \
             bytes, CRC-32 {:#010x}; give the {} file it was recorded with",
            path.display(),
            // A tree file is named as one; a model's message is as before trees.
            if kind == PolicyFile::Tree {
                "tree "
            } else {
                ""
            },
            recorded.path,
            recorded.bytes,
            recorded.crc32,
            file.display(),
            found.bytes,
            found.crc32,
            kind.field()
        );
    }
    Ok(())
}

/// Finds the model (or tree) file of a trace: `explicit` if given, else its recorded path as given, else that
/// path relative to each directory above the trace file.
fn find_model(trace_path: &Path, recorded: &str, explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let recorded = Path::new(recorded);
    if recorded.is_file() {
        return Ok(recorded.to_path_buf());
    }
    let dir = trace_path
        .canonicalize()
        .unwrap_or_else(|_| trace_path.to_path_buf());
    // Beside the trace's ancestors, a shipped model's path also names its built-in copy (a
    // different model under that name shows as a divergence of the model's CRC-32).
    dir.ancestors()
        .skip(1)
        .map(|a| a.join(recorded))
        .find(|p| p.is_file())
        .or_else(|| crate::shipped::available(recorded).then(|| recorded.to_path_buf()))
        .with_context(|| {
            format!(
                "model {} of trace {} not found (give it with --model)",
                recorded.display(),
                trace_path.display()
            )
        })
}

/// Replays one trace file: `Ok(None)` when identical, else the first divergence.
///
/// # Errors
/// As [`rerecord`].
pub fn replay(path: &Path, model: Option<&Path>) -> Result<Option<Divergence>> {
    let (expected, got) = rerecord(path, model)?;
    Ok(first_divergence(&expected, &got))
}

/// Records a trace file's episode again: its jobs with its model (`model`, or found as
/// [`replay`] finds it), its recorded rules and `C`, and its recorded guard. Returns the stored
/// trace and the new recording, whose `model.path` is the stored one, so an identical replay
/// writes ([`Trace::to_text`]) the stored file byte for byte.
///
/// # Errors
/// An unreadable trace or model, or jobs/end mode the trace cannot describe.
pub fn rerecord(path: &Path, model: Option<&Path>) -> Result<(Trace, Trace)> {
    let expected = Trace::load(path)?;
    let (kind, recorded) = expected.policy_file()?;
    let model_path = find_model(path, &recorded.path, model)?;
    let jobs = trace_jobs(&expected, path)?;
    // Re-apply the recorded rules: the texts as given, with the recorded `C` bit for bit. A
    // change in how they resolve shows as a divergence of the field `rules`.
    let (rules, c) = match &expected.rules {
        Some(r) => (r.given.as_slice(), f32::from_bits(r.c_bits)),
        None => (&[][..], f32::INFINITY),
    };
    // Re-apply the recorded guard: mode, eps, c and fallback as stored. Its hand-overs and
    // every decision's `decided_by` are then compared like the rest.
    let guard = expected
        .guard
        .as_ref()
        .map(|g| g.settings())
        .transpose()
        .with_context(|| format!("trace {}", path.display()))?;
    let mut got = match kind {
        // A tree trace is refused with another tree file: its leaves name other nodes.
        PolicyFile::Tree => {
            check_file(&expected, path, &model_path)?;
            record_tree(
                &model_path,
                &jobs,
                &expected.source,
                expected.end.clone(),
                rules,
                c,
                guard,
            )
        }
        // An int8 trace is recorded again with the model quantized by the same calibration;
        // its ranges are compared like the rest (field `int8`).
        PolicyFile::Model => record(
            &model_path,
            expected.int8.is_some(),
            &jobs,
            &expected.source,
            expected.end.clone(),
            rules,
            c,
            guard,
        ),
    }
    .with_context(|| format!("replaying {}", path.display()))?;
    for f in [&mut got.model, &mut got.tree].into_iter().flatten() {
        f.path.clone_from(&recorded.path);
    }
    Ok((expected, got))
}
