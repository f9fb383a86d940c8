//! table64 (Wasm 3.0) on both engines: tables indexed by i64, for `table.get`/`set`/
//! `size`/`grow` (-1 on failure as an i64), the bulk operations (`table.copy` between a
//! 32-bit and a 64-bit table takes an i32 length), `call_indirect` and
//! `return_call_indirect`, and the API's view of a 64-bit table. Indices whose low 32
//! bits name an element must not reach it.

use runtime::{Strategy, TrapKind, Value};

use crate::common::{call, trap_kind};
use crate::memory64::{call1, i64v, setup};

on_both_engines!(
    table64_get_set_size_grow_and_bulk_operations,
    call_indirect_through_a_64_bit_table,
    the_api_reads_a_64_bit_table,
);

const TABLES: &str = r#"(module
  (table $t64 (export "t64") i64 2 4 funcref)
  (table $t32 (export "t32") 2 funcref)
  (elem (table $t64) (i64.const 1) func $f)
  (elem $passive func $f $f)
  (func $f (result i32) (i32.const 42))
  (func (export "get") (param i64) (result funcref) (table.get $t64 (local.get 0)))
  (func (export "set_null") (param i64) (table.set $t64 (local.get 0) (ref.null func)))
  (func (export "size") (result i64) (table.size $t64))
  (func (export "grow") (param i64) (result i64) (table.grow $t64 (ref.null func) (local.get 0)))
  (func (export "fill") (param i64 i64) (table.fill $t64 (local.get 0) (ref.func $f) (local.get 1)))
  (func (export "init") (param i64 i32 i32) (table.init $t64 $passive (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_to_32") (param i32 i64 i32) (table.copy $t32 $t64 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_to_64") (param i64 i32 i32) (table.copy $t64 $t32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "is_null") (param i64) (result i32) (ref.is_null (table.get $t64 (local.get 0))))
  (func (export "is_null32") (param i32) (result i32) (ref.is_null (table.get $t32 (local.get 0))))
)"#;

fn table64_get_set_size_grow_and_bulk_operations(strategy: Strategy) {
    let (store, inst) = setup(strategy, TABLES);
    let oob = TrapKind::TableOutOfBounds;
    let is_null = |i: u64| call1(&store, &inst, "is_null", &[i64v(i)]);
    assert_eq!(is_null(0), Value::I32(1));
    assert_eq!(is_null(1), Value::I32(0));
    // An index whose low 32 bits are 1 is not element 1.
    for i in [0x1_0000_0001u64, 2, u64::MAX] {
        assert_eq!(
            trap_kind(call(&store, &inst, "get", &[i64v(i)])),
            oob,
            "{i:#x}"
        );
        assert_eq!(
            trap_kind(call(&store, &inst, "set_null", &[i64v(i)])),
            oob,
            "{i:#x}"
        );
    }
    assert_eq!(
        is_null(1),
        Value::I32(0),
        "{strategy:?}: a trapping set wrote"
    );
    call(&store, &inst, "set_null", &[i64v(1)]).unwrap();
    assert_eq!(is_null(1), Value::I32(1));

    assert_eq!(call1(&store, &inst, "size", &[]), Value::I64(2));
    assert_eq!(call1(&store, &inst, "grow", &[i64v(3)]), Value::I64(-1));
    assert_eq!(
        call1(&store, &inst, "grow", &[i64v(0x1_0000_0001)]),
        Value::I64(-1)
    );
    assert_eq!(
        call1(&store, &inst, "grow", &[i64v(u64::MAX)]),
        Value::I64(-1)
    );
    assert_eq!(call1(&store, &inst, "grow", &[i64v(2)]), Value::I64(2));
    assert_eq!(call1(&store, &inst, "size", &[]), Value::I64(4));

    let fill = |d: u64, n: u64| call(&store, &inst, "fill", &[i64v(d), i64v(n)]);
    fill(2, 2).unwrap();
    assert_eq!(is_null(3), Value::I32(0));
    assert_eq!(trap_kind(fill(0x1_0000_0000, 1)), oob);
    assert_eq!(trap_kind(fill(0, 0x1_0000_0001)), oob);
    assert_eq!(
        is_null(0),
        Value::I32(1),
        "{strategy:?}: a trapping fill wrote"
    );

    let init = |d: u64| {
        call(
            &store,
            &inst,
            "init",
            &[i64v(d), Value::I32(0), Value::I32(1)],
        )
    };
    assert_eq!(trap_kind(init(0x1_0000_0000)), oob);
    init(0).unwrap();
    assert_eq!(is_null(0), Value::I32(0));

    // Between a 32-bit and a 64-bit table the length is an i32.
    let to32 = call(
        &store,
        &inst,
        "copy_to_32",
        &[Value::I32(1), i64v(0), Value::I32(1)],
    );
    to32.unwrap();
    let null32 = |i: i32| call1(&store, &inst, "is_null32", &[Value::I32(i)]);
    assert_eq!(null32(1), Value::I32(0));
    let r = call(
        &store,
        &inst,
        "copy_to_32",
        &[Value::I32(0), i64v(0x1_0000_0000), Value::I32(1)],
    );
    assert_eq!(trap_kind(r), oob, "{strategy:?}");
    call(&store, &inst, "set_null", &[i64v(3)]).unwrap();
    call(
        &store,
        &inst,
        "copy_to_64",
        &[i64v(3), Value::I32(1), Value::I32(1)],
    )
    .unwrap();
    assert_eq!(is_null(3), Value::I32(0));
    let r = call(
        &store,
        &inst,
        "copy_to_64",
        &[i64v(u64::MAX), Value::I32(0), Value::I32(1)],
    );
    assert_eq!(trap_kind(r), oob, "{strategy:?}");
}

fn call_indirect_through_a_64_bit_table(strategy: Strategy) {
    let wat = r#"(module
      (type $r (func (result i32)))
      (table i64 3 funcref)
      (elem (i64.const 1) func $seven $eight)
      (func $seven (type $r) (i32.const 7))
      (func $eight (type $r) (i32.const 8))
      (func (export "call") (param i64) (result i32) (call_indirect (type $r) (local.get 0)))
      (func (export "tail") (param i64) (result i32) (return_call_indirect (type $r) (local.get 0)))
    )"#;
    let (store, inst) = setup(strategy, wat);
    for name in ["call", "tail"] {
        assert_eq!(call1(&store, &inst, name, &[i64v(1)]), Value::I32(7));
        assert_eq!(call1(&store, &inst, name, &[i64v(2)]), Value::I32(8));
        let r = call(&store, &inst, name, &[i64v(0)]);
        assert_eq!(trap_kind(r), TrapKind::UninitializedElement, "{strategy:?}");
        // Low 32 bits 1 or 2: an index truncated to 32 bits would call a function.
        for i in [
            0x1_0000_0001u64,
            0xffff_ffff_0000_0002,
            3,
            0xffff_ffff,
            0x1_0000_0000,
            u64::MAX,
        ] {
            let r = call(&store, &inst, name, &[i64v(i)]);
            assert_eq!(
                trap_kind(r),
                TrapKind::UndefinedElement,
                "{strategy:?}: {name}({i:#x})"
            );
        }
    }
}

fn the_api_reads_a_64_bit_table(strategy: Strategy) {
    let (store, inst) = setup(strategy, TABLES);
    let t64 = inst.get_table(&store, "t64").unwrap();
    let t32 = inst.get_table(&store, "t32").unwrap();
    assert!(t64.is_64(&store).unwrap());
    assert!(t64.ty(&store).unwrap().table64);
    assert!(!t32.is_64(&store).unwrap());
    assert_eq!(t64.size(&store).unwrap(), 2);
    assert_eq!(t64.get(&store, 0).unwrap(), Value::FuncRef(None));
    assert!(matches!(
        t64.get(&store, 1).unwrap(),
        Value::FuncRef(Some(_))
    ));
    assert!(t64.get(&store, 0x1_0000_0001).is_err());
    assert!(t64.get(&store, u64::MAX).is_err());
    let f = t64.get(&store, 1).unwrap();
    t64.set(&store, 0, f.clone()).unwrap();
    assert!(t64.set(&store, 0x1_0000_0000, f).is_err());
    assert_eq!(t64.grow(&store, 1, Value::FuncRef(None)).unwrap(), 2);
    assert!(t64.grow(&store, 2, Value::FuncRef(None)).is_err());
    assert_eq!(t64.size(&store).unwrap(), 3);
}
