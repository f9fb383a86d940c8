//! The official WASI testsuite (preview1 programs, `../shared/wasi-testsuite`), run by
//! the `wasi-run` binary on each engine, checked as the suite's
//! `doc/specification.md` says: each test's JSON gives its arguments, environment and
//! preopened root; exit code, stdout and stderr must match exactly (a missing field
//! means exit code 0 and empty output). Every test runs on a fresh copy of its
//! directory, so tests that write files cannot see each other's leftovers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Where the suite is: `WASI_TESTSUITE`, or `../shared/wasi-testsuite` from the
/// repository root.
fn suite_root() -> PathBuf {
    match std::env::var_os("WASI_TESTSUITE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/wasi-testsuite"),
    }
}

/// What one test expects, from its JSON (legacy or operation-based form).
#[derive(Debug, Default)]
struct Spec {
    args: Vec<String>,
    env: BTreeMap<String, String>,
    root: Option<String>,
    exit_code: i32,
    stdout: Option<String>,
    stderr: Option<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn env_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn parse_spec(json: &Value) -> Result<Spec, String> {
    let mut spec = Spec::default();
    if let Some(ops) = json.get("operations").and_then(Value::as_array) {
        if json
            .get("proposals")
            .and_then(Value::as_array)
            .is_some_and(|p| !p.is_empty())
        {
            return Err("needs a proposal (sockets/http) this runner does not provide".into());
        }
        for op in ops {
            match op.get("type").and_then(Value::as_str) {
                Some("run") => {
                    spec.args = strings(op.get("args"));
                    spec.env = env_map(op.get("env"));
                    spec.root = op.get("root").and_then(Value::as_str).map(str::to_owned);
                }
                Some("wait") => {
                    spec.exit_code =
                        op.get("exit_code").and_then(Value::as_i64).unwrap_or(0) as i32;
                }
                Some("read") => {
                    let payload = op
                        .get("payload")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    match op.get("id").and_then(Value::as_str).unwrap_or("stdout") {
                        "stderr" => spec.stderr = Some(payload),
                        _ => spec.stdout = Some(payload),
                    }
                }
                other => {
                    return Err(format!(
                        "operation {other:?} is not supported by this runner"
                    ));
                }
            }
        }
        return Ok(spec);
    }
    spec.args = strings(json.get("args"));
    spec.env = env_map(json.get("env"));
    spec.root = json.get("root").and_then(Value::as_str).map(str::to_owned);
    spec.exit_code = json.get("exit_code").and_then(Value::as_i64).unwrap_or(0) as i32;
    // A stream the JSON does not mention is not checked (the suite's own runner turns
    // only the fields present into `read` operations).
    spec.stdout = json
        .get("stdout")
        .and_then(Value::as_str)
        .map(str::to_owned);
    spec.stderr = json
        .get("stderr")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(spec)
}

/// Copies `from` to `to` recursively, symlinks as symlinks, leaving out the `*.cleanup`
/// artefacts the specification says to remove before a run.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".cleanup") {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let ty = entry.file_type()?;
        if ty.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if ty.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Runs one test; `Err` says how it failed.
fn run_test(wasm: &Path, engine: &str) -> Result<(), String> {
    let json_path = wasm.with_extension("json");
    let spec = if json_path.exists() {
        let text = std::fs::read_to_string(&json_path).map_err(|e| e.to_string())?;
        let json: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json_path.display()))?;
        parse_spec(&json)?
    } else {
        parse_spec(&Value::Object(Default::default()))?
    };
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasi-run"));
    cmd.args(["run", "--no-cache", "--engine", engine]);
    if let Some(root) = &spec.root {
        let copy = scratch.path().join(root);
        copy_tree(&wasm.parent().unwrap_or(Path::new(".")).join(root), &copy)
            .map_err(|e| format!("copying {root}: {e}"))?;
        cmd.arg("--dir").arg(format!("{}::/", copy.display()));
    }
    for (k, v) in &spec.env {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    let name = wasm
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    cmd.arg("--argv0").arg(&name).arg(wasm).args(&spec.args);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start wasi-run: {e}"))?;
    let output = wait_with_timeout(child, Duration::from_secs(120))?;
    let code = output.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut problems = Vec::new();
    if code != spec.exit_code {
        problems.push(format!("exit code {code}, expected {}", spec.exit_code));
    }
    if let Some(want) = &spec.stdout
        && *want != stdout
    {
        problems.push(format!("stdout {stdout:?}, expected {want:?}"));
    }
    if let Some(want) = &spec.stderr
        && *want != stderr
    {
        problems.push(format!("stderr {stderr:?}, expected {want:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Waits for `child`, killing it after `limit` (a hung test fails instead of hanging
/// the test command).
fn wait_with_timeout(
    mut child: std::process::Child,
    limit: Duration,
) -> Result<std::process::Output, String> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().map_err(|e| e.to_string()),
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {}s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Every preview1 test program of the suite, sorted.
fn test_programs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for lang in ["assemblyscript", "c", "rust"] {
        let dir = root
            .join("tests")
            .join(lang)
            .join("testsuite/wasm32-wasip1");
        if let Ok(entries) = std::fs::read_dir(&dir) {
            out.extend(
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "wasm")),
            );
        }
    }
    out.sort();
    out
}

fn run_suite(engine: &str) {
    let root = suite_root();
    assert!(
        root.join("tests").is_dir(),
        "the WASI testsuite was not found at {} (expected ../shared/wasi-testsuite beside the \
         repository); set WASI_TESTSUITE to a copy of it (WebAssembly/wasi-testsuite, \
         prod/testsuite-base) to run these tests",
        root.display()
    );
    let programs = test_programs(&root);
    assert!(
        !programs.is_empty(),
        "no .wasm programs under {}",
        root.display()
    );
    let mut failures = Vec::new();
    for wasm in &programs {
        let name = wasm
            .strip_prefix(root.join("tests"))
            .unwrap_or(wasm)
            .display()
            .to_string();
        match run_test(wasm, engine) {
            Ok(()) => println!("pass  {engine:6} {name}"),
            Err(why) => {
                println!("FAIL  {engine:6} {name}: {why}");
                failures.push(name);
            }
        }
    }
    println!(
        "{engine}: {} of {} passed",
        programs.len() - failures.len(),
        programs.len()
    );
    assert!(
        failures.is_empty(),
        "{engine}: {} failed: {failures:?}",
        failures.len()
    );
}

#[test]
fn wasi_testsuite_interp() {
    run_suite("interp");
}

#[test]
fn wasi_testsuite_native() {
    run_suite("native");
}
