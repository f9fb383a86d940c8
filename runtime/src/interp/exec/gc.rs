//! The `Gc` instruction (`interp/gc.rs`): `ref.i31`, `i31.get_*`, `ref.test`,
//! `ref.cast`, and the struct and array operators, run by the outer loop (`Action::Gc`)
//! so that the inner loop keeps one arm for all of them, as `other_memory.rs` does for
//! its prefix. `br_on_cast` and `br_on_cast_fail` are a `ref.test` into a scratch slot
//! and a conditional branch on it (`translate/gc.rs`).
//!
//! Objects live in the store's GC heap (`store/gc/`); every access here goes through
//! checked slices, so this file has no `unsafe`: out of the hot loop, a bounds check per
//! operand costs nothing that matters. An allocation passes the frame's live cells as
//! roots (`StoreData::gc_alloc`), which is why operands stay in their slots until the
//! result is written.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#reference-instructions>,
//! `#i31-instructions` and `#aggregate-instructions`.

use super::call::{Ctx, Pos};
use super::stack::ExecStack;
use crate::error::{Error, Result, TrapKind};
use crate::interp::bytecode::Instr;
use crate::interp::gc::{CastHeap, GcOp};
use crate::store::StoreData;
use crate::store::gc::{EngineRoots, ObjectLayout, ObjectOp, Operands};
use crate::values::{AnyRef, I31, RawValue};

/// A slot or `Extra` out of place: only a translator bug makes one.
fn malformed(what: &str) -> Error {
    Error::Usage(format!(
        "malformed `Gc` instruction ({what}): an interpreter bug"
    ))
}

/// The current frame's cells, read and written by slot with bounds checks.
struct Frame<'a> {
    /// The value stack up to the frame's end: every live cell, the roots of an
    /// allocation.
    cells: &'a mut [u64],
    base: usize,
}

impl Frame<'_> {
    fn get(&self, slot: u32) -> Result<u64> {
        (self.cells.get(self.base + slot as usize).copied()).ok_or_else(|| malformed("slot"))
    }

    /// The value at `slot`, two cells if `wide`.
    fn value(&self, slot: u32, wide: bool) -> Result<RawValue> {
        let low = RawValue::from(self.get(slot)?);
        match wide {
            true => Ok(low | RawValue::from(self.get(slot + 1)?) << 64),
            false => Ok(low),
        }
    }

    fn set(&mut self, slot: u32, value: RawValue, wide: bool) -> Result<()> {
        let at = self.base + slot as usize;
        let cells = self.cells.get_mut(at..at + 1 + wide as usize);
        let cells = cells.ok_or_else(|| malformed("slot"))?;
        cells[0] = value as u64;
        if wide {
            cells[1] = (value >> 64) as u64;
        }
        Ok(())
    }
}

/// An object operator's operands, in consecutive slots from `slot` on.
struct SlotOperands<'f, 'a> {
    frame: &'f Frame<'a>,
    slot: u32,
}

impl Operands for SlotOperands<'_, '_> {
    fn next(&mut self, wide: bool) -> Result<RawValue> {
        let v = self.frame.value(self.slot, wide)?;
        self.slot += 1 + wide as u32;
        Ok(v)
    }
}

/// Runs the `Gc` instruction just before `pos.pc` of the running function; returns
/// where execution continues (past its `Extra`, if it has one).
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
    let Instr::Gc {
        op,
        dst,
        src,
        type_index,
    } = instrs[pos.pc - 1]
    else {
        unreachable!("`Action::Gc` after {:?}", instrs[pos.pc - 1]);
    };
    let (extra, next) = match op.has_extra() {
        true => match instrs.get(pos.pc) {
            Some(Instr::Extra { a, .. }) => (*a, pos.pc + 1),
            _ => return Err(malformed("no Extra")),
        },
        false => (0, pos.pc),
    };
    let end = pos.base + instrs.frame_size();
    let cells = st.values.get_mut(..end).ok_or_else(|| malformed("frame"))?;
    let mut frame = Frame {
        cells,
        base: pos.base,
    };
    let inst = ctx.instance as usize;
    let type_id = |store: &StoreData| store.instances[inst].type_ids[type_index as usize];
    let raw = frame.get(src)?;
    let result: RawValue = match op {
        GcOp::RefI31 => AnyRef::I31(I31::wrapping(raw as u32 as i32))
            .to_raw()
            .into(),
        GcOp::I31GetS | GcOp::I31GetU => {
            let Some(v) = AnyRef::i31_of_raw(raw) else {
                // Validation: an `i31ref`, so null or an `i31`.
                return Err(TrapKind::NullI31Reference.into());
            };
            match op {
                GcOp::I31GetS => v.get_s() as u32 as RawValue,
                _ => RawValue::from(v.get_u()),
            }
        }
        GcOp::Test(target) | GcOp::Cast(target) => {
            let concrete = |raw: u64| {
                let target = type_id(store);
                match target_is_func(target, store) {
                    true => store
                        .types
                        .is_subtype(store.funcs[(raw - 1) as usize].type_id, target),
                    false => (store.gc.heap())
                        .filter(|h| h.is_object(raw))
                        .is_some_and(|h| store.types.is_subtype(h.type_of(raw as u32), target)),
                }
            };
            let is_array = |raw: u64| {
                let layout = u32::try_from(raw).ok().and_then(|o| store.gc_layout_of(o));
                matches!(layout, Some(ObjectLayout::Array { .. }))
            };
            let admitted = match target.heap {
                // Only a concrete target has a type index to read.
                CastHeap::Func | CastHeap::Object => target.admits(raw, concrete, is_array),
                _ => target.admits(raw, |_| false, is_array),
            };
            if let GcOp::Cast(_) = op {
                return match admitted {
                    true => Ok(next),
                    false => Err(TrapKind::CastFailure.into()),
                };
            }
            RawValue::from(admitted)
        }
        GcOp::Object(op) => {
            let mut operands = SlotOperands {
                frame: &frame,
                slot: src,
            };
            let cells = &*frame.cells;
            let roots = |_: &StoreData, f: &mut dyn FnMut(u64)| cells.iter().for_each(|&w| f(w));
            let roots = Some(&roots as EngineRoots<'_>);
            let result =
                store.gc_object_op(ctx.instance, op, type_index, extra, &mut operands, roots)?;
            if let Some(value) = result {
                let wide =
                    matches!(op, ObjectOp::StructGet(a) | ObjectOp::ArrayGet(a) if a.is_wide());
                frame.set(dst, value, wide)?;
            }
            return Ok(next);
        }
    };
    frame.set(dst, result, false)?;
    Ok(next)
}

/// Whether store type `id` is a function type (a cast's concrete target is a function
/// type or a struct or array type).
fn target_is_func(id: u32, store: &StoreData) -> bool {
    store.types.func_type(id).is_some()
}
