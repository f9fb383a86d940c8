//! Calls and returns: frame switches inside the one executor loop, instance switches
//! for imported functions, host calls, and the host-to-Wasm entry point.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-control-mathsf-call-x>
//! and `call_indirect` just below it.

use std::sync::Arc;

use super::stack::{ExecStack, Frame, with_stack};
use crate::error::{Error, Result, TrapKind};
use crate::interp::{InterpModule, ModuleCode};
use crate::store::{FuncKind, StoreData};
use crate::values::{RawValue, ValType, with_raw_values};

/// What the executing function sees of its instance.
pub(super) struct Ctx {
    pub code: Arc<ModuleCode>,
    pub instance: u32,
    /// Store index of memory 0 (unused when the module has none).
    pub mem: u32,
}

/// Where execution is: function, next instruction, frame base.
#[derive(Clone, Copy)]
pub(super) struct Pos {
    pub func: u32,
    pub pc: usize,
    pub base: usize,
}

/// The interpreter's bounds on a call's stacks (from `Config`).
pub(crate) struct Limits {
    /// Most nested Wasm calls.
    pub max_depth: usize,
    /// Most 64-bit cells on the value stack.
    pub max_cells: usize,
}

pub(super) fn load_ctx(store: &StoreData, instance: u32) -> Result<Ctx> {
    let inst = &store.instances[instance as usize];
    let code = inst
        .module
        .as_ref()
        .and_then(|m| m.compiled().as_any().downcast_ref::<InterpModule>())
        .map(|m| m.code.clone())
        .ok_or_else(|| Error::Usage("function was not compiled by the interpreter".into()))?;
    Ok(Ctx {
        code,
        instance,
        mem: inst.memories.first().copied().unwrap_or(u32::MAX),
    })
}

/// Enters defined function `func` of the current instance, its arguments at `abs_base`.
#[inline]
/// `callee` is the module code `func` belongs to; `caller_instance` is recorded in the
/// caller's frame so that returning restores its context.
pub(super) fn call_defined(
    st: &mut ExecStack,
    callee: &ModuleCode,
    caller_instance: u32,
    pos: &mut Pos,
    func: u32,
    abs_base: usize,
    limits: &Limits,
) -> Result<()> {
    if st.frames.len() >= limits.max_depth {
        return Err(TrapKind::CallStackExhausted.into());
    }
    st.enter(&callee.funcs[func as usize], abs_base, limits.max_cells)?;
    st.frames.push(Frame {
        func: pos.func,
        pc: pos.pc as u32,
        instance: caller_instance,
        base: pos.base,
    });
    *pos = Pos {
        func,
        pc: 0,
        base: abs_base,
    };
    Ok(())
}

/// Calls store function `sf`: a Wasm function (maybe of another instance) becomes the
/// current frame; a host function runs to completion here.
pub(super) fn call_store_func(
    store: &mut StoreData,
    st: &mut ExecStack,
    ctx: &mut Ctx,
    pos: &mut Pos,
    sf: u32,
    abs_base: usize,
    limits: &Limits,
) -> Result<()> {
    match &store.funcs[sf as usize].kind {
        FuncKind::Wasm { instance, index } => {
            let (instance, index) = (*instance, *index);
            if instance == ctx.instance {
                let defined = index - ctx.code.num_imported_funcs;
                return call_defined(st, &ctx.code, ctx.instance, pos, defined, abs_base, limits);
            }
            let callee_ctx = load_ctx(store, instance)?;
            let defined = index - callee_ctx.code.num_imported_funcs;
            // The caller's frame records the caller's instance, so return switches back.
            let code = &callee_ctx.code;
            call_defined(st, code, ctx.instance, pos, defined, abs_base, limits)?;
            *ctx = callee_ctx;
            Ok(())
        }
        FuncKind::Host { .. } => call_host(store, st, ctx.instance, sf, abs_base),
    }
}

fn call_host(
    store: &mut StoreData,
    st: &mut ExecStack,
    caller: u32,
    sf: u32,
    abs_base: usize,
) -> Result<()> {
    call_host_at(store, st, caller, sf, abs_base, abs_base)
}

/// Calls host function `sf` with the arguments at absolute slot `args`, writing its
/// results from absolute slot `results_at` on.
pub(super) fn call_host_at(
    store: &mut StoreData,
    st: &mut ExecStack,
    caller: u32,
    sf: u32,
    args: usize,
    results_at: usize,
) -> Result<()> {
    let ty = store.funcs[sf as usize].ty.clone();
    let (params, results) = (ty.params().len(), ty.results().len());
    with_raw_values(params + results, |cells| {
        let (arg_values, results) = cells.split_at_mut(params);
        let mut at = args;
        for (a, t) in arg_values.iter_mut().zip(ty.params()) {
            *a = read_value(&st.values, &mut at, *t);
        }
        // The host may collect (through Wasm it calls): this activation's cells are
        // roots meanwhile (`store/gc/state.rs`).
        let mark = store.gc.suspend(&st.values[..at]);
        let called = store.call_host(sf, Some(caller), arg_values, results);
        store.gc.resume(mark);
        called?;
        let end = results_at + 2 * results.len();
        if end > st.values.len() {
            st.values.resize(end, 0);
        }
        let mut at = results_at;
        for (r, t) in results.iter().zip(ty.results()) {
            write_value(&mut st.values, &mut at, *r, *t);
        }
        Ok(())
    })
}

/// `return_call` of defined function `func` of `callee` (the current instance's code, or
/// another instance's once the caller switches to it), its arguments at absolute slot
/// `args`: they move down to the current frame's base, which becomes the callee's frame
/// (the value stack grows if needed). No frame is pushed: the callee returns where the
/// current function would have, so a chain of tail calls runs in constant space.
pub(super) fn tail_call_defined(
    st: &mut ExecStack,
    callee: &ModuleCode,
    pos: &mut Pos,
    func: u32,
    args: usize,
    limits: &Limits,
) -> Result<()> {
    let code = &callee.funcs[func as usize];
    let num_params = code.num_params as usize;
    // In range: the arguments are in the current frame, inside the stack.
    st.values.copy_within(args..args + num_params, pos.base);
    st.enter(code, pos.base, limits.max_cells)?;
    pos.func = func;
    pos.pc = 0;
    Ok(())
}

/// Tail-calls store function `sf` if it is a Wasm function (of any instance), its
/// arguments at absolute slot `args`, switching `ctx` to its instance; false, doing
/// nothing, for a host function.
pub(super) fn tail_call_wasm(
    store: &StoreData,
    st: &mut ExecStack,
    ctx: &mut Ctx,
    pos: &mut Pos,
    sf: u32,
    args: usize,
    limits: &Limits,
) -> Result<bool> {
    let FuncKind::Wasm { instance, index } = store.funcs[sf as usize].kind else {
        return Ok(false);
    };
    if instance != ctx.instance {
        // The suspended caller's frame records its own instance, so the callee's
        // return switches back to it.
        *ctx = load_ctx(store, instance)?;
    }
    let defined = index - ctx.code.num_imported_funcs;
    tail_call_defined(st, &ctx.code, pos, defined, args, limits)?;
    Ok(true)
}

/// Reads a value of type `ty` from slot `*at` (two slots for a `v128`), advancing `at`.
pub(super) fn read_value(values: &[u64], at: &mut usize, ty: ValType) -> RawValue {
    let v = if ty == ValType::V128 {
        values[*at] as u128 | (values[*at + 1] as u128) << 64
    } else {
        values[*at] as u128
    };
    *at += 1 + (ty == ValType::V128) as usize;
    v
}

/// Writes `v` of type `ty` at slot `*at` (two slots for a `v128`), advancing `at`.
pub(super) fn write_value(values: &mut [u64], at: &mut usize, v: RawValue, ty: ValType) {
    values[*at] = v as u64;
    if ty == ValType::V128 {
        values[*at + 1] = (v >> 64) as u64;
        *at += 2;
    } else {
        *at += 1;
    }
}

/// `call_indirect`'s checks: the table element must exist, be non-null, and have the
/// expected type or a subtype of it (store-wide type ids are equal exactly when the
/// types are; only a mismatch asks the registry about declared supertypes).
pub(super) fn resolve_indirect(
    store: &StoreData,
    ctx: &Ctx,
    type_index: u32,
    table: u32,
    index: u32,
) -> Result<u32> {
    let inst = &store.instances[ctx.instance as usize];
    let t = &store.tables[inst.tables[table as usize] as usize];
    let raw = *t
        .elements
        .get(index as usize)
        .ok_or(TrapKind::UndefinedElement)?;
    let sf = raw.checked_sub(1).ok_or(TrapKind::UninitializedElement)? as u32;
    let (actual, expected) = (
        store.funcs[sf as usize].type_id,
        inst.type_ids[type_index as usize],
    );
    if actual != expected && !store.types.is_subtype(actual, expected) {
        return Err(TrapKind::IndirectCallTypeMismatch.into());
    }
    Ok(sf)
}

/// The store function a `call_ref` calls: validation guarantees the reference's type,
/// so only null is left to check.
#[inline]
pub(super) fn func_of_ref(raw: u64) -> Result<u32> {
    Ok(raw.checked_sub(1).ok_or(TrapKind::NullFunctionReference)? as u32)
}

/// Where a return went.
pub(super) enum ReturnedTo {
    /// To a caller of the same instance.
    Caller,
    /// To a caller of another instance (now `ctx`).
    OtherInstance,
    /// The entry function returned.
    Host,
}

/// Pops a frame.
#[inline]
pub(super) fn do_return(
    store: &StoreData,
    st: &mut ExecStack,
    ctx: &mut Ctx,
    pos: &mut Pos,
) -> Result<ReturnedTo> {
    let Some(f) = st.frames.pop() else {
        return Ok(ReturnedTo::Host);
    };
    let mut to = ReturnedTo::Caller;
    if f.instance != ctx.instance {
        *ctx = load_ctx(store, f.instance)?;
        to = ReturnedTo::OtherInstance;
    }
    *pos = Pos {
        func: f.func,
        pc: f.pc as usize,
        base: f.base,
    };
    Ok(to)
}

/// The host-to-Wasm entry: runs store function `func` with `args`, writing `results`.
pub(crate) fn invoke(
    store: &mut StoreData,
    limits: &Limits,
    func: u32,
    args: &[RawValue],
    results: &mut [RawValue],
) -> Result<()> {
    let (instance, index) = match &store.funcs[func as usize].kind {
        FuncKind::Host { .. } => return store.call_host(func, None, args, results),
        FuncKind::Wasm { instance, index } => (*instance, *index),
    };
    // Host functions that call back into Wasm nest machine frames (this loop's among
    // them) although Wasm calls do not: stop where the native engine would.
    if crate::store::stack_pointer() < crate::store::stack_limit() {
        return Err(TrapKind::CallStackExhausted.into());
    }
    let ty = store.funcs[func as usize].ty.clone();
    let ctx = load_ctx(store, instance)?;
    let defined = index - ctx.code.num_imported_funcs;
    with_stack(|st| {
        let code = &ctx.code.funcs[defined as usize];
        let need = (code.instrs.frame_size())
            .max(2 * args.len())
            .max(2 * results.len());
        if need > limits.max_cells {
            return Err(TrapKind::CallStackExhausted.into());
        }
        if st.values.len() < need {
            st.values.resize(need, 0);
        }
        let mut at = 0;
        for (a, t) in args.iter().zip(ty.params()) {
            write_value(&mut st.values, &mut at, *a, *t);
        }
        st.enter(code, 0, limits.max_cells)?;
        let pos = Pos {
            func: defined,
            pc: 0,
            base: 0,
        };
        super::run(store, st, ctx, pos, limits)?;
        let mut at = 0;
        for (r, t) in results.iter_mut().zip(ty.results()) {
            *r = read_value(&st.values, &mut at, *t);
        }
        Ok(())
    })
}
