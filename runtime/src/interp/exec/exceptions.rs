//! Throwing and catching (Wasm 3.0 exception handling). Spec:
//! <https://webassembly.github.io/spec/core/exec/instructions.html#exception-handling>.
//!
//! A thrown exception is an object in the store; while it looks for a handler it
//! travels as `Error::Exception` (the store's own error type), so a `?` anywhere on the
//! way, and a host function that throws one, need nothing of their own. The outer loop
//! hands every such error to [`unwind`], which walks the interpreter's frames of this
//! host entry from the innermost out, looking in each function's handler table for a
//! `try_table` clause that covers the frame's resume point and matches the tag. None
//! found: the error leaves this entry, to the host function that called in (whose
//! caller's frames continue the search) or to the embedder. Traps are not exceptions
//! and pass through untouched: `try_table` never catches them.

use super::call::{Ctx, Pos, load_ctx, read_value, write_value};
use super::stack::ExecStack;
use crate::error::{Error, Result};
use crate::store::StoreData;
use crate::values::with_raw_values;

/// `throw` of tag `tag` (module index space) in instance `ctx`, its payload at absolute
/// slot `base`: the new exception, as the error that unwinds.
#[cold]
pub(super) fn throw(
    store: &mut StoreData,
    st: &ExecStack,
    ctx: &Ctx,
    tag: u32,
    base: usize,
) -> Error {
    let tag = store.instances[ctx.instance as usize].tags[tag as usize];
    let ty = store.tags[tag as usize].ty.clone();
    with_raw_values(ty.params().len(), |payload| {
        let mut at = base;
        for (cell, t) in payload.iter_mut().zip(ty.params()) {
            *cell = read_value(&st.values, &mut at, *t);
        }
        let exn = store.new_exception(tag, payload);
        store.exception_error(exn)
    })
}

/// Looks for a handler of `error` from the frame at `pos` outwards. On a match, the
/// frames above the handler's are gone, `ctx` and `pos` are the handler's (at its
/// landing pad) and the label's values are in place: `Ok(())`. Otherwise `Err(error)`,
/// with the frames of this entry all popped (traps, exits and host errors always).
#[cold]
#[inline(never)]
pub(super) fn unwind(
    store: &StoreData,
    st: &mut ExecStack,
    ctx: &mut Ctx,
    pos: &mut Pos,
    error: Error,
) -> Result<()> {
    let Some(exn) = store.thrown_exception(&error) else {
        return Err(error);
    };
    let tag = store.exception_tag(exn);
    loop {
        let code = &ctx.code.funcs[pos.func as usize];
        let resume = pos.pc as u32;
        let tags = &store.instances[ctx.instance as usize].tags;
        let caught = code.handlers.iter().find(|h| {
            h.start < resume && resume <= h.end && h.tag.is_none_or(|t| tags[t as usize] == tag)
        });
        if let Some(h) = caught {
            let mut at = pos.base + h.dst as usize;
            if h.tag.is_some() {
                let ty = &store.tags[tag as usize].ty;
                for (v, t) in store.exception_payload(exn).iter().zip(ty.params()) {
                    write_value(&mut st.values, &mut at, *v, *t);
                }
            }
            if h.with_ref {
                st.values[at] = exn as u64 + 1;
            }
            pos.pc = h.target as usize;
            return Ok(());
        }
        let Some(f) = st.frames.pop() else {
            return Err(error);
        };
        if f.instance != ctx.instance {
            *ctx = load_ctx(store, f.instance)?;
        }
        *pos = Pos {
            func: f.func,
            pc: f.pc as usize,
            base: f.base,
        };
    }
}
