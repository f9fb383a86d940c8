//! Running files and suites on an engine, with the guards a whole-suite run needs: each
//! file runs on its own thread (a big stack for deep recursion tests, a panic stays in
//! that file) under a wall-clock limit, so one bad file cannot take the run down or
//! hang it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use runtime::{Config, Engine, Strategy, WasmFeatures};
use spec_testsuite::{SpecFile, Suite};

use crate::report::{FileReport, FileResult, SuiteReport, Verdict};
use crate::wast_exec::run_wast;

/// How long one file may run before it is reported as a failure and abandoned.
/// Generous: the slowest spec files take seconds in an optimised build.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Deep-recursion tests (call stack exhaustion) must hit the engine's call-depth limit
/// before they hit the host thread's stack.
const FILE_THREAD_STACK: usize = 512 << 20;

/// Shared between a file's thread and the runner watching it.
#[derive(Default)]
pub struct FileProgress {
    /// Set when the file is abandoned: it stops at its next directive.
    pub cancel: AtomicBool,
    /// Line of the directive running now, to say where a runaway file got stuck.
    pub line: AtomicUsize,
    /// Directives started so far: the watcher sees whether the file moves on.
    pub started: AtomicUsize,
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How long one directive may run: then its call is interrupted
    /// (`InterruptHandle`) and it fails as a timeout, and the file goes on.
    pub timeout: Duration,
    /// The native engine's optimisation level.
    pub opt_level: runtime::OptLevel,
    /// The native engine's register allocator.
    pub regalloc: runtime::RegallocAlgorithm,
    /// `Config::signal_traps` (on by default, as in `Config`).
    pub signal_traps: bool,
}

/// How much longer than `timeout` a directive that could not be interrupted (stuck
/// outside Wasm code, e.g. compiling) may run before its file is abandoned.
const ABANDON_GRACE: Duration = Duration::from_secs(10);

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            timeout: DEFAULT_TIMEOUT,
            opt_level: runtime::OptLevel::Speed,
            regalloc: runtime::RegallocAlgorithm::Backtracking,
            signal_traps: runtime::Config::default().signal_traps,
        }
    }
}

/// Runs one .wast source on a fresh engine of `strategy` with `features`.
pub fn run_source(
    source: Arc<str>,
    features: WasmFeatures,
    strategy: Strategy,
    options: &RunOptions,
) -> FileResult {
    let start = Instant::now();
    let progress = Arc::new(FileProgress::default());
    let (tx, rx) = mpsc::channel();
    let thread_progress = progress.clone();
    let thread_source = source.clone();
    let timeout = options.timeout;
    let opt_level = options.opt_level;
    let regalloc = options.regalloc;
    let signal_traps = options.signal_traps;
    let spawned = std::thread::Builder::new()
        .name("wast-file".into())
        .stack_size(FILE_THREAD_STACK)
        .spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let config = Config::new(strategy)
                    .features(features)
                    .interruptible(true)
                    .opt_level(opt_level)
                    .regalloc_algorithm(regalloc)
                    .signal_traps(signal_traps);
                match Engine::new(config) {
                    Ok(engine) => run_wast(&thread_source, &engine, &thread_progress, timeout),
                    Err(e) => file_failure("engine", format!("cannot create the engine: {e}")),
                }
            }));
            let _ = tx.send(outcome.map_err(|p| panic_message(&*p)));
        });
    let mut result = match spawned {
        Err(e) => file_failure("thread", format!("cannot start a thread: {e}")),
        Ok(_) => match wait_for_file(&rx, &progress, options.timeout + ABANDON_GRACE) {
            Ok(Ok(r)) => r,
            Ok(Err(panic)) => file_failure("panic", format!("the run panicked: {panic}")),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                progress.cancel.store(true, Ordering::Relaxed);
                let line = progress.line.load(Ordering::Relaxed);
                let mut r = FileResult::default();
                let message = format!(
                    "a directive still running {}s past its time limit could not be interrupted (at line {line}); abandoned, results of this file lost",
                    ABANDON_GRACE.as_secs()
                );
                r.record(line, "timeout", Verdict::fail(message, None, None));
                r
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                file_failure("thread", "the file's thread ended without a result".into())
            }
        },
    };
    result.elapsed_ms = start.elapsed().as_millis() as u64;
    result
}

/// The file's result, or a timeout once one directive has been running for `limit`
/// (the file may take as long as it needs while its directives move on).
fn wait_for_file<T>(
    rx: &mpsc::Receiver<T>,
    progress: &FileProgress,
    limit: Duration,
) -> Result<T, mpsc::RecvTimeoutError> {
    let mut seen = progress.started.load(Ordering::Relaxed);
    let mut since = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            done => return done,
        }
        let now = progress.started.load(Ordering::Relaxed);
        if now != seen {
            (seen, since) = (now, Instant::now());
        } else if since.elapsed() >= limit {
            return Err(mpsc::RecvTimeoutError::Timeout);
        }
    }
}

fn file_failure(directive: &str, message: String) -> FileResult {
    let mut r = FileResult::default();
    r.record(0, directive, Verdict::fail(message, None, None));
    r
}

pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".into()
    }
}

/// Runs one file of a suite.
pub fn run_spec_file(
    file: &SpecFile,
    suite: &Suite,
    strategy: Strategy,
    options: &RunOptions,
) -> FileReport {
    FileReport {
        suite: suite.name.clone(),
        path: file.path_for_display.clone(),
        requires_simd: file.requires_simd,
        result: run_source(Arc::from(file.source), file.features, strategy, options),
    }
}

/// Runs every file of `suite` on `strategy`, calling `on_file` after each.
pub fn run_suite_with(
    suite: &Suite,
    strategy: Strategy,
    options: &RunOptions,
    on_file: &mut dyn FnMut(&FileReport),
) -> SuiteReport {
    let files = suite
        .files
        .iter()
        .map(|f| {
            let report = run_spec_file(f, suite, strategy, options);
            on_file(&report);
            report
        })
        .collect();
    SuiteReport {
        suite: suite.name.clone(),
        engine: strategy.name().to_string(),
        files,
    }
}

/// Runs every file of `suite` on `strategy` with the default options.
pub fn run_suite(suite: &Suite, strategy: Strategy) -> SuiteReport {
    run_suite_with(suite, strategy, &RunOptions::default(), &mut |_| {})
}

/// Runs .wast files from disk (Wasm 2.0 features), as the suite `"files"`.
pub fn run_paths(
    paths: &[impl AsRef<Path>],
    features: WasmFeatures,
    strategy: Strategy,
    options: &RunOptions,
    on_file: &mut dyn FnMut(&FileReport),
) -> SuiteReport {
    let files = paths
        .iter()
        .map(|p| {
            let p = p.as_ref();
            let result = match std::fs::read_to_string(p) {
                Ok(text) => run_source(Arc::from(text), features, strategy, options),
                Err(e) => file_failure("read", format!("cannot read {}: {e}", p.display())),
            };
            let report = FileReport {
                suite: "files".into(),
                path: p.display().to_string(),
                requires_simd: false,
                result,
            };
            on_file(&report);
            report
        })
        .collect();
    SuiteReport {
        suite: "files".into(),
        engine: strategy.name().to_string(),
        files,
    }
}
