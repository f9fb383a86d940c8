//! Clean-ups after translation that save dispatches at run time.

use crate::interp::bytecode::Instr;

/// Jump threading: a `Br` to another `Br` goes straight to the final target, and a `Br`
/// to a return becomes that return (e.g. the `then` arm of an `if` at a function's end).
/// Only instructions are copied, so behaviour is unchanged; `br_table` entries may
/// become returns too, which the table dispatch executes like any instruction.
pub(super) fn thread_jumps(instrs: &mut [Instr]) {
    for i in 0..instrs.len() {
        let Instr::Br { target } = instrs[i] else {
            continue;
        };
        let mut to = target as usize;
        // Bounded, so that a `loop br 0 end` cycle cannot hang the translator.
        for _ in 0..8 {
            match instrs.get(to) {
                Some(Instr::Br { target }) => to = *target as usize,
                _ => break,
            }
        }
        instrs[i] = match instrs.get(to) {
            Some(r @ (Instr::Return | Instr::ReturnSlot { .. })) => *r,
            _ => Instr::Br { target: to as u32 },
        };
    }
}
