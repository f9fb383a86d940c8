//! Robustness: raw input bytes, and a generated module with some bytes overwritten,
//! go through `Module::new` and (when it compiles) instantiation on both engines.
//! Errors are fine; a panic or crash is a finding.

#![no_main]

use arbitrary::Unstructured;
use harness::fuzz::{generate, host, plan, shape};
use libfuzzer_sys::fuzz_target;
use runtime::{Config, Engine, Instance, Module, Store, Strategy};

thread_local! {
    static ENGINES: [Engine; 2] = [
        Engine::new(Config::new(Strategy::Interpreter)).expect("interp"),
        Engine::new(Config::new(Strategy::Native)).expect("native"),
    ];
}

/// Compiles `bytes` on both engines, and instantiates what compiles, unless it could
/// run forever (a start function in unfueled code) or ask for huge memories or tables.
fn exercise(bytes: &[u8], plan_bytes: &[u8]) {
    ENGINES.with(|engines| {
        for engine in engines {
            let Ok(module) = Module::new(engine, bytes) else {
                continue;
            };
            let info = module.info();
            let huge = info.memories.iter().any(|m| m.min > 64)
                || info.tables.iter().any(|t| t.min > 10_000);
            if info.start.is_some() || huge {
                continue;
            }
            let store = Store::new(engine);
            if let Some(s) = shape::shape(&module.info().bytes) {
                let p = plan::plan(&s, plan_bytes);
                if p.imports.iter().any(|i| {
                    matches!(&i.plan,
                    plan::ImportPlan::Memory { min, .. } if *min > 64)
                        || matches!(&i.plan, plan::ImportPlan::Table { min, .. } if *min > 10_000)
                }) {
                    continue;
                }
                let _ = host::build(&store, &p, &s);
            }
            let _ = Instance::new(&store, &module, None);
        }
    });
}

fuzz_target!(init: write_seed_corpus_if_asked(), |data: &[u8]| {
    // The raw bytes, as a module.
    exercise(data, &[]);
    // A generated module with a few bytes overwritten where the input says.
    let mut u = Unstructured::new(data);
    let Ok((mut wasm, _)) = generate::module(&mut u) else {
        return;
    };
    let n = u.int_in_range(1..=4u8).unwrap_or(1);
    for _ in 0..n {
        let (Ok(at), Ok(byte)) = (u.choose_index(wasm.len()), u.arbitrary::<u8>()) else {
            break;
        };
        wasm[at] = byte;
    }
    exercise(&wasm, u.take_rest());
});

/// `FUZZ_WRITE_SEED_CORPUS=DIR` writes this target's seed corpus (the spec testsuite's modules,
/// `harness::fuzz::corpus`) into DIR and exits before fuzzing: ClusterFuzzLite's build.sh
/// gets the corpus from the binary it just built.
fn write_seed_corpus_if_asked() {
    let Some(dir) = std::env::var_os("FUZZ_WRITE_SEED_CORPUS") else {
        return;
    };
    let inputs = harness::fuzz::corpus::spec_modules();
    match harness::fuzz::corpus::write_all(std::path::Path::new(&dir), &inputs) {
        Ok(new) => {
            eprintln!("no_panic: {} seed inputs ({new} new)", inputs.len());
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("no_panic: writing the seed corpus: {e:#}");
            std::process::exit(1);
        }
    }
}
