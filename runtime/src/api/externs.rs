//! Memory, table and global handles, and `Extern`, the union of exportable things.

use crate::api::{AsContext, Func, Store, Tag, Value};
use crate::error::{Error, Result};
use crate::module::{ExternKind, GlobalType, MemoryType, TableType};
use crate::store::{
    GlobalInstance, MemoryInstance, StoreData, StoreExtern, StoreId, TableInstance,
};
use crate::values::{RawValue, RefType};

/// Anything a module can import or export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Extern {
    Func(Func),
    Table(Table),
    Memory(Memory),
    Global(Global),
    Tag(Tag),
}

impl Extern {
    /// The handle of store `store`'s extern `ext`.
    pub(crate) fn from_store(store: StoreId, ext: StoreExtern) -> Extern {
        match ext {
            StoreExtern::Func(index) => Extern::Func(Func::from_raw_parts(store, index)),
            StoreExtern::Table(index) => Extern::Table(Table { store, index }),
            StoreExtern::Memory(index) => Extern::Memory(Memory { store, index }),
            StoreExtern::Global(index) => Extern::Global(Global { store, index }),
            StoreExtern::Tag(index) => Extern::Tag(Tag { store, index }),
        }
    }

    /// The store's name for this extern (its store is checked by whoever uses it).
    pub(crate) fn to_store(self) -> StoreExtern {
        match self {
            Extern::Func(f) => StoreExtern::Func(f.index),
            Extern::Table(t) => StoreExtern::Table(t.index),
            Extern::Memory(m) => StoreExtern::Memory(m.index),
            Extern::Global(g) => StoreExtern::Global(g.index),
            Extern::Tag(t) => StoreExtern::Tag(t.index),
        }
    }

    pub fn kind(&self) -> ExternKind {
        match self {
            Extern::Func(_) => ExternKind::Func,
            Extern::Table(_) => ExternKind::Table,
            Extern::Memory(_) => ExternKind::Memory,
            Extern::Global(_) => ExternKind::Global,
            Extern::Tag(_) => ExternKind::Tag,
        }
    }

    pub fn into_func(self) -> Option<Func> {
        match self {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }
    pub fn into_table(self) -> Option<Table> {
        match self {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }
    pub fn into_memory(self) -> Option<Memory> {
        match self {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }
    pub fn into_global(self) -> Option<Global> {
        match self {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }
    pub fn into_tag(self) -> Option<Tag> {
        match self {
            Extern::Tag(t) => Some(t),
            _ => None,
        }
    }
}

/// Runs `f` on the store's data after checking that the handle (`what` of store
/// `store`) belongs to it.
fn with_store<R>(
    mut ctx: impl AsContext,
    store: StoreId,
    what: &str,
    f: impl FnOnce(&mut StoreData) -> Result<R>,
) -> Result<R> {
    ctx.with_data(|d| {
        if d.id != store {
            return Err(Error::Usage(format!("{what} belongs to another store")));
        }
        f(d)
    })
}

/// A linear memory of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Memory {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Memory {
    /// A new memory owned by the host (to export from a host module).
    pub fn new(store: &Store, ty: MemoryType) -> Result<Memory> {
        let mut d = store.lock()?;
        new_memory(&mut d, ty)
    }

    fn with<R>(
        &self,
        ctx: impl AsContext,
        f: impl FnOnce(&mut MemoryInstance) -> Result<R>,
    ) -> Result<R> {
        with_store(ctx, self.store, "memory", |d| {
            f(&mut d.memories[self.index as usize])
        })
    }

    pub fn ty(&self, ctx: impl AsContext) -> Result<MemoryType> {
        self.with(ctx, |m| Ok(m.ty))
    }

    /// Size in 64 KiB pages.
    pub fn size(&self, ctx: impl AsContext) -> Result<u64> {
        self.with(ctx, |m| Ok(m.pages()))
    }

    /// Size in bytes.
    pub fn data_size(&self, ctx: impl AsContext) -> Result<usize> {
        self.with(ctx, |m| Ok(m.len()))
    }

    /// Grows by `delta` pages; returns the old size in pages.
    pub fn grow(&self, ctx: impl AsContext, delta: u64) -> Result<u64> {
        self.with(ctx, |m| {
            m.grow(delta)
                .ok_or_else(|| Error::Usage(format!("memory cannot grow by {delta} pages")))
        })
    }

    /// Whether the memory is addressed by i64 (memory64); its size, `grow` and offsets
    /// are u64 either way.
    pub fn is_64(&self, ctx: impl AsContext) -> Result<bool> {
        self.with(ctx, |m| Ok(m.is_64()))
    }

    /// Copies `buf.len()` bytes from byte `offset` (a 64-bit memory may be addressed
    /// beyond 4 GiB).
    pub fn read(&self, ctx: impl AsContext, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.with(ctx, |m| {
            let src = byte_range(offset, buf.len(), m.len())
                .map(|r| &m.data()[r])
                .ok_or_else(|| Error::Usage("memory read out of bounds".into()))?;
            buf.copy_from_slice(src);
            Ok(())
        })
    }

    /// Writes `bytes` at byte `offset`.
    pub fn write(&self, ctx: impl AsContext, offset: u64, bytes: &[u8]) -> Result<()> {
        self.with(ctx, |m| {
            let r = byte_range(offset, bytes.len(), m.len())
                .ok_or_else(|| Error::Usage("memory write out of bounds".into()))?;
            m.data_mut()[r].copy_from_slice(bytes);
            Ok(())
        })
    }

    /// Calls `f` with the whole memory's bytes, borrowed (no copy; the store is locked
    /// while `f` runs, so `f` must not use the store).
    pub fn with_data<R>(&self, ctx: impl AsContext, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
        self.with(ctx, |m| Ok(f(m.data())))
    }

    /// A copy of the whole memory.
    pub fn to_vec(&self, ctx: impl AsContext) -> Result<Vec<u8>> {
        self.with(ctx, |m| Ok(m.data().to_vec()))
    }
}

/// `offset..offset + len` when it lies within `0..size`.
fn byte_range(offset: u64, len: usize, size: usize) -> Option<std::ops::Range<usize>> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(len).filter(|&end| end <= size)?;
    Some(start..end)
}

pub(crate) fn new_memory(d: &mut StoreData, ty: MemoryType) -> Result<Memory> {
    let alloc = d.allocator.clone();
    let m =
        MemoryInstance::new(ty, alloc.as_deref(), d.signal_traps).map_err(Error::Instantiation)?;
    d.memories.push(m);
    Ok(Memory {
        store: d.id,
        index: d.memories.len() as u32 - 1,
    })
}

/// A table of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Table {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

/// The raw form of `v` for a table of element type `ty`; fails unless `v` is of that
/// type (so a table of non-nullable references never gets a null this way).
fn ref_raw(d: &StoreData, ty: RefType, v: Value) -> Result<u64> {
    v.check_type(ty.into(), d)
        .map_err(|e| Error::Usage(format!("value does not fit a {ty} table: {e}")))?;
    Ok(v.to_raw() as u64)
}

impl Table {
    /// A new table owned by the host, every element `init`.
    pub fn new(store: &Store, ty: TableType, init: Value) -> Result<Table> {
        let mut d = store.lock()?;
        new_table(&mut d, ty, init)
    }

    fn with<R>(
        &self,
        ctx: impl AsContext,
        f: impl FnOnce(&mut StoreData, u32) -> Result<R>,
    ) -> Result<R> {
        with_store(ctx, self.store, "table", |d| f(d, self.index))
    }

    pub fn ty(&self, ctx: impl AsContext) -> Result<TableType> {
        self.with(ctx, |d, i| Ok(d.tables[i as usize].ty))
    }

    /// Whether the table is indexed by i64 (table64); its size, indices and `grow`
    /// are u64 either way.
    pub fn is_64(&self, ctx: impl AsContext) -> Result<bool> {
        self.with(ctx, |d, i| Ok(d.tables[i as usize].is_64()))
    }

    /// The number of elements.
    pub fn size(&self, ctx: impl AsContext) -> Result<u64> {
        self.with(ctx, |d, i| Ok(d.tables[i as usize].size()))
    }

    pub fn get(&self, ctx: impl AsContext, index: u64) -> Result<Value> {
        self.with(ctx, |d, i| {
            let t: &TableInstance = &d.tables[i as usize];
            let raw = usize::try_from(index)
                .ok()
                .and_then(|index| t.elements.get(index))
                .copied()
                .ok_or_else(|| Error::Usage(format!("table index {index} out of bounds")))?;
            Ok(Value::from_raw(t.ty.element.into(), raw.into(), d))
        })
    }

    pub fn set(&self, ctx: impl AsContext, index: u64, value: Value) -> Result<()> {
        self.with(ctx, |d, i| {
            let raw = ref_raw(d, d.tables[i as usize].ty.element, value)?;
            let slot = usize::try_from(index)
                .ok()
                .and_then(|index| d.tables[i as usize].elements.get_mut(index))
                .ok_or_else(|| Error::Usage(format!("table index {index} out of bounds")))?;
            *slot = raw;
            Ok(())
        })
    }

    /// Grows by `delta` elements set to `init`; returns the old size.
    pub fn grow(&self, ctx: impl AsContext, delta: u64, init: Value) -> Result<u64> {
        self.with(ctx, |d, i| {
            let raw = ref_raw(d, d.tables[i as usize].ty.element, init)?;
            d.tables[i as usize]
                .grow(delta, raw)
                .ok_or_else(|| Error::Usage(format!("table cannot grow by {delta}")))
        })
    }
}

pub(crate) fn new_table(d: &mut StoreData, ty: TableType, init: Value) -> Result<Table> {
    let raw = ref_raw(d, ty.element, init)?;
    let t = TableInstance::new(ty, raw).ok_or_else(|| {
        Error::Instantiation(format!("cannot allocate a table of {} elements", ty.min))
    })?;
    d.tables.push(t);
    Ok(Table {
        store: d.id,
        index: d.tables.len() as u32 - 1,
    })
}

/// A global of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Global {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Global {
    /// A new global owned by the host.
    pub fn new(store: &Store, value: Value, mutable: bool) -> Result<Global> {
        let mut d = store.lock()?;
        new_global(&mut d, value, mutable)
    }

    fn with<R>(
        &self,
        ctx: impl AsContext,
        f: impl FnOnce(&mut StoreData, u32) -> Result<R>,
    ) -> Result<R> {
        with_store(ctx, self.store, "global", |d| f(d, self.index))
    }

    pub fn ty(&self, ctx: impl AsContext) -> Result<GlobalType> {
        self.with(ctx, |d, i| Ok(d.globals[i as usize].ty))
    }

    pub fn get(&self, ctx: impl AsContext) -> Result<Value> {
        self.with(ctx, |d, i| Ok(global_value(&d.globals[i as usize], d)))
    }

    pub fn set(&self, ctx: impl AsContext, value: Value) -> Result<()> {
        self.with(ctx, |d, i| {
            let g = &d.globals[i as usize];
            if !g.ty.mutable {
                return Err(Error::Usage("cannot set an immutable global".into()));
            }
            value
                .check_type(g.ty.content, d)
                .map_err(|e| Error::Usage(format!("global is {}: {e}", g.ty.content)))?;
            d.globals[i as usize].value = value.to_raw();
            Ok(())
        })
    }
}

fn global_value(g: &GlobalInstance, d: &StoreData) -> Value {
    Value::from_raw(g.ty.content, g.value as RawValue, d)
}

pub(crate) fn new_global(d: &mut StoreData, value: Value, mutable: bool) -> Result<Global> {
    value.check_store(d)?;
    d.globals.push(Box::new(GlobalInstance {
        value: value.to_raw(),
        ty: GlobalType {
            content: value.ty(),
            mutable,
        },
    }));
    Ok(Global {
        store: d.id,
        index: d.globals.len() as u32 - 1,
    })
}
