//! Helpers of the per-operator translation: numerics, variables, memory and `select`.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html>.

use wasmparser::{MemArg, MemArgTarget, VisitOperator};

use super::{Operand, Translator};
use crate::interp::bytecode::{Instr, Slot};
use crate::interp::simd::SimdOp;

/// The low half of a `memarg`'s offset: all of it on a 32-bit memory (u32 by
/// validation); on a 64-bit one, the high half goes in the `OtherMemory` prefix.
pub(super) fn offset(m: &MemArg) -> u32 {
    m.offset as u32
}

/// The memory a `memarg` names.
pub(super) fn memory_of(m: &MemArg) -> u32 {
    match m.target {
        MemArgTarget::Memory(memory) => memory,
        // Only GC's array instructions have one; the interpreter does not declare GC, so
        // validation refuses them.
        MemArgTarget::Array(_) => unreachable!("a GC array memarg in the interpreter"),
    }
}

impl Translator<'_> {
    pub(super) fn unary(&mut self, make: fn(Slot, Slot) -> Instr) {
        let src = self.pop_slot();
        let dst = self.next_slot();
        self.emit_result(make(dst, src));
    }

    pub(super) fn binary(&mut self, make: fn(Slot, Slot, Slot) -> Instr) {
        let rhs = self.pop_slot();
        let lhs = self.pop_slot();
        let dst = self.next_slot();
        self.emit_result(make(dst, lhs, rhs));
    }

    pub(super) fn load(&mut self, m: &MemArg, make: fn(Slot, Slot, u32) -> Instr) {
        let addr = self.pop_slot();
        let dst = self.next_slot();
        self.memarg_prefix(m);
        self.emit_result(make(dst, addr, offset(m)));
    }

    /// Before a memory instruction, after popping its operands (popping may emit a
    /// `Const`): the `OtherMemory` prefix if it accesses a memory other than 0
    /// (`source`: the memory `memory.copy` reads; otherwise the same as `memory`) or a
    /// 64-bit memory. Memory 0's instructions go unprefixed when it is 32-bit, so they
    /// run exactly as without multi-memory and memory64.
    pub(super) fn other_memory(&mut self, memory: u32, source: u32) {
        self.memory_prefix(memory, source, 0);
    }

    /// `other_memory` before an instruction with `memarg` `m`, whose offset's high half
    /// the prefix carries (non-zero only on a 64-bit memory, which is always prefixed).
    pub(super) fn memarg_prefix(&mut self, m: &MemArg) {
        let memory = memory_of(m);
        self.memory_prefix(memory, memory, (m.offset >> 32) as u32);
    }

    fn memory_prefix(&mut self, memory: u32, source: u32, offset_high: u32) {
        if memory != 0 || source != 0 || self.is_memory64(memory) || self.is_memory64(source) {
            self.emit(Instr::OtherMemory {
                memory,
                source,
                offset_high,
            });
        }
    }

    /// Before a table instruction, after popping its operands: the `OtherMemory` prefix
    /// (its memory fields unused) if one of `tables` is 64-bit (table64), so that the
    /// outer loop runs it with i64 operands (`exec/tables.rs`). A 32-bit table's
    /// instructions go unprefixed, exactly as before table64.
    pub(super) fn table_prefix(&mut self, tables: &[u32]) {
        if tables.iter().any(|&t| self.info.tables[t as usize].table64) {
            self.emit(Instr::OtherMemory {
                memory: 0,
                source: 0,
                offset_high: 0,
            });
        }
    }

    /// Before `call_indirect` (or `return_call_indirect`) through a 64-bit table: the
    /// i64 index on top of the stack becomes an i32, saturated at `u32::MAX`, which the
    /// call reads as it does any i32 index. Saturating keeps the result: every table has
    /// fewer than `u32::MAX` elements (`MAX_TABLE_ELEMENTS`), so an index at or above
    /// 2^32 still traps as undefined, and a smaller one is unchanged. (A call cannot
    /// leave the inner loop like the prefixed table instructions, and an index-type
    /// check in its arm would cost every call.) Two existing conversions make it, exact
    /// for every u64: u64 to f64 rounds monotonically and is exact below 2^32, and the
    /// saturating truncation to u32 clamps what is at or above 2^32.
    pub(super) fn narrow_table_index(&mut self, table: u32) -> crate::error::Result<()> {
        if self.info.tables[table as usize].table64 {
            self.visit_f64_convert_i64_u()?;
            self.visit_i32_trunc_sat_f64_u()?;
        }
        Ok(())
    }

    /// Whether memory `memory` of the module is addressed by i64 (memory64).
    fn is_memory64(&self, memory: u32) -> bool {
        self.info.memories[memory as usize].memory64
    }

    /// A load that has a fused form for a shifted index (`scaled(shift, dst, idx,
    /// offset)`), used when the address was just computed by `i32.shl` by a constant.
    pub(super) fn load_scalable(
        &mut self,
        m: &MemArg,
        make: fn(Slot, Slot, u32) -> Instr,
        scaled: fn(u8, Slot, Slot, u32) -> Instr,
    ) {
        if memory_of(m) != 0 || self.is_memory64(0) {
            return self.load(m, make);
        }
        match self.take_shifted_address() {
            Some((idx, shift)) => {
                let dst = self.next_slot();
                self.emit_result(scaled(shift, dst, idx, offset(m)));
            }
            None => self.load(m, make),
        }
    }

    /// If the address on top was just computed by `i32.shl` by a constant, removes that
    /// instruction and pops the address, returning the shifted operand and the shift.
    fn take_shifted_address(&mut self) -> Option<(Slot, u8)> {
        let at = self.top_def()?;
        let Instr::I32Shl { lhs, rhs, .. } = self.instrs[at] else {
            return None;
        };
        let shift = (self.const_value(rhs)? & 31) as u8;
        self.instrs.pop();
        self.pop_op();
        self.last_def = None;
        Some((lhs, shift))
    }

    pub(super) fn store(&mut self, m: &MemArg, make: fn(Slot, Slot, u32) -> Instr) {
        let value = self.pop_slot();
        let addr = self.pop_slot();
        self.memarg_prefix(m);
        self.emit(make(addr, value, offset(m)));
    }

    /// Pops three operands (pushed in order a, b, c).
    pub(super) fn pop3(&mut self) -> (Slot, Slot, Slot) {
        let c = self.pop_slot();
        let b = self.pop_slot();
        let a = self.pop_slot();
        (a, b, c)
    }

    /// `local.set` / `local.tee`.
    /// <https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-variable-mathsf-local-set-x>
    pub(super) fn local_set(&mut self, index: u32, tee: bool) {
        let local = self.local_slots[index as usize];
        let wide = self.local_wide[index as usize];
        let len = self.stack.len();
        let referenced = self.stack[..len - 1].contains(&Operand::Local(local));
        // The value was just computed: have that instruction write the local directly.
        if let Some(at) = self.top_def().filter(|_| !referenced)
            && let Some(dst) = self.instrs[at].result_slot_mut()
        {
            *dst = local;
            self.pop_op();
            self.last_def = None;
            if tee {
                self.push_w(Operand::Local(local), wide);
            }
            return;
        }
        let value = self.pop_op().unwrap_or(Operand::Stack);
        // Reads of the old value still on the stack must be taken before it changes.
        for pos in 0..self.stack.len() {
            if self.stack[pos] == Operand::Local(local) {
                self.materialize(pos);
            }
        }
        self.push_w(value, wide);
        self.emit_move(len - 1, local);
        self.pop_op();
        if tee {
            self.push_w(value, wide);
        }
    }

    /// `select`: of two vectors, or of two scalars.
    pub(super) fn op_select(&mut self) {
        let cond = self.pop_slot();
        if self.wide.last() == Some(&true) {
            let b = self.pop_slot();
            let a = self.pop_slot();
            let dst = self.next_slot();
            let op = SimdOp::Select;
            self.emit(Instr::Simd { op, dst, a, b });
            self.emit_extra(cond, 0);
            self.push_w(Operand::Stack, true);
        } else {
            let rhs = self.pop_slot();
            let lhs = self.pop_slot();
            let dst = self.next_slot();
            self.emit(Instr::Select { dst, lhs, rhs });
            self.emit_extra(cond, 0);
            self.push(Operand::Stack);
        }
    }

    pub(super) fn op_global_get(&mut self, global: u32) {
        let dst = self.next_slot();
        if self.global_is_v128(global) {
            let op = SimdOp::GlobalGet;
            self.emit_result_w(
                Instr::Simd {
                    op,
                    dst,
                    a: global,
                    b: 0,
                },
                true,
            );
        } else {
            self.emit_result(Instr::GlobalGet { dst, global });
        }
    }

    pub(super) fn op_global_set(&mut self, global: u32) {
        let src = self.pop_slot();
        if self.global_is_v128(global) {
            let op = SimdOp::GlobalSet;
            self.emit(Instr::Simd {
                op,
                dst: 0,
                a: src,
                b: global,
            });
        } else {
            self.emit(Instr::GlobalSet { global, src });
        }
    }
}
