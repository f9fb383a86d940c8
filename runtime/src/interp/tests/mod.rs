//! End-to-end tests of the interpreter through the public API.

mod basics;
mod calls;
mod control;
mod memory;
mod numeric;
mod simd;
mod tables;

use crate::{Config, Engine, Instance, Module, Store, Value};

/// Instantiates `wat` and calls export `name` with `args`.
pub(super) fn run(wat: &str, name: &str, args: &[Value]) -> crate::Result<Vec<Value>> {
    let engine = Engine::new(Config::default()).unwrap();
    let module = Module::new(&engine, wat)?;
    let store = Store::new(&engine);
    let instance = Instance::new(&store, &module, None)?;
    let f = instance.get_func(&store, name).expect("export");
    f.call(&store, args)
}

pub(super) fn run1(wat: &str, name: &str, args: &[Value]) -> Value {
    let r = run(wat, name, args).unwrap();
    assert_eq!(r.len(), 1);
    r[0]
}

pub(super) fn trap_of(wat: &str, name: &str, args: &[Value]) -> crate::TrapKind {
    match run(wat, name, args) {
        Err(e) => e.trap_kind().unwrap_or_else(|| panic!("not a trap: {e}")),
        Ok(v) => panic!("expected a trap, got {v:?}"),
    }
}
mod perf;
