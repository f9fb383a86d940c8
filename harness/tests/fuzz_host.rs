//! The host that fights back (`fuzz/effects.rs`, `fuzz/wide_imports.rs`): wide host
//! functions are common enough that an argument-order bug in them is found within a
//! few hundred seeds, and host functions do call back and grow memory.

use harness::fuzz::driver::{self, FuzzOptions};
use harness::fuzz::effects::Effected;
use harness::fuzz::input::seed_bytes;
use harness::fuzz::observe::{Observation, Outcome};
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
    eprintln!("the swap was found in {} of 200 seeds", found.len());
    assert!(
        found.len() >= 5,
        "the swap was found in {} of 200 seeds ({found:?})",
        found.len()
    );
}

/// The native engine misreporting the outcome of the first call back it makes (as an
/// engine that lost a result across a host-to-Wasm re-entry would).
struct LosesACallBack(RuntimeSubject);

impl Subject for LosesACallBack {
    fn name(&self) -> &str {
        "lossy-native"
    }
    fn observe(&self, wasm: &[u8], shape: &Shape, plan: &Plan) -> Observation {
        let mut obs = self.0.observe(wasm, shape, plan);
        obs.engine = self.name().to_string();
        let called = (obs.steps.iter_mut().flat_map(|s| &mut s.host_calls))
            .flat_map(|c| &mut c.effects)
            .find_map(|e| match e {
                Effected::Called { outcome, .. } => Some(outcome),
                _ => None,
            });
        if let Some(outcome) = called {
            *outcome = Outcome::Trap(runtime::TrapKind::Unreachable);
        }
        obs
    }
}

#[test]
fn a_wrong_outcome_inside_a_call_back_is_reported_at_its_host_call() {
    let oracle = Oracle {
        subjects: vec![
            Box::new(RuntimeSubject::new(Strategy::Interpreter).unwrap()),
            Box::new(LosesACallBack(
                RuntimeSubject::new(Strategy::Native).unwrap(),
            )),
        ],
    };
    let honest = Oracle::ours().unwrap();
    for seed in 0..300u64 {
        let Some(case) = Case::from_input(&seed_bytes(seed)) else {
            continue;
        };
        let (Some(checked), Some(truth)) = (oracle.check(&case), honest.check(&case)) else {
            continue;
        };
        let first_call_back = (truth.observations[0].steps.iter().enumerate())
            .flat_map(|(i, s)| s.host_calls.iter().map(move |c| (i, c)))
            .find(|(_, c)| c.effects.iter().any(|e| matches!(e, Effected::Called { outcome, .. } if *outcome != Outcome::Trap(runtime::TrapKind::Unreachable))));
        let Some((step, _)) = first_call_back else {
            continue;
        };
        if truth.verdict != Verdict::Agree {
            continue;
        }
        let Verdict::Diverged(d) = &checked.verdict else {
            panic!("seed {seed}: the wrong call-back outcome was not caught");
        };
        assert!(d.observable.starts_with("host calls"), "seed {seed}: {d}");
        assert_eq!(d.step, step, "seed {seed}: {d}");
        assert!(d.to_string().contains("trap: unreachable"), "{d}");
        return;
    }
    panic!("no seed in 0..300 calls back");
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
