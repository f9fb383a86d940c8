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
use super::{Translator, block_args, defs, readonly, trusted};
use crate::error::{Result, TrapKind};
use crate::native::libcalls::Libcall;
use crate::native::vmctx::{
    ENTRY_CODE, ENTRY_TYPE_ID, ENTRY_VMCTX, FUNC_ENTRY_SHIFT, RT_FUNC_ENTRIES, RT_FUNC_ENTRIES_LEN,
    RT_INDIRECT_VMCTX, VM_TYPE_IDS,
};

use types::{I32, I64};

impl Translator<'_, '_> {
    pub(super) fn call_ref(&mut self, type_index: u32) -> Result<()> {
        self.call_through_ref(type_index, CallKind::Normal)
    }

    pub(super) fn return_call_ref(&mut self, type_index: u32) -> Result<()> {
        self.call_through_ref(type_index, CallKind::Tail)
    }

    fn call_through_ref(&mut self, type_index: u32, kind: CallKind) -> Result<()> {
        let raw = self.pop();
        let n = self.env.info.types[type_index as usize].params().len();
        let params = self.stack.split_off(self.stack.len() - n);
        let (code, callee) = self.ref_callee(type_index, raw);
        self.call_code(kind, type_index, code, callee, params);
        Ok(())
    }

    /// Code and vmctx of the function that reference `raw` (of type `type_index`) names.
    fn ref_callee(&mut self, type_index: u32, raw: Value) -> (Value, Value) {
        let (vmctx, rt) = (self.vmctx, self.rt);
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let check_type = self.b.create_block();
        let call = self.b.create_block();
        let code = self.b.append_block_param(call, I64);
        let callee = self.b.append_block_param(call, I64);

        let cached = self.b.ins().load(I64, defs(), rt, RT_FUNC_ENTRIES_LEN);
        let outside = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, raw, cached);
        self.b.ins().brif(outside, slow, &[], check_type, &[]);
        self.enter(check_type);
        let entries = self.b.ins().load(I64, defs(), rt, RT_FUNC_ENTRIES);
        let off = self.b.ins().ishl_imm_u(raw, FUNC_ENTRY_SHIFT);
        let entry = self.b.ins().iadd(entries, off);
        let id = self.b.ins().load(I32, defs(), entry, ENTRY_TYPE_ID);
        let type_ids = self.b.ins().load(I64, readonly(), vmctx, VM_TYPE_IDS);
        let expected = self
            .b
            .ins()
            .load(I32, readonly(), type_ids, (type_index * 4) as i32);
        let differs = self.b.ins().icmp(IntCC::NotEqual, id, expected);
        let hit = self.b.create_block();
        self.b.ins().brif(differs, slow, &[], hit, &[]);
        self.enter(hit);
        let fast_code = self.b.ins().load(I64, defs(), entry, ENTRY_CODE);
        let fast_vmctx = self.b.ins().load(I64, defs(), entry, ENTRY_VMCTX);
        self.b
            .ins()
            .jump(call, &block_args(&[fast_code, fast_vmctx]));

        self.enter(slow);
        let ty = self.b.ins().iconst(I32, type_index as i64);
        let slow_code = self.libcall(Libcall::ResolveRef, &[vmctx, raw, ty])[0];
        self.check_trap();
        let slow_vmctx = self.b.ins().load(I64, trusted(), rt, RT_INDIRECT_VMCTX);
        self.b
            .ins()
            .jump(call, &block_args(&[slow_code, slow_vmctx]));

        self.enter(call);
        (code, callee)
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
