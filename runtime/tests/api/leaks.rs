//! Instantiating and compiling leak neither code nor memory.
//!
//! One test per engine, run alone in a child process (`isolated`), because resident
//! memory is a process-wide figure that other tests running in parallel threads would
//! disturb.

use runtime::{Engine, Error, Instance, Module, Store, Strategy, TrapKind, Value};

use crate::common::{engine, isolated, test_path};

on_both_engines!(engine_does_not_leak);

/// Resident set size in bytes, from /proc (Linux).
fn rss() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// A module with a memory, a table and a start function that writes memory, fills the
/// table, then traps: every instantiation fails after allocating everything.
const TRAPPING_START: &str = r#"(module
    (memory 1)
    (table 8 funcref)
    (elem (i32.const 0) $f $f $f)
    (func $f (result i32) (i32.const 7))
    (func $start
        (i32.store (i32.const 64) (i32.const 42))
        (table.fill (i32.const 3) (ref.func $f) (i32.const 5))
        (drop (call_indirect (result i32) (i32.const 1)))
        unreachable)
    (start $start))"#;

/// The documented bound: 10,000 instantiations, each with a fresh 64 KiB memory and
/// its own VM context, may leave at most this much resident memory behind (allocator
/// slack, not per-instance garbage: a leak of one memory each would be 640 MiB).
const RSS_GROWTH_BOUND: usize = 32 * 1024 * 1024;

fn instantiate_many(engine: &Engine, module: &Module, count: usize) {
    for _ in 0..count {
        let store = Store::new(engine);
        match Instance::new(&store, module, None) {
            Err(Error::Start { source, .. }) => {
                assert_eq!(source.trap_kind(), Some(TrapKind::Unreachable))
            }
            other => panic!("expected a start-function trap, got {other:?}"),
        }
    }
}

/// One test function per engine, so nothing else in its process allocates while it
/// measures.
fn engine_does_not_leak(strategy: Strategy) {
    isolated(
        &test_path(module_path!(), "engine_does_not_leak", strategy),
        || {
            trapping_instantiations_do_not_grow_resident_memory(strategy);
            recompiling_a_module_frees_its_code(strategy);
            compiling_and_calling_do_not_grow_resident_memory(strategy);
        },
    );
}

fn trapping_instantiations_do_not_grow_resident_memory(strategy: Strategy) {
    let engine = engine(strategy);
    let module = Module::new(&engine, TRAPPING_START).unwrap();
    // Warm up allocator pools and lazily built state before measuring.
    instantiate_many(&engine, &module, 1_000);
    let Some(before) = rss() else {
        eprintln!("no /proc/self/statm: resident memory not measured");
        return;
    };
    instantiate_many(&engine, &module, 10_000);
    let after = rss().unwrap();
    eprintln!("resident memory: {before} bytes before, {after} bytes after 10,000 instantiations");
    assert!(
        after <= before + RSS_GROWTH_BOUND,
        "resident memory grew by {} bytes (bound {RSS_GROWTH_BOUND})",
        after.saturating_sub(before)
    );
}

fn recompiling_a_module_frees_its_code(strategy: Strategy) {
    // A compiled module's code memory is released when the last handle drops.
    let engine = engine(strategy);
    let run = |n: usize| {
        for _ in 0..n {
            let module = Module::new(&engine, TRAPPING_START).unwrap();
            let store = Store::new(&engine);
            assert!(Instance::new(&store, &module, None).is_err());
        }
    };
    run(500);
    let Some(before) = rss() else { return };
    run(3_000);
    let after = rss().unwrap();
    eprintln!("resident memory: {before} bytes before, {after} bytes after 3,000 compiles");
    assert!(after <= before + RSS_GROWTH_BOUND);
}

/// Compiling, instantiating, calling and dropping a module with a memory, thousands of
/// times, leaves at most 8 MiB behind (a tighter bound than the trapping cases above,
/// whose 10,000 memories each leave allocator slack).
fn compiling_and_calling_do_not_grow_resident_memory(strategy: Strategy) {
    let engine = engine(strategy);
    let wat = r#"(module (memory 1)
        (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add))"#;
    let run = |n: usize| {
        for _ in 0..n {
            let module = Module::new(&engine, wat).unwrap();
            let store = Store::new(&engine);
            let instance = Instance::new(&store, &module, None).unwrap();
            let f = instance.get_func(&store, "f").unwrap();
            assert_eq!(f.call(&store, &[Value::I32(1)]).unwrap(), [Value::I32(2)]);
        }
    };
    run(500);
    let Some(before) = rss() else { return };
    run(3_000);
    let after = rss().unwrap();
    eprintln!(
        "resident memory: {before} bytes before, {after} bytes after 3,000 compiles and calls"
    );
    assert!(after < before + 8 * 1024 * 1024);
}
