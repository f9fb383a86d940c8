//! Memory instructions on a memory other than 0 (multi-memory) or on a 64-bit memory
//! (memory64): the instruction after an `OtherMemory { memory, source, offset_high }`
//! prefix.
//!
//! The execution loop caches memory 0 of the running instance (`Running::view`) and its
//! memory instructions use it, unprefixed, so that multi-memory costs memory 0 nothing.
//! The prefix leaves the inner loop (`Action::OtherMemory`), and the outer loop runs the
//! prefixed instruction here, the same way on a view of memory `memory`: its loads and
//! stores are the loop's macros (`ops.rs`), its bulk operations the store's, on the store
//! index of `memory` (and `source`, for `memory.copy`).
//!
//! Why through the outer loop: any call out of the inner loop that is not inlined and
//! takes its state (`Running`) by pointer keeps that state in memory rather than in
//! registers, and even one taking only the frame's slots, by value, cost every
//! instruction of memory 0 (execute/interp +1% to +6% in the icount check). Leaving the
//! loop costs only the instructions on other memories.
//!
//! Table instructions on a 64-bit table (table64) take the same prefix, its memory
//! fields unused, and run here too (`tables.rs`), so that the loop's table arms stay
//! those of 32-bit tables.
//!
//! A 64-bit memory's instructions all come here, memory 0's too: their addresses,
//! lengths and `memory.grow` operands are i64, their offsets u64 (`PrefixedView`
//! checks them in arithmetic that cannot wrap). The operand types follow each memory's
//! address type, read from the store memory (an import has its importer's declared
//! address type: import matching requires it).
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#memory-instructions>
//! (every memory instruction names its memory; 0 when the text leaves it out).

use super::call::{Ctx, Pos};
use super::frame::{Slots, Values};
use super::memory::{MemAccess, PrefixedView};
use super::ops::*;
use super::stack::ExecStack;
use super::tables;
use crate::error::{Result, TrapKind};
use crate::interp::bytecode::{FuncCode, Instr};
use crate::interp::numeric as num;
use crate::interp::simd::{self, SimdOp};
use crate::store::{StoreData, address_operand};

/// What the prefixed instruction runs on: the frame's slots and the view of its memory.
/// Named `regs` and `view` like `Running`'s, so that `ops.rs`'s macros apply.
struct OnMemory<'r> {
    regs: Slots<'r>,
    view: PrefixedView,
}

/// Runs the instruction at `pos` (the one after an `OtherMemory` prefix of the running
/// function) and returns the index of the instruction after it (and after its `Extra`,
/// if it has one).
///
/// The caller remakes memory 0's view afterwards: `memory` may be the same store memory
/// as memory 0 (one memory imported twice), which `memory.grow` may just have moved.
#[cold]
#[inline(never)]
pub(super) fn exec_at(
    store: &mut StoreData,
    st: &mut ExecStack,
    ctx: &Ctx,
    pos: &Pos,
) -> Result<usize> {
    let code = &ctx.code.funcs[pos.func as usize];
    let instrs = &code.instrs;
    let Instr::OtherMemory {
        memory,
        source,
        offset_high,
    } = instrs[pos.pc - 1]
    else {
        unreachable!("`Action::OtherMemory` after {:?}", instrs[pos.pc - 1]);
    };
    // Two instructions follow an `OtherMemory` (invariant 4): the prefixed one is not
    // the last one.
    let instr = &instrs[pos.pc];
    let (extra, next) = match instrs[pos.pc + 1] {
        Instr::Extra { a, b, .. } => ((a, b), pos.pc + 2),
        _ => ((0, 0), pos.pc + 1),
    };
    // The inner loop ran this frame in this window, so the stack holds it.
    let Some(regs) = Values::new(&mut st.values).window(pos.base, instrs) else {
        return Err(TrapKind::CallStackExhausted.into());
    };
    // SAFETY: `instr` and the `Extra` after it are instructions of `code`, verified by
    // `Code::new`, and `regs` is the window of the frame running `code`.
    unsafe {
        exec(
            instr,
            extra,
            regs,
            store,
            ctx.instance,
            [memory, source, offset_high],
            code,
        )?
    };
    Ok(next)
}

/// Runs `instr`, the instruction after an `OtherMemory { memory, source, offset_high }`, with the
/// `Extra` after it (`(0, 0)` if none), on the frame's slots `regs` of `code`.
///
/// # Safety
///
/// `instr` and `extra` are verified instructions of `code` (`Code::new`), and `regs` is
/// the window of a frame running `code`.
unsafe fn exec(
    instr: &Instr,
    extra: (u32, u32),
    mut regs: Slots<'_>,
    store: &mut StoreData,
    instance: u32,
    [memory, source, offset_high]: [u32; 3],
    code: &FuncCode,
) -> Result<()> {
    // SAFETY: this function's contract (`instr`'s slots are verified for `regs`).
    if let Some(done) = unsafe { exec_table(instr, extra, regs.reborrow(), store, instance) } {
        return done;
    }
    let memories = &store.instances[instance as usize].memories;
    let (mem, src) = (memories[memory as usize], memories[source as usize]);
    let view = PrefixedView::new(store, mem, offset_high);
    let (mem_64, src_64) = (
        store.memories[mem as usize].is_64(),
        store.memories[src as usize].is_64(),
    );
    let run = &mut OnMemory { regs, view };
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
            let delta = address_operand(get!(run, delta), mem_64);
            // -1 (failure) as an i64, or as an i32 on a 32-bit memory.
            let old = store.memory_grow(mem, delta) as u64;
            set!(run, dst, address_operand(old, mem_64));
        }
        Instr::MemoryFill { dst, value, len } => {
            let (d, v, n) = (get!(run, dst), get!(run, value), get!(run, len));
            let (d, n) = (address_operand(d, mem_64), address_operand(n, mem_64));
            store.memory_fill(mem, d, v as u8, n)?;
        }
        Instr::MemoryCopy {
            dst,
            src: from,
            len,
        } => {
            let (d, s, n) = (get!(run, dst), get!(run, from), get!(run, len));
            // The length is i64 only when both memories are 64-bit.
            let (d, s, n) = (
                address_operand(d, mem_64),
                address_operand(s, src_64),
                address_operand(n, mem_64 && src_64),
            );
            store.memory_copy(mem, src, d, s, n)?;
        }
        Instr::MemoryInit {
            dst,
            src: from,
            len,
        } => {
            let (data, _) = extra;
            let (d, s, n) = (get!(run, dst), get!(run, from), get!(run, len));
            // Only the destination is an address; the segment offset and length are i32.
            let (d, s, n) = (address_operand(d, mem_64), s as u32 as u64, n as u32 as u64);
            store.memory_init(instance, mem, data, d, s, n, true)?;
        }
        Instr::Simd { op, dst, a, b } => {
            simd_on(run, store, instance, code, op, [dst, a, b], extra)?
        }
        // `Code::new` lowers these two out of their `Simd`.
        Instr::V128Load { dst, addr, offset } => {
            let operands = [dst, addr, offset];
            simd_on(
                run,
                store,
                instance,
                code,
                SimdOp::V128Load,
                operands,
                extra,
            )?;
        }
        Instr::V128Store {
            addr,
            value,
            offset,
        } => {
            let operands = [value, addr, offset];
            simd_on(
                run,
                store,
                instance,
                code,
                SimdOp::V128Store,
                operands,
                extra,
            )?;
        }
        other => unreachable!("`OtherMemory` before {other:?}, not a memory instruction"),
    }
    Ok(())
}

/// Runs `instr` if it is a table instruction (the prefix's memory fields are then
/// unused): on a 64-bit table, whose operands the execution loop's arms would read as
/// i32 (`tables.rs`). `None` for any other instruction.
///
/// # Safety
///
/// As for [`exec`].
unsafe fn exec_table(
    instr: &Instr,
    extra: (u32, u32),
    regs: Slots<'_>,
    store: &mut StoreData,
    instance: u32,
) -> Option<Result<()>> {
    let run = &mut OnTable { regs };
    let i = instance as usize;
    let done = match *instr {
        Instr::TableGet { dst, index, table } => {
            tables::get(store, i, table, get!(run, index)).map(|v| set!(run, dst, v))
        }
        Instr::TableSet {
            index,
            value,
            table,
        } => tables::set(store, i, table, get!(run, index), get!(run, value)),
        Instr::TableSize { dst, table } => {
            set!(run, dst, tables::size(store, i, table));
            Ok(())
        }
        Instr::TableGrow { dst, init, delta } => {
            let old = tables::grow(store, i, extra.0, get!(run, delta), get!(run, init));
            set!(run, dst, old);
            Ok(())
        }
        Instr::TableFill { dst, value, len } => {
            let operands = [get!(run, dst), get!(run, value), get!(run, len)];
            tables::fill(store, i, extra.0, operands)
        }
        Instr::TableCopy { dst, src, len } => {
            let operands = [get!(run, dst), get!(run, src), get!(run, len)];
            tables::copy(store, i, [extra.0, extra.1], operands)
        }
        Instr::TableInit { dst, src, len } => {
            let operands = [get!(run, dst), get!(run, src), get!(run, len)];
            tables::init(store, i, [extra.0, extra.1], operands)
        }
        _ => return None,
    };
    Some(done.map_err(Into::into))
}

/// What a prefixed table instruction runs on: the frame's slots, named `regs` like
/// `Running`'s, so that `ops.rs`'s `get!` and `set!` apply.
struct OnTable<'r> {
    regs: Slots<'r>,
}

/// A `Simd` memory operator (`operands` and `extra` as `Code::new` verified them, in
/// `code`) on `run.view`.
fn simd_on(
    run: &mut OnMemory<'_>,
    store: &mut StoreData,
    instance: u32,
    code: &FuncCode,
    op: SimdOp,
    operands: [u32; 3],
    extra: (u32, u32),
) -> Result<()> {
    let regs = run.regs.reborrow();
    // SAFETY: `operands` and `extra` are those of a `Simd { op, .. }` (or of the
    // instruction lowered from it, the same operands) that `Code::new` verified in
    // `code`, whose window `regs` is (`exec`'s contract).
    unsafe {
        simd::exec(
            op,
            operands,
            extra,
            regs,
            run.view,
            store,
            instance as usize,
            code,
        )
    }
}
