//! Arguments, environment, clocks, randomness, scheduling and sockets.

use rustix::time::ClockId;

use crate::ctx::WasiCtx;
use crate::errno::{Errno, WasiResult};
use crate::mem::GuestMemory;

/// The host clock behind a preview1 `clockid` (realtime, monotonic, process and thread
/// CPU time, in that order).
pub(crate) fn clock(id: u32) -> WasiResult<ClockId> {
    Ok(match id {
        0 => ClockId::Realtime,
        1 => ClockId::Monotonic,
        2 => ClockId::ProcessCPUTime,
        3 => ClockId::ThreadCPUTime,
        _ => return Err(Errno::Inval),
    })
}

fn nanos(t: rustix::time::Timespec) -> u64 {
    (t.tv_sec.max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec.max(0) as u64)
}

pub(crate) fn clock_now(id: u32) -> WasiResult<u64> {
    Ok(nanos(rustix::time::clock_gettime(clock(id)?)))
}

pub(crate) fn clock_res(id: u32) -> WasiResult<u64> {
    Ok(nanos(rustix::time::clock_getres(clock(id)?)).max(1))
}

/// Writes a list of strings the way `args_get` and `environ_get` hand them over: an
/// array of pointers at `ptrs`, NUL-terminated bytes from `buf` on.
fn write_string_list(
    mem: &mut GuestMemory<'_>,
    list: &[String],
    ptrs: u32,
    buf: u32,
) -> WasiResult<()> {
    let fault = || Errno::Fault;
    let mut at = buf;
    let mut ptr = ptrs;
    for s in list {
        mem.write_u32(ptr, at)?;
        mem.write_bytes(at, s.as_bytes())?;
        let end = u32::try_from(s.len())
            .ok()
            .and_then(|n| at.checked_add(n))
            .ok_or_else(fault)?;
        mem.write_u8(end, 0)?;
        at = end.checked_add(1).ok_or_else(fault)?;
        ptr = ptr.checked_add(4).ok_or_else(fault)?;
    }
    Ok(())
}

fn write_list_sizes(
    mem: &mut GuestMemory<'_>,
    list: &[String],
    count: u32,
    size: u32,
) -> WasiResult<()> {
    let bytes: usize = list.iter().map(|s| s.len() + 1).sum();
    mem.write_u32(count, list.len() as u32)?;
    mem.write_u32(size, u32::try_from(bytes).map_err(|_| Errno::Overflow)?)
}

impl WasiCtx {
    pub(crate) fn args_get(
        &self,
        mem: &mut GuestMemory<'_>,
        ptrs: u32,
        buf: u32,
    ) -> WasiResult<()> {
        write_string_list(mem, &self.args, ptrs, buf)
    }

    pub(crate) fn args_sizes_get(
        &self,
        mem: &mut GuestMemory<'_>,
        count: u32,
        size: u32,
    ) -> WasiResult<()> {
        write_list_sizes(mem, &self.args, count, size)
    }

    pub(crate) fn environ_get(
        &self,
        mem: &mut GuestMemory<'_>,
        ptrs: u32,
        buf: u32,
    ) -> WasiResult<()> {
        write_string_list(mem, &self.env, ptrs, buf)
    }

    pub(crate) fn environ_sizes_get(
        &self,
        mem: &mut GuestMemory<'_>,
        count: u32,
        size: u32,
    ) -> WasiResult<()> {
        write_list_sizes(mem, &self.env, count, size)
    }

    /// Sockets reach a program only as preopened descriptors, and this host preopens
    /// none: every `sock_*` call names a descriptor that is not a socket (`ENOTSOCK`)
    /// or none at all (`EBADF`).
    pub(crate) fn sock_check(&self, fd: u32) -> WasiResult<()> {
        self.get(fd)?;
        Err(Errno::NotSock)
    }
}

pub(crate) fn random_get(mem: &mut GuestMemory<'_>, buf: u32, len: u32) -> WasiResult<()> {
    let dst = mem.slice_mut(buf, len)?;
    getrandom::fill(dst).map_err(|_| Errno::Io)
}
