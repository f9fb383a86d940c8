//! The `harness` command line: `harness spec` runs suites, `harness wast` runs files.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use runtime::{Strategy, WasmFeatures};
use spec_testsuite::Suite;

use crate::report::{FileReport, JsonReport, SuiteReport};
use crate::spec::{RunOptions, run_paths, run_suite_with};

#[derive(Parser, Debug)]
#[command(
    name = "harness",
    about = "Runs WebAssembly .wast spec tests against the runtime's engines"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Which engine(s) to run; default: every engine this build has.
    #[arg(long, value_enum)]
    pub engine: Option<EngineChoice>,
    /// Also write the report as JSON to this file (format: harness/README.md).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Seconds one directive may run: then its call is interrupted and it fails as a
    /// timeout, and the rest of the file still runs.
    #[arg(long, default_value_t = crate::spec::DEFAULT_TIMEOUT.as_secs())]
    pub timeout: u64,
    /// How hard the native engine optimises (`Config::opt_level`).
    #[arg(long, value_enum, default_value_t = OptLevelArg::Speed)]
    pub opt_level: OptLevelArg,
    /// The native engine's register allocator (`Config::regalloc_algorithm`).
    #[arg(long, value_enum, default_value_t = RegallocArg::Backtracking)]
    pub regalloc: RegallocArg,
    /// Compile the native engine's 32-bit bounds checks as explicit checks instead of
    /// leaving them to guard pages and signal traps (`Config::signal_traps`, on by default).
    #[arg(long)]
    pub explicit_bounds_checks: bool,
}

impl Common {
    /// How each spec file runs, as these options say.
    fn run_options(&self) -> RunOptions {
        RunOptions {
            timeout: Duration::from_secs(self.timeout),
            opt_level: self.opt_level.into(),
            regalloc: self.regalloc.into(),
            signal_traps: !self.explicit_bounds_checks,
        }
    }
}

/// `runtime::RegallocAlgorithm` on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum RegallocArg {
    Backtracking,
    SinglePass,
}

impl From<RegallocArg> for runtime::RegallocAlgorithm {
    fn from(a: RegallocArg) -> runtime::RegallocAlgorithm {
        match a {
            RegallocArg::Backtracking => runtime::RegallocAlgorithm::Backtracking,
            RegallocArg::SinglePass => runtime::RegallocAlgorithm::SinglePass,
        }
    }
}

/// `runtime::OptLevel` on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum OptLevelArg {
    None,
    Speed,
    SpeedAndSize,
}

impl From<OptLevelArg> for runtime::OptLevel {
    fn from(a: OptLevelArg) -> runtime::OptLevel {
        match a {
            OptLevelArg::None => runtime::OptLevel::None,
            OptLevelArg::Speed => runtime::OptLevel::Speed,
            OptLevelArg::SpeedAndSize => runtime::OptLevel::SpeedAndSize,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run spec suites (default: 1.0, 2.0, 3.0 and regressions).
    Spec {
        /// Comma-separated suites: 1.0, 2.0, 3.0, regressions, or proposal folder names
        /// (simd, memory64, gc, ...).
        #[arg(long, value_delimiter = ',')]
        suite: Vec<String>,
        /// Only files whose path (e.g. `wasm-v2/i32.wast`) contains this text.
        #[arg(long)]
        filter: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Run .wast files from disk.
    Wast {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The features modules are validated with: `1.0`, `2.0` or `3.0`, optionally
        /// followed by proposal folder names to add (`2.0,memory64,tail-call`).
        #[arg(long, value_delimiter = ',', default_value = "2.0")]
        features: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Differential fuzzing of the engines (harness/README.md, "Fuzzing").
    Fuzz(crate::fuzz::cli::FuzzArgs),
    /// The operator grid: every numeric, conversion and SIMD operator on its edge
    /// operands, on both engines (harness/README.md, "The operator grid").
    Grid,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineChoice {
    Interp,
    Native,
    Both,
}

/// The feature set `harness wast --features` names: a Wasm version (2.0 when none is
/// named), plus the features of the proposals named.
fn parse_features(names: &[String]) -> anyhow::Result<WasmFeatures> {
    let mut version = None;
    let mut proposals = WasmFeatures::empty();
    for name in names.iter().map(|n| n.trim()) {
        match name {
            "1.0" => version = Some(WasmFeatures::WASM1),
            "2.0" => version = Some(WasmFeatures::WASM2),
            "3.0" => version = Some(WasmFeatures::WASM3),
            proposal => {
                proposals |= spec_testsuite::proposal_features(proposal).with_context(|| {
                    format!(
                        "unknown feature set {proposal:?}: 1.0, 2.0, 3.0 or a proposal folder name"
                    )
                })?
            }
        }
    }
    Ok(version.unwrap_or(WasmFeatures::WASM2) | proposals)
}

/// The engines to run: both unless one is asked for.
fn engines(choice: Option<EngineChoice>) -> Vec<Strategy> {
    match choice {
        None | Some(EngineChoice::Both) => vec![Strategy::Interpreter, Strategy::Native],
        Some(EngineChoice::Interp) => vec![Strategy::Interpreter],
        Some(EngineChoice::Native) => vec![Strategy::Native],
    }
}

fn progress_bar(total: usize) -> ProgressBar {
    // Only draw for a person watching; logs and CI get the report alone.
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total as u64), target);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {wide_msg}") {
        bar.set_style(style);
    }
    bar
}

/// Runs the command; `Ok(true)` when no assertion failed.
pub fn run(cli: Cli) -> anyhow::Result<bool> {
    let (reports, common) = match cli.command {
        Command::Spec {
            suite,
            filter,
            common,
        } => (run_spec(&suite, filter.as_deref(), &common)?, common),
        Command::Fuzz(args) => return crate::fuzz::cli::run(args),
        Command::Grid => return crate::grid::run_cli(),
        Command::Wast {
            files,
            features,
            common,
        } => {
            let features = parse_features(&features)?;
            let strategies = engines(common.engine);
            let bar = progress_bar(files.len() * strategies.len());
            let options = common.run_options();
            let reports = strategies
                .iter()
                .map(|s| run_paths(&files, features, *s, &options, &mut tick(&bar, *s)))
                .collect();
            bar.finish_and_clear();
            (reports, common)
        }
    };
    let report = JsonReport::new(&reports);
    print!("{}", crate::text::render(&report));
    if let Some(path) = &common.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(report.totals.values().all(|t| t.failed == 0))
}

fn tick(bar: &ProgressBar, s: Strategy) -> impl FnMut(&FileReport) + '_ {
    move |f: &FileReport| {
        bar.set_message(format!("{} {}", s.name(), f.path));
        bar.inc(1);
    }
}

fn run_spec(
    names: &[String],
    filter: Option<&str>,
    common: &Common,
) -> anyhow::Result<Vec<SuiteReport>> {
    let mut suites = if names.is_empty() {
        Suite::defaults()
    } else {
        names
            .iter()
            .map(|n| {
                Suite::by_name(n.trim()).with_context(|| {
                    format!(
                        "unknown suite {n:?}; known: {}",
                        Suite::known_names().join(", ")
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    if let Some(text) = filter {
        for s in &mut suites {
            s.files.retain(|f| f.path_for_display.contains(text));
        }
    }
    let strategies = engines(common.engine);
    let total: usize = suites.iter().map(|s| s.files.len()).sum::<usize>() * strategies.len();
    let bar = progress_bar(total);
    let options = common.run_options();
    let mut reports = Vec::new();
    for suite in &suites {
        for s in &strategies {
            reports.push(run_suite_with(suite, *s, &options, &mut tick(&bar, *s)));
        }
    }
    bar.finish_and_clear();
    Ok(reports)
}
