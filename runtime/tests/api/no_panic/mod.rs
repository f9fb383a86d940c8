//! Robustness: random bytes and mutations of valid modules must never make the runtime
//! panic, whether compiling, instantiating (with a host module that satisfies the
//! imports) or calling exports. Bad bytes must come back as `Error::Compile` with a
//! message.
//!
//! Execution is limited to modules that cannot run for long: no `loop`, few call sites
//! and a small call-depth limit (on the interpreter; the native engine's recursion ends
//! at the machine stack's limit); memories are capped by a custom allocator.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::strategy::Strategy as PropStrategy;
use proptest::test_runner::{
    Config as PropConfig, FileFailurePersistence, TestCaseError, TestRunner,
};
use runtime::{
    Config, Engine, Error, HostModuleBuilder, ImportType, Instance, LinearMemory, MemoryAllocator,
    Module, Store, Strategy, Value,
};
use wasmparser::Operator;

use crate::common::{engine_test_name, engine_with};

mod mutations;
mod seeds;

use mutations::{apply, leb, mutation};
use seeds::{SEEDS, seed_binaries};

on_both_engines!(
    seeds_are_valid,
    mutated_modules_do_not_panic,
    random_bytes_do_not_panic,
    random_sections_do_not_panic,
    random_text_does_not_panic,
    mutations_reach_instantiation_and_calls,
    every_prefix_of_every_seed,
    every_single_byte_change_of_small_seeds,
    bad_bytes_are_compile_errors_with_messages,
    foreign_instance_handles_do_not_panic,
);

fn seeds_are_valid(strategy: Strategy) {
    let engine = small_engine(strategy);
    let bins = seed_binaries();
    assert!(
        bins.len() >= SEEDS.len() - 2,
        "too many seeds fail to parse"
    );
    let mut compiled = 0;
    for b in bins {
        if Module::from_binary(&engine, b).is_ok() {
            compiled += 1;
        }
    }
    // All but the deliberately odd ones (atomics without the threads feature) compile.
    assert!(
        compiled >= bins.len() - 2,
        "{compiled} of {} compile",
        bins.len()
    );
}

// ---------------------------------------------------------------------------------------
// Driving one input through the runtime.

/// Refuses memories over 4 MiB so mutated limits cannot allocate gigabytes.
struct CappedAllocator;

const CAP: usize = 4 << 20;

struct CappedMemory(Vec<u8>, usize);

impl LinearMemory for CappedMemory {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }
    fn reallocate(&mut self, new_len: usize) -> Option<&mut [u8]> {
        if new_len > CAP.min(self.1) || new_len < self.0.len() {
            return None;
        }
        self.0.resize(new_len, 0);
        Some(&mut self.0)
    }
}

impl MemoryAllocator for CappedAllocator {
    fn allocate(&self, initial: usize, max: usize) -> Option<Box<dyn LinearMemory>> {
        (initial <= CAP).then(|| Box::new(CappedMemory(vec![0; initial], max)) as _)
    }
}

/// An engine with small limits; the native engine ignores `max_call_depth` and
/// `max_value_stack` (the machine stack bounds it). Explicit bounds checks: the capped
/// allocator reserves nothing past a memory's length, which guard pages would need.
fn small_engine(strategy: Strategy) -> Engine {
    engine_with(Config {
        max_call_depth: 6,
        max_value_stack: 64 * 1024,
        signal_traps: false,
        ..Config::new(strategy)
    })
}

/// Whether running this module's code is known to finish quickly.
fn bounded_execution(m: &Module) -> bool {
    let info = m.info();
    let mut call_sites = 0;
    for i in 0..info.bodies.len() {
        let body = info.body_reader(i);
        let Ok(mut ops) = body.get_operators_reader() else {
            return false;
        };
        while !ops.eof() {
            match ops.read() {
                Err(_) | Ok(Operator::Loop { .. }) => return false,
                Ok(
                    Operator::Call { .. }
                    | Operator::CallIndirect { .. }
                    | Operator::CallRef { .. }
                    | Operator::ReturnCall { .. }
                    | Operator::ReturnCallIndirect { .. }
                    | Operator::ReturnCallRef { .. },
                ) => call_sites += 1,
                Ok(_) => {}
            }
        }
    }
    call_sites <= 6
}

/// Builds host modules exporting something of the right type for every import.
fn satisfy_imports(store: &Store, m: &Module) -> bool {
    let info = m.info();
    let mut by_module: BTreeMap<&str, HostModuleBuilder> = BTreeMap::new();
    for import in &info.imports {
        let b = by_module
            .remove(import.module.as_str())
            .unwrap_or_else(|| HostModuleBuilder::new(import.module.clone()));
        let b = match &import.ty {
            ImportType::Func(t) => {
                let Some(ty) = info.types.get(*t as usize).and_then(|t| t.as_func()) else {
                    return false;
                };
                // Results are pre-filled with zero values: return them as they are.
                b.func(import.name.clone(), (**ty).clone(), |_, _, _| Ok(()))
            }
            ImportType::Memory(mt) => {
                if mt.min > 64 {
                    return false;
                }
                b.memory(import.name.clone(), *mt)
            }
            ImportType::Table(tt) => {
                if tt.min > 10_000 {
                    return false;
                }
                let init = Value::default_for(tt.element.into());
                b.table(import.name.clone(), *tt, init)
            }
            ImportType::Global(gt) => b.global(
                import.name.clone(),
                Value::default_for(gt.content),
                gt.mutable,
            ),
            ImportType::Tag(t) => {
                let Some(ty) = info.types.get(*t as usize).and_then(|t| t.as_func()) else {
                    return false;
                };
                let Ok(tag) = runtime::Tag::new(store, (**ty).clone()) else {
                    return false;
                };
                b.export(import.name.clone(), runtime::Extern::Tag(tag))
            }
        };
        by_module.insert(import.module.as_str(), b);
    }
    by_module
        .into_values()
        .all(|b| b.instantiate(store).is_ok())
}

/// Compiles, instantiates and calls; returns a description of a contract violation
/// (not a panic: those are caught by the caller).
fn drive(engine: &Engine, bytes: &[u8]) -> Result<(), String> {
    let m = match Module::from_binary(engine, bytes) {
        Ok(m) => m,
        Err(Error::Compile(c)) if !c.message.is_empty() => return Ok(()),
        Err(e) => {
            return Err(format!(
                "compile error is not a CompileError with a message: {e:?}"
            ));
        }
    };
    let info = m.info();
    if info.tables.iter().any(|t| t.min > 100_000) || info.memories.iter().any(|m| m.min > 64) {
        return Ok(());
    }
    let bounded = bounded_execution(&m);
    if info.start.is_some() && !bounded {
        return Ok(());
    }
    let store = Store::new(engine);
    store
        .set_memory_allocator(Arc::new(CappedAllocator))
        .unwrap();
    if !satisfy_imports(&store, &m) {
        return Ok(());
    }
    let inst = match Instance::new(&store, &m, None) {
        Ok(i) => i,
        Err(Error::Compile(e)) => return Err(format!("instantiation gave a compile error: {e}")),
        Err(_) => return Ok(()),
    };
    if !bounded {
        return Ok(());
    }
    for (name, ext) in inst.exports(&store) {
        let Some(f) = ext.into_func() else { continue };
        let Ok(ty) = f.ty(&store) else {
            return Err(format!("export {name}: no type"));
        };
        let args: Vec<Value> = ty.params().iter().map(|t| Value::default_for(*t)).collect();
        match f.call(&store, &args) {
            Ok(results) => {
                if results.len() != ty.results().len()
                    || results.iter().zip(ty.results()).any(|(v, t)| v.ty() != *t)
                {
                    return Err(format!(
                        "export {name}: results {results:?} do not match {ty}"
                    ));
                }
            }
            Err(Error::Compile(e)) => return Err(format!("call gave a compile error: {e}")),
            Err(_) => {}
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `drive` under `catch_unwind`: Err with the input when it panics or breaks a contract.
fn check(engine: &Engine, bytes: &[u8]) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| drive(engine, bytes))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => Err(format!(
            "{why}\ninput ({} bytes): {}",
            bytes.len(),
            hex(bytes)
        )),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!(
                "runtime panicked: {msg}\ninput ({} bytes): {}",
                bytes.len(),
                hex(bytes)
            ))
        }
    }
}

fn prop_config(cases: u32) -> PropConfig {
    PropConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        max_shrink_iters: 2000,
        ..PropConfig::default()
    }
}

/// Runs `test` on `cases` inputs drawn from `inputs`; on a failure, panics with the
/// shrunk input and the engine's name.
fn run_cases<S: PropStrategy>(
    strategy: Strategy,
    cases: u32,
    inputs: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(prop_config(cases));
    if let Err(e) = runner.run(&inputs, test) {
        panic!("{} engine: {e}", engine_test_name(strategy));
    }
}

fn mutated_modules_do_not_panic(strategy: Strategy) {
    let engine = small_engine(strategy);
    let inputs = (any::<usize>(), prop::collection::vec(mutation(), 1..5));
    run_cases(strategy, 4000, inputs, |(seed, muts)| {
        let bins = seed_binaries();
        let mut bytes = bins[seed % bins.len()].clone();
        for m in &muts {
            apply(&mut bytes, m);
        }
        if let Err(why) = check(&engine, &bytes) {
            prop_assert!(
                false,
                "seed {}, mutations {:?}: {}",
                seed % bins.len(),
                muts,
                why
            );
        }
        Ok(())
    });
}

fn random_bytes_do_not_panic(strategy: Strategy) {
    let engine = small_engine(strategy);
    let inputs = (any::<bool>(), prop::collection::vec(any::<u8>(), 0..256));
    run_cases(strategy, 1000, inputs, |(with_header, body)| {
        let mut bytes = if with_header {
            b"\0asm\x01\0\0\0".to_vec()
        } else {
            Vec::new()
        };
        bytes.extend_from_slice(&body);
        if let Err(why) = check(&engine, &bytes) {
            prop_assert!(false, "{}", why);
        }
        Ok(())
    });
}

fn random_sections_do_not_panic(strategy: Strategy) {
    let engine = small_engine(strategy);
    let inputs = prop::collection::vec((0u8..14, prop::collection::vec(any::<u8>(), 0..40)), 0..6);
    run_cases(strategy, 1000, inputs, |sections| {
        // Well-framed sections with random payloads reach deeper into the decoder.
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        for (id, payload) in &sections {
            bytes.push(*id);
            bytes.extend(leb(payload.len() as u64, false));
            bytes.extend_from_slice(payload);
        }
        if let Err(why) = check(&engine, &bytes) {
            prop_assert!(false, "{}", why);
        }
        Ok(())
    });
}

fn random_text_does_not_panic(strategy: Strategy) {
    let engine = small_engine(strategy);
    let inputs = "\\PC{0,64}|\\(module[ a-z0-9()$\"._]{0,64}";
    run_cases(strategy, 300, inputs, |s| {
        // Module::new takes text too: the text path must not panic either.
        let r = catch_unwind(AssertUnwindSafe(|| Module::new(&engine, s.as_bytes())));
        match r {
            Err(_) => prop_assert!(false, "panicked on text {:?}", s),
            Ok(Err(Error::Compile(c))) => {
                prop_assert!(!c.message.is_empty(), "empty message for {:?}", s)
            }
            Ok(Err(e)) => prop_assert!(false, "not a compile error for {:?}: {:?}", s, e),
            Ok(Ok(_)) => {}
        }
        Ok(())
    });
}

fn mutations_reach_instantiation_and_calls(strategy: Strategy) {
    // The pipeline is only worth something if mutated inputs get past the decoder:
    // run a fixed-seed batch and check that each stage is reached.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{RngAlgorithm, TestRng};
    let mut runner = TestRunner::new_with_rng(
        prop_config(400),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let engine = small_engine(strategy);
    let bins = seed_binaries();
    let (mut compiled, mut instantiated, mut called) = (0, 0, 0);
    let inputs = (any::<usize>(), prop::collection::vec(mutation(), 1..3));
    for _ in 0..400 {
        let (seed, muts) = inputs.new_tree(&mut runner).unwrap().current();
        let mut bytes = bins[seed % bins.len()].clone();
        for m in &muts {
            apply(&mut bytes, m);
        }
        check(&engine, &bytes).unwrap();
        // Count the stages with a local re-run of the same steps.
        if let Ok(m) = Module::from_binary(&engine, &bytes) {
            compiled += 1;
            let store = Store::new(&engine);
            store
                .set_memory_allocator(Arc::new(CappedAllocator))
                .unwrap();
            if m.info().memories.iter().all(|m| m.min <= 64)
                && m.info().start.is_none()
                && satisfy_imports(&store, &m)
                && let Ok(inst) = Instance::new(&store, &m, None)
            {
                instantiated += 1;
                if bounded_execution(&m)
                    && inst
                        .exports(&store)
                        .iter()
                        .any(|(_, e)| e.into_func().is_some())
                {
                    called += 1;
                }
            }
        }
    }
    eprintln!("of 400 mutants: {compiled} compiled, {instantiated} instantiated, {called} called");
    // Most mutants are rejected by the decoder or validator; a few dozen get through.
    assert!(compiled >= 15, "only {compiled} of 400 mutants compiled");
    assert!(
        instantiated >= 10,
        "only {instantiated} of 400 mutants instantiated"
    );
    assert!(
        called >= 5,
        "only {called} of 400 mutants had exports called"
    );
}

fn every_prefix_of_every_seed(strategy: Strategy) {
    // Truncation at every length: each prefix compiles or is a CompileError.
    let engine = small_engine(strategy);
    for (i, bin) in seed_binaries().iter().enumerate() {
        for len in 0..bin.len() {
            if let Err(why) = check(&engine, &bin[..len]) {
                panic!("seed {i}, prefix {len}: {why}");
            }
        }
    }
}

fn every_single_byte_change_of_small_seeds(strategy: Strategy) {
    // Exhaustive for the first bytes of each seed: set each to a few telling values.
    let engine = small_engine(strategy);
    for (i, bin) in seed_binaries().iter().enumerate() {
        for pos in 8..bin.len().min(80) {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut b = bin.clone();
                b[pos] = v;
                if let Err(why) = check(&engine, &b) {
                    panic!("seed {i}, byte {pos} := {v:#x}: {why}");
                }
            }
        }
    }
}

fn bad_bytes_are_compile_errors_with_messages(strategy: Strategy) {
    let engine = small_engine(strategy);
    let cases: &[(&str, &[u8])] = &[
        ("empty", b""),
        ("bad magic", b"\0asx\x01\0\0\0"),
        ("bad version", b"\0asm\x02\0\0\0"),
        ("short header", b"\0as"),
        ("unknown section", b"\0asm\x01\0\0\0\x20\x00"),
        ("section too long", b"\0asm\x01\0\0\0\x01\x05\x00"),
        (
            "overlong leb",
            b"\0asm\x01\0\0\0\x01\x81\x80\x80\x80\x80\x00",
        ),
        // type section: one func type with an invalid value type 0x40
        (
            "bad valtype",
            b"\0asm\x01\0\0\0\x01\x05\x01\x60\x01\x40\x00",
        ),
        // function section referencing type 5 of none
        ("bad type index", b"\0asm\x01\0\0\0\x03\x02\x01\x05"),
    ];
    for (what, bytes) in cases {
        match Module::from_binary(&engine, bytes) {
            Err(Error::Compile(c)) => {
                assert!(!c.message.is_empty(), "{what}: empty message");
                assert!(!c.to_string().is_empty());
            }
            other => panic!("{what}: expected a compile error, got {other:?}"),
        }
    }
    // Invalid (well-formed) code too.
    let invalid = wat::parse_str(r#"(module (func (result i32) i64.const 0))"#).unwrap();
    match Module::from_binary(&engine, &invalid) {
        Err(Error::Compile(c)) => {
            assert_eq!(c.kind, runtime::CompileErrorKind::Invalid, "{c}");
            assert!(!c.message.is_empty());
        }
        other => panic!("expected an invalid-module error, got {other:?}"),
    }
}

fn foreign_instance_handles_do_not_panic(strategy: Strategy) {
    // Handles used with another store must be refused, not index out of bounds.
    let engine = small_engine(strategy);
    let big = Store::new(&engine);
    let small = Store::new(&engine);
    let m = Module::new(&engine, r#"(module (func (export "f")))"#).unwrap();
    let mut last = None;
    for _ in 0..5 {
        last = Some(Instance::new(&big, &m, None).unwrap());
    }
    let inst = last.unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = inst.get_export(&small, "f");
        let _ = inst.exports(&small);
        let _ = inst.name(&small);
        let _ = inst.exit_code(&small);
        let _ = inst.on_close(&small, |_| Ok(()));
        let _ = inst.close_with_exit_code(&small, 0);
    }));
    assert!(
        r.is_ok(),
        "a handle from another store made the runtime panic"
    );
    assert!(inst.exports(&small).is_empty());
    assert!(inst.on_close(&small, |_| Ok(())).is_err());
}
