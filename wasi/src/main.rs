//! `wasi-run`: runs a WASI preview1 program on either engine.
//!
//! Exit status: the guest's own exit code (0 when `_start` returns); 134 when the guest
//! traps (after printing the trap and its Wasm backtrace); 125 when the program cannot be run at all (unreadable
//! or invalid module, missing import, bad option).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use runtime::{Config, Engine, Error, Instance, Module, Store, Strategy};
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
    let engine = Engine::new(Config::new(strategy)).map_err(|e| e.to_string())?;
    let module =
        Module::new(&engine, &bytes).map_err(|e| format!("{}: {e}", args.file.display()))?;
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

/// The process status for guest exit code `code`: the low 8 bits, as POSIX `exit` keeps.
fn exit_code(code: u32) -> ExitCode {
    ExitCode::from((code & 0xff) as u8)
}
