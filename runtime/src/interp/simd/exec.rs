//! Execution of `Instr::Simd`: one cold function, so SIMD costs the scalar dispatch
//! loop nothing but one match arm.

use super::SimdOp as O;
use super::lanes::{get, set, splat};
use super::{arith, for_each_simd, memory};
use crate::error::Result;
use crate::interp::bytecode::{FuncCode, Instr};
use crate::store::StoreData;

#[inline(always)]
fn read(regs: &[u64], s: u32) -> u128 {
    let s = s as usize;
    regs[s] as u128 | (regs[s + 1] as u128) << 64
}

#[inline(always)]
fn write(regs: &mut [u64], s: u32, v: u128) {
    let s = s as usize;
    regs[s] = v as u64;
    regs[s + 1] = (v >> 64) as u64;
}

/// The operands of the `Extra` after the current instruction (`pc` already points at
/// it), stepping over it.
fn extra(code: &FuncCode, pc: &mut usize) -> (u32, u32) {
    let r = match code.instrs.get(*pc) {
        Some(Instr::Extra { a, b, .. }) => (*a, *b),
        _ => (0, 0),
    };
    *pc += 1;
    r
}

/// Which operand shape `op` has.
enum Shape {
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

macro_rules! shape_of {
    (
        unary: [$($un:ident),*],
        binary: [$($bin:ident),*],
        test: [$($test:ident),*],
        shift: [$($sh:ident),*],
        splat: [$($sp:ident),*],
        extract: [$($ex:ident),*],
        replace: [$($rep:ident),*],
        load: [$($ld:ident),*],
        load_lane: [$($ldl:ident),*],
        store_lane: [$($stl:ident),*],
    ) => {
        fn shape(op: O) -> Shape {
            match op {
                $(O::$un)|* => Shape::Unary,
                $(O::$bin)|* => Shape::Binary,
                $(O::$test)|* => Shape::Test,
                $(O::$sh)|* => Shape::Shift,
                $(O::$sp)|* => Shape::Splat,
                $(O::$ex)|* => Shape::Extract,
                $(O::$rep)|* => Shape::Replace,
                $(O::$ld)|* => Shape::Load,
                $(O::$ldl)|* => Shape::LoadLane,
                $(O::$stl)|* => Shape::StoreLane,
                _ => Shape::Other,
            }
        }
    };
}
for_each_simd!(shape_of);

/// Executes one SIMD instruction on the current frame's slots `regs`.
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn exec(
    op: O,
    dst: u32,
    a: u32,
    b: u32,
    regs: &mut [u64],
    store: &mut StoreData,
    mem: usize,
    instance: usize,
    code: &FuncCode,
    pc: &mut usize,
) -> Result<()> {
    match shape(op) {
        Shape::Unary => {
            let v = arith::unary(op, read(regs, a));
            write(regs, dst, v);
        }
        Shape::Binary => {
            let v = arith::binary(op, read(regs, a), read(regs, b));
            write(regs, dst, v);
        }
        Shape::Test => regs[dst as usize] = arith::test(op, read(regs, a)) as u64,
        Shape::Shift => {
            let v = arith::shift(op, read(regs, a), regs[b as usize] as u32);
            write(regs, dst, v);
        }
        Shape::Splat => {
            let x = regs[a as usize];
            let v = match op {
                O::I8x16Splat => splat(x as u8),
                O::I16x8Splat => splat(x as u16),
                O::I32x4Splat | O::F32x4Splat => splat(x as u32),
                _ => splat(x),
            };
            write(regs, dst, v);
        }
        Shape::Extract => {
            let (v, lane) = (read(regs, a), b as usize);
            regs[dst as usize] = match op {
                O::I8x16ExtractLaneS => get::<i8>(v, lane) as i32 as u32 as u64,
                O::I8x16ExtractLaneU => get::<u8>(v, lane) as u64,
                O::I16x8ExtractLaneS => get::<i16>(v, lane) as i32 as u32 as u64,
                O::I16x8ExtractLaneU => get::<u16>(v, lane) as u64,
                O::I32x4ExtractLane | O::F32x4ExtractLane => get::<u32>(v, lane) as u64,
                _ => get::<u64>(v, lane),
            };
        }
        Shape::Replace => {
            let (lane, _) = extra(code, pc);
            let (v, x, lane) = (read(regs, a), regs[b as usize], lane as usize);
            let v = match op {
                O::I8x16ReplaceLane => set(v, lane, x as u8),
                O::I16x8ReplaceLane => set(v, lane, x as u16),
                O::I32x4ReplaceLane | O::F32x4ReplaceLane => set(v, lane, x as u32),
                _ => set(v, lane, x),
            };
            write(regs, dst, v);
        }
        Shape::Load => {
            let v = memory::load(op, store.memories[mem].data(), regs[a as usize], b)?;
            write(regs, dst, v);
        }
        Shape::LoadLane => {
            let (offset, lane) = extra(code, pc);
            let data = store.memories[mem].data();
            let v = memory::load_lane(
                op,
                data,
                regs[a as usize],
                offset,
                read(regs, b),
                lane as usize,
            )?;
            write(regs, dst, v);
        }
        Shape::StoreLane => {
            let (offset, lane) = extra(code, pc);
            let data = store.memories[mem].data_mut();
            memory::store_lane(
                op,
                data,
                regs[a as usize],
                offset,
                read(regs, dst),
                lane as usize,
            )?;
        }
        Shape::Other => match op {
            O::V128Store => {
                let data = store.memories[mem].data_mut();
                memory::store(data, regs[a as usize], b, read(regs, dst))?;
            }
            O::V128Const => write(regs, dst, code.v128_consts[a as usize]),
            O::I8x16Shuffle => {
                let (mask, _) = extra(code, pc);
                let mask = code.v128_consts[mask as usize];
                let (x, y) = (read(regs, a), read(regs, b));
                let v = super::lanes::build(|i| {
                    let j = get::<u8>(mask, i) as usize;
                    if j < 16 {
                        get::<u8>(x, j)
                    } else {
                        get::<u8>(y, j & 15)
                    }
                });
                write(regs, dst, v);
            }
            O::V128Bitselect => {
                let (c, _) = extra(code, pc);
                let c = read(regs, c);
                let v = (read(regs, a) & c) | (read(regs, b) & !c);
                write(regs, dst, v);
            }
            O::Copy => {
                let v = read(regs, a);
                write(regs, dst, v);
            }
            O::Select => {
                let (cond, _) = extra(code, pc);
                let v = if regs[cond as usize] as u32 != 0 {
                    read(regs, a)
                } else {
                    read(regs, b)
                };
                write(regs, dst, v);
            }
            O::GlobalGet => {
                let g = store.instances[instance].globals[a as usize];
                write(regs, dst, store.globals[g as usize].value);
            }
            O::GlobalSet => {
                let g = store.instances[instance].globals[b as usize];
                store.globals[g as usize].value = read(regs, a);
            }
            _ => unreachable!("SIMD operator without a shape: {op:?}"),
        },
    }
    Ok(())
}
