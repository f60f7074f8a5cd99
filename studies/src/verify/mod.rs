//! `whitebox verify`: properties of the policy network over whole sets of cluster states,
//! decided soundly with the core's CROWN bounds ([`whitebox_core::verify`]) and made complete by
//! branch and bound over the compact encoder's discrete features.
//!
//! A property is a list of queries; each query is a [`Region`] of cluster states, a linear
//! specification `c . logits >= 0` that implies the property where it holds, and the property
//! itself as a predicate on the network's logits at one state. Branch and bound splits the
//! region feature by feature (the feature whose range moves the CROWN bound most) until every
//! piece is either proved by a bound, or is a single state where the network is evaluated
//! exactly, or holds a state where the property fails (a counterexample). Every state of the
//! discrete region is reachable by splitting, so the search is complete; a branch budget makes
//! it stop with **unknown** and the worst bound left.
//!
//! Counterexamples are states of the region made consistent before they are reported (an empty
//! slot has no demand and no wait, a job's wait is recomputed from the free rows, the backlog is
//! empty while a slot is empty), then evaluated through the network's real `f32` forward pass.
//! Only the compact encoder is supported.

pub mod bab;
pub mod bmc;
pub mod cert;
pub mod lp;
pub mod onnx;
pub mod pair;
pub mod property;
pub mod reach;
pub mod region;
pub mod replay;
pub mod suite;
pub mod syntax;
pub mod vnnlib;

pub use bab::{verify_net, verify_queries, Outcome, QueryReport, Verdict};
pub use cert::{CertNode, Certificate, SplitOn};
pub use property::Property;
pub use property::{Compare, Holds, Query};
pub use region::{Feature, Region};
pub use suite::{suite, verify_model};
pub use syntax::parse_region;
