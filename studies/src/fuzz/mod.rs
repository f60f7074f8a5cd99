//! `whitebox fuzz`: searching a workload's support for job sequences on which a policy does
//! worse than SJF, shrinking what is found, and writing it as replayable fixtures.
//!
//! * [`Support`] (`support`) says which sequences the workload's generator can produce: at most
//!   one job per time step in `1..simu_len`, lengths in the short or long range, one dominant
//!   resource with a demand in the dominant range and the others in the other range. Every
//!   candidate the search or the shrinker builds stays inside it; [`Support::log_likelihood`]
//!   says how probable a sequence is under the generator. `mutate` holds the in-support
//!   [`Mutation`]s and the crossover.
//! * [`evaluate`] (`score`) plays a sequence with the policy and with SJF (all-done) and scores
//!   it by the gap `mean slowdown(policy) - mean slowdown(SJF)` or their ratio. A truncated
//!   episode or one that allocated nothing has no score: it is neither side's win.
//! * [`search()`] (`search`, `evolve`) runs a random-sampling baseline ([`SearchKind::Random`])
//!   or an evolutionary search ([`SearchKind::Evolve`]). All randomness comes from PCG streams
//!   keyed by `(seed, shard, generation, candidate index)` ([`stream_seed`], `config`);
//!   candidates are evaluated in parallel with rayon and reduced in index order, so results do
//!   not depend on the thread count. `tally` ranks candidates and keeps the best distinct ones.
//! * [`shrink()`] (`shrink`) minimizes a found sequence (drop jobs, shorten lengths, lower
//!   demands) while its excess over SJF stays above a threshold.
//! * [`campaign`] runs all of it from plain settings; [`fixture`] writes what is found.

pub mod campaign;
mod config;
mod evolve;
pub mod fixture;
pub mod job_serde;
mod mutate;
mod score;
mod search;
mod shrink;
mod support;
mod tally;

pub use config::{stream_seed, SearchConfig, SearchKind, Shard};
pub use mutate::Mutation;
pub use score::{evaluate, Objective, Score, Target};
pub use search::search;
pub use shrink::{shrink, Shrunk};
pub use support::{renumber, typical_log_likelihood, Support};
pub use tally::{rank, Candidate, SearchResult};
