//! Functions compiled code calls (by address) for what is not worth inlining: bulk
//! memory and table operations, growth, `call_indirect` resolution and host calls.
//!
//! Each receives the calling instance's vmctx, reaches the store through the runtime,
//! and reports failure by setting the runtime's trap flag (a trap code, or
//! `PENDING_ERROR` with the error or panic kept in `pending`); compiled code tests the
//! flag after the call. Panics never unwind into compiled code: they are caught here
//! and resumed by the entry once compiled code has returned.
//!
//! Every libcall is declared once, in the [`declare_libcalls!`] list below, with its
//! Rust parameter and result types; the list yields [`Libcall`], each libcall's address
//! (checked against the declared type at compile time) and its Cranelift parameter and
//! result types (through [`AbiType`], see `abi.rs`).
//!
//! # Safety
//!
//! The libcalls are `unsafe extern "C"` functions, called only by compiled code, which
//! guarantees for every call:
//! - `vmctx` is the context of the calling instance, alive while its store is;
//! - the call happens under a host-to-Wasm entry of that store on this thread
//!   (`entry::invoke`), which set the runtime's `store` pointer to the store it holds
//!   exclusively and does not touch it until compiled code returns;
//! - the memory, table, segment and type indices are those of the calling function's
//!   validated module, so they exist in the instance;
//! - `host_call`'s buffer is a stack buffer of as many 16-byte cells as the host
//!   function has parameters or results, whichever is more, and at least one;
//! - `throw`'s buffer holds as many cells as tag `tag` has parameters, and
//!   `catch_exception`'s at least as many as tag `tag` has (`CATCH_ALL` writes none).

use std::panic::{AssertUnwindSafe, catch_unwind};

use cranelift_codegen::ir::Type;

use super::abi::AbiType;
use super::vmctx::{
    PENDING_ERROR, Pending, VMContext, VMFuncEntry, VMRuntime, WasmExit, func_ref, trap_code,
};
use crate::error::{Error, TrapKind};
use crate::store::gc::{ObjectLayout, ObjectOp, Operands};
use crate::store::{FuncKind, StoreData};
use crate::values::{RawValue, with_raw_values};

use super::backtrace::record_backtrace;
use super::translate::CATCH_ALL;

/// Declares the libcalls: `Variant => function(parameters) -> result;`, where `function`
/// is an `unsafe extern "C" fn` of this module with exactly that type.
macro_rules! declare_libcalls {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident => $function:ident($($param:ident: $param_ty:ty),*) $(-> $result_ty:ty)?;
    )*) => {
        /// A Rust function compiled code calls by address.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum Libcall {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Libcall {
            /// Every libcall, in declaration order: `ALL[l.index()] == l`.
            pub(crate) const ALL: &'static [Libcall] = &[$(Libcall::$variant),*];

            /// Its position in `ALL`: how relocations name it (`translate::LIBCALL_NAMESPACE`).
            pub(crate) fn index(self) -> u32 {
                self as u32
            }

            /// The function's address, for an indirect call from compiled code.
            pub(crate) fn address(self) -> *const u8 {
                match self {
                    $(Libcall::$variant => {
                        let f: unsafe extern "C" fn($($param_ty),*) $(-> $result_ty)? = $function;
                        f as *const u8
                    })*
                }
            }

            /// The Cranelift types of the function's parameters.
            pub(crate) fn params(self) -> &'static [Type] {
                match self {
                    $(Libcall::$variant => const { &[$(<$param_ty as AbiType>::CLIF),*] },)*
                }
            }

            /// The Cranelift type of the function's result, if any.
            pub(crate) fn results(self) -> &'static [Type] {
                match self {
                    $(Libcall::$variant => const { &[$(<$result_ty as AbiType>::CLIF)?] },)*
                }
            }
        }
    };
}

declare_libcalls! {
    /// `memory.grow`: the old size in pages, or -1 (as u64; compiled code truncates it
    /// for a 32-bit memory).
    MemoryGrow => memory_grow(vmctx: *mut VMContext, mem: u32, delta: u64) -> u64;
    /// `memory.fill`.
    MemoryFill => memory_fill(vmctx: *mut VMContext, mem: u32, dst: u64, value: u32, len: u64);
    /// `memory.copy`.
    MemoryCopy => memory_copy(
        vmctx: *mut VMContext, dst_mem: u32, src_mem: u32, dst: u64, src: u64, len: u64
    );
    /// `memory.init`.
    MemoryInit => memory_init(
        vmctx: *mut VMContext, mem: u32, data: u32, dst: u64, src: u64, len: u64
    );
    /// `data.drop`.
    DataDrop => data_drop(vmctx: *mut VMContext, data: u32);
    /// `table.grow`: the old size, or -1 (as u64, like `memory.grow`).
    TableGrow => table_grow(vmctx: *mut VMContext, table: u32, delta: u64, init: u64) -> u64;
    /// `table.fill`.
    TableFill => table_fill(vmctx: *mut VMContext, table: u32, dst: u64, value: u64, len: u64);
    /// `table.copy`.
    TableCopy => table_copy(
        vmctx: *mut VMContext, dst_table: u32, src_table: u32, dst: u64, src: u64, len: u64
    );
    /// `table.init`.
    TableInit => table_init(
        vmctx: *mut VMContext, table: u32, elem: u32, dst: u64, src: u64, len: u64
    );
    /// `elem.drop`.
    ElemDrop => elem_drop(vmctx: *mut VMContext, elem: u32);
    /// `call_indirect`'s slow path: the callee's code (its vmctx is left in the runtime).
    ResolveIndirect => resolve_indirect(
        vmctx: *mut VMContext, table: u32, index: u64, type_index: u32
    ) -> usize;
    /// `call_ref`'s slow path: the callee's code (its vmctx is left in the runtime).
    ResolveRef => resolve_ref(vmctx: *mut VMContext, raw: u64, type_index: u32) -> usize;
    /// A host function, called by a host adapter with its arguments in `buf` and its own
    /// frame pointer (where a walk of the Wasm frames starts, `stack_roots.rs`).
    HostCall => host_call(caller_vmctx: *mut VMContext, func: u64, buf: *mut u128, adapter_fp: usize);
    /// `throw` of tag `tag`, its payload in `buf`: always leaves the exception pending.
    Throw => throw(vmctx: *mut VMContext, tag: u32, buf: *const u128);
    /// `throw_ref`: traps on null, else leaves the exception pending.
    ThrowRef => throw_ref(vmctx: *mut VMContext, exn: u64);
    /// A catch clause's test: the exnref of the pending exception if it has tag `tag`
    /// (any tag for `CATCH_ALL`), taken (the flag cleared) with its payload in `buf`;
    /// 0, changing nothing, for anything else pending.
    CatchException => catch_exception(vmctx: *mut VMContext, tag: u32, buf: *mut u128) -> u64;
    /// A function leaving because of a trap, with its frame pointer, its defined index
    /// and a trap code in `site` (`translate::trap_site_word`): sets the trap flag to the
    /// code unless it is 0 (the flag is set already), then records the trap's backtrace
    /// (`backtrace.rs`); returns the status the function returns (non-zero).
    RecordBacktrace => record_backtrace(vmctx: *mut VMContext, fp: usize, site: u64) -> u32;
    /// A cast to concrete function type `type_index` (`ref.test`, `ref.cast`,
    /// `br_on_cast*`): 1 if non-null function reference `raw` names a function whose
    /// type is a subtype of it, else 0.
    FuncRefHasType => func_ref_has_type(vmctx: *mut VMContext, raw: u64, type_index: u32) -> u32;
    /// A struct or array operator (`store/gc/ops.rs`, `ObjectOp::code`), its `cells`
    /// operands in `buf`, its result left in `buf`'s first cell; called by defined
    /// function `defined`, whose frame pointer is `fp`.
    GcObjectOp => gc_object_op(
        vmctx: *mut VMContext, code: u32, imm: u32, extra: u32, buf: *mut u128, cells: u32,
        fp: usize, defined: u32
    );
    /// A cast to `struct` (`kind` 0), `array` (1) or concrete struct or array type
    /// `type_index` (2): 1 if `raw` is an object of it, else 0 (null included).
    GcRefTest => gc_ref_test(vmctx: *mut VMContext, raw: u64, kind: u32, type_index: u32) -> u32;
}

enum Fail {
    Trap(TrapKind),
    Error(Error),
}

impl From<TrapKind> for Fail {
    fn from(k: TrapKind) -> Fail {
        Fail::Trap(k)
    }
}

/// A trap becomes the trap flag's code, as compiled code's own traps do; any other error
/// stays pending.
impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        match e {
            Error::Trap(t) => Fail::Trap(t.kind),
            e => Fail::Error(e),
        }
    }
}

/// The instance a libcall was called from, through the `vmctx` compiled code passed.
struct CallingInstance(*mut VMContext);

impl CallingInstance {
    /// # Safety
    ///
    /// `vmctx` is what compiled code passes to a libcall (see the module's "Safety").
    unsafe fn new(vmctx: *mut VMContext) -> CallingInstance {
        CallingInstance(vmctx)
    }

    /// Runs `f` with the store and the calling instance's index; turns its failure or
    /// panic into the runtime's trap state and returns `default` then.
    fn run<R>(
        self,
        default: R,
        f: impl FnOnce(&mut StoreData, u32, *mut VMRuntime) -> Result<R, Fail>,
    ) -> R {
        // SAFETY: the calling instance's context is alive (`new`'s contract).
        let (rt, instance) = unsafe { ((*self.0).runtime, (*self.0).instance) };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the entry running this call set the runtime's `store` to the store
            // it holds exclusively and leaves it alone until compiled code returns
            // (`new`'s contract), so this is the only live reference to it.
            let store = unsafe { &mut *(*rt).store };
            f(store, instance, rt)
        }));
        let (code, pending) = match outcome {
            Ok(Ok(r)) => return r,
            Ok(Err(Fail::Trap(k))) => (trap_code(k), None),
            Ok(Err(Fail::Error(e))) => (PENDING_ERROR, Some(Pending::Error(e))),
            Err(panic) => (PENDING_ERROR, Some(Pending::Panic(panic))),
        };
        // SAFETY: the runtime outlives every call made under the entry that set it up,
        // and the store reference above is gone.
        unsafe {
            (*rt).trap = code;
            if pending.is_some() {
                (*rt).pending = pending;
            }
        }
        default
    }
}

/// The store index of memory `m` of `instance`.
fn memory_index(store: &StoreData, instance: u32, m: u32) -> u32 {
    store.instances[instance as usize].memories[m as usize]
}

/// The store index of table `t` of `instance`.
fn table_index(store: &StoreData, instance: u32, t: u32) -> u32 {
    store.instances[instance as usize].tables[t as usize]
}

/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn memory_grow(vmctx: *mut VMContext, mem: u32, delta: u64) -> u64 {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run(u64::MAX, |s, i, _| {
        let m = memory_index(s, i, mem);
        Ok(s.memory_grow(m, delta) as u64)
    })
}

/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn memory_fill(vmctx: *mut VMContext, mem: u32, dst: u64, value: u32, len: u64) {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run((), |s, i, _| {
        let m = memory_index(s, i, mem);
        Ok(s.memory_fill(m, dst, value as u8, len)?)
    })
}

/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn memory_copy(
    vmctx: *mut VMContext,
    dst_mem: u32,
    src_mem: u32,
    dst: u64,
    src: u64,
    len: u64,
) {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run((), |s, i, _| {
        let (d, m) = (memory_index(s, i, dst_mem), memory_index(s, i, src_mem));
        Ok(s.memory_copy(d, m, dst, src, len)?)
    })
}

/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn memory_init(
    vmctx: *mut VMContext,
    mem: u32,
    data: u32,
    dst: u64,
    src: u64,
    len: u64,
) {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run((), |s, i, _| {
        let m = memory_index(s, i, mem);
        Ok(s.memory_init(i, m, data, dst, src, len, true)?)
    })
}

/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn data_drop(vmctx: *mut VMContext, data: u32) {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run((), |s, i, _| {
        s.data_drop(i, data);
        Ok(())
    })
}

/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn table_grow(vmctx: *mut VMContext, table: u32, delta: u64, init: u64) -> u64 {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run(u64::MAX, |s, i, _| {
        let t = table_index(s, i, table);
        Ok(s.table_grow(t, delta, init) as u64)
    })
}

/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn table_fill(vmctx: *mut VMContext, table: u32, dst: u64, value: u64, len: u64) {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run((), |s, i, _| {
        let t = table_index(s, i, table);
        Ok(s.table_fill(t, dst, value, len)?)
    })
}

/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn table_copy(
    vmctx: *mut VMContext,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run((), |s, i, _| {
        let (d, t) = (table_index(s, i, dst_table), table_index(s, i, src_table));
        Ok(s.table_copy(d, t, dst, src, len)?)
    })
}

/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn table_init(
    vmctx: *mut VMContext,
    table: u32,
    elem: u32,
    dst: u64,
    src: u64,
    len: u64,
) {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run((), |s, i, _| {
        let t = table_index(s, i, table);
        Ok(s.table_init(i, t, elem, dst, src, len, true)?)
    })
}

/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn elem_drop(vmctx: *mut VMContext, elem: u32) {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run((), |s, i, _| {
        s.elem_drop(i, elem);
        Ok(())
    })
}

/// `call_indirect`'s slow path, taken when the inline check fails (null element,
/// signature mismatch, a host function, or a function not in the cache yet): checks
/// the element and the signature, returns the code to call and leaves the callee's
/// vmctx in the runtime. A Wasm callee is entered in the runtime's cache, so the next
/// call through any table element holding it stays inline.
///
/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn resolve_indirect(
    vmctx: *mut VMContext,
    table: u32,
    index: u64,
    type_index: u32,
) -> usize {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run(0, |s, i, rt| {
        let t = table_index(s, i, table);
        let raw = s
            .table_get(t, index)
            .map_err(|_| TrapKind::UndefinedElement)?;
        let f = raw.checked_sub(1).ok_or(TrapKind::UninitializedElement)? as u32;
        let inst = &s.instances[i as usize];
        let (expected, actual) = (
            inst.type_ids[type_index as usize],
            s.funcs[f as usize].type_id,
        );
        // The function may have the expected type or a subtype of it; the cache entry
        // `enter_callee` makes records the type it was accepted for, so a later call
        // expecting that type hits.
        if actual != expected && !s.types.is_subtype(actual, expected) {
            return Err(TrapKind::IndirectCallTypeMismatch.into());
        }
        // SAFETY: `run` passes the live runtime of the entry running this call.
        Ok(unsafe { enter_callee(s, i, rt, raw, type_index) })
    })
}

/// `call_ref`'s slow path, taken when the inline check fails (null, a host function,
/// or a function not in the cache yet): traps on null, else returns the code to call
/// and leaves the callee's vmctx in the runtime, as `resolve_indirect` does. The
/// reference's type is `type_index` (validation), so there is no signature to check.
///
/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn resolve_ref(vmctx: *mut VMContext, raw: u64, type_index: u32) -> usize {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run(0, |s, i, rt| {
        if raw == 0 {
            return Err(TrapKind::NullFunctionReference.into());
        }
        // SAFETY: `run` passes the live runtime of the entry running this call.
        Ok(unsafe { enter_callee(s, i, rt, raw, type_index) })
    })
}

/// `FuncRefHasType`: whether the function of `raw` (not null) has a subtype of type
/// `type_index` of the calling instance (store type ids, `TypeRegistry::is_subtype`).
///
/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn func_ref_has_type(vmctx: *mut VMContext, raw: u64, type_index: u32) -> u32 {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run(0, |s, i, _| {
        let expected = s.instances[i as usize].type_ids[type_index as usize];
        let func = &s.funcs[(raw - 1) as usize];
        Ok(u32::from(s.types.is_subtype(func.type_id, expected)))
    })
}

/// `GcObjectOp`: runs the struct or array operator `code` for the calling instance.
///
/// # Safety
///
/// Called by compiled code only (see the module's "Safety"), with `buf` a stack buffer of
/// `cells` 16-byte cells, at least one, and `fp` the frame pointer of the calling
/// function, defined function `defined` of the calling instance's module.
#[allow(clippy::too_many_arguments)] // the libcall's ABI
unsafe extern "C" fn gc_object_op(
    vmctx: *mut VMContext,
    code: u32,
    imm: u32,
    extra: u32,
    buf: *mut u128,
    cells: u32,
    fp: usize,
    defined: u32,
) {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run((), |s, i, _| {
        // SAFETY: compiled code passes a buffer of `cells` cells, at least one (this
        // function's contract), which nothing else touches during the call.
        let cells = unsafe { std::slice::from_raw_parts_mut(buf, cells.max(1) as usize) };
        let op = ObjectOp::from_code(code)
            .ok_or_else(|| Fail::Error(Error::Usage(format!("no GC operator {code}"))))?;
        // Roots besides the store's: the operands, and the references of every suspended
        // Wasm frame, from the caller's up.
        // Both read `cells` only while the operator runs; its result is written after.
        let operand_cells = &*cells;
        let roots = |s: &StoreData, f: &mut dyn FnMut(u64)| {
            operand_cells.iter().for_each(|&c| f(c as u64));
            // SAFETY: `fp` is the frame pointer of the calling function, `defined` of
            // the calling instance's module, which is suspended in this call (this
            // function's contract).
            unsafe { super::stack_roots::for_each_root_at(s, i, defined, fp, f) }
        };
        let mut operands = CellOperands {
            cells: operand_cells,
            at: 0,
        };
        let result = s.gc_object_op(i, op, imm, extra, &mut operands, Some(&roots))?;
        if let Some(value) = result {
            cells[0] = value;
        }
        Ok(())
    })
}

/// An object operator's operands in raw cells, a `v128` in one as any other value.
struct CellOperands<'a> {
    cells: &'a [u128],
    at: usize,
}

impl Operands for CellOperands<'_> {
    fn next(&mut self, _wide: bool) -> crate::error::Result<RawValue> {
        let v = (self.cells.get(self.at).copied())
            .ok_or_else(|| Error::Usage("GC operator with too few operands".into()))?;
        self.at += 1;
        Ok(v)
    }
}

/// `GcRefTest`: whether `raw` is an object of the kind or type `kind` names.
///
/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn gc_ref_test(
    vmctx: *mut VMContext,
    raw: u64,
    kind: u32,
    type_index: u32,
) -> u32 {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run(0, |s, i, _| {
        let Some(heap) = s.gc.heap().filter(|h| h.is_object(raw)) else {
            return Ok(0);
        };
        let object_type = heap.type_of(raw as u32);
        let is_array = matches!(
            s.types.def(object_type).layout,
            Some(ObjectLayout::Array { .. })
        );
        Ok(u32::from(match kind {
            0 => !is_array,
            1 => is_array,
            _ => {
                let expected = s.instances[i as usize].type_ids[type_index as usize];
                s.types.is_subtype(object_type, expected)
            }
        }))
    })
}

/// The code of function reference `raw` (not null, of type `type_index` of instance
/// `i`), called from instance `i`; leaves its vmctx in the runtime and enters a Wasm
/// callee in the runtime's cache, so the next call through it stays inline.
///
/// # Safety
///
/// `rt` is the live runtime of the entry running this call, touched by this thread only.
unsafe fn enter_callee(
    s: &mut StoreData,
    i: u32,
    rt: *mut VMRuntime,
    raw: u64,
    type_index: u32,
) -> usize {
    let f = (raw - 1) as u32;
    let inst = &s.instances[i as usize];
    let type_id = inst.type_ids[type_index as usize];
    let module = inst.module.clone().expect("a Wasm instance has a module");
    let r = func_ref(s, f, super::native_module(&module), type_index);
    let cacheable = matches!(s.funcs[f as usize].kind, FuncKind::Wasm { .. });
    let entry = VMFuncEntry {
        type_id,
        _pad: 0,
        code: r.code,
        vmctx: r.vmctx,
        _pad2: 0,
    };
    // SAFETY: `rt` is live and this thread's (the contract); compiled code reloads the
    // cache's base and length after every call.
    unsafe {
        (*rt).indirect_vmctx = r.vmctx;
        if cacheable && (*rt).set_func_entry(raw as usize, entry, s.funcs.len()) {
            super::vmctx::update_func_entries(s, &*rt);
        }
    }
    r.code as usize
}

/// Calls host function `func` for the instance of `caller_vmctx`; arguments and results
/// are 16-byte cells (raw values, `values::RawValue`) in `buf`. For the call's duration
/// the runtime's innermost [`WasmExit`] is the adapter's frame at `adapter_fp`.
///
/// # Safety
///
/// Called by host adapters only (see the module's "Safety"), with their own frame
/// pointer.
unsafe extern "C" fn host_call(
    caller_vmctx: *mut VMContext,
    func: u64,
    buf: *mut u128,
    adapter_fp: usize,
) {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let rt = unsafe { (*caller_vmctx).runtime };
    // SAFETY: the runtime is alive, and this thread's alone, during every libcall.
    let outer = unsafe { (*rt).wasm_exits };
    let exit = WasmExit { adapter_fp, outer };
    // SAFETY: as above; `exit` outlives the host call, and the previous exit is put
    // back before `exit` is dropped (`run` catches every panic, so that always happens).
    unsafe { (*rt).wasm_exits = &exit };
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(caller_vmctx) };
    caller.run((), |s, i, _| {
        let func = func as u32;
        let ty = s.funcs[func as usize].ty.clone();
        let cells = ty.params().len().max(ty.results().len()).max(1);
        // SAFETY: the host adapter passes a stack buffer of exactly `cells` cells
        // (the larger of the parameter and result counts of this very signature).
        let buf = unsafe { std::slice::from_raw_parts_mut(buf, cells) };
        // Arguments and results share `buf`: copy the arguments out first.
        let (params, results) = (ty.params().len(), ty.results().len());
        with_raw_values(params, |args| {
            args.copy_from_slice(&buf[..params]);
            let results = &mut buf[..results];
            results.fill(0);
            s.call_host(func, Some(i), args, results)
        })
        .map_err(Fail::Error)
    });
    // SAFETY: as above.
    unsafe { (*rt).wasm_exits = exit.outer };
}

/// `throw`: a new exception of the instance's tag `tag` with the payload in `buf`, left
/// pending in the runtime (the flag set), so compiled code unwinds as after a trap
/// until a `try_table` catches it.
///
/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn throw(vmctx: *mut VMContext, tag: u32, buf: *const u128) {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run((), |s, i, _| {
        let tag = s.instances[i as usize].tags[tag as usize];
        let n = s.tags[tag as usize].ty.params().len();
        let payload = if n == 0 {
            &[][..]
        } else {
            // SAFETY: compiled code passes a buffer of the tag's parameter count in
            // cells (this function's contract).
            unsafe { std::slice::from_raw_parts(buf, n) }
        };
        let exn = s.new_exception(tag, payload);
        Err(Fail::Error(s.exception_error(exn)))
    })
}

/// `throw_ref` of exnref `exn` (its store index + 1; 0 is null, which traps).
///
/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn throw_ref(vmctx: *mut VMContext, exn: u64) {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run((), |s, _, _| {
        let exn = exn.checked_sub(1).ok_or(TrapKind::NullExceptionReference)?;
        Err(Fail::Error(s.exception_error(exn as u32)))
    })
}

/// A catch clause's test, on a `try_table`'s dispatch path after a call or a throw:
/// if the pending error is an exception of this store whose tag is the instance's tag
/// `tag` (any, for `CATCH_ALL`), takes it (clears the flag), writes its payload into
/// `buf` (unless `CATCH_ALL`) and returns its exnref; otherwise returns 0 and leaves the
/// trap, error or exception pending.
///
/// # Safety
///
/// Called by compiled code only (see the module's "Safety").
unsafe extern "C" fn catch_exception(vmctx: *mut VMContext, tag: u32, buf: *mut u128) -> u64 {
    // SAFETY: compiled code passes its own vmctx (this function's contract).
    let caller = unsafe { CallingInstance::new(vmctx) };
    caller.run(0, |s, i, rt| {
        // SAFETY: `run` passes the live runtime of the entry running this call; only
        // this thread touches it, and no reference to it is held elsewhere.
        let rt = unsafe { &mut *rt };
        if rt.trap != PENDING_ERROR {
            return Ok(0);
        }
        let Some(Pending::Error(e)) = &rt.pending else {
            return Ok(0);
        };
        let Some(exn) = s.thrown_exception(e) else {
            return Ok(0);
        };
        if tag != CATCH_ALL {
            if s.instances[i as usize].tags[tag as usize] != s.exception_tag(exn) {
                return Ok(0);
            }
            let payload = s.exception_payload(exn);
            // SAFETY: compiled code passes a buffer of at least the tag's parameter
            // count in cells (this function's contract), which is the payload's length.
            unsafe { std::ptr::copy_nonoverlapping(payload.as_ptr(), buf, payload.len()) };
        }
        rt.trap = 0;
        rt.pending = None;
        Ok(exn as u64 + 1)
    })
}
