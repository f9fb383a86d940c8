//! `poll_oneoff`: wait for clock deadlines and descriptor readiness.
//!
//! Regular files are always ready (POSIX says so, and there is nothing to wait for);
//! stdio is asked with the host's `poll`; a clock subscription is a deadline. The call
//! returns the events ready when it wakes, at least one.

use std::io::Seek;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};

use crate::ctx::{Handle, WasiCtx};
use crate::errno::{Errno, WasiResult};
use crate::fd::host_fd;
use crate::mem::GuestMemory;
use crate::misc::clock_now;
use crate::rights;

const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const SUBCLOCKFLAGS_ABSTIME: u16 = 1;
const EVENTRWFLAGS_HANGUP: u16 = 1;

struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

impl Event {
    fn write(&self, mem: &mut GuestMemory<'_>, at: u32) -> WasiResult<()> {
        mem.slice_mut(at, 32)?.fill(0);
        mem.write_u64(at, self.userdata)?;
        mem.write_u16(at + 8, self.error as u16)?;
        mem.write_u8(at + 10, self.kind)?;
        mem.write_u64(at + 16, self.nbytes)?;
        mem.write_u16(at + 24, self.flags)
    }
}

/// A stdio subscription, waited for with the host's `poll`.
struct StdioWait {
    userdata: u64,
    kind: u8,
    fd: u32,
}

impl WasiCtx {
    pub(crate) fn poll_oneoff(
        &self,
        mem: &mut GuestMemory<'_>,
        input: u32,
        output: u32,
        count: u32,
    ) -> WasiResult<u32> {
        if count == 0 {
            return Err(Errno::Inval);
        }
        let start = Instant::now();
        let mut ready = Vec::new();
        let mut deadlines: Vec<(u64, Instant)> = Vec::new();
        let mut stdio = Vec::new();
        for i in 0..count {
            let at = input
                .checked_add(i.checked_mul(48).ok_or(Errno::Fault)?)
                .ok_or(Errno::Fault)?;
            // The whole subscription is in bounds, so its field offsets cannot wrap.
            mem.slice(at, 48)?;
            let userdata = mem.read_u64(at)?;
            let kind = mem.read_u8(at + 8)?;
            let event = |error, nbytes| Event {
                userdata,
                error,
                kind,
                nbytes,
                flags: 0,
            };
            match kind {
                EVENTTYPE_CLOCK => {
                    let id = mem.read_u32(at + 16)?;
                    let timeout = mem.read_u64(at + 24)?;
                    let flags = mem.read_u16(at + 40)?;
                    let wait = if flags & SUBCLOCKFLAGS_ABSTIME != 0 {
                        clock_now(id).map(|now| timeout.saturating_sub(now))
                    } else {
                        crate::misc::clock(id).map(|_| timeout)
                    };
                    match wait {
                        // A deadline past what `Instant` can hold never comes.
                        Ok(ns) => {
                            if let Some(t) = start.checked_add(Duration::from_nanos(ns)) {
                                deadlines.push((userdata, t));
                            }
                        }
                        Err(e) => ready.push(event(e, 0)),
                    }
                }
                EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE => {
                    let fd = mem.read_u32(at + 16)?;
                    let d = match self.get(fd) {
                        Ok(d) => d,
                        Err(e) => {
                            ready.push(event(e, 0));
                            continue;
                        }
                    };
                    if let Err(e) = d.require(rights::POLL_FD_READWRITE) {
                        ready.push(event(e, 0));
                        continue;
                    }
                    match &d.handle {
                        Handle::File(f) => {
                            let nbytes = if kind == EVENTTYPE_FD_READ {
                                let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                                let pos = (&*f).stream_position().unwrap_or(size);
                                size.saturating_sub(pos)
                            } else {
                                0
                            };
                            ready.push(event(Errno::Success, nbytes));
                        }
                        Handle::Dir(_) => ready.push(event(Errno::BadF, 0)),
                        _ => stdio.push(StdioWait { userdata, kind, fd }),
                    }
                }
                _ => return Err(Errno::Inval),
            }
        }

        // Wait only when nothing is ready yet: until the first deadline, or for stdio.
        let first_deadline = deadlines.iter().map(|&(_, t)| t).min();
        let timeout = if !ready.is_empty() {
            Some(Duration::ZERO)
        } else {
            first_deadline.map(|t| t.saturating_duration_since(Instant::now()))
        };
        if stdio.is_empty() {
            if let Some(t) = timeout {
                std::thread::sleep(t);
            }
        } else {
            ready.extend(self.poll_stdio(&stdio, timeout)?);
        }
        let now = Instant::now();
        for (userdata, deadline) in deadlines {
            if deadline <= now {
                ready.push(Event {
                    userdata,
                    error: Errno::Success,
                    kind: EVENTTYPE_CLOCK,
                    nbytes: 0,
                    flags: 0,
                });
            }
        }
        for (i, e) in ready.iter().enumerate() {
            e.write(mem, output.checked_add(32 * i as u32).ok_or(Errno::Fault)?)?;
        }
        Ok(ready.len() as u32)
    }

    fn poll_stdio(&self, waits: &[StdioWait], timeout: Option<Duration>) -> WasiResult<Vec<Event>> {
        let fds: Vec<_> = waits
            .iter()
            .map(|w| self.get(w.fd).map(host_fd))
            .collect::<WasiResult<_>>()?;
        let mut pollfds: Vec<PollFd<'_>> = fds
            .iter()
            .zip(waits)
            .map(|(fd, w)| {
                let flags = if w.kind == EVENTTYPE_FD_READ {
                    PollFlags::IN
                } else {
                    PollFlags::OUT
                };
                PollFd::new(fd, flags)
            })
            .collect();
        let timeout = timeout.map(|t| rustix::time::Timespec {
            tv_sec: t.as_secs() as _,
            tv_nsec: t.subsec_nanos() as _,
        });
        loop {
            match rustix::event::poll(&mut pollfds, timeout.as_ref()) {
                Ok(_) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let mut events = Vec::new();
        for (p, w) in pollfds.iter().zip(waits) {
            let revents = p.revents();
            if revents.is_empty() {
                continue;
            }
            let error = if revents.contains(PollFlags::NVAL) {
                Errno::BadF
            } else {
                Errno::Success
            };
            let flags = if revents.contains(PollFlags::HUP) {
                EVENTRWFLAGS_HANGUP
            } else {
                0
            };
            events.push(Event {
                userdata: w.userdata,
                error,
                kind: w.kind,
                nbytes: 0,
                flags,
            });
        }
        Ok(events)
    }
}
