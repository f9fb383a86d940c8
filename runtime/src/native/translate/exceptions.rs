//! `throw`, `throw_ref` and `try_table` (Wasm 3.0 exception handling). Spec:
//! <https://webassembly.github.io/spec/core/exec/instructions.html#exception-handling>.
//!
//! An exception unwinds native frames the way a trap does (RATIONALE.md, "Exceptions"):
//! `throw` (a libcall) makes the exception object in the store and leaves it in the
//! runtime as the pending error, the trap flag set to `PENDING_ERROR`; every function
//! returns as soon as it sees the flag set after a call (a callee's non-zero status, or
//! the flag itself after a libcall), with status 1 to its own caller. Only a call
//! *inside a `try_table`* does something else on that cold path: it branches to the `try_table`'s dispatch
//! block, which asks the `catch_exception` libcall, clause by clause, whether the
//! pending error is an exception that clause catches. A match takes the exception
//! (clearing the flag), loads its payload from a stack buffer the libcall filled and
//! branches to the clause's label; no match goes on to the enclosing `try_table`'s
//! dispatch block, or returns like any trap. A function without `try_table` gets
//! exactly the code it got before.

use cranelift_codegen::ir::{Block, InstBuilder, StackSlotData, StackSlotKind, Value, types};
use wasmparser::{Catch, TryTable};

use super::trampolines::{load_raw, store_raw};
use super::{FrameKind, Translator, block_args};
use crate::error::Result;
use crate::native::abi::clif_type;
use crate::native::libcalls::Libcall;

/// The tag operand of `catch_exception` for `catch_all` and `catch_all_ref`.
pub(crate) const CATCH_ALL: u32 = u32::MAX;

/// Size of a payload buffer cell (raw values, `values::RawValue`).
const CELL: u32 = 16;

/// A catch clause: the tag caught (`None` for any), whether the exnref follows the
/// payload, and the index in `Translator::control` of the label's frame.
struct Clause {
    tag: Option<u32>,
    with_ref: bool,
    frame: usize,
}

/// An open `try_table`.
pub(super) struct TryScope {
    /// The `try_table`'s own frame index in `Translator::control`.
    frame: usize,
    clauses: Vec<Clause>,
    /// Where calls in the body go when the trap flag is set: made by the first such call,
    /// filled when the `try_table` ends.
    dispatch: Option<Block>,
}

impl Translator<'_, '_> {
    pub(super) fn open_try_table(&mut self, try_table: TryTable) -> Result<()> {
        if !self.reachable {
            // Counted as a dead frame, like a block.
            return self.open_block(try_table.ty);
        }
        // Catch labels are relative to the `try_table`'s surroundings.
        let outer = self.control.len() - 1;
        let clauses = (try_table.catches.iter())
            .map(|c| {
                let (tag, with_ref, label) = match *c {
                    Catch::One { tag, label } => (Some(tag), false, label),
                    Catch::OneRef { tag, label } => (Some(tag), true, label),
                    Catch::All { label } => (None, false, label),
                    Catch::AllRef { label } => (None, true, label),
                };
                Clause {
                    tag,
                    with_ref,
                    frame: outer - label as usize,
                }
            })
            .collect();
        self.open_block(try_table.ty)?;
        self.try_scopes.push(TryScope {
            frame: self.control.len() - 1,
            clauses,
            dispatch: None,
        });
        Ok(())
    }

    /// Where the trap flag's cold path goes after a call here: the innermost
    /// `try_table`'s dispatch block, or `None` outside every `try_table`.
    pub(super) fn dispatch_block(&mut self) -> Option<Block> {
        let scope = self.try_scopes.last_mut()?;
        if let Some(b) = scope.dispatch {
            return Some(b);
        }
        let b = self.b.create_block();
        self.b.set_cold_block(b);
        scope.dispatch = Some(b);
        Some(b)
    }

    /// Leaves after a throw (the flag is set): to the dispatch block of the innermost
    /// `try_table`, or out of the function.
    fn unwind_now(&mut self) {
        let out = match self.dispatch_block() {
            Some(b) => b,
            None => self.returning_block(),
        };
        self.b.ins().jump(out, &[]);
        self.reachable = false;
    }

    pub(super) fn throw(&mut self, tag: u32) -> Result<()> {
        let ty = self.env.info.tag_type(tag).clone();
        let payload = self.stack.split_off(self.stack.len() - ty.params().len());
        let buf = self.payload_buffer(payload.len());
        for (i, v) in payload.into_iter().enumerate() {
            store_raw(&mut self.b, v, buf, i);
        }
        let tag = self.b.ins().iconst(types::I32, tag as i64);
        self.libcall(Libcall::Throw, &[self.vmctx, tag, buf]);
        self.unwind_now();
        Ok(())
    }

    pub(super) fn throw_ref(&mut self) -> Result<()> {
        let exn = self.pop();
        self.libcall(Libcall::ThrowRef, &[self.vmctx, exn]);
        self.unwind_now();
        Ok(())
    }

    /// The address of a new stack buffer of `cells` raw-value cells (at least one).
    fn payload_buffer(&mut self, cells: usize) -> Value {
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            cells.max(1) as u32 * CELL,
            4,
        ));
        self.b.ins().stack_addr(types::I64, slot, 0)
    }

    /// At the `end` of the frame just popped (the current block is filled): if it was a
    /// `try_table` whose body made calls, fills its dispatch block. Its clauses' labels
    /// are enclosing frames, still open, so their blocks take new predecessors.
    pub(super) fn close_try_table(&mut self) {
        let Some(scope) = self.try_scopes.last() else {
            return;
        };
        if scope.frame != self.control.len() {
            return;
        }
        let scope = self.try_scopes.pop().expect("just seen");
        let Some(dispatch) = scope.dispatch else {
            return;
        };
        let info = self.env.info;
        let cells = (scope.clauses.iter())
            .filter_map(|c| c.tag.map(|t| info.tag_type(t).params().len()))
            .max()
            .unwrap_or(0);
        self.b.switch_to_block(dispatch);
        self.b.seal_block(dispatch);
        let buf = self.payload_buffer(cells);
        for clause in &scope.clauses {
            let tag = self
                .b
                .ins()
                .iconst(types::I32, clause.tag.unwrap_or(CATCH_ALL) as i64);
            let exn = self.libcall(Libcall::CatchException, &[self.vmctx, tag, buf])[0];
            let matched = self.b.create_block();
            let next = self.b.create_block();
            self.b.set_cold_block(matched);
            self.b.set_cold_block(next);
            self.b.ins().brif(exn, matched, &[], next, &[]);
            self.enter(matched);
            let mut args = Vec::new();
            if let Some(t) = clause.tag {
                for (i, p) in info.tag_type(t).params().iter().enumerate() {
                    args.push(load_raw(&mut self.b, clif_type(*p), buf, i));
                }
            }
            if clause.with_ref {
                args.push(exn);
            }
            let label = self.label_block(clause.frame);
            self.b.ins().jump(label, &block_args(&args));
            self.enter(next);
        }
        // Not caught here: on to the enclosing `try_table`, or out of the function.
        let out = match self.dispatch_block() {
            Some(b) => b,
            None => self.returning_block(),
        };
        self.b.ins().jump(out, &[]);
    }

    /// The block a branch to frame `i` goes to (marking it reached).
    fn label_block(&mut self, i: usize) -> Block {
        let frame = &mut self.control[i];
        match frame.kind {
            FrameKind::Loop { header } => header,
            _ => {
                frame.dest_reachable = true;
                frame.dest
            }
        }
    }
}
