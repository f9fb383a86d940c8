//! The engine boundary: what an execution engine must provide so that the store,
//! instantiation and the public API can be shared by the interpreter and the native
//! engine. (wazero splits this into `Engine` and `ModuleEngine`; see RATIONALE.md.)

use std::any::Any;
use std::sync::Arc;

use crate::error::Result;
use crate::module::ModuleInfo;
use crate::store::StoreData;
use crate::values::Value;

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
}

impl Default for Config {
    fn default() -> Config {
        Config {
            strategy: Strategy::Interpreter,
            features: WasmFeatures::WASM2,
            max_call_depth: 20_000,
            max_value_stack: 4 * 1024 * 1024,
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
}

/// Engine-specific compiled code of one module, kept by `Module` and downcast by the
/// engine that made it.
pub(crate) trait CompiledModule: Any + Send + Sync {
    fn as_any(&self) -> &dyn Any;
}

/// One execution engine.
pub(crate) trait Backend: Send + Sync {
    /// Whether modules may use v128.
    fn supports_simd(&self) -> bool;

    /// Translates every defined function of a validated module.
    fn compile(&self, info: &ModuleInfo, config: &Config) -> Result<Arc<dyn CompiledModule>>;

    /// Runs store function `func` (Wasm or host) with type-checked `args`, writing
    /// `results` (pre-sized to the result count). Traps come back as `Error::Trap`; errors
    /// raised by host functions (including exit requests) pass through unchanged.
    fn invoke(
        &self,
        store: &mut StoreData,
        func: u32,
        args: &[Value],
        results: &mut [Value],
    ) -> Result<()>;
}

struct EngineInner {
    config: Config,
    backend: Box<dyn Backend>,
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
        let backend: Box<dyn Backend> = match config.strategy {
            Strategy::Interpreter => Box::new(crate::interp::Interpreter),
            Strategy::Native => Box::new(crate::native::NativeBackend::new()?),
        };
        Ok(Engine {
            inner: Arc::new(EngineInner { config, backend }),
        })
    }

    /// Whether an engine of this strategy exists in this build.
    pub fn is_available(strategy: Strategy) -> bool {
        matches!(strategy, Strategy::Interpreter | Strategy::Native)
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn backend(&self) -> &dyn Backend {
        &*self.inner.backend
    }

    pub(crate) fn same(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
