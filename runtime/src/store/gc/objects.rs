//! Making and reading GC objects through their type's layout, for everything that does
//! so outside compiled code: the interpreter, constant expressions and the API.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#aggregate-instructions>.

use super::layout::{Access, HEADER_BYTES, ObjectLayout};
use super::state::EngineRoots;
use crate::error::{Error, Result, TrapKind};
use crate::store::StoreData;
use crate::values::RawValue;

/// A damaged reference or layout: only an engine bug makes one.
fn damaged(what: &str) -> Error {
    Error::Usage(format!(
        "GC object access out of the heap ({what}): an engine bug"
    ))
}

impl StoreData {
    /// A new struct of store type `type_id` with `fields` (raw cells, in declaration
    /// order; all zero if empty, as `struct.new_default` makes it). `stack` as for
    /// [`StoreData::gc_alloc`].
    pub(crate) fn gc_new_struct(
        &mut self,
        type_id: u32,
        fields: &[RawValue],
        stack: Option<EngineRoots<'_>>,
    ) -> Result<u32> {
        let object = self.gc_alloc(type_id, 0, stack)?;
        if fields.is_empty() {
            return Ok(object);
        }
        let Some(ObjectLayout::Struct { fields: layout, .. }) = &self.types.def(type_id).layout
        else {
            return Err(damaged("not a struct type"));
        };
        let heap = self.gc.heap_mut().ok_or_else(|| damaged("no heap"))?;
        for (field, &value) in layout.iter().zip(fields) {
            let at = u64::from(object) + u64::from(field.offset);
            (heap.write(at, Access::of(field.storage, false), value))
                .ok_or_else(|| damaged("struct field"))?;
        }
        Ok(object)
    }

    /// A new array of store type `type_id` with `len` elements, each `fill`.
    pub(crate) fn gc_new_array(
        &mut self,
        type_id: u32,
        len: u32,
        fill: RawValue,
        stack: Option<EngineRoots<'_>>,
    ) -> Result<u32> {
        let object = self.gc_alloc(type_id, len, stack)?;
        if fill != 0 {
            let access = self.array_access(type_id)?;
            self.gc_fill(object, access, 0, len, fill)?;
        }
        Ok(object)
    }

    /// A new array of store type `type_id` holding `elements`.
    pub(crate) fn gc_new_array_of(
        &mut self,
        type_id: u32,
        elements: &[RawValue],
        stack: Option<EngineRoots<'_>>,
    ) -> Result<u32> {
        let len = u32::try_from(elements.len()).map_err(|_| TrapKind::GcHeapExhausted)?;
        let object = self.gc_alloc(type_id, len, stack)?;
        let access = self.array_access(type_id)?;
        let heap = self.gc.heap_mut().ok_or_else(|| damaged("no heap"))?;
        for (i, &value) in elements.iter().enumerate() {
            let at = element_at(object, access, i as u32);
            heap.write(at, access, value)
                .ok_or_else(|| damaged("array element"))?;
        }
        Ok(object)
    }

    /// How the elements of array type `type_id` are read and written (unsigned).
    pub(crate) fn array_access(&self, type_id: u32) -> Result<Access> {
        match &self.types.def(type_id).layout {
            Some(ObjectLayout::Array { element, .. }) => Ok(Access::of(*element, false)),
            _ => Err(damaged("not an array type")),
        }
    }

    /// The length of the array `raw` refers to: traps on null.
    pub(crate) fn gc_array_len(&self, raw: u64) -> Result<u32> {
        let object = self.gc_object(raw, TrapKind::NullArrayReference)?;
        Ok(self.gc.heap().map_or(0, |h| h.len_of(object)))
    }

    /// The object `raw` refers to; `null` is the trap for a null reference.
    pub(crate) fn gc_object(&self, raw: u64, null: TrapKind) -> Result<u32> {
        if raw == 0 {
            return Err(null.into());
        }
        match self.gc.is_object(raw) {
            true => Ok(raw as u32),
            false => Err(damaged("not an object")),
        }
    }

    /// Checks that elements `[index, index + n)` are in the array at `object`, whose
    /// elements are accessed by `access`; gives the byte address of element `index`.
    pub(crate) fn gc_elements(
        &self,
        object: u32,
        access: Access,
        index: u32,
        n: u32,
    ) -> Result<u64> {
        let len = self.gc.heap().map_or(0, |h| h.len_of(object));
        if u64::from(index) + u64::from(n) > u64::from(len) {
            return Err(TrapKind::ArrayOutOfBounds.into());
        }
        Ok(element_at(object, access, index))
    }

    /// Writes `value` into elements `[index, index + n)` of the array at `object`
    /// (checked by the caller).
    pub(crate) fn gc_fill(
        &mut self,
        object: u32,
        access: Access,
        index: u32,
        n: u32,
        value: RawValue,
    ) -> Result<()> {
        let heap = self.gc.heap_mut().ok_or_else(|| damaged("no heap"))?;
        let start = element_at(object, access, index);
        let size = u64::from(access.size());
        let bytes = (heap.bytes_mut(start, size * u64::from(n))).ok_or_else(|| damaged("fill"))?;
        for chunk in bytes.chunks_exact_mut(size as usize) {
            access.store(chunk, value);
        }
        Ok(())
    }

    /// Reads a field or element at byte address `at` of the heap.
    pub(crate) fn gc_read(&self, at: u64, access: Access) -> Result<RawValue> {
        (self.gc.heap().and_then(|h| h.read(at, access))).ok_or_else(|| damaged("read"))
    }

    /// Writes a field or element at byte address `at` of the heap.
    pub(crate) fn gc_write(&mut self, at: u64, access: Access, value: RawValue) -> Result<()> {
        (self.gc.heap_mut().and_then(|h| h.write(at, access, value)))
            .ok_or_else(|| damaged("write"))
    }

    /// Writes `bytes` at heap address `at` (elements from a data segment: the heap's
    /// layout is little-endian, as a segment's bytes are).
    pub(crate) fn gc_write_bytes(&mut self, at: u64, bytes: &[u8]) -> Result<()> {
        let heap = self.gc.heap_mut().ok_or_else(|| damaged("no heap"))?;
        let to = (heap.bytes_mut(at, bytes.len() as u64)).ok_or_else(|| damaged("write"))?;
        to.copy_from_slice(bytes);
        Ok(())
    }

    /// Copies `bytes` bytes from heap address `from` to `to` (ranges may overlap).
    pub(crate) fn gc_copy(&mut self, to: u64, from: u64, bytes: u64) -> Result<()> {
        let heap = self.gc.heap_mut().ok_or_else(|| damaged("no heap"))?;
        let (lo, hi) = (to.min(from), to.max(from));
        let span = (heap.bytes_mut(lo, hi - lo + bytes)).ok_or_else(|| damaged("copy"))?;
        let (src, dst) = ((from - lo) as usize, (to - lo) as usize);
        span.copy_within(src..src + bytes as usize, dst);
        Ok(())
    }
}

/// The byte address of element `index` of the array at `object`.
pub(crate) fn element_at(object: u32, access: Access, index: u32) -> u64 {
    u64::from(object) + u64::from(HEADER_BYTES) + u64::from(access.size()) * u64::from(index)
}
