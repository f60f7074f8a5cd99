//! # whitebox-core
//!
//! The trusted part of the whitebox scheduler: a DeepRM-style cluster simulator (Mao et al.,
//! "Resource Management with Deep Reinforcement Learning", HotNets 2016), its job workloads and
//! the rule-based baselines (SJF, Packer, Tetris, Random). `no_std`, no allocation, no `unsafe`,
//! no panics on any input: every failure is a typed error.
//!
//! A decision flows as: a [`Scheduler`] looks at a [`Cluster`] and returns an [`Action`];
//! [`Episode::step`] applies it, admits arrivals when time advances, charges rewards and reports
//! [`Event`]s to an [`Observer`]; [`Episode::summary`] gives the metrics.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod baselines;
pub mod cluster;
pub mod encoding;
pub mod episode;
pub mod framing;
pub mod guard;
pub mod image;
pub mod job;
pub mod model;
mod names;
pub mod network;
pub mod nn;
pub mod policy;
pub mod projection;
pub mod quant;
pub mod reserve;
pub mod rules;
pub mod scheduler;
pub mod spec;
pub mod tree;
pub mod verify;
pub mod workload;

pub use baselines::{Packer, RandomPolicy, Sjf, Tetris};
pub use cluster::{Action, Cluster, JobLoad, MoveOnCause, Placement, RejectReason, Step};
pub use episode::{run, Charge, End, EndMode, Episode, EpisodeError, Event, Observer, Summary};
pub use guard::{
    Guard, GuardError, GuardMode, GuardParams, Handover, Leader, NamedFallback, Repair,
};
pub use job::{Job, JobError};
pub use projection::{Choice, Projected, ProjectedDecision, Projection};
pub use reserve::{FallbackKind, SjfReserve, SjfReserveAged};
pub use rules::{Permille, Rule, RuleKind, RuleSet};
pub use scheduler::{rank_logits, PolicyError, Preference, ProjectionError, Scheduler, RANK_GAP};
pub use spec::ClusterSpec;
