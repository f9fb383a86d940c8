//! SIMD (`v128`) semantics that are easy to get wrong, and v128 values crossing calls,
//! blocks and the host boundary.

use super::*;
use crate::HostModuleBuilder;

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
fn bin(op: &str, a: u128, b: u128) -> u128 {
    let wat = format!(
        r#"(module (func (export "f") (param v128 v128) (result v128)
            local.get 0 local.get 1 {op}))"#
    );
    match run1(&wat, "f", &[v(a), v(b)]) {
        Value::V128(x) => x,
        other => panic!("not a v128: {other:?}"),
    }
}

#[test]
fn float_min_max_nan_and_signed_zeros() {
    let nan = f32::from_bits(0x7fc0_0000);
    let a = f32x4([-0.0, 0.0, nan, 1.0]);
    let b = f32x4([0.0, -0.0, 2.0, nan]);
    let min = bin("f32x4.min", a, b);
    let max = bin("f32x4.max", a, b);
    let lane = |x: u128, i: u32| f32::from_bits((x >> (32 * i)) as u32);
    for i in 0..2 {
        assert_eq!(lane(min, i).to_bits(), (-0.0f32).to_bits());
        assert_eq!(lane(max, i).to_bits(), 0.0f32.to_bits());
    }
    for i in 2..4 {
        assert!(lane(min, i).is_nan() && lane(max, i).is_nan());
    }
    // pmin/pmax are `b < a ? b : a`: no NaN or zero special cases.
    let pmin = bin("f32x4.pmin", a, b);
    assert_eq!(lane(pmin, 0).to_bits(), (-0.0f32).to_bits());
    assert_eq!(lane(pmin, 1).to_bits(), 0.0f32.to_bits());
    assert!(lane(pmin, 2).is_nan());
    assert_eq!(lane(pmin, 3), 1.0);
    // f64x2 too.
    let d = |x: f64, y: f64| (x.to_bits() as u128) | (y.to_bits() as u128) << 64;
    let r = bin("f64x2.min", d(-0.0, f64::NAN), d(0.0, 1.0));
    assert_eq!(r as u64, (-0.0f64).to_bits());
    assert!(f64::from_bits((r >> 64) as u64).is_nan());
}

#[test]
fn rounding_quietens_signalling_nans() {
    let snan = 0x7fa0_0000u32;
    let wat = r#"(module (func (export "f") (param v128) (result v128)
        local.get 0 f32x4.nearest))"#;
    let Value::V128(r) = run1(wat, "f", &[v(i32x4([snan, 0, 0, 0]))]) else {
        panic!()
    };
    assert_eq!(r as u32, 0x7fe0_0000);
}

#[test]
fn saturating_narrow() {
    let a = i16x8([300, -300, 127, -129, 0, 1, -1, 255]);
    let b = i16x8([i16::MAX, i16::MIN, 5, -5, 128, -128, 256, 7]);
    let s = bin("i8x16.narrow_i16x8_s", a, b);
    assert_eq!(
        s,
        i8x16([
            127, -128, 127, -128, 0, 1, -1, 127, 127, -128, 5, -5, 127, -128, 127, 7
        ])
    );
    let u = bin("i8x16.narrow_i16x8_u", a, b);
    let bytes: [u8; 16] = [255, 0, 127, 0, 0, 1, 0, 255, 255, 0, 5, 0, 128, 0, 255, 7];
    assert_eq!(u, u128::from_le_bytes(bytes));
}

#[test]
fn q15mulr_saturates() {
    let a = i16x8([i16::MIN, 0x4000, -0x4000, 1, i16::MAX, i16::MIN, 3, -1]);
    let b = i16x8([i16::MIN, 0x4000, 0x4000, 1, i16::MAX, i16::MAX, -3, -1]);
    let r = bin("i16x8.q15mulr_sat_s", a, b);
    assert_eq!(
        r,
        i16x8([i16::MAX, 0x2000, -0x2000, 0, 32766, -32767, 0, 0])
    );
}

#[test]
fn shuffle_and_swizzle() {
    let a = u128::from_le_bytes(std::array::from_fn(|i| i as u8));
    let b = u128::from_le_bytes(std::array::from_fn(|i| 0x10 + i as u8));
    let r = bin(
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
    let r = bin("i8x16.swizzle", a, u128::from_le_bytes(idx));
    let want: [u8; 16] = [15, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    assert_eq!(r, u128::from_le_bytes(want));
}

#[test]
fn lane_loads_and_stores() {
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
    let r = run1(wat, "ld", &[v(0)]);
    assert_eq!(r, v(0x0403u128 << 48));
    let r = run1(wat, "st", &[v(i32x4([1, 0xaabbccdd, 3, 4]))]);
    assert_eq!(r, Value::I64(0x100f_0e0d_aabb_ccdd));
    assert_eq!(trap_of(wat, "oob", &[]), crate::TrapKind::MemoryOutOfBounds);
    assert_eq!(run1(wat, "splat", &[]), v(i16x8([0x0302; 8])));
    assert_eq!(run1(wat, "ext", &[]), v(i16x8([1, 2, 3, 4, 5, 6, 7, 8])));
}

#[test]
fn bitmask_and_tests() {
    let wat = r#"(module (func (export "f") (param v128) (result i32 i32 i32 i32)
        (i8x16.bitmask (local.get 0)) (i32x4.bitmask (local.get 0))
        (i8x16.all_true (local.get 0)) (v128.any_true (local.get 0))))"#;
    let x = i8x16([-1, 1, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -2]);
    let r = run(wat, "f", &[v(x)]).unwrap();
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

#[test]
fn shifts_take_the_count_modulo_the_lane_width() {
    let wat = r#"(module (func (export "f") (param v128 i32) (result v128 v128)
        (i8x16.shl (local.get 0) (local.get 1))
        (i32x4.shr_s (local.get 0) (local.get 1))))"#;
    let x = i32x4([0x8000_0001; 4]);
    let r = run(wat, "f", &[v(x), Value::I32(33)]).unwrap();
    assert_eq!(r[0], v(i32x4([0x0000_0002; 4])));
    assert_eq!(r[1], v(i32x4([0xc000_0000; 4])));
}

/// v128 values mixed with scalars through params, results, locals, blocks, branches,
/// select, globals, and Wasm and host calls.
#[test]
fn v128_values_cross_calls_blocks_and_the_host() {
    let engine = Engine::new(Config::default()).unwrap();
    let store = Store::new(&engine);
    let vt = crate::ValType::V128;
    let it = crate::ValType::I32;
    HostModuleBuilder::new("env")
        .func(
            "hswap",
            crate::FuncType::new([vt, it, vt], [vt, it, vt]),
            |_caller, args, results| {
                results[0] = args[2];
                results[1] = Value::I32(args[1].i32().unwrap() + 1);
                results[2] = args[0];
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
