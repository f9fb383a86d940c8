//! The instruction-count check (src/bin/icount.rs) as a test. Ignored by default because
//! it runs valgrind (a couple of minutes); run it with
//! `cargo test -p benches --test icount -- --ignored --nocapture`.
//! Without valgrind it prints a note and passes.

use std::process::Command;

#[test]
#[ignore = "runs valgrind for ~2 min: cargo test -p benches --test icount -- --ignored"]
fn instruction_counts_within_tolerance_of_baseline() {
    let status = Command::new(env!("CARGO_BIN_EXE_icount"))
        .args(["check", "--tolerance", "10"])
        .status()
        .expect("running icount");
    assert!(
        status.success(),
        "instruction counts rose more than 10% (see the table above)"
    );
}
