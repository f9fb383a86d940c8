//! Compiled modules: decoded, validated and translated once, instantiated many times
//! (from any thread: a `Module` is `Send + Sync` and cheap to clone).

use std::sync::Arc;

use crate::engine::{CompiledModule, Engine};
use crate::error::{CompileError, CompileErrorKind, Error, Result};
use crate::module::{Export, Import, ModuleInfo};

struct ModuleInner {
    engine: Engine,
    info: ModuleInfo,
    compiled: Arc<dyn CompiledModule>,
}

#[derive(Clone)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.inner.info.name)
            .finish()
    }
}

impl Module {
    /// Compiles a module from its binary or text (WAT) form.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        let binary = wat::parse_bytes(bytes).map_err(|e| {
            Error::Compile(CompileError {
                kind: CompileErrorKind::Malformed,
                message: e.to_string(),
                offset: None,
            })
        })?;
        Module::from_binary(engine, &binary)
    }

    /// Compiles a module from its binary form only.
    pub fn from_binary(engine: &Engine, bytes: &[u8]) -> Result<Module> {
        let config = engine.config();
        let info = crate::module::parse(Arc::from(bytes), config.features)?;
        if !engine.backend().supports_simd() {
            reject_simd_types(&info)?;
        }
        let compiled = engine.backend().compile(&info, config)?;
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                info,
                compiled,
            }),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The decoded module (types, imports, exports, segments).
    pub fn info(&self) -> &ModuleInfo {
        &self.inner.info
    }

    pub fn imports(&self) -> &[Import] {
        &self.inner.info.imports
    }

    pub fn exports(&self) -> &[Export] {
        &self.inner.info.exports
    }

    pub fn name(&self) -> Option<&str> {
        self.inner.info.name.as_deref()
    }

    pub(crate) fn compiled(&self) -> &dyn CompiledModule {
        &*self.inner.compiled
    }
}

pub(crate) fn simd_unsupported() -> Error {
    Error::Compile(CompileError {
        kind: CompileErrorKind::Unsupported,
        message: "SIMD is not supported by this engine yet".into(),
        offset: None,
    })
}

/// Signatures and globals that mention v128; operators are caught by the translator.
fn reject_simd_types(info: &ModuleInfo) -> Result<()> {
    use crate::values::ValType;
    let in_types = info
        .types
        .iter()
        .any(|t| t.params().contains(&ValType::V128) || t.results().contains(&ValType::V128));
    let in_globals = info.globals.iter().any(|g| g.content == ValType::V128);
    if in_types || in_globals {
        return Err(simd_unsupported());
    }
    Ok(())
}
