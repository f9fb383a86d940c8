//! Fuzz input bytes: a seeded PRNG for the stable driver (seed -> bytes), and draws of
//! Wasm values biased to edge cases.

use arbitrary::{Result, Unstructured};
use runtime::{HeapType, RefFamily, RefType, ValType};

use crate::fuzz::observe::{AnyVal, FuncId, Val};

/// SplitMix64: small, fast and fully determined by its seed (the driver's contract:
/// the same seed gives the same bytes, module and calls on every machine).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// How many input bytes one seed becomes.
pub const SEED_INPUT_LEN: usize = 8 * 1024;

/// The fuzz input of one stable-driver seed.
pub fn seed_bytes(seed: u64) -> Vec<u8> {
    let mut out = vec![0; SEED_INPUT_LEN];
    SplitMix64::new(seed).fill(&mut out);
    out
}

/// A 64-bit FNV-1a hash, to derive stable numbers from bytes.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const I32_EDGES: [u32; 8] = [
    0,
    1,
    u32::MAX,
    i32::MIN as u32,
    i32::MAX as u32,
    2,
    0x8000,
    0xffff,
];
const I64_EDGES: [u64; 8] = [
    0,
    1,
    u64::MAX,
    i64::MIN as u64,
    i64::MAX as u64,
    u32::MAX as u64,
    i32::MIN as i64 as u64,
    1 << 32,
];
const F32_EDGES: [u32; 11] = [
    0,           // +0
    0x8000_0000, // -0
    0x3f80_0000, // 1
    0xbf80_0000, // -1
    0x7f80_0000, // +inf
    0xff80_0000, // -inf
    0x7fc0_0000, // canonical NaN
    0x7f7f_ffff, // MAX
    0xff7f_ffff, // MIN
    0x0000_0001, // smallest subnormal
    0x4f00_0000, // 2^31 (conversion edge)
];
const F64_EDGES: [u64; 11] = [
    0,
    0x8000_0000_0000_0000,
    0x3ff0_0000_0000_0000,
    0xbff0_0000_0000_0000,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7ff8_0000_0000_0000,
    0x7fef_ffff_ffff_ffff,
    0xffef_ffff_ffff_ffff,
    0x0000_0000_0000_0001,
    0x43e0_0000_0000_0000, // 2^63
];

fn pick<T: Copy>(
    u: &mut Unstructured,
    edges: &[T],
    any: impl FnOnce(&mut Unstructured) -> Result<T>,
) -> Result<T> {
    // Half of the draws are edge values.
    if u.ratio(1, 2)? {
        Ok(*u.choose(edges)?)
    } else {
        any(u)
    }
}

/// An f32 (bits): mostly ordinary numbers, so arithmetic gets exercised beyond NaN.
fn any_f32(u: &mut Unstructured) -> Result<u32> {
    let noise = if u.ratio(1, 4)? { u.arbitrary()? } else { 0 };
    Ok(f32::to_bits(u.int_in_range(-1000i32..=1000)? as f32 / 8.0) ^ noise)
}

/// An f64 (bits), like [`any_f32`].
fn any_f64(u: &mut Unstructured) -> Result<u64> {
    let noise = if u.ratio(1, 4)? { u.arbitrary()? } else { 0 };
    Ok(f64::to_bits(u.int_in_range(-1000i32..=1000)? as f64 / 8.0) ^ noise)
}

/// A v128 drawn lane by lane in one lane shape (i8x16, i16x8, i32x4, i64x2, f32x4 or
/// f64x2), each lane biased to that shape's edges: 0, 1, -1, MIN, MAX for integers,
/// the scalar float edges (±0, ±inf, canonical NaN, MIN/MAX, subnormal) for floats.
/// Now and then the whole vector is all zeros or all ones.
fn draw_v128(u: &mut Unstructured) -> Result<u128> {
    if u.ratio(1, 8)? {
        return Ok(*u.choose(&[0, u128::MAX])?);
    }
    let (bits, float) = *u.choose(&[
        (8u32, false),
        (16, false),
        (32, false),
        (64, false),
        (32, true),
        (64, true),
    ])?;
    let mask = u64::MAX >> (64 - bits);
    let int_edges = [0, 1, mask, 1 << (bits - 1), mask >> 1];
    let mut v = 0u128;
    for lane in 0..128 / bits {
        let x = match (float, bits) {
            (true, 32) => u64::from(pick(u, &F32_EDGES, any_f32)?),
            (true, _) => pick(u, &F64_EDGES, any_f64)?,
            (false, _) => pick(u, &int_edges, |u| u.arbitrary())?,
        };
        v |= u128::from(x & mask) << (lane * bits);
    }
    Ok(v)
}

/// A value of `ty` drawn from the input, biased to edge values. `host_funcs` are the
/// functions a funcref may name (besides null).
pub fn draw_val(u: &mut Unstructured, ty: ValType, host_funcs: &[FuncId]) -> Result<Val> {
    Ok(match ty {
        ValType::I32 => Val::I32(pick(u, &I32_EDGES, |u| u.arbitrary())?),
        ValType::I64 => Val::I64(pick(u, &I64_EDGES, |u| u.arbitrary())?),
        ValType::F32 => Val::F32(pick(u, &F32_EDGES, any_f32)?),
        ValType::F64 => Val::F64(pick(u, &F64_EDGES, any_f64)?),
        ValType::V128 => Val::V128(draw_v128(u)?),
        // The bottom types hold only null.
        ValType::Ref(r) if r.heap == HeapType::NoFunc => Val::FuncRef(None),
        ValType::Ref(r) if r.heap == HeapType::NoExtern => Val::ExternRef(None),
        ValType::Ref(r) if r.family() == RefFamily::Func => {
            if host_funcs.is_empty() || u.ratio(1, 2)? {
                Val::FuncRef(None)
            } else {
                Val::FuncRef(Some(u.choose(host_funcs)?.clone()))
            }
        }
        ValType::Ref(r) if r.family() == RefFamily::Extern => {
            if u.ratio(1, 3)? {
                Val::ExternRef(None)
            } else {
                Val::ExternRef(Some(u.int_in_range(0..=7)?))
            }
        }
        ValType::Ref(r) if r.family() == RefFamily::Any => any_of(r, u.arbitrary()?),
        // The embedder cannot make an exception without a tag of its own: null.
        ValType::Ref(_) => Val::ExnRef(false),
    })
}

/// An internal reference of type `ty` from the bits `r`: the embedder makes no GC
/// objects, so an `i31` (three times in four) where the type holds one, else null.
pub fn any_of(ty: RefType, r: u64) -> Val {
    let holds_i31 = matches!(ty.heap, HeapType::Any | HeapType::Eq | HeapType::I31);
    if holds_i31 && r & 3 != 0 {
        Val::AnyRef(Some(AnyVal::I31((r >> 8) as u32 & 0x7fff_ffff)))
    } else {
        Val::AnyRef(None)
    }
}
