//! memory64 (Wasm 3.0) on both engines: i64 addresses and u64 offsets whose sum is
//! bounds checked without wrapping, i64 sizes and `grow` results (-1 on failure), bulk
//! operations and segments with i64 operands, the API's view of 64-bit memories, and
//! address types on import (tables too). 64-bit tables: `table64.rs`.
//!
//! The first test is the defect that made both engines refuse memory64 until they
//! implemented it: the native engine let an `i64.store` at -8 write in front of the
//! memory, and the interpreter truncated addresses to 32 bits, so stores at 4 GiB and
//! 1 TiB landed at offset 0.

use runtime::{
    Config, Error, HostModuleBuilder, Instance, LinkErrorKind, MemoryType, Module, RefType, Store,
    Strategy, TableType, TrapKind, Value, WasmFeatures,
};

use crate::common::{call, engine_with, trap_kind};

on_both_engines!(
    stores_past_the_end_trap_and_write_nothing,
    address_plus_offset_never_wraps,
    in_bounds_accesses_with_large_offsets,
    size_and_grow_are_i64_and_a_failed_grow_is_minus_1,
    bulk_operations_and_data_segments_take_i64_operands,
    memory_copy_between_32_and_64_bit_memories,
    v128_accesses_on_a_64_bit_memory,
    the_api_reads_a_64_bit_memory,
    address_types_must_match_on_import,
);

pub(crate) fn store(strategy: Strategy) -> Store {
    let features = WasmFeatures::WASM2
        | WasmFeatures::MEMORY64
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::TAIL_CALL;
    Store::new(&engine_with(Config::new(strategy).features(features)))
}

pub(crate) fn setup(strategy: Strategy, wat: &str) -> (Store, Instance) {
    let store = store(strategy);
    let module = Module::new(store.engine(), wat)
        .unwrap_or_else(|e| panic!("{strategy:?}: does not compile: {e}\n{wat}"));
    let instance = Instance::new(&store, &module, None)
        .unwrap_or_else(|e| panic!("{strategy:?}: instantiation: {e}\n{wat}"));
    (store, instance)
}

pub(crate) fn call1(store: &Store, inst: &Instance, name: &str, args: &[Value]) -> Value {
    let r = call(store, inst, name, args).unwrap_or_else(|e| panic!("{name}{args:?}: {e}"));
    assert_eq!(r.len(), 1, "{name}");
    r[0].clone()
}

pub(crate) fn i64v(v: u64) -> Value {
    Value::I64(v as i64)
}

/// Every byte of memory `name` is zero.
fn all_zero(store: &Store, inst: &Instance, name: &str) -> bool {
    let m = inst.get_memory(store, name).unwrap();
    m.to_vec(store).unwrap().iter().all(|b| *b == 0)
}

const ONE_PAGE: &str = r#"(module
  (memory (export "mem") i64 1 1)
  (func (export "store") (param i64) (i64.store (local.get 0) (i64.const -1)))
  (func (export "store_const_minus_8") (i64.store (i64.const -8) (i64.const -1)))
  (func (export "store_const_4g") (i64.store (i64.const 0x1_0000_0000) (i64.const -1)))
  (func (export "store_const_1t") (i64.store (i64.const 0x100_0000_0000) (i64.const -1)))
  (func (export "load") (param i64) (result i64) (i64.load (local.get 0)))
)"#;

fn stores_past_the_end_trap_and_write_nothing(strategy: Strategy) {
    let (store, inst) = setup(strategy, ONE_PAGE);
    let oob = TrapKind::MemoryOutOfBounds;
    for addr in [
        0xffff_ffff_ffff_fff8u64,
        0x1_0000_0000,
        0x100_0000_0000,
        0x1_0000_0000 - 8,
        65536 - 7,
        65536,
        u64::MAX,
    ] {
        let r = call(&store, &inst, "store", &[i64v(addr)]);
        assert_eq!(trap_kind(r), oob, "{strategy:?}: store at {addr:#x}");
        let r = call(&store, &inst, "load", &[i64v(addr)]);
        assert_eq!(trap_kind(r), oob, "{strategy:?}: load at {addr:#x}");
    }
    for name in ["store_const_minus_8", "store_const_4g", "store_const_1t"] {
        assert_eq!(trap_kind(call(&store, &inst, name, &[])), oob, "{name}");
    }
    assert!(
        all_zero(&store, &inst, "mem"),
        "{strategy:?}: a trapping store wrote"
    );
    // The last 8 bytes are in bounds.
    call(&store, &inst, "store", &[i64v(65536 - 8)]).unwrap();
    let last = call1(&store, &inst, "load", &[i64v(65536 - 8)]);
    assert_eq!(last, Value::I64(-1), "{strategy:?}");
    assert_eq!(call1(&store, &inst, "load", &[i64v(0)]), Value::I64(0));
}

/// `addr + offset + size` with a u64 offset may exceed 2^64; it must trap, never wrap
/// around to a small address.
fn address_plus_offset_never_wraps(strategy: Strategy) {
    let wat = r#"(module
      (memory i64 1 1)
      (func (export "off_4g") (param i64) (result i32)
        (i32.load8_u offset=0x1_0000_0000 (local.get 0)))
      (func (export "off_max") (param i64) (result i32)
        (i32.load8_u offset=0xffff_ffff_ffff_ffff (local.get 0)))
      (func (export "off_max_minus_7") (param i64) (result i64)
        (i64.load offset=0xffff_ffff_ffff_fff8 (local.get 0)))
      (func (export "store_off_4g") (param i64)
        (i64.store offset=0x1_0000_0000 (local.get 0) (i64.const -1)))
      (func (export "const_wraps") (result i32)
        (i32.load8_u offset=0x1_0000_0000 (i64.const 0xffff_ffff_0000_0000)))
    )"#;
    let (store, inst) = setup(strategy, wat);
    let oob = TrapKind::MemoryOutOfBounds;
    let cases: &[(&str, u64)] = &[
        // Would wrap to address 0 (or 1) in 64-bit arithmetic.
        ("off_4g", 0xffff_ffff_0000_0000),
        ("off_4g", 0xffff_ffff_0000_0001),
        ("off_max", 1),
        ("off_max", 0),
        ("off_max_minus_7", 8),
        ("off_max_minus_7", 0),
        // Plainly past the end.
        ("off_4g", 0),
        ("store_off_4g", 0xffff_ffff_0000_0000),
        ("store_off_4g", 0),
    ];
    for (name, addr) in cases {
        let r = call(&store, &inst, name, &[i64v(*addr)]);
        assert_eq!(trap_kind(r), oob, "{strategy:?}: {name}({addr:#x})");
    }
    assert_eq!(trap_kind(call(&store, &inst, "const_wraps", &[])), oob);
}

/// Offsets and addresses near 2^64 whose sum is in bounds work.
fn in_bounds_accesses_with_large_offsets(strategy: Strategy) {
    let wat = r#"(module
      (memory (export "mem") i64 1 1)
      (func (export "store_at") (param i64 i64)
        (i64.store offset=0x10 (local.get 0) (local.get 1)))
      (func (export "load_at") (param i64) (result i64)
        (i64.load offset=0x10 (local.get 0)))
      (func (export "load_addr_zero_big_offset") (result i32)
        (i32.load offset=0xfffc (i64.const 0)))
    )"#;
    let (store, inst) = setup(strategy, wat);
    call(
        &store,
        &inst,
        "store_at",
        &[i64v(0x100), i64v(0x1122_3344_5566_7788)],
    )
    .unwrap();
    assert_eq!(
        call1(&store, &inst, "load_at", &[i64v(0x100)]),
        Value::I64(0x1122_3344_5566_7788)
    );
    let mut b = [0u8; 8];
    let mem = inst.get_memory(&store, "mem").unwrap();
    mem.read(&store, 0x110, &mut b).unwrap();
    assert_eq!(u64::from_le_bytes(b), 0x1122_3344_5566_7788);
    mem.write(&store, 0xfffc, &[1, 2, 3, 4]).unwrap();
    assert_eq!(
        call1(&store, &inst, "load_addr_zero_big_offset", &[]),
        Value::I32(0x0403_0201)
    );
}

fn size_and_grow_are_i64_and_a_failed_grow_is_minus_1(strategy: Strategy) {
    let wat = r#"(module
      (memory $bounded i64 1 3)
      (memory $unbounded i64 1)
      (memory $small 1 2)
      (func (export "grow") (param i64) (result i64) (memory.grow $bounded (local.get 0)))
      (func (export "size") (result i64) (memory.size $bounded))
      (func (export "grow_unbounded") (param i64) (result i64)
        (memory.grow $unbounded (local.get 0)))
      (func (export "grow_small") (param i32) (result i32) (memory.grow $small (local.get 0)))
      (func (export "grow0") (param i64) (result i64) (memory.grow (local.get 0)))
    )"#;
    let (store, inst) = setup(strategy, wat);
    assert_eq!(call1(&store, &inst, "size", &[]), Value::I64(1));
    assert_eq!(call1(&store, &inst, "grow", &[i64v(3)]), Value::I64(-1));
    assert_eq!(call1(&store, &inst, "grow", &[i64v(1)]), Value::I64(1));
    assert_eq!(call1(&store, &inst, "size", &[]), Value::I64(2));
    // A delta whose low 32 bits are 1 must not be taken for 1.
    let low_bits_one = 0x1_0000_0001;
    assert_eq!(
        call1(&store, &inst, "grow", &[i64v(low_bits_one)]),
        Value::I64(-1)
    );
    assert_eq!(
        call1(&store, &inst, "grow", &[i64v(u64::MAX)]),
        Value::I64(-1)
    );
    assert_eq!(call1(&store, &inst, "grow0", &[i64v(0)]), Value::I64(2));
    assert_eq!(call1(&store, &inst, "size", &[]), Value::I64(2));
    // Within the type's limits (2^48 pages) but beyond any host: fails cleanly.
    for delta in [1u64 << 40, (1 << 48) - 1, 1 << 48, u64::MAX] {
        let r = call1(&store, &inst, "grow_unbounded", &[i64v(delta)]);
        assert_eq!(r, Value::I64(-1), "{strategy:?}: grow by {delta:#x}");
    }
    assert_eq!(
        call1(&store, &inst, "grow_unbounded", &[i64v(2)]),
        Value::I64(1)
    );
    // A 32-bit memory beside them keeps i32 results.
    assert_eq!(
        call1(&store, &inst, "grow_small", &[Value::I32(5)]),
        Value::I32(-1)
    );
    assert_eq!(
        call1(&store, &inst, "grow_small", &[Value::I32(1)]),
        Value::I32(1)
    );
}

fn bulk_operations_and_data_segments_take_i64_operands(strategy: Strategy) {
    let wat = r#"(module
      (memory (export "mem") i64 1 1)
      (data (i64.const 0xfff8) "\aa\bb")
      (data $passive "\01\02\03\04")
      (func (export "fill") (param i64 i32 i64) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
      (func (export "copy") (param i64 i64 i64) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
      (func (export "init") (param i64 i32 i32) (memory.init $passive (local.get 0) (local.get 1) (local.get 2)))
      (func (export "byte") (param i64) (result i32) (i32.load8_u (local.get 0)))
    )"#;
    let (store, inst) = setup(strategy, wat);
    let byte = |addr: u64| call1(&store, &inst, "byte", &[i64v(addr)]);
    assert_eq!(byte(0xfff8), Value::I32(0xaa));
    assert_eq!(byte(0xfff9), Value::I32(0xbb));
    let oob = TrapKind::MemoryOutOfBounds;
    let fill =
        |d: u64, v: i32, n: u64| call(&store, &inst, "fill", &[i64v(d), Value::I32(v), i64v(n)]);
    fill(0x10, 7, 4).unwrap();
    assert_eq!(byte(0x13), Value::I32(7));
    assert_eq!(byte(0x14), Value::I32(0));
    // Lengths and destinations whose low 32 bits are in bounds must not be truncated.
    assert_eq!(trap_kind(fill(0x1_0000_0000, 9, 1)), oob);
    assert_eq!(trap_kind(fill(0, 9, 0x1_0000_0001)), oob);
    assert_eq!(trap_kind(fill(u64::MAX, 9, 2)), oob);
    assert_eq!(
        byte(0),
        Value::I32(0),
        "{strategy:?}: a trapping fill wrote"
    );
    let copy = |d: u64, s: u64, n: u64| call(&store, &inst, "copy", &[i64v(d), i64v(s), i64v(n)]);
    copy(0x20, 0xfff8, 2).unwrap();
    assert_eq!(byte(0x21), Value::I32(0xbb));
    assert_eq!(trap_kind(copy(0, 0x1_0000_0000, 1)), oob);
    assert_eq!(trap_kind(copy(0x1_0000_0000, 0, 1)), oob);
    assert_eq!(trap_kind(copy(0, 0, 0x1_0000_0000)), oob);
    let init = |d: u64, s: i32, n: i32| {
        call(
            &store,
            &inst,
            "init",
            &[i64v(d), Value::I32(s), Value::I32(n)],
        )
    };
    assert_eq!(trap_kind(init(0x1_0000_0000, 0, 1)), oob);
    init(0xfffc, 0, 4).unwrap();
    assert_eq!(byte(0xffff), Value::I32(4));
    // A data segment at an i64 offset past the end fails instantiation.
    let store2 = self::store(strategy);
    let bad = r#"(module (memory i64 1) (data (i64.const 0x1_0000_0000) "x"))"#;
    let module = Module::new(store2.engine(), bad).unwrap();
    let e = Instance::new(&store2, &module, None).unwrap_err();
    assert_eq!(e.trap_kind(), Some(oob), "{strategy:?}: {e}");
}

/// `memory.copy` between a 32-bit and a 64-bit memory: each address has its memory's
/// type, the length the narrower one (i32).
fn memory_copy_between_32_and_64_bit_memories(strategy: Strategy) {
    let wat = r#"(module
      (memory $m32 (export "m32") 1)
      (memory $m64 (export "m64") i64 1)
      (data (memory $m32) (i32.const 8) "\11\22")
      (data (memory $m64) (i64.const 16) "\33\44")
      (func (export "to64") (param i64 i32 i32) (memory.copy $m64 $m32 (local.get 0) (local.get 1) (local.get 2)))
      (func (export "to32") (param i32 i64 i32) (memory.copy $m32 $m64 (local.get 0) (local.get 1) (local.get 2)))
      (func (export "b32") (param i32) (result i32) (i32.load8_u $m32 (local.get 0)))
      (func (export "b64") (param i64) (result i32) (i32.load8_u $m64 (local.get 0)))
    )"#;
    let (store, inst) = setup(strategy, wat);
    let oob = TrapKind::MemoryOutOfBounds;
    call(
        &store,
        &inst,
        "to64",
        &[i64v(0x100), Value::I32(8), Value::I32(2)],
    )
    .unwrap();
    assert_eq!(
        call1(&store, &inst, "b64", &[i64v(0x101)]),
        Value::I32(0x22)
    );
    call(
        &store,
        &inst,
        "to32",
        &[Value::I32(0x200), i64v(16), Value::I32(2)],
    )
    .unwrap();
    assert_eq!(
        call1(&store, &inst, "b32", &[Value::I32(0x201)]),
        Value::I32(0x44)
    );
    let r = call(
        &store,
        &inst,
        "to64",
        &[i64v(0x1_0000_0000), Value::I32(0), Value::I32(1)],
    );
    assert_eq!(trap_kind(r), oob, "{strategy:?}");
    let r = call(
        &store,
        &inst,
        "to32",
        &[Value::I32(0), i64v(0x1_0000_0010), Value::I32(1)],
    );
    assert_eq!(trap_kind(r), oob, "{strategy:?}");
    // The length is an i32: -1 is 4 GiB - 1 bytes, not 2^64 - 1.
    let r = call(
        &store,
        &inst,
        "to32",
        &[Value::I32(0), i64v(0), Value::I32(-1)],
    );
    assert_eq!(trap_kind(r), oob, "{strategy:?}");
}

fn v128_accesses_on_a_64_bit_memory(strategy: Strategy) {
    let wat = r#"(module
      (memory (export "mem") i64 1 1)
      (func (export "store") (param i64 i64)
        (v128.store offset=0x10 (local.get 0) (i64x2.splat (local.get 1))))
      (func (export "load_lane") (param i64) (result i64)
        (i64x2.extract_lane 1
          (v128.load64_lane offset=0x8 1 (local.get 0) (v128.const i64x2 0 0))))
      (func (export "store_lane_4g") (param i64)
        (v128.store8_lane offset=0x1_0000_0000 0 (local.get 0) (v128.const i64x2 -1 -1)))
    )"#;
    let (store, inst) = setup(strategy, wat);
    let oob = TrapKind::MemoryOutOfBounds;
    call(
        &store,
        &inst,
        "store",
        &[i64v(0x20), Value::I64(0x0102_0304_0506_0708)],
    )
    .unwrap();
    assert_eq!(
        call1(&store, &inst, "load_lane", &[i64v(0x28)]),
        Value::I64(0x0102_0304_0506_0708)
    );
    let r = call(&store, &inst, "store", &[i64v(65536 - 0x1f), Value::I64(1)]);
    assert_eq!(trap_kind(r), oob, "{strategy:?}");
    let r = call(
        &store,
        &inst,
        "store",
        &[i64v(0xffff_ffff_ffff_fff0), Value::I64(1)],
    );
    assert_eq!(trap_kind(r), oob, "{strategy:?}");
    let r = call(&store, &inst, "load_lane", &[i64v(0xffff_ffff_ffff_fff8)]);
    assert_eq!(trap_kind(r), oob, "{strategy:?}");
    for addr in [0, 0xffff_ffff_0000_0000] {
        let r = call(&store, &inst, "store_lane_4g", &[i64v(addr)]);
        assert_eq!(trap_kind(r), oob, "{strategy:?}: {addr:#x}");
    }
    let m = inst.get_memory(&store, "mem").unwrap();
    let mut bytes = m.to_vec(&store).unwrap();
    // Only the one in-bounds store wrote: 16 bytes at 0x20 + 0x10.
    assert!(bytes[0x30..0x40].iter().all(|b| *b != 0), "{strategy:?}");
    bytes[0x30..0x40].fill(0);
    assert!(
        bytes.iter().all(|b| *b == 0),
        "{strategy:?}: a trapping store wrote"
    );
}

fn the_api_reads_a_64_bit_memory(strategy: Strategy) {
    let (store, inst) = setup(strategy, ONE_PAGE);
    let mem = inst.get_memory(&store, "mem").unwrap();
    assert!(mem.is_64(&store).unwrap());
    assert!(mem.ty(&store).unwrap().memory64);
    assert_eq!(mem.size(&store).unwrap(), 1);
    assert!(mem.grow(&store, 1).is_err(), "the maximum is 1 page");
    mem.write(&store, 65536 - 4, &[1, 2, 3, 4]).unwrap();
    let mut buf = [0u8; 4];
    mem.read(&store, 65536 - 4, &mut buf).unwrap();
    assert_eq!(buf, [1, 2, 3, 4]);
    assert!(mem.read(&store, 65536 - 3, &mut buf).is_err());
    assert!(mem.read(&store, 0x1_0000_0000, &mut buf).is_err());
    assert!(mem.write(&store, u64::MAX, &[1]).is_err());
    let load = call1(&store, &inst, "load", &[i64v(65536 - 8)]);
    assert_eq!(load, Value::I64(0x0403_0201 << 32));

    // A host memory of a 64-bit type, imported by a module that declares it so.
    let store = self::store(strategy);
    let ty = MemoryType {
        min: 1,
        max: Some(0x1_0000),
        memory64: true,
    };
    let host = HostModuleBuilder::new("env")
        .memory("mem", ty)
        .instantiate(&store)
        .unwrap();
    let m = host.get_memory(&store, "mem").unwrap();
    assert_eq!(m.ty(&store).unwrap(), ty);
    let wat = r#"(module (import "env" "mem" (memory i64 1))
      (func (export "size") (result i64) (memory.size)))"#;
    let module = Module::new(store.engine(), wat).unwrap();
    let inst = Instance::new(&store, &module, None).unwrap();
    assert_eq!(m.grow(&store, 2).unwrap(), 1);
    assert_eq!(call1(&store, &inst, "size", &[]), Value::I64(3));
}

fn address_types_must_match_on_import(strategy: Strategy) {
    let store = store(strategy);
    HostModuleBuilder::new("env")
        .memory("m32", MemoryType::new(1, None))
        .memory(
            "m64",
            MemoryType {
                min: 1,
                max: None,
                memory64: true,
            },
        )
        .table(
            "t64",
            TableType {
                element: RefType::FUNCREF,
                min: 1,
                max: None,
                table64: true,
            },
            Value::FuncRef(None),
        )
        .instantiate(&store)
        .unwrap();
    let cases = [
        r#"(module (import "env" "m32" (memory i64 1)))"#,
        r#"(module (import "env" "m64" (memory 1)))"#,
        r#"(module (import "env" "t64" (table 1 funcref)))"#,
    ];
    for wat in cases {
        let module = Module::new(store.engine(), wat).unwrap();
        match Instance::new(&store, &module, None) {
            Err(Error::Link(e)) => {
                assert_eq!(e.kind, LinkErrorKind::IncompatibleImportType, "{wat}: {e}")
            }
            other => panic!("{strategy:?}: {wat}: {other:?}"),
        }
    }
    let ok = r#"(module (import "env" "m64" (memory i64 1)) (import "env" "t64" (table i64 1 funcref)))"#;
    let module = Module::new(store.engine(), ok).unwrap();
    Instance::new(&store, &module, None).unwrap();
}
