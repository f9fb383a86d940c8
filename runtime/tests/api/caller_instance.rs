//! `Caller::instance`: a host function reaches its calling instance's exports and acts
//! on them in the middle of a Wasm call (calls an export back, grows and writes its
//! memory, sets its global and its table), and the Wasm code that continues after the
//! host call sees every change, on both engines. This is what the fuzzer's host effects
//! do (harness/src/fuzz/effects.rs); native code must not keep a memory base or size,
//! a global or a table element it loaded before the call.

use runtime::{Caller, Error, Extern, HostModuleBuilder, Store, Strategy, Value};

use crate::common::{engine, instantiate};

on_both_engines!(
    host_acts_on_its_caller_mid_call,
    host_called_by_the_embedder_has_no_caller_instance,
);

/// `host.fight(x)`: calls the caller's export `twice(x)` back, grows `memory` by one
/// page and writes `7` in the first byte of the new page, sets `g` to the result of the
/// call back, and puts the caller's `twice` into `table[1]`.
fn with_fighter(strategy: Strategy) -> Store {
    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("host")
        .func_wrap("fight", |caller: &mut Caller<'_>, x: i32| {
            let inst = caller.instance().ok_or_else(|| Error::host("no caller"))?;
            let export = |caller: &mut Caller<'_>, name: &str| {
                inst.get_export(caller, name)
                    .ok_or_else(|| Error::host(format!("no export {name}")))
            };
            let Extern::Func(twice) = export(caller, "twice")? else {
                return Err(Error::host("twice is not a function"));
            };
            let back = caller.call(twice, &[Value::I32(x)])?;
            let Some(Value::I32(doubled)) = back.first().cloned() else {
                return Err(Error::host("twice returned no i32"));
            };
            let Extern::Memory(memory) = export(caller, "memory")? else {
                return Err(Error::host("memory is not a memory"));
            };
            let old = memory.grow(&mut *caller, 1)?;
            memory.write(&mut *caller, old * 65536, &[7])?;
            let Extern::Global(g) = export(caller, "g")? else {
                return Err(Error::host("g is not a global"));
            };
            g.set(&mut *caller, Value::I32(doubled))?;
            let Extern::Table(table) = export(caller, "table")? else {
                return Err(Error::host("table is not a table"));
            };
            table.set(&mut *caller, 1, Value::FuncRef(Some(twice)))?;
            Ok(doubled)
        })
        .instantiate(&store)
        .unwrap();
    store
}

fn host_acts_on_its_caller_mid_call(strategy: Strategy) {
    let store = with_fighter(strategy);
    let inst = instantiate(
        &store,
        r#"(module
            (import "host" "fight" (func $fight (param i32) (result i32)))
            (memory (export "memory") 1 4)
            (global $g (export "g") (mut i32) (i32.const 0))
            (table (export "table") 2 funcref)
            (type $i2i (func (param i32) (result i32)))
            (func $twice (export "twice") (param i32) (result i32)
                (i32.mul (local.get 0) (i32.const 2)))
            ;; Loads the memory, the global and the table before the host call, then
            ;; reads each again after it: every read must see the host's change.
            (func (export "run") (result i32)
                (local $before i32)
                (local.set $before
                    (i32.add (memory.size) (i32.add (global.get $g) (i32.load8_u (i32.const 0)))))
                (drop (call $fight (i32.const 21)))
                ;; memory.size 2 (x 1000), the byte the host wrote in the new page (x 100),
                ;; g = 42, table[1] = twice: twice(1) = 2; plus what was seen before (1).
                (i32.add
                    (i32.add
                        (i32.mul (memory.size) (i32.const 1000))
                        (i32.mul (i32.load8_u (i32.const 65536)) (i32.const 100)))
                    (i32.add
                        (i32.add (global.get $g)
                            (call_indirect (type $i2i) (i32.const 1) (i32.const 1)))
                        (local.get $before)))))"#,
        None,
    );
    let run = inst
        .get_func(&store, "run")
        .unwrap()
        .typed::<(), i32>(&store)
        .unwrap();
    assert_eq!(run.call(&store, ()).unwrap(), 2000 + 700 + 42 + 2 + 1);
    // A second call sees the grown memory from the start and grows it again.
    assert_eq!(
        run.call(&store, ()).unwrap(),
        3000 + 700 + 42 + 2 + (2 + 42)
    );
}

fn host_called_by_the_embedder_has_no_caller_instance(strategy: Strategy) {
    let store = with_fighter(strategy);
    let fight = store
        .instance("host")
        .unwrap()
        .get_func(&store, "fight")
        .unwrap();
    let err = fight.call(&store, &[Value::I32(1)]).unwrap_err();
    assert!(
        matches!(err, Error::Host(ref m) if m == "no caller"),
        "{err}"
    );
}
