//! Lane-wise bitwise, integer and float arithmetic, comparisons, shifts and tests.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#vector-instructions>.
//! Float lanes follow the scalar operators exactly (`numeric.rs`).

use super::SimdOp as O;
use super::convert;
use super::lanes::{cmp, count, get, map, swar, zip};
use crate::interp::numeric as num;

/// `v128 -> v128` operators (conversions are delegated to `convert`).
#[inline(always)]
pub(super) fn unary(op: O, v: u128) -> u128 {
    match op {
        O::V128Not => !v,
        O::I8x16Abs => map(v, |x: i8| x.wrapping_abs()),
        O::I8x16Neg => map(v, |x: i8| x.wrapping_neg()),
        O::I8x16Popcnt => map(v, |x: u8| x.count_ones() as u8),
        O::I16x8Abs => map(v, |x: i16| x.wrapping_abs()),
        O::I16x8Neg => map(v, |x: i16| x.wrapping_neg()),
        O::I32x4Abs => map(v, |x: i32| x.wrapping_abs()),
        O::I32x4Neg => map(v, |x: i32| x.wrapping_neg()),
        O::I64x2Abs => map(v, |x: i64| x.wrapping_abs()),
        O::I64x2Neg => map(v, |x: i64| x.wrapping_neg()),
        // Sign-bit operations, so NaN payloads are kept as the scalar ones do.
        O::F32x4Abs => map(v, |x: u32| x & 0x7fff_ffff),
        O::F32x4Neg => map(v, |x: u32| x ^ 0x8000_0000),
        O::F64x2Abs => map(v, |x: u64| x & !(1u64 << 63)),
        O::F64x2Neg => map(v, |x: u64| x ^ (1u64 << 63)),
        O::F32x4Ceil => map(v, |x: f32| num::round_f32(x, f32::ceil)),
        O::F32x4Floor => map(v, |x: f32| num::round_f32(x, f32::floor)),
        O::F32x4Trunc => map(v, |x: f32| num::round_f32(x, f32::trunc)),
        O::F32x4Nearest => map(v, |x: f32| num::round_f32(x, f32::round_ties_even)),
        O::F32x4Sqrt => map(v, f32::sqrt),
        O::F64x2Ceil => map(v, |x: f64| num::round_f64(x, f64::ceil)),
        O::F64x2Floor => map(v, |x: f64| num::round_f64(x, f64::floor)),
        O::F64x2Trunc => map(v, |x: f64| num::round_f64(x, f64::trunc)),
        O::F64x2Nearest => map(v, |x: f64| num::round_f64(x, f64::round_ties_even)),
        O::F64x2Sqrt => map(v, f64::sqrt),
        _ => convert::unary(op, v),
    }
}

/// Saturating rounding average of unsigned lanes: `(a + b + 1) / 2`.
fn avgr<T: Into<u32>>(a: T, b: T) -> u32 {
    (a.into() + b.into()).div_ceil(2)
}

/// `q15mulr_sat_s`: `(a * b + 2^14) >> 15`, saturated (only -1 * -1 overflows).
/// <https://webassembly.github.io/spec/core/exec/numerics.html#op-iq15mulr-sat-s>
pub(super) fn q15mulr(a: i16, b: i16) -> i16 {
    let p = ((a as i32 * b as i32) + 0x4000) >> 15;
    p.clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

/// `pmin`: `b < a ? b : a` (no NaN or zero special cases).
fn pmin<T: PartialOrd>(a: T, b: T) -> T {
    if b < a { b } else { a }
}

fn pmax<T: PartialOrd>(a: T, b: T) -> T {
    if a < b { b } else { a }
}

/// `v128 v128 -> v128` operators (narrowing, extending multiplies and dot products are
/// delegated to `convert`).
#[inline(always)]
pub(super) fn binary(op: O, a: u128, b: u128) -> u128 {
    match op {
        O::V128And => a & b,
        O::V128AndNot => a & !b,
        O::V128Or => a | b,
        O::V128Xor => a ^ b,
        O::I8x16Swizzle => {
            let (x, m) = (a.to_le_bytes(), b.to_le_bytes());
            u128::from_le_bytes(std::array::from_fn(|i| {
                x.get(m[i] as usize).copied().unwrap_or(0)
            }))
        }

        O::I8x16Eq => swar::eq::<8>(a, b),
        O::I8x16Ne => !swar::eq::<8>(a, b),
        O::I8x16LtS => cmp(a, b, |x: i8, y| x < y),
        O::I8x16LtU => cmp(a, b, |x: u8, y| x < y),
        O::I8x16GtS => cmp(a, b, |x: i8, y| x > y),
        O::I8x16GtU => cmp(a, b, |x: u8, y| x > y),
        O::I8x16LeS => cmp(a, b, |x: i8, y| x <= y),
        O::I8x16LeU => cmp(a, b, |x: u8, y| x <= y),
        O::I8x16GeS => cmp(a, b, |x: i8, y| x >= y),
        O::I8x16GeU => cmp(a, b, |x: u8, y| x >= y),
        O::I16x8Eq => swar::eq::<16>(a, b),
        O::I16x8Ne => !swar::eq::<16>(a, b),
        O::I16x8LtS => cmp(a, b, |x: i16, y| x < y),
        O::I16x8LtU => cmp(a, b, |x: u16, y| x < y),
        O::I16x8GtS => cmp(a, b, |x: i16, y| x > y),
        O::I16x8GtU => cmp(a, b, |x: u16, y| x > y),
        O::I16x8LeS => cmp(a, b, |x: i16, y| x <= y),
        O::I16x8LeU => cmp(a, b, |x: u16, y| x <= y),
        O::I16x8GeS => cmp(a, b, |x: i16, y| x >= y),
        O::I16x8GeU => cmp(a, b, |x: u16, y| x >= y),
        O::I32x4Eq => swar::eq::<32>(a, b),
        O::I32x4Ne => !swar::eq::<32>(a, b),
        O::I32x4LtS => cmp(a, b, |x: i32, y| x < y),
        O::I32x4LtU => cmp(a, b, |x: u32, y| x < y),
        O::I32x4GtS => cmp(a, b, |x: i32, y| x > y),
        O::I32x4GtU => cmp(a, b, |x: u32, y| x > y),
        O::I32x4LeS => cmp(a, b, |x: i32, y| x <= y),
        O::I32x4LeU => cmp(a, b, |x: u32, y| x <= y),
        O::I32x4GeS => cmp(a, b, |x: i32, y| x >= y),
        O::I32x4GeU => cmp(a, b, |x: u32, y| x >= y),
        O::I64x2Eq => cmp(a, b, |x: u64, y| x == y),
        O::I64x2Ne => cmp(a, b, |x: u64, y| x != y),
        O::I64x2LtS => cmp(a, b, |x: i64, y| x < y),
        O::I64x2GtS => cmp(a, b, |x: i64, y| x > y),
        O::I64x2LeS => cmp(a, b, |x: i64, y| x <= y),
        O::I64x2GeS => cmp(a, b, |x: i64, y| x >= y),
        O::F32x4Eq => cmp(a, b, |x: f32, y| x == y),
        O::F32x4Ne => cmp(a, b, |x: f32, y| x != y),
        O::F32x4Lt => cmp(a, b, |x: f32, y| x < y),
        O::F32x4Gt => cmp(a, b, |x: f32, y| x > y),
        O::F32x4Le => cmp(a, b, |x: f32, y| x <= y),
        O::F32x4Ge => cmp(a, b, |x: f32, y| x >= y),
        O::F64x2Eq => cmp(a, b, |x: f64, y| x == y),
        O::F64x2Ne => cmp(a, b, |x: f64, y| x != y),
        O::F64x2Lt => cmp(a, b, |x: f64, y| x < y),
        O::F64x2Gt => cmp(a, b, |x: f64, y| x > y),
        O::F64x2Le => cmp(a, b, |x: f64, y| x <= y),
        O::F64x2Ge => cmp(a, b, |x: f64, y| x >= y),

        O::I8x16Add => swar::add::<8>(a, b),
        O::I8x16AddSatS => zip(a, b, i8::saturating_add),
        O::I8x16AddSatU => zip(a, b, u8::saturating_add),
        O::I8x16Sub => swar::sub::<8>(a, b),
        O::I8x16SubSatS => zip(a, b, i8::saturating_sub),
        O::I8x16SubSatU => zip(a, b, u8::saturating_sub),
        O::I8x16MinS => zip(a, b, i8::min),
        O::I8x16MinU => zip(a, b, u8::min),
        O::I8x16MaxS => zip(a, b, i8::max),
        O::I8x16MaxU => zip(a, b, u8::max),
        O::I8x16AvgrU => zip(a, b, |x: u8, y: u8| avgr(x, y) as u8),
        O::I16x8Q15MulrSatS => zip(a, b, q15mulr),
        O::I16x8Add => swar::add::<16>(a, b),
        O::I16x8AddSatS => zip(a, b, i16::saturating_add),
        O::I16x8AddSatU => zip(a, b, u16::saturating_add),
        O::I16x8Sub => swar::sub::<16>(a, b),
        O::I16x8SubSatS => zip(a, b, i16::saturating_sub),
        O::I16x8SubSatU => zip(a, b, u16::saturating_sub),
        O::I16x8Mul => zip(a, b, u16::wrapping_mul),
        O::I16x8MinS => zip(a, b, i16::min),
        O::I16x8MinU => zip(a, b, u16::min),
        O::I16x8MaxS => zip(a, b, i16::max),
        O::I16x8MaxU => zip(a, b, u16::max),
        O::I16x8AvgrU => zip(a, b, |x: u16, y: u16| avgr(x, y) as u16),
        O::I32x4Add => swar::add::<32>(a, b),
        O::I32x4Sub => swar::sub::<32>(a, b),
        O::I32x4Mul => zip(a, b, u32::wrapping_mul),
        O::I32x4MinS => zip(a, b, i32::min),
        O::I32x4MinU => zip(a, b, u32::min),
        O::I32x4MaxS => zip(a, b, i32::max),
        O::I32x4MaxU => zip(a, b, u32::max),
        O::I64x2Add => swar::add::<64>(a, b),
        O::I64x2Sub => swar::sub::<64>(a, b),
        O::I64x2Mul => zip(a, b, u64::wrapping_mul),

        O::F32x4Add => zip(a, b, |x: f32, y| x + y),
        O::F32x4Sub => zip(a, b, |x: f32, y| x - y),
        O::F32x4Mul => zip(a, b, |x: f32, y| x * y),
        O::F32x4Div => zip(a, b, |x: f32, y| x / y),
        O::F32x4Min => zip(a, b, num::f32_min),
        O::F32x4Max => zip(a, b, num::f32_max),
        O::F32x4PMin => zip(a, b, pmin::<f32>),
        O::F32x4PMax => zip(a, b, pmax::<f32>),
        O::F64x2Add => zip(a, b, |x: f64, y| x + y),
        O::F64x2Sub => zip(a, b, |x: f64, y| x - y),
        O::F64x2Mul => zip(a, b, |x: f64, y| x * y),
        O::F64x2Div => zip(a, b, |x: f64, y| x / y),
        O::F64x2Min => zip(a, b, num::f64_min),
        O::F64x2Max => zip(a, b, num::f64_max),
        O::F64x2PMin => zip(a, b, pmin::<f64>),
        O::F64x2PMax => zip(a, b, pmax::<f64>),
        _ => convert::binary(op, a, b),
    }
}

/// Shifts: the count is taken modulo the lane width (`wrapping_sh*` masks it).
#[inline(always)]
pub(super) fn shift(op: O, v: u128, s: u32) -> u128 {
    match op {
        O::I8x16Shl => swar::shl::<8>(v, s),
        O::I8x16ShrS => map(v, |x: i8| x.wrapping_shr(s)),
        O::I8x16ShrU => swar::shr_u::<8>(v, s),
        O::I16x8Shl => swar::shl::<16>(v, s),
        O::I16x8ShrS => map(v, |x: i16| x.wrapping_shr(s)),
        O::I16x8ShrU => swar::shr_u::<16>(v, s),
        O::I32x4Shl => swar::shl::<32>(v, s),
        O::I32x4ShrS => map(v, |x: i32| x.wrapping_shr(s)),
        O::I32x4ShrU => swar::shr_u::<32>(v, s),
        O::I64x2Shl => swar::shl::<64>(v, s),
        O::I64x2ShrS => map(v, |x: i64| x.wrapping_shr(s)),
        O::I64x2ShrU => swar::shr_u::<64>(v, s),
        _ => unreachable!("not a shift: {op:?}"),
    }
}

fn all_true<T: super::lanes::Lane + PartialEq + Default>(v: u128) -> bool {
    (0..count::<T>()).all(|i| get::<T>(v, i) != T::default())
}

/// The sign bit of every lane, lane 0 in bit 0.
fn bitmask<T: super::lanes::Lane + PartialOrd + Default>(v: u128) -> u32 {
    (0..count::<T>()).fold(0, |m, i| {
        m | (((get::<T>(v, i) < T::default()) as u32) << i)
    })
}

/// `v128 -> i32` tests.
pub(super) fn test(op: O, v: u128) -> u32 {
    match op {
        O::V128AnyTrue => (v != 0) as u32,
        O::I8x16AllTrue => all_true::<u8>(v) as u32,
        O::I16x8AllTrue => all_true::<u16>(v) as u32,
        O::I32x4AllTrue => all_true::<u32>(v) as u32,
        O::I64x2AllTrue => all_true::<u64>(v) as u32,
        O::I8x16Bitmask => bitmask::<i8>(v),
        O::I16x8Bitmask => bitmask::<i16>(v),
        O::I32x4Bitmask => bitmask::<i32>(v),
        O::I64x2Bitmask => bitmask::<i64>(v),
        _ => unreachable!("not a test: {op:?}"),
    }
}
