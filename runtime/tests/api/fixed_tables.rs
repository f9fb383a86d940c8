//! Tables whose type fixes their size (`max == min`), which the native engine checks
//! against the constant and whose element base it hoists out of loops
//! (`native/translate/variables.rs`, `table_elem`); and memory accesses after a call,
//! whose length the native engine no longer preloads under signal traps
//! (`native/translate/memory.rs`, `length_checked`). Every check must trap as before.

use runtime::{Config, Instance, Module, Store, Strategy, TrapKind, Value};

use crate::common::{call, engine, engine_with, instantiate, instantiate_err, setup, trap_kind};

on_both_engines!(
    fixed_size_table_checks_in_loops,
    fixed_size_table64_checks_all_index_bits,
    imported_fixed_size_table,
    memory_accesses_after_a_growing_call,
);

/// `sum(i, n)` calls element `i` of a `(table 3 3)` n times in a loop (the index is
/// loop-invariant, so the native engine hoists the element's address).
const FIXED: &str = r#"(module
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (table $t 3 3 funcref)
  (elem (table $t) (i32.const 0) func $inc $twice)
  (elem declare func $void)
  (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $twice (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func $void)
  (func (export "sum") (param $i i32) (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (call_indirect $t (type $ii) (local.get $acc) (local.get $i)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $acc))
  (func (export "get_is_null") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0))))
  (func (export "set_void") (param i32) (table.set $t (local.get 0) (ref.func $void)))
  (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
  (func (export "size") (result i32) (table.size $t)))"#;

fn fixed_size_table_checks_in_loops(strategy: Strategy) {
    let (store, inst) = setup(strategy, FIXED);
    let sum = |i: i32, n: i32| call(&store, &inst, "sum", &[Value::I32(i), Value::I32(n)]);
    let i32_arg = |name: &str, x: i32| call(&store, &inst, name, &[Value::I32(x)]);
    assert_eq!(sum(0, 5).unwrap(), vec![Value::I32(5)]);
    // 0 doubled stays 0: a loop of `twice` from 0.
    assert_eq!(sum(1, 3).unwrap(), vec![Value::I32(0)]);
    assert_eq!(trap_kind(sum(2, 1)), TrapKind::UninitializedElement);
    // No call made: the check sits inside the loop, after the exit test.
    assert_eq!(sum(3, 0).unwrap(), vec![Value::I32(0)]);
    for i in [3, 4, -1, i32::MIN] {
        assert_eq!(
            trap_kind(sum(i, 2)),
            TrapKind::UndefinedElement,
            "index {i}"
        );
        assert_eq!(
            trap_kind(i32_arg("get_is_null", i)),
            TrapKind::TableOutOfBounds,
            "get {i}"
        );
        assert_eq!(
            trap_kind(i32_arg("set_void", i)),
            TrapKind::TableOutOfBounds,
            "set {i}"
        );
    }
    // The size cannot change: growing by 0 succeeds, by 1 fails, and the table works on.
    assert_eq!(i32_arg("grow", 0).unwrap(), vec![Value::I32(3)]);
    assert_eq!(i32_arg("grow", 1).unwrap(), vec![Value::I32(-1)]);
    assert_eq!(
        call(&store, &inst, "size", &[]).unwrap(),
        vec![Value::I32(3)]
    );
    assert_eq!(sum(0, 4).unwrap(), vec![Value::I32(4)]);
    i32_arg("set_void", 2).unwrap();
    assert_eq!(trap_kind(sum(2, 1)), TrapKind::IndirectCallTypeMismatch);
    assert_eq!(i32_arg("get_is_null", 2).unwrap(), vec![Value::I32(0)]);
}

fn fixed_size_table64_checks_all_index_bits(strategy: Strategy) {
    let (store, inst) = crate::memory64::setup(
        strategy,
        r#"(module
          (type $r (func (result i32)))
          (table $t i64 2 2 funcref)
          (elem (table $t) (i64.const 0) func $seven $eight)
          (func $seven (result i32) (i32.const 7))
          (func $eight (result i32) (i32.const 8))
          (func (export "call") (param i64) (result i32)
            (call_indirect $t (type $r) (local.get 0))))"#,
    );
    let call64 = |i: u64| call(&store, &inst, "call", &[Value::I64(i as i64)]);
    assert_eq!(call64(1).unwrap(), vec![Value::I32(8)]);
    // Low 32 bits in bounds, high bits not.
    for i in [2, 0x1_0000_0000, 0x1_0000_0001, u64::MAX] {
        assert_eq!(trap_kind(call64(i)), TrapKind::UndefinedElement, "{i:#x}");
    }
}

fn imported_fixed_size_table(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    instantiate(
        &store,
        r#"(module
          (table (export "t3") 3 3 funcref)
          (table (export "t35") 3 5 funcref)
          (table (export "t4") 4 4 funcref))"#,
        Some("m"),
    );
    // Only a table of exactly the declared size can be imported as a fixed one.
    for (name, why) in [
        ("t35", "maximum size mismatch"),
        ("t4", "maximum size mismatch"),
    ] {
        let e = instantiate_err(
            &store,
            &format!(r#"(module (import "m" "{name}" (table 3 3 funcref)))"#),
            None,
        );
        assert!(e.to_string().contains(why), "{name}: {e}");
    }
    let inst = instantiate(
        &store,
        r#"(module
          (type $r (func (result i32)))
          (import "m" "t3" (table $t 3 3 funcref))
          (elem (table $t) (i32.const 2) func $nine)
          (func $nine (result i32) (i32.const 9))
          (func (export "call") (param i32) (result i32)
            (call_indirect $t (type $r) (local.get 0))))"#,
        None,
    );
    let ci = |i: i32| call(&store, &inst, "call", &[Value::I32(i)]);
    assert_eq!(ci(2).unwrap(), vec![Value::I32(9)]);
    assert_eq!(trap_kind(ci(0)), TrapKind::UninitializedElement);
    assert_eq!(trap_kind(ci(3)), TrapKind::UndefinedElement);
}

/// `f(addr)` loads from address 0, calls a function that grows the memory by a page,
/// then loads from `addr`: in bounds only after the grow. With and without signal
/// traps (the native engine reloads the memory's base, and its length only without).
fn memory_accesses_after_a_growing_call(strategy: Strategy) {
    const SRC: &str = r#"(module
      (memory 1 4)
      (func $grow (drop (memory.grow (i32.const 1))))
      (func (export "f") (param i32) (result i32)
        (drop (i32.load (i32.const 0)))
        (call $grow)
        (i32.load (local.get 0)))
      (func (export "big_offset") (param i32) (result i32)
        (drop (i32.load (i32.const 0)))
        (call $grow)
        (i32.load offset=0xfffffffd (local.get 0))))"#;
    for signal_traps in [true, false] {
        let engine = engine_with(Config::new(strategy).signal_traps(signal_traps));
        let store = Store::new(&engine);
        let module = Module::new(&engine, SRC).unwrap();
        let inst = Instance::new(&store, &module, None).unwrap();
        let f = |name: &str, addr: i32| call(&store, &inst, name, &[Value::I32(addr)]);
        // 1 page, grown to 2: 65536 is in bounds after the call.
        assert_eq!(
            f("f", 65536).unwrap(),
            vec![Value::I32(0)],
            "{signal_traps}"
        );
        // Grown to 3 pages: 4 * 65536 is out of bounds.
        assert_eq!(
            trap_kind(f("f", 4 * 65536)),
            TrapKind::MemoryOutOfBounds,
            "{signal_traps}"
        );
        // Grown to 4 pages. `offset + 4` exceeds the 4 GiB guard, so even with signal
        // traps this access has a check, which loads the length itself.
        assert_eq!(
            trap_kind(f("big_offset", 0)),
            TrapKind::MemoryOutOfBounds,
            "{signal_traps}"
        );
    }
}
