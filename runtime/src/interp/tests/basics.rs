use super::*;

#[test]
fn add() {
    let v = run1(
        r#"(module (func (export "add") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.add))"#,
        "add",
        &[Value::I32(2), Value::I32(3)],
    );
    assert_eq!(v, Value::I32(5));
}

#[test]
fn fib_recursive() {
    let wat = r#"(module (func $fib (export "fib") (param i64) (result i64)
        (if (result i64) (i64.lt_s (local.get 0) (i64.const 2))
          (then (local.get 0))
          (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                         (call $fib (i64.sub (local.get 0) (i64.const 2))))))))"#;
    assert_eq!(run1(wat, "fib", &[Value::I64(20)]), Value::I64(6765));
}

#[test]
fn loop_sum() {
    let wat = r#"(module (func (export "sum") (param i32) (result i32) (local i32)
        (block (loop
          (br_if 1 (i32.eqz (local.get 0)))
          (local.set 1 (i32.add (local.get 1) (local.get 0)))
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (br 0)))
        (local.get 1)))"#;
    assert_eq!(run1(wat, "sum", &[Value::I32(100)]), Value::I32(5050));
}

#[test]
fn many_constants_and_locals() {
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
        run1(&wat, "f", &[Value::I64(1)]),
        Value::I64(1 + 399 * 400 / 2)
    );
}

#[test]
fn fused_i64_compare_branches() {
    let wat = r#"(module (func (export "f") (param i64 i64) (result i32)
        (block (br_if 0 (i64.lt_s (local.get 0) (local.get 1))) (return (i32.const 0)))
        (if (result i32) (i64.ge_u (local.get 0) (local.get 1)) (then (i32.const 2)) (else (i32.const 1)))))"#;
    assert_eq!(
        run1(wat, "f", &[Value::I64(-1), Value::I64(0)]),
        Value::I32(2)
    );
    assert_eq!(
        run1(wat, "f", &[Value::I64(1), Value::I64(2)]),
        Value::I32(1)
    );
    assert_eq!(
        run1(wat, "f", &[Value::I64(3), Value::I64(2)]),
        Value::I32(0)
    );
}
