//! The relaxed SIMD operators that are not their deterministic counterpart (those,
//! `relaxed_swizzle`, `relaxed_trunc*`, `relaxed_laneselect`, `relaxed_min/max` and
//! `relaxed_q15mulr_s`, translate to the counterpart's `SimdOp`).
//!
//! The proposal permits several results for each; the interpreter gives exactly the one
//! the native engine fixes (`native/translate/relaxed_simd.rs`), on every host:
//! - `relaxed_madd(a, b, c)` is `a * b + c` and `relaxed_nmadd` is `-(a * b) + c`,
//!   unfused: rounded after the multiply and after the add, with the NaNs of the plain
//!   vector `mul` and `add` (`arith.rs`) in the native engine's operand order
//!   ([`Float::in_order`]);
//! - the dot products take both operands as signed i8: the i16x8 one wraps each sum of
//!   two products to 16 bits, the i32x4 one adds the exact sum of four products to the
//!   accumulator lane with i32 wrapping.
//!
//! Spec: <https://github.com/WebAssembly/relaxed-simd/blob/main/proposals/relaxed-simd/Overview.md>.

use super::SimdOp as O;
use super::lanes::{build, get, zip3};

/// A float lane, for [`Float::in_order`].
trait Float: Copy {
    const QUIET: Self::Bits;
    type Bits: Copy
        + PartialEq
        + std::ops::BitOr<Output = Self::Bits>
        + std::ops::BitAnd<Output = Self::Bits>
        + Default;
    fn is_nan(self) -> bool;
    fn to_bits(self) -> Self::Bits;
    fn from_bits(bits: Self::Bits) -> Self;

    /// The result `r` of the hardware's `x + y` or `x * y`, with the NaN the native
    /// engine's instruction gives for the operands in that order: an operand NaN,
    /// quietened (when both are, on x86 the first; on AArch64 the first signalling one
    /// if any, else the first). The compiler of this crate does not keep the order: it
    /// swaps the operands of a commutative `+` or `*`, and turns `-p + c` into `c - p`,
    /// which propagate a different NaN, so a NaN operand is propagated here, explicitly.
    /// (`r` still decides when no operand is NaN: the invalid operation's default NaN.)
    #[inline(always)]
    fn in_order(x: Self, y: Self, r: Self) -> Self {
        let quiet = |v: Self| Self::from_bits(v.to_bits() | Self::QUIET);
        let signalling = |v: Self| v.is_nan() && v.to_bits() & Self::QUIET == Self::Bits::default();
        if x.is_nan() {
            if cfg!(target_arch = "aarch64") && signalling(y) && !signalling(x) {
                quiet(y)
            } else {
                quiet(x)
            }
        } else if y.is_nan() {
            quiet(y)
        } else {
            r
        }
    }
}

macro_rules! float {
    ($($t:ty => $bits:ty, $quiet:expr;)*) => {$(
        impl Float for $t {
            const QUIET: $bits = $quiet;
            type Bits = $bits;
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn to_bits(self) -> $bits {
                <$t>::to_bits(self)
            }
            #[inline(always)]
            fn from_bits(bits: $bits) -> Self {
                <$t>::from_bits(bits)
            }
        }
    )*};
}
float! {
    f32 => u32, 1 << 22;
    f64 => u64, 1 << 51;
}

/// `a * b + c`, or `-(a * b) + c` if `negate_product`, each step rounded and with its
/// NaN in the native engine's operand order.
#[inline(always)]
fn unfused_madd<T>(a: T, b: T, c: T, negate_product: bool) -> T
where
    T: Float + std::ops::Mul<Output = T> + std::ops::Add<Output = T> + std::ops::Neg<Output = T>,
{
    let mut product = T::in_order(a, b, a * b);
    if negate_product {
        product = -product;
    }
    T::in_order(product, c, product + c)
}

/// The product of the signed bytes `i` of `a` and `b` (it fits an i16 exactly).
#[inline(always)]
fn byte_product(a: u128, b: u128, i: usize) -> i16 {
    get::<i8>(a, i) as i16 * get::<i8>(b, i) as i16
}

/// `i16x8.relaxed_dot_i8x16_i7x16_s`: lane i is `a[2i]*b[2i] + a[2i+1]*b[2i+1]`,
/// wrapped to 16 bits (two products of -128 * -128 overflow it).
pub(super) fn dot_i8x16_i7x16_s(a: u128, b: u128) -> u128 {
    build(|i| byte_product(a, b, 2 * i).wrapping_add(byte_product(a, b, 2 * i + 1)))
}

/// The operators with a third `v128` operand `c` (the addend or the accumulator).
pub(super) fn ternary(op: O, a: u128, b: u128, c: u128) -> u128 {
    match op {
        O::F32x4RelaxedMadd => zip3(a, b, c, |x: f32, y, z| unfused_madd(x, y, z, false)),
        O::F32x4RelaxedNmadd => zip3(a, b, c, |x: f32, y, z| unfused_madd(x, y, z, true)),
        O::F64x2RelaxedMadd => zip3(a, b, c, |x: f64, y, z| unfused_madd(x, y, z, false)),
        O::F64x2RelaxedNmadd => zip3(a, b, c, |x: f64, y, z| unfused_madd(x, y, z, true)),
        O::I32x4RelaxedDotI8x16I7x16AddS => build(|i| {
            // Four products of at most 2^14 each: their sum fits an i32 exactly.
            let quad: i32 = (4 * i..4 * i + 4)
                .map(|j| byte_product(a, b, j) as i32)
                .sum();
            get::<i32>(c, i).wrapping_add(quad)
        }),
        _ => unreachable!("not a ternary relaxed SIMD operator: {op:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(lanes: [i8; 16]) -> u128 {
        u128::from_le_bytes(lanes.map(|x| x as u8))
    }

    #[test]
    fn i16x8_dot_wraps_the_sum_of_two_products() {
        let a = bytes([-128; 16]);
        let r = dot_i8x16_i7x16_s(a, a);
        // 2 * 16384 = 32768 wraps to -32768.
        assert_eq!(get::<i16>(r, 0), i16::MIN);
        let b = bytes(std::array::from_fn(|i| i as i8));
        let r = dot_i8x16_i7x16_s(a, b);
        assert_eq!(get::<i16>(r, 3), -128 * 6 + -128 * 7);
    }

    #[test]
    fn i32x4_dot_add_sums_four_products_then_wraps_the_accumulator() {
        let a = bytes([-128; 16]);
        let c = build(|i| [i32::MAX, 0, -1, i32::MIN][i]);
        let r = ternary(O::I32x4RelaxedDotI8x16I7x16AddS, a, a, c);
        let quad = 4 * 16384;
        assert_eq!(get::<i32>(r, 0), i32::MAX.wrapping_add(quad));
        assert_eq!(get::<i32>(r, 1), quad);
        assert_eq!(get::<i32>(r, 2), quad - 1);
        assert_eq!(get::<i32>(r, 3), i32::MIN + quad);
    }

    #[test]
    fn madd_rounds_the_product_before_the_add() {
        // x * x = 1 + 2^-11 + 2^-24 exactly; rounded to f32 it loses the 2^-24 that a
        // fused multiply-add would keep.
        let x = 1.0 + 2f32.powi(-12);
        let v = |f: f32| build(|_| f);
        assert_eq!(x.mul_add(x, -(x * x)), 2f32.powi(-24));
        let r = ternary(O::F32x4RelaxedMadd, v(x), v(x), v(-(x * x)));
        assert_eq!(get::<f32>(r, 0), 0.0);
        let r = ternary(O::F32x4RelaxedNmadd, v(x), v(x), v(x * x));
        assert_eq!(get::<f32>(r, 2), 0.0);
    }
}
