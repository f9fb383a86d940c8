//! The spec test harness: runs `.wast` files (the official testsuite, our regressions,
//! or any file) against the runtime's engines and reports passed / failed / skipped
//! assertions per file and engine.
//!
//! ```no_run
//! let suite = spec_testsuite::Suite::by_name("1.0").unwrap();
//! let report = harness::spec::run_suite(&suite, runtime::Strategy::Interpreter);
//! assert_eq!(report.totals().failed, 0, "{}", report.failure_lines().join("\n"));
//! ```

pub mod cli;
pub mod fuzz;
pub mod grid;
pub mod report;
pub mod spec;
pub mod spectest;
pub mod text;
pub mod values;
pub mod wast_exec;

pub use report::{FileReport, FileResult, JsonReport, SuiteReport, Totals};
pub use spec::{run_suite, run_suite_with};
