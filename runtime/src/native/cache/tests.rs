//! Cache files with a valid checksum but content that does not fit the module: the
//! linker's checks (`link::validate`) refuse them before the JIT sees them, the module is
//! recompiled and the entry replaced. (Damaged files are tested in `format.rs` and,
//! through the API, in `tests/code_cache.rs`.)

use std::sync::Arc;

use cranelift_codegen::binemit::Reloc;
use wasmparser::WasmFeatures;

use super::super::artifact::{
    CodeReloc, ModuleArtifact, RelocTarget, SiteKind, StackMaps, TrapSite,
};
use super::super::{CodeCacheOutcome, CodeOptions, NativeBackend, OptLevel, compile, link};
use super::{CodeCache, format};
use crate::module::ModuleInfo;

const MODULE: &str = r#"(module
    (import "host" "h" (func $h (param i32) (result i32)))
    (memory 1)
    (func $f (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
    (func (export "g") (param i32) (result i32)
        (drop (memory.grow (i32.const 1)))
        (call $h (call $f (local.get 0)))))"#;

fn setup(dir: &std::path::Path) -> (NativeBackend, ModuleInfo, ModuleArtifact) {
    let features = WasmFeatures::WASM2;
    let backend = backend_caching_in(dir, features);
    let bytes = wat::parse_str(MODULE).unwrap();
    let info = crate::module::parse(Arc::from(bytes), features).unwrap();
    let artifact = compile_with_every_adapter(&backend, &info, 1);
    (backend, info, artifact)
}

/// A way to make a well-formed artifact inconsistent: what it is, how, and words of the
/// reason it must be refused with.
type Corruption = (&'static str, fn(&mut ModuleArtifact), &'static str);

/// An out-of-bounds trap site at `offset`.
fn site(offset: u32) -> TrapSite {
    TrapSite {
        offset,
        kind: SiteKind::MemoryOutOfBounds,
    }
}

fn corruptions() -> Vec<Corruption> {
    vec![
        ("a function fewer", |a| drop(a.funcs.pop()), "functions"),
        ("an adapter fewer", |a| drop(a.adapters.pop()), "adapters"),
        (
            "no trampoline for a defined function's type",
            |a| a.trampolines[0] = None,
            "no entry trampoline",
        ),
        (
            "no adapter for an import's type",
            |a| a.adapters[0] = None,
            "no host adapter",
        ),
        (
            "empty code",
            |a| a.funcs[0].bytes.clear(),
            "code of 0 bytes",
        ),
        ("odd alignment", |a| a.funcs[0].alignment = 3, "alignment"),
        (
            "huge alignment",
            |a| a.funcs[0].alignment = 1 << 20,
            "alignment",
        ),
        (
            "relocation past the end",
            |a| {
                let len = a.funcs[1].bytes.len() as u32;
                a.funcs[1].relocs[0].offset = len - 2;
            },
            "past the end",
        ),
        (
            "relocation far past the end",
            |a| a.funcs[1].relocs[0].offset = u32::MAX,
            "past the end",
        ),
        (
            "call to a function that does not exist",
            |a| {
                a.funcs[1].relocs.push(CodeReloc {
                    offset: 0,
                    kind: Reloc::Abs8,
                    target: RelocTarget::Func(2),
                    addend: 0,
                });
            },
            "function 2",
        ),
        (
            "huge addend",
            |a| a.funcs[1].relocs[0].addend = i64::MIN,
            "addend",
        ),
        (
            "offset past its own code",
            |a| {
                a.funcs[1].relocs.push(CodeReloc {
                    offset: 0,
                    kind: Reloc::Abs8,
                    target: RelocTarget::SelfOffset(1 << 30),
                    addend: 0,
                });
            },
            "own code",
        ),
        (
            "trap site past the code",
            |a| a.funcs[1].trap_sites.push(site(1 << 20)),
            "trap site",
        ),
        (
            "trap sites out of order",
            |a| a.funcs[1].trap_sites.extend([site(2), site(1)]),
            "trap site",
        ),
        (
            "stack map past the code",
            |a| a.funcs[1].stack_maps = stack_map_at(a.funcs[1].bytes.len() as u32 + 1),
            "stack map",
        ),
        (
            "stack map at the function's first byte",
            |a| a.funcs[0].stack_maps = stack_map_at(0),
            "stack map",
        ),
    ]
}

/// Stack maps with one site, at `return_offset`, of one slot.
fn stack_map_at(return_offset: u32) -> StackMaps {
    StackMaps::new([(return_offset, [16])]).unwrap()
}

#[test]
fn inconsistent_artifacts_are_refused_by_the_linker() {
    let dir = tempfile::tempdir().unwrap();
    let (backend, info, artifact) = setup(dir.path());
    assert!(!artifact.funcs[1].relocs.is_empty());
    link::link(&backend.isa, &info, &artifact, backend.options.consume_fuel).unwrap();
    for (what, corrupt, reason) in corruptions() {
        let mut bad = artifact.clone();
        corrupt(&mut bad);
        let err = link::validate(&info, &bad).expect_err(what);
        assert!(err.contains(reason), "{what}: {err}");
        assert!(
            link::link(&backend.isa, &info, &bad, backend.options.consume_fuel).is_err(),
            "{what}"
        );
    }
}

#[test]
fn an_entry_with_a_valid_checksum_but_inconsistent_content_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let (backend, info, artifact) = setup(dir.path());
    let cache: &CodeCache = backend.cache.as_ref().unwrap();
    let key = cache.key(&info.bytes);
    for (what, corrupt, reason) in corruptions() {
        let mut bad = artifact.clone();
        corrupt(&mut bad);
        // The file format has one count for trampolines and adapters, and every adapter:
        // these cannot even be written.
        let Ok(file) = format::encode(&key, &bad) else {
            assert!(what.contains("adapter"), "{what}");
            continue;
        };
        std::fs::write(cache.path(&key), file).unwrap();
        let module = backend.compile_cached(&info).unwrap();
        match &module.cache {
            CodeCacheOutcome::Stored {
                replaced: Some(why),
            } => {
                assert!(why.contains(reason), "{what}: {why}")
            }
            other => panic!("{what}: {other:?}"),
        }
        let again = backend.compile_cached(&info).unwrap();
        assert_eq!(again.cache, CodeCacheOutcome::Loaded, "{what}");
        assert_eq!(again.funcs.len(), module.funcs.len());
    }
}

/// A module over the parallel-compilation threshold (64 KiB of bodies): 120 functions
/// of ~800 bytes, each calling the previous one and, from the third on, `memory.grow`.
fn large_module() -> Vec<u8> {
    let mut src = String::from("(module (memory 1)\n");
    for i in 0..120 {
        src.push_str(&format!(
            "(func $f{i} (param i32) (result i32) (local.get 0)\n"
        ));
        for k in 0..60 {
            src.push_str(&format!(
                "(i32.const {}) (i32.mul) (i32.const {}) (i32.xor)\n",
                2 * k + 100_001,
                i * 1_000_003 + k
            ));
        }
        if i > 0 {
            src.push_str(&format!("(call $f{})\n", i - 1));
        }
        if i > 2 {
            src.push_str("(i32.const 0) (memory.grow) (i32.add)\n");
        }
        src.push_str(")\n");
    }
    src.push(')');
    wat::parse_str(src).unwrap()
}

/// What the cache stores is what compiling makes, bit for bit: a real module's artifact
/// survives encoding and decoding unchanged, and does not depend on the thread count
/// (which is not in the key).
#[test]
fn a_real_artifact_round_trips_and_does_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let features = WasmFeatures::WASM2;
    let backend = backend_caching_in(dir.path(), features);
    let info = crate::module::parse(Arc::from(large_module()), features).unwrap();
    let body_bytes: usize = info.bodies.iter().map(|b| b.range.len()).sum();
    assert!(body_bytes > 64 * 1024, "{body_bytes} bytes of bodies");
    let artifact = compile_with_every_adapter(&backend, &info, 1);
    let key = backend.cache.as_ref().unwrap().key(&info.bytes);
    let file = format::encode(&key, &artifact).unwrap();
    assert_eq!(format::decode(&file, &key).unwrap(), artifact);
    for threads in [0, 2, 4] {
        let again = compile_with_every_adapter(&backend, &info, threads);
        assert!(again == artifact, "{threads} threads: another artifact");
    }
    link::link(&backend.isa, &info, &artifact, backend.options.consume_fuel).unwrap();
}

/// A temporary file abandoned by a killed writer goes at the next store once it is old;
/// a recent one (perhaps a write in progress) stays.
#[test]
fn abandoned_temporary_files_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (backend, info, artifact) = setup(dir.path());
    let cache = backend.cache.as_ref().unwrap();
    std::fs::create_dir_all(dir.path()).unwrap();
    let old = dir.path().join(".abc.code.1.0.tmp");
    let recent = dir.path().join(".abc.code.1.1.tmp");
    let unrelated = dir.path().join("notes.tmp");
    for path in [&old, &recent, &unrelated] {
        std::fs::write(path, b"partial").unwrap();
    }
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for path in [&old, &unrelated] {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(two_hours_ago).unwrap();
    }
    cache.store(&cache.key(&info.bytes), &artifact).unwrap();
    assert!(!old.exists());
    assert!(recent.exists() && unrelated.exists());
}

/// `info` compiled as the code cache does (a host adapter for every type), on `threads`,
/// without fuel or interruption checks.
fn compile_with_every_adapter(
    backend: &NativeBackend,
    info: &ModuleInfo,
    threads: usize,
) -> ModuleArtifact {
    compile::compile_module(
        &backend.isa,
        info,
        threads,
        true,
        CodeOptions::default(),
        &Default::default(),
    )
    .unwrap()
}

/// A backend with the default settings whose code cache is in `dir`.
fn backend_caching_in(dir: &std::path::Path, features: WasmFeatures) -> NativeBackend {
    let dir = Some(dir.to_path_buf());
    let options = CodeOptions::default();
    NativeBackend::new(
        1,
        dir,
        features,
        options,
        OptLevel::Speed,
        Default::default(),
    )
    .unwrap()
}
