//! `harness fuzz`: the arguments and what they run (the subcommand itself is one line
//! in `crate::cli`).

use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;

use crate::fuzz::driver::{self, FuzzOptions, Reference};
use crate::fuzz::isolate::Isolation;

#[derive(clap::Args, Debug, Clone)]
pub struct FuzzArgs {
    /// Seeds to run, `A..B` (end exclusive); default 0..1000.
    #[arg(long, value_parser = parse_range, conflicts_with = "time")]
    pub seeds: Option<Range<u64>>,
    /// Run for this many seconds instead (seeds from 0 up).
    #[arg(long)]
    pub time: Option<u64>,
    /// Where reproducers of divergences go.
    #[arg(long, default_value = "fuzz-out")]
    pub out: PathBuf,
    /// Shrink each divergent module with wasm-shrink while it still diverges.
    #[arg(long)]
    pub minimize: bool,
    /// Also run a reference runtime (needs `--features reference-wasmi` or
    /// `reference-wasmtime`); a difference only it shows fails the run unless a known
    /// issue explains it (fuzz/known.rs).
    #[arg(long, value_enum)]
    pub reference: Option<ReferenceChoice>,
    /// Re-run one case (a reproducer's case.wasm; its case.plan is read beside it).
    #[arg(long, conflicts_with_all = ["seeds", "time"])]
    pub replay: Option<PathBuf>,
    /// Seconds between progress lines on stderr.
    #[arg(long, default_value_t = 5)]
    pub progress: u64,
    /// Worker processes (threads with --in-process); default: one per core.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run the cases on threads of this process instead of worker processes: faster to
    /// start, but a crash or hang in an engine ends the run.
    #[arg(long)]
    pub in_process: bool,
    /// Seconds one case may run in a worker process before it counts as a hang.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Internal: be a worker process of an isolated run (fuzz/isolate.rs).
    #[arg(long, hide = true)]
    pub worker: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceChoice {
    Wasmi,
    Wasmtime,
}

fn parse_range(s: &str) -> Result<Range<u64>, String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("expected A..B, got {s:?}"))?;
    let a: u64 = a.trim().parse().map_err(|e| format!("{a:?}: {e}"))?;
    let b: u64 = b.trim().parse().map_err(|e| format!("{b:?}: {e}"))?;
    if b < a {
        return Err(format!("empty range {s}"));
    }
    Ok(a..b)
}

/// Runs `harness fuzz`; `Ok(true)` when nothing diverged.
pub fn run(args: FuzzArgs) -> anyhow::Result<bool> {
    let reference = args.reference.map(|r| match r {
        ReferenceChoice::Wasmi => Reference::Wasmi,
        ReferenceChoice::Wasmtime => Reference::Wasmtime,
    });
    if let Some(file) = &args.replay {
        return driver::replay(file, reference);
    }
    let isolate = match args.in_process || args.worker {
        true => None,
        false => Some(Isolation {
            worker: std::env::current_exe()?,
            timeout: Duration::from_secs(args.timeout.max(1)),
        }),
    };
    let opts = FuzzOptions {
        seeds: args.seeds.unwrap_or(0..1000),
        time: args.time.map(Duration::from_secs),
        out: args.out,
        minimize: args.minimize,
        reference,
        progress: Some(Duration::from_secs(args.progress.max(1))),
        jobs: args.jobs.unwrap_or_else(driver::default_jobs),
        isolate,
    };
    if args.worker {
        crate::fuzz::isolate::serve(&opts)?;
        return Ok(true);
    }
    let summary = driver::run(&opts)?;
    println!("{}", summary.stats);
    for (label, _, folder) in &summary.divergences {
        match folder {
            Some(f) => println!("divergence: {label} -> {}", f.display()),
            None => println!("divergence: {label}"),
        }
    }
    Ok(summary.divergences.is_empty())
}
