//! Exception handling (Wasm 3.0): tags, `throw`, `try_table`, exceptions crossing
//! frames, instances and the host boundary in both directions, on both engines.

use runtime::{
    Caller, Config, Error, Exception, ExternKind, FuncType, HostModuleBuilder, Store, Strategy,
    Tag, TrapKind, ValType, Value, WasmFeatures,
};

use crate::common::{engine_with, instantiate, module};

on_both_engines!(
    a_host_exception_caught_by_catch_ref_and_rethrown_escapes_unchanged,
    exnref_values_cross_the_host_boundary,
    an_uncaught_exception_reaches_the_embedder_with_its_tag_and_values,
    a_host_exception_is_caught_by_wasm_with_its_payload,
    catch_all_catches_any_tag_and_clauses_are_tried_in_order,
    exceptions_cross_call_indirect_and_instances,
    a_return_call_leaves_the_try_table_of_the_frame_it_replaces,
    a_trap_is_never_caught,
    the_embedder_rethrows_an_uncaught_exception_into_wasm,
    each_instantiation_defines_new_tags,
    a_tag_import_must_have_the_same_type,
    a_tag_reexported_by_a_host_module_is_the_same_tag,
);

fn store(strategy: Strategy) -> Store {
    let features = WasmFeatures::WASM2 | WasmFeatures::EXCEPTIONS | WasmFeatures::TAIL_CALL;
    Store::new(&engine_with(Config::new(strategy).features(features)))
}

fn exception_of(r: runtime::Result<Vec<Value>>) -> Exception {
    match r {
        Err(Error::Exception(e)) => e,
        other => panic!("expected an uncaught exception, got {other:?}"),
    }
}

fn i32_i64_tag(store: &Store) -> Tag {
    Tag::new(store, FuncType::new([ValType::I32, ValType::I64], [])).unwrap()
}

fn an_uncaught_exception_reaches_the_embedder_with_its_tag_and_values(strategy: Strategy) {
    let store = store(strategy);
    let inst = instantiate(
        &store,
        r#"(module
            (tag $e (export "e") (param i32 i64))
            (func $inner (param i32) (throw $e (local.get 0) (i64.const -3)))
            (func (export "f") (param i32) (result i32)
                (call $inner (local.get 0)) (i32.const 0)))"#,
        None,
    );
    let f = inst.get_func(&store, "f").unwrap();
    let result = f.call(&store, &[Value::I32(7)]);
    let e = result.as_ref().unwrap_err();
    assert_eq!(e.trap_kind(), None, "an exception is not a trap");
    assert_eq!(e.to_string(), "uncaught exception");
    let exn = exception_of(result);
    assert_eq!(exn.tag(&store).unwrap(), inst.get_tag(&store, "e").unwrap());
    assert_eq!(
        exn.values(&store).unwrap(),
        vec![Value::I32(7), Value::I64(-3)]
    );
    let ty = exn.tag(&store).unwrap().ty(&store).unwrap();
    assert_eq!(ty, FuncType::new([ValType::I32, ValType::I64], []));
    assert_eq!(
        inst.get_export(&store, "e").unwrap().kind(),
        ExternKind::Tag
    );
}

/// Host module `host` with tag `e` (i32, i64) and function `throw(i32)`, which throws
/// `e` with its argument and 1000 + its argument.
fn host_thrower(store: &Store) -> Tag {
    let tag = i32_i64_tag(store);
    HostModuleBuilder::new("host")
        .export("e", runtime::Extern::Tag(tag))
        .func(
            "throw",
            FuncType::new([ValType::I32], []),
            move |caller: &mut Caller<'_>, args: &[Value], _: &mut [Value]| {
                let x = args[0].i32().unwrap();
                let exn =
                    Exception::new(caller, &tag, &[Value::I32(x), Value::I64(1000 + x as i64)])?;
                Err(Error::Exception(exn))
            },
        )
        .instantiate(store)
        .unwrap();
    tag
}

fn a_host_exception_is_caught_by_wasm_with_its_payload(strategy: Strategy) {
    let store = store(strategy);
    host_thrower(&store);
    let inst = instantiate(
        &store,
        r#"(module
            (tag $e (import "host" "e") (param i32 i64))
            (func $throw (import "host" "throw") (param i32))
            (func (export "f") (param i32) (result i64) (local $y i64)
                (block $h (result i32 i64)
                    (try_table (catch $e $h) (call $throw (local.get 0)))
                    (return (i64.const -1)))
                (local.set $y) (i64.extend_i32_u) (local.get $y) (i64.add)))"#,
        None,
    );
    let f = inst.get_func(&store, "f").unwrap();
    assert_eq!(
        f.call(&store, &[Value::I32(5)]).unwrap(),
        vec![Value::I64(1010)]
    );
    // Without a handler it reaches the embedder as the host made it.
    let uncaught = instantiate(
        &store,
        r#"(module
            (func $throw (import "host" "throw") (param i32))
            (func (export "g") (call $throw (i32.const 2))))"#,
        None,
    );
    let exn = exception_of(uncaught.get_func(&store, "g").unwrap().call(&store, &[]));
    assert_eq!(
        exn.values(&store).unwrap(),
        vec![Value::I32(2), Value::I64(1002)]
    );
}

fn catch_all_catches_any_tag_and_clauses_are_tried_in_order(strategy: Strategy) {
    let store = store(strategy);
    host_thrower(&store);
    let inst = instantiate(
        &store,
        r#"(module
            (func $throw (import "host" "throw") (param i32))
            (tag $mine)
            (func (export "f") (param i32) (result i32)
                (block $all
                    (block $m
                        (try_table (catch $mine $m) (catch_all $all)
                            (if (local.get 0)
                                (then (call $throw (i32.const 1)))
                                (else (throw $mine))))
                        (return (i32.const 0)))
                    (return (i32.const 1)))
                (i32.const 2)))"#,
        None,
    );
    let f = inst.get_func(&store, "f").unwrap();
    assert_eq!(
        f.call(&store, &[Value::I32(0)]).unwrap(),
        vec![Value::I32(1)]
    );
    assert_eq!(
        f.call(&store, &[Value::I32(1)]).unwrap(),
        vec![Value::I32(2)]
    );
}

fn exceptions_cross_call_indirect_and_instances(strategy: Strategy) {
    let store = store(strategy);
    instantiate(
        &store,
        r#"(module
            (tag $e (export "e") (param i32))
            (func (export "throw") (param i32) (throw $e (local.get 0))))"#,
        Some("thrower"),
    );
    let inst = instantiate(
        &store,
        r#"(module
            (tag $e (import "thrower" "e") (param i32))
            (func $throw (import "thrower" "throw") (param i32))
            (func $local (param i32) (throw $e (i32.mul (local.get 0) (i32.const 10))))
            (table funcref (elem $throw $local))
            (func (export "f") (param i32 i32) (result i32)
                (block $h (result i32)
                    (try_table (catch $e $h)
                        (call_indirect (param i32) (local.get 1) (local.get 0)))
                    (i32.const -1))))"#,
        None,
    );
    let f = inst.get_func(&store, "f").unwrap();
    let call = |which: i32| f.call(&store, &[Value::I32(which), Value::I32(4)]).unwrap();
    assert_eq!(call(0), vec![Value::I32(4)]);
    assert_eq!(call(1), vec![Value::I32(40)]);
}

fn a_return_call_leaves_the_try_table_of_the_frame_it_replaces(strategy: Strategy) {
    let store = store(strategy);
    host_thrower(&store);
    let inst = instantiate(
        &store,
        r#"(module
            (tag $e (import "host" "e") (param i32 i64))
            (func $host (import "host" "throw") (param i32))
            (func $wasm (param i32) (throw $e (local.get 0) (i64.const 0)))
            (table funcref (elem $wasm $host))
            ;; The try_table around each tail call is gone once the callee runs: were
            ;; it to catch, the call would trap.
            (func $tail (param i32)
                (block $h
                    (try_table (catch_all $h)
                        (if (i32.eqz (local.get 0))
                            (then (return_call $wasm (i32.const 1))))
                        (if (i32.eq (local.get 0) (i32.const 1))
                            (then (return_call $host (i32.const 2))))
                        (return_call_indirect (param i32) (i32.const 3) (i32.const 0)))
                    (return))
                (unreachable))
            (func (export "f") (param i32) (result i32)
                (block $h (result i32 i64)
                    (try_table (catch $e $h) (call $tail (local.get 0)))
                    (unreachable))
                (drop)))"#,
        None,
    );
    let f = inst.get_func(&store, "f").unwrap();
    for (arg, payload) in [(0, 1), (1, 2), (2, 3)] {
        assert_eq!(
            f.call(&store, &[Value::I32(arg)]).unwrap(),
            vec![Value::I32(payload)],
            "caught by the caller's try_table, with the payload, not by $tail's"
        );
    }
}

fn a_trap_is_never_caught(strategy: Strategy) {
    let store = store(strategy);
    let inst = instantiate(
        &store,
        r#"(module
            (func $div (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
            (func (export "f") (param i32) (result i32)
                (block $h
                    (try_table (result i32) (catch_all $h) (call $div (local.get 0)))
                    (return))
                (i32.const -1))
            (func (export "g")
                (block $h (try_table (catch_all $h) (unreachable)))))"#,
        None,
    );
    let f = inst.get_func(&store, "f").unwrap();
    assert_eq!(
        f.call(&store, &[Value::I32(1)]).unwrap(),
        vec![Value::I32(1)]
    );
    let trap = f.call(&store, &[Value::I32(0)]).unwrap_err();
    assert_eq!(trap.trap_kind(), Some(TrapKind::IntegerDivideByZero));
    let g = inst.get_func(&store, "g").unwrap();
    assert_eq!(
        g.call(&store, &[]).unwrap_err().trap_kind(),
        Some(TrapKind::Unreachable)
    );
}

fn the_embedder_rethrows_an_uncaught_exception_into_wasm(strategy: Strategy) {
    let store = store(strategy);
    let thrower = instantiate(
        &store,
        r#"(module
            (tag $e (export "e") (param i32))
            (func (export "throw") (throw $e (i32.const 42))))"#,
        Some("m"),
    );
    let exn = exception_of(thrower.get_func(&store, "throw").unwrap().call(&store, &[]));
    HostModuleBuilder::new("host")
        .func(
            "rethrow",
            FuncType::new([], []),
            move |_: &mut Caller<'_>, _: &[Value], _: &mut [Value]| Err(Error::Exception(exn)),
        )
        .instantiate(&store)
        .unwrap();
    let catcher = instantiate(
        &store,
        r#"(module
            (tag $e (import "m" "e") (param i32))
            (func $rethrow (import "host" "rethrow"))
            (func (export "f") (result i32)
                (block $h (result i32)
                    (try_table (catch $e $h) (call $rethrow))
                    (i32.const -1))))"#,
        None,
    );
    let f = catcher.get_func(&store, "f").unwrap();
    assert_eq!(f.call(&store, &[]).unwrap(), vec![Value::I32(42)]);
}

fn each_instantiation_defines_new_tags(strategy: Strategy) {
    let store = store(strategy);
    let src = r#"(module
        (tag $e (export "e"))
        (func (export "throw") (throw $e))
        (func (export "catch") (param funcref) (result i32)
            (table.set 0 (i32.const 0) (local.get 0))
            (block $h
                (try_table (catch $e $h) (call_indirect (i32.const 0)))
                (return (i32.const 0)))
            (i32.const 1))
        (table 1 funcref))"#;
    let m = module(store.engine(), src);
    let a = runtime::Instance::new(&store, &m, None).unwrap();
    let b = runtime::Instance::new(&store, &m, None).unwrap();
    assert_ne!(a.get_tag(&store, "e"), b.get_tag(&store, "e"));
    let throw_a = a.get_func(&store, "throw").unwrap();
    let throw_b = b.get_func(&store, "throw").unwrap();
    let catch_a = a.get_func(&store, "catch").unwrap();
    let arg = |f| [Value::FuncRef(Some(f))];
    assert_eq!(
        catch_a.call(&store, &arg(throw_a)).unwrap(),
        vec![Value::I32(1)]
    );
    let escaped = exception_of(catch_a.call(&store, &arg(throw_b)));
    assert_eq!(
        escaped.tag(&store).unwrap(),
        b.get_tag(&store, "e").unwrap()
    );
}

fn a_tag_import_must_have_the_same_type(strategy: Strategy) {
    let store = store(strategy);
    host_thrower(&store);
    let m = module(
        store.engine(),
        r#"(module (tag (import "host" "e") (param i64 i32)))"#,
    );
    let err = runtime::Instance::new(&store, &m, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "import tag[host.e]: incompatible import type: tag type mismatch: (i64,i32) -> () != (i32,i64) -> ()"
    );
    let m = module(
        store.engine(),
        r#"(module (tag (import "host" "throw") (param i32)))"#,
    );
    let err = runtime::Instance::new(&store, &m, None).unwrap_err();
    assert!(err.to_string().contains("is a func, not a tag"), "{err}");
    assert!(Tag::new(&store, FuncType::new([], [ValType::I32])).is_err());
}

fn a_tag_reexported_by_a_host_module_is_the_same_tag(strategy: Strategy) {
    let store = store(strategy);
    let tag = host_thrower(&store);
    let inst = instantiate(
        &store,
        r#"(module (tag $e (import "host" "e") (param i32 i64)) (export "again" (tag $e)))"#,
        None,
    );
    assert_eq!(inst.get_tag(&store, "again"), Some(tag));
}

/// The issue's scenario: a host function throws, Wasm catches with `catch_ref`, rethrows
/// with `throw_ref`, and the embedder gets the very exception the host made, with the
/// same tag and values.
fn a_host_exception_caught_by_catch_ref_and_rethrown_escapes_unchanged(strategy: Strategy) {
    let store = store(strategy);
    let tag = host_thrower(&store);
    let inst = instantiate(
        &store,
        r#"(module
            (tag $e (import "host" "e") (param i32 i64))
            (func $throw (import "host" "throw") (param i32))
            (global $seen (export "seen") (mut i64) (i64.const 0))
            (func (export "f") (param i32) (local $exn exnref)
                (block $h (result i32 i64 exnref)
                    (try_table (catch_ref $e $h) (call $throw (local.get 0)))
                    (return))
                (local.set $exn)
                (global.set $seen)
                (drop)
                (throw_ref (local.get $exn))))"#,
        None,
    );
    let f = inst.get_func(&store, "f").unwrap();
    let exn = exception_of(f.call(&store, &[Value::I32(9)]));
    assert_eq!(exn.tag(&store).unwrap(), tag);
    assert_eq!(
        exn.values(&store).unwrap(),
        vec![Value::I32(9), Value::I64(1009)]
    );
    let seen = inst
        .get_global(&store, "seen")
        .unwrap()
        .get(&store)
        .unwrap();
    assert_eq!(seen, Value::I64(1009), "the handler ran before the rethrow");
}

/// An exnref is a value like a funcref: Wasm returns one to the embedder, the embedder
/// passes it back, and `throw_ref` of it throws the same exception; null traps.
fn exnref_values_cross_the_host_boundary(strategy: Strategy) {
    let store = store(strategy);
    let inst = instantiate(
        &store,
        r#"(module
            (tag $e (export "e") (param i32))
            (func (export "catch") (param i32) (result exnref)
                (block $h (result exnref)
                    (try_table (catch_all_ref $h) (throw $e (local.get 0)))
                    (unreachable)))
            (func (export "rethrow") (param exnref) (throw_ref (local.get 0))))"#,
        None,
    );
    let catch = inst.get_func(&store, "catch").unwrap();
    let rethrow = inst.get_func(&store, "rethrow").unwrap();
    let got = catch.call(&store, &[Value::I32(3)]).unwrap();
    let [Value::ExnRef(Some(exn))] = got[..] else {
        panic!("expected a non-null exnref, got {got:?}");
    };
    assert_eq!(exn.values(&store).unwrap(), vec![Value::I32(3)]);
    assert_eq!(exn.tag(&store).unwrap(), inst.get_tag(&store, "e").unwrap());
    let again = exception_of(rethrow.call(&store, &[Value::ExnRef(Some(exn))]));
    assert_eq!(again, exn, "throw_ref throws the same exception object");
    let made = Exception::new(
        &store,
        &inst.get_tag(&store, "e").unwrap(),
        &[Value::I32(5)],
    )
    .unwrap();
    let thrown = exception_of(rethrow.call(&store, &[Value::ExnRef(Some(made))]));
    assert_eq!(thrown.values(&store).unwrap(), vec![Value::I32(5)]);
    let null = rethrow.call(&store, &[Value::ExnRef(None)]).unwrap_err();
    assert_eq!(null.trap_kind(), Some(TrapKind::NullExceptionReference));
    // An exception of another store is refused at the boundary.
    let other = self::store(strategy);
    let foreign = Exception::new(
        &other,
        &i32_i64_tag(&other),
        &[Value::I32(1), Value::I64(2)],
    )
    .unwrap();
    assert!(matches!(
        rethrow.call(&store, &[Value::ExnRef(Some(foreign))]),
        Err(Error::Usage(_))
    ));
}
