//! The per-operator translation: variables, memory, tables, references and numerics.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html>.

use wasmparser::{MemArg, Operator};

use super::{CtrlKind, Operand, Translator};
use crate::error::Result;
use crate::interp::bytecode::{Instr, Slot, for_each_numeric};
use crate::interp::simd::SimdOp;

/// How a plain numeric operator is built.
enum Numeric {
    Unary(fn(Slot, Slot) -> Instr),
    Binary(fn(Slot, Slot, Slot) -> Instr),
}

macro_rules! numeric_table {
    (
        unary: [$($un:ident),*],
        unary_trap: [$($unt:ident),*],
        binary: [$($bin:ident),*],
        binary_trap: [$($bint:ident),*],
    ) => {
        fn numeric(op: &Operator) -> Option<Numeric> {
            Some(match op {
                $(Operator::$un => Numeric::Unary(|dst, src| Instr::$un { dst, src }),)*
                $(Operator::$unt => Numeric::Unary(|dst, src| Instr::$unt { dst, src }),)*
                $(Operator::$bin => {
                    Numeric::Binary(|dst, lhs, rhs| Instr::$bin { dst, lhs, rhs })
                })*
                $(Operator::$bint => {
                    Numeric::Binary(|dst, lhs, rhs| Instr::$bint { dst, lhs, rhs })
                })*
                _ => return None,
            })
        }
    };
}
for_each_numeric!(numeric_table);

fn offset(m: &MemArg) -> u32 {
    // Memory32 offsets are u32 by validation.
    m.offset as u32
}

impl Translator<'_> {
    fn unary(&mut self, make: fn(Slot, Slot) -> Instr) {
        let src = self.pop_slot();
        let dst = self.next_slot();
        self.emit_result(make(dst, src));
    }

    fn binary(&mut self, make: fn(Slot, Slot, Slot) -> Instr) {
        let rhs = self.pop_slot();
        let lhs = self.pop_slot();
        let dst = self.next_slot();
        self.emit_result(make(dst, lhs, rhs));
    }

    fn load(&mut self, m: &MemArg, make: fn(Slot, Slot, u32) -> Instr) {
        let addr = self.pop_slot();
        let dst = self.next_slot();
        self.emit_result(make(dst, addr, offset(m)));
    }

    /// A load that has a fused form for a shifted index (`scaled(shift, dst, idx,
    /// offset)`), used when the address was just computed by `i32.shl` by a constant.
    fn load_scalable(
        &mut self,
        m: &MemArg,
        make: fn(Slot, Slot, u32) -> Instr,
        scaled: fn(u8, Slot, Slot, u32) -> Instr,
    ) {
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

    fn store(&mut self, m: &MemArg, make: fn(Slot, Slot, u32) -> Instr) {
        let value = self.pop_slot();
        let addr = self.pop_slot();
        self.emit(make(addr, value, offset(m)));
    }

    /// Pops three operands (pushed in order a, b, c).
    fn pop3(&mut self) -> (Slot, Slot, Slot) {
        let c = self.pop_slot();
        let b = self.pop_slot();
        let a = self.pop_slot();
        (a, b, c)
    }

    /// `local.set` / `local.tee`.
    /// <https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-variable-mathsf-local-set-x>
    fn local_set(&mut self, index: u32, tee: bool) {
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

    pub(super) fn operator(&mut self, op: Operator) -> Result<()> {
        if let Some(n) = numeric(&op) {
            match n {
                Numeric::Unary(make) => self.unary(make),
                Numeric::Binary(make) => self.binary(make),
            }
            return Ok(());
        }
        match op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.emit(Instr::Unreachable);
                self.reachable = false;
            }
            Operator::Block { blockty } => self.enter_block(CtrlKind::Block, blockty, None)?,
            Operator::Loop { blockty } => self.enter_block(CtrlKind::Loop, blockty, None)?,
            Operator::If { blockty } => self.op_if(blockty)?,
            Operator::Else => self.op_else(),
            Operator::End => self.op_end(),
            Operator::Br { relative_depth } => self.op_br(relative_depth),
            Operator::BrIf { relative_depth } => self.op_br_if(relative_depth),
            Operator::BrTable { targets } => {
                let mut depths = Vec::with_capacity(targets.len() as usize + 1);
                for t in targets.targets() {
                    depths.push(t.map_err(super::malformed)?);
                }
                depths.push(targets.default());
                self.op_br_table(depths);
            }
            Operator::Return => self.op_return(),
            Operator::Call { function_index } => self.op_call(function_index),
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.op_call_indirect(type_index, table_index),
            Operator::Drop => {
                self.pop_op();
                self.last_def = None;
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let cond = self.pop_slot();
                if self.wide.last() == Some(&true) {
                    let b = self.pop_slot();
                    let a = self.pop_slot();
                    let dst = self.next_slot();
                    let op = SimdOp::Select;
                    self.emit(Instr::Simd { op, dst, a, b });
                    self.emit(Instr::Extra {
                        a: cond,
                        b: 0,
                        c: 0,
                    });
                    self.push_w(Operand::Stack, true);
                    return Ok(());
                }
                let rhs = self.pop_slot();
                let lhs = self.pop_slot();
                let dst = self.next_slot();
                self.emit(Instr::Select { dst, lhs, rhs });
                self.emit(Instr::Extra {
                    a: cond,
                    b: 0,
                    c: 0,
                });
                self.push(Operand::Stack);
            }
            Operator::LocalGet { local_index } => {
                let i = local_index as usize;
                self.push_w(Operand::Local(self.local_slots[i]), self.local_wide[i]);
            }
            Operator::LocalSet { local_index } => self.local_set(local_index, false),
            Operator::LocalTee { local_index } => self.local_set(local_index, true),
            Operator::GlobalGet { global_index } if self.global_is_v128(global_index) => {
                let dst = self.next_slot();
                let op = SimdOp::GlobalGet;
                self.emit_result_w(
                    Instr::Simd {
                        op,
                        dst,
                        a: global_index,
                        b: 0,
                    },
                    true,
                );
            }
            Operator::GlobalSet { global_index } if self.global_is_v128(global_index) => {
                let a = self.pop_slot();
                let op = SimdOp::GlobalSet;
                self.emit(Instr::Simd {
                    op,
                    dst: 0,
                    a,
                    b: global_index,
                });
            }
            Operator::GlobalGet { global_index } => {
                let dst = self.next_slot();
                self.emit_result(Instr::GlobalGet {
                    dst,
                    global: global_index,
                });
            }
            Operator::GlobalSet { global_index } => {
                let src = self.pop_slot();
                self.emit(Instr::GlobalSet {
                    global: global_index,
                    src,
                });
            }

            Operator::I32Const { value } => self.push_const(value as u32 as u64),
            Operator::I64Const { value } => self.push_const(value as u64),
            Operator::F32Const { value } => self.push_const(value.bits() as u64),
            Operator::F64Const { value } => self.push_const(value.bits()),
            // Same bits, another type: nothing to do on raw cells.
            Operator::I32ReinterpretF32
            | Operator::F32ReinterpretI32
            | Operator::I64ReinterpretF64
            | Operator::F64ReinterpretI64 => {}

            Operator::I32Load { memarg } => self.load_scalable(
                &memarg,
                |dst, addr, offset| Instr::I32Load { dst, addr, offset },
                |shift, dst, idx, offset| Instr::I32LoadShl {
                    shift,
                    dst,
                    idx,
                    offset,
                },
            ),
            Operator::I64Load { memarg } => self.load_scalable(
                &memarg,
                |dst, addr, offset| Instr::I64Load { dst, addr, offset },
                |shift, dst, idx, offset| Instr::I64LoadShl {
                    shift,
                    dst,
                    idx,
                    offset,
                },
            ),
            Operator::F32Load { memarg } => self.load_scalable(
                &memarg,
                |dst, addr, offset| Instr::F32Load { dst, addr, offset },
                |shift, dst, idx, offset| Instr::F32LoadShl {
                    shift,
                    dst,
                    idx,
                    offset,
                },
            ),
            Operator::F64Load { memarg } => self.load_scalable(
                &memarg,
                |dst, addr, offset| Instr::F64Load { dst, addr, offset },
                |shift, dst, idx, offset| Instr::F64LoadShl {
                    shift,
                    dst,
                    idx,
                    offset,
                },
            ),
            Operator::I32Load8S { memarg } => self.load(&memarg, |dst, addr, offset| {
                Instr::I32Load8S { dst, addr, offset }
            }),
            Operator::I32Load8U { memarg } => self.load(&memarg, |dst, addr, offset| {
                Instr::I32Load8U { dst, addr, offset }
            }),
            Operator::I32Load16S { memarg } => self.load(&memarg, |dst, addr, offset| {
                Instr::I32Load16S { dst, addr, offset }
            }),
            Operator::I32Load16U { memarg } => self.load(&memarg, |dst, addr, offset| {
                Instr::I32Load16U { dst, addr, offset }
            }),
            Operator::I64Load8S { memarg } => self.load(&memarg, |dst, addr, offset| {
                Instr::I64Load8S { dst, addr, offset }
            }),
            Operator::I64Load8U { memarg } => self.load(&memarg, |dst, addr, offset| {
                Instr::I64Load8U { dst, addr, offset }
            }),
            Operator::I64Load16S { memarg } => self.load(&memarg, |dst, addr, offset| {
                Instr::I64Load16S { dst, addr, offset }
            }),
            Operator::I64Load16U { memarg } => self.load(&memarg, |dst, addr, offset| {
                Instr::I64Load16U { dst, addr, offset }
            }),
            Operator::I64Load32S { memarg } => self.load(&memarg, |dst, addr, offset| {
                Instr::I64Load32S { dst, addr, offset }
            }),
            Operator::I64Load32U { memarg } => self.load(&memarg, |dst, addr, offset| {
                Instr::I64Load32U { dst, addr, offset }
            }),
            Operator::I32Store { memarg } => {
                self.store(&memarg, |addr, value, offset| Instr::I32Store {
                    addr,
                    value,
                    offset,
                })
            }
            Operator::I64Store { memarg } => {
                self.store(&memarg, |addr, value, offset| Instr::I64Store {
                    addr,
                    value,
                    offset,
                })
            }
            Operator::F32Store { memarg } => {
                self.store(&memarg, |addr, value, offset| Instr::F32Store {
                    addr,
                    value,
                    offset,
                })
            }
            Operator::F64Store { memarg } => {
                self.store(&memarg, |addr, value, offset| Instr::F64Store {
                    addr,
                    value,
                    offset,
                })
            }
            Operator::I32Store8 { memarg } => {
                self.store(&memarg, |addr, value, offset| Instr::I32Store8 {
                    addr,
                    value,
                    offset,
                })
            }
            Operator::I32Store16 { memarg } => {
                self.store(&memarg, |addr, value, offset| Instr::I32Store16 {
                    addr,
                    value,
                    offset,
                })
            }
            Operator::I64Store8 { memarg } => {
                self.store(&memarg, |addr, value, offset| Instr::I64Store8 {
                    addr,
                    value,
                    offset,
                })
            }
            Operator::I64Store16 { memarg } => {
                self.store(&memarg, |addr, value, offset| Instr::I64Store16 {
                    addr,
                    value,
                    offset,
                })
            }
            Operator::I64Store32 { memarg } => {
                self.store(&memarg, |addr, value, offset| Instr::I64Store32 {
                    addr,
                    value,
                    offset,
                })
            }
            Operator::MemorySize { .. } => {
                let dst = self.next_slot();
                self.emit_result(Instr::MemorySize { dst });
            }
            Operator::MemoryGrow { .. } => {
                let delta = self.pop_slot();
                let dst = self.next_slot();
                self.emit(Instr::MemoryGrow { dst, delta });
                self.push(Operand::Stack);
            }
            Operator::MemoryFill { .. } => {
                let (dst, value, len) = self.pop3();
                self.emit(Instr::MemoryFill { dst, value, len });
            }
            Operator::MemoryCopy { .. } => {
                let (dst, src, len) = self.pop3();
                self.emit(Instr::MemoryCopy { dst, src, len });
            }
            Operator::MemoryInit { data_index, .. } => {
                let (dst, src, len) = self.pop3();
                self.emit(Instr::MemoryInit { dst, src, len });
                self.emit(Instr::Extra {
                    a: data_index,
                    b: 0,
                    c: 0,
                });
            }
            Operator::DataDrop { data_index } => {
                self.emit(Instr::DataDrop { data: data_index });
            }

            Operator::RefNull { .. } => self.push_const(0),
            Operator::RefIsNull => self.unary(|dst, src| Instr::I64Eqz { dst, src }),
            Operator::RefFunc { function_index } => {
                let dst = self.next_slot();
                self.emit_result(Instr::RefFunc {
                    dst,
                    func: function_index,
                });
            }
            Operator::TableGet { table } => {
                let index = self.pop_slot();
                let dst = self.next_slot();
                self.emit_result(Instr::TableGet { dst, index, table });
            }
            Operator::TableSet { table } => {
                let value = self.pop_slot();
                let index = self.pop_slot();
                self.emit(Instr::TableSet {
                    index,
                    value,
                    table,
                });
            }
            Operator::TableSize { table } => {
                let dst = self.next_slot();
                self.emit_result(Instr::TableSize { dst, table });
            }
            Operator::TableGrow { table } => {
                let delta = self.pop_slot();
                let init = self.pop_slot();
                let dst = self.next_slot();
                self.emit(Instr::TableGrow { dst, init, delta });
                self.emit(Instr::Extra {
                    a: table,
                    b: 0,
                    c: 0,
                });
                self.push(Operand::Stack);
            }
            Operator::TableFill { table } => {
                let (dst, value, len) = self.pop3();
                self.emit(Instr::TableFill { dst, value, len });
                self.emit(Instr::Extra {
                    a: table,
                    b: 0,
                    c: 0,
                });
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                self.emit(Instr::TableCopy { dst, src, len });
                self.emit(Instr::Extra {
                    a: dst_table,
                    b: src_table,
                    c: 0,
                });
            }
            Operator::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                self.emit(Instr::TableInit { dst, src, len });
                self.emit(Instr::Extra {
                    a: table,
                    b: elem_index,
                    c: 0,
                });
            }
            Operator::ElemDrop { elem_index } => {
                self.emit(Instr::ElemDrop { elem: elem_index });
            }
            // Everything else valid under the enabled features is SIMD.
            op => return self.simd_operator(op),
        }
        Ok(())
    }
}
