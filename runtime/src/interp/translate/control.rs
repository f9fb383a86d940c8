//! Structured control flow, branches, returns and calls.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#control-instructions>.
//! A label's values live in the canonical slots starting at the label's stack height;
//! a branch copies its values there (ascending order is safe: every source slot is at or
//! above its destination), then jumps.

use wasmparser::BlockType;

use super::{Ctrl, CtrlKind, Operand, Translator};
use crate::error::Result;
use crate::interp::bytecode::{Instr, Slot};

impl Translator<'_> {
    /// `block`, `loop` and `if` (whose condition the caller has popped into `cond`).
    pub(super) fn enter_block(
        &mut self,
        kind: CtrlKind,
        bt: BlockType,
        cond: Option<Instr>,
    ) -> Result<()> {
        let (param_wide, result_wide) = self.block_arity(bt);
        let (params, results) = (param_wide.len(), result_wide.len());
        // Lazy local reads below the block must be fixed now: a `local.set` inside the
        // block runs only on some paths, so it cannot materialise them itself. The
        // parameters must sit in their slots (loop back-edges write them there).
        let len = self.stack.len();
        for pos in 0..len {
            let lazy_local = matches!(self.stack[pos], Operand::Local(_));
            if lazy_local || pos >= len - params {
                self.materialize(pos);
            }
        }
        let else_jump = cond.map(|c| self.emit(c));
        self.last_def = None;
        self.ctrls.push(Ctrl {
            kind,
            height: len - params,
            params,
            results,
            param_wide,
            result_wide,
            start: self.pc(),
            pending: Vec::new(),
            else_jump,
            handlers: None,
        });
        if kind == CtrlKind::Loop && self.interruptible {
            // At the loop's start, so every back edge runs it.
            self.emit(Instr::CheckInterrupt);
        }
        Ok(())
    }

    pub(super) fn bind(&mut self, at: usize, to: u32) {
        self.instrs[at].set_target(to);
    }

    pub(super) fn op_else(&mut self) {
        let top = self.ctrls.len() - 1;
        if self.reachable {
            let n = self.ctrls[top].results;
            self.materialize_top(n);
            let j = self.emit(Instr::Br { target: 0 });
            self.ctrls[top].pending.push(j);
        }
        let here = self.pc();
        if let Some(j) = self.ctrls[top].else_jump.take() {
            self.bind(j, here);
        }
        let c = &mut self.ctrls[top];
        c.kind = CtrlKind::Else;
        let height = c.height;
        let params = c.param_wide.clone();
        self.truncate_stack(height);
        self.push_stack(&params);
        self.reachable = true;
        self.last_def = None;
    }

    pub(super) fn op_end(&mut self) {
        let Some(c) = self.ctrls.pop() else { return };
        if c.kind == CtrlKind::Func {
            if self.reachable {
                self.emit_return();
            }
            self.reachable = false;
            return;
        }
        if self.reachable {
            self.materialize_top(c.results);
        }
        if let Some(handlers) = c.handlers {
            self.close_try_table(handlers, c.start);
        }
        let here = self.pc();
        for j in c.pending {
            self.bind(j, here);
        }
        if let Some(j) = c.else_jump {
            self.bind(j, here);
        }
        self.truncate_stack(c.height);
        self.push_stack(&c.result_wide);
        self.reachable = true;
        self.last_def = None;
    }

    /// Emits the copies and jump of a branch to label `depth`, without changing the
    /// compile-time stack (a conditional branch's fallthrough still needs it).
    pub(super) fn emit_branch(&mut self, depth: u32) {
        let ci = self.ctrls.len() - 1 - depth as usize;
        if self.ctrls[ci].kind == CtrlKind::Func {
            self.emit_return();
            return;
        }
        let arity = self.ctrls[ci].branch_arity();
        let dst_base = self.canonical(self.ctrls[ci].height);
        let len = self.stack.len();
        if arity > 0 {
            // The label's values have the same types (so layout) as the top `arity`.
            let first = self.offs[len - arity];
            for i in 0..arity {
                let pos = len - arity + i;
                self.emit_move(pos, dst_base + self.offs[pos] - first);
            }
        }
        self.emit_jump(ci, Instr::Br { target: 0 });
    }

    /// Emits `instr` (a branch) aimed at label `ci`.
    pub(super) fn emit_jump(&mut self, ci: usize, instr: Instr) {
        let at = self.emit(instr);
        if self.ctrls[ci].kind == CtrlKind::Loop {
            let start = self.ctrls[ci].start;
            self.bind(at, start);
        } else {
            self.ctrls[ci].pending.push(at);
        }
    }

    /// Whether a branch to label `depth` needs no copies (its values are in place).
    pub(super) fn branch_in_place(&self, depth: u32) -> bool {
        let c = &self.ctrls[self.ctrls.len() - 1 - depth as usize];
        if c.kind == CtrlKind::Func {
            return false;
        }
        let arity = c.branch_arity();
        let len = self.stack.len();
        len - arity == c.height
            && self.stack[len - arity..]
                .iter()
                .all(|o| *o == Operand::Stack)
    }

    pub(super) fn op_br(&mut self, depth: u32) {
        self.emit_branch(depth);
        self.reachable = false;
    }

    pub(super) fn op_br_if(&mut self, depth: u32) {
        let fused = self.take_compare(false);
        let cond = match fused {
            Some(_) => 0,
            None => self.pop_slot(),
        };
        if self.branch_in_place(depth) {
            let ci = self.ctrls.len() - 1 - depth as usize;
            let instr = fused.unwrap_or(Instr::BrIfNez { cond, target: 0 });
            self.emit_jump(ci, instr);
        } else {
            // Branch over the copies when the condition is false.
            let skip = match fused {
                Some(f) => self.emit(negate(f)),
                None => self.emit(Instr::BrIfEqz { cond, target: 0 }),
            };
            self.emit_branch(depth);
            let here = self.pc();
            self.bind(skip, here);
        }
        self.last_def = None;
    }

    pub(super) fn op_if(&mut self, bt: BlockType) -> Result<()> {
        // Jump to the else branch when the condition is false.
        let jump = match self.take_compare(true) {
            Some(f) => f,
            None => {
                let cond = self.pop_slot();
                Instr::BrIfEqz { cond, target: 0 }
            }
        };
        self.enter_block(CtrlKind::If, bt, Some(jump))
    }

    /// If the top operand was just computed by an i32 comparison (or `eqz`), removes that
    /// instruction and pops the operand, returning a branch taken when the comparison
    /// holds (or, with `negated`, when it does not).
    fn take_compare(&mut self, negated: bool) -> Option<Instr> {
        let at = self.top_def()?;
        let t = 0;
        let br = match self.instrs[at] {
            Instr::I32Eqz { src, .. } => Instr::BrIfEqz {
                cond: src,
                target: t,
            },
            Instr::I32Eq { lhs, rhs, .. } => Instr::BrI32Eq {
                lhs,
                rhs,
                target: t,
            },
            Instr::I32Ne { lhs, rhs, .. } => Instr::BrI32Ne {
                lhs,
                rhs,
                target: t,
            },
            Instr::I32LtS { lhs, rhs, .. } => Instr::BrI32LtS {
                lhs,
                rhs,
                target: t,
            },
            Instr::I32LtU { lhs, rhs, .. } => Instr::BrI32LtU {
                lhs,
                rhs,
                target: t,
            },
            Instr::I32GtS { lhs, rhs, .. } => Instr::BrI32GtS {
                lhs,
                rhs,
                target: t,
            },
            Instr::I32GtU { lhs, rhs, .. } => Instr::BrI32GtU {
                lhs,
                rhs,
                target: t,
            },
            Instr::I32LeS { lhs, rhs, .. } => Instr::BrI32LeS {
                lhs,
                rhs,
                target: t,
            },
            Instr::I32LeU { lhs, rhs, .. } => Instr::BrI32LeU {
                lhs,
                rhs,
                target: t,
            },
            Instr::I32GeS { lhs, rhs, .. } => Instr::BrI32GeS {
                lhs,
                rhs,
                target: t,
            },
            Instr::I32GeU { lhs, rhs, .. } => Instr::BrI32GeU {
                lhs,
                rhs,
                target: t,
            },
            Instr::I64Eq { lhs, rhs, .. } => Instr::BrI64Eq {
                lhs,
                rhs,
                target: t,
            },
            Instr::I64Ne { lhs, rhs, .. } => Instr::BrI64Ne {
                lhs,
                rhs,
                target: t,
            },
            Instr::I64LtS { lhs, rhs, .. } => Instr::BrI64LtS {
                lhs,
                rhs,
                target: t,
            },
            Instr::I64LtU { lhs, rhs, .. } => Instr::BrI64LtU {
                lhs,
                rhs,
                target: t,
            },
            Instr::I64GtS { lhs, rhs, .. } => Instr::BrI64GtS {
                lhs,
                rhs,
                target: t,
            },
            Instr::I64GtU { lhs, rhs, .. } => Instr::BrI64GtU {
                lhs,
                rhs,
                target: t,
            },
            Instr::I64LeS { lhs, rhs, .. } => Instr::BrI64LeS {
                lhs,
                rhs,
                target: t,
            },
            Instr::I64LeU { lhs, rhs, .. } => Instr::BrI64LeU {
                lhs,
                rhs,
                target: t,
            },
            Instr::I64GeS { lhs, rhs, .. } => Instr::BrI64GeS {
                lhs,
                rhs,
                target: t,
            },
            Instr::I64GeU { lhs, rhs, .. } => Instr::BrI64GeU {
                lhs,
                rhs,
                target: t,
            },
            _ => return None,
        };
        self.instrs.pop();
        self.pop_op();
        self.last_def = None;
        Some(if negated { negate(br) } else { br })
    }

    pub(super) fn op_br_table(&mut self, depths: Vec<u32>) {
        let index = self.pop_slot();
        let len = depths.len() as u32 - 1;
        self.emit(Instr::BrTable { index, len });
        let mut trampolines = Vec::new();
        for &d in &depths {
            let at = self.emit(Instr::Br { target: 0 });
            if self.branch_in_place(d) {
                let ci = self.ctrls.len() - 1 - d as usize;
                if self.ctrls[ci].kind == CtrlKind::Loop {
                    let start = self.ctrls[ci].start;
                    self.bind(at, start);
                } else {
                    self.ctrls[ci].pending.push(at);
                }
            } else {
                trampolines.push((at, d));
            }
        }
        // Targets whose values must be moved get a small trampoline of copies.
        for (at, d) in trampolines {
            let here = self.pc();
            self.bind(at, here);
            self.emit_branch(d);
        }
        self.reachable = false;
    }

    /// Moves the results into slots `0..` (laid out by type) and returns.
    pub(super) fn emit_return(&mut self) {
        let n = self.num_results;
        let len = self.stack.len();
        if n == 1 && !self.result_wide[0] {
            match self.src_of(len - 1) {
                Ok(src) => {
                    self.emit(Instr::ReturnSlot { src });
                }
                Err(value) => {
                    self.emit(Instr::Const { dst: 0, value });
                    self.emit(Instr::Return);
                }
            }
            return;
        }
        let dsts = Self::layout(&self.result_wide);
        let width = |i: usize| 1 + self.result_wide[i] as u32;
        // Copying result i into its slots must not clobber the source of a later
        // result; if it might, go through the canonical slots first (all at or above
        // their targets). An operand-stack slot's final number is not known yet (the
        // constants met later push the stack up), so only its lowest is compared: a
        // hazard is assumed wherever it cannot be ruled out.
        let srcs: Vec<Result<Slot, u64>> = (len - n..len).map(|p| self.src_of(p)).collect();
        let hazard = (0..n).any(|i| {
            (i + 1..n).any(|j| match srcs[j] {
                Ok(s) if s & super::STACK_MARK != 0 => {
                    self.lowest_final_slot(s) < dsts[i] + width(i)
                }
                Ok(s) => {
                    let s = self.lowest_final_slot(s);
                    s < dsts[i] + width(i) && dsts[i] < s + width(j)
                }
                Err(_) => false,
            })
        });
        if hazard {
            for i in 0..n {
                let pos = len - n + i;
                self.emit_move(pos, self.canonical(pos));
            }
        }
        for (i, &dst) in dsts.iter().enumerate() {
            let pos = len - n + i;
            if hazard {
                let src = self.canonical(pos);
                self.emit_copy(dst, src, self.wide[pos]);
            } else {
                self.emit_move(pos, dst);
            }
        }
        self.emit(Instr::Return);
    }

    pub(super) fn op_return(&mut self) {
        self.emit_return();
        self.reachable = false;
    }

    /// Puts a call's `n` arguments, the top `n` operands, in consecutive canonical slots
    /// (they become the callee's first locals) and returns the first one.
    pub(super) fn call_arguments(&mut self, n: usize) -> Slot {
        self.materialize_top(n);
        self.canonical(self.stack.len() - n)
    }

    /// `call`: the arguments go to consecutive canonical slots, which become the
    /// callee's first locals; the results come back in the same place.
    pub(super) fn op_call(&mut self, func: u32) {
        let ty = self.info.func_type(func).clone();
        let np = ty.params().len();
        let base = self.call_arguments(np);
        let imported = self.info.num_imported_funcs;
        if func < imported {
            self.emit(Instr::CallImport { func, base });
        } else {
            self.emit(Instr::Call {
                func: func - imported,
                base,
            });
        }
        self.truncate_stack(self.stack.len() - np);
        self.push_stack(&super::wide_of(ty.results()));
    }

    pub(super) fn op_call_indirect(&mut self, type_index: u32, table: u32) {
        let ty = self.info.signature(type_index).clone();
        let np = ty.params().len();
        let index = self.pop_slot();
        let base = self.call_arguments(np);
        self.emit(Instr::CallIndirect {
            type_index,
            index,
            base,
        });
        self.emit(Instr::Extra {
            a: table,
            b: 0,
            c: 0,
        });
        self.truncate_stack(self.stack.len() - np);
        self.push_stack(&super::wide_of(ty.results()));
    }
}

/// Tail calls (Wasm 3.0): the arguments go to consecutive canonical slots, as for a
/// call; the executor moves them down to slot 0, where the callee's frame replaces this
/// one, and the callee's results return straight to this function's caller.
impl Translator<'_> {
    pub(super) fn op_return_call(&mut self, func: u32) {
        let np = self.info.func_type(func).params().len();
        let base = self.call_arguments(np);
        let imported = self.info.num_imported_funcs;
        if func < imported {
            self.emit(Instr::ReturnCallImport { func, base });
        } else {
            self.emit(Instr::ReturnCall {
                func: func - imported,
                base,
            });
        }
        self.truncate_stack(self.stack.len() - np);
        self.reachable = false;
    }

    pub(super) fn op_return_call_indirect(&mut self, type_index: u32, table: u32) {
        let np = self.info.signature(type_index).params().len();
        let index = self.pop_slot();
        let base = self.call_arguments(np);
        self.emit(Instr::ReturnCallIndirect {
            type_index,
            index,
            base,
        });
        self.emit(Instr::Extra {
            a: table,
            b: 0,
            c: 0,
        });
        // Never executed: an `Extra` must not be a function's last instruction, which
        // `Code::new` requires to end (this one may be, in unreachable code's place).
        self.emit(Instr::Unreachable);
        self.truncate_stack(self.stack.len() - np);
        self.reachable = false;
    }
}

/// The branch taken exactly when `br` is not.
fn negate(br: Instr) -> Instr {
    match br {
        Instr::BrIfEqz { cond, target } => Instr::BrIfNez { cond, target },
        Instr::BrIfNez { cond, target } => Instr::BrIfEqz { cond, target },
        Instr::BrI32Eq { lhs, rhs, target } => Instr::BrI32Ne { lhs, rhs, target },
        Instr::BrI32Ne { lhs, rhs, target } => Instr::BrI32Eq { lhs, rhs, target },
        Instr::BrI32LtS { lhs, rhs, target } => Instr::BrI32GeS { lhs, rhs, target },
        Instr::BrI32GeS { lhs, rhs, target } => Instr::BrI32LtS { lhs, rhs, target },
        Instr::BrI32LtU { lhs, rhs, target } => Instr::BrI32GeU { lhs, rhs, target },
        Instr::BrI32GeU { lhs, rhs, target } => Instr::BrI32LtU { lhs, rhs, target },
        Instr::BrI32GtS { lhs, rhs, target } => Instr::BrI32LeS { lhs, rhs, target },
        Instr::BrI32LeS { lhs, rhs, target } => Instr::BrI32GtS { lhs, rhs, target },
        Instr::BrI32GtU { lhs, rhs, target } => Instr::BrI32LeU { lhs, rhs, target },
        Instr::BrI32LeU { lhs, rhs, target } => Instr::BrI32GtU { lhs, rhs, target },
        Instr::BrI64Eq { lhs, rhs, target } => Instr::BrI64Ne { lhs, rhs, target },
        Instr::BrI64Ne { lhs, rhs, target } => Instr::BrI64Eq { lhs, rhs, target },
        Instr::BrI64LtS { lhs, rhs, target } => Instr::BrI64GeS { lhs, rhs, target },
        Instr::BrI64LtU { lhs, rhs, target } => Instr::BrI64GeU { lhs, rhs, target },
        Instr::BrI64GtS { lhs, rhs, target } => Instr::BrI64LeS { lhs, rhs, target },
        Instr::BrI64GtU { lhs, rhs, target } => Instr::BrI64LeU { lhs, rhs, target },
        Instr::BrI64LeS { lhs, rhs, target } => Instr::BrI64GtS { lhs, rhs, target },
        Instr::BrI64LeU { lhs, rhs, target } => Instr::BrI64GtU { lhs, rhs, target },
        Instr::BrI64GeS { lhs, rhs, target } => Instr::BrI64LtS { lhs, rhs, target },
        Instr::BrI64GeU { lhs, rhs, target } => Instr::BrI64LtU { lhs, rhs, target },
        other => other,
    }
}
