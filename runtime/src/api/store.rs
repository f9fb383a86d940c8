//! `Store`, the embedder's handle on a store's data (`store::StoreData`): shared by
//! threads, locked for each operation, with the name registry and the import resolver.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::api::{Engine, Instance, InterruptHandle};
use crate::error::{Error, Result};
use crate::store::{MemoryAllocator, Registry, StoreData, StoreId};

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
    /// The data's interrupt flag, reachable without the lock a running call holds.
    pub(crate) interrupt: Arc<crate::store::InterruptState>,
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
        let mut data = StoreData::new(id, engine.backend().clone(), registry.clone());
        data.metering = engine.config().consume_fuel;
        data.signal_traps = engine.backend().signal_traps();
        let interrupt = data.interrupt.clone();
        Store {
            shared: Arc::new(StoreShared {
                id,
                engine: engine.clone(),
                data: Mutex::new(data),
                registry,
                owner: AtomicU64::new(0),
                resolver: Mutex::new(None),
                interrupt,
            }),
        }
    }

    /// A handle that stops this store's running call from any thread (module docs of
    /// [`InterruptHandle`]); an error unless the engine was configured
    /// [`interruptible`](crate::Config::interruptible). Usable while a call runs: it
    /// does not lock the store.
    pub fn interrupt_handle(&self) -> Result<InterruptHandle> {
        if !self.shared.engine.config().interruptible {
            return Err(Error::Usage(
                "the engine is not interruptible (Config::interruptible)".into(),
            ));
        }
        Ok(InterruptHandle::new(self.shared.interrupt.clone()))
    }

    /// What the store's GC heap holds and has done (all zero before the first object).
    pub fn gc_stats(&self) -> Result<crate::api::GcStats> {
        let d = self.lock()?;
        Ok(d.gc.heap().map_or_else(Default::default, |h| {
            let stats = h.stats();
            crate::api::GcStats {
                collections: stats.collections,
                live_bytes: stats.live_bytes,
                heap_bytes: h.memory().len() as u64,
            }
        }))
    }

    /// Sets the fuel left for calls to consume (`Config::consume_fuel`; cost table in
    /// RATIONALE.md, "Fuel"). A new store has none. An error unless the engine meters fuel.
    pub fn set_fuel(&self, fuel: u64) -> Result<()> {
        self.metered()?;
        self.lock()?.fuel = fuel;
        Ok(())
    }

    /// The fuel left: what [`Store::set_fuel`] and [`Store::add_fuel`] gave, less what
    /// calls consumed. An error unless the engine meters fuel.
    pub fn fuel(&self) -> Result<u64> {
        self.metered()?;
        Ok(self.lock()?.fuel)
    }

    /// Adds `fuel` to what is left (saturating). An error unless the engine meters fuel.
    pub fn add_fuel(&self, fuel: u64) -> Result<()> {
        self.metered()?;
        let mut data = self.lock()?;
        data.fuel = data.fuel.saturating_add(fuel);
        Ok(())
    }

    fn metered(&self) -> Result<()> {
        if self.shared.engine.config().consume_fuel {
            Ok(())
        } else {
            Err(Error::Usage(
                "the engine does not meter fuel (Config::consume_fuel)".into(),
            ))
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

    /// The import-resolver hook, if set.
    pub(crate) fn resolver(&self) -> Option<ImportResolver> {
        self.shared
            .resolver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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

    /// Makes an instance with `make` and registers it under `name`, if given. The name is
    /// claimed first, so two threads cannot both take it and the loser learns it before
    /// running any code; it is published when `make` succeeds and released when it fails.
    pub(crate) fn under_name(
        &self,
        name: Option<&str>,
        make: impl FnOnce() -> Result<Instance>,
    ) -> Result<Instance> {
        let Some(name) = name else {
            return make();
        };
        self.registry().reserve(name)?;
        let made = make();
        let mut reg = self.registry();
        match &made {
            Ok(inst) => reg.publish(name, inst.index),
            Err(_) => reg.release(name),
        }
        made
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
