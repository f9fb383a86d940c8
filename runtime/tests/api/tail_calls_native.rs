//! Tail calls (`return_call`, `return_call_indirect`) on the native engine, the only one
//! that implements them (the interpreter refuses them at `Module::new`), hence plain
//! `#[test]`s. A tail call must replace the caller's frame: tens of millions of them
//! run on a thread with a 256 KiB stack, where as many ordinary calls would exhaust it
//! within a few thousand. Traps and host errors inside a tail-called function still
//! reach the host, and the checks of `call_indirect` still come first.

use std::sync::{Arc, Mutex};

use runtime::{
    Caller, Config, Engine, Error, HostModuleBuilder, Instance, Module, Store, Strategy, TrapKind,
    Value, WasmFeatures,
};

use crate::common::{engine_with, on_thread};

const SMALL_STACK: usize = 256 * 1024;

fn tail_call_engine() -> Engine {
    engine_with(
        Config::new(Strategy::Native).features(WasmFeatures::WASM2 | WasmFeatures::TAIL_CALL),
    )
}

fn instantiate(store: &Store, wat: &str, name: Option<&str>) -> Instance {
    let module = Module::new(store.engine(), wat)
        .unwrap_or_else(|e| panic!("module does not compile: {e}\n{wat}"));
    Instance::new(store, &module, name).unwrap_or_else(|e| panic!("instantiation: {e}\n{wat}"))
}

/// Instantiates `wat` and calls its export `name`, on a thread with a 256 KiB stack.
fn run_on_small_stack(
    wat: &'static str,
    name: &'static str,
    args: Vec<Value>,
) -> runtime::Result<Vec<Value>> {
    on_thread(SMALL_STACK, move || {
        let store = Store::new(&tail_call_engine());
        let instance = instantiate(&store, wat, None);
        let f = instance.get_func(&store, name).expect("export");
        f.call(&store, &args)
    })
}

fn trap_kind(r: runtime::Result<Vec<Value>>) -> TrapKind {
    match r {
        Err(e) => e.trap_kind().unwrap_or_else(|| panic!("not a trap: {e}")),
        Ok(v) => panic!("expected a trap, got {v:?}"),
    }
}

#[test]
fn ten_million_self_return_calls_run_on_a_small_stack() {
    let wat = r#"(module
        ;; sum of 1..=n, counted down in tail position
        (func $sum (export "sum") (param $n i64) (param $acc i64) (result i64)
            (if (i64.eqz (local.get $n)) (then (return (local.get $acc))))
            (return_call $sum
                (i64.sub (local.get $n) (i64.const 1))
                (i64.add (local.get $acc) (local.get $n)))))"#;
    let n: i64 = 10_000_000;
    let r = run_on_small_stack(wat, "sum", vec![Value::I64(n), Value::I64(0)]).unwrap();
    assert_eq!(r, vec![Value::I64(n * (n + 1) / 2)]);
}

#[test]
fn ten_million_mutual_return_call_indirects_run_on_a_small_stack() {
    let wat = r#"(module
        (type $pred (func (param i32) (result i32)))
        (table 2 funcref)
        (elem (i32.const 0) $even $odd)
        (func $even (export "even") (param $n i32) (result i32)
            (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
            (return_call_indirect (type $pred)
                (i32.sub (local.get $n) (i32.const 1)) (i32.const 1)))
        (func $odd (param $n i32) (result i32)
            (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
            (return_call_indirect (type $pred)
                (i32.sub (local.get $n) (i32.const 1)) (i32.const 0))))"#;
    let even = |n: i32| run_on_small_stack(wat, "even", vec![Value::I32(n)]).unwrap();
    assert_eq!(even(10_000_000), vec![Value::I32(1)]);
    assert_eq!(even(10_000_001), vec![Value::I32(0)]);
}

/// Callees with more and with fewer parameters than their caller: more than fit in
/// registers (the rest go on the stack, which the tail call must rearrange), and more
/// results than registers return (they go through a return area the caller of the
/// first function provides, which each tail call hands on).
#[test]
fn tail_calls_change_the_parameter_count() {
    let wat = r#"(module
        (type $wide (func (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
                          (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)))
        (table 1 funcref)
        (elem (i32.const 0) $wide)
        ;; one parameter: tail-calls $wide (twelve) while n > 0
        (func $narrow (param $n i64) (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
            (if (i64.eqz (local.get $n))
                (then (return (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4)
                              (i64.const 5) (i64.const 6) (i64.const 7) (i64.const 8)
                              (i64.const 9) (i64.const 10))))
            (return_call_indirect (type $wide)
                (local.get $n) (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4)
                (i64.const 5) (i64.const 6) (i64.const 7) (i64.const 8) (i64.const 9)
                (i64.const 10) (local.get $n) (i32.const 0)))
        ;; twelve parameters: checks that the stack-passed ones arrived intact, then
        ;; tail-calls $narrow (one) with n - 1
        (func $wide (type $wide)
            (if (i64.ne (local.get 11) (local.get 0)) (then unreachable))
            (if (i64.ne (local.get 10) (i64.const 10)) (then unreachable))
            (return_call $narrow (i64.sub (local.get 0) (i64.const 1))))
        (func (export "run") (param i64)
            (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
            (call $narrow (local.get 0))))"#;
    let r = run_on_small_stack(wat, "run", vec![Value::I64(1_000_000)]).unwrap();
    let expected: Vec<Value> = (1..=10).map(Value::I64).collect();
    assert_eq!(r, expected);
}

#[test]
fn return_call_indirect_checks_the_element_first() {
    let wat = r#"(module
        (type $unary (func (param i32) (result i32)))
        (type $nullary (func (result i32)))
        (table 3 funcref)
        (elem (i32.const 0) $unary $nullary)
        (func $unary (type $unary) (local.get 0))
        (func $nullary (type $nullary) (i32.const 7))
        (func (export "call") (param $element i32) (result i32)
            (return_call_indirect (type $unary) (i32.const 5) (local.get $element))))"#;
    let call = |element: i32| {
        let store = Store::new(&tail_call_engine());
        let instance = instantiate(&store, wat, None);
        let f = instance.get_func(&store, "call").expect("export");
        f.call(&store, &[Value::I32(element)])
    };
    assert_eq!(call(0).unwrap(), vec![Value::I32(5)]);
    assert_eq!(trap_kind(call(1)), TrapKind::IndirectCallTypeMismatch);
    assert_eq!(trap_kind(call(2)), TrapKind::UninitializedElement);
    assert_eq!(trap_kind(call(3)), TrapKind::UndefinedElement);
}

/// A host function reached by a tail call, directly and through a table, sees the
/// arguments and returns its results to the Wasm function's caller; its `Caller` is
/// the instance the host entered.
#[test]
fn tail_calls_reach_an_imported_host_function() {
    let store = Store::new(&tail_call_engine());
    let callers: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let seen = callers.clone();
    HostModuleBuilder::new("host")
        .func_wrap(
            "sub",
            move |caller: &mut Caller<'_>, a: i32, b: i32| -> runtime::Result<i32> {
                seen.lock()
                    .unwrap()
                    .push(caller.instance_name().map(str::to_string));
                Ok(a - b)
            },
        )
        .instantiate(&store)
        .unwrap();
    let instance = instantiate(
        &store,
        r#"(module
            (type $binary (func (param i32 i32) (result i32)))
            (import "host" "sub" (func $sub (type $binary)))
            (table 1 funcref)
            (elem (i32.const 0) $sub)
            (func (export "direct") (param i32 i32) (result i32)
                (return_call $sub (local.get 0) (local.get 1)))
            (func (export "indirect") (param i32 i32) (result i32)
                (return_call_indirect (type $binary)
                    (local.get 0) (local.get 1) (i32.const 0)))
            (func (export "nested") (result i32)
                ;; the tail-called host function returns here, into ordinary code
                (i32.add (call 1 (i32.const 50) (i32.const 8)) (i32.const 100))))"#,
        Some("guest"),
    );
    let call = |name: &str, args: &[Value]| {
        let f = instance.get_func(&store, name).expect("export");
        f.call(&store, args).unwrap()
    };
    assert_eq!(
        call("direct", &[Value::I32(10), Value::I32(3)]),
        vec![Value::I32(7)]
    );
    assert_eq!(
        call("indirect", &[Value::I32(3), Value::I32(10)]),
        vec![Value::I32(-7)]
    );
    assert_eq!(call("nested", &[]), vec![Value::I32(142)]);
    let guest = Some("guest".to_string());
    assert_eq!(
        *callers.lock().unwrap(),
        vec![guest.clone(), guest.clone(), guest]
    );
}

/// A function of another instance, reached by a tail call, runs with its own instance's
/// state (here a global).
#[test]
fn tail_calls_reach_another_instances_function() {
    let store = Store::new(&tail_call_engine());
    instantiate(
        &store,
        r#"(module
            (global $base i32 (i32.const 1000))
            (func (export "offset") (param i32) (result i32)
                (i32.add (local.get 0) (global.get $base))))"#,
        Some("lib"),
    );
    let instance = instantiate(
        &store,
        r#"(module
            (import "lib" "offset" (func $offset (param i32) (result i32)))
            (global $base i32 (i32.const 5))
            (func (export "run") (param i32) (result i32)
                (return_call $offset (i32.add (local.get 0) (global.get $base)))))"#,
        None,
    );
    let run = instance.get_func(&store, "run").expect("export");
    assert_eq!(
        run.call(&store, &[Value::I32(1)]).unwrap(),
        vec![Value::I32(1006)]
    );
}

/// A trap in a tail-called function returns, through the frame it replaced, to the
/// caller of the function that made the tail call, which must see it as after any call.
#[test]
fn a_trap_in_a_tail_called_function_reaches_the_host() {
    let wat = r#"(module
        (type $binary (func (param i32 i32) (result i32)))
        (table 1 funcref)
        (elem (i32.const 0) $divide)
        (func $divide (type $binary) (i32.div_s (local.get 0) (local.get 1)))
        (func $direct (export "direct") (param i32 i32) (result i32)
            (return_call $divide (local.get 0) (local.get 1)))
        (func $indirect (export "indirect") (param i32 i32) (result i32)
            (return_call_indirect (type $binary) (local.get 0) (local.get 1) (i32.const 0)))
        ;; the trap must stop this function too, before it adds
        (func (export "nested") (param i32 i32) (result i32)
            (i32.add (call $indirect (local.get 0) (local.get 1)) (i32.const 1)))
        (func (export "unreachable") (param i32) (result i32)
            (return_call $trap_later (local.get 0)))
        (func $trap_later (param i32) (result i32)
            (if (i32.eqz (local.get 0)) (then unreachable))
            (return_call $trap_later (i32.sub (local.get 0) (i32.const 1)))))"#;
    let store = Store::new(&tail_call_engine());
    let instance = instantiate(&store, wat, None);
    let call = |name: &str, args: &[Value]| {
        let f = instance.get_func(&store, name).expect("export");
        f.call(&store, args)
    };
    let (six, two, zero) = (Value::I32(6), Value::I32(2), Value::I32(0));
    for name in ["direct", "indirect"] {
        assert_eq!(
            call(name, &[six.clone(), two.clone()]).unwrap(),
            vec![Value::I32(3)]
        );
        assert_eq!(
            trap_kind(call(name, &[six.clone(), zero.clone()])),
            TrapKind::IntegerDivideByZero
        );
    }
    assert_eq!(
        call("nested", &[six.clone(), two.clone()]).unwrap(),
        vec![Value::I32(4)]
    );
    assert_eq!(
        trap_kind(call("nested", &[six.clone(), zero])),
        TrapKind::IntegerDivideByZero
    );
    assert_eq!(
        trap_kind(call("unreachable", &[Value::I32(1000)])),
        TrapKind::Unreachable
    );
    // The store stays usable after the traps.
    assert_eq!(call("direct", &[six, two]).unwrap(), vec![Value::I32(3)]);
}

/// A host function's error, reached by a tail call, reaches the host unchanged.
#[test]
fn a_host_error_in_a_tail_called_host_function_reaches_the_host() {
    let store = Store::new(&tail_call_engine());
    HostModuleBuilder::new("host")
        .func_wrap("fail", || -> runtime::Result<()> {
            Err(Error::host("boom from host"))
        })
        .instantiate(&store)
        .unwrap();
    let instance = instantiate(
        &store,
        r#"(module
            (import "host" "fail" (func $fail))
            (global $after (mut i32) (i32.const 0))
            (func $tail (return_call $fail))
            (func (export "run") (call $tail) (global.set $after (i32.const 1)))
            (func (export "after") (result i32) (global.get $after)))"#,
        None,
    );
    let run = instance.get_func(&store, "run").expect("export");
    let e = run.call(&store, &[]).unwrap_err();
    assert!(e.to_string().contains("boom from host"), "{e}");
    assert!(e.trap_kind().is_none(), "{e:?}");
    let after = instance.get_func(&store, "after").expect("export");
    assert_eq!(after.call(&store, &[]).unwrap(), vec![Value::I32(0)]);
}
