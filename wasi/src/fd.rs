//! The `fd_*` functions: operations on an open descriptor.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, BorrowedFd};

use cap_std::fs::{FileExt, MetadataExt};
use rustix::fs::{Advice, FallocateFlags, OFlags, Timestamps};

use crate::ctx::{Descriptor, Handle, WasiCtx};
use crate::errno::{Errno, WasiResult};
use crate::mem::{GuestMemory, iovecs_len};
use crate::rights;

/// `filetype` values.
pub(crate) mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// `fdflags` bits.
pub(crate) mod fdflags {
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
}

/// `fstflags` bits.
pub(crate) mod fstflags {
    pub const ATIM: u16 = 1 << 0;
    pub const ATIM_NOW: u16 = 1 << 1;
    pub const MTIM: u16 = 1 << 2;
    pub const MTIM_NOW: u16 = 1 << 3;
}

/// A `filestat`, as the guest receives it (64 bytes).
pub(crate) struct FileStat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

impl FileStat {
    pub fn write(&self, mem: &mut GuestMemory<'_>, at: u32) -> WasiResult<()> {
        mem.slice_mut(at, 64)?.fill(0);
        mem.write_u64(at, self.dev)?;
        mem.write_u64(at + 8, self.ino)?;
        mem.write_u8(at + 16, self.filetype)?;
        mem.write_u64(at + 24, self.nlink)?;
        mem.write_u64(at + 32, self.size)?;
        mem.write_u64(at + 40, self.atim)?;
        mem.write_u64(at + 48, self.mtim)?;
        mem.write_u64(at + 56, self.ctim)
    }

    pub fn from_metadata(m: &cap_std::fs::Metadata) -> FileStat {
        FileStat {
            dev: m.dev(),
            ino: m.ino(),
            filetype: filetype_of_mode(m.mode()),
            nlink: m.nlink(),
            size: m.size(),
            atim: timestamp(m.atime(), m.atime_nsec()),
            mtim: timestamp(m.mtime(), m.mtime_nsec()),
            ctim: timestamp(m.ctime(), m.ctime_nsec()),
        }
    }

    fn from_stat(s: &rustix::fs::Stat) -> FileStat {
        FileStat {
            dev: s.st_dev,
            ino: s.st_ino,
            filetype: filetype_of_mode(s.st_mode),
            nlink: s.st_nlink,
            size: s.st_size.max(0) as u64,
            atim: timestamp(s.st_atime, s.st_atime_nsec as i64),
            mtim: timestamp(s.st_mtime, s.st_mtime_nsec as i64),
            ctim: timestamp(s.st_ctime, s.st_ctime_nsec as i64),
        }
    }
}

/// Nanoseconds since the epoch; times before it (which preview1 cannot express) are 0.
fn timestamp(secs: i64, nsecs: i64) -> u64 {
    (secs.max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsecs.max(0) as u64)
}

pub(crate) fn filetype_of_mode(mode: u32) -> u8 {
    match rustix::fs::FileType::from_raw_mode(mode as _) {
        rustix::fs::FileType::RegularFile => filetype::REGULAR_FILE,
        rustix::fs::FileType::Directory => filetype::DIRECTORY,
        rustix::fs::FileType::Symlink => filetype::SYMBOLIC_LINK,
        rustix::fs::FileType::CharacterDevice => filetype::CHARACTER_DEVICE,
        rustix::fs::FileType::BlockDevice => filetype::BLOCK_DEVICE,
        rustix::fs::FileType::Socket => filetype::SOCKET_STREAM,
        _ => filetype::UNKNOWN,
    }
}

/// The host descriptor behind `d`.
pub(crate) fn host_fd(d: &Descriptor) -> BorrowedFd<'_> {
    match &d.handle {
        Handle::Stdin => rustix::stdio::stdin(),
        Handle::Stdout => rustix::stdio::stdout(),
        Handle::Stderr => rustix::stdio::stderr(),
        Handle::File(f) => f.as_fd(),
        Handle::Dir(dir) => dir.as_fd(),
    }
}

/// The filetype preview1 reports for `d`.
fn filetype_of(d: &Descriptor) -> WasiResult<u8> {
    Ok(match &d.handle {
        Handle::File(_) => filetype::REGULAR_FILE,
        Handle::Dir(_) => filetype::DIRECTORY,
        _ => filetype_of_mode(rustix::fs::fstat(host_fd(d))?.st_mode),
    })
}

/// A duration or timestamp from the guest's `timestamp` with `fstflags`: what to set
/// each time to (`None`: leave it).
pub(crate) fn times_from_flags(
    atim: u64,
    mtim: u64,
    flags: u16,
) -> WasiResult<(Option<TimeSpec>, Option<TimeSpec>)> {
    use fstflags::*;
    if flags & !(ATIM | ATIM_NOW | MTIM | MTIM_NOW) != 0
        || flags & (ATIM | ATIM_NOW) == (ATIM | ATIM_NOW)
        || flags & (MTIM | MTIM_NOW) == (MTIM | MTIM_NOW)
    {
        return Err(Errno::Inval);
    }
    let pick = |set: u16, now: u16, t: u64| {
        if flags & now != 0 {
            Some(TimeSpec::Now)
        } else if flags & set != 0 {
            Some(TimeSpec::At(t))
        } else {
            None
        }
    };
    Ok((pick(ATIM, ATIM_NOW, atim), pick(MTIM, MTIM_NOW, mtim)))
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum TimeSpec {
    Now,
    At(u64),
}

impl TimeSpec {
    fn to_timespec(spec: Option<TimeSpec>) -> rustix::fs::Timespec {
        match spec {
            None => rustix::fs::Timespec {
                tv_sec: 0,
                tv_nsec: rustix::fs::UTIME_OMIT,
            },
            Some(TimeSpec::Now) => rustix::fs::Timespec {
                tv_sec: 0,
                tv_nsec: rustix::fs::UTIME_NOW,
            },
            Some(TimeSpec::At(ns)) => rustix::fs::Timespec {
                tv_sec: (ns / 1_000_000_000) as _,
                tv_nsec: (ns % 1_000_000_000) as _,
            },
        }
    }

    pub fn to_cap(spec: Option<TimeSpec>) -> Option<cap_fs_ext::SystemTimeSpec> {
        spec.map(|s| match s {
            TimeSpec::Now => cap_fs_ext::SystemTimeSpec::SymbolicNow,
            TimeSpec::At(ns) => {
                cap_fs_ext::SystemTimeSpec::Absolute(cap_std::time::SystemTime::from_std(
                    std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns),
                ))
            }
        })
    }
}

impl WasiCtx {
    pub(crate) fn fd_advise(&self, fd: u32, offset: u64, len: u64, advice: u8) -> WasiResult<()> {
        let d = self.get(fd)?;
        let advice = match advice {
            0 => Advice::Normal,
            1 => Advice::Sequential,
            2 => Advice::Random,
            3 => Advice::WillNeed,
            4 => Advice::DontNeed,
            5 => Advice::NoReuse,
            _ => return Err(Errno::Inval),
        };
        let file = d.file()?;
        d.require(rights::FD_ADVISE)?;
        let len = std::num::NonZeroU64::new(len);
        rustix::fs::fadvise(file, offset, len, advice)?;
        Ok(())
    }

    pub(crate) fn fd_allocate(&self, fd: u32, offset: u64, len: u64) -> WasiResult<()> {
        let d = self.get(fd)?;
        let file = d.file()?;
        d.require(rights::FD_ALLOCATE)?;
        if len == 0 {
            return Err(Errno::Inval);
        }
        offset.checked_add(len).ok_or(Errno::FBig)?;
        rustix::fs::fallocate(file, FallocateFlags::empty(), offset, len)?;
        Ok(())
    }

    pub(crate) fn fd_close(&mut self, fd: u32) -> WasiResult<()> {
        self.fds.remove(&fd).map(drop).ok_or(Errno::BadF)
    }

    pub(crate) fn fd_sync(&self, fd: u32, data_only: bool) -> WasiResult<()> {
        let d = self.get(fd)?;
        d.require(if data_only {
            rights::FD_DATASYNC
        } else {
            rights::FD_SYNC
        })?;
        match &d.handle {
            Handle::File(f) if data_only => f.sync_data()?,
            Handle::File(f) => f.sync_all()?,
            Handle::Dir(dir) => rustix::fs::fsync(dir)?,
            _ => return Err(Errno::Inval),
        }
        Ok(())
    }

    pub(crate) fn fd_fdstat_get(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        at: u32,
    ) -> WasiResult<()> {
        let d = self.get(fd)?;
        let mut flags = 0u16;
        if d.append {
            flags |= fdflags::APPEND;
        }
        let host_flags = rustix::fs::fcntl_getfl(host_fd(d))?;
        for (host, wasi) in [
            (OFlags::NONBLOCK, fdflags::NONBLOCK),
            (OFlags::DSYNC, fdflags::DSYNC),
            (OFlags::RSYNC, fdflags::RSYNC),
        ] {
            if host_flags.contains(host) {
                flags |= wasi;
            }
        }
        // O_SYNC includes O_DSYNC's bit on Linux: test the whole of it.
        if host_flags.contains(OFlags::SYNC) {
            flags |= fdflags::SYNC;
        }
        mem.slice_mut(at, 24)?.fill(0);
        mem.write_u8(at, filetype_of(d)?)?;
        mem.write_u16(at + 2, flags)?;
        mem.write_u64(at + 8, d.rights_base)?;
        mem.write_u64(at + 16, d.rights_inheriting)
    }

    pub(crate) fn fd_fdstat_set_flags(&mut self, fd: u32, flags: u16) -> WasiResult<()> {
        let d = self.get_mut(fd)?;
        d.require(rights::FD_FDSTAT_SET_FLAGS)?;
        if flags
            & !(fdflags::APPEND
                | fdflags::DSYNC
                | fdflags::NONBLOCK
                | fdflags::RSYNC
                | fdflags::SYNC)
            != 0
        {
            return Err(Errno::Inval);
        }
        // Linux cannot change the synchronisation flags of an open file (fcntl ignores
        // them); saying so is better than reporting a change that did not happen.
        if flags & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
            return Err(Errno::NotSup);
        }
        let fd = host_fd(d);
        let mut host = rustix::fs::fcntl_getfl(fd)?;
        host.set(OFlags::NONBLOCK, flags & fdflags::NONBLOCK != 0);
        rustix::fs::fcntl_setfl(fd, host)?;
        d.append = flags & fdflags::APPEND != 0;
        Ok(())
    }

    pub(crate) fn fd_fdstat_set_rights(
        &mut self,
        fd: u32,
        base: u64,
        inheriting: u64,
    ) -> WasiResult<()> {
        let d = self.get_mut(fd)?;
        // Rights only ever shrink: a descriptor cannot grant itself more.
        if base & !d.rights_base != 0 || inheriting & !d.rights_inheriting != 0 {
            return Err(Errno::NotCapable);
        }
        d.rights_base = base;
        d.rights_inheriting = inheriting;
        Ok(())
    }

    pub(crate) fn fd_filestat_get(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        at: u32,
    ) -> WasiResult<()> {
        let d = self.get(fd)?;
        d.require(rights::FD_FILESTAT_GET)?;
        let stat = rustix::fs::fstat(host_fd(d))?;
        let mut fs = FileStat::from_stat(&stat);
        if matches!(d.handle, Handle::Stdin | Handle::Stdout | Handle::Stderr) {
            // The host's stdio may be a pipe or a file; the guest sees a character
            // device, with no identity on the host's filesystem.
            fs = FileStat {
                dev: 0,
                ino: 0,
                filetype: filetype::CHARACTER_DEVICE,
                nlink: 0,
                size: 0,
                atim: 0,
                mtim: 0,
                ctim: 0,
            };
        }
        fs.write(mem, at)
    }

    pub(crate) fn fd_filestat_set_size(&self, fd: u32, size: u64) -> WasiResult<()> {
        let d = self.get(fd)?;
        let file = d.file()?;
        d.require(rights::FD_FILESTAT_SET_SIZE)?;
        if !d.writable {
            return Err(Errno::BadF);
        }
        file.set_len(size)?;
        Ok(())
    }

    pub(crate) fn fd_filestat_set_times(
        &self,
        fd: u32,
        atim: u64,
        mtim: u64,
        flags: u16,
    ) -> WasiResult<()> {
        let d = self.get(fd)?;
        d.require(rights::FD_FILESTAT_SET_TIMES)?;
        let (a, m) = times_from_flags(atim, mtim, flags)?;
        let times = Timestamps {
            last_access: TimeSpec::to_timespec(a),
            last_modification: TimeSpec::to_timespec(m),
        };
        rustix::fs::futimens(host_fd(d), &times)?;
        Ok(())
    }

    /// Reads into the iovecs at `offset` (`None`: at the file position).
    pub(crate) fn fd_read(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: Option<u64>,
    ) -> WasiResult<u32> {
        let iovs = mem.read_iovecs(iovs, iovs_len)?;
        let d = self.get(fd)?;
        if matches!(d.handle, Handle::Dir(_)) {
            return Err(Errno::IsDir);
        }
        if !d.readable {
            return Err(Errno::BadF);
        }
        d.require(rights::FD_READ | if offset.is_some() { rights::FD_SEEK } else { 0 })?;
        let mut buf = vec![0u8; iovecs_len(&iovs)];
        let n = match (&d.handle, offset) {
            (Handle::File(f), Some(at)) => f.read_at(&mut buf, at)?,
            (Handle::File(f), None) => (&*f).read(&mut buf)?,
            (Handle::Stdin, None) => std::io::stdin().lock().read(&mut buf)?,
            _ => return Err(Errno::SPipe),
        };
        mem.scatter(&iovs, &buf[..n])?;
        Ok(n as u32)
    }

    /// Writes the iovecs at `offset` (`None`: at the file position, or at the end for a
    /// descriptor in append mode).
    pub(crate) fn fd_write(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: Option<u64>,
    ) -> WasiResult<u32> {
        let iovs = mem.read_iovecs(iovs, iovs_len)?;
        let data = mem.gather(&iovs)?;
        let d = self.get(fd)?;
        if matches!(d.handle, Handle::Dir(_)) {
            return Err(Errno::IsDir);
        }
        if !d.writable {
            return Err(Errno::BadF);
        }
        d.require(rights::FD_WRITE | if offset.is_some() { rights::FD_SEEK } else { 0 })?;
        let n = match (&d.handle, offset) {
            (Handle::File(f), Some(at)) => f.write_at(&data, at)?,
            (Handle::File(f), None) if d.append => {
                let mut f = f;
                f.seek(SeekFrom::End(0))?;
                f.write(&data)?
            }
            (Handle::File(f), None) => (&*f).write(&data)?,
            (Handle::Stdout, None) => {
                let mut out = std::io::stdout().lock();
                out.write_all(&data)?;
                out.flush()?;
                data.len()
            }
            (Handle::Stderr, None) => {
                std::io::stderr().lock().write_all(&data)?;
                data.len()
            }
            _ => return Err(Errno::SPipe),
        };
        Ok(n as u32)
    }

    pub(crate) fn fd_prestat_get(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        at: u32,
    ) -> WasiResult<()> {
        let name = self.get(fd)?.preopen.as_ref().ok_or(Errno::BadF)?;
        // The whole prestat is in bounds, so `at + 4` cannot wrap.
        mem.slice_mut(at, 8)?.fill(0);
        mem.write_u32(at + 4, name.len() as u32)
    }

    pub(crate) fn fd_prestat_dir_name(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        at: u32,
        len: u32,
    ) -> WasiResult<()> {
        let name = self.get(fd)?.preopen.as_ref().ok_or(Errno::BadF)?;
        if (len as usize) < name.len() {
            return Err(Errno::NameTooLong);
        }
        mem.write_bytes(at, name.as_bytes())
    }

    pub(crate) fn fd_renumber(&mut self, from: u32, to: u32) -> WasiResult<()> {
        self.get(from)?;
        self.get(to)?;
        if from != to {
            let d = self.fds.remove(&from).ok_or(Errno::BadF)?;
            self.fds.insert(to, d);
        }
        Ok(())
    }

    pub(crate) fn fd_seek(&self, fd: u32, offset: i64, whence: u8) -> WasiResult<u64> {
        let d = self.get(fd)?;
        let file = match &d.handle {
            Handle::File(f) => f,
            Handle::Dir(_) => return Err(Errno::BadF),
            _ => return Err(Errno::SPipe),
        };
        let pos = match whence {
            0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
            1 => SeekFrom::Current(offset),
            2 => SeekFrom::End(offset),
            _ => return Err(Errno::Inval),
        };
        // Asking for the position only needs `fd_tell`.
        let needed = if matches!(pos, SeekFrom::Current(0)) {
            rights::FD_TELL
        } else {
            rights::FD_SEEK
        };
        d.require(needed)?;
        Ok((&*file).seek(pos)?)
    }

    pub(crate) fn fd_tell(&self, fd: u32) -> WasiResult<u64> {
        let d = self.get(fd)?;
        match &d.handle {
            Handle::File(f) => {
                d.require(rights::FD_TELL)?;
                Ok((&*f).stream_position()?)
            }
            Handle::Dir(_) => Err(Errno::BadF),
            _ => Err(Errno::SPipe),
        }
    }
}
