//! Multi-memory (Wasm 3.0) on both engines: every memory instruction on a memory other
//! than 0, distinct from memory 0; bounds, growth and bulk operations per memory; data
//! segments into, and imports of, a second memory.

use runtime::{
    Config, HostModuleBuilder, Instance, MemoryType, Module, Store, Strategy, TrapKind, Value,
    WasmFeatures,
};

use crate::common::{call, engine_with, trap_kind};

on_both_engines!(
    loads_and_stores_on_memory_1_are_distinct_from_memory_0,
    size_and_grow_of_memory_1,
    out_of_bounds_on_memory_1_traps_where_memory_0_does_not,
    fill_and_copy_between_memories,
    data_segments_and_memory_init_into_memory_1,
    v128_accesses_on_memory_1,
    an_imported_second_memory,
    a_memory_imported_twice_is_one_memory,
);

/// A store on the interpreter with multi-memory enabled, and `wat` instantiated in it.
fn setup(strategy: Strategy, wat: &str) -> (Store, Instance) {
    let store = store(strategy);
    let instance = instantiate(&store, wat);
    (store, instance)
}

fn store(strategy: Strategy) -> Store {
    let config = Config::new(strategy).features(WasmFeatures::WASM2 | WasmFeatures::MULTI_MEMORY);
    Store::new(&engine_with(config))
}

fn instantiate(store: &Store, wat: &str) -> Instance {
    let module =
        Module::new(store.engine(), wat).unwrap_or_else(|e| panic!("does not compile: {e}\n{wat}"));
    Instance::new(store, &module, None).unwrap_or_else(|e| panic!("instantiation: {e}\n{wat}"))
}

fn call1(store: &Store, inst: &Instance, name: &str, args: &[Value]) -> Value {
    let r = call(store, inst, name, args).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(r.len(), 1, "{name}");
    r[0].clone()
}

/// Memory 0 of two pages, memory 1 of one (at most two), memory 2 of one: every scalar
/// access width, with an offset, on memory 1 (and the same addresses on memory 0).
const TWO_MEMORIES: &str = r#"(module
  (memory $m0 2)
  (memory $m1 1 2)
  (memory $m2 1)
  (func (export "store0") (param i32 i64) (i64.store $m0 (local.get 0) (local.get 1)))
  (func (export "load0") (param i32) (result i64) (i64.load $m0 (local.get 0)))
  (func (export "store1") (param i32 i64) (i64.store $m1 (local.get 0) (local.get 1)))
  (func (export "load1") (param i32) (result i64) (i64.load $m1 (local.get 0)))
  (func (export "widths1") (param i32) (result i64)
    (i32.store8 $m1 offset=1 (local.get 0) (i32.const 0x81))
    (i32.store16 $m1 offset=2 (local.get 0) (i32.const 0x8382))
    (i64.store32 $m1 offset=4 (local.get 0) (i64.const 0x87868584))
    (i64.add
      (i64.add
        (i64.extend_i32_s (i32.load8_s $m1 offset=1 (local.get 0)))
        (i64.load16_u $m1 offset=2 (local.get 0)))
      (i64.add
        (i64.load32_s $m1 offset=4 (local.get 0))
        (i64.extend_i32_u (i32.load16_s $m1 offset=2 (local.get 0))))))
  (func (export "floats1") (param f32 f64) (result f64)
    (f32.store $m1 (i32.const 16) (local.get 0))
    (f64.store $m1 (i32.const 24) (local.get 1))
    (f64.add (f64.promote_f32 (f32.load $m1 (i32.const 16))) (f64.load $m1 (i32.const 24))))
  (func (export "i32_1") (param i32) (result i32)
    (i32.store $m1 (i32.const 32) (local.get 0))
    (i32.load $m1 (i32.const 32)))
  (func (export "size1") (result i32) (memory.size $m1))
  (func (export "size2") (result i32) (memory.size $m2))
  (func (export "grow1") (param i32) (result i32) (memory.grow $m1 (local.get 0)))
  (func (export "fill1") (param i32 i32 i32)
    (memory.fill $m1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_1_to_2") (param i32 i32 i32)
    (memory.copy $m2 $m1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_2_to_0") (param i32 i32 i32)
    (memory.copy $m0 $m2 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load2") (param i32) (result i64) (i64.load $m2 (local.get 0))))"#;

fn loads_and_stores_on_memory_1_are_distinct_from_memory_0(strategy: Strategy) {
    let (store, inst) = setup(strategy, TWO_MEMORIES);
    call(
        &store,
        &inst,
        "store0",
        &[Value::I32(8), Value::I64(0x1111)],
    )
    .unwrap();
    call(
        &store,
        &inst,
        "store1",
        &[Value::I32(8), Value::I64(0x2222)],
    )
    .unwrap();
    assert_eq!(
        call1(&store, &inst, "load0", &[Value::I32(8)]),
        Value::I64(0x1111)
    );
    assert_eq!(
        call1(&store, &inst, "load1", &[Value::I32(8)]),
        Value::I64(0x2222)
    );
    assert_eq!(
        call1(&store, &inst, "load2", &[Value::I32(8)]),
        Value::I64(0)
    );

    // -127 + 0x8382 + (0x87868584 as i32) + (0x8382 as i16 as i32 as u32)
    let expected =
        -127 + 0x8382 + (0x8786_8584u32 as i32 as i64) + (0x8382u16 as i16 as i32 as u32 as i64);
    assert_eq!(
        call1(&store, &inst, "widths1", &[Value::I32(40)]),
        Value::I64(expected)
    );
    assert_eq!(
        call1(
            &store,
            &inst,
            "floats1",
            &[Value::F32(1.5f32.to_bits()), Value::F64(2.25f64.to_bits())]
        ),
        Value::F64(3.75f64.to_bits())
    );
    assert_eq!(
        call1(&store, &inst, "i32_1", &[Value::I32(-5)]),
        Value::I32(-5)
    );
    // Memory 0 saw none of memory 1's stores.
    assert_eq!(
        call1(&store, &inst, "load0", &[Value::I32(40)]),
        Value::I64(0)
    );
}

fn size_and_grow_of_memory_1(strategy: Strategy) {
    let (store, inst) = setup(strategy, TWO_MEMORIES);
    assert_eq!(call1(&store, &inst, "size1", &[]), Value::I32(1));
    assert_eq!(
        call1(&store, &inst, "grow1", &[Value::I32(1)]),
        Value::I32(1)
    );
    assert_eq!(call1(&store, &inst, "size1", &[]), Value::I32(2));
    // Past its maximum of two pages: -1, and nothing changes.
    assert_eq!(
        call1(&store, &inst, "grow1", &[Value::I32(1)]),
        Value::I32(-1)
    );
    assert_eq!(call1(&store, &inst, "size1", &[]), Value::I32(2));
    // The grown page is addressable; the other memories kept their sizes.
    call(
        &store,
        &inst,
        "store1",
        &[Value::I32(65536 + 8), Value::I64(7)],
    )
    .unwrap();
    assert_eq!(
        call1(&store, &inst, "load1", &[Value::I32(65536 + 8)]),
        Value::I64(7)
    );
    assert_eq!(call1(&store, &inst, "size2", &[]), Value::I32(1));
}

fn out_of_bounds_on_memory_1_traps_where_memory_0_does_not(strategy: Strategy) {
    let (store, inst) = setup(strategy, TWO_MEMORIES);
    // Memory 0 has two pages, memory 1 one: address 65536 is in memory 0 only.
    call(&store, &inst, "store0", &[Value::I32(65536), Value::I64(3)]).unwrap();
    assert_eq!(
        call1(&store, &inst, "load0", &[Value::I32(65536)]),
        Value::I64(3)
    );
    let oob = TrapKind::MemoryOutOfBounds;
    assert_eq!(
        trap_kind(call(&store, &inst, "load1", &[Value::I32(65536)])),
        oob
    );
    assert_eq!(
        trap_kind(call(&store, &inst, "load1", &[Value::I32(65536 - 7)])),
        oob
    );
    assert_eq!(
        trap_kind(call(
            &store,
            &inst,
            "store1",
            &[Value::I32(65536), Value::I64(1)]
        )),
        oob
    );
    assert_eq!(
        call1(&store, &inst, "load1", &[Value::I32(65536 - 8)]),
        Value::I64(0)
    );
    let fill = [Value::I32(65530), Value::I32(1), Value::I32(7)];
    assert_eq!(trap_kind(call(&store, &inst, "fill1", &fill)), oob);
}

fn fill_and_copy_between_memories(strategy: Strategy) {
    let (store, inst) = setup(strategy, TWO_MEMORIES);
    call(
        &store,
        &inst,
        "fill1",
        &[Value::I32(100), Value::I32(0xab), Value::I32(4)],
    )
    .unwrap();
    assert_eq!(
        call1(&store, &inst, "load1", &[Value::I32(100)]),
        Value::I64(0xabab_abab)
    );
    assert_eq!(
        call1(&store, &inst, "load0", &[Value::I32(100)]),
        Value::I64(0)
    );
    // Memory 1 -> memory 2 -> memory 0, each to another address.
    call(
        &store,
        &inst,
        "copy_1_to_2",
        &[Value::I32(200), Value::I32(100), Value::I32(8)],
    )
    .unwrap();
    assert_eq!(
        call1(&store, &inst, "load2", &[Value::I32(200)]),
        Value::I64(0xabab_abab)
    );
    call(
        &store,
        &inst,
        "copy_2_to_0",
        &[Value::I32(300), Value::I32(198), Value::I32(8)],
    )
    .unwrap();
    assert_eq!(
        call1(&store, &inst, "load0", &[Value::I32(300)]),
        Value::I64(0xabab_abab_0000)
    );
    // The source is bounds-checked against its own memory (memory 2: one page), not
    // against the destination (memory 0: two).
    let args = [Value::I32(0), Value::I32(65535), Value::I32(2)];
    assert_eq!(
        trap_kind(call(&store, &inst, "copy_2_to_0", &args)),
        TrapKind::MemoryOutOfBounds
    );
}

fn data_segments_and_memory_init_into_memory_1(strategy: Strategy) {
    let wat = r#"(module
      (memory $m0 1)
      (memory $m1 1)
      (data (memory $m1) (i32.const 16) "\01\02\03\04")
      (data $passive "\aa\bb\cc")
      (func (export "load0") (param i32) (result i32) (i32.load $m0 (local.get 0)))
      (func (export "load1") (param i32) (result i32) (i32.load $m1 (local.get 0)))
      (func (export "init1") (param i32 i32 i32)
        (memory.init $m1 $passive (local.get 0) (local.get 1) (local.get 2)))
      (func (export "drop") (data.drop $passive)))"#;
    let (store, inst) = setup(strategy, wat);
    assert_eq!(
        call1(&store, &inst, "load1", &[Value::I32(16)]),
        Value::I32(0x0403_0201)
    );
    assert_eq!(
        call1(&store, &inst, "load0", &[Value::I32(16)]),
        Value::I32(0)
    );
    call(
        &store,
        &inst,
        "init1",
        &[Value::I32(32), Value::I32(1), Value::I32(2)],
    )
    .unwrap();
    assert_eq!(
        call1(&store, &inst, "load1", &[Value::I32(32)]),
        Value::I32(0xccbb)
    );
    assert_eq!(
        call1(&store, &inst, "load0", &[Value::I32(32)]),
        Value::I32(0)
    );
    let past = [Value::I32(65535), Value::I32(0), Value::I32(2)];
    assert_eq!(
        trap_kind(call(&store, &inst, "init1", &past)),
        TrapKind::MemoryOutOfBounds
    );
    call(&store, &inst, "drop", &[]).unwrap();
    let args = [Value::I32(0), Value::I32(0), Value::I32(1)];
    assert_eq!(
        trap_kind(call(&store, &inst, "init1", &args)),
        TrapKind::MemoryOutOfBounds
    );
}

fn v128_accesses_on_memory_1(strategy: Strategy) {
    let wat = r#"(module
      (memory $m0 1)
      (memory $m1 1)
      (func (export "roundtrip") (result i64)
        (v128.store $m1 (i32.const 16) (v128.const i32x4 1 2 3 4))
        (i64x2.extract_lane 1 (v128.load $m1 (i32.const 16))))
      (func (export "memory0") (result i64)
        (i64x2.extract_lane 1 (v128.load $m0 (i32.const 16))))
      (func (export "lanes") (result i32)
        (v128.store32_lane $m1 2 (i32.const 64) (v128.const i32x4 9 8 7 6))
        (i32x4.extract_lane 3
          (v128.load32_lane $m1 3 (i32.const 64) (v128.load32_splat $m1 (i32.const 64)))))
      (func (export "extend_zero") (result i64)
        (i64.store $m1 (i32.const 80) (i64.const -1))
        (i64.add
          (i64x2.extract_lane 1 (v128.load32x2_s $m1 (i32.const 80)))
          (i64x2.extract_lane 1 (v128.load64_zero $m1 (i32.const 80)))))
      (func (export "oob") (drop (v128.load $m1 (i32.const 65521)))))"#;
    let (store, inst) = setup(strategy, wat);
    assert_eq!(
        call1(&store, &inst, "roundtrip", &[]),
        Value::I64(4 << 32 | 3)
    );
    assert_eq!(call1(&store, &inst, "memory0", &[]), Value::I64(0));
    assert_eq!(call1(&store, &inst, "lanes", &[]), Value::I32(7));
    assert_eq!(call1(&store, &inst, "extend_zero", &[]), Value::I64(-1));
    assert_eq!(
        trap_kind(call(&store, &inst, "oob", &[])),
        TrapKind::MemoryOutOfBounds
    );
}

fn an_imported_second_memory(strategy: Strategy) {
    let store = store(strategy);
    let host = HostModuleBuilder::new("env")
        .memory("first", MemoryType::new(1, None))
        .memory("second", MemoryType::new(1, Some(3)))
        .instantiate(&store)
        .expect("host module env");
    let wat = r#"(module
      (import "env" "first" (memory $m0 1))
      (import "env" "second" (memory $m1 1))
      (func (export "store1") (param i32 i32) (i32.store $m1 (local.get 0) (local.get 1)))
      (func (export "load1") (param i32) (result i32) (i32.load $m1 (local.get 0)))
      (func (export "load0") (param i32) (result i32) (i32.load $m0 (local.get 0)))
      (func (export "grow1") (param i32) (result i32) (memory.grow $m1 (local.get 0))))"#;
    let inst = instantiate(&store, wat);
    let second = host.get_memory(&store, "second").unwrap();
    second.write(&store, 4, &[1, 0, 0, 0]).unwrap();
    assert_eq!(
        call1(&store, &inst, "load1", &[Value::I32(4)]),
        Value::I32(1)
    );
    assert_eq!(
        call1(&store, &inst, "load0", &[Value::I32(4)]),
        Value::I32(0)
    );
    call(
        &store,
        &inst,
        "store1",
        &[Value::I32(8), Value::I32(0x0102_0304)],
    )
    .unwrap();
    let mut bytes = [0; 4];
    second.read(&store, 8, &mut bytes).unwrap();
    assert_eq!(bytes, [4, 3, 2, 1]);
    assert_eq!(
        call1(&store, &inst, "load0", &[Value::I32(8)]),
        Value::I32(0)
    );
    assert_eq!(
        call1(&store, &inst, "grow1", &[Value::I32(2)]),
        Value::I32(1)
    );
    assert_eq!(second.size(&store).unwrap(), 3);
    let first = host.get_memory(&store, "first").unwrap();
    assert_eq!(first.size(&store).unwrap(), 1);
    assert_eq!(
        call1(&store, &inst, "grow1", &[Value::I32(1)]),
        Value::I32(-1)
    );
}

fn a_memory_imported_twice_is_one_memory(strategy: Strategy) {
    let store = store(strategy);
    let host = HostModuleBuilder::new("env")
        .memory("mem", MemoryType::new(1, None))
        .instantiate(&store)
        .expect("host module env");
    // Memories 0 and 1 are the same store memory: growing it through memory 1 must be
    // seen through memory 0, whose view the interpreter caches.
    let wat = r#"(module
      (import "env" "mem" (memory $a 1))
      (import "env" "mem" (memory $b 1))
      (func (export "grow_b_then_use_a") (result i32)
        (drop (memory.grow $b (i32.const 1)))
        (i32.store $a (i32.const 65536) (i32.const 42))
        (i32.add (memory.size $a) (i32.load $b (i32.const 65536)))))"#;
    let inst = instantiate(&store, wat);
    assert_eq!(
        call1(&store, &inst, "grow_b_then_use_a", &[]),
        Value::I32(44)
    );
    assert_eq!(
        host.get_memory(&store, "mem")
            .unwrap()
            .size(&store)
            .unwrap(),
        2
    );
}
