//! The reference position must be able to fail a run: a reference that gives a wrong
//! answer while our two engines agree is an unexplained difference (a divergence, with a
//! reproducer), and a known issue (wasmi's inverted `select`) is explained only by
//! re-running the case rewritten around it.

use std::path::PathBuf;

use harness::fuzz::driver::{FuzzOptions, Summary, run_input};
use harness::fuzz::input::seed_bytes;
use harness::fuzz::observe::{Observation, Outcome, Val};
use harness::fuzz::plan::Plan;
use harness::fuzz::shape::Shape;
use harness::fuzz::{Oracle, RuntimeSubject, Subject};
use runtime::Strategy;

/// A reference that misreports the first value any export call returns.
struct Planted {
    inner: Box<dyn Subject>,
    name: String,
}

impl Subject for Planted {
    fn name(&self) -> &str {
        &self.name
    }
    fn observe(&self, wasm: &[u8], shape: &Shape, plan: &Plan) -> Observation {
        let mut obs = self.inner.observe(wasm, shape, plan);
        obs.engine = self.name.clone();
        for s in obs.steps.iter_mut().skip(1) {
            if let Outcome::Returned(vals) = &mut s.outcome
                && let Some(v) = vals.first_mut()
            {
                *v = match v.clone() {
                    Val::I32(x) => Val::I32(x ^ 1),
                    Val::I64(x) => Val::I64(x ^ 1),
                    Val::F32(x) => Val::F32(x ^ 1),
                    Val::F64(x) => Val::F64(x ^ 1),
                    Val::V128(x) => Val::V128(x ^ 1),
                    _ => continue,
                };
                break;
            }
        }
        obs
    }
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("harness-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs seeds `0..n` through `oracle` as `harness fuzz` does.
fn run(oracle: &Oracle, n: u64, out: &std::path::Path) -> Summary {
    let opts = FuzzOptions {
        out: out.to_path_buf(),
        ..FuzzOptions::default()
    };
    let mut summary = Summary::default();
    for seed in 0..n {
        run_input(
            oracle,
            &seed_bytes(seed),
            &format!("seed-{seed}"),
            &opts,
            &mut summary,
        )
        .expect("the driver runs");
    }
    summary
}

/// Our engines agree, the reference (named `reference_name`, so that its known issues
/// are tried first) lies: every such case must be an unexplained divergence.
fn assert_planted_fails(inner: Box<dyn Subject>, reference_name: &str) {
    let oracle = Oracle::ours().expect("engines").with(Box::new(Planted {
        inner,
        name: reference_name.to_string(),
    }));
    let out = out_dir(&format!("planted-{reference_name}"));
    let summary = run(&oracle, 40, &out);
    let stats = &summary.stats;
    assert!(stats.reference_only > 0, "the lie was never seen: {stats}");
    assert_eq!(
        stats.reference_unexplained, stats.reference_only,
        "a planted lie was explained away: {stats}"
    );
    assert_eq!(stats.divergences, stats.reference_unexplained, "{stats}");
    assert_eq!(summary.divergences.len() as u64, stats.divergences);
    for (label, text, folder) in &summary.divergences {
        let folder = folder.as_ref().expect("a reproducer folder");
        assert!(folder.join("case.wasm").exists(), "{label}: no case.wasm");
        assert!(text.contains(reference_name), "{label}: {text}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_wrong_reference_answer_fails_the_run() {
    let native = RuntimeSubject::new(Strategy::Native).expect("engine");
    assert_planted_fails(Box::new(native), "planted");
}

/// The same lie under wasmi's name: its known issues are tried, and none explains it.
#[test]
fn known_issues_do_not_explain_a_planted_lie() {
    let native = RuntimeSubject::new(Strategy::Native).expect("engine");
    assert_planted_fails(Box::new(native), "wasmi");
}

#[cfg(feature = "reference-wasmtime")]
#[test]
fn a_wrong_wasmtime_answer_fails_the_run() {
    let wasmtime =
        harness::fuzz::reference_wasmtime::WasmtimeSubject::new().expect("wasmtime engine");
    assert_planted_fails(Box::new(wasmtime), "wasmtime");
}

/// Honest wasmtime agrees with our engines on a few hundred seeds, except where a known
/// issue explains it.
#[cfg(feature = "reference-wasmtime")]
#[test]
fn wasmtime_agrees_with_our_engines() {
    let wasmtime =
        harness::fuzz::reference_wasmtime::WasmtimeSubject::new().expect("wasmtime engine");
    let oracle = Oracle::ours().expect("engines").with(Box::new(wasmtime));
    let out = out_dir("wasmtime-agrees");
    let summary = run(&oracle, 300, &out);
    assert_eq!(summary.stats.divergences, 0, "{}", summary.stats);
    assert!(summary.stats.instantiated > 200, "{}", summary.stats);
    let _ = std::fs::remove_dir_all(&out);
}

/// wasmi 2.0.0's inverted `select`: a division guarded by `select(1, x, x == 0)` traps
/// on wasmi for x = 0 and returns the wrong value otherwise; re-run with the condition
/// through a global, every engine agrees, so the case is explained by that issue.
#[cfg(feature = "reference-wasmi")]
#[test]
fn the_select_rewrite_explains_wasmis_bug() {
    use harness::fuzz::known::{Triage, triage, wat_to_wasm};
    use harness::fuzz::{Case, Verdict};
    let wasm = wat_to_wasm(
        r#"(module
          (global (mut i32) (i32.const 2000))
          (func (export "guarded") (param i32 i32) (result i32)
            local.get 0
            i32.const 1
            local.get 1
            local.get 1
            i32.eqz
            select
            i32.div_s))"#,
    )
    .expect("valid text");
    let oracle = Oracle::ours()
        .expect("engines")
        .with(Box::new(harness::fuzz::reference::WasmiSubject::new()));
    let mut found = false;
    // The plan draws the arguments: some plan bytes give a differing call.
    for seed in 0..64u64 {
        let case = Case {
            wasm: wasm.clone(),
            plan_bytes: seed_bytes(seed)[..64].to_vec(),
        };
        let checked = oracle.check(&case).expect("parses");
        if let Verdict::ReferenceOnly(_) = checked.verdict {
            assert_eq!(
                triage(&oracle, &case, &checked),
                Triage::Explained("wasmi select bug".into())
            );
            found = true;
        }
    }
    assert!(found, "wasmi never showed its select bug");
}

/// A reference does not meter our engine fuel: where a call back inside a host call ran
/// out of it on ours, the reference's went on (and may end otherwise, e.g. at the fuel
/// global's `unreachable`). That stops the comparison there, as at an export call; between
/// our own engines the same difference is a divergence.
#[test]
fn a_call_back_out_of_fuel_stops_the_comparison_with_a_reference() {
    use harness::fuzz::compare::{Verdict, compare};
    use harness::fuzz::effects::Effected;
    use harness::fuzz::observe::{HostCall, State, Step};
    use runtime::TrapKind;
    let obs = |engine: &str, kind: TrapKind| Observation {
        engine: engine.into(),
        compile: Ok(()),
        steps: vec![Step {
            export: "f".into(),
            args: vec![],
            outcome: Outcome::Returned(vec![]),
            host_calls: vec![HostCall {
                func: "host.h".into(),
                args: vec![],
                effects: vec![Effected::Called {
                    export: "g".into(),
                    args: vec![],
                    outcome: Outcome::Trap(kind),
                }],
            }],
            state: State::default(),
        }],
    };
    let ours = obs("native", TrapKind::OutOfFuel);
    let wasmi = obs("wasmi", TrapKind::Unreachable);
    assert!(matches!(
        compare(&ours, &wasmi),
        Verdict::Exhausted { step: 0 }
    ));
    let interp = obs("interp", TrapKind::Unreachable);
    assert!(matches!(compare(&ours, &interp), Verdict::Diverged(_)));
}
