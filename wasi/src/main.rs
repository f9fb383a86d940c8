//! `wasi-run`: runs a WASI preview1 program on either engine.
//!
//! The native engine keeps compiled code in an on-disk cache (`--cache-dir`, default
//! `$WASI_RUN_CACHE_DIR`, else `$XDG_CACHE_HOME/wasi-run`, else `$HOME/.cache/wasi-run`;
//! `--no-cache` to neither read nor write it): a cache that cannot be used costs a
//! warning on stderr, never the run.
//!
//! Exit status: the guest's own exit code (0 when `_start` returns); 134 when the guest
//! traps (after printing the trap and its Wasm backtrace); 125 when the program cannot be run at all (unreadable
//! or invalid module, missing import, bad option).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use runtime::{CodeCacheOutcome, Config, Engine, Error, Instance, Module, Store, Strategy};
use wasi_preview1::{WasiConfig, WasiCtx};

/// The status a trapping guest leaves (SIGABRT's shell status: a crash, not an exit).
const TRAP_STATUS: u8 = 134;
/// The status when the runner itself fails before or around the guest.
const RUNNER_STATUS: u8 = 125;

#[derive(Parser)]
#[command(
    name = "wasi-run",
    version,
    about = "Runs WASI preview1 programs on the runtime"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs FILE.wasm's `_start` with stdin, stdout and stderr inherited.
    Run(RunArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum EngineChoice {
    Interp,
    Native,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Which engine executes the program.
    #[arg(long, value_enum, default_value = "native")]
    engine: EngineChoice,
    /// Preopens host directory HOST as GUEST (default: the same path).
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Sets K=V in the guest's environment (which is otherwise empty).
    #[arg(long = "env", value_name = "K=V")]
    envs: Vec<String>,
    /// The program name the guest sees as argv[0] (default: FILE as given).
    #[arg(long)]
    argv0: Option<String>,
    /// Keeps the native engine's compiled code in DIR (default: $WASI_RUN_CACHE_DIR,
    /// else $XDG_CACHE_HOME/wasi-run, else $HOME/.cache/wasi-run).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Compiles without the code cache: neither reads nor writes it (whatever
    /// --cache-dir says).
    #[arg(long)]
    no_cache: bool,
    /// The module.
    file: PathBuf,
    /// Arguments passed to the guest after argv[0].
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

fn main() -> ExitCode {
    let Command::Run(args) = Cli::parse().command;
    match run(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("wasi-run: {message}");
            ExitCode::from(RUNNER_STATUS)
        }
    }
}

fn run(args: RunArgs) -> Result<ExitCode, String> {
    let strategy = match args.engine {
        EngineChoice::Interp => Strategy::Interpreter,
        EngineChoice::Native => Strategy::Native,
    };
    let mut config = WasiConfig::new().arg(
        args.argv0
            .clone()
            .unwrap_or_else(|| args.file.display().to_string()),
    );
    config = config.args(args.args);
    for kv in &args.envs {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("--env {kv}: expected K=V"))?;
        config = config.env(k, v);
    }
    for dir in &args.dirs {
        let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
        config = config.preopen_dir(host, guest);
    }
    let ctx = WasiCtx::new(config).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let cache_dir = match strategy {
        Strategy::Native if !args.no_cache => args.cache_dir.clone().or_else(default_cache_dir),
        _ => None,
    };
    let engine =
        Engine::new(Config::new(strategy).cache_dir(cache_dir)).map_err(|e| e.to_string())?;
    let module =
        Module::new(&engine, &bytes).map_err(|e| format!("{}: {e}", args.file.display()))?;
    if let CodeCacheOutcome::NotStored { error, .. } = module.code_cache() {
        eprintln!("wasi-run: warning: code cache: {error}");
    }
    let store = Store::new(&engine);
    wasi_preview1::add_to_store(&store, ctx).map_err(|e| e.to_string())?;
    let outcome = Instance::new(&store, &module, None).and_then(|instance| {
        let start = instance
            .get_func(&store, "_start")
            .ok_or_else(|| Error::Usage("the module exports no _start function".into()))?;
        start.call(&store, &[])
    });
    // An exit from the start function arrives wrapped as the start's failure.
    let outcome = outcome.map_err(|e| match e {
        Error::Start { source, .. } if matches!(*source, Error::Exit(_)) => *source,
        e => e,
    });
    match outcome {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(Error::Exit(e)) => Ok(exit_code(e.code)),
        Err(e @ (Error::Trap(_) | Error::Start { .. } | Error::Host(_))) => {
            eprintln!("wasi-run: {}: trapped: {e}", args.file.display());
            if let Some(backtrace) = e.backtrace() {
                eprintln!("wasm backtrace:\n{backtrace}");
            }
            Ok(ExitCode::from(TRAP_STATUS))
        }
        Err(e) => Err(format!("{}: {e}", args.file.display())),
    }
}

/// The code cache's directory when no `--cache-dir` is given: `$WASI_RUN_CACHE_DIR`, else
/// `wasi-run` in the XDG cache directory (`$XDG_CACHE_HOME`, which the XDG spec says to
/// ignore unless absolute, else `$HOME/.cache`); none without any of them.
fn default_cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("WASI_RUN_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let xdg = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("wasi-run"))
}

/// The process status for guest exit code `code`: the low 8 bits, as POSIX `exit` keeps.
fn exit_code(code: u32) -> ExitCode {
    ExitCode::from((code & 0xff) as u8)
}
