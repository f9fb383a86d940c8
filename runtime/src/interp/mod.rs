//! The interpreter engine (placeholder until the translator and executor land).

use std::sync::Arc;

use crate::engine::{Backend, CompiledModule, Config};
use crate::error::{Error, Result};
use crate::module::ModuleInfo;
use crate::store::StoreData;
use crate::values::Value;

pub(crate) struct Interpreter;

struct InterpModule;

impl CompiledModule for InterpModule {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Backend for Interpreter {
    fn supports_simd(&self) -> bool {
        false
    }

    fn compile(&self, _info: &ModuleInfo, _config: &Config) -> Result<Arc<dyn CompiledModule>> {
        Ok(Arc::new(InterpModule))
    }

    fn invoke(
        &self,
        _store: &mut StoreData,
        _func: u32,
        _args: &[Value],
        _results: &mut [Value],
    ) -> Result<()> {
        Err(Error::Usage("interpreter not built yet".into()))
    }
}
