use super::*;
use crate::TrapKind;

const TABLE: &str = r#"(module
  (type $ii (func (param i32) (result i32)))
  (table $t 4 funcref)
  (table $e 2 externref)
  (elem (table $t) (i32.const 0) func $double $neg)
  (elem $passive func $double)
  (elem declare func $void)
  (func $double (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func $neg (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
  (func $void)
  (func (export "call") (param i32 i32) (result i32)
    (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
  (func (export "set_void") (table.set $t (i32.const 2) (ref.func $void)))
  (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
  (func (export "size") (result i32) (table.size $t))
  (func (export "is_null") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0))))
  (func (export "extern") (param externref) (result externref)
    (table.fill $e (i32.const 0) (local.get 0) (i32.const 2))
    (table.get $e (i32.const 1)))
  (func (export "init") (table.init $t $passive (i32.const 3) (i32.const 0) (i32.const 1)))
  (func (export "copy") (table.copy $t $t (i32.const 2) (i32.const 0) (i32.const 2))))"#;

#[test]
fn call_indirect_and_table_ops() {
    let engine = Engine::new(Config::default()).unwrap();
    let module = Module::new(&engine, TABLE).unwrap();
    let store = Store::new(&engine);
    let inst = Instance::new(&store, &module, None).unwrap();
    let call = |name: &str, args: &[Value]| inst.get_func(&store, name).unwrap().call(&store, args);
    let ci = |i, x| call("call", &[Value::I32(i), Value::I32(x)]);
    assert_eq!(ci(0, 21).unwrap(), vec![Value::I32(42)]);
    assert_eq!(ci(1, 5).unwrap(), vec![Value::I32(-5)]);
    let trap = |r: crate::Result<Vec<Value>>| r.unwrap_err().trap_kind().unwrap();
    assert_eq!(trap(ci(2, 0)), TrapKind::UninitializedElement);
    assert_eq!(trap(ci(9, 0)), TrapKind::UndefinedElement);
    call("set_void", &[]).unwrap();
    assert_eq!(trap(ci(2, 0)), TrapKind::IndirectCallTypeMismatch);
    assert_eq!(
        call("is_null", &[Value::I32(3)]).unwrap(),
        vec![Value::I32(1)]
    );
    assert_eq!(
        trap(call("is_null", &[Value::I32(4)])),
        TrapKind::TableOutOfBounds
    );
    call("init", &[]).unwrap();
    assert_eq!(ci(3, 4).unwrap(), vec![Value::I32(8)]);
    call("copy", &[]).unwrap();
    assert_eq!(ci(3, 4).unwrap(), vec![Value::I32(-4)]);
    assert_eq!(call("grow", &[Value::I32(3)]).unwrap(), vec![Value::I32(4)]);
    assert_eq!(call("size", &[]).unwrap(), vec![Value::I32(7)]);
    let e = Value::ExternRef(Some(crate::ExternRef(7)));
    assert_eq!(call("extern", &[e]).unwrap(), vec![e]);
}
