//! Verified instruction sequences: the facts the executor's unchecked slot accesses and
//! instruction fetches (`exec/frame.rs`) rely on, checked once when a function has been
//! translated. A [`Code`] can only be made by [`Code::new`], which runs the checks.
//!
//! The invariants, for instructions `instrs` and a frame of `frame_size` slots:
//!
//! 1. every slot an instruction reads or writes is `< frame_size`; for a `v128`
//!    operand (a `wide` field, or a `Simd` operand so used by its operator,
//!    `simd::operands`), so is the slot after it;
//! 2. every branch target is `< instrs.len()`;
//! 3. the last instruction never falls through (an `ends` instruction: `Br`, `Return`,
//!    `ReturnSlot`, `Unreachable`, a tail call), so `pc + 1` after any other instruction is in range;
//! 4. an instruction that reads an `Extra` operand word (`Simd` ones included) is
//!    followed by one, a `BrTable { len }` by its `len + 1` entries, and a fused loop
//!    counter (`I32AddImmBr*`, metered forms included, which skip the next
//!    instruction) by two more instructions.
//!
//! What to check of each instruction comes from the instruction table
//! (`bytecode::for_each_instr`): the kind of each field and the instruction's rules.
//!
//! Once verified, each branch target `t` of the instruction at `pc` is stored as
//! `t - (pc + 1)` (wrapping): the executor jumps relative to its instruction pointer,
//! which then points just past the branch, and needs no base pointer in the hot loop.

use std::ops::Deref;

use super::bytecode::{Instr, OperandVisitor, Slot};
use super::simd::{self, SimdOp, Use};

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
            Some(last) if facts(last).ends => {}
            other => return Err(format!("code ends with {other:?}")),
        }
        let mut instrs = instrs;
        // One pass: each instruction is checked, then its target made relative and a
        // `Simd` lowered; the checks of an instruction read the one after it, which is
        // still as translated then (only an `Extra` is read, which neither step changes).
        for pc in 0..len {
            let facts = facts(&instrs[pc]);
            let extra = instrs.get(pc + 1).and_then(|next| match next {
                Instr::Extra { a, .. } => Some(*a),
                _ => None,
            });
            let bad_slot = facts.slots().iter().find(|&&s| s >= frame_size);
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
                return Err(format!("instruction {pc} ({:?}) out of range", instrs[pc]));
            }
            let instr = &mut instrs[pc];
            if let Some(t) = facts.target {
                instr.set_target(t.wrapping_sub(pc as u32 + 1));
            }
            // The lowered instruction's fields are checked as the `Simd` operands they
            // were (test `lowered_instructions_check_as_their_simd`), so still verified.
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

/// Replaces every slot of `instrs` by `f` of it: each instruction's own slot fields
/// ([`Instr::map_slots`]) and the slot in the `Extra` word after an instruction that reads
/// one as a slot. Run before [`Code::new`], which then checks the result.
pub(crate) fn map_slots(instrs: &mut [Instr], mut f: impl FnMut(Slot) -> Slot) {
    let mut extra_is_slot = false;
    for instr in instrs.iter_mut() {
        if let (true, Instr::Extra { a, .. }) = (extra_is_slot, &mut *instr) {
            *a = f(*a);
            extra_is_slot = false;
            continue;
        }
        extra_is_slot = matches!(facts(instr).extra, ExtraUse::Slot | ExtraUse::WideSlot);
        instr.map_slots(&mut f);
    }
}

/// How an instruction uses the word after it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ExtraUse {
    #[default]
    None,
    /// Reads an `Extra` whose `a` is a slot.
    Slot,
    /// Reads an `Extra` whose `a` is a `v128` slot (it and the next one).
    WideSlot,
    /// Reads an `Extra` of other immediates.
    Imm,
}

/// What the checks need to know of one instruction, gathered from the kinds of its
/// fields and its rules in the instruction table (`Instr::visit_operands`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Facts {
    /// The slots it accesses: the first `num_slots`.
    slots: [Slot; 6],
    num_slots: usize,
    target: Option<u32>,
    extra: ExtraUse,
    /// How far past the next instruction it may step (`BrTable`: `len`, to its last
    /// entry; a fused counter: 1, over the next instruction).
    entries: Option<u32>,
    /// Never falls through.
    ends: bool,
}

impl Facts {
    fn slots(&self) -> &[Slot] {
        &self.slots[..self.num_slots]
    }
}

impl OperandVisitor for Facts {
    fn slot(&mut self, s: Slot) {
        self.slots[self.num_slots] = s;
        self.num_slots += 1;
    }

    /// `s` and `s + 1` (`u32::MAX` is never below a frame size).
    fn wide(&mut self, s: Slot) {
        self.slot(s);
        self.slot(s.saturating_add(1));
    }

    fn target(&mut self, target: u32) {
        self.target = Some(target);
    }

    fn entries(&mut self, len: u32) {
        self.entries = Some(len);
    }

    fn ends(&mut self) {
        self.ends = true;
    }

    fn extra_slot(&mut self) {
        self.extra = ExtraUse::Slot;
    }

    fn extra_imm(&mut self) {
        self.extra = ExtraUse::Imm;
    }

    fn skips_next(&mut self) {
        self.entries(1);
    }

    /// The `Simd`'s only checked fields come here (its `by_op` ones add nothing).
    fn simd_operands(&mut self, op: SimdOp, dst: Slot, a: Slot, b: Slot) {
        *self = simd_facts(op, [dst, a, b]);
    }
}

/// What `Code::new` checks of `instr`.
fn facts(instr: &Instr) -> Facts {
    let mut facts = Facts::default();
    instr.visit_operands(&mut facts);
    facts
}

/// The slots of a `Simd` instruction (both of every `v128` operand's) and its `Extra`.
fn simd_facts(op: SimdOp, fields: [Slot; 3]) -> Facts {
    let (dst, a, b, extra) = simd::operands(op);
    let mut facts = Facts::default();
    for (operand, s) in [dst, a, b].into_iter().zip(fields) {
        match operand {
            Use::Imm => {}
            Use::Scalar => facts.slot(s),
            Use::Wide => facts.wide(s),
        }
    }
    facts.extra = match extra {
        None => ExtraUse::None,
        Some(Use::Imm) => ExtraUse::Imm,
        Some(Use::Scalar) => ExtraUse::Slot,
        Some(Use::Wide) => ExtraUse::WideSlot,
    };
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowered_instructions_check_as_their_simd() {
        for lowered in Instr::lowered_samples() {
            let (op, fields) = lowered.raise_simd().unwrap();
            let (mut ours, mut as_simd) = (facts(&lowered), simd_facts(op, fields));
            ours.slots.sort();
            as_simd.slots.sort();
            assert_eq!(ours, as_simd, "{lowered:?}");
        }
    }

    #[test]
    fn map_slots_maps_slots_and_their_extra_words_only() {
        let mut code = vec![
            Instr::Select {
                dst: 1,
                lhs: 2,
                rhs: 3,
            },
            Instr::Extra { a: 4, b: 5, c: 6 },
            Instr::Call { func: 7, base: 8 },
            Instr::I32Load {
                dst: 9,
                addr: 10,
                offset: 11,
            },
            Instr::MemoryInit {
                dst: 12,
                src: 13,
                len: 14,
            },
            Instr::Extra { a: 15, b: 0, c: 0 },
            Instr::Return,
        ];
        map_slots(&mut code, |s| s + 100);
        assert_eq!(
            code,
            vec![
                Instr::Select {
                    dst: 101,
                    lhs: 102,
                    rhs: 103,
                },
                // The condition slot `select` reads from its `Extra`; b and c unused.
                Instr::Extra { a: 104, b: 5, c: 6 },
                // A call's base is where its arguments are: a slot too.
                Instr::Call { func: 7, base: 108 },
                Instr::I32Load {
                    dst: 109,
                    addr: 110,
                    offset: 11,
                },
                Instr::MemoryInit {
                    dst: 112,
                    src: 113,
                    len: 114,
                },
                // `memory.init`'s `Extra` holds the data segment: an immediate.
                Instr::Extra { a: 15, b: 0, c: 0 },
                Instr::Return,
            ]
        );
    }

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
        // Both slots of a `Gc` instruction are checked, whatever its operator.
        let gc = |dst, src| Instr::Gc {
            op: crate::interp::gc::GcOp::I31GetS,
            dst,
            src,
            type_index: u32::MAX,
        };
        assert!(ok(vec![gc(3, 0), ret]));
        assert!(!ok(vec![gc(4, 0), ret]));
        assert!(!ok(vec![gc(0, 4), ret]));
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
