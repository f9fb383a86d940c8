//! The spec testsuite (1.0, 2.0 with SIMD, and our regressions) on both engines:
//! every assertion must pass, except those skipped for a reason the report names.

use harness::SuiteReport;
use runtime::{CompileErrorKind, Config, Engine, Error, Module, Strategy};
use spec_testsuite::Suite;

fn run(name: &str, strategy: Strategy) -> SuiteReport {
    let suite = Suite::by_name(name).expect("known suite");
    harness::run_suite(&suite, strategy)
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

/// Whether the engine compiles v128 code yet (before it does, SIMD modules are
/// rejected as `Unsupported` and their assertions skipped).
fn has_simd(strategy: Strategy) -> bool {
    let engine = Engine::new(Config::new(strategy)).unwrap();
    let simd = r#"(module (func (result v128) v128.const i64x2 1 2))"#;
    !matches!(
        Module::new(&engine, simd),
        Err(Error::Compile(c)) if c.kind == CompileErrorKind::Unsupported
    )
}

fn spec_1_0(strategy: Strategy) {
    let report = run("1.0", strategy);
    assert_eq!(report.files.len(), 73);
    assert_no_failures(&report);
    assert!(report.totals().passed > 10_000);
}

fn spec_2_0(strategy: Strategy) {
    let report = run("2.0", strategy);
    assert_no_failures(&report);
    let simd_skipped: u64 = report
        .files
        .iter()
        .filter(|f| f.requires_simd)
        .map(|f| f.result.skipped)
        .sum();
    // An engine without SIMD refuses every SIMD module as unsupported, so its assertions
    // are skipped (and counted); an engine with SIMD must run every one of them.
    if has_simd(strategy) {
        assert_eq!(
            simd_skipped, 0,
            "SIMD assertions skipped although the engine has SIMD"
        );
    } else {
        assert!(simd_skipped > 0, "SIMD files should be reported as skipped");
    }
}

fn regressions(strategy: Strategy) {
    assert_no_failures(&run("regressions", strategy));
}

#[test]
fn spec_1_0_interp() {
    spec_1_0(Strategy::Interpreter);
}

#[test]
fn spec_2_0_interp() {
    spec_2_0(Strategy::Interpreter);
}

#[test]
fn regressions_interp() {
    regressions(Strategy::Interpreter);
}

#[test]
fn spec_1_0_native() {
    spec_1_0(Strategy::Native);
}

#[test]
fn spec_2_0_native() {
    spec_2_0(Strategy::Native);
}

#[test]
fn regressions_native() {
    regressions(Strategy::Native);
}
