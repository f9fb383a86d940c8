//! Compile time of the real programs (issue 13): `Module::from_binary` of the native
//! engine against wasmtime's `Module::new`, both on one thread, on the large modules that
//! `wasi/real/fetch.sh` downloads (CPython 3.12 for WASI, resvg). The modules are never
//! committed: a module that is not there is skipped with a message.
//!
//! ```text
//! compile_real [--reps N] [--engines native,wasmtime] [--programs DIR] [NAME...]
//!                                      # engines: also native-parallel (every core)
//! compile_real --once ENGINE FILE      # one compile, for callgrind (see `icount_measured`)
//!                                      # ENGINE: also interp, wasmi-eager; FILE: binary or text
//! compile_real --times N --once ENGINE FILE  # N compiles, each counted: (count of 11 -
//!                                      # count of 1) / 10 is a warm compile's count
//! ```
//!
//! NAME is a file name in DIR (default: `$REAL_PROGRAMS`, else `target/real-programs`),
//! by default `resvg.wasm` and `python.wasm`. The runs are interleaved across engines
//! (run 1 of each, then run 2, ...), so that a change in load hits both alike; the
//! median and the minimum of each are printed, and the ratio of the medians. wasmtime
//! needs the `peers` feature (it is then built without `parallel-compilation`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

const DEFAULT_MODULES: &[&str] = &["resvg.wasm", "python.wasm"];

/// How long `compile` takes, run inside [`benches::icount_measured`] (the engine is made before:
/// only the module's compile is timed and counted); its result is dropped after the
/// clock stops.
fn timed<M>(compile: impl FnOnce() -> Result<M>) -> Result<Duration> {
    let mut compile = Some(compile);
    let mut outcome = None;
    benches::icount_measured(&mut || {
        if let Some(compile) = compile.take() {
            let start = Instant::now();
            let module = compile();
            outcome = Some((start.elapsed(), module));
        }
    });
    let (took, module) = outcome.ok_or_else(|| anyhow!("the compile did not run"))?;
    drop(module?);
    Ok(took)
}

/// Compiles `wasm` with `engine` on one thread (`native-parallel`: ours on every core,
/// `Config::compile_threads`' default).
fn compile(engine: &str, wasm: &[u8]) -> Result<Duration> {
    match engine {
        "native-parallel" => {
            let engine = runtime::Engine::new(runtime::Config::new(runtime::Strategy::Native))?;
            timed(|| runtime::Module::from_binary(&engine, wasm).map_err(Into::into))
        }
        "native" => {
            let mut config = runtime::Config::new(runtime::Strategy::Native);
            config.compile_threads = 1;
            let engine = runtime::Engine::new(config)?;
            timed(|| runtime::Module::from_binary(&engine, wasm).map_err(Into::into))
        }
        "interp" => {
            let engine =
                runtime::Engine::new(runtime::Config::new(runtime::Strategy::Interpreter))?;
            timed(|| runtime::Module::from_binary(&engine, wasm).map_err(Into::into))
        }
        #[cfg(feature = "peers")]
        "wasmi-eager" => {
            let mut config = wasmi::Config::default();
            config.compilation_mode(wasmi::CompilationMode::Eager);
            let engine = wasmi::Engine::new(&config);
            timed(|| wasmi::Module::new(&engine, wasm).map_err(|e| anyhow!("{e:?}")))
        }
        #[cfg(feature = "peers")]
        "wasmtime" => {
            let mut config = wasmtime::Config::new();
            config.strategy(wasmtime::Strategy::Cranelift);
            let engine = wasmtime::Engine::new(&config)?;
            timed(|| wasmtime::Module::new(&engine, wasm).map_err(|e| anyhow!("{e:?}")))
        }
        other => bail!("no engine {other:?} in this build (wasmtime needs --features peers)"),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut reps = 3usize;
    let mut engines = vec!["native".to_string()];
    if cfg!(feature = "peers") {
        engines.push("wasmtime".to_string());
    }
    let mut dir = std::env::var_os("REAL_PROGRAMS").map(PathBuf::from);
    let mut names = Vec::new();
    let mut once_times = 1usize;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| anyhow!("{arg} needs a value"));
        match arg.as_str() {
            "--reps" => reps = value()?.parse().context("--reps")?,
            "--engines" => engines = value()?.split(',').map(str::to_string).collect(),
            "--programs" => dir = Some(PathBuf::from(value()?)),
            "--times" => once_times = value()?.parse().context("--times")?,
            "--once" => {
                let engine = value()?;
                let file = value()?;
                let wasm = std::fs::read(&file).with_context(|| format!("reading {file}"))?;
                // The benchmarks' kernels are text: take them as they are.
                let wasm = wat::parse_bytes(&wasm).with_context(|| format!("parsing {file}"))?;
                for _ in 0..once_times {
                    let took = compile(&engine, &wasm)?;
                    eprintln!("{engine}: {file} compiled in {took:?}");
                }
                return Ok(());
            }
            _ if arg.starts_with('-') => bail!("unknown option {arg}"),
            _ => names.push(arg),
        }
    }
    if reps == 0 {
        bail!("--reps must be at least 1");
    }
    let dir = dir.unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/real-programs")
    });
    if names.is_empty() {
        names = DEFAULT_MODULES.iter().map(|s| s.to_string()).collect();
    }
    for name in &names {
        let path = dir.join(name);
        let Ok(wasm) = std::fs::read(&path) else {
            println!(
                "compile/{name}: skipped, {} is not there (wasi/real/fetch.sh fetches it)",
                path.display()
            );
            continue;
        };
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); engines.len()];
        for _ in 0..reps {
            for (engine, t) in engines.iter().zip(&mut times) {
                t.push(compile(engine, &wasm).with_context(|| format!("{engine}: {name}"))?);
            }
        }
        let medians: Vec<Duration> = times.iter().cloned().map(median).collect();
        for ((engine, t), m) in engines.iter().zip(&times).zip(&medians) {
            let min = t.iter().min().copied().unwrap_or_default();
            println!(
                "compile/{name}/{engine}: median {:.3} s, min {:.3} s ({reps} runs)",
                m.as_secs_f64(),
                min.as_secs_f64()
            );
        }
        if let [first, .., last] = &medians[..] {
            println!(
                "compile/{name}: {}/{} = {:.2}",
                engines[0],
                engines[engines.len() - 1],
                first.as_secs_f64() / last.as_secs_f64()
            );
        }
    }
    Ok(())
}
