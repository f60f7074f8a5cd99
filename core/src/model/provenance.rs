//! What a model was trained on beyond the headline cell of [`TrainingMeta`]: the header
//! extension of format version 2, so an operator auditing a model file sees the whole training
//! mixture, whether a curriculum ran, the rules and rule mode it was trained under and the
//! model it started from.
//!
//! Layout (`postcard`, after the version-1 header fields; every count is bounded):
//!
//! | field | encoding |
//! |---|---|
//! | mixture cells | length (1 to [`MAX_CELLS`]), then per cell: workload code `u8`, rate `f32` |
//! | rules | length (0 to [`MAX_RULES`]), then per rule: [`RuleKind::code`] `u8`, cap in permille `u16`, wait steps `u16`, weight `f32` |
//! | curriculum | period in iterations, `u32` (0: no curriculum) |
//! | rule mode | [`RuleMode::code`] `u8` |
//! | rule penalty | `f32`, `>= 0` |
//! | initial model | `Option<[u8; 8]>`: the first 8 bytes of the SHA-256 of the `--init` file |
//!
//! Every field is checked on load and on save ([`Provenance::check`]); a bad one is a
//! [`ProvenanceError`] naming the field, the value found and the allowed range. `postcard`
//! writes integers as LEB128 and floats little-endian whatever the host's byte order.

use core::fmt;

use heapless::Vec;
use serde::{Deserialize, Serialize};

use super::TrainingMeta;
use crate::rules::{Permille, Rule, RuleKind, MAX_RULES};
use crate::workload::Workload;

/// Most cells in a training mixture (4 workloads at 4 rates).
pub const MAX_CELLS: usize = 16;

/// Bytes of the largest encoded [`Provenance`]: two 1-byte lengths, 5 bytes per cell, at most
/// 11 per rule (1 + two 3-byte varints + 4), a 5-byte varint, 1 + 4 + 9 for mode, penalty and
/// initial model.
pub const MAX_ENCODED_LEN: usize = 1 + 5 * MAX_CELLS + 1 + 11 * MAX_RULES + 5 + 1 + 4 + 9;

/// How `train --rule` used the rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleMode {
    /// Teacher-student distillation toward the projected policy (Hu et al., ACL 2016); the
    /// policy acts unprojected.
    #[default]
    Distill,
    /// Act through the projection and ascend `log q`.
    Shielded,
    /// Act unprojected, with a penalty subtracted for every action that breaks a rule.
    Penalty,
}

crate::names::named!(RuleMode {
    Distill => "distill",
    Shielded => "shielded",
    Penalty => "penalty",
});

impl RuleMode {
    /// Stable numeric code used in model files.
    pub const fn code(self) -> u8 {
        match self {
            RuleMode::Distill => 0,
            RuleMode::Shielded => 1,
            RuleMode::Penalty => 2,
        }
    }

    /// The mode with numeric code `code`, if any.
    pub fn from_code(code: u8) -> Option<RuleMode> {
        RuleMode::ALL.into_iter().find(|m| m.code() == code)
    }
}

/// One cell of a training mixture: a workload at an arrival rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MixtureCell {
    /// The workload.
    pub workload: Workload,
    /// Arrival rate, in jobs per time step, in `[0, 1]`.
    pub rate: f32,
}

/// A rule a model was trained under, with its weight `lambda`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainedRule {
    /// The rule (caps filled in as the projection used them).
    pub rule: Rule,
    /// Its weight `lambda`, finite and `>= 0`.
    pub weight: f32,
}

/// The training provenance of a model (see the module docs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Provenance {
    /// Every cell of the training mixture, in the order job sets rotate through them; the first
    /// is the headline cell of [`TrainingMeta`]. Version-1 files hold only the headline (none
    /// when its workload code is unknown).
    pub cells: Vec<MixtureCell, MAX_CELLS>,
    /// Curriculum period in iterations (a search for counterexamples every this many); 0: none.
    pub curriculum_every: u32,
    /// The rules trained under (empty: none).
    pub rules: Vec<TrainedRule, MAX_RULES>,
    /// How the rules were used (meaningful only with rules).
    pub rule_mode: RuleMode,
    /// Reward penalty of the shielded and penalty modes, `>= 0`.
    pub rule_penalty: f32,
    /// First 8 bytes of the SHA-256 of the model file training started from; `None`: new
    /// weights.
    pub init_sha256: Option<[u8; 8]>,
}

/// A field of the [`Provenance`], as errors name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProvenanceField {
    /// The number of mixture cells.
    Cells,
    /// A cell's workload code.
    CellWorkload,
    /// A cell's arrival rate.
    CellRate,
    /// The number of rules.
    Rules,
    /// A rule's kind code.
    RuleKind,
    /// A rule's cap.
    RuleCap,
    /// A rule's weight.
    RuleWeight,
    /// The rule mode code.
    RuleMode,
    /// The rule penalty.
    RulePenalty,
}

impl ProvenanceField {
    fn name(self) -> &'static str {
        match self {
            ProvenanceField::Cells => "mixture cells",
            ProvenanceField::CellWorkload => "workload code of mixture cell",
            ProvenanceField::CellRate => "rate of mixture cell",
            ProvenanceField::Rules => "rules",
            ProvenanceField::RuleKind => "kind code of rule",
            ProvenanceField::RuleCap => "cap of rule",
            ProvenanceField::RuleWeight => "weight of rule",
            ProvenanceField::RuleMode => "rule mode code",
            ProvenanceField::RulePenalty => "rule penalty",
        }
    }
}

/// Why a model's provenance was refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ProvenanceError {
    /// A list holds more (or fewer) entries than allowed.
    Count {
        /// Which list.
        field: ProvenanceField,
        /// Entries in the file.
        found: u64,
        /// Fewest allowed.
        min: u64,
        /// Most allowed.
        max: u64,
    },
    /// A code names no known workload, rule kind or rule mode.
    UnknownCode {
        /// Which code.
        field: ProvenanceField,
        /// Position in its list (0 for the rule mode).
        index: usize,
        /// Code in the file.
        found: u8,
        /// Largest known code (codes run from 0).
        max: u8,
    },
    /// A number is NaN or outside its range.
    OutOfRange {
        /// Which number.
        field: ProvenanceField,
        /// Position in its list (0 for the rule penalty).
        index: usize,
        /// Value in the file.
        found: f32,
        /// Smallest allowed.
        min: f32,
        /// Largest allowed (`f32::MAX`: any finite value).
        max: f32,
    },
    /// The first cell is not the header's headline workload and rate.
    HeadlineMismatch {
        /// Workload code of the first cell.
        workload: u8,
        /// Rate of the first cell.
        rate: f32,
        /// Headline workload code.
        headline_workload: u8,
        /// Headline rate.
        headline_rate: f32,
    },
}

impl fmt::Display for ProvenanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "model provenance: ")?;
        match *self {
            ProvenanceError::Count {
                field,
                found,
                min,
                max,
            } => write!(f, "{found} {}, expected {min} to {max}", field.name()),
            ProvenanceError::UnknownCode {
                field: field @ ProvenanceField::RuleMode,
                found,
                max,
                ..
            } => write!(f, "{} {found} is unknown (known: 0 to {max})", field.name()),
            ProvenanceError::UnknownCode {
                field,
                index,
                found,
                max,
            } => write!(
                f,
                "{} {index}: {found} is unknown (known: 0 to {max})",
                field.name()
            ),
            ProvenanceError::OutOfRange {
                field,
                index,
                found,
                min,
                max,
            } => {
                match field {
                    ProvenanceField::RulePenalty => write!(f, "{} {found}", field.name())?,
                    _ => write!(f, "{} {index}: {found}", field.name())?,
                }
                if max == f32::MAX {
                    write!(f, ", expected a finite number >= {min}")
                } else {
                    write!(f, ", expected in [{min}, {max}]")
                }
            }
            ProvenanceError::HeadlineMismatch {
                workload,
                rate,
                headline_workload,
                headline_rate,
            } => write!(
                f,
                "mixture cell 0 is workload {workload} at rate {rate}, the header's headline is \
                 workload {headline_workload} at rate {headline_rate}"
            ),
        }
    }
}

impl core::error::Error for ProvenanceError {}

/// A mixture cell on the wire.
#[derive(Serialize, Deserialize)]
struct WireCell(u8, f32);

/// A rule on the wire: kind code, cap in permille, wait steps, weight.
#[derive(Serialize, Deserialize)]
struct WireRule(u8, u16, u16, f32);

/// The fields after the two lists.
#[derive(Serialize, Deserialize)]
struct WireTail {
    curriculum_every: u32,
    rule_mode: u8,
    rule_penalty: f32,
    init_sha256: Option<[u8; 8]>,
}

/// Why [`Provenance::decode`] failed.
pub(crate) enum DecodeError {
    /// The bytes end inside the provenance.
    End,
    /// Bytes that are not a provenance.
    Malformed,
    /// A field out of its range.
    Invalid(ProvenanceError),
}

impl From<postcard::Error> for DecodeError {
    fn from(e: postcard::Error) -> Self {
        match e {
            postcard::Error::DeserializeUnexpectedEnd => DecodeError::End,
            _ => DecodeError::Malformed,
        }
    }
}

impl From<ProvenanceError> for DecodeError {
    fn from(e: ProvenanceError) -> Self {
        DecodeError::Invalid(e)
    }
}

fn in_range(
    field: ProvenanceField,
    index: usize,
    found: f32,
    (min, max): (f32, f32),
) -> Result<(), ProvenanceError> {
    // NaN fails both comparisons.
    if found >= min && found <= max {
        Ok(())
    } else {
        Err(ProvenanceError::OutOfRange {
            field,
            index,
            found,
            min,
            max,
        })
    }
}

const RATES: (f32, f32) = (0.0, 1.0);
const NON_NEGATIVE: (f32, f32) = (0.0, f32::MAX);

/// Reads a list's length and checks it against `min..=max`.
fn take_len(
    bytes: &[u8],
    field: ProvenanceField,
    min: usize,
    max: usize,
) -> Result<(usize, &[u8]), DecodeError> {
    // A postcard sequence length is the same LEB128 varint as a `u64`.
    let (found, rest) = postcard::take_from_bytes::<u64>(bytes)?;
    match usize::try_from(found) {
        Ok(n) if (min..=max).contains(&n) => Ok((n, rest)),
        _ => Err(ProvenanceError::Count {
            field,
            found,
            min: min as u64,
            max: max as u64,
        }
        .into()),
    }
}

/// The largest code in a code table, so an unknown-code error names the real limit.
fn max_code<T: Copy, const N: usize>(all: [T; N], code: fn(T) -> u8) -> u8 {
    all.into_iter().map(code).max().unwrap_or(0)
}

fn unknown(field: ProvenanceField, index: usize, found: u8, max: u8) -> ProvenanceError {
    ProvenanceError::UnknownCode {
        field,
        index,
        found,
        max,
    }
}

impl Provenance {
    /// The provenance of a version-1 file: its headline cell alone (none when the workload code
    /// is unknown), no curriculum, no rules, no initial model.
    pub fn headline_only(meta: &TrainingMeta) -> Provenance {
        let mut p = Provenance::default();
        if let Some(workload) = Workload::from_code(meta.workload) {
            // Cannot fail: the list is empty.
            let _ = p.cells.push(MixtureCell {
                workload,
                rate: meta.rate,
            });
        }
        p
    }

    /// Checks every field: at least one cell, the first being `meta`'s headline, rates in
    /// `[0, 1]`, rule weights and the penalty finite and `>= 0`.
    ///
    /// # Errors
    /// The first [`ProvenanceError`] found.
    pub fn check(&self, meta: &TrainingMeta) -> Result<(), ProvenanceError> {
        let Some(first) = self.cells.first() else {
            return Err(ProvenanceError::Count {
                field: ProvenanceField::Cells,
                found: 0,
                min: 1,
                max: MAX_CELLS as u64,
            });
        };
        for (index, cell) in self.cells.iter().enumerate() {
            in_range(ProvenanceField::CellRate, index, cell.rate, RATES)?;
        }
        if first.workload.code() != meta.workload || first.rate.to_bits() != meta.rate.to_bits() {
            return Err(ProvenanceError::HeadlineMismatch {
                workload: first.workload.code(),
                rate: first.rate,
                headline_workload: meta.workload,
                headline_rate: meta.rate,
            });
        }
        for (index, r) in self.rules.iter().enumerate() {
            in_range(ProvenanceField::RuleWeight, index, r.weight, NON_NEGATIVE)?;
        }
        in_range(
            ProvenanceField::RulePenalty,
            0,
            self.rule_penalty,
            NON_NEGATIVE,
        )
    }

    /// Writes the provenance into `buf`; returns the bytes used, or `None` when `buf` is too
    /// short.
    pub(crate) fn encode(&self, buf: &mut [u8]) -> Option<usize> {
        let mut used = 0;
        put(buf, &mut used, &(self.cells.len() as u64))?;
        for c in &self.cells {
            put(buf, &mut used, &WireCell(c.workload.code(), c.rate))?;
        }
        put(buf, &mut used, &(self.rules.len() as u64))?;
        for r in &self.rules {
            let cap = r.rule.cap().map_or(0, Permille::get);
            let steps = r.rule.wait_steps().unwrap_or(0);
            let wire = WireRule(r.rule.kind().code(), cap, steps, r.weight);
            put(buf, &mut used, &wire)?;
        }
        let tail = WireTail {
            curriculum_every: self.curriculum_every,
            rule_mode: self.rule_mode.code(),
            rule_penalty: self.rule_penalty,
            init_sha256: self.init_sha256,
        };
        put(buf, &mut used, &tail)?;
        Some(used)
    }

    /// Reads a provenance from the start of `bytes` and checks it against `meta`; returns it
    /// and the bytes after it.
    pub(crate) fn decode<'a>(
        bytes: &'a [u8],
        meta: &TrainingMeta,
    ) -> Result<(Provenance, &'a [u8]), DecodeError> {
        let mut p = Provenance::default();
        let (n, mut rest) = take_len(bytes, ProvenanceField::Cells, 1, MAX_CELLS)?;
        for index in 0..n {
            let (WireCell(code, rate), r) = postcard::take_from_bytes(rest)?;
            rest = r;
            let workload = Workload::from_code(code).ok_or(unknown(
                ProvenanceField::CellWorkload,
                index,
                code,
                max_code(Workload::ALL, Workload::code),
            ))?;
            in_range(ProvenanceField::CellRate, index, rate, RATES)?;
            p.cells
                .push(MixtureCell { workload, rate })
                .map_err(|_| DecodeError::Malformed)?;
        }
        let (n, r) = take_len(rest, ProvenanceField::Rules, 0, MAX_RULES)?;
        rest = r;
        for index in 0..n {
            let (WireRule(code, cap, steps, weight), r) = postcard::take_from_bytes(rest)?;
            rest = r;
            let kind = RuleKind::from_code(code).ok_or(unknown(
                ProvenanceField::RuleKind,
                index,
                code,
                max_code(RuleKind::ALL, RuleKind::code),
            ))?;
            let max = Permille::new(cap).ok_or(ProvenanceError::OutOfRange {
                field: ProvenanceField::RuleCap,
                index,
                found: f32::from(cap) / 1000.0,
                min: 0.0,
                max: 1.0,
            })?;
            p.rules
                .push(TrainedRule {
                    rule: kind.rule(max, steps),
                    weight,
                })
                .map_err(|_| DecodeError::Malformed)?;
        }
        let (tail, rest) = postcard::take_from_bytes::<WireTail>(rest)?;
        p.curriculum_every = tail.curriculum_every;
        p.rule_mode = RuleMode::from_code(tail.rule_mode).ok_or(unknown(
            ProvenanceField::RuleMode,
            0,
            tail.rule_mode,
            max_code(RuleMode::ALL, RuleMode::code),
        ))?;
        p.rule_penalty = tail.rule_penalty;
        p.init_sha256 = tail.init_sha256;
        p.check(meta)?;
        Ok((p, rest))
    }
}

/// Writes `value` into `buf` at `*used` and advances `*used`; `None` when it does not fit.
fn put<T: Serialize>(buf: &mut [u8], used: &mut usize, value: &T) -> Option<()> {
    let n = postcard::to_slice(value, buf.get_mut(*used..)?).ok()?.len();
    *used = used.checked_add(n)?;
    Some(())
}

impl fmt::Display for Provenance {
    /// The mixture, the curriculum and the rules, for people: `deeprm, long-jobs at rates 0.3,
    /// 0.7 (+ curriculum every 10 iterations), under util<=0.8, work-conserving (shielded,
    /// penalty 1)`. The initial model is left to the caller (it may know the file's name).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut workloads: Vec<Workload, MAX_CELLS> = Vec::new();
        let mut rates: Vec<f32, MAX_CELLS> = Vec::new();
        for c in &self.cells {
            if !workloads.contains(&c.workload) {
                let _ = workloads.push(c.workload);
            }
            if !rates.iter().any(|r| r.to_bits() == c.rate.to_bits()) {
                let _ = rates.push(c.rate);
            }
        }
        // Every workload at every rate, workload-major, as `train` builds a mixture.
        let grid = self.cells.len() == workloads.len() * rates.len()
            && self.cells.iter().enumerate().all(|(k, c)| {
                workloads.get(k / rates.len()) == Some(&c.workload)
                    && rates.get(k % rates.len()).map(|r| r.to_bits()) == Some(c.rate.to_bits())
            });
        if self.cells.is_empty() {
            write!(f, "an unknown workload")?;
        } else if grid {
            for (k, w) in workloads.iter().enumerate() {
                let sep = if k == 0 { "" } else { ", " };
                write!(f, "{sep}{}", w.name())?;
            }
            rates.sort_unstable_by(f32::total_cmp);
            write!(f, " at rate{}", if rates.len() == 1 { "" } else { "s" })?;
            for (k, r) in rates.iter().enumerate() {
                let sep = if k == 0 { " " } else { ", " };
                write!(f, "{sep}{r}")?;
            }
        } else {
            for (k, c) in self.cells.iter().enumerate() {
                let sep = if k == 0 { "" } else { ", " };
                write!(f, "{sep}{} at rate {}", c.workload.name(), c.rate)?;
            }
        }
        if self.curriculum_every > 0 {
            write!(
                f,
                " (+ curriculum every {} iterations)",
                self.curriculum_every
            )?;
        }
        for (k, r) in self.rules.iter().enumerate() {
            let sep = if k == 0 { ", under " } else { ", " };
            write!(f, "{sep}{}", r.rule)?;
            if r.weight != 1.0 {
                write!(f, "@{}", r.weight)?;
            }
        }
        if !self.rules.is_empty() {
            write!(f, " ({}", self.rule_mode.name())?;
            if self.rule_penalty != 0.0 {
                write!(f, ", penalty {}", self.rule_penalty)?;
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}
