//! Wasm -> slot bytecode translator, run once per function at `Backend::compile`.
//!
//! The translator keeps a compile-time copy of the operand stack whose entries say where
//! each value is: already in its canonical slot (`Stack`), still in a local (`Local`),
//! in a constant slot (`Const`) or an immediate not yet written anywhere (`Imm`). So
//! `local.get` and constants cost nothing until they must be materialised: before a
//! `local.set` of a local that is still referenced lazily, at block boundaries, for
//! call arguments and for branch values.

mod control;
mod ops;
mod peephole;

use std::collections::HashMap;

use wasmparser::{BlockType, Operator};

use super::bytecode::{FuncCode, Instr, Slot};
use crate::error::{CompileError, CompileErrorKind, Error, Result};
use crate::module::ModuleInfo;
use crate::values::ValType;

/// Constants beyond this many per function are written by `Const` instructions instead
/// of getting a slot (every slot costs a copy per call).
const MAX_CONST_SLOTS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operand {
    /// In its canonical slot (`stack_base + position`).
    Stack,
    /// The current value of a local.
    Local(u32),
    /// A constant slot.
    Const(Slot),
    /// A constant without a slot.
    Imm(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CtrlKind {
    Func,
    Block,
    Loop,
    If,
    Else,
}

/// One entry of the control stack (a label).
#[derive(Debug)]
struct Ctrl {
    kind: CtrlKind,
    /// Operand stack height below the block's parameters.
    height: usize,
    params: usize,
    results: usize,
    /// Loop header (branch target of a loop).
    start: u32,
    /// Forward branches to patch when the end label is bound.
    pending: Vec<usize>,
    /// The `if`'s jump to its `else` (or end, without one).
    else_jump: Option<usize>,
}

impl Ctrl {
    fn branch_arity(&self) -> usize {
        if self.kind == CtrlKind::Loop {
            self.params
        } else {
            self.results
        }
    }
}

pub(crate) struct Translator<'a> {
    info: &'a ModuleInfo,
    instrs: Vec<Instr>,
    stack: Vec<Operand>,
    ctrls: Vec<Ctrl>,
    num_results: usize,
    consts: Vec<u64>,
    const_slots: HashMap<u64, Slot>,
    /// Slot of operand-stack position 0.
    stack_base: u32,
    max_height: usize,
    /// The instruction that produced the top `Stack` operand, if it is the last one
    /// emitted (so `local.set` may redirect its result).
    last_def: Option<usize>,
    reachable: bool,
    /// Nesting depth of blocks skipped inside unreachable code.
    skip_depth: u32,
}

fn unsupported(message: &str) -> Error {
    Error::Compile(CompileError {
        kind: CompileErrorKind::Unsupported,
        message: message.into(),
        offset: None,
    })
}

fn malformed(e: wasmparser::BinaryReaderError) -> Error {
    Error::Compile(CompileError {
        kind: CompileErrorKind::Malformed,
        message: e.message().to_string(),
        offset: Some(e.offset() as u64),
    })
}

/// Translates defined function `defined` of a validated module.
pub(crate) fn translate(info: &ModuleInfo, defined: usize) -> Result<FuncCode> {
    let func_index = info.num_imported_funcs + defined as u32;
    let ty = info.func_type(func_index).clone();
    let body = info.body_reader(defined);

    let mut num_locals = ty.params().len() as u64;
    let mut locals = body.get_locals_reader().map_err(malformed)?;
    for _ in 0..locals.get_count() {
        let (count, vt) = locals.read().map_err(malformed)?;
        if vt == wasmparser::ValType::V128 {
            return Err(crate::api::simd_unsupported());
        }
        num_locals += count as u64;
    }
    if num_locals > u32::MAX as u64 / 4 {
        return Err(unsupported("too many locals"));
    }
    let num_locals = num_locals as u32;

    // Pass 1: collect the distinct constants, to lay out the constant slots.
    let mut consts = Vec::new();
    let mut const_slots = HashMap::new();
    let mut reader = body.get_operators_reader().map_err(malformed)?;
    while !reader.eof() {
        let bits = match reader.read().map_err(malformed)? {
            Operator::I32Const { value } => value as u32 as u64,
            Operator::I64Const { value } => value as u64,
            Operator::F32Const { value } => value.bits() as u64,
            Operator::F64Const { value } => value.bits(),
            Operator::RefNull { .. } => 0,
            _ => continue,
        };
        if consts.len() < MAX_CONST_SLOTS && !const_slots.contains_key(&bits) {
            const_slots.insert(bits, num_locals + consts.len() as u32);
            consts.push(bits);
        }
    }

    let mut t = Translator {
        info,
        instrs: Vec::new(),
        stack: Vec::new(),
        ctrls: Vec::new(),
        num_results: ty.results().len(),
        stack_base: num_locals + consts.len() as u32,
        consts,
        const_slots,
        max_height: 0,
        last_def: None,
        reachable: true,
        skip_depth: 0,
    };
    t.ctrls.push(Ctrl {
        kind: CtrlKind::Func,
        height: 0,
        params: 0,
        results: ty.results().len(),
        start: 0,
        pending: Vec::new(),
        else_jump: None,
    });

    // Pass 2: translate.
    let mut reader = body.get_operators_reader().map_err(malformed)?;
    while !reader.eof() && !t.ctrls.is_empty() {
        let op = reader.read().map_err(malformed)?;
        if t.reachable {
            t.operator(op)?;
        } else {
            t.skip_unreachable(op)?;
        }
    }

    let frame_size = t.stack_base as u64 + t.max_height as u64 + 1;
    if frame_size > u32::MAX as u64 / 2 {
        return Err(unsupported("function frame too large"));
    }
    peephole::thread_jumps(&mut t.instrs);
    Ok(FuncCode {
        instrs: t.instrs,
        consts: t.consts,
        num_params: ty.params().len() as u32,
        num_locals,
        frame_size: frame_size as u32,
    })
}

impl Translator<'_> {
    /// In unreachable code: skip everything but the `else`/`end` of the current block.
    fn skip_unreachable(&mut self, op: Operator) -> Result<()> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.skip_depth += 1;
            }
            Operator::Else if self.skip_depth == 0 => self.op_else(),
            Operator::End if self.skip_depth == 0 => self.op_end(),
            Operator::End => self.skip_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    fn pc(&self) -> u32 {
        self.instrs.len() as u32
    }

    fn emit(&mut self, instr: Instr) -> usize {
        self.last_def = None;
        self.instrs.push(instr);
        self.instrs.len() - 1
    }

    fn canonical(&self, pos: usize) -> Slot {
        self.stack_base + pos as u32
    }

    fn push(&mut self, op: Operand) {
        self.stack.push(op);
        self.max_height = self.max_height.max(self.stack.len());
    }

    /// Pushes `n` values that the last instruction left in their canonical slots.
    fn push_stack(&mut self, n: usize) {
        for _ in 0..n {
            self.push(Operand::Stack);
        }
    }

    fn push_const(&mut self, bits: u64) {
        match self.const_slots.get(&bits) {
            Some(&s) => self.push(Operand::Const(s)),
            None => self.push(Operand::Imm(bits)),
        }
    }

    /// The slot a result pushed now would live in.
    fn next_slot(&self) -> Slot {
        self.canonical(self.stack.len())
    }

    /// Emits an instruction whose single result goes to `next_slot()`, and pushes it.
    fn emit_result(&mut self, instr: Instr) {
        let at = self.emit(instr);
        self.push(Operand::Stack);
        self.last_def = Some(at);
    }

    /// The index of the last instruction if it computed the top operand in place.
    fn top_def(&self) -> Option<usize> {
        let at = self.last_def?;
        let top = self.stack.len().checked_sub(1)?;
        if at + 1 != self.instrs.len() || self.stack[top] != Operand::Stack {
            return None;
        }
        let mut instr = self.instrs[at];
        (instr.result_slot_mut().copied() == Some(self.canonical(top))).then_some(at)
    }

    /// Where the value at `pos` can be read without emitting anything.
    fn src_of(&self, pos: usize) -> Result<Slot, u64> {
        match self.stack[pos] {
            Operand::Stack => Ok(self.canonical(pos)),
            Operand::Local(l) => Ok(l),
            Operand::Const(s) => Ok(s),
            Operand::Imm(v) => Err(v),
        }
    }

    /// Emits a move of the value at `pos` into `dst` (nothing if already there).
    fn emit_move(&mut self, pos: usize, dst: Slot) {
        match self.src_of(pos) {
            Ok(src) if src == dst => {}
            Ok(src) => {
                self.emit(Instr::Copy { dst, src });
            }
            Err(value) => {
                self.emit(Instr::Const { dst, value });
            }
        }
    }

    /// Writes the value at `pos` into its canonical slot.
    fn materialize(&mut self, pos: usize) {
        if self.stack[pos] != Operand::Stack {
            self.emit_move(pos, self.canonical(pos));
            self.stack[pos] = Operand::Stack;
        }
    }

    fn materialize_top(&mut self, n: usize) {
        let len = self.stack.len();
        for pos in len - n..len {
            self.materialize(pos);
        }
    }

    /// Pops an operand and returns a slot holding it.
    fn pop_slot(&mut self) -> Slot {
        let pos = self.stack.len() - 1;
        let slot = match self.src_of(pos) {
            Ok(s) => s,
            Err(value) => {
                let dst = self.canonical(pos);
                self.emit(Instr::Const { dst, value });
                dst
            }
        };
        self.stack.pop();
        slot
    }

    fn block_arity(&self, bt: BlockType) -> Result<(usize, usize)> {
        Ok(match bt {
            BlockType::Empty => (0, 0),
            BlockType::Type(vt) => {
                if vt == wasmparser::ValType::V128 {
                    return Err(crate::api::simd_unsupported());
                }
                (0, 1)
            }
            BlockType::FuncType(i) => {
                let ty = &self.info.types[i as usize];
                if ty.params().contains(&ValType::V128) || ty.results().contains(&ValType::V128) {
                    return Err(crate::api::simd_unsupported());
                }
                (ty.params().len(), ty.results().len())
            }
        })
    }
}
