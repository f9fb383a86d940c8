//! The workspace's own rules, checked by the test command: `cargo clippy` finds nothing
//! (with the lints of `[workspace.lints]`, warnings denied) and the code is formatted.
//!
//! Each runs the `cargo` that runs the tests, with a target directory of its own (the
//! test run holds the main one). The first run compiles the dependencies for checking,
//! a few minutes on two cores; later runs are incremental.

use std::path::Path;
use std::process::Command;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate sits in the workspace")
}

fn cargo(args: &[&str]) -> (bool, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(args)
        .current_dir(workspace())
        .env("CARGO_TARGET_DIR", workspace().join("target").join("lints"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn clippy_finds_nothing() {
    let (ok, output) = cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ]);
    assert!(
        ok,
        "cargo clippy --workspace --all-targets -- -D warnings failed (is clippy installed? \
         `rustup component add clippy`):\n{output}"
    );
}

#[test]
fn code_is_formatted() {
    let (ok, output) = cargo(&["fmt", "--all", "--", "--check"]);
    assert!(
        ok,
        "cargo fmt --all -- --check failed (run `cargo fmt --all`; is rustfmt installed? \
         `rustup component add rustfmt`):\n{output}"
    );
}
