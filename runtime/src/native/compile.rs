//! Compiling a module: every defined function, plus an entry trampoline and a host
//! adapter per signature, into one `JITModule`.

use cranelift_codegen::ir::Signature;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Module as _, ModuleError};

use super::NativeModule;
use super::abi;
use super::code_memory::CodeMemory;
use super::translate::{self, Env, trampolines};
use crate::error::{Error, Result};
use crate::module::ModuleInfo;

/// Cranelift's limits on what it can compile make a module unsupported; any other
/// failure (the IR verifier, register allocation) is a bug of ours, an internal error.
fn codegen_error(e: ModuleError) -> Error {
    use cranelift_codegen::CodegenError;
    let message = format!("native engine: code generation failed: {e:?}");
    match e {
        ModuleError::Compilation(
            CodegenError::ImplLimitExceeded
            | CodegenError::CodeTooLarge
            | CodegenError::Unsupported(_),
        ) => Error::unsupported(message),
        _ => Error::internal(message),
    }
}

pub(crate) fn compile_module(isa: &OwnedTargetIsa, info: &ModuleInfo) -> Result<NativeModule> {
    let builder = JITBuilder::with_isa(isa.clone(), cranelift_module::default_libcall_names());
    let mut jit = JITModule::new(builder);
    let call_conv = isa.default_call_conv();
    let sigs: Vec<Signature> = info.types.iter().map(|t| abi::wasm_signature(t)).collect();
    let nimp = info.num_imported_funcs as usize;
    let func_ids: Vec<FuncId> = (0..info.bodies.len())
        .map(|i| {
            jit.declare_anonymous_function(&sigs[info.funcs[nimp + i] as usize])
                .map_err(codegen_error)
        })
        .collect::<Result<_>>()?;
    let entry_sig = abi::entry_signature(call_conv);
    let mut tramp_ids = Vec::with_capacity(sigs.len());
    let mut adapter_ids = Vec::with_capacity(sigs.len());
    for sig in &sigs {
        tramp_ids.push(
            jit.declare_anonymous_function(&entry_sig)
                .map_err(codegen_error)?,
        );
        adapter_ids.push(jit.declare_anonymous_function(sig).map_err(codegen_error)?);
    }
    let env = Env {
        info,
        sigs: &sigs,
        func_ids: &func_ids,
        call_conv,
        frontend: isa.frontend_config(),
        simd: super::isa_supports_simd(&**isa),
    };
    let mut ctx = jit.make_context();
    let mut fbc = FunctionBuilderContext::new();
    for (i, id) in func_ids.iter().enumerate() {
        ctx.func.signature = sigs[info.funcs[nimp + i] as usize].clone();
        translate::translate_function(&mut jit, &mut ctx.func, &mut fbc, &env, i)?;
        jit.define_function(*id, &mut ctx).map_err(codegen_error)?;
        jit.clear_context(&mut ctx);
    }
    for t in 0..sigs.len() {
        ctx.func.signature = entry_sig.clone();
        trampolines::build_entry(&mut ctx.func, &mut fbc, &env, t);
        jit.define_function(tramp_ids[t], &mut ctx)
            .map_err(codegen_error)?;
        jit.clear_context(&mut ctx);
        ctx.func.signature = sigs[t].clone();
        trampolines::build_host_adapter(&mut ctx.func, &mut fbc, &env, t);
        jit.define_function(adapter_ids[t], &mut ctx)
            .map_err(codegen_error)?;
        jit.clear_context(&mut ctx);
    }
    jit.finalize_definitions().map_err(codegen_error)?;
    let addr = |id: &FuncId| jit.get_finalized_function(*id) as usize;
    let funcs = func_ids.iter().map(addr).collect();
    let trampolines = tramp_ids.iter().map(addr).collect();
    let adapters = adapter_ids.iter().map(addr).collect();
    Ok(NativeModule {
        funcs,
        trampolines,
        adapters,
        _code: CodeMemory::new(jit),
    })
}
