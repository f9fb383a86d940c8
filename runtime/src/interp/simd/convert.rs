//! Lane conversions: widening, narrowing, extending multiplies, pairwise additions, dot
//! products, float <-> integer conversions, demote and promote.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#vector-instructions>.
//! Rust's float-to-int `as` saturates and maps NaN to 0 (the spec's `trunc_sat`); its
//! int-to-float `as` rounds to nearest even (the spec's `convert`); f64 -> f32 `as`
//! rounds to nearest as `demote` does, matching the scalar operators.

use super::SimdOp as O;
use super::lanes::{Lane, build, get};

/// Lanes `half*N/2 ..` of `v` as `T`, widened by `f`.
fn widen<T: Lane, U: Lane>(v: u128, high: bool, f: impl Fn(T) -> U) -> u128 {
    let base = if high { super::lanes::count::<U>() } else { 0 };
    build(|i| f(get::<T>(v, base + i)))
}

/// Lane `i` of the output combines input lanes `2i` and `2i + 1`.
fn pairwise<T: Lane, U: Lane>(v: u128, f: impl Fn(T, T) -> U) -> u128 {
    build(|i| f(get::<T>(v, 2 * i), get::<T>(v, 2 * i + 1)))
}

/// Extending multiply of the low or high halves.
fn extmul<T: Lane, U: Lane>(a: u128, b: u128, high: bool, f: impl Fn(T, T) -> U) -> u128 {
    let base = if high { super::lanes::count::<U>() } else { 0 };
    build(|i| f(get::<T>(a, base + i), get::<T>(b, base + i)))
}

/// Narrowing: the lanes of `a` then those of `b`, each saturated by `f`.
fn narrow<T: Lane, U: Lane>(a: u128, b: u128, f: impl Fn(T) -> U) -> u128 {
    let n = super::lanes::count::<T>();
    build(|i| {
        if i < n {
            f(get::<T>(a, i))
        } else {
            f(get::<T>(b, i - n))
        }
    })
}

/// Two lanes from `f` and zeros in the other two (the `_zero` conversions).
fn low2_zero<U: Lane + Default>(v: u128, f: impl Fn(f64) -> U) -> u128 {
    build(|i| {
        if i < 2 {
            f(get::<f64>(v, i))
        } else {
            U::default()
        }
    })
}

pub(super) fn unary(op: O, v: u128) -> u128 {
    match op {
        O::I16x8ExtAddPairwiseI8x16S => pairwise(v, |x: i8, y: i8| x as i16 + y as i16),
        O::I16x8ExtAddPairwiseI8x16U => pairwise(v, |x: u8, y: u8| x as u16 + y as u16),
        O::I32x4ExtAddPairwiseI16x8S => pairwise(v, |x: i16, y: i16| x as i32 + y as i32),
        O::I32x4ExtAddPairwiseI16x8U => pairwise(v, |x: u16, y: u16| x as u32 + y as u32),
        O::I16x8ExtendLowI8x16S => widen(v, false, |x: i8| x as i16),
        O::I16x8ExtendHighI8x16S => widen(v, true, |x: i8| x as i16),
        O::I16x8ExtendLowI8x16U => widen(v, false, |x: u8| x as u16),
        O::I16x8ExtendHighI8x16U => widen(v, true, |x: u8| x as u16),
        O::I32x4ExtendLowI16x8S => widen(v, false, |x: i16| x as i32),
        O::I32x4ExtendHighI16x8S => widen(v, true, |x: i16| x as i32),
        O::I32x4ExtendLowI16x8U => widen(v, false, |x: u16| x as u32),
        O::I32x4ExtendHighI16x8U => widen(v, true, |x: u16| x as u32),
        O::I64x2ExtendLowI32x4S => widen(v, false, |x: i32| x as i64),
        O::I64x2ExtendHighI32x4S => widen(v, true, |x: i32| x as i64),
        O::I64x2ExtendLowI32x4U => widen(v, false, |x: u32| x as u64),
        O::I64x2ExtendHighI32x4U => widen(v, true, |x: u32| x as u64),
        O::I32x4TruncSatF32x4S => super::lanes::map(v, |x: f32| x as i32),
        O::I32x4TruncSatF32x4U => super::lanes::map(v, |x: f32| x as u32),
        O::F32x4ConvertI32x4S => super::lanes::map(v, |x: i32| x as f32),
        O::F32x4ConvertI32x4U => super::lanes::map(v, |x: u32| x as f32),
        O::I32x4TruncSatF64x2SZero => low2_zero(v, |x| x as i32),
        O::I32x4TruncSatF64x2UZero => low2_zero(v, |x| x as u32),
        O::F64x2ConvertLowI32x4S => widen(v, false, |x: i32| x as f64),
        O::F64x2ConvertLowI32x4U => widen(v, false, |x: u32| x as f64),
        O::F32x4DemoteF64x2Zero => low2_zero(v, |x| x as f32),
        O::F64x2PromoteLowF32x4 => widen(v, false, |x: f32| x as f64),
        _ => unreachable!("not a v128 unary operator: {op:?}"),
    }
}

pub(super) fn binary(op: O, a: u128, b: u128) -> u128 {
    match op {
        O::I8x16NarrowI16x8S => narrow(a, b, |x: i16| x.clamp(-128, 127) as i8),
        O::I8x16NarrowI16x8U => narrow(a, b, |x: i16| x.clamp(0, 255) as u8),
        O::I16x8NarrowI32x4S => narrow(a, b, |x: i32| x.clamp(-32768, 32767) as i16),
        O::I16x8NarrowI32x4U => narrow(a, b, |x: i32| x.clamp(0, 65535) as u16),
        O::I16x8ExtMulLowI8x16S => extmul(a, b, false, |x: i8, y: i8| x as i16 * y as i16),
        O::I16x8ExtMulHighI8x16S => extmul(a, b, true, |x: i8, y: i8| x as i16 * y as i16),
        O::I16x8ExtMulLowI8x16U => extmul(a, b, false, |x: u8, y: u8| x as u16 * y as u16),
        O::I16x8ExtMulHighI8x16U => extmul(a, b, true, |x: u8, y: u8| x as u16 * y as u16),
        O::I32x4ExtMulLowI16x8S => extmul(a, b, false, |x: i16, y: i16| x as i32 * y as i32),
        O::I32x4ExtMulHighI16x8S => extmul(a, b, true, |x: i16, y: i16| x as i32 * y as i32),
        O::I32x4ExtMulLowI16x8U => extmul(a, b, false, |x: u16, y: u16| x as u32 * y as u32),
        O::I32x4ExtMulHighI16x8U => extmul(a, b, true, |x: u16, y: u16| x as u32 * y as u32),
        O::I64x2ExtMulLowI32x4S => extmul(a, b, false, |x: i32, y: i32| x as i64 * y as i64),
        O::I64x2ExtMulHighI32x4S => extmul(a, b, true, |x: i32, y: i32| x as i64 * y as i64),
        O::I64x2ExtMulLowI32x4U => extmul(a, b, false, |x: u32, y: u32| x as u64 * y as u64),
        O::I64x2ExtMulHighI32x4U => extmul(a, b, true, |x: u32, y: u32| x as u64 * y as u64),
        // The one overflowing case (all four -32768) wraps to i32::MIN, as specified.
        O::I32x4DotI16x8S => build(|i| {
            let p = |v: u128, j: usize| get::<i16>(v, j) as i32;
            (p(a, 2 * i) * p(b, 2 * i)).wrapping_add(p(a, 2 * i + 1) * p(b, 2 * i + 1))
        }),
        _ => unreachable!("not a v128 binary operator: {op:?}"),
    }
}
