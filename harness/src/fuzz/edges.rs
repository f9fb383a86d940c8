//! Edge values of every numeric type, as bits: the operands the operator grid
//! (`crate::grid`) crosses, and what the steering pass (`fuzz/steer.rs`) writes into
//! generated function bodies.

/// i32 edges: 0, ±1, MIN, MAX (and MIN/-1), shift counts at and around the width,
/// sign-extension and saturation boundaries of the narrower types.
pub const I32: [u32; 19] = [
    0,
    1,
    u32::MAX, // -1
    2,
    i32::MIN as u32,
    i32::MAX as u32,
    i32::MIN as u32 + 1,
    31,
    32,
    33,
    63,
    64,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
];

/// i64 edges, as [`I32`] plus the 32-bit boundaries seen from 64 bits.
pub const I64: [u64; 20] = [
    0,
    1,
    u64::MAX, // -1
    2,
    i64::MIN as u64,
    i64::MAX as u64,
    i64::MIN as u64 + 1,
    31,
    32,
    63,
    64,
    65,
    0x80,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    i32::MIN as i64 as u64,
    0xffff_ffff_0000_0000,
];

/// f32 edges (bits): ±0, ±1, ±0.5 and ±1.5 (rounding), ±inf, NaNs (canonical, negative,
/// quiet with a payload, signalling), subnormals, MIN/MAX, and the edges of the
/// conversions to i32/u32/i64/u64.
pub const F32: [u32; 28] = [
    0x0000_0000, // +0
    0x8000_0000, // -0
    0x3f80_0000, // 1
    0xbf80_0000, // -1
    0x3f00_0000, // 0.5
    0xbf00_0000, // -0.5
    0x3fc0_0000, // 1.5
    0xc020_0000, // -2.5
    0x7f80_0000, // +inf
    0xff80_0000, // -inf
    0x7fc0_0000, // canonical NaN
    0xffc0_0000, // negative canonical NaN
    0x7fc1_2345, // quiet NaN with a payload
    0x7f80_0001, // signalling NaN
    0xff81_2345, // negative signalling NaN with a payload
    0x0000_0001, // smallest subnormal
    0x007f_ffff, // largest subnormal
    0x8000_0001, // -smallest subnormal
    0x0080_0000, // smallest normal
    0x7f7f_ffff, // MAX
    0xff7f_ffff, // -MAX
    0x4eff_ffff, // largest f32 below 2^31
    0x4f00_0000, // 2^31
    0xcf00_0000, // -2^31
    0xcf00_0001, // just below -2^31
    0x4f80_0000, // 2^32
    0x5f00_0000, // 2^63
    0x5f80_0000, // 2^64
];

/// f64 edges (bits), as [`F32`] plus the exact i32/u32 conversion boundaries.
pub const F64: [u64; 32] = [
    0x0000_0000_0000_0000, // +0
    0x8000_0000_0000_0000, // -0
    0x3ff0_0000_0000_0000, // 1
    0xbff0_0000_0000_0000, // -1
    0x3fe0_0000_0000_0000, // 0.5
    0xbfe0_0000_0000_0000, // -0.5
    0x3ff8_0000_0000_0000, // 1.5
    0xc004_0000_0000_0000, // -2.5
    0x7ff0_0000_0000_0000, // +inf
    0xfff0_0000_0000_0000, // -inf
    0x7ff8_0000_0000_0000, // canonical NaN
    0xfff8_0000_0000_0000, // negative canonical NaN
    0x7ff8_0000_0001_2345, // quiet NaN with a payload
    0x7ff0_0000_0000_0001, // signalling NaN
    0xfff4_0000_0000_0000, // negative signalling NaN with a payload
    0x0000_0000_0000_0001, // smallest subnormal
    0x000f_ffff_ffff_ffff, // largest subnormal
    0x8000_0000_0000_0001, // -smallest subnormal
    0x0010_0000_0000_0000, // smallest normal
    0x7fef_ffff_ffff_ffff, // MAX
    0xffef_ffff_ffff_ffff, // -MAX
    0x41df_ffff_ffc0_0000, // 2^31 - 1
    0x41e0_0000_0000_0000, // 2^31
    0xc1e0_0000_0000_0000, // -2^31
    0xc1e0_0000_0020_0000, // -2^31 - 1
    0x41ef_ffff_ffe0_0000, // 2^32 - 1
    0x41f0_0000_0000_0000, // 2^32
    0x43df_ffff_ffff_ffff, // largest f64 below 2^63
    0x43e0_0000_0000_0000, // 2^63
    0xc3e0_0000_0000_0000, // -2^63
    0x43f0_0000_0000_0000, // 2^64
    0x36a0_0000_0000_0000, // below f32's smallest subnormal (demotes to 0)
];

/// Splats `lane` (of `bits` bits) over 128 bits.
pub const fn splat(lane: u64, bits: u32) -> u128 {
    let mut v = 0u128;
    let mut i = 0;
    while i < 128 / bits {
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        v |= ((lane & mask) as u128) << (i * bits);
        i += 1;
    }
    v
}

/// v128 edges: whole-vector patterns and lane patterns that saturate or wrap in every
/// lane shape (MIN/MAX/-1 per lane, narrowing boundaries), float lanes with NaNs,
/// ±0, ±inf and subnormals, and a lane-index ramp for shuffles and swizzles.
pub const V128: [u128; 18] = [
    0,
    u128::MAX,
    splat(1, 8),
    splat(0x80, 8),
    splat(0x7f, 8),
    // i8 lanes: MIN, MAX, -1, 0, 1, 0x40, 0xc0, 0xfe ... (two rounds)
    0x0102_fe7f_8000_ff40_c001_7f80_ff00_fe7f,
    splat(0x8000, 16),
    splat(0x7fff, 16),
    // i16 lanes: MIN, MAX, -1, 0, 0x00ff, 0xff00, 1, 0x4000
    0x4000_0001_ff00_00ff_0000_ffff_7fff_8000,
    // i32 lanes: MIN, MAX, -1, 0x0000_ffff
    0x0000_ffff_ffff_ffff_7fff_ffff_8000_0000,
    // i64 lanes: MIN, MAX
    0x7fff_ffff_ffff_ffff_8000_0000_0000_0000,
    // f32 lanes: canonical NaN, -0, +inf, smallest subnormal
    0x0000_0001_7f80_0000_8000_0000_7fc0_0000,
    // f32 lanes: 2^31, -1.5, NaN with a payload, MAX
    0x7f7f_ffff_7fc1_2345_bfc0_0000_4f00_0000,
    // f32 lanes: -inf, 0.5, 2^32, -2^31
    0xcf00_0000_4f80_0000_3f00_0000_ff80_0000,
    // f64 lanes: canonical NaN, -0
    0x8000_0000_0000_0000_7ff8_0000_0000_0000,
    // f64 lanes: 2^63, -inf
    0xfff0_0000_0000_0000_43e0_0000_0000_0000,
    // f64 lanes: -2^31 - 1, largest subnormal
    0x000f_ffff_ffff_ffff_c1e0_0000_0020_0000,
    // byte ramp 0..15, then lane indices past 15 in the top half
    0x1f1e_1d1c_1b1a_1918_0706_0504_0302_0100,
];
