//! The state of one WASI program: its arguments and environment, and its descriptor
//! table (stdio, preopened directories and what the guest opened through them).

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use cap_std::fs::{Dir, File};

use crate::errno::{Errno, WasiResult};
use crate::rights;

/// What an embedder decides about a WASI program before it runs.
#[derive(Debug, Clone, Default)]
pub struct WasiConfig {
    args: Vec<String>,
    env: Vec<(String, String)>,
    preopens: Vec<(PathBuf, String)>,
}

impl WasiConfig {
    pub fn new() -> WasiConfig {
        WasiConfig::default()
    }

    /// Appends one argument (the first is the program name, `argv[0]`).
    pub fn arg(mut self, arg: impl Into<String>) -> WasiConfig {
        self.args.push(arg.into());
        self
    }

    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> WasiConfig {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds `key=value` to the guest's environment (which starts empty).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> WasiConfig {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Preopens the host directory `host` as `guest`: the guest can reach what is below
    /// it and nothing else.
    pub fn preopen_dir(mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> WasiConfig {
        self.preopens.push((host.into(), guest.into()));
        self
    }
}

/// What a descriptor refers to.
pub(crate) enum Handle {
    Stdin,
    Stdout,
    Stderr,
    File(File),
    Dir(Dir),
}

/// One entry of the descriptor table.
pub(crate) struct Descriptor {
    pub handle: Handle,
    pub rights_base: u64,
    pub rights_inheriting: u64,
    /// The open mode of a file (stdio: its direction); preview1 reports a write to a
    /// descriptor opened only for reading as `EBADF`, as POSIX does.
    pub readable: bool,
    pub writable: bool,
    /// `fdflags.append`: every write goes to the end, as the guest asked.
    pub append: bool,
    /// The guest name of a preopened directory (`fd_prestat_get` reports it).
    pub preopen: Option<String>,
}

impl Descriptor {
    /// Fails with `ENOTCAPABLE` unless every right in `needed` is in the base rights.
    pub fn require(&self, needed: u64) -> WasiResult<()> {
        if self.rights_base & needed == needed {
            Ok(())
        } else {
            Err(Errno::NotCapable)
        }
    }

    pub fn file(&self) -> WasiResult<&File> {
        match &self.handle {
            Handle::File(f) => Ok(f),
            Handle::Dir(_) => Err(Errno::IsDir),
            _ => Err(Errno::BadF),
        }
    }

    pub fn dir(&self) -> WasiResult<&Dir> {
        match &self.handle {
            Handle::Dir(d) => Ok(d),
            _ => Err(Errno::NotDir),
        }
    }
}

/// A WASI program's state. Host functions reach it through the `Arc<Mutex<_>>` their
/// closures share.
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<String>,
    pub(crate) fds: BTreeMap<u32, Descriptor>,
}

impl WasiCtx {
    /// Opens the preopened directories (the one place the host's ambient authority is
    /// used) and sets up stdio as descriptors 0, 1 and 2.
    pub fn new(config: WasiConfig) -> io::Result<WasiCtx> {
        let mut fds = BTreeMap::new();
        let stdio = [
            (Handle::Stdin, true, false),
            (Handle::Stdout, false, true),
            (Handle::Stderr, false, true),
        ];
        for (fd, (handle, readable, writable)) in stdio.into_iter().enumerate() {
            let base = if readable {
                rights::STDIN
            } else {
                rights::STDOUT
            };
            fds.insert(
                fd as u32,
                Descriptor {
                    handle,
                    rights_base: base,
                    rights_inheriting: 0,
                    readable,
                    writable,
                    append: false,
                    preopen: None,
                },
            );
        }
        for (index, (host, guest)) in config.preopens.into_iter().enumerate() {
            let dir = Dir::open_ambient_dir(&host, cap_std::ambient_authority()).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot preopen {}: {e}", host.display()))
            })?;
            fds.insert(
                3 + index as u32,
                Descriptor {
                    handle: Handle::Dir(dir),
                    rights_base: rights::DIRECTORY_BASE,
                    rights_inheriting: rights::DIRECTORY_BASE | rights::FILE_BASE,
                    readable: true,
                    writable: false,
                    append: false,
                    preopen: Some(guest),
                },
            );
        }
        Ok(WasiCtx {
            args: config.args,
            env: config
                .env
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            fds,
        })
    }

    pub(crate) fn get(&self, fd: u32) -> WasiResult<&Descriptor> {
        self.fds.get(&fd).ok_or(Errno::BadF)
    }

    pub(crate) fn get_mut(&mut self, fd: u32) -> WasiResult<&mut Descriptor> {
        self.fds.get_mut(&fd).ok_or(Errno::BadF)
    }

    /// Puts `d` at the lowest free descriptor number, as POSIX `open` does.
    pub(crate) fn insert(&mut self, d: Descriptor) -> WasiResult<u32> {
        let mut fd = 0u32;
        for &used in self.fds.keys() {
            if used != fd {
                break;
            }
            fd = fd.checked_add(1).ok_or(Errno::MFile)?;
        }
        self.fds.insert(fd, d);
        Ok(fd)
    }
}
