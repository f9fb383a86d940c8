//! The execution loop: one `match` per instruction over the current frame's slots.
//!
//! Calls and returns never recurse on the host stack: calls between functions of the
//! running instance switch frames inside the inner loop (`dispatch.rs`); the rest (host
//! functions, other instances, growing the value stack, the depth limit's trap) leave it
//! for the outer one, here. Spec:
//! <https://webassembly.github.io/spec/core/exec/instructions.html>.

mod call;
#[cfg(feature = "op-coverage")]
pub(crate) mod coverage;
mod dispatch;
mod exceptions;
pub(super) mod frame;
mod gc;
pub(super) mod memory;
mod ops;
mod other_memory;
mod stack;
mod tables;

pub(crate) use call::Limits;
pub(crate) use call::invoke;
use call::{Ctx, Pos};
use frame::{Ip, Slots, Values};
use memory::MemView;
use stack::{ExecStack, Frame, init_frame};

use crate::error::{Backtrace, Error, FrameInfo, Result, TrapKind};
use crate::interp::ModuleCode;
use crate::interp::bytecode::{FuncCode, Slot};
use crate::store::StoreData;

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
    /// Tail-call defined function `func` of this instance (when the value stack must
    /// grow).
    TailCall {
        func: u32,
        base: u32,
    },
    /// Tail-call function `func` (module index space) through the instance's imports.
    TailCallImport {
        func: u32,
        base: u32,
    },
    /// Tail-call store function `sf` (resolved by `return_call_indirect`).
    TailCallStore {
        sf: u32,
        base: u32,
    },
    Return,
    /// Run the memory instruction at `pc`, after an `OtherMemory` prefix
    /// (`other_memory.rs`).
    OtherMemory,
    /// Run the `Gc` instruction before `pc` (`gc.rs`).
    Gc,
    /// `throw` of tag `tag` (module index space), its payload at slot `base`.
    Throw {
        tag: u32,
        base: u32,
    },
    /// `throw_ref` of exception `exn` (a store index).
    ThrowRef {
        exn: u32,
    },
}

/// The function the inner loop runs: its code, next instruction and slot window, and
/// the memory view of its instance. Calls and returns within the instance switch it.
struct Running<'a> {
    code: &'a FuncCode,
    ip: Ip<'a>,
    regs: Slots<'a>,
    /// Function and frame base (`pc` is only kept up to date outside the inner loop).
    pos: Pos,
    /// Memory 0 of the running instance; remade whenever it may have changed: after
    /// `memory.grow`, a host call, or a switch to another instance.
    view: MemView,
}

/// What calls and returns within the running instance switch between: its functions,
/// the value stack and the suspended callers.
struct Frames<'a> {
    module: &'a ModuleCode,
    instance: u32,
    values: Values<'a>,
    suspended: &'a mut Vec<Frame>,
    max_depth: usize,
}

impl<'a> Running<'a> {
    /// Enters defined function `func` of this instance, its arguments at slot `base`;
    /// false when the outer loop must do it (depth limit, value stack to grow).
    #[inline(always)]
    fn call(&mut self, frames: &mut Frames<'a>, func: u32, base: Slot) -> bool {
        let abs = self.pos.base + base as usize;
        let callee = &frames.module.funcs[func as usize];
        if frames.suspended.len() >= frames.max_depth {
            return false;
        }
        let Some(mut window) = frames.values.window(abs, &callee.instrs) else {
            return false;
        };
        // SAFETY: nothing reads or writes the caller's window while the slice lives.
        init_frame(unsafe { window.as_mut_slice() }, callee);
        frames.suspended.push(Frame {
            func: self.pos.func,
            pc: self.ip.pc() as u32,
            instance: frames.instance,
            base: self.pos.base,
        });
        self.pos.func = func;
        self.pos.base = abs;
        self.code = callee;
        self.regs = window;
        self.ip = Ip::start(&callee.instrs);
        true
    }

    /// Replaces the running function by defined function `func` of this instance, its
    /// arguments at slot `base`: they move down to slot 0, and the suspended frames are
    /// untouched, so the callee returns where the running function would have. False
    /// when the outer loop must do it (value stack to grow).
    #[inline(always)]
    fn tail_call(&mut self, frames: &mut Frames<'a>, func: u32, base: Slot) -> bool {
        let callee = &frames.module.funcs[func as usize];
        let Some(mut window) = frames.values.window(self.pos.base, &callee.instrs) else {
            return false;
        };
        let args = self.pos.base + base as usize;
        let num_params = callee.num_params as usize;
        if !frames.values.move_cells(args, self.pos.base, num_params) {
            return false;
        }
        // SAFETY: nothing reads or writes the replaced frame's window while the slice
        // lives.
        init_frame_out_of_line(unsafe { window.as_mut_slice() }, callee);
        self.pos.func = func;
        self.code = callee;
        self.regs = window;
        self.ip = Ip::start(&callee.instrs);
        true
    }

    /// Returns to a caller of this instance (the results are in place); false when the
    /// outer loop must do it.
    #[inline(always)]
    fn ret(&mut self, frames: &mut Frames<'a>) -> bool {
        let Some(&f) = frames
            .suspended
            .last()
            .filter(|f| f.instance == frames.instance)
        else {
            return false;
        };
        let caller = &frames.module.funcs[f.func as usize];
        let Some(window) = frames.values.window(f.base, &caller.instrs) else {
            return false;
        };
        frames.suspended.pop();
        self.pos.func = f.func;
        self.pos.base = f.base;
        self.code = caller;
        self.regs = window;
        self.ip = Ip::new(&caller.instrs, f.pc as usize);
        true
    }
}

/// Runs from `pos` in instance `ctx` until the entry function returns. An exception
/// that [`run_until_error`] lets out is looked for a handler of; when one is found, the
/// run goes on from its landing pad (RATIONALE.md, "Exceptions").
fn run(
    store: &mut StoreData,
    st: &mut ExecStack,
    mut ctx: Ctx,
    mut pos: Pos,
    limits: &Limits,
) -> Result<()> {
    loop {
        match run_until_error(store, st, &mut ctx, &mut pos, limits) {
            Ok(()) => return Ok(()),
            Err(Stop::Escape(e)) => return Err(e),
            // A trap leaves at once, with this entry's frames in its backtrace.
            Err(Stop::Error(mut e)) => {
                if let Some(backtrace) = e.trap_backtrace_mut() {
                    add_frames(store, st, &ctx, &pos, backtrace);
                    return Err(e);
                }
                exceptions::unwind(store, st, &mut ctx, &mut pos, e)?
            }
        }
    }
}

/// Appends this entry's frames to a trap's backtrace: the function at `pos` in `ctx`'s
/// instance, then the suspended callers, innermost first. A host function that called
/// into this entry is not a frame; the Wasm code that called it appends its own frames
/// when the trap comes back out of it (RATIONALE.md, "Trap backtraces").
#[cold]
#[inline(never)]
fn add_frames(store: &StoreData, st: &ExecStack, ctx: &Ctx, pos: &Pos, backtrace: &mut Backtrace) {
    let frame = |instance: u32, defined: u32| {
        let module = (store.instances[instance as usize].module.as_ref())
            .expect("a Wasm frame's instance has a module");
        let index = defined + module.info().num_imported_funcs;
        FrameInfo::new(index, module.frame_names())
    };
    let suspended = &st.frames;
    backtrace.extend(1 + suspended.len(), |i| match i {
        0 => frame(ctx.instance, pos.func),
        _ => {
            let f = suspended[suspended.len() - i];
            frame(f.instance, f.func)
        }
    });
}

/// Why [`run_until_error`] stopped short.
enum Stop {
    Error(Error),
    /// An error that no frame of this entry may catch (its frames are gone).
    Escape(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Error(e)
    }
}

/// The execution loop proper: runs until the entry function returns or an error. When
/// the error is an exception thrown by an action of the outer loop (`throw`, a call),
/// `ctx` and `pos` are where it was thrown; an error of the inner loop is always a trap.
fn run_until_error(
    store: &mut StoreData,
    st: &mut ExecStack,
    ctx: &mut Ctx,
    pos: &mut Pos,
    limits: &Limits,
) -> Result<(), Stop> {
    let mut view = MemView::new(store, ctx.mem);
    loop {
        let action = {
            let mut frames = Frames {
                module: &ctx.code,
                instance: ctx.instance,
                values: Values::new(&mut st.values),
                suspended: &mut st.frames,
                max_depth: limits.max_depth,
            };
            let code = &ctx.code.funcs[pos.func as usize];
            // `ExecStack::enter` sized the stack for this frame.
            let Some(regs) = frames.values.window(pos.base, &code.instrs) else {
                return Err(Error::from(TrapKind::CallStackExhausted).into());
            };
            let mut running = Running {
                code,
                ip: Ip::new(&code.instrs, pos.pc),
                regs,
                pos: *pos,
                view,
            };
            let action = match dispatch::run_frames(&mut running, &mut frames, store, ctx) {
                Ok(action) => action,
                Err(e) => {
                    // The trapping function, for the backtrace.
                    *pos = running.pos;
                    return Err(e.into());
                }
            };
            *pos = running.pos;
            pos.pc = running.ip.pc();
            view = running.view;
            action
        };

        match action {
            Action::Call { func, base } => {
                let abs = pos.base + base as usize;
                call::call_defined(st, &ctx.code, ctx.instance, pos, func, abs, limits)?;
            }
            Action::CallImport { func, base } => {
                let abs = pos.base + base as usize;
                let sf = store.instances[ctx.instance as usize].funcs[func as usize];
                call::call_store_func(store, st, ctx, pos, sf, abs, limits)?;
                view = MemView::new(store, ctx.mem);
            }
            Action::CallStore { sf, base } => {
                let abs = pos.base + base as usize;
                call::call_store_func(store, st, ctx, pos, sf, abs, limits)?;
                view = MemView::new(store, ctx.mem);
            }
            Action::TailCall { func, base } => {
                let args = pos.base + base as usize;
                call::tail_call_defined(st, &ctx.code, pos, func, args, limits)?;
            }
            Action::TailCallImport { func, base } => {
                let args = pos.base + base as usize;
                let sf = store.instances[ctx.instance as usize].funcs[func as usize];
                if tail_call_store_func(store, st, ctx, pos, sf, args, limits)? {
                    return Ok(());
                }
                view = MemView::new(store, ctx.mem);
            }
            Action::TailCallStore { sf, base } => {
                let args = pos.base + base as usize;
                if tail_call_store_func(store, st, ctx, pos, sf, args, limits)? {
                    return Ok(());
                }
                view = MemView::new(store, ctx.mem);
            }
            Action::OtherMemory => {
                pos.pc = other_memory::exec_at(store, st, ctx, pos)?;
                view = MemView::new(store, ctx.mem);
            }
            Action::Gc => pos.pc = gc::exec_at(store, st, ctx, pos)?,
            Action::Return => match call::do_return(store, st, ctx, pos)? {
                call::ReturnedTo::Caller => {}
                call::ReturnedTo::OtherInstance => view = MemView::new(store, ctx.mem),
                call::ReturnedTo::Host => return Ok(()),
            },
            Action::Throw { tag, base } => {
                let exn = exceptions::throw(store, st, ctx, tag, pos.base + base as usize);
                return Err(exn.into());
            }
            Action::ThrowRef { exn } => return Err(store.exception_error(exn).into()),
        }
    }
}

/// Tail-calls store function `sf`, its arguments at absolute slot `args`; true when that
/// returned to the host (the entry function's frame was replaced by a host function).
///
/// A Wasm function, of this instance or another, replaces the current frame. A host
/// function is called as usual, then its results go to slot 0 and the current frame
/// returns: host functions run to completion on the host stack anyway, and constant
/// stack space only matters for Wasm-to-Wasm tail-call loops, which do not come here.
fn tail_call_store_func(
    store: &mut StoreData,
    st: &mut ExecStack,
    ctx: &mut Ctx,
    pos: &mut Pos,
    sf: u32,
    args: usize,
    limits: &Limits,
) -> Result<bool, Stop> {
    if call::tail_call_wasm(store, st, ctx, pos, sf, args, limits)? {
        return Ok(false);
    }
    let called = call::call_host_at(store, st, ctx.instance, sf, args, pos.base);
    // The tail call replaced this frame, so its `try_table`s no longer apply to what the
    // host function throws: the search starts at the caller, and with no caller in this
    // entry, nothing here may catch it.
    let returned = call::do_return(store, st, ctx, pos)?;
    match (called, returned) {
        (Ok(()), returned) => Ok(matches!(returned, call::ReturnedTo::Host)),
        (Err(e), call::ReturnedTo::Host) => Err(Stop::Escape(e)),
        (Err(e), _) => Err(e.into()),
    }
}

/// `init_frame` for tail calls, out of the inner loop's code: inlined a second time
/// there, it made every other instruction slower.
#[inline(never)]
fn init_frame_out_of_line(frame: &mut [u64], code: &FuncCode) {
    init_frame(frame, code);
}
