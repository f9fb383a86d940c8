//! SIMD (`v128`) semantics that are easy to get wrong, lane accesses at the bounds of
//! memory, v128 values crossing calls, blocks and the host boundary, and which SIMD
//! proposals are accepted.

use runtime::{
    Caller, FuncType, HostModuleBuilder, Instance, Module, Store, Strategy, TrapKind, ValType,
    Value,
};

use crate::common::{call, engine, run, run1, setup, trap_kind, trap_of};

on_both_engines!(
    float_min_max_nan_and_signed_zeros,
    rounding_quietens_signalling_nans,
    saturating_narrow,
    q15mulr_saturates,
    shuffle_and_swizzle,
    lane_loads_and_stores,
    bitmask_and_tests,
    shifts_take_the_count_modulo_the_lane_width,
    v128_values_cross_calls_blocks_and_the_host,
    shuffle_swizzle_and_bitmask,
    lane_accesses_are_bounds_checked,
    values_cross_the_host_boundary,
    relaxed_simd_needs_its_feature,
    simd_is_accepted,
);

fn v(x: u128) -> Value {
    Value::V128(x)
}

/// A v128 from four i32 lanes (lane 0 first).
fn i32x4(l: [u32; 4]) -> u128 {
    l.iter().rev().fold(0, |acc, x| (acc << 32) | *x as u128)
}

fn f32x4(l: [f32; 4]) -> u128 {
    i32x4(l.map(f32::to_bits))
}

fn i16x8(l: [i16; 8]) -> u128 {
    l.iter()
        .rev()
        .fold(0, |acc, x| (acc << 16) | *x as u16 as u128)
}

fn i8x16(l: [i8; 16]) -> u128 {
    l.iter()
        .rev()
        .fold(0, |acc, x| (acc << 8) | *x as u8 as u128)
}

/// Runs `(func (param v128 v128) (result v128) local.get 0 local.get 1 <op>)`.
fn bin(strategy: Strategy, op: &str, a: u128, b: u128) -> u128 {
    let wat = format!(
        r#"(module (func (export "f") (param v128 v128) (result v128)
            local.get 0 local.get 1 {op}))"#
    );
    match run1(strategy, &wat, "f", &[v(a), v(b)]) {
        Value::V128(x) => x,
        other => panic!("not a v128: {other:?}"),
    }
}

fn float_min_max_nan_and_signed_zeros(strategy: Strategy) {
    let nan = f32::from_bits(0x7fc0_0000);
    let a = f32x4([-0.0, 0.0, nan, 1.0]);
    let b = f32x4([0.0, -0.0, 2.0, nan]);
    let min = bin(strategy, "f32x4.min", a, b);
    let max = bin(strategy, "f32x4.max", a, b);
    let lane = |x: u128, i: u32| f32::from_bits((x >> (32 * i)) as u32);
    for i in 0..2 {
        assert_eq!(lane(min, i).to_bits(), (-0.0f32).to_bits());
        assert_eq!(lane(max, i).to_bits(), 0.0f32.to_bits());
    }
    for i in 2..4 {
        assert!(lane(min, i).is_nan() && lane(max, i).is_nan());
    }
    // pmin/pmax are `b < a ? b : a`: no NaN or zero special cases.
    let pmin = bin(strategy, "f32x4.pmin", a, b);
    assert_eq!(lane(pmin, 0).to_bits(), (-0.0f32).to_bits());
    assert_eq!(lane(pmin, 1).to_bits(), 0.0f32.to_bits());
    assert!(lane(pmin, 2).is_nan());
    assert_eq!(lane(pmin, 3), 1.0);
    // f64x2 too.
    let d = |x: f64, y: f64| (x.to_bits() as u128) | (y.to_bits() as u128) << 64;
    let r = bin(strategy, "f64x2.min", d(-0.0, f64::NAN), d(0.0, 1.0));
    assert_eq!(r as u64, (-0.0f64).to_bits());
    assert!(f64::from_bits((r >> 64) as u64).is_nan());
}

fn rounding_quietens_signalling_nans(strategy: Strategy) {
    let snan = 0x7fa0_0000u32;
    let wat = r#"(module (func (export "f") (param v128) (result v128)
        local.get 0 f32x4.nearest))"#;
    let Value::V128(r) = run1(strategy, wat, "f", &[v(i32x4([snan, 0, 0, 0]))]) else {
        panic!()
    };
    assert_eq!(r as u32, 0x7fe0_0000);
}

fn saturating_narrow(strategy: Strategy) {
    let a = i16x8([300, -300, 127, -129, 0, 1, -1, 255]);
    let b = i16x8([i16::MAX, i16::MIN, 5, -5, 128, -128, 256, 7]);
    let s = bin(strategy, "i8x16.narrow_i16x8_s", a, b);
    assert_eq!(
        s,
        i8x16([
            127, -128, 127, -128, 0, 1, -1, 127, 127, -128, 5, -5, 127, -128, 127, 7
        ])
    );
    let u = bin(strategy, "i8x16.narrow_i16x8_u", a, b);
    let bytes: [u8; 16] = [255, 0, 127, 0, 0, 1, 0, 255, 255, 0, 5, 0, 128, 0, 255, 7];
    assert_eq!(u, u128::from_le_bytes(bytes));
}

fn q15mulr_saturates(strategy: Strategy) {
    let a = i16x8([i16::MIN, 0x4000, -0x4000, 1, i16::MAX, i16::MIN, 3, -1]);
    let b = i16x8([i16::MIN, 0x4000, 0x4000, 1, i16::MAX, i16::MAX, -3, -1]);
    let r = bin(strategy, "i16x8.q15mulr_sat_s", a, b);
    assert_eq!(
        r,
        i16x8([i16::MAX, 0x2000, -0x2000, 0, 32766, -32767, 0, 0])
    );
}

fn shuffle_and_swizzle(strategy: Strategy) {
    let a = u128::from_le_bytes(std::array::from_fn(|i| i as u8));
    let b = u128::from_le_bytes(std::array::from_fn(|i| 0x10 + i as u8));
    let r = bin(
        strategy,
        "i8x16.shuffle 31 0 16 1 17 2 18 3 19 4 20 5 21 6 22 15",
        a,
        b,
    );
    let want: [u8; 16] = [
        0x1f, 0, 0x10, 1, 0x11, 2, 0x12, 3, 0x13, 4, 0x14, 5, 0x15, 6, 0x16, 15,
    ];
    assert_eq!(r, u128::from_le_bytes(want));
    // Out-of-range swizzle indices give 0.
    let idx: [u8; 16] = [15, 16, 0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    let r = bin(strategy, "i8x16.swizzle", a, u128::from_le_bytes(idx));
    let want: [u8; 16] = [15, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    assert_eq!(r, u128::from_le_bytes(want));
}

fn lane_loads_and_stores(strategy: Strategy) {
    let wat = r#"(module (memory 1)
        (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
        (func (export "ld") (param v128) (result v128)
          (v128.load16_lane offset=2 3 (i32.const 0) (local.get 0)))
        (func (export "st") (param v128) (result i64)
          (v128.store32_lane offset=8 1 (i32.const 0) (local.get 0))
          (i64.load (i32.const 8)))
        (func (export "oob") (result v128)
          (v128.load64_lane 0 (i32.const 65530) (v128.const i64x2 0 0)))
        (func (export "splat") (result v128) (v128.load16_splat (i32.const 1)))
        (func (export "ext") (result v128) (v128.load8x8_s (i32.const 0))))"#;
    let r = run1(strategy, wat, "ld", &[v(0)]);
    assert_eq!(r, v(0x0403u128 << 48));
    let r = run1(strategy, wat, "st", &[v(i32x4([1, 0xaabbccdd, 3, 4]))]);
    assert_eq!(r, Value::I64(0x100f_0e0d_aabb_ccdd));
    assert_eq!(
        trap_of(strategy, wat, "oob", &[]),
        runtime::TrapKind::MemoryOutOfBounds
    );
    assert_eq!(run1(strategy, wat, "splat", &[]), v(i16x8([0x0302; 8])));
    assert_eq!(
        run1(strategy, wat, "ext", &[]),
        v(i16x8([1, 2, 3, 4, 5, 6, 7, 8]))
    );
}

fn bitmask_and_tests(strategy: Strategy) {
    let wat = r#"(module (func (export "f") (param v128) (result i32 i32 i32 i32)
        (i8x16.bitmask (local.get 0)) (i32x4.bitmask (local.get 0))
        (i8x16.all_true (local.get 0)) (v128.any_true (local.get 0))))"#;
    let x = i8x16([-1, 1, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -2]);
    let r = run(strategy, wat, "f", &[v(x)]).unwrap();
    assert_eq!(
        r,
        vec![
            Value::I32(0x8005),
            Value::I32(0b1000),
            Value::I32(0),
            Value::I32(1)
        ]
    );
}

fn shifts_take_the_count_modulo_the_lane_width(strategy: Strategy) {
    let wat = r#"(module (func (export "f") (param v128 i32) (result v128 v128)
        (i8x16.shl (local.get 0) (local.get 1))
        (i32x4.shr_s (local.get 0) (local.get 1))))"#;
    let x = i32x4([0x8000_0001; 4]);
    let r = run(strategy, wat, "f", &[v(x), Value::I32(33)]).unwrap();
    assert_eq!(r[0], v(i32x4([0x0000_0002; 4])));
    assert_eq!(r[1], v(i32x4([0xc000_0000; 4])));
}

/// v128 values mixed with scalars through params, results, locals, blocks, branches,
/// select, globals, and Wasm and host calls.
fn v128_values_cross_calls_blocks_and_the_host(strategy: Strategy) {
    let engine = engine(strategy);
    let store = Store::new(&engine);
    let vt = runtime::ValType::V128;
    let it = runtime::ValType::I32;
    HostModuleBuilder::new("env")
        .func(
            "hswap",
            runtime::FuncType::new([vt, it, vt], [vt, it, vt]),
            |_caller, args, results| {
                results[0] = args[2].clone();
                results[1] = Value::I32(args[1].i32().unwrap() + 1);
                results[2] = args[0].clone();
                Ok(())
            },
        )
        .instantiate(&store)
        .unwrap();
    let m = Module::new(
        &engine,
        r#"(module
          (import "env" "hswap" (func $hswap (param v128 i32 v128) (result v128 i32 v128)))
          (global $g (mut v128) (v128.const i32x4 9 9 9 9))
          (func $swap (param v128 i32 v128) (result v128 i32 v128)
            (local.get 2) (local.get 1) (local.get 0))
          (func (export "f") (param $a v128) (param $n i32) (param $b v128)
                (result v128 i32 v128)
            (local $t v128) (local $k i64)
            (local.set $t (i32x4.add (local.get $a) (local.get $b)))
            (local.set $k (i64.const 5))
            (global.set $g (local.get $t))
            (local.get $a) (local.get $n) (local.get $b)
            (block $out (param v128 i32 v128) (result v128 i32 v128)
              (call $swap)
              (call $hswap)
              (br_if $out (local.get $n))
              (drop) (drop) (drop)
              (select (local.get $a) (global.get $g) (i32.const 0))
              (i32.wrap_i64 (local.get $k))
              (local.get $b)))
          (func (export "loop") (param v128 i32) (result v128)
            (local.get 0)
            (loop $l (param v128) (result v128)
              (i32x4.add (v128.const i32x4 1 2 3 4))
              (local.tee 1 (i32.sub (local.get 1) (i32.const 1)))
              (br_if $l))))"#,
    )
    .unwrap();
    let inst = Instance::new(&store, &m, None).unwrap();
    let f = inst.get_func(&store, "f").unwrap();
    let (a, b) = (i32x4([1, 2, 3, 4]), i32x4([10, 20, 30, 40]));
    // Branch taken: swapped twice, and the host adds 1 to the i32.
    assert_eq!(
        f.call(&store, &[v(a), Value::I32(1), v(b)]).unwrap(),
        vec![v(a), Value::I32(2), v(b)]
    );
    // Fallthrough: select picks the global (a + b), then 5 and b.
    assert_eq!(
        f.call(&store, &[v(a), Value::I32(0), v(b)]).unwrap(),
        vec![v(i32x4([11, 22, 33, 44])), Value::I32(5), v(b)]
    );
    let l = inst.get_func(&store, "loop").unwrap();
    assert_eq!(
        l.call(&store, &[v(0), Value::I32(3)]).unwrap(),
        vec![v(i32x4([3, 6, 9, 12]))]
    );
}

fn v128(lanes: [u8; 16]) -> Value {
    Value::V128(u128::from_le_bytes(lanes))
}

fn shuffle_swizzle_and_bitmask(strategy: Strategy) {
    let (s, i) = setup(
        strategy,
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
    let picked = call(&s, &i, "select", &[x.clone(), y.clone(), Value::I32(1)]).unwrap();
    assert_eq!(picked, std::slice::from_ref(&x));
    assert_eq!(
        call(&s, &i, "select", &[x, y.clone(), Value::I32(0)]).unwrap(),
        [y]
    );
}

fn lane_accesses_are_bounds_checked(strategy: Strategy) {
    let (s, i) = setup(
        strategy,
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
        trap_kind(call(&s, &i, "store_lane", &p(65536 - 7))),
        TrapKind::MemoryOutOfBounds
    );
    let r = call(&s, &i, "load", &p(65536 - 16)).unwrap();
    assert_eq!(r, [Value::V128(0x99aabbccddeeff00 << 64)]);
    assert_eq!(
        trap_kind(call(&s, &i, "load", &p(65536 - 15))),
        TrapKind::MemoryOutOfBounds
    );
    // Lane 7 of i16x8 is the top 16 bits; the access is at addr + 1 .. addr + 3.
    let r = call(&s, &i, "load_lane", &p(65536 - 3)).unwrap();
    assert_eq!(r, [Value::V128((u128::MAX >> 16) | (0x99aa << 112))]);
    assert_eq!(
        trap_kind(call(&s, &i, "load_lane", &p(65536 - 2))),
        TrapKind::MemoryOutOfBounds
    );
    assert_eq!(
        trap_kind(call(&s, &i, "load_lane", &p(-1))),
        TrapKind::MemoryOutOfBounds
    );
    let r = call(&s, &i, "splat", &p(65536 - 4)).unwrap();
    assert_eq!(r, [Value::V128(0x99aabbcc_99aabbcc_99aabbcc_99aabbcc)]);
    assert_eq!(
        trap_kind(call(&s, &i, "splat", &p(65536 - 3))),
        TrapKind::MemoryOutOfBounds
    );
    let r = call(&s, &i, "zero", &p(65536 - 8)).unwrap();
    assert_eq!(r, [Value::V128(0x99aabbccddeeff00)]);
    assert_eq!(
        trap_kind(call(&s, &i, "zero", &p(65536 - 7))),
        TrapKind::MemoryOutOfBounds
    );
    let r = call(&s, &i, "ext", &p(65536 - 8)).unwrap();
    assert_eq!(r, [Value::V128(0xff99_ffaa_ffbb_ffcc_ffdd_ffee_ffff_0000)]);
    assert_eq!(
        trap_kind(call(&s, &i, "ext", &p(65536 - 7))),
        TrapKind::MemoryOutOfBounds
    );
}

fn values_cross_the_host_boundary(strategy: Strategy) {
    let engine = engine(strategy);
    let store = Store::new(&engine);
    HostModuleBuilder::new("env")
        .func(
            "mix",
            FuncType::new(
                [ValType::I32, ValType::V128, ValType::F64, ValType::V128],
                [ValType::V128, ValType::I64, ValType::V128],
            ),
            |_c: &mut Caller<'_>, args: &[Value], results: &mut [Value]| {
                let (Value::V128(a), Value::V128(b)) = (args[1].clone(), args[3].clone()) else {
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

/// Relaxed SIMD is Wasm 3.0: invalid under the default (2.0) features, though both engines
/// implement it (`relaxed_simd.rs`).
fn relaxed_simd_needs_its_feature(strategy: Strategy) {
    let engine = engine(strategy);
    let r = Module::new(
        &engine,
        r#"(module (func (param v128 v128) (result v128)
          local.get 0 local.get 1 i8x16.relaxed_swizzle))"#,
    );
    let kind = match r {
        Err(runtime::Error::Compile(c)) => c.kind,
        other => panic!("{strategy:?}: expected a compile error, got {other:?}"),
    };
    assert_eq!(kind, runtime::CompileErrorKind::Invalid, "{strategy:?}");
}

fn simd_is_accepted(strategy: Strategy) {
    let engine = engine(strategy);
    let local = r#"(module (func (local v128)))"#;
    let op = r#"(module (func (drop (i32x4.splat (i32.const 1)))))"#;
    for wat in [local, op] {
        Module::new(&engine, wat).unwrap();
    }
}
