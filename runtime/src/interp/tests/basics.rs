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
