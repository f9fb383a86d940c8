//! `wasi-run`'s code cache (native engine): a second run loads the entry the first one
//! wrote (the entry is not rewritten, which a compile would do), `--no-cache` neither
//! reads nor writes one, `$WASI_RUN_CACHE_DIR` is the default directory, a damaged entry
//! is replaced, and a cache that cannot be written is only a warning. With CPython
//! present (wasi/real/README.md), the same for it, with the two runs timed.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

const GREETS: &str = r#"(module
    (import "wasi_snapshot_preview1" "fd_write"
        (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "cached\n")
    (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 7))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (call $exit (i32.const 5))))"#;

fn wasi_run(args: &[&str], cache_env: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasi-run"));
    cmd.arg("run").args(args).stdin(Stdio::null());
    // Never the user's own cache: the environment's default is replaced or removed.
    match cache_env {
        Some(dir) => cmd.env("WASI_RUN_CACHE_DIR", dir),
        None => cmd.env_remove("WASI_RUN_CACHE_DIR"),
    };
    cmd.env_remove("XDG_CACHE_HOME").env_remove("HOME");
    cmd.output().unwrap()
}

fn guest(dir: &Path) -> PathBuf {
    let path = dir.join("guest.wasm");
    std::fs::write(&path, wat::parse_str(GREETS).unwrap()).unwrap();
    path
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The identity of a file: a rewrite (a new file renamed over it) changes it.
fn identity(path: &Path) -> (u64, u64) {
    let meta = std::fs::metadata(path).unwrap();
    (meta.ino(), meta.mtime_nsec() as u64)
}

fn check_greets(out: &Output) {
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert_eq!(out.stdout, b"cached\n");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_second_run_loads_the_entry_of_the_first() {
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let wasm = guest(work.path());
    let wasm = wasm.to_str().unwrap();
    let cache_arg = cache.to_str().unwrap();
    check_greets(&wasi_run(&["--cache-dir", cache_arg, wasm], None));
    let files = entries(&cache);
    assert_eq!(files.len(), 1, "{files:?}");
    let written = identity(&files[0]);
    check_greets(&wasi_run(&["--cache-dir", cache_arg, wasm], None));
    assert_eq!(entries(&cache), files);
    assert_eq!(identity(&files[0]), written, "the entry was rewritten");
    // A damaged entry is replaced by a whole one, which the next run loads.
    let good = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &good[..good.len() / 2]).unwrap();
    check_greets(&wasi_run(&["--cache-dir", cache_arg, wasm], None));
    assert_eq!(std::fs::read(&files[0]).unwrap(), good);
    let replaced = identity(&files[0]);
    check_greets(&wasi_run(&["--cache-dir", cache_arg, wasm], None));
    assert_eq!(
        identity(&files[0]),
        replaced,
        "the replacement was rewritten"
    );
}

#[test]
fn no_cache_neither_writes_nor_reads() {
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let wasm = guest(work.path());
    let wasm = wasm.to_str().unwrap();
    // The default directory comes from the environment...
    check_greets(&wasi_run(&["--no-cache", wasm], Some(&cache)));
    assert!(entries(&cache).is_empty(), "{:?}", entries(&cache));
    check_greets(&wasi_run(&[wasm], Some(&cache)));
    let files = entries(&cache);
    assert_eq!(files.len(), 1, "{files:?}");
    // ...and `--no-cache` does not read it either, even with `--cache-dir`: garbage there
    // goes unnoticed.
    std::fs::write(&files[0], b"garbage").unwrap();
    check_greets(&wasi_run(&["--no-cache", wasm], Some(&cache)));
    let cache_arg = cache.to_str().unwrap();
    check_greets(&wasi_run(
        &["--cache-dir", cache_arg, "--no-cache", wasm],
        None,
    ));
    assert_eq!(std::fs::read(&files[0]).unwrap(), b"garbage");
    // The interpreter has no code to cache.
    let interp_cache = work.path().join("interp-cache");
    check_greets(&wasi_run(
        &["--engine", "interp", wasm],
        Some(&interp_cache),
    ));
    assert!(!interp_cache.exists());
}

#[test]
fn a_cache_that_cannot_be_written_is_a_warning() {
    let work = tempfile::tempdir().unwrap();
    let wasm = guest(work.path());
    let blocker = work.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let cache = blocker.join("cache");
    let out = wasi_run(
        &[
            "--cache-dir",
            cache.to_str().unwrap(),
            wasm.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert_eq!(out.stdout, b"cached\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: code cache"), "{stderr}");
    // Without any directory from the environment there is no cache, silently.
    let out = wasi_run(&[wasm.to_str().unwrap()], None);
    check_greets(&out);
}

fn python() -> Option<PathBuf> {
    let dir = match std::env::var_os("REAL_PROGRAMS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/real-programs"),
    };
    Some(dir.join("python.wasm")).filter(|p| p.is_file())
}

#[test]
fn cpython_second_run_loads_its_code() {
    let Some(python) = python() else {
        eprintln!(
            "CPython NOT RUN: python.wasm missing (fetch it with wasi/real/fetch.sh, or point \
             REAL_PROGRAMS at a copy)"
        );
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let args = [
        "--cache-dir",
        cache.path().to_str().unwrap(),
        python.to_str().unwrap(),
        "-c",
        "print(sum(range(10)))",
    ];
    let start = Instant::now();
    let cold = wasi_run(&args, None);
    let cold_time = start.elapsed();
    assert!(cold.status.success(), "{cold:?}");
    assert_eq!(cold.stdout, b"45\n");
    let files = entries(cache.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let written = identity(&files[0]);
    let start = Instant::now();
    let warm = wasi_run(&args, None);
    let warm_time = start.elapsed();
    assert_eq!(warm.stdout, cold.stdout);
    assert!(warm.status.success(), "{warm:?}");
    assert_eq!(identity(&files[0]), written, "the entry was rewritten");
    eprintln!(
        "CPython -c: cold {:.2} s, warm {:.2} s",
        cold_time.as_secs_f64(),
        warm_time.as_secs_f64()
    );
}
