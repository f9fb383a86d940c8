//! Tables: `call_indirect` (and its cache on the native engine), table and bulk
//! operations.

use runtime::{HostModuleBuilder, Instance, Module, Store, Strategy, TrapKind, Value};

use crate::common::{call, engine, setup, trap_kind};

on_both_engines!(
    call_indirect_and_table_ops,
    tables_and_bulk_operations,
    call_indirect_cache_follows_table_changes,
);

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

fn call_indirect_and_table_ops(strategy: Strategy) {
    let engine = engine(strategy);
    let module = Module::new(&engine, TABLE).unwrap();
    let store = Store::new(&engine);
    let inst = Instance::new(&store, &module, None).unwrap();
    let call = |name: &str, args: &[Value]| inst.get_func(&store, name).unwrap().call(&store, args);
    let ci = |i, x| call("call", &[Value::I32(i), Value::I32(x)]);
    assert_eq!(ci(0, 21).unwrap(), vec![Value::I32(42)]);
    assert_eq!(ci(1, 5).unwrap(), vec![Value::I32(-5)]);
    let trap = |r: runtime::Result<Vec<Value>>| r.unwrap_err().trap_kind().unwrap();
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
    let e = Value::ExternRef(Some(runtime::ExternRef::host(7)));
    assert_eq!(call("extern", std::slice::from_ref(&e)).unwrap(), vec![e]);
}

fn tables_and_bulk_operations(strategy: Strategy) {
    let (s, i) = setup(
        strategy,
        r#"(module
        (type $r (func (result i32)))
        (table $t 2 10 funcref)
        (memory 1)
        (data $d "hello")
        (elem $e func $a $b)
        (func $a (result i32) i32.const 1)
        (func $b (result i32) i32.const 2)
        (func (export "init") (i32.const 0) (i32.const 0) (i32.const 2) table.init $t $e)
        (func (export "call") (param i32) (result i32) local.get 0 call_indirect $t (type $r))
        (func (export "grow") (result i32) ref.func $b i32.const 3 table.grow $t)
        (func (export "size") (result i32) table.size $t)
        (func (export "copy") (i32.const 2) (i32.const 0) (i32.const 2) table.copy $t $t)
        (func (export "minit") (result i32)
          (memory.init $d (i32.const 100) (i32.const 1) (i32.const 4))
          (data.drop $d)
          (i32.load (i32.const 100)))
        (func (export "null") (result i32) ref.null func ref.is_null))"#,
    );
    call(&s, &i, "init", &[]).unwrap();
    assert_eq!(
        call(&s, &i, "call", &[Value::I32(1)]).unwrap(),
        [Value::I32(2)]
    );
    assert_eq!(call(&s, &i, "grow", &[]).unwrap(), [Value::I32(2)]);
    assert_eq!(call(&s, &i, "size", &[]).unwrap(), [Value::I32(5)]);
    assert_eq!(
        call(&s, &i, "call", &[Value::I32(4)]).unwrap(),
        [Value::I32(2)]
    );
    call(&s, &i, "copy", &[]).unwrap();
    assert_eq!(
        call(&s, &i, "call", &[Value::I32(2)]).unwrap(),
        [Value::I32(1)]
    );
    assert_eq!(
        call(&s, &i, "minit", &[]).unwrap(),
        [Value::I32(i32::from_le_bytes(*b"ello"))]
    );
    assert_eq!(
        trap_kind(call(&s, &i, "minit", &[])),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(call(&s, &i, "null", &[]).unwrap(), [Value::I32(1)]);
}

/// The native engine's `call_indirect` calls cached Wasm callees inline; every change
/// of a table element (another function, another type, null, a host function, another
/// instance's function) must still be seen, on the first call and after the cache is
/// warm.
fn call_indirect_cache_follows_table_changes(strategy: Strategy) {
    let engine = engine(strategy);
    let store = Store::new(&engine);
    HostModuleBuilder::new("env")
        .func_wrap("triple", |x: i32| x * 3)
        .instantiate(&store)
        .unwrap();
    let a = Module::new(
        &engine,
        r#"(module
        (import "env" "triple" (func $triple (param i32) (result i32)))
        (table (export "t") 4 funcref)
        (elem (i32.const 0) $inc $triple)
        (elem declare func $seven)
        (func $inc (param i32) (result i32) local.get 0 i32.const 1 i32.add)
        (func $seven (result i32) i32.const 7)
        (func (export "to_seven") (param i32) local.get 0 ref.func $seven table.set 0)
        (func (export "to_inc") (param i32) local.get 0 ref.func $inc table.set 0)
        (func (export "to_null") (param i32) local.get 0 ref.null func table.set 0))"#,
    )
    .unwrap();
    let ia = Instance::new(&store, &a, Some("a")).unwrap();
    let b = Module::new(
        &engine,
        r#"(module
        (type $unary (func (param i32) (result i32)))
        (type $nullary (func (result i32)))
        (import "a" "t" (table $t 4 funcref))
        (elem (i32.const 2) $ten)
        (func $ten (param i32) (result i32) local.get 0 i32.const 10 i32.mul)
        (func (export "unary") (param i32 i32) (result i32)
          local.get 0 local.get 1 call_indirect $t (type $unary))
        (func (export "nullary") (param i32) (result i32)
          local.get 0 call_indirect $t (type $nullary)))"#,
    )
    .unwrap();
    let ib = Instance::new(&store, &b, None).unwrap();
    let unary = |x: i32, at: i32| call(&store, &ib, "unary", &[Value::I32(x), Value::I32(at)]);
    let nullary = |at: i32| call(&store, &ib, "nullary", &[Value::I32(at)]);
    for _ in 0..3 {
        assert_eq!(unary(4, 0).unwrap(), [Value::I32(5)], "other instance");
        assert_eq!(unary(4, 1).unwrap(), [Value::I32(12)], "host function");
        assert_eq!(unary(4, 2).unwrap(), [Value::I32(40)], "own function");
        assert_eq!(trap_kind(nullary(0)), TrapKind::IndirectCallTypeMismatch);
        assert_eq!(trap_kind(nullary(1)), TrapKind::IndirectCallTypeMismatch);
        assert_eq!(trap_kind(unary(4, 3)), TrapKind::UninitializedElement);
        assert_eq!(trap_kind(unary(4, 4)), TrapKind::UndefinedElement);
        assert_eq!(trap_kind(unary(4, -1)), TrapKind::UndefinedElement);
    }
    call(&store, &ia, "to_seven", &[Value::I32(0)]).unwrap();
    assert_eq!(trap_kind(unary(4, 0)), TrapKind::IndirectCallTypeMismatch);
    assert_eq!(nullary(0).unwrap(), [Value::I32(7)]);
    call(&store, &ia, "to_null", &[Value::I32(0)]).unwrap();
    assert_eq!(trap_kind(unary(4, 0)), TrapKind::UninitializedElement);
    assert_eq!(trap_kind(nullary(0)), TrapKind::UninitializedElement);
    call(&store, &ia, "to_inc", &[Value::I32(3)]).unwrap();
    assert_eq!(unary(4, 3).unwrap(), [Value::I32(5)]);
    assert_eq!(trap_kind(unary(4, 0)), TrapKind::UninitializedElement);
}
