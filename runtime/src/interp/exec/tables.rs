//! Table instructions on a 64-bit table (table64), after an `OtherMemory` prefix: run by
//! the outer loop (`other_memory.rs`), like a 64-bit memory's, so that the execution
//! loop's table arms stay those of 32-bit tables. Each takes its operands as the slots
//! hold them and reads them as its table's index type (i64 on a 64-bit table, i32
//! otherwise: `table.copy` may name one of each), then runs the store's operation on the
//! store index of the instance's table.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#table-instructions>.

use crate::error::TrapKind;
use crate::store::{StoreData, address_operand};

/// The store index of table `table` of `instance`, and whether it is 64-bit.
fn table_of(store: &StoreData, instance: usize, table: u32) -> (u32, bool) {
    let t = store.instances[instance].tables[table as usize];
    (t, store.tables[t as usize].is_64())
}

/// `table.get`.
pub(super) fn get(
    store: &StoreData,
    instance: usize,
    table: u32,
    index: u64,
) -> Result<u64, TrapKind> {
    let (t, is_64) = table_of(store, instance, table);
    store.table_get(t, address_operand(index, is_64))
}

/// `table.set`.
pub(super) fn set(
    store: &mut StoreData,
    instance: usize,
    table: u32,
    index: u64,
    value: u64,
) -> Result<(), TrapKind> {
    let (t, is_64) = table_of(store, instance, table);
    store.table_set(t, address_operand(index, is_64), value)
}

/// `table.size`.
pub(super) fn size(store: &StoreData, instance: usize, table: u32) -> u64 {
    let (t, _) = table_of(store, instance, table);
    store.tables[t as usize].size()
}

/// `table.grow`: the old size, or -1 as the table's index type.
pub(super) fn grow(
    store: &mut StoreData,
    instance: usize,
    table: u32,
    delta: u64,
    init: u64,
) -> u64 {
    let (t, is_64) = table_of(store, instance, table);
    let old = store.table_grow(t, address_operand(delta, is_64), init) as u64;
    address_operand(old, is_64)
}

/// `table.fill`.
pub(super) fn fill(
    store: &mut StoreData,
    instance: usize,
    table: u32,
    [dst, value, len]: [u64; 3],
) -> Result<(), TrapKind> {
    let (t, is_64) = table_of(store, instance, table);
    let (dst, len) = (address_operand(dst, is_64), address_operand(len, is_64));
    store.table_fill(t, dst, value, len)
}

/// `table.copy` from table `src_table` to `dst_table`: each index has its table's type,
/// the length is i64 only when both tables are 64-bit.
pub(super) fn copy(
    store: &mut StoreData,
    instance: usize,
    [dst_table, src_table]: [u32; 2],
    [dst, src, len]: [u64; 3],
) -> Result<(), TrapKind> {
    let (dt, dst_64) = table_of(store, instance, dst_table);
    let (st, src_64) = table_of(store, instance, src_table);
    let dst = address_operand(dst, dst_64);
    let src = address_operand(src, src_64);
    let len = address_operand(len, dst_64 && src_64);
    store.table_copy(dt, st, dst, src, len)
}

/// `table.init` of element segment `elem`: the destination has the table's index type;
/// the segment offset and the length are i32.
pub(super) fn init(
    store: &mut StoreData,
    instance: usize,
    [table, elem]: [u32; 2],
    [dst, src, len]: [u64; 3],
) -> Result<(), TrapKind> {
    let (t, is_64) = table_of(store, instance, table);
    let dst = address_operand(dst, is_64);
    let (src, len) = (src as u32 as u64, len as u32 as u64);
    store.table_init(instance as u32, t, elem, dst, src, len, true)
}
