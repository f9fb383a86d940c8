//! Every workload gives the same result on every engine of this build (interp and
//! native; with `--features peers` also wasmtime and wasmi), with small inputs so that
//! `cargo test --workspace` stays fast; and the reference results (the C programs' from
//! the gcc build, programs/README.md; simd's from a Python model) hold on native.

#[test]
fn all_engines_agree_on_every_workload() {
    let runners = benches::runners();
    let workloads = benches::workloads().unwrap();
    assert_eq!(
        workloads.iter().map(|w| w.name).collect::<Vec<_>>(),
        benches::NAMES
    );
    for w in &workloads {
        benches::check_agree(&runners, w, w.test_n).unwrap();
    }
}

#[test]
fn programs_match_their_reference_results_on_native() {
    let native = benches::runner("native").unwrap();
    for w in benches::workloads().unwrap() {
        if let Some((n, want)) = w.reference {
            let got = benches::run_once(&*native, &w, n).unwrap();
            assert_eq!(got, want, "{}.run({n})", w.name);
        }
    }
}

/// The GC workloads give their reference result on every engine of the `gc` group
/// (interp and native; with `--features peers` also wasmtime).
#[test]
fn gc_workloads_match_their_reference_results() {
    let runners = benches::gc_runners();
    for w in benches::gc_workloads().unwrap() {
        let (n, want) = w.reference.expect("a reference");
        assert_eq!(
            benches::check_agree(&runners, &w, n).unwrap(),
            want,
            "{}",
            w.name
        );
    }
}
