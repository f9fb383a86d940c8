//! Linear-memory loads and stores with the spec's bounds check.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-memory-mathsf-t-mathsf-load-xref-syntax-instructions-syntax-memarg-mathit-memarg>:
//! the effective address is the i32 operand plus the static offset, computed without
//! wrapping; any byte past the end traps.

use crate::error::TrapKind;
use crate::store::StoreData;

#[inline(always)]
fn range<const N: usize>(len: usize, addr: u64, offset: u32) -> Result<usize, TrapKind> {
    let ea = addr as u32 as u64 + offset as u64;
    if ea + N as u64 > len as u64 {
        return Err(out_of_bounds());
    }
    Ok(ea as usize)
}

#[cold]
fn out_of_bounds() -> TrapKind {
    TrapKind::MemoryOutOfBounds
}

/// The running instance's memory 0, its base and length cached for the execution loop.
///
/// Only valid while the memory is neither grown nor dropped: the executor makes a new
/// view whenever it (re)enters its inner loop (after every call and return, which may
/// run code that grows memory) and after `memory.grow`; nothing else in the inner loop
/// changes a memory's base or length.
#[derive(Clone, Copy)]
pub(crate) struct MemView {
    base: *mut u8,
    len: usize,
}

impl MemView {
    /// The view of store memory `mem`, or an empty one (`u32::MAX`: no memory).
    #[inline]
    pub fn new(store: &StoreData, mem: u32) -> MemView {
        match store.memories.get(mem as usize) {
            // SAFETY: the definition is the memory's own, always current, base and length.
            Some(m) => unsafe {
                let def = &*m.definition_ptr();
                MemView {
                    base: def.base,
                    len: def.length,
                }
            },
            None => MemView {
                base: std::ptr::NonNull::dangling().as_ptr(),
                len: 0,
            },
        }
    }

    #[inline(always)]
    pub fn load<const N: usize>(&self, addr: u64, offset: u32) -> Result<[u8; N], TrapKind> {
        let at = range::<N>(self.len, addr, offset)?;
        // SAFETY: `at + N <= len` (`range`), and `base..base + len` is the memory's live
        // allocation as long as this view is current (see the type's docs); unaligned
        // reads of plain bytes are always valid.
        Ok(unsafe { std::ptr::read_unaligned(self.base.add(at) as *const [u8; N]) })
    }

    #[inline(always)]
    pub fn store<const N: usize>(
        &self,
        addr: u64,
        offset: u32,
        bytes: [u8; N],
    ) -> Result<(), TrapKind> {
        let at = range::<N>(self.len, addr, offset)?;
        // SAFETY: as in `load`; no reference to the memory's bytes is live while the
        // executor runs Wasm instructions.
        unsafe { std::ptr::write_unaligned(self.base.add(at) as *mut [u8; N], bytes) };
        Ok(())
    }
}
