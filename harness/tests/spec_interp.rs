//! The spec testsuite (1.0, 2.0 with SIMD, and our regressions) on the interpreter:
//! every assertion must pass, except those skipped for a reason the report names.

use harness::SuiteReport;
use runtime::{CompileErrorKind, Config, Engine, Error, Module, Strategy};
use spec_testsuite::Suite;

fn run(name: &str) -> SuiteReport {
    let suite = Suite::by_name(name).expect("known suite");
    harness::run_suite(&suite, Strategy::Interpreter)
}

fn assert_no_failures(report: &SuiteReport) {
    let totals = report.totals();
    assert_eq!(
        totals.failed,
        0,
        "{} failures in suite {} on {}:\n{}",
        totals.failed,
        report.suite,
        report.engine,
        report.failure_lines().join("\n")
    );
}

/// Whether the interpreter compiles v128 code yet (before it does, SIMD modules are
/// rejected as `Unsupported` and their assertions skipped).
fn interp_has_simd() -> bool {
    let engine = Engine::new(Config::new(Strategy::Interpreter)).unwrap();
    let simd = r#"(module (func (result v128) v128.const i64x2 1 2))"#;
    !matches!(
        Module::new(&engine, simd),
        Err(Error::Compile(c)) if c.kind == CompileErrorKind::Unsupported
    )
}

#[test]
fn spec_1_0() {
    let report = run("1.0");
    assert_eq!(report.files.len(), 73);
    assert_no_failures(&report);
    assert!(report.totals().passed > 10_000);
}

#[test]
fn spec_2_0() {
    let report = run("2.0");
    assert_no_failures(&report);
    let simd_skipped: u64 = report
        .files
        .iter()
        .filter(|f| f.requires_simd)
        .map(|f| f.result.skipped)
        .sum();
    if interp_has_simd() {
        assert_eq!(
            simd_skipped, 0,
            "SIMD assertions skipped although the interpreter has SIMD"
        );
    } else {
        assert!(simd_skipped > 0, "SIMD files should be reported as skipped");
    }
}

#[test]
fn regressions() {
    assert_no_failures(&run("regressions"));
}
