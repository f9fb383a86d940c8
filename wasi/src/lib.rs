//! WASI preview1 (`wasi_snapshot_preview1`) for the runtime, through its public API only.
//!
//! ```no_run
//! use runtime::{Config, Engine, Instance, Module, Store};
//! use wasi_preview1::{WasiConfig, WasiCtx};
//! let engine = Engine::new(Config::default()).unwrap();
//! let store = Store::new(&engine);
//! let ctx = WasiCtx::new(WasiConfig::new().arg("prog").preopen_dir(".", "/")).unwrap();
//! wasi_preview1::add_to_store(&store, ctx).unwrap();
//! let module = Module::new(&engine, std::fs::read("prog.wasm").unwrap()).unwrap();
//! let instance = Instance::new(&store, &module, None).unwrap();
//! let start = instance.get_func(&store, "_start").unwrap();
//! match start.call(&store, &[]) {
//!     Ok(_) => {}
//!     Err(runtime::Error::Exit(e)) => std::process::exit(e.code as i32),
//!     Err(e) => panic!("{e}"),
//! }
//! ```

mod ctx;
mod errno;
mod fd;
mod host;
mod mem;
mod misc;
mod path;
mod poll;
mod rights;

pub use ctx::{WasiConfig, WasiCtx};
pub use errno::Errno;
pub use host::{MODULE, add_to_store};
