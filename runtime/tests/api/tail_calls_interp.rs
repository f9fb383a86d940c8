//! Tail calls (`return_call`, `return_call_indirect`) on the interpreter, the one engine
//! that implements them (the native engine refuses them, `unsupported.rs`): a callee
//! replaces its caller's frame, so a tail-call loop runs in constant space on the
//! interpreter's own stacks and on the host's.

use runtime::{
    Config, Engine, HostModuleBuilder, Instance, Store, Strategy, TrapKind, Value, WasmFeatures,
};

use crate::common::{engine_with, instantiate, on_thread};

/// Iterations of the constant-space loops: far beyond any frame or value-stack limit.
const LOOPS: i64 = 10_000_000;

/// An interpreter with tail calls, and limits that a loop pushing frames or growing the
/// value stack would hit after a few iterations.
fn tight_engine() -> Engine {
    let mut config =
        Config::new(Strategy::Interpreter).features(WasmFeatures::WASM2 | WasmFeatures::TAIL_CALL);
    config.max_call_depth = 100;
    config.max_value_stack = 1024;
    engine_with(config)
}

fn call(store: &Store, instance: &Instance, name: &str, args: &[Value]) -> Vec<Value> {
    let f = instance.get_func(store, name).expect("export");
    f.call(store, args)
        .unwrap_or_else(|e| panic!("{name}({args:?}): {e}"))
}

fn trap(store: &Store, instance: &Instance, name: &str, args: &[Value]) -> TrapKind {
    let f = instance.get_func(store, name).expect("export");
    match f.call(store, args) {
        Err(e) => e.trap_kind().unwrap_or_else(|| panic!("not a trap: {e}")),
        Ok(v) => panic!("{name}({args:?}): expected a trap, got {v:?}"),
    }
}

const SELF_LOOP: &str = r#"(module
  (func $count (export "count") (param $n i64) (param $acc i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n))
      (then (local.get $acc))
      (else (return_call $count
        (i64.sub (local.get $n) (i64.const 1))
        (i64.add (local.get $acc) (i64.const 2))))))
  ;; A caller with a value of its own below the call, which the loop must not touch.
  (func (export "nested") (param i64) (result i64)
    (i64.const 1000)
    (call $count (local.get 0) (i64.const 0))
    (i64.add)))"#;

#[test]
fn ten_million_self_tail_calls_run_in_constant_space() {
    on_thread(256 * 1024, || {
        let store = Store::new(&tight_engine());
        let instance = instantiate(&store, SELF_LOOP, None);
        let n = Value::I64(LOOPS);
        assert_eq!(
            call(&store, &instance, "count", &[n.clone(), Value::I64(5)]),
            [Value::I64(5 + 2 * LOOPS)]
        );
        assert_eq!(
            call(&store, &instance, "nested", &[n]),
            [Value::I64(1000 + 2 * LOOPS)]
        );
    });
}

const EVEN_ODD: &str = r#"(module
  (type $t (func (param i64) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $even $odd)
  (func $even (export "even") (type $t)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call_indirect (type $t)
        (i64.sub (local.get 0) (i64.const 1)) (i32.const 1)))))
  (func $odd (type $t)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call_indirect (type $t)
        (i64.sub (local.get 0) (i64.const 1)) (i32.const 0))))))"#;

#[test]
fn ten_million_mutually_recursive_indirect_tail_calls_run_in_constant_space() {
    on_thread(256 * 1024, || {
        let store = Store::new(&tight_engine());
        let instance = instantiate(&store, EVEN_ODD, None);
        let even = |n| call(&store, &instance, "even", &[Value::I64(n)]);
        assert_eq!(even(LOOPS), [Value::I32(1)]);
        assert_eq!(even(LOOPS + 1), [Value::I32(0)]);
    });
}

/// The callee's frame has other parameters (more, fewer, a `v128` among them) and a
/// different size than the frame it replaces; its results reach the caller's caller,
/// whose own operand stack stays intact.
#[test]
fn tail_calls_between_functions_of_different_shapes() {
    let wat = r#"(module
      ;; Two results; many params (a v128 among them) and a large frame.
      (func $wide (param i64 v128 i32 i64) (result i32 i64)
        (local i64 i64 i64 i64 i64 i64 i64 i64)
        (i32.add (local.get 2) (i32x4.extract_lane 3 (local.get 1)))
        (i64.add (local.get 0) (local.get 3)))
      ;; One param: tail-calls the wider function.
      (func $narrow (param i32) (result i32 i64)
        (return_call $wide
          (i64.const 40)
          (v128.const i32x4 0 0 0 7)
          (local.get 0)
          (i64.const 2)))
      ;; Five params: tail-calls the narrow one.
      (func $many (param i32 i32 i32 i32 i32) (result i32 i64)
        (return_call $narrow
          (i32.add (local.get 0) (i32.add (local.get 1) (i32.add (local.get 2)
            (i32.add (local.get 3) (local.get 4)))))))
      (func (export "outer") (result i64 i32 i64)
        (i64.const 1000)
        (call $many (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4) (i32.const 5)))
      (func (export "entry") (result i32 i64)
        (return_call $many (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 1)
          (i32.const 1))))"#;
    let store = Store::new(&tight_engine());
    let instance = instantiate(&store, wat, None);
    assert_eq!(
        call(&store, &instance, "outer", &[]),
        [Value::I64(1000), Value::I32(15 + 7), Value::I64(42)]
    );
    assert_eq!(
        call(&store, &instance, "entry", &[]),
        [Value::I32(5 + 7), Value::I64(42)]
    );
}

/// `return_call_indirect` checks the element as `call_indirect` does before replacing
/// the frame.
#[test]
fn return_call_indirect_checks_the_element() {
    let wat = r#"(module
      (type $i32 (func (result i32)))
      (type $i64 (func (result i64)))
      (table 3 funcref)
      (elem (i32.const 0) $seven $other)
      (func $seven (type $i32) (i32.const 7))
      (func $other (type $i64) (i64.const 8))
      (func (export "call") (param i32) (result i32)
        (return_call_indirect (type $i32) (local.get 0))))"#;
    let store = Store::new(&tight_engine());
    let instance = instantiate(&store, wat, None);
    let at = |i| [Value::I32(i)];
    assert_eq!(call(&store, &instance, "call", &at(0)), [Value::I32(7)]);
    assert_eq!(
        trap(&store, &instance, "call", &at(1)),
        TrapKind::IndirectCallTypeMismatch
    );
    assert_eq!(
        trap(&store, &instance, "call", &at(2)),
        TrapKind::UninitializedElement
    );
    assert_eq!(
        trap(&store, &instance, "call", &at(3)),
        TrapKind::UndefinedElement
    );
}

/// A tail call to an import: a host function (directly and through a table) is called
/// and its results returned to the caller's caller; another instance's Wasm function
/// replaces the frame, so a loop there stays in constant space.
#[test]
fn tail_calls_into_imported_functions() {
    on_thread(256 * 1024, || {
        let store = Store::new(&tight_engine());
        HostModuleBuilder::new("env")
            .func_wrap("triple", |x: i32| -> (i32, i64) { (x.wrapping_mul(3), 9) })
            .instantiate(&store)
            .unwrap();
        instantiate(&store, SELF_LOOP, Some("loop"));
        let wat = r#"(module
          (import "env" "triple" (func $triple (param i32) (result i32 i64)))
          (import "loop" "count" (func $count (param i64 i64) (result i64)))
          (type $t (func (param i32) (result i32 i64)))
          (table 1 funcref)
          (elem (i32.const 0) $triple)
          (func $direct (export "direct") (param i32) (result i32 i64)
            (return_call $triple (i32.add (local.get 0) (i32.const 1))))
          (func $indirect (export "indirect") (param i32) (result i32 i64)
            (return_call_indirect (type $t) (local.get 0) (i32.const 0)))
          (func (export "nested") (param i32) (result i64 i32 i64 i32 i64)
            (i64.const 1000)
            (call $direct (local.get 0))
            (call $indirect (local.get 0)))
          (func $to_loop (param i64) (result i64)
            (return_call $count (local.get 0) (i64.const 0)))
          (func (export "loop") (param i64) (result i64 i64)
            (i64.const 1000)
            (call $to_loop (local.get 0))))"#;
        let instance = instantiate(&store, wat, None);
        assert_eq!(
            call(&store, &instance, "direct", &[Value::I32(4)]),
            [Value::I32(15), Value::I64(9)]
        );
        assert_eq!(
            call(&store, &instance, "indirect", &[Value::I32(4)]),
            [Value::I32(12), Value::I64(9)]
        );
        assert_eq!(
            call(&store, &instance, "nested", &[Value::I32(4)]),
            [
                Value::I64(1000),
                Value::I32(15),
                Value::I64(9),
                Value::I32(12),
                Value::I64(9)
            ]
        );
        assert_eq!(
            call(&store, &instance, "loop", &[Value::I64(LOOPS)]),
            [Value::I64(1000), Value::I64(2 * LOOPS)]
        );
    });
}
