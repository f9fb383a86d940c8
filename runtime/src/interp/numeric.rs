//! Spec-exact numeric helpers on raw cells.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/numerics.html>. Cells are u64:
//! i32 values are zero-extended, floats are their bits. Rust's float arithmetic is IEEE
//! 754 round-to-nearest-even, and its NaN results are NaNs that the spec accepts
//! (canonical for invalid operations, input NaNs quietened otherwise).

use crate::error::TrapKind;

#[inline(always)]
pub(crate) fn i32_of(v: u64) -> i32 {
    v as u32 as i32
}
#[inline(always)]
pub(crate) fn f32_of(v: u64) -> f32 {
    f32::from_bits(v as u32)
}
#[inline(always)]
pub(crate) fn f64_of(v: u64) -> f64 {
    f64::from_bits(v)
}
#[inline(always)]
pub(crate) fn from_i32(v: i32) -> u64 {
    v as u32 as u64
}
#[inline(always)]
pub(crate) fn from_f32(v: f32) -> u64 {
    v.to_bits() as u64
}
#[inline(always)]
pub(crate) fn from_f64(v: f64) -> u64 {
    v.to_bits()
}

/// `fmin`: NaN if either operand is NaN, and -0 < +0.
/// <https://webassembly.github.io/spec/core/exec/numerics.html#op-fmin>
macro_rules! float_min_max {
    ($min:ident, $max:ident, $t:ty) => {
        #[inline]
        pub(crate) fn $min(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return a + b; // propagates a (quiet) NaN
            }
            if a == b {
                // Equal, possibly +0 and -0: the negative one wins (sign bits OR-ed).
                return <$t>::from_bits(a.to_bits() | b.to_bits());
            }
            if a < b { a } else { b }
        }

        /// `fmax`: NaN if either operand is NaN, and +0 > -0.
        #[inline]
        pub(crate) fn $max(a: $t, b: $t) -> $t {
            if a.is_nan() || b.is_nan() {
                return a + b;
            }
            if a == b {
                return <$t>::from_bits(a.to_bits() & b.to_bits());
            }
            if a > b { a } else { b }
        }
    };
}
float_min_max!(f32_min, f32_max, f32);
float_min_max!(f64_min, f64_max, f64);

/// Rounding (`ceil`, `floor`, `trunc`, `nearest`) with the spec's NaN rule: a NaN input
/// gives a quiet NaN. Without SSE4.1 these are library calls that return a signalling
/// NaN unchanged, so quieten it here.
/// <https://webassembly.github.io/spec/core/exec/numerics.html#op-fceil>
#[inline(always)]
pub(crate) fn round_f32(x: f32, f: fn(f32) -> f32) -> f32 {
    if x.is_nan() {
        return f32::from_bits(x.to_bits() | 0x0040_0000);
    }
    f(x)
}

#[inline(always)]
pub(crate) fn round_f64(x: f64, f: fn(f64) -> f64) -> f64 {
    if x.is_nan() {
        return f64::from_bits(x.to_bits() | 0x0008_0000_0000_0000);
    }
    f(x)
}

/// `trunc` to integer with the spec's traps: NaN is an invalid conversion, a value whose
/// truncation is out of range is an overflow. `lo`/`hi` are exclusive bounds on the
/// input, exactly representable in f64.
/// <https://webassembly.github.io/spec/core/exec/numerics.html#op-trunc-s>
#[inline]
fn check_trunc(x: f64, lo: f64, hi: f64) -> Result<f64, TrapKind> {
    if x.is_nan() {
        return Err(TrapKind::InvalidConversionToInteger);
    }
    if x <= lo || x >= hi {
        return Err(TrapKind::IntegerOverflow);
    }
    Ok(x)
}

// Exclusive bounds: the integer range is [-2^31, 2^31), so anything > -2^31 - 1 and
// < 2^31 truncates into range. For 64-bit targets -2^63 - 1 is not representable in
// f64; -2^63 itself is in range, and the next f64 below it is far outside.
const I32_LO: f64 = -2147483649.0;
const I32_HI: f64 = 2147483648.0;
const U32_HI: f64 = 4294967296.0;
const I64_HI: f64 = 9223372036854775808.0;
const U64_HI: f64 = 18446744073709551616.0;

pub(crate) fn i32_trunc_f64_s(x: f64) -> Result<u64, TrapKind> {
    check_trunc(x, I32_LO, I32_HI).map(|x| from_i32(x as i32))
}
pub(crate) fn i32_trunc_f64_u(x: f64) -> Result<u64, TrapKind> {
    check_trunc(x, -1.0, U32_HI).map(|x| x as u32 as u64)
}
pub(crate) fn i64_trunc_f64_s(x: f64) -> Result<u64, TrapKind> {
    if x == -I64_HI {
        return Ok(i64::MIN as u64);
    }
    check_trunc(x, -I64_HI, I64_HI).map(|x| x as i64 as u64)
}
pub(crate) fn i64_trunc_f64_u(x: f64) -> Result<u64, TrapKind> {
    check_trunc(x, -1.0, U64_HI).map(|x| x as u64)
}

/// Float-to-int conversions that trap, on raw cells.
pub(crate) mod trunc {
    use super::*;
    pub(crate) fn i32_f32_s(v: u64) -> Result<u64, TrapKind> {
        i32_trunc_f64_s(f32_of(v) as f64)
    }
    pub(crate) fn i32_f32_u(v: u64) -> Result<u64, TrapKind> {
        i32_trunc_f64_u(f32_of(v) as f64)
    }
    pub(crate) fn i32_f64_s(v: u64) -> Result<u64, TrapKind> {
        i32_trunc_f64_s(f64_of(v))
    }
    pub(crate) fn i32_f64_u(v: u64) -> Result<u64, TrapKind> {
        i32_trunc_f64_u(f64_of(v))
    }
    pub(crate) fn i64_f32_s(v: u64) -> Result<u64, TrapKind> {
        i64_trunc_f64_s(f32_of(v) as f64)
    }
    pub(crate) fn i64_f32_u(v: u64) -> Result<u64, TrapKind> {
        i64_trunc_f64_u(f32_of(v) as f64)
    }
    pub(crate) fn i64_f64_s(v: u64) -> Result<u64, TrapKind> {
        i64_trunc_f64_s(f64_of(v))
    }
    pub(crate) fn i64_f64_u(v: u64) -> Result<u64, TrapKind> {
        i64_trunc_f64_u(f64_of(v))
    }
}

/// Integer division and remainder with the spec's traps.
/// <https://webassembly.github.io/spec/core/exec/numerics.html#op-idiv-s>
pub(crate) mod div {
    use super::*;
    const ZERO: TrapKind = TrapKind::IntegerDivideByZero;

    pub(crate) fn i32_div_s(a: u64, b: u64) -> Result<u64, TrapKind> {
        let (a, b) = (i32_of(a), i32_of(b));
        if b == 0 {
            return Err(ZERO);
        }
        a.checked_div(b)
            .map(from_i32)
            .ok_or(TrapKind::IntegerOverflow)
    }
    pub(crate) fn i32_div_u(a: u64, b: u64) -> Result<u64, TrapKind> {
        let (a, b) = (a as u32, b as u32);
        if b == 0 {
            return Err(ZERO);
        }
        Ok((a / b) as u64)
    }
    /// `MIN rem_s -1` is 0, not an overflow.
    pub(crate) fn i32_rem_s(a: u64, b: u64) -> Result<u64, TrapKind> {
        let (a, b) = (i32_of(a), i32_of(b));
        if b == 0 {
            return Err(ZERO);
        }
        Ok(from_i32(a.wrapping_rem(b)))
    }
    pub(crate) fn i32_rem_u(a: u64, b: u64) -> Result<u64, TrapKind> {
        let (a, b) = (a as u32, b as u32);
        if b == 0 {
            return Err(ZERO);
        }
        Ok((a % b) as u64)
    }
    pub(crate) fn i64_div_s(a: u64, b: u64) -> Result<u64, TrapKind> {
        let (a, b) = (a as i64, b as i64);
        if b == 0 {
            return Err(ZERO);
        }
        a.checked_div(b)
            .map(|v| v as u64)
            .ok_or(TrapKind::IntegerOverflow)
    }
    pub(crate) fn i64_div_u(a: u64, b: u64) -> Result<u64, TrapKind> {
        if b == 0 {
            return Err(ZERO);
        }
        Ok(a / b)
    }
    pub(crate) fn i64_rem_s(a: u64, b: u64) -> Result<u64, TrapKind> {
        let (a, b) = (a as i64, b as i64);
        if b == 0 {
            return Err(ZERO);
        }
        Ok(a.wrapping_rem(b) as u64)
    }
    pub(crate) fn i64_rem_u(a: u64, b: u64) -> Result<u64, TrapKind> {
        if b == 0 {
            return Err(ZERO);
        }
        Ok(a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_zeroes_and_nan() {
        assert!(f32_min(0.0, -0.0).is_sign_negative());
        assert!(f32_min(-0.0, 0.0).is_sign_negative());
        assert!(f32_max(-0.0, 0.0).is_sign_positive());
        assert!(f64_max(f64::NAN, 1.0).is_nan());
        assert!(f64_min(1.0, f64::NAN).is_nan());
        assert_eq!(f64_min(1.0, 2.0), 1.0);
    }

    #[test]
    fn trunc_bounds() {
        assert_eq!(i32_trunc_f64_s(-2147483648.9).unwrap(), from_i32(i32::MIN));
        assert_eq!(
            i32_trunc_f64_s(-2147483649.0),
            Err(TrapKind::IntegerOverflow)
        );
        assert_eq!(i32_trunc_f64_s(2147483647.9).unwrap(), 2147483647);
        assert_eq!(
            i32_trunc_f64_s(2147483648.0),
            Err(TrapKind::IntegerOverflow)
        );
        assert_eq!(i32_trunc_f64_u(-0.9).unwrap(), 0);
        assert_eq!(i32_trunc_f64_u(-1.0), Err(TrapKind::IntegerOverflow));
        assert_eq!(
            i64_trunc_f64_s(-9223372036854775808.0).unwrap(),
            i64::MIN as u64
        );
        assert_eq!(
            i64_trunc_f64_s(9223372036854775808.0),
            Err(TrapKind::IntegerOverflow)
        );
        assert_eq!(
            i64_trunc_f64_u(f64::NAN),
            Err(TrapKind::InvalidConversionToInteger)
        );
    }

    #[test]
    fn division() {
        assert_eq!(
            div::i32_div_s(from_i32(i32::MIN), from_i32(-1)),
            Err(TrapKind::IntegerOverflow)
        );
        assert_eq!(div::i32_rem_s(from_i32(i32::MIN), from_i32(-1)), Ok(0));
        assert_eq!(div::i64_div_u(1, 0), Err(TrapKind::IntegerDivideByZero));
    }
}
