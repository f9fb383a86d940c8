//! Deterministic performance check: instruction counts under valgrind's callgrind, for a
//! few short workloads on our two engines and three phases (compile, instantiate,
//! execute), compared with the committed baseline `benches/icount-baseline.json`.
//!
//! ```text
//! icount check [--tolerance PCT]   # fails if any count rose by more than PCT (default 10)
//! icount update                    # measures and rewrites the baseline file
//! icount measure ENGINE WORKLOAD PHASE N   # one run (what valgrind is given)
//! ```
//!
//! Only the phase being measured is counted (`--toggle-collect` on
//! [`icount_measured`]), so the counts of the execute phase do not include compiling.
//! Counts depend on the build profile and toolchain: the baseline is for the `test`
//! profile (what `cargo test` builds); update it after a toolchain change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

/// (workload, n for the execute phase).
const CASES: &[(&str, i32)] = &[
    ("fib", 20),
    ("sieve", 200_000),
    ("dispatch", 200),
    ("indirect", 200_000),
    ("sha256", 1),
];
const ENGINES: &[&str] = &["interp", "native"];
const PHASES: &[&str] = &["compile", "instantiate", "execute"];

/// The only code callgrind counts: `f`, run once.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "Rust" fn icount_measured(f: &mut dyn FnMut()) {
    f()
}

fn measure(engine: &str, workload: &str, phase: &str, n: i32) -> Result<()> {
    let w = benches::workload(workload)?;
    let r = benches::runner(engine)?;
    let mut compiled = None;
    let mut instance = None;
    let mut result = None;
    let wasm = std::hint::black_box(&w.wasm);
    if phase == "compile" {
        icount_measured(&mut || compiled = Some(r.compile(wasm)));
    } else {
        compiled = Some(r.compile(wasm));
    }
    let compiled = compiled.unwrap()?;
    if phase == "instantiate" {
        icount_measured(&mut || instance = Some(compiled.instantiate()));
    } else {
        instance = Some(compiled.instantiate());
    }
    let mut instance = instance.unwrap()?;
    if phase == "execute" {
        icount_measured(&mut || result = Some(instance.run(n)));
    } else {
        result = Some(instance.run(n));
    }
    println!("{}", result.unwrap()?);
    Ok(())
}

fn baseline_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("icount-baseline.json")
}

/// Instruction count of one phase under callgrind.
fn count(engine: &str, workload: &str, phase: &str, n: i32) -> Result<u64> {
    let out_file = std::env::temp_dir().join(format!(
        "icount-{}-{engine}-{workload}-{phase}.out",
        std::process::id()
    ));
    let exe = std::env::current_exe()?;
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--toggle-collect=icount_measured")
        // JIT code is written to fresh pages before it runs.
        .arg("--smc-check=all-non-file")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(&exe)
        .args(["measure", engine, workload, phase, &n.to_string()])
        .output()
        .context("running valgrind")?;
    if !output.status.success() {
        bail!(
            "valgrind {engine} {workload} {phase} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = std::fs::read_to_string(&out_file)?;
    let _ = std::fs::remove_file(&out_file);
    let total = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .context("no totals line in callgrind output")?;
    Ok(total
        .trim()
        .split_whitespace()
        .next()
        .unwrap_or("0")
        .parse()?)
}

fn measure_all() -> Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    for &(workload, n) in CASES {
        for engine in ENGINES {
            for phase in PHASES {
                let c = count(engine, workload, phase, n)?;
                eprintln!("{workload}/{engine}/{phase}: {c}");
                counts.insert(format!("{phase}/{workload}/{engine}"), c);
            }
        }
    }
    Ok(counts)
}

fn valgrind_present() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn check(tolerance: f64) -> Result<bool> {
    let baseline: BTreeMap<String, u64> = serde_json::from_str(
        &std::fs::read_to_string(baseline_path()).context("reading icount-baseline.json")?,
    )?;
    let counts = measure_all()?;
    let mut ok = true;
    println!("| benchmark | baseline | now | change |");
    println!("|---|---:|---:|---:|");
    for (key, &now) in &counts {
        let Some(&base) = baseline.get(key) else {
            println!("| {key} | - | {now} | not in baseline |");
            continue;
        };
        let change = (now as f64 / base as f64 - 1.0) * 100.0;
        let flag = if change > tolerance {
            ok = false;
            " REGRESSION"
        } else {
            ""
        };
        println!("| {key} | {base} | {now} | {change:+.1}%{flag} |");
    }
    Ok(ok)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let result = match args.as_slice() {
        ["measure", engine, workload, phase, n] => n
            .parse()
            .map_err(Into::into)
            .and_then(|n| measure(engine, workload, phase, n)),
        ["check", rest @ ..] => {
            let tolerance = match rest {
                [] => Ok(10.0),
                ["--tolerance", t] => t.parse().map_err(Into::into),
                _ => Err(anyhow::anyhow!("usage: icount check [--tolerance PCT]")),
            };
            if !valgrind_present() {
                println!("icount: valgrind not found; skipping the instruction-count check");
                return ExitCode::SUCCESS;
            }
            match tolerance.and_then(check) {
                Ok(true) => Ok(()),
                Ok(false) => {
                    eprintln!("icount: instruction counts rose by more than the tolerance");
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
        _ => Err(anyhow::anyhow!(
            "usage: icount check [--tolerance PCT] | icount update | icount measure ENGINE WORKLOAD PHASE N"
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
