//! The native engine's on-disk code cache (RATIONALE.md, "Native engine: code cache"):
//! a module's `ModuleArtifact` stored in one file per key, so a later compile of the same
//! module by the same engine links it instead of running Cranelift.
//!
//! - The key (`CacheKey::new`) hashes the module's bytes with everything the machine
//!   code depends on: crate version, file format version, the build's id (a hash of the
//!   crate's sources and the compiler version, `build.rs`), the target, every Cranelift
//!   setting and CPU feature of the ISA, and the enabled Wasm features.
//! - Files are written whole under a temporary name, then renamed: a reader sees a whole
//!   file or none, whatever runs concurrently. Temporary files abandoned by a killed
//!   writer are removed by a later store once an hour old.
//! - An entry that is missing, unreadable, truncated, altered (checksum), of another
//!   format or key, or inconsistent with the module (`link::validate`) is never used: the
//!   module is compiled and the entry replaced. Failing to write it never fails the
//!   compile; `CodeCacheOutcome` says what happened.

mod format;

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use cranelift_codegen::isa::TargetIsa;
use sha2::{Digest, Sha256};
use wasmparser::WasmFeatures;

use super::CodeOptions;
use super::artifact::ModuleArtifact;

/// What the code cache did for a module (`Module::code_cache`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCacheOutcome {
    /// No cache: the interpreter, or the native engine without `Config::cache_dir`.
    Disabled,
    /// The code was loaded from the cache: nothing was compiled.
    Loaded,
    /// The module was compiled and its code written to the cache. `replaced` says what
    /// was wrong with the entry found there, if there was one.
    Stored { replaced: Option<String> },
    /// The module was compiled but its code could not be written to the cache (`error`);
    /// the module itself is unaffected.
    NotStored {
        replaced: Option<String>,
        error: String,
    },
}

/// The name of a cache entry: SHA-256 of the engine's fingerprint and the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CacheKey(pub [u8; 32]);

/// A cache directory, for one engine configuration.
pub(crate) struct CodeCache {
    dir: PathBuf,
    /// SHA-256 of everything but the module that the code depends on.
    fingerprint: [u8; 32],
}

/// What `CodeCache::load` found.
pub(crate) enum Lookup {
    Missing,
    Found(ModuleArtifact),
    /// An entry that must not be used, and why.
    Unusable(String),
}

impl CodeCache {
    pub fn new(
        dir: PathBuf,
        isa: &dyn TargetIsa,
        features: WasmFeatures,
        options: CodeOptions,
    ) -> CodeCache {
        let mut h = Sha256::new();
        let mut part = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        part(b"runtime native code");
        part(env!("CARGO_PKG_VERSION").as_bytes());
        part(&format::FORMAT_VERSION.to_le_bytes());
        part(env!("RUNTIME_BUILD_ID").as_bytes());
        part(isa.triple().to_string().as_bytes());
        // Every shared setting (opt level, frame pointers, ...) and every ISA setting,
        // which for the native ISA are the CPU features cranelift-native detected.
        part(isa.flags().to_string().as_bytes());
        for flag in isa.isa_flags() {
            part(flag.to_string().as_bytes());
        }
        part(&features.bits().to_le_bytes());
        // Interruption checks are compiled in or not (`Config::interruptible`).
        part(&[u8::from(options.interruptible)]);
        // So is fuel metering (`Config::consume_fuel`).
        part(&[u8::from(options.consume_fuel)]);
        // And bounds checks of 32-bit memories (`Config::signal_traps`).
        part(&[u8::from(options.signal_traps)]);
        CodeCache {
            dir,
            fingerprint: h.finalize().into(),
        }
    }

    pub fn key(&self, module_bytes: &[u8]) -> CacheKey {
        let mut h = Sha256::new();
        h.update(self.fingerprint);
        h.update(module_bytes);
        CacheKey(h.finalize().into())
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        let hex: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.code"))
    }

    /// The artifact stored under `key`, if a usable one is there.
    pub fn load(&self, key: &CacheKey) -> Lookup {
        match fs::read(self.path(key)) {
            Ok(file) => match format::decode(&file, key) {
                Ok(artifact) => Lookup::Found(artifact),
                Err(e) => Lookup::Unusable(e),
            },
            // No entry, or no cache directory yet (or a file where it should be, which
            // `store` reports).
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                Lookup::Missing
            }
            Err(e) => Lookup::Unusable(format!("unreadable: {e}")),
        }
    }

    /// Writes `artifact` under `key`, replacing any entry there.
    pub fn store(&self, key: &CacheKey, artifact: &ModuleArtifact) -> Result<(), String> {
        let file = format::encode(key, artifact)?;
        fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let path = self.path(key);
        write_atomically(&path, &file)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        remove_abandoned_temporaries(&self.dir);
        Ok(())
    }
}

/// How old a temporary file must be to count as abandoned (its writer killed between
/// creating and renaming it): far longer than writing any entry takes.
const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// Removes the temporary files of writes that never finished, so that killed processes
/// leave no lasting debris. Best effort: errors are ignored.
fn remove_abandoned_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with('.') && name.ends_with(".tmp")) {
            continue;
        }
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok());
        if age.is_some_and(|a| a > ABANDONED_AFTER) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes `path` by renaming a complete temporary file of the same directory over it, so
/// that no reader ever sees part of it. Concurrent writers of the same entry each rename
/// their own complete file; the last one stays.
fn write_atomically(path: &Path, content: &[u8]) -> std::io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let written = fs::File::create_new(&temp)
        .and_then(|mut f| f.write_all(content))
        .and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        // Nothing else knows this name: leave no debris behind.
        let _ = fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests;
