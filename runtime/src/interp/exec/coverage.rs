//! Operator coverage (feature `op-coverage`): before the inner loop runs a numeric,
//! conversion or SIMD instruction, it hands the operator's name and operand values to a
//! sink the embedder installed for the thread. The differential fuzzer uses it to count
//! which operators ran and which of them met an edge operand (harness/README.md).
//!
//! Off by default, and nothing of it is compiled then: the hook costs a thread-local
//! read per instruction, which the instruction-count check must not see.
//!
//! Names are the interpreter's, after wasmparser's operators (`I32Add`,
//! `I8x16ExtractLaneS`). Fused instructions report the operator they contain: a
//! compare-and-branch its comparison, a fused loop counter its `I32Add` and its
//! comparison, a fused pair (`I32AddThen*` and co) its first operator, then its follower as that runs. `i32.eqz` fused into a branch is not reported (the fused
//! branch is indistinguishable from a plain `br_if`), nor is a third operand kept in
//! an `Extra` (`v128.bitselect`'s mask, the relaxed multiply-adds' addend).

use std::cell::Cell;

use super::frame::Slots;
use crate::interp::bytecode::{Instr, Slot, for_each_instr};
use crate::interp::simd::{self, SimdOp, Use, for_each_simd};

/// Receives one executed operator: its name and its operand values (scalars in the low
/// bits, a `v128` whole).
pub type Sink = fn(operator: &'static str, operands: &[u128]);

thread_local! {
    static SINK: Cell<Option<Sink>> = const { Cell::new(None) };
}

/// Installs (or, with `None`, removes) this thread's sink; returns the previous one.
pub fn set_sink(sink: Option<Sink>) -> Option<Sink> {
    SINK.with(|s| s.replace(sink))
}

/// The `match` of [`observe`]: the arms given, one per numeric instruction of the
/// table, and one per lowered SIMD instruction (reported as the `SimdOp` it stands for).
macro_rules! report_numeric {
    (
        $instr:ident, $sink:ident, $read:ident, $regs:ident, { $($arms:tt)* }
        others: { $($others:tt)* },
        lowered: {
            $($(#[$doc:meta])* $lname:ident { $($lfield:ident: $lkind:ident),* }
                = $op:ident [$dst:tt, $a:tt, $b:tt];)*
        },
        unary: [$($unary:ident),*],
        unary_trap: [$($unary_trap:ident),*],
        binary: [$($binary:ident),*],
        binary_trap: [$($binary_trap:ident),*],
    ) => {
        match *$instr {
            $($arms)*
            $(Instr::$unary { src, .. } => $sink(stringify!($unary), &[$read(src)]),)*
            $(Instr::$unary_trap { src, .. } => $sink(stringify!($unary_trap), &[$read(src)]),)*
            $(Instr::$binary { lhs, rhs, .. } => {
                $sink(stringify!($binary), &[$read(lhs), $read(rhs)])
            })*
            $(Instr::$binary_trap { lhs, rhs, .. } => {
                $sink(stringify!($binary_trap), &[$read(lhs), $read(rhs)])
            })*
            $(#[allow(unused_variables)]
            Instr::$lname { $($lfield),* } => {
                // SAFETY: `Code::new` checked the `Simd` this instruction was lowered
                // from, whose operands these are.
                unsafe { report_simd($sink, SimdOp::$op, $a, $b, $regs) }
            })*
            _ => {}
        }
    };
}

/// Reports `instr` to the thread's sink, if there is one and `instr` is an operator.
///
/// # Safety
///
/// `instr` is the instruction about to run with the slot window `regs`, in verified code
/// (`Code::new`): its slot operands are inside the window.
#[inline(always)]
pub(super) unsafe fn observe(instr: &Instr, regs: &Slots<'_>) {
    let Some(sink) = SINK.with(Cell::get) else {
        return;
    };
    // SAFETY: `instr` runs with `regs` (this function's contract).
    let read = |s: Slot| unsafe { regs.get(s) } as u128;
    for_each_instr!(report_numeric(instr, sink, read, regs, {
        Instr::Simd { op, a, b, .. } => {
            // SAFETY: `Code::new` checked `a` and `b` as `op` uses them.
            unsafe { report_simd(sink, op, a, b, regs) }
        }
        Instr::BrI32Eq { lhs, rhs, .. } => sink("I32Eq", &[read(lhs), read(rhs)]),
        Instr::BrI32Ne { lhs, rhs, .. } => sink("I32Ne", &[read(lhs), read(rhs)]),
        Instr::BrI32LtS { lhs, rhs, .. } => sink("I32LtS", &[read(lhs), read(rhs)]),
        Instr::BrI32LtU { lhs, rhs, .. } => sink("I32LtU", &[read(lhs), read(rhs)]),
        Instr::BrI32GtS { lhs, rhs, .. } => sink("I32GtS", &[read(lhs), read(rhs)]),
        Instr::BrI32GtU { lhs, rhs, .. } => sink("I32GtU", &[read(lhs), read(rhs)]),
        Instr::BrI32LeS { lhs, rhs, .. } => sink("I32LeS", &[read(lhs), read(rhs)]),
        Instr::BrI32LeU { lhs, rhs, .. } => sink("I32LeU", &[read(lhs), read(rhs)]),
        Instr::BrI32GeS { lhs, rhs, .. } => sink("I32GeS", &[read(lhs), read(rhs)]),
        Instr::BrI32GeU { lhs, rhs, .. } => sink("I32GeU", &[read(lhs), read(rhs)]),
        Instr::BrI64Eq { lhs, rhs, .. } => sink("I64Eq", &[read(lhs), read(rhs)]),
        Instr::BrI64Ne { lhs, rhs, .. } => sink("I64Ne", &[read(lhs), read(rhs)]),
        Instr::BrI64LtS { lhs, rhs, .. } => sink("I64LtS", &[read(lhs), read(rhs)]),
        Instr::BrI64LtU { lhs, rhs, .. } => sink("I64LtU", &[read(lhs), read(rhs)]),
        Instr::BrI64GtS { lhs, rhs, .. } => sink("I64GtS", &[read(lhs), read(rhs)]),
        Instr::BrI64GtU { lhs, rhs, .. } => sink("I64GtU", &[read(lhs), read(rhs)]),
        Instr::BrI64LeS { lhs, rhs, .. } => sink("I64LeS", &[read(lhs), read(rhs)]),
        Instr::BrI64LeU { lhs, rhs, .. } => sink("I64LeU", &[read(lhs), read(rhs)]),
        Instr::BrI64GeS { lhs, rhs, .. } => sink("I64GeS", &[read(lhs), read(rhs)]),
        Instr::BrI64GeU { lhs, rhs, .. } => sink("I64GeU", &[read(lhs), read(rhs)]),
        Instr::I32AddImmBrLtU { step, dst, rhs, .. } => counter(sink, "I32LtU", step, read(dst), read(rhs)),
        Instr::I32AddImmBrLtS { step, dst, rhs, .. } => counter(sink, "I32LtS", step, read(dst), read(rhs)),
        Instr::I32AddImmBrNe { step, dst, rhs, .. } => counter(sink, "I32Ne", step, read(dst), read(rhs)),
        Instr::I32AddImmBrLtUFuel { step, dst, rhs, .. }
        | Instr::I32AddImmBrLtUCheck { step, dst, rhs, .. } => counter(sink, "I32LtU", step, read(dst), read(rhs)),
        Instr::I32AddImmBrLtSFuel { step, dst, rhs, .. }
        | Instr::I32AddImmBrLtSCheck { step, dst, rhs, .. } => counter(sink, "I32LtS", step, read(dst), read(rhs)),
        Instr::I32AddImmBrNeFuel { step, dst, rhs, .. }
        | Instr::I32AddImmBrNeCheck { step, dst, rhs, .. } => counter(sink, "I32Ne", step, read(dst), read(rhs)),
        // A fused pair's `I32Add`; its follower is observed when it runs (`then_if!`).
        Instr::I32AddThenI32Add { lhs, rhs, .. }
        | Instr::I32AddThenCopy { lhs, rhs, .. }
        | Instr::I32AddThenBr { lhs, rhs, .. }
        | Instr::I32AddThenI32Load { lhs, rhs, .. }
        | Instr::I32AddThenI32Load8U { lhs, rhs, .. }
        | Instr::I32AddThenF64Load { lhs, rhs, .. } => sink("I32Add", &[read(lhs), read(rhs)]),
        Instr::I32RotlThenI32Xor { lhs, rhs, .. } => sink("I32Rotl", &[read(lhs), read(rhs)]),
    }));
}

/// Reports a fused loop counter: `i32.add` of the counter and its step, then the
/// comparison `cmp` of the sum with `rhs`.
fn counter(sink: Sink, cmp: &'static str, step: i16, counter: u128, rhs: u128) {
    let step = step as i32 as u32;
    sink("I32Add", &[counter, u128::from(step)]);
    sink(cmp, &[u128::from((counter as u32).wrapping_add(step)), rhs]);
}

/// Reports a SIMD operator with its slot operands `a`, `b` (read as `op` uses them).
///
/// # Safety
///
/// `a` and `b` are the operands of a verified `Simd { op, .. }` (or of the instruction
/// lowered from it) running with `regs`.
unsafe fn report_simd(sink: Sink, op: SimdOp, a: Slot, b: Slot, regs: &Slots<'_>) {
    let Some(name) = simd_name(op) else {
        return;
    };
    let (_, use_a, use_b, _) = simd::operands(op);
    let mut operands = [0u128; 2];
    let mut n = 0;
    for (slot, how) in [(a, use_a), (b, use_b)] {
        // SAFETY: `Code::new` checked the slot as `op` uses it (this function's
        // contract): one slot for a scalar, two for a `v128`.
        let value = unsafe {
            match how {
                Use::Imm => continue,
                Use::Scalar => regs.get(slot) as u128,
                Use::Wide => regs.get_wide(slot),
            }
        };
        operands[n] = value;
        n += 1;
    }
    sink(name, &operands[..n]);
}

/// The name of a SIMD operator, `None` for the interpreter's own (copies, constants,
/// globals, `select`) and for memory access.
fn simd_name(op: SimdOp) -> Option<&'static str> {
    macro_rules! names {
        ($($shape:ident: [$($op:ident),*],)*) => {
            match op {
                SimdOp::V128Store
                | SimdOp::V128Const
                | SimdOp::Copy
                | SimdOp::Select
                | SimdOp::GlobalGet
                | SimdOp::GlobalSet => None,
                SimdOp::I8x16Shuffle => Some("I8x16Shuffle"),
                SimdOp::V128Bitselect => Some("V128Bitselect"),
                SimdOp::F32x4RelaxedMadd => Some("F32x4RelaxedMadd"),
                SimdOp::F32x4RelaxedNmadd => Some("F32x4RelaxedNmadd"),
                SimdOp::F64x2RelaxedMadd => Some("F64x2RelaxedMadd"),
                SimdOp::F64x2RelaxedNmadd => Some("F64x2RelaxedNmadd"),
                SimdOp::I16x8RelaxedDotI8x16I7x16S => Some("I16x8RelaxedDotI8x16I7x16S"),
                SimdOp::I32x4RelaxedDotI8x16I7x16AddS => Some("I32x4RelaxedDotI8x16I7x16AddS"),
                $($(SimdOp::$op => names!(@ $shape $op),)*)*
            }
        };
        (@ Load $op:ident) => { None };
        (@ LoadLane $op:ident) => { None };
        (@ StoreLane $op:ident) => { None };
        (@ $shape:ident $op:ident) => { Some(stringify!($op)) };
    }
    for_each_simd!(names)
}
