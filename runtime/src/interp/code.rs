//! Verified instruction sequences: the facts the executor's unchecked slot accesses and
//! instruction fetches (`exec/frame.rs`) rely on, checked once when a function has been
//! translated. A [`Code`] can only be made by [`Code::new`], which runs the checks.
//!
//! The invariants, for instructions `instrs` and a frame of `frame_size` slots:
//!
//! 1. every slot an instruction reads or writes is `< frame_size`; for a `Simd`
//!    operand that is a `v128` (`simd::operands`), so is the slot after it;
//! 2. every branch target is `< instrs.len()`;
//! 3. the last instruction never falls through (`Br`, `Return`, `ReturnSlot`,
//!    `Unreachable`), so `pc + 1` after any other instruction is in range;
//! 4. an instruction that reads an `Extra` operand word (`Simd` ones included) is
//!    followed by one, a
//!    `BrTable { len }` by its `len + 1` entries, and a fused loop counter
//!    (`I32AddImmBr*`, which skips the next instruction) by two more instructions.
//!
//! Once verified, each branch target `t` of the instruction at `pc` is stored as
//! `t - (pc + 1)` (wrapping): the executor jumps relative to its instruction pointer,
//! which then points just past the branch, and needs no base pointer in the hot loop.

use std::ops::Deref;

use super::bytecode::{Instr, Slot, for_each_numeric};
use super::simd::{self, Use};

/// A function's instructions, verified against its frame size.
#[derive(Debug)]
pub(crate) struct Code {
    instrs: Box<[Instr]>,
    frame_size: u32,
}

impl Deref for Code {
    type Target = [Instr];

    fn deref(&self) -> &[Instr] {
        &self.instrs
    }
}

impl Code {
    /// Checks the invariants above; the error names the first violation.
    pub(crate) fn new(instrs: Vec<Instr>, frame_size: u32) -> Result<Code, String> {
        let len = instrs.len();
        if frame_size == 0 {
            return Err("empty frame".into());
        }
        match instrs.last() {
            Some(
                Instr::Br { .. } | Instr::Return | Instr::ReturnSlot { .. } | Instr::Unreachable,
            ) => {}
            other => return Err(format!("code ends with {other:?}")),
        }
        for (pc, instr) in instrs.iter().enumerate() {
            let facts = facts(instr);
            let extra = instrs.get(pc + 1).and_then(|next| match next {
                Instr::Extra { a, .. } => Some(*a),
                _ => None,
            });
            let bad_slot = facts.slots.iter().find(|&&s| s >= frame_size);
            let bad_target = facts.target.filter(|&t| t as usize >= len);
            let missing_extra = facts.extra != ExtraUse::None && extra.is_none();
            let bad_extra_slot = match facts.extra {
                ExtraUse::Slot => extra >= Some(frame_size),
                ExtraUse::WideSlot => extra.map(|a| a.saturating_add(1)) >= Some(frame_size),
                ExtraUse::None | ExtraUse::Imm => false,
            };
            let bad_table = facts.entries.is_some_and(|n| pc + 1 + n as usize >= len);
            if bad_slot.is_some()
                || bad_target.is_some()
                || missing_extra
                || bad_extra_slot
                || bad_table
            {
                return Err(format!("instruction {pc} ({instr:?}) out of range"));
            }
        }
        let mut instrs = instrs;
        for (pc, instr) in instrs.iter_mut().enumerate() {
            if let Some(t) = facts(instr).target {
                instr.set_target(t.wrapping_sub(pc as u32 + 1));
            }
            // Same operands, same facts (`raise_simd` is the inverse), so still verified.
            if let Instr::Simd { op, dst, a, b } = *instr
                && let Some(lowered) = Instr::lower_simd(op, dst, a, b)
            {
                *instr = lowered;
            }
        }
        Ok(Code {
            instrs: instrs.into_boxed_slice(),
            frame_size,
        })
    }

    /// Slots every frame running this code must have.
    pub(crate) fn frame_size(&self) -> usize {
        self.frame_size as usize
    }
}

/// How an instruction uses the word after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExtraUse {
    None,
    /// Reads an `Extra` whose `a` is a slot.
    Slot,
    /// Reads an `Extra` whose `a` is a `v128` slot (it and the next one).
    WideSlot,
    /// Reads an `Extra` of other immediates.
    Imm,
}

/// What the checks need to know of one instruction.
struct Facts {
    /// The slots it accesses (unused entries are slot 0).
    slots: [Slot; 6],
    target: Option<u32>,
    extra: ExtraUse,
    /// How far past the next instruction it may step (`BrTable`: `len`, to its last
    /// entry; a fused counter: 1, over the next instruction).
    entries: Option<u32>,
}

impl Facts {
    fn slots(slots: &[Slot]) -> Facts {
        let mut all = [0; 6];
        all[..slots.len()].copy_from_slice(slots);
        Facts {
            slots: all,
            target: None,
            extra: ExtraUse::None,
            entries: None,
        }
    }

    fn branch(slots: &[Slot], target: u32) -> Facts {
        Facts {
            target: Some(target),
            ..Facts::slots(slots)
        }
    }

    fn extra(mut self, extra: ExtraUse) -> Facts {
        self.extra = extra;
        self
    }
}

macro_rules! define_facts {
    (
        unary: [$($un:ident),*],
        unary_trap: [$($unt:ident),*],
        binary: [$($bin:ident),*],
        binary_trap: [$($bint:ident),*],
    ) => {
        /// Every instruction is listed (no catch-all), so a new one cannot skip
        /// verification.
        fn facts(instr: &Instr) -> Facts {
            use Instr as I;
            match *instr {
                $(I::$un { dst, src })|* => Facts::slots(&[dst, src]),
                $(I::$unt { dst, src })|* => Facts::slots(&[dst, src]),
                $(I::$bin { dst, lhs, rhs })|* => Facts::slots(&[dst, lhs, rhs]),
                $(I::$bint { dst, lhs, rhs })|* => Facts::slots(&[dst, lhs, rhs]),
                I::Unreachable | I::Extra { .. } | I::Return => Facts::slots(&[]),
                I::Br { target } => Facts::branch(&[], target),
                I::BrIfNez { cond, target } | I::BrIfEqz { cond, target } => {
                    Facts::branch(&[cond], target)
                }
                I::BrTable { index, len } => Facts {
                    entries: Some(len),
                    ..Facts::slots(&[index])
                },
                I::BrI32Eq { lhs, rhs, target }
                | I::BrI32Ne { lhs, rhs, target }
                | I::BrI32LtS { lhs, rhs, target }
                | I::BrI32LtU { lhs, rhs, target }
                | I::BrI32GeS { lhs, rhs, target }
                | I::BrI32GeU { lhs, rhs, target }
                | I::BrI32GtS { lhs, rhs, target }
                | I::BrI32GtU { lhs, rhs, target }
                | I::BrI32LeS { lhs, rhs, target }
                | I::BrI32LeU { lhs, rhs, target }
                | I::BrI64Eq { lhs, rhs, target }
                | I::BrI64Ne { lhs, rhs, target }
                | I::BrI64LtS { lhs, rhs, target }
                | I::BrI64LtU { lhs, rhs, target }
                | I::BrI64GtS { lhs, rhs, target }
                | I::BrI64GtU { lhs, rhs, target }
                | I::BrI64LeS { lhs, rhs, target }
                | I::BrI64LeU { lhs, rhs, target }
                | I::BrI64GeS { lhs, rhs, target }
                | I::BrI64GeU { lhs, rhs, target } => Facts::branch(&[lhs, rhs], target),
                I::I32AddImmBrLtU { dst, rhs, target, .. }
                | I::I32AddImmBrLtS { dst, rhs, target, .. }
                | I::I32AddImmBrNe { dst, rhs, target, .. } => Facts {
                    entries: Some(1),
                    ..Facts::branch(&[dst, rhs], target)
                },
                I::ReturnSlot { src } => Facts::slots(&[0, src]),
                I::Copy { dst, src } => Facts::slots(&[dst, src]),
                I::Const { dst, .. } => Facts::slots(&[dst]),
                // The callee's frame is set up (and sized) by the call itself.
                I::Call { .. } | I::CallImport { .. } => Facts::slots(&[]),
                I::CallIndirect { index, .. } => Facts::slots(&[index]).extra(ExtraUse::Imm),
                I::Select { dst, lhs, rhs } => Facts::slots(&[dst, lhs, rhs]).extra(ExtraUse::Slot),
                I::GlobalGet { dst, .. } => Facts::slots(&[dst]),
                I::GlobalSet { src, .. } => Facts::slots(&[src]),
                I::I32Load { dst, addr, .. }
                | I::I64Load { dst, addr, .. }
                | I::F32Load { dst, addr, .. }
                | I::F64Load { dst, addr, .. }
                | I::I32Load8S { dst, addr, .. }
                | I::I32Load8U { dst, addr, .. }
                | I::I32Load16S { dst, addr, .. }
                | I::I32Load16U { dst, addr, .. }
                | I::I64Load8S { dst, addr, .. }
                | I::I64Load8U { dst, addr, .. }
                | I::I64Load16S { dst, addr, .. }
                | I::I64Load16U { dst, addr, .. }
                | I::I64Load32S { dst, addr, .. }
                | I::I64Load32U { dst, addr, .. } => Facts::slots(&[dst, addr]),
                I::I32LoadShl { dst, idx, .. }
                | I::I64LoadShl { dst, idx, .. }
                | I::F32LoadShl { dst, idx, .. }
                | I::F64LoadShl { dst, idx, .. } => Facts::slots(&[dst, idx]),
                I::I32Store { addr, value, .. }
                | I::I64Store { addr, value, .. }
                | I::F32Store { addr, value, .. }
                | I::F64Store { addr, value, .. }
                | I::I32Store8 { addr, value, .. }
                | I::I32Store16 { addr, value, .. }
                | I::I64Store8 { addr, value, .. }
                | I::I64Store16 { addr, value, .. }
                | I::I64Store32 { addr, value, .. } => Facts::slots(&[addr, value]),
                I::MemorySize { dst } => Facts::slots(&[dst]),
                I::MemoryGrow { dst, delta } => Facts::slots(&[dst, delta]),
                I::MemoryFill { dst, value, len } => Facts::slots(&[dst, value, len]),
                I::MemoryCopy { dst, src, len } => Facts::slots(&[dst, src, len]),
                I::MemoryInit { dst, src, len } => Facts::slots(&[dst, src, len]).extra(ExtraUse::Imm),
                I::DataDrop { .. } | I::ElemDrop { .. } => Facts::slots(&[]),
                I::TableGet { dst, index, .. } => Facts::slots(&[dst, index]),
                I::TableSet { index, value, .. } => Facts::slots(&[index, value]),
                I::TableSize { dst, .. } | I::RefFunc { dst, .. } => Facts::slots(&[dst]),
                I::TableGrow { dst, init, delta } => {
                    Facts::slots(&[dst, init, delta]).extra(ExtraUse::Imm)
                }
                I::TableFill { dst, value, len }
                | I::TableCopy { dst, src: value, len }
                | I::TableInit { dst, src: value, len } => {
                    Facts::slots(&[dst, value, len]).extra(ExtraUse::Imm)
                }
                I::Simd { op, dst, a, b } => simd_facts(op, [dst, a, b]),
                I::V128Load { .. }
                | I::V128Store { .. }
                | I::V128Copy { .. }
                | I::V128And { .. }
                | I::V128Or { .. }
                | I::V128Xor { .. }
                | I::I8x16Add { .. }
                | I::I8x16Sub { .. }
                | I::I8x16Eq { .. }
                | I::I32x4Add { .. }
                | I::F32x4Add { .. }
                | I::F32x4Mul { .. }
                | I::I8x16ShrU { .. } => match instr.raise_simd() {
                    Some((op, fields)) => simd_facts(op, fields),
                    // Not reached (`raise_simd` covers these); an out-of-range slot fails.
                    None => Facts::slots(&[Slot::MAX]),
                },
            }
        }
    };
}
for_each_numeric!(define_facts);

/// The slots of a `Simd` instruction (both of every `v128` operand's) and its `Extra`.
fn simd_facts(op: simd::SimdOp, fields: [Slot; 3]) -> Facts {
    let (dst, a, b, extra) = simd::operands(op);
    let mut slots = [0; 6];
    for (i, (u, s)) in [dst, a, b].into_iter().zip(fields).enumerate() {
        match u {
            Use::Imm => {}
            Use::Scalar => slots[2 * i] = s,
            Use::Wide => {
                slots[2 * i] = s;
                // `u32::MAX` is never below a frame size.
                slots[2 * i + 1] = s.saturating_add(1);
            }
        }
    }
    let extra = match extra {
        None => ExtraUse::None,
        Some(Use::Imm) => ExtraUse::Imm,
        Some(Use::Scalar) => ExtraUse::Slot,
        Some(Use::Wide) => ExtraUse::WideSlot,
    };
    Facts::slots(&slots).extra(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range_code() {
        let ret = Instr::Return;
        let ok = |v: Vec<Instr>| Code::new(v, 4).is_ok();
        assert!(ok(vec![Instr::Copy { dst: 3, src: 0 }, ret]));
        assert!(!ok(vec![Instr::Copy { dst: 4, src: 0 }, ret]));
        assert!(!ok(vec![Instr::Copy { dst: 0, src: 0 }]));
        assert!(!ok(vec![]));
        assert!(!ok(vec![Instr::Br { target: 1 }]));
        assert!(ok(vec![Instr::Br { target: 0 }]));
        let sel = Instr::Select {
            dst: 0,
            lhs: 1,
            rhs: 2,
        };
        assert!(!ok(vec![sel, ret]));
        let extra = |a| Instr::Extra { a, b: 0, c: 0 };
        assert!(ok(vec![sel, extra(3), ret]));
        assert!(!ok(vec![sel, extra(4), ret]));
        let table = Instr::BrTable { index: 0, len: 1 };
        assert!(!ok(vec![table, Instr::Br { target: 0 }]));
        assert!(ok(vec![table, Instr::Br { target: 0 }, ret]));
        assert!(!ok(vec![
            Instr::I32Add {
                dst: 0,
                lhs: 9,
                rhs: 1
            },
            ret
        ]));
        let fused = Instr::I32AddImmBrNe {
            step: 1,
            dst: 0,
            rhs: 1,
            target: 0,
        };
        assert!(!ok(vec![fused, ret]));
        assert!(ok(vec![fused, ret, ret]));
        // Targets become relative to the instruction after the branch.
        let code = Code::new(
            vec![Instr::Copy { dst: 0, src: 0 }, Instr::Br { target: 0 }],
            1,
        );
        assert_eq!(
            code.unwrap()[1],
            Instr::Br {
                target: -2i32 as u32
            }
        );
    }
}
