//! The oracle must be able to fail: one engine is wrapped so that it misreports one
//! observable, and the oracle has to report exactly that divergence.

use harness::fuzz::input::seed_bytes;
use harness::fuzz::observe::{AnyVal, FuncId, Observation, Outcome, Val};
use harness::fuzz::plan::Plan;
use harness::fuzz::shape::Shape;
use harness::fuzz::{Case, Oracle, RuntimeSubject, Subject, Verdict};
use runtime::Strategy;

/// Changes one observable of an observation; returns the step it changed, if any.
type Perturb = fn(&mut Observation) -> Option<usize>;

/// The native engine, misreporting what `perturb` changes.
struct Lying {
    inner: RuntimeSubject,
    perturb: Perturb,
}

impl Subject for Lying {
    fn name(&self) -> &str {
        "lying-native"
    }
    fn observe(&self, wasm: &[u8], shape: &Shape, plan: &Plan) -> Observation {
        let mut obs = self.inner.observe(wasm, shape, plan);
        obs.engine = self.name().to_string();
        (self.perturb)(&mut obs);
        obs
    }
}

fn flip(v: &mut Val) {
    *v = match v.clone() {
        Val::I32(x) => Val::I32(x ^ 1),
        Val::I64(x) => Val::I64(x ^ 1),
        Val::F32(x) => Val::F32(x ^ 1),
        Val::F64(x) => Val::F64(x ^ 1),
        Val::V128(x) => Val::V128(x ^ 1),
        Val::FuncRef(None) => Val::FuncRef(Some(FuncId::Defined(9999))),
        Val::FuncRef(Some(_)) => Val::FuncRef(None),
        Val::ExternRef(None) => Val::ExternRef(Some(77)),
        Val::ExternRef(Some(_)) => Val::ExternRef(None),
        Val::ExnRef(e) => Val::ExnRef(!e),
        Val::AnyRef(None) => Val::AnyRef(Some(AnyVal::I31(1))),
        Val::AnyRef(Some(_)) | Val::ExternAny(_) => Val::AnyRef(None),
    };
}

fn result(o: &mut Observation) -> Option<usize> {
    for (i, s) in o.steps.iter_mut().enumerate().skip(1) {
        if let Outcome::Returned(vals) = &mut s.outcome
            && let Some(v) = vals.first_mut()
        {
            flip(v);
            return Some(i);
        }
    }
    None
}

/// Flips the top bit of a v128 (the last lane's sign): all 128 bits must compare.
fn flip_v128<'a>(mut vals: impl Iterator<Item = &'a mut Val>) -> Option<()> {
    match vals.find(|v| matches!(v, Val::V128(_)))? {
        Val::V128(x) => *x ^= 1 << 127,
        _ => return None,
    }
    Some(())
}

fn v128_result(o: &mut Observation) -> Option<usize> {
    for (i, s) in o.steps.iter_mut().enumerate().skip(1) {
        if let Outcome::Returned(vals) = &mut s.outcome
            && flip_v128(vals.iter_mut()).is_some()
        {
            return Some(i);
        }
    }
    None
}

fn v128_global(o: &mut Observation) -> Option<usize> {
    let s = o.steps.get_mut(1)?;
    flip_v128(s.state.globals.iter_mut().map(|(_, v)| v))?;
    Some(1)
}

fn trap_kind(o: &mut Observation) -> Option<usize> {
    for (i, s) in o.steps.iter_mut().enumerate().skip(1) {
        if let Outcome::Trap(k) = &mut s.outcome {
            *k = if *k == runtime::TrapKind::Unreachable {
                runtime::TrapKind::IntegerOverflow
            } else {
                runtime::TrapKind::Unreachable
            };
            return Some(i);
        }
    }
    None
}

fn global(o: &mut Observation) -> Option<usize> {
    // Skip the fuel global: it is refilled before each call.
    let s = o.steps.get_mut(1)?;
    let (_, v) = s.state.globals.iter_mut().find(|(n, _)| n != "__fuel")?;
    flip(v);
    Some(1)
}

fn memory_byte(o: &mut Observation) -> Option<usize> {
    let s = o.steps.get_mut(1)?;
    let (_, m) = s.state.memories.iter_mut().find(|(_, m)| m.len() > 100)?;
    let mut bytes = m.to_vec();
    bytes[100] ^= 0x40;
    *m = bytes.into();
    Some(1)
}

fn table_element(o: &mut Observation) -> Option<usize> {
    let s = o.steps.get_mut(1)?;
    let (_, t) = s.state.tables.iter_mut().find(|(_, t)| !t.is_empty())?;
    flip(t.last_mut()?);
    Some(1)
}

/// One unit of engine fuel more left after the first export call.
fn fuel_left(o: &mut Observation) -> Option<usize> {
    let s = o.steps.get_mut(1)?;
    let fuel = s.state.fuel.as_mut()?;
    *fuel += 1;
    Some(1)
}

/// A field or element of a GC object read after a call differs, or (for an object
/// with none) its length.
fn gc_object(o: &mut Observation) -> Option<usize> {
    for (i, s) in o.steps.iter_mut().enumerate() {
        if let Some(obj) = s.state.objects.first_mut() {
            match obj.values.first_mut() {
                Some(v) => flip(v),
                None => obj.len += 1,
            }
            return Some(i);
        }
    }
    None
}

fn host_call_arg(o: &mut Observation) -> Option<usize> {
    for (i, s) in o.steps.iter_mut().enumerate() {
        for c in &mut s.host_calls {
            if let Some(a) = c.args.first_mut() {
                flip(a);
                return Some(i);
            }
        }
    }
    None
}

/// Finds a seed where `perturb` applies and checks the oracle names `observable` at
/// the changed step.
fn assert_caught(perturb: Perturb, observable: &str) {
    let oracle = Oracle {
        subjects: vec![
            Box::new(RuntimeSubject::new(Strategy::Interpreter).unwrap()),
            Box::new(Lying {
                inner: RuntimeSubject::new(Strategy::Native).unwrap(),
                perturb,
            }),
        ],
    };
    let honest = Oracle::ours().unwrap();
    for seed in 0..500u64 {
        let Some(case) = Case::from_input(&seed_bytes(seed)) else {
            continue;
        };
        let checked = oracle.check(&case).unwrap();
        // Which step the lie changed: the same perturbation on the honest observation.
        let Some(step) = perturb(&mut checked.observations[0].clone()) else {
            continue;
        };
        // The case must agree without the lie (and not stop at exhaustion before it).
        let truth = honest.check(&case).unwrap();
        if truth.verdict != Verdict::Agree {
            continue;
        }
        match &checked.verdict {
            Verdict::Diverged(d) => {
                assert!(
                    d.observable.starts_with(observable),
                    "seed {seed}: expected a divergence in {observable}, got {d}"
                );
                assert_eq!(d.step, step, "seed {seed}: wrong step in {d}");
                assert_eq!(d.right.0, "lying-native");
                let text = d.to_string();
                assert!(text.contains(&d.export), "{text}");
                return;
            }
            other => panic!("seed {seed}: the lie was not caught: {other:?}"),
        }
    }
    panic!("no seed in 0..500 has a {observable} to perturb");
}

#[test]
fn catches_a_wrong_result() {
    assert_caught(result, "outcome");
}

#[test]
fn catches_a_wrong_v128_result() {
    assert_caught(v128_result, "outcome");
}

#[test]
fn catches_a_wrong_v128_global() {
    assert_caught(v128_global, "global");
}

#[test]
fn catches_a_wrong_trap_kind() {
    assert_caught(trap_kind, "outcome");
}

#[test]
fn catches_a_wrong_global() {
    assert_caught(global, "global");
}

#[test]
fn catches_a_wrong_memory_byte() {
    assert_caught(memory_byte, "memory");
}

#[test]
fn catches_a_wrong_table_element() {
    assert_caught(table_element, "table");
}

#[test]
fn catches_a_wrong_fuel_left() {
    assert_caught(fuel_left, "fuel left");
}

#[test]
fn catches_a_wrong_gc_object() {
    assert_caught(gc_object, "GC object");
}

#[test]
fn catches_a_wrong_host_call_argument() {
    assert_caught(host_call_arg, "host calls");
}

#[test]
fn honest_engines_agree_and_reproducers_are_written() {
    let oracle = Oracle::ours().unwrap();
    let case = Case::from_input(&seed_bytes(1)).unwrap();
    let checked = oracle.check(&case).unwrap();
    assert!(matches!(
        checked.verdict,
        Verdict::Agree | Verdict::Exhausted { .. }
    ));
    // A divergence report writes .wasm, .wat, .plan and report.txt.
    let lying = Oracle {
        subjects: vec![
            Box::new(RuntimeSubject::new(Strategy::Interpreter).unwrap()),
            Box::new(Lying {
                inner: RuntimeSubject::new(Strategy::Native).unwrap(),
                perturb: |o| {
                    o.steps.first_mut()?.outcome = Outcome::Exit(99);
                    Some(0)
                },
            }),
        ],
    };
    let checked = lying.check(&case).unwrap();
    let Verdict::Diverged(d) = &checked.verdict else {
        panic!("exit code lie not caught");
    };
    assert!(d.to_string().contains("exit(99)"), "{d}");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-oracle-repro");
    let text = harness::fuzz::repro::report("test", &case, &checked, d);
    let folder = harness::fuzz::repro::write(&dir, "exit-lie", &case, &text).unwrap();
    for f in ["case.wasm", "case.wat", "case.plan", "report.txt"] {
        assert!(folder.join(f).exists(), "{f} missing");
    }
    assert!(
        std::fs::read_to_string(folder.join("case.wat"))
            .unwrap()
            .contains("(module")
    );
}

/// `--minimize` on a real divergence: the lying engine's wrong result survives shrinking,
/// and the module wasm-shrink returns is smaller, valid and still diverges.
#[test]
fn minimize_shrinks_a_divergence_and_keeps_it() {
    let lying = || Oracle {
        subjects: vec![
            Box::new(RuntimeSubject::new(Strategy::Interpreter).unwrap()),
            Box::new(Lying {
                inner: RuntimeSubject::new(Strategy::Native).unwrap(),
                perturb: result,
            }),
        ],
    };
    let oracle = lying();
    let case = (0..200u64)
        .filter_map(|seed| Case::from_input(&seed_bytes(seed)))
        .find(|case| {
            // wasm-shrink (wasm-mutate) shrinks modules of Wasm 2.0 (harness/README.md,
            // "Fuzzing").
            let features = harness::fuzz::generate::FEATURES;
            case.wasm.len() > 1000
                && harness::fuzz::features::used(&case.wasm, features).is_empty()
                && matches!(
                    oracle.check(case).map(|c| c.verdict),
                    Some(Verdict::Diverged(_))
                )
        })
        .expect("a seed in 0..200 whose module returns a value");
    let small = harness::fuzz::driver::minimize_with(&case, move || Some(lying())).unwrap();
    eprintln!("minimized {} -> {} bytes", case.wasm.len(), small.len());
    assert!(
        small.len() < case.wasm.len(),
        "not shrunk: {} bytes",
        small.len()
    );
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&small)
        .expect("the shrunk module is valid");
    let min = Case {
        wasm: small,
        plan_bytes: case.plan_bytes.clone(),
    };
    assert!(matches!(
        oracle.check(&min).map(|c| c.verdict),
        Some(Verdict::Diverged(_))
    ));
}

/// Each case runs one configuration of our engines (`plan::Setup`): over a few hundred
/// seeds every combination of fuel and interruptibility occurs, every optimisation
/// level and both register allocators; the fuel left is observed exactly where fuel is metered (so that it is compared
/// there, and the default configuration is fuzzed too).
#[test]
fn cases_cover_every_setup() {
    let honest = Oracle::ours().unwrap();
    let mut seen = std::collections::HashMap::new();
    let mut levels = std::collections::HashMap::new();
    let mut allocators = std::collections::HashMap::new();
    for seed in 0..200u64 {
        let Some(case) = Case::from_input(&seed_bytes(seed)) else {
            continue;
        };
        let checked = honest.check(&case).unwrap();
        let m = checked.plan.setup;
        *seen.entry((m.fuel, m.interruptible)).or_insert(0) += 1;
        *levels.entry(m.opt_level).or_insert(0) += 1;
        *allocators.entry(m.regalloc).or_insert(0) += 1;
        for obs in &checked.observations {
            for step in &obs.steps {
                assert_eq!(
                    step.state.fuel.is_some(),
                    m.fuel,
                    "seed {seed}: fuel left observed iff metered ({m:?}; {} {})",
                    step.export,
                    step.outcome
                );
            }
        }
    }
    assert_eq!(seen.len(), 4, "configurations seen: {seen:?}");
    assert!(seen.values().all(|n| *n >= 25), "too uneven: {seen:?}");
    assert_eq!(levels.len(), 3, "optimisation levels seen: {levels:?}");
    assert!(levels.values().all(|n| *n >= 35), "too uneven: {levels:?}");
    assert_eq!(
        allocators.len(),
        2,
        "register allocators seen: {allocators:?}"
    );
    assert!(
        allocators.values().all(|n| *n >= 60),
        "too uneven: {allocators:?}"
    );
}
