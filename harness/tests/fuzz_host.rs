//! The host that fights back (`fuzz/effects.rs`, `fuzz/wide_imports.rs`): wide host
//! functions are common enough that an argument-order bug in them is found within a
//! few hundred seeds, and host functions do call back and grow memory.

use harness::fuzz::driver::{self, FuzzOptions};
use harness::fuzz::input::seed_bytes;
use harness::fuzz::observe::Observation;
use harness::fuzz::plan::Plan;
use harness::fuzz::shape::Shape;
use harness::fuzz::{Case, Oracle, RuntimeSubject, Subject, Verdict};
use runtime::Strategy;

/// The native engine with a planted bug: a host function of three or more parameters
/// gets its second and third arguments swapped (what a wrong register or stack-slot
/// order in the host-call path does). Only what the host saw changes here, which is
/// what the oracle compares first.
struct SwapsWideHostArgs(RuntimeSubject);

impl Subject for SwapsWideHostArgs {
    fn name(&self) -> &str {
        "swapping-native"
    }
    fn observe(&self, wasm: &[u8], shape: &Shape, plan: &Plan) -> Observation {
        let mut obs = self.0.observe(wasm, shape, plan);
        obs.engine = self.name().to_string();
        for call in obs.steps.iter_mut().flat_map(|s| &mut s.host_calls) {
            if call.args.len() >= 3 {
                call.args.swap(1, 2);
            }
        }
        obs
    }
}

#[test]
fn an_argument_order_bug_in_wide_host_functions_is_found() {
    let oracle = Oracle {
        subjects: vec![
            Box::new(RuntimeSubject::new(Strategy::Interpreter).unwrap()),
            Box::new(SwapsWideHostArgs(
                RuntimeSubject::new(Strategy::Native).unwrap(),
            )),
        ],
    };
    let mut found = Vec::new();
    for seed in 0..200u64 {
        let Some(case) = Case::from_input(&seed_bytes(seed)) else {
            continue;
        };
        let Some(checked) = oracle.check(&case) else {
            continue;
        };
        if let Verdict::Diverged(d) = &checked.verdict {
            assert!(
                d.observable.starts_with("host calls"),
                "seed {seed}: the swap shows first in the host calls, not in {d}"
            );
            found.push(seed);
        }
    }
    // A bug wasm-smith's own imports reach in about 1 module of 100.
    assert!(
        found.len() >= 5,
        "the swap was found in {} of 200 seeds ({found:?})",
        found.len()
    );
}

#[test]
fn host_functions_call_back_and_grow_memory() {
    let opts = FuzzOptions {
        seeds: 0..600,
        out: std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-host"),
        ..FuzzOptions::default()
    };
    let summary = driver::run(&opts).unwrap();
    let s = &summary.stats;
    eprintln!("{s}");
    assert!(summary.divergences.is_empty(), "divergences: {s}");
    let h = &s.host;
    assert!(
        h.wide_modules * 5 >= h.func_import_modules,
        "fewer than 20% of function-importing modules have a host function of 3+ parameters: {h}"
    );
    assert!(h.max_params >= 8, "no host function of 8 parameters: {h}");
    assert!(h.reentrant_modules >= 20, "too few calls back: {h}");
    assert!(h.memory_growth_modules >= 5, "too few memory growths: {h}");
    assert!(
        h.memory_grow_failures > 0,
        "no growth past the maximum: {h}"
    );
    assert!(
        h.global_sets > 0 && h.table_writes > 0,
        "no host writes: {h}"
    );
    // The rest of the statistics stay healthy (as in fuzz_smoke.rs).
    assert!(
        s.instantiated * 10 >= s.modules * 8,
        "too few instantiate: {s}"
    );
    assert!(s.returned * 2 >= s.calls, "too many calls trap: {s}");
}
