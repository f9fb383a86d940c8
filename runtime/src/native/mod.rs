//! The native engine: Wasm function bodies translated to Cranelift IR, compiled for the
//! host ISA and run as machine code (RATIONALE.md, "Native engine: VM context and traps").
//!
//! - `compile` / `translate/`: operators to IR to relocatable machine code (`artifact`);
//! - `link`: the machine code placed in executable memory, one JIT module per Wasm module;
//! - `cache/`: the on-disk code cache, which stores artifacts and loads them back;
//! - `code_memory`: owns (and frees) the machine code;
//! - `vmctx`: the per-instance VM context and per-store runtime, and their layout;
//! - `libcalls`: what compiled code calls into Rust for;
//! - `abi`: the Cranelift signatures of compiled functions, trampolines and libcalls;
//! - `entry`: host-to-Wasm calls and the stack limit;
//! - `backtrace`: the Wasm frames of a trap, from the frame-pointer chain.
//! - `stack_roots`: the GC references held in suspended Wasm frames, from the same chain
//!   and the stack maps kept with the code.

mod abi;
mod artifact;
mod backtrace;
mod cache;
mod code_memory;
mod compile;
mod entry;
mod libcalls;
mod link;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod signals;
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
#[path = "signals_none.rs"]
mod signals;
#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "the collector (issue 15, step 4b) will call it; tests do now"
    )
)]
pub(crate) mod stack_roots;
mod trampoline_cache;
mod translate;
mod vmctx;

use std::path::PathBuf;
use std::sync::Arc;

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};

use crate::error::{Error, Result};
use crate::module::ModuleInfo;
use crate::store::{Backend, CompiledModule, ModuleCode, StoreData};
use crate::values::RawValue;
use wasmparser::WasmFeatures;

pub use cache::CodeCacheOutcome;

/// How hard the native engine's code generator (Cranelift) optimises
/// ([`Config::opt_level`](crate::Config::opt_level)). The interpreter ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OptLevel {
    /// No optimisation passes: the fastest compile, slower code.
    None,
    /// Optimise for speed (the default).
    #[default]
    Speed,
    /// Optimise for speed and code size.
    SpeedAndSize,
}

impl OptLevel {
    /// Cranelift's name for the level (its `opt_level` setting).
    pub fn cranelift_name(self) -> &'static str {
        match self {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        }
    }
}

/// How the native engine's code generator assigns registers
/// ([`Config::regalloc_algorithm`](crate::Config::regalloc_algorithm)). The interpreter
/// ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RegallocAlgorithm {
    /// Cranelift's backtracking allocator with live-range splitting (the default): better
    /// code, about a fifth of all compile work on small modules.
    #[default]
    Backtracking,
    /// Cranelift's single-pass allocator: faster compiles, code with more spills and moves.
    SinglePass,
}

impl RegallocAlgorithm {
    /// Cranelift's name for the algorithm (its `regalloc_algorithm` setting).
    pub fn cranelift_name(self) -> &'static str {
        match self {
            RegallocAlgorithm::Backtracking => "backtracking",
            RegallocAlgorithm::SinglePass => "single_pass",
        }
    }
}

/// The `Config` settings that shape compiled code, each part of the code cache's key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CodeOptions {
    /// `Config::interruptible`: function entries (the stack check) and loop headers check
    /// for an interrupt request.
    pub interruptible: bool,
    /// `Config::consume_fuel`: the code consumes fuel at the charge points of
    /// `module/fuel.rs`.
    pub consume_fuel: bool,
    /// `Config::signal_traps` where it takes effect: 32-bit accesses have no bounds
    /// checks, and faults at their trap sites become traps (`signals.rs`).
    pub signal_traps: bool,
    /// Derived (`NativeBackend::new`): with signal traps, in an engine without exception
    /// handling, a function that sees the trap flag set after a call (a non-zero status)
    /// or a libcall leaves by a trap site (`SiteKind::Flagged`) that ends the entry at
    /// once, instead of branching to a block that records its frame and returns: no
    /// Wasm frame could catch what the flag holds. RATIONALE.md, "Native compile time".
    pub leave_by_signal: bool,
}

pub(crate) struct NativeBackend {
    isa: OwnedTargetIsa,
    /// `Config::compile_threads`.
    compile_threads: usize,
    /// From `Config::cache_dir`.
    cache: Option<cache::CodeCache>,
    options: CodeOptions,
    /// Entry trampolines and host adapters compiled so far, by signature.
    stubs: trampoline_cache::TrampolineCache,
}

impl NativeBackend {
    /// `features` are the configuration's (they are part of the cache key); `options.
    /// signal_traps` is what was asked for, and is kept only where it takes effect.
    pub(crate) fn new(
        compile_threads: usize,
        cache_dir: Option<PathBuf>,
        features: WasmFeatures,
        mut options: CodeOptions,
        opt_level: OptLevel,
        regalloc: RegallocAlgorithm,
    ) -> Result<NativeBackend> {
        // Fuel lives in registers between charge points: a fault would lose it.
        options.signal_traps &= signals::SUPPORTED && !options.consume_fuel;
        options.leave_by_signal = options.signal_traps
            && !features.contains(WasmFeatures::EXCEPTIONS)
            && !features.contains(WasmFeatures::LEGACY_EXCEPTIONS);
        if options.signal_traps && !signals::install_handler() {
            return Err(Error::Usage(
                "native engine unavailable: cannot install the signal handler for signal traps"
                    .into(),
            ));
        }
        let fail = |e: String| Error::Usage(format!("native engine unavailable: {e}"));
        let mut flags = settings::builder();
        let set = |flags: &mut settings::Builder, k: &str, v: &str| {
            flags.set(k, v).map_err(|e| fail(format!("{k}={v}: {e}")))
        };
        set(&mut flags, "opt_level", opt_level.cranelift_name())?;
        set(&mut flags, "regalloc_algorithm", regalloc.cranelift_name())?;
        set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
        // Cranelift emits tail calls (`return_call`) only in functions that keep a frame
        // pointer. x64 code sets one up in every function anyway (no code changes); on
        // aarch64 leaf functions without a stack frame get one too.
        set(&mut flags, "preserve_frame_pointers", "true")?;
        // cranelift-jit requires these.
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "is_pic", "false")?;
        set(
            &mut flags,
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        )?;
        let isa = cranelift_native::builder()
            .map_err(|e| fail(e.to_string()))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| fail(e.to_string()))?;
        let cache = cache_dir.map(|dir| cache::CodeCache::new(dir, &*isa, features, options));
        Ok(NativeBackend {
            isa,
            compile_threads,
            cache,
            options,
            stubs: Default::default(),
        })
    }

    /// Compiles `info` and links the code, through the code cache if there is one.
    fn compile_cached(&self, info: &ModuleInfo) -> Result<NativeModule> {
        let compile = |every_adapter| {
            compile::compile_module(
                &self.isa,
                info,
                self.compile_threads,
                every_adapter,
                self.options,
                &self.stubs,
            )
        };
        let Some(cache) = &self.cache else {
            return link::link(&self.isa, info, &compile(false)?, self.options.consume_fuel);
        };
        let key = cache.key(&info.bytes);
        let replaced = match cache.load(&key) {
            cache::Lookup::Found(artifact) => {
                match link::link(&self.isa, info, &artifact, self.options.consume_fuel) {
                    Ok(mut module) => {
                        module.cache = CodeCacheOutcome::Loaded;
                        return Ok(module);
                    }
                    Err(e) => Some(e.to_string()),
                }
            }
            cache::Lookup::Missing => None,
            cache::Lookup::Unusable(reason) => Some(reason),
        };
        let artifact = compile(true)?;
        let stored = cache.store(&key, &artifact);
        let mut module = link::link(&self.isa, info, &artifact, self.options.consume_fuel)?;
        module.cache = match stored {
            Ok(()) => CodeCacheOutcome::Stored { replaced },
            Err(error) => CodeCacheOutcome::NotStored { replaced, error },
        };
        Ok(module)
    }
}

/// Whether the SIMD lowering (`translate/simd.rs`) works on `isa`: on x86-64 it needs
/// SSSE3 (`pshufb`, for shuffles, swizzle and popcnt) and SSE4.1 (`round*` for
/// ceil/floor/trunc/nearest and the f64x2 truncations), which cranelift-native enables
/// when the host has them. Without them SIMD is refused (`simd_unsupported`), as
/// Cranelift would fall back to libcalls the JIT does not provide.
pub(crate) fn isa_supports_simd(isa: &dyn cranelift_codegen::isa::TargetIsa) -> bool {
    isa.name() != "x64" || (isa.has_x86_pshufb_lowering() && isa.has_round())
}

/// A module's machine code: defined functions, and per signature the entry trampoline and
/// the host adapter when the module needs them (`compile.rs`, `Needs`); addresses into
/// `_code`.
pub(crate) struct NativeModule {
    pub funcs: Vec<usize>,
    pub trampolines: Vec<Option<usize>>,
    pub adapters: Vec<Option<usize>>,
    /// Whether the code came from the code cache.
    pub cache: CodeCacheOutcome,
    /// Where each defined function's code is, for backtraces.
    pub code_map: backtrace::CodeMap,
    /// Per defined function: where its call sites keep GC references (`stack_roots`).
    pub stack_maps: Vec<artifact::StackMaps>,
    /// The trap sites of the code, registered for the signal handler; dropped (and so
    /// unregistered) before `_code` frees the code.
    _trap_sites: signals::TrapSiteRegistration,
    _code: code_memory::CodeMemory,
}

impl CompiledModule for NativeModule {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The native code of a module compiled by this engine.
pub(crate) fn native_module(module: &ModuleCode) -> &NativeModule {
    module
        .compiled()
        .as_any()
        .downcast_ref::<NativeModule>()
        .expect("module compiled by the native engine")
}

/// What the code cache did for `module`: `Disabled` for the interpreter's modules.
pub(crate) fn code_cache_outcome(module: &ModuleCode) -> &CodeCacheOutcome {
    match module.compiled().as_any().downcast_ref::<NativeModule>() {
        Some(native) => &native.cache,
        None => &CodeCacheOutcome::Disabled,
    }
}

impl Backend for NativeBackend {
    /// Wasm 2.0, extended constant expressions (which the store evaluates),
    /// multi-memory, memory64 and table64 (i64 addresses checked without wrapping,
    /// `translate/memory.rs`), tail calls (`return_call`, `return_call_indirect`,
    /// `return_call_ref`: Cranelift tail calls in constant machine stack, the Wasm ABI
    /// being in its `tail` calling convention, `abi::WASM_CALL_CONV`), typed function
    /// references (`translate/func_refs.rs`); SIMD, and relaxed SIMD (with one fixed result per
    /// operator, `translate/relaxed_simd.rs`), only where the host ISA has what their
    /// lowering needs.
    fn features(&self) -> WasmFeatures {
        let all = WasmFeatures::WASM2
            | WasmFeatures::EXTENDED_CONST
            | WasmFeatures::MULTI_MEMORY
            | WasmFeatures::MEMORY64
            | WasmFeatures::TAIL_CALL
            | WasmFeatures::FUNCTION_REFERENCES
            | WasmFeatures::EXCEPTIONS;
        if isa_supports_simd(&*self.isa) {
            all | WasmFeatures::RELAXED_SIMD
        } else {
            all - WasmFeatures::SIMD
        }
    }

    fn compile(&self, info: &ModuleInfo) -> Result<Arc<dyn CompiledModule>> {
        Ok(Arc::new(self.compile_cached(info)?))
    }

    fn invoke(
        &self,
        store: &mut StoreData,
        func: u32,
        args: &[RawValue],
        results: &mut [RawValue],
    ) -> Result<()> {
        entry::invoke(store, func, args, results, self.options)
    }

    fn signal_traps(&self) -> bool {
        self.options.signal_traps
    }
}
