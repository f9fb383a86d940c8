//! GC objects (issue 15, steps 3 and 4b): struct and array operators, the collector
//! under load, and the embedder's handles, on both engines.

use runtime::{
    AnyRef, ArrayRef, Caller, Error, Extern, HostModuleBuilder, Instance, Module, Store, Strategy,
    StructRef, TrapKind, Value,
};

use crate::common::{call, engine3, i32s, isolated, setup3, test_path, trap_kind};

on_both_engines!(
    struct_fields_keep_their_types_and_packing,
    arrays_make_read_write_and_copy,
    null_and_out_of_range_accesses_trap,
    casts_tell_objects_apart,
    constant_expressions_make_objects,
    short_lived_objects_keep_the_heap_small,
    a_long_lived_list_survives_many_collections,
    handles_root_their_objects,
    objects_held_across_host_calls_survive,
    the_embedder_makes_objects,
);

fn struct_fields_keep_their_types_and_packing(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (type $t (struct (field $a (mut i32)) (field $b (mut i8)) (field $c i16)
                           (field $d (mut i64)) (field $e f64) (field $f v128)
                           (field $g (mut anyref))))
          (func $make (export "make") (param i32 i32 i64) (result (ref $t))
            (struct.new $t (local.get 0) (local.get 1) (local.get 1) (local.get 2)
              (f64.const 2.5) (v128.const i32x4 1 2 3 4) (ref.i31 (local.get 0))))
          (func (export "read") (param i32 i32 i64) (result i32 i32 i32 i32 i64 f64 i32 i32)
            (local $s (ref $t))
            (local.set $s (call $make (local.get 0) (local.get 1) (local.get 2)))
            (struct.get $t $a (local.get $s))
            (struct.get_s $t $b (local.get $s))
            (struct.get_u $t $b (local.get $s))
            (struct.get_s $t $c (local.get $s))
            (struct.get $t $d (local.get $s))
            (struct.get $t $e (local.get $s))
            (i32x4.extract_lane 2 (struct.get $t $f (local.get $s)))
            (i31.get_s (ref.cast (ref i31) (struct.get $t $g (local.get $s)))))
          (func (export "update") (param (ref $t)) (result i32 i32 i64)
            (struct.set $t $a (local.get 0) (i32.const 77))
            (struct.set $t $b (local.get 0) (i32.const 0x1ff))
            (struct.set $t $d (local.get 0) (i64.const -5))
            (struct.set $t $g (local.get 0) (ref.null any))
            (struct.get $t $a (local.get 0))
            (struct.get_u $t $b (local.get 0))
            (struct.get $t $d (local.get 0)))
          (func (export "default") (result i32 i64)
            (struct.get $t $a (struct.new_default $t))
            (struct.get $t $d (struct.new_default $t))))"#,
    );
    let r = call(
        &store,
        &instance,
        "read",
        &[Value::I32(-3), Value::I32(0x1ff), Value::I64(9)],
    );
    let r = r.unwrap();
    assert_eq!(
        &r[..4],
        [-3, -1, 0xff, 0x1ff].map(Value::I32),
        "packed fields wrap and extend"
    );
    assert_eq!(
        r[4..],
        [
            Value::I64(9),
            Value::f64(2.5),
            Value::I32(3),
            Value::I32(-3)
        ]
    );
    let made = call(
        &store,
        &instance,
        "make",
        &[Value::I32(1), Value::I32(2), Value::I64(3)],
    );
    let made = made.unwrap().remove(0);
    let Value::AnyRef(Some(AnyRef::Struct(object))) = &made else {
        panic!("not a struct: {made:?}");
    };
    assert_eq!(object.fields(&store).unwrap(), 7);
    assert_eq!(object.field(&store, 0).unwrap(), Value::I32(1));
    assert_eq!(object.field(&store, 3).unwrap(), Value::I64(3));
    let updated = call(&store, &instance, "update", std::slice::from_ref(&made)).unwrap();
    assert_eq!(updated, [Value::I32(77), Value::I32(0xff), Value::I64(-5)]);
    assert_eq!(
        object.field(&store, 0).unwrap(),
        Value::I32(77),
        "the same object"
    );
    assert_eq!(object.field(&store, 6).unwrap(), Value::AnyRef(None));
    let defaults = call(&store, &instance, "default", &[]).unwrap();
    assert_eq!(defaults, [Value::I32(0), Value::I64(0)]);
}

fn arrays_make_read_write_and_copy(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (type $bytes (array (mut i8)))
          (type $longs (array (mut i64)))
          (type $refs (array (mut anyref)))
          (data $d "\01\02\03\04\05\06\07\08\09")
          (elem $e anyref (ref.i31 (i32.const 7)) (ref.i31 (i32.const 8)) (ref.null any))
          (func (export "data") (param i32 i32) (result (ref $bytes))
            (array.new_data $bytes $d (local.get 0) (local.get 1)))
          (func (export "byte") (param (ref $bytes) i32) (result i32)
            (array.get_u $bytes (local.get 0) (local.get 1)))
          (func (export "longs") (result i64 i64 i64 i32)
            (local $a (ref $longs)) (local $b (ref $longs))
            (local.set $a (array.new $longs (i64.const 5) (i32.const 6)))
            (local.set $b (array.new_fixed $longs 3 (i64.const 10) (i64.const 20) (i64.const 30)))
            (array.set $longs (local.get $a) (i32.const 0) (i64.const -1))
            (array.fill $longs (local.get $a) (i32.const 4) (i64.const 9) (i32.const 2))
            (array.copy $longs $longs (local.get $a) (i32.const 1) (local.get $b) (i32.const 0) (i32.const 3))
            ;; overlapping copy within one array: [-1 10 20 30 9 9] -> [-1 10 10 20 30 9]
            (array.copy $longs $longs (local.get $a) (i32.const 2) (local.get $a) (i32.const 1) (i32.const 3))
            (array.get $longs (local.get $a) (i32.const 0))
            (i64.add (array.get $longs (local.get $a) (i32.const 2))
                     (array.get $longs (local.get $a) (i32.const 4)))
            (array.get $longs (local.get $a) (i32.const 5))
            (array.len (local.get $a)))
          (func (export "elems") (result i32 i32 i32)
            (local $r (ref $refs))
            (local.set $r (array.new_elem $refs $e (i32.const 0) (i32.const 3)))
            (array.init_elem $refs $e (local.get $r) (i32.const 2) (i32.const 1) (i32.const 1))
            (i31.get_s (ref.cast (ref i31) (array.get $refs (local.get $r) (i32.const 0))))
            (i31.get_s (ref.cast (ref i31) (array.get $refs (local.get $r) (i32.const 2))))
            (ref.is_null (array.get $refs (local.get $r) (i32.const 1)))
            (i32.eqz))
          (func (export "init_data") (result i32 i32)
            (local $a (ref $bytes))
            (local.set $a (array.new_default $bytes (i32.const 4)))
            (array.init_data $bytes $d (local.get $a) (i32.const 1) (i32.const 6) (i32.const 3))
            (array.get_u $bytes (local.get $a) (i32.const 0))
            (array.get_u $bytes (local.get $a) (i32.const 3))))"#,
    );
    let bytes = call(&store, &instance, "data", &[Value::I32(2), Value::I32(4)]).unwrap();
    let Value::AnyRef(Some(AnyRef::Array(array))) = &bytes[0] else {
        panic!("not an array: {bytes:?}");
    };
    assert_eq!(array.len(&store).unwrap(), 4);
    assert_eq!(array.get(&store, 3).unwrap(), Value::I32(6));
    assert!(array.get(&store, 4).is_err(), "the API checks the index");
    assert_eq!(
        i32s(call(
            &store,
            &instance,
            "byte",
            &[bytes[0].clone(), Value::I32(0)]
        )),
        [3]
    );
    let longs = call(&store, &instance, "longs", &[]).unwrap();
    assert_eq!(
        longs,
        [Value::I64(-1), Value::I64(40), Value::I64(9), Value::I32(6)]
    );
    assert_eq!(i32s(call(&store, &instance, "elems", &[])), [7, 8, 1]);
    assert_eq!(i32s(call(&store, &instance, "init_data", &[])), [0, 9]);
}

fn null_and_out_of_range_accesses_trap(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (type $s (struct (field (mut i32))))
          (type $a (array (mut i32)))
          (data $d "\01\02\03\04")
          (func (export "null_struct") (result i32) (struct.get $s 0 (ref.null $s)))
          (func (export "null_set") (struct.set $s 0 (ref.null $s) (i32.const 1)))
          (func (export "null_array") (result i32) (array.len (ref.null $a)))
          (func (export "index") (param i32) (result i32)
            (array.get $a (array.new_default $a (i32.const 3)) (local.get 0)))
          (func (export "fill") (param i32 i32)
            (array.fill $a (array.new_default $a (i32.const 3)) (local.get 0) (i32.const 0) (local.get 1)))
          (func (export "data") (param i32) (result i32)
            (array.len (array.new_data $a $d (i32.const 0) (local.get 0))))
          (func (export "huge") (result i32)
            (array.len (array.new_default $a (i32.const -1)))))"#,
    );
    let run = |name: &str, args: &[Value]| call(&store, &instance, name, args);
    assert_eq!(
        trap_kind(run("null_struct", &[])),
        TrapKind::NullStructReference
    );
    assert_eq!(
        trap_kind(run("null_set", &[])),
        TrapKind::NullStructReference
    );
    assert_eq!(
        trap_kind(run("null_array", &[])),
        TrapKind::NullArrayReference
    );
    assert_eq!(i32s(run("index", &[Value::I32(2)])), [0]);
    assert_eq!(
        trap_kind(run("index", &[Value::I32(3)])),
        TrapKind::ArrayOutOfBounds
    );
    assert_eq!(
        trap_kind(run("index", &[Value::I32(-1)])),
        TrapKind::ArrayOutOfBounds
    );
    run("fill", &[Value::I32(3), Value::I32(0)]).expect("an empty fill at the end");
    let fill = run("fill", &[Value::I32(2), Value::I32(2)]);
    assert_eq!(trap_kind(fill), TrapKind::ArrayOutOfBounds);
    assert_eq!(i32s(run("data", &[Value::I32(1)])), [1]);
    assert_eq!(
        trap_kind(run("data", &[Value::I32(2)])),
        TrapKind::MemoryOutOfBounds
    );
    // 4 Gi elements of 4 bytes: past what 32-bit offsets reach, a trap, not an abort.
    assert_eq!(trap_kind(run("huge", &[])), TrapKind::GcHeapExhausted);
}

fn casts_tell_objects_apart(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (type $base (sub (struct (field i32))))
          (type $derived (sub $base (struct (field i32) (field i64))))
          (type $other (struct (field i32)))
          (type $a (array i8))
          (func (export "kinds") (param i32) (result i32 i32 i32 i32 i32 i32)
            (local $r anyref)
            (local.set $r
              (block $done (result anyref)
                (drop (br_if $done (struct.new $base (i32.const 1))
                  (i32.eq (local.get 0) (i32.const 0))))
                (drop (br_if $done (struct.new $derived (i32.const 1) (i64.const 2))
                  (i32.eq (local.get 0) (i32.const 1))))
                (drop (br_if $done (struct.new $other (i32.const 1))
                  (i32.eq (local.get 0) (i32.const 2))))
                (array.new_default $a (i32.const 1))))
            (ref.test (ref eq) (local.get $r))
            (ref.test (ref struct) (local.get $r))
            (ref.test (ref array) (local.get $r))
            (ref.test (ref $base) (local.get $r))
            (ref.test (ref $derived) (local.get $r))
            (ref.test (ref $other) (local.get $r)))
          (func (export "down") (param anyref) (result i64)
            (struct.get $derived 1 (ref.cast (ref $derived) (local.get 0))))
          (func (export "eq") (result i32 i32)
            (local $x (ref $other))
            (local.set $x (struct.new $other (i32.const 1)))
            (ref.eq (local.get $x) (local.get $x))
            (ref.eq (local.get $x) (struct.new $other (i32.const 1)))))"#,
    );
    let kinds = |k| i32s(call(&store, &instance, "kinds", &[Value::I32(k)]));
    assert_eq!(kinds(0), [1, 1, 0, 1, 0, 0], "a $base");
    assert_eq!(kinds(1), [1, 1, 0, 1, 1, 0], "a $derived is a $base");
    assert_eq!(
        kinds(2),
        [1, 1, 0, 0, 0, 1],
        "$other is equivalent, not a subtype"
    );
    assert_eq!(kinds(3), [1, 0, 1, 0, 0, 0], "an array");
    let down = call(&store, &instance, "down", &[Value::AnyRef(None)]);
    assert_eq!(trap_kind(down), TrapKind::CastFailure);
    assert_eq!(i32s(call(&store, &instance, "eq", &[])), [1, 0]);
}

fn constant_expressions_make_objects(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (type $s (struct (field i32) (field (ref null $s))))
          (type $a (array i64))
          (global $one (ref $s) (struct.new $s (i32.const 1) (ref.null $s)))
          (global $two (export "two") (ref $s) (struct.new $s (i32.const 2) (global.get $one)))
          (global $arr (ref $a) (array.new_fixed $a 2 (i64.const 5) (i64.const 6)))
          (global $zeros (ref $a) (array.new_default $a (i32.const 10)))
          (table $t 2 anyref (array.new $a (i64.const 3) (i32.const 4)))
          (func (export "read") (result i32 i32 i64 i32 i64)
            (struct.get $s 0 (global.get $two))
            (struct.get $s 0 (ref.as_non_null (struct.get $s 1 (global.get $two))))
            (array.get $a (global.get $arr) (i32.const 1))
            (array.len (global.get $zeros))
            (array.get $a (ref.cast (ref $a) (table.get $t (i32.const 1))) (i32.const 3))))"#,
    );
    let read = call(&store, &instance, "read", &[]).unwrap();
    assert_eq!(
        read,
        [
            Value::I32(2),
            Value::I32(1),
            Value::I64(6),
            Value::I32(10),
            Value::I64(3)
        ]
    );
    let two = instance
        .get_global(&store, "two")
        .unwrap()
        .get(&store)
        .unwrap();
    let Value::AnyRef(Some(AnyRef::Struct(two))) = two else {
        panic!("not a struct: {two:?}");
    };
    let Value::AnyRef(Some(AnyRef::Struct(one))) = two.field(&store, 1).unwrap() else {
        panic!("field 1 is a struct");
    };
    assert_eq!(one.field(&store, 0).unwrap(), Value::I32(1));
}

/// The loop of the issue's "Done when": 10,000,000 short-lived structs and arrays, in
/// cycles, keep the whole process's resident memory under 64 MiB (measured in a child
/// process, where no other test allocates), and the collector ran.
fn short_lived_objects_keep_the_heap_small(strategy: Strategy) {
    let path = test_path(
        module_path!(),
        "short_lived_objects_keep_the_heap_small",
        strategy,
    );
    isolated(&path, || {
        let (store, instance) = setup3(
            strategy,
            r#"(module
              (type $bytes (array (mut i8)))
              (type $node (struct (field $next (mut (ref null $node))) (field $data (ref $bytes))))
              (func (export "churn") (param $n i32) (result i32)
                (local $a (ref null $node)) (local $b (ref null $node)) (local $sum i32)
                (loop $again
                  ;; a two-node cycle, each node with a small array
                  (local.set $a (struct.new $node (ref.null $node)
                    (array.new $bytes (local.get $n) (i32.const 8))))
                  (local.set $b (struct.new $node (local.get $a)
                    (array.new_default $bytes (i32.const 16))))
                  (struct.set $node $next (ref.as_non_null (local.get $a)) (local.get $b))
                  (local.set $sum (i32.add (local.get $sum)
                    (array.get_u $bytes (struct.get $node $data
                      (ref.as_non_null (struct.get $node $next (ref.as_non_null (local.get $b)))))
                      (i32.const 7))))
                  (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
                (local.get $sum)))"#,
        );
        // Objects: 4 per iteration (2 structs, 2 arrays), 10,000,000 in all.
        let n = 2_500_000;
        let sum = i32s(call(&store, &instance, "churn", &[Value::I32(n)]));
        // Each iteration reads the low byte of its own counter back.
        let expected = (1..=n).map(|i| i & 0xff).sum::<i32>();
        assert_eq!(sum, [expected]);
        let stats = store.gc_stats().unwrap();
        assert!(stats.collections > 10, "{stats:?}");
        assert!(stats.heap_bytes < 16 << 20, "{stats:?}");
        let rss = resident_bytes().expect("/proc/self/statm");
        assert!(rss < 64 << 20, "resident {} MiB, {stats:?}", rss >> 20);
    });
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

const LIST: &str = r#"(module
  (type $cell (struct (field $value i64) (field $next (ref null $cell))))
  (type $junk (array (mut i64)))
  (global $list (mut (ref null $cell)) (ref.null $cell))
  (func (export "build") (param $n i32)
    (loop $again
      (global.set $list (struct.new $cell (i64.extend_i32_u (local.get $n)) (global.get $list)))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "cons") (param i64 (ref null $cell)) (result (ref $cell))
    (struct.new $cell (local.get 0) (local.get 1)))
  (func $churn (export "churn") (param $n i32)
    (loop $again
      (drop (array.new_default $junk (i32.const 30)))
      (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "sum") (param $c (ref null $cell)) (result i64 i32)
    (local $sum i64) (local $len i32) (local $v (ref null $cell))
    (block $end
      (loop $next
        (local.set $v (br_on_null $end (local.get $c)))
        (local.set $sum (i64.add (local.get $sum) (struct.get $cell $value (local.get $v))))
        (local.set $len (i32.add (local.get $len) (i32.const 1)))
        (local.set $c (struct.get $cell $next (local.get $v)))
        (br $next)))
    (local.get $sum) (local.get $len))
  (func (export "list") (result (ref null $cell)) (global.get $list)))"#;

/// A 10,000-cell list in a global survives 1,000,000 short-lived arrays (many
/// collections) with every value intact.
fn a_long_lived_list_survives_many_collections(strategy: Strategy) {
    let (store, instance) = setup3(strategy, LIST);
    call(&store, &instance, "build", &[Value::I32(10_000)]).unwrap();
    call(&store, &instance, "churn", &[Value::I32(1_000_000)]).unwrap();
    let list = call(&store, &instance, "list", &[]).unwrap();
    let sum = call(&store, &instance, "sum", &list).unwrap();
    assert_eq!(sum, [Value::I64(10_000 * 10_001 / 2), Value::I32(10_000)]);
    let stats = store.gc_stats().unwrap();
    assert!(stats.collections >= 10, "{stats:?}");
    assert!(stats.live_bytes >= 10_000 * 24, "{stats:?}");
}

/// Objects only the embedder holds survive collections: a list, and 1,000 separate
/// cells; once their handles are dropped, the cells are reclaimed.
fn handles_root_their_objects(strategy: Strategy) {
    let (store, instance) = setup3(strategy, LIST);
    let mut list = Value::AnyRef(None);
    for v in 1..=1000 {
        list = call(&store, &instance, "cons", &[Value::I64(v), list])
            .unwrap()
            .remove(0);
    }
    let cells: Vec<Value> = (1..=1000)
        .map(|v| {
            let args = [Value::I64(v), Value::AnyRef(None)];
            call(&store, &instance, "cons", &args).unwrap().remove(0)
        })
        .collect();
    call(&store, &instance, "churn", &[Value::I32(500_000)]).unwrap();
    let sum = call(&store, &instance, "sum", std::slice::from_ref(&list)).unwrap();
    assert_eq!(sum, [Value::I64(500_500), Value::I32(1000)]);
    for (v, cell) in (1..).zip(&cells) {
        let Value::AnyRef(Some(AnyRef::Struct(cell))) = cell else {
            panic!("not a struct: {cell:?}");
        };
        assert_eq!(cell.field(&store, 0).unwrap(), Value::I64(v));
    }
    let held = store.gc_stats().unwrap().live_bytes;
    drop(cells);
    call(&store, &instance, "churn", &[Value::I32(500_000)]).unwrap();
    let after = store.gc_stats().unwrap().live_bytes;
    // The separate cells are reclaimed, all but the few a stale word may keep: roots
    // are scanned conservatively (the interpreter's dead slots, the native engine's
    // whole machine stack).
    assert!(
        after + 900 * 24 <= held,
        "held {held}, after the drop {after}"
    );
    let sum = call(&store, &instance, "sum", std::slice::from_ref(&list)).unwrap();
    assert_eq!(
        sum,
        [Value::I64(500_500), Value::I32(1000)],
        "the list is still held"
    );
}

/// Wasm holding an object in a local calls a host function that calls back into Wasm,
/// which collects many times: the suspended frame's object survives.
fn objects_held_across_host_calls_survive(strategy: Strategy) {
    let engine = engine3(strategy);
    let store = Store::new(&engine);
    let wat = r#"(module
      (type $cell (struct (field i64)))
      (import "host" "reenter" (func $reenter))
      (func (export "hold") (param i64) (result i64)
        (local $c (ref null $cell))
        (local.set $c (struct.new $cell (local.get 0)))
        (call $reenter)
        (struct.get $cell 0 (local.get $c)))
      (func (export "churn") (param $n i32)
        (loop $again
          (drop (struct.new $cell (i64.const 99)))
          (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#;
    let module = Module::new(&engine, wat).unwrap();
    HostModuleBuilder::new("host")
        .func_wrap("reenter", |caller: &mut Caller<'_>| {
            let inst = caller.instance().ok_or_else(|| Error::host("no caller"))?;
            let Some(Extern::Func(churn)) = inst.get_export(&mut *caller, "churn") else {
                return Err(Error::host("no churn"));
            };
            caller.call(churn, &[Value::I32(300_000)])?;
            Ok(())
        })
        .instantiate(&store)
        .unwrap();
    let instance = Instance::new(&store, &module, None).unwrap();
    let before = store.gc_stats().unwrap().collections;
    let held = call(&store, &instance, "hold", &[Value::I64(1234)]).unwrap();
    assert_eq!(held, [Value::I64(1234)]);
    assert!(
        store.gc_stats().unwrap().collections > before,
        "the callee collected"
    );
}

/// The embedder makes structs and arrays of an instance's types, passes them in and reads
/// what Wasm made of them; values of the wrong type are refused.
fn the_embedder_makes_objects(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (type $pair (struct (field $a (mut i32)) (field $b i8) (field $next (ref null $pair))))
          (type $words (array (mut i64)))
          (func (export "sum") (param (ref $pair)) (result i32)
            (i32.add (struct.get $pair $a (local.get 0))
              (i32.add (struct.get_u $pair $b (local.get 0))
                (struct.get $pair $a (ref.as_non_null (struct.get $pair $next (local.get 0)))))))
          (func (export "total") (param (ref $words)) (result i64)
            (i64.add (array.get $words (local.get 0) (i32.const 0))
                     (array.get $words (local.get 0) (i32.const 2)))))"#,
    );
    let tail = StructRef::new(
        &store,
        &instance,
        0,
        &[Value::I32(5), Value::I32(6), Value::AnyRef(None)],
    )
    .unwrap();
    let tail = Value::AnyRef(Some(AnyRef::Struct(tail)));
    let head = StructRef::new(
        &store,
        &instance,
        0,
        &[Value::I32(1), Value::I32(0x1ff), tail],
    )
    .unwrap();
    assert_eq!(
        head.field(&store, 1).unwrap(),
        Value::I32(0xff),
        "wrapped to 8 bits"
    );
    let head = Value::AnyRef(Some(AnyRef::Struct(head)));
    assert_eq!(
        i32s(call(&store, &instance, "sum", &[head])),
        [1 + 0xff + 5]
    );
    let words = ArrayRef::new(&store, &instance, 1, &[1, 2, 3].map(Value::I64)).unwrap();
    assert_eq!(words.len(&store).unwrap(), 3);
    let words = Value::AnyRef(Some(AnyRef::Array(words)));
    let total = call(&store, &instance, "total", &[words]).unwrap();
    assert_eq!(total, [Value::I64(4)]);
    let bad = |r: runtime::Result<StructRef>| assert!(r.is_err());
    bad(StructRef::new(&store, &instance, 0, &[Value::I32(1)]));
    bad(StructRef::new(
        &store,
        &instance,
        0,
        &[Value::I64(1), Value::I32(0), Value::AnyRef(None)],
    ));
    bad(StructRef::new(&store, &instance, 1, &[]));
    assert!(ArrayRef::new(&store, &instance, 1, &[Value::I32(1)]).is_err());
    assert!(ArrayRef::new(&store, &instance, 0, &[]).is_err());
    assert!(ArrayRef::new(&store, &instance, 7, &[]).is_err());
}
