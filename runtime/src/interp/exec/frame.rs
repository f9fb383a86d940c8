//! The running function's view of its slots and instructions, without bounds checks.
//!
//! Both types are made from a verified [`Code`] (`interp/code.rs`), whose checks are the
//! reason the accesses below stay in range: every slot an instruction names is below
//! `frame_size`, and control never leaves the instruction sequence. The unchecked
//! accesses are `unsafe fn`s, so every use states why it is in range: the execution
//! loop and the SIMD executor reach the slots through the macros at the end of this
//! file, and branch targets through `jump!` (`ops.rs`), whose `// SAFETY:` comments
//! state that argument once for all their uses; the few other calls (`dispatch.rs`,
//! `mod.rs`) carry their own.

use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::interp::bytecode::{Instr, Slot};
use crate::interp::code::Code;

/// The whole value stack, from which the running function's slot window is taken.
pub(super) struct Values<'a> {
    ptr: NonNull<u64>,
    len: usize,
    _stack: PhantomData<&'a mut [u64]>,
}

impl<'a> Values<'a> {
    #[inline(always)]
    pub fn new(values: &'a mut [u64]) -> Values<'a> {
        Values {
            len: values.len(),
            ptr: NonNull::from(values).cast(),
            _stack: PhantomData,
        }
    }

    /// The `code.frame_size()` cells at `base`, if the stack holds them (checked).
    ///
    /// Windows may overlap (a callee's parameters are its caller's arguments); each
    /// is a raw view, accessed only through its `unsafe` methods.
    #[inline(always)]
    pub fn window(&self, base: usize, code: &Code) -> Option<Slots<'a>> {
        let len = code.frame_size();
        if base > self.len || len > self.len - base {
            return None;
        }
        Some(Slots {
            // SAFETY: `base + len <= self.len`, so the window is inside the stack.
            ptr: unsafe { self.ptr.add(base) },
            len,
            _window: PhantomData,
        })
    }
}

impl Values<'_> {
    /// Copies the `n` cells at `from` to `to` (the ranges may overlap), if both ranges
    /// are inside the stack (checked); a tail call's arguments moving down to the base of
    /// the frame it replaces.
    #[inline(always)]
    pub fn move_cells(&mut self, from: usize, to: usize, n: usize) -> bool {
        if from.max(to) > self.len || n > self.len - from.max(to) {
            return false;
        }
        // SAFETY: both ranges are inside the stack (checked above); `ptr::copy` allows
        // them to overlap, and no slice of the stack lives across this call (windows are
        // raw views).
        unsafe { std::ptr::copy(self.ptr.as_ptr().add(from), self.ptr.as_ptr().add(to), n) };
        true
    }
}

/// Debug builds check every unchecked access (the test profile keeps them on), without
/// putting the message's arguments in memory on the hot path: a `debug_assert!` with a
/// message takes their addresses, which keeps them, and the loop state they live in,
/// out of registers.
#[inline(always)]
fn check_slot(s: usize, len: usize) {
    if cfg!(debug_assertions) && s >= len {
        out_of_range("slot", s, len);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn out_of_range(what: &str, index: usize, len: usize) -> ! {
    panic!("{what} {index} out of range (of {len}): `Code::new` should have caught it")
}

/// The current frame's slot window: exactly `frame_size` cells of the value stack.
pub(crate) struct Slots<'a> {
    ptr: NonNull<u64>,
    len: usize,
    _window: PhantomData<&'a mut [u64]>,
}

impl Slots<'_> {
    /// Slot `s`.
    ///
    /// # Safety
    ///
    /// `s` is below the window's length: a slot operand of an instruction of the
    /// verified `Code` this window was made for (`Code::new`, invariant 1).
    #[inline(always)]
    pub unsafe fn get(&self, s: Slot) -> u64 {
        check_slot(s as usize, self.len);
        // SAFETY: `s < len` (the caller's contract), so the cell is inside the window.
        unsafe { *self.ptr.as_ptr().add(s as usize) }
    }

    /// Writes slot `s`.
    ///
    /// # Safety
    ///
    /// As for [`Slots::get`].
    #[inline(always)]
    pub unsafe fn set(&mut self, s: Slot, v: u64) {
        check_slot(s as usize, self.len);
        // SAFETY: as in `get`.
        unsafe { *self.ptr.as_ptr().add(s as usize) = v }
    }

    /// The `v128` in slots `s` and `s + 1` (low half first).
    ///
    /// # Safety
    ///
    /// `s + 1` is below the window's length: `s` is a `v128` operand of an instruction
    /// of the verified `Code` this window was made for (`Code::new`, invariant 1).
    #[inline(always)]
    pub unsafe fn get_wide(&self, s: Slot) -> u128 {
        check_slot(s as usize + 1, self.len);
        // SAFETY: `s + 1 < len` (the caller's contract): both cells are in the window.
        unsafe {
            let p = self.ptr.as_ptr().add(s as usize);
            *p as u128 | (*p.add(1) as u128) << 64
        }
    }

    /// Writes a `v128` to slots `s` and `s + 1`.
    ///
    /// # Safety
    ///
    /// As for [`Slots::get_wide`].
    #[inline(always)]
    pub unsafe fn set_wide(&mut self, s: Slot, v: u128) {
        check_slot(s as usize + 1, self.len);
        // SAFETY: as in `get_wide`.
        unsafe {
            let p = self.ptr.as_ptr().add(s as usize);
            *p = v as u64;
            *p.add(1) = (v >> 64) as u64;
        }
    }

    /// The same window, borrowed for out-of-line code (SIMD), passed in registers.
    #[inline(always)]
    pub fn reborrow(&mut self) -> Slots<'_> {
        Slots {
            ptr: self.ptr,
            len: self.len,
            _window: PhantomData,
        }
    }

    /// The window as a slice (to set up a new frame).
    ///
    /// # Safety
    ///
    /// No other window's cells that overlap this one are accessed while the slice lives.
    pub unsafe fn as_mut_slice(&mut self) -> &mut [u64] {
        // SAFETY: `ptr..ptr + len` is inside the stack `Values::window` borrowed, and
        // the caller keeps other windows off these cells while the slice lives.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

/// The instruction pointer of the running function.
pub(super) struct Ip<'a> {
    ptr: *const Instr,
    code: &'a Code,
}

impl<'a> Ip<'a> {
    /// Points at instruction `pc` of `code` (checked).
    #[inline(always)]
    pub fn new(code: &'a Code, pc: usize) -> Ip<'a> {
        Ip {
            ptr: &code[pc],
            code,
        }
    }

    /// Points at the first instruction of `code`, which has one (invariant 3: its
    /// last never falls through), so no check is needed.
    #[inline(always)]
    pub fn start(code: &'a Code) -> Ip<'a> {
        Ip {
            ptr: code.as_ptr(),
            code,
        }
    }

    /// Index of the next instruction.
    #[inline(always)]
    pub fn pc(&self) -> usize {
        // SAFETY: `ptr` points into `code` (see `next`), at or after its start.
        unsafe { self.ptr.offset_from(self.code.as_ptr()) as usize }
    }

    #[inline(always)]
    fn check(&self) {
        if cfg!(debug_assertions) && self.pc() >= self.code.len() {
            out_of_range("pc", self.pc(), self.code.len());
        }
    }

    /// The next instruction; advances past it.
    ///
    /// # Safety
    ///
    /// `ptr` points inside `code`: the instruction fetched before (if any) was not the
    /// last one, or control jumped since (the last one never falls through, invariant 3).
    #[inline(always)]
    pub unsafe fn next(&mut self) -> &'a Instr {
        self.check();
        // SAFETY: `ptr` points inside `code` (the caller's contract), so reading it and
        // stepping one past it stay within or one past the end of `code`.
        unsafe {
            let instr = &*self.ptr;
            self.ptr = self.ptr.add(1);
            instr
        }
    }

    /// The next instruction, without advancing past it.
    ///
    /// # Safety
    ///
    /// As for [`Ip::next`]: `ptr` points inside `code`.
    #[inline(always)]
    pub unsafe fn peek(&self) -> &'a Instr {
        self.check();
        // SAFETY: `ptr` points inside `code` (the caller's contract).
        unsafe { &*self.ptr }
    }

    /// Takes the branch just fetched (`next`), whose operand is `rel`.
    ///
    /// # Safety
    ///
    /// `rel` is the target operand of the branch just fetched from the verified `code`:
    /// `Code::new` stored it as `target - (pc + 1)` after checking `target <
    /// code.len()` (invariant 2).
    #[inline(always)]
    pub unsafe fn jump(&mut self, rel: u32) {
        // SAFETY: `ptr` is `pc + 1` right after fetching the branch at `pc`, so the
        // result points at `target`, inside `code` (the caller's contract).
        self.ptr = unsafe { self.ptr.offset(rel as i32 as isize) };
        self.check();
    }

    /// Steps over `n` instructions: a `BrTable` (`n <= len`) choosing one of its
    /// entries, or a fused counter (`n == 1`) stepping over the branch it replaced.
    ///
    /// # Safety
    ///
    /// At least `n + 1` instructions follow the one just fetched: a `BrTable { len }`
    /// is followed by its `len + 1` entries and a fused counter by two instructions
    /// (invariant 4).
    #[inline(always)]
    pub unsafe fn skip(&mut self, n: u32) {
        // SAFETY: `ptr + n` points at one of the instructions that follow (the caller's
        // contract), inside `code`.
        self.ptr = unsafe { self.ptr.add(n as usize) };
        self.check();
    }

    /// The `a` and `b` of the `Extra` after the current instruction, stepping over it.
    ///
    /// # Safety
    ///
    /// The instruction just fetched reads an `Extra`, so one follows it (invariant 4).
    #[inline(always)]
    pub unsafe fn extra(&mut self) -> (u32, u32) {
        // SAFETY: the `Extra` follows (the caller's contract), inside `code`.
        match unsafe { *self.next() } {
            Instr::Extra { a, b, .. } => (a, b),
            // Verified not to happen (invariant 4).
            _ => (0, 0),
        }
    }

    /// If the instruction after the current one is an `Extra`, its `a` and `b`, stepping
    /// over it; otherwise `(0, 0)` (for SIMD, whose operators differ in using one).
    ///
    /// # Safety
    ///
    /// The instruction just fetched (`next`) must not be the last one, so that `ptr`
    /// points inside `code`.
    #[inline(always)]
    pub unsafe fn take_extra(&mut self) -> (u32, u32) {
        self.check();
        // SAFETY: `ptr` points inside `code` (the caller's contract).
        match unsafe { &*self.ptr } {
            Instr::Extra { a, b, .. } => {
                // SAFETY: an `Extra` is never the last instruction (invariant 3), so the
                // one after it is inside `code`.
                self.ptr = unsafe { self.ptr.add(1) };
                (*a, *b)
            }
            _ => (0, 0),
        }
    }
}

// The slot accesses of the execution loop (`exec/dispatch.rs`, `exec/ops.rs`) and of the
// SIMD executor (`simd/exec.rs`). They only ever name slot operands of the instruction
// being executed, in the window of the code it belongs to.

/// Slot `$s` of the window `$regs`.
macro_rules! slot {
    ($regs:expr, $s:expr) => {{
        let (regs, s): (&$crate::interp::exec::frame::Slots<'_>, u32) = (&$regs, $s);
        // SAFETY: `s` is a slot operand of the instruction being executed, which
        // `Code::new` verified below the frame size of its code (invariant 1), the length
        // of that code's window `regs`.
        unsafe { regs.get(s) }
    }};
}
pub(crate) use slot;

/// Writes `$v` to slot `$s` of the window `$regs`.
macro_rules! set_slot {
    ($regs:expr, $s:expr, $v:expr) => {{
        let (s, v): (u32, u64) = ($s, $v);
        let regs: &mut $crate::interp::exec::frame::Slots<'_> = &mut $regs;
        // SAFETY: as in `slot!`.
        unsafe { regs.set(s, v) }
    }};
}
pub(crate) use set_slot;

/// The `v128` at slot `$s` of the window `$regs`.
macro_rules! wide {
    ($regs:expr, $s:expr) => {{
        let (regs, s): (&$crate::interp::exec::frame::Slots<'_>, u32) = (&$regs, $s);
        // SAFETY: `s` is a `v128` operand of the instruction being executed, which
        // `Code::new` verified, with the slot after it, below the frame size of its code
        // (invariant 1), the length of that code's window `regs`.
        unsafe { regs.get_wide(s) }
    }};
}
pub(crate) use wide;

/// Writes the `v128` `$v` to slot `$s` of the window `$regs`.
macro_rules! set_wide {
    ($regs:expr, $s:expr, $v:expr) => {{
        let (s, v): (u32, u128) = ($s, $v);
        let regs: &mut $crate::interp::exec::frame::Slots<'_> = &mut $regs;
        // SAFETY: as in `wide!`.
        unsafe { regs.set_wide(s, v) }
    }};
}
pub(crate) use set_wide;
