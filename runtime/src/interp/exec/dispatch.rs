//! The inner loop: fetch an instruction, run its arm, until a call or return needs the
//! outer loop (`mod.rs`).
//!
//! The arms are written with the operand macros of `ops.rs` (and `frame.rs`), whose
//! unchecked slot and branch accesses rely on `Code::new`'s checks; the arms of the
//! lowered SIMD instructions are made from the instruction table.

use super::call::{self, Ctx};
use super::memory::MemView;
use super::ops::*;
use super::{Action, Frames, Running};
use crate::error::{Result, TrapKind};
use crate::interp::bytecode::{Instr, for_each_instr};
use crate::interp::numeric::{self as num, div, trunc};
use crate::interp::simd::{self, SimdOp};
use crate::store::{FuncKind, StoreData};

/// `match *$instr` with the arms given, then one arm for each lowered SIMD instruction
/// of the table: the same code as `simd::exec` runs for the `Simd` it stands for
/// (`simd::exec_hot`, whose match folds to that one operator's arm here).
macro_rules! match_with_lowered_simd {
    (
        $instr:ident, $run:ident, { $($arms:tt)* }
        others: { $($others:tt)* },
        lowered: {
            $($(#[$doc:meta])* $lname:ident { $($lfield:ident: $lkind:ident),* }
                = $op:ident [$($simd:tt),*];)*
        },
        $($numeric:tt)*
    ) => {
        match *$instr {
            $($arms)*
            $(Instr::$lname { $($lfield),* } => {
                let operands = [$($simd),*];
                let (regs, view, code) = ($run.regs.reborrow(), &$run.view, $run.code);
                // SAFETY: `Code::new` verified the `Simd` this instruction was lowered
                // from (the same operands) in `code`, whose window `regs` is.
                let inlined = unsafe {
                    simd::exec_hot(SimdOp::$op, operands, (0, 0), regs, view, code)?
                };
                debug_assert!(inlined, "{:?} not inlined by `simd::exec_hot`", SimdOp::$op);
            })*
        }
    };
}

/// Runs instructions of the instance `ctx` from `run` on, switching frames for calls and
/// returns within the instance, until the outer loop must act.
#[inline(always)]
pub(super) fn run_frames<'a>(
    run: &mut Running<'a>,
    frames: &mut Frames<'a>,
    store: &mut StoreData,
    ctx: &Ctx,
) -> Result<Action> {
    let mem = ctx.mem as usize;
    let instance = ctx.instance as usize;
    loop {
        // SAFETY: `run.ip` starts at a checked index, jumps only to verified targets, and
        // this loop acts on every instruction as it says: none falls through the last
        // one (invariants 2 and 3).
        let instr = unsafe { run.ip.next() };
        #[cfg(feature = "op-coverage")]
        // SAFETY: `instr` is about to run with `run.regs`, in verified code.
        unsafe {
            super::coverage::observe(instr, &run.regs)
        };
        for_each_instr!(match_with_lowered_simd(instr, run, {
            // --- Control ---
            Instr::Unreachable => return Err(TrapKind::Unreachable.into()),
            Instr::CheckInterrupt => check_interrupt!(store),
            Instr::ConsumeFuel { amount } => store.consume_fuel(amount as u64)?,
            Instr::BrFuel { amount, target } => {
                store.consume_fuel(amount as u64)?;
                jump!(run, target);
            }
            Instr::BrCheck { target } => {
                check_interrupt!(store);
                jump!(run, target);
            }
            Instr::I32AddImmBrLtUFuel { amount, step, dst, rhs, target } => {
                count_and_branch!(run, step, dst, rhs, target, u32, <, store.consume_fuel(amount as u64)?)
            }
            Instr::I32AddImmBrLtSFuel { amount, step, dst, rhs, target } => {
                count_and_branch!(run, step, dst, rhs, target, i32, <, store.consume_fuel(amount as u64)?)
            }
            Instr::I32AddImmBrNeFuel { amount, step, dst, rhs, target } => {
                count_and_branch!(run, step, dst, rhs, target, u32, !=, store.consume_fuel(amount as u64)?)
            }
            Instr::I32AddImmBrLtUCheck { step, dst, rhs, target } => {
                count_and_branch!(run, step, dst, rhs, target, u32, <, check_interrupt!(store))
            }
            Instr::I32AddImmBrLtSCheck { step, dst, rhs, target } => {
                count_and_branch!(run, step, dst, rhs, target, i32, <, check_interrupt!(store))
            }
            Instr::I32AddImmBrNeCheck { step, dst, rhs, target } => {
                count_and_branch!(run, step, dst, rhs, target, u32, !=, check_interrupt!(store))
            }
            Instr::Extra { .. } => {}
            Instr::Br { target } => jump!(run, target),
            Instr::BrIfNez { cond, target } => {
                if get!(run, cond) as u32 != 0 {
                    jump!(run, target);
                }
            }
            Instr::BrIfEqz { cond, target } => {
                if get!(run, cond) as u32 == 0 {
                    jump!(run, target);
                }
            }
            Instr::BrTable { index, len } => {
                let entry = (get!(run, index) as u32).min(len);
                // SAFETY: the table's `len + 1` entries follow it (invariant 4).
                unsafe { run.ip.skip(entry) }
                // An entry is a `Br` unless it became a return: taken here, it costs no
                // second dispatch. (`BrTable` is not an `ends` instruction.)
                then_if!(run, Instr::Br { target } => jump!(run, target));
            }
            Instr::BrI32Eq { lhs, rhs, target } => br_i32!(run, lhs, rhs, target, u32, ==),
            Instr::BrI32Ne { lhs, rhs, target } => br_i32!(run, lhs, rhs, target, u32, !=),
            Instr::BrI32LtS { lhs, rhs, target } => br_i32!(run, lhs, rhs, target, i32, <),
            Instr::BrI32LtU { lhs, rhs, target } => br_i32!(run, lhs, rhs, target, u32, <),
            Instr::BrI32GtS { lhs, rhs, target } => br_i32!(run, lhs, rhs, target, i32, >),
            Instr::BrI32GtU { lhs, rhs, target } => br_i32!(run, lhs, rhs, target, u32, >),
            Instr::BrI32LeS { lhs, rhs, target } => br_i32!(run, lhs, rhs, target, i32, <=),
            Instr::BrI32LeU { lhs, rhs, target } => br_i32!(run, lhs, rhs, target, u32, <=),
            Instr::BrI32GeS { lhs, rhs, target } => br_i32!(run, lhs, rhs, target, i32, >=),
            Instr::BrI32GeU { lhs, rhs, target } => br_i32!(run, lhs, rhs, target, u32, >=),
            Instr::BrI64Eq { lhs, rhs, target } => br_i64!(run, lhs, rhs, target, u64, ==),
            Instr::BrI64Ne { lhs, rhs, target } => br_i64!(run, lhs, rhs, target, u64, !=),
            Instr::BrI64LtS { lhs, rhs, target } => br_i64!(run, lhs, rhs, target, i64, <),
            Instr::BrI64LtU { lhs, rhs, target } => br_i64!(run, lhs, rhs, target, u64, <),
            Instr::BrI64GtS { lhs, rhs, target } => br_i64!(run, lhs, rhs, target, i64, >),
            Instr::BrI64GtU { lhs, rhs, target } => br_i64!(run, lhs, rhs, target, u64, >),
            Instr::BrI64LeS { lhs, rhs, target } => br_i64!(run, lhs, rhs, target, i64, <=),
            Instr::BrI64LeU { lhs, rhs, target } => br_i64!(run, lhs, rhs, target, u64, <=),
            Instr::BrI64GeS { lhs, rhs, target } => br_i64!(run, lhs, rhs, target, i64, >=),
            Instr::BrI64GeU { lhs, rhs, target } => br_i64!(run, lhs, rhs, target, u64, >=),
            Instr::I32AddImmBrLtU { step, dst, rhs, target } => {
                count_and_branch!(run, step, dst, rhs, target, u32, <)
            }
            Instr::I32AddImmBrLtS { step, dst, rhs, target } => {
                count_and_branch!(run, step, dst, rhs, target, i32, <)
            }
            Instr::I32AddImmBrNe { step, dst, rhs, target } => {
                count_and_branch!(run, step, dst, rhs, target, u32, !=)
            }
            Instr::Return => {
                if !run.ret(frames) {
                    return Ok(Action::Return);
                }
            }
            Instr::ReturnSlot { src } => {
                set!(run, 0, get!(run, src));
                if !run.ret(frames) {
                    return Ok(Action::Return);
                }
            }
            Instr::Copy { dst, src } => set!(run, dst, get!(run, src)),
            // Fused pairs: the `I32Add`, then its follower if it is still there.
            Instr::I32AddThenI32Add { dst, lhs, rhs } => {
                i32_binary!(run, dst, lhs, rhs, u32::wrapping_add);
                then_if!(run, Instr::I32Add { dst, lhs, rhs } => {
                    i32_binary!(run, dst, lhs, rhs, u32::wrapping_add)
                });
            }
            Instr::I32AddThenCopy { dst, lhs, rhs } => {
                i32_binary!(run, dst, lhs, rhs, u32::wrapping_add);
                then_if!(run, Instr::Copy { dst, src } => set!(run, dst, get!(run, src)));
            }
            Instr::I32AddThenBr { dst, lhs, rhs } => {
                i32_binary!(run, dst, lhs, rhs, u32::wrapping_add);
                then_if!(run, Instr::Br { target } => jump!(run, target));
            }
            Instr::I32AddThenI32Load { dst, lhs, rhs } => {
                i32_binary!(run, dst, lhs, rhs, u32::wrapping_add);
                then_if!(run, Instr::I32Load { dst, addr, offset } => {
                    load!(run, dst, addr, offset, 4, |b| u32::from_le_bytes(b) as u64)
                });
            }
            Instr::I32AddThenI32Load8U { dst, lhs, rhs } => {
                i32_binary!(run, dst, lhs, rhs, u32::wrapping_add);
                then_if!(run, Instr::I32Load8U { dst, addr, offset } => {
                    load!(run, dst, addr, offset, 1, |b: [u8; 1]| b[0] as u64)
                });
            }
            Instr::CopyThenCopy { dst, src } => {
                set!(run, dst, get!(run, src));
                then_if!(run, Instr::Copy { dst, src } => set!(run, dst, get!(run, src)));
            }
            Instr::I32RotlThenI32Xor { dst, lhs, rhs } => {
                i32_binary!(run, dst, lhs, rhs, |a: u32, b: u32| a.rotate_left(b % 32));
                then_if!(run, Instr::I32Xor { dst, lhs, rhs } => {
                    i32_binary!(run, dst, lhs, rhs, |a, b| a ^ b)
                });
            }
            Instr::I32AddThenF64Load { dst, lhs, rhs } => {
                i32_binary!(run, dst, lhs, rhs, u32::wrapping_add);
                then_if!(run, Instr::F64Load { dst, addr, offset } => {
                    load!(run, dst, addr, offset, 8, u64::from_le_bytes)
                });
            }
            Instr::Const { dst, value } => set!(run, dst, value),
            Instr::Call { func, base } => {
                if !run.call(frames, func, base) {
                    return Ok(Action::Call { func, base });
                }
            }
            Instr::CallImport { func, base } => return Ok(Action::CallImport { func, base }),
            Instr::CallIndirect { type_index, index, base } => {
                let (table, _) = extra!(run);
                let index = get!(run, index) as u32;
                let sf = call::resolve_indirect(store, ctx, type_index, table, index)?;
                match store.funcs[sf as usize].kind {
                    FuncKind::Wasm { instance, index } if instance == ctx.instance => {
                        let func = index - ctx.code.num_imported_funcs;
                        if !run.call(frames, func, base) {
                            return Ok(Action::CallStore { sf, base });
                        }
                    }
                    _ => return Ok(Action::CallStore { sf, base }),
                }
            }
            Instr::Select { dst, lhs, rhs } => {
                let (cond, _) = extra!(run);
                set!(
                    run,
                    dst,
                    if get!(run, cond) as u32 != 0 {
                        get!(run, lhs)
                    } else {
                        get!(run, rhs)
                    }
                );
            }

            Instr::Simd { op, dst, a, b } => {
                // SAFETY: the `Simd` just fetched is not the last instruction, which
                // is a branch, a return or `unreachable` (invariant 3).
                let extra = unsafe { run.ip.take_extra() };
                let regs = run.regs.reborrow();
                // SAFETY: `Code::new` verified the operands of this `Simd` as `op`
                // uses them, in the code `regs` is the window of.
                unsafe {
                    simd::exec(op, [dst, a, b], extra, regs, run.view, store, instance, run.code)?
                };
            }
            Instr::ReturnCall { func, base } => {
                if !run.tail_call(frames, func, base) {
                    return Ok(Action::TailCall { func, base });
                }
            }
            Instr::ReturnCallImport { func, base } => {
                return Ok(Action::TailCallImport { func, base });
            }
            Instr::ReturnCallIndirect { type_index, index, base } => {
                let (table, _) = extra!(run);
                let index = get!(run, index) as u32;
                let sf = call::resolve_indirect(store, ctx, type_index, table, index)?;
                match store.funcs[sf as usize].kind {
                    FuncKind::Wasm { instance, index } if instance == ctx.instance => {
                        let func = index - ctx.code.num_imported_funcs;
                        if !run.tail_call(frames, func, base) {
                            return Ok(Action::TailCallStore { sf, base });
                        }
                    }
                    _ => return Ok(Action::TailCallStore { sf, base }),
                }
            }
            Instr::CallRef { func, base } => {
                let sf = call::func_of_ref(get!(run, func))?;
                match store.funcs[sf as usize].kind {
                    FuncKind::Wasm { instance, index } if instance == ctx.instance => {
                        let func = index - ctx.code.num_imported_funcs;
                        if !run.call(frames, func, base) {
                            return Ok(Action::CallStore { sf, base });
                        }
                    }
                    _ => return Ok(Action::CallStore { sf, base }),
                }
            }
            Instr::ReturnCallRef { func, base } => {
                let sf = call::func_of_ref(get!(run, func))?;
                match store.funcs[sf as usize].kind {
                    FuncKind::Wasm { instance, index } if instance == ctx.instance => {
                        let func = index - ctx.code.num_imported_funcs;
                        if !run.tail_call(frames, func, base) {
                            return Ok(Action::TailCallStore { sf, base });
                        }
                    }
                    _ => return Ok(Action::TailCallStore { sf, base }),
                }
            }
            Instr::RefAsNonNull { src } => {
                if get!(run, src) == 0 {
                    return Err(TrapKind::NullReference.into());
                }
            }
            // Out of the inner loop: see `gc.rs`.
            Instr::Gc { .. } => return Ok(Action::Gc),
            Instr::BrIfNull { cond, target } => {
                if get!(run, cond) == 0 {
                    jump!(run, target);
                }
            }
            Instr::BrIfNonNull { cond, target } => {
                if get!(run, cond) != 0 {
                    jump!(run, target);
                }
            }
            Instr::Throw { tag, base } => return Ok(Action::Throw { tag, base }),
            Instr::ThrowRef { src } => {
                let exn = get!(run, src);
                if exn == 0 {
                    return Err(TrapKind::NullExceptionReference.into());
                }
                return Ok(Action::ThrowRef { exn: exn as u32 - 1 });
            }
            // (The lowered `Simd` instructions' arms come from the instruction table.)

            // --- Variables ---
            Instr::GlobalGet { dst, global } => {
                let g = store.instances[instance].globals[global as usize];
                set!(run, dst, store.globals[g as usize].value as u64);
            }
            Instr::GlobalSet { global, src } => {
                let g = store.instances[instance].globals[global as usize];
                store.globals[g as usize].value = get!(run, src) as u128;
            }

            // --- Memory ---
            Instr::I32LoadShl { shift, dst, idx, offset } => {
                load_shl!(run, dst, idx, shift, offset, 4, |b| u32::from_le_bytes(b) as u64)
            }
            Instr::I64LoadShl { shift, dst, idx, offset } => {
                load_shl!(run, dst, idx, shift, offset, 8, u64::from_le_bytes)
            }
            Instr::F32LoadShl { shift, dst, idx, offset } => {
                load_shl!(run, dst, idx, shift, offset, 4, |b| u32::from_le_bytes(b) as u64)
            }
            Instr::F64LoadShl { shift, dst, idx, offset } => {
                load_shl!(run, dst, idx, shift, offset, 8, u64::from_le_bytes)
            }
            Instr::I32Load { dst, addr, offset } => {
                load!(run, dst, addr, offset, 4, |b| u32::from_le_bytes(b) as u64)
            }
            Instr::I64Load { dst, addr, offset } => {
                load!(run, dst, addr, offset, 8, u64::from_le_bytes)
            }
            Instr::F32Load { dst, addr, offset } => {
                load!(run, dst, addr, offset, 4, |b| u32::from_le_bytes(b) as u64)
            }
            Instr::F64Load { dst, addr, offset } => {
                load!(run, dst, addr, offset, 8, u64::from_le_bytes)
            }
            Instr::I32Load8S { dst, addr, offset } => {
                load!(run, dst, addr, offset, 1, |b| num::from_i32(
                    i8::from_le_bytes(b) as i32
                ))
            }
            Instr::I32Load8U { dst, addr, offset } => {
                load!(run, dst, addr, offset, 1, |b| u8::from_le_bytes(b) as u64)
            }
            Instr::I32Load16S { dst, addr, offset } => {
                load!(run, dst, addr, offset, 2, |b| num::from_i32(
                    i16::from_le_bytes(b) as i32
                ))
            }
            Instr::I32Load16U { dst, addr, offset } => {
                load!(run, dst, addr, offset, 2, |b| u16::from_le_bytes(b) as u64)
            }
            Instr::I64Load8S { dst, addr, offset } => {
                load!(run, dst, addr, offset, 1, |b| i8::from_le_bytes(b) as i64 as u64)
            }
            Instr::I64Load8U { dst, addr, offset } => {
                load!(run, dst, addr, offset, 1, |b| u8::from_le_bytes(b) as u64)
            }
            Instr::I64Load16S { dst, addr, offset } => {
                load!(run, dst, addr, offset, 2, |b| i16::from_le_bytes(b) as i64
                    as u64)
            }
            Instr::I64Load16U { dst, addr, offset } => {
                load!(run, dst, addr, offset, 2, |b| u16::from_le_bytes(b) as u64)
            }
            Instr::I64Load32S { dst, addr, offset } => {
                load!(run, dst, addr, offset, 4, |b| i32::from_le_bytes(b) as i64
                    as u64)
            }
            Instr::I64Load32U { dst, addr, offset } => {
                load!(run, dst, addr, offset, 4, |b| u32::from_le_bytes(b) as u64)
            }
            Instr::I32Store { addr, value, offset } => {
                store_value!(run, addr, value, offset, |v: u64| (v as u32).to_le_bytes())
            }
            Instr::I64Store { addr, value, offset } => {
                store_value!(run, addr, value, offset, |v: u64| v.to_le_bytes())
            }
            Instr::F32Store { addr, value, offset } => {
                store_value!(run, addr, value, offset, |v: u64| (v as u32).to_le_bytes())
            }
            Instr::F64Store { addr, value, offset } => {
                store_value!(run, addr, value, offset, |v: u64| v.to_le_bytes())
            }
            Instr::I32Store8 { addr, value, offset }
            | Instr::I64Store8 { addr, value, offset } => {
                store_value!(run, addr, value, offset, |v: u64| (v as u8).to_le_bytes())
            }
            Instr::I32Store16 { addr, value, offset }
            | Instr::I64Store16 { addr, value, offset } => {
                store_value!(run, addr, value, offset, |v: u64| (v as u16).to_le_bytes())
            }
            Instr::I64Store32 { addr, value, offset } => {
                store_value!(run, addr, value, offset, |v: u64| (v as u32).to_le_bytes())
            }
            Instr::MemorySize { dst } => set!(run, dst, store.memories[mem].pages()),
            // Memory 0 here has i32 addresses: a 64-bit memory's instructions are
            // prefixed (`OtherMemory`) and run in `other_memory.rs`.
            Instr::MemoryGrow { dst, delta } => {
                set!(
                    run,
                    dst,
                    store.memory_grow(mem as u32, get!(run, delta) as u32 as u64) as u32 as u64
                );
                run.view = MemView::new(store, ctx.mem);
            }
            Instr::MemoryFill { dst, value, len } => {
                store.memory_fill(
                    mem as u32,
                    get!(run, dst) as u32 as u64,
                    get!(run, value) as u8,
                    get!(run, len) as u32 as u64,
                )?;
            }
            Instr::MemoryCopy { dst, src, len } => {
                let (d, s, n) = (
                    get!(run, dst) as u32 as u64,
                    get!(run, src) as u32 as u64,
                    get!(run, len) as u32 as u64,
                );
                store.memory_copy(mem as u32, mem as u32, d, s, n)?;
            }
            Instr::MemoryInit { dst, src, len } => {
                let (data, _) = extra!(run);
                let (d, s, n) = (
                    get!(run, dst) as u32 as u64,
                    get!(run, src) as u32 as u64,
                    get!(run, len) as u32 as u64,
                );
                store.memory_init(instance as u32, mem as u32, data, d, s, n, true)?;
            }
            Instr::SegmentDrop { elem, index } => match elem {
                true => store.elem_drop(instance as u32, index),
                false => store.data_drop(instance as u32, index),
            },
            // Out of the inner loop: see `other_memory.rs`.
            Instr::OtherMemory { .. } => return Ok(Action::OtherMemory),

            // --- Tables and references ---
            // Tables here are 32-bit: a 64-bit table's instructions are prefixed
            // (`OtherMemory`) and run in `tables.rs`; `call_indirect` through one gets an
            // index the translator narrowed (`translate/ops.rs`, `narrow_table_index`).
            // (An index-type check in these arms cost every instruction of the loop
            // 1-9%, by how it changed the loop's code, even out of line.)
            Instr::TableGet { dst, index, table } => {
                let t = store.instances[instance].tables[table as usize];
                set!(run, dst, store.table_get(t, get!(run, index) as u32 as u64)?);
            }
            Instr::TableSet { index, value, table } => {
                let t = store.instances[instance].tables[table as usize];
                store.table_set(t, get!(run, index) as u32 as u64, get!(run, value))?;
            }
            Instr::TableSize { dst, table } => {
                let t = store.instances[instance].tables[table as usize];
                set!(run, dst, store.tables[t as usize].size());
            }
            Instr::TableGrow { dst, init, delta } => {
                let (table, _) = extra!(run);
                let t = store.instances[instance].tables[table as usize];
                set!(
                    run,
                    dst,
                    store.table_grow(t, get!(run, delta) as u32 as u64, get!(run, init)) as u32 as u64
                );
            }
            Instr::TableFill { dst, value, len } => {
                let (table, _) = extra!(run);
                let t = store.instances[instance].tables[table as usize];
                let (d, v, n) = (get!(run, dst) as u32 as u64, get!(run, value), get!(run, len) as u32 as u64);
                store.table_fill(t, d, v, n)?;
            }
            Instr::TableCopy { dst, src, len } => {
                let (dt, stab) = extra!(run);
                let inst = &store.instances[instance];
                let (dt, stab) = (inst.tables[dt as usize], inst.tables[stab as usize]);
                let (d, s, n) = (
                    get!(run, dst) as u32 as u64,
                    get!(run, src) as u32 as u64,
                    get!(run, len) as u32 as u64,
                );
                store.table_copy(dt, stab, d, s, n)?;
            }
            Instr::TableInit { dst, src, len } => {
                let (table, elem) = extra!(run);
                let t = store.instances[instance].tables[table as usize];
                let (d, s, n) = (
                    get!(run, dst) as u32 as u64,
                    get!(run, src) as u32 as u64,
                    get!(run, len) as u32 as u64,
                );
                store.table_init(instance as u32, t, elem, d, s, n, true)?;
            }
            Instr::RefFunc { dst, func } => {
                set!(
                    run,
                    dst,
                    store.instances[instance].funcs[func as usize] as u64 + 1
                );
            }

            // --- Numeric: i32 ---
            Instr::I32Eqz { dst, src } => unary!(run, dst, src, |a: u64| (a as u32 == 0) as u64),
            Instr::I32Eq { dst, lhs, rhs } => i32_cmp!(run, dst, lhs, rhs, u32, ==),
            Instr::I32Ne { dst, lhs, rhs } => i32_cmp!(run, dst, lhs, rhs, u32, !=),
            Instr::I32LtS { dst, lhs, rhs } => i32_cmp!(run, dst, lhs, rhs, i32, <),
            Instr::I32LtU { dst, lhs, rhs } => i32_cmp!(run, dst, lhs, rhs, u32, <),
            Instr::I32GtS { dst, lhs, rhs } => i32_cmp!(run, dst, lhs, rhs, i32, >),
            Instr::I32GtU { dst, lhs, rhs } => i32_cmp!(run, dst, lhs, rhs, u32, >),
            Instr::I32LeS { dst, lhs, rhs } => i32_cmp!(run, dst, lhs, rhs, i32, <=),
            Instr::I32LeU { dst, lhs, rhs } => i32_cmp!(run, dst, lhs, rhs, u32, <=),
            Instr::I32GeS { dst, lhs, rhs } => i32_cmp!(run, dst, lhs, rhs, i32, >=),
            Instr::I32GeU { dst, lhs, rhs } => i32_cmp!(run, dst, lhs, rhs, u32, >=),
            Instr::I32Clz { dst, src } => {
                unary!(run, dst, src, |a: u64| (a as u32).leading_zeros() as u64)
            }
            Instr::I32Ctz { dst, src } => {
                unary!(run, dst, src, |a: u64| (a as u32).trailing_zeros() as u64)
            }
            Instr::I32Popcnt { dst, src } => {
                unary!(run, dst, src, |a: u64| (a as u32).count_ones() as u64)
            }
            Instr::I32Add { dst, lhs, rhs } => i32_binary!(run, dst, lhs, rhs, u32::wrapping_add),
            Instr::I32Sub { dst, lhs, rhs } => i32_binary!(run, dst, lhs, rhs, u32::wrapping_sub),
            Instr::I32Mul { dst, lhs, rhs } => i32_binary!(run, dst, lhs, rhs, u32::wrapping_mul),
            Instr::I32DivS { dst, lhs, rhs } => binary_trap!(run, dst, lhs, rhs, div::i32_div_s),
            Instr::I32DivU { dst, lhs, rhs } => binary_trap!(run, dst, lhs, rhs, div::i32_div_u),
            Instr::I32RemS { dst, lhs, rhs } => binary_trap!(run, dst, lhs, rhs, div::i32_rem_s),
            Instr::I32RemU { dst, lhs, rhs } => binary_trap!(run, dst, lhs, rhs, div::i32_rem_u),
            Instr::I32And { dst, lhs, rhs } => i32_binary!(run, dst, lhs, rhs, |a, b| a & b),
            Instr::I32Or { dst, lhs, rhs } => i32_binary!(run, dst, lhs, rhs, |a, b| a | b),
            Instr::I32Xor { dst, lhs, rhs } => i32_binary!(run, dst, lhs, rhs, |a, b| a ^ b),
            Instr::I32Shl { dst, lhs, rhs } => i32_binary!(run, dst, lhs, rhs, u32::wrapping_shl),
            Instr::I32ShrS { dst, lhs, rhs } => {
                i32_binary!(run, dst, lhs, rhs, |a: u32, b: u32| (a as i32).wrapping_shr(b)
                    as u32)
            }
            Instr::I32ShrU { dst, lhs, rhs } => i32_binary!(run, dst, lhs, rhs, u32::wrapping_shr),
            Instr::I32Rotl { dst, lhs, rhs } => {
                i32_binary!(run, dst, lhs, rhs, |a: u32, b: u32| a.rotate_left(b % 32))
            }
            Instr::I32Rotr { dst, lhs, rhs } => {
                i32_binary!(run, dst, lhs, rhs, |a: u32, b: u32| a.rotate_right(b % 32))
            }

            // --- Numeric: i64 ---
            Instr::I64Eqz { dst, src } => unary!(run, dst, src, |a: u64| (a == 0) as u64),
            Instr::I64Eq { dst, lhs, rhs } => i64_cmp!(run, dst, lhs, rhs, u64, ==),
            Instr::I64Ne { dst, lhs, rhs } => i64_cmp!(run, dst, lhs, rhs, u64, !=),
            Instr::I64LtS { dst, lhs, rhs } => i64_cmp!(run, dst, lhs, rhs, i64, <),
            Instr::I64LtU { dst, lhs, rhs } => i64_cmp!(run, dst, lhs, rhs, u64, <),
            Instr::I64GtS { dst, lhs, rhs } => i64_cmp!(run, dst, lhs, rhs, i64, >),
            Instr::I64GtU { dst, lhs, rhs } => i64_cmp!(run, dst, lhs, rhs, u64, >),
            Instr::I64LeS { dst, lhs, rhs } => i64_cmp!(run, dst, lhs, rhs, i64, <=),
            Instr::I64LeU { dst, lhs, rhs } => i64_cmp!(run, dst, lhs, rhs, u64, <=),
            Instr::I64GeS { dst, lhs, rhs } => i64_cmp!(run, dst, lhs, rhs, i64, >=),
            Instr::I64GeU { dst, lhs, rhs } => i64_cmp!(run, dst, lhs, rhs, u64, >=),
            Instr::I64Clz { dst, src } => unary!(run, dst, src, |a: u64| a.leading_zeros() as u64),
            Instr::I64Ctz { dst, src } => unary!(run, dst, src, |a: u64| a.trailing_zeros() as u64),
            Instr::I64Popcnt { dst, src } => unary!(run, dst, src, |a: u64| a.count_ones() as u64),
            Instr::I64Add { dst, lhs, rhs } => binary!(run, dst, lhs, rhs, u64::wrapping_add),
            Instr::I64Sub { dst, lhs, rhs } => binary!(run, dst, lhs, rhs, u64::wrapping_sub),
            Instr::I64Mul { dst, lhs, rhs } => binary!(run, dst, lhs, rhs, u64::wrapping_mul),
            Instr::I64DivS { dst, lhs, rhs } => binary_trap!(run, dst, lhs, rhs, div::i64_div_s),
            Instr::I64DivU { dst, lhs, rhs } => binary_trap!(run, dst, lhs, rhs, div::i64_div_u),
            Instr::I64RemS { dst, lhs, rhs } => binary_trap!(run, dst, lhs, rhs, div::i64_rem_s),
            Instr::I64RemU { dst, lhs, rhs } => binary_trap!(run, dst, lhs, rhs, div::i64_rem_u),
            Instr::I64And { dst, lhs, rhs } => binary!(run, dst, lhs, rhs, |a, b| a & b),
            Instr::I64Or { dst, lhs, rhs } => binary!(run, dst, lhs, rhs, |a, b| a | b),
            Instr::I64Xor { dst, lhs, rhs } => binary!(run, dst, lhs, rhs, |a, b| a ^ b),
            Instr::I64Shl { dst, lhs, rhs } => {
                binary!(run, dst, lhs, rhs, |a: u64, b: u64| a.wrapping_shl(b as u32))
            }
            Instr::I64ShrS { dst, lhs, rhs } => {
                binary!(run,
                    dst,
                    lhs,
                    rhs,
                    |a: u64, b: u64| (a as i64).wrapping_shr(b as u32) as u64
                )
            }
            Instr::I64ShrU { dst, lhs, rhs } => {
                binary!(run, dst, lhs, rhs, |a: u64, b: u64| a.wrapping_shr(b as u32))
            }
            Instr::I64Rotl { dst, lhs, rhs } => {
                binary!(run, dst, lhs, rhs, |a: u64, b: u64| a
                    .rotate_left((b % 64) as u32))
            }
            Instr::I64Rotr { dst, lhs, rhs } => {
                binary!(run, dst, lhs, rhs, |a: u64, b: u64| a
                    .rotate_right((b % 64) as u32))
            }

            // --- Numeric: f32 / f64 ---
            Instr::F32Eq { dst, lhs, rhs } => float_cmp!(run, dst, lhs, rhs, num::f32_of, ==),
            Instr::F32Ne { dst, lhs, rhs } => float_cmp!(run, dst, lhs, rhs, num::f32_of, !=),
            Instr::F32Lt { dst, lhs, rhs } => float_cmp!(run, dst, lhs, rhs, num::f32_of, <),
            Instr::F32Gt { dst, lhs, rhs } => float_cmp!(run, dst, lhs, rhs, num::f32_of, >),
            Instr::F32Le { dst, lhs, rhs } => float_cmp!(run, dst, lhs, rhs, num::f32_of, <=),
            Instr::F32Ge { dst, lhs, rhs } => float_cmp!(run, dst, lhs, rhs, num::f32_of, >=),
            Instr::F64Eq { dst, lhs, rhs } => float_cmp!(run, dst, lhs, rhs, num::f64_of, ==),
            Instr::F64Ne { dst, lhs, rhs } => float_cmp!(run, dst, lhs, rhs, num::f64_of, !=),
            Instr::F64Lt { dst, lhs, rhs } => float_cmp!(run, dst, lhs, rhs, num::f64_of, <),
            Instr::F64Gt { dst, lhs, rhs } => float_cmp!(run, dst, lhs, rhs, num::f64_of, >),
            Instr::F64Le { dst, lhs, rhs } => float_cmp!(run, dst, lhs, rhs, num::f64_of, <=),
            Instr::F64Ge { dst, lhs, rhs } => float_cmp!(run, dst, lhs, rhs, num::f64_of, >=),
            // abs/neg/copysign are bit operations: they must not touch NaN payloads.
            Instr::F32Abs { dst, src } => unary!(run, dst, src, |a: u64| a & 0x7fff_ffff),
            Instr::F32Neg { dst, src } => unary!(run, dst, src, |a: u64| a ^ 0x8000_0000),
            Instr::F32Copysign { dst, lhs, rhs } => {
                binary!(run, dst, lhs, rhs, |a: u64, b: u64| (a & 0x7fff_ffff)
                    | (b & 0x8000_0000))
            }
            Instr::F64Abs { dst, src } => unary!(run, dst, src, |a: u64| a & !(1u64 << 63)),
            Instr::F64Neg { dst, src } => unary!(run, dst, src, |a: u64| a ^ (1u64 << 63)),
            Instr::F64Copysign { dst, lhs, rhs } => {
                binary!(run, dst, lhs, rhs, |a: u64, b: u64| (a & !(1u64 << 63))
                    | (b & (1u64 << 63)))
            }
            Instr::F32Ceil { dst, src } => {
                f32_unary!(run, dst, src, |x| num::round_f32(x, f32::ceil))
            }
            Instr::F32Floor { dst, src } => {
                f32_unary!(run, dst, src, |x| num::round_f32(x, f32::floor))
            }
            Instr::F32Trunc { dst, src } => {
                f32_unary!(run, dst, src, |x| num::round_f32(x, f32::trunc))
            }
            Instr::F32Nearest { dst, src } => {
                f32_unary!(run, dst, src, |x| num::round_f32(x, f32::round_ties_even))
            }
            Instr::F32Sqrt { dst, src } => f32_unary!(run, dst, src, f32::sqrt),
            Instr::F64Ceil { dst, src } => {
                f64_unary!(run, dst, src, |x| num::round_f64(x, f64::ceil))
            }
            Instr::F64Floor { dst, src } => {
                f64_unary!(run, dst, src, |x| num::round_f64(x, f64::floor))
            }
            Instr::F64Trunc { dst, src } => {
                f64_unary!(run, dst, src, |x| num::round_f64(x, f64::trunc))
            }
            Instr::F64Nearest { dst, src } => {
                f64_unary!(run, dst, src, |x| num::round_f64(x, f64::round_ties_even))
            }
            Instr::F64Sqrt { dst, src } => f64_unary!(run, dst, src, f64::sqrt),
            Instr::F32Add { dst, lhs, rhs } => f32_binary!(run, dst, lhs, rhs, |a, b| a + b),
            Instr::F32Sub { dst, lhs, rhs } => f32_binary!(run, dst, lhs, rhs, |a, b| a - b),
            Instr::F32Mul { dst, lhs, rhs } => f32_binary!(run, dst, lhs, rhs, |a, b| a * b),
            Instr::F32Div { dst, lhs, rhs } => f32_binary!(run, dst, lhs, rhs, |a, b| a / b),
            Instr::F32Min { dst, lhs, rhs } => f32_binary!(run, dst, lhs, rhs, num::f32_min),
            Instr::F32Max { dst, lhs, rhs } => f32_binary!(run, dst, lhs, rhs, num::f32_max),
            Instr::F64Add { dst, lhs, rhs } => f64_binary!(run, dst, lhs, rhs, |a, b| a + b),
            Instr::F64Sub { dst, lhs, rhs } => f64_binary!(run, dst, lhs, rhs, |a, b| a - b),
            Instr::F64Mul { dst, lhs, rhs } => f64_binary!(run, dst, lhs, rhs, |a, b| a * b),
            Instr::F64Div { dst, lhs, rhs } => f64_binary!(run, dst, lhs, rhs, |a, b| a / b),
            Instr::F64Min { dst, lhs, rhs } => f64_binary!(run, dst, lhs, rhs, num::f64_min),
            Instr::F64Max { dst, lhs, rhs } => f64_binary!(run, dst, lhs, rhs, num::f64_max),

            // --- Conversions ---
            Instr::I32WrapI64 { dst, src } => unary!(run, dst, src, |a: u64| a as u32 as u64),
            Instr::I64ExtendI32S { dst, src } => {
                unary!(run, dst, src, |a: u64| a as u32 as i32 as i64 as u64)
            }
            Instr::I64ExtendI32U { dst, src } => unary!(run, dst, src, |a: u64| a as u32 as u64),
            Instr::I32Extend8S { dst, src } => {
                unary!(run, dst, src, |a: u64| num::from_i32(a as i8 as i32))
            }
            Instr::I32Extend16S { dst, src } => {
                unary!(run, dst, src, |a: u64| num::from_i32(a as i16 as i32))
            }
            Instr::I64Extend8S { dst, src } => {
                unary!(run, dst, src, |a: u64| a as i8 as i64 as u64)
            }
            Instr::I64Extend16S { dst, src } => {
                unary!(run, dst, src, |a: u64| a as i16 as i64 as u64)
            }
            Instr::I64Extend32S { dst, src } => {
                unary!(run, dst, src, |a: u64| a as i32 as i64 as u64)
            }
            Instr::I32TruncF32S { dst, src } => unary_trap!(run, dst, src, trunc::i32_f32_s),
            Instr::I32TruncF32U { dst, src } => unary_trap!(run, dst, src, trunc::i32_f32_u),
            Instr::I32TruncF64S { dst, src } => unary_trap!(run, dst, src, trunc::i32_f64_s),
            Instr::I32TruncF64U { dst, src } => unary_trap!(run, dst, src, trunc::i32_f64_u),
            Instr::I64TruncF32S { dst, src } => unary_trap!(run, dst, src, trunc::i64_f32_s),
            Instr::I64TruncF32U { dst, src } => unary_trap!(run, dst, src, trunc::i64_f32_u),
            Instr::I64TruncF64S { dst, src } => unary_trap!(run, dst, src, trunc::i64_f64_s),
            Instr::I64TruncF64U { dst, src } => unary_trap!(run, dst, src, trunc::i64_f64_u),
            // Rust's `as` from float to int saturates and maps NaN to 0: exactly
            // the spec's trunc_sat.
            Instr::I32TruncSatF32S { dst, src } => {
                unary!(run, dst, src, |a| num::from_i32(num::f32_of(a) as i32))
            }
            Instr::I32TruncSatF32U { dst, src } => {
                unary!(run, dst, src, |a| num::f32_of(a) as u32 as u64)
            }
            Instr::I32TruncSatF64S { dst, src } => {
                unary!(run, dst, src, |a| num::from_i32(num::f64_of(a) as i32))
            }
            Instr::I32TruncSatF64U { dst, src } => {
                unary!(run, dst, src, |a| num::f64_of(a) as u32 as u64)
            }
            Instr::I64TruncSatF32S { dst, src } => {
                unary!(run, dst, src, |a| num::f32_of(a) as i64 as u64)
            }
            Instr::I64TruncSatF32U { dst, src } => unary!(run, dst, src, |a| num::f32_of(a) as u64),
            Instr::I64TruncSatF64S { dst, src } => {
                unary!(run, dst, src, |a| num::f64_of(a) as i64 as u64)
            }
            Instr::I64TruncSatF64U { dst, src } => unary!(run, dst, src, |a| num::f64_of(a) as u64),
            // Rust's int-to-float `as` rounds to nearest, ties to even, as the spec.
            Instr::F32ConvertI32S { dst, src } => {
                unary!(run, dst, src, |a| num::from_f32(num::i32_of(a) as f32))
            }
            Instr::F32ConvertI32U { dst, src } => {
                unary!(run, dst, src, |a| num::from_f32(a as u32 as f32))
            }
            Instr::F32ConvertI64S { dst, src } => {
                unary!(run, dst, src, |a| num::from_f32(a as i64 as f32))
            }
            Instr::F32ConvertI64U { dst, src } => {
                unary!(run, dst, src, |a| num::from_f32(a as f32))
            }
            Instr::F32DemoteF64 { dst, src } => {
                unary!(run, dst, src, |a| num::from_f32(num::f64_of(a) as f32))
            }
            Instr::F64ConvertI32S { dst, src } => {
                unary!(run, dst, src, |a| num::from_f64(num::i32_of(a) as f64))
            }
            Instr::F64ConvertI32U { dst, src } => {
                unary!(run, dst, src, |a| num::from_f64(a as u32 as f64))
            }
            Instr::F64ConvertI64S { dst, src } => {
                unary!(run, dst, src, |a| num::from_f64(a as i64 as f64))
            }
            Instr::F64ConvertI64U { dst, src } => {
                unary!(run, dst, src, |a| num::from_f64(a as f64))
            }
            Instr::F64PromoteF32 { dst, src } => {
                unary!(run, dst, src, |a| num::from_f64(num::f32_of(a) as f64))
            }
        }));
    }
}
