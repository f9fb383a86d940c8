//! Execution of `Instr::Simd`: one out-of-line function, so SIMD costs the scalar
//! dispatch loop nothing but one match arm. Its slot operands (both halves of each
//! `v128`) and its `Extra` were verified by `Code::new` (`simd::operands`), so they are
//! accessed unchecked, through the frame's `Slots`.

use super::SimdOp as O;
use super::lanes::{build, get, set, splat};
use super::{Shape, arith, memory};
use crate::error::Result;
use crate::interp::bytecode::FuncCode;
use crate::interp::exec::frame::Slots;
use crate::interp::exec::memory::MemView;
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

/// `arith::binary` for the execution loop's lowered instructions (`op` a constant there,
/// so the match folds away).
#[inline(always)]
pub(crate) fn binary(op: O, a: u128, b: u128) -> u128 {
    arith::binary(op, a, b)
}

/// `arith::shift`, as `binary`.
#[inline(always)]
pub(crate) fn shift(op: O, v: u128, s: u32) -> u128 {
    arith::shift(op, v, s)
}

/// Executes one SIMD instruction on the current frame's slots `regs`. `extra` is the
/// `a` and `b` of the `Extra` after it, if `op` reads one.
///
/// The operators of hot vector loops are matched first, each with its operation
/// inlined; the rest go to [`exec_other`].
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn exec(
    op: O,
    dst: u32,
    a: u32,
    b: u32,
    extra: (u32, u32),
    mut regs: Slots<'_>,
    view: &MemView,
    store: &mut StoreData,
    instance: usize,
    code: &FuncCode,
) -> Result<()> {
    macro_rules! dispatch {
        (binary: [$($bin:ident),*], shift: [$($sh:ident),*], $($arms:tt)*) => {
            match op {
                $(O::$bin => {
                    let v = arith::binary(O::$bin, regs.get_wide(a), regs.get_wide(b));
                    regs.set_wide(dst, v);
                })*
                $(O::$sh => {
                    let v = arith::shift(O::$sh, regs.get_wide(a), regs.get(b) as u32);
                    regs.set_wide(dst, v);
                })*
                $($arms)*
            }
        };
    }
    dispatch! {
        binary: [
            V128And, V128AndNot, V128Or, V128Xor, I8x16Swizzle,
            I8x16Eq, I8x16Ne, I8x16LtS, I8x16LtU, I8x16GtS, I8x16GtU,
            I16x8Eq, I16x8Ne, I16x8LtS, I16x8GtS, I32x4Eq, I32x4Ne, I32x4LtS, I32x4GtS,
            I8x16Add, I8x16Sub, I16x8Add, I16x8Sub, I16x8Mul, I32x4Add, I32x4Sub, I32x4Mul,
            I64x2Add, I64x2Sub,
            F32x4Add, F32x4Sub, F32x4Mul, F32x4Div, F64x2Add, F64x2Sub, F64x2Mul, F64x2Div
        ],
        shift: [
            I8x16Shl, I8x16ShrS, I8x16ShrU, I16x8Shl, I16x8ShrS, I16x8ShrU,
            I32x4Shl, I32x4ShrS, I32x4ShrU, I64x2Shl, I64x2ShrU
        ],
        O::V128Load => {
            let v = u128::from_le_bytes(view.load::<16>(regs.get(a), b)?);
            regs.set_wide(dst, v);
        }
        O::V128Store => view.store(regs.get(a), b, regs.get_wide(dst).to_le_bytes())?,
        O::V128Const => regs.set_wide(dst, code.v128_consts[a as usize]),
        O::Copy => {
            let v = regs.get_wide(a);
            regs.set_wide(dst, v);
        }
        O::I8x16Splat => regs.set_wide(dst, splat(regs.get(a) as u8)),
        O::I16x8Splat => regs.set_wide(dst, splat(regs.get(a) as u16)),
        O::I32x4Splat | O::F32x4Splat => regs.set_wide(dst, splat(regs.get(a) as u32)),
        O::I64x2Splat | O::F64x2Splat => regs.set_wide(dst, splat(regs.get(a))),
        O::I32x4ExtractLane | O::F32x4ExtractLane => {
            let v = get::<u32>(regs.get_wide(a), b as usize & 3);
            regs.set(dst, v as u64);
        }
        O::I64x2ExtractLane | O::F64x2ExtractLane => {
            let v = get::<u64>(regs.get_wide(a), b as usize & 1);
            regs.set(dst, v);
        }
        O::I32x4ReplaceLane | O::F32x4ReplaceLane => {
            let v = set(regs.get_wide(a), extra.0 as usize & 3, regs.get(b) as u32);
            regs.set_wide(dst, v);
        }
        O::I8x16Shuffle => {
            let mask = code.v128_consts[extra.0 as usize];
            let v = shuffle(mask, regs.get_wide(a), regs.get_wide(b));
            regs.set_wide(dst, v);
        }
        O::V128Bitselect => {
            let c = regs.get_wide(extra.0);
            let v = (regs.get_wide(a) & c) | (regs.get_wide(b) & !c);
            regs.set_wide(dst, v);
        }
        _ => return exec_other(code, store, instance, view, regs, op, [dst, a, b], extra),
    }
    Ok(())
}

/// The operators `exec` does not inline, by operand shape.
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn exec_other(
    code: &FuncCode,
    store: &mut StoreData,
    instance: usize,
    view: &MemView,
    mut regs: Slots<'_>,
    op: O,
    [dst, a, b]: [u32; 3],
    extra: (u32, u32),
) -> Result<()> {
    match op.shape() {
        Shape::Unary => {
            let v = arith::unary(op, regs.get_wide(a));
            regs.set_wide(dst, v);
        }
        Shape::Binary => {
            let v = arith::binary(op, regs.get_wide(a), regs.get_wide(b));
            regs.set_wide(dst, v);
        }
        Shape::Test => regs.set(dst, arith::test(op, regs.get_wide(a)) as u64),
        Shape::Shift => {
            let v = arith::shift(op, regs.get_wide(a), regs.get(b) as u32);
            regs.set_wide(dst, v);
        }
        Shape::Splat => {
            let x = regs.get(a);
            let v = match op {
                O::I8x16Splat => splat(x as u8),
                O::I16x8Splat => splat(x as u16),
                O::I32x4Splat | O::F32x4Splat => splat(x as u32),
                _ => splat(x),
            };
            regs.set_wide(dst, v);
        }
        Shape::Extract => {
            let (v, lane) = (regs.get_wide(a), b as usize);
            let x = match op {
                O::I8x16ExtractLaneS => get::<i8>(v, lane) as i32 as u32 as u64,
                O::I8x16ExtractLaneU => get::<u8>(v, lane) as u64,
                O::I16x8ExtractLaneS => get::<i16>(v, lane) as i32 as u32 as u64,
                O::I16x8ExtractLaneU => get::<u16>(v, lane) as u64,
                O::I32x4ExtractLane | O::F32x4ExtractLane => get::<u32>(v, lane) as u64,
                _ => get::<u64>(v, lane),
            };
            regs.set(dst, x);
        }
        Shape::Replace => {
            let (v, x, lane) = (regs.get_wide(a), regs.get(b), extra.0 as usize);
            let v = match op {
                O::I8x16ReplaceLane => set(v, lane, x as u8),
                O::I16x8ReplaceLane => set(v, lane, x as u16),
                O::I32x4ReplaceLane | O::F32x4ReplaceLane => set(v, lane, x as u32),
                _ => set(v, lane, x),
            };
            regs.set_wide(dst, v);
        }
        Shape::Load => {
            let v = memory::load(op, view, regs.get(a), b)?;
            regs.set_wide(dst, v);
        }
        Shape::LoadLane => {
            let (offset, lane) = extra;
            let v = regs.get_wide(b);
            let v = memory::load_lane(op, view, regs.get(a), offset, v, lane as usize)?;
            regs.set_wide(dst, v);
        }
        Shape::StoreLane => {
            let (offset, lane) = extra;
            let v = regs.get_wide(dst);
            memory::store_lane(op, view, regs.get(a), offset, v, lane as usize)?;
        }
        Shape::Other => match op {
            O::V128Store => memory::store(view, regs.get(a), b, regs.get_wide(dst))?,
            O::V128Const => regs.set_wide(dst, code.v128_consts[a as usize]),
            O::I8x16Shuffle => {
                let mask = code.v128_consts[extra.0 as usize];
                let (x, y) = (regs.get_wide(a), regs.get_wide(b));
                let v = build(|i| {
                    let j = get::<u8>(mask, i) as usize;
                    if j < 16 {
                        get::<u8>(x, j)
                    } else {
                        get::<u8>(y, j & 15)
                    }
                });
                regs.set_wide(dst, v);
            }
            O::V128Bitselect => {
                let c = regs.get_wide(extra.0);
                let v = (regs.get_wide(a) & c) | (regs.get_wide(b) & !c);
                regs.set_wide(dst, v);
            }
            O::Copy => {
                let v = regs.get_wide(a);
                regs.set_wide(dst, v);
            }
            O::Select => {
                let v = if regs.get(extra.0) as u32 != 0 {
                    regs.get_wide(a)
                } else {
                    regs.get_wide(b)
                };
                regs.set_wide(dst, v);
            }
            O::GlobalGet => {
                let g = store.instances[instance].globals[a as usize];
                regs.set_wide(dst, store.globals[g as usize].value);
            }
            O::GlobalSet => {
                let g = store.instances[instance].globals[b as usize];
                store.globals[g as usize].value = regs.get_wide(a);
            }
            _ => unreachable!("SIMD operator without a shape: {op:?}"),
        },
    }
    Ok(())
}
