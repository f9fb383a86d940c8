//! Bulk memory, table and segment operations, shared by both engines (the native engine
//! reaches them as libcalls). Memories and tables are named by store index; data and
//! element segments by (instance, segment index).
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#memory-instructions>
//! and <https://webassembly.github.io/spec/core/exec/instructions.html#table-instructions>.
//! Bounds are checked before anything is written, so a trapping bulk op has no effect.
//! Memory operations then run in chunks of [`CHUNK`] bytes with an interrupt check before
//! each (`api/interrupt.rs`), so that a long one can be stopped; an interrupted operation
//! may have done part of its work (interruption is the embedder's, not a Wasm trap).
//!
//! Addresses, indices and lengths are u64 whatever the memory's or table's address
//! type (memory64, table64): an engine passes an i32 operand zero-extended
//! ([`address_operand`]), and bounds are checked in 64-bit arithmetic that cannot wrap.

use std::sync::atomic::{AtomicBool, Ordering};

use super::StoreData;
use crate::error::TrapKind;

/// `[start, start + len)` inside `0..size`, or the trap.
fn range(
    start: u64,
    len: u64,
    size: usize,
    trap: TrapKind,
) -> Result<std::ops::Range<usize>, TrapKind> {
    let end = start.checked_add(len).ok_or(trap)?;
    if end > size as u64 {
        return Err(trap);
    }
    Ok(start as usize..end as usize)
}

/// The address, index or length an operand slot holds, for a memory or table whose
/// address type is i64 (`is_64`) or i32: an i32 operand is its low 32 bits, unsigned.
#[inline(always)]
pub fn address_operand(raw: u64, is_64: bool) -> u64 {
    if is_64 { raw } else { raw as u32 as u64 }
}

/// Bytes a bulk memory operation handles between two interrupt checks: about 0.1 ms of
/// copying, so an interrupt lands well within 10 ms.
pub(crate) const CHUNK: usize = 1 << 20;

/// Runs `step(offset, len)` over `0..total` in chunks of [`CHUNK`] (backwards when
/// `backwards`), stopping with "interrupted" when `interrupt` is set before a chunk.
fn in_chunks(
    total: usize,
    backwards: bool,
    interrupt: &AtomicBool,
    mut step: impl FnMut(usize, usize),
) -> Result<(), TrapKind> {
    let mut done = 0;
    while done < total {
        if interrupt.load(Ordering::Relaxed) {
            return Err(TrapKind::Interrupted);
        }
        let n = CHUNK.min(total - done);
        let offset = if backwards { total - done - n } else { done };
        step(offset, n);
        done += n;
    }
    Ok(())
}

const MEM: TrapKind = TrapKind::MemoryOutOfBounds;
const TAB: TrapKind = TrapKind::TableOutOfBounds;

impl StoreData {
    /// `memory.init`: copies `len` bytes of data segment `data` at `src` to `dst`.
    /// Charges fuel when `metered` (Wasm's `memory.init`, not instantiation's).
    #[allow(clippy::too_many_arguments)]
    pub fn memory_init(
        &mut self,
        instance: u32,
        memory: u32,
        data: u32,
        dst: u64,
        src: u64,
        len: u64,
        metered: bool,
    ) -> Result<(), TrapKind> {
        let src = range(
            src,
            len,
            self.instances[instance as usize].data_bytes(data).len(),
            MEM,
        )?;
        let dst = range(dst, len, self.memories[memory as usize].len(), MEM)?;
        if metered {
            self.charge_bytes(src.len())?;
        }
        let bytes = self.instances[instance as usize].data_bytes(data);
        let mem = self.memories[memory as usize].data_mut();
        in_chunks(src.len(), false, &self.interrupt.flag, |at, n| {
            mem[dst.start + at..][..n].copy_from_slice(&bytes[src.start + at..][..n]);
        })
    }

    /// `data.drop`.
    pub fn data_drop(&mut self, instance: u32, data: u32) {
        self.instances[instance as usize].datas[data as usize] = 0..0;
    }

    /// `memory.copy` between two store memories (the same one in Wasm 2.0); overlapping
    /// ranges copy as if through a temporary buffer.
    pub fn memory_copy(
        &mut self,
        dst_mem: u32,
        src_mem: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), TrapKind> {
        if dst_mem == src_mem {
            let size = self.memories[dst_mem as usize].len();
            let s = range(src, len, size, MEM)?;
            let d = range(dst, len, size, MEM)?;
            self.charge_bytes(s.len())?;
            let mem = self.memories[dst_mem as usize].data_mut();
            // Chunk by chunk in the direction that never reads a byte already overwritten.
            return in_chunks(s.len(), d.start > s.start, &self.interrupt.flag, |at, n| {
                mem.copy_within(s.start + at..s.start + at + n, d.start + at);
            });
        }
        let s = range(src, len, self.memories[src_mem as usize].len(), MEM)?;
        let d = range(dst, len, self.memories[dst_mem as usize].len(), MEM)?;
        self.charge_bytes(s.len())?;
        let memories = &mut self.memories;
        let mut tmp = Vec::new();
        in_chunks(s.len(), false, &self.interrupt.flag, |at, n| {
            tmp.clear();
            tmp.extend_from_slice(&memories[src_mem as usize].data()[s.start + at..][..n]);
            memories[dst_mem as usize].data_mut()[d.start + at..][..n].copy_from_slice(&tmp);
        })
    }

    /// `memory.fill`.
    pub fn memory_fill(
        &mut self,
        memory: u32,
        dst: u64,
        value: u8,
        len: u64,
    ) -> Result<(), TrapKind> {
        let d = range(dst, len, self.memories[memory as usize].len(), MEM)?;
        self.charge_bytes(d.len())?;
        let mem = self.memories[memory as usize].data_mut();
        in_chunks(d.len(), false, &self.interrupt.flag, |at, n| {
            mem[d.start + at..][..n].fill(value);
        })
    }

    /// `memory.grow`: the old size in pages, or -1 (an i32 result is this, wrapped).
    pub fn memory_grow(&mut self, memory: u32, delta: u64) -> i64 {
        match self.memories[memory as usize].grow(delta) {
            Some(old) => old as i64,
            None => -1,
        }
    }

    /// `table.init`: copies `len` references of element segment `elem` at `src` to `dst`.
    /// Charges fuel when `metered` (Wasm's `table.init`, not instantiation's).
    #[allow(clippy::too_many_arguments)]
    pub fn table_init(
        &mut self,
        instance: u32,
        table: u32,
        elem: u32,
        dst: u64,
        src: u64,
        len: u64,
        metered: bool,
    ) -> Result<(), TrapKind> {
        let items = self.instances[instance as usize].elems[elem as usize].len();
        let s = range(src, len, items, TAB)?;
        let d = range(dst, len, self.tables[table as usize].elements.len(), TAB)?;
        if metered {
            self.charge_elements(s.len())?;
        }
        let items = &self.instances[instance as usize].elems[elem as usize];
        self.tables[table as usize].elements[d].copy_from_slice(&items[s]);
        Ok(())
    }

    /// `elem.drop`.
    pub fn elem_drop(&mut self, instance: u32, elem: u32) {
        self.instances[instance as usize].elems[elem as usize] = Vec::new();
    }

    /// `table.copy`, with the same overlap rule as `memory.copy`.
    pub fn table_copy(
        &mut self,
        dst_table: u32,
        src_table: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), TrapKind> {
        if dst_table == src_table {
            let size = self.tables[dst_table as usize].elements.len();
            let s = range(src, len, size, TAB)?;
            let d = range(dst, len, size, TAB)?;
            self.charge_elements(s.len())?;
            self.tables[dst_table as usize]
                .elements
                .copy_within(s, d.start);
            return Ok(());
        }
        let s = range(
            src,
            len,
            self.tables[src_table as usize].elements.len(),
            TAB,
        )?;
        let d = range(
            dst,
            len,
            self.tables[dst_table as usize].elements.len(),
            TAB,
        )?;
        self.charge_elements(s.len())?;
        let tmp = self.tables[src_table as usize].elements[s].to_vec();
        self.tables[dst_table as usize].elements[d].copy_from_slice(&tmp);
        Ok(())
    }

    /// `table.fill` with a raw reference.
    pub fn table_fill(
        &mut self,
        table: u32,
        dst: u64,
        value: u64,
        len: u64,
    ) -> Result<(), TrapKind> {
        let d = range(dst, len, self.tables[table as usize].elements.len(), TAB)?;
        self.charge_elements(d.len())?;
        self.tables[table as usize].elements[d].fill(value);
        Ok(())
    }

    /// `table.grow`: the old size, or -1 (an i32 result is this, wrapped).
    pub fn table_grow(&mut self, table: u32, delta: u64, init: u64) -> i64 {
        match self.tables[table as usize].grow(delta, init) {
            Some(old) => old as i64,
            None => -1,
        }
    }

    /// `table.get`.
    pub fn table_get(&self, table: u32, index: u64) -> Result<u64, TrapKind> {
        let index = usize::try_from(index).map_err(|_| TAB)?;
        self.tables[table as usize]
            .elements
            .get(index)
            .copied()
            .ok_or(TAB)
    }

    /// `table.set`.
    pub fn table_set(&mut self, table: u32, index: u64, value: u64) -> Result<(), TrapKind> {
        let index = usize::try_from(index).map_err(|_| TAB)?;
        let slot = self.tables[table as usize]
            .elements
            .get_mut(index)
            .ok_or(TAB)?;
        *slot = value;
        Ok(())
    }
}
