//! The GC heap: objects in a linear memory no module can name, reclaimed by a
//! non-moving mark-sweep collector (RATIONALE.md, "Garbage collection").
//!
//! An object is named by its offset in the heap's memory (a multiple of [`GRANULE`],
//! never 0: offset 0 is null's). Compiled code reaches a field at `base + offset +
//! field offset`, through the same bounds checks, or guard pages, as a linear memory's
//! accesses, so even a wrong offset stays inside the heap's reservation. The collector
//! reads the heap through safe slices: a damaged heap is an error, never undefined
//! behaviour.
//!
//! Between collections, space comes from free blocks (size-class lists for small
//! sizes, best fit among them, first fit for larger ones) and then from the end of the used prefix (`top`),
//! growing the memory a page at a time. The caller asks [`GcHeap::should_collect`]
//! before allocating: once as many bytes were allocated since the last collection as
//! survived it (at least [`MIN_BUDGET`]), it collects, so the heap stays within about
//! twice its live bytes.

use super::layout::{Access, GRANULE, HEADER_BYTES, ObjectLayout};
use crate::module::MemoryType;
use crate::store::memory::{MemoryInstance, PAGE_SIZE};

/// The type id a free block's header holds instead of an object's type.
const FREE: u32 = u32::MAX;
/// The first offset an object may have (offset 0 is null).
const FIRST: u32 = GRANULE;
/// Free blocks of up to this many granules are kept in exact-size lists.
const SMALL_GRANULES: usize = 32;
/// Bytes allocated between collections at least, whatever survived the last one.
pub(crate) const MIN_BUDGET: u64 = 1 << 20;

/// How the collector finds an object's type layout from the id in its header.
pub(crate) trait Layouts {
    /// The layout of store type `type_id`, `None` if it is not a struct or array type.
    fn layout(&self, type_id: u32) -> Option<&ObjectLayout>;
}

/// The heap was found damaged (an object header that describes no object): a bug in
/// an engine, reported instead of acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeapDamaged {
    pub offset: u32,
}

/// What the collector has done, for tests and statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct GcStats {
    pub collections: u64,
    /// Bytes in objects after the last collection.
    pub live_bytes: u64,
    /// Bytes reclaimed by all collections.
    pub freed_bytes: u64,
}

pub(crate) struct GcHeap {
    memory: MemoryInstance,
    /// The end of the used prefix: `[FIRST, top)` holds objects and free blocks.
    top: u32,
    /// The most bytes the heap may grow to.
    max_bytes: u32,
    /// Free blocks of `g` granules (`1..=SMALL_GRANULES`) at `small[g]`.
    small: Vec<Vec<u32>>,
    /// Larger free blocks: (offset, bytes).
    large: Vec<(u32, u32)>,
    /// One bit per granule: an object or free block starts there.
    starts: Bits,
    /// One bit per granule: the object starting there was reached (during a collection).
    marks: Bits,
    /// Objects reached but not traced yet (kept between collections for its capacity).
    gray: Vec<u32>,
    allocated_since_collection: u64,
    stats: GcStats,
}

impl GcHeap {
    /// An empty heap that may grow to `max_bytes` (rounded down to whole pages, at most
    /// 4 GiB). `guarded`: compiled code reaches the heap without bounds checks, so its
    /// memory must fault past its end (`MemoryInstance::new`).
    pub(crate) fn new(max_bytes: u64, guarded: bool) -> Result<GcHeap, String> {
        let max_pages = (max_bytes / PAGE_SIZE as u64).clamp(1, 1 << 16);
        let ty = MemoryType::new(1, Some(max_pages));
        let memory = MemoryInstance::new(ty, None, guarded)?;
        let max_bytes = u32::try_from(max_pages * PAGE_SIZE as u64).unwrap_or(u32::MAX);
        let mut heap = GcHeap {
            memory,
            top: FIRST,
            max_bytes,
            small: vec![Vec::new(); SMALL_GRANULES + 1],
            large: Vec::new(),
            starts: Bits::default(),
            marks: Bits::default(),
            gray: Vec::new(),
            allocated_since_collection: 0,
            stats: GcStats::default(),
        };
        heap.fit_bitmaps();
        Ok(heap)
    }

    /// The heap's memory, for the engines (its definition) and for reading objects.
    pub(crate) fn memory(&self) -> &MemoryInstance {
        &self.memory
    }

    pub(crate) fn stats(&self) -> GcStats {
        self.stats
    }

    /// Whether a collection should run before the next allocation.
    pub(crate) fn should_collect(&self) -> bool {
        self.allocated_since_collection >= self.stats.live_bytes.max(MIN_BUDGET)
    }

    /// A new object of `size` bytes (from [`ObjectLayout::object_size`]) whose header
    /// says `type_id` and `len`, every other byte zero; `None` if the heap is full
    /// (the caller may collect and try again).
    pub(crate) fn alloc(&mut self, type_id: u32, len: u32, size: u32) -> Option<u32> {
        debug_assert!(size >= HEADER_BYTES && size.is_multiple_of(GRANULE) && type_id != FREE);
        let offset = self.take_block(size)?;
        let bytes = self.memory.data_mut();
        let object = &mut bytes[offset as usize..(offset + size) as usize];
        object.fill(0);
        object[..4].copy_from_slice(&type_id.to_le_bytes());
        object[4..8].copy_from_slice(&len.to_le_bytes());
        self.starts.set(offset / GRANULE);
        self.allocated_since_collection += u64::from(size);
        Some(offset)
    }

    /// Whether `raw` (a reference's raw form, or any word when scanning conservatively)
    /// is the offset of an object of this heap.
    pub(crate) fn is_object(&self, raw: u64) -> bool {
        raw != 0
            && raw.is_multiple_of(u64::from(GRANULE))
            && raw < u64::from(self.top)
            && self.starts.get(raw as u32 / GRANULE)
            && self.read_u32(raw as u32) != FREE
    }

    /// The store type id of the object at `offset`.
    pub(crate) fn type_of(&self, offset: u32) -> u32 {
        self.read_u32(offset)
    }

    /// The length of the array at `offset` (0 for a struct).
    pub(crate) fn len_of(&self, offset: u32) -> u32 {
        self.read_u32(offset + 4)
    }

    /// The bytes `[at, at + len)` of the heap, `None` past its used part. The engines
    /// check offsets against the object's size first; this bound keeps a wrong one
    /// inside the heap all the same.
    pub(crate) fn bytes(&self, at: u64, len: u64) -> Option<&[u8]> {
        let end = at.checked_add(len).filter(|&e| e <= u64::from(self.top))?;
        self.memory.data().get(at as usize..end as usize)
    }

    pub(crate) fn bytes_mut(&mut self, at: u64, len: u64) -> Option<&mut [u8]> {
        let end = at.checked_add(len).filter(|&e| e <= u64::from(self.top))?;
        self.memory.data_mut().get_mut(at as usize..end as usize)
    }

    /// Reads a field or element at byte `at` of the heap.
    pub(crate) fn read(&self, at: u64, access: Access) -> Option<u128> {
        Some(access.load(self.bytes(at, access.size().into())?))
    }

    /// Writes a field or element at byte `at` of the heap.
    pub(crate) fn write(&mut self, at: u64, access: Access, value: u128) -> Option<()> {
        access.store(self.bytes_mut(at, access.size().into())?, value);
        Some(())
    }

    /// Reclaims every object that `roots` do not reach. `roots` are references' raw
    /// forms or, scanning conservatively, any words: a word that is not an object's
    /// offset is ignored, so an integer that looks like one keeps that object alive
    /// but never frees one in use.
    pub(crate) fn collect(
        &mut self,
        layouts: &impl Layouts,
        roots: impl IntoIterator<Item = u64>,
    ) -> Result<(), HeapDamaged> {
        for root in roots {
            self.reach(root);
        }
        while let Some(object) = self.gray.pop() {
            self.trace(object, layouts)?;
        }
        self.sweep(layouts)?;
        self.stats.collections += 1;
        self.allocated_since_collection = 0;
        Ok(())
    }

    fn reach(&mut self, raw: u64) {
        if self.is_object(raw) && !self.marks.get(raw as u32 / GRANULE) {
            self.marks.set(raw as u32 / GRANULE);
            self.gray.push(raw as u32);
        }
    }

    /// Reaches every object that the object at `object` references.
    fn trace(&mut self, object: u32, layouts: &impl Layouts) -> Result<(), HeapDamaged> {
        let damaged = HeapDamaged { offset: object };
        let layout = layouts
            .layout(self.type_of(object))
            .ok_or(damaged.clone())?;
        match layout {
            ObjectLayout::Struct { traced, .. } => {
                for &field in traced.iter() {
                    let raw = self.read_u64(object + field);
                    self.reach(raw);
                }
            }
            ObjectLayout::Array { traced: false, .. } => {}
            ObjectLayout::Array { element, .. } => {
                let len = self.len_of(object);
                for index in 0..len {
                    let at = u64::from(object) + ObjectLayout::element_offset(*element, index);
                    let at = u32::try_from(at).map_err(|_| damaged.clone())?;
                    let raw = self.read_u64(at);
                    self.reach(raw);
                }
            }
        }
        Ok(())
    }

    /// Frees every unmarked object, merging neighbouring free space into one block,
    /// and clears the marks. A free run that ends at `top` goes back to the prefix.
    fn sweep(&mut self, layouts: &impl Layouts) -> Result<(), HeapDamaged> {
        for list in &mut self.small {
            list.clear();
        }
        self.large.clear();
        let (mut live, mut freed) = (0u64, 0u64);
        let mut run: Option<u32> = None;
        let mut at = FIRST;
        while at < self.top {
            let granule = at / GRANULE;
            let type_id = self.read_u32(at);
            let size = if type_id == FREE {
                self.read_u32(at + 4)
            } else {
                (layouts.layout(type_id))
                    .and_then(|l| l.object_size(self.len_of(at)))
                    .unwrap_or(0)
            };
            if size == 0 || !size.is_multiple_of(GRANULE) || size > self.top - at {
                return Err(HeapDamaged { offset: at });
            }
            if type_id != FREE && self.marks.get(granule) {
                self.marks.clear(granule);
                live += u64::from(size);
                if let Some(start) = run.take() {
                    self.free_block(start, at - start);
                }
            } else {
                if type_id != FREE {
                    freed += u64::from(size);
                }
                match run {
                    Some(_) => self.starts.clear(granule),
                    None => run = Some(at),
                }
            }
            at += size;
        }
        if let Some(start) = run {
            self.starts.clear(start / GRANULE);
            self.top = start;
        }
        self.stats.live_bytes = live;
        self.stats.freed_bytes += freed;
        Ok(())
    }

    /// Records `[start, start + size)` as one free block.
    fn free_block(&mut self, start: u32, size: u32) {
        self.write_u32(start, FREE);
        self.write_u32(start + 4, size);
        self.starts.set(start / GRANULE);
        let granules = (size / GRANULE) as usize;
        match self.small.get_mut(granules) {
            Some(list) => list.push(start),
            None => self.large.push((start, size)),
        }
    }

    /// A block of exactly `size` bytes: an exact-size free block, part of a larger one,
    /// or the prefix's end, growing the memory if it must and may.
    fn take_block(&mut self, size: u32) -> Option<u32> {
        let granules = (size / GRANULE) as usize;
        if let Some(offset) = self.small.get_mut(granules).and_then(|list| list.pop()) {
            return Some(offset);
        }
        // The smallest larger small block, then the first large one that fits; what is
        // left of it stays free.
        let larger_small = (granules + 1..=SMALL_GRANULES).find_map(|g| {
            let offset = self.small[g].pop()?;
            Some((offset, g as u32 * GRANULE))
        });
        let large = || {
            let i = self.large.iter().position(|&(_, bytes)| bytes >= size)?;
            Some(self.large.swap_remove(i))
        };
        if let Some((offset, bytes)) = larger_small.or_else(large) {
            if bytes > size {
                self.free_block(offset + size, bytes - size);
            }
            return Some(offset);
        }
        let end = self.top.checked_add(size)?;
        if end > self.max_bytes {
            return None;
        }
        if end as usize > self.memory.len() {
            let missing = end as usize - self.memory.len();
            self.memory.grow(missing.div_ceil(PAGE_SIZE) as u64)?;
            self.fit_bitmaps();
        }
        let offset = self.top;
        self.top = end;
        Some(offset)
    }

    fn fit_bitmaps(&mut self) {
        let granules = self.memory.len() / GRANULE as usize;
        self.starts.resize(granules);
        self.marks.resize(granules);
    }

    fn read_u32(&self, at: u32) -> u32 {
        let bytes = &self.memory.data()[at as usize..at as usize + 4];
        u32::from_le_bytes(bytes.try_into().expect("4 bytes"))
    }

    fn read_u64(&self, at: u32) -> u64 {
        let bytes = &self.memory.data()[at as usize..at as usize + 8];
        u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
    }

    fn write_u32(&mut self, at: u32, value: u32) {
        self.memory.data_mut()[at as usize..at as usize + 4].copy_from_slice(&value.to_le_bytes());
    }
}

/// A growable bit set.
#[derive(Default)]
struct Bits(Vec<u64>);

impl Bits {
    fn resize(&mut self, bits: usize) {
        self.0.resize(bits.div_ceil(64), 0);
    }

    fn get(&self, i: u32) -> bool {
        (self.0.get(i as usize / 64)).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn set(&mut self, i: u32) {
        self.0[i as usize / 64] |= 1 << (i % 64);
    }

    fn clear(&mut self, i: u32) {
        self.0[i as usize / 64] &= !(1 << (i % 64));
    }
}
