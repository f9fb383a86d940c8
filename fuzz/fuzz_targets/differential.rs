//! The differential oracle under libFuzzer: input bytes -> wasm-smith module + plan,
//! run on both engines, every observable compared. A divergence writes a reproducer
//! into `fuzz-out/` and panics (libFuzzer then saves the input under artifacts/).

#![no_main]

use std::path::Path;

use harness::fuzz::input::fnv1a;
use harness::fuzz::{Case, Oracle, Verdict, repro};
use libfuzzer_sys::fuzz_target;

thread_local! {
    static ORACLE: Oracle = Oracle::ours().expect("engines");
}

fuzz_target!(init: write_seed_corpus_if_asked(), |data: &[u8]| {
    let Some(case) = Case::from_input(data) else {
        return;
    };
    ORACLE.with(|oracle| {
        let Some(checked) = oracle.check(&case) else {
            return;
        };
        if let Verdict::Diverged(d) = &checked.verdict {
            let label = format!("libfuzzer-{:016x}", fnv1a(data));
            let text = repro::report(&label, &case, &checked, d);
            let _ = repro::write(Path::new("fuzz-out"), &label, &case, &text);
            panic!("{text}");
        }
    });
});

/// `FUZZ_WRITE_SEED_CORPUS=DIR` writes this target's seed corpus (the stable driver's inputs of seeds 0..1000,
/// `harness::fuzz::corpus`) into DIR and exits before fuzzing: ClusterFuzzLite's build.sh
/// gets the corpus from the binary it just built.
fn write_seed_corpus_if_asked() {
    let Some(dir) = std::env::var_os("FUZZ_WRITE_SEED_CORPUS") else {
        return;
    };
    let inputs = harness::fuzz::corpus::stable_inputs(1000);
    match harness::fuzz::corpus::write_all(std::path::Path::new(&dir), &inputs) {
        Ok(new) => {
            eprintln!("differential: {} seed inputs ({new} new)", inputs.len());
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("differential: writing the seed corpus: {e:#}");
            std::process::exit(1);
        }
    }
}
