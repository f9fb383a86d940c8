//! Lane access on a `v128` held as a `u128` (lane 0 in the low bits, as in memory).

/// A lane type: an integer or float of 8 to 64 bits.
pub(super) trait Lane: Copy {
    const BITS: u32;
    /// All bits set, and all clear (comparison results).
    const ONES: Self;
    const ZERO: Self;
    /// The lanes of a vector, lane 0 first.
    type Array: Copy + AsRef<[Self]> + AsMut<[Self]>;
    /// The lane from the low `BITS` bits of `x`.
    fn from_low(x: u128) -> Self;
    /// The lane's bits, zero-extended.
    fn bits(self) -> u128;
    /// The lanes of `v` (through bytes, so that lane-wise loops can be vectorised).
    fn split(v: u128) -> Self::Array;
    /// The vector of lanes `a`.
    fn join(a: Self::Array) -> u128;
}

macro_rules! array_lanes {
    ($t:ty) => {
        type Array = [$t; 16 / size_of::<$t>()];
        #[inline(always)]
        fn split(v: u128) -> Self::Array {
            const W: usize = size_of::<$t>();
            let b = v.to_le_bytes();
            std::array::from_fn(|i| <$t>::from_le_bytes(b[i * W..i * W + W].try_into().unwrap()))
        }
        #[inline(always)]
        fn join(a: Self::Array) -> u128 {
            const W: usize = size_of::<$t>();
            let mut b = [0u8; 16];
            for (i, x) in a.iter().enumerate() {
                b[i * W..i * W + W].copy_from_slice(&x.to_le_bytes());
            }
            u128::from_le_bytes(b)
        }
    };
}

macro_rules! int_lane {
    ($($t:ty => $u:ty),*) => {$(
        impl Lane for $t {
            const BITS: u32 = <$t>::BITS;
            const ONES: Self = !0;
            const ZERO: Self = 0;
            array_lanes!($t);
            #[inline(always)]
            fn from_low(x: u128) -> Self {
                x as $u as $t
            }
            #[inline(always)]
            fn bits(self) -> u128 {
                self as $u as u128
            }
        }
    )*};
}
int_lane!(i8 => u8, u8 => u8, i16 => u16, u16 => u16, i32 => u32, u32 => u32, i64 => u64, u64 => u64);

macro_rules! float_lane {
    ($($t:ty => $u:ty),*) => {$(
        impl Lane for $t {
            const BITS: u32 = <$u>::BITS;
            const ONES: Self = <$t>::from_bits(!0);
            const ZERO: Self = <$t>::from_bits(0);
            array_lanes!($t);
            #[inline(always)]
            fn from_low(x: u128) -> Self {
                <$t>::from_bits(x as $u)
            }
            #[inline(always)]
            fn bits(self) -> u128 {
                self.to_bits() as u128
            }
        }
    )*};
}
float_lane!(f32 => u32, f64 => u64);

/// The number of `T` lanes in a vector.
#[inline(always)]
pub(super) const fn count<T: Lane>() -> usize {
    (128 / T::BITS) as usize
}

/// All ones in the low `bits` bits.
#[inline(always)]
fn ones(bits: u32) -> u128 {
    (1u128 << bits) - 1
}

/// Lane `i` of `v` as a `T`.
#[inline(always)]
pub(super) fn get<T: Lane>(v: u128, i: usize) -> T {
    T::from_low(v >> (i as u32 * T::BITS))
}

/// `v` with lane `i` replaced by `x`.
#[inline(always)]
pub(super) fn set<T: Lane>(v: u128, i: usize, x: T) -> u128 {
    let shift = i as u32 * T::BITS;
    (v & !(ones(T::BITS) << shift)) | (x.bits() << shift)
}

/// A vector of `U` lanes, lane `i` being `f(i)`.
#[inline(always)]
pub(super) fn build<U: Lane>(f: impl Fn(usize) -> U) -> u128 {
    (0..count::<U>()).fold(0, |v, i| v | (f(i).bits() << (i as u32 * U::BITS)))
}

/// Every `T` lane set to `x`.
#[inline(always)]
pub(super) fn splat<T: Lane>(x: T) -> u128 {
    build(|_| x)
}

/// Lane-wise `f` (input and output lanes equally wide).
#[inline(always)]
pub(super) fn map<T: Lane, U: Lane>(v: u128, f: impl Fn(T) -> U) -> u128 {
    debug_assert_eq!(T::BITS, U::BITS);
    let x = T::split(v);
    let mut out = U::split(0);
    for (o, x) in out.as_mut().iter_mut().zip(x.as_ref()) {
        *o = f(*x);
    }
    U::join(out)
}

/// Lane-wise `f` of two vectors.
#[inline(always)]
pub(super) fn zip<T: Lane>(a: u128, b: u128, f: impl Fn(T, T) -> T) -> u128 {
    let (mut x, y) = (T::split(a), T::split(b));
    for (x, y) in x.as_mut().iter_mut().zip(y.as_ref()) {
        *x = f(*x, *y);
    }
    T::join(x)
}

/// Lane-wise `f` of three vectors.
#[inline(always)]
pub(super) fn zip3<T: Lane>(a: u128, b: u128, c: u128, f: impl Fn(T, T, T) -> T) -> u128 {
    let (mut x, y, z) = (T::split(a), T::split(b), T::split(c));
    for ((x, y), z) in x.as_mut().iter_mut().zip(y.as_ref()).zip(z.as_ref()) {
        *x = f(*x, *y, *z);
    }
    T::join(x)
}

/// Lane-wise comparison: all ones where `f` holds, zeros elsewhere.
#[inline(always)]
pub(super) fn cmp<T: Lane>(a: u128, b: u128, f: impl Fn(T, T) -> bool) -> u128 {
    let (mut x, y) = (T::split(a), T::split(b));
    for (x, y) in x.as_mut().iter_mut().zip(y.as_ref()) {
        *x = if f(*x, *y) { T::ONES } else { T::ZERO };
    }
    T::join(x)
}

/// SWAR ("SIMD within a register") forms of the simplest integer lane operations on
/// `W`-bit lanes, computed on the whole `u128` with no lane loop: carries and borrows
/// are kept inside each lane by handling the lanes' top bits separately.
pub(super) mod swar {
    /// The lowest bit of every lane.
    #[inline(always)]
    const fn lsb<const W: u32>() -> u128 {
        u128::MAX / (u128::MAX >> (128 - W))
    }

    /// The top bit of every lane.
    #[inline(always)]
    const fn top<const W: u32>() -> u128 {
        lsb::<W>() << (W - 1)
    }

    #[inline(always)]
    pub fn add<const W: u32>(a: u128, b: u128) -> u128 {
        let h = top::<W>();
        ((a & !h).wrapping_add(b & !h)) ^ ((a ^ b) & h)
    }

    #[inline(always)]
    pub fn sub<const W: u32>(a: u128, b: u128) -> u128 {
        let h = top::<W>();
        ((a | h).wrapping_sub(b & !h)) ^ ((a ^ !b) & h)
    }

    /// All ones in the lanes where `a == b`.
    #[inline(always)]
    pub fn eq<const W: u32>(a: u128, b: u128) -> u128 {
        let h = top::<W>();
        let x = a ^ b;
        // The top bit of a lane of `t` is set iff the lane of `x` is not zero (the low
        // bits plus all-but-the-top ones carry into the top bit iff any is set).
        let t = ((x & !h).wrapping_add(!h)) | x;
        let z = !t & h;
        z | (z - (z >> (W - 1)))
    }

    /// Lane-wise `<<` by `s % W`.
    #[inline(always)]
    pub fn shl<const W: u32>(v: u128, s: u32) -> u128 {
        let s = s % W;
        // The low `s` bits of every lane, which would receive the lane below's top bits.
        let low = (lsb::<W>() << s) - lsb::<W>();
        (v << s) & !low
    }

    /// Lane-wise logical `>>` by `s % W`.
    #[inline(always)]
    pub fn shr_u<const W: u32>(v: u128, s: u32) -> u128 {
        let s = s % W;
        let low = (lsb::<W>() << s) - lsb::<W>();
        // The top `s` bits of every lane, which would receive the lane above's low bits.
        let high = low << ((W - s) % W);
        (v >> s) & !high
    }
}

#[cfg(test)]
mod tests {
    use super::{cmp, map, swar, zip};

    /// SWAR results equal the lane-by-lane ones, on vectors with every carry pattern.
    #[test]
    fn swar_matches_lanes() {
        let mut x = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834_u128;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..2000 {
            let (a, mut b) = (next(), next());
            if i % 3 == 0 {
                b = a ^ (b & (b >> 3) & (b >> 5)); // many equal lanes
            }
            let s = (i % 70) as u32;
            macro_rules! check {
                ($w:literal, $t:ty) => {
                    assert_eq!(swar::add::<$w>(a, b), zip(a, b, <$t>::wrapping_add));
                    assert_eq!(swar::sub::<$w>(a, b), zip(a, b, <$t>::wrapping_sub));
                    assert_eq!(swar::eq::<$w>(a, b), cmp(a, b, |x: $t, y| x == y));
                    assert_eq!(swar::shl::<$w>(a, s), map(a, |x: $t| x.wrapping_shl(s)));
                    assert_eq!(swar::shr_u::<$w>(a, s), map(a, |x: $t| x.wrapping_shr(s)));
                };
            }
            check!(8, u8);
            check!(16, u16);
            check!(32, u32);
            check!(64, u64);
        }
    }
}
