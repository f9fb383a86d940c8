//! The `path_*` functions and `fd_readdir`: everything that names a file by a path
//! relative to a directory descriptor. Every path is resolved by cap-std inside that
//! directory, so `..`, absolute paths and symlinks cannot leave it (RATIONALE.md, WASI).

use std::os::fd::AsFd;

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt};
use cap_std::fs::{Dir, MetadataExt, OpenOptions, OpenOptionsExt};

use crate::ctx::{Descriptor, Handle, WasiCtx};
use crate::errno::{Errno, WasiResult};
use crate::fd::{FileStat, TimeSpec, fdflags, filetype, times_from_flags};
use crate::mem::GuestMemory;
use crate::rights;

/// `lookupflags.symlink_follow`.
const SYMLINK_FOLLOW: u32 = 1;

/// `oflags` bits.
const O_CREAT: u16 = 1 << 0;
const O_DIRECTORY: u16 = 1 << 1;
const O_EXCL: u16 = 1 << 2;
const O_TRUNC: u16 = 1 << 3;

/// The arguments of `path_open` after the directory and path.
pub(crate) struct OpenRequest {
    pub lookup: u32,
    pub oflags: u16,
    pub rights_base: u64,
    pub rights_inheriting: u64,
    pub fdflags: u16,
}

/// A guest path as the host resolves it. Empty paths name nothing (`ENOENT`, as POSIX);
/// a NUL byte cannot be passed to the host (`EINVAL`).
fn checked(path: &str) -> WasiResult<&str> {
    if path.is_empty() {
        return Err(Errno::NoEnt);
    }
    if path.contains('\0') {
        return Err(Errno::Inval);
    }
    Ok(path)
}

impl WasiCtx {
    /// The directory of descriptor `fd`, with `needed` rights.
    fn dir_with(&self, fd: u32, needed: u64) -> WasiResult<&Dir> {
        let d = self.get(fd)?;
        let dir = d.dir()?;
        d.require(needed)?;
        Ok(dir)
    }

    pub(crate) fn path_open(
        &mut self,
        dirfd: u32,
        path: &str,
        req: OpenRequest,
    ) -> WasiResult<u32> {
        let path = checked(path)?;
        let parent = self.get(dirfd)?;
        let dir = parent.dir()?;
        let mut needed = rights::PATH_OPEN;
        if req.oflags & O_CREAT != 0 {
            needed |= rights::PATH_CREATE_FILE;
        }
        if req.oflags & O_TRUNC != 0 {
            needed |= rights::PATH_FILESTAT_SET_SIZE;
        }
        parent.require(needed)?;
        let inheritable = parent.rights_inheriting;

        let read = req.rights_base & (rights::FD_READ | rights::FD_READDIR) != 0;
        // Rights that need the file open for writing (`fd_datasync` does not: a
        // directory holds it too and opens read-only).
        let write = req.rights_base
            & (rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE)
            != 0
            || req.oflags & O_TRUNC != 0;
        if req.oflags & O_DIRECTORY != 0 && write {
            // A directory cannot be opened for writing; POSIX says EISDIR.
            return Err(Errno::IsDir);
        }
        let mut options = OpenOptions::new();
        options.read(read || !write);
        options.write(write);
        // `fdflags.append` is kept by the descriptor, not the host's O_APPEND: the guest
        // can turn it off again (fd_fdstat_set_flags), which Linux allows only through
        // fcntl, and std's rules refuse append together with truncate.
        if req.oflags & O_CREAT != 0 {
            // std's rules (which cap-std follows) want write access to create; the
            // descriptor's rights still say what the guest may do with it.
            options.write(true);
            if req.oflags & O_EXCL != 0 {
                options.create_new(true);
            } else {
                options.create(true);
            }
        }
        options.truncate(req.oflags & O_TRUNC != 0);
        let mut custom = 0;
        if req.oflags & O_DIRECTORY != 0 {
            custom |= rustix::fs::OFlags::DIRECTORY.bits() as i32;
        }
        if req.fdflags & fdflags::NONBLOCK != 0 {
            custom |= rustix::fs::OFlags::NONBLOCK.bits() as i32;
        }
        if req.fdflags & fdflags::DSYNC != 0 {
            custom |= rustix::fs::OFlags::DSYNC.bits() as i32;
        }
        if req.fdflags & fdflags::SYNC != 0 {
            custom |= rustix::fs::OFlags::SYNC.bits() as i32;
        }
        if req.fdflags & fdflags::RSYNC != 0 {
            custom |= rustix::fs::OFlags::RSYNC.bits() as i32;
        }
        options.custom_flags(custom);
        options.maybe_dir(true);
        options.follow(if req.lookup & SYMLINK_FOLLOW != 0 {
            FollowSymlinks::Yes
        } else {
            FollowSymlinks::No
        });
        let file = dir.open_with(path, &options)?;
        let is_dir = file.metadata()?.is_dir();
        let (handle, mask) = if is_dir {
            let dir = Dir::from_std_file(file.into_std());
            (Handle::Dir(dir), rights::DIRECTORY_BASE)
        } else {
            if req.oflags & O_DIRECTORY != 0 {
                return Err(Errno::NotDir);
            }
            (Handle::File(file), rights::FILE_BASE)
        };
        let d = Descriptor {
            handle,
            rights_base: req.rights_base & inheritable & mask,
            rights_inheriting: req.rights_inheriting & inheritable,
            readable: read || !write,
            writable: write && !is_dir,
            append: req.fdflags & fdflags::APPEND != 0,
            preopen: None,
        };
        self.insert(d)
    }

    pub(crate) fn path_create_directory(&self, fd: u32, path: &str) -> WasiResult<()> {
        let dir = self.dir_with(fd, rights::PATH_CREATE_DIRECTORY)?;
        dir.create_dir(checked(path)?)?;
        Ok(())
    }

    pub(crate) fn path_remove_directory(&self, fd: u32, path: &str) -> WasiResult<()> {
        let dir = self.dir_with(fd, rights::PATH_REMOVE_DIRECTORY)?;
        dir.remove_dir(checked(path)?)?;
        Ok(())
    }

    pub(crate) fn path_unlink_file(&self, fd: u32, path: &str) -> WasiResult<()> {
        let dir = self.dir_with(fd, rights::PATH_UNLINK_FILE)?;
        let path = checked(path)?;
        // A trailing slash names a directory; unlinking one is EISDIR or ENOTDIR
        // depending on what is there, which the host's unlinkat decides.
        dir.remove_file_or_symlink(path)?;
        Ok(())
    }

    pub(crate) fn path_rename(
        &self,
        old_fd: u32,
        old: &str,
        new_fd: u32,
        new: &str,
    ) -> WasiResult<()> {
        let from = self.dir_with(old_fd, rights::PATH_RENAME_SOURCE)?;
        let to = self.dir_with(new_fd, rights::PATH_RENAME_TARGET)?;
        from.rename(checked(old)?, to, checked(new)?)?;
        Ok(())
    }

    pub(crate) fn path_link(
        &self,
        old_fd: u32,
        lookup: u32,
        old: &str,
        new_fd: u32,
        new: &str,
    ) -> WasiResult<()> {
        let from = self.dir_with(old_fd, rights::PATH_LINK_SOURCE)?;
        let to = self.dir_with(new_fd, rights::PATH_LINK_TARGET)?;
        if lookup & SYMLINK_FOLLOW != 0 {
            // Following the source's symlink would need linkat's AT_SYMLINK_FOLLOW on a
            // path cap-std has not resolved; refused rather than resolved unsafely.
            return Err(Errno::Inval);
        }
        from.hard_link(checked(old)?, to, checked(new)?)?;
        Ok(())
    }

    pub(crate) fn path_symlink(&self, target: &str, fd: u32, link: &str) -> WasiResult<()> {
        let dir = self.dir_with(fd, rights::PATH_SYMLINK)?;
        // cap-std refuses absolute targets: following one could not stay inside the
        // sandbox, and another program on the host would follow it outside.
        dir.symlink(checked(target)?, checked(link)?)?;
        Ok(())
    }

    pub(crate) fn path_readlink(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: &str,
        buf: u32,
        buf_len: u32,
    ) -> WasiResult<u32> {
        let dir = self.dir_with(fd, rights::PATH_READLINK)?;
        // cap-std refuses to return an absolute target, which would tell the guest about
        // the host's filesystem.
        let target = dir.read_link(checked(path)?)?;
        let bytes = target.as_os_str().as_encoded_bytes();
        let n = bytes.len().min(buf_len as usize);
        mem.write_bytes(buf, &bytes[..n])?;
        Ok(n as u32)
    }

    pub(crate) fn path_filestat_get(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        lookup: u32,
        path: &str,
        at: u32,
    ) -> WasiResult<()> {
        let dir = self.dir_with(fd, rights::PATH_FILESTAT_GET)?;
        let path = checked(path)?;
        let meta = if lookup & SYMLINK_FOLLOW != 0 {
            dir.metadata(path)?
        } else {
            dir.symlink_metadata(path)?
        };
        FileStat::from_metadata(&meta).write(mem, at)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_filestat_set_times(
        &self,
        fd: u32,
        lookup: u32,
        path: &str,
        atim: u64,
        mtim: u64,
        flags: u16,
    ) -> WasiResult<()> {
        let dir = self.dir_with(fd, rights::PATH_FILESTAT_SET_TIMES)?;
        let (a, m) = times_from_flags(atim, mtim, flags)?;
        let path = checked(path)?;
        let (a, m) = (TimeSpec::to_cap(a), TimeSpec::to_cap(m));
        if lookup & SYMLINK_FOLLOW != 0 {
            dir.set_times(path, a, m)?;
        } else {
            dir.set_symlink_times(path, a, m)?;
        }
        Ok(())
    }

    pub(crate) fn fd_readdir(
        &self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        buf: u32,
        buf_len: u32,
        cookie: u64,
    ) -> WasiResult<u32> {
        let d = self.get(fd)?;
        let dir = match &d.handle {
            Handle::Dir(dir) => dir,
            _ => return Err(Errno::NotDir),
        };
        d.require(rights::FD_READDIR)?;
        let entries = list_dir(dir)?;
        let mut out = Vec::new();
        for (index, (name, ino, kind)) in entries
            .iter()
            .enumerate()
            .skip(cookie.min(usize::MAX as u64) as usize)
        {
            if out.len() >= buf_len as usize {
                break;
            }
            out.extend_from_slice(&(index as u64 + 1).to_le_bytes());
            out.extend_from_slice(&ino.to_le_bytes());
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.extend_from_slice(&[*kind, 0, 0, 0]);
            out.extend_from_slice(name);
        }
        // The last entry may not fit: the guest sees a full buffer and asks again with
        // that entry's cookie, as the spec describes.
        out.truncate(buf_len as usize);
        mem.write_bytes(buf, &out)?;
        Ok(out.len() as u32)
    }
}

/// A directory's entries with `.` and `..` first: name, inode and filetype. The order
/// of the rest is the host's, stable while the directory does not change, so a cookie
/// (an index into this list) resumes where the last call stopped.
fn list_dir(dir: &Dir) -> WasiResult<Vec<(Vec<u8>, u64, u8)>> {
    let own = rustix::fs::fstat(dir.as_fd())?;
    // The parent of a preopen is outside the sandbox: its inode is not the guest's to
    // see, so `..` reports the directory's own where cap-std cannot reach the parent.
    let parent_ino = dir.metadata("..").map(|m| m.ino()).unwrap_or(own.st_ino);
    let mut list = vec![
        (b".".to_vec(), own.st_ino, filetype::DIRECTORY),
        (b"..".to_vec(), parent_ino, filetype::DIRECTORY),
    ];
    for entry in dir.entries()? {
        let entry = entry?;
        let ft = entry.file_type()?;
        let kind = if ft.is_dir() {
            filetype::DIRECTORY
        } else if ft.is_file() {
            filetype::REGULAR_FILE
        } else if ft.is_symlink() {
            filetype::SYMBOLIC_LINK
        } else {
            use cap_std::fs::FileTypeExt;
            if ft.is_block_device() {
                filetype::BLOCK_DEVICE
            } else if ft.is_char_device() {
                filetype::CHARACTER_DEVICE
            } else if ft.is_socket() {
                filetype::SOCKET_STREAM
            } else {
                filetype::UNKNOWN
            }
        };
        let ino = rustix::fs::DirEntryExt::ino(&entry);
        list.push((entry.file_name().into_encoded_bytes(), ino, kind));
    }
    Ok(list)
}
