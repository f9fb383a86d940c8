//! Linking a `ModuleArtifact`: its code placed in executable memory by a `JITModule`,
//! which resolves the relocations (callees, our libcalls, Cranelift's).
//!
//! The artifact is checked first (`validate`): it may come from a cache file, and the
//! JIT writes relocations where they say without checking, so every count, offset, width,
//! target and alignment must be in range before it sees them.

use std::ffi::CString;

use cranelift_codegen::ir;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module as _, ModuleReloc, ModuleRelocTarget};

use super::NativeModule;
use super::abi;
use super::artifact::{CodeBlob, ModuleArtifact, RelocTarget, reloc_width};
use super::code_memory::CodeMemory;
use super::compile::Needs;
use super::libcalls::Libcall;
use crate::error::{Error, Result};
use crate::module::ModuleInfo;

/// The largest code alignment accepted (Cranelift asks for at most a cache line).
const MAX_ALIGNMENT: u64 = 4096;
/// The largest relocation addend accepted in magnitude (Cranelift's are a few bytes:
/// -4 for a PC-relative call on x86-64, 0 elsewhere).
const MAX_ADDEND: i64 = 1 << 16;

/// Checks that `artifact` fits `info` and that linking it stays in bounds: the counts
/// match the module, every relocation lies inside its code with a kind the linker
/// applies, a small addend and a target that exists. Says what is wrong otherwise.
pub(crate) fn validate(
    info: &ModuleInfo,
    artifact: &ModuleArtifact,
) -> std::result::Result<(), String> {
    let (funcs, types) = (info.bodies.len(), info.types.len());
    if artifact.funcs.len() != funcs {
        return Err(format!(
            "{} functions for a module that defines {funcs}",
            artifact.funcs.len()
        ));
    }
    if artifact.trampolines.len() != types || artifact.adapters.len() != types {
        return Err(format!(
            "{} trampolines and {} adapters for a module of {types} types",
            artifact.trampolines.len(),
            artifact.adapters.len()
        ));
    }
    let needs = Needs::static_of(info);
    for t in 0..types {
        if needs.entry[t] && artifact.trampolines[t].is_none() {
            return Err(format!(
                "no entry trampoline for type {t} of a defined function"
            ));
        }
        if needs.adapter[t] && artifact.adapters[t].is_none() {
            return Err(format!("no host adapter for type {t} of an import"));
        }
    }
    for (i, blob) in artifact.blobs().enumerate() {
        validate_blob(blob, funcs).map_err(|e| format!("code blob {i}: {e}"))?;
    }
    Ok(())
}

fn validate_blob(blob: &CodeBlob, funcs: usize) -> std::result::Result<(), String> {
    if blob.bytes.is_empty() || u32::try_from(blob.bytes.len()).is_err() {
        return Err(format!("code of {} bytes", blob.bytes.len()));
    }
    if !blob.alignment.is_power_of_two() || blob.alignment > MAX_ALIGNMENT {
        return Err(format!("alignment {}", blob.alignment));
    }
    // Strictly ascending and inside the code: `signals.rs` looks them up by binary search
    // and only ever compares them with a faulting address.
    let mut previous = None;
    for site in blob.trap_sites.iter().map(|site| site.offset) {
        if site as usize >= blob.bytes.len() || previous.is_some_and(|p| p >= site) {
            return Err(format!(
                "trap site {site} out of order or past the end of {} bytes of code",
                blob.bytes.len()
            ));
        }
        previous = Some(site);
    }
    // After a call: past its first byte, at most at the end of the code.
    if let Some((offset, _)) = (blob.stack_maps.sites())
        .find(|(offset, _)| *offset == 0 || *offset as usize > blob.bytes.len())
    {
        return Err(format!(
            "stack map at {offset} outside {} bytes of code",
            blob.bytes.len()
        ));
    }
    for r in &blob.relocs {
        let width = reloc_width(r.kind).ok_or_else(|| format!("relocation kind {:?}", r.kind))?;
        if (r.offset as usize).saturating_add(width) > blob.bytes.len() {
            return Err(format!(
                "relocation at {} past the end of {} bytes of code",
                r.offset,
                blob.bytes.len()
            ));
        }
        if r.addend.unsigned_abs() > MAX_ADDEND as u64 {
            return Err(format!("relocation addend {}", r.addend));
        }
        match r.target {
            RelocTarget::Func(f) if f as usize >= funcs => {
                return Err(format!("call to function {f} of {funcs}"));
            }
            RelocTarget::SelfOffset(o) if o as usize > blob.bytes.len() => {
                return Err(format!("reference to offset {o} of its own code"));
            }
            RelocTarget::CraneliftLibcall(l) if !cranelift_libcall_resolves(l) => {
                return Err(format!("Cranelift libcall {l} not found in this process"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether the JIT will find `libcall`'s symbol (it looks it up with `dlsym` and panics
/// when it is missing).
fn cranelift_libcall_resolves(libcall: ir::LibCall) -> bool {
    let Ok(name) = CString::new(cranelift_module::default_libcall_names()(libcall)) else {
        return false;
    };
    // SAFETY: `name` is a NUL-terminated string that outlives the call; looking a symbol
    // up in the global scope has no other effect.
    !unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }.is_null()
}

/// The symbol a libcall is declared under in the JIT module.
fn libcall_symbol(libcall: Libcall) -> String {
    format!("runtime_native_libcall_{}", libcall.index())
}

fn link_error(e: cranelift_module::ModuleError) -> Error {
    Error::internal(format!("native engine: linking failed: {e:?}"))
}

/// The blobs that are there, with their ids.
fn present<'a>(
    blobs: &'a [Option<CodeBlob>],
    ids: &'a [Option<FuncId>],
) -> impl Iterator<Item = (&'a CodeBlob, &'a FuncId)> {
    (blobs.iter().zip(ids)).filter_map(|(b, id)| Some((b.as_ref()?, id.as_ref()?)))
}

/// Places `artifact` (checked by `validate` here) in executable memory.
pub(crate) fn link(
    isa: &OwnedTargetIsa,
    info: &ModuleInfo,
    artifact: &ModuleArtifact,
    consume_fuel: bool,
) -> Result<NativeModule> {
    validate(info, artifact)
        .map_err(|e| Error::internal(format!("native engine: inconsistent code: {e}")))?;
    let mut builder = JITBuilder::with_isa(isa.clone(), cranelift_module::default_libcall_names());
    for libcall in Libcall::ALL {
        builder.symbol(libcall_symbol(*libcall), libcall.address());
    }
    let mut jit = JITModule::new(builder);
    let call_conv = isa.default_call_conv();
    let sigs: Vec<ir::Signature> = (info.types.iter())
        .map(|t| abi::type_signature(t, consume_fuel))
        .collect();
    let nimp = info.num_imported_funcs as usize;
    let declare = |jit: &mut JITModule, sig: &ir::Signature| {
        jit.declare_anonymous_function(sig).map_err(link_error)
    };
    let func_ids: Vec<FuncId> = (0..artifact.funcs.len())
        .map(|i| declare(&mut jit, &sigs[info.funcs[nimp + i] as usize]))
        .collect::<Result<_>>()?;
    let entry_sig = abi::entry_signature(call_conv);
    let tramp_ids: Vec<Option<FuncId>> = (artifact.trampolines.iter())
        .map(|blob| {
            blob.as_ref()
                .map(|_| declare(&mut jit, &entry_sig))
                .transpose()
        })
        .collect::<Result<_>>()?;
    let adapter_ids: Vec<Option<FuncId>> = (artifact.adapters.iter().zip(&sigs))
        .map(|(blob, sig)| blob.as_ref().map(|_| declare(&mut jit, sig)).transpose())
        .collect::<Result<_>>()?;
    let libcall_ids: Vec<FuncId> = Libcall::ALL
        .iter()
        .map(|l| {
            let sig = abi::libcall_signature(*l, call_conv);
            jit.declare_function(&libcall_symbol(*l), Linkage::Import, &sig)
                .map_err(link_error)
        })
        .collect::<Result<_>>()?;
    let blobs = (artifact.funcs.iter().zip(&func_ids))
        .chain(present(&artifact.trampolines, &tramp_ids))
        .chain(present(&artifact.adapters, &adapter_ids));
    for (blob, id) in blobs {
        let relocs: Vec<ModuleReloc> = blob
            .relocs
            .iter()
            .map(|r| ModuleReloc {
                offset: r.offset,
                kind: r.kind,
                addend: r.addend,
                name: match r.target {
                    RelocTarget::Func(f) => func_ids[f as usize].into(),
                    RelocTarget::Libcall(l) => libcall_ids[l.index() as usize].into(),
                    RelocTarget::CraneliftLibcall(l) => ModuleRelocTarget::LibCall(l),
                    RelocTarget::SelfOffset(o) => ModuleRelocTarget::FunctionOffset(*id, o),
                },
            })
            .collect();
        jit.define_function_bytes(*id, blob.alignment, &blob.bytes, &relocs)
            .map_err(link_error)?;
    }
    jit.finalize_definitions().map_err(link_error)?;
    let addr = |id: &FuncId| jit.get_finalized_function(*id) as usize;
    let funcs: Vec<usize> = func_ids.iter().map(addr).collect();
    let trampolines = tramp_ids.iter().map(|id| id.as_ref().map(addr)).collect();
    let adapters = adapter_ids.iter().map(|id| id.as_ref().map(addr)).collect();
    // From the artifact, so compiled and cached code map their frames alike.
    let code_lens: Vec<u32> = (artifact.funcs.iter())
        .map(|blob| blob.bytes.len() as u32)
        .collect();
    let trap_sites = super::signals::TrapSiteRegistration::new(
        (funcs.iter().zip(&artifact.funcs)).map(|(&start, blob)| (start, blob)),
    );
    Ok(NativeModule {
        code_map: super::backtrace::CodeMap::new(&funcs, &code_lens),
        stack_maps: (artifact.funcs.iter())
            .map(|blob| blob.stack_maps.clone())
            .collect(),
        _trap_sites: trap_sites,
        funcs,
        trampolines,
        adapters,
        cache: super::CodeCacheOutcome::Disabled,
        _code: CodeMemory::new(jit),
    })
}
