//! `call` and `call_indirect`, and their tail-call forms `return_call` and
//! `return_call_indirect`, which end with Cranelift's `return_call` /
//! `return_call_indirect`. Every call passes this instance's vmctx as `caller_vmctx`, tail
//! calls too: only a host adapter reads it (the host function's `Caller`), and the
//! instance whose code made the call is the caller, as in the interpreter, even though a
//! tail-called function returns to this function's caller. Tail calls run in constant
//! machine stack: the Wasm ABI is in the `tail` calling convention (`abi::WASM_CALL_CONV`).
//!
//! A defined function of the same module is called directly (same vmctx). An imported
//! function is called through its `VMFuncRef` in the vmctx (its own vmctx, or for a
//! host function its store index and this module's host adapter). `call_indirect`
//! checks bounds inline, then finds the element's function in the runtime's function
//! cache (`VMFuncEntry`: type id, code, vmctx) and compares type ids; a miss (null,
//! mismatch, host function, not cached yet) asks the `resolve_indirect` libcall, which
//! traps or returns the code and vmctx, and caches a Wasm callee.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self, InstBuilder, Value, types};

use super::{FUNC_NAMESPACE, Translator, block_args, defs, readonly, trusted};
use crate::error::{Result, TrapKind};
use crate::native::libcalls::Libcall;
use crate::native::vmctx::{
    ENTRY_CODE, ENTRY_TYPE_ID, ENTRY_VMCTX, FUNC_ENTRY_SHIFT, FUNCREF_SIZE, RT_INDIRECT_VMCTX,
    VM_FUNC_ENTRIES, VM_FUNC_ENTRIES_LEN, VM_IMPORTS, VM_TYPE_IDS,
};

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
        // What `Module::declare_func_in_func` does, without the module: functions are
        // translated on several threads, away from the `JITModule`; `link.rs` resolves
        // the name. A defined function is local to the module, hence colocated.
        let nimp = self.env.info.num_imported_funcs as usize;
        let type_index = self.env.info.funcs[nimp + defined as usize];
        let signature = self.sig_ref(type_index);
        let name = self
            .b
            .func
            .declare_imported_user_function(ir::UserExternalName {
                namespace: FUNC_NAMESPACE,
                index: defined,
            });
        let f = self.b.import_function(ir::ExtFuncData {
            name: ir::ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.func_refs.insert(defined, f);
        f
    }

    /// The Wasm ABI's arguments of a call to a function of vmctx `callee`.
    fn call_args(&mut self, callee: Value, params: Vec<Value>) -> Vec<Value> {
        let fuel = self.fuel_left();
        [callee, self.vmctx]
            .into_iter()
            .chain(fuel)
            .chain(params)
            .collect()
    }

    /// After a Wasm call: the fuel it returns last (right even if it trapped), then the
    /// test of the status it returns first. The results are of type `type_index`'s.
    fn finish_call(&mut self, call: ir::Inst, type_index: u32) {
        let mut results = self.b.inst_results(call).to_vec();
        let status = results.remove(0);
        if self.fuel.is_some() {
            let fuel = results.pop().expect("metered code returns the fuel left");
            self.fuel_returned(fuel);
        }
        self.check_status(status);
        self.reload_defs_after_call();
        let info = self.env.info;
        self.declare_roots(&results, info.signature(type_index).results());
        self.stack.extend(results);
    }

    /// Code and vmctx of `call_indirect`'s callee: element `index` of table `table`,
    /// checked to have type `type_index`. Inline: the bounds check, then the element's
    /// entry in the runtime's function cache, whose type id must equal the expected
    /// one. Anything else (null, a mismatch, a host function, a function not cached
    /// yet) takes the `resolve_indirect` libcall, which traps or resolves and caches.
    fn indirect_callee(&mut self, table: u32, type_index: u32, index: Value) -> (Value, Value) {
        let elem = self.table_elem(table, index, TrapKind::UndefinedElement);
        let raw = self.b.ins().load(I64, trusted(), elem, 0);
        self.cached_callee(type_index, raw, |this| {
            let t = this.b.ins().iconst(I32, table as i64);
            let ty = this.b.ins().iconst(I32, type_index as i64);
            let index = this.widen_to_u64(index);
            let vmctx = this.vmctx;
            this.libcall(Libcall::ResolveIndirect, &[vmctx, t, index, ty])[0]
        })
    }

    /// Code and vmctx of the function that raw reference `raw` names, when it has type
    /// `type_index`: its entry in the runtime's function cache if the reference is within
    /// the cache and the entry's type id is the expected one; otherwise `resolve` emits the
    /// libcall that traps (null, a type mismatch, ...) or returns the code and leaves the
    /// vmctx in `RT_INDIRECT_VMCTX` (and caches a Wasm callee). `call_indirect` and
    /// `call_ref` differ only in that libcall.
    pub(super) fn cached_callee(
        &mut self,
        type_index: u32,
        raw: Value,
        resolve: impl FnOnce(&mut Self) -> Value,
    ) -> (Value, Value) {
        if !self.indirect_types.contains(&type_index) {
            self.indirect_types.push(type_index);
        }
        let vmctx = self.vmctx;
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let check_type = self.b.create_block();
        let call = self.b.create_block();
        let code = self.b.append_block_param(call, I64);
        let callee = self.b.append_block_param(call, I64);

        let cached = (self.b.ins()).load(I64, defs(), vmctx, VM_FUNC_ENTRIES_LEN);
        let outside = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, raw, cached);
        self.b.ins().brif(outside, slow, &[], check_type, &[]);
        self.enter(check_type);
        let entries = (self.b.ins()).load(I64, defs(), vmctx, VM_FUNC_ENTRIES);
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
        let slow_code = resolve(self);
        self.check_trap();
        // The rest of the slow path is cold too, so that Cranelift lays it out with the
        // other cold blocks and the hit path falls through into the call: placed
        // between the two, it cost the hit path a taken `jmp` over it (`indirect`
        // 1.25 -> 1.12 of wasmtime's time, RATIONALE.md "call_indirect: the hit path").
        let resolved = self.b.current_block().expect("check_trap entered a block");
        self.b.set_cold_block(resolved);
        // The runtime's address loaded again after the libcall, rather than the hit
        // path's `rt`, which would otherwise have to survive the libcall in a
        // callee-saved register.
        let rt_after = self.runtime();
        let slow_vmctx = self
            .b
            .ins()
            .load(I64, trusted(), rt_after, RT_INDIRECT_VMCTX);
        self.b
            .ins()
            .jump(call, &block_args(&[slow_code, slow_vmctx]));

        self.enter(call);
        (code, callee)
    }

    pub(super) fn call(&mut self, function_index: u32) -> Result<()> {
        self.call_function(function_index, CallKind::Normal)
    }

    pub(super) fn return_call(&mut self, function_index: u32) -> Result<()> {
        self.call_function(function_index, CallKind::Tail)
    }

    pub(super) fn call_indirect(&mut self, type_index: u32, table_index: u32) -> Result<()> {
        self.call_table_element(type_index, table_index, CallKind::Normal)
    }

    pub(super) fn return_call_indirect(&mut self, type_index: u32, table_index: u32) -> Result<()> {
        self.call_table_element(type_index, table_index, CallKind::Tail)
    }

    fn call_function(&mut self, f: u32, kind: CallKind) -> Result<()> {
        let info = self.env.info;
        let type_index = info.funcs[f as usize];
        let n = info.signature(type_index).params().len();
        let params = self.stack.split_off(self.stack.len() - n);
        let vmctx = self.vmctx;
        if f < info.num_imported_funcs {
            let imports = self.b.ins().load(I64, readonly(), vmctx, VM_IMPORTS);
            let off = (f as i32) * FUNCREF_SIZE;
            let code = self.b.ins().load(I64, readonly(), imports, off);
            let callee = self.b.ins().load(I64, readonly(), imports, off + 8);
            self.call_code(kind, type_index, code, callee, params);
            return Ok(());
        }
        let fr = self.direct_ref(f - info.num_imported_funcs);
        let args = self.call_args(vmctx, params);
        match kind {
            CallKind::Normal => {
                let call = self.b.ins().call(fr, &args);
                self.finish_call(call, type_index);
            }
            CallKind::Tail => {
                self.b.ins().return_call(fr, &args);
                self.reachable = false;
            }
        }
        Ok(())
    }

    fn call_table_element(
        &mut self,
        type_index: u32,
        table_index: u32,
        kind: CallKind,
    ) -> Result<()> {
        let index = self.pop();
        let n = self.env.info.signature(type_index).params().len();
        let params = self.stack.split_off(self.stack.len() - n);
        let (code, callee) = self.indirect_callee(table_index, type_index, index);
        self.call_code(kind, type_index, code, callee, params);
        Ok(())
    }

    /// Calls `code` with the Wasm ABI of type `type_index` and vmctx `callee`. A tail
    /// call ends the block: the callee returns its status straight to this function's
    /// caller, which tests it as after any call.
    pub(super) fn call_code(
        &mut self,
        kind: CallKind,
        type_index: u32,
        code: Value,
        callee: Value,
        params: Vec<Value>,
    ) {
        let sig = self.sig_ref(type_index);
        let args = self.call_args(callee, params);
        match kind {
            CallKind::Normal => {
                let call = self.b.ins().call_indirect(sig, code, &args);
                self.finish_call(call, type_index);
            }
            CallKind::Tail => {
                self.b.ins().return_call_indirect(sig, code, &args);
                self.reachable = false;
            }
        }
    }
}

/// Whether a call returns here (`call`) or hands this function's frame to the callee
/// (`return_call`).
#[derive(Clone, Copy)]
pub(super) enum CallKind {
    Normal,
    Tail,
}
