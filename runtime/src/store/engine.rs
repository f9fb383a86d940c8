//! The engine boundary: what an execution engine provides so that the store,
//! instantiation and the public API are shared by the interpreter and the native engine.
//!
//! It lives in the store's layer, as wazero's `engine.go` lives beside its `store.go`:
//! an engine runs on the store's data, and the store holds its engine as
//! `Arc<dyn Backend>` without knowing which engines exist. The public API (the top layer)
//! picks one (`api/engine.rs`). RATIONALE.md, "Layers".

use std::any::Any;
use std::sync::Arc;

use super::StoreData;
use crate::error::{FrameNames, Result};
use crate::module::ModuleInfo;
use crate::values::RawValue;
use wasmparser::WasmFeatures;

/// One engine's compiled code for a module, downcast by the engine that made it.
pub(crate) trait CompiledModule: Any + Send + Sync {
    fn as_any(&self) -> &dyn Any;
}

/// A decoded module with one engine's code for it: what a module instance keeps of the
/// module it was made from.
#[derive(Clone)]
pub(crate) struct ModuleCode {
    info: Arc<ModuleInfo>,
    compiled: Arc<dyn CompiledModule>,
}

impl ModuleCode {
    pub fn new(info: Arc<ModuleInfo>, compiled: Arc<dyn CompiledModule>) -> ModuleCode {
        ModuleCode { info, compiled }
    }

    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    /// The module's names for backtrace frames.
    pub fn frame_names(&self) -> Arc<dyn FrameNames> {
        self.info.frame_names()
    }

    pub fn compiled(&self) -> &dyn CompiledModule {
        &*self.compiled
    }
}

/// One execution engine.
pub(crate) trait Backend: Send + Sync {
    /// The Wasm features this engine implements (on this host): a module that needs
    /// any other is refused as unsupported before `compile`.
    fn features(&self) -> WasmFeatures;

    /// Translates every defined function of a validated module.
    fn compile(&self, info: &ModuleInfo) -> Result<Arc<dyn CompiledModule>>;

    /// Decodes, validates and compiles `bytes` in one pass, if this engine (so
    /// configured) validates each function body as it translates it
    /// (`module::parse_compiling`); `None` if it does not: then `module::parse` validates
    /// and `compile` follows. Called only when the engine implements every feature of
    /// `features`.
    fn parse_and_compile(
        &self,
        _bytes: &Arc<[u8]>,
        _features: WasmFeatures,
    ) -> Option<Result<(ModuleInfo, Arc<dyn CompiledModule>)>> {
        None
    }

    /// Runs Wasm function `func` of the store with `args` (already checked against its
    /// type), writing `results` (pre-sized to the result count). Traps come back as
    /// `Error::Trap`; errors raised by host functions (exit requests included) pass
    /// through unchanged.
    fn invoke(
        &self,
        store: &mut StoreData,
        func: u32,
        args: &[RawValue],
        results: &mut [RawValue],
    ) -> Result<()>;

    /// Whether compiled code leaves bounds checks of 32-bit memories to guard pages
    /// (`Config::signal_traps`, in effect): the store then gives such memories one.
    fn signal_traps(&self) -> bool {
        false
    }
}
