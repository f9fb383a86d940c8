//! Metering without a dispatch of its own (issue 16; RATIONALE.md, "Fuel", "Interruption").
//!
//! Metering is translated into instructions of its own, `CheckInterrupt` (function
//! entries, loop headers) and `ConsumeFuel` (the charge points of `module/fuel.rs`), and
//! they stay where they are: they may be branch targets, and exactness rests on each
//! charge point being charged exactly when control passes it. What costs is dispatching
//! them, one instruction each. So the translator (`translate/metering.rs`) gives the
//! instructions that lead to them a *metered* form, which does their work itself (a
//! [`Meter`]: check the interrupt flag, charge an amount) and then goes on past them:
//! the same effects in the same order, only without the dispatches. The metering
//! instructions stay in place for every other way in. The forms
//! (`bytecode::for_each_instr`): `BrFuel`/`BrCheck` (`br`), `BrCmpFuel`/`BrCmpFuelElse`/
//! `BrCmpCheck` (conditional branches), `I32AddImmBr{LtU,LtS,Ne}{Fuel,Check}` (fused loop
//! counters). One form per kind of work rather than flags, so that a form tests nothing
//! it need not: a `*Check` form does only the interrupt check (with fuel on too, the
//! `ConsumeFuel` after it is dispatched).

use super::bytecode::{Instr, Slot};

/// The condition of a metered conditional branch (`BrCmp*`, `I32AddImmBr*`): the condition of the branch it stands for, one byte so that
/// the instruction keeps its 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum BranchCmp {
    /// `lhs` (an i32) is not zero (`BrIfNez`; `rhs` unused).
    Nez,
    /// `lhs` (an i32) is zero (`BrIfEqz`; `rhs` unused).
    Eqz,
    I32Eq,
    I32Ne,
    I32LtS,
    I32LtU,
    I32GtS,
    I32GtU,
    I32LeS,
    I32LeU,
    I32GeS,
    I32GeU,
    I64Eq,
    I64Ne,
    I64LtS,
    I64LtU,
    I64GtS,
    I64GtU,
    I64LeS,
    I64LeU,
    I64GeS,
    I64GeU,
}

impl BranchCmp {
    /// Whether the branch is taken for operand values `lhs` and `rhs`.
    #[inline(always)]
    pub(crate) fn holds(self, lhs: u64, rhs: u64) -> bool {
        let (a, b) = (lhs as u32, rhs as u32);
        match self {
            BranchCmp::Nez => a != 0,
            BranchCmp::Eqz => a == 0,
            BranchCmp::I32Eq => a == b,
            BranchCmp::I32Ne => a != b,
            BranchCmp::I32LtS => (a as i32) < (b as i32),
            BranchCmp::I32LtU => a < b,
            BranchCmp::I32GtS => (a as i32) > (b as i32),
            BranchCmp::I32GtU => a > b,
            BranchCmp::I32LeS => (a as i32) <= (b as i32),
            BranchCmp::I32LeU => a <= b,
            BranchCmp::I32GeS => (a as i32) >= (b as i32),
            BranchCmp::I32GeU => a >= b,
            BranchCmp::I64Eq => lhs == rhs,
            BranchCmp::I64Ne => lhs != rhs,
            BranchCmp::I64LtS => (lhs as i64) < (rhs as i64),
            BranchCmp::I64LtU => lhs < rhs,
            BranchCmp::I64GtS => (lhs as i64) > (rhs as i64),
            BranchCmp::I64GtU => lhs > rhs,
            BranchCmp::I64LeS => (lhs as i64) <= (rhs as i64),
            BranchCmp::I64LeU => lhs <= rhs,
            BranchCmp::I64GeS => (lhs as i64) >= (rhs as i64),
            BranchCmp::I64GeU => lhs >= rhs,
        }
    }

    /// The comparison's operator name, as the unfused branch reports it to operator
    /// coverage (`BrIfNez`/`BrIfEqz` report none).
    #[cfg(feature = "op-coverage")]
    pub(crate) fn name(self) -> Option<&'static str> {
        Some(match self {
            BranchCmp::Nez | BranchCmp::Eqz => return None,
            BranchCmp::I32Eq => "I32Eq",
            BranchCmp::I32Ne => "I32Ne",
            BranchCmp::I32LtS => "I32LtS",
            BranchCmp::I32LtU => "I32LtU",
            BranchCmp::I32GtS => "I32GtS",
            BranchCmp::I32GtU => "I32GtU",
            BranchCmp::I32LeS => "I32LeS",
            BranchCmp::I32LeU => "I32LeU",
            BranchCmp::I32GeS => "I32GeS",
            BranchCmp::I32GeU => "I32GeU",
            BranchCmp::I64Eq => "I64Eq",
            BranchCmp::I64Ne => "I64Ne",
            BranchCmp::I64LtS => "I64LtS",
            BranchCmp::I64LtU => "I64LtU",
            BranchCmp::I64GtS => "I64GtS",
            BranchCmp::I64GtU => "I64GtU",
            BranchCmp::I64LeS => "I64LeS",
            BranchCmp::I64LeU => "I64LeU",
            BranchCmp::I64GeS => "I64GeS",
            BranchCmp::I64GeU => "I64GeU",
        })
    }

    /// The condition, operands and target of a conditional branch that has a metered
    /// form; `None` for any other instruction.
    pub(crate) fn of_branch(instr: &Instr) -> Option<(BranchCmp, Slot, Slot, u32)> {
        use BranchCmp as C;
        let (cmp, lhs, rhs, target) = match *instr {
            Instr::BrIfNez { cond, target } => (C::Nez, cond, cond, target),
            Instr::BrIfEqz { cond, target } => (C::Eqz, cond, cond, target),
            Instr::BrI32Eq { lhs, rhs, target } => (C::I32Eq, lhs, rhs, target),
            Instr::BrI32Ne { lhs, rhs, target } => (C::I32Ne, lhs, rhs, target),
            Instr::BrI32LtS { lhs, rhs, target } => (C::I32LtS, lhs, rhs, target),
            Instr::BrI32LtU { lhs, rhs, target } => (C::I32LtU, lhs, rhs, target),
            Instr::BrI32GtS { lhs, rhs, target } => (C::I32GtS, lhs, rhs, target),
            Instr::BrI32GtU { lhs, rhs, target } => (C::I32GtU, lhs, rhs, target),
            Instr::BrI32LeS { lhs, rhs, target } => (C::I32LeS, lhs, rhs, target),
            Instr::BrI32LeU { lhs, rhs, target } => (C::I32LeU, lhs, rhs, target),
            Instr::BrI32GeS { lhs, rhs, target } => (C::I32GeS, lhs, rhs, target),
            Instr::BrI32GeU { lhs, rhs, target } => (C::I32GeU, lhs, rhs, target),
            Instr::BrI64Eq { lhs, rhs, target } => (C::I64Eq, lhs, rhs, target),
            Instr::BrI64Ne { lhs, rhs, target } => (C::I64Ne, lhs, rhs, target),
            Instr::BrI64LtS { lhs, rhs, target } => (C::I64LtS, lhs, rhs, target),
            Instr::BrI64LtU { lhs, rhs, target } => (C::I64LtU, lhs, rhs, target),
            Instr::BrI64GtS { lhs, rhs, target } => (C::I64GtS, lhs, rhs, target),
            Instr::BrI64GtU { lhs, rhs, target } => (C::I64GtU, lhs, rhs, target),
            Instr::BrI64LeS { lhs, rhs, target } => (C::I64LeS, lhs, rhs, target),
            Instr::BrI64LeU { lhs, rhs, target } => (C::I64LeU, lhs, rhs, target),
            Instr::BrI64GeS { lhs, rhs, target } => (C::I64GeS, lhs, rhs, target),
            Instr::BrI64GeU { lhs, rhs, target } => (C::I64GeU, lhs, rhs, target),
            _ => return None,
        };
        Some((cmp, lhs, rhs, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every conditional branch keeps its condition in the metered form: checked on
    /// values around the signed and unsigned boundaries of both widths.
    #[test]
    fn metered_conditions_agree_with_the_branches() {
        let values: [u64; 8] = [
            0,
            1,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            0x1_0000_0000,
            i64::MAX as u64,
            u64::MAX,
        ];
        let unfused = |instr: Instr, a: u64, b: u64| -> bool {
            let (a32, b32) = (a as u32, b as u32);
            match instr {
                Instr::BrIfNez { .. } => a32 != 0,
                Instr::BrIfEqz { .. } => a32 == 0,
                Instr::BrI32Eq { .. } => a32 == b32,
                Instr::BrI32Ne { .. } => a32 != b32,
                Instr::BrI32LtS { .. } => (a32 as i32) < b32 as i32,
                Instr::BrI32LtU { .. } => a32 < b32,
                Instr::BrI32GtS { .. } => a32 as i32 > b32 as i32,
                Instr::BrI32GtU { .. } => a32 > b32,
                Instr::BrI32LeS { .. } => a32 as i32 <= b32 as i32,
                Instr::BrI32LeU { .. } => a32 <= b32,
                Instr::BrI32GeS { .. } => a32 as i32 >= b32 as i32,
                Instr::BrI32GeU { .. } => a32 >= b32,
                Instr::BrI64Eq { .. } => a == b,
                Instr::BrI64Ne { .. } => a != b,
                Instr::BrI64LtS { .. } => (a as i64) < b as i64,
                Instr::BrI64LtU { .. } => a < b,
                Instr::BrI64GtS { .. } => a as i64 > b as i64,
                Instr::BrI64GtU { .. } => a > b,
                Instr::BrI64LeS { .. } => a as i64 <= b as i64,
                Instr::BrI64LeU { .. } => a <= b,
                Instr::BrI64GeS { .. } => a as i64 >= b as i64,
                Instr::BrI64GeU { .. } => a >= b,
                other => panic!("not a branch: {other:?}"),
            }
        };
        let (lhs, rhs, target) = (1, 2, 3);
        let cond = lhs;
        let branches = [
            Instr::BrIfNez { cond, target },
            Instr::BrIfEqz { cond, target },
            Instr::BrI32Eq { lhs, rhs, target },
            Instr::BrI32Ne { lhs, rhs, target },
            Instr::BrI32LtS { lhs, rhs, target },
            Instr::BrI32LtU { lhs, rhs, target },
            Instr::BrI32GtS { lhs, rhs, target },
            Instr::BrI32GtU { lhs, rhs, target },
            Instr::BrI32LeS { lhs, rhs, target },
            Instr::BrI32LeU { lhs, rhs, target },
            Instr::BrI32GeS { lhs, rhs, target },
            Instr::BrI32GeU { lhs, rhs, target },
            Instr::BrI64Eq { lhs, rhs, target },
            Instr::BrI64Ne { lhs, rhs, target },
            Instr::BrI64LtS { lhs, rhs, target },
            Instr::BrI64LtU { lhs, rhs, target },
            Instr::BrI64GtS { lhs, rhs, target },
            Instr::BrI64GtU { lhs, rhs, target },
            Instr::BrI64LeS { lhs, rhs, target },
            Instr::BrI64LeU { lhs, rhs, target },
            Instr::BrI64GeS { lhs, rhs, target },
            Instr::BrI64GeU { lhs, rhs, target },
        ];
        for branch in branches {
            let (cmp, l, _, t) = BranchCmp::of_branch(&branch).unwrap();
            assert_eq!((l, t), (lhs, target), "{branch:?}");
            for a in values {
                for b in values {
                    assert_eq!(cmp.holds(a, b), unfused(branch, a, b), "{branch:?} {a} {b}");
                }
            }
        }
        assert_eq!(BranchCmp::of_branch(&Instr::Br { target }), None);
    }
}
