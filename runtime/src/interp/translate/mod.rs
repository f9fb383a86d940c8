//! Wasm -> slot bytecode translator, run once per function at `Backend::compile`.
//!
//! The translator keeps a compile-time copy of the operand stack whose entries say where
//! each value is: already in its canonical slot (`Stack`), still in a local (`Local`),
//! in a constant slot (`Const`) or an immediate not yet written anywhere (`Imm`). So
//! `local.get` and constants cost nothing until they must be materialised: before a
//! `local.set` of a local that is still referenced lazily, at block boundaries, for
//! call arguments and for branch values.

mod control;
mod exceptions;
mod func_refs;
mod function;
mod gc;
mod generated;
mod metering;
mod ops;
mod peephole;
mod simd;
mod validating;
mod visit;

use rustc_hash::FxHashMap as HashMap;

use wasmparser::{BlockType, Operator};

use super::bytecode::{FuncCode, Handler, Instr, Slot};
use super::simd::SimdOp;
use crate::error::{CompileErrorKind, Error, Result};
use crate::module::ModuleInfo;
use crate::module::fuel::{MeteringPlan, is_call};
use crate::values::ValType;

pub(crate) use function::Scratch;
pub(crate) use validating::translate_validating;

/// Constants beyond this many per function are written by `Const` instructions instead
/// of getting a slot (every slot costs a copy per call).
const MAX_CONST_SLOTS: usize = 256;
/// Marks a constant slot during translation: constants are numbered as they are met, so
/// the operand stack, which follows them, starts where only the end knows. Real slots are
/// below `u32::MAX / 2` (a larger frame is refused), so a marked one left over fails
/// `Code::new`.
const CONST_MARK: Slot = 1 << 31;
/// Marks an operand-stack slot during translation (its offset from the stack's base).
/// Locals, and the result slots `0..` a return writes, are numbered as they are.
const STACK_MARK: Slot = 1 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operand {
    /// In its canonical slot (`STACK_MARK` + its offset, until the end of translation).
    Stack,
    /// The current value of a local (its first slot).
    Local(Slot),
    /// A constant slot.
    Const(Slot),
    /// A constant without a slot.
    Imm(u64),
}

/// What an operator does to the nesting of blocks: all that matters of it in unreachable
/// code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nesting {
    /// Opens a block (`block`, `loop`, `if`, `try_table`).
    Open,
    Else,
    End,
    Other,
}

impl Nesting {
    fn of(op: &Operator) -> Nesting {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => Nesting::Open,
            Operator::Else => Nesting::Else,
            Operator::End => Nesting::End,
            _ => Nesting::Other,
        }
    }
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
    /// Which parameters and results are `v128` (two slots wide).
    param_wide: Vec<bool>,
    result_wide: Vec<bool>,
    /// Loop header (branch target of a loop).
    start: u32,
    /// Forward branches to patch when the end label is bound.
    pending: Vec<usize>,
    /// The `if`'s jump to its `else` (or end, without one).
    else_jump: Option<usize>,
    /// A `try_table`'s catch clauses, their body range not set yet.
    handlers: Option<Vec<Handler>>,
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
    /// Per operand-stack entry: whether it is a `v128` (two slots), and its slot
    /// offset from the stack's base.
    wide: Vec<bool>,
    offs: Vec<u32>,
    /// Per local: its first slot, and whether it is a `v128`.
    local_slots: Vec<u32>,
    local_wide: Vec<bool>,
    ctrls: Vec<Ctrl>,
    num_results: usize,
    /// Which results of the function are `v128`.
    result_wide: Vec<bool>,
    v128_consts: Vec<u128>,
    v128_const_index: HashMap<u128, u32>,
    consts: Vec<u64>,
    const_slots: HashMap<u64, Slot>,
    /// The first of the two constant slots of a `v128` constant (`v128.const`, or a
    /// splat of a scalar constant).
    v128_slots: HashMap<u128, Slot>,
    /// Params plus declared locals (slots, a `v128` taking two).
    num_locals: u32,
    /// The parameters' slots (a `v128` taking two).
    num_params: u32,
    /// The most slots the operand stack ever needs.
    max_height: usize,
    /// The instruction that produced the top `Stack` operand, if it is the last one
    /// emitted (so `local.set` may redirect its result).
    last_def: Option<usize>,
    reachable: bool,
    /// Nesting depth of blocks skipped inside unreachable code.
    skip_depth: u32,
    /// The catch clauses of the `try_table`s ended so far, innermost first.
    handlers: Vec<Handler>,
    /// Whether loop headers (and the entries of functions that call) get a
    /// `CheckInterrupt`.
    interruptible: bool,
}

fn malformed(e: wasmparser::BinaryReaderError) -> Error {
    Error::from_wasmparser(CompileErrorKind::Malformed, &e)
}

/// Translates defined function `defined` of a validated module.
pub(crate) fn translate(
    info: &ModuleInfo,
    defined: usize,
    interruptible: bool,
    consume_fuel: bool,
    scratch: &mut Scratch,
) -> Result<FuncCode> {
    let body = info.body_reader(defined);
    let mut t = Translator::new(info, defined, interruptible, scratch);
    let mut locals = body.get_locals_reader().map_err(malformed)?;
    for _ in 0..locals.get_count() {
        let (count, ty) = locals.read().map_err(malformed)?;
        t.declare_locals(count, ty)?;
    }

    // Constants get slots as the translation meets them, numbered apart from the other
    // slots (`CONST_MARK`) until their count is known (RATIONALE.md, "Interpreter:
    // constant slots without a first pass"). Only the interruption check at the entry
    // needs to know ahead whether the function calls.
    // Only a function that calls can be part of a cycle of calls, which this check is
    // for (loops have their own): a leaf runs its straight-line code to the end
    // whether it checks on entry or not (RATIONALE.md, "Interruption").
    if interruptible && calls_anything(&body)? {
        t.emit(Instr::CheckInterrupt);
    }

    // Translate, each reachable operator through its visit method (`visit.rs`).
    // Unreachable code is only scanned for the `else`/`end` that makes it reachable again.
    let plan = match consume_fuel {
        true => Some(MeteringPlan::of(&body)?),
        false => None,
    };
    let mut fuel = plan.as_ref().map(MeteringPlan::cursor);
    let mut reader = body.get_operators_reader().map_err(malformed)?;
    while !reader.eof() && !t.ctrls.is_empty() {
        if let Some(fuel) = &mut fuel
            && let Some(amount) = fuel.charge_at(reader.original_position())
            && t.reachable
        {
            t.emit(Instr::ConsumeFuel { amount });
        }
        if t.reachable {
            reader.visit_operator(&mut t).map_err(malformed)??;
        } else {
            let op = reader.read().map_err(malformed)?;
            t.skip_unreachable(Nesting::of(&op));
        }
    }
    t.finish(interruptible || consume_fuel, scratch)
}

/// The value of constant slot `s` while translating (`None` if `s` is not one): such a
/// slot is `CONST_MARK` plus the constant's index in `consts`.
fn const_value(consts: &[u64], s: Slot) -> Option<u64> {
    match s & CONST_MARK {
        0 => None,
        _ => consts.get((s & !CONST_MARK) as usize).copied(),
    }
}

/// The slot that translation-time number `s` stands for in a frame of `num_locals`
/// locals and `num_consts` constant slots (`CONST_MARK`, `STACK_MARK`; anything else
/// is a local or a result slot, numbered as it is).
fn final_slot(s: Slot, num_locals: u32, num_consts: u32) -> Slot {
    match s {
        s if s & CONST_MARK != 0 => num_locals + (s & !CONST_MARK),
        s if s & STACK_MARK != 0 => num_locals + num_consts + (s & !STACK_MARK),
        local_or_result => local_or_result,
    }
}

/// Whether a function body calls (any call instruction, tail calls included).
fn calls_anything(body: &wasmparser::FunctionBody) -> Result<bool> {
    let mut reader = body.get_operators_reader().map_err(malformed)?;
    while !reader.eof() {
        if is_call(&reader.read().map_err(malformed)?) {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Translator<'_> {
    /// The value of constant slot `s` (`None` if `s` is not one).
    fn const_value(&self, s: Slot) -> Option<u64> {
        const_value(&self.consts, s)
    }

    /// The lowest number slot `s` can have in the finished frame: exact for a local, a
    /// result slot or a constant; for an operand-stack slot, where the stack would start
    /// if no constant were added from now on (more constants move it up).
    fn lowest_final_slot(&self, s: Slot) -> Slot {
        final_slot(s, self.num_locals, self.consts.len() as u32)
    }

    /// The slot of scalar constant `bits`, given one now if there is room.
    fn const_slot(&mut self, bits: u64) -> Option<Slot> {
        if let Some(&s) = self.const_slots.get(&bits) {
            return Some(s);
        }
        if self.consts.len() >= MAX_CONST_SLOTS {
            return None;
        }
        let s = CONST_MARK | self.consts.len() as u32;
        self.const_slots.insert(bits, s);
        self.consts.push(bits);
        Some(s)
    }

    /// The first of the two slots of `v128` constant `v`, given them now if there is room.
    fn v128_const_slot(&mut self, v: u128) -> Option<Slot> {
        if let Some(&s) = self.v128_slots.get(&v) {
            return Some(s);
        }
        if self.consts.len() + 2 > MAX_CONST_SLOTS {
            return None;
        }
        let s = CONST_MARK | self.consts.len() as u32;
        self.v128_slots.insert(v, s);
        self.consts.extend([v as u64, (v >> 64) as u64]);
        Some(s)
    }

    /// In unreachable code: skip everything but the `else`/`end` of the current block.
    fn skip_unreachable(&mut self, op: Nesting) {
        match op {
            Nesting::Open => self.skip_depth += 1,
            Nesting::Else if self.skip_depth == 0 => self.op_else(),
            Nesting::End if self.skip_depth == 0 => self.op_end(),
            Nesting::End => self.skip_depth -= 1,
            Nesting::Else | Nesting::Other => {}
        }
    }

    fn pc(&self) -> u32 {
        self.instrs.len() as u32
    }

    fn emit(&mut self, instr: Instr) -> usize {
        self.last_def = None;
        self.instrs.push(instr);
        self.instrs.len() - 1
    }

    /// Emits the `Extra { a, b }` that carries more operands of the instruction before it.
    fn emit_extra(&mut self, a: u32, b: u32) {
        self.emit(Instr::Extra { a, b, c: 0 });
    }

    /// The slot offset (from the stack's base) just above the operand stack.
    fn end_off(&self) -> u32 {
        match self.offs.last() {
            Some(&o) => o + 1 + *self.wide.last().unwrap() as u32,
            None => 0,
        }
    }

    /// The canonical slot of stack position `pos` (`pos == len` is the next one).
    fn canonical(&self, pos: usize) -> Slot {
        let off = if pos < self.offs.len() {
            self.offs[pos]
        } else {
            self.end_off()
        };
        STACK_MARK + off
    }

    /// Pushes a scalar operand.
    fn push(&mut self, op: Operand) {
        self.push_w(op, false);
    }

    /// Pushes an operand, `wide` if it is a `v128`.
    fn push_w(&mut self, op: Operand, wide: bool) {
        let off = self.end_off();
        self.stack.push(op);
        self.offs.push(off);
        self.wide.push(wide);
        self.max_height = self.max_height.max(off as usize + 1 + wide as usize);
    }

    /// Pops the top operand.
    fn pop_op(&mut self) -> Option<Operand> {
        self.offs.pop();
        self.wide.pop();
        self.stack.pop()
    }

    fn truncate_stack(&mut self, len: usize) {
        self.stack.truncate(len);
        self.offs.truncate(len);
        self.wide.truncate(len);
    }

    /// Pushes values that the last instruction left in their canonical slots (one per
    /// entry of `wide`).
    fn push_stack(&mut self, wide: &[bool]) {
        for &w in wide {
            self.push_w(Operand::Stack, w);
        }
    }

    fn push_const(&mut self, bits: u64) {
        match self.const_slot(bits) {
            Some(s) => self.push(Operand::Const(s)),
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

    /// Like `emit_result`, for a result that is a `v128` if `wide`.
    fn emit_result_w(&mut self, instr: Instr, wide: bool) {
        let at = self.emit(instr);
        self.push_w(Operand::Stack, wide);
        self.last_def = Some(at);
    }

    fn global_is_v128(&self, global: u32) -> bool {
        self.info.globals[global as usize].content == ValType::V128
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

    /// Emits a copy of a value (a `v128` if `wide`) from slot `src` to `dst`.
    fn emit_copy(&mut self, dst: Slot, src: Slot, wide: bool) {
        if src == dst {
            return;
        }
        if wide {
            let op = SimdOp::Copy;
            self.emit(Instr::Simd {
                op,
                dst,
                a: src,
                b: 0,
            });
        } else {
            self.emit(Instr::Copy { dst, src });
        }
    }

    /// Emits a move of the value at `pos` into `dst` (nothing if already there).
    fn emit_move(&mut self, pos: usize, dst: Slot) {
        match self.src_of(pos) {
            Ok(src) => self.emit_copy(dst, src, self.wide[pos]),
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
        self.pop_op();
        slot
    }

    /// Which of a block's parameters and results are `v128`.
    fn block_arity(&self, bt: BlockType) -> (Vec<bool>, Vec<bool>) {
        match bt {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(vt) => (Vec::new(), vec![vt == wasmparser::ValType::V128]),
            BlockType::FuncType(i) => {
                let ty = &self.info.signature(i);
                (wide_of(ty.params()), wide_of(ty.results()))
            }
        }
    }
}

/// Which of `tys` are `v128`.
fn wide_of(tys: &[ValType]) -> Vec<bool> {
    tys.iter().map(|t| *t == ValType::V128).collect()
}

impl Translator<'_> {
    /// The slot offsets of values of types `wide` laid out one after the other.
    fn layout(wide: &[bool]) -> Vec<u32> {
        let mut off = 0;
        wide.iter()
            .map(|&w| {
                let o = off;
                off += 1 + w as u32;
                o
            })
            .collect()
    }
}
