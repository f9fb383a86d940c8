//! The struct and array operators on the store's heap, for both engines: the interpreter
//! runs them out of its loop (`interp/exec/gc.rs`), compiled code through one libcall.
//! Like the bulk table and memory operators (`store/ops.rs`), they live with the store:
//! allocation, segments and traps are the store's business, and one implementation
//! keeps their semantics the same in both engines.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#aggregate-instructions>.

use super::layout::{Access, ObjectLayout};
use super::objects::element_at;
use super::state::EngineRoots;
use crate::error::{Error, Result, TrapKind};
use crate::store::StoreData;
use crate::values::RawValue;

/// A struct or array operator. Its immediate (`imm` of [`StoreData::gc_object_op`]) is
/// the module type index, except for `StructGet` and `StructSet`, whose immediate is
/// the field's byte offset; `extra` is `array.new_fixed`'s count or a segment index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ObjectOp {
    /// `struct.new`: the fields.
    StructNew,
    StructNewDefault,
    /// `struct.get*`: the struct.
    StructGet(Access),
    /// `struct.set`: the struct, the value.
    StructSet(Access),
    /// `array.new`: value, length.
    ArrayNew,
    /// `array.new_default`: length.
    ArrayNewDefault,
    /// `array.new_fixed`: `extra` elements.
    ArrayNewFixed,
    /// `array.new_data`, `array.new_elem`: offset, length; `extra` is the segment.
    ArrayNewData,
    ArrayNewElem,
    /// `array.get*`: array, index.
    ArrayGet(Access),
    /// `array.set`: array, index, value.
    ArraySet(Access),
    /// `array.len`: array.
    ArrayLen,
    /// `array.fill`: array, offset, value, count.
    ArrayFill(Access),
    /// `array.copy`: destination array and offset, source array and offset, count.
    ArrayCopy(Access),
    /// `array.init_data`, `array.init_elem`: array, destination offset, source offset,
    /// count; `extra` is the segment.
    ArrayInitData(Access),
    ArrayInitElem,
}

impl ObjectOp {
    /// Whether the operator leaves a value.
    pub(crate) fn has_result(self) -> bool {
        !matches!(
            self,
            ObjectOp::StructSet(_)
                | ObjectOp::ArraySet(_)
                | ObjectOp::ArrayFill(_)
                | ObjectOp::ArrayCopy(_)
                | ObjectOp::ArrayInitData(_)
                | ObjectOp::ArrayInitElem
        )
    }

    /// A number that names the operator, for compiled code to pass to the runtime:
    /// the operator's position in the list above times 8, plus its access's.
    pub(crate) fn code(self) -> u32 {
        let (kind, access) = match self {
            ObjectOp::StructNew => (0, None),
            ObjectOp::StructNewDefault => (1, None),
            ObjectOp::StructGet(a) => (2, Some(a)),
            ObjectOp::StructSet(a) => (3, Some(a)),
            ObjectOp::ArrayNew => (4, None),
            ObjectOp::ArrayNewDefault => (5, None),
            ObjectOp::ArrayNewFixed => (6, None),
            ObjectOp::ArrayNewData => (7, None),
            ObjectOp::ArrayNewElem => (8, None),
            ObjectOp::ArrayGet(a) => (9, Some(a)),
            ObjectOp::ArraySet(a) => (10, Some(a)),
            ObjectOp::ArrayLen => (11, None),
            ObjectOp::ArrayFill(a) => (12, Some(a)),
            ObjectOp::ArrayCopy(a) => (13, Some(a)),
            ObjectOp::ArrayInitData(a) => (14, Some(a)),
            ObjectOp::ArrayInitElem => (15, None),
        };
        kind * 8 + access.map_or(0, |a| a as u32)
    }

    /// The operator [`ObjectOp::code`] names, if any.
    pub(crate) fn from_code(code: u32) -> Option<ObjectOp> {
        let access = || Access::ALL.get((code % 8) as usize).copied();
        Some(match code / 8 {
            0 => ObjectOp::StructNew,
            1 => ObjectOp::StructNewDefault,
            2 => ObjectOp::StructGet(access()?),
            3 => ObjectOp::StructSet(access()?),
            4 => ObjectOp::ArrayNew,
            5 => ObjectOp::ArrayNewDefault,
            6 => ObjectOp::ArrayNewFixed,
            7 => ObjectOp::ArrayNewData,
            8 => ObjectOp::ArrayNewElem,
            9 => ObjectOp::ArrayGet(access()?),
            10 => ObjectOp::ArraySet(access()?),
            11 => ObjectOp::ArrayLen,
            12 => ObjectOp::ArrayFill(access()?),
            13 => ObjectOp::ArrayCopy(access()?),
            14 => ObjectOp::ArrayInitData(access()?),
            15 => ObjectOp::ArrayInitElem,
            _ => return None,
        })
    }

    /// How many operands the operator takes; `fields` is a `struct.new`'s field count.
    pub(crate) fn operands(self, fields: u32, extra: u32) -> u32 {
        match self {
            ObjectOp::StructNew => fields,
            ObjectOp::StructNewDefault => 0,
            ObjectOp::StructGet(_) | ObjectOp::ArrayNewDefault | ObjectOp::ArrayLen => 1,
            ObjectOp::StructSet(_)
            | ObjectOp::ArrayNew
            | ObjectOp::ArrayNewData
            | ObjectOp::ArrayNewElem
            | ObjectOp::ArrayGet(_) => 2,
            ObjectOp::ArrayNewFixed => extra,
            ObjectOp::ArraySet(_) => 3,
            ObjectOp::ArrayFill(_) | ObjectOp::ArrayInitData(_) | ObjectOp::ArrayInitElem => 4,
            ObjectOp::ArrayCopy(_) => 5,
        }
    }

    /// Whether the operator takes an `extra` immediate.
    pub(crate) fn has_extra(self) -> bool {
        matches!(
            self,
            ObjectOp::ArrayNewFixed
                | ObjectOp::ArrayNewData
                | ObjectOp::ArrayNewElem
                | ObjectOp::ArrayInitData(_)
                | ObjectOp::ArrayInitElem
        )
    }
}

/// Where an operator's operands come from, in stack order: an engine's slots or cells.
pub(crate) trait Operands {
    /// The next operand; `wide` if it is a `v128` (an engine that keeps every operand in
    /// one 128-bit cell may ignore it).
    fn next(&mut self, wide: bool) -> Result<RawValue>;

    fn next_u32(&mut self) -> Result<u32> {
        Ok(self.next(false)? as u32)
    }

    fn next_ref(&mut self) -> Result<u64> {
        Ok(self.next(false)? as u64)
    }
}

impl StoreData {
    /// Runs `op` for instance `inst` on `operands`: its result, if it has one. `roots` are
    /// the calling engine's live cells that may hold references, passed to an allocation
    /// (`StoreData::gc_alloc`), or `None` if it cannot collect.
    pub(crate) fn gc_object_op(
        &mut self,
        inst: u32,
        op: ObjectOp,
        imm: u32,
        extra: u32,
        operands: &mut impl Operands,
        roots: Option<EngineRoots<'_>>,
    ) -> Result<Option<RawValue>> {
        let type_id = |d: &StoreData| d.instances[inst as usize].type_ids[imm as usize];
        let result: RawValue = match op {
            ObjectOp::StructNew => {
                let type_id = type_id(self);
                let Some(ObjectLayout::Struct { fields, .. }) = &self.types.def(type_id).layout
                else {
                    return Err(misused("struct.new of a non-struct type"));
                };
                let values = (fields.iter())
                    .map(|f| operands.next(Access::of(f.storage, false).is_wide()))
                    .collect::<Result<Vec<RawValue>>>()?;
                self.gc_new_struct(type_id, &values, roots)?.into()
            }
            ObjectOp::StructNewDefault => self.gc_new_struct(type_id(self), &[], roots)?.into(),
            ObjectOp::StructGet(access) => {
                let object = self.gc_object(operands.next_ref()?, TrapKind::NullStructReference)?;
                self.gc_read(u64::from(object) + u64::from(imm), access)?
            }
            ObjectOp::StructSet(access) => {
                let object = operands.next_ref()?;
                let value = operands.next(access.is_wide())?;
                let object = self.gc_object(object, TrapKind::NullStructReference)?;
                self.gc_write(u64::from(object) + u64::from(imm), access, value)?;
                return Ok(None);
            }
            ObjectOp::ArrayNew | ObjectOp::ArrayNewDefault => {
                let type_id = type_id(self);
                let access = self.array_access(type_id)?;
                let fill = match op {
                    ObjectOp::ArrayNew => operands.next(access.is_wide())?,
                    _ => 0,
                };
                let len = operands.next_u32()?;
                self.charge_gc_elements(len)?;
                self.gc_new_array(type_id, len, fill, roots)?.into()
            }
            ObjectOp::ArrayNewFixed => {
                let type_id = type_id(self);
                let wide = self.array_access(type_id)?.is_wide();
                let values = (0..extra)
                    .map(|_| operands.next(wide))
                    .collect::<Result<Vec<RawValue>>>()?;
                self.gc_new_array_of(type_id, &values, roots)?.into()
            }
            ObjectOp::ArrayNewData => {
                let type_id = type_id(self);
                let access = self.array_access(type_id)?;
                let (offset, len) = (operands.next_u32()?, operands.next_u32()?);
                let data = self.instances[inst as usize].data_bytes(extra);
                let bytes = data[data_range(offset, len, access, data.len())?].to_vec();
                self.charge_gc_elements(len)?;
                let object = self.gc_alloc(type_id, len, roots)?;
                self.gc_write_bytes(element_at(object, access, 0), &bytes)?;
                object.into()
            }
            ObjectOp::ArrayNewElem => {
                let type_id = type_id(self);
                let (offset, len) = (operands.next_u32()?, operands.next_u32()?);
                let items = self.elem_items(inst, extra, offset, len)?;
                self.charge_gc_elements(len)?;
                self.gc_new_array_of(type_id, &items, roots)?.into()
            }
            ObjectOp::ArrayGet(access) | ObjectOp::ArraySet(access) => {
                let (array, index) = (operands.next_ref()?, operands.next_u32()?);
                let value = match op {
                    ObjectOp::ArraySet(_) => Some(operands.next(access.is_wide())?),
                    _ => None,
                };
                let object = self.gc_object(array, TrapKind::NullArrayReference)?;
                let at = self.gc_elements(object, access, index, 1)?;
                if let Some(value) = value {
                    self.gc_write(at, access, value)?;
                    return Ok(None);
                }
                self.gc_read(at, access)?
            }
            ObjectOp::ArrayLen => self.gc_array_len(operands.next_ref()?)?.into(),
            ObjectOp::ArrayFill(access) => {
                let (array, offset) = (operands.next_ref()?, operands.next_u32()?);
                let (value, n) = (operands.next(access.is_wide())?, operands.next_u32()?);
                let object = self.gc_object(array, TrapKind::NullArrayReference)?;
                self.gc_elements(object, access, offset, n)?;
                self.charge_gc_elements(n)?;
                self.gc_fill(object, access, offset, n, value)?;
                return Ok(None);
            }
            ObjectOp::ArrayCopy(access) => {
                let (to, to_offset) = (operands.next_ref()?, operands.next_u32()?);
                let (from, from_offset) = (operands.next_ref()?, operands.next_u32()?);
                let n = operands.next_u32()?;
                let to = self.gc_object(to, TrapKind::NullArrayReference)?;
                let from = self.gc_object(from, TrapKind::NullArrayReference)?;
                let to = self.gc_elements(to, access, to_offset, n)?;
                let from = self.gc_elements(from, access, from_offset, n)?;
                self.charge_gc_elements(n)?;
                self.gc_copy(to, from, u64::from(n) * u64::from(access.size()))?;
                return Ok(None);
            }
            ObjectOp::ArrayInitData(access) => {
                let (array, to) = (operands.next_ref()?, operands.next_u32()?);
                let (from, n) = (operands.next_u32()?, operands.next_u32()?);
                let object = self.gc_object(array, TrapKind::NullArrayReference)?;
                let at = self.gc_elements(object, access, to, n)?;
                let data = self.instances[inst as usize].data_bytes(extra);
                let bytes = data[data_range(from, n, access, data.len())?].to_vec();
                self.charge_gc_elements(n)?;
                self.gc_write_bytes(at, &bytes)?;
                return Ok(None);
            }
            ObjectOp::ArrayInitElem => {
                let (array, to) = (operands.next_ref()?, operands.next_u32()?);
                let (from, n) = (operands.next_u32()?, operands.next_u32()?);
                let object = self.gc_object(array, TrapKind::NullArrayReference)?;
                let at = self.gc_elements(object, Access::B64, to, n)?;
                let items = self.elem_items(inst, extra, from, n)?;
                self.charge_gc_elements(n)?;
                for (i, item) in items.into_iter().enumerate() {
                    self.gc_write(at + 8 * i as u64, Access::B64, item)?;
                }
                return Ok(None);
            }
        };
        Ok(Some(result))
    }

    /// Items `[offset, offset + len)` of element segment `elem` of instance `inst`:
    /// traps past its end, as a table access would.
    fn elem_items(&self, inst: u32, elem: u32, offset: u32, len: u32) -> Result<Vec<RawValue>> {
        let items = &self.instances[inst as usize].elems[elem as usize];
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
    fn charge_gc_elements(&mut self, n: u32) -> Result<()> {
        if self.metering {
            self.charge_elements(n as usize)?;
        }
        Ok(())
    }
}

/// An operator misused by an engine: only a translator bug makes one.
fn misused(what: &str) -> Error {
    Error::Usage(format!("GC operator misused ({what}): an engine bug"))
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
