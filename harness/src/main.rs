//! `harness`: see harness/README.md.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = harness::cli::Cli::parse();
    match harness::cli::run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        // Some assertion failed: the report says which.
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("harness: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
