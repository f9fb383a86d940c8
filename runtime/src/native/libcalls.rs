//! Functions compiled code calls (by address) for what is not worth inlining: bulk
//! memory and table operations, growth, `call_indirect` resolution and host calls.
//!
//! Each receives the calling instance's vmctx, reaches the store through the runtime,
//! and reports failure by setting the runtime's trap flag (a trap code, or
//! `PENDING_ERROR` with the error or panic kept in `pending`); compiled code tests the
//! flag after the call. Panics never unwind into compiled code: they are caught here
//! and resumed by the entry once compiled code has returned.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::vmctx::{
    PENDING_ERROR, Pending, VMContext, VMFuncEntry, VMRuntime, func_ref, trap_code,
};
use crate::error::{Error, TrapKind};
use crate::store::{FuncKind, StoreData};

enum Fail {
    Trap(TrapKind),
    Error(Error),
}

impl From<TrapKind> for Fail {
    fn from(k: TrapKind) -> Fail {
        Fail::Trap(k)
    }
}

/// Runs `f` with the store and the calling instance's index; turns its failure or panic
/// into the runtime's trap state and returns `default` then.
fn run<R>(
    vmctx: *mut VMContext,
    default: R,
    f: impl FnOnce(&mut StoreData, u32, *mut VMRuntime) -> Result<R, Fail>,
) -> R {
    // SAFETY: `vmctx` is the context of the instance whose compiled code is calling us:
    // it lives in that instance's `engine_state` for as long as the store does. Its
    // runtime's `store` was set by the host-to-Wasm entry to the `&mut StoreData` that
    // entry was given, which nothing else uses until compiled code returns to it.
    let (rt, instance) = unsafe { ((*vmctx).runtime, (*vmctx).instance) };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as above; this is the only live reference to the store.
        let store = unsafe { &mut *(*rt).store };
        f(store, instance, rt)
    }));
    let (code, pending) = match outcome {
        Ok(Ok(r)) => return r,
        Ok(Err(Fail::Trap(k))) => (trap_code(k), None),
        Ok(Err(Fail::Error(e))) => (PENDING_ERROR, Some(Pending::Error(e))),
        Err(panic) => (PENDING_ERROR, Some(Pending::Panic(panic))),
    };
    // SAFETY: the runtime outlives every call made under the entry that set it up, and
    // the store reference above is gone.
    unsafe {
        (*rt).trap = code;
        if pending.is_some() {
            (*rt).pending = pending;
        }
    }
    default
}

fn memory(store: &StoreData, instance: u32, m: u32) -> u32 {
    store.instances[instance as usize].memories[m as usize]
}

fn table(store: &StoreData, instance: u32, t: u32) -> u32 {
    store.instances[instance as usize].tables[t as usize]
}

pub(crate) extern "C" fn memory_grow(vmctx: *mut VMContext, mem: u32, delta: u32) -> i32 {
    run(vmctx, -1, |s, i, _| {
        let m = memory(s, i, mem);
        Ok(s.memory_grow(m, delta))
    })
}

pub(crate) extern "C" fn memory_fill(
    vmctx: *mut VMContext,
    mem: u32,
    dst: u32,
    value: u32,
    len: u32,
) {
    run(vmctx, (), |s, i, _| {
        let m = memory(s, i, mem);
        Ok(s.memory_fill(m, dst, value as u8, len)?)
    })
}

pub(crate) extern "C" fn memory_copy(
    vmctx: *mut VMContext,
    dst_mem: u32,
    src_mem: u32,
    dst: u32,
    src: u32,
    len: u32,
) {
    run(vmctx, (), |s, i, _| {
        let (d, m) = (memory(s, i, dst_mem), memory(s, i, src_mem));
        Ok(s.memory_copy(d, m, dst, src, len)?)
    })
}

pub(crate) extern "C" fn memory_init(
    vmctx: *mut VMContext,
    mem: u32,
    data: u32,
    dst: u32,
    src: u32,
    len: u32,
) {
    run(vmctx, (), |s, i, _| {
        let m = memory(s, i, mem);
        Ok(s.memory_init(i, m, data, dst, src, len)?)
    })
}

pub(crate) extern "C" fn data_drop(vmctx: *mut VMContext, data: u32) {
    run(vmctx, (), |s, i, _| {
        s.data_drop(i, data);
        Ok(())
    })
}

pub(crate) extern "C" fn table_grow(vmctx: *mut VMContext, t: u32, delta: u32, init: u64) -> i32 {
    run(vmctx, -1, |s, i, _| {
        let t = table(s, i, t);
        Ok(s.table_grow(t, delta, init))
    })
}

pub(crate) extern "C" fn table_fill(vmctx: *mut VMContext, t: u32, dst: u32, value: u64, len: u32) {
    run(vmctx, (), |s, i, _| {
        let t = table(s, i, t);
        Ok(s.table_fill(t, dst, value, len)?)
    })
}

pub(crate) extern "C" fn table_copy(
    vmctx: *mut VMContext,
    dst_table: u32,
    src_table: u32,
    dst: u32,
    src: u32,
    len: u32,
) {
    run(vmctx, (), |s, i, _| {
        let (d, t) = (table(s, i, dst_table), table(s, i, src_table));
        Ok(s.table_copy(d, t, dst, src, len)?)
    })
}

pub(crate) extern "C" fn table_init(
    vmctx: *mut VMContext,
    t: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) {
    run(vmctx, (), |s, i, _| {
        let t = table(s, i, t);
        Ok(s.table_init(i, t, elem, dst, src, len)?)
    })
}

pub(crate) extern "C" fn elem_drop(vmctx: *mut VMContext, elem: u32) {
    run(vmctx, (), |s, i, _| {
        s.elem_drop(i, elem);
        Ok(())
    })
}

/// `call_indirect`'s slow path, taken when the inline check fails (null element,
/// signature mismatch, a host function, or a function not in the cache yet): checks
/// the element and the signature, returns the code to call and leaves the callee's
/// vmctx in the runtime. A Wasm callee is entered in the runtime's cache, so the next
/// call through any table element holding it stays inline.
pub(crate) extern "C" fn resolve_indirect(
    vmctx: *mut VMContext,
    t: u32,
    index: u32,
    type_index: u32,
) -> usize {
    run(vmctx, 0, |s, i, rt| {
        let t = table(s, i, t);
        let raw = s
            .table_get(t, index)
            .map_err(|_| TrapKind::UndefinedElement)?;
        let f = raw.checked_sub(1).ok_or(TrapKind::UninitializedElement)? as u32;
        let inst = &s.instances[i as usize];
        let type_id = inst.type_ids[type_index as usize];
        if s.funcs[f as usize].type_id != type_id {
            return Err(TrapKind::IndirectCallTypeMismatch.into());
        }
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
        // SAFETY: the runtime is alive (see `run`) and only this thread touches it;
        // compiled code reloads the cache's base and length after every call.
        unsafe {
            (*rt).indirect_vmctx = r.vmctx;
            if cacheable {
                (*rt).set_func_entry(raw as usize, entry, s.funcs.len());
            }
        }
        Ok(r.code as usize)
    })
}

/// Calls host function `func` for the instance of `caller_vmctx`; arguments and results
/// are 16-byte cells (raw values, `values::RawValue`) in `buf`.
pub(crate) extern "C" fn host_call(caller_vmctx: *mut VMContext, func: u64, buf: *mut u128) {
    run(caller_vmctx, (), |s, i, _| {
        let func = func as u32;
        let ty = s.funcs[func as usize].ty.clone();
        let cells = ty.params().len().max(ty.results().len()).max(1);
        // SAFETY: the host adapter passes a stack buffer of exactly `cells` cells (the
        // larger of the parameter and result counts of this very signature).
        let buf = unsafe { std::slice::from_raw_parts_mut(buf, cells) };
        let args = buf[..ty.params().len()].to_vec();
        let results = &mut buf[..ty.results().len()];
        results.fill(0);
        s.call_host(func, Some(i), &args, results)
            .map_err(Fail::Error)?;
        Ok(())
    })
}
