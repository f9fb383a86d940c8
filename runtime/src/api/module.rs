//! Compiled modules: decoded, validated and translated once, instantiated many times
//! (from any thread: a `Module` is `Send + Sync` and cheap to clone).

use std::sync::Arc;

use crate::api::Engine;
use crate::error::{CompileErrorKind, Error, Result};
use crate::module::{Export, Import, ModuleInfo};
use crate::native::CodeCacheOutcome;
use crate::store::ModuleCode;
use wasmparser::WasmFeatures;

struct ModuleInner {
    engine: Engine,
    code: ModuleCode,
}

#[derive(Clone)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.info().name)
            .finish()
    }
}

impl Module {
    /// Compiles a module from its binary or text (WAT) form.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        let binary = wat::parse_bytes(bytes)
            .map_err(|e| Error::compile(CompileErrorKind::Malformed, e.to_string()))?;
        Module::from_binary(engine, &binary)
    }

    /// Compiles a module from its binary form only.
    pub fn from_binary(engine: &Engine, bytes: &[u8]) -> Result<Module> {
        let config = engine.config();
        let bytes: Arc<[u8]> = Arc::from(bytes);
        // GC is never an engine's feature, but the front end implements what it brings
        // to function types (recursion groups, canonicalised by the store) and refuses
        // every other use of it while parsing (`module::parse`), so it is not lacking.
        let lacking = config.features - engine.backend().features() - WasmFeatures::GC;
        let one_pass = match lacking.is_empty() {
            true => engine.backend().parse_and_compile(&bytes, config.features),
            false => None,
        };
        let (info, compiled) = match one_pass {
            Some(done) => done?,
            None => {
                let info = crate::module::parse(bytes.clone(), config.features)?;
                // A valid module that needs a feature the engine lacks is refused before
                // any code is generated, whatever the translator would make of it.
                let needed = crate::module::features_needed(&bytes, config.features, lacking);
                if !needed.is_empty() {
                    return Err(Error::unsupported(format!(
                        "the {} engine does not implement {}, which the module uses",
                        config.strategy.name(),
                        needed.join(", ")
                    )));
                }
                let compiled = engine.backend().compile(&info)?;
                (info, compiled)
            }
        };
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                code: ModuleCode::new(Arc::new(info), compiled),
            }),
        })
    }

    /// What the native engine's code cache did for this module (`Config::cache_dir`).
    pub fn code_cache(&self) -> &CodeCacheOutcome {
        crate::native::code_cache_outcome(&self.inner.code)
    }

    /// Whether this module's code was loaded from the code cache rather than compiled.
    pub fn loaded_from_cache(&self) -> bool {
        *self.code_cache() == CodeCacheOutcome::Loaded
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The decoded module (types, imports, exports, segments).
    pub fn info(&self) -> &ModuleInfo {
        self.inner.code.info()
    }

    pub fn imports(&self) -> &[Import] {
        &self.info().imports
    }

    pub fn exports(&self) -> &[Export] {
        &self.info().exports
    }

    pub fn name(&self) -> Option<&str> {
        self.info().name.as_deref()
    }

    /// The decoded module and the engine's code, as instances keep them.
    pub(crate) fn code(&self) -> &ModuleCode {
        &self.inner.code
    }
}
