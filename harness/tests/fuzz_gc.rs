//! The oracle compares GC objects structurally (`fuzz/objects.rs`): kind, length and
//! contents, with sharing and cycles mapped between the two stores. Hand-made
//! observations whose object graphs differ must diverge, and a real module's objects
//! must be seen (and agree) on both engines.

use harness::fuzz::compare::{Verdict, compare};
use harness::fuzz::known::wat_to_wasm;
use harness::fuzz::observe::{
    AnyVal, INSTANTIATE, Object, ObjectKind, Observation, Outcome, State, Step, Val,
};
use harness::fuzz::{Case, Oracle};

fn object(kind: ObjectKind, values: Vec<Val>) -> Object {
    Object {
        kind,
        len: values.len() as u32,
        values,
    }
}

fn obj(n: u32) -> Val {
    Val::AnyRef(Some(AnyVal::Object(n)))
}

/// An observation of one call returning `results`, with `objects` seen after it and
/// global `g` holding `global`.
fn observation(engine: &str, results: Vec<Val>, global: Val, objects: Vec<Object>) -> Observation {
    let step = |export: &str, outcome, state| Step {
        export: export.to_string(),
        args: vec![],
        outcome,
        host_calls: vec![],
        state,
    };
    Observation {
        engine: engine.to_string(),
        compile: Ok(()),
        steps: vec![
            step(INSTANTIATE, Outcome::Returned(vec![]), State::default()),
            step(
                "f",
                Outcome::Returned(results),
                State {
                    globals: vec![("g".into(), global)],
                    objects,
                    ..State::default()
                },
            ),
        ],
    }
}

/// The observable the comparison of `a` and `b` diverges in, if it does.
fn diverges_in(a: &Observation, b: &Observation) -> Option<String> {
    match compare(a, b) {
        Verdict::Diverged(d) => {
            assert_eq!(d.step, 1, "{d}");
            Some(d.observable)
        }
        Verdict::Agree => None,
        other => panic!("unexpected verdict {other:?}"),
    }
}

fn s(values: Vec<Val>) -> Object {
    object(ObjectKind::Struct, values)
}

fn a(values: Vec<Val>) -> Object {
    object(ObjectKind::Array, values)
}

#[test]
fn equal_graphs_agree() {
    let graph = || {
        vec![
            s(vec![Val::I32(7), obj(1)]),
            a(vec![obj(0), Val::AnyRef(Some(AnyVal::I31(3)))]),
        ]
    };
    let x = observation("interp", vec![obj(0)], obj(1), graph());
    let y = observation("native", vec![obj(0)], obj(1), graph());
    assert_eq!(diverges_in(&x, &y), None);
}

/// A struct pointing at itself against two structs pointing at each other: unrolled,
/// both are endless chains of one-field structs; only the mapping tells them apart.
#[test]
fn a_cycle_of_another_length_diverges() {
    let x = observation("interp", vec![obj(0)], Val::I32(0), vec![s(vec![obj(0)])]);
    let y = observation(
        "native",
        vec![obj(0)],
        Val::I32(0),
        vec![s(vec![obj(1)]), s(vec![obj(0)])],
    );
    assert_eq!(diverges_in(&x, &y).as_deref(), Some("GC object #0"));
}

/// One array returned twice against two equal arrays.
#[test]
fn lost_sharing_diverges() {
    let x = observation(
        "interp",
        vec![obj(0), obj(0)],
        Val::I32(0),
        vec![a(vec![Val::I32(5)])],
    );
    let y = observation(
        "native",
        vec![obj(0), obj(1)],
        Val::I32(0),
        vec![a(vec![Val::I32(5)]), a(vec![Val::I32(5)])],
    );
    assert_eq!(diverges_in(&x, &y).as_deref(), Some("outcome"));
}

/// Sharing between a result and a global (numbered across the whole step).
#[test]
fn sharing_between_a_result_and_a_global_is_compared() {
    let x = observation("interp", vec![obj(0)], obj(0), vec![s(vec![])]);
    let y = observation("native", vec![obj(0)], obj(1), vec![s(vec![]), s(vec![])]);
    assert_eq!(diverges_in(&x, &y).as_deref(), Some("global g"));
}

#[test]
fn a_different_field_kind_or_length_diverges() {
    let base = || vec![s(vec![Val::I32(1), Val::I64(2)])];
    let x = observation("interp", vec![obj(0)], Val::I32(0), base());
    for other in [
        vec![s(vec![Val::I32(1), Val::I64(3)])],
        vec![a(vec![Val::I32(1), Val::I64(2)])],
        vec![s(vec![Val::I32(1)])],
        vec![s(vec![Val::I32(1), Val::AnyRef(None)])],
    ] {
        let y = observation("native", vec![obj(0)], Val::I32(0), other);
        assert_eq!(diverges_in(&x, &y).as_deref(), Some("GC object #0"));
    }
    // Equal prefixes read, different lengths (a bound on values read cut both).
    let mut longer = base();
    longer[0].len = 3;
    let y = observation("native", vec![obj(0)], Val::I32(0), longer);
    assert_eq!(diverges_in(&x, &y).as_deref(), Some("GC object #0"));
}

/// A module that builds a cycle and shares an object between a global and a result:
/// both engines agree, and each shows the graph with its sharing.
#[test]
fn a_modules_object_graph_is_observed_on_both_engines() {
    let wasm = wat_to_wasm(
        r#"(module
          (rec (type $node (struct (field (mut i32)) (field (mut (ref null $node))))))
          (type $pair (array (mut anyref)))
          (global $g (export "g") (mut (ref null $node)) (ref.null $node))
          (func (export "make") (result anyref anyref)
            (local $n (ref null $node))
            (local.set $n (struct.new $node (i32.const 41) (ref.null $node)))
            ;; A cycle: the node points at itself.
            (struct.set $node 1 (local.get $n) (local.get $n))
            (global.set $g (local.get $n))
            (array.new_fixed $pair 2 (local.get $n) (ref.i31 (i32.const 9)))
            (global.get $g)))"#,
    )
    .expect("valid text");
    let case = Case {
        wasm,
        plan_bytes: vec![1; 32],
    };
    let checked = Oracle::ours()
        .expect("engines")
        .check(&case)
        .expect("parses");
    assert_eq!(checked.verdict, Verdict::Agree);
    for o in &checked.observations {
        let call = (o.calls().iter())
            .find(|s| s.export == "make")
            .expect("make is called");
        // The array is reached first (result 0), then the node (its element, which is
        // also result 1 and the global).
        assert_eq!(
            call.outcome,
            Outcome::Returned(vec![obj(0), obj(1)]),
            "{}",
            o.engine
        );
        let g = &call.state.globals.iter().find(|(n, _)| n == "g").unwrap().1;
        assert_eq!(*g, obj(1), "{}", o.engine);
        assert_eq!(
            call.state.objects,
            vec![
                a(vec![obj(1), Val::AnyRef(Some(AnyVal::I31(9)))]),
                s(vec![Val::I32(41), obj(1)]),
            ],
            "{}",
            o.engine
        );
        assert!(call.state.gc_heap_bytes.is_some_and(|b| b > 0));
    }
}
