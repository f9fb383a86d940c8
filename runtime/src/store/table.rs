//! Table instances. Spec: <https://webassembly.github.io/spec/core/exec/runtime.html#table-instances>.
//!
//! Elements are raw reference cells (0 = null, funcref = store function index + 1,
//! externref = host number + 1), the same encoding as `Value::to_raw`.

use crate::module::TableType;

/// The most elements a table may hold; keeps a hostile `table.grow` from exhausting memory.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

#[derive(Debug)]
pub struct TableInstance {
    pub ty: TableType,
    pub elements: Vec<u64>,
}

impl TableInstance {
    pub(crate) fn new(ty: TableType, init: u64) -> Option<TableInstance> {
        if ty.min > MAX_TABLE_ELEMENTS {
            return None;
        }
        let mut elements = Vec::new();
        elements.try_reserve_exact(ty.min as usize).ok()?;
        elements.resize(ty.min as usize, init);
        Some(TableInstance { ty, elements })
    }

    pub fn size(&self) -> u32 {
        self.elements.len() as u32
    }

    pub fn max(&self) -> u64 {
        self.ty
            .max
            .unwrap_or(u32::MAX as u64)
            .min(MAX_TABLE_ELEMENTS)
    }

    /// `table.grow`: the old size, or `None` (the instruction's -1).
    pub fn grow(&mut self, delta: u32, init: u64) -> Option<u32> {
        let old = self.size();
        let new = old as u64 + delta as u64;
        if new > self.max() {
            return None;
        }
        self.elements.try_reserve_exact(delta as usize).ok()?;
        self.elements.resize(new as usize, init);
        Some(old)
    }
}
