//! Fixed-width SIMD (`v128`) for the interpreter.
//!
//! A `v128` occupies two consecutive slots (low 64 bits first). Every SIMD operator is
//! one `Instr::Simd { op, dst, a, b }` (sometimes followed by an `Extra`): `Code::new`
//! lowers the hottest into instructions of their own (`Instr::lower_simd`), which the
//! main dispatch loop runs; the rest run in [`exec`], a function outside it, so the
//! scalar hot path stays small. The operators' names are wasmparser's.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#vector-instructions>
//! and <https://webassembly.github.io/spec/core/exec/numerics.html>.

mod arith;
mod convert;
mod exec;
mod lanes;
mod memory;
mod relaxed;

pub(crate) use exec::{exec, exec_hot};

/// Calls `$mac!` with every SIMD operator of the interpreter, grouped by the shape of
/// its operands (which is all the translator needs to know), as `Shape: [ops],` where
/// `Shape` names a variant of [`Shape`]: a consumer matches every group with one
/// pattern, `$($shape:ident: [$($op:ident),*],)*`.
macro_rules! for_each_simd {
    ($mac:ident) => {
        $mac! {
            // v128 -> v128
            Unary: [
                V128Not, I8x16Abs, I8x16Neg, I8x16Popcnt, I16x8Abs, I16x8Neg, I32x4Abs,
                I32x4Neg, I64x2Abs, I64x2Neg,
                F32x4Ceil, F32x4Floor, F32x4Trunc, F32x4Nearest, F32x4Abs, F32x4Neg, F32x4Sqrt,
                F64x2Ceil, F64x2Floor, F64x2Trunc, F64x2Nearest, F64x2Abs, F64x2Neg, F64x2Sqrt,
                I16x8ExtAddPairwiseI8x16S, I16x8ExtAddPairwiseI8x16U,
                I32x4ExtAddPairwiseI16x8S, I32x4ExtAddPairwiseI16x8U,
                I16x8ExtendLowI8x16S, I16x8ExtendHighI8x16S, I16x8ExtendLowI8x16U,
                I16x8ExtendHighI8x16U,
                I32x4ExtendLowI16x8S, I32x4ExtendHighI16x8S, I32x4ExtendLowI16x8U,
                I32x4ExtendHighI16x8U,
                I64x2ExtendLowI32x4S, I64x2ExtendHighI32x4S, I64x2ExtendLowI32x4U,
                I64x2ExtendHighI32x4U,
                I32x4TruncSatF32x4S, I32x4TruncSatF32x4U, F32x4ConvertI32x4S, F32x4ConvertI32x4U,
                I32x4TruncSatF64x2SZero, I32x4TruncSatF64x2UZero, F64x2ConvertLowI32x4S,
                F64x2ConvertLowI32x4U, F32x4DemoteF64x2Zero, F64x2PromoteLowF32x4
            ],
            // v128 v128 -> v128
            Binary: [
                V128And, V128AndNot, V128Or, V128Xor, I8x16Swizzle,
                I8x16Eq, I8x16Ne, I8x16LtS, I8x16LtU, I8x16GtS, I8x16GtU, I8x16LeS, I8x16LeU,
                I8x16GeS, I8x16GeU,
                I16x8Eq, I16x8Ne, I16x8LtS, I16x8LtU, I16x8GtS, I16x8GtU, I16x8LeS, I16x8LeU,
                I16x8GeS, I16x8GeU,
                I32x4Eq, I32x4Ne, I32x4LtS, I32x4LtU, I32x4GtS, I32x4GtU, I32x4LeS, I32x4LeU,
                I32x4GeS, I32x4GeU,
                I64x2Eq, I64x2Ne, I64x2LtS, I64x2GtS, I64x2LeS, I64x2GeS,
                F32x4Eq, F32x4Ne, F32x4Lt, F32x4Gt, F32x4Le, F32x4Ge,
                F64x2Eq, F64x2Ne, F64x2Lt, F64x2Gt, F64x2Le, F64x2Ge,
                I8x16NarrowI16x8S, I8x16NarrowI16x8U, I16x8NarrowI32x4S, I16x8NarrowI32x4U,
                I8x16Add, I8x16AddSatS, I8x16AddSatU, I8x16Sub, I8x16SubSatS, I8x16SubSatU,
                I8x16MinS, I8x16MinU, I8x16MaxS, I8x16MaxU, I8x16AvgrU,
                I16x8Q15MulrSatS,
                I16x8Add, I16x8AddSatS, I16x8AddSatU, I16x8Sub, I16x8SubSatS, I16x8SubSatU,
                I16x8Mul, I16x8MinS, I16x8MinU, I16x8MaxS, I16x8MaxU, I16x8AvgrU,
                I16x8ExtMulLowI8x16S, I16x8ExtMulHighI8x16S, I16x8ExtMulLowI8x16U,
                I16x8ExtMulHighI8x16U,
                I32x4Add, I32x4Sub, I32x4Mul, I32x4MinS, I32x4MinU, I32x4MaxS, I32x4MaxU,
                I32x4DotI16x8S,
                I32x4ExtMulLowI16x8S, I32x4ExtMulHighI16x8S, I32x4ExtMulLowI16x8U,
                I32x4ExtMulHighI16x8U,
                I64x2Add, I64x2Sub, I64x2Mul,
                I64x2ExtMulLowI32x4S, I64x2ExtMulHighI32x4S, I64x2ExtMulLowI32x4U,
                I64x2ExtMulHighI32x4U,
                F32x4Add, F32x4Sub, F32x4Mul, F32x4Div, F32x4Min, F32x4Max, F32x4PMin, F32x4PMax,
                F64x2Add, F64x2Sub, F64x2Mul, F64x2Div, F64x2Min, F64x2Max, F64x2PMin, F64x2PMax
            ],
            // v128 -> i32
            Test: [
                V128AnyTrue, I8x16AllTrue, I8x16Bitmask, I16x8AllTrue, I16x8Bitmask,
                I32x4AllTrue, I32x4Bitmask, I64x2AllTrue, I64x2Bitmask
            ],
            // v128 i32 -> v128
            Shift: [
                I8x16Shl, I8x16ShrS, I8x16ShrU, I16x8Shl, I16x8ShrS, I16x8ShrU,
                I32x4Shl, I32x4ShrS, I32x4ShrU, I64x2Shl, I64x2ShrS, I64x2ShrU
            ],
            // scalar -> v128
            Splat: [I8x16Splat, I16x8Splat, I32x4Splat, I64x2Splat, F32x4Splat, F64x2Splat],
            // v128 -> scalar, with a lane immediate
            Extract: [
                I8x16ExtractLaneS, I8x16ExtractLaneU, I16x8ExtractLaneS, I16x8ExtractLaneU,
                I32x4ExtractLane, I64x2ExtractLane, F32x4ExtractLane, F64x2ExtractLane
            ],
            // v128 scalar -> v128, with a lane immediate
            Replace: [
                I8x16ReplaceLane, I16x8ReplaceLane, I32x4ReplaceLane, I64x2ReplaceLane,
                F32x4ReplaceLane, F64x2ReplaceLane
            ],
            // i32 -> v128, with a memarg
            Load: [
                V128Load, V128Load8x8S, V128Load8x8U, V128Load16x4S, V128Load16x4U,
                V128Load32x2S, V128Load32x2U, V128Load8Splat, V128Load16Splat, V128Load32Splat,
                V128Load64Splat, V128Load32Zero, V128Load64Zero
            ],
            // i32 v128 -> v128, with a memarg and a lane
            LoadLane: [V128Load8Lane, V128Load16Lane, V128Load32Lane, V128Load64Lane],
            // i32 v128 ->, with a memarg and a lane
            StoreLane: [V128Store8Lane, V128Store16Lane, V128Store32Lane, V128Store64Lane],
        }
    };
}
pub(crate) use for_each_simd;

macro_rules! define_simd_op {
    ($($shape:ident: [$($op:ident),*],)*) => {
        /// One SIMD operation. Operand conventions (`a`, `b` of `Instr::Simd`, and the
        /// `Extra` that follows some):
        ///
        /// - unary, test, splat: `a` is the operand;
        /// - binary, shift: `a`, `b`;
        /// - extract: `a` the vector, `b` the lane;
        /// - replace: `a` the vector, `b` the scalar, `Extra { a: lane }`;
        /// - load: `a` the address, `b` the offset;
        /// - load lane: `a` the address, `b` the vector, `Extra { a: offset, b: lane }`;
        /// - store lane and `V128Store`: `dst` the vector (read, not written), `a` the
        ///   address, `b` the offset (store lane: `Extra { a: offset, b: lane }`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u16)]
        pub(crate) enum SimdOp {
            $($($op,)*)*
            V128Store,
            /// `a` indexes `FuncCode::v128_consts`.
            V128Const,
            /// `a`, `b` the vectors; `Extra { a }` indexes `FuncCode::v128_consts` (the
            /// 16 lane indices, one per byte).
            I8x16Shuffle,
            /// `a`, `b`, and `Extra { a: mask }`.
            V128Bitselect,
            /// Moves a v128 from slot `a` (both halves read before either is written).
            Copy,
            /// `select` of two vectors `a`, `b`; `Extra { a: cond }`.
            Select,
            /// `a` is the global index.
            GlobalGet,
            /// `a` the value, `b` the global index.
            GlobalSet,
            /// Relaxed SIMD with no deterministic counterpart (`relaxed.rs`): the
            /// multiply-adds, `a`, `b`, and `Extra { a: addend }`.
            F32x4RelaxedMadd,
            F32x4RelaxedNmadd,
            F64x2RelaxedMadd,
            F64x2RelaxedNmadd,
            /// `a`, `b`.
            I16x8RelaxedDotI8x16I7x16S,
            /// `a`, `b`, and `Extra { a: accumulator }`.
            I32x4RelaxedDotI8x16I7x16AddS,
        }

        impl SimdOp {
            /// Whether the operation writes `dst` and nothing else (so the translator may
            /// redirect `dst` into a local).
            pub(crate) fn writes_dst(self) -> bool {
                !matches!(self.shape(), Shape::StoreLane)
                    && !matches!(self, SimdOp::V128Store | SimdOp::GlobalSet)
            }

            /// Which operand shape the operation has.
            pub(crate) fn shape(self) -> Shape {
                match self {
                    $($(SimdOp::$op)|* => Shape::$shape,)*
                    _ => Shape::Other,
                }
            }
        }
    };
}
for_each_simd!(define_simd_op);

/// Which operand shape an operator has.
pub(crate) enum Shape {
    Unary,
    Binary,
    Test,
    Shift,
    Splat,
    Extract,
    Replace,
    Load,
    LoadLane,
    StoreLane,
    Other,
}

/// How `Instr::Simd` uses one of its operand fields (or the `a` of the `Extra` after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// An immediate, or unused.
    Imm,
    /// A scalar slot.
    Scalar,
    /// A `v128`: the slot and the one after it.
    Wide,
}

/// The operand uses of `op`: `dst`, `a`, `b`, and the `Extra` word after the instruction
/// (`None`: no `Extra`; `Some(use)`: an `Extra` whose `a` is used so). `Code::new` checks
/// every slot named here, so `exec` can access them unchecked.
pub(crate) fn operands(op: SimdOp) -> (Use, Use, Use, Option<Use>) {
    use Use::{Imm, Scalar, Wide};
    match op.shape() {
        Shape::Unary => (Wide, Wide, Imm, None),
        Shape::Binary => (Wide, Wide, Wide, None),
        Shape::Test => (Scalar, Wide, Imm, None),
        Shape::Shift => (Wide, Wide, Scalar, None),
        Shape::Splat => (Wide, Scalar, Imm, None),
        Shape::Extract => (Scalar, Wide, Imm, None),
        Shape::Replace => (Wide, Wide, Scalar, Some(Imm)),
        Shape::Load => (Wide, Scalar, Imm, None),
        Shape::LoadLane => (Wide, Scalar, Wide, Some(Imm)),
        Shape::StoreLane => (Wide, Scalar, Imm, Some(Imm)),
        Shape::Other => match op {
            SimdOp::V128Store => (Wide, Scalar, Imm, None),
            SimdOp::V128Const | SimdOp::GlobalGet => (Wide, Imm, Imm, None),
            SimdOp::I8x16Shuffle => (Wide, Wide, Wide, Some(Imm)),
            SimdOp::V128Bitselect => (Wide, Wide, Wide, Some(Wide)),
            SimdOp::Copy => (Wide, Wide, Imm, None),
            SimdOp::Select => (Wide, Wide, Wide, Some(Scalar)),
            SimdOp::GlobalSet => (Imm, Wide, Imm, None),
            SimdOp::F32x4RelaxedMadd
            | SimdOp::F32x4RelaxedNmadd
            | SimdOp::F64x2RelaxedMadd
            | SimdOp::F64x2RelaxedNmadd
            | SimdOp::I32x4RelaxedDotI8x16I7x16AddS => (Wide, Wide, Wide, Some(Wide)),
            SimdOp::I16x8RelaxedDotI8x16I7x16S => (Wide, Wide, Wide, None),
            // Every other operator has a shape above.
            _ => (Wide, Wide, Wide, None),
        },
    }
}

/// The value of a splat operator applied to the scalar constant `x` (`None` if `op` is
/// not a splat).
pub(crate) fn splat_const(op: &wasmparser::Operator, x: u64) -> Option<u128> {
    use wasmparser::Operator as Op;
    Some(match op {
        Op::I8x16Splat => lanes::splat(x as u8),
        Op::I16x8Splat => lanes::splat(x as u16),
        Op::I32x4Splat | Op::F32x4Splat => lanes::splat(x as u32),
        Op::I64x2Splat | Op::F64x2Splat => lanes::splat(x),
        _ => return None,
    })
}
