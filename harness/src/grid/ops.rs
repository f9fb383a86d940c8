//! The operators of the grid, by signature: every numeric, conversion and SIMD
//! operator of Wasm 2.0 (memory access aside) and relaxed SIMD. A 3.0 operator is one
//! more line in the right list (or a new list with its signature).

/// An operand or result type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    I32,
    I64,
    F32,
    F64,
    V128,
}

impl Ty {
    pub fn text(self) -> &'static str {
        match self {
            Ty::I32 => "i32",
            Ty::I64 => "i64",
            Ty::F32 => "f32",
            Ty::F64 => "f64",
            Ty::V128 => "v128",
        }
    }
}

/// One operator with its immediates (text form), operand and result types.
#[derive(Debug, Clone)]
pub struct Op {
    /// The instruction as written in the text format, immediates included
    /// (`i8x16.extract_lane_s 15`).
    pub instr: String,
    pub params: Vec<Ty>,
    pub result: Ty,
    /// A relaxed SIMD operator: the spec allows a set of results, so only our two
    /// engines are compared (each must give one fixed result; RATIONALE.md).
    pub relaxed: bool,
}

use Ty::*;

/// Operators sharing one signature: `(params, result, names)`.
type Family = (&'static [Ty], Ty, &'static str);

const FAMILIES: &[Family] = &[
    // Scalar integers.
    (
        &[I32],
        I32,
        "i32.clz i32.ctz i32.popcnt i32.eqz i32.extend8_s i32.extend16_s",
    ),
    (
        &[I32, I32],
        I32,
        "i32.add i32.sub i32.mul i32.div_s i32.div_u i32.rem_s i32.rem_u i32.and i32.or \
         i32.xor i32.shl i32.shr_s i32.shr_u i32.rotl i32.rotr i32.eq i32.ne i32.lt_s \
         i32.lt_u i32.gt_s i32.gt_u i32.le_s i32.le_u i32.ge_s i32.ge_u",
    ),
    (
        &[I64],
        I64,
        "i64.clz i64.ctz i64.popcnt i64.extend8_s i64.extend16_s i64.extend32_s",
    ),
    (&[I64], I32, "i64.eqz i32.wrap_i64"),
    (
        &[I64, I64],
        I64,
        "i64.add i64.sub i64.mul i64.div_s i64.div_u i64.rem_s i64.rem_u i64.and i64.or \
         i64.xor i64.shl i64.shr_s i64.shr_u i64.rotl i64.rotr",
    ),
    (
        &[I64, I64],
        I32,
        "i64.eq i64.ne i64.lt_s i64.lt_u i64.gt_s i64.gt_u i64.le_s i64.le_u i64.ge_s i64.ge_u",
    ),
    // Scalar floats.
    (
        &[F32],
        F32,
        "f32.abs f32.neg f32.ceil f32.floor f32.trunc f32.nearest f32.sqrt",
    ),
    (
        &[F32, F32],
        F32,
        "f32.add f32.sub f32.mul f32.div f32.min f32.max f32.copysign",
    ),
    (
        &[F32, F32],
        I32,
        "f32.eq f32.ne f32.lt f32.gt f32.le f32.ge",
    ),
    (
        &[F64],
        F64,
        "f64.abs f64.neg f64.ceil f64.floor f64.trunc f64.nearest f64.sqrt",
    ),
    (
        &[F64, F64],
        F64,
        "f64.add f64.sub f64.mul f64.div f64.min f64.max f64.copysign",
    ),
    (
        &[F64, F64],
        I32,
        "f64.eq f64.ne f64.lt f64.gt f64.le f64.ge",
    ),
    // Conversions.
    (
        &[F32],
        I32,
        "i32.trunc_f32_s i32.trunc_f32_u i32.trunc_sat_f32_s i32.trunc_sat_f32_u \
         i32.reinterpret_f32",
    ),
    (
        &[F64],
        I32,
        "i32.trunc_f64_s i32.trunc_f64_u i32.trunc_sat_f64_s i32.trunc_sat_f64_u",
    ),
    (&[I32], I64, "i64.extend_i32_s i64.extend_i32_u"),
    (
        &[F32],
        I64,
        "i64.trunc_f32_s i64.trunc_f32_u i64.trunc_sat_f32_s i64.trunc_sat_f32_u",
    ),
    (
        &[F64],
        I64,
        "i64.trunc_f64_s i64.trunc_f64_u i64.trunc_sat_f64_s i64.trunc_sat_f64_u \
         i64.reinterpret_f64",
    ),
    (
        &[I32],
        F32,
        "f32.convert_i32_s f32.convert_i32_u f32.reinterpret_i32",
    ),
    (&[I64], F32, "f32.convert_i64_s f32.convert_i64_u"),
    (&[F64], F32, "f32.demote_f64"),
    (&[I32], F64, "f64.convert_i32_s f64.convert_i32_u"),
    (
        &[I64],
        F64,
        "f64.convert_i64_s f64.convert_i64_u f64.reinterpret_i64",
    ),
    (&[F32], F64, "f64.promote_f32"),
    // SIMD: splats, lanes, shuffles.
    (&[I32], V128, "i8x16.splat i16x8.splat i32x4.splat"),
    (&[I64], V128, "i64x2.splat"),
    (&[F32], V128, "f32x4.splat"),
    (&[F64], V128, "f64x2.splat"),
    (
        &[V128],
        I32,
        "i8x16.extract_lane_s|0 i8x16.extract_lane_s|15 i8x16.extract_lane_u|0 \
         i8x16.extract_lane_u|15 i16x8.extract_lane_s|0 i16x8.extract_lane_s|7 \
         i16x8.extract_lane_u|0 i16x8.extract_lane_u|7 i32x4.extract_lane|0 \
         i32x4.extract_lane|3 v128.any_true i8x16.all_true i16x8.all_true i32x4.all_true \
         i64x2.all_true i8x16.bitmask i16x8.bitmask i32x4.bitmask i64x2.bitmask",
    ),
    (&[V128], I64, "i64x2.extract_lane|0 i64x2.extract_lane|1"),
    (&[V128], F32, "f32x4.extract_lane|0 f32x4.extract_lane|3"),
    (&[V128], F64, "f64x2.extract_lane|0 f64x2.extract_lane|1"),
    (
        &[V128, I32],
        V128,
        "i8x16.replace_lane|0 i8x16.replace_lane|15 i16x8.replace_lane|0 \
         i16x8.replace_lane|7 i32x4.replace_lane|0 i32x4.replace_lane|3 \
         i8x16.shl i8x16.shr_s i8x16.shr_u i16x8.shl i16x8.shr_s i16x8.shr_u \
         i32x4.shl i32x4.shr_s i32x4.shr_u i64x2.shl i64x2.shr_s i64x2.shr_u",
    ),
    (
        &[V128, I64],
        V128,
        "i64x2.replace_lane|0 i64x2.replace_lane|1",
    ),
    (
        &[V128, F32],
        V128,
        "f32x4.replace_lane|0 f32x4.replace_lane|3",
    ),
    (
        &[V128, F64],
        V128,
        "f64x2.replace_lane|0 f64x2.replace_lane|1",
    ),
    // SIMD: one vector in, one out.
    (
        &[V128],
        V128,
        "v128.not i8x16.abs i8x16.neg i8x16.popcnt i16x8.abs i16x8.neg i32x4.abs i32x4.neg \
         i64x2.abs i64x2.neg i16x8.extadd_pairwise_i8x16_s i16x8.extadd_pairwise_i8x16_u \
         i32x4.extadd_pairwise_i16x8_s i32x4.extadd_pairwise_i16x8_u \
         i16x8.extend_low_i8x16_s i16x8.extend_high_i8x16_s i16x8.extend_low_i8x16_u \
         i16x8.extend_high_i8x16_u i32x4.extend_low_i16x8_s i32x4.extend_high_i16x8_s \
         i32x4.extend_low_i16x8_u i32x4.extend_high_i16x8_u i64x2.extend_low_i32x4_s \
         i64x2.extend_high_i32x4_s i64x2.extend_low_i32x4_u i64x2.extend_high_i32x4_u \
         f32x4.ceil f32x4.floor f32x4.trunc f32x4.nearest f32x4.abs f32x4.neg f32x4.sqrt \
         f64x2.ceil f64x2.floor f64x2.trunc f64x2.nearest f64x2.abs f64x2.neg f64x2.sqrt \
         i32x4.trunc_sat_f32x4_s i32x4.trunc_sat_f32x4_u f32x4.convert_i32x4_s \
         f32x4.convert_i32x4_u i32x4.trunc_sat_f64x2_s_zero i32x4.trunc_sat_f64x2_u_zero \
         f64x2.convert_low_i32x4_s f64x2.convert_low_i32x4_u f32x4.demote_f64x2_zero \
         f64x2.promote_low_f32x4",
    ),
    // SIMD: two vectors in, one out.
    (
        &[V128, V128],
        V128,
        "v128.and v128.andnot v128.or v128.xor i8x16.swizzle \
         i8x16.shuffle|0_1_2_3_4_5_6_7_8_9_10_11_12_13_14_15 \
         i8x16.shuffle|31_0_30_1_29_2_28_3_27_4_26_5_25_6_24_7 \
         i8x16.shuffle|16_16_16_16_17_17_17_17_0_0_0_0_15_15_15_15 \
         i8x16.eq i8x16.ne i8x16.lt_s i8x16.lt_u i8x16.gt_s i8x16.gt_u i8x16.le_s i8x16.le_u \
         i8x16.ge_s i8x16.ge_u i16x8.eq i16x8.ne i16x8.lt_s i16x8.lt_u i16x8.gt_s i16x8.gt_u \
         i16x8.le_s i16x8.le_u i16x8.ge_s i16x8.ge_u i32x4.eq i32x4.ne i32x4.lt_s i32x4.lt_u \
         i32x4.gt_s i32x4.gt_u i32x4.le_s i32x4.le_u i32x4.ge_s i32x4.ge_u i64x2.eq i64x2.ne \
         i64x2.lt_s i64x2.gt_s i64x2.le_s i64x2.ge_s f32x4.eq f32x4.ne f32x4.lt f32x4.gt \
         f32x4.le f32x4.ge f64x2.eq f64x2.ne f64x2.lt f64x2.gt f64x2.le f64x2.ge \
         i8x16.narrow_i16x8_s i8x16.narrow_i16x8_u i8x16.add i8x16.add_sat_s i8x16.add_sat_u \
         i8x16.sub i8x16.sub_sat_s i8x16.sub_sat_u i8x16.min_s i8x16.min_u i8x16.max_s \
         i8x16.max_u i8x16.avgr_u i16x8.narrow_i32x4_s i16x8.narrow_i32x4_u \
         i16x8.q15mulr_sat_s i16x8.add i16x8.add_sat_s i16x8.add_sat_u i16x8.sub \
         i16x8.sub_sat_s i16x8.sub_sat_u i16x8.mul i16x8.min_s i16x8.min_u i16x8.max_s \
         i16x8.max_u i16x8.avgr_u i16x8.extmul_low_i8x16_s i16x8.extmul_high_i8x16_s \
         i16x8.extmul_low_i8x16_u i16x8.extmul_high_i8x16_u i32x4.add i32x4.sub i32x4.mul \
         i32x4.min_s i32x4.min_u i32x4.max_s i32x4.max_u i32x4.dot_i16x8_s \
         i32x4.extmul_low_i16x8_s i32x4.extmul_high_i16x8_s i32x4.extmul_low_i16x8_u \
         i32x4.extmul_high_i16x8_u i64x2.add i64x2.sub i64x2.mul i64x2.extmul_low_i32x4_s \
         i64x2.extmul_high_i32x4_s i64x2.extmul_low_i32x4_u i64x2.extmul_high_i32x4_u \
         f32x4.add f32x4.sub f32x4.mul f32x4.div f32x4.min f32x4.max f32x4.pmin f32x4.pmax \
         f64x2.add f64x2.sub f64x2.mul f64x2.div f64x2.min f64x2.max f64x2.pmin f64x2.pmax",
    ),
    (&[V128, V128, V128], V128, "v128.bitselect"),
];

/// Relaxed SIMD (Wasm 3.0), by signature.
const RELAXED: &[Family] = &[
    (
        &[V128],
        V128,
        "i32x4.relaxed_trunc_f32x4_s i32x4.relaxed_trunc_f32x4_u \
         i32x4.relaxed_trunc_f64x2_s_zero i32x4.relaxed_trunc_f64x2_u_zero",
    ),
    (
        &[V128, V128],
        V128,
        "i8x16.relaxed_swizzle f32x4.relaxed_min f32x4.relaxed_max f64x2.relaxed_min \
         f64x2.relaxed_max i16x8.relaxed_q15mulr_s i16x8.relaxed_dot_i8x16_i7x16_s",
    ),
    (
        &[V128, V128, V128],
        V128,
        "f32x4.relaxed_madd f32x4.relaxed_nmadd f64x2.relaxed_madd f64x2.relaxed_nmadd \
         i8x16.relaxed_laneselect i16x8.relaxed_laneselect i32x4.relaxed_laneselect \
         i64x2.relaxed_laneselect i32x4.relaxed_dot_i8x16_i7x16_add_s",
    ),
];

fn expand(families: &[Family], relaxed: bool, out: &mut Vec<Op>) {
    for (params, result, names) in families {
        for name in names.split_whitespace() {
            // `name|imm` carries immediates, `_`-separated (shuffle lanes).
            let instr = match name.split_once('|') {
                Some((op, imm)) => format!("{op} {}", imm.replace('_', " ")),
                None => name.to_string(),
            };
            out.push(Op {
                instr,
                params: params.to_vec(),
                result: *result,
                relaxed,
            });
        }
    }
}

/// Every operator of the grid, in a fixed order.
pub fn all() -> Vec<Op> {
    let mut ops = Vec::new();
    expand(FAMILIES, false, &mut ops);
    expand(RELAXED, true, &mut ops);
    ops
}
