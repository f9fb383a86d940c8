//! The spec testsuite (1.0, 2.0 with SIMD, and our regressions) on both engines: every
//! assertion must run and pass (a skip fails the test, see `assert_complete`).

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

/// No failure, and no skip: every assertion of the suite runs. The one exception is an
/// engine that cannot have SIMD on this host (the native engine on an x86-64 without
/// SSSE3/SSE4.1), which must then skip every SIMD assertion and nothing else.
fn assert_complete(report: &SuiteReport, strategy: Strategy) {
    assert_no_failures(report);
    let skipped = |simd: bool| -> u64 {
        (report.files.iter())
            .filter(|f| f.requires_simd == simd)
            .map(|f| f.result.skipped)
            .sum()
    };
    let skip_lines = || {
        (report.files.iter())
            .filter(|f| f.result.skipped > 0)
            .map(|f| format!("{}: {:?}", f.path, f.result.skip_reasons))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        skipped(false),
        0,
        "assertions skipped in suite {} on {}:\n{}",
        report.suite,
        report.engine,
        skip_lines()
    );
    if has_simd(strategy) {
        assert_eq!(
            skipped(true),
            0,
            "SIMD assertions skipped although the engine has SIMD:\n{}",
            skip_lines()
        );
    } else {
        eprintln!("note: no SIMD on this host for {strategy:?}: SIMD files skipped");
        let simd_files = report.files.iter().any(|f| f.requires_simd);
        assert!(
            !simd_files || skipped(true) > 0,
            "SIMD files should be reported as skipped"
        );
    }
}

fn spec_1_0(strategy: Strategy) {
    let report = run("1.0", strategy);
    assert_eq!(report.files.len(), 73);
    assert_complete(&report, strategy);
    assert!(report.totals().passed > 10_000);
}

fn spec_2_0(strategy: Strategy) {
    assert_complete(&run("2.0", strategy), strategy);
}

fn regressions(strategy: Strategy) {
    assert_complete(&run("regressions", strategy), strategy);
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
