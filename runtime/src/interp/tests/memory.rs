use super::*;
use crate::TrapKind;

const MEM: &str = r#"(module (memory 1 2)
  (data (i32.const 8) "\01\02\03\04\05\06\07\08")
  (data $p "hello")
  (func (export "load8s") (param i32) (result i32) (i32.load8_s offset=1 (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "store_load") (param i32 i64) (result i64)
    (i64.store32 offset=4 (local.get 0) (local.get 1))
    (i64.load32_u offset=4 (local.get 0)))
  (func (export "far") (param i32) (result i32) (i32.load offset=0xffffffff (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "bulk") (result i64)
    (memory.fill (i32.const 100) (i32.const 0xaa) (i32.const 4))
    (memory.copy (i32.const 102) (i32.const 8) (i32.const 4))
    (memory.init $p (i32.const 96) (i32.const 1) (i32.const 2))
    (data.drop $p)
    (i64.load (i32.const 96)))
  (func (export "init_dropped") (memory.init $p (i32.const 0) (i32.const 0) (i32.const 1))))"#;

#[test]
fn loads_and_stores() {
    assert_eq!(run1(MEM, "load8s", &[Value::I32(7)]), Value::I32(1));
    assert_eq!(
        run1(MEM, "load64", &[Value::I32(8)]),
        Value::I64(0x0807060504030201)
    );
    assert_eq!(
        run1(MEM, "store_load", &[Value::I32(0), Value::I64(-1)]),
        Value::I64(0xffff_ffff)
    );
    assert_eq!(
        trap_of(MEM, "load64", &[Value::I32(65531)]),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(
        trap_of(MEM, "load64", &[Value::I32(-1)]),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(
        trap_of(MEM, "far", &[Value::I32(1)]),
        TrapKind::MemoryOutOfBounds
    );
}

#[test]
fn grow_size_and_bulk() {
    let engine = Engine::new(Config::default()).unwrap();
    let module = Module::new(&engine, MEM).unwrap();
    let store = Store::new(&engine);
    let inst = Instance::new(&store, &module, None).unwrap();
    let call = |name: &str, args: &[Value]| inst.get_func(&store, name).unwrap().call(&store, args);
    assert_eq!(call("grow", &[Value::I32(1)]).unwrap(), vec![Value::I32(1)]);
    assert_eq!(
        call("grow", &[Value::I32(1)]).unwrap(),
        vec![Value::I32(-1)]
    );
    assert_eq!(call("size", &[]).unwrap(), vec![Value::I32(2)]);
    // The grown page is addressable.
    assert_eq!(
        call("load64", &[Value::I32(65536 * 2 - 8)]).unwrap(),
        vec![Value::I64(0)]
    );
    assert_eq!(
        call("bulk", &[]).unwrap(),
        vec![Value::I64(i64::from_le_bytes([
            b'e', b'l', 0, 0, 0xaa, 0xaa, 1, 2
        ]))]
    );
    let err = call("init_dropped", &[]).unwrap_err();
    assert_eq!(err.trap_kind(), Some(TrapKind::MemoryOutOfBounds));
}

#[test]
fn globals() {
    let wat = r#"(module (global $g (mut i64) (i64.const 5)) (global $f f32 (f32.const 1.5))
      (func (export "f") (result i64 f32)
        (global.set $g (i64.add (global.get $g) (i64.const 1)))
        (global.get $g) (global.get $f)))"#;
    assert_eq!(
        run(wat, "f", &[]).unwrap(),
        vec![Value::I64(6), Value::f32(1.5)]
    );
}

#[test]
fn shifted_index_loads() {
    // `(x << c)` as a load's address fuses into the load; the shift wraps at 32 bits and
    // its count is taken mod 32, like `i32.shl`.
    let wat = r#"(module (memory 1)
      (data (i32.const 16) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
      (func (export "i32") (param i32) (result i32)
        (i32.load offset=16 (i32.shl (local.get 0) (i32.const 2))))
      (func (export "i64") (param i32) (result i64)
        (i64.load offset=8 (i32.shl (local.get 0) (i32.const 35))))
      (func (export "f32") (param i32) (result i32)
        (i32.reinterpret_f32 (f32.load (i32.shl (local.get 0) (i32.const 4)))))
      (func (export "f64") (param i32) (result i64)
        (local $v f64)
        (local.set $v (f64.load offset=16 (i32.shl (local.get 0) (i32.const 3))))
        (i64.reinterpret_f64 (local.get $v))))"#;
    assert_eq!(run1(wat, "i32", &[Value::I32(1)]), Value::I32(0x08070605));
    assert_eq!(
        run1(wat, "i64", &[Value::I32(1)]),
        Value::I64(0x0807060504030201)
    );
    assert_eq!(run1(wat, "f32", &[Value::I32(1)]), Value::I32(0x04030201));
    assert_eq!(
        run1(wat, "f64", &[Value::I32(1)]),
        Value::I64(0x100f0e0d0c0b0a09)
    );
    // 0x4000_0001 << 2 wraps to 4: in bounds.
    assert_eq!(
        run1(wat, "i32", &[Value::I32(0x4000_0001)]),
        Value::I32(0x08070605)
    );
    assert_eq!(
        trap_of(wat, "i32", &[Value::I32(0x4000)]),
        TrapKind::MemoryOutOfBounds
    );
}
