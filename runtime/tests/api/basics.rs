//! Basic execution: arithmetic, calls, loops, constants and locals, and the trap kinds.

use runtime::{Strategy, TrapKind, Value};

use crate::common::{call, run1, setup, trap_kind};

on_both_engines!(
    fib_recursive,
    many_constants_and_locals,
    fused_i64_compare_branches,
    arithmetic,
    traps_of_each_kind,
);

fn fib_recursive(strategy: Strategy) {
    let wat = r#"(module (func $fib (export "fib") (param i64) (result i64)
        (if (result i64) (i64.lt_s (local.get 0) (i64.const 2))
          (then (local.get 0))
          (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                         (call $fib (i64.sub (local.get 0) (i64.const 2))))))))"#;
    assert_eq!(
        run1(strategy, wat, "fib", &[Value::I64(20)]),
        Value::I64(6765)
    );
}

fn many_constants_and_locals(strategy: Strategy) {
    // More distinct constants than get slots, and many locals.
    let mut body = String::from("(i64.const 0)");
    for i in 1..400 {
        body = format!("(i64.add {body} (i64.const {i}))");
    }
    let wat = format!(
        r#"(module (func (export "f") (param i64) (result i64) (local i64 f64 i32)
            (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
            (local.set 20 (local.get 0))
            (i64.add (local.get 20) {body})))"#
    );
    assert_eq!(
        run1(strategy, &wat, "f", &[Value::I64(1)]),
        Value::I64(1 + 399 * 400 / 2)
    );
}

fn fused_i64_compare_branches(strategy: Strategy) {
    let wat = r#"(module (func (export "f") (param i64 i64) (result i32)
        (block (br_if 0 (i64.lt_s (local.get 0) (local.get 1))) (return (i32.const 0)))
        (if (result i32) (i64.ge_u (local.get 0) (local.get 1)) (then (i32.const 2)) (else (i32.const 1)))))"#;
    assert_eq!(
        run1(strategy, wat, "f", &[Value::I64(-1), Value::I64(0)]),
        Value::I32(2)
    );
    assert_eq!(
        run1(strategy, wat, "f", &[Value::I64(1), Value::I64(2)]),
        Value::I32(1)
    );
    assert_eq!(
        run1(strategy, wat, "f", &[Value::I64(3), Value::I64(2)]),
        Value::I32(0)
    );
}

fn arithmetic(strategy: Strategy) {
    let (s, i) = setup(
        strategy,
        r#"(module
        (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
        (func (export "fac") (param i64) (result i64)
          local.get 0 i64.eqz if (result i64) i64.const 1
          else local.get 0 local.get 0 i64.const 1 i64.sub call 1 i64.mul end)
        (func (export "fmin") (param f64 f64) (result f64) local.get 0 local.get 1 f64.min)
        (func (export "sat") (param f32) (result i32) local.get 0 i32.trunc_sat_f32_s)
        (func (export "loop") (param i32) (result i32) (local i32)
          block loop
            local.get 0 i32.eqz br_if 1
            local.get 1 local.get 0 i32.add local.set 1
            local.get 0 i32.const 1 i32.sub local.set 0
            br 0 end end local.get 1))"#,
    );
    assert_eq!(
        call(&s, &i, "add", &[Value::I32(2), Value::I32(40)]).unwrap(),
        [Value::I32(42)]
    );
    assert_eq!(
        call(&s, &i, "add", &[Value::I32(2), Value::I32(3)]).unwrap(),
        [Value::I32(5)]
    );
    assert_eq!(
        call(&s, &i, "fac", &[Value::I64(20)]).unwrap(),
        [Value::I64(2432902008176640000)]
    );
    assert_eq!(
        call(&s, &i, "fmin", &[Value::f64(-0.0), Value::f64(0.0)]).unwrap(),
        [Value::f64(-0.0)]
    );
    assert_eq!(
        call(&s, &i, "sat", &[Value::f32(1e10)]).unwrap(),
        [Value::I32(i32::MAX)]
    );
    assert_eq!(
        call(&s, &i, "loop", &[Value::I32(100)]).unwrap(),
        [Value::I32(5050)]
    );
}

fn traps_of_each_kind(strategy: Strategy) {
    let (s, i) = setup(
        strategy,
        r#"(module
        (type $v (func))
        (memory 1)
        (table 2 funcref)
        (elem (i32.const 0) $f)
        (func $f)
        (func (export "unreachable") unreachable)
        (func (export "div0") (result i32) i32.const 1 i32.const 0 i32.div_s)
        (func (export "overflow") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
        (func (export "rem") (result i32) i32.const 0x80000000 i32.const -1 i32.rem_s)
        (func (export "nan") (result i32) f32.const nan i32.trunc_f32_s)
        (func (export "big") (result i32) f64.const 3e9 i32.trunc_f64_s)
        (func (export "oob") (result i32) i32.const 65534 i32.load)
        (func (export "table") (result funcref) i32.const 2 table.get 0)
        (func (export "undefined") i32.const 5 call_indirect (type $v))
        (func (export "uninit") i32.const 1 call_indirect (type $v))
        (func (export "mismatch") (result i32) i32.const 0 call_indirect (result i32)))"#,
    );
    let t = |name| trap_kind(call(&s, &i, name, &[]));
    assert_eq!(t("unreachable"), TrapKind::Unreachable);
    assert_eq!(t("div0"), TrapKind::IntegerDivideByZero);
    assert_eq!(t("overflow"), TrapKind::IntegerOverflow);
    assert_eq!(call(&s, &i, "rem", &[]).unwrap(), [Value::I32(0)]);
    assert_eq!(t("nan"), TrapKind::InvalidConversionToInteger);
    assert_eq!(t("big"), TrapKind::IntegerOverflow);
    assert_eq!(t("oob"), TrapKind::MemoryOutOfBounds);
    assert_eq!(t("table"), TrapKind::TableOutOfBounds);
    assert_eq!(t("undefined"), TrapKind::UndefinedElement);
    assert_eq!(t("uninit"), TrapKind::UninitializedElement);
    assert_eq!(t("mismatch"), TrapKind::IndirectCallTypeMismatch);
}
