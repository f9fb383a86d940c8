//! `Engine` and its `Config`: the one place that knows which execution engines exist and
//! picks one (the engines implement `store::Backend`, the boundary below).

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::Result;
use crate::interp::{InterpLimits, Interpreter};
use crate::native::{CodeOptions, NativeBackend, OptLevel, RegallocAlgorithm};
use crate::store::Backend;

pub use wasmparser::WasmFeatures;

/// Which engine executes Wasm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    Interpreter,
    Native,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Interpreter => "interp",
            Strategy::Native => "native",
        }
    }
}

/// Engine configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub strategy: Strategy,
    /// The Wasm features modules may use (validation follows them exactly).
    pub features: WasmFeatures,
    /// Most nested Wasm calls before a "call stack exhausted" trap, on the interpreter.
    /// The native engine is bounded by the thread's machine stack instead (checked in every
    /// prologue): counting calls there would cost every call a counter (+17% on `fib`).
    pub max_call_depth: u32,
    /// Most 64-bit value cells the interpreter's value stack may hold.
    pub max_value_stack: usize,
    /// Threads the native engine compiles a module's functions on: 0 (the default) is
    /// one per available core, 1 compiles on the calling thread. Small modules (under
    /// 64 KiB of function bodies) always compile on the calling thread.
    pub compile_threads: usize,
    /// Whether a running call can be stopped from another thread
    /// ([`Store::interrupt_handle`](crate::Store::interrupt_handle)): both engines then
    /// check a flag at every function entry and loop header. Off by default, and then
    /// no check is compiled at all.
    pub interruptible: bool,
    /// Whether calls consume the store's fuel ([`Store::set_fuel`](crate::Store::set_fuel))
    /// by one cost table, identically in both engines (`module/fuel.rs`); a call that runs
    /// out traps with "all fuel consumed". Off by default, and then nothing is metered.
    pub consume_fuel: bool,
    /// Where the native engine keeps compiled code between runs (`None`, the default: no
    /// cache). A module found there is loaded instead of compiled; an entry that is
    /// missing, damaged or made by another engine build or configuration is recompiled
    /// and replaced (`Module::code_cache` says which). The interpreter ignores it.
    pub cache_dir: Option<PathBuf>,
    /// How hard the native engine optimises ([`OptLevel`]; part of the code cache's key).
    pub opt_level: OptLevel,
    /// How the native engine assigns registers ([`RegallocAlgorithm`]; part of the code
    /// cache's key).
    pub regalloc_algorithm: RegallocAlgorithm,
    /// Whether the native engine leaves the bounds checks of 32-bit memories to the
    /// hardware: each such memory then reserves 8 GiB of address space (4 GiB plus a
    /// guard, committed only as it grows), an access past its end faults, and a signal
    /// handler the engine installs once per process turns the fault into an "out of bounds
    /// memory access" trap (RATIONALE.md "Guard pages and signal traps"); function
    /// prologues then check the stack, and the same handler (for `SIGILL`) turns a failed
    /// check into "call stack exhausted" (or "interrupted"). Only on x86-64
    /// Linux, and not with [`Config::consume_fuel`] (a fault would lose the fuel count
    /// held in registers); elsewhere it changes nothing. On by default (where it applies:
    /// memory-heavy code runs up to 1.3x faster and compiles up to 1.4x faster); a custom
    /// [`MemoryAllocator`](crate::MemoryAllocator) must then reserve 8 GiB per 32-bit
    /// memory ([`LinearMemory::reserved_bytes`](crate::LinearMemory::reserved_bytes)), or
    /// the engine be built with this off.
    pub signal_traps: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            strategy: Strategy::Interpreter,
            features: WasmFeatures::WASM2,
            max_call_depth: 20_000,
            max_value_stack: 4 * 1024 * 1024,
            compile_threads: 0,
            interruptible: false,
            consume_fuel: false,
            cache_dir: None,
            opt_level: OptLevel::Speed,
            regalloc_algorithm: RegallocAlgorithm::Backtracking,
            signal_traps: true,
        }
    }
}

impl Config {
    pub fn new(strategy: Strategy) -> Config {
        Config {
            strategy,
            ..Config::default()
        }
    }

    pub fn features(mut self, features: WasmFeatures) -> Config {
        self.features = features;
        self
    }

    /// Sets [`Config::interruptible`].
    pub fn interruptible(mut self, on: bool) -> Config {
        self.interruptible = on;
        self
    }

    /// Sets [`Config::consume_fuel`].
    pub fn consume_fuel(mut self, on: bool) -> Config {
        self.consume_fuel = on;
        self
    }

    /// Sets [`Config::opt_level`].
    pub fn opt_level(mut self, level: OptLevel) -> Config {
        self.opt_level = level;
        self
    }

    /// Sets [`Config::regalloc_algorithm`].
    pub fn regalloc_algorithm(mut self, algorithm: RegallocAlgorithm) -> Config {
        self.regalloc_algorithm = algorithm;
        self
    }

    /// Sets [`Config::signal_traps`].
    pub fn signal_traps(mut self, on: bool) -> Config {
        self.signal_traps = on;
        self
    }

    /// Sets `cache_dir`.
    pub fn cache_dir(mut self, dir: Option<PathBuf>) -> Config {
        self.cache_dir = dir;
        self
    }
}

struct EngineInner {
    config: Config,
    backend: Arc<dyn Backend>,
}

/// A configured engine; cheap to clone, shared by modules and stores.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("strategy", &self.inner.config.strategy)
            .finish()
    }
}

impl Engine {
    pub fn new(config: Config) -> Result<Engine> {
        let backend: Arc<dyn Backend> = match config.strategy {
            Strategy::Interpreter => Arc::new(Interpreter::new(
                InterpLimits {
                    max_depth: config.max_call_depth as usize,
                    max_cells: config.max_value_stack,
                },
                config.interruptible,
                config.consume_fuel,
            )),
            Strategy::Native => Arc::new(NativeBackend::new(
                config.compile_threads,
                config.cache_dir.clone(),
                config.features,
                CodeOptions {
                    interruptible: config.interruptible,
                    consume_fuel: config.consume_fuel,
                    signal_traps: config.signal_traps,
                    leave_by_signal: false,
                },
                config.opt_level,
                config.regalloc_algorithm,
            )?),
        };
        Ok(Engine {
            inner: Arc::new(EngineInner { config, backend }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn backend(&self) -> &Arc<dyn Backend> {
        &self.inner.backend
    }

    pub(crate) fn same(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
