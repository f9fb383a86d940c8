//! Compiling a module: every defined function, plus the entry trampolines and host
//! adapters it needs (`Needs`), into relocatable machine code (a `ModuleArtifact`), which
//! `link.rs` places in executable memory. The artifact holds nothing of this process
//! (callees and libcalls are named, not addressed), so the code cache (`cache/`) can
//! store it and a later process link it instead of compiling.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, Signature};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::{CodegenError, Context, FinalizedRelocTarget};
use cranelift_frontend::FunctionBuilderContext;

use super::CodeOptions;
use super::abi;
use super::artifact::{
    CodeBlob, CodeReloc, ModuleArtifact, RelocTarget, SiteKind, StackMaps, TrapSite,
};
use super::libcalls::Libcall;
use super::trampoline_cache::{Stub, TrampolineCache};
use super::translate::{self, Env, FUNC_NAMESPACE, LIBCALL_NAMESPACE, trampolines};
use crate::error::{Error, Result};
use crate::module::ModuleInfo;

/// Cranelift's limits on what it can compile make a module unsupported; any other
/// failure (the IR verifier, register allocation) is a bug of ours, an internal error.
fn codegen_error(e: CodegenError) -> Error {
    let message = format!("native engine: code generation failed: {e:?}");
    match e {
        CodegenError::ImplLimitExceeded
        | CodegenError::CodeTooLarge
        | CodegenError::Unsupported(_) => Error::unsupported(message),
        _ => Error::internal(message),
    }
}

/// Compiles `info` with `threads` compiling its functions (0: one per available core).
/// With `every_adapter`, a host adapter is built for every type, not only those the
/// module needs: the code cache's entries have them all, so that loading one needs no
/// knowledge of which types the code calls indirectly (`cache/format.rs`).
pub(crate) fn compile_module(
    isa: &OwnedTargetIsa,
    info: &ModuleInfo,
    threads: usize,
    every_adapter: bool,
    options: CodeOptions,
    stubs: &TrampolineCache,
) -> Result<ModuleArtifact> {
    let call_conv = isa.default_call_conv();
    let sigs: Vec<Signature> = (info.types.iter())
        .map(|t| abi::type_signature(t, options.consume_fuel))
        .collect();
    let env = Env {
        info,
        sigs: &sigs,
        call_conv,
        frontend: isa.frontend_config(),
        simd: super::isa_supports_simd(&**isa),
        options,
    };
    let compiled = compile_functions(isa, &env, threads)?;
    let mut needs = Needs::of(info, &compiled);
    if every_adapter {
        needs.adapter.fill(true);
    }
    let (mut ctx, mut fbc) = take_contexts();
    let mut trampolines = Vec::with_capacity(sigs.len());
    let mut adapters = Vec::with_capacity(sigs.len());
    for (t, sig) in sigs.iter().enumerate() {
        // Stub `kind` of type `t`, with its own `signature`, as `build` writes it.
        let mut stub = |kind, signature, build: BuildStub| {
            stubs.get_or_build(kind, sig, || {
                ctx.func.signature = signature;
                build(&mut ctx.func, &mut fbc, &env, t);
                let blob = emit(isa, &mut ctx, env.options.signal_traps);
                ctx.clear();
                blob
            })
        };
        let mut trampoline = None;
        if needs.entry[t] {
            let signature = abi::entry_signature(call_conv);
            trampoline = Some(stub(Stub::Entry, signature, trampolines::build_entry)?);
        }
        let mut adapter = None;
        if needs.adapter[t] {
            let build = trampolines::build_host_adapter;
            adapter = Some(stub(Stub::HostAdapter, sig.clone(), build)?);
        }
        trampolines.push(trampoline);
        adapters.push(adapter);
    }
    give_back_contexts(ctx, fbc);
    Ok(ModuleArtifact {
        funcs: compiled.into_iter().map(|c| c.blob).collect(),
        trampolines,
        adapters,
    })
}

/// How an entry trampoline or a host adapter of one type is written (`trampolines.rs`).
type BuildStub = fn(&mut ir::Function, &mut FunctionBuilderContext, &Env<'_>, usize);

/// One defined function's machine code.
struct CompiledFunction {
    blob: CodeBlob,
    /// The types it calls through a table or a reference.
    indirect_types: Vec<u32>,
}

/// Which signatures need an entry trampoline and which a host adapter. Building both for
/// every type cost about a tenth of the fuzzer's time (RATIONALE.md, "Fuzzer throughput"); a module needs
/// - an entry trampoline for each type of a defined function (`entry.rs` enters only
///   those), and
/// - a host adapter for each type a host function can be called at: its imported
///   functions' types (`vmctx.rs`) and the types of its indirect calls (`libcalls.rs`,
///   `enter_callee`), the only two callers of `vmctx::func_ref`.
///
/// `link::validate` checks the part that follows from the module alone (`Needs::static_of`).
pub(crate) struct Needs {
    pub entry: Vec<bool>,
    pub adapter: Vec<bool>,
}

impl Needs {
    /// The trampolines and adapters the module's types and imports require, whatever the
    /// code does: an entry trampoline per type of a defined function, an adapter per type
    /// of an imported function.
    pub fn static_of(info: &ModuleInfo) -> Needs {
        let mut needs = Needs {
            entry: vec![false; info.types.len()],
            adapter: vec![false; info.types.len()],
        };
        let nimp = info.num_imported_funcs as usize;
        for (i, &t) in info.funcs.iter().enumerate() {
            if i < nimp {
                needs.adapter[t as usize] = true;
            } else {
                needs.entry[t as usize] = true;
            }
        }
        needs
    }

    fn of(info: &ModuleInfo, compiled: &[CompiledFunction]) -> Needs {
        let mut needs = Needs::static_of(info);
        for t in compiled.iter().flat_map(|c| &c.indirect_types) {
            needs.adapter[*t as usize] = true;
        }
        needs
    }
}

/// Compiles the function built in `ctx` to machine code with its relocations, and with
/// its trap sites if the code has signal traps.
fn emit(isa: &OwnedTargetIsa, ctx: &mut Context, signal_traps: bool) -> Result<CodeBlob> {
    ctx.compile(&**isa, &mut ControlPlane::default())
        .map_err(|e| codegen_error(e.inner))?;
    let compiled = ctx
        .compiled_code()
        .ok_or_else(|| Error::internal("native engine: no compiled code".to_string()))?;
    let relocs = compiled
        .buffer
        .relocs()
        .iter()
        .map(|r| {
            let target = match &r.target {
                FinalizedRelocTarget::ExternalName(ir::ExternalName::User(name)) => {
                    let name = &ctx.func.params.user_named_funcs()[*name];
                    match name.namespace {
                        FUNC_NAMESPACE => RelocTarget::Func(name.index),
                        LIBCALL_NAMESPACE => Libcall::ALL
                            .get(name.index as usize)
                            .map(|l| RelocTarget::Libcall(*l))
                            .ok_or_else(|| unexpected_target(&r.target))?,
                        _ => return Err(unexpected_target(&r.target)),
                    }
                }
                FinalizedRelocTarget::ExternalName(ir::ExternalName::LibCall(libcall)) => {
                    RelocTarget::CraneliftLibcall(*libcall)
                }
                FinalizedRelocTarget::Func(offset) => RelocTarget::SelfOffset(*offset),
                FinalizedRelocTarget::ExternalName(_) => return Err(unexpected_target(&r.target)),
            };
            Ok(CodeReloc {
                offset: r.offset,
                kind: r.kind,
                target,
                addend: r.addend,
            })
        })
        .collect::<Result<_>>()?;
    // In code with signal traps, unchecked heap accesses carry the heap code
    // (`translate::heap_trapping`), the prologue's stack check
    // (`translate::prologue_stack_limit`) the stack code, the `trapnz`/`trap` of inline
    // checks a site kind's user code (`translate::site_trap_code`), and the float-to-int
    // conversions, which Cranelift checks itself (`Translator::trunc`), the conversion
    // and overflow codes; a site of a `ud2` kind is a trap for `SIGILL` only, so the
    // latter two are not traps where Cranelift puts them on a `div` (whose #DE the
    // translator's checks rule out anyway). Without signal traps every trap is a branch
    // to a block of the function's own, and no fault is one.
    let traps = compiled.buffer.traps().iter().filter(|_| signal_traps);
    let mut trap_sites: Vec<TrapSite> = traps
        .filter_map(|t| {
            let kind = match t.code {
                ir::TrapCode::HEAP_OUT_OF_BOUNDS => SiteKind::MemoryOutOfBounds,
                ir::TrapCode::STACK_OVERFLOW => SiteKind::StackOverflow,
                ir::TrapCode::INTEGER_OVERFLOW => SiteKind::IntegerOverflow,
                ir::TrapCode::BAD_CONVERSION_TO_INTEGER => SiteKind::InvalidConversionToInteger,
                code => *SiteKind::USER_CODED
                    .iter()
                    .find(|kind| translate::site_trap_code(**kind) == code)?,
            };
            Some(TrapSite {
                offset: t.offset,
                kind,
            })
        })
        .collect();
    trap_sites.sort_unstable_by_key(|site| site.offset);
    trap_sites.dedup_by_key(|site| site.offset);
    Ok(CodeBlob {
        bytes: compiled.code_buffer().to_vec(),
        alignment: u64::from(compiled.buffer.alignment),
        relocs,
        trap_sites,
        stack_maps: stack_maps(compiled.buffer.user_stack_maps())?,
    })
}

/// Cranelift's stack maps (`translate::gc_roots`) as ours: each slot's offset from the
/// stack pointer at the call becomes its distance below the frame pointer, the stack
/// pointer being `span` bytes below the frame pointer while the frame is active.
fn stack_maps(maps: &[(u32, u32, ir::UserStackMap)]) -> Result<StackMaps> {
    let mut sites = Vec::with_capacity(maps.len());
    for (return_offset, span, map) in maps {
        let slots = (map.entries())
            .map(|(ty, sp_offset)| match ty {
                ir::types::I64 if sp_offset < *span => Ok(span - sp_offset),
                _ => Err(Error::internal(format!(
                    "native engine: stack map entry {ty} at {sp_offset} of a {span}-byte frame"
                ))),
            })
            .collect::<Result<Vec<u32>>>()?;
        sites.push((*return_offset, slots));
    }
    StackMaps::new(sites).map_err(|e| Error::internal(format!("native engine: {e}")))
}

fn unexpected_target(target: &FinalizedRelocTarget) -> Error {
    Error::internal(format!(
        "native engine: relocation to an unexpected target {target:?}"
    ))
}

/// Below this much function-body bytecode a module compiles on the calling thread: for
/// small modules, starting threads costs more than it saves.
const PARALLEL_MIN_BODY_BYTES: usize = 64 * 1024;

/// After a function body this large the next function starts with a new Cranelift
/// context rather than the cleared one. regalloc2's context keeps its scratch sets at
/// the largest size any function needed, and empties one of them (a hash set of
/// conflicting bundles) in full, O(capacity), at every bundle it tries to allocate: after
/// CPython's interpreter loop every later function paid for that loop's set, 16G of
/// the 58G instructions of CPython's compile in `memset` (wasmtime's: 3.5G).
const FRESH_CONTEXT_AFTER_BODY_BYTES: usize = 16 * 1024;

/// Translates and compiles every defined function, on up to `threads` threads (0: one
/// per available core). Functions are independent: each is translated into its own
/// `Function` (calls name their callees, `calls.rs`) and compiled there; `link.rs` places
/// the code and resolves the relocations.
fn compile_functions(
    isa: &OwnedTargetIsa,
    env: &Env<'_>,
    threads: usize,
) -> Result<Vec<CompiledFunction>> {
    let count = env.info.bodies.len();
    let body_bytes: usize = env.info.bodies.iter().map(|b| b.range.len()).sum();
    let threads = if body_bytes < PARALLEL_MIN_BODY_BYTES {
        1
    } else {
        match threads {
            0 => available_cores(),
            n => n,
        }
        .min(count)
        .max(1)
    };
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<Result<CompiledFunction>>>> =
        Mutex::new((0..count).map(|_| None).collect());
    let work = || {
        let (mut ctx, mut fbc) = take_contexts();
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
                // The contexts are dropped: a translation that failed half way may have
                // left state in the builder context.
                next.store(count, Ordering::Relaxed);
                return;
            }
            if env.info.bodies[i].range.len() >= FRESH_CONTEXT_AFTER_BODY_BYTES {
                ctx = Context::new();
            } else {
                ctx.clear();
            }
        }
        give_back_contexts(ctx, fbc);
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

/// The cores this process may use, asked once: on Linux the standard library reads the
/// cgroup's CPU quota from files for it (a dozen system calls per question).
fn available_cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

thread_local! {
    /// Cranelift's contexts of the last compile on this thread. A context keeps the
    /// buffers its passes grew; the next module compiled on the thread (a process that
    /// compiles many modules, like the fuzzer, does so on the same threads) starts with
    /// them instead of growing them again.
    static CONTEXTS: std::cell::Cell<Option<Box<(Context, FunctionBuilderContext)>>> =
        const { std::cell::Cell::new(None) };
}

/// This thread's kept contexts, or new ones.
fn take_contexts() -> (Context, FunctionBuilderContext) {
    match CONTEXTS.take() {
        Some(kept) => *kept,
        None => (Context::new(), FunctionBuilderContext::new()),
    }
}

/// Keeps `ctx` and `fbc` (cleared: nothing of one module reaches the next) for the
/// thread's next compile.
fn give_back_contexts(mut ctx: Context, fbc: FunctionBuilderContext) {
    ctx.clear();
    CONTEXTS.set(Some(Box::new((ctx, fbc))));
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
    let indirect_types = translate::translate_function(&mut ctx.func, fbc, env, i)?;
    Ok(CompiledFunction {
        blob: emit(isa, ctx, env.options.signal_traps)?,
        indirect_types,
    })
}
