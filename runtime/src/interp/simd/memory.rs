//! `v128` loads and stores, with the scalar ones' bounds check (`exec/memory.rs`).
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-memory-mathsf-v128-mathsf-load-xref-syntax-instructions-syntax-memarg-mathit-memarg>
//! and the sections after it.

use super::SimdOp as O;
use super::lanes::{Lane, build, get, set, splat};
use crate::error::TrapKind;
use crate::interp::exec::memory::MemAccess;

type R<T> = Result<T, TrapKind>;

/// `N` bytes read as lanes of `T`, widened to `U` by `f` (the extending loads).
fn extend<const N: usize, T: Lane, U: Lane>(bytes: [u8; N], f: impl Fn(T) -> U) -> u128 {
    let v = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as u128;
    build(|i| f(get::<T>(v, i)))
}

/// The `memarg` loads (`v128.load`, extending, splat and zero loads).
#[inline(always)]
pub(super) fn load(op: O, mem: &impl MemAccess, addr: u64, offset: u32) -> R<u128> {
    Ok(match op {
        O::V128Load => u128::from_le_bytes(mem.load::<16>(addr, offset)?),
        O::V128Load8x8S => extend(mem.load::<8>(addr, offset)?, |x: i8| x as i16),
        O::V128Load8x8U => extend(mem.load::<8>(addr, offset)?, |x: u8| x as u16),
        O::V128Load16x4S => extend(mem.load::<8>(addr, offset)?, |x: i16| x as i32),
        O::V128Load16x4U => extend(mem.load::<8>(addr, offset)?, |x: u16| x as u32),
        O::V128Load32x2S => extend(mem.load::<8>(addr, offset)?, |x: i32| x as i64),
        O::V128Load32x2U => extend(mem.load::<8>(addr, offset)?, |x: u32| x as u64),
        O::V128Load8Splat => splat(u8::from_le_bytes(mem.load::<1>(addr, offset)?)),
        O::V128Load16Splat => splat(u16::from_le_bytes(mem.load::<2>(addr, offset)?)),
        O::V128Load32Splat => splat(u32::from_le_bytes(mem.load::<4>(addr, offset)?)),
        O::V128Load64Splat => splat(u64::from_le_bytes(mem.load::<8>(addr, offset)?)),
        O::V128Load32Zero => u32::from_le_bytes(mem.load::<4>(addr, offset)?) as u128,
        O::V128Load64Zero => u64::from_le_bytes(mem.load::<8>(addr, offset)?) as u128,
        _ => unreachable!("not a v128 load: {op:?}"),
    })
}

/// `v128.loadN_lane`: `v` with lane `lane` read from memory.
pub(super) fn load_lane(
    op: O,
    mem: &impl MemAccess,
    addr: u64,
    offset: u32,
    v: u128,
    lane: usize,
) -> R<u128> {
    Ok(match op {
        O::V128Load8Lane => set(v, lane, u8::from_le_bytes(mem.load::<1>(addr, offset)?)),
        O::V128Load16Lane => set(v, lane, u16::from_le_bytes(mem.load::<2>(addr, offset)?)),
        O::V128Load32Lane => set(v, lane, u32::from_le_bytes(mem.load::<4>(addr, offset)?)),
        O::V128Load64Lane => set(v, lane, u64::from_le_bytes(mem.load::<8>(addr, offset)?)),
        _ => unreachable!("not a v128 lane load: {op:?}"),
    })
}

#[inline(always)]
pub(super) fn store(mem: &impl MemAccess, addr: u64, offset: u32, v: u128) -> R<()> {
    mem.store(addr, offset, v.to_le_bytes())
}

/// `v128.storeN_lane`: lane `lane` of `v` written to memory.
pub(super) fn store_lane(
    op: O,
    mem: &impl MemAccess,
    addr: u64,
    offset: u32,
    v: u128,
    lane: usize,
) -> R<()> {
    match op {
        O::V128Store8Lane => mem.store(addr, offset, get::<u8>(v, lane).to_le_bytes()),
        O::V128Store16Lane => mem.store(addr, offset, get::<u16>(v, lane).to_le_bytes()),
        O::V128Store32Lane => mem.store(addr, offset, get::<u32>(v, lane).to_le_bytes()),
        O::V128Store64Lane => mem.store(addr, offset, get::<u64>(v, lane).to_le_bytes()),
        _ => unreachable!("not a v128 lane store: {op:?}"),
    }
}
