//! Fixed-width SIMD (`v128`) operators, and their table (`VisitSimdOperator`).
//!
//! Every `v128` value is an `I8X16` on the operand stack, in locals, block parameters,
//! signatures and globals; an operator bitcasts its operands to the lane type it works
//! on and its result back to `I8X16` (the optimizer removes the round trips). Memory
//! accesses are in `memory.rs`, with the scalar ones; the lowerings of relaxed SIMD that
//! are not those of a deterministic counterpart are in `relaxed_simd.rs`. The lowering
//! relies on SSSE3 and SSE4.1 (`isa_supports_simd` refuses SIMD without them, and so does
//! every method of the table).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value, types,
};
use cranelift_frontend::{FuncInstBuilder, FunctionBuilder};
use wasmparser::{MemArg, V128, VisitSimdOperator};

use super::Translator;
use super::visit::{refuse_unimplemented_proposals, visit_methods};
use crate::error::Result;

use types::{F32X4, F64X2, I8X16, I16X8, I32, I32X4, I64X2};

fn lanes() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// Bitcasts vector `v` to `ty` (lane reinterpretation, little-endian) if needed.
pub(crate) fn cast(b: &mut FunctionBuilder<'_>, v: Value, ty: Type) -> Value {
    if b.func.dfg.value_type(v) == ty {
        v
    } else {
        b.ins().bitcast(ty, lanes(), v)
    }
}

/// A `v128` constant (as `I8X16`).
pub(crate) fn v128_const(b: &mut FunctionBuilder<'_>, bytes: &[u8; 16]) -> Value {
    let c = b.func.dfg.constants.insert(ConstantData::from(&bytes[..]));
    b.ins().vconst(I8X16, c)
}

impl VisitSimdOperator<'_> for Translator<'_, '_> {
    visit_methods! { simd;
        // Memory.
        visit_v128_load(memarg: MemArg) => v128_load(memarg);
        visit_v128_store(memarg: MemArg) => v128_store(memarg);
        visit_v128_load8x8_s(memarg: MemArg) => simd_ext_load(memarg, I8X16, true);
        visit_v128_load8x8_u(memarg: MemArg) => simd_ext_load(memarg, I8X16, false);
        visit_v128_load16x4_s(memarg: MemArg) => simd_ext_load(memarg, I16X8, true);
        visit_v128_load16x4_u(memarg: MemArg) => simd_ext_load(memarg, I16X8, false);
        visit_v128_load32x2_s(memarg: MemArg) => simd_ext_load(memarg, I32X4, true);
        visit_v128_load32x2_u(memarg: MemArg) => simd_ext_load(memarg, I32X4, false);
        visit_v128_load8_splat(memarg: MemArg) => simd_splat_load(memarg, I8X16);
        visit_v128_load16_splat(memarg: MemArg) => simd_splat_load(memarg, I16X8);
        visit_v128_load32_splat(memarg: MemArg) => simd_splat_load(memarg, I32X4);
        visit_v128_load64_splat(memarg: MemArg) => simd_splat_load(memarg, I64X2);
        visit_v128_load32_zero(memarg: MemArg) => simd_zero_load(memarg, I32X4);
        visit_v128_load64_zero(memarg: MemArg) => simd_zero_load(memarg, I64X2);
        visit_v128_load8_lane(memarg: MemArg, lane: u8) => simd_load_lane(memarg, I8X16, lane);
        visit_v128_load16_lane(memarg: MemArg, lane: u8) => simd_load_lane(memarg, I16X8, lane);
        visit_v128_load32_lane(memarg: MemArg, lane: u8) => simd_load_lane(memarg, I32X4, lane);
        visit_v128_load64_lane(memarg: MemArg, lane: u8) => simd_load_lane(memarg, I64X2, lane);
        visit_v128_store8_lane(memarg: MemArg, lane: u8) => simd_store_lane(memarg, I8X16, lane);
        visit_v128_store16_lane(memarg: MemArg, lane: u8) => simd_store_lane(memarg, I16X8, lane);
        visit_v128_store32_lane(memarg: MemArg, lane: u8) => simd_store_lane(memarg, I32X4, lane);
        visit_v128_store64_lane(memarg: MemArg, lane: u8) => simd_store_lane(memarg, I64X2, lane);

        // Constants, lanes, shuffles.
        visit_v128_const(value: V128) => v128_constant(value);
        visit_i8x16_splat => splat(I8X16);
        visit_i16x8_splat => splat(I16X8);
        visit_i32x4_splat => splat(I32X4);
        visit_i64x2_splat => splat(I64X2);
        visit_f32x4_splat => splat(F32X4);
        visit_f64x2_splat => splat(F64X2);
        visit_i8x16_extract_lane_s(lane: u8) => extract_lane(I8X16, lane, Some(true));
        visit_i8x16_extract_lane_u(lane: u8) => extract_lane(I8X16, lane, Some(false));
        visit_i16x8_extract_lane_s(lane: u8) => extract_lane(I16X8, lane, Some(true));
        visit_i16x8_extract_lane_u(lane: u8) => extract_lane(I16X8, lane, Some(false));
        visit_i32x4_extract_lane(lane: u8) => extract_lane(I32X4, lane, None);
        visit_i64x2_extract_lane(lane: u8) => extract_lane(I64X2, lane, None);
        visit_f32x4_extract_lane(lane: u8) => extract_lane(F32X4, lane, None);
        visit_f64x2_extract_lane(lane: u8) => extract_lane(F64X2, lane, None);
        visit_i8x16_replace_lane(lane: u8) => replace_lane(I8X16, lane);
        visit_i16x8_replace_lane(lane: u8) => replace_lane(I16X8, lane);
        visit_i32x4_replace_lane(lane: u8) => replace_lane(I32X4, lane);
        visit_i64x2_replace_lane(lane: u8) => replace_lane(I64X2, lane);
        visit_f32x4_replace_lane(lane: u8) => replace_lane(F32X4, lane);
        visit_f64x2_replace_lane(lane: u8) => replace_lane(F64X2, lane);
        visit_i8x16_shuffle(lanes: [u8; 16]) => shuffle(lanes);

        // Bitwise.
        visit_i8x16_swizzle => vbinary(I8X16, |ins, x, y| ins.swizzle(x, y));
        visit_v128_not => vunary(I8X16, |ins, x| ins.bnot(x));
        visit_v128_and => vbinary(I8X16, |ins, x, y| ins.band(x, y));
        visit_v128_andnot => vbinary(I8X16, |ins, x, y| ins.band_not(x, y));
        visit_v128_or => vbinary(I8X16, |ins, x, y| ins.bor(x, y));
        visit_v128_xor => vbinary(I8X16, |ins, x, y| ins.bxor(x, y));
        visit_v128_any_true => vtest(I8X16, |ins, x| ins.vany_true(x));
        visit_i8x16_all_true => vtest(I8X16, |ins, x| ins.vall_true(x));
        visit_i16x8_all_true => vtest(I16X8, |ins, x| ins.vall_true(x));
        visit_i32x4_all_true => vtest(I32X4, |ins, x| ins.vall_true(x));
        visit_i64x2_all_true => vtest(I64X2, |ins, x| ins.vall_true(x));
        visit_v128_bitselect => bitselect();
        visit_i8x16_bitmask => bitmask(I8X16);
        visit_i16x8_bitmask => bitmask(I16X8);
        visit_i32x4_bitmask => bitmask(I32X4);
        visit_i64x2_bitmask => bitmask(I64X2);

        // Comparisons.
        visit_i8x16_eq => vicmp(IntCC::Equal, I8X16);
        visit_i16x8_eq => vicmp(IntCC::Equal, I16X8);
        visit_i32x4_eq => vicmp(IntCC::Equal, I32X4);
        visit_i64x2_eq => vicmp(IntCC::Equal, I64X2);
        visit_i8x16_ne => vicmp(IntCC::NotEqual, I8X16);
        visit_i16x8_ne => vicmp(IntCC::NotEqual, I16X8);
        visit_i32x4_ne => vicmp(IntCC::NotEqual, I32X4);
        visit_i64x2_ne => vicmp(IntCC::NotEqual, I64X2);
        visit_i8x16_lt_s => vicmp(IntCC::SignedLessThan, I8X16);
        visit_i16x8_lt_s => vicmp(IntCC::SignedLessThan, I16X8);
        visit_i32x4_lt_s => vicmp(IntCC::SignedLessThan, I32X4);
        visit_i64x2_lt_s => vicmp(IntCC::SignedLessThan, I64X2);
        visit_i8x16_lt_u => vicmp(IntCC::UnsignedLessThan, I8X16);
        visit_i16x8_lt_u => vicmp(IntCC::UnsignedLessThan, I16X8);
        visit_i32x4_lt_u => vicmp(IntCC::UnsignedLessThan, I32X4);
        visit_i8x16_gt_s => vicmp(IntCC::SignedGreaterThan, I8X16);
        visit_i16x8_gt_s => vicmp(IntCC::SignedGreaterThan, I16X8);
        visit_i32x4_gt_s => vicmp(IntCC::SignedGreaterThan, I32X4);
        visit_i64x2_gt_s => vicmp(IntCC::SignedGreaterThan, I64X2);
        visit_i8x16_gt_u => vicmp(IntCC::UnsignedGreaterThan, I8X16);
        visit_i16x8_gt_u => vicmp(IntCC::UnsignedGreaterThan, I16X8);
        visit_i32x4_gt_u => vicmp(IntCC::UnsignedGreaterThan, I32X4);
        visit_i8x16_le_s => vicmp(IntCC::SignedLessThanOrEqual, I8X16);
        visit_i16x8_le_s => vicmp(IntCC::SignedLessThanOrEqual, I16X8);
        visit_i32x4_le_s => vicmp(IntCC::SignedLessThanOrEqual, I32X4);
        visit_i64x2_le_s => vicmp(IntCC::SignedLessThanOrEqual, I64X2);
        visit_i8x16_le_u => vicmp(IntCC::UnsignedLessThanOrEqual, I8X16);
        visit_i16x8_le_u => vicmp(IntCC::UnsignedLessThanOrEqual, I16X8);
        visit_i32x4_le_u => vicmp(IntCC::UnsignedLessThanOrEqual, I32X4);
        visit_i8x16_ge_s => vicmp(IntCC::SignedGreaterThanOrEqual, I8X16);
        visit_i16x8_ge_s => vicmp(IntCC::SignedGreaterThanOrEqual, I16X8);
        visit_i32x4_ge_s => vicmp(IntCC::SignedGreaterThanOrEqual, I32X4);
        visit_i64x2_ge_s => vicmp(IntCC::SignedGreaterThanOrEqual, I64X2);
        visit_i8x16_ge_u => vicmp(IntCC::UnsignedGreaterThanOrEqual, I8X16);
        visit_i16x8_ge_u => vicmp(IntCC::UnsignedGreaterThanOrEqual, I16X8);
        visit_i32x4_ge_u => vicmp(IntCC::UnsignedGreaterThanOrEqual, I32X4);
        visit_f32x4_eq => vfcmp(FloatCC::Equal, F32X4);
        visit_f64x2_eq => vfcmp(FloatCC::Equal, F64X2);
        visit_f32x4_ne => vfcmp(FloatCC::NotEqual, F32X4);
        visit_f64x2_ne => vfcmp(FloatCC::NotEqual, F64X2);
        visit_f32x4_lt => vfcmp(FloatCC::LessThan, F32X4);
        visit_f64x2_lt => vfcmp(FloatCC::LessThan, F64X2);
        visit_f32x4_gt => vfcmp(FloatCC::GreaterThan, F32X4);
        visit_f64x2_gt => vfcmp(FloatCC::GreaterThan, F64X2);
        visit_f32x4_le => vfcmp(FloatCC::LessThanOrEqual, F32X4);
        visit_f64x2_le => vfcmp(FloatCC::LessThanOrEqual, F64X2);
        visit_f32x4_ge => vfcmp(FloatCC::GreaterThanOrEqual, F32X4);
        visit_f64x2_ge => vfcmp(FloatCC::GreaterThanOrEqual, F64X2);

        // Integer arithmetic.
        visit_i8x16_abs => vunary(I8X16, |ins, x| ins.iabs(x));
        visit_i16x8_abs => vunary(I16X8, |ins, x| ins.iabs(x));
        visit_i32x4_abs => vunary(I32X4, |ins, x| ins.iabs(x));
        visit_i64x2_abs => vunary(I64X2, |ins, x| ins.iabs(x));
        visit_i8x16_neg => vunary(I8X16, |ins, x| ins.ineg(x));
        visit_i16x8_neg => vunary(I16X8, |ins, x| ins.ineg(x));
        visit_i32x4_neg => vunary(I32X4, |ins, x| ins.ineg(x));
        visit_i64x2_neg => vunary(I64X2, |ins, x| ins.ineg(x));
        visit_i8x16_popcnt => vunary(I8X16, |ins, x| ins.popcnt(x));
        visit_i8x16_add => vbinary(I8X16, |ins, x, y| ins.iadd(x, y));
        visit_i16x8_add => vbinary(I16X8, |ins, x, y| ins.iadd(x, y));
        visit_i32x4_add => vbinary(I32X4, |ins, x, y| ins.iadd(x, y));
        visit_i64x2_add => vbinary(I64X2, |ins, x, y| ins.iadd(x, y));
        visit_i8x16_sub => vbinary(I8X16, |ins, x, y| ins.isub(x, y));
        visit_i16x8_sub => vbinary(I16X8, |ins, x, y| ins.isub(x, y));
        visit_i32x4_sub => vbinary(I32X4, |ins, x, y| ins.isub(x, y));
        visit_i64x2_sub => vbinary(I64X2, |ins, x, y| ins.isub(x, y));
        visit_i16x8_mul => vbinary(I16X8, |ins, x, y| ins.imul(x, y));
        visit_i32x4_mul => vbinary(I32X4, |ins, x, y| ins.imul(x, y));
        visit_i64x2_mul => vbinary(I64X2, |ins, x, y| ins.imul(x, y));
        visit_i8x16_add_sat_s => vbinary(I8X16, |ins, x, y| ins.sadd_sat(x, y));
        visit_i16x8_add_sat_s => vbinary(I16X8, |ins, x, y| ins.sadd_sat(x, y));
        visit_i8x16_add_sat_u => vbinary(I8X16, |ins, x, y| ins.uadd_sat(x, y));
        visit_i16x8_add_sat_u => vbinary(I16X8, |ins, x, y| ins.uadd_sat(x, y));
        visit_i8x16_sub_sat_s => vbinary(I8X16, |ins, x, y| ins.ssub_sat(x, y));
        visit_i16x8_sub_sat_s => vbinary(I16X8, |ins, x, y| ins.ssub_sat(x, y));
        visit_i8x16_sub_sat_u => vbinary(I8X16, |ins, x, y| ins.usub_sat(x, y));
        visit_i16x8_sub_sat_u => vbinary(I16X8, |ins, x, y| ins.usub_sat(x, y));
        visit_i8x16_min_s => vbinary(I8X16, |ins, x, y| ins.smin(x, y));
        visit_i16x8_min_s => vbinary(I16X8, |ins, x, y| ins.smin(x, y));
        visit_i32x4_min_s => vbinary(I32X4, |ins, x, y| ins.smin(x, y));
        visit_i8x16_min_u => vbinary(I8X16, |ins, x, y| ins.umin(x, y));
        visit_i16x8_min_u => vbinary(I16X8, |ins, x, y| ins.umin(x, y));
        visit_i32x4_min_u => vbinary(I32X4, |ins, x, y| ins.umin(x, y));
        visit_i8x16_max_s => vbinary(I8X16, |ins, x, y| ins.smax(x, y));
        visit_i16x8_max_s => vbinary(I16X8, |ins, x, y| ins.smax(x, y));
        visit_i32x4_max_s => vbinary(I32X4, |ins, x, y| ins.smax(x, y));
        visit_i8x16_max_u => vbinary(I8X16, |ins, x, y| ins.umax(x, y));
        visit_i16x8_max_u => vbinary(I16X8, |ins, x, y| ins.umax(x, y));
        visit_i32x4_max_u => vbinary(I32X4, |ins, x, y| ins.umax(x, y));
        visit_i8x16_avgr_u => vbinary(I8X16, |ins, x, y| ins.avg_round(x, y));
        visit_i16x8_avgr_u => vbinary(I16X8, |ins, x, y| ins.avg_round(x, y));
        visit_i16x8_q15mulr_sat_s => vbinary(I16X8, |ins, x, y| ins.sqmul_round_sat(x, y));
        visit_i8x16_shl => vshift(I8X16, |ins, v, n| ins.ishl(v, n));
        visit_i16x8_shl => vshift(I16X8, |ins, v, n| ins.ishl(v, n));
        visit_i32x4_shl => vshift(I32X4, |ins, v, n| ins.ishl(v, n));
        visit_i64x2_shl => vshift(I64X2, |ins, v, n| ins.ishl(v, n));
        visit_i8x16_shr_s => vshift(I8X16, |ins, v, n| ins.sshr(v, n));
        visit_i16x8_shr_s => vshift(I16X8, |ins, v, n| ins.sshr(v, n));
        visit_i32x4_shr_s => vshift(I32X4, |ins, v, n| ins.sshr(v, n));
        visit_i64x2_shr_s => vshift(I64X2, |ins, v, n| ins.sshr(v, n));
        visit_i8x16_shr_u => vshift(I8X16, |ins, v, n| ins.ushr(v, n));
        visit_i16x8_shr_u => vshift(I16X8, |ins, v, n| ins.ushr(v, n));
        visit_i32x4_shr_u => vshift(I32X4, |ins, v, n| ins.ushr(v, n));
        visit_i64x2_shr_u => vshift(I64X2, |ins, v, n| ins.ushr(v, n));
        visit_i16x8_extmul_low_i8x16_s => vextmul(I8X16, true, false);
        visit_i16x8_extmul_high_i8x16_s => vextmul(I8X16, true, true);
        visit_i16x8_extmul_low_i8x16_u => vextmul(I8X16, false, false);
        visit_i16x8_extmul_high_i8x16_u => vextmul(I8X16, false, true);
        visit_i32x4_extmul_low_i16x8_s => vextmul(I16X8, true, false);
        visit_i32x4_extmul_high_i16x8_s => vextmul(I16X8, true, true);
        visit_i32x4_extmul_low_i16x8_u => vextmul(I16X8, false, false);
        visit_i32x4_extmul_high_i16x8_u => vextmul(I16X8, false, true);
        visit_i64x2_extmul_low_i32x4_s => vextmul(I32X4, true, false);
        visit_i64x2_extmul_high_i32x4_s => vextmul(I32X4, true, true);
        visit_i64x2_extmul_low_i32x4_u => vextmul(I32X4, false, false);
        visit_i64x2_extmul_high_i32x4_u => vextmul(I32X4, false, true);
        visit_i16x8_extadd_pairwise_i8x16_s => vext_add_pairwise(I8X16, true);
        visit_i16x8_extadd_pairwise_i8x16_u => vext_add_pairwise(I8X16, false);
        visit_i32x4_extadd_pairwise_i16x8_s => vext_add_pairwise(I16X8, true);
        visit_i32x4_extadd_pairwise_i16x8_u => vext_add_pairwise(I16X8, false);
        visit_i32x4_dot_i16x8_s => dot_i16x8_s();

        // Narrowing and widening.
        visit_i8x16_narrow_i16x8_s => vbinary(I16X8, |ins, x, y| ins.snarrow(x, y));
        visit_i8x16_narrow_i16x8_u => vbinary(I16X8, |ins, x, y| ins.unarrow(x, y));
        visit_i16x8_narrow_i32x4_s => vbinary(I32X4, |ins, x, y| ins.snarrow(x, y));
        visit_i16x8_narrow_i32x4_u => vbinary(I32X4, |ins, x, y| ins.unarrow(x, y));
        visit_i16x8_extend_low_i8x16_s => vextend(I8X16, true, false);
        visit_i16x8_extend_high_i8x16_s => vextend(I8X16, true, true);
        visit_i16x8_extend_low_i8x16_u => vextend(I8X16, false, false);
        visit_i16x8_extend_high_i8x16_u => vextend(I8X16, false, true);
        visit_i32x4_extend_low_i16x8_s => vextend(I16X8, true, false);
        visit_i32x4_extend_high_i16x8_s => vextend(I16X8, true, true);
        visit_i32x4_extend_low_i16x8_u => vextend(I16X8, false, false);
        visit_i32x4_extend_high_i16x8_u => vextend(I16X8, false, true);
        visit_i64x2_extend_low_i32x4_s => vextend(I32X4, true, false);
        visit_i64x2_extend_high_i32x4_s => vextend(I32X4, true, true);
        visit_i64x2_extend_low_i32x4_u => vextend(I32X4, false, false);
        visit_i64x2_extend_high_i32x4_u => vextend(I32X4, false, true);

        // Float arithmetic.
        visit_f32x4_abs => vunary(F32X4, |ins, x| ins.fabs(x));
        visit_f64x2_abs => vunary(F64X2, |ins, x| ins.fabs(x));
        visit_f32x4_neg => vunary(F32X4, |ins, x| ins.fneg(x));
        visit_f64x2_neg => vunary(F64X2, |ins, x| ins.fneg(x));
        visit_f32x4_sqrt => vunary(F32X4, |ins, x| ins.sqrt(x));
        visit_f64x2_sqrt => vunary(F64X2, |ins, x| ins.sqrt(x));
        visit_f32x4_ceil => vunary(F32X4, |ins, x| ins.ceil(x));
        visit_f64x2_ceil => vunary(F64X2, |ins, x| ins.ceil(x));
        visit_f32x4_floor => vunary(F32X4, |ins, x| ins.floor(x));
        visit_f64x2_floor => vunary(F64X2, |ins, x| ins.floor(x));
        visit_f32x4_trunc => vunary(F32X4, |ins, x| ins.trunc(x));
        visit_f64x2_trunc => vunary(F64X2, |ins, x| ins.trunc(x));
        visit_f32x4_nearest => vunary(F32X4, |ins, x| ins.nearest(x));
        visit_f64x2_nearest => vunary(F64X2, |ins, x| ins.nearest(x));
        visit_f32x4_add => vbinary(F32X4, |ins, x, y| ins.fadd(x, y));
        visit_f64x2_add => vbinary(F64X2, |ins, x, y| ins.fadd(x, y));
        visit_f32x4_sub => vbinary(F32X4, |ins, x, y| ins.fsub(x, y));
        visit_f64x2_sub => vbinary(F64X2, |ins, x, y| ins.fsub(x, y));
        visit_f32x4_mul => vbinary(F32X4, |ins, x, y| ins.fmul(x, y));
        visit_f64x2_mul => vbinary(F64X2, |ins, x, y| ins.fmul(x, y));
        visit_f32x4_div => vbinary(F32X4, |ins, x, y| ins.fdiv(x, y));
        visit_f64x2_div => vbinary(F64X2, |ins, x, y| ins.fdiv(x, y));
        visit_f32x4_min => vbinary(F32X4, |ins, x, y| ins.fmin(x, y));
        visit_f64x2_min => vbinary(F64X2, |ins, x, y| ins.fmin(x, y));
        visit_f32x4_max => vbinary(F32X4, |ins, x, y| ins.fmax(x, y));
        visit_f64x2_max => vbinary(F64X2, |ins, x, y| ins.fmax(x, y));
        visit_f32x4_pmin => vpminmax(F32X4, false);
        visit_f64x2_pmin => vpminmax(F64X2, false);
        visit_f32x4_pmax => vpminmax(F32X4, true);
        visit_f64x2_pmax => vpminmax(F64X2, true);

        // Conversions.
        visit_i32x4_trunc_sat_f32x4_s => vunary(F32X4, |ins, x| ins.fcvt_to_sint_sat(I32X4, x));
        visit_i32x4_trunc_sat_f32x4_u => vunary(F32X4, |ins, x| ins.fcvt_to_uint_sat(I32X4, x));
        visit_f32x4_convert_i32x4_s => vunary(I32X4, |ins, x| ins.fcvt_from_sint(F32X4, x));
        visit_f32x4_convert_i32x4_u => vunary(I32X4, |ins, x| ins.fcvt_from_uint(F32X4, x));
        visit_f32x4_demote_f64x2_zero => vunary(F64X2, |ins, x| ins.fvdemote(x));
        visit_f64x2_promote_low_f32x4 => vunary(F32X4, |ins, x| ins.fvpromote_low(x));
        visit_i32x4_trunc_sat_f64x2_s_zero => trunc_sat_f64x2_zero(true);
        visit_i32x4_trunc_sat_f64x2_u_zero => trunc_sat_f64x2_zero(false);
        visit_f64x2_convert_low_i32x4_s => convert_low_i32x4(true);
        visit_f64x2_convert_low_i32x4_u => convert_low_i32x4(false);

        // Relaxed SIMD, one fixed choice each (`relaxed_simd.rs`): the deterministic
        // counterpart where there is one, else the lowering there.
        visit_i8x16_relaxed_swizzle => vbinary(I8X16, |ins, x, y| ins.swizzle(x, y));
        visit_i32x4_relaxed_trunc_f32x4_s => vunary(F32X4, |ins, x| ins.fcvt_to_sint_sat(I32X4, x));
        visit_i32x4_relaxed_trunc_f32x4_u => vunary(F32X4, |ins, x| ins.fcvt_to_uint_sat(I32X4, x));
        visit_i32x4_relaxed_trunc_f64x2_s_zero => trunc_sat_f64x2_zero(true);
        visit_i32x4_relaxed_trunc_f64x2_u_zero => trunc_sat_f64x2_zero(false);
        visit_f32x4_relaxed_madd => unfused_madd(F32X4, false);
        visit_f32x4_relaxed_nmadd => unfused_madd(F32X4, true);
        visit_f64x2_relaxed_madd => unfused_madd(F64X2, false);
        visit_f64x2_relaxed_nmadd => unfused_madd(F64X2, true);
        visit_i8x16_relaxed_laneselect => bitselect();
        visit_i16x8_relaxed_laneselect => bitselect();
        visit_i32x4_relaxed_laneselect => bitselect();
        visit_i64x2_relaxed_laneselect => bitselect();
        visit_f32x4_relaxed_min => vbinary(F32X4, |ins, x, y| ins.fmin(x, y));
        visit_f64x2_relaxed_min => vbinary(F64X2, |ins, x, y| ins.fmin(x, y));
        visit_f32x4_relaxed_max => vbinary(F32X4, |ins, x, y| ins.fmax(x, y));
        visit_f64x2_relaxed_max => vbinary(F64X2, |ins, x, y| ins.fmax(x, y));
        visit_i16x8_relaxed_q15mulr_s => vbinary(I16X8, |ins, x, y| ins.sqmul_round_sat(x, y));
        visit_i16x8_relaxed_dot_i8x16_i7x16_s => relaxed_dot_i8x16_s();
        visit_i32x4_relaxed_dot_i8x16_i7x16_add_s => relaxed_dot_i8x16_add_s();
    }

    wasmparser::for_each_visit_simd_operator!(refuse_unimplemented_proposals);
}

impl Translator<'_, '_> {
    pub(super) fn vpop(&mut self, ty: Type) -> Value {
        let v = self.pop();
        cast(&mut self.b, v, ty)
    }

    pub(super) fn vpop2(&mut self, ty: Type) -> (Value, Value) {
        let y = self.vpop(ty);
        let x = self.vpop(ty);
        (x, y)
    }

    pub(super) fn vpush(&mut self, v: Value) {
        let v = cast(&mut self.b, v, I8X16);
        self.push(v);
    }

    fn v128_constant(&mut self, value: V128) -> Result<()> {
        let v = v128_const(&mut self.b, value.bytes());
        self.push(v);
        Ok(())
    }

    fn splat(&mut self, ty: Type) -> Result<()> {
        let mut x = self.pop();
        if ty == I8X16 || ty == I16X8 {
            x = self.b.ins().ireduce(ty.lane_type(), x);
        }
        let r = self.b.ins().splat(ty, x);
        self.vpush(r);
        Ok(())
    }

    /// `extract_lane`; `ext` says whether a lane narrower than i32 is sign-extended
    /// (`Some(true)`) or zero-extended (`Some(false)`).
    fn extract_lane(&mut self, ty: Type, lane: u8, ext: Option<bool>) -> Result<()> {
        let v = self.vpop(ty);
        let x = self.b.ins().extractlane(v, lane);
        let r = match ext {
            None => x,
            Some(true) => self.b.ins().sextend(I32, x),
            Some(false) => self.b.ins().uextend(I32, x),
        };
        self.push(r);
        Ok(())
    }

    fn replace_lane(&mut self, ty: Type, lane: u8) -> Result<()> {
        let mut x = self.pop();
        let v = self.vpop(ty);
        if ty == I8X16 || ty == I16X8 {
            x = self.b.ins().ireduce(ty.lane_type(), x);
        }
        let r = self.b.ins().insertlane(v, x, lane);
        self.vpush(r);
        Ok(())
    }

    fn shuffle(&mut self, lanes: [u8; 16]) -> Result<()> {
        let (x, y) = self.vpop2(I8X16);
        let mask = self
            .b
            .func
            .dfg
            .immediates
            .push(ConstantData::from(&lanes[..]));
        let r = self.b.ins().shuffle(x, y, mask);
        self.vpush(r);
        Ok(())
    }

    /// A lane-wise operator on one `ty` vector.
    fn vunary(
        &mut self,
        ty: Type,
        build: impl FnOnce(FuncInstBuilder<'_, '_>, Value) -> Value,
    ) -> Result<()> {
        let x = self.vpop(ty);
        let r = build(self.b.ins(), x);
        self.vpush(r);
        Ok(())
    }

    /// A lane-wise operator on two `ty` vectors.
    fn vbinary(
        &mut self,
        ty: Type,
        build: impl FnOnce(FuncInstBuilder<'_, '_>, Value, Value) -> Value,
    ) -> Result<()> {
        let (x, y) = self.vpop2(ty);
        let r = build(self.b.ins(), x, y);
        self.vpush(r);
        Ok(())
    }

    /// A test of a `ty` vector, pushed as an i32 (0 or 1).
    fn vtest(
        &mut self,
        ty: Type,
        build: impl FnOnce(FuncInstBuilder<'_, '_>, Value) -> Value,
    ) -> Result<()> {
        let x = self.vpop(ty);
        let c = build(self.b.ins(), x);
        let r = self.b.ins().uextend(I32, c);
        self.push(r);
        Ok(())
    }

    fn bitselect(&mut self) -> Result<()> {
        let c = self.vpop(I8X16);
        let (x, y) = self.vpop2(I8X16);
        let r = self.b.ins().bitselect(c, x, y);
        self.vpush(r);
        Ok(())
    }

    fn bitmask(&mut self, ty: Type) -> Result<()> {
        let v = self.vpop(ty);
        let r = self.b.ins().vhigh_bits(I32, v);
        self.push(r);
        Ok(())
    }

    fn vicmp(&mut self, cc: IntCC, ty: Type) -> Result<()> {
        let (x, y) = self.vpop2(ty);
        let r = self.b.ins().icmp(cc, x, y);
        self.vpush(r);
        Ok(())
    }

    fn vfcmp(&mut self, cc: FloatCC, ty: Type) -> Result<()> {
        let (x, y) = self.vpop2(ty);
        let r = self.b.ins().fcmp(cc, x, y);
        self.vpush(r);
        Ok(())
    }

    /// A shift of every `ty` lane by the i32 operand.
    fn vshift(
        &mut self,
        ty: Type,
        build: impl FnOnce(FuncInstBuilder<'_, '_>, Value, Value) -> Value,
    ) -> Result<()> {
        let n = self.pop();
        let v = self.vpop(ty);
        // Cranelift takes the count modulo the lane width, as Wasm does.
        let r = build(self.b.ins(), v, n);
        self.vpush(r);
        Ok(())
    }

    /// Extended multiply of the low or high halves of `from` lanes.
    fn vextmul(&mut self, from: Type, signed: bool, high: bool) -> Result<()> {
        let (x, y) = self.vpop2(from);
        let (x, y) = match (signed, high) {
            (true, false) => (self.b.ins().swiden_low(x), self.b.ins().swiden_low(y)),
            (true, true) => (self.b.ins().swiden_high(x), self.b.ins().swiden_high(y)),
            (false, false) => (self.b.ins().uwiden_low(x), self.b.ins().uwiden_low(y)),
            (false, true) => (self.b.ins().uwiden_high(x), self.b.ins().uwiden_high(y)),
        };
        let r = self.b.ins().imul(x, y);
        self.vpush(r);
        Ok(())
    }

    fn vextend(&mut self, from: Type, signed: bool, high: bool) -> Result<()> {
        let x = self.vpop(from);
        let r = match (signed, high) {
            (true, false) => self.b.ins().swiden_low(x),
            (true, true) => self.b.ins().swiden_high(x),
            (false, false) => self.b.ins().uwiden_low(x),
            (false, true) => self.b.ins().uwiden_high(x),
        };
        self.vpush(r);
        Ok(())
    }

    fn vext_add_pairwise(&mut self, from: Type, signed: bool) -> Result<()> {
        let x = self.vpop(from);
        let (lo, hi) = if signed {
            (self.b.ins().swiden_low(x), self.b.ins().swiden_high(x))
        } else {
            (self.b.ins().uwiden_low(x), self.b.ins().uwiden_high(x))
        };
        let r = self.b.ins().iadd_pairwise(lo, hi);
        self.vpush(r);
        Ok(())
    }

    fn dot_i16x8_s(&mut self) -> Result<()> {
        let (x, y) = self.vpop2(I16X8);
        let r = self.dot_i16x8_values(x, y);
        self.vpush(r);
        Ok(())
    }

    /// `i32x4.dot_i16x8_s` of two `I16X8` values: exact sums of adjacent products.
    pub(super) fn dot_i16x8_values(&mut self, x: Value, y: Value) -> Value {
        let xl = self.b.ins().swiden_low(x);
        let yl = self.b.ins().swiden_low(y);
        let lo = self.b.ins().imul(xl, yl);
        let xh = self.b.ins().swiden_high(x);
        let yh = self.b.ins().swiden_high(y);
        let hi = self.b.ins().imul(xh, yh);
        self.b.ins().iadd_pairwise(lo, hi)
    }

    /// `pmin` (`b < a ? b : a`) and `pmax` (`a < b ? b : a`).
    fn vpminmax(&mut self, ty: Type, max: bool) -> Result<()> {
        let (x, y) = self.vpop2(ty);
        let c = if max {
            self.b.ins().fcmp(FloatCC::LessThan, x, y)
        } else {
            self.b.ins().fcmp(FloatCC::LessThan, y, x)
        };
        let c = cast(&mut self.b, c, ty);
        let r = self.b.ins().bitselect(c, y, x);
        self.vpush(r);
        Ok(())
    }

    fn trunc_sat_f64x2_zero(&mut self, signed: bool) -> Result<()> {
        let x = self.vpop(F64X2);
        // x64 lowers exactly `snarrow/uunarrow (fcvt_to_*_sat x) (vconst.i64x2 0)`.
        let c = self.b.func.dfg.constants.insert(vec![0u8; 16].into());
        let zero = self.b.ins().vconst(I64X2, c);
        let r = if signed {
            let c = self.b.ins().fcvt_to_sint_sat(I64X2, x);
            self.b.ins().snarrow(c, zero)
        } else {
            let c = self.b.ins().fcvt_to_uint_sat(I64X2, x);
            self.b.ins().uunarrow(c, zero)
        };
        self.vpush(r);
        Ok(())
    }

    fn convert_low_i32x4(&mut self, signed: bool) -> Result<()> {
        let x = self.vpop(I32X4);
        let r = if signed {
            let w = self.b.ins().swiden_low(x);
            self.b.ins().fcvt_from_sint(F64X2, w)
        } else {
            let w = self.b.ins().uwiden_low(x);
            self.b.ins().fcvt_from_uint(F64X2, w)
        };
        self.vpush(r);
        Ok(())
    }
}
