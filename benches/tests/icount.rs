//! The instruction-count check (src/bin/icount.rs) as a test, part of the default
//! `cargo test --workspace`: a few short workloads under valgrind (well under a minute).
//! Without valgrind it prints a note and passes.
//!
//! With `ICOUNT_UPDATE=1` in the environment it re-records the baseline instead, with the
//! very binary the check runs (the build of the `cargo test` command given):
//! `ICOUNT_UPDATE=1 cargo test --workspace --test icount -- --nocapture`.

use std::process::Command;

#[test]
fn instruction_counts_within_tolerance_of_baseline() {
    let update = std::env::var_os("ICOUNT_UPDATE").is_some_and(|v| !v.is_empty() && v != "0");
    let args: &[&str] = if update {
        &["update"]
    } else {
        &["check", "--tolerance", "10"]
    };
    let status = Command::new(env!("CARGO_BIN_EXE_icount"))
        .args(args)
        .status()
        .expect("running icount");
    assert!(
        status.success(),
        "icount {args:?} failed: instruction counts more than 10% above the baseline, or \
         missing from it (see the table above)"
    );
}
