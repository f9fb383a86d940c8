//! Stopping a running call from another thread ([`InterruptHandle`]).
//!
//! With [`Config::interruptible`](crate::Config::interruptible) on, both engines check
//! the store's interrupt request at every function entry (native code with its stack
//! check, against a limit the request raises) and loop header, and the bulk memory
//! operations check it between 1 MiB chunks; a call that finds it set ends with
//! the trap [`TrapKind::Interrupted`](crate::TrapKind::Interrupted), and so does every
//! call under it (a host function that calls back into Wasm sees the trap too, and its
//! caller stops at its next check). A request stays pending until a call the host made
//! returns with that trap, so none is lost to a race with the start of a call: made while
//! no call runs, it stops the next call at its first check. The store stays usable.
//! Design and cost: RATIONALE.md, "Interruption".

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::store::InterruptState;

/// A handle that stops the call running in one store, from any thread (cheap to clone;
/// from [`Store::interrupt_handle`](crate::Store::interrupt_handle)).
#[derive(Clone, Debug)]
pub struct InterruptHandle {
    pub(crate) flag: Arc<InterruptState>,
    /// The deadlines of this handle and its clones, served by one thread.
    timer: Arc<Timer>,
}

impl InterruptHandle {
    pub(crate) fn new(flag: Arc<InterruptState>) -> InterruptHandle {
        let timer = Arc::new(Timer {
            shared: Arc::new(TimerShared::default()),
            thread: OnceLock::new(),
        });
        InterruptHandle { flag, timer }
    }

    /// Asks the running call to stop: it ends with an "interrupted" trap at its next
    /// check (a function entry, a loop iteration, or 1 MiB of a bulk memory operation).
    /// If no call is running, the next one stops at its first check.
    pub fn interrupt(&self) {
        self.flag.request();
    }

    /// Interrupts the running call once `after` has passed, unless the returned
    /// [`Deadline`] is dropped first: drop it when the guarded call returns, which also
    /// withdraws a request that fired too late for the call to see. Cheap: the deadlines
    /// of a handle are served by one thread, started on first use.
    pub fn interrupt_after(&self, after: Duration) -> Deadline {
        let shared = &self.timer.shared;
        self.timer.thread.get_or_init(|| {
            let (shared, flag) = (shared.clone(), self.flag.clone());
            std::thread::spawn(move || serve(&shared, &flag));
        });
        let mut state = shared.lock();
        let id = state.next_id;
        state.next_id += 1;
        state.pending.insert(id, Instant::now() + after);
        drop(state);
        shared.wake.notify_all();
        Deadline {
            flag: self.flag.clone(),
            timer: self.timer.clone(),
            id,
        }
    }
}

/// The timer thread of a handle: requests an interrupt at each pending deadline, until
/// the last handle and deadline are gone.
fn serve(shared: &TimerShared, flag: &InterruptState) {
    let mut state = shared.lock();
    loop {
        if state.closed {
            return;
        }
        let next = state
            .pending
            .iter()
            .min_by_key(|(_, at)| **at)
            .map(|(id, at)| (*id, *at));
        state = match next {
            None => shared.wake.wait(state).unwrap_or_else(|p| p.into_inner()),
            Some((id, at)) => {
                let now = Instant::now();
                if now >= at {
                    // Under the lock, so a dropping deadline sees either no request or this one.
                    state.pending.remove(&id);
                    state.fired.push(id);
                    flag.request();
                    continue;
                }
                let waited = shared.wake.wait_timeout(state, at - now);
                waited.unwrap_or_else(|p| p.into_inner()).0
            }
        };
    }
}

#[derive(Default)]
struct TimerShared {
    state: Mutex<TimerState>,
    wake: Condvar,
}

impl TimerShared {
    fn lock(&self) -> MutexGuard<'_, TimerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Default)]
struct TimerState {
    next_id: u64,
    /// Deadlines not reached yet, by id.
    pending: BTreeMap<u64, Instant>,
    /// Deadlines reached whose [`Deadline`] still exists.
    fired: Vec<u64>,
    /// Set when the last handle is dropped: the thread ends.
    closed: bool,
}

/// Owns the timer thread: closes it when the last handle or deadline is dropped.
#[derive(Debug)]
struct Timer {
    shared: Arc<TimerShared>,
    thread: OnceLock<()>,
}

impl std::fmt::Debug for TimerShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerShared").finish_non_exhaustive()
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
    }
}

/// A pending [`InterruptHandle::interrupt_after`]; dropping it cancels the interrupt if
/// it has not fired yet.
#[derive(Debug)]
pub struct Deadline {
    flag: Arc<InterruptState>,
    timer: Arc<Timer>,
    id: u64,
}

impl Deadline {
    /// Whether the deadline has passed and the interrupt was requested.
    pub fn fired(&self) -> bool {
        self.timer.shared.lock().fired.contains(&self.id)
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        let mut state = self.timer.shared.lock();
        if state.pending.remove(&self.id).is_none()
            && let Some(i) = state.fired.iter().position(|id| *id == self.id)
        {
            state.fired.swap_remove(i);
            // The call it was for has returned; the request must not stop the next one.
            self.flag.clear();
        }
    }
}
