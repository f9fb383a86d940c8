//! Table instances. Spec: <https://webassembly.github.io/spec/core/exec/runtime.html#table-instances>.
//!
//! Elements are raw reference cells (0 = null, funcref = store function index + 1,
//! externref = host number + 1), the same encoding as `Value::to_raw`.

use crate::module::TableType;

/// The most elements a table may hold; keeps a hostile `table.grow` from exhausting memory.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

// The interpreter narrows a 64-bit table's `call_indirect` index to u32 by saturation,
// which is exact only if `u32::MAX` is out of bounds of every table.
const _: () = assert!(MAX_TABLE_ELEMENTS < u32::MAX as u64);

/// Base and length of a table's elements, at a stable address (the same update protocol
/// as `VMMemoryDefinition`: refreshed whenever the element buffer may move or resize).
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDefinition {
    pub base: *mut u64,
    pub length: usize,
}

#[derive(Debug)]
pub struct TableInstance {
    pub ty: TableType,
    /// Only `grow` may change the length (it refreshes `definition`).
    pub elements: Vec<u64>,
    definition: Box<VMTableDefinition>,
}

// SAFETY: the raw pointer in `definition` points into `elements`, owned by this instance
// alone; moving the instance to another thread moves both together.
unsafe impl Send for TableInstance {}
// SAFETY: all mutation goes through `&mut self`; `&self` only reads.
unsafe impl Sync for TableInstance {}

impl TableInstance {
    pub(crate) fn new(ty: TableType, init: u64) -> Option<TableInstance> {
        if ty.min > MAX_TABLE_ELEMENTS {
            return None;
        }
        let mut elements = Vec::new();
        elements.try_reserve_exact(ty.min as usize).ok()?;
        elements.resize(ty.min as usize, init);
        let definition = Box::new(VMTableDefinition {
            base: elements.as_mut_ptr(),
            length: elements.len(),
        });
        Some(TableInstance {
            ty,
            elements,
            definition,
        })
    }

    /// The stable definition engines may cache a pointer to.
    pub fn definition_ptr(&self) -> *const VMTableDefinition {
        &*self.definition
    }

    /// The number of elements (at most `MAX_TABLE_ELEMENTS`, whatever the index type).
    pub fn size(&self) -> u64 {
        self.elements.len() as u64
    }

    /// Whether indices, sizes and `table.grow` operands are i64 (table64).
    pub fn is_64(&self) -> bool {
        self.ty.table64
    }

    pub fn max(&self) -> u64 {
        let limit = if self.ty.table64 {
            u64::MAX
        } else {
            u32::MAX as u64
        };
        self.ty.max.unwrap_or(limit).min(MAX_TABLE_ELEMENTS)
    }

    /// `table.grow`: the old size, or `None` (the instruction's -1).
    pub fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.size();
        let new = old.checked_add(delta)?;
        if new > self.max() {
            return None;
        }
        // `new <= MAX_TABLE_ELEMENTS`, so `delta` fits a `usize`.
        self.elements.try_reserve_exact(delta as usize).ok()?;
        self.elements.resize(new as usize, init);
        self.definition.base = self.elements.as_mut_ptr();
        self.definition.length = self.elements.len();
        Some(old)
    }
}
