//! Writes the seed corpora of the cargo-fuzz targets in `fuzz/` (fuzz/README.md).
//!
//! ```text
//! cargo run --release -p harness --example fuzz_corpus -- DIR [--differential-seeds N]
//! ```
//!
//! - `DIR/no_panic/`: every module of the spec testsuite (suites 1.0, 2.0, 3.0 and our
//!   regressions) that encodes to a binary: the `module` directives and the modules of
//!   `assert_invalid`, `assert_malformed` (binary and text that encodes),
//!   `assert_unlinkable` and `assert_trap`. `no_panic` takes raw bytes as a module, so
//!   valid modules of every feature and the spec's deliberately broken ones are the
//!   inputs closest to what it must survive.
//! - `DIR/differential/`: the inputs of the stable driver's seeds `0..N` (default 1000),
//!   8 KiB of SplitMix64 bytes each (`harness::fuzz::input::seed_bytes`). `differential`
//!   draws a wasm-smith module and a plan from its input, so a spec module means nothing
//!   to it; the stable driver's inputs are known to give valid, varied modules (every
//!   config wasm-smith is given), and their 8 KiB length sets libFuzzer's `-max_len`, so
//!   mutations keep enough bytes for a full module and plan.
//!
//! Files are named by an FNV-1a hash of their content, so writing twice into the same
//! folder adds nothing, and duplicates across spec files are written once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use harness::fuzz::input::{fnv1a, seed_bytes};
use spec_testsuite::Suite;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, Wat};

const SUITES: [&str; 4] = ["1.0", "2.0", "3.0", "regressions"];

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut dir: Option<PathBuf> = None;
    let mut seeds = 1000u64;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--differential-seeds" => {
                let n = args.next().context("--differential-seeds needs a number")?;
                seeds = n.parse().context("--differential-seeds needs a number")?;
            }
            _ if dir.is_none() && !arg.starts_with('-') => dir = Some(arg.into()),
            _ => bail!("usage: fuzz_corpus DIR [--differential-seeds N]"),
        }
    }
    let dir = dir.context("usage: fuzz_corpus DIR [--differential-seeds N]")?;

    let modules = spec_modules();
    let written = write_all(&dir.join("no_panic"), &modules)?;
    eprintln!(
        "no_panic: {} distinct spec modules ({written} new) in {}",
        modules.len(),
        dir.join("no_panic").display()
    );
    let inputs: BTreeSet<Vec<u8>> = (0..seeds).map(seed_bytes).collect();
    let written = write_all(&dir.join("differential"), &inputs)?;
    eprintln!(
        "differential: {} stable-driver inputs ({written} new) in {}",
        inputs.len(),
        dir.join("differential").display()
    );
    Ok(())
}

/// The binary of every module in the suites' files (a file that does not parse gives none).
fn spec_modules() -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    for suite in SUITES.iter().filter_map(|name| Suite::by_name(name)) {
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
fn write_all(dir: &Path, inputs: &BTreeSet<Vec<u8>>) -> anyhow::Result<usize> {
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
