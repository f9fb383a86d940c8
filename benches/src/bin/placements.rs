//! Execution times over code placements: each workload is built K times with a pad
//! function of k = 0..K-1 operations before its first function
//! ([`benches::placement::with_pad`]), so that all its code sits at K other addresses, and
//! every runner runs every variant. Per workload and runner the table gives the fastest
//! and slowest placement, the geometric mean over placements, and ratios of geometric
//! means: against the plain runner of the same engine (what fuel or interruption costs)
//! and against the peer of that engine (wasmtime for native, wasmi for the interpreter,
//! with `--features peers`). Why: RATIONALE.md, "Code placement and benchmark ratios".
//!
//! ```text
//! cargo run --release -p benches [--features peers] --bin placements -- \
//!     [--placements K] [--reps R] [--engines all|NAME,NAME...] [--smoke] [WORKLOAD...]
//! ```
//!
//! Defaults: K = 12, R = 3, the five workloads of the README's one-run table, our six
//! runners plus wasmtime and wasmi when built with peers. One placement's instances are
//! made and run once untimed (checking the result), then timed R times, the runners
//! interleaved (in rotated order) so that a load change hits them all; a placement's time
//! is the fastest of its R. Every result is checked against the unpadded module's on
//! native. `--smoke` runs each workload's small test n.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use benches::{Instance, Runner, Workload};

const DEFAULT_WORKLOADS: &[&str] = &["fib", "sieve", "sha256", "dispatch", "indirect"];
const DEFAULT_ENGINES: &[&str] = &[
    "interp",
    "interp+fuel",
    "interp+interrupt",
    "native",
    "native+fuel",
    "native+interrupt",
    "wasmtime",
    "wasmi",
];

struct Args {
    placements: u32,
    reps: u32,
    /// `None`: every runner of the build.
    engines: Option<Vec<String>>,
    smoke: bool,
    workloads: Vec<String>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        placements: 12,
        reps: 3,
        engines: Some(DEFAULT_ENGINES.iter().map(|s| s.to_string()).collect()),
        smoke: false,
        workloads: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--placements" => args.placements = value()?.parse()?,
            "--reps" => args.reps = value()?.parse()?,
            "--engines" => {
                let v = value()?;
                args.engines = (v != "all").then(|| v.split(',').map(str::to_string).collect());
            }
            "--smoke" => args.smoke = true,
            flag if flag.starts_with('-') => bail!("unknown option {flag}"),
            name => args.workloads.push(name.to_string()),
        }
    }
    ensure!(
        args.placements > 0 && args.reps > 0,
        "K and R must be positive"
    );
    if args.workloads.is_empty() {
        args.workloads = DEFAULT_WORKLOADS.iter().map(|s| s.to_string()).collect();
    }
    Ok(args)
}

/// The plain runner and the peer that a runner's time is divided by.
fn baselines(runner: &str) -> (&'static str, &'static str) {
    if runner.starts_with("native") {
        ("native", "wasmtime")
    } else if runner.starts_with("interp") {
        ("interp", "wasmi")
    } else {
        ("", "")
    }
}

/// Seconds per placement, per runner (in the order of the runners).
fn measure(
    runners: &[Box<dyn Runner>],
    w: &Workload,
    n: i32,
    args: &Args,
) -> Result<Vec<Vec<f64>>> {
    let native = benches::runner("native")?;
    let want = benches::check_agree(std::slice::from_ref(&native), w, n)?;
    let mut times = vec![Vec::new(); runners.len()];
    for k in 0..args.placements {
        eprint!("{}: placement {}/{}\r", w.name, k + 1, args.placements);
        let wasm = benches::placement::with_pad(&w.wasm, k)?;
        let mut instances = Vec::new();
        for r in runners {
            let mut inst = r.compile(&wasm)?.instantiate()?;
            check(r.name(), w, k, inst.run(n)?, want)?;
            instances.push(inst);
        }
        let mut fastest = vec![f64::INFINITY; runners.len()];
        for rep in 0..args.reps as usize {
            for j in 0..runners.len() {
                let i = (j + rep) % runners.len();
                let inst: &mut dyn Instance = &mut *instances[i];
                let start = Instant::now();
                let got = inst.run(black_box(n))?;
                fastest[i] = fastest[i].min(start.elapsed().as_secs_f64());
                check(runners[i].name(), w, k, got, want)?;
            }
        }
        for (t, f) in times.iter_mut().zip(fastest) {
            t.push(f);
        }
    }
    eprintln!();
    Ok(times)
}

fn check(runner: &str, w: &Workload, k: u32, got: i64, want: i64) -> Result<()> {
    ensure!(
        got == want,
        "{} with pad {k} on {runner}: {got}, the unpadded module on native gives {want}",
        w.name
    );
    Ok(())
}

fn geomean(xs: &[f64]) -> f64 {
    (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp()
}

fn ms(seconds: f64) -> String {
    let ms = seconds * 1e3;
    match ms {
        ms if ms >= 100.0 => format!("{ms:.0}"),
        ms if ms >= 10.0 => format!("{ms:.1}"),
        ms => format!("{ms:.2}"),
    }
}

/// One table row per runner of one workload.
fn print_rows(w: &str, runners: &[Box<dyn Runner>], times: &[Vec<f64>]) {
    let index = |name: &str| runners.iter().position(|r| r.name() == name);
    for (r, t) in runners.iter().zip(times) {
        let (plain, peer) = baselines(r.name());
        let gm = geomean(t);
        let min = t.iter().copied().fold(f64::INFINITY, f64::min);
        let max = t.iter().copied().fold(0.0, f64::max);
        let (vs_plain, per_placement) = match index(plain) {
            Some(p) if r.name() != plain => {
                let per: Vec<f64> = t.iter().zip(&times[p]).map(|(a, b)| a / b).collect();
                let lo = per.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = per.iter().copied().fold(0.0, f64::max);
                (
                    format!("{:.3}", gm / geomean(&times[p])),
                    format!("{lo:.2}–{hi:.2}"),
                )
            }
            _ => (String::new(), String::new()),
        };
        let vs_peer =
            index(peer).map_or(String::new(), |p| format!("{:.2}", gm / geomean(&times[p])));
        println!(
            "| {w} | {} | {} | {} | {} | {vs_plain} | {per_placement} | {vs_peer} |",
            r.name(),
            ms(min),
            ms(max),
            ms(gm)
        );
    }
}

fn run() -> Result<()> {
    let args = parse_args()?;
    // In the order named; names this build lacks (the peers without `peers`) are skipped.
    let runners: Vec<Box<dyn Runner>> = match &args.engines {
        None => benches::runners(),
        Some(names) => names
            .iter()
            .filter_map(|name| benches::runner(name).ok())
            .collect(),
    };
    ensure!(!runners.is_empty(), "no runner of this build is selected");
    let workloads: Vec<Workload> = args
        .workloads
        .iter()
        .map(|name| benches::workload(name))
        .collect::<Result<_>>()?;
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "K = {} placements, fastest of {} timed runs each; load average at start: {}",
        args.placements,
        args.reps,
        load().trim()
    );
    println!();
    println!(
        "| workload | runner | min ms | max ms | geomean ms | / plain | per placement | / peer |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for w in &workloads {
        let n = if args.smoke { w.test_n } else { w.bench_n };
        let times = measure(&runners, w, n, &args)?;
        print_rows(w.name, &runners, &times);
    }
    println!();
    println!("load average at end: {}", load().trim());
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("placements: {e:#}");
            ExitCode::FAILURE
        }
    }
}
