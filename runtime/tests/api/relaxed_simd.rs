//! Relaxed SIMD on both engines, which give the same one fixed result per operator
//! (`runtime/src/native/translate/relaxed_simd.rs`, `runtime/src/interp/simd/relaxed.rs`):
//! an edge case for each choice, where another permitted result would differ.

use runtime::{Config, Instance, Module, Store, Strategy, Value, WasmFeatures};

use crate::common::engine_with;

on_both_engines!(
    relaxed_swizzle_gives_zero_for_an_index_out_of_range,
    relaxed_trunc_saturates_and_gives_zero_for_nan,
    relaxed_madd_and_nmadd_are_unfused,
    relaxed_laneselect_selects_bit_by_bit,
    relaxed_min_max_propagate_nan_and_order_zeros,
    min_max_give_an_arithmetic_nan_for_any_nan_operand,
    relaxed_q15mulr_saturates,
    relaxed_dot_i8x16_is_signed_and_wraps,
    relaxed_dot_i8x16_add_is_exact_signed_and_wraps,
);

/// Runs `(func (param v128 ...) (result v128) local.get 0 ... <op>)` on the engine of
/// `strategy` with relaxed SIMD enabled, one parameter per operand.
fn run(strategy: Strategy, op: &str, operands: &[u128]) -> u128 {
    let params = "v128 ".repeat(operands.len());
    let gets: String = (0..operands.len())
        .map(|i| format!("local.get {i} "))
        .collect();
    let wat = format!(r#"(module (func (export "f") (param {params}) (result v128) {gets} {op}))"#);
    let features = WasmFeatures::WASM2 | WasmFeatures::RELAXED_SIMD;
    let engine = engine_with(Config::new(strategy).features(features));
    let module = Module::new(&engine, &wat).unwrap_or_else(|e| panic!("{e}\n{wat}"));
    let store = Store::new(&engine);
    let instance = Instance::new(&store, &module, None).unwrap();
    let f = instance.get_func(&store, "f").unwrap();
    let args: Vec<Value> = operands.iter().map(|&x| Value::V128(x)).collect();
    match f.call(&store, &args).unwrap()[..] {
        [Value::V128(x)] => x,
        ref other => panic!("{op}: not one v128: {other:?}"),
    }
}

/// Asserts that `relaxed` gives bit for bit what `counterpart` gives.
fn assert_same_as(strategy: Strategy, relaxed: &str, counterpart: &str, operands: &[u128]) -> u128 {
    let r = run(strategy, relaxed, operands);
    assert_eq!(
        r,
        run(strategy, counterpart, operands),
        "{relaxed} vs {counterpart}"
    );
    r
}

fn i8x16(lanes: [i8; 16]) -> u128 {
    u128::from_le_bytes(lanes.map(|x| x as u8))
}

fn i16x8(lanes: [i16; 8]) -> u128 {
    u128::from_le_bytes(std::array::from_fn(|i| lanes[i / 2].to_le_bytes()[i % 2]))
}

fn i32x4(lanes: [i32; 4]) -> u128 {
    u128::from_le_bytes(std::array::from_fn(|i| lanes[i / 4].to_le_bytes()[i % 4]))
}

fn f32x4(lanes: [f32; 4]) -> u128 {
    i32x4(lanes.map(|x| x.to_bits() as i32))
}

fn f64x2(lanes: [f64; 2]) -> u128 {
    let bits = lanes.map(f64::to_bits);
    u128::from(bits[0]) | (u128::from(bits[1]) << 64)
}

fn i32_lanes(x: u128) -> [i32; 4] {
    std::array::from_fn(|i| (x >> (32 * i)) as u32 as i32)
}

fn i16_lanes(x: u128) -> [i16; 8] {
    std::array::from_fn(|i| (x >> (16 * i)) as u16 as i16)
}

/// An index of 16 or more selects 0 (`i8x16.swizzle`), not `index % 16`.
fn relaxed_swizzle_gives_zero_for_an_index_out_of_range(strategy: Strategy) {
    let table = i8x16(std::array::from_fn(|i| 100 + i as i8));
    let indices = i8x16([-56, 16, -1, 0, 15, -128, 17, 1, 31, 32, 2, 3, 4, 5, 6, 7]);
    let r = assert_same_as(
        strategy,
        "i8x16.relaxed_swizzle",
        "i8x16.swizzle",
        &[table, indices],
    );
    assert_eq!(
        r,
        i8x16([
            0, 0, 0, 100, 115, 0, 0, 101, 0, 0, 102, 103, 104, 105, 106, 107
        ])
    );
}

/// NaN gives 0 and out-of-range values saturate (`trunc_sat`), not `i32::MIN` (the
/// x86 `cvttps2dq` result).
fn relaxed_trunc_saturates_and_gives_zero_for_nan(strategy: Strategy) {
    let x = f32x4([f32::NAN, 1e10, -1e10, -1.5]);
    let s = assert_same_as(
        strategy,
        "i32x4.relaxed_trunc_f32x4_s",
        "i32x4.trunc_sat_f32x4_s",
        &[x],
    );
    assert_eq!(i32_lanes(s), [0, i32::MAX, i32::MIN, -1]);
    let u = assert_same_as(
        strategy,
        "i32x4.relaxed_trunc_f32x4_u",
        "i32x4.trunc_sat_f32x4_u",
        &[x],
    );
    assert_eq!(i32_lanes(u), [0, -1, 0, 0]);

    let s = assert_same_as(
        strategy,
        "i32x4.relaxed_trunc_f64x2_s_zero",
        "i32x4.trunc_sat_f64x2_s_zero",
        &[f64x2([f64::NAN, -1e10])],
    );
    assert_eq!(i32_lanes(s), [0, i32::MIN, 0, 0]);
    let u = assert_same_as(
        strategy,
        "i32x4.relaxed_trunc_f64x2_u_zero",
        "i32x4.trunc_sat_f64x2_u_zero",
        &[f64x2([1e10, -1e10])],
    );
    assert_eq!(i32_lanes(u), [-1, 0, 0, 0]);
}

/// `a * b` rounds before the add: (1 + 2^-23)(1 - 2^-23) = 1 - 2^-46 rounds to 1 in
/// f32, so `a * b - 1` is +0, where a fused multiply-add would give -2^-46.
fn relaxed_madd_and_nmadd_are_unfused(strategy: Strategy) {
    let eps = f32::EPSILON;
    let a = f32x4([1.0 + eps; 4]);
    let b = f32x4([1.0 - eps; 4]);
    let madd = run(strategy, "f32x4.relaxed_madd", &[a, b, f32x4([-1.0; 4])]);
    assert_eq!(madd, f32x4([0.0; 4]));
    let nmadd = run(strategy, "f32x4.relaxed_nmadd", &[a, b, f32x4([1.0; 4])]);
    assert_eq!(nmadd, f32x4([0.0; 4]));

    let eps = f64::EPSILON;
    let a = f64x2([1.0 + eps, 2.0]);
    let b = f64x2([1.0 - eps, 3.0]);
    let madd = run(strategy, "f64x2.relaxed_madd", &[a, b, f64x2([-1.0, 1.0])]);
    assert_eq!(madd, f64x2([0.0, 7.0]));
    let nmadd = run(strategy, "f64x2.relaxed_nmadd", &[a, b, f64x2([1.0, 1.0])]);
    assert_eq!(nmadd, f64x2([0.0, -5.0]));
}

/// Every bit of the mask selects (`v128.bitselect`), not only each lane's top bit.
fn relaxed_laneselect_selects_bit_by_bit(strategy: Strategy) {
    let a = u128::MAX;
    let b = 0;
    let mask = 0x0123_4567_89ab_cdef_8000_0000_0000_0001_u128;
    for width in ["i8x16", "i16x8", "i32x4", "i64x2"] {
        let op = format!("{width}.relaxed_laneselect");
        let r = assert_same_as(strategy, &op, "v128.bitselect", &[a, b, mask]);
        assert_eq!(r, mask, "{op}");
    }
}

/// NaN propagates and -0 < +0 (`min`/`max`), whatever the operand order.
fn relaxed_min_max_propagate_nan_and_order_zeros(strategy: Strategy) {
    let nan = f32::from_bits(0x7fc0_1234);
    let x = f32x4([-0.0, 0.0, nan, 1.0]);
    let y = f32x4([0.0, -0.0, 2.0, nan]);
    for (relaxed, counterpart) in [
        ("f32x4.relaxed_min", "f32x4.min"),
        ("f32x4.relaxed_max", "f32x4.max"),
    ] {
        let r = assert_same_as(strategy, relaxed, counterpart, &[x, y]);
        let lanes = i32_lanes(r).map(|l| f32::from_bits(l as u32));
        let zero = if relaxed.ends_with("min") { -0.0 } else { 0.0 };
        assert_eq!(lanes[0].to_bits(), f32::to_bits(zero), "{relaxed}");
        assert_eq!(lanes[1].to_bits(), f32::to_bits(zero), "{relaxed}");
        assert!(lanes[2].is_nan() && lanes[3].is_nan(), "{relaxed}");
    }
    let x = f64x2([-0.0, f64::NAN]);
    let y = f64x2([0.0, 1.0]);
    let min = assert_same_as(strategy, "f64x2.relaxed_min", "f64x2.min", &[x, y]);
    assert_eq!(min as u64, (-0.0f64).to_bits());
    assert!(f64::from_bits((min >> 64) as u64).is_nan());
    let max = assert_same_as(strategy, "f64x2.relaxed_max", "f64x2.max", &[y, x]);
    assert_eq!(max as u64, 0.0f64.to_bits());
    assert!(f64::from_bits((max >> 64) as u64).is_nan());
}

/// With a NaN operand that is not canonical (every payload bit set, as `v128.not` of zero
/// gives; or signalling), `min`/`max` and their relaxed twins return an arithmetic NaN
/// (quiet bit set), never the other operand nor a signalling NaN. That is all the spec
/// fixes: which payload and sign is the engine's choice, and the engines choose differently
/// (the fuzzer canonicalises these results, `harness/tests/fuzz_relaxed.rs`: seed 21102).
fn min_max_give_an_arithmetic_nan_for_any_nan_operand(strategy: Strategy) {
    let negative_subnormals = 0x8000_8000_8000_8000_8000_8000_8000_8000;
    let f32_signalling = f32x4([f32::from_bits(0x7f80_0001); 4]);
    let f64_signalling = f64x2([f64::from_bits(0x7ff0_0000_0000_0001); 2]);
    let ones = f32x4([1.0; 4]);
    for (width, signalling, quiet_bit, lane_bits) in [
        ("f32x4", f32_signalling, 1u128 << 22, 32),
        ("f64x2", f64_signalling, 1u128 << 51, 64),
    ] {
        let exponent = if lane_bits == 32 {
            0xffu128 << 23
        } else {
            0x7ffu128 << 52
        };
        for op in ["min", "max", "relaxed_min", "relaxed_max"] {
            let op = format!("{width}.{op}");
            for operands in [
                [u128::MAX, negative_subnormals],
                [signalling, ones],
                [ones, signalling],
            ] {
                let r = run(strategy, &op, &operands);
                for lane in 0..128 / lane_bits {
                    let bits = (r >> (lane * lane_bits)) & ((1u128 << lane_bits) - 1);
                    assert!(
                        bits & exponent == exponent && bits & quiet_bit != 0,
                        "{op} {operands:x?}: lane {lane} is {bits:#x}, not an arithmetic NaN"
                    );
                }
            }
        }
    }
}

/// -1 * -1 in Q15 saturates to 32767 (`q15mulr_sat_s`), not -32768.
fn relaxed_q15mulr_saturates(strategy: Strategy) {
    let x = i16x8([i16::MIN, i16::MIN, 16384, -16384, 1, 0, i16::MAX, -1]);
    let y = i16x8([i16::MIN, i16::MAX, 16384, 16384, 1, 5, i16::MAX, -1]);
    let r = assert_same_as(
        strategy,
        "i16x8.relaxed_q15mulr_s",
        "i16x8.q15mulr_sat_s",
        &[x, y],
    );
    assert_eq!(
        i16_lanes(r),
        [i16::MAX, -32767, 8192, -8192, 0, 0, 32766, 0]
    );
}

/// Both operands are signed bytes (even the second's top bit) and each sum of two
/// products wraps to 16 bits rather than saturating.
fn relaxed_dot_i8x16_is_signed_and_wraps(strategy: Strategy) {
    let a = i8x16([
        -128, -128, -128, -128, 127, -1, -128, 0, 1, 2, 3, 4, 0, 0, 127, 127,
    ]);
    let b = i8x16([
        -127, -127, -128, -128, -1, -128, -56, 5, 1, 2, 3, 4, 0, 0, 127, 127,
    ]);
    let r = run(strategy, "i16x8.relaxed_dot_i8x16_i7x16_s", &[a, b]);
    // -128 * -128 * 2 = 32768 wraps to -32768; 127 * 127 * 2 = 32258.
    assert_eq!(i16_lanes(r), [32512, -32768, 1, 7168, 5, 25, 0, 32258]);
}

/// The sum of four products is exact in i32 (65536 does not fit in i16) and the add
/// to the accumulator wraps.
fn relaxed_dot_i8x16_add_is_exact_signed_and_wraps(strategy: Strategy) {
    let a = i8x16([
        -128, -128, -128, -128, -128, -128, -128, -128, 1, 0, 0, 0, -128, 0, 0, 0,
    ]);
    let b = i8x16([
        -127, -127, -127, -127, -128, -128, -128, -128, 1, 0, 0, 0, -56, 0, 0, 0,
    ]);
    let c = i32x4([7, -1, i32::MAX, 5]);
    let r = run(strategy, "i32x4.relaxed_dot_i8x16_i7x16_add_s", &[a, b, c]);
    assert_eq!(i32_lanes(r), [65024 + 7, 65536 - 1, i32::MIN, 7168 + 5]);
}

/// Every relaxed operator gives the same bits on both engines, NaN payloads included
/// (quiet and signalling NaNs, infinities, zeros, and integers at their extremes): a
/// plain test, as it compares the two engines rather than running on one. Except
/// `relaxed_min/max`, which are `min/max` on each engine, and those do not give the
/// same NaN (the native engine's is the default one, the interpreter's an operand's;
/// both are arithmetic NaNs, as the spec requires).
#[test]
fn both_engines_give_the_same_bits_for_every_relaxed_operator() {
    let f32_nans = f32x4([
        f32::from_bits(0x7fa0_0001),
        f32::from_bits(0xffc0_1234),
        f32::INFINITY,
        -0.0,
    ]);
    let f32_mixed = f32x4([
        f32::from_bits(0xff80_0042),
        f32::from_bits(0x7fc0_5678),
        0.0,
        f32::NEG_INFINITY,
    ]);
    let f64_nans = f64x2([f64::from_bits(0x7ff4_0000_0000_0001), f64::INFINITY]);
    let f64_mixed = f64x2([f64::from_bits(0xfff8_0000_0000_1234), 0.0]);
    let ints = i8x16([
        -128, 127, -1, 0, 1, -128, 127, 64, -64, 3, -3, 100, -100, 7, 8, -9,
    ]);
    let ints2 = i8x16([
        -128, -128, 127, -1, 1, 127, 127, -64, -64, 5, 6, -7, 99, -99, 0, 16,
    ]);
    let cases: &[(&str, &[u128])] = &[
        ("f32x4.relaxed_madd", &[f32_nans, f32_mixed, f32_mixed]),
        ("f32x4.relaxed_madd", &[f32_mixed, f32_nans, f32_nans]),
        ("f32x4.relaxed_nmadd", &[f32_nans, f32_mixed, f32_mixed]),
        ("f32x4.relaxed_nmadd", &[f32_mixed, f32_mixed, f32_nans]),
        ("f64x2.relaxed_madd", &[f64_nans, f64_mixed, f64_mixed]),
        ("f64x2.relaxed_madd", &[f64_mixed, f64_mixed, f64_nans]),
        ("f64x2.relaxed_nmadd", &[f64_nans, f64_mixed, f64_nans]),
        ("f64x2.relaxed_nmadd", &[f64_mixed, f64_nans, f64_mixed]),
        ("i32x4.relaxed_trunc_f32x4_s", &[f32_mixed]),
        ("i32x4.relaxed_trunc_f32x4_u", &[f32_nans]),
        ("i32x4.relaxed_trunc_f64x2_s_zero", &[f64_nans]),
        ("i32x4.relaxed_trunc_f64x2_u_zero", &[f64_mixed]),
        ("i8x16.relaxed_swizzle", &[ints, ints2]),
        ("i8x16.relaxed_laneselect", &[ints, ints2, f32_nans]),
        ("i64x2.relaxed_laneselect", &[ints2, ints, f64_mixed]),
        ("i16x8.relaxed_q15mulr_s", &[ints, ints2]),
        ("i16x8.relaxed_dot_i8x16_i7x16_s", &[ints, ints2]),
        (
            "i32x4.relaxed_dot_i8x16_i7x16_add_s",
            &[ints, ints2, f32_nans],
        ),
    ];
    for &(op, operands) in cases {
        let interp = run(Strategy::Interpreter, op, operands);
        let native = run(Strategy::Native, op, operands);
        assert_eq!(interp, native, "{op} {operands:x?}: interpreter vs native");
    }
}
