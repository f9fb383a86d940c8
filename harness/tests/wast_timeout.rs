//! `harness wast --timeout N` interrupts just the directive that runs too long: it fails
//! as a timeout, and the rest of the file still runs and passes (issue 16, point 3).

use std::process::Command;

#[test]
fn a_looping_assertion_times_out_and_the_file_goes_on() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("wast-timeout");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("loops.wast");
    std::fs::write(
        &file,
        r#"(module
  (func (export "spin") (result i32) (loop $l (br $l)) (i32.const 0))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
(assert_return (invoke "spin") (i32.const 0))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke "add" (i32.const 40) (i32.const 2)) (i32.const 42))
"#,
    )
    .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["wast", "--engine", "both", "--timeout", "1"])
        .arg(&file)
        .output()
        .expect("running harness wast");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(1),
        "a timeout fails the run:\n{stdout}"
    );
    for engine in ["interp", "native"] {
        assert!(
            stdout.contains(&format!(
                "{engine}: 1 files (1 failing): 2 passed, 1 failed, 0 skipped"
            )),
            "{engine}:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!(
                "[{engine}] {}:4: timeout: still running after 1s: interrupted (assert_return)",
                file.display()
            )),
            "{engine}:\n{stdout}"
        );
    }
}
