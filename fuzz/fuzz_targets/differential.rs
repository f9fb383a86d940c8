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

fuzz_target!(|data: &[u8]| {
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
