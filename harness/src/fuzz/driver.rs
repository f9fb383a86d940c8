//! The stable-Rust driver behind `harness fuzz`: seeds (or a time budget) through the
//! oracle, statistics on stderr while it runs, reproducers for every divergence,
//! optional shrinking, and replay of one case.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::fuzz::compare::Verdict;
use crate::fuzz::input::seed_bytes;
use crate::fuzz::oracle::{Case, Oracle};
use crate::fuzz::stats::Stats;

/// Which runtime gives the third opinion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    Wasmi,
    Wasmtime,
}

#[derive(Debug, Clone)]
pub struct FuzzOptions {
    /// Seeds to run; with `time`, the first seed (later ones follow until time is up).
    pub seeds: Range<u64>,
    pub time: Option<Duration>,
    /// Where reproducers go.
    pub out: PathBuf,
    pub minimize: bool,
    pub reference: Option<Reference>,
    /// Progress lines on stderr every this often (`None`: quiet).
    pub progress: Option<Duration>,
    /// Worker threads, each with its own engines (seeds are handed out one at a time;
    /// the totals do not depend on this).
    pub jobs: usize,
    /// Run the cases in worker processes (`fuzz/isolate.rs`), so a crash or a hang is
    /// recorded and the run goes on; `None`: on threads of this process.
    pub isolate: Option<crate::fuzz::isolate::Isolation>,
}

/// Worker threads by default: one per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Default for FuzzOptions {
    fn default() -> FuzzOptions {
        FuzzOptions {
            seeds: 0..1000,
            time: None,
            out: PathBuf::from("fuzz-out"),
            minimize: false,
            reference: None,
            progress: None,
            jobs: default_jobs(),
            isolate: None,
        }
    }
}

/// One divergence: its label, the report text, and the reproducer's folder.
pub type Divergence = (String, String, Option<PathBuf>);

/// The result of a run.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub stats: Stats,
    pub divergences: Vec<Divergence>,
}

/// The oracle for the options: our two engines, plus the reference if asked.
pub fn oracle(reference: Option<Reference>) -> anyhow::Result<Oracle> {
    let oracle = Oracle::ours().context("creating the engines")?;
    match reference {
        None => Ok(oracle),
        #[cfg(feature = "reference-wasmi")]
        Some(Reference::Wasmi) => {
            Ok(oracle.with(Box::new(crate::fuzz::reference::WasmiSubject::new())))
        }
        #[cfg(not(feature = "reference-wasmi"))]
        Some(Reference::Wasmi) => anyhow::bail!(
            "--reference wasmi needs the reference-wasmi feature: cargo run --release -p harness --features reference-wasmi -- fuzz ..."
        ),
        #[cfg(feature = "reference-wasmtime")]
        Some(Reference::Wasmtime) => Ok(oracle.with(Box::new(
            crate::fuzz::reference_wasmtime::WasmtimeSubject::new()?,
        ))),
        #[cfg(not(feature = "reference-wasmtime"))]
        Some(Reference::Wasmtime) => anyhow::bail!(
            "--reference wasmtime needs the reference-wasmtime feature: cargo run --release -p harness --features reference-wasmtime -- fuzz ..."
        ),
    }
}

/// Runs seeds through the oracle on `opts.jobs` threads; the summary lists
/// divergences in seed order.
pub fn run(opts: &FuzzOptions) -> anyhow::Result<Summary> {
    let start = Instant::now();
    let next = AtomicU64::new(opts.seeds.start);
    let (tx, rx) = mpsc::channel::<anyhow::Result<(u64, Summary)>>();
    let mut summary = Summary::default();
    let mut found: Vec<(u64, Divergence)> = Vec::new();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..opts.jobs.max(1) {
            let (tx, next) = (tx.clone(), &next);
            match &opts.isolate {
                Some(iso) => {
                    scope.spawn(move || crate::fuzz::isolate::slot(opts, iso, start, next, tx))
                }
                None => scope.spawn(move || worker(opts, start, next, tx)),
            };
        }
        drop(tx);
        let mut last_progress = Instant::now();
        // Ends when every worker is done; an error drops `rx`, which stops them.
        for one in rx {
            let (seed, one) = one?;
            summary.stats.merge(&one.stats);
            found.extend(one.divergences.into_iter().map(|d| (seed, d)));
            summary.stats.elapsed = start.elapsed();
            if let Some(every) = opts.progress
                && last_progress.elapsed() >= every
            {
                eprintln!(
                    "[fuzz] {} inputs: {}",
                    summary.stats.inputs,
                    summary.stats.line()
                );
                last_progress = Instant::now();
            }
        }
        Ok(())
    })?;
    found.sort_by_key(|(seed, _)| *seed);
    summary.divergences = found.into_iter().map(|(_, d)| d).collect();
    summary.stats.elapsed = start.elapsed();
    Ok(summary)
}

/// One worker: its own oracle, seeds taken from `next` until they (or the time) run
/// out, one summary per seed sent back.
fn worker(
    opts: &FuzzOptions,
    start: Instant,
    next: &AtomicU64,
    tx: mpsc::Sender<anyhow::Result<(u64, Summary)>>,
) {
    let oracle = match oracle(opts.reference) {
        Ok(o) => o,
        Err(e) => {
            let _ = tx.send(Err(e));
            return;
        }
    };
    while let Some(seeds) = take_seeds(opts, start, next, 1) {
        let seed = seeds.start;
        let mut one = Summary::default();
        let label = format!("seed-{seed}");
        let result = run_input(&oracle, &seed_bytes(seed), &label, opts, &mut one);
        let failed = result.is_err();
        if tx.send(result.map(|()| (seed, one))).is_err() || failed {
            return;
        }
    }
}

/// The next `n` seeds (fewer at the end of the range), or `None` when the seeds or
/// the time are used up.
pub fn take_seeds(
    opts: &FuzzOptions,
    start: Instant,
    next: &AtomicU64,
    n: u64,
) -> Option<Range<u64>> {
    if opts.time.is_some_and(|t| start.elapsed() >= t) {
        return None;
    }
    let first = next.fetch_add(n, Ordering::Relaxed);
    let end = match opts.time {
        Some(_) => u64::MAX,
        None => opts.seeds.end,
    };
    (first < end).then(|| first..first.saturating_add(n).min(end))
}

/// Runs one fuzz input; a divergence is reported (and written when `opts.out` is set).
pub fn run_input(
    oracle: &Oracle,
    bytes: &[u8],
    label: &str,
    opts: &FuzzOptions,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    summary.stats.inputs += 1;
    let Some((case, config, steered)) = Case::generate(bytes) else {
        summary.stats.no_module += 1;
        return Ok(());
    };
    let before = summary.stats.modules;
    run_case(oracle, &case, label, opts, summary)?;
    if summary.stats.modules > before {
        let stats = &mut summary.stats;
        stats.simd_modules += config.simd_enabled as u64;
        let used = crate::fuzz::features::used(&case.wasm, crate::fuzz::generate::FEATURES);
        stats.wasm3_modules += !used.is_empty() as u64;
        for name in used {
            *stats.feature_modules.entry(name.to_string()).or_default() += 1;
        }
        stats.steered_modules += (steered > 0) as u64;
    }
    Ok(())
}

fn run_case(
    oracle: &Oracle,
    case: &Case,
    label: &str,
    opts: &FuzzOptions,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    crate::fuzz::coverage::install();
    let checked = oracle.check(case);
    summary.stats.operators.take_thread_counts();
    let Some(checked) = checked else {
        summary.stats.no_module += 1;
        return Ok(());
    };
    if let Some(first) = checked.observations.first() {
        summary
            .stats
            .record(first, &checked.verdict, checked.plan.setup);
        summary.stats.blind_spots.record(&checked);
        summary.stats.host.record(&checked.plan, first);
    } else {
        summary.stats.modules += 1;
        summary.stats.divergences += 1;
    }
    let d = match &checked.verdict {
        Verdict::Diverged(d) => d,
        // A reference difference is a divergence unless a known issue explains it.
        Verdict::ReferenceOnly(d) => match crate::fuzz::known::triage(oracle, case, &checked) {
            crate::fuzz::known::Triage::Explained(issue) => {
                *summary.stats.reference_explained.entry(issue).or_default() += 1;
                return Ok(());
            }
            crate::fuzz::known::Triage::Unexplained => {
                summary.stats.reference_unexplained += 1;
                summary.stats.divergences += 1;
                d
            }
        },
        _ => return Ok(()),
    };
    let mut text = crate::fuzz::repro::report(label, case, &checked, d);
    if let Verdict::ReferenceOnly(_) = &checked.verdict {
        text.insert_str(0, "our engines agree; the reference differs, and no known issue (fuzz/known.rs) explains it\n");
    }
    eprintln!("[fuzz] {label}: {d}");
    let folder = crate::fuzz::repro::write(&opts.out, label, case, &text)
        .with_context(|| format!("writing the reproducer of {label}"))?;
    if opts.minimize {
        match minimize(case, opts.reference) {
            Ok(small) => {
                let min = Case {
                    wasm: small,
                    plan_bytes: case.plan_bytes.clone(),
                };
                if let Some(c) = oracle.check(&min)
                    && let Verdict::Diverged(d) | Verdict::ReferenceOnly(d) = &c.verdict
                {
                    let t =
                        crate::fuzz::repro::report(&format!("{label} (minimized)"), &min, &c, d);
                    crate::fuzz::repro::write(&folder, "min", &min, &t)?;
                    text.push_str(&format!(
                        "\n\nminimized: {} -> {} bytes, in {}/min/",
                        case.wasm.len(),
                        min.wasm.len(),
                        folder.display()
                    ));
                }
            }
            Err(e) => text.push_str(&format!("\n\nminimizing failed: {e:#}")),
        }
    }
    eprintln!("[fuzz] reproducer: {}", folder.display());
    summary
        .divergences
        .push((label.to_string(), text, Some(folder)));
    Ok(())
}

/// Runs `case` on a fresh oracle in its own thread, giving up after `limit`: a shrunk
/// module may have lost its fuel checks and loop forever. (A thread that does not
/// finish is left behind; the caller stops shrinking then.)
fn check_with_timeout<F>(case: &Case, make: F, limit: Duration) -> Option<bool>
where
    F: Fn() -> Option<Oracle> + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let case = case.clone();
    std::thread::spawn(move || {
        let diverged = make()
            .and_then(|o| o.check(&case))
            .is_some_and(|c| matches!(c.verdict, Verdict::Diverged(_) | Verdict::ReferenceOnly(_)));
        let _ = tx.send(diverged);
    });
    rx.recv_timeout(limit).ok()
}

/// Shrinks a divergent module with wasm-shrink while it still diverges (same plan bytes).
pub fn minimize(case: &Case, reference: Option<Reference>) -> anyhow::Result<Vec<u8>> {
    minimize_with(case, move || oracle(reference).ok())
}

/// [`minimize`] with the oracle `make` builds (a fresh one per candidate, on the
/// candidate's own thread): the self-test shrinks a divergence of a lying engine this way.
pub fn minimize_with<F>(case: &Case, make: F) -> anyhow::Result<Vec<u8>>
where
    F: Fn() -> Option<Oracle> + Clone + Send + 'static,
{
    let plan_bytes = case.plan_bytes.clone();
    let mut hung = false;
    let info = wasm_shrink::WasmShrink::default()
        .attempts(300)
        .run(case.wasm.clone(), |wasm| {
            if hung {
                return Ok(false);
            }
            let candidate = Case {
                wasm: wasm.to_vec(),
                plan_bytes: plan_bytes.clone(),
            };
            match check_with_timeout(&candidate, make.clone(), Duration::from_secs(5)) {
                Some(d) => Ok(d),
                None => {
                    hung = true;
                    Ok(false)
                }
            }
        })?;
    Ok(info.output)
}

/// Re-runs one case: `file` is a `.wasm`; its plan bytes come from the `.plan` file
/// beside it when there is one. Prints every subject's steps and the verdict.
pub fn replay(file: &Path, reference: Option<Reference>) -> anyhow::Result<bool> {
    let wasm = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let plan_bytes = std::fs::read(file.with_extension("plan")).unwrap_or_default();
    let case = Case { wasm, plan_bytes };
    let oracle = oracle(reference)?;
    let checked = oracle
        .check(&case)
        .context("the module does not parse (or uses types outside Wasm 2.0)")?;
    for obs in &checked.observations {
        println!("== {}", obs.engine);
        if let Err(e) = &obs.compile {
            println!("  compile error: {e}");
        }
        for (i, s) in obs.steps.iter().enumerate() {
            println!(
                "  {i}: {}{} -> {}",
                s.export,
                crate::fuzz::observe::show_vals(&s.args),
                s.outcome
            );
            for h in &s.host_calls {
                println!("       host call {h}");
            }
        }
    }
    match &checked.verdict {
        Verdict::Agree => {
            println!("verdict: the engines agree");
            Ok(true)
        }
        Verdict::Exhausted { step } => {
            println!(
                "verdict: call stack exhausted at step {step}; compared up to it, no divergence"
            );
            Ok(true)
        }
        Verdict::Diverged(d) => {
            println!("verdict: {d}");
            Ok(false)
        }
        Verdict::ReferenceOnly(d) => {
            println!("verdict: our engines agree; the reference differs: {d}");
            match crate::fuzz::known::triage(&oracle, &case, &checked) {
                crate::fuzz::known::Triage::Explained(issue) => {
                    println!("explained: {issue}");
                    Ok(true)
                }
                crate::fuzz::known::Triage::Unexplained => {
                    println!("no known issue explains it");
                    Ok(false)
                }
            }
        }
    }
}
