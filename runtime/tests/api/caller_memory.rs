//! `Caller::exported_memory_mut`: a host function borrows the calling instance's
//! exported memory and its own state mutably at once (what WASI's functions need), and
//! what it writes is what Wasm reads afterwards, on both engines.

use std::sync::{Arc, Mutex};

use runtime::{Caller, Error, HostModuleBuilder, Store, Strategy};

use crate::common::{engine, instantiate};

on_both_engines!(
    host_writes_caller_memory_and_own_state_at_once,
    caller_memory_sees_growth,
    caller_memory_absent_or_wrong_kind_is_none,
    host_without_wasm_caller_has_no_memory,
);

/// A host module `host` whose `fill(ptr, len)` writes its call count into
/// `len` bytes of the caller's memory, counting calls in its own state.
fn with_filler(strategy: Strategy) -> (Store, Arc<Mutex<Vec<u32>>>) {
    let store = Store::new(&engine(strategy));
    let log = Arc::new(Mutex::new(Vec::new()));
    let state = log.clone();
    HostModuleBuilder::new("host")
        .func_wrap(
            "fill",
            move |caller: &mut Caller<'_>, ptr: u32, len: u32| {
                let mut calls = state.lock().unwrap();
                let bytes = caller
                    .exported_memory_mut("memory")
                    .ok_or_else(|| Error::host("no memory"))?;
                let dst = bytes
                    .get_mut(ptr as usize..ptr as usize + len as usize)
                    .ok_or_else(|| Error::host("out of range"))?;
                calls.push(len);
                dst.fill(calls.len() as u8);
                Ok(bytes.len() as u32)
            },
        )
        .instantiate(&store)
        .unwrap();
    (store, log)
}

fn host_writes_caller_memory_and_own_state_at_once(strategy: Strategy) {
    let (store, log) = with_filler(strategy);
    let inst = instantiate(
        &store,
        r#"(module
            (import "host" "fill" (func $fill (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "run") (result i32)
                (drop (call $fill (i32.const 16) (i32.const 4)))
                (drop (call $fill (i32.const 18) (i32.const 1)))
                (i32.load (i32.const 16))))"#,
        None,
    );
    let run = inst
        .get_func(&store, "run")
        .unwrap()
        .typed::<(), i32>(&store)
        .unwrap();
    // Bytes 16..20 were set to 1 by the first call, byte 18 to 2 by the second.
    assert_eq!(
        run.call(&store, ()).unwrap(),
        i32::from_le_bytes([1, 1, 2, 1])
    );
    assert_eq!(*log.lock().unwrap(), vec![4, 1]);
}

fn caller_memory_sees_growth(strategy: Strategy) {
    let (store, _log) = with_filler(strategy);
    let inst = instantiate(
        &store,
        r#"(module
            (import "host" "fill" (func $fill (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "run") (result i32)
                (drop (memory.grow (i32.const 1)))
                ;; a byte of the new page: the host's slice covers it
                (drop (call $fill (i32.const 70000) (i32.const 1)))
                (call $fill (i32.const 0) (i32.const 0))))"#,
        None,
    );
    let run = inst
        .get_func(&store, "run")
        .unwrap()
        .typed::<(), i32>(&store)
        .unwrap();
    assert_eq!(run.call(&store, ()).unwrap(), 2 * 65536);
    let mut byte = [0u8];
    inst.get_memory(&store, "memory")
        .unwrap()
        .read(&store, 70000, &mut byte)
        .unwrap();
    assert_eq!(byte, [1]);
}

fn caller_memory_absent_or_wrong_kind_is_none(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("host")
        .func_wrap("probe", |caller: &mut Caller<'_>| {
            i32::from(caller.exported_memory_mut("memory").is_some())
                + 2 * i32::from(caller.exported_memory_mut("mem2").is_some())
        })
        .instantiate(&store)
        .unwrap();
    // "memory" is a function here, "mem2" the memory: only the right kind counts.
    let inst = instantiate(
        &store,
        r#"(module
            (import "host" "probe" (func $probe (result i32)))
            (memory (export "mem2") 1)
            (func (export "memory") (result i32) (call $probe)))"#,
        None,
    );
    let run = inst
        .get_func(&store, "memory")
        .unwrap()
        .typed::<(), i32>(&store)
        .unwrap();
    assert_eq!(run.call(&store, ()).unwrap(), 2);
}

fn host_without_wasm_caller_has_no_memory(strategy: Strategy) {
    let (store, _log) = with_filler(strategy);
    let fill = store
        .instance("host")
        .unwrap()
        .get_func(&store, "fill")
        .unwrap();
    // Called by the embedder, not by a Wasm instance: there is no caller memory.
    let err = fill
        .typed::<(u32, u32), u32>(&store)
        .unwrap()
        .call(&store, (0, 0))
        .unwrap_err();
    assert!(
        matches!(err, Error::Host(ref m) if m == "no memory"),
        "{err}"
    );
}
