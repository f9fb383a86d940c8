//! Instantiation steps and their order (spec 2.0 `instantiate`): active element segments,
//! then active data segments, each in order, a trap stopping there with earlier effects
//! kept; the start function last, its errors wrapped except exit requests. Closing is
//! in `closing`.

use std::sync::{Arc, Mutex};

use crate::common::{engine, instantiate, instantiate_err};
use runtime::{
    Caller, Error, ExitError, HostModuleBuilder, Instance, Store, Strategy, TrapKind, Value,
};

on_both_engines!(
    data_trap_keeps_earlier_segments,
    elem_trap_keeps_earlier_segments_and_skips_data,
    trap_context_names_the_segment,
    empty_segments_check_their_offset,
    negative_offsets_are_large_unsigned,
    segment_offsets_from_imported_globals,
    passive_and_declarative_segments_are_not_applied,
    passive_segments_survive_instantiation_for_memory_init,
    start_trap_is_wrapped,
    start_trap_names_the_function,
    start_host_error_is_wrapped,
    start_runs_after_segments,
    start_host_sees_caller_exports,
    start_exit_passes_through_unwrapped,
    start_exit_without_caller_passes_through,
);

/// A provider of a memory (1 page, max 1) and a funcref table (3 slots) that others
/// import and write to with their segments.
const PROVIDER: &str = r#"(module
    (memory (export "mem") 1 1)
    (table (export "tab") 3 3 funcref))"#;

fn with_provider(strategy: Strategy) -> (Store, Instance) {
    let store = Store::new(&engine(strategy));
    let p = instantiate(&store, PROVIDER, Some("p"));
    (store, p)
}

fn mem_bytes(store: &Store, p: Instance, offset: usize, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    p.get_memory(store, "mem")
        .unwrap()
        .read(store, offset as u64, &mut buf)
        .unwrap();
    buf
}

fn slot(store: &Store, p: Instance, i: u64) -> Value {
    p.get_table(store, "tab").unwrap().get(store, i).unwrap()
}

fn trap_of(e: &Error) -> TrapKind {
    match e {
        Error::Trap(t) => t.kind,
        other => panic!("expected Error::Trap, got {other:?} ({other})"),
    }
}

// ---------------------------------------------------------------------------------------
// Segments

/// A host module `env` whose `exit(code)` closes the calling instance with `code`.
pub(crate) fn exit_host(store: &Store) {
    HostModuleBuilder::new("env")
        .func_wrap(
            "exit",
            |caller: &mut Caller<'_>, code: i32| -> runtime::Result<()> {
                Err(caller.exit(code as u32))
            },
        )
        .instantiate(store)
        .unwrap();
}

fn data_trap_keeps_earlier_segments(strategy: Strategy) {
    let (store, p) = with_provider(strategy);
    let e = instantiate_err(
        &store,
        r#"(module
            (import "p" "mem" (memory 1))
            (import "p" "tab" (table 3 funcref))
            (func $g)
            (elem (i32.const 0) $g)
            (elem (i32.const 2) $g)
            (data (i32.const 0) "first")
            (data (i32.const 10) "second")
            (data (i32.const 65534) "xyz")
            (data (i32.const 20) "never"))"#,
        Some("importer"),
    );
    assert_eq!(trap_of(&e), TrapKind::MemoryOutOfBounds);
    assert!(e.to_string().contains("out of bounds memory access"), "{e}");
    assert_eq!(mem_bytes(&store, p, 0, 5), b"first");
    assert_eq!(mem_bytes(&store, p, 10, 6), b"second");
    // The trapping segment wrote nothing (bounds are checked first) ...
    assert_eq!(mem_bytes(&store, p, 65534, 2), [0, 0]);
    // ... and later segments were not applied.
    assert_eq!(mem_bytes(&store, p, 20, 5), [0; 5]);
    // Element segments ran before the data segments and stay.
    assert!(matches!(slot(&store, p, 0), Value::FuncRef(Some(_))));
    assert_eq!(slot(&store, p, 1), Value::FuncRef(None));
    assert!(matches!(slot(&store, p, 2), Value::FuncRef(Some(_))));
    // The failed instance's name is free again.
    assert!(store.instance("importer").is_none());
    instantiate(&store, r#"(module)"#, Some("importer"));
}

fn elem_trap_keeps_earlier_segments_and_skips_data(strategy: Strategy) {
    let (store, p) = with_provider(strategy);
    let e = instantiate_err(
        &store,
        r#"(module
            (import "p" "mem" (memory 1))
            (import "p" "tab" (table 3 funcref))
            (func $g)
            (elem (i32.const 0) $g)
            (elem (i32.const 2) $g $g)
            (elem (i32.const 1) $g)
            (data (i32.const 0) "data"))"#,
        None,
    );
    assert_eq!(trap_of(&e), TrapKind::TableOutOfBounds);
    assert!(e.to_string().contains("out of bounds table access"), "{e}");
    assert!(matches!(slot(&store, p, 0), Value::FuncRef(Some(_))));
    // Nothing of the trapping segment, nothing of the later one.
    assert_eq!(slot(&store, p, 2), Value::FuncRef(None));
    assert_eq!(slot(&store, p, 1), Value::FuncRef(None));
    // Spec order: elements before data, so no data was written.
    assert_eq!(mem_bytes(&store, p, 0, 4), [0; 4]);
}

fn trap_context_names_the_segment(strategy: Strategy) {
    let (store, _p) = with_provider(strategy);
    let e = instantiate_err(
        &store,
        r#"(module (import "p" "mem" (memory 1))
            (data (i32.const 0) "ok") (data (i32.const 70000) "x"))"#,
        None,
    );
    assert_eq!(e.to_string(), "data[1]: out of bounds memory access");
    let e = instantiate_err(
        &store,
        r#"(module (import "p" "tab" (table 3 funcref)) (func $f)
            (elem (i32.const 5) $f))"#,
        None,
    );
    assert_eq!(e.to_string(), "elem[0]: out of bounds table access");
}

fn empty_segments_check_their_offset(strategy: Strategy) {
    // Spec 2.0: an empty active segment still traps when its offset is past the end;
    // at exactly the end it is fine.
    let (store, _p) = with_provider(strategy);
    instantiate(
        &store,
        r#"(module (import "p" "mem" (memory 1)) (data (i32.const 65536) ""))"#,
        None,
    );
    let e = instantiate_err(
        &store,
        r#"(module (import "p" "mem" (memory 1)) (data (i32.const 65537) ""))"#,
        None,
    );
    assert_eq!(trap_of(&e), TrapKind::MemoryOutOfBounds);
    instantiate(
        &store,
        r#"(module (import "p" "tab" (table 3 funcref)) (elem (i32.const 3) func))"#,
        None,
    );
    let e = instantiate_err(
        &store,
        r#"(module (import "p" "tab" (table 3 funcref)) (elem (i32.const 4) func))"#,
        None,
    );
    assert_eq!(trap_of(&e), TrapKind::TableOutOfBounds);
}

fn negative_offsets_are_large_unsigned(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let e = instantiate_err(
        &store,
        r#"(module (memory 1) (data (i32.const -1) "a"))"#,
        None,
    );
    assert_eq!(trap_of(&e), TrapKind::MemoryOutOfBounds);
    let e = instantiate_err(
        &store,
        r#"(module (table 1 funcref) (func $f) (elem (i32.const -1) $f))"#,
        None,
    );
    assert_eq!(trap_of(&e), TrapKind::TableOutOfBounds);
}

fn segment_offsets_from_imported_globals(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("env")
        .global("off", Value::I32(100), false)
        .instantiate(&store)
        .unwrap();
    let inst = instantiate(
        &store,
        r#"(module
            (import "env" "off" (global $off i32))
            (memory (export "mem") 1)
            (table (export "tab") 200 funcref)
            (func $f)
            (elem (global.get $off) $f $f)
            (data (global.get $off) "at100"))"#,
        None,
    );
    let mut buf = [0u8; 5];
    inst.get_memory(&store, "mem")
        .unwrap()
        .read(&store, 100, &mut buf)
        .unwrap();
    assert_eq!(&buf, b"at100");
    let tab = inst.get_table(&store, "tab").unwrap();
    assert_eq!(tab.get(&store, 99).unwrap(), Value::FuncRef(None));
    assert!(matches!(
        tab.get(&store, 100).unwrap(),
        Value::FuncRef(Some(_))
    ));
    assert!(matches!(
        tab.get(&store, 101).unwrap(),
        Value::FuncRef(Some(_))
    ));
    assert_eq!(tab.get(&store, 102).unwrap(), Value::FuncRef(None));
}

fn passive_and_declarative_segments_are_not_applied(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let inst = instantiate(
        &store,
        r#"(module
            (memory (export "mem") 1)
            (table (export "tab") 2 funcref)
            (func $f)
            (elem funcref (ref.func $f))
            (elem declare func $f)
            (data "passive"))"#,
        None,
    );
    assert_eq!(
        inst.get_memory(&store, "mem")
            .unwrap()
            .to_vec(&store)
            .unwrap(),
        vec![0u8; 65536]
    );
    let tab = inst.get_table(&store, "tab").unwrap();
    assert_eq!(tab.get(&store, 0).unwrap(), Value::FuncRef(None));
    assert_eq!(tab.get(&store, 1).unwrap(), Value::FuncRef(None));
}

fn passive_segments_survive_instantiation_for_memory_init(strategy: Strategy) {
    // Active segments are dropped after instantiation; passive ones stay for
    // memory.init / table.init (needs the interpreter).
    let store = Store::new(&engine(strategy));
    let inst = instantiate(
        &store,
        r#"(module
            (memory (export "mem") 1)
            (table (export "tab") 2 funcref)
            (func $f)
            (elem $pe funcref (ref.func $f))
            (elem $ae (i32.const 0) func $f)
            (data $pd "PASSIVE")
            (data $ad (i32.const 0) "active")
            (func (export "init_passive")
                i32.const 100 i32.const 0 i32.const 7 memory.init $pd
                i32.const 1 i32.const 0 i32.const 1 table.init $pe)
            (func (export "init_active")
                i32.const 200 i32.const 0 i32.const 1 memory.init $ad)
            (func (export "init_active_empty")
                i32.const 200 i32.const 0 i32.const 0 memory.init $ad))"#,
        None,
    );
    inst.get_func(&store, "init_passive")
        .unwrap()
        .call(&store, &[])
        .unwrap();
    let mut buf = [0u8; 7];
    inst.get_memory(&store, "mem")
        .unwrap()
        .read(&store, 100, &mut buf)
        .unwrap();
    assert_eq!(&buf, b"PASSIVE");
    assert!(matches!(
        inst.get_table(&store, "tab")
            .unwrap()
            .get(&store, 1)
            .unwrap(),
        Value::FuncRef(Some(_))
    ));
    // An applied active data segment was dropped: length 1 traps, length 0 does not.
    let e = inst
        .get_func(&store, "init_active")
        .unwrap()
        .call(&store, &[])
        .unwrap_err();
    assert_eq!(trap_of(&e), TrapKind::MemoryOutOfBounds);
    inst.get_func(&store, "init_active_empty")
        .unwrap()
        .call(&store, &[])
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// The start function

fn start_trap_is_wrapped(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("env")
        .func_wrap("nop", || {})
        .instantiate(&store)
        .unwrap();
    let e = instantiate_err(
        &store,
        r#"(module (import "env" "nop" (func)) (func unreachable) (start 1))"#,
        Some("s"),
    );
    match &e {
        Error::Start { func, source } => {
            assert_eq!(func, "function[1]");
            assert!(
                matches!(**source, Error::Trap(ref t) if t.kind == TrapKind::Unreachable),
                "{source:?}"
            );
        }
        other => panic!("expected Error::Start, got {other:?}"),
    }
    assert_eq!(e.to_string(), "start function[1] failed: unreachable");
    assert_eq!(e.trap_kind(), Some(TrapKind::Unreachable));
    assert!(
        store.instance("s").is_none(),
        "a failed start frees the name"
    );
}

fn start_trap_names_the_function(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let e = instantiate_err(
        &store,
        r#"(module (memory 1)
            (func $first)
            (func $boom i32.const 70000 i32.load drop)
            (start $boom))"#,
        None,
    );
    let msg = e.to_string();
    assert!(msg.contains("start function[1]"), "{msg}");
    assert!(msg.contains("out of bounds memory access"), "{msg}");
    assert_eq!(e.trap_kind(), Some(TrapKind::MemoryOutOfBounds));
}

fn start_host_error_is_wrapped(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("env")
        .func_wrap("fail", || -> runtime::Result<()> {
            Err(Error::host("nope"))
        })
        .instantiate(&store)
        .unwrap();
    let e = instantiate_err(
        &store,
        r#"(module (import "env" "fail" (func $fail)) (func call $fail) (start 1))"#,
        None,
    );
    assert!(
        matches!(&e, Error::Start { source, .. } if matches!(**source, Error::Host(_))),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "start function[1] failed: nope");
}

fn start_runs_after_segments(strategy: Strategy) {
    // The start function sees the data and element segments already applied.
    let store = Store::new(&engine(strategy));
    let inst = instantiate(
        &store,
        r#"(module
            (type $r (func (result i32)))
            (memory 1)
            (table 1 funcref)
            (global $byte (export "byte") (mut i32) (i32.const -1))
            (global $called (export "called") (mut i32) (i32.const -1))
            (func $seven (type $r) i32.const 7)
            (func $start
                i32.const 3 i32.load8_u global.set $byte
                i32.const 0 call_indirect (type $r) global.set $called)
            (elem (i32.const 0) $seven)
            (data (i32.const 3) "\2a")
            (start $start))"#,
        None,
    );
    let g = |n: &str| inst.get_global(&store, n).unwrap().get(&store).unwrap();
    assert_eq!(g("byte"), Value::I32(42));
    assert_eq!(g("called"), Value::I32(7));
}

fn start_host_sees_caller_exports(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    HostModuleBuilder::new("env")
        .func_wrap("look", move |caller: &mut Caller<'_>| {
            let mem = caller.get_export("mem").and_then(|e| e.into_memory());
            let byte = mem.map(|m| {
                let mut b = [0u8];
                m.read(&mut *caller, 0, &mut b).map(|_| b[0])
            });
            *seen2.lock().unwrap() = Some((caller.instance_name().map(String::from), byte));
        })
        .instantiate(&store)
        .unwrap();
    instantiate(
        &store,
        r#"(module (import "env" "look" (func $look))
            (memory (export "mem") 1) (data (i32.const 0) "\05")
            (func $s call $look) (start $s))"#,
        Some("guest"),
    );
    let seen = seen
        .lock()
        .unwrap()
        .take()
        .expect("start ran the host function");
    assert_eq!(seen.0.as_deref(), Some("guest"));
    assert_eq!(seen.1.map(|r| r.unwrap()), Some(5));
}

fn start_exit_passes_through_unwrapped(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    exit_host(&store);
    let e = instantiate_err(
        &store,
        r#"(module (import "env" "exit" (func $exit (param i32)))
            (func $s i32.const 3 call $exit unreachable) (start $s))"#,
        Some("exiting"),
    );
    assert!(matches!(e, Error::Exit(ExitError { code: 3 })), "{e:?}");
    assert_eq!(e.exit_code(), Some(3));
    assert_eq!(e.to_string(), "module closed with exit code 3");
    assert!(store.instance("exiting").is_none());

    // Exit code 0 is an exit too, not success.
    let e = instantiate_err(
        &store,
        r#"(module (import "env" "exit" (func $exit (param i32)))
            (func $s i32.const 0 call $exit) (start $s))"#,
        None,
    );
    assert!(matches!(e, Error::Exit(ExitError { code: 0 })), "{e:?}");
}

fn start_exit_without_caller_passes_through(strategy: Strategy) {
    // A host function may return the exit error itself; an imported host function can
    // even be the start function.
    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("env")
        .func_wrap("exit9", || -> runtime::Result<()> { Err(Error::exit(9)) })
        .instantiate(&store)
        .unwrap();
    let e = instantiate_err(
        &store,
        r#"(module (import "env" "exit9" (func $e)) (start $e))"#,
        None,
    );
    assert!(matches!(e, Error::Exit(ExitError { code: 9 })), "{e:?}");
}
