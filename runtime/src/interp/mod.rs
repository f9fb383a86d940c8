//! The interpreter engine.
//!
//! `compile` translates every function body once into slot bytecode (`bytecode.rs`,
//! built by `translate/`); `invoke` runs it in a loop with its own frame and value
//! stacks (`exec/`). Numeric semantics live in `numeric.rs`.

mod bytecode;
mod code;
mod exec;
mod gc;
mod numeric;
mod simd;
mod translate;

use std::sync::Arc;

use crate::error::Result;
use crate::module::{BodyCompiler, ModuleInfo};
use crate::store::{Backend, CompiledModule, StoreData};
use crate::values::RawValue;
use wasmparser::{FuncValidatorAllocations, WasmFeatures};

use bytecode::FuncCode;
pub(crate) use exec::Limits as InterpLimits;
#[cfg(feature = "op-coverage")]
pub(crate) use exec::coverage;

pub(crate) struct Interpreter {
    limits: InterpLimits,
    /// Whether function entries and loop headers check the interrupt flag.
    interruptible: bool,
    /// Whether translated code consumes fuel (`module/fuel.rs`).
    consume_fuel: bool,
}

impl Interpreter {
    pub(crate) fn new(
        limits: InterpLimits,
        interruptible: bool,
        consume_fuel: bool,
    ) -> Interpreter {
        Interpreter {
            limits,
            interruptible,
            consume_fuel,
        }
    }
}

/// The translated functions of one module.
#[derive(Debug)]
pub(crate) struct ModuleCode {
    /// Indexed by defined function index.
    pub funcs: Vec<FuncCode>,
    pub num_imported_funcs: u32,
}

pub(crate) struct InterpModule {
    pub code: Arc<ModuleCode>,
}

impl CompiledModule for InterpModule {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Backend for Interpreter {
    /// Wasm 2.0, extended constant expressions (which the store evaluates),
    /// multi-memory (memory 0 cached by the execution loop, the others through the
    /// `OtherMemory` prefix), memory64 and table64 (a 64-bit memory's instructions take
    /// the same prefix, `exec/other_memory.rs`), relaxed SIMD (with the native engine's
    /// one result per operator, `simd/relaxed.rs`), tail calls (`return_call`,
    /// `return_call_indirect`, `return_call_ref`: the callee replaces the caller's frame,
    /// so tail-call loops run in constant space, `exec/call.rs`), typed function
    /// references (`translate/func_refs.rs`) and exception handling (`throw`,
    /// `throw_ref`, `try_table`: handler tables searched by the unwinder,
    /// `exec/exceptions.rs`).
    fn features(&self) -> WasmFeatures {
        WasmFeatures::WASM2
            | WasmFeatures::EXTENDED_CONST
            | WasmFeatures::MULTI_MEMORY
            | WasmFeatures::MEMORY64
            | WasmFeatures::RELAXED_SIMD
            | WasmFeatures::TAIL_CALL
            | WasmFeatures::FUNCTION_REFERENCES
            | WasmFeatures::EXCEPTIONS
    }

    fn compile(&self, info: &ModuleInfo) -> Result<Arc<dyn CompiledModule>> {
        let mut scratch = translate::Scratch::default();
        let funcs = (0..info.bodies.len())
            .map(|i| {
                let (interruptible, fuel) = (self.interruptible, self.consume_fuel);
                translate::translate(info, i, interruptible, fuel, &mut scratch)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(InterpModule {
            code: Arc::new(ModuleCode {
                funcs,
                num_imported_funcs: info.num_imported_funcs,
            }),
        }))
    }

    /// Without metering, each body is validated as it is translated, in one decode
    /// (`translate::translate_validating`). Metering's plans (`calls_anything`, the
    /// fuel plan) read a body ahead of its translation and assume it valid, so with
    /// metering on `module::parse` validates first, as for the native engine.
    fn parse_and_compile(
        &self,
        bytes: &Arc<[u8]>,
        features: WasmFeatures,
    ) -> Option<Result<(ModuleInfo, Arc<dyn CompiledModule>)>> {
        if self.interruptible || self.consume_fuel {
            return None;
        }
        let mut funcs = Vec::new();
        let mut allocs = FuncValidatorAllocations::default();
        let mut scratch = translate::Scratch::default();
        let compile_body: &mut BodyCompiler = &mut |info, defined, body, func| {
            let mut validator = func.into_validator(std::mem::take(&mut allocs));
            let (code, uses_objects) = translate::translate_validating(
                info,
                defined,
                &body,
                &mut validator,
                &mut scratch,
            )?;
            allocs = validator.into_allocations();
            funcs.push(code);
            Ok(uses_objects)
        };
        let info = match crate::module::parse_compiling(bytes.clone(), features, compile_body) {
            Ok(info) => info,
            Err(e) => return Some(Err(e)),
        };
        let compiled: Arc<dyn CompiledModule> = Arc::new(InterpModule {
            code: Arc::new(ModuleCode {
                funcs,
                num_imported_funcs: info.num_imported_funcs,
            }),
        });
        Some(Ok((info, compiled)))
    }

    fn invoke(
        &self,
        store: &mut StoreData,
        func: u32,
        args: &[RawValue],
        results: &mut [RawValue],
    ) -> Result<()> {
        exec::invoke(store, &self.limits, func, args, results)
    }
}
