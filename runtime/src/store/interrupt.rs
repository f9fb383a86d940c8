//! A store's interrupt request, shared with its [`InterruptHandle`]s
//! (`api/interrupt.rs`): the flag both engines check, and the stack limit that
//! interruptible native code compares the stack pointer with at every function entry.
//!
//! A request sets the flag and raises the limit above every stack pointer, so the next
//! function entry fails its stack check: the entry check for interruption costs nothing
//! beyond the stack check every function makes anyway (RATIONALE.md, "Native: the entry
//! check is the stack check"). The native engine reports a stack check that failed while
//! the limit was raised as "interrupted" (`native/entry.rs`). Loop headers, the
//! interpreter and the bulk memory operations read the flag.
//!
//! [`InterruptHandle`]: crate::InterruptHandle

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The limit a request sets: no stack pointer is at or above it (user-space addresses
/// of the 64-bit hosts we support are below 2^57). Not `usize::MAX`: Cranelift's
/// prologue stack check (`native/translate/mod.rs`, `prologue_stack_limit`) compares
/// the stack pointer with the limit plus the frame size, and that sum must not wrap.
pub(crate) const RAISED_LIMIT: usize = 1 << 63;

/// Compiled code reads both fields at fixed offsets (`native/vmctx.rs`).
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct InterruptState {
    /// The lowest stack pointer interruptible native code may run at: the running
    /// entry's limit, or [`RAISED_LIMIT`] while a request is pending during a call.
    pub stack_limit: AtomicUsize,
    /// Whether a request is pending.
    pub flag: AtomicBool,
}

impl InterruptState {
    /// Asks the running call (or the next one) to stop.
    pub fn request(&self) {
        // Flag first: an entry that sets its limit after this reads the flag after it
        // and raises the limit itself (`enter`), so the request is never overwritten.
        self.flag.store(true, Ordering::SeqCst);
        self.stack_limit.store(RAISED_LIMIT, Ordering::SeqCst);
    }

    /// Withdraws a request (served, or come too late). A raised limit stays until the
    /// next entry sets its own: a call still running stops, as it would have.
    pub fn clear(&self) {
        self.flag.store(false, Ordering::Relaxed);
    }

    pub fn is_requested(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Sets the stack limit of a native call that starts (or resumes, when a nested
    /// call returns) with stack limit `limit`, raised if a request is pending.
    pub fn enter(&self, limit: usize) {
        self.stack_limit.store(limit, Ordering::SeqCst);
        if self.flag.load(Ordering::SeqCst) {
            self.stack_limit.store(RAISED_LIMIT, Ordering::SeqCst);
        }
    }

    /// Whether the limit is raised: a failed stack check was this request.
    pub fn limit_raised(&self) -> bool {
        self.stack_limit.load(Ordering::SeqCst) == RAISED_LIMIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_raises_the_limit_now_and_at_every_entry_until_cleared() {
        let state = InterruptState::default();
        state.enter(4096);
        assert!(!state.limit_raised());
        state.request();
        assert!(state.is_requested() && state.limit_raised());
        // An entry (or a nested call's return) while it is pending keeps it raised.
        state.enter(8192);
        assert!(state.limit_raised());
        state.clear();
        assert!(state.limit_raised(), "a running call still stops");
        state.enter(8192);
        assert!(!state.limit_raised() && !state.is_requested());
        assert_eq!(state.stack_limit.load(Ordering::SeqCst), 8192);
    }
}
