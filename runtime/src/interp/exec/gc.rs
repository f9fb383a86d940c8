//! The `Gc` instruction (`interp/gc.rs`): `ref.i31`, `i31.get_*`, `ref.test` and
//! `ref.cast`, run by the outer loop (`Action::Gc`) so that the inner
//! loop keeps one arm for all of them, as `other_memory.rs` does for its prefix.
//! `br_on_cast` and `br_on_cast_fail` are a `ref.test` into a scratch slot and a
//! conditional branch on it (`translate/gc.rs`).
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#reference-instructions>
//! and `#i31-instructions`.

use super::call::{Ctx, Pos};
use super::frame::Values;
use super::stack::ExecStack;
use crate::error::{Result, TrapKind};
use crate::interp::bytecode::Instr;
use crate::interp::gc::GcOp;
use crate::store::StoreData;
use crate::values::{AnyRef, I31};

/// Runs the `Gc` instruction just before `pos.pc` of the running function; execution
/// continues at `pos.pc`.
#[cold]
#[inline(never)]
pub(super) fn exec_at(store: &StoreData, st: &mut ExecStack, ctx: &Ctx, pos: &Pos) -> Result<()> {
    let code = &ctx.code.funcs[pos.func as usize];
    let instrs = &code.instrs;
    let Instr::Gc {
        op,
        dst,
        src,
        type_index,
    } = instrs[pos.pc - 1]
    else {
        unreachable!("`Action::Gc` after {:?}", instrs[pos.pc - 1]);
    };
    // The inner loop ran this frame in this window, so the stack holds it.
    let Some(mut regs) = Values::new(&mut st.values).window(pos.base, instrs) else {
        return Err(TrapKind::CallStackExhausted.into());
    };
    // SAFETY: `src` is a slot operand of a verified instruction of `code` (`Code::new`)
    // and `regs` is the window of the frame running `code`.
    let raw = unsafe { regs.get(src) };
    let result = match op {
        GcOp::RefI31 => AnyRef::I31(I31::wrapping(raw as u32 as i32)).to_raw(),
        GcOp::I31GetS | GcOp::I31GetU => {
            let Some(AnyRef::I31(v)) = AnyRef::from_raw(raw) else {
                // Validation: an `i31ref`, so null or an `i31`.
                return Err(TrapKind::NullI31Reference.into());
            };
            match op {
                GcOp::I31GetS => v.get_s() as u32 as u64,
                _ => u64::from(v.get_u()),
            }
        }
        GcOp::Test(target) | GcOp::Cast(target) => {
            let admitted = target.admits(raw, |raw| {
                let inst = &store.instances[ctx.instance as usize];
                let func = &store.funcs[(raw - 1) as usize];
                (store.types).is_subtype(func.type_id, inst.type_ids[type_index as usize])
            });
            if let GcOp::Cast(_) = op {
                return match admitted {
                    true => Ok(()),
                    false => Err(TrapKind::CastFailure.into()),
                };
            }
            u64::from(admitted)
        }
    };
    // SAFETY: as for `src`: `dst` is a slot operand of the same instruction.
    unsafe { regs.set(dst, result) };
    Ok(())
}
