//! Linear memories whose out-of-bounds accesses fault: the backing of 32-bit memories
//! when the native engine leaves bounds checks out (`Config::signal_traps`, RATIONALE.md
//! "Guard pages and signal traps").
//!
//! A [`GuardedMemory`] reserves [`GUARDED_RESERVATION`] bytes of address space with no
//! access (`PROT_NONE`, `MAP_NORESERVE`: no memory is committed) and makes the first
//! `len` bytes read-write; growing makes more of them read-write in place, so the base
//! never moves. Any access to `[len, GUARDED_RESERVATION)` faults, and that range holds
//! every address `addr + offset + size` with `addr < 2^32` and `offset + size <=`
//! `GUARD_BYTES`: the compiled code's only bounds check is the hardware's.

use std::ptr::NonNull;

use super::memory::{GUARDED_RESERVATION as RESERVATION, LinearMemory};

/// The most bytes a 32-bit memory may address.
const ADDRESSABLE: usize = 1 << 32;
/// The whole mapping (this module exists on 64-bit hosts only).
const GUARDED_RESERVATION: usize = RESERVATION as usize;

/// `len` read-write bytes at `base`, followed by no-access bytes up to
/// `GUARDED_RESERVATION`, all one mapping owned by this value.
pub(super) struct GuardedMemory {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is owned exclusively (like a `Vec<u8>`); the only other copy of the
// pointer is in the memory's `VMMemoryDefinition`, which moves with it.
unsafe impl Send for GuardedMemory {}

impl GuardedMemory {
    pub(super) fn new(len: usize) -> Option<GuardedMemory> {
        if len > ADDRESSABLE {
            return None;
        }
        // SAFETY: asks for new address space at an address of the kernel's choosing;
        // touches no existing memory.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                GUARDED_RESERVATION,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        let mut memory = GuardedMemory {
            base: NonNull::new(p.cast())?,
            len: 0,
        };
        // On failure, dropping `memory` unmaps the reservation.
        memory.make_accessible(len)?;
        Some(memory)
    }

    /// Makes `[len, new_len)` read-write (new anonymous pages read as zero).
    fn make_accessible(&mut self, new_len: usize) -> Option<()> {
        if new_len < self.len || new_len > ADDRESSABLE {
            return None;
        }
        if new_len > self.len {
            // SAFETY: `[len, new_len)` lies inside our reservation (new_len <= 4 GiB);
            // `len` is a multiple of the Wasm page size, hence of the host page size, as
            // `mprotect` needs.
            let r = unsafe {
                libc::mprotect(
                    self.base.as_ptr().add(self.len).cast(),
                    new_len - self.len,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            };
            if r != 0 {
                return None;
            }
            self.len = new_len;
        }
        Some(())
    }
}

impl LinearMemory for GuardedMemory {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: the first `len` bytes of the mapping are read-write, owned by `self`,
        // and initialised (zero-filled by the kernel, written only through such slices).
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr(), self.len) }
    }

    fn reallocate(&mut self, new_len: usize) -> Option<&mut [u8]> {
        self.make_accessible(new_len)?;
        Some(self.as_mut_slice())
    }

    fn reserved_bytes(&self) -> usize {
        GUARDED_RESERVATION
    }
}

impl Drop for GuardedMemory {
    fn drop(&mut self) {
        // SAFETY: our reservation, unmapped once; nothing refers to it any more (the
        // memory instance owning this backing is being dropped).
        unsafe { libc::munmap(self.base.as_ptr().cast(), GUARDED_RESERVATION) };
    }
}
