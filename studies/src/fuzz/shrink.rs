//! Minimizing a found sequence while the policy stays worse than SJF by a threshold.

use anyhow::Result;
use whitebox_core::spec::NUM_RES;
use whitebox_core::Job;

use super::score::{score_of, Score, Target};
use super::support::{dominant, renumber};

/// What shrinking did.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The minimized sequence.
    pub jobs: Vec<Job>,
    /// Its score.
    pub score: Score,
    /// Sequences evaluated while shrinking.
    pub tries: u64,
}

/// Minimizes `jobs` (drop jobs, shorten lengths within the support, lower demands within their
/// ranges) while its excess stays at least `threshold`; greedy and sequential, so deterministic.
/// Returns `None` if `jobs` itself is unscored or below the threshold.
///
/// # Errors
/// When a policy fails.
pub fn shrink(target: &Target, jobs: &[Job], threshold: f64) -> Result<Option<Shrunk>> {
    let obj = target.objective;
    let ok = |j: &[Job]| -> Result<Option<Score>> {
        Ok(score_of(target, j)?.filter(|s| s.excess(obj) >= threshold))
    };
    let Some(mut score) = ok(jobs)? else {
        return Ok(None);
    };
    let mut cur = jobs.to_vec();
    let mut tries = 1u64;
    let lens = target.support.lengths();
    let dist = target.support.dist;
    let mut changed = true;
    while changed {
        changed = false;
        // Drop jobs, last first.
        let mut i = cur.len();
        while i > 0 {
            i -= 1;
            if cur.len() <= 1 {
                break;
            }
            let mut t = cur.clone();
            t.remove(i);
            renumber(&mut t);
            tries += 1;
            if let Some(s) = ok(&t)? {
                (cur, score, changed) = (t, s, true);
            }
        }
        // Shorten lengths: the shortest, else the next shorter one.
        for i in 0..cur.len() {
            let l = cur[i].len;
            let shorter: Vec<u8> = lens.iter().copied().filter(|&x| x < l).collect();
            for x in [shorter.first(), shorter.last()].into_iter().flatten() {
                let mut t = cur.clone();
                t[i].len = *x;
                tries += 1;
                if let Some(s) = ok(&t)? {
                    (cur, score, changed) = (t, s, true);
                    break;
                }
            }
        }
        // Lower demands: the range minimum, else one unit less.
        for i in 0..cur.len() {
            let dom = dominant(&cur[i]);
            for r in 0..NUM_RES {
                let range = if r == dom { dist.dominant } else { dist.other };
                let lo = range.0.min(range.1);
                let u = cur[i].res[r];
                for x in [lo, u.saturating_sub(1)] {
                    if x >= u || x < lo {
                        continue;
                    }
                    let mut t = cur.clone();
                    t[i].res[r] = x;
                    // Lowering must not change which resource is dominant.
                    if dominant(&t[i]) != dom || !target.support.contains(&t) {
                        continue;
                    }
                    tries += 1;
                    if let Some(s) = ok(&t)? {
                        (cur, score, changed) = (t, s, true);
                        break;
                    }
                }
            }
        }
    }
    Ok(Some(Shrunk {
        jobs: cur,
        score,
        tries,
    }))
}
