//! Seed corpora for the cargo-fuzz targets (`fuzz/README.md`, "Seed corpora").
//!
//! - `no_panic` reads its input as a module: its seeds are every module of the spec
//!   testsuite (suites 1.0, 2.0, 3.0 and our regressions) that encodes to a binary: the
//!   `module` directives and the modules of `assert_invalid`, `assert_malformed` (binary,
//!   and text that encodes), `assert_unlinkable` and `assert_trap`; valid modules of every
//!   feature and the spec's deliberately broken ones are the inputs closest to what it must
//!   survive.
//! - `differential` reads its input as wasm-smith's choices, where a module's bytes mean
//!   nothing: its seeds are the stable driver's inputs (`input::seed_bytes`), known to give
//!   valid, varied modules, whose 8 KiB length also sets libFuzzer's `-max_len`, so
//!   mutations keep enough bytes for a full module and plan.
//!
//! Written by `cargo run --release -p harness --example fuzz_corpus -- DIR`, and by the
//! fuzz targets themselves when `FUZZ_WRITE_SEED_CORPUS=DIR` is set (ClusterFuzzLite's
//! build.sh: no second build of the harness just to write files).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context;
use spec_testsuite::Suite;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, Wat};

use crate::fuzz::input::{fnv1a, seed_bytes};

/// The suites whose modules seed `no_panic`.
pub const SPEC_SUITES: [&str; 4] = ["1.0", "2.0", "3.0", "regressions"];

/// The stable driver's inputs of seeds `0..n`, the seeds of `differential`.
pub fn stable_inputs(n: u64) -> BTreeSet<Vec<u8>> {
    (0..n).map(seed_bytes).collect()
}

/// The binary of every module in the suites' files (a file that does not parse gives none).
pub fn spec_modules() -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    for suite in SPEC_SUITES.iter().filter_map(|name| Suite::by_name(name)) {
        for file in &suite.files {
            file_modules(file.source, &mut out);
        }
    }
    out
}

fn file_modules(source: &str, out: &mut BTreeSet<Vec<u8>>) {
    let mut lexer = wast::lexer::Lexer::new(source);
    lexer.allow_confusing_unicode(true);
    let Ok(buf) = ParseBuffer::new_with_lexer(lexer) else {
        return;
    };
    let Ok(wast) = parser::parse::<Wast>(&buf) else {
        return;
    };
    for directive in wast.directives {
        let encoded = match directive {
            WastDirective::Module(mut q)
            | WastDirective::ModuleDefinition(mut q)
            | WastDirective::AssertMalformed { module: mut q, .. }
            | WastDirective::AssertInvalid { module: mut q, .. } => encode(&mut q),
            WastDirective::AssertUnlinkable { module, .. } => encode(&mut QuoteWat::Wat(module)),
            WastDirective::AssertTrap {
                exec: wast::WastExecute::Wat(wat),
                ..
            } => encode(&mut QuoteWat::Wat(wat)),
            _ => None,
        };
        out.extend(encoded);
    }
}

/// A core module's binary; components and text that does not encode give none.
fn encode(q: &mut QuoteWat<'_>) -> Option<Vec<u8>> {
    if matches!(
        q,
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
    ) {
        return None;
    }
    q.encode().ok()
}

/// Writes each input as `DIR/<fnv1a hex>`; returns how many were not there yet.
pub fn write_all(dir: &Path, inputs: &BTreeSet<Vec<u8>>) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = 0;
    for bytes in inputs {
        let path = dir.join(format!("{:016x}", fnv1a(bytes)));
        if !path.exists() {
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_modules_include_valid_and_broken_ones() {
        let modules = spec_modules();
        assert!(modules.len() > 4000, "{} modules", modules.len());
        let features = wasmparser::WasmFeatures::all();
        let valid = modules
            .iter()
            .filter(|m| {
                wasmparser::Validator::new_with_features(features)
                    .validate_all(m)
                    .is_ok()
            })
            .count();
        assert!(valid > 1000, "{valid} valid modules");
        assert!(
            modules.len() - valid > 500,
            "{} broken modules",
            modules.len() - valid
        );
    }

    #[test]
    fn writing_twice_adds_nothing_and_names_by_content() {
        let dir = std::env::temp_dir().join(format!("fuzz-corpus-test-{}", std::process::id()));
        let inputs = stable_inputs(3);
        assert_eq!(inputs.len(), 3);
        assert!(inputs.contains(&seed_bytes(2)));
        assert_eq!(write_all(&dir, &inputs).unwrap(), 3);
        assert_eq!(write_all(&dir, &inputs).unwrap(), 0);
        let name = format!("{:016x}", fnv1a(&seed_bytes(0)));
        assert_eq!(std::fs::read(dir.join(name)).unwrap(), seed_bytes(0));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
