//! Tail calls where both engines must make the same choice the spec leaves open (the
//! engine-specific stress tests are `tail_calls_interp.rs` and `tail_calls_native.rs`).

use std::sync::{Arc, Mutex};

use runtime::{Caller, Config, HostModuleBuilder, Store, Strategy, Value, WasmFeatures};

use crate::common::{engine_with, instantiate};

on_both_engines!(a_tail_called_host_function_sees_the_instance_that_called_it);

/// Instance `outer` calls `guest.f`, which tail-calls a host function: the host's
/// `Caller` is `guest`, whose code made the call (and whose memory a WASI function would
/// use), not `outer`, to which the result returns.
fn a_tail_called_host_function_sees_the_instance_that_called_it(strategy: Strategy) {
    let config = Config::new(strategy).features(WasmFeatures::WASM2 | WasmFeatures::TAIL_CALL);
    let store = Store::new(&engine_with(config));
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let record = seen.clone();
    HostModuleBuilder::new("host")
        .func_wrap("who", move |caller: &mut Caller<'_>, x: i32| -> i32 {
            let name = caller.instance_name().map(str::to_string);
            record.lock().unwrap().push(name);
            x + 1
        })
        .instantiate(&store)
        .unwrap();
    instantiate(
        &store,
        r#"(module
            (import "host" "who" (func $who (param i32) (result i32)))
            (table 1 funcref) (elem (i32.const 0) $who)
            (func (export "f") (param i32) (result i32) (return_call $who (local.get 0)))
            (func (export "g") (param i32) (result i32)
                (return_call_indirect (param i32) (result i32) (local.get 0) (i32.const 0))))"#,
        Some("guest"),
    );
    let outer = instantiate(
        &store,
        r#"(module
            (import "guest" "f" (func $f (param i32) (result i32)))
            (import "guest" "g" (func $g (param i32) (result i32)))
            (func (export "run") (result i32)
                (i32.add (call $f (i32.const 1)) (call $g (i32.const 10)))))"#,
        Some("outer"),
    );
    let run = outer.get_func(&store, "run").unwrap();
    assert_eq!(
        run.call(&store, &[]).unwrap(),
        vec![Value::I32(13)],
        "{strategy:?}"
    );
    let guest = Some("guest".to_string());
    assert_eq!(
        *seen.lock().unwrap(),
        vec![guest.clone(), guest],
        "{strategy:?}"
    );
}
