//! Helpers shared by the integration tests (each test file is its own crate and uses
//! only some of them).
#![allow(dead_code)]

use runtime::{Config, Engine, Error, Instance, Module, Store};

pub fn engine() -> Engine {
    Engine::new(Config::default()).expect("the interpreter engine is always available")
}

pub fn engine_with(config: Config) -> Engine {
    Engine::new(config).expect("the interpreter engine is always available")
}

/// Compiles WAT (or binary) source, panicking with the error when it does not compile.
pub fn module(engine: &Engine, src: &str) -> Module {
    Module::new(engine, src).unwrap_or_else(|e| panic!("module does not compile: {e}\n{src}"))
}

/// Instantiates WAT source under `name`, panicking with the error on failure.
pub fn instantiate(store: &Store, src: &str, name: Option<&str>) -> Instance {
    let m = module(store.engine(), src);
    Instance::new(store, &m, name).unwrap_or_else(|e| panic!("instantiation failed: {e}\n{src}"))
}

/// Instantiates WAT source under `name`, expecting an error.
pub fn instantiate_err(store: &Store, src: &str, name: Option<&str>) -> Error {
    let m = module(store.engine(), src);
    match Instance::new(store, &m, name) {
        Ok(_) => panic!("instantiation succeeded but should have failed:\n{src}"),
        Err(e) => e,
    }
}
