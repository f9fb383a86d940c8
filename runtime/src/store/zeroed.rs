//! The default backing of linear memories: memory that is zero without being written.
//!
//! Creating a memory must not cost in proportion to its size (wasmtime maps lazily zeroed
//! pages; a 16 MiB memory filled with `Vec::resize` cost 16.8M instructions). So:
//!
//! - from [`MAP_MIN`] bytes on (on Linux), an anonymous private mapping: the kernel hands
//!   out zero pages on first touch, and growing is `mremap`, which neither copies (it moves
//!   page tables) nor writes zeros (new pages of an anonymous mapping are zero);
//! - below that, the global allocator's `alloc_zeroed` (calloc), and on growth `realloc`
//!   plus zeroing the new bytes only. calloc is not enough for large sizes: glibc raises
//!   its mmap threshold after freeing a large block, and then serves the next one from the
//!   heap with a full `memset`.
//!
//! The only `unsafe` of the store's memories besides `MemoryInstance::data`.

use std::alloc::Layout;
use std::ptr::NonNull;

use super::memory::LinearMemory;

/// Sizes from which memory is mapped rather than allocated (four Wasm pages).
const MAP_MIN: usize = 4 * super::memory::PAGE_SIZE;

/// Alignment of heap-allocated backings: at most the allocator's minimum, so that
/// `alloc_zeroed` stays calloc (a larger alignment means allocate, then write zeros).
const HEAP_ALIGN: usize = 8;

/// `len` zeroed-then-used bytes at `ptr`, owned: a mapping when `mapped`, else a block of
/// the global allocator with layout `(len, HEAP_ALIGN)`; dangling when `len` is 0.
pub(super) struct ZeroedMemory {
    ptr: NonNull<u8>,
    len: usize,
    mapped: bool,
}

// SAFETY: `ZeroedMemory` owns its bytes exclusively (like a `Vec<u8>`); the only other
// copy of the pointer is in the memory's `VMMemoryDefinition`, which moves with it.
unsafe impl Send for ZeroedMemory {}

impl ZeroedMemory {
    pub(super) fn new(len: usize) -> Option<ZeroedMemory> {
        if len == 0 {
            return Some(ZeroedMemory {
                ptr: NonNull::dangling(),
                len: 0,
                mapped: false,
            });
        }
        if len >= MAP_MIN
            && let Some(ptr) = os::map(len)
        {
            return Some(ZeroedMemory {
                ptr,
                len,
                mapped: true,
            });
        }
        let layout = Layout::from_size_align(len, HEAP_ALIGN).ok()?;
        // SAFETY: `layout` has a non-zero size.
        let ptr = NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) })?;
        Some(ZeroedMemory {
            ptr,
            len,
            mapped: false,
        })
    }

    /// Grows a heap block in place or by moving it; the new bytes are zeroed.
    fn realloc(&mut self, new_len: usize) -> Option<()> {
        let old = Layout::from_size_align(self.len, HEAP_ALIGN).ok()?;
        Layout::from_size_align(new_len, HEAP_ALIGN).ok()?;
        // SAFETY: `ptr` was allocated by the global allocator with layout `old`; `new_len`
        // is larger than `len` (so non-zero) and forms a valid layout (checked above). On
        // failure (null) the old block is untouched and still ours.
        let ptr = NonNull::new(unsafe { std::alloc::realloc(self.ptr.as_ptr(), old, new_len) })?;
        // SAFETY: the block now holds `new_len` bytes; `[len, new_len)` is its new,
        // uninitialised tail, zeroed before anything reads it.
        unsafe {
            ptr.as_ptr()
                .add(self.len)
                .write_bytes(0, new_len - self.len)
        };
        self.ptr = ptr;
        self.len = new_len;
        Some(())
    }
}

impl LinearMemory for ZeroedMemory {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `ptr` is valid for `len` initialised bytes owned by `self` (zero when
        // mapped or allocated, written only through such slices since); dangling but
        // aligned and non-null when `len` is 0.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    fn reallocate(&mut self, new_len: usize) -> Option<&mut [u8]> {
        if new_len < self.len {
            return None;
        }
        if new_len > self.len {
            if self.len == 0 {
                *self = ZeroedMemory::new(new_len)?;
            } else if self.mapped {
                // SAFETY: `ptr` is our mapping of exactly `len` bytes.
                self.ptr = unsafe { os::remap(self.ptr, self.len, new_len) }?;
                self.len = new_len;
            } else if new_len >= MAP_MIN
                && let Some(ptr) = os::map(new_len)
            {
                // SAFETY: the new mapping holds `new_len` > `len` bytes and is disjoint
                // from our `len` initialised bytes at `ptr`.
                unsafe { std::ptr::copy_nonoverlapping(self.ptr.as_ptr(), ptr.as_ptr(), self.len) };
                // The old block is freed by dropping the old value.
                *self = ZeroedMemory {
                    ptr,
                    len: new_len,
                    mapped: true,
                };
            } else {
                self.realloc(new_len)?;
            }
        }
        Some(self.as_mut_slice())
    }
}

impl Drop for ZeroedMemory {
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        if self.mapped {
            // SAFETY: our mapping of exactly `len` bytes, unmapped once.
            unsafe { os::unmap(self.ptr, self.len) };
        } else {
            let layout =
                Layout::from_size_align(self.len, HEAP_ALIGN).expect("the layout it was made with");
            // SAFETY: allocated by the global allocator with this layout, freed once.
            unsafe { std::alloc::dealloc(self.ptr.as_ptr(), layout) };
        }
    }
}

#[cfg(target_os = "linux")]
mod os {
    use std::ptr::NonNull;

    /// A fresh private anonymous read-write mapping of `len` (> 0) zero bytes.
    pub(super) fn map(len: usize) -> Option<NonNull<u8>> {
        // SAFETY: asks for new memory at an address of the kernel's choosing; touches no
        // existing memory.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        NonNull::new(p.cast())
    }

    /// Grows mapping `ptr` of `old` bytes to `new` bytes, maybe moving it; the new bytes
    /// are zero (anonymous memory). `None` leaves the mapping as it was.
    ///
    /// # Safety
    /// `ptr` must be a mapping of exactly `old` bytes made by [`map`] (or this function).
    pub(super) unsafe fn remap(ptr: NonNull<u8>, old: usize, new: usize) -> Option<NonNull<u8>> {
        // SAFETY: per the contract; MREMAP_MAYMOVE lets the kernel move it, keeping the
        // contents.
        let p = unsafe { libc::mremap(ptr.as_ptr().cast(), old, new, libc::MREMAP_MAYMOVE) };
        if p == libc::MAP_FAILED {
            return None;
        }
        NonNull::new(p.cast())
    }

    /// # Safety
    /// `ptr` must be a mapping of exactly `len` bytes made by [`map`] or [`remap`], not
    /// used afterwards.
    pub(super) unsafe fn unmap(ptr: NonNull<u8>, len: usize) {
        // SAFETY: per the contract.
        unsafe { libc::munmap(ptr.as_ptr().cast(), len) };
    }
}

/// Elsewhere nothing is mapped: every backing comes from the global allocator.
#[cfg(not(target_os = "linux"))]
mod os {
    use std::ptr::NonNull;

    pub(super) fn map(_len: usize) -> Option<NonNull<u8>> {
        None
    }

    pub(super) unsafe fn remap(_ptr: NonNull<u8>, _old: usize, _new: usize) -> Option<NonNull<u8>> {
        unreachable!("nothing is mapped")
    }

    pub(super) unsafe fn unmap(_ptr: NonNull<u8>, _len: usize) {
        unreachable!("nothing is mapped")
    }
}
