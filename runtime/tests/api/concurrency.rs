//! One store shared by threads: many instantiations of one compiled module at once,
//! races for the same name (exactly one winner), and a registry that stays consistent.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;

use crate::common::{engine, module};
use runtime::{Error, HostModuleBuilder, Instance, Module, Store, Strategy, Value};

on_both_engines!(
    many_instantiations_from_many_threads,
    concurrent_instantiation_and_calls,
    racing_for_one_name_has_one_winner,
    racing_host_modules_and_wasm_for_one_name,
    failed_racer_does_not_block_the_name,
    close_while_instantiating_from_other_threads,
);

fn assert_send_sync<T: Send + Sync + Clone>() {}

/// Once, not per engine: a property of the handle types, checked at compile time.
#[test]
fn handles_are_send_sync() {
    assert_send_sync::<Store>();
    assert_send_sync::<Module>();
    assert_send_sync::<runtime::Engine>();
    assert_send_sync::<Instance>();
    assert_send_sync::<runtime::Func>();
    assert_send_sync::<runtime::Memory>();
}

/// Imports from a host module (so instantiation resolves imports concurrently too),
/// owns a memory with data, a table with an element, a global and a counter function.
const GUEST: &str = r#"(module
    (import "env" "base" (global $base i32))
    (memory (export "mem") 1)
    (table (export "tab") 2 funcref)
    (global $n (export "n") (mut i32) (global.get $base))
    (func $bump (export "bump") (result i32)
        global.get $n i32.const 1 i32.add global.set $n global.get $n)
    (elem (i32.const 1) $bump)
    (data (i32.const 8) "guest"))"#;

fn store_with_env(strategy: Strategy) -> Store {
    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("env")
        .global("base", Value::I32(100), false)
        .instantiate(&store)
        .unwrap();
    store
}

const THREADS: usize = 4;
const PER_THREAD: usize = 25;

fn many_instantiations_from_many_threads(strategy: Strategy) {
    let store = store_with_env(strategy);
    let module = module(store.engine(), GUEST);
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            let module = module.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                (0..PER_THREAD)
                    .map(|i| {
                        let name = format!("m{t}_{i}");
                        let inst = Instance::new(&store, &module, Some(&name))
                            .unwrap_or_else(|e| panic!("{name}: {e}"));
                        (name, inst)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let all: Vec<(String, Instance)> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("instantiating thread panicked"))
        .collect();
    assert_eq!(all.len(), THREADS * PER_THREAD);

    let mut memories = HashSet::new();
    for (name, inst) in &all {
        assert_eq!(store.instance(name), Some(*inst), "{name}");
        assert_eq!(inst.name(&store).as_deref(), Some(name.as_str()));
        let mem = inst.get_memory(&store, "mem").unwrap();
        assert!(memories.insert(mem), "{name} shares a memory");
        let mut buf = [0u8; 5];
        mem.read(&store, 8, &mut buf).unwrap();
        assert_eq!(&buf, b"guest");
        let tab = inst.get_table(&store, "tab").unwrap();
        let bump = inst.get_func(&store, "bump").unwrap();
        assert_eq!(tab.get(&store, 1).unwrap(), Value::FuncRef(Some(bump)));
        assert_eq!(
            inst.get_global(&store, "n").unwrap().get(&store).unwrap(),
            Value::I32(100)
        );
    }
    let distinct: HashSet<Instance> = all.iter().map(|(_, i)| *i).collect();
    assert_eq!(distinct.len(), all.len());
}

fn concurrent_instantiation_and_calls(strategy: Strategy) {
    // Each thread instantiates and then calls its own instance: calls and
    // instantiations interleave on one store. (Needs the interpreter.)
    let store = store_with_env(strategy);
    let module = module(store.engine(), GUEST);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            let module = module.clone();
            thread::spawn(move || {
                for i in 0..10 {
                    let inst = Instance::new(&store, &module, Some(&format!("c{t}_{i}")))?;
                    let bump = inst
                        .get_func(&store, "bump")
                        .unwrap()
                        .typed::<(), i32>(&store)?;
                    for k in 1..=20 {
                        assert_eq!(bump.call(&store, ())?, 100 + k);
                    }
                }
                Ok::<(), Error>(())
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread panicked").expect("thread failed");
    }
}

fn racing_for_one_name_has_one_winner(strategy: Strategy) {
    let store = store_with_env(strategy);
    let module = module(store.engine(), GUEST);
    const RACERS: usize = 8;
    for round in 0..20 {
        let name = format!("contested{round}");
        let barrier = Arc::new(Barrier::new(RACERS));
        let results: Vec<Result<Instance, Error>> = (0..RACERS)
            .map(|_| {
                let store = store.clone();
                let module = module.clone();
                let barrier = barrier.clone();
                let name = name.clone();
                thread::spawn(move || {
                    barrier.wait();
                    Instance::new(&store, &module, Some(&name))
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().expect("racer panicked"))
            .collect();
        let winners: Vec<Instance> = results.iter().filter_map(|r| r.clone().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for r in &results {
            if let Err(e) = r {
                match e {
                    Error::Instantiation(m) => {
                        assert!(m.contains("already registered"), "{m}");
                        assert!(m.contains(&name), "{m}");
                    }
                    other => panic!("round {round}: loser got {other:?}"),
                }
            }
        }
        assert_eq!(store.instance(&name), Some(winners[0]));
        assert_eq!(winners[0].name(&store).as_deref(), Some(name.as_str()));
    }
    // The registry still works: new names, and imports from a winner.
    let more = Instance::new(&store, &module, Some("after")).unwrap();
    assert_eq!(store.instance("after"), Some(more));
    let importer = module_importing(&store, "contested3");
    let inst = Instance::new(&store, &importer, Some("importer")).unwrap();
    let winner_mem = store
        .instance("contested3")
        .unwrap()
        .get_memory(&store, "mem")
        .unwrap();
    assert_eq!(inst.get_memory(&store, "m"), Some(winner_mem));
}

fn module_importing(store: &Store, from: &str) -> Module {
    module(
        store.engine(),
        &format!(r#"(module (import "{from}" "mem" (memory 1)) (export "m" (memory 0)))"#),
    )
}

fn racing_host_modules_and_wasm_for_one_name(strategy: Strategy) {
    // Host modules and Wasm modules share the registry.
    let store = store_with_env(strategy);
    let module = module(store.engine(), GUEST);
    let barrier = Arc::new(Barrier::new(6));
    let handles: Vec<_> = (0..6)
        .map(|i| {
            let store = store.clone();
            let module = module.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                if i % 2 == 0 {
                    HostModuleBuilder::new("shared")
                        .func_wrap("f", || 0i32)
                        .instantiate(&store)
                } else {
                    Instance::new(&store, &module, Some("shared"))
                }
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ok: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ok.len(), 1, "{results:?}");
    assert_eq!(store.instance("shared"), Some(*ok[0]));
    for r in &results {
        if let Err(e) = r {
            assert!(
                matches!(e, Error::Instantiation(m) if m.contains("already registered")),
                "{e:?}"
            );
        }
    }
}

fn failed_racer_does_not_block_the_name(strategy: Strategy) {
    // A module that fails to link never holds the name: a later good one gets it.
    let store = store_with_env(strategy);
    let bad = module(store.engine(), r#"(module (import "nowhere" "x" (func)))"#);
    let good = module(store.engine(), GUEST);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            let bad = bad.clone();
            thread::spawn(move || {
                for _ in 0..20 {
                    let e = Instance::new(&store, &bad, Some("flaky")).unwrap_err();
                    assert!(
                        matches!(e, Error::Link(_) | Error::Instantiation(_)),
                        "{e:?}"
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(store.instance("flaky").is_none());
    let inst = Instance::new(&store, &good, Some("flaky")).unwrap();
    assert_eq!(store.instance("flaky"), Some(inst));
}

fn close_while_instantiating_from_other_threads(strategy: Strategy) {
    // Closing instances while others are being created must not deadlock or panic.
    let store = store_with_env(strategy);
    let module = module(store.engine(), GUEST);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            let module = module.clone();
            thread::spawn(move || {
                for i in 0..20 {
                    let name = format!("x{t}_{i}");
                    let inst = Instance::new(&store, &module, Some(&name)).unwrap();
                    inst.close_with_exit_code(&store, i).unwrap();
                    assert!(store.instance(&name).is_none());
                    assert_eq!(inst.exit_code(&store), Some(i));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(store.instance("env").is_some());
}
