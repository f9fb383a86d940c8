//! The host-to-Wasm entry (`Backend::invoke`).
//!
//! The entry builds the callee instance's vmctx if needed, sets the store pointer and
//! the stack limit in the store's runtime, and calls the signature's entry trampoline
//! with a buffer of raw cells. On return it reads the trap flag: a trap code becomes
//! `Error::Trap`, a pending error from a host function is returned unchanged, a caught
//! panic resumes unwinding here, on the host side of compiled code.

use super::CodeOptions;
use super::abi::EntryFn;
use super::vmctx::{PENDING_ERROR, Pending, VMContext, ensure_vmctx, trap_code, trap_kind};
use crate::error::{Backtrace, Error, Result, TrapKind};
use crate::store::{FuncKind, StoreData};
use crate::values::{RawValue, with_raw_values};

pub(crate) fn invoke(
    store: &mut StoreData,
    func: u32,
    args: &[RawValue],
    results: &mut [RawValue],
    options: CodeOptions,
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
    let tramp = native.trampolines[type_index].ok_or_else(|| {
        Error::internal(format!(
            "native engine: no entry trampoline for type {type_index}"
        ))
    })?;
    with_raw_values(args.len().max(results.len()).max(1), |buf| {
        buf[..args.len()].copy_from_slice(args);
        run_entry(store, vmctx, code, tramp, buf, options)?;
        results.copy_from_slice(&buf[..results.len()]);
        Ok(())
    })
}

/// Calls `code` through its entry trampoline `tramp` with the raw values in `buf`, and
/// turns what the runtime recorded (a trap code, a host function's error or panic) into
/// the call's outcome.
fn run_entry(
    store: &mut StoreData,
    vmctx: *mut VMContext,
    code: *const u8,
    tramp: usize,
    buf: &mut [RawValue],
    options: CodeOptions,
) -> Result<()> {
    let limit = crate::store::stack_limit();
    // Interruptible code checks the stack against the interrupt state's limit, which
    // a request raises (`store/interrupt.rs`); the state is an `Arc` the store holds.
    let interrupt = options.interruptible.then(|| store.interrupt.clone());
    if let Some(state) = &interrupt {
        state.enter(limit);
    }
    let store_ptr: *mut StoreData = store;
    // SAFETY: `vmctx` was just built or found for this instance and lives as long as the
    // store; its runtime is a separate heap allocation shared by the store's contexts.
    // `tramp` is the finalized entry trampoline of the callee's signature, compiled with
    // the `EntryFn` ABI, and `code` the callee's finalized code, both kept alive by
    // `invoke`'s `module`, which outlives this call. `buf` holds max(params, results)
    // cells as the trampoline expects. While compiled code runs, `store` is only reached
    // through `store_ptr` (by libcalls); after it, the frames of a trap by signal are
    // looked up in the store through `store_ptr` too, while `store` is not used.
    let (trap, pending, backtrace) = unsafe {
        let rt = (*vmctx).runtime;
        // A host function calling back in nests entries: the outer one's trap
        // backtrace state is restored when the inner one returns.
        let saved = ((*rt).stack_limit, (*rt).store, (*rt).backtrace_recorded);
        (*rt).stack_limit = limit;
        (*rt).store = store_ptr;
        // The store is locked for the whole call, so its counter stays where it is.
        (*rt).fuel = &raw mut (*store_ptr).fuel;
        (*rt).trap = 0;
        (*rt).backtrace_recorded = false;
        let trapped_by_signal = if options.signal_traps {
            // Code with trap sites: a fault at one ends the call here (`signals.rs`).
            super::signals::call_entry(tramp, code, vmctx, buf.as_mut_ptr())
        } else {
            let entry: EntryFn = std::mem::transmute::<usize, EntryFn>(tramp);
            entry(code, vmctx, vmctx, buf.as_mut_ptr());
            None
        };
        if let Some(signal_trap) = trapped_by_signal {
            match signal_trap.kind().trap_kind() {
                Some(kind) => {
                    // A stack overflow here is read as an interrupt request below as well.
                    (*rt).trap = trap_code(kind);
                    let mut backtrace = Backtrace::default();
                    signal_trap.extend_backtrace(&*store_ptr, &mut backtrace);
                    (*rt).trap_backtrace = Some(Box::new(backtrace));
                }
                // The flag is set: the function that saw it left by signal instead of
                // recording its frames and returning (`CodeOptions::leave_by_signal`).
                None => super::backtrace::record_flagged(&mut *rt, |backtrace| {
                    signal_trap.extend_backtrace(&*store_ptr, backtrace)
                }),
            }
        }
        let mut trap = std::mem::replace(&mut (*rt).trap, 0);
        let pending = (*rt).pending.take();
        let backtrace = (*rt).trap_backtrace.take();
        ((*rt).stack_limit, (*rt).store, (*rt).backtrace_recorded) = saved;
        if let Some(state) = &interrupt {
            // A failed stack check under a raised limit was a request.
            if trap == trap_code(TrapKind::CallStackExhausted) && state.limit_raised() {
                trap = trap_code(TrapKind::Interrupted);
            }
            // Back to the limit of the entry this one is nested in, if any.
            state.enter(saved.0);
        }
        (trap, pending, backtrace)
    };
    match (trap, pending) {
        (0, _) => {}
        (PENDING_ERROR, Some(Pending::Error(e))) => return Err(e),
        (PENDING_ERROR, Some(Pending::Panic(p))) => std::panic::resume_unwind(p),
        (code, _) => {
            let kind = trap_kind(code).unwrap_or(TrapKind::Unreachable);
            let mut error = Error::from(kind);
            if let (Some(backtrace), Some(to)) = (backtrace, error.trap_backtrace_mut()) {
                *to = *backtrace;
            }
            return Err(error);
        }
    }
    Ok(())
}
