//! Memory instructions on a memory other than 0 (multi-memory): the instruction after an
//! `OtherMemory { memory, source }` prefix, run out of line.
//!
//! The execution loop caches memory 0 of the running instance (`Running::view`) and its
//! memory instructions use it, unprefixed, so that multi-memory costs memory 0 nothing.
//! Here the prefixed instruction runs the same way on a view of memory `memory`: its
//! loads and stores are the loop's macros (`ops.rs`) on that view, its bulk operations
//! the store's, on the store index of `memory` (and `source`, for `memory.copy`).
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#memory-instructions>
//! (every memory instruction names its memory; 0 when the text leaves it out).

use super::Running;
use super::call::Ctx;
use super::memory::MemView;
use super::ops::*;
use crate::error::Result;
use crate::interp::bytecode::Instr;
use crate::interp::numeric as num;
use crate::interp::simd::{self, SimdOp};
use crate::store::StoreData;

/// Runs the instruction after the `OtherMemory { memory, source }` just fetched (and
/// steps over it and its `Extra`, if it has one).
///
/// Memory 0's view is remade afterwards: `memory` may be the same store memory as memory
/// 0 (a memory imported twice), which `memory.grow` may just have moved.
#[cold]
#[inline(never)]
pub(super) fn exec(
    run: &mut Running<'_>,
    store: &mut StoreData,
    ctx: &Ctx,
    memory: u32,
    source: u32,
) -> Result<()> {
    let memories = &store.instances[ctx.instance as usize].memories;
    let (mem, src_mem) = (memories[memory as usize], memories[source as usize]);
    run.view = MemView::new(store, mem);
    let result = exec_on_view(run, store, ctx.instance, mem, src_mem);
    run.view = MemView::new(store, ctx.mem);
    result
}

/// The prefixed instruction, `run.view` being the view of store memory `mem` (`src` the
/// source of `memory.copy`).
fn exec_on_view(
    run: &mut Running<'_>,
    store: &mut StoreData,
    instance: u32,
    mem: u32,
    src: u32,
) -> Result<()> {
    // SAFETY: two instructions follow an `OtherMemory` (its `skips_next` rule,
    // invariant 4), so the prefixed one is inside the code, and not its last one.
    let instr = unsafe { run.ip.next() };
    match *instr {
        Instr::I32Load { dst, addr, offset }
        | Instr::F32Load { dst, addr, offset }
        | Instr::I64Load32U { dst, addr, offset } => {
            load!(run, dst, addr, offset, 4, |b| u32::from_le_bytes(b) as u64)
        }
        Instr::I64Load { dst, addr, offset } | Instr::F64Load { dst, addr, offset } => {
            load!(run, dst, addr, offset, 8, u64::from_le_bytes)
        }
        Instr::I32Load8S { dst, addr, offset } => {
            load!(run, dst, addr, offset, 1, |b| num::from_i32(
                i8::from_le_bytes(b) as i32
            ))
        }
        Instr::I32Load8U { dst, addr, offset } | Instr::I64Load8U { dst, addr, offset } => {
            load!(run, dst, addr, offset, 1, |b| u8::from_le_bytes(b) as u64)
        }
        Instr::I32Load16S { dst, addr, offset } => {
            load!(run, dst, addr, offset, 2, |b| num::from_i32(
                i16::from_le_bytes(b) as i32
            ))
        }
        Instr::I32Load16U { dst, addr, offset } | Instr::I64Load16U { dst, addr, offset } => {
            load!(run, dst, addr, offset, 2, |b| u16::from_le_bytes(b) as u64)
        }
        Instr::I64Load8S { dst, addr, offset } => {
            load!(run, dst, addr, offset, 1, |b| i8::from_le_bytes(b) as i64
                as u64)
        }
        Instr::I64Load16S { dst, addr, offset } => {
            load!(run, dst, addr, offset, 2, |b| i16::from_le_bytes(b) as i64
                as u64)
        }
        Instr::I64Load32S { dst, addr, offset } => {
            load!(run, dst, addr, offset, 4, |b| i32::from_le_bytes(b) as i64
                as u64)
        }
        Instr::I32Store {
            addr,
            value,
            offset,
        }
        | Instr::F32Store {
            addr,
            value,
            offset,
        }
        | Instr::I64Store32 {
            addr,
            value,
            offset,
        } => {
            store_value!(run, addr, value, offset, |v: u64| (v as u32).to_le_bytes())
        }
        Instr::I64Store {
            addr,
            value,
            offset,
        }
        | Instr::F64Store {
            addr,
            value,
            offset,
        } => {
            store_value!(run, addr, value, offset, |v: u64| v.to_le_bytes())
        }
        Instr::I32Store8 {
            addr,
            value,
            offset,
        }
        | Instr::I64Store8 {
            addr,
            value,
            offset,
        } => {
            store_value!(run, addr, value, offset, |v: u64| (v as u8).to_le_bytes())
        }
        Instr::I32Store16 {
            addr,
            value,
            offset,
        }
        | Instr::I64Store16 {
            addr,
            value,
            offset,
        } => {
            store_value!(run, addr, value, offset, |v: u64| (v as u16).to_le_bytes())
        }
        Instr::MemorySize { dst } => set!(run, dst, store.memories[mem as usize].pages()),
        Instr::MemoryGrow { dst, delta } => {
            let old = store.memory_grow(mem, get!(run, delta) as u32);
            set!(run, dst, old as u32 as u64);
        }
        Instr::MemoryFill { dst, value, len } => {
            let (d, v, n) = (get!(run, dst), get!(run, value), get!(run, len));
            store.memory_fill(mem, d as u32, v as u8, n as u32)?;
        }
        Instr::MemoryCopy {
            dst,
            src: from,
            len,
        } => {
            let (d, s, n) = (get!(run, dst), get!(run, from), get!(run, len));
            store.memory_copy(mem, src, d as u32, s as u32, n as u32)?;
        }
        Instr::MemoryInit {
            dst,
            src: from,
            len,
        } => {
            let (data, _) = extra!(run);
            let (d, s, n) = (get!(run, dst), get!(run, from), get!(run, len));
            store.memory_init(instance, mem, data, d as u32, s as u32, n as u32)?;
        }
        Instr::Simd { op, dst, a, b } => {
            // SAFETY: the prefixed instruction is not the last one (see above).
            let extra = unsafe { run.ip.take_extra() };
            simd_on_view(run, store, instance, op, [dst, a, b], extra)?;
        }
        // `Code::new` lowers these two out of their `Simd`.
        Instr::V128Load { dst, addr, offset } => {
            simd_on_view(
                run,
                store,
                instance,
                SimdOp::V128Load,
                [dst, addr, offset],
                (0, 0),
            )?;
        }
        Instr::V128Store {
            addr,
            value,
            offset,
        } => {
            let operands = [value, addr, offset];
            simd_on_view(run, store, instance, SimdOp::V128Store, operands, (0, 0))?;
        }
        other => unreachable!("`OtherMemory` before {other:?}, not a memory instruction"),
    }
    Ok(())
}

/// A `Simd` memory operator (`operands` and `extra` as it was verified) on `run.view`.
fn simd_on_view(
    run: &mut Running<'_>,
    store: &mut StoreData,
    instance: u32,
    op: SimdOp,
    operands: [u32; 3],
    extra: (u32, u32),
) -> Result<()> {
    let regs = run.regs.reborrow();
    // SAFETY: `operands` and `extra` are those of a `Simd { op, .. }` (or of the
    // instruction lowered from it, the same operands) that `Code::new` verified in
    // `run.code`, whose window `regs` is.
    unsafe {
        simd::exec(
            op,
            operands,
            extra,
            regs,
            run.view,
            store,
            instance as usize,
            run.code,
        )
    }
}
