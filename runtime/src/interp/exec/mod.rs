//! The execution loop: one `match` per instruction over the current frame's slots.
//!
//! Calls and returns never recurse on the host stack: calls between functions of the
//! running instance switch frames inside the inner loop; the rest (host functions, other
//! instances, growing the value stack, the depth limit's trap) leave it for the outer
//! one. Spec: <https://webassembly.github.io/spec/core/exec/instructions.html>.

mod call;
pub(super) mod frame;
pub(super) mod memory;
mod stack;

pub(crate) use call::Limits;
pub(crate) use call::invoke;
use call::{Ctx, Pos};
use frame::{Ip, Values};
use memory::MemView;
use stack::{ExecStack, Frame, init_frame};

use crate::error::{Result, TrapKind};
use crate::interp::bytecode::Instr;
use crate::interp::numeric::{self as num, div, trunc};
use crate::interp::simd::{self, SimdOp};
use crate::store::{FuncKind, StoreData};

/// Why the inner loop stopped.
enum Action {
    Call {
        func: u32,
        base: u32,
    },
    CallImport {
        func: u32,
        base: u32,
    },
    /// Call store function `sf` (resolved by `call_indirect`).
    CallStore {
        sf: u32,
        base: u32,
    },
    Return,
}

fn run(
    store: &mut StoreData,
    st: &mut ExecStack,
    mut ctx: Ctx,
    mut pos: Pos,
    limits: &Limits,
) -> Result<()> {
    // Memory 0 of the running instance; remade whenever it may have changed: after
    // `memory.grow`, a host call, or a switch to another instance.
    let mut view = MemView::new(store, ctx.mem);
    loop {
        let mut code = &ctx.code.funcs[pos.func as usize];
        let mut ip = Ip::new(&code.instrs, pos.pc);
        let mut stack = Values::new(&mut st.values);
        // `ExecStack::enter` sized the stack for this frame.
        let Some(mut regs) = stack.window(pos.base, &code.instrs) else {
            return Err(TrapKind::CallStackExhausted.into());
        };
        let mem = ctx.mem as usize;
        let instance = ctx.instance as usize;

        // Enters defined function `$func` of this instance, its arguments at `$base`, in
        // this loop; leaves with `$slow` when the outer loop must do it.
        macro_rules! call {
            ($func:expr, $base:expr, $slow:expr) => {{
                let abs = pos.base + $base as usize;
                let callee = &ctx.code.funcs[$func as usize];
                if st.frames.len() >= limits.max_depth {
                    break $slow;
                }
                let Some(mut window) = stack.window(abs, &callee.instrs) else {
                    break $slow;
                };
                init_frame(window.as_mut_slice(), callee);
                st.frames.push(Frame {
                    func: pos.func,
                    pc: ip.pc() as u32,
                    instance: ctx.instance,
                    base: pos.base,
                });
                pos.func = $func;
                pos.base = abs;
                code = callee;
                regs = window;
                ip = Ip::new(&code.instrs, 0);
            }};
        }
        // Returns to a caller of this instance in this loop (the results are in place).
        macro_rules! ret {
            () => {{
                let Some(&f) = st.frames.last().filter(|f| f.instance == ctx.instance) else {
                    break Action::Return;
                };
                let caller = &ctx.code.funcs[f.func as usize];
                let Some(window) = stack.window(f.base, &caller.instrs) else {
                    break Action::Return;
                };
                st.frames.pop();
                pos.func = f.func;
                pos.base = f.base;
                code = caller;
                regs = window;
                ip = Ip::new(&code.instrs, f.pc as usize);
            }};
        }

        macro_rules! r {
            ($s:expr) => {
                regs.get($s)
            };
        }
        macro_rules! w {
            ($s:expr, $v:expr) => {{
                let v = $v;
                regs.set($s, v)
            }};
        }
        macro_rules! un {
            ($dst:expr, $src:expr, $f:expr) => {{
                let v = $f(r!($src));
                w!($dst, v);
            }};
        }
        macro_rules! bin {
            ($dst:expr, $lhs:expr, $rhs:expr, $f:expr) => {{
                let v = $f(r!($lhs), r!($rhs));
                w!($dst, v);
            }};
        }
        macro_rules! i32bin {
            ($dst:expr, $lhs:expr, $rhs:expr, $f:expr) => {
                bin!($dst, $lhs, $rhs, |a: u64, b: u64| $f(a as u32, b as u32)
                    as u64)
            };
        }
        macro_rules! i32cmp {
            ($dst:expr, $lhs:expr, $rhs:expr, $t:ty, $op:tt) => {
                bin!($dst, $lhs, $rhs, |a: u64, b: u64| ((a as u32 as $t) $op (b as u32 as $t)) as u64)
            };
        }
        macro_rules! i64cmp {
            ($dst:expr, $lhs:expr, $rhs:expr, $t:ty, $op:tt) => {
                bin!($dst, $lhs, $rhs, |a: u64, b: u64| ((a as $t) $op (b as $t)) as u64)
            };
        }
        macro_rules! f32bin {
            ($dst:expr, $lhs:expr, $rhs:expr, $f:expr) => {
                bin!($dst, $lhs, $rhs, |a, b| num::from_f32($f(
                    num::f32_of(a),
                    num::f32_of(b)
                )))
            };
        }
        macro_rules! f64bin {
            ($dst:expr, $lhs:expr, $rhs:expr, $f:expr) => {
                bin!($dst, $lhs, $rhs, |a, b| num::from_f64($f(
                    num::f64_of(a),
                    num::f64_of(b)
                )))
            };
        }
        macro_rules! fcmp {
            ($dst:expr, $lhs:expr, $rhs:expr, $of:path, $op:tt) => {
                bin!($dst, $lhs, $rhs, |a, b| ($of(a) $op $of(b)) as u64)
            };
        }
        macro_rules! f32un {
            ($dst:expr, $src:expr, $f:expr) => {
                un!($dst, $src, |a| num::from_f32($f(num::f32_of(a))))
            };
        }
        macro_rules! f64un {
            ($dst:expr, $src:expr, $f:expr) => {
                un!($dst, $src, |a| num::from_f64($f(num::f64_of(a))))
            };
        }
        macro_rules! brcmp {
            ($lhs:expr, $rhs:expr, $target:expr, $t:ty, $op:tt) => {
                if (r!($lhs) as u32 as $t) $op (r!($rhs) as u32 as $t) {
                    ip.jump($target);
                }
            };
        }
        macro_rules! br64 {
            ($lhs:expr, $rhs:expr, $target:expr, $t:ty, $op:tt) => {
                if (r!($lhs) as $t) $op (r!($rhs) as $t) {
                    ip.jump($target);
                }
            };
        }
        // `dst += step`, then the branch; `rhs` is read after the add (it may be `dst`).
        macro_rules! counter {
            ($step:expr, $dst:expr, $rhs:expr, $target:expr, $t:ty, $op:tt) => {{
                let v = (r!($dst) as u32).wrapping_add($step as i32 as u32);
                w!($dst, v as u64);
                if (v as $t) $op (r!($rhs) as u32 as $t) {
                    ip.jump($target);
                } else {
                    ip.skip(1);
                }
            }};
        }
        macro_rules! v128bin {
            ($dst:expr, $lhs:expr, $rhs:expr, $op:ident) => {{
                let v = simd::binary(SimdOp::$op, regs.get_wide($lhs), regs.get_wide($rhs));
                regs.set_wide($dst, v);
            }};
        }
        macro_rules! ld {
            ($dst:expr, $addr:expr, $offset:expr, $n:literal, $conv:expr) => {{
                let bytes = view.load::<$n>(r!($addr), $offset)?;
                w!($dst, $conv(bytes));
            }};
        }
        macro_rules! ldx {
            ($dst:expr, $idx:expr, $shift:expr, $offset:expr, $n:literal, $conv:expr) => {{
                let addr = (r!($idx) as u32).wrapping_shl($shift as u32) as u64;
                let bytes = view.load::<$n>(addr, $offset)?;
                w!($dst, $conv(bytes));
            }};
        }
        macro_rules! stv {
            ($addr:expr, $value:expr, $offset:expr, $conv:expr) => {{
                let bytes = $conv(r!($value));
                view.store(r!($addr), $offset, bytes)?;
            }};
        }

        let action = loop {
            match *ip.next() {
                // --- Control ---
                Instr::Unreachable => return Err(TrapKind::Unreachable.into()),
                Instr::Extra { .. } => {}
                Instr::Br { target } => ip.jump(target),
                Instr::BrIfNez { cond, target } => {
                    if r!(cond) as u32 != 0 {
                        ip.jump(target);
                    }
                }
                Instr::BrIfEqz { cond, target } => {
                    if r!(cond) as u32 == 0 {
                        ip.jump(target);
                    }
                }
                Instr::BrTable { index, len } => ip.skip((r!(index) as u32).min(len)),
                Instr::BrI32Eq { lhs, rhs, target } => brcmp!(lhs, rhs, target, u32, ==),
                Instr::BrI32Ne { lhs, rhs, target } => brcmp!(lhs, rhs, target, u32, !=),
                Instr::BrI32LtS { lhs, rhs, target } => brcmp!(lhs, rhs, target, i32, <),
                Instr::BrI32LtU { lhs, rhs, target } => brcmp!(lhs, rhs, target, u32, <),
                Instr::BrI32GtS { lhs, rhs, target } => brcmp!(lhs, rhs, target, i32, >),
                Instr::BrI32GtU { lhs, rhs, target } => brcmp!(lhs, rhs, target, u32, >),
                Instr::BrI32LeS { lhs, rhs, target } => brcmp!(lhs, rhs, target, i32, <=),
                Instr::BrI32LeU { lhs, rhs, target } => brcmp!(lhs, rhs, target, u32, <=),
                Instr::BrI32GeS { lhs, rhs, target } => brcmp!(lhs, rhs, target, i32, >=),
                Instr::BrI32GeU { lhs, rhs, target } => brcmp!(lhs, rhs, target, u32, >=),
                Instr::BrI64Eq { lhs, rhs, target } => br64!(lhs, rhs, target, u64, ==),
                Instr::BrI64Ne { lhs, rhs, target } => br64!(lhs, rhs, target, u64, !=),
                Instr::BrI64LtS { lhs, rhs, target } => br64!(lhs, rhs, target, i64, <),
                Instr::BrI64LtU { lhs, rhs, target } => br64!(lhs, rhs, target, u64, <),
                Instr::BrI64GtS { lhs, rhs, target } => br64!(lhs, rhs, target, i64, >),
                Instr::BrI64GtU { lhs, rhs, target } => br64!(lhs, rhs, target, u64, >),
                Instr::BrI64LeS { lhs, rhs, target } => br64!(lhs, rhs, target, i64, <=),
                Instr::BrI64LeU { lhs, rhs, target } => br64!(lhs, rhs, target, u64, <=),
                Instr::BrI64GeS { lhs, rhs, target } => br64!(lhs, rhs, target, i64, >=),
                Instr::BrI64GeU { lhs, rhs, target } => br64!(lhs, rhs, target, u64, >=),
                Instr::I32AddImmBrLtU {
                    step,
                    dst,
                    rhs,
                    target,
                } => counter!(step, dst, rhs, target, u32, <),
                Instr::I32AddImmBrLtS {
                    step,
                    dst,
                    rhs,
                    target,
                } => counter!(step, dst, rhs, target, i32, <),
                Instr::I32AddImmBrNe {
                    step,
                    dst,
                    rhs,
                    target,
                } => counter!(step, dst, rhs, target, u32, !=),
                Instr::Return => ret!(),
                Instr::ReturnSlot { src } => {
                    w!(0, r!(src));
                    ret!();
                }
                Instr::Copy { dst, src } => w!(dst, r!(src)),
                Instr::Const { dst, value } => w!(dst, value),
                Instr::Call { func, base } => call!(func, base, Action::Call { func, base }),
                Instr::CallImport { func, base } => break Action::CallImport { func, base },
                Instr::CallIndirect {
                    type_index,
                    index,
                    base,
                } => {
                    let (table, _) = ip.extra();
                    let index = r!(index) as u32;
                    let sf = call::resolve_indirect(store, &ctx, type_index, table, index)?;
                    match store.funcs[sf as usize].kind {
                        FuncKind::Wasm { instance, index } if instance == ctx.instance => {
                            let func = index - ctx.code.num_imported_funcs;
                            call!(func, base, Action::CallStore { sf, base })
                        }
                        _ => break Action::CallStore { sf, base },
                    }
                }
                Instr::Select { dst, lhs, rhs } => {
                    let (cond, _) = ip.extra();
                    w!(
                        dst,
                        if r!(cond) as u32 != 0 {
                            r!(lhs)
                        } else {
                            r!(rhs)
                        }
                    );
                }

                Instr::Simd { op, dst, a, b } => {
                    // SAFETY: the `Simd` just fetched is not the last instruction, which
                    // is a branch, a return or `unreachable` (invariant 3).
                    let extra = unsafe { ip.take_extra() };
                    let regs = regs.reborrow();
                    let view = &view;
                    simd::exec(op, dst, a, b, extra, regs, view, store, instance, code)?;
                }

                Instr::V128Load { dst, addr, offset } => {
                    let bytes = view.load::<16>(r!(addr), offset)?;
                    regs.set_wide(dst, u128::from_le_bytes(bytes));
                }
                Instr::V128Store {
                    addr,
                    value,
                    offset,
                } => view.store(r!(addr), offset, regs.get_wide(value).to_le_bytes())?,
                Instr::V128Copy { dst, src } => {
                    let v = regs.get_wide(src);
                    regs.set_wide(dst, v);
                }
                Instr::V128And { dst, lhs, rhs } => v128bin!(dst, lhs, rhs, V128And),
                Instr::V128Or { dst, lhs, rhs } => v128bin!(dst, lhs, rhs, V128Or),
                Instr::V128Xor { dst, lhs, rhs } => v128bin!(dst, lhs, rhs, V128Xor),
                Instr::I8x16Add { dst, lhs, rhs } => v128bin!(dst, lhs, rhs, I8x16Add),
                Instr::I8x16Sub { dst, lhs, rhs } => v128bin!(dst, lhs, rhs, I8x16Sub),
                Instr::I8x16Eq { dst, lhs, rhs } => v128bin!(dst, lhs, rhs, I8x16Eq),
                Instr::I32x4Add { dst, lhs, rhs } => v128bin!(dst, lhs, rhs, I32x4Add),
                Instr::F32x4Add { dst, lhs, rhs } => v128bin!(dst, lhs, rhs, F32x4Add),
                Instr::F32x4Mul { dst, lhs, rhs } => v128bin!(dst, lhs, rhs, F32x4Mul),
                Instr::I8x16ShrU { dst, lhs, rhs } => {
                    let v = simd::shift(SimdOp::I8x16ShrU, regs.get_wide(lhs), r!(rhs) as u32);
                    regs.set_wide(dst, v);
                }

                // --- Variables ---
                Instr::GlobalGet { dst, global } => {
                    let g = store.instances[instance].globals[global as usize];
                    w!(dst, store.globals[g as usize].value as u64);
                }
                Instr::GlobalSet { global, src } => {
                    let g = store.instances[instance].globals[global as usize];
                    store.globals[g as usize].value = r!(src) as u128;
                }

                // --- Memory ---
                Instr::I32LoadShl {
                    shift,
                    dst,
                    idx,
                    offset,
                } => ldx!(dst, idx, shift, offset, 4, |b| u32::from_le_bytes(b) as u64),
                Instr::I64LoadShl {
                    shift,
                    dst,
                    idx,
                    offset,
                } => ldx!(dst, idx, shift, offset, 8, u64::from_le_bytes),
                Instr::F32LoadShl {
                    shift,
                    dst,
                    idx,
                    offset,
                } => ldx!(dst, idx, shift, offset, 4, |b| u32::from_le_bytes(b) as u64),
                Instr::F64LoadShl {
                    shift,
                    dst,
                    idx,
                    offset,
                } => ldx!(dst, idx, shift, offset, 8, u64::from_le_bytes),
                Instr::I32Load { dst, addr, offset } => {
                    ld!(dst, addr, offset, 4, |b| u32::from_le_bytes(b) as u64)
                }
                Instr::I64Load { dst, addr, offset } => {
                    ld!(dst, addr, offset, 8, u64::from_le_bytes)
                }
                Instr::F32Load { dst, addr, offset } => {
                    ld!(dst, addr, offset, 4, |b| u32::from_le_bytes(b) as u64)
                }
                Instr::F64Load { dst, addr, offset } => {
                    ld!(dst, addr, offset, 8, u64::from_le_bytes)
                }
                Instr::I32Load8S { dst, addr, offset } => {
                    ld!(dst, addr, offset, 1, |b| num::from_i32(
                        i8::from_le_bytes(b) as i32
                    ))
                }
                Instr::I32Load8U { dst, addr, offset } => {
                    ld!(dst, addr, offset, 1, |b| u8::from_le_bytes(b) as u64)
                }
                Instr::I32Load16S { dst, addr, offset } => {
                    ld!(dst, addr, offset, 2, |b| num::from_i32(
                        i16::from_le_bytes(b) as i32
                    ))
                }
                Instr::I32Load16U { dst, addr, offset } => {
                    ld!(dst, addr, offset, 2, |b| u16::from_le_bytes(b) as u64)
                }
                Instr::I64Load8S { dst, addr, offset } => {
                    ld!(dst, addr, offset, 1, |b| i8::from_le_bytes(b) as i64 as u64)
                }
                Instr::I64Load8U { dst, addr, offset } => {
                    ld!(dst, addr, offset, 1, |b| u8::from_le_bytes(b) as u64)
                }
                Instr::I64Load16S { dst, addr, offset } => {
                    ld!(dst, addr, offset, 2, |b| i16::from_le_bytes(b) as i64
                        as u64)
                }
                Instr::I64Load16U { dst, addr, offset } => {
                    ld!(dst, addr, offset, 2, |b| u16::from_le_bytes(b) as u64)
                }
                Instr::I64Load32S { dst, addr, offset } => {
                    ld!(dst, addr, offset, 4, |b| i32::from_le_bytes(b) as i64
                        as u64)
                }
                Instr::I64Load32U { dst, addr, offset } => {
                    ld!(dst, addr, offset, 4, |b| u32::from_le_bytes(b) as u64)
                }
                Instr::I32Store {
                    addr,
                    value,
                    offset,
                } => stv!(addr, value, offset, |v: u64| (v as u32).to_le_bytes()),
                Instr::I64Store {
                    addr,
                    value,
                    offset,
                } => stv!(addr, value, offset, |v: u64| v.to_le_bytes()),
                Instr::F32Store {
                    addr,
                    value,
                    offset,
                } => stv!(addr, value, offset, |v: u64| (v as u32).to_le_bytes()),
                Instr::F64Store {
                    addr,
                    value,
                    offset,
                } => stv!(addr, value, offset, |v: u64| v.to_le_bytes()),
                Instr::I32Store8 {
                    addr,
                    value,
                    offset,
                }
                | Instr::I64Store8 {
                    addr,
                    value,
                    offset,
                } => stv!(addr, value, offset, |v: u64| (v as u8).to_le_bytes()),
                Instr::I32Store16 {
                    addr,
                    value,
                    offset,
                }
                | Instr::I64Store16 {
                    addr,
                    value,
                    offset,
                } => stv!(addr, value, offset, |v: u64| (v as u16).to_le_bytes()),
                Instr::I64Store32 {
                    addr,
                    value,
                    offset,
                } => stv!(addr, value, offset, |v: u64| (v as u32).to_le_bytes()),
                Instr::MemorySize { dst } => w!(dst, store.memories[mem].pages()),
                Instr::MemoryGrow { dst, delta } => {
                    w!(
                        dst,
                        store.memory_grow(mem as u32, r!(delta) as u32) as u32 as u64
                    );
                    view = MemView::new(store, ctx.mem);
                }
                Instr::MemoryFill { dst, value, len } => {
                    store.memory_fill(
                        mem as u32,
                        r!(dst) as u32,
                        r!(value) as u8,
                        r!(len) as u32,
                    )?;
                }
                Instr::MemoryCopy { dst, src, len } => {
                    let (d, s, n) = (r!(dst) as u32, r!(src) as u32, r!(len) as u32);
                    store.memory_copy(mem as u32, mem as u32, d, s, n)?;
                }
                Instr::MemoryInit { dst, src, len } => {
                    let (data, _) = ip.extra();
                    let (d, s, n) = (r!(dst) as u32, r!(src) as u32, r!(len) as u32);
                    store.memory_init(instance as u32, mem as u32, data, d, s, n)?;
                }
                Instr::DataDrop { data } => store.data_drop(instance as u32, data),

                // --- Tables and references ---
                Instr::TableGet { dst, index, table } => {
                    let t = store.instances[instance].tables[table as usize];
                    w!(dst, store.table_get(t, r!(index) as u32)?);
                }
                Instr::TableSet {
                    index,
                    value,
                    table,
                } => {
                    let t = store.instances[instance].tables[table as usize];
                    store.table_set(t, r!(index) as u32, r!(value))?;
                }
                Instr::TableSize { dst, table } => {
                    let t = store.instances[instance].tables[table as usize];
                    w!(dst, store.tables[t as usize].size() as u64);
                }
                Instr::TableGrow { dst, init, delta } => {
                    let (table, _) = ip.extra();
                    let t = store.instances[instance].tables[table as usize];
                    w!(
                        dst,
                        store.table_grow(t, r!(delta) as u32, r!(init)) as u32 as u64
                    );
                }
                Instr::TableFill { dst, value, len } => {
                    let (table, _) = ip.extra();
                    let t = store.instances[instance].tables[table as usize];
                    store.table_fill(t, r!(dst) as u32, r!(value), r!(len) as u32)?;
                }
                Instr::TableCopy { dst, src, len } => {
                    let (dt, stab) = ip.extra();
                    let inst = &store.instances[instance];
                    let (dt, stab) = (inst.tables[dt as usize], inst.tables[stab as usize]);
                    let (d, s, n) = (r!(dst) as u32, r!(src) as u32, r!(len) as u32);
                    store.table_copy(dt, stab, d, s, n)?;
                }
                Instr::TableInit { dst, src, len } => {
                    let (table, elem) = ip.extra();
                    let t = store.instances[instance].tables[table as usize];
                    let (d, s, n) = (r!(dst) as u32, r!(src) as u32, r!(len) as u32);
                    store.table_init(instance as u32, t, elem, d, s, n)?;
                }
                Instr::ElemDrop { elem } => store.elem_drop(instance as u32, elem),
                Instr::RefFunc { dst, func } => {
                    w!(
                        dst,
                        store.instances[instance].funcs[func as usize] as u64 + 1
                    );
                }

                // --- Numeric: i32 ---
                Instr::I32Eqz { dst, src } => un!(dst, src, |a: u64| (a as u32 == 0) as u64),
                Instr::I32Eq { dst, lhs, rhs } => i32cmp!(dst, lhs, rhs, u32, ==),
                Instr::I32Ne { dst, lhs, rhs } => i32cmp!(dst, lhs, rhs, u32, !=),
                Instr::I32LtS { dst, lhs, rhs } => i32cmp!(dst, lhs, rhs, i32, <),
                Instr::I32LtU { dst, lhs, rhs } => i32cmp!(dst, lhs, rhs, u32, <),
                Instr::I32GtS { dst, lhs, rhs } => i32cmp!(dst, lhs, rhs, i32, >),
                Instr::I32GtU { dst, lhs, rhs } => i32cmp!(dst, lhs, rhs, u32, >),
                Instr::I32LeS { dst, lhs, rhs } => i32cmp!(dst, lhs, rhs, i32, <=),
                Instr::I32LeU { dst, lhs, rhs } => i32cmp!(dst, lhs, rhs, u32, <=),
                Instr::I32GeS { dst, lhs, rhs } => i32cmp!(dst, lhs, rhs, i32, >=),
                Instr::I32GeU { dst, lhs, rhs } => i32cmp!(dst, lhs, rhs, u32, >=),
                Instr::I32Clz { dst, src } => {
                    un!(dst, src, |a: u64| (a as u32).leading_zeros() as u64)
                }
                Instr::I32Ctz { dst, src } => {
                    un!(dst, src, |a: u64| (a as u32).trailing_zeros() as u64)
                }
                Instr::I32Popcnt { dst, src } => {
                    un!(dst, src, |a: u64| (a as u32).count_ones() as u64)
                }
                Instr::I32Add { dst, lhs, rhs } => i32bin!(dst, lhs, rhs, u32::wrapping_add),
                Instr::I32Sub { dst, lhs, rhs } => i32bin!(dst, lhs, rhs, u32::wrapping_sub),
                Instr::I32Mul { dst, lhs, rhs } => i32bin!(dst, lhs, rhs, u32::wrapping_mul),
                Instr::I32DivS { dst, lhs, rhs } => w!(dst, div::i32_div_s(r!(lhs), r!(rhs))?),
                Instr::I32DivU { dst, lhs, rhs } => w!(dst, div::i32_div_u(r!(lhs), r!(rhs))?),
                Instr::I32RemS { dst, lhs, rhs } => w!(dst, div::i32_rem_s(r!(lhs), r!(rhs))?),
                Instr::I32RemU { dst, lhs, rhs } => w!(dst, div::i32_rem_u(r!(lhs), r!(rhs))?),
                Instr::I32And { dst, lhs, rhs } => i32bin!(dst, lhs, rhs, |a, b| a & b),
                Instr::I32Or { dst, lhs, rhs } => i32bin!(dst, lhs, rhs, |a, b| a | b),
                Instr::I32Xor { dst, lhs, rhs } => i32bin!(dst, lhs, rhs, |a, b| a ^ b),
                Instr::I32Shl { dst, lhs, rhs } => i32bin!(dst, lhs, rhs, u32::wrapping_shl),
                Instr::I32ShrS { dst, lhs, rhs } => {
                    i32bin!(dst, lhs, rhs, |a: u32, b: u32| (a as i32).wrapping_shr(b)
                        as u32)
                }
                Instr::I32ShrU { dst, lhs, rhs } => i32bin!(dst, lhs, rhs, u32::wrapping_shr),
                Instr::I32Rotl { dst, lhs, rhs } => {
                    i32bin!(dst, lhs, rhs, |a: u32, b: u32| a.rotate_left(b % 32))
                }
                Instr::I32Rotr { dst, lhs, rhs } => {
                    i32bin!(dst, lhs, rhs, |a: u32, b: u32| a.rotate_right(b % 32))
                }

                // --- Numeric: i64 ---
                Instr::I64Eqz { dst, src } => un!(dst, src, |a: u64| (a == 0) as u64),
                Instr::I64Eq { dst, lhs, rhs } => i64cmp!(dst, lhs, rhs, u64, ==),
                Instr::I64Ne { dst, lhs, rhs } => i64cmp!(dst, lhs, rhs, u64, !=),
                Instr::I64LtS { dst, lhs, rhs } => i64cmp!(dst, lhs, rhs, i64, <),
                Instr::I64LtU { dst, lhs, rhs } => i64cmp!(dst, lhs, rhs, u64, <),
                Instr::I64GtS { dst, lhs, rhs } => i64cmp!(dst, lhs, rhs, i64, >),
                Instr::I64GtU { dst, lhs, rhs } => i64cmp!(dst, lhs, rhs, u64, >),
                Instr::I64LeS { dst, lhs, rhs } => i64cmp!(dst, lhs, rhs, i64, <=),
                Instr::I64LeU { dst, lhs, rhs } => i64cmp!(dst, lhs, rhs, u64, <=),
                Instr::I64GeS { dst, lhs, rhs } => i64cmp!(dst, lhs, rhs, i64, >=),
                Instr::I64GeU { dst, lhs, rhs } => i64cmp!(dst, lhs, rhs, u64, >=),
                Instr::I64Clz { dst, src } => un!(dst, src, |a: u64| a.leading_zeros() as u64),
                Instr::I64Ctz { dst, src } => un!(dst, src, |a: u64| a.trailing_zeros() as u64),
                Instr::I64Popcnt { dst, src } => un!(dst, src, |a: u64| a.count_ones() as u64),
                Instr::I64Add { dst, lhs, rhs } => bin!(dst, lhs, rhs, u64::wrapping_add),
                Instr::I64Sub { dst, lhs, rhs } => bin!(dst, lhs, rhs, u64::wrapping_sub),
                Instr::I64Mul { dst, lhs, rhs } => bin!(dst, lhs, rhs, u64::wrapping_mul),
                Instr::I64DivS { dst, lhs, rhs } => w!(dst, div::i64_div_s(r!(lhs), r!(rhs))?),
                Instr::I64DivU { dst, lhs, rhs } => w!(dst, div::i64_div_u(r!(lhs), r!(rhs))?),
                Instr::I64RemS { dst, lhs, rhs } => w!(dst, div::i64_rem_s(r!(lhs), r!(rhs))?),
                Instr::I64RemU { dst, lhs, rhs } => w!(dst, div::i64_rem_u(r!(lhs), r!(rhs))?),
                Instr::I64And { dst, lhs, rhs } => bin!(dst, lhs, rhs, |a, b| a & b),
                Instr::I64Or { dst, lhs, rhs } => bin!(dst, lhs, rhs, |a, b| a | b),
                Instr::I64Xor { dst, lhs, rhs } => bin!(dst, lhs, rhs, |a, b| a ^ b),
                Instr::I64Shl { dst, lhs, rhs } => {
                    bin!(dst, lhs, rhs, |a: u64, b: u64| a.wrapping_shl(b as u32))
                }
                Instr::I64ShrS { dst, lhs, rhs } => {
                    bin!(
                        dst,
                        lhs,
                        rhs,
                        |a: u64, b: u64| (a as i64).wrapping_shr(b as u32) as u64
                    )
                }
                Instr::I64ShrU { dst, lhs, rhs } => {
                    bin!(dst, lhs, rhs, |a: u64, b: u64| a.wrapping_shr(b as u32))
                }
                Instr::I64Rotl { dst, lhs, rhs } => {
                    bin!(dst, lhs, rhs, |a: u64, b: u64| a
                        .rotate_left((b % 64) as u32))
                }
                Instr::I64Rotr { dst, lhs, rhs } => {
                    bin!(dst, lhs, rhs, |a: u64, b: u64| a
                        .rotate_right((b % 64) as u32))
                }

                // --- Numeric: f32 / f64 ---
                Instr::F32Eq { dst, lhs, rhs } => fcmp!(dst, lhs, rhs, num::f32_of, ==),
                Instr::F32Ne { dst, lhs, rhs } => fcmp!(dst, lhs, rhs, num::f32_of, !=),
                Instr::F32Lt { dst, lhs, rhs } => fcmp!(dst, lhs, rhs, num::f32_of, <),
                Instr::F32Gt { dst, lhs, rhs } => fcmp!(dst, lhs, rhs, num::f32_of, >),
                Instr::F32Le { dst, lhs, rhs } => fcmp!(dst, lhs, rhs, num::f32_of, <=),
                Instr::F32Ge { dst, lhs, rhs } => fcmp!(dst, lhs, rhs, num::f32_of, >=),
                Instr::F64Eq { dst, lhs, rhs } => fcmp!(dst, lhs, rhs, num::f64_of, ==),
                Instr::F64Ne { dst, lhs, rhs } => fcmp!(dst, lhs, rhs, num::f64_of, !=),
                Instr::F64Lt { dst, lhs, rhs } => fcmp!(dst, lhs, rhs, num::f64_of, <),
                Instr::F64Gt { dst, lhs, rhs } => fcmp!(dst, lhs, rhs, num::f64_of, >),
                Instr::F64Le { dst, lhs, rhs } => fcmp!(dst, lhs, rhs, num::f64_of, <=),
                Instr::F64Ge { dst, lhs, rhs } => fcmp!(dst, lhs, rhs, num::f64_of, >=),
                // abs/neg/copysign are bit operations: they must not touch NaN payloads.
                Instr::F32Abs { dst, src } => un!(dst, src, |a: u64| a & 0x7fff_ffff),
                Instr::F32Neg { dst, src } => un!(dst, src, |a: u64| a ^ 0x8000_0000),
                Instr::F32Copysign { dst, lhs, rhs } => {
                    bin!(dst, lhs, rhs, |a: u64, b: u64| (a & 0x7fff_ffff)
                        | (b & 0x8000_0000))
                }
                Instr::F64Abs { dst, src } => un!(dst, src, |a: u64| a & !(1u64 << 63)),
                Instr::F64Neg { dst, src } => un!(dst, src, |a: u64| a ^ (1u64 << 63)),
                Instr::F64Copysign { dst, lhs, rhs } => {
                    bin!(dst, lhs, rhs, |a: u64, b: u64| (a & !(1u64 << 63))
                        | (b & (1u64 << 63)))
                }
                Instr::F32Ceil { dst, src } => f32un!(dst, src, |x| num::round_f32(x, f32::ceil)),
                Instr::F32Floor { dst, src } => f32un!(dst, src, |x| num::round_f32(x, f32::floor)),
                Instr::F32Trunc { dst, src } => f32un!(dst, src, |x| num::round_f32(x, f32::trunc)),
                Instr::F32Nearest { dst, src } => {
                    f32un!(dst, src, |x| num::round_f32(x, f32::round_ties_even))
                }
                Instr::F32Sqrt { dst, src } => f32un!(dst, src, f32::sqrt),
                Instr::F64Ceil { dst, src } => f64un!(dst, src, |x| num::round_f64(x, f64::ceil)),
                Instr::F64Floor { dst, src } => f64un!(dst, src, |x| num::round_f64(x, f64::floor)),
                Instr::F64Trunc { dst, src } => f64un!(dst, src, |x| num::round_f64(x, f64::trunc)),
                Instr::F64Nearest { dst, src } => {
                    f64un!(dst, src, |x| num::round_f64(x, f64::round_ties_even))
                }
                Instr::F64Sqrt { dst, src } => f64un!(dst, src, f64::sqrt),
                Instr::F32Add { dst, lhs, rhs } => f32bin!(dst, lhs, rhs, |a, b| a + b),
                Instr::F32Sub { dst, lhs, rhs } => f32bin!(dst, lhs, rhs, |a, b| a - b),
                Instr::F32Mul { dst, lhs, rhs } => f32bin!(dst, lhs, rhs, |a, b| a * b),
                Instr::F32Div { dst, lhs, rhs } => f32bin!(dst, lhs, rhs, |a, b| a / b),
                Instr::F32Min { dst, lhs, rhs } => f32bin!(dst, lhs, rhs, num::f32_min),
                Instr::F32Max { dst, lhs, rhs } => f32bin!(dst, lhs, rhs, num::f32_max),
                Instr::F64Add { dst, lhs, rhs } => f64bin!(dst, lhs, rhs, |a, b| a + b),
                Instr::F64Sub { dst, lhs, rhs } => f64bin!(dst, lhs, rhs, |a, b| a - b),
                Instr::F64Mul { dst, lhs, rhs } => f64bin!(dst, lhs, rhs, |a, b| a * b),
                Instr::F64Div { dst, lhs, rhs } => f64bin!(dst, lhs, rhs, |a, b| a / b),
                Instr::F64Min { dst, lhs, rhs } => f64bin!(dst, lhs, rhs, num::f64_min),
                Instr::F64Max { dst, lhs, rhs } => f64bin!(dst, lhs, rhs, num::f64_max),

                // --- Conversions ---
                Instr::I32WrapI64 { dst, src } => un!(dst, src, |a: u64| a as u32 as u64),
                Instr::I64ExtendI32S { dst, src } => {
                    un!(dst, src, |a: u64| a as u32 as i32 as i64 as u64)
                }
                Instr::I64ExtendI32U { dst, src } => un!(dst, src, |a: u64| a as u32 as u64),
                Instr::I32Extend8S { dst, src } => {
                    un!(dst, src, |a: u64| num::from_i32(a as i8 as i32))
                }
                Instr::I32Extend16S { dst, src } => {
                    un!(dst, src, |a: u64| num::from_i32(a as i16 as i32))
                }
                Instr::I64Extend8S { dst, src } => un!(dst, src, |a: u64| a as i8 as i64 as u64),
                Instr::I64Extend16S { dst, src } => un!(dst, src, |a: u64| a as i16 as i64 as u64),
                Instr::I64Extend32S { dst, src } => un!(dst, src, |a: u64| a as i32 as i64 as u64),
                Instr::I32TruncF32S { dst, src } => w!(dst, trunc::i32_f32_s(r!(src))?),
                Instr::I32TruncF32U { dst, src } => w!(dst, trunc::i32_f32_u(r!(src))?),
                Instr::I32TruncF64S { dst, src } => w!(dst, trunc::i32_f64_s(r!(src))?),
                Instr::I32TruncF64U { dst, src } => w!(dst, trunc::i32_f64_u(r!(src))?),
                Instr::I64TruncF32S { dst, src } => w!(dst, trunc::i64_f32_s(r!(src))?),
                Instr::I64TruncF32U { dst, src } => w!(dst, trunc::i64_f32_u(r!(src))?),
                Instr::I64TruncF64S { dst, src } => w!(dst, trunc::i64_f64_s(r!(src))?),
                Instr::I64TruncF64U { dst, src } => w!(dst, trunc::i64_f64_u(r!(src))?),
                // Rust's `as` from float to int saturates and maps NaN to 0: exactly
                // the spec's trunc_sat.
                Instr::I32TruncSatF32S { dst, src } => {
                    un!(dst, src, |a| num::from_i32(num::f32_of(a) as i32))
                }
                Instr::I32TruncSatF32U { dst, src } => {
                    un!(dst, src, |a| num::f32_of(a) as u32 as u64)
                }
                Instr::I32TruncSatF64S { dst, src } => {
                    un!(dst, src, |a| num::from_i32(num::f64_of(a) as i32))
                }
                Instr::I32TruncSatF64U { dst, src } => {
                    un!(dst, src, |a| num::f64_of(a) as u32 as u64)
                }
                Instr::I64TruncSatF32S { dst, src } => {
                    un!(dst, src, |a| num::f32_of(a) as i64 as u64)
                }
                Instr::I64TruncSatF32U { dst, src } => un!(dst, src, |a| num::f32_of(a) as u64),
                Instr::I64TruncSatF64S { dst, src } => {
                    un!(dst, src, |a| num::f64_of(a) as i64 as u64)
                }
                Instr::I64TruncSatF64U { dst, src } => un!(dst, src, |a| num::f64_of(a) as u64),
                // Rust's int-to-float `as` rounds to nearest, ties to even, as the spec.
                Instr::F32ConvertI32S { dst, src } => {
                    un!(dst, src, |a| num::from_f32(num::i32_of(a) as f32))
                }
                Instr::F32ConvertI32U { dst, src } => {
                    un!(dst, src, |a| num::from_f32(a as u32 as f32))
                }
                Instr::F32ConvertI64S { dst, src } => {
                    un!(dst, src, |a| num::from_f32(a as i64 as f32))
                }
                Instr::F32ConvertI64U { dst, src } => un!(dst, src, |a| num::from_f32(a as f32)),
                Instr::F32DemoteF64 { dst, src } => {
                    un!(dst, src, |a| num::from_f32(num::f64_of(a) as f32))
                }
                Instr::F64ConvertI32S { dst, src } => {
                    un!(dst, src, |a| num::from_f64(num::i32_of(a) as f64))
                }
                Instr::F64ConvertI32U { dst, src } => {
                    un!(dst, src, |a| num::from_f64(a as u32 as f64))
                }
                Instr::F64ConvertI64S { dst, src } => {
                    un!(dst, src, |a| num::from_f64(a as i64 as f64))
                }
                Instr::F64ConvertI64U { dst, src } => un!(dst, src, |a| num::from_f64(a as f64)),
                Instr::F64PromoteF32 { dst, src } => {
                    un!(dst, src, |a| num::from_f64(num::f32_of(a) as f64))
                }
            }
        };

        pos.pc = ip.pc();
        match action {
            Action::Call { func, base } => {
                let abs = pos.base + base as usize;
                call::call_defined(st, &ctx.code, ctx.instance, &mut pos, func, abs, limits)?;
            }
            Action::CallImport { func, base } => {
                let abs = pos.base + base as usize;
                let sf = store.instances[ctx.instance as usize].funcs[func as usize];
                call::call_store_func(store, st, &mut ctx, &mut pos, sf, abs, limits)?;
                view = MemView::new(store, ctx.mem);
            }
            Action::CallStore { sf, base } => {
                let abs = pos.base + base as usize;
                call::call_store_func(store, st, &mut ctx, &mut pos, sf, abs, limits)?;
                view = MemView::new(store, ctx.mem);
            }
            Action::Return => match call::do_return(store, st, &mut ctx, &mut pos)? {
                call::Returned::ToCaller => {}
                call::Returned::ToOtherInstance => view = MemView::new(store, ctx.mem),
                call::Returned::ToHost => return Ok(()),
            },
        }
    }
}
