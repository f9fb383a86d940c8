//! Clean-ups after translation that save dispatches at run time.

use crate::interp::bytecode::{Instr, Slot};

/// Jump threading: a `Br` to another `Br` goes straight to the final target, and a `Br`
/// to a return becomes that return (e.g. the `then` arm of an `if` at a function's end).
/// Only instructions are copied, so behaviour is unchanged; `br_table` entries may
/// become returns too, which the table dispatch executes like any instruction. Then a
/// copy right before a return of what it copied returns its source.
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
    // A copy into the slot that the return right after it returns (the `then` arm
    // of `if (result) ... (then (local.get $n))` at a function's end) returns the
    // copy's source itself: only the returned value outlives the frame. The return
    // stays in place for whatever else jumps to it.
    for i in 1..instrs.len() {
        if let (Instr::Copy { dst, src }, Instr::ReturnSlot { src: returned }) =
            (instrs[i - 1], instrs[i])
            && returned == dst
        {
            instrs[i - 1] = Instr::ReturnSlot { src };
        }
    }
}

/// Loop-counter fusion: `x = x + c` (or `x - c`, `c + x`; `c` a small constant) right
/// before a branch on `x < y` or `x != y` becomes one instruction doing both. The branch
/// stays where it was and the fused instruction steps over it when not taken, so nothing
/// moves and a jump straight to the branch still works. `const_of` gives the value of a
/// constant slot.
pub(super) fn fuse_counters(instrs: &mut [Instr], const_of: impl Fn(Slot) -> Option<u64>) {
    let step = |s: Slot, neg: bool| {
        let c = const_of(s)? as u32 as i32 as i64;
        i16::try_from(if neg { -c } else { c }).ok()
    };
    for k in 1..instrs.len() {
        let (dst, step) = match instrs[k - 1] {
            Instr::I32Add { dst, lhs, rhs } if lhs == dst => (dst, step(rhs, false)),
            Instr::I32Add { dst, lhs, rhs } if rhs == dst => (dst, step(lhs, false)),
            Instr::I32Sub { dst, lhs, rhs } if lhs == dst => (dst, step(rhs, true)),
            _ => continue,
        };
        let Some(step) = step else { continue };
        instrs[k - 1] = match instrs[k] {
            Instr::BrI32LtU { lhs, rhs, target } if lhs == dst => Instr::I32AddImmBrLtU {
                step,
                dst,
                rhs,
                target,
            },
            Instr::BrI32LtS { lhs, rhs, target } if lhs == dst => Instr::I32AddImmBrLtS {
                step,
                dst,
                rhs,
                target,
            },
            Instr::BrI32Ne { lhs, rhs, target } if lhs == dst => Instr::I32AddImmBrNe {
                step,
                dst,
                rhs,
                target,
            },
            _ => continue,
        };
    }
}

/// Pair fusion: an instruction followed by one of the instructions it is most often
/// followed by at run time (counted over the benchmark workloads, RATIONALE.md
/// "Interpreter: fused pairs") becomes the `*Then*` form that runs the follower in the
/// same dispatch (an `I32Add` and six followers, two other pairs; the enum has room for no more
/// than 256 variants, or its tag, and every instruction, grows). The follower stays in place (a jump to it still runs
/// it alone), and the fused form checks it is there before running it, so a pair need
/// not be kept intact by later changes. Pairs do not overlap: the second of a fused pair
/// is left as it is, so that the fused form finds the follower it expects.
pub(super) fn fuse_pairs(instrs: &mut [Instr]) {
    let mut k = 1;
    while k < instrs.len() {
        use Instr::*;
        // An instruction behind an `OtherMemory` prefix is run by the outer loop, which
        // knows only the unfused memory instructions.
        let prefixed = k >= 2 && matches!(instrs[k - 2], OtherMemory { .. });
        let fused = match (instrs[k - 1], instrs[k]) {
            _ if prefixed => None,
            (I32Add { dst, lhs, rhs }, next) => match next {
                I32Add { .. } => Some(I32AddThenI32Add { dst, lhs, rhs }),
                Copy { .. } => Some(I32AddThenCopy { dst, lhs, rhs }),
                Br { .. } => Some(I32AddThenBr { dst, lhs, rhs }),
                I32Load { .. } => Some(I32AddThenI32Load { dst, lhs, rhs }),
                I32Load8U { .. } => Some(I32AddThenI32Load8U { dst, lhs, rhs }),
                F64Load { .. } => Some(I32AddThenF64Load { dst, lhs, rhs }),
                _ => None,
            },
            (Copy { dst, src }, Copy { .. }) => Some(CopyThenCopy { dst, src }),
            (I32Rotl { dst, lhs, rhs }, I32Xor { .. }) => Some(I32RotlThenI32Xor { dst, lhs, rhs }),
            _ => None,
        };
        if let Some(fused) = fused {
            instrs[k - 1] = fused;
            k += 1;
        }
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_fuse_without_overlap_and_never_behind_a_prefix() {
        let add = Instr::I32Add {
            dst: 3,
            lhs: 1,
            rhs: 2,
        };
        let load = Instr::I32Load {
            dst: 4,
            addr: 3,
            offset: 8,
        };
        let prefix = Instr::OtherMemory {
            memory: 1,
            source: 1,
            offset_high: 0,
        };
        let mut instrs = vec![add, add, add, add, load, prefix, add, load, Instr::Return];
        fuse_pairs(&mut instrs);
        let fused_add = Instr::I32AddThenI32Add {
            dst: 3,
            lhs: 1,
            rhs: 2,
        };
        assert_eq!(instrs[0], fused_add);
        // The follower of a fused pair is not fused with what follows it.
        assert_eq!(instrs[1], add);
        assert_eq!(instrs[2], fused_add);
        assert_eq!(instrs[3], add);
        // Behind a prefix (the outer loop runs that instruction): left alone.
        assert_eq!(instrs[6], add);
        let mut instrs = vec![add, load, Instr::Return];
        fuse_pairs(&mut instrs);
        assert_eq!(
            instrs[0],
            Instr::I32AddThenI32Load {
                dst: 3,
                lhs: 1,
                rhs: 2
            }
        );
    }

    #[test]
    fn a_copy_before_the_return_of_its_target_returns_its_source() {
        let mut instrs = vec![
            Instr::Copy { dst: 5, src: 0 },
            Instr::ReturnSlot { src: 5 },
            Instr::Copy { dst: 6, src: 0 },
            Instr::ReturnSlot { src: 5 },
        ];
        thread_jumps(&mut instrs);
        assert_eq!(instrs[0], Instr::ReturnSlot { src: 0 });
        assert_eq!(instrs[1], Instr::ReturnSlot { src: 5 });
        // A copy elsewhere stays.
        assert_eq!(instrs[2], Instr::Copy { dst: 6, src: 0 });
    }
}
