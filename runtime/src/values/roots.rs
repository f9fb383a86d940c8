//! The embedder's handles on GC objects, and the table through which they root them
//! (RATIONALE.md, "Garbage collection", step 3). The store keeps the table and scans it
//! (`store/gc/state.rs`); it lives here, below the store, as the values that hold
//! handles do.
//!
//! A [`Root`] names one object of one store and keeps it alive while any clone of it is
//! held: making one counts the object in its store's [`RootTable`], dropping the last
//! clone uncounts it, and every collection starts from the objects the table counts.
//! The table has a lock of its own, not the store's, so a handle may be dropped
//! anywhere, also while the store is locked or on another thread.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The objects of a store that handles hold, each with the number of handles made for
/// it and not yet dropped.
#[derive(Debug, Default)]
pub(crate) struct RootTable {
    held: HashMap<u32, u32>,
}

impl RootTable {
    /// The offsets of the objects held, as collection roots.
    pub(crate) fn offsets(&self) -> impl Iterator<Item = u64> + '_ {
        self.held.keys().map(|&o| u64::from(o))
    }
}

/// A store's root table, shared with the handles it made.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedRoots(Arc<Mutex<RootTable>>);

impl SharedRoots {
    pub(crate) fn lock(&self) -> MutexGuard<'_, RootTable> {
        // A panic while the table was locked left its counts whole (each change is one
        // map operation), so the table is still usable.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A handle on the object at `offset` of store `store`, rooting it until the handle
    /// and its clones are dropped.
    pub(crate) fn root(&self, store: u64, offset: u32) -> Root {
        *self.lock().held.entry(offset).or_insert(0) += 1;
        Root(Arc::new(Held {
            store,
            offset,
            roots: self.clone(),
        }))
    }
}

/// A rooting handle on one GC object: cheap to clone (its clones share the one count).
#[derive(Clone)]
pub struct Root(Arc<Held>);

struct Held {
    store: u64,
    offset: u32,
    roots: SharedRoots,
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut table = self.roots.lock();
        if let Some(count) = table.held.get_mut(&self.offset) {
            *count -= 1;
            if *count == 0 {
                table.held.remove(&self.offset);
            }
        }
    }
}

impl Root {
    /// The id of the store whose heap holds the object.
    pub(crate) fn store(&self) -> u64 {
        self.0.store
    }

    /// The object's offset in its store's heap: its raw form.
    pub(crate) fn offset(&self) -> u32 {
        self.0.offset
    }
}

/// Two handles are equal when they name the same object (`ref.eq`).
impl PartialEq for Root {
    fn eq(&self, other: &Root) -> bool {
        (self.store(), self.offset()) == (other.store(), other.offset())
    }
}

impl Eq for Root {}

impl std::hash::Hash for Root {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.store(), self.offset()).hash(state);
    }
}

impl std::fmt::Debug for Root {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "object@{:#x}", self.offset())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(roots: &SharedRoots) -> Vec<u64> {
        let mut v: Vec<u64> = roots.lock().offsets().collect();
        v.sort();
        v
    }

    #[test]
    fn a_handle_roots_its_object_until_its_last_clone_is_dropped() {
        let roots = SharedRoots::default();
        let a = roots.root(1, 64);
        let b = a.clone();
        let c = roots.root(1, 64);
        let d = roots.root(1, 128);
        assert_eq!(held(&roots), [64, 128]);
        drop(a);
        drop(c);
        assert_eq!(held(&roots), [64, 128], "a clone still holds 64");
        assert_eq!(b, roots.root(1, 64), "equal: the same object");
        drop(b);
        assert_eq!(held(&roots), [128]);
        drop(d);
        assert_eq!(held(&roots), [] as [u64; 0]);
    }
}
