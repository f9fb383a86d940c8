//! Gives the crate a build id (`RUNTIME_BUILD_ID`): a hash of its sources, its manifest
//! and the compiler version. The native engine's code cache keys entries with it, so code
//! compiled by one build of the engine is never loaded by another, even at the same
//! crate version (RATIONALE.md, "Native engine: code cache").

use std::path::{Path, PathBuf};

/// FNV-1a, 64 bits: enough to tell builds apart (this is no defence against anyone, only
/// a change detector), and no dependency for the build script.
struct Fnv(u64);

impl Fnv {
    fn update(&mut self, bytes: &[u8]) {
        // The length first, so that consecutive parts cannot run into each other.
        for b in (bytes.len() as u64).to_le_bytes().iter().chain(bytes) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            source_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let mut files = Vec::new();
    source_files(&root.join("src"), &mut files);
    files.push(root.join("Cargo.toml"));
    files.sort();
    let mut hash = Fnv(0xcbf2_9ce4_8422_2325);
    for file in &files {
        let relative = file.strip_prefix(&root).unwrap_or(file);
        hash.update(relative.to_string_lossy().as_bytes());
        hash.update(&std::fs::read(file).unwrap_or_default());
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default();
    hash.update(&version);
    println!("cargo:rustc-env=RUNTIME_BUILD_ID={:016x}", hash.0);
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
}
