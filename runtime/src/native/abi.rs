//! Every Cranelift signature the native engine uses, built here and nowhere else:
//!
//! - the **Wasm ABI** of compiled functions and host adapters:
//!   `(callee_vmctx: i64, caller_vmctx: i64, params...) -> (status: i32, results...)`, in
//!   Cranelift's `tail` calling convention ([`WASM_CALL_CONV`]);
//! - the **entry trampoline**, called from Rust as [`EntryFn`];
//! - the **libcalls**, Rust functions declared in `libcalls.rs`'s registry.
//!
//! The last two have the host's calling convention, since Rust is on the other side.
//! A function of either convention may call one of the other; only a tail call
//! (`return_call`) needs caller and callee both in `tail`.
//!
//! Where Rust is on the other side of a call (entry trampoline, libcalls), the Cranelift
//! parameter and result types come from the Rust types through [`AbiType`], so the two
//! sides cannot disagree.

use cranelift_codegen::ir::{AbiParam, ArgumentPurpose, Signature, Type, types};
use cranelift_codegen::isa::CallConv;

use super::libcalls::Libcall;
use super::vmctx::VMContext;
use crate::values::{FuncType, SubType, ValType};

// Pointers and `usize` travel as `I64`: the engine supports 64-bit hosts only.
const _: () = assert!(size_of::<usize>() == 8);

/// A Rust type passed between compiled code and Rust, and its Cranelift type.
pub(crate) trait AbiType {
    const CLIF: Type;
}

impl AbiType for u32 {
    const CLIF: Type = types::I32;
}

impl AbiType for i32 {
    const CLIF: Type = types::I32;
}

impl AbiType for u64 {
    const CLIF: Type = types::I64;
}

impl AbiType for usize {
    const CLIF: Type = types::I64;
}

impl<T> AbiType for *const T {
    const CLIF: Type = types::I64;
}

impl<T> AbiType for *mut T {
    const CLIF: Type = types::I64;
}

fn signature(call_conv: CallConv, params: &[Type], results: &[Type]) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
    sig.returns
        .extend(results.iter().map(|t| AbiParam::new(*t)));
    sig
}

/// The Cranelift type of a Wasm value: references are raw `I64`s, a `v128` is an `I8X16`.
pub(crate) fn clif_type(t: ValType) -> Type {
    match t {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::Ref(_) => types::I64,
        ValType::V128 => types::I8X16,
    }
}

/// The calling convention of the Wasm ABI: Cranelift's `tail`, the only one in which
/// `return_call` works (the callee pops its own stack arguments, so a caller can hand
/// its frame to a callee with more of them). Everything Wasm calls through a Wasm-ABI
/// signature (defined functions, other instances' functions, host adapters) must use
/// it, since an indirect callee's convention is not known at the call.
pub(crate) const WASM_CALL_CONV: CallConv = CallConv::Tail;

/// The type of the status every function of the Wasm ABI returns first: 0 when it
/// returns normally, anything else when it returns because the runtime's trap flag is set
/// (a trap, an exception or a host function's error is on its way out). The caller tests
/// it in its register instead of loading the flag (RATIONALE.md, "Native engine: VM
/// context and traps"). First, so that it is always in a register (`rax`), whatever the
/// number of results.
pub(crate) const STATUS: Type = types::I32;

/// The Wasm ABI signature of functions of type `ty`: the status first, then the
/// results. Code that consumes fuel passes the fuel left from caller to callee and back
/// in registers (`translate/metering.rs`): an `i64` after the two vmctx parameters and
/// after the results, where, for a function of one parameter and one result (or of none),
/// value and fuel come back in the registers they came in (`rcx` and `rdx` on x86-64);
/// fuel right after the status made every such function swap the two.
/// The signature of type definition `ty` when it is a function type; a struct or array
/// type gets an empty one, which nothing calls (signatures are indexed by type index).
pub(crate) fn type_signature(ty: &SubType, consume_fuel: bool) -> Signature {
    match ty.as_func() {
        Some(func) => wasm_signature(func, consume_fuel),
        None => signature(WASM_CALL_CONV, &[], &[]),
    }
}

pub(crate) fn wasm_signature(ty: &FuncType, consume_fuel: bool) -> Signature {
    let vmctx = <*mut VMContext>::CLIF;
    let fuel = consume_fuel.then_some(types::I64);
    let params: Vec<Type> = [vmctx, vmctx]
        .into_iter()
        .chain(fuel)
        .chain(ty.params().iter().map(|t| clif_type(*t)))
        .collect();
    let results: Vec<Type> = std::iter::once(STATUS)
        .chain(ty.results().iter().map(|t| clif_type(*t)))
        .chain(fuel)
        .collect();
    let mut sig = signature(WASM_CALL_CONV, &params, &results);
    // The callee's vmctx: where a prologue stack check finds its limit
    // (`translate::prologue_stack_limit`). The purpose changes no register assignment.
    sig.params[0].purpose = ArgumentPurpose::VMContext;
    sig
}

/// How Rust calls an entry trampoline: `(code, callee_vmctx, caller_vmctx, buf)`, where
/// `buf` holds the arguments and receives the results, one 16-byte cell each
/// (`Value::to_raw128`).
pub(crate) type EntryFn =
    unsafe extern "C" fn(*const u8, *mut VMContext, *mut VMContext, *mut u128);

/// The signature of [`EntryFn`].
pub(crate) fn entry_signature(call_conv: CallConv) -> Signature {
    let params = [
        <*const u8>::CLIF,
        <*mut VMContext>::CLIF,
        <*mut VMContext>::CLIF,
        <*mut u128>::CLIF,
    ];
    signature(call_conv, &params, &[])
}

/// The signature of `libcall`, from its registry entry.
pub(crate) fn libcall_signature(libcall: Libcall, call_conv: CallConv) -> Signature {
    signature(call_conv, libcall.params(), libcall.results())
}
