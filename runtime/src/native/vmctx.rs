//! The VM context: what compiled code reads through its hidden `vmctx` argument.
//!
//! Layouts are `#[repr(C)]` and their field offsets are the `OFF_*` constants the
//! translator uses (checked by a unit test). See RATIONALE.md, "Native engine: VM
//! context and traps".
//!
//! One [`VMContext`] per module instance, built lazily the first time the instance is
//! called (or reached through an import or a table), and kept in the instance's
//! `engine_state` slot, so its address never changes. All instances of a store share one
//! [`VMRuntime`]: the trap flag, the stack limit and the store pointer for libcalls.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::sync::Arc;

use crate::error::{Backtrace, Error, TrapKind};
use crate::store::{InterruptState, StoreData, VMMemoryDefinition, VMTableDefinition};

/// Per-store state shared by every VM context of the store.
#[repr(C)]
pub(crate) struct VMRuntime {
    /// 0 while running normally; otherwise a trap code (see [`trap_code`]) or
    /// [`PENDING_ERROR`]. Compiled code tests it after every call.
    pub trap: u32,
    pub _pad: u32,
    /// Lowest stack pointer Wasm code may run at (checked in every prologue).
    pub stack_limit: usize,
    /// The store, for libcalls; set at every host-to-Wasm entry.
    pub store: *mut StoreData,
    /// The callee vmctx found by the last `call_indirect` resolution.
    pub indirect_vmctx: *mut VMContext,
    /// The store's fuel counter (`StoreData::fuel`), set at every host-to-Wasm entry.
    /// Metered code keeps the fuel left in registers and puts it here around libcalls,
    /// host calls, entries and traps (`translate/metering.rs`).
    pub fuel: *mut u64,
    /// An error or panic from a host function or libcall, returned unchanged by the entry.
    pub pending: Option<Pending>,
    /// The backtrace of the trap whose code is in `trap` (`backtrace.rs`).
    pub trap_backtrace: Option<Box<Backtrace>>,
    /// Whether this entry's frames are in the trap's backtrace (the one above, or the
    /// pending error's) already: set by the first frame that records them.
    pub backtrace_recorded: bool,
    /// The innermost host call of compiled code still running, linked to the ones it is
    /// nested in (`stack_roots.rs`); null when no host call is under way.
    pub wasm_exits: *const WasmExit,
    /// `call_indirect`'s inline cache: entry `raw` describes the function whose raw
    /// reference (store function index + 1) is `raw`. Filled by the slow path. Compiled
    /// code reads it through every context's copy of its address and length
    /// (`VMContext::func_entries`).
    entries: Box<[VMFuncEntry]>,
}

/// How `call_indirect` calls the function of one raw reference without leaving compiled
/// code: its store-wide type id, code in the Wasm ABI and vmctx. Entry 0 (null) and the
/// entries of functions not resolved yet, or never (host functions), have type id
/// [`NO_TYPE`], which no signature has, so the check sends them to the slow path.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct VMFuncEntry {
    pub type_id: u32,
    pub _pad: u32,
    pub code: *const u8,
    pub vmctx: *mut VMContext,
    pub _pad2: u64,
}

/// The type id of an empty [`VMFuncEntry`].
pub(crate) const NO_TYPE: u32 = u32::MAX;

const EMPTY_ENTRY: VMFuncEntry = VMFuncEntry {
    type_id: NO_TYPE,
    _pad: 0,
    code: std::ptr::null(),
    vmctx: std::ptr::null_mut(),
    _pad2: 0,
};

impl VMRuntime {
    /// Records that raw reference `raw` (a Wasm function of this store) is `entry`,
    /// growing the cache as needed; `funcs` is the store's function count. Returns
    /// whether the cache moved, in which case every context's copy of its address and
    /// length must be updated ([`update_func_entries`]).
    #[must_use]
    pub fn set_func_entry(&mut self, raw: usize, entry: VMFuncEntry, funcs: usize) -> bool {
        let moved = raw >= self.entries.len();
        if moved {
            let len = (raw + 1).max(funcs + 1).next_power_of_two();
            let mut entries = vec![EMPTY_ENTRY; len].into_boxed_slice();
            entries[..self.entries.len()].copy_from_slice(&self.entries);
            self.entries = entries;
        }
        self.entries[raw] = entry;
        moved
    }

    /// The cache's address and length, as each context keeps them.
    fn func_entries(&self) -> (*const VMFuncEntry, usize) {
        (self.entries.as_ptr(), self.entries.len())
    }
}

/// Copies the runtime's function cache address and length into every native context of
/// `store`, after [`VMRuntime::set_func_entry`] moved the cache.
pub(crate) fn update_func_entries(store: &StoreData, runtime: &VMRuntime) {
    let (entries, len) = runtime.func_entries();
    for state in instance_states(store) {
        state.vmctx.func_entries.set(entries);
        state.vmctx.func_entries_len.set(len);
    }
}

/// Where compiled code called out to a host function (`libcalls::host_call`, which
/// keeps this on its own stack frame for the call's duration): the frame pointer of the
/// host adapter, whose frame record holds the return address into the Wasm function
/// that called it; and the host call this one's Wasm code runs under, if any (a host
/// function called Wasm, which called this one).
pub(crate) struct WasmExit {
    pub adapter_fp: usize,
    pub outer: *const WasmExit,
}

pub(crate) enum Pending {
    Error(Error),
    Panic(Box<dyn Any + Send>),
}

pub(crate) const RT_TRAP: i32 = 0;
pub(crate) const RT_STACK_LIMIT: i32 = 8;
pub(crate) const RT_INDIRECT_VMCTX: i32 = 24;
pub(crate) const RT_FUEL: i32 = 32;

/// Offsets in [`InterruptState`].
pub(crate) const INTERRUPT_STACK_LIMIT: i32 = 0;
pub(crate) const INTERRUPT_FLAG: i32 = 8;

/// `log2(size_of::<VMFuncEntry>())` and its fields' offsets.
pub(crate) const FUNC_ENTRY_SHIFT: i64 = 5;
pub(crate) const ENTRY_TYPE_ID: i32 = 0;
pub(crate) const ENTRY_CODE: i32 = 8;
pub(crate) const ENTRY_VMCTX: i32 = 16;

/// The trap flag value meaning "see `VMRuntime::pending`".
pub(crate) const PENDING_ERROR: u32 = u32::MAX;

pub(crate) fn trap_code(kind: TrapKind) -> u32 {
    TRAP_KINDS.iter().position(|k| *k == kind).unwrap() as u32 + 1
}

pub(crate) fn trap_kind(code: u32) -> Option<TrapKind> {
    TRAP_KINDS.get((code as usize).checked_sub(1)?).copied()
}

const TRAP_KINDS: [TrapKind; 21] = [
    TrapKind::Unreachable,
    TrapKind::IntegerDivideByZero,
    TrapKind::IntegerOverflow,
    TrapKind::InvalidConversionToInteger,
    TrapKind::MemoryOutOfBounds,
    TrapKind::TableOutOfBounds,
    TrapKind::IndirectCallTypeMismatch,
    TrapKind::UndefinedElement,
    TrapKind::UninitializedElement,
    TrapKind::CallStackExhausted,
    TrapKind::NullFunctionReference,
    TrapKind::NullReference,
    TrapKind::NullExceptionReference,
    TrapKind::Interrupted,
    TrapKind::OutOfFuel,
    TrapKind::NullI31Reference,
    TrapKind::CastFailure,
    TrapKind::NullStructReference,
    TrapKind::NullArrayReference,
    TrapKind::ArrayOutOfBounds,
    TrapKind::GcHeapExhausted,
];

/// The shared, heap-allocated runtime of one store.
pub(crate) struct RuntimeCell(UnsafeCell<VMRuntime>);

// SAFETY: the runtime is only touched by code holding the store's data lock (the entry,
// compiled code it runs, and libcalls called from that code), so never by two threads at
// once; the raw pointers inside point to store objects guarded by the same lock.
unsafe impl Send for RuntimeCell {}
// SAFETY: as above.
unsafe impl Sync for RuntimeCell {}

impl RuntimeCell {
    pub fn new() -> Arc<RuntimeCell> {
        Arc::new(RuntimeCell(UnsafeCell::new(VMRuntime {
            trap: 0,
            _pad: 0,
            stack_limit: 0,
            store: std::ptr::null_mut(),
            indirect_vmctx: std::ptr::null_mut(),
            fuel: std::ptr::null_mut(),
            pending: None,
            trap_backtrace: None,
            backtrace_recorded: false,
            wasm_exits: std::ptr::null(),
            entries: Box::new([]),
        })))
    }

    pub fn get(&self) -> *mut VMRuntime {
        self.0.get()
    }
}

/// A callable function as compiled code sees it: code in the Wasm ABI and the vmctx to
/// pass as its first argument (for a host function: its store index, and the code is the
/// importing module's host adapter for its signature).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct VMFuncRef {
    pub code: *const u8,
    pub vmctx: *mut VMContext,
}

/// Per-instance context.
#[repr(C)]
pub(crate) struct VMContext {
    pub runtime: *mut VMRuntime,
    /// One pointer per memory of the module (imports first).
    pub memories: *const *const VMMemoryDefinition,
    /// One pointer per global: its 128-bit cell.
    pub globals: *const *mut u128,
    /// One pointer per table.
    pub tables: *const *const VMTableDefinition,
    /// One entry per imported function.
    pub imports: *const VMFuncRef,
    /// Store function index of every function of the module (for `ref.func`).
    pub func_indices: *const u32,
    /// Store-wide type id of every type of the module.
    pub type_ids: *const u32,
    /// The store's interrupt state (`store/interrupt.rs`). Interruptible code checks the
    /// stack against its limit at every function entry (instead of
    /// `VMRuntime::stack_limit`, which a request cannot reach) and reads its flag at
    /// loop headers. Here rather than in the runtime: one load less on every entry.
    pub interrupt: *const InterruptState,
    /// The base of memory 0 when it is guarded (`store/guarded.rs`: its base never
    /// moves), else null. Compiled code reads a guarded memory 0's base here: one load
    /// from the context instead of three through `memories`.
    pub memory0_base: *mut u8,
    /// Copies of the address and length of the runtime's function cache, which
    /// `call_indirect` reads here rather than through the runtime: a loop of indirect
    /// calls then needs no register for the runtime's address. Written (through `Cell`)
    /// by [`update_func_entries`] whenever the cache moves, inside a libcall.
    pub func_entries: Cell<*const VMFuncEntry>,
    pub func_entries_len: Cell<usize>,
    /// The instance's store index.
    pub instance: u32,
}

pub(crate) const VM_RUNTIME: i32 = 0;
pub(crate) const VM_MEMORIES: i32 = 8;
pub(crate) const VM_GLOBALS: i32 = 16;
pub(crate) const VM_TABLES: i32 = 24;
pub(crate) const VM_IMPORTS: i32 = 32;
pub(crate) const VM_FUNC_INDICES: i32 = 40;
pub(crate) const VM_TYPE_IDS: i32 = 48;
pub(crate) const VM_INTERRUPT: i32 = 56;
pub(crate) const VM_MEMORY0_BASE: i32 = 64;
pub(crate) const VM_FUNC_ENTRIES: i32 = 72;
pub(crate) const VM_FUNC_ENTRIES_LEN: i32 = 80;

pub(crate) const FUNCREF_SIZE: i32 = 16;
pub(crate) const DEF_BASE: i32 = 0;
pub(crate) const DEF_LENGTH: i32 = 8;

/// What the native engine keeps in `InstanceData::engine_state`: the context and the
/// arrays it points to (boxed slices: their addresses never change).
pub(crate) struct InstanceState {
    pub vmctx: Box<VMContext>,
    pub runtime: Arc<RuntimeCell>,
    _memories: Box<[*const VMMemoryDefinition]>,
    _globals: Box<[*mut u128]>,
    _tables: Box<[*const VMTableDefinition]>,
    _imports: Box<[VMFuncRef]>,
    _func_indices: Box<[u32]>,
    _type_ids: Box<[u32]>,
}

// SAFETY: every pointer points to store objects (or other instances' contexts) that live
// as long as the store and are only used under the store's data lock.
unsafe impl Send for InstanceState {}
// SAFETY: as above.
unsafe impl Sync for InstanceState {}

impl InstanceState {
    pub fn vmctx_ptr(&self) -> *mut VMContext {
        &*self.vmctx as *const VMContext as *mut VMContext
    }
}

pub(crate) fn state_of(store: &StoreData, instance: u32) -> Option<&InstanceState> {
    store.instances[instance as usize]
        .engine_state
        .as_ref()?
        .downcast_ref::<InstanceState>()
}

/// The store's runtime, if any instance has a context yet.
pub(crate) fn existing_runtime(store: &StoreData) -> Option<*mut VMRuntime> {
    instance_states(store).next().map(|s| s.runtime.get())
}

/// The store's runtime, created with the first context.
fn runtime_of(store: &StoreData) -> Arc<RuntimeCell> {
    (instance_states(store).next_back())
        .map(|s| s.runtime.clone())
        .unwrap_or_else(RuntimeCell::new)
}

/// The native states of the store's instances that have a context, in store order.
fn instance_states(store: &StoreData) -> impl DoubleEndedIterator<Item = &InstanceState> {
    (store.instances.iter())
        .filter_map(|i| i.engine_state.as_ref()?.downcast_ref::<InstanceState>())
}

/// The context of `instance`, built (with those of the instances it imports functions
/// from) if needed.
pub(crate) fn ensure_vmctx(store: &mut StoreData, instance: u32) -> *mut VMContext {
    if let Some(s) = state_of(store, instance) {
        return s.vmctx_ptr();
    }
    let module = store.instances[instance as usize]
        .module
        .clone()
        .expect("a Wasm function's instance has a module");
    let native = super::native_module(&module);
    let info = module.info();
    let inst = &store.instances[instance as usize];
    let memories: Box<[_]> = inst
        .memories
        .iter()
        .map(|&m| store.memories[m as usize].definition_ptr())
        .collect();
    let tables: Box<[_]> = inst
        .tables
        .iter()
        .map(|&t| store.tables[t as usize].definition_ptr())
        .collect();
    // Code compiled for a guarded memory 0 reads its base from the context; the store
    // gives every 32-bit memory of a signal-trap engine a guarded backing (or fails to
    // create it), so this is never null where such code runs.
    let memory0_base = (inst.memories.first())
        .and_then(|&m| store.memories[m as usize].fixed_base())
        .unwrap_or(std::ptr::null_mut());
    let func_indices: Box<[u32]> = inst.funcs.clone().into();
    let type_ids: Box<[u32]> = inst.type_ids[..].into();
    let global_indices = inst.globals.clone();
    let mut globals = Vec::with_capacity(global_indices.len());
    for g in global_indices {
        globals.push(std::ptr::addr_of_mut!(store.globals[g as usize].value));
    }
    let globals: Box<[_]> = globals.into();
    let mut imports = Vec::with_capacity(info.num_imported_funcs as usize);
    for i in 0..info.num_imported_funcs {
        let f = func_indices[i as usize];
        imports.push(func_ref(store, f, native, info.funcs[i as usize]));
    }
    let imports: Box<[_]> = imports.into();
    let runtime = runtime_of(store);
    // SAFETY: the runtime is this store's, touched only under its data lock, which the
    // caller holds (`&mut StoreData`).
    let (func_entries, func_entries_len) = unsafe { (*runtime.get()).func_entries() };
    let vmctx = Box::new(VMContext {
        runtime: runtime.get(),
        memories: memories.as_ptr(),
        globals: globals.as_ptr(),
        tables: tables.as_ptr(),
        imports: imports.as_ptr(),
        func_indices: func_indices.as_ptr(),
        type_ids: type_ids.as_ptr(),
        // The store holds the `Arc` as long as it holds this context.
        interrupt: std::sync::Arc::as_ptr(&store.interrupt),
        memory0_base,
        func_entries: Cell::new(func_entries),
        func_entries_len: Cell::new(func_entries_len),
        instance,
    });
    let state = InstanceState {
        vmctx,
        runtime,
        _memories: memories,
        _globals: globals,
        _tables: tables,
        _imports: imports,
        _func_indices: func_indices,
        _type_ids: type_ids,
    };
    let ptr = state.vmctx_ptr();
    store.instances[instance as usize].engine_state = Some(Box::new(state));
    ptr
}

/// Code and vmctx for store function `func`, called from a module whose type
/// `type_index` is the function's signature (`caller` supplies the host adapter).
pub(crate) fn func_ref(
    store: &mut StoreData,
    func: u32,
    caller: &super::NativeModule,
    type_index: u32,
) -> VMFuncRef {
    match store.funcs[func as usize].kind.clone() {
        crate::store::FuncKind::Wasm { instance, index } => {
            let vmctx = ensure_vmctx(store, instance);
            let module = store.instances[instance as usize]
                .module
                .clone()
                .expect("a Wasm function's instance has a module");
            let native = super::native_module(&module);
            let defined = index - module.info().num_imported_funcs;
            VMFuncRef {
                code: native.funcs[defined as usize] as *const u8,
                vmctx,
            }
        }
        crate::store::FuncKind::Host { .. } => VMFuncRef {
            // `compile.rs` (`Needs`) builds an adapter for every type this is called with.
            code: caller.adapters[type_index as usize]
                .expect("a host adapter for each imported and indirectly called type")
                as *const u8,
            vmctx: func as usize as *mut VMContext,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    #[test]
    fn offsets_match_layout() {
        assert_eq!(offset_of!(VMRuntime, trap) as i32, RT_TRAP);
        assert_eq!(offset_of!(VMRuntime, stack_limit) as i32, RT_STACK_LIMIT);
        assert_eq!(
            offset_of!(VMRuntime, indirect_vmctx) as i32,
            RT_INDIRECT_VMCTX
        );
        assert_eq!(offset_of!(VMRuntime, fuel) as i32, RT_FUEL);
        let limit = offset_of!(InterruptState, stack_limit);
        assert_eq!(limit as i32, INTERRUPT_STACK_LIMIT);
        assert_eq!(offset_of!(InterruptState, flag) as i32, INTERRUPT_FLAG);
        assert_eq!(1 << FUNC_ENTRY_SHIFT, std::mem::size_of::<VMFuncEntry>());
        assert_eq!(offset_of!(VMFuncEntry, type_id) as i32, ENTRY_TYPE_ID);
        assert_eq!(offset_of!(VMFuncEntry, code) as i32, ENTRY_CODE);
        assert_eq!(offset_of!(VMFuncEntry, vmctx) as i32, ENTRY_VMCTX);
        assert_eq!(offset_of!(VMContext, runtime) as i32, VM_RUNTIME);
        assert_eq!(offset_of!(VMContext, memories) as i32, VM_MEMORIES);
        assert_eq!(offset_of!(VMContext, globals) as i32, VM_GLOBALS);
        assert_eq!(offset_of!(VMContext, tables) as i32, VM_TABLES);
        assert_eq!(offset_of!(VMContext, imports) as i32, VM_IMPORTS);
        assert_eq!(offset_of!(VMContext, func_indices) as i32, VM_FUNC_INDICES);
        assert_eq!(offset_of!(VMContext, type_ids) as i32, VM_TYPE_IDS);
        assert_eq!(offset_of!(VMContext, interrupt) as i32, VM_INTERRUPT);
        assert_eq!(offset_of!(VMContext, memory0_base) as i32, VM_MEMORY0_BASE);
        assert_eq!(offset_of!(VMContext, func_entries) as i32, VM_FUNC_ENTRIES);
        let len = offset_of!(VMContext, func_entries_len);
        assert_eq!(len as i32, VM_FUNC_ENTRIES_LEN);
        assert_eq!(std::mem::size_of::<VMFuncRef>() as i32, FUNCREF_SIZE);
        assert_eq!(offset_of!(VMMemoryDefinition, base) as i32, DEF_BASE);
        assert_eq!(offset_of!(VMMemoryDefinition, length) as i32, DEF_LENGTH);
        assert_eq!(offset_of!(VMTableDefinition, base) as i32, DEF_BASE);
        assert_eq!(offset_of!(VMTableDefinition, length) as i32, DEF_LENGTH);
        assert_eq!(offset_of!(crate::store::GlobalInstance, value), 0);
    }
}
