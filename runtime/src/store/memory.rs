//! Memory instances. Spec: <https://webassembly.github.io/spec/core/exec/runtime.html#memory-instances>.
//!
//! The bytes live in a [`LinearMemory`] (ours is `zeroed::ZeroedMemory`, or
//! `guarded::GuardedMemory` for engines with signal traps; an embedder may plug its own
//! through [`MemoryAllocator`]). Beside it sits a boxed [`VMMemoryDefinition`] whose
//! address never changes; engines read base and length through it, and every grow
//! refreshes it. That is the update protocol native code relies on (RATIONALE.md).

use crate::module::MemoryType;

/// How far past 4 GiB a guarded memory's reservation goes (`guarded.rs`): the native
/// engine leaves out the bounds check of a 32-bit access whose static offset plus size is
/// at most this.
pub(crate) const GUARD_BYTES: u64 = 4 << 30;
/// What a memory whose code has no bounds checks must reserve: 4 GiB, the most a 32-bit
/// address reaches, plus the guard.
pub(crate) const GUARDED_RESERVATION: u64 = (1 << 32) + GUARD_BYTES;

/// Bytes in a Wasm page.
pub const PAGE_SIZE: usize = 65536;
/// Pages a 32-bit memory can address.
pub const MAX_PAGES: u64 = 65536;
/// Pages a 64-bit memory can address (2^64 bytes; the spec's type limit is 2^48 pages).
/// How much of that a memory really gets is up to its backing: a grow it cannot satisfy
/// fails like one beyond the maximum.
pub const MAX_PAGES_64: u64 = 1 << 48;

/// Backing storage of one linear memory.
///
/// Contract: `as_mut_slice` returns the whole current memory; `reallocate` makes it
/// exactly `new_len` bytes long, keeping the old contents and zeroing the new bytes, or
/// returns `None` when it cannot (the memory then stays as it was).
pub trait LinearMemory: Send {
    fn as_mut_slice(&mut self) -> &mut [u8];
    fn reallocate(&mut self, new_len: usize) -> Option<&mut [u8]>;

    /// How many bytes from the base this memory reserves (0, the default: it makes no
    /// such promise). A memory that reports `r` promises that its base never moves, that
    /// every access to `[len, r)` faults with `SIGSEGV` and touches nothing, and that grows
    /// stay within it. Engines with [`Config::signal_traps`](crate::Config::signal_traps)
    /// need at least 8 GiB for a 32-bit memory and refuse one that reserves less.
    fn reserved_bytes(&self) -> usize {
        0
    }
}

/// A hook that supplies the backing of every memory a store creates (wazero's
/// `experimental.MemoryAllocator`). `max_bytes` is the most the memory may ever grow to.
pub trait MemoryAllocator: Send + Sync {
    fn allocate(&self, initial_bytes: usize, max_bytes: usize) -> Option<Box<dyn LinearMemory>>;
}

/// Base and length of a memory, at a stable address (see the module docs).
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDefinition {
    pub base: *mut u8,
    pub length: usize,
}

pub struct MemoryInstance {
    pub ty: MemoryType,
    backing: Box<dyn LinearMemory>,
    definition: Box<VMMemoryDefinition>,
    /// Whether compiled code relies on faults past the end (the base never moves).
    guarded: bool,
    /// Whether the backing is our own `GuardedMemory` (no custom allocator), whose pages
    /// a data image may replace (`image.rs`).
    own_guarded: bool,
}

// SAFETY: the raw pointer in `definition` points into `backing`, which is `Send` and owned
// by this instance alone; moving the instance to another thread moves both together.
unsafe impl Send for MemoryInstance {}
// SAFETY: all mutation goes through `&mut self`; `&self` only reads.
unsafe impl Sync for MemoryInstance {}

impl std::fmt::Debug for MemoryInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryInstance")
            .field("ty", &self.ty)
            .field("length", &self.definition.length)
            .finish()
    }
}

impl MemoryInstance {
    /// Creates a memory of `ty.min` pages, or says why it cannot. `signal_traps`: the
    /// store's engine compiles 32-bit accesses without bounds checks, so such a memory
    /// must fault past its end (`guarded.rs`).
    pub(crate) fn new(
        ty: MemoryType,
        allocator: Option<&dyn MemoryAllocator>,
        signal_traps: bool,
    ) -> Result<Self, String> {
        let cannot = || format!("cannot allocate a memory of {} pages", ty.min);
        let guarded = signal_traps && !ty.memory64;
        let initial = usize::try_from(ty.min)
            .ok()
            .and_then(|n| n.checked_mul(PAGE_SIZE))
            .ok_or_else(cannot)?;
        // A 64-bit memory's maximum may be beyond what this host can address: the
        // allocator hears "no more than the address space", and grows decide the rest.
        let max = usize::try_from(max_pages(&ty))
            .unwrap_or(usize::MAX)
            .saturating_mul(PAGE_SIZE);
        let mut backing: Box<dyn LinearMemory> = match allocator {
            Some(a) => a.allocate(initial, max).ok_or_else(cannot)?,
            None if guarded => guarded_backing(initial).ok_or_else(cannot)?,
            None => Box::new(super::zeroed::ZeroedMemory::new(initial).ok_or_else(cannot)?),
        };
        if guarded && (backing.reserved_bytes() as u64) < GUARDED_RESERVATION {
            return Err(format!(
                "the memory allocator gave a memory that reserves {} bytes; an engine with \
                 signal traps needs {GUARDED_RESERVATION} (LinearMemory::reserved_bytes)",
                backing.reserved_bytes()
            ));
        }
        let slice = backing.as_mut_slice();
        if slice.len() != initial {
            return Err(cannot());
        }
        let definition = Box::new(VMMemoryDefinition {
            base: slice.as_mut_ptr(),
            length: slice.len(),
        });
        Ok(MemoryInstance {
            ty,
            backing,
            definition,
            guarded,
            own_guarded: guarded && allocator.is_none(),
        })
    }

    /// Maps `image` over this memory's bytes instead of writing them, if this memory is
    /// one whose pages that may replace: our own guarded backing, never written since it
    /// was made (the caller's promise: instantiation maps an image before any code or
    /// segment can have touched the memory). False when it did not (nothing changed).
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    pub(crate) fn map_image_of_fresh(&mut self, image: &super::image::DataImage) -> bool {
        let range = image.range();
        if !self.own_guarded || range.end > self.definition.length {
            return false;
        }
        // SAFETY: `own_guarded`: the bytes are a `GuardedMemory`'s read-write prefix, one
        // mapping this instance owns and unmaps, page-aligned at its base (an `mmap`
        // result) and so at `range.start` (host-page aligned); `range` lies inside the
        // read-write part (checked above); the memory is fresh, hence all zero; `&mut
        // self` means no slice of it is alive.
        unsafe { image.map_at(self.definition.base.add(range.start)) }
    }

    /// Current size in pages.
    pub fn pages(&self) -> u64 {
        (self.definition.length / PAGE_SIZE) as u64
    }

    pub fn len(&self) -> usize {
        self.definition.length
    }

    /// The most pages this memory may grow to.
    pub fn max_pages(&self) -> u64 {
        max_pages(&self.ty)
    }

    /// Whether addresses, sizes and `memory.grow` operands are i64 (memory64).
    pub fn is_64(&self) -> bool {
        self.ty.memory64
    }

    #[inline]
    pub fn data(&self) -> &[u8] {
        // SAFETY: `definition` always mirrors the backing's current slice (set at creation
        // and after every reallocate), and the backing is only changed through `&mut self`.
        unsafe { std::slice::from_raw_parts(self.definition.base, self.definition.length) }
    }

    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`; `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.definition.base, self.definition.length) }
    }

    /// The stable definition engines may cache a pointer to.
    pub fn definition_ptr(&self) -> *const VMMemoryDefinition {
        &*self.definition
    }

    /// The base of a guarded memory (it never moves: `grow` aborts if a backing moved
    /// one), for engines to keep; `None` for a memory whose base may move.
    pub fn fixed_base(&self) -> Option<*mut u8> {
        self.guarded.then_some(self.definition.base)
    }

    /// `memory.grow`: returns the old size in pages, or `None` (the instruction's -1).
    pub fn grow(&mut self, delta_pages: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta_pages)?;
        if new > self.max_pages() {
            return None;
        }
        if delta_pages == 0 {
            return Some(old);
        }
        // No allocation may exceed `isize::MAX` bytes (a 64-bit memory's type allows more).
        let new_len = usize::try_from(new)
            .ok()?
            .checked_mul(PAGE_SIZE)
            .filter(|&n| n <= isize::MAX as usize)?;
        let old_len = self.definition.length;
        let grown = self.backing.reallocate(new_len).is_some();
        // Re-read the backing whatever it answered: compiled code keeps using
        // `definition`, so it must never describe bytes the backing no longer owns.
        let slice = self.backing.as_mut_slice();
        let (base, len) = (slice.as_mut_ptr(), slice.len());
        match (grown, len) {
            (true, len) if len == new_len => {}
            (false, len) if len == old_len => {}
            _ => broken_backing(old_len, new_len, len),
        }
        if self.guarded && base != self.definition.base {
            broken_backing(old_len, new_len, len);
        }
        self.definition.base = base;
        self.definition.length = len;
        grown.then_some(old)
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn guarded_backing(initial: usize) -> Option<Box<dyn LinearMemory>> {
    Some(Box::new(super::guarded::GuardedMemory::new(initial)?))
}

/// Engines have signal traps only where `guarded.rs` exists.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn guarded_backing(_initial: usize) -> Option<Box<dyn LinearMemory>> {
    None
}

/// The most pages a memory of type `ty` may grow to: its maximum, capped by what its
/// address type can address.
fn max_pages(ty: &MemoryType) -> u64 {
    let limit = if ty.memory64 { MAX_PAGES_64 } else { MAX_PAGES };
    ty.max.unwrap_or(limit).min(limit)
}

/// A custom [`LinearMemory`] changed its size other than as asked. Memory can never be
/// smaller than it was (the native engine leaves out bounds checks that an earlier size
/// proves), and pretending it is the size we asked for would let Wasm touch bytes the
/// backing does not own: neither is safe to go on with, so the process stops.
#[cold]
fn broken_backing(old_len: usize, new_len: usize, len: usize) -> ! {
    eprintln!(
        "runtime: a custom LinearMemory broke its contract: grow from {old_len} to {new_len} bytes left it at {len} bytes, or moved a memory that must stay in place"
    );
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(min: u64, max: Option<u64>) -> MemoryInstance {
        MemoryInstance::new(MemoryType::new(min, max), None, false).expect("allocates")
    }

    #[test]
    fn new_memory_is_zero() {
        let m = memory(16, None);
        assert_eq!(m.len(), 16 * PAGE_SIZE);
        assert!(m.data().iter().all(|b| *b == 0));
        assert_eq!(memory(0, None).len(), 0);
    }

    #[test]
    fn grow_keeps_contents_and_zeroes_new_pages() {
        for start in [0, 1, 3] {
            let mut m = memory(start, Some(64));
            m.data_mut().fill(0xAB);
            // Leave dirty freed blocks around that a reallocation could reuse.
            for pages in [4, 9, 40] {
                drop(vec![0xCDu8; pages * PAGE_SIZE].into_boxed_slice());
            }
            let mut pages = start;
            for delta in [0, 1, 2, 5, 30] {
                assert_eq!(m.grow(delta), Some(pages));
                let old = pages as usize * PAGE_SIZE;
                pages += delta;
                assert_eq!(m.len(), pages as usize * PAGE_SIZE);
                assert!(m.data()[..old].iter().all(|b| *b == 0xAB));
                assert!(
                    m.data()[old..].iter().all(|b| *b == 0),
                    "grown bytes are zero"
                );
                m.data_mut().fill(0xAB);
            }
            assert_eq!(m.grow(64), None);
            assert_eq!(m.pages(), pages);
        }
    }

    /// A guarded memory grows in place up to 4 GiB of type, zeroed, keeping its contents;
    /// a 64-bit memory of a signal-trap store is an ordinary one.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[test]
    fn a_guarded_memory_grows_in_place() {
        let mut m = MemoryInstance::new(MemoryType::new(1, None), None, true).expect("allocates");
        assert!(m.backing.reserved_bytes() as u64 >= GUARDED_RESERVATION);
        let base = m.definition.base;
        m.data_mut().fill(0xAB);
        for delta in [0, 1, 7, 100] {
            let old = m.len();
            assert!(m.grow(delta).is_some());
            assert_eq!(m.definition.base, base, "the base never moves");
            assert!(m.data()[..old].iter().all(|b| *b == 0xAB));
            assert!(m.data()[old..].iter().all(|b| *b == 0));
            m.data_mut().fill(0xAB);
        }
        assert_eq!(m.grow(MAX_PAGES), None);
        assert_eq!(m.pages(), 109);
        let ty = MemoryType {
            min: 1,
            max: None,
            memory64: true,
        };
        let m64 = MemoryInstance::new(ty, None, true).expect("allocates");
        assert_eq!(m64.backing.reserved_bytes(), 0);
    }

    #[test]
    fn a_64_bit_memory_grows_past_4_gib_in_its_type_and_fails_cleanly_past_the_host() {
        let ty = MemoryType {
            min: 1,
            max: None,
            memory64: true,
        };
        let mut m = MemoryInstance::new(ty, None, false).expect("allocates");
        assert_eq!(m.max_pages(), MAX_PAGES_64);
        // 2^40 pages is 2^56 bytes: more than any host's address space.
        assert_eq!(m.grow(1 << 40), None);
        assert_eq!(m.grow(MAX_PAGES_64), None);
        assert_eq!(m.grow(u64::MAX), None);
        assert_eq!(m.pages(), 1);
        assert_eq!(m.grow(1), Some(1));
        assert_eq!(m.len(), 2 * PAGE_SIZE);
    }
}
