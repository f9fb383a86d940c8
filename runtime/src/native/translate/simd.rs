//! Fixed-width SIMD (`v128`) operators.
//!
//! Every `v128` value is an `I8X16` on the operand stack, in locals, block parameters,
//! signatures and globals; an operator bitcasts its operands to the lane type it works
//! on and its result back to `I8X16` (the optimizer removes the round trips). Memory
//! accesses go through the same bounds check as scalar ones (`heap_addr`). The lowering
//! relies on SSSE3 and SSE4.1 (`NativeBackend::supports_simd` refuses SIMD without
//! them).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value, types,
};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{MemArg, Operator};

use super::{Translator, heap};
use crate::error::Result;

use types::{F32X4, F64X2, I8X16, I16X8, I32, I32X4, I64, I64X2};

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

impl Translator<'_, '_> {
    fn vpop(&mut self, ty: Type) -> Value {
        let v = self.pop();
        cast(&mut self.b, v, ty)
    }

    fn vpop2(&mut self, ty: Type) -> (Value, Value) {
        let y = self.vpop(ty);
        let x = self.vpop(ty);
        (x, y)
    }

    fn vpush(&mut self, v: Value) {
        let v = cast(&mut self.b, v, I8X16);
        self.push(v);
    }

    fn simd_load_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) {
        let v = self.vpop(ty);
        let lt = ty.lane_type();
        let p = self.heap_addr(memarg, lt.bytes() as u64);
        let x = self.b.ins().load(lt, heap(), p, 0);
        let r = self.b.ins().insertlane(v, x, lane);
        self.vpush(r);
    }

    fn simd_store_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) {
        let v = self.vpop(ty);
        let x = self.b.ins().extractlane(v, lane);
        let p = self.heap_addr(memarg, ty.lane_type().bytes() as u64);
        self.b.ins().store(heap(), x, p, 0);
    }

    fn simd_splat_load(&mut self, memarg: &MemArg, ty: Type) {
        let lt = ty.lane_type();
        let p = self.heap_addr(memarg, lt.bytes() as u64);
        let x = self.b.ins().load(lt, heap(), p, 0);
        let r = self.b.ins().splat(ty, x);
        self.vpush(r);
    }

    fn simd_zero_load(&mut self, memarg: &MemArg, ty: Type) {
        let lt = ty.lane_type();
        let p = self.heap_addr(memarg, lt.bytes() as u64);
        let x = self.b.ins().load(lt, heap(), p, 0);
        let r = self.b.ins().scalar_to_vector(ty, x);
        self.vpush(r);
    }

    /// `v128.loadNxM_{s,u}`: 8 bytes widened to `to` lanes.
    fn simd_ext_load(&mut self, memarg: &MemArg, from: Type, signed: bool) {
        let p = self.heap_addr(memarg, 8);
        let x = self.b.ins().load(I64, heap(), p, 0);
        let v = self.b.ins().scalar_to_vector(I64X2, x);
        let v = cast(&mut self.b, v, from);
        let r = if signed {
            self.b.ins().swiden_low(v)
        } else {
            self.b.ins().uwiden_low(v)
        };
        self.vpush(r);
    }

    fn vicmp(&mut self, cc: IntCC, ty: Type) {
        let (x, y) = self.vpop2(ty);
        let r = self.b.ins().icmp(cc, x, y);
        self.vpush(r);
    }

    fn vfcmp(&mut self, cc: FloatCC, ty: Type) {
        let (x, y) = self.vpop2(ty);
        let r = self.b.ins().fcmp(cc, x, y);
        self.vpush(r);
    }

    fn vshift(&mut self, ty: Type, kind: u8) {
        let n = self.pop();
        let v = self.vpop(ty);
        // Cranelift takes the count modulo the lane width, as Wasm does.
        let r = match kind {
            0 => self.b.ins().ishl(v, n),
            1 => self.b.ins().sshr(v, n),
            _ => self.b.ins().ushr(v, n),
        };
        self.vpush(r);
    }

    /// Extended multiply of the low or high halves of `from` lanes.
    fn vextmul(&mut self, from: Type, signed: bool, high: bool) {
        let (x, y) = self.vpop2(from);
        let (x, y) = match (signed, high) {
            (true, false) => (self.b.ins().swiden_low(x), self.b.ins().swiden_low(y)),
            (true, true) => (self.b.ins().swiden_high(x), self.b.ins().swiden_high(y)),
            (false, false) => (self.b.ins().uwiden_low(x), self.b.ins().uwiden_low(y)),
            (false, true) => (self.b.ins().uwiden_high(x), self.b.ins().uwiden_high(y)),
        };
        let r = self.b.ins().imul(x, y);
        self.vpush(r);
    }

    fn vextend(&mut self, from: Type, signed: bool, high: bool) {
        let x = self.vpop(from);
        let r = match (signed, high) {
            (true, false) => self.b.ins().swiden_low(x),
            (true, true) => self.b.ins().swiden_high(x),
            (false, false) => self.b.ins().uwiden_low(x),
            (false, true) => self.b.ins().uwiden_high(x),
        };
        self.vpush(r);
    }

    fn vext_add_pairwise(&mut self, from: Type, signed: bool) {
        let x = self.vpop(from);
        let (lo, hi) = if signed {
            (self.b.ins().swiden_low(x), self.b.ins().swiden_high(x))
        } else {
            (self.b.ins().uwiden_low(x), self.b.ins().uwiden_high(x))
        };
        let r = self.b.ins().iadd_pairwise(lo, hi);
        self.vpush(r);
    }

    /// `pmin` (`b < a ? b : a`) and `pmax` (`a < b ? b : a`).
    fn vpminmax(&mut self, ty: Type, max: bool) {
        let (x, y) = self.vpop2(ty);
        let c = if max {
            self.b.ins().fcmp(FloatCC::LessThan, x, y)
        } else {
            self.b.ins().fcmp(FloatCC::LessThan, y, x)
        };
        let c = cast(&mut self.b, c, ty);
        let r = self.b.ins().bitselect(c, y, x);
        self.vpush(r);
    }

    pub(super) fn simd_op(&mut self, op: &Operator<'_>) -> Result<bool> {
        macro_rules! bin {
            ($ty:expr, $m:ident) => {{
                let (x, y) = self.vpop2($ty);
                let r = self.b.ins().$m(x, y);
                self.vpush(r);
            }};
        }
        macro_rules! un {
            ($ty:expr, $m:ident) => {{
                let x = self.vpop($ty);
                let r = self.b.ins().$m(x);
                self.vpush(r);
            }};
        }
        macro_rules! conv {
            ($ty:expr, $m:ident, $to:expr) => {{
                let x = self.vpop($ty);
                let r = self.b.ins().$m($to, x);
                self.vpush(r);
            }};
        }
        macro_rules! to_i32 {
            ($ty:expr, $m:ident) => {{
                let x = self.vpop($ty);
                let c = self.b.ins().$m(x);
                let r = self.b.ins().uextend(I32, c);
                self.push(r);
            }};
        }
        use Operator as O;
        match op {
            // Memory.
            O::V128Load { memarg } => {
                let p = self.heap_addr(memarg, 16);
                let v = self.b.ins().load(I8X16, heap(), p, 0);
                self.push(v);
            }
            O::V128Store { memarg } => {
                let v = self.vpop(I8X16);
                let p = self.heap_addr(memarg, 16);
                self.b.ins().store(heap(), v, p, 0);
            }
            O::V128Load8x8S { memarg } => self.simd_ext_load(memarg, I8X16, true),
            O::V128Load8x8U { memarg } => self.simd_ext_load(memarg, I8X16, false),
            O::V128Load16x4S { memarg } => self.simd_ext_load(memarg, I16X8, true),
            O::V128Load16x4U { memarg } => self.simd_ext_load(memarg, I16X8, false),
            O::V128Load32x2S { memarg } => self.simd_ext_load(memarg, I32X4, true),
            O::V128Load32x2U { memarg } => self.simd_ext_load(memarg, I32X4, false),
            O::V128Load8Splat { memarg } => self.simd_splat_load(memarg, I8X16),
            O::V128Load16Splat { memarg } => self.simd_splat_load(memarg, I16X8),
            O::V128Load32Splat { memarg } => self.simd_splat_load(memarg, I32X4),
            O::V128Load64Splat { memarg } => self.simd_splat_load(memarg, I64X2),
            O::V128Load32Zero { memarg } => self.simd_zero_load(memarg, I32X4),
            O::V128Load64Zero { memarg } => self.simd_zero_load(memarg, I64X2),
            O::V128Load8Lane { memarg, lane } => self.simd_load_lane(memarg, I8X16, *lane),
            O::V128Load16Lane { memarg, lane } => self.simd_load_lane(memarg, I16X8, *lane),
            O::V128Load32Lane { memarg, lane } => self.simd_load_lane(memarg, I32X4, *lane),
            O::V128Load64Lane { memarg, lane } => self.simd_load_lane(memarg, I64X2, *lane),
            O::V128Store8Lane { memarg, lane } => self.simd_store_lane(memarg, I8X16, *lane),
            O::V128Store16Lane { memarg, lane } => self.simd_store_lane(memarg, I16X8, *lane),
            O::V128Store32Lane { memarg, lane } => self.simd_store_lane(memarg, I32X4, *lane),
            O::V128Store64Lane { memarg, lane } => self.simd_store_lane(memarg, I64X2, *lane),

            // Constants, lanes, shuffles.
            O::V128Const { value } => {
                let v = v128_const(&mut self.b, value.bytes());
                self.push(v);
            }
            O::I8x16Splat | O::I16x8Splat => {
                let ty = if matches!(op, O::I8x16Splat) {
                    I8X16
                } else {
                    I16X8
                };
                let x = self.pop();
                let x = self.b.ins().ireduce(ty.lane_type(), x);
                let r = self.b.ins().splat(ty, x);
                self.vpush(r);
            }
            O::I32x4Splat | O::I64x2Splat | O::F32x4Splat | O::F64x2Splat => {
                let ty = match op {
                    O::I32x4Splat => I32X4,
                    O::I64x2Splat => I64X2,
                    O::F32x4Splat => F32X4,
                    _ => F64X2,
                };
                let x = self.pop();
                let r = self.b.ins().splat(ty, x);
                self.vpush(r);
            }
            O::I8x16ExtractLaneS { lane } | O::I16x8ExtractLaneS { lane } => {
                let ty = if matches!(op, O::I8x16ExtractLaneS { .. }) {
                    I8X16
                } else {
                    I16X8
                };
                let v = self.vpop(ty);
                let x = self.b.ins().extractlane(v, *lane);
                let r = self.b.ins().sextend(I32, x);
                self.push(r);
            }
            O::I8x16ExtractLaneU { lane } | O::I16x8ExtractLaneU { lane } => {
                let ty = if matches!(op, O::I8x16ExtractLaneU { .. }) {
                    I8X16
                } else {
                    I16X8
                };
                let v = self.vpop(ty);
                let x = self.b.ins().extractlane(v, *lane);
                let r = self.b.ins().uextend(I32, x);
                self.push(r);
            }
            O::I32x4ExtractLane { lane }
            | O::I64x2ExtractLane { lane }
            | O::F32x4ExtractLane { lane }
            | O::F64x2ExtractLane { lane } => {
                let ty = match op {
                    O::I32x4ExtractLane { .. } => I32X4,
                    O::I64x2ExtractLane { .. } => I64X2,
                    O::F32x4ExtractLane { .. } => F32X4,
                    _ => F64X2,
                };
                let v = self.vpop(ty);
                let r = self.b.ins().extractlane(v, *lane);
                self.push(r);
            }
            O::I8x16ReplaceLane { lane }
            | O::I16x8ReplaceLane { lane }
            | O::I32x4ReplaceLane { lane }
            | O::I64x2ReplaceLane { lane }
            | O::F32x4ReplaceLane { lane }
            | O::F64x2ReplaceLane { lane } => {
                let ty = match op {
                    O::I8x16ReplaceLane { .. } => I8X16,
                    O::I16x8ReplaceLane { .. } => I16X8,
                    O::I32x4ReplaceLane { .. } => I32X4,
                    O::I64x2ReplaceLane { .. } => I64X2,
                    O::F32x4ReplaceLane { .. } => F32X4,
                    _ => F64X2,
                };
                let mut x = self.pop();
                let v = self.vpop(ty);
                if ty == I8X16 || ty == I16X8 {
                    x = self.b.ins().ireduce(ty.lane_type(), x);
                }
                let r = self.b.ins().insertlane(v, x, *lane);
                self.vpush(r);
            }
            O::I8x16Shuffle { lanes } => {
                let (x, y) = self.vpop2(I8X16);
                let mask = self
                    .b
                    .func
                    .dfg
                    .immediates
                    .push(ConstantData::from(&lanes[..]));
                let r = self.b.ins().shuffle(x, y, mask);
                self.vpush(r);
            }
            O::I8x16Swizzle => bin!(I8X16, swizzle),

            // Bitwise.
            O::V128Not => un!(I8X16, bnot),
            O::V128And => bin!(I8X16, band),
            O::V128AndNot => bin!(I8X16, band_not),
            O::V128Or => bin!(I8X16, bor),
            O::V128Xor => bin!(I8X16, bxor),
            O::V128Bitselect => {
                let c = self.vpop(I8X16);
                let (x, y) = self.vpop2(I8X16);
                let r = self.b.ins().bitselect(c, x, y);
                self.vpush(r);
            }
            O::V128AnyTrue => to_i32!(I8X16, vany_true),
            O::I8x16AllTrue => to_i32!(I8X16, vall_true),
            O::I16x8AllTrue => to_i32!(I16X8, vall_true),
            O::I32x4AllTrue => to_i32!(I32X4, vall_true),
            O::I64x2AllTrue => to_i32!(I64X2, vall_true),
            O::I8x16Bitmask | O::I16x8Bitmask | O::I32x4Bitmask | O::I64x2Bitmask => {
                let ty = match op {
                    O::I8x16Bitmask => I8X16,
                    O::I16x8Bitmask => I16X8,
                    O::I32x4Bitmask => I32X4,
                    _ => I64X2,
                };
                let v = self.vpop(ty);
                let r = self.b.ins().vhigh_bits(I32, v);
                self.push(r);
            }

            // Integer comparisons.
            O::I8x16Eq => self.vicmp(IntCC::Equal, I8X16),
            O::I16x8Eq => self.vicmp(IntCC::Equal, I16X8),
            O::I32x4Eq => self.vicmp(IntCC::Equal, I32X4),
            O::I64x2Eq => self.vicmp(IntCC::Equal, I64X2),
            O::I8x16Ne => self.vicmp(IntCC::NotEqual, I8X16),
            O::I16x8Ne => self.vicmp(IntCC::NotEqual, I16X8),
            O::I32x4Ne => self.vicmp(IntCC::NotEqual, I32X4),
            O::I64x2Ne => self.vicmp(IntCC::NotEqual, I64X2),
            O::I8x16LtS => self.vicmp(IntCC::SignedLessThan, I8X16),
            O::I16x8LtS => self.vicmp(IntCC::SignedLessThan, I16X8),
            O::I32x4LtS => self.vicmp(IntCC::SignedLessThan, I32X4),
            O::I64x2LtS => self.vicmp(IntCC::SignedLessThan, I64X2),
            O::I8x16LtU => self.vicmp(IntCC::UnsignedLessThan, I8X16),
            O::I16x8LtU => self.vicmp(IntCC::UnsignedLessThan, I16X8),
            O::I32x4LtU => self.vicmp(IntCC::UnsignedLessThan, I32X4),
            O::I8x16GtS => self.vicmp(IntCC::SignedGreaterThan, I8X16),
            O::I16x8GtS => self.vicmp(IntCC::SignedGreaterThan, I16X8),
            O::I32x4GtS => self.vicmp(IntCC::SignedGreaterThan, I32X4),
            O::I64x2GtS => self.vicmp(IntCC::SignedGreaterThan, I64X2),
            O::I8x16GtU => self.vicmp(IntCC::UnsignedGreaterThan, I8X16),
            O::I16x8GtU => self.vicmp(IntCC::UnsignedGreaterThan, I16X8),
            O::I32x4GtU => self.vicmp(IntCC::UnsignedGreaterThan, I32X4),
            O::I8x16LeS => self.vicmp(IntCC::SignedLessThanOrEqual, I8X16),
            O::I16x8LeS => self.vicmp(IntCC::SignedLessThanOrEqual, I16X8),
            O::I32x4LeS => self.vicmp(IntCC::SignedLessThanOrEqual, I32X4),
            O::I64x2LeS => self.vicmp(IntCC::SignedLessThanOrEqual, I64X2),
            O::I8x16LeU => self.vicmp(IntCC::UnsignedLessThanOrEqual, I8X16),
            O::I16x8LeU => self.vicmp(IntCC::UnsignedLessThanOrEqual, I16X8),
            O::I32x4LeU => self.vicmp(IntCC::UnsignedLessThanOrEqual, I32X4),
            O::I8x16GeS => self.vicmp(IntCC::SignedGreaterThanOrEqual, I8X16),
            O::I16x8GeS => self.vicmp(IntCC::SignedGreaterThanOrEqual, I16X8),
            O::I32x4GeS => self.vicmp(IntCC::SignedGreaterThanOrEqual, I32X4),
            O::I64x2GeS => self.vicmp(IntCC::SignedGreaterThanOrEqual, I64X2),
            O::I8x16GeU => self.vicmp(IntCC::UnsignedGreaterThanOrEqual, I8X16),
            O::I16x8GeU => self.vicmp(IntCC::UnsignedGreaterThanOrEqual, I16X8),
            O::I32x4GeU => self.vicmp(IntCC::UnsignedGreaterThanOrEqual, I32X4),

            // Float comparisons.
            O::F32x4Eq => self.vfcmp(FloatCC::Equal, F32X4),
            O::F64x2Eq => self.vfcmp(FloatCC::Equal, F64X2),
            O::F32x4Ne => self.vfcmp(FloatCC::NotEqual, F32X4),
            O::F64x2Ne => self.vfcmp(FloatCC::NotEqual, F64X2),
            O::F32x4Lt => self.vfcmp(FloatCC::LessThan, F32X4),
            O::F64x2Lt => self.vfcmp(FloatCC::LessThan, F64X2),
            O::F32x4Gt => self.vfcmp(FloatCC::GreaterThan, F32X4),
            O::F64x2Gt => self.vfcmp(FloatCC::GreaterThan, F64X2),
            O::F32x4Le => self.vfcmp(FloatCC::LessThanOrEqual, F32X4),
            O::F64x2Le => self.vfcmp(FloatCC::LessThanOrEqual, F64X2),
            O::F32x4Ge => self.vfcmp(FloatCC::GreaterThanOrEqual, F32X4),
            O::F64x2Ge => self.vfcmp(FloatCC::GreaterThanOrEqual, F64X2),

            // Integer arithmetic.
            O::I8x16Abs => un!(I8X16, iabs),
            O::I16x8Abs => un!(I16X8, iabs),
            O::I32x4Abs => un!(I32X4, iabs),
            O::I64x2Abs => un!(I64X2, iabs),
            O::I8x16Neg => un!(I8X16, ineg),
            O::I16x8Neg => un!(I16X8, ineg),
            O::I32x4Neg => un!(I32X4, ineg),
            O::I64x2Neg => un!(I64X2, ineg),
            O::I8x16Popcnt => un!(I8X16, popcnt),
            O::I8x16Add => bin!(I8X16, iadd),
            O::I16x8Add => bin!(I16X8, iadd),
            O::I32x4Add => bin!(I32X4, iadd),
            O::I64x2Add => bin!(I64X2, iadd),
            O::I8x16Sub => bin!(I8X16, isub),
            O::I16x8Sub => bin!(I16X8, isub),
            O::I32x4Sub => bin!(I32X4, isub),
            O::I64x2Sub => bin!(I64X2, isub),
            O::I16x8Mul => bin!(I16X8, imul),
            O::I32x4Mul => bin!(I32X4, imul),
            O::I64x2Mul => bin!(I64X2, imul),
            O::I8x16AddSatS => bin!(I8X16, sadd_sat),
            O::I16x8AddSatS => bin!(I16X8, sadd_sat),
            O::I8x16AddSatU => bin!(I8X16, uadd_sat),
            O::I16x8AddSatU => bin!(I16X8, uadd_sat),
            O::I8x16SubSatS => bin!(I8X16, ssub_sat),
            O::I16x8SubSatS => bin!(I16X8, ssub_sat),
            O::I8x16SubSatU => bin!(I8X16, usub_sat),
            O::I16x8SubSatU => bin!(I16X8, usub_sat),
            O::I8x16MinS => bin!(I8X16, smin),
            O::I16x8MinS => bin!(I16X8, smin),
            O::I32x4MinS => bin!(I32X4, smin),
            O::I8x16MinU => bin!(I8X16, umin),
            O::I16x8MinU => bin!(I16X8, umin),
            O::I32x4MinU => bin!(I32X4, umin),
            O::I8x16MaxS => bin!(I8X16, smax),
            O::I16x8MaxS => bin!(I16X8, smax),
            O::I32x4MaxS => bin!(I32X4, smax),
            O::I8x16MaxU => bin!(I8X16, umax),
            O::I16x8MaxU => bin!(I16X8, umax),
            O::I32x4MaxU => bin!(I32X4, umax),
            O::I8x16AvgrU => bin!(I8X16, avg_round),
            O::I16x8AvgrU => bin!(I16X8, avg_round),
            O::I16x8Q15MulrSatS => bin!(I16X8, sqmul_round_sat),
            O::I8x16Shl => self.vshift(I8X16, 0),
            O::I16x8Shl => self.vshift(I16X8, 0),
            O::I32x4Shl => self.vshift(I32X4, 0),
            O::I64x2Shl => self.vshift(I64X2, 0),
            O::I8x16ShrS => self.vshift(I8X16, 1),
            O::I16x8ShrS => self.vshift(I16X8, 1),
            O::I32x4ShrS => self.vshift(I32X4, 1),
            O::I64x2ShrS => self.vshift(I64X2, 1),
            O::I8x16ShrU => self.vshift(I8X16, 2),
            O::I16x8ShrU => self.vshift(I16X8, 2),
            O::I32x4ShrU => self.vshift(I32X4, 2),
            O::I64x2ShrU => self.vshift(I64X2, 2),
            O::I32x4DotI16x8S => {
                let (x, y) = self.vpop2(I16X8);
                let xl = self.b.ins().swiden_low(x);
                let yl = self.b.ins().swiden_low(y);
                let lo = self.b.ins().imul(xl, yl);
                let xh = self.b.ins().swiden_high(x);
                let yh = self.b.ins().swiden_high(y);
                let hi = self.b.ins().imul(xh, yh);
                let r = self.b.ins().iadd_pairwise(lo, hi);
                self.vpush(r);
            }
            O::I16x8ExtMulLowI8x16S => self.vextmul(I8X16, true, false),
            O::I16x8ExtMulHighI8x16S => self.vextmul(I8X16, true, true),
            O::I16x8ExtMulLowI8x16U => self.vextmul(I8X16, false, false),
            O::I16x8ExtMulHighI8x16U => self.vextmul(I8X16, false, true),
            O::I32x4ExtMulLowI16x8S => self.vextmul(I16X8, true, false),
            O::I32x4ExtMulHighI16x8S => self.vextmul(I16X8, true, true),
            O::I32x4ExtMulLowI16x8U => self.vextmul(I16X8, false, false),
            O::I32x4ExtMulHighI16x8U => self.vextmul(I16X8, false, true),
            O::I64x2ExtMulLowI32x4S => self.vextmul(I32X4, true, false),
            O::I64x2ExtMulHighI32x4S => self.vextmul(I32X4, true, true),
            O::I64x2ExtMulLowI32x4U => self.vextmul(I32X4, false, false),
            O::I64x2ExtMulHighI32x4U => self.vextmul(I32X4, false, true),
            O::I16x8ExtAddPairwiseI8x16S => self.vext_add_pairwise(I8X16, true),
            O::I16x8ExtAddPairwiseI8x16U => self.vext_add_pairwise(I8X16, false),
            O::I32x4ExtAddPairwiseI16x8S => self.vext_add_pairwise(I16X8, true),
            O::I32x4ExtAddPairwiseI16x8U => self.vext_add_pairwise(I16X8, false),

            // Narrowing and widening.
            O::I8x16NarrowI16x8S => bin!(I16X8, snarrow),
            O::I8x16NarrowI16x8U => bin!(I16X8, unarrow),
            O::I16x8NarrowI32x4S => bin!(I32X4, snarrow),
            O::I16x8NarrowI32x4U => bin!(I32X4, unarrow),
            O::I16x8ExtendLowI8x16S => self.vextend(I8X16, true, false),
            O::I16x8ExtendHighI8x16S => self.vextend(I8X16, true, true),
            O::I16x8ExtendLowI8x16U => self.vextend(I8X16, false, false),
            O::I16x8ExtendHighI8x16U => self.vextend(I8X16, false, true),
            O::I32x4ExtendLowI16x8S => self.vextend(I16X8, true, false),
            O::I32x4ExtendHighI16x8S => self.vextend(I16X8, true, true),
            O::I32x4ExtendLowI16x8U => self.vextend(I16X8, false, false),
            O::I32x4ExtendHighI16x8U => self.vextend(I16X8, false, true),
            O::I64x2ExtendLowI32x4S => self.vextend(I32X4, true, false),
            O::I64x2ExtendHighI32x4S => self.vextend(I32X4, true, true),
            O::I64x2ExtendLowI32x4U => self.vextend(I32X4, false, false),
            O::I64x2ExtendHighI32x4U => self.vextend(I32X4, false, true),

            // Float arithmetic.
            O::F32x4Abs => un!(F32X4, fabs),
            O::F64x2Abs => un!(F64X2, fabs),
            O::F32x4Neg => un!(F32X4, fneg),
            O::F64x2Neg => un!(F64X2, fneg),
            O::F32x4Sqrt => un!(F32X4, sqrt),
            O::F64x2Sqrt => un!(F64X2, sqrt),
            O::F32x4Ceil => un!(F32X4, ceil),
            O::F64x2Ceil => un!(F64X2, ceil),
            O::F32x4Floor => un!(F32X4, floor),
            O::F64x2Floor => un!(F64X2, floor),
            O::F32x4Trunc => un!(F32X4, trunc),
            O::F64x2Trunc => un!(F64X2, trunc),
            O::F32x4Nearest => un!(F32X4, nearest),
            O::F64x2Nearest => un!(F64X2, nearest),
            O::F32x4Add => bin!(F32X4, fadd),
            O::F64x2Add => bin!(F64X2, fadd),
            O::F32x4Sub => bin!(F32X4, fsub),
            O::F64x2Sub => bin!(F64X2, fsub),
            O::F32x4Mul => bin!(F32X4, fmul),
            O::F64x2Mul => bin!(F64X2, fmul),
            O::F32x4Div => bin!(F32X4, fdiv),
            O::F64x2Div => bin!(F64X2, fdiv),
            // Cranelift's fmin/fmax are Wasm's: NaN if either is NaN, -0 < +0.
            O::F32x4Min => bin!(F32X4, fmin),
            O::F64x2Min => bin!(F64X2, fmin),
            O::F32x4Max => bin!(F32X4, fmax),
            O::F64x2Max => bin!(F64X2, fmax),
            O::F32x4PMin => self.vpminmax(F32X4, false),
            O::F64x2PMin => self.vpminmax(F64X2, false),
            O::F32x4PMax => self.vpminmax(F32X4, true),
            O::F64x2PMax => self.vpminmax(F64X2, true),

            // Conversions.
            O::I32x4TruncSatF32x4S => conv!(F32X4, fcvt_to_sint_sat, I32X4),
            O::I32x4TruncSatF32x4U => conv!(F32X4, fcvt_to_uint_sat, I32X4),
            O::F32x4ConvertI32x4S => conv!(I32X4, fcvt_from_sint, F32X4),
            O::F32x4ConvertI32x4U => conv!(I32X4, fcvt_from_uint, F32X4),
            O::I32x4TruncSatF64x2SZero | O::I32x4TruncSatF64x2UZero => {
                let x = self.vpop(F64X2);
                // x64 lowers exactly `snarrow/uunarrow (fcvt_to_*_sat x) (vconst.i64x2 0)`.
                let c = self.b.func.dfg.constants.insert(vec![0u8; 16].into());
                let zero = self.b.ins().vconst(I64X2, c);
                let r = if matches!(op, O::I32x4TruncSatF64x2SZero) {
                    let c = self.b.ins().fcvt_to_sint_sat(I64X2, x);
                    self.b.ins().snarrow(c, zero)
                } else {
                    let c = self.b.ins().fcvt_to_uint_sat(I64X2, x);
                    self.b.ins().uunarrow(c, zero)
                };
                self.vpush(r);
            }
            O::F64x2ConvertLowI32x4S => {
                let x = self.vpop(I32X4);
                let w = self.b.ins().swiden_low(x);
                let r = self.b.ins().fcvt_from_sint(F64X2, w);
                self.vpush(r);
            }
            O::F64x2ConvertLowI32x4U => {
                let x = self.vpop(I32X4);
                let w = self.b.ins().uwiden_low(x);
                let r = self.b.ins().fcvt_from_uint(F64X2, w);
                self.vpush(r);
            }
            O::F32x4DemoteF64x2Zero => un!(F64X2, fvdemote),
            O::F64x2PromoteLowF32x4 => un!(F32X4, fvpromote_low),
            _ => return Ok(false),
        }
        Ok(true)
    }
}
