//! Differential fuzzing: generated modules (wasm-smith) run on both engines (and
//! optionally wasmi), every observable compared. See harness/README.md ("Fuzzing").
//!
//! - `generate`: fuzz input -> module (Wasm 2.0 with or without SIMD, bounded, fuel-limited);
//!   `steer`: a share of its constants rewritten to `edges`; `blind_spots` (with
//!   `blind_ops`): functions for overlapping copies, grow at the limits, init after drop,
//!   recursion to exhaustion, and import names that clash made unique;
//! - `shape`: the module's imports and exports; `plan`: host imports and export calls
//!   drawn from the input; `host`: the plan's host modules in a runtime store;
//! - `observe`: an engine's run as plain data; `subject`: engines that produce one;
//! - `compare`: two observations -> first divergence; `oracle`: all of it for one case;
//! - `coverage`: which operators ran, on edge operands or not (feature `op-coverage`);
//! - `stats`, `repro` (reports and reproducer files), `driver` (`harness fuzz`),
//!   `isolate` (its worker processes), `fault` (their test-only fault injection);
//! - `reference` (wasmi), `reference_wasmtime`: third opinions; `known`: their known
//!   issues, which explain a reference difference by re-running it rewritten
//!   (`workaround`) around the issue.

pub mod array_lengths;
pub mod blind_ops;
pub mod blind_spots;
pub mod blind_stats;
pub mod cli;
pub mod compare;
pub mod corpus;
pub mod coverage;
pub mod driver;
pub mod edges;
pub mod effects;
pub mod fault;
pub mod features;
pub mod gc_graph;
pub mod generate;
pub mod host;
pub mod host_stats;
pub mod input;
pub mod isolate;
pub mod known;
mod leb;
pub mod objects;
pub mod observe;
pub mod oracle;
pub mod plan;
#[cfg(feature = "reference-wasmi")]
pub mod reference;
#[cfg(feature = "reference-wasmtime")]
pub mod reference_wasmtime;
pub mod relaxed;
pub mod repro;
pub mod shape;
pub mod stats;
pub mod steer;
pub mod subject;
pub mod typed_refs;
pub mod wide_imports;
pub mod workaround;

pub use compare::{Divergence, Verdict, compare};
pub use driver::{FuzzOptions, Reference, Summary};
pub use observe::{FuncId, Observation, Outcome, Step, Val};
pub use oracle::{Case, Checked, Oracle};
pub use stats::Stats;
pub use subject::{RuntimeSubject, Subject};
