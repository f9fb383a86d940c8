//! Execution of `Instr::Simd`: one out-of-line function, so SIMD costs the scalar
//! dispatch loop nothing but one match arm. Its slot operands (both halves of each
//! `v128`) and its `Extra` were verified by `Code::new` (`simd::operands`), so they are
//! accessed unchecked, through the frame's `Slots`.

use super::SimdOp as O;
use super::lanes::{get, set, splat};
use super::{Shape, arith, memory, relaxed};
use crate::error::Result;
use crate::interp::bytecode::FuncCode;
use crate::interp::exec::frame::{Slots, set_slot, set_wide, slot, wide};
use crate::interp::exec::memory::MemAccess;
use crate::store::StoreData;

/// `i8x16.shuffle`: lane `i` is byte `mask[i]` of `x ++ y`.
#[inline(always)]
fn shuffle(mask: u128, x: u128, y: u128) -> u128 {
    let (m, x, y) = (mask.to_le_bytes(), x.to_le_bytes(), y.to_le_bytes());
    u128::from_le_bytes(std::array::from_fn(|i| {
        let j = m[i] as usize;
        if j < 16 { x[j] } else { y[j & 15] }
    }))
}

/// Executes one SIMD instruction on the current frame's slots `regs`. `extra` is the
/// `a` and `b` of the `Extra` after it, if `op` reads one. The memory view comes by
/// value: a pointer to the caller's copy would keep the execution loop's state, which
/// holds it, in memory rather than in registers.
///
/// # Safety
///
/// `dst`, `a`, `b` and `extra` are the operands of a `Simd { op, .. }` of `code`, which
/// `Code::new` verified as `op` uses them (`simd::operands`), and `regs` is the window
/// of a frame running `code`.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn exec(
    op: O,
    operands: [u32; 3],
    extra: (u32, u32),
    mut regs: Slots<'_>,
    view: impl MemAccess,
    store: &mut StoreData,
    instance: usize,
    code: &FuncCode,
) -> Result<()> {
    // SAFETY: this function's contract.
    if unsafe { exec_hot(op, operands, extra, regs.reborrow(), &view, code)? } {
        return Ok(());
    }
    // SAFETY: as above.
    unsafe { exec_other(op, operands, extra, regs, &view, store, instance) }
}

/// Runs `op` if it is one of the operators whose code is inlined here (every binary and
/// shift operator, the splats, the operators of hot vector loops), and says whether it
/// was. Inlined into `exec`, and into the execution loop's arms of the lowered
/// instructions, where `op` is a constant, so the match folds to that operator's arm.
///
/// # Safety
///
/// As for [`exec`].
#[inline(always)]
pub(crate) unsafe fn exec_hot(
    op: O,
    [dst, a, b]: [u32; 3],
    extra: (u32, u32),
    mut regs: Slots<'_>,
    view: &impl MemAccess,
    code: &FuncCode,
) -> Result<bool> {
    macro_rules! dispatch {
        (
            Unary: [$($un:ident),*],
            Binary: [$($bin:ident),*],
            Test: [$($test:ident),*],
            Shift: [$($sh:ident),*],
            $($other_shapes:tt)*
        ) => {
            match op {
                $(O::$bin => {
                    let v = arith::binary(O::$bin, wide!(regs, a), wide!(regs, b));
                    set_wide!(regs, dst, v);
                })*
                $(O::$sh => {
                    let v = arith::shift(O::$sh, wide!(regs, a), slot!(regs, b) as u32);
                    set_wide!(regs, dst, v);
                })*
                O::V128Load => {
                    let v = u128::from_le_bytes(view.load::<16>(slot!(regs, a), b)?);
                    set_wide!(regs, dst, v);
                }
                O::V128Store => memory::store(view, slot!(regs, a), b, wide!(regs, dst))?,
                O::V128Const => set_wide!(regs, dst, code.v128_consts[a as usize]),
                O::Copy => {
                    let v = wide!(regs, a);
                    set_wide!(regs, dst, v);
                }
                O::I8x16Splat => set_wide!(regs, dst, splat(slot!(regs, a) as u8)),
                O::I16x8Splat => set_wide!(regs, dst, splat(slot!(regs, a) as u16)),
                O::I32x4Splat | O::F32x4Splat => {
                    set_wide!(regs, dst, splat(slot!(regs, a) as u32))
                }
                O::I64x2Splat | O::F64x2Splat => set_wide!(regs, dst, splat(slot!(regs, a))),
                O::I32x4ExtractLane | O::F32x4ExtractLane => {
                    let v = get::<u32>(wide!(regs, a), b as usize & 3);
                    set_slot!(regs, dst, v as u64);
                }
                O::I64x2ExtractLane | O::F64x2ExtractLane => {
                    let v = get::<u64>(wide!(regs, a), b as usize & 1);
                    set_slot!(regs, dst, v);
                }
                O::I32x4ReplaceLane | O::F32x4ReplaceLane => {
                    let v = set(wide!(regs, a), extra.0 as usize & 3, slot!(regs, b) as u32);
                    set_wide!(regs, dst, v);
                }
                O::I8x16Shuffle => {
                    let mask = code.v128_consts[extra.0 as usize];
                    let v = shuffle(mask, wide!(regs, a), wide!(regs, b));
                    set_wide!(regs, dst, v);
                }
                O::V128Bitselect => {
                    let c = wide!(regs, extra.0);
                    let v = (wide!(regs, a) & c) | (wide!(regs, b) & !c);
                    set_wide!(regs, dst, v);
                }
                _ => return Ok(false),
            }
        };
    }
    super::for_each_simd!(dispatch);
    Ok(true)
}

/// The operators `exec_hot` does not inline, by operand shape.
///
/// # Safety
///
/// As for [`exec`].
#[cold]
#[inline(never)]
unsafe fn exec_other(
    op: O,
    [dst, a, b]: [u32; 3],
    extra: (u32, u32),
    mut regs: Slots<'_>,
    view: &impl MemAccess,
    store: &mut StoreData,
    instance: usize,
) -> Result<()> {
    match op.shape() {
        Shape::Unary => {
            let v = arith::unary(op, wide!(regs, a));
            set_wide!(regs, dst, v);
        }
        Shape::Test => set_slot!(regs, dst, arith::test(op, wide!(regs, a)) as u64),
        Shape::Extract => {
            let (v, lane) = (wide!(regs, a), b as usize);
            let x = match op {
                O::I8x16ExtractLaneS => get::<i8>(v, lane) as i32 as u32 as u64,
                O::I8x16ExtractLaneU => get::<u8>(v, lane) as u64,
                O::I16x8ExtractLaneS => get::<i16>(v, lane) as i32 as u32 as u64,
                O::I16x8ExtractLaneU => get::<u16>(v, lane) as u64,
                O::I32x4ExtractLane | O::F32x4ExtractLane => get::<u32>(v, lane) as u64,
                _ => get::<u64>(v, lane),
            };
            set_slot!(regs, dst, x);
        }
        Shape::Replace => {
            let (v, x, lane) = (wide!(regs, a), slot!(regs, b), extra.0 as usize);
            let v = match op {
                O::I8x16ReplaceLane => set(v, lane, x as u8),
                O::I16x8ReplaceLane => set(v, lane, x as u16),
                O::I32x4ReplaceLane | O::F32x4ReplaceLane => set(v, lane, x as u32),
                _ => set(v, lane, x),
            };
            set_wide!(regs, dst, v);
        }
        Shape::Load => {
            let v = memory::load(op, view, slot!(regs, a), b)?;
            set_wide!(regs, dst, v);
        }
        Shape::LoadLane => {
            let (offset, lane) = extra;
            let v = wide!(regs, b);
            let v = memory::load_lane(op, view, slot!(regs, a), offset, v, lane as usize)?;
            set_wide!(regs, dst, v);
        }
        Shape::StoreLane => {
            let (offset, lane) = extra;
            let v = wide!(regs, dst);
            memory::store_lane(op, view, slot!(regs, a), offset, v, lane as usize)?;
        }
        Shape::Other => match op {
            O::Select => {
                let v = if slot!(regs, extra.0) as u32 != 0 {
                    wide!(regs, a)
                } else {
                    wide!(regs, b)
                };
                set_wide!(regs, dst, v);
            }
            O::GlobalGet => {
                let g = store.instances[instance].globals[a as usize];
                set_wide!(regs, dst, store.globals[g as usize].value);
            }
            O::GlobalSet => {
                let g = store.instances[instance].globals[b as usize];
                store.globals[g as usize].value = wide!(regs, a);
            }
            O::I16x8RelaxedDotI8x16I7x16S => {
                let v = relaxed::dot_i8x16_i7x16_s(wide!(regs, a), wide!(regs, b));
                set_wide!(regs, dst, v);
            }
            O::F32x4RelaxedMadd
            | O::F32x4RelaxedNmadd
            | O::F64x2RelaxedMadd
            | O::F64x2RelaxedNmadd
            | O::I32x4RelaxedDotI8x16I7x16AddS => {
                let c = wide!(regs, extra.0);
                let v = relaxed::ternary(op, wide!(regs, a), wide!(regs, b), c);
                set_wide!(regs, dst, v);
            }
            _ => unreachable!("SIMD operator without a shape: {op:?}"),
        },
        Shape::Binary | Shape::Shift | Shape::Splat => {
            unreachable!("{op:?} is run by `exec_hot`")
        }
    }
    Ok(())
}
