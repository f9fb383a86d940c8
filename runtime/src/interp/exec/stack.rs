//! The executor's own stacks: 64-bit value cells for every frame's slots, and the
//! frames of the Wasm calls in progress. Wasm calls never recurse on the host stack.

use std::cell::RefCell;

use crate::error::{Result, TrapKind};
use crate::interp::bytecode::FuncCode;

/// A suspended caller.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    /// Defined function index in `instance`'s module.
    pub func: u32,
    /// Where to resume.
    pub pc: u32,
    pub instance: u32,
    /// Absolute index of the frame's slot 0.
    pub base: usize,
}

#[derive(Default)]
pub(super) struct ExecStack {
    pub values: Vec<u64>,
    pub frames: Vec<Frame>,
}

/// Stacks kept larger than this many cells are shrunk when returned to the pool.
const KEEP_CELLS: usize = 1 << 16;

thread_local! {
    /// Reused stacks, so that host-to-Wasm calls do not allocate; a host function that
    /// re-enters Wasm simply takes another one.
    static POOL: RefCell<Vec<ExecStack>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a stack from this thread's pool.
pub(super) fn with_stack<R>(f: impl FnOnce(&mut ExecStack) -> R) -> R {
    let mut stack = POOL.with(|p| p.borrow_mut().pop()).unwrap_or_default();
    let out = f(&mut stack);
    stack.frames.clear();
    if stack.values.len() > KEEP_CELLS {
        stack.values.truncate(KEEP_CELLS);
        stack.values.shrink_to(KEEP_CELLS);
    }
    POOL.with(|p| p.borrow_mut().push(stack));
    out
}

impl ExecStack {
    /// Prepares a frame for `code` at absolute slot `base` (its parameters already in
    /// place): checks the value-stack limit, zeroes the other locals and copies the
    /// constants in.
    #[inline]
    pub fn enter(&mut self, code: &FuncCode, base: usize, max_cells: usize) -> Result<()> {
        let end = base + code.instrs.frame_size();
        if end > self.values.len() {
            if end > max_cells {
                return Err(TrapKind::CallStackExhausted.into());
            }
            self.values.resize(end, 0);
        }
        init_frame(&mut self.values[base..end], code);
        Ok(())
    }
}

/// Zeroes the declared locals of a new frame of `code` (its parameters are in place) and
/// copies the constants in.
#[inline(always)]
pub(super) fn init_frame(frame: &mut [u64], code: &FuncCode) {
    let (params, locals) = (code.num_params as usize, code.num_locals as usize);
    // Most frames have at most four locals and four constants: four cells are zeroed,
    // then four copied (the constants, zero-padded), whatever the exact counts. The
    // extra cells written are constants rewritten right after, or operand-stack slots,
    // which nothing reads before writing.
    if locals - params <= 4 && code.consts.len() <= 4 && locals + 4 <= frame.len() {
        frame[params..params + 4].copy_from_slice(&[0; 4]);
        frame[locals..locals + 4].copy_from_slice(&code.head_consts);
        return;
    }
    // Otherwise: plain loops for small counts, as a call into memset/memcpy costs more
    // than the copy.
    let zeroed = &mut frame[params..locals];
    if zeroed.len() <= 4 {
        zeroed.iter_mut().take(4).for_each(|v| *v = 0);
    } else {
        zeroed.fill(0);
    }
    let consts = &mut frame[locals..locals + code.consts.len()];
    if consts.len() <= 4 {
        consts
            .iter_mut()
            .zip(&code.consts)
            .take(4)
            .for_each(|(d, s)| *d = *s);
    } else {
        consts.copy_from_slice(&code.consts);
    }
}
