//! Translation of the SIMD operators into `Instr::Simd` (see `interp/simd`): the
//! translator as a wasmparser `VisitSimdOperator`.
//!
//! The methods of the operators in `for_each_simd!` are generated from their shape; the
//! four others, and those of relaxed SIMD, are written here. Each relaxed operator gives
//! the one result the native engine fixes (see `interp/simd/relaxed.rs`): most are
//! their deterministic counterpart's `SimdOp`.

use wasmparser::{MemArg, Operator, V128, VisitSimdOperator};

use super::generated::generated_visits;
use super::ops::offset;
use super::{Operand, Translator};
use crate::interp::bytecode::Instr;
use crate::interp::simd::{SimdOp, for_each_simd, splat_const};

/// Defines `listed_simd!(Op => visit_method)`: the visit method of `Op` if
/// `for_each_simd!` lists it (built by `simd_visit!` from its shape), nothing otherwise.
/// (`$visit` and `$other` are not bound here: they pass through as written and become
/// the generated macro's own metavariables.)
macro_rules! define_listed_simd {
    ($($shape:ident: [$($op:ident),*],)*) => {
        macro_rules! listed_simd {
            $($(($op => $visit:ident) => { simd_visit!($shape $op $visit); };)*)*
            ($other:ident => $visit:ident) => {};
        }
    };
}
for_each_simd!(define_listed_simd);

/// The visit method of SIMD operator `$op`, of operand shape `$shape` (see `SimdOp`
/// for where each shape puts its operands).
macro_rules! simd_visit {
    (Unary $op:ident $visit:ident) => {
        fn $visit(&mut self) -> Self::Output {
            self.simd_unary(SimdOp::$op, true);
            Ok(())
        }
    };
    (Test $op:ident $visit:ident) => {
        fn $visit(&mut self) -> Self::Output {
            self.simd_unary(SimdOp::$op, false);
            Ok(())
        }
    };
    (Splat $op:ident $visit:ident) => {
        fn $visit(&mut self) -> Self::Output {
            self.simd_splat(SimdOp::$op, &Operator::$op);
            Ok(())
        }
    };
    (Binary $op:ident $visit:ident) => {
        fn $visit(&mut self) -> Self::Output {
            self.simd_binary(SimdOp::$op);
            Ok(())
        }
    };
    (Shift $op:ident $visit:ident) => {
        fn $visit(&mut self) -> Self::Output {
            self.simd_binary(SimdOp::$op);
            Ok(())
        }
    };
    (Extract $op:ident $visit:ident) => {
        fn $visit(&mut self, lane: u8) -> Self::Output {
            let a = self.pop_slot();
            let dst = self.next_slot();
            let op = SimdOp::$op;
            self.emit_result(Instr::Simd {
                op,
                dst,
                a,
                b: lane as u32,
            });
            Ok(())
        }
    };
    (Replace $op:ident $visit:ident) => {
        fn $visit(&mut self, lane: u8) -> Self::Output {
            self.simd_with_extra(SimdOp::$op, lane as u32, 0);
            Ok(())
        }
    };
    (Load $op:ident $visit:ident) => {
        fn $visit(&mut self, memarg: MemArg) -> Self::Output {
            let a = self.pop_slot();
            let dst = self.next_slot();
            self.memarg_prefix(&memarg);
            let (op, b) = (SimdOp::$op, offset(&memarg));
            self.emit_result_w(Instr::Simd { op, dst, a, b }, true);
            Ok(())
        }
    };
    (LoadLane $op:ident $visit:ident) => {
        fn $visit(&mut self, memarg: MemArg, lane: u8) -> Self::Output {
            let b = self.pop_slot();
            let a = self.pop_slot();
            let dst = self.next_slot();
            self.memarg_prefix(&memarg);
            self.emit(Instr::Simd {
                op: SimdOp::$op,
                dst,
                a,
                b,
            });
            self.emit_extra(offset(&memarg), lane as u32);
            self.push_w(Operand::Stack, true);
            Ok(())
        }
    };
    (StoreLane $op:ident $visit:ident) => {
        fn $visit(&mut self, memarg: MemArg, lane: u8) -> Self::Output {
            let dst = self.pop_slot();
            let a = self.pop_slot();
            self.memarg_prefix(&memarg);
            self.emit(Instr::Simd {
                op: SimdOp::$op,
                dst,
                a,
                b: 0,
            });
            self.emit_extra(offset(&memarg), lane as u32);
            Ok(())
        }
    };
}

impl<'a> VisitSimdOperator<'a> for Translator<'_> {
    wasmparser::for_each_visit_simd_operator!(generated_visits);

    fn visit_v128_store(&mut self, memarg: MemArg) -> Self::Output {
        let dst = self.pop_slot();
        let a = self.pop_slot();
        self.memarg_prefix(&memarg);
        let (op, b) = (SimdOp::V128Store, offset(&memarg));
        self.emit(Instr::Simd { op, dst, a, b });
        Ok(())
    }

    fn visit_v128_const(&mut self, value: V128) -> Self::Output {
        let v = u128::from_le_bytes(*value.bytes());
        if self.push_v128_slot(v) {
            return Ok(());
        }
        let a = self.v128_const(v);
        let dst = self.next_slot();
        let op = SimdOp::V128Const;
        self.emit_result_w(Instr::Simd { op, dst, a, b: 0 }, true);
        Ok(())
    }

    fn visit_i8x16_shuffle(&mut self, lanes: [u8; 16]) -> Self::Output {
        let mask = self.v128_const(u128::from_le_bytes(lanes));
        self.simd_with_extra(SimdOp::I8x16Shuffle, mask, 0);
        Ok(())
    }

    fn visit_v128_bitselect(&mut self) -> Self::Output {
        let c = self.pop_slot();
        self.simd_with_extra(SimdOp::V128Bitselect, c, 0);
        Ok(())
    }

    // Relaxed SIMD.

    fn visit_i8x16_relaxed_swizzle(&mut self) -> Self::Output {
        self.simd_binary(SimdOp::I8x16Swizzle);
        Ok(())
    }

    fn visit_i32x4_relaxed_trunc_f32x4_s(&mut self) -> Self::Output {
        self.simd_unary(SimdOp::I32x4TruncSatF32x4S, true);
        Ok(())
    }

    fn visit_i32x4_relaxed_trunc_f32x4_u(&mut self) -> Self::Output {
        self.simd_unary(SimdOp::I32x4TruncSatF32x4U, true);
        Ok(())
    }

    fn visit_i32x4_relaxed_trunc_f64x2_s_zero(&mut self) -> Self::Output {
        self.simd_unary(SimdOp::I32x4TruncSatF64x2SZero, true);
        Ok(())
    }

    fn visit_i32x4_relaxed_trunc_f64x2_u_zero(&mut self) -> Self::Output {
        self.simd_unary(SimdOp::I32x4TruncSatF64x2UZero, true);
        Ok(())
    }

    fn visit_f32x4_relaxed_madd(&mut self) -> Self::Output {
        self.simd_ternary(SimdOp::F32x4RelaxedMadd);
        Ok(())
    }

    fn visit_f32x4_relaxed_nmadd(&mut self) -> Self::Output {
        self.simd_ternary(SimdOp::F32x4RelaxedNmadd);
        Ok(())
    }

    fn visit_f64x2_relaxed_madd(&mut self) -> Self::Output {
        self.simd_ternary(SimdOp::F64x2RelaxedMadd);
        Ok(())
    }

    fn visit_f64x2_relaxed_nmadd(&mut self) -> Self::Output {
        self.simd_ternary(SimdOp::F64x2RelaxedNmadd);
        Ok(())
    }

    fn visit_i8x16_relaxed_laneselect(&mut self) -> Self::Output {
        self.visit_v128_bitselect()
    }

    fn visit_i16x8_relaxed_laneselect(&mut self) -> Self::Output {
        self.visit_v128_bitselect()
    }

    fn visit_i32x4_relaxed_laneselect(&mut self) -> Self::Output {
        self.visit_v128_bitselect()
    }

    fn visit_i64x2_relaxed_laneselect(&mut self) -> Self::Output {
        self.visit_v128_bitselect()
    }

    fn visit_f32x4_relaxed_min(&mut self) -> Self::Output {
        self.simd_binary(SimdOp::F32x4Min);
        Ok(())
    }

    fn visit_f32x4_relaxed_max(&mut self) -> Self::Output {
        self.simd_binary(SimdOp::F32x4Max);
        Ok(())
    }

    fn visit_f64x2_relaxed_min(&mut self) -> Self::Output {
        self.simd_binary(SimdOp::F64x2Min);
        Ok(())
    }

    fn visit_f64x2_relaxed_max(&mut self) -> Self::Output {
        self.simd_binary(SimdOp::F64x2Max);
        Ok(())
    }

    fn visit_i16x8_relaxed_q15mulr_s(&mut self) -> Self::Output {
        self.simd_binary(SimdOp::I16x8Q15MulrSatS);
        Ok(())
    }

    fn visit_i16x8_relaxed_dot_i8x16_i7x16_s(&mut self) -> Self::Output {
        self.simd_binary(SimdOp::I16x8RelaxedDotI8x16I7x16S);
        Ok(())
    }

    fn visit_i32x4_relaxed_dot_i8x16_i7x16_add_s(&mut self) -> Self::Output {
        self.simd_ternary(SimdOp::I32x4RelaxedDotI8x16I7x16AddS);
        Ok(())
    }
}

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
        self.emit_extra(x, y);
        self.push_w(Operand::Stack, true);
    }

    /// Three `v128` operands, the third in an `Extra { a }`, a `v128` result.
    fn simd_ternary(&mut self, op: SimdOp) {
        let c = self.pop_slot();
        self.simd_with_extra(op, c, 0);
    }

    /// A splat (`op`, wasmparser's `operator`): of a scalar constant whose result has
    /// constant slots (given now if there is room), just those slots.
    fn simd_splat(&mut self, op: SimdOp, operator: &Operator) {
        let scalar = match self.stack.last() {
            Some(Operand::Imm(x)) => Some(*x),
            Some(Operand::Const(s)) => self.const_value(*s),
            _ => None,
        };
        let splat = scalar.and_then(|x| splat_const(operator, x));
        if let Some(v) = splat
            && let Some(slot) = self.v128_const_slot(v)
        {
            self.pop_op();
            self.push_w(Operand::Const(slot), true);
            return;
        }
        self.simd_unary(op, true);
    }

    /// Pushes the constant slots of `v128` value `v` if it has them or there is room for
    /// them; false otherwise.
    fn push_v128_slot(&mut self, v: u128) -> bool {
        let Some(slot) = self.v128_const_slot(v) else {
            return false;
        };
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
