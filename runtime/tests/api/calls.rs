//! Calls: between instances, into and out of the host (re-entry, errors, exits,
//! panics), and recursion depth.

use runtime::{
    Caller, Error, Extern, FuncType, HostModuleBuilder, Instance, Module, Store, Strategy,
    TrapKind, ValType, Value,
};

use crate::common::{call, engine, run1, trap_kind, trap_of};

on_both_engines!(
    call_indirect_across_instances,
    deep_but_finite_recursion,
    host_calls_multi_value_and_errors,
    calls_across_instances,
    host_reentry_exit_and_panics,
);

fn call_indirect_across_instances(strategy: Strategy) {
    let engine = engine(strategy);
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

fn deep_but_finite_recursion(strategy: Strategy) {
    let wat = r#"(module (func $d (export "d") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $d (i32.sub (local.get 0) (i32.const 1))))))))"#;
    assert_eq!(
        run1(strategy, wat, "d", &[Value::I32(15000)]),
        Value::I32(15000)
    );
    // Deep enough for any frame size: a native frame holds at least a return address
    // and a frame pointer, 16 MB for a million.
    assert_eq!(
        trap_of(strategy, wat, "d", &[Value::I32(1_000_000)]),
        TrapKind::CallStackExhausted
    );
}

fn host_calls_multi_value_and_errors(strategy: Strategy) {
    let engine = engine(strategy);
    let store = Store::new(&engine);
    HostModuleBuilder::new("env")
        .func_wrap("add", |a: i32, b: i32| a + b)
        .func_wrap("double", |x: i32| x * 2)
        .func(
            "swap",
            FuncType::new([ValType::I64, ValType::F64], [ValType::F64, ValType::I64]),
            |_c: &mut Caller<'_>, args: &[Value], results: &mut [Value]| {
                results[0] = args[1].clone();
                results[1] = args[0].clone();
                Ok(())
            },
        )
        .func(
            "fail",
            FuncType::new([], []),
            |_c: &mut Caller<'_>, _a: &[Value], _r: &mut [Value]| Err(Error::host("boom")),
        )
        .instantiate(&store)
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
        (import "env" "add" (func $add (param i32 i32) (result i32)))
        (import "env" "double" (func $double (param i32) (result i32)))
        (import "env" "swap" (func $swap (param i64 f64) (result f64 i64)))
        (import "env" "fail" (func $fail))
        (table funcref (elem $double))
        (func (export "nested") (param i32) (result i32)
          (call $add (local.get 0) (call $add (local.get 0) (i32.const 1))))
        (func (export "quad") (param i32) (result i32) local.get 0 call $double call $double)
        (func (export "indirect") (param i32) (result i32)
          local.get 0 i32.const 0 call_indirect (param i32) (result i32))
        (func (export "swap") (param i64 f64) (result f64 i64) local.get 0 local.get 1 call $swap)
        (func (export "multi") (result i32 i64 f32) i32.const 1 i64.const 2 f32.const 3)
        (func (export "fail") (result i32) call $fail i32.const 7))"#,
    )
    .unwrap();
    let i = Instance::new(&store, &module, None).unwrap();
    assert_eq!(
        call(&store, &i, "nested", &[Value::I32(4)]).unwrap(),
        [Value::I32(9)]
    );
    assert_eq!(
        call(&store, &i, "quad", &[Value::I32(3)]).unwrap(),
        [Value::I32(12)]
    );
    assert_eq!(
        call(&store, &i, "indirect", &[Value::I32(5)]).unwrap(),
        [Value::I32(10)]
    );
    assert_eq!(
        call(&store, &i, "swap", &[Value::I64(1), Value::f64(2.5)]).unwrap(),
        [Value::f64(2.5), Value::I64(1)]
    );
    assert_eq!(
        call(&store, &i, "multi", &[]).unwrap(),
        [Value::I32(1), Value::I64(2), Value::f32(3.0)]
    );
    match call(&store, &i, "fail", &[]) {
        Err(Error::Host(m)) => assert_eq!(m, "boom"),
        other => panic!("expected the host error, got {other:?}"),
    }
}

fn calls_across_instances(strategy: Strategy) {
    let engine = engine(strategy);
    let store = Store::new(&engine);
    let a = Module::new(
        &engine,
        r#"(module (global (export "g") (mut i32) (i32.const 5))
        (func (export "get") (result i32) global.get 0)
        (func (export "inc") global.get 0 i32.const 1 i32.add global.set 0))"#,
    )
    .unwrap();
    Instance::new(&store, &a, Some("a")).unwrap();
    let b = Module::new(
        &engine,
        r#"(module (import "a" "get" (func $get (result i32)))
        (import "a" "inc" (func $inc))
        (import "a" "g" (global $g (mut i32)))
        (func (export "run") (result i32) call $inc call $inc call $get global.get $g i32.add))"#,
    )
    .unwrap();
    let i = Instance::new(&store, &b, None).unwrap();
    assert_eq!(call(&store, &i, "run", &[]).unwrap(), [Value::I32(14)]);
}

fn host_reentry_exit_and_panics(strategy: Strategy) {
    let engine = engine(strategy);
    let store = Store::new(&engine);
    HostModuleBuilder::new("env")
        .func(
            "reenter",
            FuncType::new([ValType::I32], [ValType::I32]),
            |c: &mut Caller<'_>, args: &[Value], results: &mut [Value]| {
                let Some(Extern::Func(f)) = c.get_export("inner") else {
                    panic!("no inner")
                };
                let r = c.call(f, args)?;
                results[0] = r[0].clone();
                Ok(())
            },
        )
        .func(
            "exit",
            FuncType::new([], []),
            |c: &mut Caller<'_>, _a: &[Value], _r: &mut [Value]| Err(c.exit(7)),
        )
        .func(
            "panic",
            FuncType::new([], []),
            |_c: &mut Caller<'_>, _a: &[Value], _r: &mut [Value]| panic!("host panic"),
        )
        .instantiate(&store)
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
        (import "env" "reenter" (func $reenter (param i32) (result i32)))
        (import "env" "exit" (func $exit))
        (import "env" "panic" (func $panic))
        (func (export "inner") (param i32) (result i32)
          local.get 0 i32.eqz if unreachable end local.get 0 i32.const 1 i32.add)
        (func (export "outer") (param i32) (result i32) local.get 0 call $reenter i32.const 10 i32.mul)
        (func (export "panic") call $panic)
        (func (export "exit") (result i32) call $exit i32.const 1))"#,
    )
    .unwrap();
    let i = Instance::new(&store, &module, None).unwrap();
    assert_eq!(
        call(&store, &i, "outer", &[Value::I32(4)]).unwrap(),
        [Value::I32(50)]
    );
    // A trap in the nested call is the host function's error, returned unchanged.
    assert_eq!(
        trap_kind(call(&store, &i, "outer", &[Value::I32(0)])),
        TrapKind::Unreachable
    );
    assert_eq!(
        call(&store, &i, "outer", &[Value::I32(1)]).unwrap(),
        [Value::I32(20)]
    );
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = call(&store, &i, "panic", &[]);
    }));
    assert!(caught.is_err(), "the host panic reaches the embedder");
    assert_eq!(
        call(&store, &i, "outer", &[Value::I32(2)]).unwrap(),
        [Value::I32(30)]
    );
    let e = call(&store, &i, "exit", &[]).unwrap_err();
    assert_eq!(e.exit_code(), Some(7));
    assert_eq!(
        call(&store, &i, "outer", &[Value::I32(2)])
            .unwrap_err()
            .exit_code(),
        Some(7)
    );
}
