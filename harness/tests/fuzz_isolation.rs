//! Crash isolation of `harness fuzz`: faults injected into the worker processes (the
//! test-only `HARNESS_FUZZ_INJECT_FAULT` hook) must each yield a reproducer naming the
//! signal (or the hang), and the run must still reach its last seed with the same
//! totals as a clean run.

use std::path::Path;
use std::process::Command;

fn fuzz(out: &Path, faults: &str) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_harness"));
    cmd.args(["fuzz", "--seeds", "0..60", "--jobs", "2", "--timeout", "2"])
        .arg("--out")
        .arg(out)
        .env_remove(harness::fuzz::fault::ENV);
    if !faults.is_empty() {
        cmd.env(harness::fuzz::fault::ENV, faults);
    }
    let run = cmd.output().expect("running harness fuzz");
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    (run.status.code(), stdout)
}

/// The value of a statistics line, `name:   N ...`.
fn stat(stdout: &str, name: &str) -> u64 {
    let line = (stdout.lines())
        .find(|l| l.trim_start().starts_with(name))
        .unwrap_or_else(|| panic!("no {name} line in:\n{stdout}"));
    let value = line.trim_start()[name.len()..].split_whitespace().next();
    value.and_then(|v| v.parse().ok()).unwrap()
}

#[test]
fn injected_faults_are_recorded_and_the_run_goes_on() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-isolation");
    let _ = std::fs::remove_dir_all(&dir);
    let (clean_status, clean) = fuzz(&dir.join("clean"), "");
    assert_eq!(clean_status, Some(0), "{clean}");

    // The last seed of the range faults too: the run must get there.
    let faults = "segv@3,abort@17,hang@30,bus@41,ill@59";
    let out = dir.join("faulty");
    let (status, stdout) = fuzz(&out, faults);
    assert_eq!(status, Some(1), "a crash fails the run:\n{stdout}");
    assert_eq!(stat(&stdout, "inputs:"), 60, "{stdout}");
    assert_eq!(stat(&stdout, "crashes:"), 5, "{stdout}");
    // Seeds run before a crash in the same worker are run again, not lost: only the
    // five crashed cases are missing from the counts of what ran.
    assert_eq!(
        stat(&stdout, "modules:"),
        stat(&clean, "modules:"),
        "{stdout}"
    );
    let instantiated = stat(&stdout, "instantiated:");
    let clean_instantiated = stat(&clean, "instantiated:");
    assert!(
        instantiated <= clean_instantiated && instantiated + 5 >= clean_instantiated,
        "{instantiated} instantiated, {clean_instantiated} in the clean run"
    );
    for (seed, cause) in [
        (3, "SIGSEGV"),
        (17, "SIGABRT"),
        (30, "timeout"),
        (41, "SIGBUS"),
        (59, "SIGILL"),
    ] {
        let folder = out.join(format!("seed-{seed}"));
        let report = std::fs::read_to_string(folder.join("report.txt")).unwrap();
        assert!(report.contains(cause), "seed {seed}: {report}");
        assert!(report.contains("calls planned:"), "{report}");
        for file in ["case.wasm", "case.wat", "case.plan"] {
            assert!(folder.join(file).is_file(), "seed {seed}: no {file}");
        }
        assert!(
            stdout.contains(&format!("divergence: seed-{seed} (")),
            "{stdout}"
        );
    }
}

/// A crash of the reference runtime alone (wasmi 2.0.0 dies of SIGSEGV on seed 830) is
/// not ours: the case runs again without the reference, and when our engines run it
/// cleanly the crash is an explained reference difference with a reproducer, and the run
/// passes. A crash that recurs without the reference stays a crash of ours.
#[cfg(feature = "reference-wasmi")]
#[test]
fn a_crash_of_the_reference_alone_is_explained() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-isolation-reference");
    let _ = std::fs::remove_dir_all(&dir);
    let run = |out: &Path, faults: &str| {
        let run = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args([
                "fuzz",
                "--seeds",
                "0..20",
                "--jobs",
                "2",
                "--reference",
                "wasmi",
            ])
            .arg("--out")
            .arg(out)
            .env(harness::fuzz::fault::ENV, faults)
            .output()
            .expect("running harness fuzz");
        let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
        (run.status.code(), stdout)
    };
    let out = dir.join("reference-only");
    let (status, stdout) = run(&out, "segv-ref@7");
    assert_eq!(status, Some(0), "{stdout}");
    assert_eq!(stat(&stdout, "crashes:"), 0, "{stdout}");
    assert_eq!(stat(&stdout, "inputs:"), 20, "{stdout}");
    assert!(stdout.contains("the reference crashed"), "{stdout}");
    let report = out.join("seed-7-reference-crash").join("report.txt");
    let report = std::fs::read_to_string(&report).expect("a reproducer");
    assert!(report.contains("SIGSEGV"), "{report}");

    let (status, stdout) = run(&dir.join("ours"), "segv@7");
    assert_eq!(status, Some(1), "{stdout}");
    assert_eq!(stat(&stdout, "crashes:"), 1, "{stdout}");
}
