//! Writes the seed corpora of the cargo-fuzz targets in `fuzz/` (what goes in them and
//! why: `harness/src/fuzz/corpus.rs`).
//!
//! ```text
//! cargo run --release -p harness --example fuzz_corpus -- DIR [--differential-seeds N]
//! ```
//!
//! `DIR/no_panic/`: the spec testsuite's modules; `DIR/differential/`: the stable driver's
//! inputs of seeds `0..N` (default 1000). Files are named by an FNV-1a hash of their
//! content, so writing twice into the same folder adds nothing.

use std::path::PathBuf;

use anyhow::{Context, bail};
use harness::fuzz::corpus::{spec_modules, stable_inputs, write_all};

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
    let inputs = stable_inputs(seeds);
    let written = write_all(&dir.join("differential"), &inputs)?;
    eprintln!(
        "differential: {} stable-driver inputs ({written} new) in {}",
        inputs.len(),
        dir.join("differential").display()
    );
    Ok(())
}
