//! Translation of the SIMD operators into `Instr::Simd` (see `interp/simd`).

use wasmparser::Operator;

use super::{Operand, Translator};
use crate::error::{Error, Result};
use crate::interp::bytecode::Instr;
use crate::interp::simd::{SimdOp, for_each_simd, splat_const};

macro_rules! simd_translate {
    (
        unary: [$($un:ident),*],
        binary: [$($bin:ident),*],
        test: [$($test:ident),*],
        shift: [$($sh:ident),*],
        splat: [$($sp:ident),*],
        extract: [$($ex:ident),*],
        replace: [$($rep:ident),*],
        load: [$($ld:ident),*],
        load_lane: [$($ldl:ident),*],
        store_lane: [$($stl:ident),*],
    ) => {
        impl Translator<'_> {
            /// Translates a SIMD operator (anything else is refused as unsupported).
            pub(super) fn simd_operator(&mut self, op: Operator) -> Result<()> {
                if self.v128_constant(&op) {
                    return Ok(());
                }
                match op {
                    $(Operator::$un => self.simd_unary(SimdOp::$un, true),)*
                    $(Operator::$test => self.simd_unary(SimdOp::$test, false),)*
                    $(Operator::$sp => self.simd_unary(SimdOp::$sp, true),)*
                    $(Operator::$bin => self.simd_binary(SimdOp::$bin),)*
                    $(Operator::$sh => self.simd_binary(SimdOp::$sh),)*
                    $(Operator::$ex { lane } => {
                        let a = self.pop_slot();
                        let dst = self.next_slot();
                        let op = SimdOp::$ex;
                        self.emit_result(Instr::Simd { op, dst, a, b: lane as u32 });
                    })*
                    $(Operator::$rep { lane } => {
                        self.simd_with_extra(SimdOp::$rep, lane as u32, 0);
                    })*
                    $(Operator::$ld { memarg } => {
                        let a = self.pop_slot();
                        let dst = self.next_slot();
                        let (op, b) = (SimdOp::$ld, memarg.offset as u32);
                        self.emit_result_w(Instr::Simd { op, dst, a, b }, true);
                    })*
                    $(Operator::$ldl { memarg, lane } => {
                        self.simd_with_extra(SimdOp::$ldl, memarg.offset as u32, lane as u32);
                    })*
                    $(Operator::$stl { memarg, lane } => {
                        let dst = self.pop_slot();
                        let a = self.pop_slot();
                        self.emit(Instr::Simd { op: SimdOp::$stl, dst, a, b: 0 });
                        let (a, b) = (memarg.offset as u32, lane as u32);
                        self.emit(Instr::Extra { a, b, c: 0 });
                    })*
                    Operator::V128Store { memarg } => {
                        let dst = self.pop_slot();
                        let a = self.pop_slot();
                        let (op, b) = (SimdOp::V128Store, memarg.offset as u32);
                        self.emit(Instr::Simd { op, dst, a, b });
                    }
                    Operator::V128Const { value } => {
                        let a = self.v128_const(u128::from_le_bytes(*value.bytes()));
                        let dst = self.next_slot();
                        let op = SimdOp::V128Const;
                        self.emit_result_w(Instr::Simd { op, dst, a, b: 0 }, true);
                    }
                    Operator::I8x16Shuffle { lanes } => {
                        let mask = self.v128_const(u128::from_le_bytes(lanes));
                        self.simd_with_extra(SimdOp::I8x16Shuffle, mask, 0);
                    }
                    Operator::V128Bitselect => {
                        let c = self.pop_slot();
                        self.simd_with_extra(SimdOp::V128Bitselect, c, 0);
                    }
                    _ => return Err(Error::simd_unsupported()),
                }
                Ok(())
            }
        }
    };
}
for_each_simd!(simd_translate);

impl Translator<'_> {
    /// One operand; the result is a `v128` if `wide`.
    fn simd_unary(&mut self, op: SimdOp, wide: bool) {
        let a = self.pop_slot();
        let dst = self.next_slot();
        self.emit_result_w(Instr::Simd { op, dst, a, b: 0 }, wide);
    }

    /// Two operands, a `v128` result.
    fn simd_binary(&mut self, op: SimdOp) {
        let b = self.pop_slot();
        let a = self.pop_slot();
        let dst = self.next_slot();
        self.emit_result_w(Instr::Simd { op, dst, a, b }, true);
    }

    /// Two operands and an `Extra { a: x, b: y }`, a `v128` result.
    fn simd_with_extra(&mut self, op: SimdOp, x: u32, y: u32) {
        let b = self.pop_slot();
        let a = self.pop_slot();
        let dst = self.next_slot();
        self.emit(Instr::Simd { op, dst, a, b });
        self.emit(Instr::Extra { a: x, b: y, c: 0 });
        self.push_w(Operand::Stack, true);
    }

    /// Pushes the constant slots of `op`'s result if it is a `v128.const`, or a splat of
    /// a scalar constant, that has them (see pass 1 of `translate`); false otherwise.
    fn v128_constant(&mut self, op: &Operator) -> bool {
        let (v, pops) = match op {
            Operator::V128Const { value } => (u128::from_le_bytes(*value.bytes()), false),
            op => {
                let x = match self.stack.last() {
                    Some(Operand::Imm(x)) => *x,
                    Some(Operand::Const(s)) => {
                        let first = self.stack_base - self.consts.len() as u32;
                        self.consts[(s - first) as usize]
                    }
                    _ => return false,
                };
                match splat_const(op, x) {
                    Some(v) => (v, true),
                    None => return false,
                }
            }
        };
        let Some(&slot) = self.v128_slots.get(&v) else {
            return false;
        };
        if pops {
            self.pop_op();
        }
        self.push_w(Operand::Const(slot), true);
        true
    }

    /// The index of a 128-bit constant in the function's table.
    fn v128_const(&mut self, v: u128) -> u32 {
        let next = self.v128_consts.len() as u32;
        let i = *self.v128_const_index.entry(v).or_insert(next);
        if i == next {
            self.v128_consts.push(v);
        }
        i
    }
}
