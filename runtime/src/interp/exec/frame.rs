//! The running function's view of its slots and instructions, without bounds checks.
//!
//! Both types are made from a verified [`Code`] (`interp/code.rs`), whose checks are the
//! reason the accesses below stay in range: every slot a scalar instruction names is
//! below `frame_size`, and control never leaves the instruction sequence. This is the
//! only place (with the cached memory view in `memory.rs`) where the executor uses
//! `unsafe`.

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
    #[inline(always)]
    pub fn window(&mut self, base: usize, code: &Code) -> Option<Slots<'_>> {
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

/// The current frame's slot window: exactly `frame_size` cells of the value stack.
pub(crate) struct Slots<'a> {
    ptr: NonNull<u64>,
    len: usize,
    _window: PhantomData<&'a mut [u64]>,
}

impl Slots<'_> {
    #[inline(always)]
    pub fn get(&self, s: Slot) -> u64 {
        debug_assert!((s as usize) < self.len, "slot {s} of {}", self.len);
        // SAFETY: `s` comes from an instruction of the verified `Code` this window was
        // made for, so `s < frame_size == len` (`Code::new`, invariant 1), and the window
        // borrows the value stack exclusively.
        unsafe { *self.ptr.as_ptr().add(s as usize) }
    }

    #[inline(always)]
    pub fn set(&mut self, s: Slot, v: u64) {
        debug_assert!((s as usize) < self.len, "slot {s} of {}", self.len);
        // SAFETY: as in `get`.
        unsafe { *self.ptr.as_ptr().add(s as usize) = v }
    }

    /// The `v128` in slots `s` and `s + 1` (low half first).
    #[inline(always)]
    pub fn get_wide(&self, s: Slot) -> u128 {
        debug_assert!((s as usize) + 1 < self.len, "slot {s}+1 of {}", self.len);
        // SAFETY: `s` is a `v128` operand of a verified `Simd` instruction (or of one
        // lowered from it, verified as it), so `s` and `s + 1` are both
        // `< frame_size == len` (`Code::new`, invariant 1).
        unsafe {
            let p = self.ptr.as_ptr().add(s as usize);
            *p as u128 | (*p.add(1) as u128) << 64
        }
    }

    /// Writes a `v128` to slots `s` and `s + 1`.
    #[inline(always)]
    pub fn set_wide(&mut self, s: Slot, v: u128) {
        debug_assert!((s as usize) + 1 < self.len, "slot {s}+1 of {}", self.len);
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
    pub fn as_mut_slice(&mut self) -> &mut [u64] {
        // SAFETY: `ptr..ptr + len` is inside the stack `Values::window` borrowed, and
        // `&mut self` keeps this reborrow exclusive.
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

    /// Index of the next instruction.
    #[inline(always)]
    pub fn pc(&self) -> usize {
        // SAFETY: `ptr` points into `code` (see `next`), at or after its start.
        unsafe { self.ptr.offset_from(self.code.as_ptr()) as usize }
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
        // SAFETY: `ptr` points into `code`: it starts at a checked index, a jump moves it
        // to a verified target (invariant 2), and stepping past an instruction that is not
        // the last one stays in range; the last one never falls through (invariant 3), so
        // after it the loop either jumps or leaves.
        unsafe {
            let instr = &*self.ptr;
            self.ptr = self.ptr.add(1);
            instr
        }
    }

    /// Takes the branch just fetched (`next`), whose operand is `rel`.
    #[inline(always)]
    pub fn jump(&mut self, rel: u32) {
        // SAFETY: `Code::new` stored `rel = target - (pc + 1)` for the branch at `pc`, after
        // checking `target < code.len()` (invariant 2); `ptr` is `pc + 1` right after
        // fetching it, so the result points at `target`, inside `code`.
        self.ptr = unsafe { self.ptr.offset(rel as i32 as isize) };
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
