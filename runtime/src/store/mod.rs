//! The store: every runtime object of a group of linked modules.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/runtime.html#store>. Semantics
//! follow wazero's `store.go` (see RATIONALE.md): a registry of module instances by
//! name, store-wide function type ids, data and element instances per module instance.
//!
//! Runtime objects live in arenas inside [`StoreData`] and are named by `u32` indices;
//! the public handles (`Func`, `Memory`, ...) of the API layer carry such an index plus
//! the store's id. Values are raw here ([`RawValue`]); the API converts them.
//!
//! This layer also holds the engine boundary (`engine.rs`); it knows no engine and no
//! API type (RATIONALE.md, "Layers").

mod engine;
mod exceptions;
mod fuel;
pub(crate) mod gc;
mod global;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod guarded;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod image;
mod instance;
mod instantiate;
mod interrupt;
mod memory;
mod ops;
mod registry;
mod stack;
mod table;
mod types;
mod zeroed;

pub(crate) use interrupt::InterruptState;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub(crate) use engine::{Backend, CompiledModule, ModuleCode};
pub(crate) use exceptions::{ExceptionObject, TagInstance};
pub(crate) use global::GlobalInstance;
pub use instance::CloseHook;
pub(crate) use instance::{InstanceData, StoreExtern};
pub(crate) use instantiate::instantiate;
pub(crate) use memory::{GUARD_BYTES, GUARDED_RESERVATION};
pub use memory::{LinearMemory, MemoryAllocator};
pub(crate) use memory::{MemoryInstance, VMMemoryDefinition};
pub(crate) use ops::address_operand;
pub(crate) use registry::Registry;
pub(crate) use stack::{stack_limit, stack_pointer, stack_top};
pub(crate) use table::{TableInstance, VMTableDefinition};
pub(crate) use types::TypeRegistry;

use crate::error::{Error, Result, TrapKind};
use crate::values::{FuncType, RawValue};

/// Identifies a store, so a handle from one store is refused by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoreId(pub(crate) u64);

impl StoreId {
    pub(crate) fn fresh() -> StoreId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        StoreId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The body of a host function as the store calls it: the store, the Wasm instance
/// that called (`None` when the embedder did), raw arguments in, raw results written to
/// the slice (already sized, zeroed). The API wraps the embedder's typed closures in
/// this form (`api/func.rs`).
pub(crate) type HostFuncImpl = Arc<
    dyn Fn(&mut StoreData, Option<u32>, &[RawValue], &mut [RawValue]) -> Result<()> + Send + Sync,
>;

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
    /// Store-wide id of `ty`: equal exactly when the types are the same type
    /// (`TypeRegistry`), which is what `call_indirect` and `call_ref` callers rely on.
    /// (`ty` names concrete types by store-wide id too.)
    pub type_id: u32,
    pub kind: FuncKind,
}

/// Every runtime object of one store. Engines get `&mut StoreData` for the duration of
/// a call.
pub struct StoreData {
    pub(crate) id: StoreId,
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) funcs: Vec<FuncEntity>,
    pub(crate) memories: Vec<MemoryInstance>,
    pub(crate) tables: Vec<TableInstance>,
    /// Boxed: native code keeps each global's address, which must not move when the
    /// arena grows.
    #[allow(clippy::vec_box)]
    pub(crate) globals: Vec<Box<GlobalInstance>>,
    pub(crate) instances: Vec<InstanceData>,
    /// Tag instances (`exceptions.rs`).
    pub(crate) tags: Vec<TagInstance>,
    /// Every exception thrown or made in this store, never freed before it drops (no
    /// collector yet); an `exnref` is an index here + 1.
    pub(crate) exceptions: Vec<ExceptionObject>,
    pub(crate) types: TypeRegistry,
    /// The GC heap and its roots (`gc/state.rs`).
    pub(crate) gc: gc::GcState,
    pub(crate) allocator: Option<Arc<dyn MemoryAllocator>>,
    /// Host-to-Wasm entries currently on the host stack (host functions may call back
    /// into Wasm); bounded so that such ping-pong cannot overflow the host stack.
    pub(crate) host_entries: u32,
    /// The store's name registry, so closing an instance from inside a call (an exit
    /// request) can release its names. Lock order: data, then registry.
    pub(crate) registry: Arc<Mutex<Registry>>,
    /// Set by an `InterruptHandle` to stop the running call; cleared when a call the host
    /// made returns with the "interrupted" trap (`api/interrupt.rs`, `interrupt.rs`).
    pub(crate) interrupt: Arc<InterruptState>,
    /// Fuel left (`Config::consume_fuel`; `fuel.rs`). Native code reaches it through
    /// `VMRuntime::fuel`, so this is the one counter both the code and the store charge.
    pub(crate) fuel: u64,
    /// Whether the engine meters fuel: host calls and bulk operations charge it.
    pub(crate) metering: bool,
    /// Whether the engine's code leaves out bounds checks of 32-bit memories, which
    /// must then fault past their end (`guarded.rs`).
    pub(crate) signal_traps: bool,
}

/// How deeply host functions may re-enter Wasm before the call is refused as
/// "call stack exhausted".
pub(crate) const MAX_HOST_ENTRIES: u32 = 100;

impl StoreData {
    pub(crate) fn new(
        id: StoreId,
        backend: Arc<dyn Backend>,
        registry: Arc<Mutex<Registry>>,
    ) -> StoreData {
        StoreData {
            id,
            backend,
            funcs: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            instances: Vec::new(),
            tags: Vec::new(),
            exceptions: Vec::new(),
            types: TypeRegistry::default(),
            gc: gc::GcState::default(),
            allocator: None,
            host_entries: 0,
            registry,
            interrupt: Arc::default(),
            fuel: 0,
            metering: false,
            signal_traps: false,
        }
    }

    /// Whether an interrupt was requested for the running call.
    #[inline]
    pub(crate) fn interrupted(&self) -> bool {
        self.interrupt.is_requested()
    }

    /// Calls host function `func` (which must be a host function) for an engine.
    /// `caller` is the Wasm instance making the call (what the host function sees as
    /// its caller), `None` when the host calls a host function directly.
    pub(crate) fn call_host(
        &mut self,
        func: u32,
        caller: Option<u32>,
        args: &[RawValue],
        results: &mut [RawValue],
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
        if caller.is_some() && self.metering {
            self.consume_fuel(crate::module::fuel::HOST_CALL_COST)?;
        }
        f(self, caller, args, results)
    }

    /// Runs `func` with `args` (of its parameter types, which the caller has checked)
    /// on this store's engine, writing `results` (sized to its result count): the single
    /// entry point for every host-to-Wasm call (public API, start functions, re-entry
    /// from host functions).
    pub(crate) fn invoke(
        &mut self,
        func: u32,
        args: &[RawValue],
        results: &mut [RawValue],
    ) -> Result<()> {
        if let Some(code) = self.closed_code(func) {
            return Err(Error::exit(code));
        }
        if self.host_entries >= MAX_HOST_ENTRIES {
            return Err(TrapKind::CallStackExhausted.into());
        }
        self.host_entries += 1;
        let backend = self.backend.clone();
        let outcome = backend.invoke(self, func, args, results);
        self.host_entries -= 1;
        if self.host_entries == 0
            && let Err(e) = &outcome
            && e.trap_kind() == Some(TrapKind::Interrupted)
        {
            // The request has stopped the call the host made: it is served.
            self.interrupt.clear();
        }
        outcome
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

    /// Adds a host function owned by host module instance `instance`, if any; returns
    /// its store index.
    pub(crate) fn add_host_func(
        &mut self,
        ty: Arc<FuncType>,
        func: HostFuncImpl,
        instance: Option<u32>,
    ) -> u32 {
        let type_id = self.types.id_of_single(&ty);
        self.funcs.push(FuncEntity {
            ty,
            type_id,
            kind: FuncKind::Host { func, instance },
        });
        self.funcs.len() as u32 - 1
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
