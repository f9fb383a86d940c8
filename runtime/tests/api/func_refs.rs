//! Typed function references (Wasm 3.0) and the identity of function types across
//! modules (recursion groups, compared iso-recursively), on both engines.

use runtime::{Error, Instance, Module, Store, Strategy, Table, TableType, TrapKind, Value};
use runtime::{FuncType, HeapType, HostModuleBuilder, RefType, ValType};

use crate::common::{call, engine3, instantiate, on_thread, setup3, trap_kind};

on_both_engines!(
    call_ref_calls_the_reference_and_traps_on_null,
    return_call_ref_loops_in_constant_stack,
    br_on_null_and_br_on_non_null_branch_on_nullness,
    ref_as_non_null_traps_on_null,
    a_non_nullable_table_starts_with_its_initialiser,
    imports_match_function_types_by_canonical_identity,
    values_of_typed_reference_types_are_checked_at_the_api,
    recursive_function_types_are_accepted,
    host_functions_take_and_return_typed_references,
);

fn call_ref_calls_the_reference_and_traps_on_null(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (type $binop (func (param i32 i32) (result i32)))
          (func $add (type $binop) (i32.add (local.get 0) (local.get 1)))
          (func $sub (type $binop) (i32.sub (local.get 0) (local.get 1)))
          (table $ops 2 (ref null $binop))
          (elem (table $ops) (i32.const 0) (ref null $binop) (ref.func $add) (ref.func $sub))
          (func (export "apply") (param i32 i32 i32) (result i32)
            (call_ref $binop (local.get 1) (local.get 2) (table.get $ops (local.get 0))))
          (func (export "null") (result i32)
            (call_ref $binop (i32.const 1) (i32.const 2) (ref.null $binop))))"#,
    );
    let apply = |op, a, b| call(&store, &instance, "apply", &[op, a, b]).unwrap();
    assert_eq!(
        apply(Value::I32(0), Value::I32(7), Value::I32(5)),
        [Value::I32(12)]
    );
    assert_eq!(
        apply(Value::I32(1), Value::I32(7), Value::I32(5)),
        [Value::I32(2)]
    );
    assert_eq!(
        trap_kind(call(&store, &instance, "null", &[])),
        TrapKind::NullFunctionReference
    );
}

/// 10,000,000 `return_call_ref`s (a function calling itself through a reference it
/// passes along) on a thread with a 256 KiB stack: each call replaces its caller's frame.
fn return_call_ref_loops_in_constant_stack(strategy: Strategy) {
    on_thread(256 * 1024, move || {
        let (store, instance) = setup3(
            strategy,
            r#"(module
              (type $step (func (param i64 i64 (ref $step)) (result i64)))
              (elem declare func $loop)
              (func $loop (type $step)
                (if (result i64) (i64.eqz (local.get 0))
                  (then (local.get 1))
                  (else
                    (return_call_ref $step
                      (i64.sub (local.get 0) (i64.const 1))
                      (i64.add (local.get 1) (i64.const 2))
                      (local.get 2)
                      (local.get 2)))))
              (func (export "run") (param i64) (result i64)
                (call $loop (local.get 0) (i64.const 0) (ref.func $loop))))"#,
        );
        assert_eq!(
            call(&store, &instance, "run", &[Value::I64(10_000_000)]).unwrap(),
            [Value::I64(20_000_000)]
        );
    });
}

fn br_on_null_and_br_on_non_null_branch_on_nullness(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (type $t (func (result i32)))
          (func $seven (type $t) (i32.const 7))
          (elem declare func $seven)
          (func $pick (param i32) (result (ref null $t))
            (if (result (ref null $t)) (local.get 0)
              (then (ref.func $seven)) (else (ref.null $t))))
          ;; -1 when null, else the callee's result
          (func (export "on_null") (param i32) (result i32)
            (block $null
              (return (call_ref $t (br_on_null $null (call $pick (local.get 0))))))
            (i32.const -1))
          ;; the callee's result when not null, else 100 + the value below it
          (func (export "on_non_null") (param i32) (result i32)
            (block $some (result i32 (ref $t))
              (br_on_non_null $some (i32.const 1) (call $pick (local.get 0)))
              (return (i32.add (i32.const 100))))
            (call_ref $t)
            (i32.add)))"#,
    );
    let run = |name, x| call(&store, &instance, name, &[Value::I32(x)]).unwrap();
    assert_eq!(run("on_null", 0), [Value::I32(-1)]);
    assert_eq!(run("on_null", 1), [Value::I32(7)]);
    assert_eq!(run("on_non_null", 0), [Value::I32(101)]);
    assert_eq!(run("on_non_null", 1), [Value::I32(8)]);
}

fn ref_as_non_null_traps_on_null(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (type $t (func (result i32)))
          (func $one (type $t) (i32.const 1))
          (elem declare func $one)
          (func (export "call") (param i32) (result i32)
            (local $f (ref $t))
            (local.set $f (ref.as_non_null
              (select (result (ref null $t)) (ref.func $one) (ref.null $t) (local.get 0))))
            (call_ref $t (local.get $f))))"#,
    );
    assert_eq!(
        call(&store, &instance, "call", &[Value::I32(1)]).unwrap(),
        [Value::I32(1)]
    );
    assert_eq!(
        trap_kind(call(&store, &instance, "call", &[Value::I32(0)])),
        TrapKind::NullReference
    );
}

/// A table of non-nullable references starts with every element its initialiser
/// expression's value, and stays callable after growing with a non-null value.
fn a_non_nullable_table_starts_with_its_initialiser(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (type $t (func (result i32)))
          (func $nine (type $t) (i32.const 9))
          (func $ten (type $t) (i32.const 10))
          (table $tab (export "tab") 3 (ref $t) (ref.func $nine))
          (elem declare func $ten)
          (func (export "at") (param i32) (result i32)
            (call_ref $t (table.get $tab (local.get 0))))
          (func (export "grow") (result i32)
            (table.grow $tab (ref.func $ten) (i32.const 2))))"#,
    );
    for i in 0..3 {
        assert_eq!(
            call(&store, &instance, "at", &[Value::I32(i)]).unwrap(),
            [Value::I32(9)]
        );
    }
    assert_eq!(
        call(&store, &instance, "grow", &[]).unwrap(),
        [Value::I32(3)]
    );
    assert_eq!(
        call(&store, &instance, "at", &[Value::I32(4)]).unwrap(),
        [Value::I32(10)]
    );
    // The embedder cannot put a null in it either.
    let table = instance.get_table(&store, "tab").unwrap();
    let e = table.set(&store, 0, Value::FuncRef(None)).unwrap_err();
    assert!(e.to_string().contains("is not of type"), "{e}");
    assert!(table.grow(&store, 1, Value::FuncRef(None)).is_err());
    let ty = TableType {
        element: RefType::non_null(HeapType::Func),
        min: 1,
        max: None,
        table64: false,
    };
    assert!(Table::new(&store, ty, Value::FuncRef(None)).is_err());
    // A concrete type the store does not have (the API takes any number): no function
    // is of it, an error rather than a panic (found by the fuzzer).
    let ty = TableType {
        element: RefType::nullable(HeapType::Concrete(9_999)),
        min: 1,
        max: None,
        table64: false,
    };
    let table = Table::new(&store, ty, Value::FuncRef(None)).unwrap();
    let f = instance.get_func(&store, "at").unwrap();
    let e = table.set(&store, 0, Value::FuncRef(Some(f))).unwrap_err();
    assert!(e.to_string().contains("is not of type"), "{e}");
}

/// A function whose parameter is `(ref $t)` is imported by a module declaring the same
/// type in its own words (other indices, other names): accepted, since the types are
/// iso-recursively equal. A declaration whose `$t` is another recursion group (same
/// signatures, different group) is refused with the signature named.
fn imports_match_function_types_by_canonical_identity(strategy: Strategy) {
    let store = Store::new(&engine3(strategy));
    instantiate(
        &store,
        r#"(module
          (type $t (func (param i32) (result i32)))
          (type $apply (func (param (ref $t) i32) (result i32)))
          (func (export "apply") (type $apply)
            (call_ref $t (local.get 1) (local.get 0))))"#,
        Some("lib"),
    );
    let user = instantiate(
        &store,
        r#"(module
          (type $unused (func))
          (type $u (func (param i32) (result i32)))
          (import "lib" "apply" (func $apply (param (ref $u) i32) (result i32)))
          (func $double (type $u) (i32.mul (local.get 0) (i32.const 2)))
          (elem declare func $double)
          (func (export "run") (result i32)
            (call $apply (ref.func $double) (i32.const 21))))"#,
        None,
    );
    assert_eq!(call(&store, &user, "run", &[]).unwrap(), [Value::I32(42)]);

    let err = |wat: &str| -> Error {
        let m = Module::new(store.engine(), wat).unwrap();
        Instance::new(&store, &m, None).expect_err("linked")
    };
    // `$u` in a recursion group of two: a different type from `$t`, a group of one.
    let e = err(r#"(module
          (rec (type $u (func (param i32) (result i32))) (type (func)))
          (import "lib" "apply" (func (param (ref $u) i32) (result i32))))"#);
    let msg = e.to_string();
    assert!(msg.contains("incompatible import type"), "{msg}");
    assert!(msg.contains("signature mismatch"), "{msg}");
    // The function's own type in a recursion group of two: same signature, other type.
    let e = err(r#"(module
          (type $u (func (param i32) (result i32)))
          (rec (type $apply (func (param (ref $u) i32) (result i32))) (type (func)))
          (import "lib" "apply" (func (type $apply))))"#);
    let msg = e.to_string();
    assert!(
        msg.contains("same signature, different recursion groups"),
        "{msg}"
    );
    // A nullable parameter is another type.
    let e = err(r#"(module
          (type $u (func (param i32) (result i32)))
          (import "lib" "apply" (func (param (ref null $u) i32) (result i32))))"#);
    assert!(e.to_string().contains("signature mismatch"), "{e}");
}

/// Arguments of typed reference types are checked against the parameter's type.
fn values_of_typed_reference_types_are_checked_at_the_api(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (type $t (func (result i32)))
          (type $other (func (result i64)))
          (func $f (export "f") (type $t) (i32.const 5))
          (func $g (export "g") (type $other) (i64.const 6))
          (func (export "call") (param (ref $t)) (result i32)
            (call_ref $t (local.get 0))))"#,
    );
    let f = instance.get_func(&store, "f").unwrap();
    let g = instance.get_func(&store, "g").unwrap();
    assert_eq!(
        call(&store, &instance, "call", &[Value::FuncRef(Some(f))]).unwrap(),
        [Value::I32(5)]
    );
    let e = call(&store, &instance, "call", &[Value::FuncRef(None)]).unwrap_err();
    assert!(e.to_string().contains("argument mismatch"), "{e}");
    let e = call(&store, &instance, "call", &[Value::FuncRef(Some(g))]).unwrap_err();
    assert!(e.to_string().contains("argument mismatch"), "{e}");
}

/// Recursion groups of function types are accepted (the rest of GC: `gc_refs.rs`,
/// `gc_objects.rs`).
fn recursive_function_types_are_accepted(strategy: Strategy) {
    let engine = engine3(strategy);
    Module::new(
        &engine,
        r#"(module (rec (type $a (func (param (ref $b)))) (type $b (func (result (ref $a))))))"#,
    )
    .unwrap();
}

/// A host function whose signature has a non-nullable `(ref func)` is imported under
/// that type and called; a null result where the type forbids it is an error, not a
/// value the engines would trust.
fn host_functions_take_and_return_typed_references(strategy: Strategy) {
    let store = Store::new(&engine3(strategy));
    let func_ref = ValType::Ref(RefType::non_null(HeapType::Func));
    HostModuleBuilder::new("host")
        .func(
            "id",
            FuncType::new([func_ref], [func_ref]),
            |_, args, results| {
                results[0] = args[0].clone();
                Ok(())
            },
        )
        .func("bad", FuncType::new([], [func_ref]), |_, _, results| {
            results[0] = Value::FuncRef(None);
            Ok(())
        })
        .instantiate(&store)
        .unwrap();
    let instance = instantiate(
        &store,
        r#"(module
          (import "host" "id" (func $id (param (ref func)) (result (ref func))))
          (import "host" "bad" (func $bad (result (ref func))))
          (func $f)
          (elem declare func $f)
          (func (export "roundtrip") (result i32) (ref.is_null (call $id (ref.func $f))))
          (func (export "bad") (result i32) (ref.is_null (call $bad))))"#,
        None,
    );
    assert_eq!(
        call(&store, &instance, "roundtrip", &[]).unwrap(),
        [Value::I32(0)]
    );
    let e = call(&store, &instance, "bad", &[]).unwrap_err();
    assert!(e.to_string().contains("bad result"), "{e}");
}
