//! Control flow: blocks, branches, `if`, `select`, multi-value, fused loop branches,
//! and unbounded recursion.

use runtime::{Strategy, TrapKind, Value};

use crate::common::{call, on_thread, run, run1, setup, trap_of};

on_both_engines!(
    br_table_and_blocks,
    multi_value_blocks_and_calls,
    lazy_locals_survive_set,
    if_else_select_and_unreachable_code,
    infinite_recursion_is_a_trap,
    infinite_recursion_on_small_thread,
    fused_loop_counters,
    jump_to_a_fused_branch_runs_the_branch_alone,
);

fn br_table_and_blocks(strategy: Strategy) {
    let wat = r#"(module (func (export "f") (param i32) (result i32)
        (block $d (result i32)
          (block $c (result i32)
            (block $b (result i32)
              (br_table $b $c $d (i32.const 1) (local.get 0)))
            (i32.add (i32.const 10)))
          (i32.add (i32.const 100)))))"#;
    assert_eq!(run1(strategy, wat, "f", &[Value::I32(0)]), Value::I32(111));
    assert_eq!(run1(strategy, wat, "f", &[Value::I32(1)]), Value::I32(101));
    assert_eq!(run1(strategy, wat, "f", &[Value::I32(2)]), Value::I32(1));
    assert_eq!(run1(strategy, wat, "f", &[Value::I32(99)]), Value::I32(1));
}

fn multi_value_blocks_and_calls(strategy: Strategy) {
    let wat = r#"(module
      (func $swap (param i32 i32) (result i32 i32) local.get 1 local.get 0)
      (func (export "f") (param i32 i32) (result i32 i32 i32)
        (local.get 0) (local.get 1)
        (block (param i32 i32) (result i32 i32) (call $swap))
        (i32.const 7)
        (loop (param i32 i32 i32) (result i32 i32 i32) nop)))"#;
    assert_eq!(
        run(strategy, wat, "f", &[Value::I32(1), Value::I32(2)]).unwrap(),
        vec![Value::I32(2), Value::I32(1), Value::I32(7)]
    );
    let ret = r#"(module (func (export "f") (param i32 i32) (result i32 i32)
        local.get 1 local.get 0 return))"#;
    assert_eq!(
        run(strategy, ret, "f", &[Value::I32(1), Value::I32(2)]).unwrap(),
        vec![Value::I32(2), Value::I32(1)]
    );
}

fn lazy_locals_survive_set(strategy: Strategy) {
    let wat = r#"(module (func (export "f") (param i32) (result i32)
        local.get 0
        (local.set 0 (i32.const 5))
        local.get 0
        i32.sub))"#;
    assert_eq!(run1(strategy, wat, "f", &[Value::I32(12)]), Value::I32(7));
    let in_if = r#"(module (func (export "f") (param i32 i32) (result i32)
        local.get 0
        (if (local.get 1) (then (local.set 0 (i32.const 100))))
        local.get 0
        i32.add))"#;
    assert_eq!(
        run1(strategy, in_if, "f", &[Value::I32(1), Value::I32(0)]),
        Value::I32(2)
    );
    assert_eq!(
        run1(strategy, in_if, "f", &[Value::I32(1), Value::I32(1)]),
        Value::I32(101)
    );
}

fn if_else_select_and_unreachable_code(strategy: Strategy) {
    let wat = r#"(module (func (export "f") (param i32) (result i32)
        (if (result i32) (i32.lt_s (local.get 0) (i32.const 0))
          (then (i32.const -1))
          (else (select (i32.const 1) (i32.const 0) (local.get 0))))
        (block (result i32) (br 0 (i32.const 3)) (i32.add) (if (then)) (i32.const 9))
        i32.add))"#;
    assert_eq!(run1(strategy, wat, "f", &[Value::I32(-5)]), Value::I32(2));
    assert_eq!(run1(strategy, wat, "f", &[Value::I32(0)]), Value::I32(3));
    assert_eq!(run1(strategy, wat, "f", &[Value::I32(4)]), Value::I32(4));
    let trap = r#"(module (func (export "f") unreachable))"#;
    assert_eq!(trap_of(strategy, trap, "f", &[]), TrapKind::Unreachable);
}

/// Unbounded recursion with work after the call (`r`) and as the last instruction
/// (`f`, with an i64 argument).
const RECURSE: &str = r#"(module
  (func $r (export "r") (param i32) (result i32) (i32.add (call $r (local.get 0)) (i32.const 1)))
  (func $f (export "f") (param i64) (result i64)
    local.get 0 i64.const 1 i64.add call $f)
  (func (export "ok") (result i32) (i32.const 42)))"#;

/// Each unbounded recursion traps, and the store runs calls afterwards.
fn exhaust_then_recover(strategy: Strategy) {
    let (store, instance) = setup(strategy, RECURSE);
    for _ in 0..2 {
        let err = call(&store, &instance, "r", &[Value::I32(0)]).unwrap_err();
        assert_eq!(err.trap_kind(), Some(TrapKind::CallStackExhausted));
        assert_eq!(
            call(&store, &instance, "ok", &[]).unwrap(),
            [Value::I32(42)]
        );
        let err = call(&store, &instance, "f", &[Value::I64(0)]).unwrap_err();
        assert_eq!(err.trap_kind(), Some(TrapKind::CallStackExhausted));
        assert_eq!(
            call(&store, &instance, "ok", &[]).unwrap(),
            [Value::I32(42)]
        );
    }
}

fn infinite_recursion_is_a_trap(strategy: Strategy) {
    exhaust_then_recover(strategy);
}

fn infinite_recursion_on_small_thread(strategy: Strategy) {
    on_thread(256 * 1024, move || exhaust_then_recover(strategy));
}

fn fused_loop_counters(strategy: Strategy) {
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
    assert_eq!(
        run1(strategy, wat, "lt_u", &[Value::I32(10)]),
        Value::I32(4)
    );
    assert_eq!(run1(strategy, wat, "lt_u", &[Value::I32(0)]), Value::I32(1));
    // -7 < 0 only when signed.
    assert_eq!(run1(strategy, wat, "lt_s", &[Value::I32(0)]), Value::I32(4));
    assert_eq!(
        run1(strategy, wat, "lt_s", &[Value::I32(-5)]),
        Value::I32(2)
    );
    assert_eq!(run1(strategy, wat, "ne", &[Value::I32(-5)]), Value::I32(-5));
}

fn jump_to_a_fused_branch_runs_the_branch_alone(strategy: Strategy) {
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
    assert_eq!(run1(strategy, wat, "f", &[Value::I32(3)]), Value::I32(6));
}
