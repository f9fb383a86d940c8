//! The fuzzer's operator coverage (feature `op-coverage`): the interpreter reports the
//! operators it runs, plain or fused, with their operands, and the counts tell edge
//! operands apart. Run with `cargo test -p harness --features op-coverage --test op_coverage`
//! (not part of `cargo test --workspace`: the feature would be on for every crate of that
//! build, the instruction-count check included).
#![cfg(feature = "op-coverage")]

use harness::fuzz::coverage::{self, Coverage};
use runtime::{Config, Engine, Instance, Module, Store, Strategy, Value};

const WAT: &str = r#"(module
  (func (export "run") (param i32 i32) (result i32)
    (local $i i32)
    ;; i32.add on an edge operand (MIN), i32.mul on none.
    (drop (i32.add (i32.const 0x80000000) (local.get 0)))
    (drop (i32.mul (i32.const 3) (local.get 1)))
    ;; A lowered SIMD instruction and a SIMD operator run out of line.
    (drop (f32x4.add (v128.const i32x4 0 0 0 0) (v128.const i32x4 1 2 3 4)))
    (drop (i16x8.add_sat_s (v128.const i16x8 0x7fff 0x7fff 0x7fff 0x7fff 0x7fff 0x7fff 0x7fff 0x7fff)
                           (v128.const i16x8 1 1 1 1 1 1 1 1)))
    ;; A loop counter fused with its compare-and-branch: reported as i32.add and
    ;; i32.lt_s.
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 7)))
      (br_if $l (i32.lt_s (local.get $i) (local.get 1))))
    (local.get $i)))"#;

fn run(strategy: Strategy) -> Coverage {
    let engine = Engine::new(Config::new(strategy)).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let store = Store::new(&engine);
    let instance = Instance::new(&store, &module, None).unwrap();
    let f = instance.get_func(&store, "run").unwrap();
    let mut counts = Coverage::default();
    counts.take_thread_counts();
    coverage::install();
    let result = f.call(&store, &[Value::I32(5), Value::I32(100)]).unwrap();
    assert_eq!(result, vec![Value::I32(105)]);
    let mut counts = Coverage::default();
    counts.take_thread_counts();
    counts
}

#[test]
fn the_interpreter_reports_operators_and_edge_operands() {
    let c = run(Strategy::Interpreter);
    let get = |name: &str| c.ops.get(name).copied().unwrap_or_default();
    assert_eq!(get("i32.add").executed, 1 + 15, "{c:?}");
    // MIN + 5, and the counter at 0 and at 63 (a shift count past 32 bits: an edge).
    assert_eq!(get("i32.add").with_edge, 3, "{c:?}");
    assert_eq!((get("i32.mul").executed, get("i32.mul").with_edge), (1, 0));
    assert_eq!(get("f32x4.add").executed, 1, "{c:?}");
    assert_eq!(get("f32x4.add").with_edge, 1, "zero vector: {c:?}");
    assert_eq!(get("i16x8.add_sat_s").with_edge, 1, "every lane MAX: {c:?}");
    assert_eq!(get("i32.lt_s").executed, 15, "fused loop counter: {c:?}");
    let (executed, edged) = c.distinct();
    assert_eq!((executed, edged), (5, 4), "{c:?}");
}

#[test]
fn the_native_engine_reports_nothing() {
    let c = run(Strategy::Native);
    assert!(c.ops.is_empty(), "{c:?}");
}
