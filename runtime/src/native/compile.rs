//! Compiling a module: every defined function, plus an entry trampoline and a host
//! adapter per signature, into one `JITModule`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::Signature;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::{CodegenError, Context};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Module as _, ModuleError, ModuleReloc};

use super::NativeModule;
use super::abi;
use super::backtrace::CodeMap;
use super::code_memory::CodeMemory;
use super::translate::{self, Env, trampolines};
use crate::error::{Error, Result};
use crate::module::ModuleInfo;

/// Cranelift's limits on what it can compile make a module unsupported; any other
/// failure (the IR verifier, register allocation) is a bug of ours, an internal error.
fn codegen_error(e: ModuleError) -> Error {
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

/// Compiles `info` into a `JITModule` with `threads` compiling its functions (0: one
/// per available core).
pub(crate) fn compile_module(
    isa: &OwnedTargetIsa,
    info: &ModuleInfo,
    threads: usize,
) -> Result<NativeModule> {
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
    let mut code_lens = Vec::with_capacity(func_ids.len());
    for (i, code) in compile_functions(isa, &env, threads)?
        .into_iter()
        .enumerate()
    {
        code_lens.push(code.bytes.len() as u32);
        jit.define_function_bytes(func_ids[i], code.alignment, &code.bytes, &code.relocs)
            .map_err(codegen_error)?;
    }
    let mut ctx = jit.make_context();
    let mut fbc = FunctionBuilderContext::new();
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
    let funcs: Vec<usize> = func_ids.iter().map(addr).collect();
    let trampolines = tramp_ids.iter().map(addr).collect();
    let adapters = adapter_ids.iter().map(addr).collect();
    Ok(NativeModule {
        code_map: CodeMap::new(&funcs, &code_lens),
        funcs,
        trampolines,
        adapters,
        _code: CodeMemory::new(jit),
    })
}

/// One defined function's machine code, ready for `define_function_bytes`.
struct CompiledFunction {
    bytes: Vec<u8>,
    alignment: u64,
    relocs: Vec<ModuleReloc>,
}

/// Below this much function-body bytecode a module compiles on the calling thread: for
/// small modules, starting threads costs more than it saves.
const PARALLEL_MIN_BODY_BYTES: usize = 64 * 1024;

/// Translates and compiles every defined function, on up to `threads` threads (0: one
/// per available core). Functions are independent once declared: each is translated
/// into its own `Function` (calls name their callees by `FuncId`, `calls.rs`) and
/// compiled there; the `JITModule` only places the code and resolves the relocations.
fn compile_functions(
    isa: &OwnedTargetIsa,
    env: &Env<'_>,
    threads: usize,
) -> Result<Vec<CompiledFunction>> {
    let count = env.func_ids.len();
    let body_bytes: usize = env.info.bodies.iter().map(|b| b.range.len()).sum();
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let threads = if body_bytes < PARALLEL_MIN_BODY_BYTES {
        1
    } else {
        threads.min(count).max(1)
    };
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<Result<CompiledFunction>>>> =
        Mutex::new((0..count).map(|_| None).collect());
    let work = || {
        let mut ctx = Context::new();
        let mut fbc = FunctionBuilderContext::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= count {
                break;
            }
            let result = compile_function(isa, env, &mut ctx, &mut fbc, i);
            let failed = result.is_err();
            done.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(result);
            if failed {
                // The first error is reported; the other threads stop at their next function.
                next.store(count, Ordering::Relaxed);
                break;
            }
            ctx.clear();
        }
    };
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(work);
            }
        });
    }
    let done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut out = Vec::with_capacity(count);
    for (i, slot) in done.into_iter().enumerate() {
        match slot {
            Some(result) => out.push(result?),
            // Skipped after another function failed: that failure comes first.
            None => {
                return Err(Error::internal(format!(
                    "native engine: function {i} was not compiled"
                )));
            }
        }
    }
    Ok(out)
}

/// Translates and compiles defined function `i` in `ctx`.
fn compile_function(
    isa: &OwnedTargetIsa,
    env: &Env<'_>,
    ctx: &mut Context,
    fbc: &mut FunctionBuilderContext,
    i: usize,
) -> Result<CompiledFunction> {
    let nimp = env.info.num_imported_funcs as usize;
    ctx.func.signature = env.sigs[env.info.funcs[nimp + i] as usize].clone();
    translate::translate_function(&mut ctx.func, fbc, env, i)?;
    ctx.compile(&**isa, &mut ControlPlane::default())
        .map_err(|e| codegen_error(ModuleError::Compilation(e.inner)))?;
    let compiled = ctx
        .compiled_code()
        .ok_or_else(|| Error::internal("native engine: no compiled code".to_string()))?;
    let alignment = u64::from(compiled.buffer.alignment);
    let bytes = compiled.code_buffer().to_vec();
    let relocs = compiled
        .buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, env.func_ids[i]))
        .collect();
    Ok(CompiledFunction {
        bytes,
        alignment,
        relocs,
    })
}
