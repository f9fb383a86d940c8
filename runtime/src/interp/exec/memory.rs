//! Linear-memory loads and stores with the spec's bounds check.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-memory-mathsf-t-mathsf-load-xref-syntax-instructions-syntax-memarg-mathit-memarg>:
//! the effective address is the address operand plus the static offset, computed without
//! wrapping; any byte past the end traps.
//!
//! Two views: [`MemView`], memory 0 of the execution loop, whose addresses are i32 and
//! offsets u32 (the hot path); and [`PrefixedView`], which the outer loop uses for an
//! instruction behind an `OtherMemory` prefix: any memory, with i32 or i64 addresses and
//! offsets up to u64 (memory64). Loads and stores reach either through [`MemAccess`].

use crate::error::TrapKind;
use crate::store::{StoreData, address_operand};

#[inline(always)]
fn range<const N: usize>(len: usize, addr: u64, offset: u32) -> Result<usize, TrapKind> {
    let ea = addr as u32 as u64 + offset as u64;
    if ea + N as u64 > len as u64 {
        return Err(out_of_bounds());
    }
    Ok(ea as usize)
}

/// `addr + offset` for a memory of `len` bytes when `N` bytes fit there. The sum of an
/// u64 address, an u64 offset and `N` is computed in u128, where it cannot wrap.
#[inline(always)]
fn range_64<const N: usize>(len: usize, addr: u64, offset: u64) -> Result<usize, TrapKind> {
    let ea = addr as u128 + offset as u128;
    if ea + N as u128 > len as u128 {
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

/// A memory that loads and stores `N` bytes at `addr + offset` (`offset` as the
/// instruction holds it), bounds checked.
pub(crate) trait MemAccess: Copy {
    fn load<const N: usize>(&self, addr: u64, offset: u32) -> Result<[u8; N], TrapKind>;
    fn store<const N: usize>(&self, addr: u64, offset: u32, bytes: [u8; N])
    -> Result<(), TrapKind>;
}

impl MemAccess for MemView {
    #[inline(always)]
    fn load<const N: usize>(&self, addr: u64, offset: u32) -> Result<[u8; N], TrapKind> {
        MemView::load(self, addr, offset)
    }

    #[inline(always)]
    fn store<const N: usize>(
        &self,
        addr: u64,
        offset: u32,
        bytes: [u8; N],
    ) -> Result<(), TrapKind> {
        MemView::store(self, addr, offset, bytes)
    }
}

/// The view the outer loop runs a prefixed memory instruction on (`other_memory.rs`):
/// any memory of the instance, with i64 addresses if it is 64-bit, and the high half of
/// the instruction's offset from the prefix (a 64-bit memory's offsets are u64; the
/// instruction keeps the low half).
#[derive(Clone, Copy)]
pub(crate) struct PrefixedView {
    view: MemView,
    is_64: bool,
    offset_high: u32,
}

impl PrefixedView {
    /// The view of store memory `mem` (which exists), for an instruction whose offset's
    /// high half is `offset_high`.
    pub fn new(store: &StoreData, mem: u32, offset_high: u32) -> PrefixedView {
        PrefixedView {
            view: MemView::new(store, mem),
            is_64: store.memories[mem as usize].is_64(),
            offset_high,
        }
    }

    /// `addr + offset` when `N` bytes fit there: `addr` is the operand slot (its low
    /// half for a 32-bit memory), `offset` the instruction's low half.
    #[inline(always)]
    fn at<const N: usize>(&self, addr: u64, offset: u32) -> Result<usize, TrapKind> {
        let addr = address_operand(addr, self.is_64);
        let offset = (self.offset_high as u64) << 32 | offset as u64;
        range_64::<N>(self.view.len, addr, offset)
    }
}

impl MemAccess for PrefixedView {
    #[inline(always)]
    fn load<const N: usize>(&self, addr: u64, offset: u32) -> Result<[u8; N], TrapKind> {
        let at = self.at::<N>(addr, offset)?;
        // SAFETY: `at + N <= len` (`range_64`), and `base..base + len` is the memory's
        // live allocation while the view is current (the outer loop makes it for one
        // instruction); unaligned reads of plain bytes are always valid.
        Ok(unsafe { std::ptr::read_unaligned(self.view.base.add(at) as *const [u8; N]) })
    }

    #[inline(always)]
    fn store<const N: usize>(
        &self,
        addr: u64,
        offset: u32,
        bytes: [u8; N],
    ) -> Result<(), TrapKind> {
        let at = self.at::<N>(addr, offset)?;
        // SAFETY: as in `load`; no reference to the memory's bytes is live meanwhile.
        unsafe { std::ptr::write_unaligned(self.view.base.add(at) as *mut [u8; N], bytes) };
        Ok(())
    }
}
