//! Per-signature glue between the host and compiled code.
//!
//! - The **entry trampoline** `(code, callee_vmctx, caller_vmctx, buf: *mut u128)`
//!   (`abi::EntryFn`) loads the arguments from `buf` (16-byte cells, `Value::to_raw128`),
//!   calls `code` with the Wasm ABI and writes the results back into `buf`: one native
//!   entry point for every signature, multiple results included.
//! - The **host adapter** has the Wasm ABI (in the `tail` convention, so Wasm may
//!   tail-call it like any function); its `callee_vmctx` is a host function's store
//!   index. It spills the arguments to a stack buffer and calls the `host_call` libcall,
//!   then loads the results and returns the trap flag as its status (0 unless the host
//!   function failed), which the caller tests as after any call.
//!
//! With fuel metering, Wasm code passes the fuel left in registers (`metering.rs`): the
//! entry trampoline takes it from the store's counter and puts back what the callee
//! returns; the host adapter stores what it is passed (the host function, and Wasm it
//! calls, charge the store's counter) and returns what is left after the host call.

use cranelift_codegen::ir::{
    self, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Type, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use super::{Env, builder_at_entry, import_libcall, readonly, trusted};
use crate::native::abi::{STATUS, clif_type};
use crate::native::libcalls::Libcall;
use crate::native::vmctx::{RT_FUEL, RT_TRAP, VM_RUNTIME};
use crate::values::FuncType;

use types::{F32, I32, I64};

/// Size of a cell of the argument/result buffers: a `v128` fits.
const CELL: usize = 16;

/// Cells hold `Value::to_raw128`: a v128 whole, anything else in the low 64 bits.
fn cell_flags(ty: Type) -> MemFlagsData {
    if ty.is_vector() {
        MemFlagsData::new().with_notrap()
    } else {
        trusted()
    }
}

pub(crate) fn store_raw(b: &mut FunctionBuilder<'_>, v: Value, buf: Value, i: usize) {
    let ty = b.func.dfg.value_type(v);
    let raw = match ty {
        I32 => b.ins().uextend(I64, v),
        F32 => {
            let bits = b.ins().bitcast(I32, MemFlagsData::new(), v);
            b.ins().uextend(I64, bits)
        }
        _ => v,
    };
    b.ins().store(cell_flags(ty), raw, buf, (i * CELL) as i32);
}

pub(crate) fn load_raw(b: &mut FunctionBuilder<'_>, ty: Type, buf: Value, i: usize) -> Value {
    b.ins().load(ty, cell_flags(ty), buf, (i * CELL) as i32)
}

pub(crate) fn build_entry(
    func: &mut ir::Function,
    fbc: &mut FunctionBuilderContext,
    env: &Env<'_>,
    type_index: usize,
) {
    let ty: &FuncType = env.info.signature(type_index as u32);
    let (mut b, p) = builder_at_entry(func, fbc);
    let (code, callee, caller, buf) = (p[0], p[1], p[2], p[3]);
    let mut args = vec![callee, caller];
    let counter = env
        .options
        .consume_fuel
        .then(|| fuel_counter(&mut b, callee));
    if let Some(counter) = counter {
        args.push(b.ins().load(I64, trusted(), counter, 0));
    }
    for (i, t) in ty.params().iter().enumerate() {
        let v = load_raw(&mut b, clif_type(*t), buf, i);
        args.push(v);
    }
    let sig = b.import_signature(env.sigs[type_index].clone());
    let call = b.ins().call_indirect(sig, code, &args);
    let mut results = b.inst_results(call).to_vec();
    // The status: the entry reads the trap flag itself (`entry.rs`), whatever it says.
    results.remove(0);
    if let Some(counter) = counter {
        let fuel = results.pop().expect("metered code returns the fuel left");
        b.ins().store(trusted(), fuel, counter, 0);
    }
    for (i, v) in results.into_iter().enumerate() {
        store_raw(&mut b, v, buf, i);
    }
    b.ins().return_(&[]);
    b.finalize(env.frontend);
}

pub(crate) fn build_host_adapter(
    func: &mut ir::Function,
    fbc: &mut FunctionBuilderContext,
    env: &Env<'_>,
    type_index: usize,
) {
    let ty: &FuncType = env.info.signature(type_index as u32);
    let (mut b, p) = builder_at_entry(func, fbc);
    let (func_index, caller) = (p[0], p[1]);
    let cells = ty.params().len().max(ty.results().len()).max(1);
    let slot = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        (cells * CELL) as u32,
        4,
    ));
    let buf = b.ins().stack_addr(I64, slot, 0);
    let counter = env
        .options
        .consume_fuel
        .then(|| fuel_counter(&mut b, caller));
    if let Some(counter) = counter {
        b.ins().store(trusted(), p[2], counter, 0);
    }
    let first_param = 2 + usize::from(env.options.consume_fuel);
    for (i, v) in p[first_param..].iter().enumerate() {
        store_raw(&mut b, *v, buf, i);
    }
    let host_call = import_libcall(b.func, Libcall::HostCall, env.call_conv);
    // Its own frame pointer: the start of a walk of the Wasm frames below it.
    let fp = b.ins().get_frame_pointer(I64);
    b.ins().call(host_call, &[caller, func_index, buf, fp]);
    let rt = b.ins().load(I64, trusted(), caller, VM_RUNTIME);
    let status = b.ins().load(STATUS, trusted(), rt, RT_TRAP);
    let mut results = vec![status];
    for (i, t) in ty.results().iter().enumerate() {
        let v = load_raw(&mut b, clif_type(*t), buf, i);
        results.push(v);
    }
    if let Some(counter) = counter {
        results.push(b.ins().load(I64, trusted(), counter, 0));
    }
    b.ins().return_(&results);
    b.finalize(env.frontend);
}

/// The address of the store's fuel counter, through the runtime of `vmctx` (any
/// instance's context: they share the store's runtime).
fn fuel_counter(b: &mut FunctionBuilder<'_>, vmctx: Value) -> Value {
    let rt = b.ins().load(I64, readonly(), vmctx, VM_RUNTIME);
    b.ins().load(I64, readonly(), rt, RT_FUEL)
}
