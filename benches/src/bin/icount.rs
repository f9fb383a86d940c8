//! Deterministic performance check: instruction counts under valgrind's callgrind, for a
//! few short workloads on our two engines and three phases (compile, instantiate,
//! execute), compared with the committed baseline `benches/icount-baseline.json`.
//!
//! ```text
//! icount check [--tolerance PCT]   # fails if any count rose by more than PCT (default 10)
//! icount update                    # measures and rewrites the baseline file
//! icount measure ENGINE            # every case's three phases (what valgrind is given)
//! ```
//!
//! One valgrind run per engine measures every case: each phase of each case runs inside
//! [`benches::icount_measured`], the only code counted (`--toggle-collect`), and callgrind writes
//! one profile as each call returns (`--dump-after`), so that an execute count does not
//! include compiling. The two engines' runs go in parallel. Starting valgrind and letting
//! it translate Cranelift's code costs more than most cases, hence one run per engine.
//!
//! Counts depend on the build (toolchain, profile, and the features the workspace enables
//! in dependencies): the baseline is for `cargo test --workspace`'s build, so re-record it
//! with `ICOUNT_UPDATE=1 cargo test --workspace --test icount` (see README).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, anyhow, ensure};

/// (workload, n for the execute phase): short, so that the check fits in `cargo test`.
const CASES: &[(&str, i32)] = &[
    ("fib", 20),
    ("sieve", 100_000),
    ("dispatch", 100),
    ("indirect", 20_000),
    ("sha256", 0),
    ("simd", 1),
];
/// An instantiation is ~10⁴ instructions (linear memory is mapped, not zeroed), of which
/// a few thousand vary from process to process (allocator state): the instantiate count
/// is the mean of this many.
const INSTANTIATIONS: u64 = 50;
const ENGINES: &[&str] = &["interp", "native"];
/// The phases, in the order they run and callgrind dumps them.
const PHASES: [&str; 3] = ["compile", "instantiate", "execute"];

/// Runs the three phases of every case on `engine`, each inside [`benches::icount_measured`],
/// after one unmeasured run of the first case, so that one-time initialisation (lazy
/// statics, host ISA detection) is in no count.
fn measure(engine: &str) -> Result<()> {
    let r = benches::runner(engine)?;
    let (w, n) = CASES[0];
    benches::run_once(&*r, &benches::workload(w)?, n)?;
    for &(workload, n) in CASES {
        let w = benches::workload(workload)?;
        let wasm = std::hint::black_box(&w.wasm);
        let mut compiled = None;
        benches::icount_measured(&mut || compiled = Some(r.compile(wasm)));
        let compiled = compiled.unwrap()?;
        // The instance that runs below, made unmeasured before the measured ones.
        let mut instance = compiled.instantiate()?;
        let mut made = Ok(());
        benches::icount_measured(&mut || {
            made = (0..INSTANTIATIONS).try_for_each(|_| compiled.instantiate().map(drop))
        });
        made?;
        let mut result = None;
        benches::icount_measured(&mut || result = Some(instance.run(n)));
        println!("{workload}.run({n}) = {}", result.unwrap()?);
    }
    Ok(())
}

fn baseline_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("icount-baseline.json")
}

/// The total of one callgrind profile.
fn profile_total(path: &Path) -> Result<u64> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let total = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .with_context(|| format!("no totals line in {}", path.display()))?;
    Ok(total.split_whitespace().next().unwrap_or("0").parse()?)
}

/// Instruction counts of every case and phase on `engine` under callgrind, keyed
/// `<phase>/<workload>/<engine>`.
fn count(engine: &str) -> Result<BTreeMap<String, u64>> {
    let out_file = std::env::temp_dir().join(format!("icount-{}-{engine}.out", std::process::id()));
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--toggle-collect=icount_measured")
        .arg("--dump-after=icount_measured")
        // JIT code is written to fresh pages before it runs.
        .arg("--smc-check=all-non-file")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(std::env::current_exe()?)
        .args(["measure", engine])
        .output()
        .context("running valgrind")?;
    // Dump k (after the k-th measured call) is `<out>.k`; the final profile is `<out>`.
    let dumps: Vec<PathBuf> = (1..=CASES.len() * PHASES.len())
        .map(|k| PathBuf::from(format!("{}.{k}", out_file.display())))
        .collect();
    let totals: Result<Vec<u64>> = if output.status.success() {
        dumps.iter().map(|p| profile_total(p)).collect()
    } else {
        Err(anyhow!(
            "valgrind, icount measure {engine}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ))
    };
    for p in dumps.iter().chain([&out_file]) {
        let _ = std::fs::remove_file(p);
    }
    let mut totals = totals?.into_iter();
    let mut counts = BTreeMap::new();
    for &(workload, _) in CASES {
        for phase in PHASES {
            let total = totals.next().context("fewer profiles than phases")?;
            let times = if phase == "instantiate" {
                INSTANTIATIONS
            } else {
                1
            };
            counts.insert(format!("{phase}/{workload}/{engine}"), total / times);
        }
    }
    Ok(counts)
}

/// Counts of every engine, case and phase; one valgrind run per engine, in parallel.
fn measure_all() -> Result<BTreeMap<String, u64>> {
    let runs: Vec<Result<BTreeMap<String, u64>>> = std::thread::scope(|s| {
        let handles: Vec<_> = ENGINES
            .iter()
            .map(|&engine| s.spawn(move || count(engine)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut counts = BTreeMap::new();
    for run in runs {
        counts.append(&mut run?);
    }
    ensure!(
        counts.len() == ENGINES.len() * CASES.len() * PHASES.len(),
        "missing counts"
    );
    Ok(counts)
}

fn valgrind_present() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Compares fresh counts with the baseline; false if any rose by more than `tolerance`
/// percent or has no baseline.
fn check(tolerance: f64) -> Result<bool> {
    let baseline: BTreeMap<String, u64> = serde_json::from_str(
        &std::fs::read_to_string(baseline_path()).context("reading icount-baseline.json")?,
    )?;
    let counts = measure_all()?;
    let (mut regressed, mut missing, mut improved) = (0, 0, 0);
    println!("| benchmark | baseline | now | change |");
    println!("|---|---:|---:|---:|");
    for (key, &now) in &counts {
        let Some(&base) = baseline.get(key) else {
            missing += 1;
            println!("| {key} | - | {now} | NOT IN BASELINE |");
            continue;
        };
        let change = (now as f64 / base as f64 - 1.0) * 100.0;
        let flag = if change > tolerance {
            regressed += 1;
            " REGRESSION"
        } else if change < -tolerance {
            improved += 1;
            " faster"
        } else {
            ""
        };
        println!("| {key} | {base} | {now} | {change:+.1}%{flag} |");
    }
    if regressed > 0 {
        println!("icount: {regressed} counts rose by more than {tolerance}%");
    }
    if missing > 0 || improved > 0 {
        println!(
            "icount: {missing} counts have no baseline, {improved} fell by more than \
             {tolerance}%: if intended, re-record the baseline (benches/README.md)"
        );
    }
    Ok(regressed == 0 && missing == 0)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let result = match args.as_slice() {
        ["measure", engine] => measure(engine),
        ["check", rest @ ..] => {
            let tolerance = match rest {
                [] => Ok(10.0),
                ["--tolerance", t] => t.parse().map_err(Into::into),
                _ => Err(anyhow!("usage: icount check [--tolerance PCT]")),
            };
            if !valgrind_present() {
                println!("icount: valgrind not found; skipping the instruction-count check");
                return ExitCode::SUCCESS;
            }
            match tolerance.and_then(check) {
                Ok(true) => Ok(()),
                Ok(false) => {
                    eprintln!("icount: instruction counts above the baseline's tolerance");
                    return ExitCode::FAILURE;
                }
                Err(e) => Err(e),
            }
        }
        ["update"] => measure_all().and_then(|counts| {
            std::fs::write(
                baseline_path(),
                serde_json::to_string_pretty(&counts)? + "\n",
            )?;
            println!("wrote {}", baseline_path().display());
            Ok(())
        }),
        _ => Err(anyhow!(
            "usage: icount check [--tolerance PCT] | icount update | icount measure ENGINE"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("icount: {e:#}");
            ExitCode::FAILURE
        }
    }
}
