//! The interpreter's instruction set: a register-like ("slot") form of Wasm.
//!
//! Every local, every constant and every operand-stack position of a function has a
//! fixed slot in its frame (the Wasm operand stack height is static), so instructions
//! name the slots they read and write instead of pushing and popping. Frame layout:
//!
//! ```text
//! [ params | other locals (zeroed) | constants (copied in) | operand stack ]
//! ```
//!
//! A call places the callee's frame at the caller's slot of the first argument, so the
//! arguments become the callee's first locals and the results come back in the same
//! slots. Branch targets are absolute instruction indices while translating; `Code::new`
//! stores them relative to the instruction after the branch. Each instruction is 16 bytes.

use super::code::Code;
use super::simd::SimdOp;

/// A slot index, relative to the current frame's base.
pub(crate) type Slot = u32;

/// Calls `$mac!` with the numeric instructions that need no special translation: every
/// one reads one or two slots and writes one, and carries the name of its wasmparser
/// operator. `unary_trap`/`binary_trap` may trap.
macro_rules! for_each_numeric {
    ($mac:ident) => {
        $mac! {
            unary: [
                I32Eqz, I64Eqz, I32Clz, I32Ctz, I32Popcnt, I64Clz, I64Ctz, I64Popcnt,
                F32Abs, F32Neg, F32Ceil, F32Floor, F32Trunc, F32Nearest, F32Sqrt,
                F64Abs, F64Neg, F64Ceil, F64Floor, F64Trunc, F64Nearest, F64Sqrt,
                I32WrapI64, I64ExtendI32S, I64ExtendI32U,
                F32ConvertI32S, F32ConvertI32U, F32ConvertI64S, F32ConvertI64U, F32DemoteF64,
                F64ConvertI32S, F64ConvertI32U, F64ConvertI64S, F64ConvertI64U, F64PromoteF32,
                I32Extend8S, I32Extend16S, I64Extend8S, I64Extend16S, I64Extend32S,
                I32TruncSatF32S, I32TruncSatF32U, I32TruncSatF64S, I32TruncSatF64U,
                I64TruncSatF32S, I64TruncSatF32U, I64TruncSatF64S, I64TruncSatF64U
            ],
            unary_trap: [
                I32TruncF32S, I32TruncF32U, I32TruncF64S, I32TruncF64U,
                I64TruncF32S, I64TruncF32U, I64TruncF64S, I64TruncF64U
            ],
            binary: [
                I32Eq, I32Ne, I32LtS, I32LtU, I32GtS, I32GtU, I32LeS, I32LeU, I32GeS, I32GeU,
                I64Eq, I64Ne, I64LtS, I64LtU, I64GtS, I64GtU, I64LeS, I64LeU, I64GeS, I64GeU,
                F32Eq, F32Ne, F32Lt, F32Gt, F32Le, F32Ge,
                F64Eq, F64Ne, F64Lt, F64Gt, F64Le, F64Ge,
                I32Add, I32Sub, I32Mul, I32And, I32Or, I32Xor, I32Shl, I32ShrS, I32ShrU,
                I32Rotl, I32Rotr,
                I64Add, I64Sub, I64Mul, I64And, I64Or, I64Xor, I64Shl, I64ShrS, I64ShrU,
                I64Rotl, I64Rotr,
                F32Add, F32Sub, F32Mul, F32Div, F32Min, F32Max, F32Copysign,
                F64Add, F64Sub, F64Mul, F64Div, F64Min, F64Max, F64Copysign
            ],
            binary_trap: [
                I32DivS, I32DivU, I32RemS, I32RemU, I64DivS, I64DivU, I64RemS, I64RemU
            ],
        }
    };
}
pub(crate) use for_each_numeric;

macro_rules! define_instr {
    (
        unary: [$($un:ident),*],
        unary_trap: [$($unt:ident),*],
        binary: [$($bin:ident),*],
        binary_trap: [$($bint:ident),*],
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Instr {
            $($un { dst: Slot, src: Slot },)*
            $($unt { dst: Slot, src: Slot },)*
            $($bin { dst: Slot, lhs: Slot, rhs: Slot },)*
            $($bint { dst: Slot, lhs: Slot, rhs: Slot },)*

            // --- Control ---
            Unreachable,
            /// Operands of the instruction before it; never executed.
            Extra { a: u32, b: u32, c: u32 },
            Br { target: u32 },
            BrIfNez { cond: Slot, target: u32 },
            BrIfEqz { cond: Slot, target: u32 },
            /// Followed by `len + 1` `Br` entries; `index` picks one (the last if out of range).
            BrTable { index: Slot, len: u32 },
            /// Fused compare-and-branch (branch when the i32 comparison holds).
            BrI32Eq { lhs: Slot, rhs: Slot, target: u32 },
            BrI32Ne { lhs: Slot, rhs: Slot, target: u32 },
            BrI32LtS { lhs: Slot, rhs: Slot, target: u32 },
            BrI32LtU { lhs: Slot, rhs: Slot, target: u32 },
            BrI32GeS { lhs: Slot, rhs: Slot, target: u32 },
            BrI32GeU { lhs: Slot, rhs: Slot, target: u32 },
            BrI32GtS { lhs: Slot, rhs: Slot, target: u32 },
            BrI32GtU { lhs: Slot, rhs: Slot, target: u32 },
            BrI32LeS { lhs: Slot, rhs: Slot, target: u32 },
            BrI32LeU { lhs: Slot, rhs: Slot, target: u32 },
            BrI64Eq { lhs: Slot, rhs: Slot, target: u32 },
            BrI64Ne { lhs: Slot, rhs: Slot, target: u32 },
            BrI64LtS { lhs: Slot, rhs: Slot, target: u32 },
            BrI64LtU { lhs: Slot, rhs: Slot, target: u32 },
            BrI64GtS { lhs: Slot, rhs: Slot, target: u32 },
            BrI64GtU { lhs: Slot, rhs: Slot, target: u32 },
            BrI64LeS { lhs: Slot, rhs: Slot, target: u32 },
            BrI64LeU { lhs: Slot, rhs: Slot, target: u32 },
            BrI64GeS { lhs: Slot, rhs: Slot, target: u32 },
            BrI64GeU { lhs: Slot, rhs: Slot, target: u32 },
            /// Fused loop counter: `dst += step` (i32), then branch when `dst < rhs`
            /// (unsigned); otherwise skip the next instruction, which is the unfused
            /// compare-and-branch (kept, as it may be a branch target itself).
            I32AddImmBrLtU { step: i16, dst: Slot, rhs: Slot, target: u32 },
            /// As `I32AddImmBrLtU`, signed `<`.
            I32AddImmBrLtS { step: i16, dst: Slot, rhs: Slot, target: u32 },
            /// As `I32AddImmBrLtU`, `!=`.
            I32AddImmBrNe { step: i16, dst: Slot, rhs: Slot, target: u32 },
            /// Return; the results are already in slots `0..n`.
            Return,
            /// Copy `src` to slot 0, then return.
            ReturnSlot { src: Slot },
            Copy { dst: Slot, src: Slot },
            /// A constant that did not get a constant slot.
            Const { dst: Slot, value: u64 },
            /// Call defined function `func` of this module; arguments start at `base`.
            Call { func: u32, base: Slot },
            /// Call function `func` (module index space) through the instance's imports.
            CallImport { func: u32, base: Slot },
            /// `call_indirect`; followed by `Extra { a: table }`.
            CallIndirect { type_index: u32, index: Slot, base: Slot },
            /// `select`; followed by `Extra { a: cond }`.
            Select { dst: Slot, lhs: Slot, rhs: Slot },

            // --- Variables ---
            GlobalGet { dst: Slot, global: u32 },
            GlobalSet { global: u32, src: Slot },

            // --- Memory 0 ---
            I32Load { dst: Slot, addr: Slot, offset: u32 },
            I64Load { dst: Slot, addr: Slot, offset: u32 },
            F32Load { dst: Slot, addr: Slot, offset: u32 },
            F64Load { dst: Slot, addr: Slot, offset: u32 },
            I32Load8S { dst: Slot, addr: Slot, offset: u32 },
            I32Load8U { dst: Slot, addr: Slot, offset: u32 },
            I32Load16S { dst: Slot, addr: Slot, offset: u32 },
            I32Load16U { dst: Slot, addr: Slot, offset: u32 },
            I64Load8S { dst: Slot, addr: Slot, offset: u32 },
            I64Load8U { dst: Slot, addr: Slot, offset: u32 },
            I64Load16S { dst: Slot, addr: Slot, offset: u32 },
            I64Load16U { dst: Slot, addr: Slot, offset: u32 },
            I64Load32S { dst: Slot, addr: Slot, offset: u32 },
            I64Load32U { dst: Slot, addr: Slot, offset: u32 },
            /// Loads at `(idx << shift) + offset`: a shift by a constant fused into the
            /// load that uses it as its address (array indexing).
            I32LoadShl { shift: u8, dst: Slot, idx: Slot, offset: u32 },
            I64LoadShl { shift: u8, dst: Slot, idx: Slot, offset: u32 },
            F32LoadShl { shift: u8, dst: Slot, idx: Slot, offset: u32 },
            F64LoadShl { shift: u8, dst: Slot, idx: Slot, offset: u32 },
            I32Store { addr: Slot, value: Slot, offset: u32 },
            I64Store { addr: Slot, value: Slot, offset: u32 },
            F32Store { addr: Slot, value: Slot, offset: u32 },
            F64Store { addr: Slot, value: Slot, offset: u32 },
            I32Store8 { addr: Slot, value: Slot, offset: u32 },
            I32Store16 { addr: Slot, value: Slot, offset: u32 },
            I64Store8 { addr: Slot, value: Slot, offset: u32 },
            I64Store16 { addr: Slot, value: Slot, offset: u32 },
            I64Store32 { addr: Slot, value: Slot, offset: u32 },
            MemorySize { dst: Slot },
            MemoryGrow { dst: Slot, delta: Slot },
            MemoryFill { dst: Slot, value: Slot, len: Slot },
            MemoryCopy { dst: Slot, src: Slot, len: Slot },
            /// Followed by `Extra { a: data }`.
            MemoryInit { dst: Slot, src: Slot, len: Slot },
            DataDrop { data: u32 },

            // --- Tables and references ---
            TableGet { dst: Slot, index: Slot, table: u32 },
            TableSet { index: Slot, value: Slot, table: u32 },
            TableSize { dst: Slot, table: u32 },
            /// Followed by `Extra { a: table }`.
            TableGrow { dst: Slot, init: Slot, delta: Slot },
            /// Followed by `Extra { a: table }`.
            TableFill { dst: Slot, value: Slot, len: Slot },
            /// Followed by `Extra { a: dst_table, b: src_table }`.
            TableCopy { dst: Slot, src: Slot, len: Slot },
            /// Followed by `Extra { a: table, b: elem }`.
            TableInit { dst: Slot, src: Slot, len: Slot },
            ElemDrop { elem: u32 },
            RefFunc { dst: Slot, func: u32 },

            // --- SIMD ---
            /// A `v128` operation (see `SimdOp` for its operands), run out of line.
            Simd { op: SimdOp, dst: Slot, a: Slot, b: Slot },
            // The hottest `Simd` operations, lowered out of it by `Code::new` (see
            // `Instr::lower_simd`) so that they dispatch once. A `v128` operand names the
            // first of its two slots.
            V128Load { dst: Slot, addr: Slot, offset: u32 },
            V128Store { addr: Slot, value: Slot, offset: u32 },
            V128Copy { dst: Slot, src: Slot },
            V128And { dst: Slot, lhs: Slot, rhs: Slot },
            V128Or { dst: Slot, lhs: Slot, rhs: Slot },
            V128Xor { dst: Slot, lhs: Slot, rhs: Slot },
            I8x16Add { dst: Slot, lhs: Slot, rhs: Slot },
            I8x16Sub { dst: Slot, lhs: Slot, rhs: Slot },
            I8x16Eq { dst: Slot, lhs: Slot, rhs: Slot },
            I32x4Add { dst: Slot, lhs: Slot, rhs: Slot },
            F32x4Add { dst: Slot, lhs: Slot, rhs: Slot },
            F32x4Mul { dst: Slot, lhs: Slot, rhs: Slot },
            /// `rhs` is the (scalar) shift count.
            I8x16ShrU { dst: Slot, lhs: Slot, rhs: Slot },
        }

        impl Instr {
            /// The slot a simple single-result instruction writes, so the translator can
            /// redirect it straight into a local (`local.set` after an operation).
            pub(crate) fn result_slot_mut(&mut self) -> Option<&mut Slot> {
                match self {
                    $(Instr::$un { dst, .. })|* => Some(dst),
                    $(Instr::$unt { dst, .. })|* => Some(dst),
                    $(Instr::$bin { dst, .. })|* => Some(dst),
                    $(Instr::$bint { dst, .. })|* => Some(dst),
                    Instr::Copy { dst, .. }
                    | Instr::Const { dst, .. }
                    | Instr::GlobalGet { dst, .. }
                    | Instr::I32Load { dst, .. }
                    | Instr::I64Load { dst, .. }
                    | Instr::F32Load { dst, .. }
                    | Instr::F64Load { dst, .. }
                    | Instr::I32Load8S { dst, .. }
                    | Instr::I32Load8U { dst, .. }
                    | Instr::I32Load16S { dst, .. }
                    | Instr::I32Load16U { dst, .. }
                    | Instr::I64Load8S { dst, .. }
                    | Instr::I64Load8U { dst, .. }
                    | Instr::I64Load16S { dst, .. }
                    | Instr::I64Load16U { dst, .. }
                    | Instr::I64Load32S { dst, .. }
                    | Instr::I64Load32U { dst, .. }
                    | Instr::I32LoadShl { dst, .. }
                    | Instr::I64LoadShl { dst, .. }
                    | Instr::F32LoadShl { dst, .. }
                    | Instr::F64LoadShl { dst, .. }
                    | Instr::MemorySize { dst }
                    | Instr::TableGet { dst, .. }
                    | Instr::TableSize { dst, .. }
                    | Instr::RefFunc { dst, .. } => Some(dst),
                    Instr::Simd { op, dst, .. } if op.writes_dst() => Some(dst),
                    _ => None,
                }
            }
        }
    };
}

for_each_numeric!(define_instr);

impl Instr {
    /// Points a branch at `to` (used when a forward label is bound).
    pub(crate) fn set_target(&mut self, to: u32) {
        match self {
            Instr::Br { target }
            | Instr::BrIfNez { target, .. }
            | Instr::BrIfEqz { target, .. }
            | Instr::BrI32Eq { target, .. }
            | Instr::BrI32Ne { target, .. }
            | Instr::BrI32LtS { target, .. }
            | Instr::BrI32LtU { target, .. }
            | Instr::BrI32GeS { target, .. }
            | Instr::BrI32GeU { target, .. }
            | Instr::BrI32GtS { target, .. }
            | Instr::BrI32GtU { target, .. }
            | Instr::BrI32LeS { target, .. }
            | Instr::BrI32LeU { target, .. }
            | Instr::BrI64Eq { target, .. }
            | Instr::BrI64Ne { target, .. }
            | Instr::BrI64LtS { target, .. }
            | Instr::BrI64LtU { target, .. }
            | Instr::BrI64GtS { target, .. }
            | Instr::BrI64GtU { target, .. }
            | Instr::BrI64LeS { target, .. }
            | Instr::BrI64LeU { target, .. }
            | Instr::BrI64GeS { target, .. }
            | Instr::BrI64GeU { target, .. }
            | Instr::I32AddImmBrLtU { target, .. }
            | Instr::I32AddImmBrLtS { target, .. }
            | Instr::I32AddImmBrNe { target, .. } => *target = to,
            _ => {}
        }
    }
}

/// Calls `$mac!` with the binary `v128` operators (`rhs` of `I8x16ShrU` is its scalar
/// count) that `Code::new` lowers out of `Simd` into instructions of the same name.
macro_rules! lowered_binary {
    ($mac:ident) => {
        $mac!(
            V128And, V128Or, V128Xor, I8x16Add, I8x16Sub, I8x16Eq, I32x4Add, F32x4Add, F32x4Mul,
            I8x16ShrU
        )
    };
}

impl Instr {
    /// The dedicated instruction for `Simd { op, dst, a, b }`, if `op` has one (the
    /// inverse of `raise_simd`).
    pub(crate) fn lower_simd(op: SimdOp, dst: Slot, a: Slot, b: Slot) -> Option<Instr> {
        macro_rules! lower {
            ($($n:ident),*) => {
                match op {
                    $(SimdOp::$n => Instr::$n { dst, lhs: a, rhs: b },)*
                    SimdOp::V128Load => Instr::V128Load { dst, addr: a, offset: b },
                    SimdOp::V128Store => Instr::V128Store { addr: a, value: dst, offset: b },
                    SimdOp::Copy if b == 0 => Instr::V128Copy { dst, src: a },
                    _ => return None,
                }
            };
        }
        Some(lowered_binary!(lower))
    }

    /// The `Simd { op, dst, a, b }` a lowered instruction stands for (`Code::new` verifies
    /// it as that).
    pub(crate) fn raise_simd(&self) -> Option<(SimdOp, [Slot; 3])> {
        macro_rules! raise {
            ($($n:ident),*) => {
                match *self {
                    $(Instr::$n { dst, lhs, rhs } => (SimdOp::$n, [dst, lhs, rhs]),)*
                    Instr::V128Load { dst, addr, offset } => (SimdOp::V128Load, [dst, addr, offset]),
                    Instr::V128Store { addr, value, offset } => {
                        (SimdOp::V128Store, [value, addr, offset])
                    }
                    Instr::V128Copy { dst, src } => (SimdOp::Copy, [dst, src, 0]),
                    _ => return None,
                }
            };
        }
        Some(lowered_binary!(raise))
    }
}

/// One translated function.
#[derive(Debug)]
pub(crate) struct FuncCode {
    /// The instructions, verified against the frame size (`Code::frame_size`).
    pub instrs: Code,
    /// Values of the constant slots, copied into every new frame.
    pub consts: Vec<u64>,
    /// `v128.const` values and `i8x16.shuffle` lane indices.
    pub v128_consts: Vec<u128>,
    pub num_params: u32,
    /// Params plus declared locals.
    pub num_locals: u32,
    /// The first four constants, zero-padded (small frames copy these four at once).
    pub head_consts: [u64; 4],
}

#[cfg(test)]
mod tests {
    #[test]
    fn instr_is_16_bytes() {
        assert_eq!(std::mem::size_of::<super::Instr>(), 16);
    }

    #[test]
    fn simd_lowering_round_trips() {
        use super::{Instr, SimdOp as O};
        for op in [
            O::V128Load,
            O::V128Store,
            O::Copy,
            O::V128And,
            O::V128Or,
            O::V128Xor,
            O::I8x16Add,
            O::I8x16Sub,
            O::I8x16Eq,
            O::I32x4Add,
            O::F32x4Add,
            O::F32x4Mul,
            O::I8x16ShrU,
        ] {
            let b = if op == O::Copy { 0 } else { 3 };
            let lowered = Instr::lower_simd(op, 1, 2, b).unwrap();
            assert_eq!(lowered.raise_simd(), Some((op, [1, 2, b])), "{op:?}");
        }
        assert_eq!(Instr::lower_simd(O::I8x16Swizzle, 1, 2, 3), None);
    }
}
