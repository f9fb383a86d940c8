use super::*;
use crate::TrapKind;

#[test]
fn br_table_and_blocks() {
    let wat = r#"(module (func (export "f") (param i32) (result i32)
        (block $d (result i32)
          (block $c (result i32)
            (block $b (result i32)
              (br_table $b $c $d (i32.const 1) (local.get 0)))
            (i32.add (i32.const 10)))
          (i32.add (i32.const 100)))))"#;
    assert_eq!(run1(wat, "f", &[Value::I32(0)]), Value::I32(111));
    assert_eq!(run1(wat, "f", &[Value::I32(1)]), Value::I32(101));
    assert_eq!(run1(wat, "f", &[Value::I32(2)]), Value::I32(1));
    assert_eq!(run1(wat, "f", &[Value::I32(99)]), Value::I32(1));
}

#[test]
fn multi_value_blocks_and_calls() {
    let wat = r#"(module
      (func $swap (param i32 i32) (result i32 i32) local.get 1 local.get 0)
      (func (export "f") (param i32 i32) (result i32 i32 i32)
        (local.get 0) (local.get 1)
        (block (param i32 i32) (result i32 i32) (call $swap))
        (i32.const 7)
        (loop (param i32 i32 i32) (result i32 i32 i32) nop)))"#;
    assert_eq!(
        run(wat, "f", &[Value::I32(1), Value::I32(2)]).unwrap(),
        vec![Value::I32(2), Value::I32(1), Value::I32(7)]
    );
    let ret = r#"(module (func (export "f") (param i32 i32) (result i32 i32)
        local.get 1 local.get 0 return))"#;
    assert_eq!(
        run(ret, "f", &[Value::I32(1), Value::I32(2)]).unwrap(),
        vec![Value::I32(2), Value::I32(1)]
    );
}

#[test]
fn lazy_locals_survive_set() {
    let wat = r#"(module (func (export "f") (param i32) (result i32)
        local.get 0
        (local.set 0 (i32.const 5))
        local.get 0
        i32.sub))"#;
    assert_eq!(run1(wat, "f", &[Value::I32(12)]), Value::I32(7));
    let in_if = r#"(module (func (export "f") (param i32 i32) (result i32)
        local.get 0
        (if (local.get 1) (then (local.set 0 (i32.const 100))))
        local.get 0
        i32.add))"#;
    assert_eq!(
        run1(in_if, "f", &[Value::I32(1), Value::I32(0)]),
        Value::I32(2)
    );
    assert_eq!(
        run1(in_if, "f", &[Value::I32(1), Value::I32(1)]),
        Value::I32(101)
    );
}

#[test]
fn if_else_select_and_unreachable_code() {
    let wat = r#"(module (func (export "f") (param i32) (result i32)
        (if (result i32) (i32.lt_s (local.get 0) (i32.const 0))
          (then (i32.const -1))
          (else (select (i32.const 1) (i32.const 0) (local.get 0))))
        (block (result i32) (br 0 (i32.const 3)) (i32.add) (if (then)) (i32.const 9))
        i32.add))"#;
    assert_eq!(run1(wat, "f", &[Value::I32(-5)]), Value::I32(2));
    assert_eq!(run1(wat, "f", &[Value::I32(0)]), Value::I32(3));
    assert_eq!(run1(wat, "f", &[Value::I32(4)]), Value::I32(4));
    let trap = r#"(module (func (export "f") unreachable))"#;
    assert_eq!(trap_of(trap, "f", &[]), TrapKind::Unreachable);
}

const RECURSE: &str = r#"(module
  (func $r (export "r") (param i32) (result i32) (i32.add (call $r (local.get 0)) (i32.const 1)))
  (func (export "ok") (result i32) (i32.const 42)))"#;

fn exhaust_then_recover() {
    let engine = Engine::new(Config::default()).unwrap();
    let module = Module::new(&engine, RECURSE).unwrap();
    let store = Store::new(&engine);
    let instance = Instance::new(&store, &module, None).unwrap();
    let r = instance.get_func(&store, "r").unwrap();
    let err = r.call(&store, &[Value::I32(0)]).unwrap_err();
    assert_eq!(err.trap_kind(), Some(TrapKind::CallStackExhausted));
    let ok = instance.get_func(&store, "ok").unwrap();
    assert_eq!(ok.call(&store, &[]).unwrap(), vec![Value::I32(42)]);
}

#[test]
fn infinite_recursion_is_a_trap() {
    exhaust_then_recover();
}

#[test]
fn infinite_recursion_on_small_thread() {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(exhaust_then_recover)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn simd_is_accepted() {
    let engine = Engine::new(Config::default()).unwrap();
    let local = r#"(module (func (local v128)))"#;
    let op = r#"(module (func (drop (i32x4.splat (i32.const 1)))))"#;
    for wat in [local, op] {
        Module::new(&engine, wat).unwrap();
    }
}

#[test]
fn fused_loop_counters() {
    // Counts iterations of `i += step` until `i <cond> n` fails; each loop's counter and
    // branch fuse into one instruction.
    let wat = r#"(module
      (func (export "lt_u") (param $n i32) (result i32) (local $i i32) (local $k i32)
        (loop $l
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (local.set $i (i32.add (local.get $i) (i32.const 3)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $k))
      (func (export "lt_s") (param $n i32) (result i32) (local $i i32) (local $k i32)
        (local.set $i (i32.const -10))
        (loop $l
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (local.set $i (i32.sub (local.get $i) (i32.const -3)))
          (br_if $l (i32.lt_s (local.get $i) (local.get $n))))
        (local.get $k))
      (func (export "ne") (param $n i32) (result i32) (local $i i32)
        (loop $l
          (br_if $l (i32.ne (local.tee $i (i32.add (i32.const -1) (local.get $i)))
                            (local.get $n))))
        (local.get $i)))"#;
    assert_eq!(run1(wat, "lt_u", &[Value::I32(10)]), Value::I32(4));
    assert_eq!(run1(wat, "lt_u", &[Value::I32(0)]), Value::I32(1));
    // -7 < 0 only when signed.
    assert_eq!(run1(wat, "lt_s", &[Value::I32(0)]), Value::I32(4));
    assert_eq!(run1(wat, "lt_s", &[Value::I32(-5)]), Value::I32(2));
    assert_eq!(run1(wat, "ne", &[Value::I32(-5)]), Value::I32(-5));
}

#[test]
fn jump_to_a_fused_branch_runs_the_branch_alone() {
    // The block ends between the increment and the compare, so `br $skip` jumps to the
    // compare without incrementing: the kept, unfused branch.
    let wat = r#"(module (func (export "f") (param $n i32) (result i32) (local $i i32) (local $k i32)
        (loop $l
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (block $skip
            (br_if $skip (i32.and (local.get $k) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1))))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $k)))"#;
    assert_eq!(run1(wat, "f", &[Value::I32(3)]), Value::I32(6));
}
