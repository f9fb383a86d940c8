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
/// SSSE3/SSE4.1), which must then skip every SIMD file and nothing else.
fn assert_complete(report: &SuiteReport, strategy: Strategy) {
    assert_no_failures(report);
    let simd = has_simd(strategy);
    if !simd {
        eprintln!("note: no SIMD on this host for {strategy:?}: SIMD files skipped");
    }
    for file in &report.files {
        let skipped = file.result.skipped;
        if file.requires_simd && !simd {
            assert!(
                skipped > 0,
                "{}: SIMD file not skipped without SIMD",
                file.path
            );
        } else {
            assert_eq!(
                skipped, 0,
                "{} on {}: assertions skipped: {:?}",
                file.path, report.engine, file.result.skip_reasons
            );
        }
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

/// The Wasm 3.0 suite on both engines, garbage collection included: no assertion fails
/// and none is skipped, nothing crashes the process, and the engines agree file by file.
#[test]
fn spec_3_0_runs_cleanly_and_the_engines_agree() {
    let interp = run("3.0", Strategy::Interpreter);
    let native = run("3.0", Strategy::Native);
    let mut problems = Vec::new();
    for report in [&interp, &native] {
        for f in &report.files {
            for failure in &f.result.failures {
                problems.push(format!(
                    "{} {}:{}: {} {}",
                    report.engine, f.path, failure.line, failure.directive, failure.message
                ));
            }
            for (why, n) in &f.result.skip_reasons {
                problems.push(format!(
                    "{} {}: {n} assertions skipped: {why}",
                    report.engine, f.path
                ));
            }
        }
    }
    let mut compared = 0;
    for (a, b) in interp.files.iter().zip(&native.files) {
        assert_eq!(a.path, b.path, "both runs list the same files");
        if a.result.skipped != b.result.skipped {
            // One engine implements a feature the other refuses: what it then runs has
            // no counterpart to compare with.
            continue;
        }
        compared += 1;
        let lines = |f: &harness::FileReport| -> Vec<usize> {
            f.result.failures.iter().map(|x| x.line).collect()
        };
        if lines(a) != lines(b) || a.result.passed != b.result.passed {
            problems.push(format!(
                "{}: the engines disagree: interp {} passed, failing lines {:?}; native {} passed, failing lines {:?}",
                a.path, a.result.passed, lines(a), b.result.passed, lines(b)
            ));
        }
    }
    assert!(
        compared > 150,
        "only {compared} files had the same skips on both engines"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The native engine at its other optimisation levels (`Config::opt_level`) and with the
/// other register allocator (`Config::regalloc_algorithm`): the 1.0 suite, complete and
/// passing, with each (the fuzzer draws both per case; this pins the spec's own
/// assertions on every setting).
#[test]
fn spec_1_0_native_at_every_opt_level_and_allocator() {
    let suite = Suite::by_name("1.0").expect("known suite");
    use runtime::{OptLevel, RegallocAlgorithm};
    for (level, regalloc) in [
        (OptLevel::None, RegallocAlgorithm::Backtracking),
        (OptLevel::SpeedAndSize, RegallocAlgorithm::Backtracking),
        (OptLevel::Speed, RegallocAlgorithm::SinglePass),
    ] {
        let options = harness::spec::RunOptions {
            opt_level: level,
            regalloc,
            ..Default::default()
        };
        let report = harness::spec::run_suite_with(&suite, Strategy::Native, &options, &mut |_| {});
        assert_complete(&report, Strategy::Native);
        assert!(report.totals().passed > 10_000, "{level:?} {regalloc:?}");
    }
}

/// The native engine with explicit bounds checks (`Config::signal_traps` off; the other
/// native runs here use the default, guard pages and signal traps on x86-64 Linux): the
/// 2.0 suite (its memory, SIMD load/store and bounds tests above all), complete and passing.
#[test]
fn spec_2_0_native_with_explicit_bounds_checks() {
    let suite = Suite::by_name("2.0").expect("known suite");
    let options = harness::spec::RunOptions {
        signal_traps: false,
        ..Default::default()
    };
    let report = harness::spec::run_suite_with(&suite, Strategy::Native, &options, &mut |_| {});
    assert_complete(&report, Strategy::Native);
    assert!(report.totals().passed > 40_000);
}
