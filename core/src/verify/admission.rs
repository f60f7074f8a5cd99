//! An admission check a device runs before it accepts a model (issue 13): a bound-based proof of
//! one `no-idle` case, refusing a model it cannot prove.
//!
//! The case: the cluster is idle, exactly one job waits, in slot 0, of any length
//! `1..=MAX_JOB_LEN` steps and any demands `1..=RES_UNITS` units per resource (so it fits now),
//! the backlog is empty, and any time has passed since the last new job. Over every compact
//! observation of such a state (a box: each feature is a function of one of those quantities,
//! `crate::encoding::Compact`), the raw network must not rank waiting first, as `whitebox verify
//! --property no-idle` states it: some slot's logit is at least void's. One CROWN bound per slot
//! ([`crown_lower`] of `logit[j] - logit[void]`, rounded outward) decides it: the model is
//! admitted when one of them is at least 0 over the whole box. No branching, so its cost is
//! fixed (`M` bounds). On the host, `whitebox verify --property no-idle --region
//! "slot[1..9].len=0"` proves the same case with one branch for every shipped model.

use super::{crown_lower, InputBox, VerifyError};
use crate::encoding::compact_len;
use crate::nn::Mlp;
use crate::spec::{HORIZON, MAX_JOB_LEN, NUM_RES, RES_UNITS};

/// The admission check's outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Admission {
    /// The slot `j` whose bound is largest.
    pub slot: usize,
    /// Sound lower bound on `logit[j] - logit[void]` over the case's box (margins included).
    pub lower: f64,
    /// `lower >= 0`: proved, so the model is admitted.
    pub admitted: bool,
}

/// The box of compact observations (`I = compact_len(M)` features) of an idle cluster with one
/// fitting job in slot 0 and an empty backlog; see the module docs.
///
/// # Errors
/// None for the shipped sizes; [`VerifyError::BadInterval`] only if a bound were inverted.
pub fn lone_job_box<const M: usize, const I: usize>() -> Result<InputBox<I>, VerifyError> {
    const {
        assert!(
            I == compact_len(M),
            "compact input must be compact_len(M) long"
        )
    };
    let (mut lo, mut hi) = ([0.0f32; I], [0.0f32; I]);
    // Every horizon row fully free: avbl / RES_UNITS = 1.
    for k in 0..HORIZON * NUM_RES {
        if let (Some(l), Some(h)) = (lo.get_mut(k), hi.get_mut(k)) {
            (*l, *h) = (1.0, 1.0);
        }
    }
    // Slot 0: len / MAX_JOB_LEN, each demand / RES_UNITS (the encoder's f32 quotients are
    // monotone, so their extremes bound every value), wait 0 (fits now). Other slots, the
    // backlog: 0.
    let slot0 = HORIZON * NUM_RES;
    let len = (1.0 / f32::from(MAX_JOB_LEN), 1.0);
    let demand = (1.0 / f32::from(RES_UNITS), 1.0);
    let ranges = core::iter::once(len).chain(core::iter::repeat_n(demand, NUM_RES));
    for (k, (l, h)) in (slot0..).zip(ranges) {
        if let (Some(a), Some(b)) = (lo.get_mut(k), hi.get_mut(k)) {
            (*a, *b) = (l, h);
        }
    }
    // Time since the last new job / MAX_TRACK_SINCE_NEW: anything in [0, 1].
    if let Some(h) = hi.last_mut() {
        *h = 1.0;
    }
    InputBox::new(lo, hi)
}

/// Runs the admission check on `net`, the compact network of an `M`-slot model (`O = M + 1`
/// outputs, void last).
///
/// # Errors
/// [`VerifyError::NonFiniteWeight`] for a corrupted network (refuse it too).
pub fn admit_lone_job<const M: usize, const I: usize, const H: usize, const O: usize>(
    net: &Mlp<I, H, O>,
) -> Result<Admission, VerifyError> {
    let bx = lone_job_box::<M, I>()?;
    let mut best = Admission {
        slot: 0,
        lower: f64::NEG_INFINITY,
        admitted: false,
    };
    for slot in 0..M {
        let mut c = [0.0f32; O];
        if let Some(s) = c.get_mut(slot) {
            *s = 1.0;
        }
        if let Some(v) = c.last_mut() {
            *v -= 1.0;
        }
        let lower = crown_lower(net, &bx, &c)?.lower;
        if lower > best.lower {
            best = Admission {
                slot,
                lower,
                admitted: lower >= 0.0,
            };
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: usize = 5;
    const I: usize = compact_len(M);
    const O: usize = M + 1;

    /// A network with one hidden unit `relu(x[k])` and logits `b2 + w2 * h`.
    fn net(k: usize, w2: [f32; O], b2: [f32; O]) -> Mlp<I, 1, O> {
        let mut w1 = [[0.0f32; I]; 1];
        w1[0][k] = 1.0;
        Mlp {
            w1,
            b1: [0.0],
            w2: w2.map(|w| [w]),
            b2,
        }
    }

    #[test]
    fn the_box_is_the_lone_job_case() {
        let bx = lone_job_box::<M, I>().unwrap_or_else(|e| unreachable!("{e}"));
        // An idle cluster with one 3-step job of (4, 10) units in slot 0, 7 steps after the last
        // arrival, encoded by hand as `Compact` does: inside. A second job (slot 1): outside.
        let mut x = [0.0f32; I];
        x[..40].fill(1.0);
        x[40..43].copy_from_slice(&[3.0 / 20.0, 0.4, 1.0]);
        x[I - 1] = 0.7;
        assert!(bx.contains(&x));
        x[44] = 0.05;
        assert!(!bx.contains(&x));
    }

    #[test]
    fn admits_what_holds_and_refuses_what_does_not() {
        // logit[0] = 1, void 0, the other slots 0: holds by 1 (less the rounding margin).
        let a = admit_lone_job::<M, I, 1, O>(&net(0, [0.0; O], [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]));
        let a = a.unwrap_or_else(|e| unreachable!("{e}"));
        assert!(a.admitted && a.lower > 0.999 && a.lower < 1.0, "{a:?}");
        // A planted void preference: refused.
        let planted = net(0, [0.0; O], [1.0, 0.0, 0.0, 0.0, 0.0, 2.0]);
        let a = admit_lone_job::<M, I, 1, O>(&planted).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(!a.admitted && a.lower < -0.999, "{a:?}");
        // logit[0] - void = len / 20 - 0.5 (the hidden unit reads slot 0's length): by hand,
        // f32(1 / 20) - 0.5 = -0.4499999993 for a 1-step job, so refused; the bound is at most
        // that (sound) and below it only by the outward rounding margin (a few 1e-6).
        let least = f64::from(1.0f32 / 20.0);
        let mut w2 = [0.0; O];
        w2[0] = 1.0;
        let by_len = net(40, w2, [0.0, 0.0, 0.0, 0.0, 0.0, 0.5]);
        let a = admit_lone_job::<M, I, 1, O>(&by_len).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(!a.admitted && a.lower <= least - 0.5 && a.lower > least - 0.5 - 1e-5);
        // With void at 0 the least difference is f32(1 / 20): admitted.
        let ok = net(40, w2, [0.0; O]);
        let a = admit_lone_job::<M, I, 1, O>(&ok).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(
            a.admitted && a.lower <= least && a.lower > least - 1e-5,
            "{a:?}"
        );
    }
}
