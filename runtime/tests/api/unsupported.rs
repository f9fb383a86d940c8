//! Soundness: an engine runs a module only if it implements every feature the module
//! uses. Anything else is refused at `Module::new` as `Unsupported`, naming the feature,
//! before any code is generated, even when the embedder enabled the feature in `Config`
//! (as the 3.0 spec suite does).

use runtime::{CompileErrorKind, Config, Error, Module, Strategy, WasmFeatures};

use crate::common::engine_with;

on_both_engines!(
    features_an_engine_lacks_are_refused_by_name,
    dead_code_does_not_hide_a_feature,
    enabled_but_unused_features_cost_nothing,
);

/// The compile error of `wat` on `strategy` with `extra` features enabled beyond 2.0.
fn compile_error(strategy: Strategy, wat: &str, extra: WasmFeatures) -> (CompileErrorKind, String) {
    let engine = engine_with(Config::new(strategy).features(WasmFeatures::WASM2 | extra));
    match Module::new(&engine, wat) {
        Err(Error::Compile(e)) => (e.kind, e.message),
        Err(e) => panic!("{strategy:?}: not a compile error: {e}"),
        Ok(_) => panic!("{strategy:?}: compiled a module it cannot run:\n{wat}"),
    }
}

fn features_an_engine_lacks_are_refused_by_name(strategy: Strategy) {
    let cases = [
        (
            // Before memory64 was implemented, a store at address -8 wrote in front of
            // the native engine's memory; shared memories are what no engine has now.
            "(module (memory 1 1 shared)
               (func (export \"f\") (i32.atomic.store (i32.const 0) (i32.const 1))))",
            WasmFeatures::THREADS,
            "threads",
        ),
        (
            "(module (func (param i64 i64 i64 i64) (result i64 i64)
               (i64.add128 (local.get 0) (local.get 1) (local.get 2) (local.get 3))))",
            WasmFeatures::WIDE_ARITHMETIC,
            "wide_arithmetic",
        ),
    ];
    for (wat, feature, name) in cases {
        let (kind, message) = compile_error(strategy, wat, feature);
        assert_eq!(
            kind,
            CompileErrorKind::Unsupported,
            "{strategy:?}: {message}"
        );
        let engine = match strategy {
            Strategy::Interpreter => "interp",
            Strategy::Native => "native",
        };
        assert_eq!(
            message,
            format!("the {engine} engine does not implement {name}, which the module uses"),
            "{strategy:?}"
        );
    }
}

/// A translator skips unreachable code, but an operator it does not implement there
/// could still hide a block structure it cannot follow: the module is refused whole.
fn dead_code_does_not_hide_a_feature(strategy: Strategy) {
    let wat = "(module (memory 1) (func (unreachable) (drop (i32.atomic.load (i32.const 0)))))";
    let (kind, message) = compile_error(strategy, wat, WasmFeatures::THREADS);
    assert_eq!(kind, CompileErrorKind::Unsupported, "{strategy:?}");
    assert!(message.contains("threads"), "{strategy:?}: {message}");
}

/// Enabling every 3.0 feature changes nothing for a module that uses none of them.
fn enabled_but_unused_features_cost_nothing(strategy: Strategy) {
    let engine = engine_with(Config::new(strategy).features(WasmFeatures::WASM3));
    let wat = "(module (func (export \"f\") (result i32) (i32.const 7)))";
    let module = Module::new(&engine, wat).unwrap_or_else(|e| panic!("{strategy:?}: {e}"));
    let store = runtime::Store::new(&engine);
    let instance = runtime::Instance::new(&store, &module, None).unwrap();
    let f = instance.get_func(&store, "f").unwrap();
    assert_eq!(f.call(&store, &[]).unwrap(), vec![runtime::Value::I32(7)]);
}
