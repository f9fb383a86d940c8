//! The running function's view of its slots and instructions, without bounds checks.
//!
//! Both types are made from a verified [`Code`] (`interp/code.rs`), whose checks are the
//! reason the accesses below stay in range: every slot a scalar instruction names is
//! below `frame_size`, and control never leaves the instruction sequence. This is the
//! only place (with the cached memory view in `memory.rs`) where the executor uses
//! `unsafe`.

use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::error::TrapKind;
use crate::interp::bytecode::{Instr, Slot};
use crate::interp::code::Code;

/// The current frame's slot window: exactly `frame_size` cells of the value stack.
pub(super) struct Slots<'a> {
    ptr: NonNull<u64>,
    len: usize,
    _window: PhantomData<&'a mut [u64]>,
}

impl<'a> Slots<'a> {
    /// The window of `code`'s frame at the start of `values` (checked: the caller must
    /// have made the value stack large enough, which `ExecStack::enter` does).
    #[inline(always)]
    pub fn new(values: &'a mut [u64], code: &Code) -> Slots<'a> {
        let window = &mut values[..code.frame_size()];
        Slots {
            len: window.len(),
            ptr: NonNull::from(window).cast(),
            _window: PhantomData,
        }
    }

    #[inline(always)]
    pub fn get(&self, s: Slot) -> u64 {
        debug_assert!((s as usize) < self.len, "slot {s} of {}", self.len);
        // SAFETY: `s` comes from an instruction of the verified `Code` this window was
        // made for, so `s < frame_size == len` (`Code::new`, invariant 1), and the window
        // is borrowed exclusively for 'a.
        unsafe { *self.ptr.as_ptr().add(s as usize) }
    }

    #[inline(always)]
    pub fn set(&mut self, s: Slot, v: u64) {
        debug_assert!((s as usize) < self.len, "slot {s} of {}", self.len);
        // SAFETY: as in `get`.
        unsafe { *self.ptr.as_ptr().add(s as usize) = v }
    }

    /// The window as a checked slice (for SIMD, whose operands are not verified).
    pub fn as_mut_slice(&mut self) -> &mut [u64] {
        // SAFETY: `ptr..ptr + len` is the slice `new` borrowed for 'a, and `&mut self`
        // keeps this reborrow exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

/// The instruction pointer of the running function.
pub(super) struct Ip<'a> {
    ptr: *const Instr,
    start: *const Instr,
    code: &'a Code,
}

impl<'a> Ip<'a> {
    /// Points at instruction `pc` of `code` (checked).
    #[inline(always)]
    pub fn new(code: &'a Code, pc: usize) -> Ip<'a> {
        let at: *const Instr = &code[pc];
        Ip {
            ptr: at,
            start: code.as_ptr(),
            code,
        }
    }

    /// Index of the next instruction.
    #[inline(always)]
    pub fn pc(&self) -> usize {
        // SAFETY: both pointers are into the same slice (`code`), `ptr` at or after start.
        unsafe { self.ptr.offset_from(self.start) as usize }
    }

    #[inline(always)]
    fn check(&self) {
        debug_assert!(
            self.pc() < self.code.len(),
            "pc {} of {}",
            self.pc(),
            self.code.len()
        );
    }

    /// The next instruction; advances past it.
    #[inline(always)]
    pub fn next(&mut self) -> &'a Instr {
        self.check();
        // SAFETY: `ptr` points into `code`: it starts at a checked index, a jump sets it to
        // a verified target (invariant 2), and stepping past an instruction that is not
        // the last one stays in range; the last one never falls through (invariant 3), so
        // after it the loop either jumps or leaves.
        unsafe {
            let instr = &*self.ptr;
            self.ptr = self.ptr.add(1);
            instr
        }
    }

    /// Continues at instruction `target`, an operand of a verified branch.
    #[inline(always)]
    pub fn jump(&mut self, target: u32) {
        // SAFETY: `target < code.len()` (invariant 2), so the pointer stays in the slice.
        self.ptr = unsafe { self.start.add(target as usize) };
        self.check();
    }

    /// Steps over `n` instructions: a `BrTable` (`n <= len`) choosing one of its
    /// entries, or a fused counter (`n == 1`) stepping over the branch it replaced.
    #[inline(always)]
    pub fn skip(&mut self, n: u32) {
        // SAFETY: invariant 4: the `len + 1` entries follow a `BrTable` and `n <= len`; two
        // instructions follow a fused counter. Either way `ptr + n` stays in `code`.
        self.ptr = unsafe { self.ptr.add(n as usize) };
        self.check();
    }

    /// The `a` and `b` of the `Extra` after the current instruction, stepping over it.
    #[inline(always)]
    pub fn extra(&mut self) -> (u32, u32) {
        match *self.next() {
            Instr::Extra { a, b, .. } => (a, b),
            // Verified not to happen (invariant 4).
            _ => (0, 0),
        }
    }

    /// Moves to instruction `pc`, as advanced by out-of-line code (SIMD) that reads its
    /// own `Extra` words: checked, since that code is not verified.
    pub fn resume(&mut self, pc: usize) -> Result<(), TrapKind> {
        if pc >= self.code.len() {
            return Err(TrapKind::Unreachable);
        }
        *self = Ip::new(self.code, pc);
        Ok(())
    }
}
