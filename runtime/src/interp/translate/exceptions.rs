//! `throw`, `throw_ref` and `try_table` (Wasm 3.0 exception handling). Spec:
//! <https://webassembly.github.io/spec/core/exec/instructions.html#exception-handling>.
//!
//! A `try_table` costs its body nothing: its catch clauses become [`Handler`] records
//! of the function (the body's instruction range, the tag, where the label's values go)
//! that only the unwinder reads (`exec/exceptions.rs`). Each clause also gets a landing
//! pad, the branch to its label, emitted just before the body behind a jump over them;
//! the unwinder writes the payload (and the exnref) into the label's slots and resumes
//! at the pad, so a caught exception then leaves through an ordinary branch.

use wasmparser::{Catch, TryTable};

use super::{CtrlKind, Translator};
use crate::error::Result;
use crate::interp::bytecode::{Handler, Instr};

impl Translator<'_> {
    pub(super) fn op_try_table(&mut self, try_table: TryTable) -> Result<()> {
        let over = self.emit(Instr::Br { target: 0 });
        let mut handlers = Vec::with_capacity(try_table.catches.len());
        for catch in try_table.catches {
            let (tag, with_ref, label) = match catch {
                Catch::One { tag, label } => (Some(tag), false, label),
                Catch::OneRef { tag, label } => (Some(tag), true, label),
                Catch::All { label } => (None, false, label),
                Catch::AllRef { label } => (None, true, label),
            };
            // Catch labels are relative to the `try_table`'s surroundings (it is not
            // pushed yet).
            let ci = self.ctrls.len() - 1 - label as usize;
            let target = self.pc();
            let dst = if self.ctrls[ci].kind == CtrlKind::Func {
                // The function's label: its results go to slots `0..`, then return.
                self.emit(Instr::Return);
                0
            } else {
                let dst = self.canonical(self.ctrls[ci].height);
                self.emit_jump(ci, Instr::Br { target: 0 });
                dst
            };
            handlers.push(Handler {
                start: 0,
                end: 0,
                tag,
                with_ref,
                dst,
                target,
            });
        }
        let body = self.pc();
        self.instrs[over].set_target(body);
        self.enter_block(CtrlKind::Block, try_table.ty, None)?;
        let top = self.ctrls.len() - 1;
        self.ctrls[top].handlers = Some(handlers);
        Ok(())
    }

    /// At a `try_table`'s `end`: its clauses now know the body's range `start..end`.
    pub(super) fn close_try_table(&mut self, mut handlers: Vec<Handler>, start: u32) {
        let end = self.pc();
        for h in &mut handlers {
            h.start = start;
            h.end = end;
        }
        self.handlers.extend(handlers);
    }

    pub(super) fn op_throw(&mut self, tag: u32) {
        let n = self.info.tag_type(tag).params().len();
        self.materialize_top(n);
        let base = self.canonical(self.stack.len() - n);
        self.emit(Instr::Throw { tag, base });
        self.truncate_stack(self.stack.len() - n);
        self.reachable = false;
    }

    pub(super) fn op_throw_ref(&mut self) {
        let src = self.pop_slot();
        self.emit(Instr::ThrowRef { src });
        self.reachable = false;
    }
}
