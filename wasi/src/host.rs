//! The `wasi_snapshot_preview1` host module: each of the 46 functions of the witx,
//! with its Wasm signature, decoding its arguments and calling the implementation.

use std::sync::{Arc, Mutex};

use runtime::{Caller, Error, FuncType, HostModuleBuilder, Instance, Store, ValType, Value};

use crate::ctx::WasiCtx;
use crate::errno::{Errno, WasiResult};
use crate::mem::GuestMemory;
use crate::misc::{clock_now, clock_res, random_get};
use crate::path::OpenRequest;

/// The module name programs import from.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// A call's arguments, read by position and type.
struct Args<'a>(&'a [Value]);

impl Args<'_> {
    fn u32(&self, i: usize) -> u32 {
        match self.0.get(i) {
            Some(Value::I32(v)) => *v as u32,
            _ => 0,
        }
    }
    fn u64(&self, i: usize) -> u64 {
        match self.0.get(i) {
            Some(Value::I64(v)) => *v as u64,
            _ => 0,
        }
    }
    fn u16(&self, i: usize) -> u16 {
        self.u32(i) as u16
    }
    fn u8(&self, i: usize) -> u8 {
        self.u32(i) as u8
    }
}

type Impl = dyn Fn(&mut WasiCtx, &mut GuestMemory<'_>, &Args<'_>) -> WasiResult<()> + Send + Sync;

/// `I` for an i32 parameter, `L` for an i64 one.
fn signature(params: &str) -> FuncType {
    let params: Vec<ValType> = params
        .chars()
        .map(|c| if c == 'L' { ValType::I64 } else { ValType::I32 })
        .collect();
    FuncType::new(params, vec![ValType::I32])
}

struct Definer {
    builder: HostModuleBuilder,
    ctx: Arc<Mutex<WasiCtx>>,
}

impl Definer {
    /// Defines `name` with parameters `params` (see [`signature`]), returning an errno.
    fn def(
        mut self,
        name: &str,
        params: &str,
        f: impl Fn(&mut WasiCtx, &mut GuestMemory<'_>, &Args<'_>) -> WasiResult<()>
        + Send
        + Sync
        + 'static,
    ) -> Definer {
        let ctx = self.ctx.clone();
        let f: Arc<Impl> = Arc::new(f);
        self.builder = self.builder.func(
            name,
            signature(params),
            move |caller: &mut Caller<'_>, args, results| {
                let bytes = caller.exported_memory_mut("memory").ok_or_else(|| {
                    Error::host("wasi: the calling module exports no memory named \"memory\"")
                })?;
                let mut mem = GuestMemory::new(bytes);
                let mut ctx = ctx
                    .lock()
                    .map_err(|_| Error::host("wasi: state poisoned by an earlier panic"))?;
                let errno = match f(&mut ctx, &mut mem, &Args(args)) {
                    Ok(()) => Errno::Success,
                    Err(e) => e,
                };
                results[0] = Value::I32(errno as i32);
                Ok(())
            },
        );
        self
    }
}

/// Registers the preview1 module for `ctx` in `store`, for modules instantiated later
/// to import.
pub fn add_to_store(store: &Store, ctx: WasiCtx) -> runtime::Result<Instance> {
    let ctx = Arc::new(Mutex::new(ctx));
    let builder = HostModuleBuilder::new(MODULE).func(
        "proc_exit",
        FuncType::new(vec![ValType::I32], vec![]),
        |caller: &mut Caller<'_>, args: &[Value], _: &mut [Value]| {
            Err(caller.exit(Args(args).u32(0)))
        },
    );
    let d = Definer { builder, ctx };
    let d = d
        .def("args_get", "II", |c, m, a| {
            c.args_get(m, a.u32(0), a.u32(1))
        })
        .def("args_sizes_get", "II", |c, m, a| {
            c.args_sizes_get(m, a.u32(0), a.u32(1))
        })
        .def("environ_get", "II", |c, m, a| {
            c.environ_get(m, a.u32(0), a.u32(1))
        })
        .def("environ_sizes_get", "II", |c, m, a| {
            c.environ_sizes_get(m, a.u32(0), a.u32(1))
        })
        .def("clock_res_get", "II", |_, m, a| {
            m.write_u64(a.u32(1), clock_res(a.u32(0))?)
        })
        .def("clock_time_get", "ILI", |_, m, a| {
            m.write_u64(a.u32(2), clock_now(a.u32(0))?)
        })
        .def("fd_advise", "ILLI", |c, _, a| {
            c.fd_advise(a.u32(0), a.u64(1), a.u64(2), a.u8(3))
        })
        .def("fd_allocate", "ILL", |c, _, a| {
            c.fd_allocate(a.u32(0), a.u64(1), a.u64(2))
        })
        .def("fd_close", "I", |c, _, a| c.fd_close(a.u32(0)))
        .def("fd_datasync", "I", |c, _, a| c.fd_sync(a.u32(0), true))
        .def("fd_fdstat_get", "II", |c, m, a| {
            c.fd_fdstat_get(m, a.u32(0), a.u32(1))
        })
        .def("fd_fdstat_set_flags", "II", |c, _, a| {
            c.fd_fdstat_set_flags(a.u32(0), a.u16(1))
        })
        .def("fd_fdstat_set_rights", "ILL", |c, _, a| {
            c.fd_fdstat_set_rights(a.u32(0), a.u64(1), a.u64(2))
        })
        .def("fd_filestat_get", "II", |c, m, a| {
            c.fd_filestat_get(m, a.u32(0), a.u32(1))
        })
        .def("fd_filestat_set_size", "IL", |c, _, a| {
            c.fd_filestat_set_size(a.u32(0), a.u64(1))
        })
        .def("fd_filestat_set_times", "ILLI", |c, _, a| {
            c.fd_filestat_set_times(a.u32(0), a.u64(1), a.u64(2), a.u16(3))
        })
        .def("fd_pread", "IIILI", |c, m, a| {
            let n = c.fd_read(m, a.u32(0), a.u32(1), a.u32(2), Some(a.u64(3)))?;
            m.write_u32(a.u32(4), n)
        })
        .def("fd_prestat_get", "II", |c, m, a| {
            c.fd_prestat_get(m, a.u32(0), a.u32(1))
        })
        .def("fd_prestat_dir_name", "III", |c, m, a| {
            c.fd_prestat_dir_name(m, a.u32(0), a.u32(1), a.u32(2))
        })
        .def("fd_pwrite", "IIILI", |c, m, a| {
            let n = c.fd_write(m, a.u32(0), a.u32(1), a.u32(2), Some(a.u64(3)))?;
            m.write_u32(a.u32(4), n)
        })
        .def("fd_read", "IIII", |c, m, a| {
            let n = c.fd_read(m, a.u32(0), a.u32(1), a.u32(2), None)?;
            m.write_u32(a.u32(3), n)
        })
        .def("fd_readdir", "IIILI", |c, m, a| {
            let n = c.fd_readdir(m, a.u32(0), a.u32(1), a.u32(2), a.u64(3))?;
            m.write_u32(a.u32(4), n)
        })
        .def("fd_renumber", "II", |c, _, a| {
            c.fd_renumber(a.u32(0), a.u32(1))
        })
        .def("fd_seek", "ILII", |c, m, a| {
            let pos = c.fd_seek(a.u32(0), a.u64(1) as i64, a.u8(2))?;
            m.write_u64(a.u32(3), pos)
        })
        .def("fd_sync", "I", |c, _, a| c.fd_sync(a.u32(0), false))
        .def("fd_tell", "II", |c, m, a| {
            let pos = c.fd_tell(a.u32(0))?;
            m.write_u64(a.u32(1), pos)
        })
        .def("fd_write", "IIII", |c, m, a| {
            let n = c.fd_write(m, a.u32(0), a.u32(1), a.u32(2), None)?;
            m.write_u32(a.u32(3), n)
        })
        .def("path_create_directory", "III", |c, m, a| {
            c.path_create_directory(a.u32(0), &m.read_str(a.u32(1), a.u32(2))?)
        })
        .def("path_filestat_get", "IIIII", |c, m, a| {
            let path = m.read_str(a.u32(2), a.u32(3))?;
            c.path_filestat_get(m, a.u32(0), a.u32(1), &path, a.u32(4))
        })
        .def("path_filestat_set_times", "IIIILLI", |c, m, a| {
            let path = m.read_str(a.u32(2), a.u32(3))?;
            c.path_filestat_set_times(a.u32(0), a.u32(1), &path, a.u64(4), a.u64(5), a.u16(6))
        })
        .def("path_link", "IIIIIII", |c, m, a| {
            let old = m.read_str(a.u32(2), a.u32(3))?;
            let new = m.read_str(a.u32(5), a.u32(6))?;
            c.path_link(a.u32(0), a.u32(1), &old, a.u32(4), &new)
        })
        .def("path_open", "IIIIILLII", |c, m, a| {
            let path = m.read_str(a.u32(2), a.u32(3))?;
            let req = OpenRequest {
                lookup: a.u32(1),
                oflags: a.u16(4),
                rights_base: a.u64(5),
                rights_inheriting: a.u64(6),
                fdflags: a.u16(7),
            };
            let fd = c.path_open(a.u32(0), &path, req)?;
            m.write_u32(a.u32(8), fd)
        })
        .def("path_readlink", "IIIIII", |c, m, a| {
            let path = m.read_str(a.u32(1), a.u32(2))?;
            let n = c.path_readlink(m, a.u32(0), &path, a.u32(3), a.u32(4))?;
            m.write_u32(a.u32(5), n)
        })
        .def("path_remove_directory", "III", |c, m, a| {
            c.path_remove_directory(a.u32(0), &m.read_str(a.u32(1), a.u32(2))?)
        })
        .def("path_rename", "IIIIII", |c, m, a| {
            let old = m.read_str(a.u32(1), a.u32(2))?;
            let new = m.read_str(a.u32(4), a.u32(5))?;
            c.path_rename(a.u32(0), &old, a.u32(3), &new)
        })
        .def("path_symlink", "IIIII", |c, m, a| {
            let target = m.read_str(a.u32(0), a.u32(1))?;
            let link = m.read_str(a.u32(3), a.u32(4))?;
            c.path_symlink(&target, a.u32(2), &link)
        })
        .def("path_unlink_file", "III", |c, m, a| {
            c.path_unlink_file(a.u32(0), &m.read_str(a.u32(1), a.u32(2))?)
        })
        .def("poll_oneoff", "IIII", |c, m, a| {
            let n = c.poll_oneoff(m, a.u32(0), a.u32(1), a.u32(2))?;
            m.write_u32(a.u32(3), n)
        })
        // Signals do not exist for a preview1 program on this host (wasi-libc no longer
        // calls this; `raise` is emulated in the guest): the spec's "not supported".
        .def("proc_raise", "I", |_, _, _| Err(Errno::NoSys))
        .def("sched_yield", "", |_, _, _| {
            std::thread::yield_now();
            Ok(())
        })
        .def("random_get", "II", |_, m, a| {
            random_get(m, a.u32(0), a.u32(1))
        })
        .def("sock_accept", "III", |c, _, a| c.sock_check(a.u32(0)))
        .def("sock_recv", "IIIIII", |c, _, a| c.sock_check(a.u32(0)))
        .def("sock_send", "IIIII", |c, _, a| c.sock_check(a.u32(0)))
        .def("sock_shutdown", "II", |c, _, a| c.sock_check(a.u32(0)));
    d.builder.instantiate(store)
}
