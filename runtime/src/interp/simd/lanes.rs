//! Lane access on a `v128` held as a `u128` (lane 0 in the low bits, as in memory).

/// A lane type: an integer or float of 8 to 64 bits.
pub(super) trait Lane: Copy {
    const BITS: u32;
    /// The lane from the low `BITS` bits of `x`.
    fn from_low(x: u128) -> Self;
    /// The lane's bits, zero-extended.
    fn bits(self) -> u128;
}

macro_rules! int_lane {
    ($($t:ty => $u:ty),*) => {$(
        impl Lane for $t {
            const BITS: u32 = <$t>::BITS;
            #[inline]
            fn from_low(x: u128) -> Self {
                x as $u as $t
            }
            #[inline]
            fn bits(self) -> u128 {
                self as $u as u128
            }
        }
    )*};
}
int_lane!(i8 => u8, u8 => u8, i16 => u16, u16 => u16, i32 => u32, u32 => u32, i64 => u64, u64 => u64);

impl Lane for f32 {
    const BITS: u32 = 32;
    #[inline]
    fn from_low(x: u128) -> Self {
        f32::from_bits(x as u32)
    }
    #[inline]
    fn bits(self) -> u128 {
        self.to_bits() as u128
    }
}

impl Lane for f64 {
    const BITS: u32 = 64;
    #[inline]
    fn from_low(x: u128) -> Self {
        f64::from_bits(x as u64)
    }
    #[inline]
    fn bits(self) -> u128 {
        self.to_bits() as u128
    }
}

/// The number of `T` lanes in a vector.
#[inline]
pub(super) const fn count<T: Lane>() -> usize {
    (128 / T::BITS) as usize
}

/// All ones in the low `bits` bits.
#[inline]
fn ones(bits: u32) -> u128 {
    (1u128 << bits) - 1
}

/// Lane `i` of `v` as a `T`.
#[inline]
pub(super) fn get<T: Lane>(v: u128, i: usize) -> T {
    T::from_low(v >> (i as u32 * T::BITS))
}

/// `v` with lane `i` replaced by `x`.
#[inline]
pub(super) fn set<T: Lane>(v: u128, i: usize, x: T) -> u128 {
    let shift = i as u32 * T::BITS;
    (v & !(ones(T::BITS) << shift)) | (x.bits() << shift)
}

/// A vector of `U` lanes, lane `i` being `f(i)`.
#[inline]
pub(super) fn build<U: Lane>(f: impl Fn(usize) -> U) -> u128 {
    (0..count::<U>()).fold(0, |v, i| v | (f(i).bits() << (i as u32 * U::BITS)))
}

/// Every `T` lane set to `x`.
#[inline]
pub(super) fn splat<T: Lane>(x: T) -> u128 {
    build(|_| x)
}

/// Lane-wise `f` (input and output lanes equally wide).
#[inline]
pub(super) fn map<T: Lane, U: Lane>(v: u128, f: impl Fn(T) -> U) -> u128 {
    build(|i| f(get::<T>(v, i)))
}

/// Lane-wise `f` of two vectors.
#[inline]
pub(super) fn zip<T: Lane>(a: u128, b: u128, f: impl Fn(T, T) -> T) -> u128 {
    build(|i| f(get::<T>(a, i), get::<T>(b, i)))
}

/// Lane-wise comparison: all ones where `f` holds, zeros elsewhere.
#[inline]
pub(super) fn cmp<T: Lane>(a: u128, b: u128, f: impl Fn(T, T) -> bool) -> u128 {
    (0..count::<T>()).fold(0, |v, i| {
        if f(get::<T>(a, i), get::<T>(b, i)) {
            v | (ones(T::BITS) << (i as u32 * T::BITS))
        } else {
            v
        }
    })
}
