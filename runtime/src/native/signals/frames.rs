//! The frames of a trap by signal (RATIONALE.md, "Backtraces of signal traps").
//!
//! A fault at a trap site drops the Wasm frames between the entry and the fault
//! (`signals.rs`), so the handler must note them before it lands: it walks the
//! frame-pointer chain from the faulting context into the thread's [`TrapFrames`]. The
//! walk runs in a signal handler, so it allocates nothing, takes no lock and calls
//! nothing: it reads frame records and stores plain integers into memory that exists
//! before the fault. It keeps what a backtrace keeps (the first
//! [`Backtrace::HEAD_FRAMES`] and last [`Backtrace::TAIL_FRAMES`] addresses, and a
//! count); after the landing, ordinary Rust ([`TrapFrames::backtrace`]) maps them to
//! functions as the walk of a trap by explicit check does (`native/backtrace.rs`), so
//! both give the same backtrace.

use std::mem::MaybeUninit;

use crate::error::Backtrace;
use crate::native::backtrace::backtrace_of_addresses;
use crate::store::StoreData;

const KEPT: usize = Backtrace::HEAD_FRAMES + Backtrace::TAIL_FRAMES;
const WORD: usize = std::mem::size_of::<usize>();

/// The code addresses of a trap's Wasm frames, innermost first: the faulting
/// instruction's, then each caller's return address. Frame `i` is in slot `i` for the
/// first `HEAD_FRAMES`, the later ones in the `TAIL_FRAMES` slots after those, in turn
/// (a ring, so the last ones stay).
pub(crate) struct TrapFrames {
    /// How many frames the walk passed; slots `0..min(count, KEPT)` are written.
    count: usize,
    /// Left uninitialised until written (a thread-local: nothing runs to fill it).
    slots: [MaybeUninit<usize>; KEPT],
}

impl TrapFrames {
    /// Nothing recorded yet.
    pub(crate) const fn new() -> TrapFrames {
        TrapFrames {
            count: 0,
            slots: [MaybeUninit::uninit(); KEPT],
        }
    }

    /// Async-signal-safe: stores one integer and bumps the count. The slot is always
    /// below `KEPT`, so the index check never fails (no panic in the handler).
    fn record(&mut self, address: usize) {
        let i = self.count;
        let slot = if i < Backtrace::HEAD_FRAMES {
            i
        } else {
            Backtrace::HEAD_FRAMES + (i - Backtrace::HEAD_FRAMES) % Backtrace::TAIL_FRAMES
        };
        self.slots[slot] = MaybeUninit::new(address);
        self.count += 1;
    }

    /// Records the frames of a fault at trap site `pc` in Wasm code whose frame pointer
    /// is `fp` and stack pointer `sp`, under the entry whose shim saved stack pointer
    /// `entry_sp`: the faulting function, then each caller up the frame-pointer chain
    /// while that caller is Wasm code.
    ///
    /// Called from the signal handler: it only reads the stack and writes `self`.
    /// Between `sp` and `entry_sp` there are only frames of Wasm functions and of the
    /// entry trampoline (`signals.rs`), all compiled with frame records. The trampoline's
    /// own record holds the frame pointer of the shim, which lies above `entry_sp`; a
    /// Wasm function's holds its caller's, below. So a caller is Wasm code exactly when
    /// the frame pointer *it* saved is below `entry_sp`: the walk stops before the
    /// return address into the trampoline, where the explicit-check walk stops too (it
    /// is in no Wasm function).
    ///
    /// # Safety
    /// `[sp, entry_sp)` is mapped stack of this thread (the live frames between a fault
    /// in Wasm code and its entry). Every read below is checked to lie in it.
    pub(crate) unsafe fn capture(&mut self, pc: usize, fp: usize, sp: usize, entry_sp: usize) {
        self.count = 0;
        self.record(pc);
        // A frame record (saved frame pointer, return address) is read only at an
        // aligned address with both words in `[sp, entry_sp)`.
        let readable = |record: usize| {
            record.is_multiple_of(WORD)
                && record >= sp
                && record <= entry_sp.saturating_sub(2 * WORD)
        };
        let mut fp = fp;
        while readable(fp) {
            // SAFETY: `readable`: two aligned words of this thread's mapped stack, read as
            // plain integers.
            let (caller_fp, return_address) = unsafe {
                (
                    std::ptr::read(fp as *const usize),
                    std::ptr::read((fp + WORD) as *const usize),
                )
            };
            // Frame pointers strictly increase, so the walk ends.
            if caller_fp <= fp || !readable(caller_fp) {
                return;
            }
            // SAFETY: as above, `readable(caller_fp)`.
            let callers_saved_fp = unsafe { std::ptr::read(caller_fp as *const usize) };
            if callers_saved_fp >= entry_sp {
                // The caller is the entry trampoline.
                return;
            }
            self.record(return_address);
            fp = caller_fp;
        }
    }

    /// The recorded addresses, as [`backtrace_of_addresses`] takes them: the first
    /// ones, how many were passed between those and the last ones, the last ones.
    fn parts(&self) -> (&[usize], usize, impl Iterator<Item = usize> + '_) {
        let written = self.count.min(KEPT);
        // SAFETY: slots `0..min(count, KEPT)` are written (`record` fills them in order,
        // the tail's ring wrapping only once all are), and `MaybeUninit<usize>` has the
        // layout of `usize`.
        let written: &[usize] =
            unsafe { std::slice::from_raw_parts(self.slots.as_ptr().cast(), written) };
        let head_len = written.len().min(Backtrace::HEAD_FRAMES);
        let (head, ring) = written.split_at(head_len);
        let tail_len = ring.len();
        let omitted = self.count - head_len - tail_len;
        // The oldest tail frame is where the next one would go.
        let oldest = if tail_len == 0 {
            0
        } else {
            (self.count - head_len) % tail_len
        };
        let tail = (0..tail_len).map(move |k| ring[(oldest + k) % tail_len]);
        (head, omitted, tail)
    }

    /// Appends the trap's frames to `backtrace`: each address mapped to a Wasm function
    /// of `store`.
    pub(crate) fn extend_backtrace(&self, store: &StoreData, backtrace: &mut Backtrace) {
        let (head, omitted, tail) = self.parts();
        backtrace_of_addresses(store, head, omitted, tail, backtrace)
    }
}

#[cfg(test)]
mod tests {
    use super::TrapFrames;
    use crate::error::Backtrace;

    fn parts(count: usize) -> (Vec<usize>, usize, Vec<usize>) {
        let mut frames = TrapFrames::new();
        for address in 0..count {
            frames.record(address);
        }
        let (head, omitted, tail) = frames.parts();
        (head.to_vec(), omitted, tail.collect())
    }

    #[test]
    fn keeps_the_first_and_last_addresses_in_order() {
        let (head, tail) = (Backtrace::HEAD_FRAMES, Backtrace::TAIL_FRAMES);
        assert_eq!(parts(0), (vec![], 0, vec![]));
        assert_eq!(parts(3), (vec![0, 1, 2], 0, vec![]));
        let all: Vec<usize> = (0..head).collect();
        assert_eq!(parts(head), (all.clone(), 0, vec![]));
        assert_eq!(
            parts(head + 3),
            (all.clone(), 0, vec![head, head + 1, head + 2])
        );
        let last = |n: usize| (n - tail..n).collect::<Vec<_>>();
        assert_eq!(parts(head + tail), (all.clone(), 0, last(head + tail)));
        for n in [
            head + tail + 1,
            head + tail + 5,
            head + 3 * tail + 2,
            100_000,
        ] {
            assert_eq!(parts(n), (all.clone(), n - head - tail, last(n)), "{n}");
        }
    }
}
