//! The store: every runtime object of a group of linked modules.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/runtime.html#store>. Semantics
//! follow wazero's `store.go` (see RATIONALE.md): a registry of module instances by
//! name, store-wide function type ids, data and element instances per module instance.
//!
//! Runtime objects live in arenas inside [`StoreData`] and are named by `u32` indices;
//! the public handles (`Func`, `Memory`, ...) carry such an index plus the store's id.

mod global;
mod instance;
mod instantiate;
mod memory;
mod ops;
mod registry;
mod table;
mod zeroed;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub use global::GlobalInstance;
pub use instance::CloseHook;
pub(crate) use instance::InstanceData;
pub(crate) use instantiate::instantiate;
pub use memory::{
    LinearMemory, MAX_PAGES, MemoryAllocator, MemoryInstance, PAGE_SIZE, VMMemoryDefinition,
};
pub(crate) use registry::Registry;
pub use table::{MAX_TABLE_ELEMENTS, TableInstance, VMTableDefinition};

use crate::api::{Caller, Instance};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::values::{FuncType, Value};

/// Identifies a store, so a handle from one store is refused by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoreId(pub(crate) u64);

impl StoreId {
    fn fresh() -> StoreId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        StoreId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The body of a host function: arguments in, results written to the slice (already
/// sized and filled with defaults).
pub type HostFuncImpl =
    Arc<dyn Fn(&mut Caller<'_>, &[Value], &mut [Value]) -> Result<()> + Send + Sync>;

#[derive(Clone)]
pub(crate) enum FuncKind {
    /// A function defined by a module instance; `index` is in the module's function
    /// index space (so `index - num_imported_funcs` is its body).
    Wasm { instance: u32, index: u32 },
    /// A host function; `instance` is the host module instance that exports it, if any.
    Host {
        func: HostFuncImpl,
        instance: Option<u32>,
    },
}

/// A function instance. Spec: <https://webassembly.github.io/spec/core/exec/runtime.html#function-instances>.
#[derive(Clone)]
pub(crate) struct FuncEntity {
    pub ty: Arc<FuncType>,
    /// Store-wide id of `ty`: equal signatures have equal ids, which is what
    /// `call_indirect` compares.
    pub type_id: u32,
    pub kind: FuncKind,
}

/// Store-wide function type ids (wazero's `typeIDs`).
#[derive(Default)]
pub(crate) struct TypeRegistry {
    ids: HashMap<Arc<FuncType>, u32>,
}

impl TypeRegistry {
    pub fn id_of(&mut self, ty: &Arc<FuncType>) -> u32 {
        let next = self.ids.len() as u32;
        *self.ids.entry(ty.clone()).or_insert(next)
    }
}

/// Every runtime object of one store. Engines get `&mut StoreData` for the duration of
/// a call.
pub struct StoreData {
    pub(crate) id: StoreId,
    pub(crate) engine: Engine,
    pub(crate) funcs: Vec<FuncEntity>,
    pub(crate) memories: Vec<MemoryInstance>,
    pub(crate) tables: Vec<TableInstance>,
    pub(crate) globals: Vec<Box<GlobalInstance>>,
    pub(crate) instances: Vec<InstanceData>,
    pub(crate) types: TypeRegistry,
    pub(crate) allocator: Option<Arc<dyn MemoryAllocator>>,
    /// Host-to-Wasm entries currently on the host stack (host functions may call back
    /// into Wasm); bounded so that such ping-pong cannot overflow the host stack.
    pub(crate) host_entries: u32,
    /// The store's name registry, so closing an instance from inside a call (an exit
    /// request) can release its names. Lock order: data, then registry.
    pub(crate) registry: Arc<Mutex<Registry>>,
}

/// How deeply host functions may re-enter Wasm before the call is refused as
/// "call stack exhausted".
pub(crate) const MAX_HOST_ENTRIES: u32 = 100;

impl StoreData {
    /// Calls host function `func` (which must be a host function) for an engine.
    /// `caller` is the Wasm instance making the call (what the host function sees as
    /// its caller), `None` when the host calls a host function directly.
    pub(crate) fn call_host(
        &mut self,
        func: u32,
        caller: Option<u32>,
        args: &[Value],
        results: &mut [Value],
    ) -> Result<()> {
        if let Some(code) = self.closed_code(func) {
            return Err(Error::exit(code));
        }
        let f = match &self.funcs[func as usize].kind {
            FuncKind::Host { func, .. } => func.clone(),
            FuncKind::Wasm { .. } => {
                return Err(Error::Usage("call_host on a wasm function".into()));
            }
        };
        let mut caller = Caller::new(self, caller);
        f(&mut caller, args, results)
    }

    /// Runs `func` with `args` on this store's engine: the single entry point for every
    /// host-to-Wasm call (public API, start functions, re-entry from host functions).
    pub(crate) fn invoke(&mut self, func: u32, args: &[Value]) -> Result<Vec<Value>> {
        let ty = self.funcs[func as usize].ty.clone();
        if args.len() != ty.params().len()
            || args.iter().zip(ty.params()).any(|(a, t)| a.ty() != *t)
        {
            let got: Vec<String> = args.iter().map(|a| a.ty().to_string()).collect();
            return Err(Error::Usage(format!(
                "argument mismatch: function expects {ty}, got ({})",
                got.join(",")
            )));
        }
        for a in args {
            if let Value::FuncRef(Some(f)) = a {
                self.check_func(*f)?;
            }
        }
        if let Some(code) = self.closed_code(func) {
            return Err(Error::exit(code));
        }
        if self.host_entries >= MAX_HOST_ENTRIES {
            return Err(crate::error::TrapKind::CallStackExhausted.into());
        }
        let mut results: Vec<Value> = ty
            .results()
            .iter()
            .map(|t| Value::default_for(*t))
            .collect();
        self.host_entries += 1;
        let engine = self.engine.clone();
        let outcome = engine.backend().invoke(self, func, args, &mut results);
        self.host_entries -= 1;
        outcome.map(|()| results)
    }

    /// The exit code of the instance that owns `func`, if that instance is closed.
    fn closed_code(&self, func: u32) -> Option<u32> {
        let owner = match self.funcs[func as usize].kind {
            FuncKind::Wasm { instance, .. } => Some(instance),
            FuncKind::Host { instance, .. } => instance,
        };
        owner.and_then(|i| self.instances[i as usize].closed)
    }

    /// Closes instance `index` with `code` (the first code sticks): later calls fail with
    /// it and its names leave the registry. Returns its close hooks with the code to run
    /// them with; the caller runs them (outside the store lock when it can) with
    /// [`run_close_hooks`].
    pub(crate) fn close_instance(&mut self, index: u32, code: u32) -> (Vec<CloseHook>, u32) {
        let inst = &mut self.instances[index as usize];
        let code = *inst.closed.get_or_insert(code);
        let hooks = std::mem::take(&mut inst.close_hooks);
        self.registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove_instance(index);
        (hooks, code)
    }

    /// Fails unless `instance` is a live handle of this store.
    pub(crate) fn check_instance(&self, instance: Instance) -> Result<()> {
        if instance.store != self.id || instance.index as usize >= self.instances.len() {
            return Err(Error::Usage("instance belongs to another store".into()));
        }
        Ok(())
    }

    pub(crate) fn check_func(&self, f: crate::api::Func) -> Result<()> {
        if f.store != self.id || f.index as usize >= self.funcs.len() {
            return Err(Error::Usage("function belongs to another store".into()));
        }
        Ok(())
    }
}

/// Runs close hooks and joins their errors.
pub(crate) fn run_close_hooks(hooks: Vec<CloseHook>, code: u32) -> Result<()> {
    let mut errors: Vec<Error> = hooks.into_iter().filter_map(|h| h(code).err()).collect();
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Multiple(errors)),
    }
}

/// Why locking happens here: a `Store` is shared by threads (several may instantiate
/// into it at once), but Wasm execution needs exclusive access to memories and tables,
/// so calls and instantiations take the data lock in turn. See RATIONALE.md.
pub(crate) struct StoreShared {
    pub(crate) id: StoreId,
    pub(crate) engine: Engine,
    pub(crate) data: Mutex<StoreData>,
    pub(crate) registry: Arc<Mutex<Registry>>,
    /// Thread id of the thread that holds `data`, to turn a re-entrant lock (a host
    /// function using the `Store` instead of its `Caller`) into an error, not a deadlock.
    pub(crate) owner: AtomicU64,
    pub(crate) resolver: Mutex<Option<ImportResolver>>,
}

/// Supplies a module instance for an import module name without registering it
/// (wazero's `experimental.ImportResolver`). Returning `None` falls back to the registry.
pub type ImportResolver = Arc<dyn Fn(&str) -> Option<Instance> + Send + Sync>;

fn thread_tag() -> u64 {
    thread_local! { static TAG: u64 = {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }}
    TAG.with(|t| *t)
}

/// A store, shared cheaply by cloning (all clones are the same store).
#[derive(Clone)]
pub struct Store {
    pub(crate) shared: Arc<StoreShared>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.shared.id)
            .finish()
    }
}

/// Exclusive access to a store's data; released on drop.
pub(crate) struct StoreGuard<'a> {
    guard: MutexGuard<'a, StoreData>,
    owner: &'a AtomicU64,
}

impl Drop for StoreGuard<'_> {
    fn drop(&mut self) {
        self.owner.store(0, Ordering::Release);
    }
}

impl std::ops::Deref for StoreGuard<'_> {
    type Target = StoreData;
    fn deref(&self) -> &StoreData {
        &self.guard
    }
}

impl std::ops::DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut StoreData {
        &mut self.guard
    }
}

impl Store {
    pub fn new(engine: &Engine) -> Store {
        let id = StoreId::fresh();
        let registry = Arc::new(Mutex::new(Registry::default()));
        let data = StoreData {
            registry: registry.clone(),
            id,
            engine: engine.clone(),
            funcs: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            instances: Vec::new(),
            types: TypeRegistry::default(),
            allocator: None,
            host_entries: 0,
        };
        Store {
            shared: Arc::new(StoreShared {
                id,
                engine: engine.clone(),
                data: Mutex::new(data),
                registry,
                owner: AtomicU64::new(0),
                resolver: Mutex::new(None),
            }),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.shared.engine
    }

    pub(crate) fn id(&self) -> StoreId {
        self.shared.id
    }

    /// Locks the store's data. Fails (instead of deadlocking) when this thread already
    /// holds it, which happens when a host function uses the `Store` rather than its
    /// `Caller`.
    pub(crate) fn lock(&self) -> Result<StoreGuard<'_>> {
        let me = thread_tag();
        if self.shared.owner.load(Ordering::Acquire) == me {
            return Err(Error::Usage(
                "store is already in use on this thread (inside a host function, use the Caller)"
                    .into(),
            ));
        }
        // A panic in a host function poisons the lock; the data stays consistent because
        // every operation validates before it mutates, so carry on.
        let guard = self
            .shared
            .data
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.shared.owner.store(me, Ordering::Release);
        Ok(StoreGuard {
            guard,
            owner: &self.shared.owner,
        })
    }

    /// Sets the allocator for memories created from now on.
    pub fn set_memory_allocator(&self, allocator: Arc<dyn MemoryAllocator>) -> Result<()> {
        self.lock()?.allocator = Some(allocator);
        Ok(())
    }

    /// Sets the import-resolver hook consulted before the registry.
    pub fn set_import_resolver(&self, resolver: ImportResolver) {
        *self
            .shared
            .resolver
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(resolver);
    }

    /// The instance registered under `name`, if any.
    pub fn instance(&self, name: &str) -> Option<Instance> {
        self.registry().get(name).map(|index| Instance {
            store: self.id(),
            index,
        })
    }

    /// Registers `instance` under another `name` as well (the spec harness's `register`).
    pub fn register(&self, name: &str, instance: Instance) -> Result<()> {
        if instance.store != self.id() {
            return Err(Error::Usage("instance belongs to another store".into()));
        }
        self.registry().insert(name, instance.index)
    }

    pub(crate) fn registry(&self) -> MutexGuard<'_, Registry> {
        self.shared
            .registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Closes every module instance, newest first, with exit code 0, and joins their
    /// errors (wazero's `Store.CloseWithExitCode`).
    pub fn close(&self) -> Result<()> {
        self.close_with_exit_code(0)
    }

    pub fn close_with_exit_code(&self, code: u32) -> Result<()> {
        let count = self.lock()?.instances.len() as u32;
        let mut errors = Vec::new();
        for index in (0..count).rev() {
            let inst = Instance {
                store: self.id(),
                index,
            };
            if let Err(e) = inst.close_with_exit_code(self, code) {
                errors.push(e);
            }
        }
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Multiple(errors)),
        }
    }
}
