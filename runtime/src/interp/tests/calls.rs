use super::*;
use crate::{HostModuleBuilder, TrapKind};

#[test]
fn call_indirect_across_instances() {
    let engine = Engine::new(Config::default()).unwrap();
    let store = Store::new(&engine);
    let a = Module::new(
        &engine,
        r#"(module
          (memory (export "mem") 1)
          (table (export "tab") 2 funcref)
          (elem (i32.const 0) $store42 $triple)
          (func $store42 (result i32) (i32.store (i32.const 0) (i32.const 42)) (i32.const 1))
          (func $triple (export "triple") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3))))"#,
    )
    .unwrap();
    Instance::new(&store, &a, Some("a")).unwrap();
    let b = Module::new(
        &engine,
        r#"(module
          (import "a" "tab" (table 2 funcref))
          (import "a" "triple" (func $triple (param i32) (result i32)))
          (memory 1)
          (func (export "f") (param i32) (result i32)
            (i32.store (i32.const 0) (i32.const 7))
            (drop (call_indirect (result i32) (i32.const 0)))
            ;; our memory is untouched by a's function; a's context is restored after it
            (i32.add (i32.load (i32.const 0))
              (i32.add (call $triple (local.get 0))
                       (call_indirect (param i32) (result i32) (local.get 0) (i32.const 1)))))
          (func (export "g") (param i32) (result i32 i32 i32)
            (i32.store (i32.const 0) (i32.const 7))
            (drop (call_indirect (result i32) (i32.const 0)))
            (i32.load (i32.const 0))
            (call $triple (local.get 0))
            (call_indirect (param i32) (result i32) (local.get 0) (i32.const 1)))
          (func (export "bad") (call_indirect (i32.const 1))))"#,
    )
    .unwrap();
    let bi = Instance::new(&store, &b, None).unwrap();
    let f = bi.get_func(&store, "f").unwrap();
    assert_eq!(
        f.call(&store, &[Value::I32(2)]).unwrap(),
        vec![Value::I32(7 + 6 + 6)]
    );
    let g = bi.get_func(&store, "g").unwrap();
    assert_eq!(
        g.call(&store, &[Value::I32(2)]).unwrap(),
        vec![Value::I32(7), Value::I32(6), Value::I32(6)]
    );
    let bad = bi.get_func(&store, "bad").unwrap();
    assert_eq!(
        bad.call(&store, &[]).unwrap_err().trap_kind(),
        Some(TrapKind::IndirectCallTypeMismatch)
    );
}

#[test]
fn host_calls_and_errors() {
    let engine = Engine::new(Config::default()).unwrap();
    let store = Store::new(&engine);
    HostModuleBuilder::new("env")
        .func_wrap("add", |a: i32, b: i32| a + b)
        .func(
            "fail",
            crate::FuncType::new([], []),
            |_caller, _args, _results| Err(crate::Error::host("boom")),
        )
        .instantiate(&store)
        .unwrap();
    let m = Module::new(
        &engine,
        r#"(module
          (import "env" "add" (func $add (param i32 i32) (result i32)))
          (import "env" "fail" (func $fail))
          (func (export "f") (param i32) (result i32)
            (call $add (local.get 0) (call $add (local.get 0) (i32.const 1))))
          (func (export "g") (call $fail)))"#,
    )
    .unwrap();
    let inst = Instance::new(&store, &m, None).unwrap();
    let f = inst.get_func(&store, "f").unwrap();
    assert_eq!(
        f.call(&store, &[Value::I32(4)]).unwrap(),
        vec![Value::I32(9)]
    );
    let g = inst.get_func(&store, "g").unwrap();
    match g.call(&store, &[]) {
        Err(crate::Error::Host(m)) => assert_eq!(m, "boom"),
        other => panic!("expected host error, got {other:?}"),
    }
}

#[test]
fn deep_but_finite_recursion() {
    let wat = r#"(module (func $d (export "d") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $d (i32.sub (local.get 0) (i32.const 1))))))))"#;
    assert_eq!(run1(wat, "d", &[Value::I32(15000)]), Value::I32(15000));
    assert_eq!(
        trap_of(wat, "d", &[Value::I32(100_000)]),
        TrapKind::CallStackExhausted
    );
}
