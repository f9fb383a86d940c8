//! Access to a store from the embedder (`&Store`) or from inside a host function
//! (`&mut Caller`), behind one trait so every handle method works in both places.

use crate::api::{Extern, Func, Instance, Store, Value};
use crate::error::{Error, Result};
use crate::store::{StoreData, StoreExtern};

/// Something that can lend the store's data: `&Store` (takes the lock) or
/// `&mut Caller` (already inside a call, holding it).
pub trait AsContext {
    #[doc(hidden)]
    fn with_data<R>(&mut self, f: impl FnOnce(&mut StoreData) -> Result<R>) -> Result<R>;
}

impl AsContext for &Store {
    fn with_data<R>(&mut self, f: impl FnOnce(&mut StoreData) -> Result<R>) -> Result<R> {
        let mut guard = self.lock()?;
        f(&mut guard)
    }
}

impl AsContext for &mut Caller<'_> {
    fn with_data<R>(&mut self, f: impl FnOnce(&mut StoreData) -> Result<R>) -> Result<R> {
        f(self.store)
    }
}

/// What a host function sees of the call: the store, and the Wasm instance that called
/// it (for its exported memory, as WASI functions need).
pub struct Caller<'a> {
    pub(crate) store: &'a mut StoreData,
    pub(crate) instance: Option<u32>,
}

impl<'a> Caller<'a> {
    pub(crate) fn new(store: &'a mut StoreData, instance: Option<u32>) -> Caller<'a> {
        Caller { store, instance }
    }

    /// An export of the calling instance.
    pub fn get_export(&self, name: &str) -> Option<Extern> {
        let inst = self.instance?;
        let ext = *self.store.instances[inst as usize].exports.get(name)?;
        Some(Extern::from_store(self.store.id, ext))
    }

    /// The calling instance, `None` when the embedder called the host function
    /// directly. With it a host function reaches everything the instance exports, by
    /// name (`Instance::get_export`) or all at once (`Instance::exports`, e.g. to tell
    /// which exported tag an exception from a call back carries), through `&mut Caller`.
    pub fn instance(&self) -> Option<Instance> {
        Some(Instance {
            store: self.store.id,
            index: self.instance?,
        })
    }

    /// The calling instance's name, if it has one.
    pub fn instance_name(&self) -> Option<&str> {
        self.store.instances[self.instance? as usize]
            .name
            .as_deref()
    }

    /// The bytes of the calling instance's exported memory `name`, borrowed mutably for
    /// as long as this `Caller` is. A host function keeps its own state in what its
    /// closure captures (e.g. an `Arc<Mutex<_>>`), so it can hold this slice and that
    /// state at once, which WASI needs (read an iovec list, write into the file it
    /// names). `None` when the caller is not a Wasm instance or exports no memory of
    /// that name. The slice cannot outlive a `memory.grow`: growing needs the caller.
    pub fn exported_memory_mut(&mut self, name: &str) -> Option<&mut [u8]> {
        let inst = self.instance?;
        let index = match self.store.instances[inst as usize].exports.get(name)? {
            StoreExtern::Memory(index) => *index,
            _ => return None,
        };
        Some(self.store.memories[index as usize].data_mut())
    }

    /// Calls back into Wasm (or another host function).
    pub fn call(&mut self, func: Func, args: &[Value]) -> Result<Vec<Value>> {
        func.call_on(self.store, args)
    }

    /// Closes the calling instance with `code` and returns the exit error the host
    /// function should return, so the exit propagates to the embedder unwrapped
    /// (WASI's `proc_exit`).
    pub fn exit(&mut self, code: u32) -> Error {
        if let Some(inst) = self.instance {
            // Close hooks' errors cannot travel with the exit; the exit code is what the
            // embedder asked for, so it wins.
            let (hooks, code) = self.store.close_instance(inst, code);
            let _ = crate::store::run_close_hooks(hooks, code);
        }
        Error::exit(code)
    }
}
