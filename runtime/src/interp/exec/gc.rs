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
use crate::store::gc::ObjectLayout;
use crate::store::gc::layout::Access;
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

    /// Reads consecutive operands from `slot` on, in stack order.
    fn operands(&self, slot: u32) -> Operands<'_, '_> {
        Operands { frame: self, slot }
    }

    fn roots(&self) -> Option<&[u64]> {
        Some(self.cells)
    }
}

struct Operands<'f, 'a> {
    frame: &'f Frame<'a>,
    slot: u32,
}

impl Operands<'_, '_> {
    fn next(&mut self, wide: bool) -> Result<RawValue> {
        let v = self.frame.value(self.slot, wide)?;
        self.slot += 1 + wide as u32;
        Ok(v)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(self.next(false)? as u32)
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
        GcOp::StructNew => {
            let type_id = type_id(store);
            let Some(ObjectLayout::Struct { fields, .. }) = &store.types.def(type_id).layout else {
                return Err(malformed("struct.new of a non-struct type"));
            };
            let mut operands = frame.operands(src);
            let values = (fields.iter())
                .map(|f| operands.next(Access::of(f.storage, false).is_wide()))
                .collect::<Result<Vec<RawValue>>>()?;
            store.gc_new_struct(type_id, &values, frame.roots())?.into()
        }
        GcOp::StructNewDefault => store
            .gc_new_struct(type_id(store), &[], frame.roots())?
            .into(),
        GcOp::StructGet(access) => {
            let object = store.gc_object(raw, TrapKind::NullStructReference)?;
            let value = store.gc_read(u64::from(object) + u64::from(type_index), access)?;
            frame.set(dst, value, access.is_wide())?;
            return Ok(next);
        }
        GcOp::StructSet(access) => {
            let object = store.gc_object(raw, TrapKind::NullStructReference)?;
            let value = frame.value(dst, access.is_wide())?;
            store.gc_write(u64::from(object) + u64::from(type_index), access, value)?;
            return Ok(next);
        }
        GcOp::ArrayNew | GcOp::ArrayNewDefault => {
            let type_id = type_id(store);
            let access = store.array_access(type_id)?;
            let mut operands = frame.operands(src);
            let fill = match op {
                GcOp::ArrayNew => operands.next(access.is_wide())?,
                _ => 0,
            };
            let len = operands.u32()?;
            charge(store, len)?;
            store
                .gc_new_array(type_id, len, fill, frame.roots())?
                .into()
        }
        GcOp::ArrayNewFixed => {
            let type_id = type_id(store);
            let wide = store.array_access(type_id)?.is_wide();
            let mut operands = frame.operands(src);
            let values = (0..extra)
                .map(|_| operands.next(wide))
                .collect::<Result<Vec<RawValue>>>()?;
            store
                .gc_new_array_of(type_id, &values, frame.roots())?
                .into()
        }
        GcOp::ArrayNewData => {
            let type_id = type_id(store);
            let access = store.array_access(type_id)?;
            let mut operands = frame.operands(src);
            let (offset, len) = (operands.u32()?, operands.u32()?);
            let data = store.instances[inst].data_bytes(extra);
            let bytes = data_range(offset, len, access, data.len())?;
            let bytes = data[bytes].to_vec();
            charge(store, len)?;
            let object = store.gc_alloc(type_id, len, frame.roots())?;
            let at = crate::store::gc::element_at(object, access, 0);
            store.gc_write_bytes(at, &bytes)?;
            object.into()
        }
        GcOp::ArrayNewElem => {
            let type_id = type_id(store);
            let mut operands = frame.operands(src);
            let (offset, len) = (operands.u32()?, operands.u32()?);
            let items = elem_range(store, inst, extra, offset, len)?;
            charge(store, len)?;
            store
                .gc_new_array_of(type_id, &items, frame.roots())?
                .into()
        }
        GcOp::ArrayGet(access) | GcOp::ArraySet(access) => {
            let mut operands = frame.operands(src);
            let (array, index) = (operands.next(false)? as u64, operands.u32()?);
            let object = store.gc_object(array, TrapKind::NullArrayReference)?;
            let at = store.gc_elements(object, access, index, 1)?;
            if let GcOp::ArraySet(_) = op {
                let value = operands.next(access.is_wide())?;
                store.gc_write(at, access, value)?;
                return Ok(next);
            }
            let value = store.gc_read(at, access)?;
            frame.set(dst, value, access.is_wide())?;
            return Ok(next);
        }
        GcOp::ArrayLen => store.gc_array_len(raw)?.into(),
        GcOp::ArrayFill(access) => {
            let mut operands = frame.operands(src);
            let (array, offset) = (operands.next(false)? as u64, operands.u32()?);
            let (value, n) = (operands.next(access.is_wide())?, operands.u32()?);
            let object = store.gc_object(array, TrapKind::NullArrayReference)?;
            store.gc_elements(object, access, offset, n)?;
            charge(store, n)?;
            store.gc_fill(object, access, offset, n, value)?;
            return Ok(next);
        }
        GcOp::ArrayCopy(access) => {
            let mut operands = frame.operands(src);
            let (to, to_offset) = (operands.next(false)? as u64, operands.u32()?);
            let (from, from_offset) = (operands.next(false)? as u64, operands.u32()?);
            let n = operands.u32()?;
            let to = store.gc_object(to, TrapKind::NullArrayReference)?;
            let from = store.gc_object(from, TrapKind::NullArrayReference)?;
            let to = store.gc_elements(to, access, to_offset, n)?;
            let from = store.gc_elements(from, access, from_offset, n)?;
            charge(store, n)?;
            store.gc_copy(to, from, u64::from(n) * u64::from(access.size()))?;
            return Ok(next);
        }
        GcOp::ArrayInitData(access) => {
            let mut operands = frame.operands(src);
            let (array, to) = (operands.next(false)? as u64, operands.u32()?);
            let (from, n) = (operands.u32()?, operands.u32()?);
            let object = store.gc_object(array, TrapKind::NullArrayReference)?;
            let at = store.gc_elements(object, access, to, n)?;
            let data = store.instances[inst].data_bytes(extra);
            let bytes = data_range(from, n, access, data.len())?;
            let bytes = data[bytes].to_vec();
            charge(store, n)?;
            store.gc_write_bytes(at, &bytes)?;
            return Ok(next);
        }
        GcOp::ArrayInitElem => {
            let mut operands = frame.operands(src);
            let (array, to) = (operands.next(false)? as u64, operands.u32()?);
            let (from, n) = (operands.u32()?, operands.u32()?);
            let object = store.gc_object(array, TrapKind::NullArrayReference)?;
            let at = store.gc_elements(object, Access::B64, to, n)?;
            let items = elem_range(store, inst, extra, from, n)?;
            charge(store, n)?;
            for (i, item) in items.into_iter().enumerate() {
                store.gc_write(at + 8 * i as u64, Access::B64, item)?;
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

/// The bytes of `len` elements of `access` from byte `offset` of a data segment of
/// `data_len` bytes: traps past its end, as a memory access would.
fn data_range(
    offset: u32,
    len: u32,
    access: Access,
    data_len: usize,
) -> Result<std::ops::Range<usize>> {
    let bytes = u64::from(len) * u64::from(access.size());
    let end = u64::from(offset) + bytes;
    if end > data_len as u64 {
        return Err(TrapKind::MemoryOutOfBounds.into());
    }
    Ok(offset as usize..end as usize)
}

/// Items `[offset, offset + len)` of element segment `elem` of instance `inst`: traps
/// past its end, as a table access would.
fn elem_range(
    store: &StoreData,
    inst: usize,
    elem: u32,
    offset: u32,
    len: u32,
) -> Result<Vec<RawValue>> {
    let items = &store.instances[inst].elems[elem as usize];
    let end = u64::from(offset) + u64::from(len);
    if end > items.len() as u64 {
        return Err(TrapKind::TableOutOfBounds.into());
    }
    Ok(items[offset as usize..end as usize]
        .iter()
        .map(|&v| v.into())
        .collect())
}

/// Charges fuel for `n` elements of a bulk array operator, as the bulk table and
/// memory operators are charged (`module/fuel.rs`).
fn charge(store: &mut StoreData, n: u32) -> Result<()> {
    if store.metering {
        store.charge_elements(n as usize)?;
    }
    Ok(())
}
