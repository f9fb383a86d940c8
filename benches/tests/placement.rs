//! The pad rewrite behind the `placements` benchmark (src/placement.rs): a padded
//! workload is a valid module with one more function, first and of the asked size, and
//! gives the unpadded module's result on both of our engines.

use benches::placement::with_pad;

/// Operators in each defined function's body, in order (the `end` included).
fn body_sizes(wasm: &[u8]) -> Vec<usize> {
    let mut sizes = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
            let ops = body.get_operators_reader().unwrap();
            sizes.push(ops.into_iter().count());
        }
    }
    sizes
}

fn exports(wasm: &[u8]) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::ExportSection(section) = payload.unwrap() {
            for e in section {
                let e = e.unwrap();
                out.push((e.name.to_string(), e.index));
            }
        }
    }
    out
}

#[test]
fn padded_workloads_are_valid_and_compute_the_same_on_both_engines() {
    let engines = [
        benches::runner("interp").unwrap(),
        benches::runner("native").unwrap(),
    ];
    for w in benches::workloads().unwrap() {
        let want = benches::run_once(&*engines[1], &w, w.test_n).unwrap();
        let original = body_sizes(&w.wasm);
        for ops in [0, 7] {
            let padded = with_pad(&w.wasm, ops).unwrap();
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                .validate_all(&padded)
                .unwrap_or_else(|e| panic!("{} with pad {ops}: {e}", w.name));
            // Six operators per pad operation, then `local.get 0` and `end`.
            let sizes = body_sizes(&padded);
            assert_eq!(sizes[0], 6 * ops as usize + 2, "{}", w.name);
            assert_eq!(sizes[1..], original[..], "{}", w.name);
            for engine in &engines {
                let mut inst = engine.compile(&padded).unwrap().instantiate().unwrap();
                let got = inst.run(w.test_n).unwrap();
                assert_eq!(got, want, "{} with pad {ops} on {}", w.name, engine.name());
            }
        }
    }
}

/// Defined functions move up by one in calls, element segments and the start function
/// alike: a call that landed on the pad or on the wrong function would make the module
/// invalid or trap (signature mismatch), or change the result.
#[test]
fn calls_tables_and_start_follow_the_shift() {
    let wasm = wat::parse_str(
        r#"(module
            (type $get (func (result i32)))
            (table 2 funcref)
            (elem (i32.const 0) $seven $started)
            (global $g (mut i32) (i32.const 0))
            (func $seven (result i32) (i32.const 7))
            (func $started (result i32) (global.get $g))
            (func (export "run") (param i32) (result i32)
                (call $seven)
                (call_indirect (type $get) (local.get 0))
                (i32.add))
            (func $start (global.set $g (i32.const 100)))
            (start $start))"#,
    )
    .unwrap();
    let padded = with_pad(&wasm, 3).unwrap();
    for engine in [
        benches::runner("interp").unwrap(),
        benches::runner("native").unwrap(),
    ] {
        let mut inst = engine.compile(&padded).unwrap().instantiate().unwrap();
        assert_eq!(inst.run(0).unwrap(), 14, "{}", engine.name());
        assert_eq!(inst.run(1).unwrap(), 107, "{}", engine.name());
    }
}

/// Imported functions keep their indices; defined ones, in exports and the name section
/// too, move up by one.
#[test]
fn imported_functions_keep_their_indices() {
    let wasm = wat::parse_str(
        r#"(module
            (import "host" "f" (func $imported (param i32)))
            (func $helper)
            (func $run (export "run") (param i32) (result i32) (call $helper) (local.get 0))
            (export "imported" (func $imported)))"#,
    )
    .unwrap();
    let padded = with_pad(&wasm, 3).unwrap();
    wasmparser::Validator::new().validate_all(&padded).unwrap();
    let both = |name: &str, index: u32| (name.to_string(), index);
    assert_eq!(exports(&wasm), [both("run", 2), both("imported", 0)]);
    assert_eq!(exports(&padded), [both("run", 3), both("imported", 0)]);
    assert_eq!(
        function_names(&padded),
        [both("imported", 0), both("helper", 2), both("run", 3)]
    );
}

fn function_names(wasm: &[u8]) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CustomSection(section) = payload.unwrap()
            && let wasmparser::KnownCustom::Name(names) = section.as_known()
        {
            for name in names {
                if let wasmparser::Name::Function(map) = name.unwrap() {
                    for naming in map {
                        let naming = naming.unwrap();
                        out.push((naming.name.to_string(), naming.index));
                    }
                }
            }
        }
    }
    out
}

/// The `placements` binary end to end, with small inputs: one row per runner, and a ratio
/// against the plain runner for each metered one.
#[test]
fn placements_binary_reports_every_runner() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_placements"))
        .args([
            "--smoke",
            "--placements",
            "2",
            "--reps",
            "1",
            "fib",
            "indirect",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    for workload in ["fib", "indirect"] {
        for runner in benches::runners() {
            let name = runner.name();
            let is_default = !name.contains("wasm") || name == "wasmtime" || name == "wasmi";
            let prefix = format!("| {workload} | {name} | ");
            let row = stdout.lines().find(|l| l.starts_with(&prefix));
            assert_eq!(row.is_some(), is_default, "{workload} {name}:\n{stdout}");
            if let Some(row) = row
                && name.contains('+')
            {
                let vs_plain = row.split('|').nth(6).unwrap().trim();
                assert!(vs_plain.parse::<f64>().unwrap() > 0.0, "{row}");
            }
        }
    }
}
