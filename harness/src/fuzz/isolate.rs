//! Crash isolation for `harness fuzz`: cases run in worker processes, so a fault in
//! native code (a signal) or a hang ends one worker, not the run.
//!
//! Each of the `--jobs` slots drives one worker process (this same binary, `harness fuzz
//! --worker`) over a pipe: the slot writes a range of seeds (`A B`), the worker writes
//! `s SEED` before each case and `r SUMMARY` (JSON) after the range, or `e MESSAGE` on an
//! error. When the pipe closes early (the worker died) or nothing arrives within the
//! timeout (the slot kills it), the last `s SEED` names the case: the slot writes its
//! reproducer, starts a fresh worker, and hands it the rest of the range, seeds before
//! the crash included (their results died with the worker's summary; they are
//! deterministic, so running them again gives the same counts). RATIONALE.md ("The
//! differential fuzzer") has the measurements behind this design.

use std::io::{BufRead, BufReader, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::fuzz::driver::{self, FuzzOptions, Reference, Summary};
use crate::fuzz::fault;
use crate::fuzz::input::seed_bytes;
use crate::fuzz::oracle::Case;

/// How the stable driver isolates cases.
#[derive(Debug, Clone)]
pub struct Isolation {
    /// The executable to start as a worker (`harness`; it is given `fuzz --worker`).
    pub worker: PathBuf,
    /// A case that runs longer than this is a hang: its worker is killed.
    pub timeout: Duration,
}

/// Seeds per request: large enough that the pipe round trip is noise, small enough that
/// slots finish together and a `--time` budget is overrun by little.
const CHUNK: u64 = 64;

/// How a worker left a range unfinished.
#[derive(Debug, Clone, Copy)]
enum Cause {
    /// It ended (by a signal, or an exit status) while running the case.
    Died(ExitStatus),
    /// It ran the case for longer than the timeout, and was killed.
    Hung(Duration),
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::os::unix::process::ExitStatusExt;
        match self {
            Cause::Hung(t) => write!(
                f,
                "timeout: no result within {:.1} s (hang); the worker was killed",
                t.as_secs_f64()
            ),
            Cause::Died(status) => match status.signal() {
                Some(sig) => write!(
                    f,
                    "signal {sig} ({}): the worker process died",
                    signal_name(sig)
                ),
                None => write!(f, "the worker process exited early ({status})"),
            },
        }
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTRAP => "SIGTRAP",
        _ => "other signal",
    }
}

enum Ran {
    Done(Box<Summary>),
    Crashed { seed: u64, cause: Cause },
}

/// A running worker process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    /// Its stdout, line by line (a reader thread feeds it, so waits can time out).
    lines: mpsc::Receiver<String>,
}

/// glibc malloc settings for worker processes: no heap trimming below 256 MiB, blocks
/// under 32 MiB from the heap rather than their own mappings, 16 MiB of slack when the
/// heap grows.
const WORKER_MALLOC_TUNABLES: &str = "glibc.malloc.trim_threshold=268435456:\
glibc.malloc.mmap_threshold=33554432:glibc.malloc.top_pad=16777216";

impl Worker {
    fn spawn(opts: &FuzzOptions, iso: &Isolation) -> anyhow::Result<Worker> {
        let mut cmd = Command::new(&iso.worker);
        cmd.arg("fuzz").arg("--worker").arg("--out").arg(&opts.out);
        if opts.minimize {
            cmd.arg("--minimize");
        }
        match opts.reference {
            Some(Reference::Wasmi) => cmd.args(["--reference", "wasmi"]),
            Some(Reference::Wasmtime) => cmd.args(["--reference", "wasmtime"]),
            None => &mut cmd,
        };
        // A case allocates and frees memory snapshots and compiler buffers of hundreds of
        // KiB; by default glibc hands such blocks back to the kernel (mmap for large ones,
        // trimming the heap's top) and every next case faults them in again: about 60
        // page faults per module. Keeping them costs a worker some resident memory and
        // saved half its system time and 4% of the run (RATIONALE.md, "Fuzzer
        // throughput"). Other C libraries ignore the variable; one the user set wins.
        if std::env::var_os("GLIBC_TUNABLES").is_none() {
            cmd.env("GLIBC_TUNABLES", WORKER_MALLOC_TUNABLES);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting worker {}", iso.worker.display()))?;
        let stdin = child.stdin.take().context("worker stdin")?;
        let stdout = child.stdout.take().context("worker stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Worker {
            child,
            stdin,
            lines,
        })
    }

    /// Runs `range`; each case gets `timeout` from its `s SEED` line on.
    fn run(&mut self, range: &Range<u64>, timeout: Duration) -> anyhow::Result<Ran> {
        // A failed write means the worker is gone: the read below says how.
        let _ =
            writeln!(self.stdin, "{} {}", range.start, range.end).and_then(|()| self.stdin.flush());
        let mut current: Option<u64> = None;
        loop {
            match self.lines.recv_timeout(timeout) {
                Ok(line) => {
                    if let Some(seed) = line.strip_prefix("s ") {
                        current = Some(seed.parse().context("worker progress line")?);
                    } else if let Some(json) = line.strip_prefix("r ") {
                        let summary = serde_json::from_str(json).context("worker summary")?;
                        return Ok(Ran::Done(summary));
                    } else if let Some(message) = line.strip_prefix("e ") {
                        anyhow::bail!("worker: {message}");
                    } else {
                        anyhow::bail!("unexpected line from a worker: {line:?}");
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    let seed = current.context("a worker hung before its first case")?;
                    let cause = Cause::Hung(timeout);
                    return Ok(Ran::Crashed { seed, cause });
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().context("waiting for a worker")?;
                    let seed = current.with_context(|| {
                        format!("a worker ended ({status}) before its first case")
                    })?;
                    let cause = Cause::Died(status);
                    return Ok(Ran::Crashed { seed, cause });
                }
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Between ranges a worker holds nothing worth keeping.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The next range of seeds for a slot, or `None` when the run is over.
fn take(opts: &FuzzOptions, start: Instant, next: &AtomicU64) -> Option<Range<u64>> {
    driver::take_seeds(opts, start, next, CHUNK)
}

/// One slot: a worker process at a time, ranges taken from `next`, one summary per
/// range (and one per crash) sent back keyed by its first seed.
pub fn slot(
    opts: &FuzzOptions,
    iso: &Isolation,
    start: Instant,
    next: &AtomicU64,
    tx: mpsc::Sender<anyhow::Result<(u64, Summary)>>,
) {
    // With --minimize a case may shrink for minutes (300 candidates, 5 s at most each).
    let timeout = if opts.minimize {
        iso.timeout + Duration::from_secs(300 * 5)
    } else {
        iso.timeout
    };
    let mut pending: Vec<Range<u64>> = Vec::new();
    let mut worker: Option<Worker> = None;
    loop {
        let Some(range) = pending.pop().or_else(|| take(opts, start, next)) else {
            return;
        };
        if range.is_empty() {
            continue;
        }
        let running = match worker.take() {
            Some(w) => Ok(w),
            None => Worker::spawn(opts, iso),
        };
        let ran = running.and_then(|mut w| {
            let ran = w.run(&range, timeout)?;
            if matches!(ran, Ran::Done(_)) {
                worker = Some(w);
            }
            Ok(ran)
        });
        let sent = match ran {
            Ok(Ran::Done(summary)) => tx.send(Ok((range.start, *summary))),
            Ok(Ran::Crashed { seed, cause }) => {
                pending.push(seed + 1..range.end);
                pending.push(range.start..seed);
                let summary = match without_reference(opts, iso, seed, timeout) {
                    Some(summary) => reference_crashed(opts, seed, &cause, summary),
                    None => crashed(opts, seed, cause),
                };
                tx.send(summary.map(|s| (seed, s)))
            }
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

/// With a reference runtime, a crash may be the reference's own (wasmi 2.0.0 dies of
/// SIGSEGV on seed 830): the case runs again in a worker without the reference, and the
/// summary of that run when it ends cleanly, so the crash is ours only if it recurs.
fn without_reference(
    opts: &FuzzOptions,
    iso: &Isolation,
    seed: u64,
    timeout: Duration,
) -> Option<Summary> {
    opts.reference?;
    let alone = FuzzOptions {
        reference: None,
        ..opts.clone()
    };
    let mut worker = Worker::spawn(&alone, iso).ok()?;
    match worker.run(&(seed..seed + 1), timeout).ok()? {
        Ran::Done(summary) => Some(*summary),
        Ran::Crashed { .. } => None,
    }
}

/// The summary of a case whose worker died or hung only with the reference runtime in
/// it: our engines' results from the run without it, the crash counted as a reference
/// difference that a known cause explains, and a reproducer written for the
/// reference's maintainers.
fn reference_crashed(
    opts: &FuzzOptions,
    seed: u64,
    cause: &Cause,
    mut summary: Summary,
) -> anyhow::Result<Summary> {
    let label = format!("seed-{seed}-reference-crash");
    eprintln!(
        "[fuzz] seed-{seed}: the reference crashed ({cause}); our engines ran it cleanly without it"
    );
    if let Some((case, ..)) = Case::generate(&seed_bytes(seed)) {
        let text = format!(
            "case: seed-{seed}\nthe reference runtime crashed: {cause}\nour engines ran the case without it: no divergence, no crash\n"
        );
        crate::fuzz::repro::write(&opts.out, &label, &case, &text)
            .with_context(|| format!("writing the reproducer of {label}"))?;
    }
    let stats = &mut summary.stats;
    stats.reference_only += 1;
    *stats
        .reference_explained
        .entry(
            "the reference crashed; ours ran the case cleanly without it (reproducer in OUT/)"
                .into(),
        )
        .or_default() += 1;
    Ok(summary)
}

/// The summary of a case whose worker died or hung, with its reproducer written.
fn crashed(opts: &FuzzOptions, seed: u64, cause: Cause) -> anyhow::Result<Summary> {
    let label = format!("seed-{seed}");
    let mut summary = Summary::default();
    let stats = &mut summary.stats;
    stats.inputs = 1;
    stats.modules = 1;
    stats.crashes = 1;
    stats.divergences = 1;
    eprintln!("[fuzz] {label}: {cause}");
    let mut text = format!("case: {label}\ncrash: {cause}\n");
    let folder = match Case::generate(&seed_bytes(seed)) {
        Some((case, ..)) => {
            if let Some(shape) = crate::fuzz::shape::shape(&case.wasm) {
                let plan = crate::fuzz::plan::plan(&shape, &case.plan_bytes);
                text.push_str(&crate::fuzz::repro::plan_text(&plan));
            }
            text.push_str(&format!(
                "\nreplay (in process, so a debugger sees the fault): cargo run --release -p harness -- fuzz --replay case.wasm\nwasm: {} bytes, plan: {} bytes",
                case.wasm.len(),
                case.plan_bytes.len()
            ));
            let folder = crate::fuzz::repro::write(&opts.out, &label, &case, &text)
                .with_context(|| format!("writing the reproducer of {label}"))?;
            eprintln!("[fuzz] reproducer: {}", folder.display());
            Some(folder)
        }
        None => None,
    };
    summary
        .divergences
        .push((format!("{label} ({cause})"), text, folder));
    Ok(summary)
}

/// The worker side (`harness fuzz --worker`): ranges from stdin, progress and summaries
/// on stdout; an error is reported as an `e` line.
pub fn serve(opts: &FuzzOptions) -> anyhow::Result<()> {
    // On a thread with the in-process driver's stack (std's 2 MiB), not the main thread's
    // 8 MiB: a case then exhausts the native stack at the same depth in both drivers, and an
    // exhausting call fills a quarter of the stack (`fuzz/blind_spots.rs`, RATIONALE.md).
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(WORKER_STACK)
            .spawn_scoped(scope, || serve_on_this_thread(opts))
            .context("starting the worker thread")?
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// The stack of the thread a worker runs its cases on.
const WORKER_STACK: usize = 2 << 20;

fn serve_on_this_thread(opts: &FuzzOptions) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if let Err(e) = serve_ranges(opts, &mut out) {
        writeln!(out, "e {}", format!("{e:#}").replace('\n', " / "))?;
        out.flush()?;
        return Err(e);
    }
    Ok(())
}

fn serve_ranges(opts: &FuzzOptions, out: &mut impl Write) -> anyhow::Result<()> {
    let faults = fault::from_env()?;
    let oracle = driver::oracle(opts.reference)?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let (a, b) = line
            .split_once(' ')
            .with_context(|| format!("expected a range `A B`, got {line:?}"))?;
        let range: Range<u64> = a.parse()?..b.parse()?;
        let mut summary = Summary::default();
        for seed in range {
            writeln!(out, "s {seed}")?;
            out.flush()?;
            if let Some(f) = faults.get(&seed)
                && (!f.reference_only || opts.reference.is_some())
            {
                fault::inject(f.fault);
            }
            let label = format!("seed-{seed}");
            driver::run_input(&oracle, &seed_bytes(seed), &label, opts, &mut summary)?;
        }
        writeln!(out, "r {}", serde_json::to_string(&summary)?)?;
        out.flush()?;
    }
    Ok(())
}
