//! Typed function references (Wasm 3.0): `call_ref`, `return_call_ref`,
//! `ref.as_non_null`, `br_on_null` and `br_on_non_null`.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#reference-instructions>.
//! Validation has checked every reference's type, so at run time only null is tested: a
//! reference is null exactly when its 64-bit cell is zero. `ref.func`, typed `select`,
//! non-nullable locals (always written before they are read) and typed tables need
//! nothing beyond what Wasm 2.0's references do.

use super::Translator;
use crate::interp::bytecode::{Instr, Slot};

impl Translator<'_> {
    /// A slot holding the top operand, which stays on the stack (an immediate is written
    /// to its canonical slot first).
    pub(super) fn top_slot(&mut self) -> Slot {
        let pos = self.stack.len() - 1;
        if self.src_of(pos).is_err() {
            self.materialize(pos);
        }
        match self.src_of(pos) {
            Ok(slot) => slot,
            Err(_) => unreachable!("a materialised operand is in its canonical slot"),
        }
    }

    /// `call_ref`: as `call_indirect`, with the callee taken from the reference on top
    /// of the arguments instead of a table.
    pub(super) fn op_call_ref(&mut self, type_index: u32) {
        let ty = self.info.signature(type_index).clone();
        let np = ty.params().len();
        let func = self.pop_slot();
        let base = self.call_arguments(np);
        self.emit(Instr::CallRef { func, base });
        self.truncate_stack(self.stack.len() - np);
        self.push_stack(&super::wide_of(ty.results()));
    }

    /// `return_call_ref`: the callee replaces this frame (`control.rs`'s tail calls).
    pub(super) fn op_return_call_ref(&mut self, type_index: u32) {
        let np = self.info.signature(type_index).params().len();
        let func = self.pop_slot();
        let base = self.call_arguments(np);
        self.emit(Instr::ReturnCallRef { func, base });
        self.truncate_stack(self.stack.len() - np);
        self.reachable = false;
    }

    pub(super) fn op_ref_as_non_null(&mut self) {
        let src = self.top_slot();
        self.emit(Instr::RefAsNonNull { src });
    }

    /// `br_on_null`: branches without the reference when it is null, else leaves it on
    /// the stack. Its slot is above every value the branch moves, so it survives them.
    pub(super) fn op_br_on_null(&mut self, depth: u32) {
        let cond = self.top_slot();
        let Some(reference) = self.pop_op() else {
            return;
        };
        self.branch_on(
            depth,
            Instr::BrIfNull { cond, target: 0 },
            Instr::BrIfNonNull { cond, target: 0 },
        );
        self.push(reference);
    }

    /// `br_on_non_null`: branches with the reference when it is not null, else drops it.
    pub(super) fn op_br_on_non_null(&mut self, depth: u32) {
        let cond = self.top_slot();
        self.branch_on(
            depth,
            Instr::BrIfNonNull { cond, target: 0 },
            Instr::BrIfNull { cond, target: 0 },
        );
        self.pop_op();
    }

    /// A conditional branch to label `depth`: `taken` when its values are already in
    /// place, else `not_taken` over the copies and the jump.
    pub(super) fn branch_on(&mut self, depth: u32, taken: Instr, not_taken: Instr) {
        if self.branch_in_place(depth) {
            let ci = self.ctrls.len() - 1 - depth as usize;
            self.emit_jump(ci, taken);
        } else {
            let skip = self.emit(not_taken);
            self.emit_branch(depth);
            let here = self.pc();
            self.bind(skip, here);
        }
        self.last_def = None;
    }
}
