//! Differential fuzzing: generated modules (wasm-smith) run on both engines (and
//! optionally wasmi), every observable compared. See harness/README.md ("Fuzzing").
//!
//! - `generate`: fuzz input -> module (Wasm 2.0 with or without SIMD, bounded, fuel-limited);
//!   `steer`: a share of its constants rewritten to `edges`;
//! - `shape`: the module's imports and exports; `plan`: host imports and export calls
//!   drawn from the input; `host`: the plan's host modules in a runtime store;
//! - `observe`: an engine's run as plain data; `subject`: engines that produce one;
//! - `compare`: two observations -> first divergence; `oracle`: all of it for one case;
//! - `stats`, `repro` (reports and reproducer files), `driver` (`harness fuzz`),
//!   `isolate` (its worker processes), `fault` (their test-only fault injection).

pub mod cli;
pub mod compare;
pub mod corpus;
pub mod driver;
pub mod edges;
pub mod fault;
pub mod features;
pub mod generate;
pub mod host;
pub mod input;
pub mod isolate;
pub mod observe;
pub mod oracle;
pub mod plan;
#[cfg(feature = "reference-wasmi")]
pub mod reference;
pub mod relaxed;
pub mod repro;
pub mod shape;
pub mod stats;
pub mod steer;
pub mod subject;
pub mod typed_refs;

pub use compare::{Divergence, Verdict, compare};
pub use driver::{FuzzOptions, Reference, Summary};
pub use observe::{FuncId, Observation, Outcome, Step, Val};
pub use oracle::{Case, Checked, Oracle};
pub use stats::Stats;
pub use subject::{RuntimeSubject, Subject};
