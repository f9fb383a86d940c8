//! Active data segments as the native engine applies them when it can: one copy-on-write
//! image of a module's segments mapped over a fresh memory (`store/image.rs`). The same
//! checks run on the interpreter, which copies, so both must give the same memory:
//! overlapping and sparse segments, independent instances of one module, growth, the
//! segments dropped after instantiation, and no data at all when an element segment
//! traps first.

use crate::common::{engine, instantiate_err, module};
use runtime::{Instance, Store, Strategy, TrapKind, Value};

on_both_engines!(
    overlapping_and_sparse_segments_give_the_copied_bytes,
    instances_of_one_module_do_not_share_writes,
    an_imaged_memory_grows_and_keeps_its_data,
    active_segments_are_dropped_after_instantiation,
    an_element_trap_leaves_a_defined_memory_without_data,
    an_empty_segment_below_the_others_writes_nothing,
);

/// Segments that overlap (the later wins), straddle a host page boundary, sit apart by
/// pages, and one empty one; page 3 of 4 is touched by none.
const SEGMENTS: &str = r#"(module
    (memory (export "mem") 4)
    (data (i32.const 100) "aaaaaaaaaa")
    (data (i32.const 104) "BB")
    (data (i32.const 4094) "straddle")
    (data (i32.const 65536) "")
    (data (i32.const 131072) "far")
    (data (i32.const 262141) "end")
    (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
    (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#;

/// What `SEGMENTS` gives, byte by byte, as copying them in order would.
fn expected_segments() -> Vec<u8> {
    let mut mem = vec![0u8; 4 * 65536];
    let mut put = |at: usize, bytes: &[u8]| mem[at..at + bytes.len()].copy_from_slice(bytes);
    put(100, b"aaaaaaaaaa");
    put(104, b"BB");
    put(4094, b"straddle");
    put(131072, b"far");
    put(262141, b"end");
    mem
}

fn whole_memory(store: &Store, instance: Instance) -> Vec<u8> {
    let memory = instance.get_memory(store, "mem").unwrap();
    let mut buf = vec![0; memory.data_size(store).unwrap()];
    memory.read(store, 0, &mut buf).unwrap();
    buf
}

fn call_i32(store: &Store, instance: Instance, name: &str, args: &[i32]) -> Option<i32> {
    let args: Vec<Value> = args.iter().map(|&a| Value::I32(a)).collect();
    let out = instance
        .get_func(store, name)
        .unwrap()
        .call(store, &args)
        .unwrap();
    match out.as_slice() {
        [Value::I32(x)] => Some(*x),
        [] => None,
        other => panic!("{name} returned {other:?}"),
    }
}

fn overlapping_and_sparse_segments_give_the_copied_bytes(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let m = module(store.engine(), SEGMENTS);
    let instance = Instance::new(&store, &m, None).unwrap();
    let expected = expected_segments();
    assert!(whole_memory(&store, instance) == expected, "memory differs");
    // What Wasm code reads, too (a native load goes to the mapping directly).
    for at in [
        100, 104, 105, 106, 4094, 4095, 4096, 4101, 4102, 131072, 262143,
    ] {
        let got = call_i32(&store, instance, "load", &[at]).unwrap();
        assert_eq!(got, expected[at as usize] as i32, "byte {at}");
    }
}

fn instances_of_one_module_do_not_share_writes(strategy: Strategy) {
    let engine = engine(strategy);
    let m = module(&engine, SEGMENTS);
    let store = Store::new(&engine);
    let first = Instance::new(&store, &m, None).unwrap();
    // Writes into an image page (by code and by the host) stay in this instance.
    call_i32(&store, first, "store", &[104, b'x' as i32]);
    let memory = first.get_memory(&store, "mem").unwrap();
    memory.write(&store, 131072, b"FAR").unwrap();
    let second = Instance::new(&store, &m, None).unwrap();
    let other_store = Store::new(&engine);
    let third = Instance::new(&other_store, &m, None).unwrap();
    let expected = expected_segments();
    assert!(whole_memory(&store, second) == expected, "second instance");
    assert!(whole_memory(&other_store, third) == expected, "other store");
    assert_eq!(call_i32(&store, first, "load", &[104]), Some(b'x' as i32));
    assert_eq!(
        call_i32(&store, first, "load", &[131073]),
        Some(b'A' as i32)
    );
    assert_eq!(call_i32(&store, second, "load", &[104]), Some(b'B' as i32));
}

fn an_imaged_memory_grows_and_keeps_its_data(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let src = r#"(module
        (memory (export "mem") 1)
        (data (i32.const 10) "hello")
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
        (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;
    let instance = Instance::new(&store, &module(store.engine(), src), None).unwrap();
    assert_eq!(call_i32(&store, instance, "grow", &[3]), Some(1));
    let mem = whole_memory(&store, instance);
    assert_eq!(mem.len(), 4 * 65536);
    assert_eq!(&mem[10..15], b"hello");
    assert!(mem[..10].iter().chain(&mem[15..]).all(|&b| b == 0));
    assert_eq!(call_i32(&store, instance, "load", &[14]), Some(b'o' as i32));
    assert_eq!(call_i32(&store, instance, "load", &[3 * 65536]), Some(0));
}

fn active_segments_are_dropped_after_instantiation(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let src = r#"(module
        (memory 1)
        (data (i32.const 0) "abc")
        (func (export "init") (param i32) (memory.init 0 (i32.const 0) (i32.const 0) (local.get 0))))"#;
    let instance = Instance::new(&store, &module(store.engine(), src), None).unwrap();
    let init = instance.get_func(&store, "init").unwrap();
    // A dropped segment has length 0: an empty init succeeds, any other traps.
    init.call(&store, &[Value::I32(0)]).unwrap();
    let e = init.call(&store, &[Value::I32(1)]).unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::MemoryOutOfBounds), "{e}");
}

/// An element segment puts the instance's `peek` into another instance's table, then a
/// later element segment traps: the instance fails before its data segments, and `peek`,
/// still reachable through the table, must see a memory without them.
fn an_element_trap_leaves_a_defined_memory_without_data(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let provider = crate::common::instantiate(
        &store,
        r#"(module (table (export "tab") 2 2 funcref))"#,
        Some("p"),
    );
    let e = instantiate_err(
        &store,
        r#"(module
            (import "p" "tab" (table 2 funcref))
            (memory 1)
            (func $peek (result i32) (i32.load8_u (i32.const 7)))
            (elem (i32.const 0) $peek)
            (elem (i32.const 2) $peek)
            (data (i32.const 7) "x"))"#,
        None,
    );
    assert_eq!(e.trap_kind(), Some(TrapKind::TableOutOfBounds), "{e}");
    let table = provider.get_table(&store, "tab").unwrap();
    let Value::FuncRef(Some(peek)) = table.get(&store, 0).unwrap() else {
        panic!("the first element segment was not applied");
    };
    assert_eq!(peek.call(&store, &[]).unwrap(), [Value::I32(0)]);
}

/// An empty segment below every other one (the fuzzer's find: building the image
/// subtracted the image's start from its offset, an overflow in debug builds).
fn an_empty_segment_below_the_others_writes_nothing(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let m = module(
        store.engine(),
        r#"(module
            (memory (export "mem") 1)
            (data (i32.const 0) "")
            (data (i32.const 8192) "xy")
            (data (i32.const 4096) ""))"#,
    );
    let instance = Instance::new(&store, &m, None).unwrap();
    let mut expected = vec![0u8; 65536];
    expected[8192..8194].copy_from_slice(b"xy");
    assert!(whole_memory(&store, instance) == expected, "memory differs");
}
