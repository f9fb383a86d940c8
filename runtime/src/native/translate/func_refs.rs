//! Typed function references (Wasm 3.0): `call_ref`, `return_call_ref`,
//! `ref.as_non_null`, `br_on_null` and `br_on_non_null`.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#reference-instructions>.
//! A function reference is its raw form (store function index + 1, 0 for null) in an
//! `i64`, as in tables. Validation has checked its type, so `call_ref` only has to find
//! the code: inline through the runtime's function cache, exactly as `call_indirect` does
//! after its table load (the cached type id equals the expected one for every non-null
//! reference of this type, and entry 0, null, never matches), and through the
//! `resolve_ref` libcall otherwise, which traps on null. `return_call_ref` is the same
//! call in Cranelift's tail form, so loops of it run in constant stack.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value, types};

use super::calls::CallKind;
use super::{Translator, block_args};
use crate::error::{Result, TrapKind};
use crate::native::libcalls::Libcall;

use types::I32;

impl Translator<'_, '_> {
    pub(super) fn call_ref(&mut self, type_index: u32) -> Result<()> {
        self.call_through_ref(type_index, CallKind::Normal)
    }

    pub(super) fn return_call_ref(&mut self, type_index: u32) -> Result<()> {
        self.call_through_ref(type_index, CallKind::Tail)
    }

    fn call_through_ref(&mut self, type_index: u32, kind: CallKind) -> Result<()> {
        let raw = self.pop();
        let n = self.env.info.signature(type_index).params().len();
        let params = self.stack.split_off(self.stack.len() - n);
        let (code, callee) = self.ref_callee(type_index, raw);
        self.call_code(kind, type_index, code, callee, params);
        Ok(())
    }

    /// Code and vmctx of the function that reference `raw` (of type `type_index`) names;
    /// the `resolve_ref` libcall traps on null.
    fn ref_callee(&mut self, type_index: u32, raw: Value) -> (Value, Value) {
        self.cached_callee(type_index, raw, |this| {
            let ty = this.b.ins().iconst(I32, type_index as i64);
            let vmctx = this.vmctx;
            this.libcall(Libcall::ResolveRef, &[vmctx, raw, ty])[0]
        })
    }

    /// `ref.as_non_null`: traps on null; the reference stays on the stack.
    pub(super) fn ref_as_non_null(&mut self) -> Result<()> {
        let raw = *self.stack.last().expect("validated operand stack");
        let null = self.b.ins().icmp_imm_u(IntCC::Equal, raw, 0);
        self.trap_if(null, TrapKind::NullReference);
        Ok(())
    }

    /// `br_on_null`: branches (without the reference) when it is null, else keeps it.
    pub(super) fn br_on_null(&mut self, relative_depth: u32) -> Result<()> {
        let raw = self.pop();
        let (target, n) = self.target(relative_depth);
        let args = self.peekn(n);
        let cont = self.b.create_block();
        self.b
            .ins()
            .brif(raw, cont, &[], target, &block_args(&args));
        self.enter(cont);
        self.push(raw);
        Ok(())
    }

    /// `br_on_non_null`: branches with the reference when it is not null, else drops it.
    pub(super) fn br_on_non_null(&mut self, relative_depth: u32) -> Result<()> {
        let raw = *self.stack.last().expect("validated operand stack");
        let (target, n) = self.target(relative_depth);
        let args = self.peekn(n);
        let cont = self.b.create_block();
        self.b
            .ins()
            .brif(raw, target, &block_args(&args), cont, &[]);
        self.enter(cont);
        self.pop();
        Ok(())
    }
}
