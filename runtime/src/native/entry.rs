//! The host-to-Wasm entry (`Backend::invoke`) and the stack limit.
//!
//! The entry builds the callee instance's vmctx if needed, sets the store pointer and
//! the stack limit in the store's runtime, and calls the signature's entry trampoline
//! with a buffer of raw cells. On return it reads the trap flag: a trap code becomes
//! `Error::Trap`, a pending error from a host function is returned unchanged, a caught
//! panic resumes unwinding here, on the host side of compiled code.

use std::cell::Cell;

use super::abi::EntryFn;
use super::vmctx::{PENDING_ERROR, Pending, ensure_vmctx, trap_kind};
use crate::error::{Error, Result, TrapKind};
use crate::store::{FuncKind, StoreData};
use crate::values::RawValue;

pub(crate) fn invoke(
    store: &mut StoreData,
    func: u32,
    args: &[RawValue],
    results: &mut [RawValue],
) -> Result<()> {
    let (instance, index) = match store.funcs[func as usize].kind {
        FuncKind::Host { .. } => return store.call_host(func, None, args, results),
        FuncKind::Wasm { instance, index } => (instance, index),
    };
    let vmctx = ensure_vmctx(store, instance);
    let module = store.instances[instance as usize]
        .module
        .clone()
        .expect("a Wasm function's instance has a module");
    let native = super::native_module(&module);
    let info = module.info();
    let type_index = info.funcs[index as usize] as usize;
    let code = native.funcs[(index - info.num_imported_funcs) as usize] as *const u8;
    let tramp = native.trampolines[type_index];
    let mut buf = vec![0u128; args.len().max(results.len()).max(1)];
    buf[..args.len()].copy_from_slice(args);
    let limit = stack_limit();
    let store_ptr: *mut StoreData = store;
    // SAFETY: `vmctx` was just built or found for this instance and lives as long as the
    // store; its runtime is a separate heap allocation shared by the store's contexts.
    // `tramp` is the finalized entry trampoline of the callee's signature, compiled with
    // the `EntryFn` ABI, and `code` the callee's finalized code, both kept alive by
    // `module`. `buf` holds max(params, results) cells as the trampoline expects. While
    // compiled code runs, `store` is only reached through `store_ptr` (by libcalls).
    let (trap, pending) = unsafe {
        let rt = (*vmctx).runtime;
        let saved = ((*rt).stack_limit, (*rt).store);
        (*rt).stack_limit = limit;
        (*rt).store = store_ptr;
        (*rt).trap = 0;
        let entry: EntryFn = std::mem::transmute::<usize, EntryFn>(tramp);
        entry(code, vmctx, vmctx, buf.as_mut_ptr());
        let trap = std::mem::replace(&mut (*rt).trap, 0);
        let pending = (*rt).pending.take();
        ((*rt).stack_limit, (*rt).store) = saved;
        (trap, pending)
    };
    match (trap, pending) {
        (0, _) => {}
        (PENDING_ERROR, Some(Pending::Error(e))) => return Err(e),
        (PENDING_ERROR, Some(Pending::Panic(p))) => std::panic::resume_unwind(p),
        (code, _) => {
            let kind = trap_kind(code).unwrap_or(TrapKind::Unreachable);
            return Err(Error::from(kind));
        }
    }
    results.copy_from_slice(&buf[..results.len()]);
    Ok(())
}

thread_local! {
    /// (lowest usable address, size) of this thread's stack, 0 when unknown.
    static STACK: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// The lowest stack pointer compiled code may run at on this thread: the stack's bottom
/// plus a margin for the frames of host functions and libcalls below the deepest Wasm
/// frame (a quarter of the stack, between 48 KiB and 256 KiB).
pub(crate) fn stack_limit() -> usize {
    let (low, size) = STACK.with(|s| {
        if s.get().1 == 0 {
            s.set(thread_stack());
        }
        s.get()
    });
    let margin = (size / 4).clamp(48 * 1024, 256 * 1024);
    low + margin
}

#[cfg(target_os = "linux")]
fn thread_stack() -> (usize, usize) {
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    let mut addr: *mut libc::c_void = std::ptr::null_mut();
    let mut size: libc::size_t = 0;
    // SAFETY: `attr` is initialised by `pthread_getattr_np` before it is read and
    // destroyed after; `addr` and `size` are plain out-parameters.
    let ok = unsafe {
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            false
        } else {
            let r = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size);
            libc::pthread_attr_destroy(attr.as_mut_ptr());
            r == 0
        }
    };
    if ok && size > 0 {
        (addr as usize, size)
    } else {
        fallback_stack()
    }
}

#[cfg(not(target_os = "linux"))]
fn thread_stack() -> (usize, usize) {
    fallback_stack()
}

/// Without thread stack bounds, assume 1 MiB below the current frame is usable.
fn fallback_stack() -> (usize, usize) {
    let here = 0u8;
    let sp = &here as *const u8 as usize;
    let size = 1024 * 1024;
    (sp.saturating_sub(size), size)
}
