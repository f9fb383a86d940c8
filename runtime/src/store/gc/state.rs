//! A store's GC state: its heap (made at the first allocation), the roots its handles
//! hold, and when a collection may run (RATIONALE.md, "Garbage collection", step 3).
//!
//! A collection must see every reference that will be used again. The store's own
//! places are scanned whole and conservatively (every word of globals, tables, element
//! segments, exception payloads; words that are no object are ignored): they need no
//! types, and a word that only looks like an object's offset keeps it alive one cycle
//! longer, never frees one in use. The rest is the engines':
//!
//! - the interpreter's value stack of the running activation, which the allocating
//!   instruction passes in, and of the activations suspended in host calls, which copy
//!   their live cells here (`suspend`) for the length of the call, as the pool they come
//!   from is out of the store's reach;
//! - native frames, which Cranelift's stack maps describe: the `gc_object_op` libcall
//!   passes the roots they name (`native/stack_roots.rs`, step 4b).
//!
//! Allocations outside running Wasm (the API, constant expressions while instantiating)
//! never collect either: their callers hold fresh references in Rust variables that no
//! scan sees. The next allocation by running code collects if it is due.

use std::sync::OnceLock;

use super::heap::GcHeap;
use super::layout::ObjectLayout;
use crate::error::{Error, Result, TrapKind};
use crate::store::StoreData;
use crate::values::roots::SharedRoots;
use crate::values::{AnyRef, ArrayRef, StructRef};

/// The roots an engine holds outside the store, given to the `FnMut` word by word; asked
/// for only when a collection runs, with the store (to find its frames' maps).
pub(crate) type EngineRoots<'a> = &'a dyn Fn(&StoreData, &mut dyn FnMut(u64));

/// The most bytes a store's GC heap may take: what 32-bit offsets reach.
const HEAP_LIMIT: u64 = 1 << 32;

#[derive(Default)]
pub(crate) struct GcState {
    /// Boxed: most stores never make an object, and a store's data is moved while it
    /// is set up, so its size is paid per instantiation (RATIONALE.md, "Instantiation").
    heap: Option<Box<GcHeap>>,
    /// Made with the first rooting handle (a store that never hands one out allocates no
    /// table).
    pub(crate) roots: OnceLock<SharedRoots>,
    /// The live value-stack cells of interpreter activations suspended in host calls,
    /// innermost last.
    suspended: Vec<u64>,
}

impl GcState {
    /// The heap, if any object was ever allocated.
    pub(crate) fn heap(&self) -> Option<&GcHeap> {
        self.heap.as_deref()
    }

    pub(crate) fn heap_mut(&mut self) -> Option<&mut GcHeap> {
        self.heap.as_deref_mut()
    }

    /// Whether `raw` is the raw form of an object of this store's heap.
    pub(crate) fn is_object(&self, raw: u64) -> bool {
        self.heap.as_ref().is_some_and(|h| h.is_object(raw))
    }

    /// Keeps `cells` (an interpreter activation's live value-stack cells) as roots until
    /// [`GcState::resume`] with the returned mark; nothing is kept while no object
    /// exists, as none can be referenced.
    pub(crate) fn suspend(&mut self, cells: &[u64]) -> usize {
        let mark = self.suspended.len();
        if self.heap.is_some() {
            self.suspended.extend_from_slice(cells);
        }
        mark
    }

    pub(crate) fn resume(&mut self, mark: usize) {
        self.suspended.truncate(mark);
    }
}

impl StoreData {
    /// A new object of store type `type_id` (a struct or array type) with `len`
    /// elements (ignored for a struct), all bytes after its header zero. `stack`: the
    /// allocating interpreter activation's live value-stack cells, `None` when no Wasm
    /// of this store is allocating (no collection then, see the module docs).
    pub(crate) fn gc_alloc(
        &mut self,
        type_id: u32,
        len: u32,
        stack: Option<EngineRoots<'_>>,
    ) -> Result<u32> {
        let layout = (self.types.def(type_id).layout.as_ref())
            .ok_or_else(|| Error::Usage(format!("type {type_id} has no objects")))?;
        let size = layout.object_size(len).ok_or(TrapKind::GcHeapExhausted)?;
        if self.gc.heap.is_none() {
            let heap = GcHeap::new(HEAP_LIMIT, false).map_err(Error::Usage)?;
            self.gc.heap = Some(Box::new(heap));
        }
        let due = self.gc.heap.as_ref().is_some_and(|h| h.should_collect());
        if let Some(stack) = stack
            && due
        {
            self.gc_collect(stack)?;
        }
        let heap = self.gc.heap.as_mut().expect("made above");
        if let Some(offset) = heap.alloc(type_id, len, size) {
            return Ok(offset);
        }
        if let Some(stack) = stack
            && !due
        {
            self.gc_collect(stack)?;
            let heap = self.gc.heap.as_mut().expect("made above");
            if let Some(offset) = heap.alloc(type_id, len, size) {
                return Ok(offset);
            }
        }
        Err(TrapKind::GcHeapExhausted.into())
    }

    /// Collects the heap from every root: the store's places, the handles, the
    /// suspended activations and the engine's `stack`.
    fn gc_collect(&mut self, stack: EngineRoots<'_>) -> Result<()> {
        let mut engine_roots = Vec::new();
        stack(self, &mut |w| engine_roots.push(w));
        let StoreData {
            gc,
            types,
            globals,
            tables,
            instances,
            exceptions,
            ..
        } = self;
        let Some(heap) = gc.heap.as_mut() else {
            return Ok(());
        };
        let roots = gc.roots.get().map(SharedRoots::lock);
        let globals = globals
            .iter()
            .flat_map(|g| [g.value as u64, (g.value >> 64) as u64]);
        let tables = tables.iter().flat_map(|t| t.elements.iter().copied());
        let elems = (instances.iter()).flat_map(|i| i.elems.iter().flat_map(|e| e.iter().copied()));
        let payloads = (exceptions.iter())
            .flat_map(|e| e.payload.iter().flat_map(|&v| [v as u64, (v >> 64) as u64]));
        let all = (roots.iter().flat_map(|r| r.offsets()))
            .chain(gc.suspended.iter().copied())
            .chain(engine_roots)
            .chain(globals)
            .chain(tables)
            .chain(elems)
            .chain(payloads);
        heap.collect(types, all).map_err(|damaged| {
            Error::Usage(format!(
                "the GC heap is damaged at offset {:#x} (an engine bug)",
                damaged.offset
            ))
        })
    }

    /// A handle on the object at `offset`, which roots it; `None` if there is no object
    /// there (a verified engine never hands out such a word).
    pub(crate) fn object_ref(&self, offset: u32) -> Option<AnyRef> {
        let layout = self.gc_layout_of(offset);
        debug_assert!(layout.is_some(), "raw reference {offset:#x} is no object");
        let root = (self.gc.roots.get_or_init(SharedRoots::default)).root(self.id.0, offset);
        match layout? {
            ObjectLayout::Struct { .. } => Some(AnyRef::Struct(StructRef(root))),
            ObjectLayout::Array { .. } => Some(AnyRef::Array(ArrayRef(root))),
        }
    }

    /// The layout of the object at `offset` of the heap, if it is an object.
    pub(crate) fn gc_layout_of(&self, offset: u32) -> Option<&ObjectLayout> {
        let heap = self.gc.heap.as_ref()?;
        if !heap.is_object(offset.into()) {
            return None;
        }
        self.types.def(heap.type_of(offset)).layout.as_ref()
    }
}
