//! Numeric instructions: integer and float arithmetic, their traps, and conversions.

use runtime::{Strategy, TrapKind, Value};

use crate::common::{run, run1, trap_of};

on_both_engines!(
    integer_division_traps,
    integer_ops,
    float_min_max_and_nearest,
    conversions,
);

fn bin(strategy: Strategy, ty: &str, op: &str, a: Value, b: Value) -> runtime::Result<Vec<Value>> {
    let wat = format!(
        r#"(module (func (export "f") (param {ty} {ty}) (result {res})
            local.get 0 local.get 1 {ty}.{op}))"#,
        res = if op.starts_with(['e', 'n', 'l', 'g']) && !op.starts_with("ne") || op == "ne" {
            "i32"
        } else {
            ty
        }
    );
    run(strategy, &wat, "f", &[a, b])
}

fn integer_division_traps(strategy: Strategy) {
    let t = |ty, op, a, b| {
        bin(strategy, ty, op, a, b)
            .unwrap_err()
            .trap_kind()
            .unwrap()
    };
    assert_eq!(
        t("i32", "div_s", Value::I32(1), Value::I32(0)),
        TrapKind::IntegerDivideByZero
    );
    assert_eq!(
        t("i32", "div_s", Value::I32(i32::MIN), Value::I32(-1)),
        TrapKind::IntegerOverflow
    );
    assert_eq!(
        t("i64", "rem_u", Value::I64(1), Value::I64(0)),
        TrapKind::IntegerDivideByZero
    );
    assert_eq!(
        bin(
            strategy,
            "i32",
            "rem_s",
            Value::I32(i32::MIN),
            Value::I32(-1)
        )
        .unwrap(),
        vec![Value::I32(0)]
    );
    assert_eq!(
        bin(strategy, "i64", "div_s", Value::I64(-7), Value::I64(2)).unwrap(),
        vec![Value::I64(-3)]
    );
}

fn integer_ops(strategy: Strategy) {
    let i = |op, a, b| bin(strategy, "i32", op, Value::I32(a), Value::I32(b)).unwrap()[0].clone();
    assert_eq!(i("sub", 3, 5), Value::I32(-2));
    assert_eq!(i("shl", 1, 33), Value::I32(2));
    assert_eq!(i("shr_s", -8, 1), Value::I32(-4));
    assert_eq!(i("shr_u", -8, 28), Value::I32(15));
    assert_eq!(i("rotl", 0x8000_0001u32 as i32, 1), Value::I32(3));
    assert_eq!(i("lt_u", -1, 1), Value::I32(0));
    assert_eq!(i("lt_s", -1, 1), Value::I32(1));
    let l = |op, a, b| bin(strategy, "i64", op, Value::I64(a), Value::I64(b)).unwrap()[0].clone();
    assert_eq!(l("rotr", 1, 1), Value::I64(i64::MIN));
    assert_eq!(l("ge_u", 1, -1), Value::I32(0));
}

fn float_min_max_and_nearest(strategy: Strategy) {
    let f = |op, a: f32, b: f32| {
        bin(strategy, "f32", op, Value::f32(a), Value::f32(b)).unwrap()[0].clone()
    };
    assert_eq!(f("min", 0.0, -0.0), Value::f32(-0.0));
    assert_eq!(f("max", -0.0, 0.0), Value::f32(0.0));
    assert!(f("min", f32::NAN, 1.0).f32_value().unwrap().is_nan());
    let near = r#"(module (func (export "f") (param f64) (result f64) local.get 0 f64.nearest))"#;
    assert_eq!(
        run1(strategy, near, "f", &[Value::f64(2.5)]),
        Value::f64(2.0)
    );
    assert_eq!(
        run1(strategy, near, "f", &[Value::f64(-3.5)]),
        Value::f64(-4.0)
    );
    assert_eq!(
        run1(strategy, near, "f", &[Value::f64(-0.4)]),
        Value::f64(-0.0)
    );
}

fn conversions(strategy: Strategy) {
    let trunc =
        r#"(module (func (export "f") (param f32) (result i32) local.get 0 i32.trunc_f32_s))"#;
    assert_eq!(
        trap_of(strategy, trunc, "f", &[Value::f32(f32::NAN)]),
        TrapKind::InvalidConversionToInteger
    );
    assert_eq!(
        trap_of(strategy, trunc, "f", &[Value::f32(2147483648.0)]),
        TrapKind::IntegerOverflow
    );
    assert_eq!(
        run1(strategy, trunc, "f", &[Value::f32(-2147483648.0)]),
        Value::I32(i32::MIN)
    );
    let sat =
        r#"(module (func (export "f") (param f64) (result i64) local.get 0 i64.trunc_sat_f64_u))"#;
    assert_eq!(run1(strategy, sat, "f", &[Value::f64(-5.0)]), Value::I64(0));
    assert_eq!(
        run1(strategy, sat, "f", &[Value::f64(1e30)]),
        Value::I64(-1)
    );
    let ext = r#"(module (func (export "f") (param i32) (result i64)
        local.get 0 i32.extend8_s i64.extend_i32_s))"#;
    assert_eq!(
        run1(strategy, ext, "f", &[Value::I32(0x80)]),
        Value::I64(-128)
    );
    let wrap = r#"(module (func (export "f") (param i64) (result i32) local.get 0 i32.wrap_i64))"#;
    assert_eq!(
        run1(strategy, wrap, "f", &[Value::I64(0x1_0000_0005)]),
        Value::I32(5)
    );
    let cvt =
        r#"(module (func (export "f") (param i64) (result f32) local.get 0 f32.convert_i64_u))"#;
    assert_eq!(
        run1(strategy, cvt, "f", &[Value::I64(-1)]),
        Value::f32(18446744073709551616.0)
    );
    let bits = r#"(module (func (export "f") (param f32) (result i32) local.get 0 f32.neg i32.reinterpret_f32))"#;
    assert_eq!(
        run1(strategy, bits, "f", &[Value::F32(0x7fc0_0001)]),
        Value::I32(0xffc0_0001u32 as i32)
    );
}
