//! `call` and `call_indirect`.
//!
//! A defined function of the same module is called directly (same vmctx). An imported
//! function is called through its `VMFuncRef` in the vmctx (its own vmctx, or for a
//! host function its store index and this module's host adapter). `call_indirect`
//! asks the `resolve_indirect` libcall, which checks bounds, null and the signature and
//! returns the code, leaving the callee's vmctx in the runtime.

use cranelift_codegen::ir::{self, InstBuilder, Value, types};
use cranelift_module::Module as _;
use wasmparser::Operator;

use super::{Translator, readonly, trusted};
use crate::error::Result;
use crate::native::libcalls;
use crate::native::vmctx::{FUNCREF_SIZE, RT_INDIRECT_VMCTX, VM_IMPORTS};

use types::{I32, I64};

impl Translator<'_, '_> {
    fn sig_ref(&mut self, type_index: u32) -> ir::SigRef {
        if let Some(s) = self.sig_refs.get(&type_index) {
            return *s;
        }
        let s = self
            .b
            .import_signature(self.env.sigs[type_index as usize].clone());
        self.sig_refs.insert(type_index, s);
        s
    }

    fn direct_ref(&mut self, defined: u32) -> ir::FuncRef {
        if let Some(f) = self.func_refs.get(&defined) {
            return *f;
        }
        let id = self.env.func_ids[defined as usize];
        let f = self.jit.declare_func_in_func(id, self.b.func);
        self.func_refs.insert(defined, f);
        f
    }

    fn finish_call(&mut self, call: ir::Inst) {
        let results = self.b.inst_results(call).to_vec();
        self.check_trap();
        self.stack.extend(results);
    }

    pub(super) fn call_op(&mut self, op: &Operator<'_>) -> Result<bool> {
        match op {
            Operator::Call { function_index } => {
                let f = *function_index;
                let info = self.env.info;
                let type_index = info.funcs[f as usize];
                let n = info.types[type_index as usize].params().len();
                let params = self.stack.split_off(self.stack.len() - n);
                let vmctx = self.vmctx;
                let call = if f < info.num_imported_funcs {
                    let imports = self.b.ins().load(I64, readonly(), vmctx, VM_IMPORTS);
                    let off = (f as i32) * FUNCREF_SIZE;
                    let code = self.b.ins().load(I64, readonly(), imports, off);
                    let callee = self.b.ins().load(I64, readonly(), imports, off + 8);
                    let sig = self.sig_ref(type_index);
                    let mut args = vec![callee, vmctx];
                    args.extend(params);
                    self.b.ins().call_indirect(sig, code, &args)
                } else {
                    let fr = self.direct_ref(f - info.num_imported_funcs);
                    let mut args = vec![vmctx, vmctx];
                    args.extend(params);
                    self.b.ins().call(fr, &args)
                };
                self.finish_call(call);
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => {
                let index = self.pop();
                let n = self.env.info.types[*type_index as usize].params().len();
                let params = self.stack.split_off(self.stack.len() - n);
                let vmctx = self.vmctx;
                let t = self.b.ins().iconst(I32, *table_index as i64);
                let ty = self.b.ins().iconst(I32, *type_index as i64);
                let code = self.libcall(
                    libcalls::resolve_indirect as *const u8,
                    &[I64, I32, I32, I32],
                    &[I64],
                    &[vmctx, t, index, ty],
                )[0];
                self.check_trap();
                let rt = self.rt;
                let callee: Value = self.b.ins().load(I64, trusted(), rt, RT_INDIRECT_VMCTX);
                let sig = self.sig_ref(*type_index);
                let mut args = vec![callee, vmctx];
                args.extend(params);
                let call = self.b.ins().call_indirect(sig, code, &args);
                self.finish_call(call);
            }
            Operator::ReturnCall { .. } | Operator::ReturnCallIndirect { .. } => {
                return Err(super::unsupported("tail calls"));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
