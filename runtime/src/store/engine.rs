//! The engine boundary: what an execution engine provides so that the store,
//! instantiation and the public API are shared by the interpreter and the native engine.
//!
//! It lives in the store's layer, as wazero's `engine.go` lives beside its `store.go`:
//! an engine runs on the store's data, and the store holds its engine as
//! `Arc<dyn Backend>` without knowing which engines exist. The public API (the top layer)
//! picks one (`api/engine.rs`). RATIONALE.md, "Layers".

use std::any::Any;
use std::sync::{Arc, OnceLock};

use super::instance::ExportNames;
use super::{StoreData, TypeRegistry};
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
pub(crate) struct ModuleCode(Arc<ModuleCodeInner>);

/// One allocation, so that each instance holding its module costs one reference count.
struct ModuleCodeInner {
    info: Arc<ModuleInfo>,
    compiled: Arc<dyn CompiledModule>,
    /// What instantiation reuses across stores, made by the first that needs it.
    cached: InstantiationCache,
}

/// Per-module work of instantiation done once, not once per instance.
#[derive(Default)]
struct InstantiationCache {
    /// The registry of a store that has interned only this module's types, and their
    /// ids there: what a fresh store takes instead of interning them again.
    fresh_types: OnceLock<(TypeRegistry, Arc<[u32]>)>,
    /// The export names every instance shares.
    export_names: OnceLock<Arc<ExportNames>>,
    /// The active data segments as one copy-on-write image (`image.rs`), if they
    /// qualify; built by the first instantiation into a guarded memory.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    data_image: OnceLock<Option<super::image::DataImage>>,
}

impl ModuleCode {
    pub fn new(info: Arc<ModuleInfo>, compiled: Arc<dyn CompiledModule>) -> ModuleCode {
        ModuleCode(Arc::new(ModuleCodeInner {
            info,
            compiled,
            cached: InstantiationCache::default(),
        }))
    }

    /// The type registry of a store that interned this module's types and nothing
    /// else, and their ids in it: interning them into an empty registry always gives
    /// exactly this, so a fresh store shares it (copy-on-write) instead.
    pub(super) fn fresh_store_types(&self) -> &(TypeRegistry, Arc<[u32]>) {
        self.0.cached.fresh_types.get_or_init(|| {
            let mut types = TypeRegistry::default();
            let ids = types.ids_of_module(&self.0.info.types, &self.0.info.rec_groups);
            (types, ids.into())
        })
    }

    /// The module's export names, made once.
    pub(super) fn export_names(&self) -> &Arc<ExportNames> {
        (self.0.cached.export_names).get_or_init(|| {
            Arc::new(ExportNames::new(
                self.0.info.exports.iter().map(|e| e.name.as_str()),
            ))
        })
    }

    /// The module's data image, built on first use.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    pub(super) fn data_image(&self) -> Option<&super::image::DataImage> {
        (self.0.cached.data_image)
            .get_or_init(|| super::image::DataImage::build(&self.0.info))
            .as_ref()
    }

    pub fn info(&self) -> &ModuleInfo {
        &self.0.info
    }

    /// The module's names for backtrace frames.
    pub fn frame_names(&self) -> Arc<dyn FrameNames> {
        self.0.info.frame_names()
    }

    pub fn compiled(&self) -> &dyn CompiledModule {
        &*self.0.compiled
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
