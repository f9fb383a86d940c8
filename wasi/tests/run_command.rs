//! The `wasi-run` binary's exit status on both engines: the guest's exit code, 0 when
//! `_start` returns, a distinct status with the trap and its backtrace printed when the
//! guest traps, and another when the module cannot run at all.

use std::process::Command;

fn run(engine: &str, wat: &str) -> std::process::Output {
    run_in(&tempfile::tempdir().unwrap(), engine, wat)
}

/// Runs `wat` as `DIR/guest.wasm`.
fn run_in(dir: &tempfile::TempDir, engine: &str, wat: &str) -> std::process::Output {
    let path = dir.path().join("guest.wasm");
    std::fs::write(&path, wat::parse_str(wat).unwrap()).unwrap();
    Command::new(env!("CARGO_BIN_EXE_wasi-run"))
        .args(["run", "--no-cache", "--engine", engine])
        .arg(&path)
        .output()
        .unwrap()
}

const EXIT_3: &str = r#"(module
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (func (export "_start") (call $exit (i32.const 3)) unreachable))"#;

const RETURNS: &str = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;

const TRAPS: &str = r#"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#;

const NEEDS_UNKNOWN_IMPORT: &str = r#"(module
    (import "wasi_snapshot_preview1" "no_such_function" (func))
    (func (export "_start")))"#;

#[test]
fn exit_status_is_the_guests() {
    for engine in ["interp", "native"] {
        assert_eq!(run(engine, EXIT_3).status.code(), Some(3), "{engine}");
        assert_eq!(run(engine, RETURNS).status.code(), Some(0), "{engine}");
    }
}

#[test]
fn a_trap_is_printed_with_a_status_of_its_own() {
    for engine in ["interp", "native"] {
        let out = run(engine, TRAPS);
        assert_eq!(out.status.code(), Some(134), "{engine}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("unreachable"), "{engine}: {stderr}");
    }
}

/// `_start` calls `b` calls `c`, which loads out of bounds; an import comes first in the
/// function index space.
const TRAPS_IN_A_CHAIN: &str = r#"(module $guest
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (func $_start (export "_start") call $b)
    (func $b call $c)
    (func $c i32.const 65536 i32.load drop))"#;

#[test]
fn a_trap_is_printed_with_its_backtrace() {
    for engine in ["interp", "native"] {
        let dir = tempfile::tempdir().unwrap();
        let out = run_in(&dir, engine, TRAPS_IN_A_CHAIN);
        assert_eq!(out.status.code(), Some(134), "{engine}");
        let file = dir.path().join("guest.wasm");
        let expected = format!(
            "wasi-run: {}: trapped: out of bounds memory access\n\
             wasm backtrace:\n\
             \x20 0: guest!c (func 3)\n\
             \x20 1: guest!b (func 2)\n\
             \x20 2: guest!_start (func 1)\n",
            file.display()
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), expected, "{engine}");
    }
}

#[test]
fn a_module_that_cannot_run_is_a_runner_error() {
    for engine in ["interp", "native"] {
        let out = run(engine, NEEDS_UNKNOWN_IMPORT);
        assert_eq!(out.status.code(), Some(125), "{engine}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("unknown import"), "{engine}: {stderr}");
    }
}
