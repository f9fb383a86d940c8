//! The WASI layer through the runtime's API, on both engines: `proc_exit` closes the
//! instance with its code (not a trap), and the filesystem sandbox refuses every way out
//! of a preopened directory with the errno the spec gives, touching nothing outside.

use runtime::{Config, Engine, Error, Instance, Module, Store, Strategy, TypedFunc};
use wasi_preview1::{Errno, WasiConfig, WasiCtx};

const ENGINES: [Strategy; 2] = [Strategy::Interpreter, Strategy::Native];

/// A guest that exports `open(path_ptr, path_len, oflags) -> errno` (path_open on
/// descriptor `dirfd`, following symlinks, read and write rights), `exit(code)` and a
/// memory whose first 1024 bytes the test fills with paths.
fn guest(dirfd: u32) -> String {
    format!(
        r#"(module
            (import "wasi_snapshot_preview1" "path_open"
                (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
            (memory (export "memory") 1)
            (func (export "open") (param $ptr i32) (param $len i32) (param $oflags i32) (result i32)
                (call $path_open (i32.const {dirfd}) (i32.const 1) (local.get $ptr) (local.get $len)
                    (local.get $oflags) (i64.const 0x1fffffff) (i64.const 0x1fffffff)
                    (i32.const 0) (i32.const 2048)))
            (func (export "exit") (param i32) (call $proc_exit (local.get 0))))"#
    )
}

struct Guest {
    store: Store,
    instance: Instance,
    open: TypedFunc<(u32, u32, u32), u32>,
}

fn start(strategy: Strategy, config: WasiConfig, dirfd: u32) -> Guest {
    let engine = Engine::new(Config::new(strategy)).unwrap();
    let store = Store::new(&engine);
    wasi_preview1::add_to_store(&store, WasiCtx::new(config).unwrap()).unwrap();
    let module = Module::new(&engine, guest(dirfd)).unwrap();
    let instance = Instance::new(&store, &module, None).unwrap();
    let open = instance
        .get_func(&store, "open")
        .unwrap()
        .typed(&store)
        .unwrap();
    Guest {
        store,
        instance,
        open,
    }
}

impl Guest {
    /// path_open of `path` (with `oflags`), as the errno it returned.
    fn open(&self, path: &str, oflags: u32) -> u32 {
        let memory = self.instance.get_memory(&self.store, "memory").unwrap();
        memory.write(&self.store, 0, path.as_bytes()).unwrap();
        self.open
            .call(&self.store, (0, path.len() as u32, oflags))
            .unwrap()
    }
}

const O_CREAT: u32 = 1;
const PREOPEN_FD: u32 = 3;

#[test]
fn proc_exit_closes_the_instance_with_its_code() {
    for strategy in ENGINES {
        let g = start(strategy, WasiConfig::new(), PREOPEN_FD);
        let exit = g
            .instance
            .get_func(&g.store, "exit")
            .unwrap()
            .typed::<u32, ()>(&g.store)
            .unwrap();
        match exit.call(&g.store, 3) {
            Err(Error::Exit(e)) => assert_eq!(e.code, 3, "{strategy:?}"),
            other => panic!("{strategy:?}: proc_exit(3) gave {other:?}"),
        }
        assert_eq!(g.instance.exit_code(&g.store), Some(3), "{strategy:?}");
        // The instance is closed: any later call fails with the same exit code.
        match g.open.call(&g.store, (0, 0, 0)) {
            Err(Error::Exit(e)) => assert_eq!(e.code, 3, "{strategy:?}"),
            other => panic!("{strategy:?}: a call after proc_exit gave {other:?}"),
        }
    }
}

#[test]
fn paths_cannot_leave_the_preopen() {
    for strategy in ENGINES {
        let outside = tempfile::tempdir().unwrap();
        let sandbox = outside.path().join("sandbox");
        std::fs::create_dir_all(sandbox.join("sub")).unwrap();
        std::fs::write(outside.path().join("secret"), b"host data").unwrap();
        std::fs::write(sandbox.join("inside"), b"guest data").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), sandbox.join("abs-link"))
            .unwrap();
        std::os::unix::fs::symlink("../secret", sandbox.join("rel-link")).unwrap();
        std::os::unix::fs::symlink("../../secret", sandbox.join("sub/deep-link")).unwrap();
        std::os::unix::fs::symlink("inside", sandbox.join("good-link")).unwrap();

        let g = start(
            strategy,
            WasiConfig::new().preopen_dir(&sandbox, "/sandbox"),
            PREOPEN_FD,
        );
        let not_capable = Errno::NotCapable as u32;
        // What stays inside works, through `..` and symlinks too.
        assert_eq!(g.open("inside", 0), 0, "{strategy:?}");
        assert_eq!(g.open("sub/../inside", 0), 0, "{strategy:?}");
        assert_eq!(g.open("good-link", 0), 0, "{strategy:?}");
        // Every way out is refused.
        for path in [
            "../secret",
            "sub/../../secret",
            "/secret",
            "abs-link",
            "rel-link",
            "sub/deep-link",
        ] {
            assert_eq!(g.open(path, 0), not_capable, "{strategy:?}: {path}");
        }
        // Creating outside is refused, and nothing appears on the host.
        assert_eq!(g.open("../created", O_CREAT), not_capable, "{strategy:?}");
        assert_eq!(
            g.open(&format!("{}/created", outside.path().display()), O_CREAT),
            not_capable
        );
        assert!(!outside.path().join("created").exists(), "{strategy:?}");
        assert_eq!(
            std::fs::read(outside.path().join("secret")).unwrap(),
            b"host data"
        );
    }
}

#[test]
fn a_directory_that_was_not_preopened_is_not_a_descriptor() {
    for strategy in ENGINES {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), b"x").unwrap();
        // No preopen at all: descriptor 3 does not exist, whatever the path says.
        let g = start(strategy, WasiConfig::new(), PREOPEN_FD);
        let path = dir.path().join("file").display().to_string();
        assert_eq!(g.open(&path, 0), Errno::BadF as u32, "{strategy:?}");
        // Stdout is a descriptor, but not a directory to resolve paths in.
        let g = start(strategy, WasiConfig::new(), 1);
        assert_eq!(g.open(&path, 0), Errno::NotDir as u32, "{strategy:?}");
    }
}
