//! Running a search on one shard: the random-sampling baseline here, the evolutionary search
//! in `evolve`.

use anyhow::Result;
use rayon::prelude::*;

use super::config::{stream_seed, SearchConfig, SearchKind};
use super::evolve::evolve;
use super::score::{score_of, Target};
use super::tally::{Candidate, SearchResult, Tally};

const TAG_RANDOM: u64 = 1;

/// Runs a search. `progress(evaluated, best_excess)` is called on the calling thread after
/// each batch.
///
/// # Errors
/// When a policy fails.
pub fn search(
    target: &Target,
    cfg: &SearchConfig,
    progress: &mut dyn FnMut(u64, f64),
) -> Result<SearchResult> {
    let budget = cfg.shard.budget(cfg.budget);
    let mut tally = Tally::new(cfg.keep.max(1), target.objective);
    match cfg.kind {
        SearchKind::Random => {
            // Global candidate k belongs to shard k % n, and its sequence depends on k only, so
            // the shards of a campaign together evaluate exactly the unsharded campaign.
            let n = u64::from(cfg.shard.count);
            let mut done = 0;
            while done < budget {
                let batch = (budget - done).min(512);
                let cands = (done..done + batch)
                    .into_par_iter()
                    .map(|j| {
                        let k = u64::from(cfg.shard.index) + j * n;
                        let jobs = target
                            .support
                            .sample(stream_seed(&[cfg.seed, TAG_RANDOM, k]));
                        let score = score_of(target, &jobs)?;
                        Ok(Candidate {
                            jobs,
                            score,
                            search: SearchKind::Random,
                            shard: 0,
                            index: k,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                cands.into_iter().for_each(|c| tally.add(c));
                done += batch;
                progress(done, tally.best_excess());
            }
        }
        SearchKind::Evolve => evolve(target, cfg, budget, &mut tally, progress)?,
    }
    Ok(tally.finish(cfg.kind, cfg.shard))
}
