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

/// Lane-wise comparison: all ones where `f` holds, zeros elsewhere.
#[inline(always)]
pub(super) fn cmp<T: Lane>(a: u128, b: u128, f: impl Fn(T, T) -> bool) -> u128 {
    let (mut x, y) = (T::split(a), T::split(b));
    for (x, y) in x.as_mut().iter_mut().zip(y.as_ref()) {
        *x = if f(*x, *y) { T::ONES } else { T::ZERO };
    }
    T::join(x)
}
