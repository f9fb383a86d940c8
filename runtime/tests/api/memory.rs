//! Linear memory: loads and stores, bounds checks (elided ones too), growth (also
//! inside a call), bulk operations, and globals.

use runtime::{
    Caller, Error, HostModuleBuilder, Instance, Module, Store, Strategy, TrapKind, Value,
};

use crate::common::{call, engine, run, run1, setup, trap_kind, trap_of};

on_both_engines!(
    loads_and_stores,
    grow_size_and_bulk,
    globals,
    shifted_index_loads,
    memory_and_growth,
    memory_grown_inside_a_call_is_seen,
    elided_bounds_checks_stay_exact,
);

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

fn loads_and_stores(strategy: Strategy) {
    assert_eq!(
        run1(strategy, MEM, "load8s", &[Value::I32(7)]),
        Value::I32(1)
    );
    assert_eq!(
        run1(strategy, MEM, "load64", &[Value::I32(8)]),
        Value::I64(0x0807060504030201)
    );
    assert_eq!(
        run1(
            strategy,
            MEM,
            "store_load",
            &[Value::I32(0), Value::I64(-1)]
        ),
        Value::I64(0xffff_ffff)
    );
    assert_eq!(
        trap_of(strategy, MEM, "load64", &[Value::I32(65531)]),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(
        trap_of(strategy, MEM, "load64", &[Value::I32(-1)]),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(
        trap_of(strategy, MEM, "far", &[Value::I32(1)]),
        TrapKind::MemoryOutOfBounds
    );
}

fn grow_size_and_bulk(strategy: Strategy) {
    let engine = engine(strategy);
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

fn globals(strategy: Strategy) {
    let wat = r#"(module (global $g (mut i64) (i64.const 5)) (global $f f32 (f32.const 1.5))
      (func (export "f") (result i64 f32)
        (global.set $g (i64.add (global.get $g) (i64.const 1)))
        (global.get $g) (global.get $f)))"#;
    assert_eq!(
        run(strategy, wat, "f", &[]).unwrap(),
        vec![Value::I64(6), Value::f32(1.5)]
    );
}

fn shifted_index_loads(strategy: Strategy) {
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
    assert_eq!(
        run1(strategy, wat, "i32", &[Value::I32(1)]),
        Value::I32(0x08070605)
    );
    assert_eq!(
        run1(strategy, wat, "i64", &[Value::I32(1)]),
        Value::I64(0x0807060504030201)
    );
    assert_eq!(
        run1(strategy, wat, "f32", &[Value::I32(1)]),
        Value::I32(0x04030201)
    );
    assert_eq!(
        run1(strategy, wat, "f64", &[Value::I32(1)]),
        Value::I64(0x100f0e0d0c0b0a09)
    );
    // 0x4000_0001 << 2 wraps to 4: in bounds.
    assert_eq!(
        run1(strategy, wat, "i32", &[Value::I32(0x4000_0001)]),
        Value::I32(0x08070605)
    );
    assert_eq!(
        trap_of(strategy, wat, "i32", &[Value::I32(0x4000)]),
        TrapKind::MemoryOutOfBounds
    );
}

fn memory_and_growth(strategy: Strategy) {
    let (s, i) = setup(
        strategy,
        r#"(module (memory 1 3)
        (data (i32.const 8) "\01\02\03\04")
        (func (export "load") (param i32) (result i32) local.get 0 i32.load)
        (func (export "store") (param i32 i64) local.get 0 local.get 1 i64.store offset=4)
        (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
        (func (export "size") (result i32) memory.size)
        (func (export "fill") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill))"#,
    );
    assert_eq!(
        call(&s, &i, "load", &[Value::I32(8)]).unwrap(),
        [Value::I32(0x04030201)]
    );
    trap_kind(call(&s, &i, "load", &[Value::I32(65533)]));
    assert_eq!(
        call(&s, &i, "grow", &[Value::I32(1)]).unwrap(),
        [Value::I32(1)]
    );
    assert_eq!(call(&s, &i, "size", &[]).unwrap(), [Value::I32(2)]);
    call(
        &s,
        &i,
        "store",
        &[Value::I32(65536 * 2 - 12), Value::I64(-1)],
    )
    .unwrap();
    assert_eq!(
        call(&s, &i, "load", &[Value::I32(65536 * 2 - 4)]).unwrap(),
        [Value::I32(-1)]
    );
    assert_eq!(
        call(&s, &i, "grow", &[Value::I32(2)]).unwrap(),
        [Value::I32(-1)]
    );
    let e = call(
        &s,
        &i,
        "fill",
        &[Value::I32(65536 * 2 - 1), Value::I32(0), Value::I32(2)],
    );
    assert_eq!(trap_kind(e), TrapKind::MemoryOutOfBounds);
}

/// The native engine reuses memory base and length between accesses but must reload
/// them after every call: a grow inside a host function or a Wasm callee may move the
/// memory (from 4 pages on it is a mapping, moved by `mremap`) and makes new addresses
/// valid.
fn memory_grown_inside_a_call_is_seen(strategy: Strategy) {
    let engine = engine(strategy);
    let store = Store::new(&engine);
    let grow = |c: &mut Caller<'_>, delta: i32| -> runtime::Result<i32> {
        let mem = c.get_export("mem").and_then(|e| e.into_memory());
        let mem = mem.ok_or_else(|| Error::host("no memory"))?;
        Ok(mem.grow(&mut *c, delta as u64)? as i32)
    };
    HostModuleBuilder::new("env")
        .func_wrap("grow", grow)
        .instantiate(&store)
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
        (import "env" "grow" (func $host_grow (param i32) (result i32)))
        (memory (export "mem") 4)
        (func $wasm_grow (param i32) (result i32) local.get 0 memory.grow)
        ;; Round i: write the last word of the memory (4 + i pages), grow by a page
        ;; (through the host or Wasm), write the new last word, read both and word 0.
        (func (export "run") (param $host i32) (param $n i32) (result i32)
          (local $i i32) (local $end i32) (local $sum i32)
          (i32.store (i32.const 0) (i32.const 7))
          (loop $l
            (local.set $end (i32.mul (i32.add (local.get $i) (i32.const 4)) (i32.const 65536)))
            (i32.store (i32.sub (local.get $end) (i32.const 4)) (i32.add (local.get $i) (i32.const 1)))
            (if (local.get $host)
              (then (drop (call $host_grow (i32.const 1))))
              (else (drop (call $wasm_grow (i32.const 1)))))
            (i32.store (i32.add (local.get $end) (i32.const 65532)) (i32.const 1000))
            (local.set $sum (i32.add (local.get $sum)
              (i32.add (i32.load (i32.sub (local.get $end) (i32.const 4)))
                (i32.add (i32.load (i32.const 0))
                  (i32.load (i32.add (local.get $end) (i32.const 65532)))))))
            (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
              (local.get $n))))
          (local.get $sum)))"#,
    )
    .unwrap();
    let n = 20;
    let expected = (1..=n).map(|i| i + 7 + 1000).sum::<i32>();
    for host in [1, 0] {
        let i = Instance::new(&store, &module, None).unwrap();
        let r = call(&store, &i, "run", &[Value::I32(host), Value::I32(n)]).unwrap();
        assert_eq!(r, [Value::I32(expected)], "grown by the host: {host}");
        let mem = i.get_export(&store, "mem").unwrap().into_memory().unwrap();
        assert_eq!(mem.size(&store).unwrap(), 4 + n as u64);
    }
}

/// Checks the native engine leaves out because an earlier one or the memory's minimum
/// covers them (`native/translate/memory.rs`, `in_bounds`): every case where they must
/// not be left out still traps, and what comes before the trap happens.
fn elided_bounds_checks_stay_exact(strategy: Strategy) {
    let (s, i) = setup(
        strategy,
        r#"(module (memory 1)
        ;; Constant addresses: below the minimum unchecked, above it checked.
        (func (export "const_in") (result i32) i32.const 65532 i32.load)
        (func (export "const_out") (result i32) i32.const 65533 i32.load)
        ;; Descending offsets of one address: the first check covers the second.
        (func (export "desc") (param i32) (result i32)
          local.get 0 i32.load offset=8 local.get 0 i32.load offset=4 i32.add)
        ;; Address plus constant (i32.add wraps): 8 bytes at +4 cover 4 at +8 ...
        (func (export "sum") (param i32) (result i32)
          local.get 0 i32.const 4 i32.add i64.load i32.wrap_i64
          local.get 0 i32.const 8 i32.add i32.load i32.add)
        ;; ... but +0 does not cover -4.
        (func (export "wrap") (param i32) (result i32)
          local.get 0 i32.load
          local.get 0 i32.const -4 i32.add i32.load i32.add)
        ;; A check inside one branch of an `if` covers nothing after it.
        (func (export "branch") (param i32 i32) (result i32)
          (if (local.get 1) (then local.get 0 i32.load offset=16 drop))
          local.get 0 i32.load offset=8)
        ;; Small by construction: (x & 15) << 2 needs no check, x & 0x1ffff does.
        (func (export "masked") (param i32) (result i32)
          local.get 0 i32.const 15 i32.and i32.const 2 i32.shl i32.load
          local.get 0 i32.const 0x1ffff i32.and i32.load8_u
          i32.add)
        ;; Ascending offsets: the second needs its own check, and the store before
        ;; it happens.
        (func (export "asc") (param i32)
          local.get 0 i32.const 7 i32.store8 offset=1
          local.get 0 i32.const 7 i32.store8 offset=2)
        (func (export "byte") (param i32) (result i32) local.get 0 i32.load8_u))"#,
    );
    let oob = TrapKind::MemoryOutOfBounds;
    let i32s = |v: &[i32]| v.iter().map(|x| Value::I32(*x)).collect::<Vec<_>>();
    let ok = |name: &str, args: &[i32], result: i32| {
        assert_eq!(
            call(&s, &i, name, &i32s(args)).unwrap(),
            i32s(&[result]),
            "{name}{args:?}"
        );
    };
    let traps = |name: &str, args: &[i32]| {
        assert_eq!(
            trap_kind(call(&s, &i, name, &i32s(args))),
            oob,
            "{name}{args:?}"
        );
    };
    ok("const_in", &[], 0);
    traps("const_out", &[]);
    ok("desc", &[65524], 0);
    traps("desc", &[65525]);
    ok("sum", &[65524], 0);
    traps("sum", &[65525]);
    ok("wrap", &[4], 0);
    traps("wrap", &[0]);
    ok("branch", &[65500, 0], 0);
    ok("branch", &[65500, 1], 0);
    traps("branch", &[65526, 0]);
    traps("branch", &[65521, 1]);
    traps("masked", &[0x10000]);
    traps("asc", &[65534]);
    ok("byte", &[65535], 7);
    ok("masked", &[0xffff], 7);
}
