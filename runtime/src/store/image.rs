//! A module's active data segments as one copy-on-write image (Linux x86-64, for
//! guarded memories): instantiation maps the image over the fresh memory's pages instead
//! of copying the bytes, so it touches no page. RATIONALE.md, "Instantiation: data as a
//! copy-on-write image".
//!
//! Copying even one small segment costs a page fault, which zero-fills a page, and
//! then the unmapping frees it: on this VM about 5 µs of a 10 µs instantiation of a C
//! program. Mapping a private view of a sealed memfd costs one `mmap` (under 1 µs); a
//! page of it is copied (by the kernel) only when code first writes it, and a page that
//! is only read is never copied.
//!
//! An image exists only when applying the segments cannot trap (every active segment
//! writes the same defined 32-bit memory at a constant offset, inside its minimum size),
//! so mapping the image at the step where the segments would be applied has exactly
//! their effect; any other module copies its segments as before.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::memory::PAGE_SIZE;
use crate::module::{ConstOp, DataMode, ModuleInfo};

/// The host's page size (x86-64 Linux).
const HOST_PAGE: usize = 4096;

/// The bytes of `[start, start + len)` of memory `memory` after every active data
/// segment is applied, in a sealed memfd of exactly `len` bytes.
pub(crate) struct DataImage {
    /// The module's index of the defined memory every active segment writes.
    pub memory: u32,
    /// Host-page aligned offset in the memory.
    start: usize,
    /// A positive multiple of the host page size.
    len: usize,
    /// Sealed against writes, growing and shrinking, so the mapping always sees these
    /// bytes and never an access past the file's end (which would be `SIGBUS`).
    file: OwnedFd,
}

impl DataImage {
    /// The image of `info`'s active segments, or `None` when the module has none, when
    /// applying them could trap (see the module docs), or when the host refuses a memfd.
    pub(crate) fn build(info: &ModuleInfo) -> Option<DataImage> {
        let mut memory = None;
        let mut segments = Vec::new();
        for seg in &info.data {
            let DataMode::Active { memory: m, offset } = &seg.mode else {
                continue;
            };
            let [ConstOp::I32(offset)] = offset.0[..] else {
                return None;
            };
            if *memory.get_or_insert(*m) != *m {
                return None;
            }
            segments.push((offset as u32 as usize, seg.range.clone()));
        }
        let memory = memory?;
        let ty = info.memories.get(memory as usize)?;
        if memory < info.num_imported_memories || ty.memory64 {
            return None;
        }
        let size = usize::try_from(ty.min).ok()?.checked_mul(PAGE_SIZE)?;
        let mut start = usize::MAX;
        let mut end = 0;
        for (offset, bytes) in &segments {
            let seg_end = offset.checked_add(bytes.len())?;
            if seg_end > size {
                return None;
            }
            if !bytes.is_empty() {
                start = start.min(*offset);
                end = end.max(seg_end);
            }
        }
        if start >= end {
            return None;
        }
        let start = start / HOST_PAGE * HOST_PAGE;
        let len = end.div_ceil(HOST_PAGE) * HOST_PAGE - start;
        let file = memfd()?;
        let fd = file.as_raw_fd();
        // SAFETY: `fd` is our open memfd; these calls change only that file.
        if unsafe { libc::ftruncate(fd, len as libc::off_t) } != 0 {
            return None;
        }
        // In order, so a later segment overwrites an earlier one where they overlap,
        // as applying them one by one does. The rest of the file reads as zero.
        // An empty segment writes nothing, and may lie below `start` (which only the
        // non-empty ones set).
        for (offset, range) in segments.into_iter().filter(|(_, r)| !r.is_empty()) {
            let bytes = &info.bytes[range];
            write_all_at(&file, bytes, offset - start)?;
        }
        let seals =
            libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
        // SAFETY: as above; nothing maps the file yet, so sealing writes cannot fail on
        // an existing shared writable mapping.
        if unsafe { libc::fcntl(fd, libc::F_ADD_SEALS, seals) } != 0 {
            return None;
        }
        Some(DataImage {
            memory,
            start,
            len,
            file,
        })
    }

    /// Where the image goes in its memory, in bytes.
    pub(crate) fn range(&self) -> std::ops::Range<usize> {
        self.start..self.start + self.len
    }

    /// Replaces the pages at `at` (`self.len` bytes) by a private copy-on-write view of
    /// the image; false if the host refuses (the pages are then unchanged).
    ///
    /// # Safety
    /// `[at, at + len)` must be read-write, host-page aligned, all zero, part of a
    /// mapping the caller owns and unmaps, and not borrowed by any live reference.
    pub(super) unsafe fn map_at(&self, at: *mut u8) -> bool {
        // SAFETY: by the caller's contract the range is ours to replace; `MAP_FIXED`
        // replaces exactly it. The file is `len` bytes long and sealed against
        // shrinking, so every page of the mapping is backed; `MAP_PRIVATE` keeps our
        // writes out of the file.
        let p = unsafe {
            libc::mmap(
                at.cast(),
                self.len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                self.file.as_raw_fd(),
                0,
            )
        };
        p == at.cast()
    }
}

/// A new anonymous memory file that can be sealed.
fn memfd() -> Option<OwnedFd> {
    // SAFETY: creates a new file descriptor; the name is a NUL-terminated string.
    let fd = unsafe {
        libc::memfd_create(
            c"wasm-data-image".as_ptr(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        )
    };
    // SAFETY: a non-negative `fd` was just opened for us and is owned by nothing else.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

fn write_all_at(file: &OwnedFd, mut bytes: &[u8], mut offset: usize) -> Option<()> {
    while !bytes.is_empty() {
        // SAFETY: writes `bytes` (valid for its length) to our own file.
        let n = unsafe {
            libc::pwrite(
                file.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                offset as libc::off_t,
            )
        };
        if n <= 0 {
            return None;
        }
        bytes = &bytes[n as usize..];
        offset += n as usize;
    }
    Some(())
}
