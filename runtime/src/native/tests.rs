//! The native engine through the public API.

use crate::{
    Caller, Config, Engine, Error, FuncType, HostModuleBuilder, Instance, Module, Store, Strategy,
    TrapKind, ValType, Value,
};

fn setup(wat: &str) -> (Store, Instance) {
    let engine = Engine::new(Config::new(Strategy::Native)).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let store = Store::new(&engine);
    let instance = Instance::new(&store, &module, None).unwrap();
    (store, instance)
}

fn call(store: &Store, inst: &Instance, name: &str, args: &[Value]) -> crate::Result<Vec<Value>> {
    inst.get_func(store, name).unwrap().call(store, args)
}

fn trap_of(r: crate::Result<Vec<Value>>) -> TrapKind {
    r.unwrap_err().trap_kind().expect("a trap")
}

#[test]
fn arithmetic() {
    let (s, i) = setup(
        r#"(module
        (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
        (func (export "fac") (param i64) (result i64)
          local.get 0 i64.eqz if (result i64) i64.const 1
          else local.get 0 local.get 0 i64.const 1 i64.sub call 1 i64.mul end)
        (func (export "fmin") (param f64 f64) (result f64) local.get 0 local.get 1 f64.min)
        (func (export "sat") (param f32) (result i32) local.get 0 i32.trunc_sat_f32_s)
        (func (export "loop") (param i32) (result i32) (local i32)
          block loop
            local.get 0 i32.eqz br_if 1
            local.get 1 local.get 0 i32.add local.set 1
            local.get 0 i32.const 1 i32.sub local.set 0
            br 0 end end local.get 1))"#,
    );
    assert_eq!(
        call(&s, &i, "add", &[Value::I32(2), Value::I32(40)]).unwrap(),
        [Value::I32(42)]
    );
    assert_eq!(
        call(&s, &i, "fac", &[Value::I64(20)]).unwrap(),
        [Value::I64(2432902008176640000)]
    );
    assert_eq!(
        call(&s, &i, "fmin", &[Value::f64(-0.0), Value::f64(0.0)]).unwrap(),
        [Value::f64(-0.0)]
    );
    assert_eq!(
        call(&s, &i, "sat", &[Value::f32(1e10)]).unwrap(),
        [Value::I32(i32::MAX)]
    );
    assert_eq!(
        call(&s, &i, "loop", &[Value::I32(100)]).unwrap(),
        [Value::I32(5050)]
    );
}

#[test]
fn traps_of_each_kind() {
    let (s, i) = setup(
        r#"(module
        (type $v (func))
        (memory 1)
        (table 2 funcref)
        (elem (i32.const 0) $f)
        (func $f)
        (func (export "unreachable") unreachable)
        (func (export "div0") (result i32) i32.const 1 i32.const 0 i32.div_s)
        (func (export "overflow") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
        (func (export "rem") (result i32) i32.const 0x80000000 i32.const -1 i32.rem_s)
        (func (export "nan") (result i32) f32.const nan i32.trunc_f32_s)
        (func (export "big") (result i32) f64.const 3e9 i32.trunc_f64_s)
        (func (export "oob") (result i32) i32.const 65534 i32.load)
        (func (export "table") (result funcref) i32.const 2 table.get 0)
        (func (export "undefined") i32.const 5 call_indirect (type $v))
        (func (export "uninit") i32.const 1 call_indirect (type $v))
        (func (export "mismatch") (result i32) i32.const 0 call_indirect (result i32)))"#,
    );
    let t = |name| trap_of(call(&s, &i, name, &[]));
    assert_eq!(t("unreachable"), TrapKind::Unreachable);
    assert_eq!(t("div0"), TrapKind::IntegerDivideByZero);
    assert_eq!(t("overflow"), TrapKind::IntegerOverflow);
    assert_eq!(call(&s, &i, "rem", &[]).unwrap(), [Value::I32(0)]);
    assert_eq!(t("nan"), TrapKind::InvalidConversionToInteger);
    assert_eq!(t("big"), TrapKind::IntegerOverflow);
    assert_eq!(t("oob"), TrapKind::MemoryOutOfBounds);
    assert_eq!(t("table"), TrapKind::TableOutOfBounds);
    assert_eq!(t("undefined"), TrapKind::UndefinedElement);
    assert_eq!(t("uninit"), TrapKind::UninitializedElement);
    assert_eq!(t("mismatch"), TrapKind::IndirectCallTypeMismatch);
}

#[test]
fn memory_and_growth() {
    let (s, i) = setup(
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
    trap_of(call(&s, &i, "load", &[Value::I32(65533)]));
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
    assert_eq!(trap_of(e), TrapKind::MemoryOutOfBounds);
}

#[test]
fn host_calls_multi_value_and_errors() {
    let engine = Engine::new(Config::new(Strategy::Native)).unwrap();
    let store = Store::new(&engine);
    HostModuleBuilder::new("env")
        .func_wrap("double", |x: i32| x * 2)
        .func(
            "swap",
            FuncType::new([ValType::I64, ValType::F64], [ValType::F64, ValType::I64]),
            |_c: &mut Caller<'_>, args: &[Value], results: &mut [Value]| {
                results[0] = args[1];
                results[1] = args[0];
                Ok(())
            },
        )
        .func(
            "fail",
            FuncType::new([], []),
            |_c: &mut Caller<'_>, _a: &[Value], _r: &mut [Value]| Err(Error::host("boom")),
        )
        .instantiate(&store)
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
        (import "env" "double" (func $double (param i32) (result i32)))
        (import "env" "swap" (func $swap (param i64 f64) (result f64 i64)))
        (import "env" "fail" (func $fail))
        (table funcref (elem $double))
        (func (export "quad") (param i32) (result i32) local.get 0 call $double call $double)
        (func (export "indirect") (param i32) (result i32)
          local.get 0 i32.const 0 call_indirect (param i32) (result i32))
        (func (export "swap") (param i64 f64) (result f64 i64) local.get 0 local.get 1 call $swap)
        (func (export "multi") (result i32 i64 f32) i32.const 1 i64.const 2 f32.const 3)
        (func (export "fail") (result i32) call $fail i32.const 7))"#,
    )
    .unwrap();
    let i = Instance::new(&store, &module, None).unwrap();
    assert_eq!(
        call(&store, &i, "quad", &[Value::I32(3)]).unwrap(),
        [Value::I32(12)]
    );
    assert_eq!(
        call(&store, &i, "indirect", &[Value::I32(5)]).unwrap(),
        [Value::I32(10)]
    );
    assert_eq!(
        call(&store, &i, "swap", &[Value::I64(1), Value::f64(2.5)]).unwrap(),
        [Value::f64(2.5), Value::I64(1)]
    );
    assert_eq!(
        call(&store, &i, "multi", &[]).unwrap(),
        [Value::I32(1), Value::I64(2), Value::f32(3.0)]
    );
    match call(&store, &i, "fail", &[]) {
        Err(Error::Host(m)) => assert_eq!(m, "boom"),
        other => panic!("expected the host error, got {other:?}"),
    }
}

#[test]
fn calls_across_instances() {
    let engine = Engine::new(Config::new(Strategy::Native)).unwrap();
    let store = Store::new(&engine);
    let a = Module::new(
        &engine,
        r#"(module (global (export "g") (mut i32) (i32.const 5))
        (func (export "get") (result i32) global.get 0)
        (func (export "inc") global.get 0 i32.const 1 i32.add global.set 0))"#,
    )
    .unwrap();
    Instance::new(&store, &a, Some("a")).unwrap();
    let b = Module::new(
        &engine,
        r#"(module (import "a" "get" (func $get (result i32)))
        (import "a" "inc" (func $inc))
        (import "a" "g" (global $g (mut i32)))
        (func (export "run") (result i32) call $inc call $inc call $get global.get $g i32.add))"#,
    )
    .unwrap();
    let i = Instance::new(&store, &b, None).unwrap();
    assert_eq!(call(&store, &i, "run", &[]).unwrap(), [Value::I32(14)]);
}

#[test]
fn unbounded_recursion_on_a_small_stack() {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let (s, i) = setup(
                r#"(module
                (func $f (export "f") (param i64) (result i64)
                  local.get 0 i64.const 1 i64.add call $f)
                (func (export "ok") (result i32) i32.const 3))"#,
            );
            assert_eq!(
                trap_of(call(&s, &i, "f", &[Value::I64(0)])),
                TrapKind::CallStackExhausted
            );
            assert_eq!(call(&s, &i, "ok", &[]).unwrap(), [Value::I32(3)]);
            assert_eq!(
                trap_of(call(&s, &i, "f", &[Value::I64(0)])),
                TrapKind::CallStackExhausted
            );
        })
        .unwrap()
        .join()
        .unwrap();
}

fn v128(lanes: [u8; 16]) -> Value {
    Value::V128(u128::from_le_bytes(lanes))
}

#[test]
fn simd_shuffle_swizzle_and_bitmask() {
    let (s, i) = setup(
        r#"(module
        (func (export "shuffle") (param v128 v128) (result v128)
          local.get 0 local.get 1
          i8x16.shuffle 31 0 30 1 29 2 28 3 16 15 17 14 18 13 19 12)
        (func (export "swizzle") (param v128 v128) (result v128)
          local.get 0 local.get 1 i8x16.swizzle)
        (func (export "bitmask8") (param v128) (result i32) local.get 0 i8x16.bitmask)
        (func (export "bitmask64") (param v128) (result i32) local.get 0 i64x2.bitmask)
        (func (export "shl") (param v128 i32) (result v128)
          local.get 0 local.get 1 i16x8.shl)
        (func (export "select") (param v128 v128 i32) (result v128)
          local.get 0 local.get 1 local.get 2 select))"#,
    );
    let a: [u8; 16] = std::array::from_fn(|k| k as u8);
    let b: [u8; 16] = std::array::from_fn(|k| 0x80 + k as u8);
    let r = call(&s, &i, "shuffle", &[v128(a), v128(b)]).unwrap();
    let both: Vec<u8> = a.iter().chain(&b).copied().collect();
    let idx = [31, 0, 30, 1, 29, 2, 28, 3, 16, 15, 17, 14, 18, 13, 19, 12];
    assert_eq!(r, [v128(idx.map(|k| both[k]))]);
    // Out-of-range swizzle indices select 0.
    let sel: [u8; 16] = [15, 16, 0, 255, 1, 17, 128, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    let r = call(&s, &i, "swizzle", &[v128(b), v128(sel)]).unwrap();
    let want = sel.map(|k| if k < 16 { b[k as usize] } else { 0 });
    assert_eq!(r, [v128(want)]);
    let mut m = [0u8; 16];
    m[0] = 0x80;
    m[3] = 0xff;
    m[15] = 0x81;
    m[7] = 0x7f;
    assert_eq!(
        call(&s, &i, "bitmask8", &[v128(m)]).unwrap(),
        [Value::I32((1 << 0) | (1 << 3) | (1 << 15))]
    );
    assert_eq!(
        call(&s, &i, "bitmask64", &[v128(m)]).unwrap(),
        [Value::I32(0b10)]
    );
    // The count is taken modulo the lane width: 17 shifts i16 lanes by 1.
    let r = call(&s, &i, "shl", &[Value::V128(0x8001_0003), Value::I32(17)]).unwrap();
    assert_eq!(r, [Value::V128(0x0002_0006)]);
    let (x, y) = (Value::V128(u128::MAX - 5), Value::V128(1 << 100));
    assert_eq!(call(&s, &i, "select", &[x, y, Value::I32(1)]).unwrap(), [x]);
    assert_eq!(call(&s, &i, "select", &[x, y, Value::I32(0)]).unwrap(), [y]);
}

#[test]
fn simd_lane_accesses_are_bounds_checked() {
    let (s, i) = setup(
        r#"(module (memory 1)
        (func (export "load_lane") (param i32) (result v128)
          local.get 0 v128.const i64x2 -1 -1 v128.load16_lane offset=1 7)
        (func (export "store_lane") (param i32)
          local.get 0 v128.const i64x2 0x1122334455667788 0x99aabbccddeeff00
          v128.store64_lane 1)
        (func (export "load") (param i32) (result v128) local.get 0 v128.load)
        (func (export "splat") (param i32) (result v128) local.get 0 v128.load32_splat)
        (func (export "zero") (param i32) (result v128) local.get 0 v128.load64_zero)
        (func (export "ext") (param i32) (result v128) local.get 0 v128.load8x8_s))"#,
    );
    let p = |v: i32| [Value::I32(v)];
    call(&s, &i, "store_lane", &p(65536 - 8)).unwrap();
    assert_eq!(
        trap_of(call(&s, &i, "store_lane", &p(65536 - 7))),
        TrapKind::MemoryOutOfBounds
    );
    let r = call(&s, &i, "load", &p(65536 - 16)).unwrap();
    assert_eq!(r, [Value::V128(0x99aabbccddeeff00 << 64)]);
    assert_eq!(
        trap_of(call(&s, &i, "load", &p(65536 - 15))),
        TrapKind::MemoryOutOfBounds
    );
    // Lane 7 of i16x8 is the top 16 bits; the access is at addr + 1 .. addr + 3.
    let r = call(&s, &i, "load_lane", &p(65536 - 3)).unwrap();
    assert_eq!(r, [Value::V128((u128::MAX >> 16) | (0x99aa << 112))]);
    assert_eq!(
        trap_of(call(&s, &i, "load_lane", &p(65536 - 2))),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(
        trap_of(call(&s, &i, "load_lane", &p(-1))),
        TrapKind::MemoryOutOfBounds
    );
    let r = call(&s, &i, "splat", &p(65536 - 4)).unwrap();
    assert_eq!(r, [Value::V128(0x99aabbcc_99aabbcc_99aabbcc_99aabbcc)]);
    assert_eq!(
        trap_of(call(&s, &i, "splat", &p(65536 - 3))),
        TrapKind::MemoryOutOfBounds
    );
    let r = call(&s, &i, "zero", &p(65536 - 8)).unwrap();
    assert_eq!(r, [Value::V128(0x99aabbccddeeff00)]);
    assert_eq!(
        trap_of(call(&s, &i, "zero", &p(65536 - 7))),
        TrapKind::MemoryOutOfBounds
    );
    let r = call(&s, &i, "ext", &p(65536 - 8)).unwrap();
    assert_eq!(r, [Value::V128(0xff99_ffaa_ffbb_ffcc_ffdd_ffee_ffff_0000)]);
    assert_eq!(
        trap_of(call(&s, &i, "ext", &p(65536 - 7))),
        TrapKind::MemoryOutOfBounds
    );
}

#[test]
fn simd_values_cross_the_host_boundary() {
    let engine = Engine::new(Config::new(Strategy::Native)).unwrap();
    let store = Store::new(&engine);
    HostModuleBuilder::new("env")
        .func(
            "mix",
            FuncType::new(
                [ValType::I32, ValType::V128, ValType::F64, ValType::V128],
                [ValType::V128, ValType::I64, ValType::V128],
            ),
            |_c: &mut Caller<'_>, args: &[Value], results: &mut [Value]| {
                let (Value::V128(a), Value::V128(b)) = (args[1], args[3]) else {
                    panic!("v128 arguments expected: {args:?}");
                };
                results[0] = Value::V128(b.rotate_left(8));
                results[1] = Value::I64(args[0].i32().unwrap() as i64);
                results[2] = Value::V128(a ^ (args[2].f64_value().unwrap() as u128));
                Ok(())
            },
        )
        .instantiate(&store)
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
        (import "env" "mix" (func $mix (param i32 v128 f64 v128) (result v128 i64 v128)))
        (global $g (mut v128) (v128.const i32x4 1 2 3 4))
        (func (export "mix") (param i32 v128 f64 v128) (result v128 i64 v128)
          local.get 0 local.get 1 local.get 2 local.get 3 call $mix)
        (func (export "swap_global") (param v128) (result v128)
          global.get $g local.get 0 global.set $g)
        (func (export "add") (param v128 v128) (result v128)
          local.get 0 local.get 1 (block (param v128 v128) (result v128) i32x4.add)))"#,
    )
    .unwrap();
    let i = Instance::new(&store, &module, None).unwrap();
    let a = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128;
    let b = 0xdead_beef_0000_0000_0000_0000_cafe_f00du128;
    let r = call(
        &store,
        &i,
        "mix",
        &[
            Value::I32(-5),
            Value::V128(a),
            Value::f64(7.0),
            Value::V128(b),
        ],
    )
    .unwrap();
    assert_eq!(
        r,
        [
            Value::V128(b.rotate_left(8)),
            Value::I64(-5),
            Value::V128(a ^ 7)
        ]
    );
    let four = 0x4_0000_0003_0000_0002_0000_0001u128;
    assert_eq!(
        call(&store, &i, "swap_global", &[Value::V128(a)]).unwrap(),
        [Value::V128(four)]
    );
    assert_eq!(
        call(&store, &i, "swap_global", &[Value::V128(b)]).unwrap(),
        [Value::V128(a)]
    );
    let ones = 0x1_0000_0001_0000_0001_0000_0001u128;
    assert_eq!(
        call(
            &store,
            &i,
            "add",
            &[Value::V128(u128::MAX), Value::V128(ones)]
        )
        .unwrap(),
        [Value::V128(0)]
    );
}

#[test]
fn relaxed_simd_is_refused() {
    let engine = Engine::new(Config::new(Strategy::Native)).unwrap();
    let r = Module::new(
        &engine,
        r#"(module (func (param v128 v128) (result v128)
          local.get 0 local.get 1 i8x16.relaxed_swizzle))"#,
    );
    assert!(r.is_err());
}

#[test]
fn host_reentry_exit_and_panics() {
    let engine = Engine::new(Config::new(Strategy::Native)).unwrap();
    let store = Store::new(&engine);
    HostModuleBuilder::new("env")
        .func(
            "reenter",
            FuncType::new([ValType::I32], [ValType::I32]),
            |c: &mut Caller<'_>, args: &[Value], results: &mut [Value]| {
                let Some(crate::Extern::Func(f)) = c.get_export("inner") else {
                    panic!("no inner")
                };
                let r = c.call(f, args)?;
                results[0] = r[0];
                Ok(())
            },
        )
        .func(
            "exit",
            FuncType::new([], []),
            |c: &mut Caller<'_>, _a: &[Value], _r: &mut [Value]| Err(c.exit(7)),
        )
        .func(
            "panic",
            FuncType::new([], []),
            |_c: &mut Caller<'_>, _a: &[Value], _r: &mut [Value]| panic!("host panic"),
        )
        .instantiate(&store)
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
        (import "env" "reenter" (func $reenter (param i32) (result i32)))
        (import "env" "exit" (func $exit))
        (import "env" "panic" (func $panic))
        (func (export "inner") (param i32) (result i32)
          local.get 0 i32.eqz if unreachable end local.get 0 i32.const 1 i32.add)
        (func (export "outer") (param i32) (result i32) local.get 0 call $reenter i32.const 10 i32.mul)
        (func (export "panic") call $panic)
        (func (export "exit") (result i32) call $exit i32.const 1))"#,
    )
    .unwrap();
    let i = Instance::new(&store, &module, None).unwrap();
    assert_eq!(
        call(&store, &i, "outer", &[Value::I32(4)]).unwrap(),
        [Value::I32(50)]
    );
    // A trap in the nested call is the host function's error, returned unchanged.
    assert_eq!(
        trap_of(call(&store, &i, "outer", &[Value::I32(0)])),
        TrapKind::Unreachable
    );
    assert_eq!(
        call(&store, &i, "outer", &[Value::I32(1)]).unwrap(),
        [Value::I32(20)]
    );
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = call(&store, &i, "panic", &[]);
    }));
    assert!(caught.is_err(), "the host panic reaches the embedder");
    assert_eq!(
        call(&store, &i, "outer", &[Value::I32(2)]).unwrap(),
        [Value::I32(30)]
    );
    let e = call(&store, &i, "exit", &[]).unwrap_err();
    assert_eq!(e.exit_code(), Some(7));
    assert_eq!(
        call(&store, &i, "outer", &[Value::I32(2)])
            .unwrap_err()
            .exit_code(),
        Some(7)
    );
}

#[test]
fn tables_and_bulk_operations() {
    let (s, i) = setup(
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
        trap_of(call(&s, &i, "minit", &[])),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(call(&s, &i, "null", &[]).unwrap(), [Value::I32(1)]);
}

/// `call_indirect` calls cached Wasm callees inline; every change of a table element
/// (another function, another type, null, a host function, another instance's
/// function) must still be seen, on the first call and after the cache is warm.
#[test]
fn call_indirect_cache_follows_table_changes() {
    let engine = Engine::new(Config::new(Strategy::Native)).unwrap();
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
        assert_eq!(trap_of(nullary(0)), TrapKind::IndirectCallTypeMismatch);
        assert_eq!(trap_of(nullary(1)), TrapKind::IndirectCallTypeMismatch);
        assert_eq!(trap_of(unary(4, 3)), TrapKind::UninitializedElement);
        assert_eq!(trap_of(unary(4, 4)), TrapKind::UndefinedElement);
        assert_eq!(trap_of(unary(4, -1)), TrapKind::UndefinedElement);
    }
    call(&store, &ia, "to_seven", &[Value::I32(0)]).unwrap();
    assert_eq!(trap_of(unary(4, 0)), TrapKind::IndirectCallTypeMismatch);
    assert_eq!(nullary(0).unwrap(), [Value::I32(7)]);
    call(&store, &ia, "to_null", &[Value::I32(0)]).unwrap();
    assert_eq!(trap_of(unary(4, 0)), TrapKind::UninitializedElement);
    assert_eq!(trap_of(nullary(0)), TrapKind::UninitializedElement);
    call(&store, &ia, "to_inc", &[Value::I32(3)]).unwrap();
    assert_eq!(unary(4, 3).unwrap(), [Value::I32(5)]);
    assert_eq!(trap_of(unary(4, 0)), TrapKind::UninitializedElement);
}

/// Memory base and length are reused between accesses but must be reloaded after every
/// call: a grow inside a host function or a Wasm callee may move the memory (from 4
/// pages on it is a mapping, moved by `mremap`) and makes new addresses valid.
#[test]
fn memory_grown_inside_a_call_is_seen() {
    let engine = Engine::new(Config::new(Strategy::Native)).unwrap();
    let store = Store::new(&engine);
    let grow = |c: &mut Caller<'_>, delta: i32| -> crate::Result<i32> {
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

/// Compiling, instantiating and dropping modules does not grow resident memory (code
/// memory is freed with its Module). Ignored by default: RSS is process-wide, so it is
/// only meaningful run alone (`cargo test -p runtime --lib code_memory -- --ignored`).
#[test]
#[ignore]
fn code_memory_is_freed() {
    fn rss() -> usize {
        let s = std::fs::read_to_string("/proc/self/statm").unwrap();
        s.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<usize>()
            .unwrap()
            * 4096
    }
    let engine = Engine::new(Config::new(Strategy::Native)).unwrap();
    let wat = r#"(module (memory 1) (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add))"#;
    let run = |n: usize| {
        for _ in 0..n {
            let module = Module::new(&engine, wat).unwrap();
            let store = Store::new(&engine);
            let i = Instance::new(&store, &module, None).unwrap();
            call(&store, &i, "f", &[Value::I32(1)]).unwrap();
        }
    };
    run(1000);
    let before = rss();
    run(5000);
    let after = rss();
    eprintln!("rss before {before} after {after}");
    assert!(after < before + 8 * 1024 * 1024);
}

/// Checks left out because an earlier one or the memory's minimum covers them
/// (`translate/memory.rs`, `in_bounds`): every case where they must not be left out
/// still traps, and what comes before the trap happens.
#[test]
fn elided_bounds_checks_stay_exact() {
    let (s, i) = setup(
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
            trap_of(call(&s, &i, name, &i32s(args))),
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
