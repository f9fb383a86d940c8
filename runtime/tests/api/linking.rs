//! Import resolution and linking: error kinds and messages (wazero's wording), host
//! modules, the import-resolver and memory-allocator hooks, and cross-module
//! `call_indirect` through a shared table with store-wide type ids.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{engine, instantiate, instantiate_err, module};
use runtime::{
    Caller, Error, Func, FuncType, HostModuleBuilder, Instance, LinearMemory, LinkError,
    LinkErrorKind, MemoryAllocator, MemoryType, RefType, Store, Strategy, TableType, TrapKind,
    ValType, Value,
};

on_both_engines!(
    unknown_module_is_a_link_error,
    unknown_name_is_a_link_error,
    first_failing_import_is_reported,
    wrong_kind_is_incompatible,
    function_signature_mismatch,
    wasm_export_signature_mismatch,
    wrapped_closures_have_the_right_types,
    table_min_uses_current_size,
    table_max_mismatch,
    table_element_type_mismatch,
    memory_min_uses_current_size,
    memory_max_mismatch,
    wasm_exported_memory_limits,
    global_mutability_mismatch,
    global_value_type_mismatch,
    imported_globals_are_shared_and_initialise_others,
    host_function_called_from_wasm,
    host_function_called_directly,
    host_function_reads_caller_memory,
    host_function_error_passes_through,
    host_module_name_is_registered_once,
    host_memory_table_global_are_usable_by_wasm,
    import_resolver_supplies_unregistered_instance,
    import_resolver_takes_precedence_and_falls_back,
    import_resolver_instance_from_another_store_is_ignored,
    memory_allocator_is_used_for_module_memories,
    memory_allocator_is_used_for_host_memories,
    memory_allocator_refusal_fails_instantiation,
    memory_grow_from_wasm_uses_allocator,
    shared_table_is_filled_by_importer,
    cross_module_call_indirect_with_structurally_equal_types,
    cross_module_call_indirect_signature_mismatch_traps,
    host_function_in_table_matches_wasm_type,
    func_from_another_store_is_refused_by_table,
);

fn link_error(e: Error) -> LinkError {
    match e {
        Error::Link(l) => l,
        other => panic!("expected Error::Link, got {other:?} ({other})"),
    }
}

/// Instantiates WAT source (unnamed), expecting a link error.
fn link_error_of(store: &Store, src: &str) -> LinkError {
    link_error(instantiate_err(store, src, None))
}

/// A host module `env` with one of each kind of export.
fn env(store: &Store) -> Instance {
    HostModuleBuilder::new("env")
        .func_wrap("add", |a: i32, b: i32| a + b)
        .func_wrap("nop", || {})
        .memory(
            "mem",
            MemoryType {
                min: 1,
                max: Some(4),
            },
        )
        .memory("mem_nomax", MemoryType { min: 1, max: None })
        .table(
            "tab",
            TableType {
                element: RefType::FuncRef,
                min: 2,
                max: Some(10),
            },
            Value::FuncRef(None),
        )
        .table(
            "tab_nomax",
            TableType {
                element: RefType::FuncRef,
                min: 2,
                max: None,
            },
            Value::FuncRef(None),
        )
        .global("g_i32", Value::I32(7), false)
        .global("g_mut_i32", Value::I32(8), true)
        .instantiate(store)
        .expect("host module env")
}

fn setup(strategy: Strategy) -> (Store, Instance) {
    let store = Store::new(&engine(strategy));
    let env = env(&store);
    (store, env)
}

// ---------------------------------------------------------------------------------------
// Unknown imports

fn unknown_module_is_a_link_error(strategy: Strategy) {
    let (store, _env) = setup(strategy);
    let e = link_error_of(&store, r#"(module (import "nope" "f" (func)))"#);
    assert_eq!(e.kind, LinkErrorKind::UnknownImport);
    assert_eq!(e.extern_kind, "func");
    assert_eq!(e.module, "nope");
    assert_eq!(e.name, "f");
    assert_eq!(
        e.to_string(),
        "import func[nope.f]: unknown import: module[nope] not instantiated"
    );
}

fn unknown_name_is_a_link_error(strategy: Strategy) {
    let (store, _env) = setup(strategy);
    let e = link_error_of(&store, r#"(module (import "env" "missing" (global i32)))"#);
    assert_eq!(e.kind, LinkErrorKind::UnknownImport);
    assert_eq!(e.extern_kind, "global");
    assert_eq!(
        e.to_string(),
        r#"import global[env.missing]: unknown import: "missing" is not exported in module "env""#
    );
}

fn first_failing_import_is_reported(strategy: Strategy) {
    // Imports are resolved in declaration order: the error names the first bad one.
    let (store, _env) = setup(strategy);
    let e = link_error_of(
        &store,
        r#"(module
            (import "env" "add" (func (param i32 i32) (result i32)))
            (import "env" "nope1" (func))
            (import "nope2" "x" (func)))"#,
    );
    assert_eq!(e.name, "nope1");
    assert_eq!(e.kind, LinkErrorKind::UnknownImport);
}

fn wrong_kind_is_incompatible(strategy: Strategy) {
    let (store, _env) = setup(strategy);
    let e = link_error_of(&store, r#"(module (import "env" "add" (memory 1)))"#);
    assert_eq!(e.kind, LinkErrorKind::IncompatibleImportType);
    assert_eq!(e.extern_kind, "memory");
    assert_eq!(
        e.to_string(),
        r#"import memory[env.add]: incompatible import type: export "add" in module "env" is a func, not a memory"#
    );

    let e = link_error_of(&store, r#"(module (import "env" "mem" (func)))"#);
    assert_eq!(e.kind, LinkErrorKind::IncompatibleImportType);
    assert!(e.to_string().contains("is a memory, not a func"), "{e}");

    let e = link_error_of(
        &store,
        r#"(module (import "env" "g_i32" (table 1 funcref)))"#,
    );
    assert!(e.to_string().contains("is a global, not a table"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Functions

fn function_signature_mismatch(strategy: Strategy) {
    let (store, _env) = setup(strategy);
    let e = instantiate_err(
        &store,
        r#"(module (import "env" "add" (func $f (param i32))))"#,
        None,
    );
    // The runtime's own import name is `add`; the brief's wording is checked with `f` below.
    assert!(
        e.to_string()
            .contains("import func[env.add]: incompatible import type: signature mismatch"),
        "{e}"
    );
    let e = link_error(e);
    assert_eq!(e.kind, LinkErrorKind::IncompatibleImportType);
    assert_eq!(
        e.to_string(),
        "import func[env.add]: incompatible import type: signature mismatch: (i32) -> () != (i32,i32) -> (i32)"
    );

    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("env")
        .func_wrap("f", |x: i64| x)
        .instantiate(&store)
        .unwrap();
    let e = instantiate_err(
        &store,
        r#"(module (import "env" "f" (func (param i64) (result i32))))"#,
        None,
    );
    assert!(matches!(e, Error::Link(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("import func[env.f]: incompatible import type: signature mismatch"),
        "{e}"
    );
    // Results differ only: still a mismatch.
    let e = instantiate_err(
        &store,
        r#"(module (import "env" "f" (func (param i64))))"#,
        None,
    );
    assert!(e.to_string().contains("signature mismatch"), "{e}");
    // Exact signature links.
    instantiate(
        &store,
        r#"(module (import "env" "f" (func (param i64) (result i64))))"#,
        None,
    );
}

fn wasm_export_signature_mismatch(strategy: Strategy) {
    // The same check applies to functions exported by another Wasm module.
    let store = Store::new(&engine(strategy));
    instantiate(
        &store,
        r#"(module (func (export "f") (param f32) (result f64) f64.const 0))"#,
        Some("a"),
    );
    let e = link_error_of(
        &store,
        r#"(module (import "a" "f" (func (param f64) (result f32))))"#,
    );
    assert_eq!(
        e.to_string(),
        "import func[a.f]: incompatible import type: signature mismatch: (f64) -> (f32) != (f32) -> (f64)"
    );
    instantiate(
        &store,
        r#"(module (import "a" "f" (func (param f32) (result f64))))"#,
        None,
    );
}

fn wrapped_closures_have_the_right_types(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let f = Func::wrap(&store, |a: i32, b: i64| -> f64 { a as f64 + b as f64 }).unwrap();
    assert_eq!(
        f.ty(&store).unwrap(),
        FuncType::new([ValType::I32, ValType::I64], [ValType::F64])
    );
    let g = Func::wrap(&store, |_c: &mut Caller<'_>, _x: f32| -> (i32, i64) {
        (1, 2)
    })
    .unwrap();
    assert_eq!(
        g.ty(&store).unwrap(),
        FuncType::new([ValType::F32], [ValType::I32, ValType::I64])
    );
    let h = Func::wrap(&store, || -> runtime::Result<()> { Ok(()) }).unwrap();
    assert_eq!(h.ty(&store).unwrap(), FuncType::new([], []));
}

// ---------------------------------------------------------------------------------------
// Tables and memories: limits are checked against the current size

fn table_min_uses_current_size(strategy: Strategy) {
    let (store, env) = setup(strategy);
    // Declared min 2; importing with min 3 fails ...
    let e = link_error_of(&store, r#"(module (import "env" "tab" (table 3 funcref)))"#);
    assert_eq!(e.kind, LinkErrorKind::IncompatibleImportType);
    assert_eq!(
        e.to_string(),
        "import table[env.tab]: incompatible import type: minimum size mismatch: 3 > 2"
    );
    // ... until the table has grown to 5.
    let tab = env.get_table(&store, "tab").unwrap();
    assert_eq!(tab.grow(&store, 3, Value::FuncRef(None)).unwrap(), 2);
    instantiate(
        &store,
        r#"(module (import "env" "tab" (table 5 funcref)))"#,
        None,
    );
    let e = link_error_of(&store, r#"(module (import "env" "tab" (table 6 funcref)))"#);
    assert_eq!(
        e.to_string(),
        "import table[env.tab]: incompatible import type: minimum size mismatch: 6 > 5"
    );
}

fn table_max_mismatch(strategy: Strategy) {
    let (store, _env) = setup(strategy);
    // Actual max 10: an importer that wants at most 5 is refused, at most 10 or 20 is fine.
    let e = link_error_of(
        &store,
        r#"(module (import "env" "tab" (table 1 5 funcref)))"#,
    );
    assert_eq!(e.kind, LinkErrorKind::IncompatibleImportType);
    assert_eq!(
        e.to_string(),
        "import table[env.tab]: incompatible import type: maximum size mismatch: 5 < 10"
    );
    instantiate(
        &store,
        r#"(module (import "env" "tab" (table 1 10 funcref)))"#,
        None,
    );
    instantiate(
        &store,
        r#"(module (import "env" "tab" (table 1 20 funcref)))"#,
        None,
    );
    // No actual max: any expected max is refused.
    let e = link_error_of(
        &store,
        r#"(module (import "env" "tab_nomax" (table 1 100 funcref)))"#,
    );
    assert_eq!(
        e.to_string(),
        "import table[env.tab_nomax]: incompatible import type: maximum size mismatch: 100, but actual has no max"
    );
    instantiate(
        &store,
        r#"(module (import "env" "tab_nomax" (table 1 funcref)))"#,
        None,
    );
}

fn table_element_type_mismatch(strategy: Strategy) {
    let (store, _env) = setup(strategy);
    let e = link_error_of(
        &store,
        r#"(module (import "env" "tab" (table 1 externref)))"#,
    );
    assert_eq!(e.kind, LinkErrorKind::IncompatibleImportType);
    assert_eq!(
        e.to_string(),
        "import table[env.tab]: incompatible import type: table type mismatch: externref != funcref"
    );
}

fn memory_min_uses_current_size(strategy: Strategy) {
    let (store, env) = setup(strategy);
    let e = link_error_of(&store, r#"(module (import "env" "mem" (memory 2)))"#);
    assert_eq!(e.kind, LinkErrorKind::IncompatibleImportType);
    assert_eq!(
        e.to_string(),
        "import memory[env.mem]: incompatible import type: minimum size mismatch: 2 > 1"
    );
    let mem = env.get_memory(&store, "mem").unwrap();
    assert_eq!(mem.grow(&store, 2).unwrap(), 1);
    instantiate(&store, r#"(module (import "env" "mem" (memory 3)))"#, None);
    let e = link_error_of(&store, r#"(module (import "env" "mem" (memory 4)))"#);
    assert_eq!(
        e.to_string(),
        "import memory[env.mem]: incompatible import type: minimum size mismatch: 4 > 3"
    );
}

fn memory_max_mismatch(strategy: Strategy) {
    let (store, _env) = setup(strategy);
    let e = link_error_of(&store, r#"(module (import "env" "mem" (memory 1 2)))"#);
    assert_eq!(
        e.to_string(),
        "import memory[env.mem]: incompatible import type: maximum size mismatch: 2 < 4"
    );
    instantiate(
        &store,
        r#"(module (import "env" "mem" (memory 1 4)))"#,
        None,
    );
    instantiate(
        &store,
        r#"(module (import "env" "mem" (memory 0 9)))"#,
        None,
    );
    let e = link_error_of(
        &store,
        r#"(module (import "env" "mem_nomax" (memory 1 65536)))"#,
    );
    assert_eq!(
        e.to_string(),
        "import memory[env.mem_nomax]: incompatible import type: maximum size mismatch: 65536, but actual has no max"
    );
    instantiate(
        &store,
        r#"(module (import "env" "mem_nomax" (memory 0)))"#,
        None,
    );
}

fn wasm_exported_memory_limits(strategy: Strategy) {
    // Limits of a memory exported by a Wasm module, grown through the API.
    let store = Store::new(&engine(strategy));
    let a = instantiate(&store, r#"(module (memory (export "m") 1 3))"#, Some("a"));
    let e = link_error_of(&store, r#"(module (import "a" "m" (memory 2 3)))"#);
    assert!(
        e.to_string().contains("minimum size mismatch: 2 > 1"),
        "{e}"
    );
    a.get_memory(&store, "m").unwrap().grow(&store, 1).unwrap();
    instantiate(&store, r#"(module (import "a" "m" (memory 2 3)))"#, None);
}

// ---------------------------------------------------------------------------------------
// Globals

fn global_mutability_mismatch(strategy: Strategy) {
    let (store, _env) = setup(strategy);
    let e = link_error_of(
        &store,
        r#"(module (import "env" "g_i32" (global (mut i32))))"#,
    );
    assert_eq!(e.kind, LinkErrorKind::IncompatibleImportType);
    assert_eq!(
        e.to_string(),
        "import global[env.g_i32]: incompatible import type: mutability mismatch: true != false"
    );
    let e = link_error_of(
        &store,
        r#"(module (import "env" "g_mut_i32" (global i32)))"#,
    );
    assert_eq!(
        e.to_string(),
        "import global[env.g_mut_i32]: incompatible import type: mutability mismatch: false != true"
    );
}

fn global_value_type_mismatch(strategy: Strategy) {
    let (store, _env) = setup(strategy);
    let e = link_error_of(&store, r#"(module (import "env" "g_i32" (global i64)))"#);
    assert_eq!(e.kind, LinkErrorKind::IncompatibleImportType);
    assert_eq!(
        e.to_string(),
        "import global[env.g_i32]: incompatible import type: value type mismatch: i64 != i32"
    );
    let e = link_error_of(
        &store,
        r#"(module (import "env" "g_mut_i32" (global (mut f32))))"#,
    );
    assert!(
        e.to_string().contains("value type mismatch: f32 != i32"),
        "{e}"
    );
}

fn imported_globals_are_shared_and_initialise_others(strategy: Strategy) {
    let (store, env) = setup(strategy);
    let inst = instantiate(
        &store,
        r#"(module
            (import "env" "g_i32" (global $g i32))
            (import "env" "g_mut_i32" (global $m (mut i32)))
            (global (export "copy") i32 (global.get $g))
            (export "m" (global $m)))"#,
        None,
    );
    assert_eq!(
        inst.get_global(&store, "copy")
            .unwrap()
            .get(&store)
            .unwrap(),
        Value::I32(7)
    );
    // A mutable imported global is the same global: a write through one handle is
    // seen through the other.
    let via_env = env.get_global(&store, "g_mut_i32").unwrap();
    let via_inst = inst.get_global(&store, "m").unwrap();
    assert_eq!(via_env, via_inst);
    via_env.set(&store, Value::I32(99)).unwrap();
    assert_eq!(via_inst.get(&store).unwrap(), Value::I32(99));
}

// ---------------------------------------------------------------------------------------
// Host modules: calls (need the interpreter)

fn host_function_called_from_wasm(strategy: Strategy) {
    let (store, _env) = setup(strategy);
    let inst = instantiate(
        &store,
        r#"(module
            (import "env" "add" (func $add (param i32 i32) (result i32)))
            (func (export "run") (param i32) (result i32)
                local.get 0 i32.const 40 call $add))"#,
        None,
    );
    let run = inst
        .get_func(&store, "run")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    assert_eq!(run.call(&store, 2).unwrap(), 42);
    // wrapping arithmetic of the closure is the closure's business; i32 add in Rust
    // would panic in debug on overflow, so stay in range.
    assert_eq!(run.call(&store, -40).unwrap(), 0);
}

fn host_function_called_directly(strategy: Strategy) {
    let (store, env) = setup(strategy);
    let add = env.get_func(&store, "add").unwrap();
    assert_eq!(
        add.call(&store, &[Value::I32(3), Value::I32(4)]).unwrap(),
        vec![Value::I32(7)]
    );
    // Argument type checking happens before the engine is reached.
    let e = add.call(&store, &[Value::I32(3)]).unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e:?}");
}

fn host_function_reads_caller_memory(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    // Per call: the caller's instance name and the bytes read.
    type Reads = Vec<(Option<String>, Vec<u8>)>;
    let seen: Arc<Mutex<Reads>> = Arc::default();
    let seen2 = seen.clone();
    HostModuleBuilder::new("host")
        .func_wrap(
            "peek",
            move |caller: &mut Caller<'_>, ptr: i32, len: i32| -> runtime::Result<i32> {
                let mem = caller
                    .get_export("memory")
                    .and_then(|e| e.into_memory())
                    .ok_or_else(|| Error::host("caller exports no memory"))?;
                let mut buf = vec![0u8; len as usize];
                mem.read(&mut *caller, ptr as usize, &mut buf)?;
                let sum = buf.iter().map(|b| *b as i32).sum();
                seen2
                    .lock()
                    .unwrap()
                    .push((caller.instance_name().map(str::to_string), buf));
                Ok(sum)
            },
        )
        .instantiate(&store)
        .unwrap();
    let inst = instantiate(
        &store,
        r#"(module
            (import "host" "peek" (func $peek (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hello")
            (func (export "run") (result i32)
                i32.const 16 i32.const 5 call $peek))"#,
        Some("guest"),
    );
    let run = inst.get_func(&store, "run").unwrap();
    let expected: i32 = b"hello".iter().map(|b| *b as i32).sum();
    assert_eq!(run.call(&store, &[]).unwrap(), vec![Value::I32(expected)]);
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.as_slice(),
        &[(Some("guest".to_string()), b"hello".to_vec())]
    );
}

fn host_function_error_passes_through(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("host")
        .func_wrap("fail", || -> runtime::Result<()> {
            Err(Error::host("boom from host"))
        })
        .instantiate(&store)
        .unwrap();
    let inst = instantiate(
        &store,
        r#"(module (import "host" "fail" (func $f)) (func (export "run") call $f))"#,
        None,
    );
    let e = inst
        .get_func(&store, "run")
        .unwrap()
        .call(&store, &[])
        .unwrap_err();
    match e {
        Error::Host(m) => assert_eq!(m, "boom from host"),
        other => panic!("expected Error::Host, got {other:?}"),
    }
}

fn host_module_name_is_registered_once(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("env").instantiate(&store).unwrap();
    let e = HostModuleBuilder::new("env")
        .instantiate(&store)
        .unwrap_err();
    assert!(
        matches!(&e, Error::Instantiation(m) if m.contains("already registered")),
        "{e:?}"
    );
}

fn host_memory_table_global_are_usable_by_wasm(strategy: Strategy) {
    // Imported host memory receives the importer's data segment; imported host table
    // receives its element segment.
    let (store, env) = setup(strategy);
    let inst = instantiate(
        &store,
        r#"(module
            (import "env" "mem" (memory 1))
            (import "env" "tab" (table 2 funcref))
            (func $f)
            (elem (i32.const 1) $f)
            (data (i32.const 100) "\01\02\03")
            (export "f" (func $f)))"#,
        None,
    );
    let mut buf = [0u8; 3];
    env.get_memory(&store, "mem")
        .unwrap()
        .read(&store, 100, &mut buf)
        .unwrap();
    assert_eq!(buf, [1, 2, 3]);
    let f = inst.get_func(&store, "f").unwrap();
    let tab = env.get_table(&store, "tab").unwrap();
    assert_eq!(tab.get(&store, 1).unwrap(), Value::FuncRef(Some(f)));
    assert_eq!(tab.get(&store, 0).unwrap(), Value::FuncRef(None));
}

// ---------------------------------------------------------------------------------------
// The import-resolver hook

fn import_resolver_supplies_unregistered_instance(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let hidden = instantiate(
        &store,
        r#"(module (memory (export "mem") 1) (global (export "g") i32 (i32.const 5)))"#,
        None,
    );
    assert_eq!(hidden.name(&store), None);
    let calls = Arc::new(AtomicUsize::new(0));
    let calls2 = calls.clone();
    store.set_import_resolver(Arc::new(move |name: &str| {
        calls2.fetch_add(1, Ordering::SeqCst);
        (name == "virtual").then_some(hidden)
    }));
    let inst = instantiate(
        &store,
        r#"(module
            (import "virtual" "mem" (memory 1))
            (import "virtual" "g" (global i32))
            (data (i32.const 0) "via resolver")
            (export "mem" (memory 0)))"#,
        None,
    );
    assert!(calls.load(Ordering::SeqCst) >= 1);
    // Not registered: the registry does not know the name.
    assert!(store.instance("virtual").is_none());
    // Same memory.
    let m1 = hidden.get_memory(&store, "mem").unwrap();
    let m2 = inst.get_memory(&store, "mem").unwrap();
    assert_eq!(m1, m2);
    let mut buf = [0u8; 12];
    m1.read(&store, 0, &mut buf).unwrap();
    assert_eq!(&buf, b"via resolver");
}

fn import_resolver_takes_precedence_and_falls_back(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let registered = instantiate(
        &store,
        r#"(module (global (export "g") i32 (i32.const 1)))"#,
        Some("m"),
    );
    let from_hook = instantiate(
        &store,
        r#"(module (global (export "g") i32 (i32.const 2)))"#,
        None,
    );
    let other = instantiate(
        &store,
        r#"(module (global (export "h") i32 (i32.const 3)))"#,
        Some("other"),
    );
    store.set_import_resolver(Arc::new(move |name: &str| {
        (name == "m").then_some(from_hook)
    }));
    let inst = instantiate(
        &store,
        r#"(module
            (import "m" "g" (global $g i32))
            (import "other" "h" (global $h i32))
            (global (export "gg") i32 (global.get $g))
            (global (export "hh") i32 (global.get $h)))"#,
        None,
    );
    assert_eq!(
        inst.get_global(&store, "gg").unwrap().get(&store).unwrap(),
        Value::I32(2),
        "the resolver's instance wins over the registry's"
    );
    assert_eq!(
        inst.get_global(&store, "hh").unwrap().get(&store).unwrap(),
        Value::I32(3),
        "the registry answers when the resolver returns None"
    );
    let _ = (registered, other);
    // Unknown to both: still an unknown-import link error.
    let e = link_error_of(&store, r#"(module (import "nowhere" "x" (func)))"#);
    assert_eq!(e.kind, LinkErrorKind::UnknownImport);
}

fn import_resolver_instance_from_another_store_is_ignored(strategy: Strategy) {
    let engine = engine(strategy);
    let store_a = Store::new(&engine);
    let store_b = Store::new(&engine);
    let foreign = instantiate(&store_b, r#"(module (memory (export "mem") 1))"#, None);
    store_a.set_import_resolver(Arc::new(move |_| Some(foreign)));
    let e = link_error_of(&store_a, r#"(module (import "x" "mem" (memory 1)))"#);
    assert_eq!(e.kind, LinkErrorKind::UnknownImport);
}

// ---------------------------------------------------------------------------------------
// The memory-allocator hook

struct CountingMemory {
    bytes: Vec<u8>,
    max: usize,
    reallocs: Arc<AtomicUsize>,
}

impl LinearMemory for CountingMemory {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
    fn reallocate(&mut self, new_len: usize) -> Option<&mut [u8]> {
        self.reallocs.fetch_add(1, Ordering::SeqCst);
        if new_len > self.max || new_len < self.bytes.len() {
            return None;
        }
        self.bytes.resize(new_len, 0);
        Some(&mut self.bytes)
    }
}

#[derive(Default)]
struct CountingAllocator {
    allocs: Arc<AtomicUsize>,
    reallocs: Arc<AtomicUsize>,
    /// (initial_bytes, max_bytes) of every allocation.
    requests: Mutex<Vec<(usize, usize)>>,
    /// Refuse allocations larger than this.
    limit: Option<usize>,
}

impl MemoryAllocator for CountingAllocator {
    fn allocate(&self, initial_bytes: usize, max_bytes: usize) -> Option<Box<dyn LinearMemory>> {
        self.requests
            .lock()
            .unwrap()
            .push((initial_bytes, max_bytes));
        if self.limit.is_some_and(|l| initial_bytes > l) {
            return None;
        }
        self.allocs.fetch_add(1, Ordering::SeqCst);
        Some(Box::new(CountingMemory {
            bytes: vec![0; initial_bytes],
            max: max_bytes,
            reallocs: self.reallocs.clone(),
        }))
    }
}

const PAGE: usize = 65536;

fn memory_allocator_is_used_for_module_memories(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let alloc = Arc::new(CountingAllocator::default());
    store.set_memory_allocator(alloc.clone()).unwrap();
    let src = r#"(module (memory (export "m") 2 5) (data (i32.const 7) "abc"))"#;
    let m = module(store.engine(), src);
    let a = Instance::new(&store, &m, None).unwrap();
    let b = Instance::new(&store, &m, None).unwrap();
    assert_eq!(alloc.allocs.load(Ordering::SeqCst), 2);
    assert_eq!(
        alloc.requests.lock().unwrap().as_slice(),
        &[(2 * PAGE, 5 * PAGE), (2 * PAGE, 5 * PAGE)]
    );
    // A module without memory allocates nothing.
    instantiate(&store, r#"(module (func))"#, None);
    assert_eq!(alloc.allocs.load(Ordering::SeqCst), 2);
    // Data landed in the custom backing, and grows go through reallocate.
    let ma = a.get_memory(&store, "m").unwrap();
    let mut buf = [0u8; 3];
    ma.read(&store, 7, &mut buf).unwrap();
    assert_eq!(&buf, b"abc");
    assert_eq!(ma.grow(&store, 1).unwrap(), 2);
    assert_eq!(alloc.reallocs.load(Ordering::SeqCst), 1);
    assert_eq!(ma.size(&store).unwrap(), 3);
    ma.read(&store, 7, &mut buf).unwrap();
    assert_eq!(&buf, b"abc", "contents survive a grow");
    assert_eq!(b.get_memory(&store, "m").unwrap().size(&store).unwrap(), 2);
    // Growing past max never reaches the allocator's backing.
    assert!(ma.grow(&store, 3).is_err());
    assert_eq!(ma.size(&store).unwrap(), 3);
}

fn memory_allocator_is_used_for_host_memories(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let alloc = Arc::new(CountingAllocator::default());
    store.set_memory_allocator(alloc.clone()).unwrap();
    HostModuleBuilder::new("env")
        .memory("m", MemoryType { min: 1, max: None })
        .instantiate(&store)
        .unwrap();
    assert_eq!(alloc.allocs.load(Ordering::SeqCst), 1);
    assert_eq!(
        alloc.requests.lock().unwrap().as_slice(),
        &[(PAGE, 65536 * PAGE)]
    );
}

fn memory_allocator_refusal_fails_instantiation(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let alloc = Arc::new(CountingAllocator {
        limit: Some(PAGE),
        ..Default::default()
    });
    store.set_memory_allocator(alloc.clone()).unwrap();
    let e = instantiate_err(&store, r#"(module (memory 2))"#, Some("big"));
    match &e {
        Error::Instantiation(m) => {
            assert_eq!(m, "cannot allocate a memory of 2 pages")
        }
        other => panic!("expected Error::Instantiation, got {other:?}"),
    }
    // The name is free again and a small memory still works.
    assert!(store.instance("big").is_none());
    instantiate(&store, r#"(module (memory 1))"#, Some("big"));
    assert!(store.instance("big").is_some());
}

fn memory_grow_from_wasm_uses_allocator(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let alloc = Arc::new(CountingAllocator::default());
    store.set_memory_allocator(alloc.clone()).unwrap();
    let inst = instantiate(
        &store,
        r#"(module (memory 1 3)
            (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))"#,
        None,
    );
    let grow = inst
        .get_func(&store, "grow")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    assert_eq!(grow.call(&store, 1).unwrap(), 1);
    assert_eq!(alloc.reallocs.load(Ordering::SeqCst), 1);
    assert_eq!(grow.call(&store, 5).unwrap(), -1);
    assert_eq!(grow.call(&store, 0).unwrap(), 2);
}

// ---------------------------------------------------------------------------------------
// Cross-module call_indirect: store-wide type ids

/// Module A owns the table and calls through it with its type `(i32) -> i32`, which is
/// its type index 0. Module B declares other types first, so the same signature is its
/// type index 2: only store-wide type ids make them equal.
const TABLE_OWNER: &str = r#"(module
    (type $sig (func (param i32) (result i32)))
    (table (export "table") 4 funcref)
    (func (export "call") (param i32 i32) (result i32)
        local.get 1
        local.get 0
        call_indirect (type $sig)))"#;

const TABLE_FILLER: &str = r#"(module
    (type $a (func (param f64)))
    (type $b (func (result i64)))
    (type $c (func (param i32) (result i32)))
    (import "owner" "table" (table 4 funcref))
    (func $double (type $c) local.get 0 i32.const 2 i32.mul)
    (func $wrong (type $b) i64.const 0)
    (elem (i32.const 0) $double $wrong))"#;

fn shared_table(strategy: Strategy) -> (Store, Instance) {
    let store = Store::new(&engine(strategy));
    let owner = instantiate(&store, TABLE_OWNER, Some("owner"));
    instantiate(&store, TABLE_FILLER, Some("filler"));
    (store, owner)
}

fn shared_table_is_filled_by_importer(strategy: Strategy) {
    // No execution needed: the filler's segment wrote functions into the owner's table.
    let (store, owner) = shared_table(strategy);
    let table = owner.get_table(&store, "table").unwrap();
    let slot0 = table.get(&store, 0).unwrap();
    let Value::FuncRef(Some(f)) = slot0 else {
        panic!("slot 0 should hold $double, got {slot0}")
    };
    assert_eq!(
        f.ty(&store).unwrap(),
        FuncType::new([ValType::I32], [ValType::I32])
    );
    assert!(matches!(
        table.get(&store, 1).unwrap(),
        Value::FuncRef(Some(_))
    ));
    assert_eq!(table.get(&store, 2).unwrap(), Value::FuncRef(None));
}

fn cross_module_call_indirect_with_structurally_equal_types(strategy: Strategy) {
    let (store, owner) = shared_table(strategy);
    let call = owner
        .get_func(&store, "call")
        .unwrap()
        .typed::<(i32, i32), i32>(&store)
        .unwrap();
    assert_eq!(call.call(&store, (0, 21)).unwrap(), 42);
}

fn cross_module_call_indirect_signature_mismatch_traps(strategy: Strategy) {
    let (store, owner) = shared_table(strategy);
    let call = owner.get_func(&store, "call").unwrap();
    let e = call
        .call(&store, &[Value::I32(1), Value::I32(0)])
        .unwrap_err();
    assert_eq!(
        e.trap_kind(),
        Some(TrapKind::IndirectCallTypeMismatch),
        "{e:?}"
    );
    assert!(matches!(e, Error::Trap(_)), "{e:?}");
    assert!(e.to_string().contains("indirect call type mismatch"), "{e}");
    // A null slot and an index past the end trap with their own kinds.
    let e = call
        .call(&store, &[Value::I32(2), Value::I32(0)])
        .unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::UninitializedElement), "{e:?}");
    let e = call
        .call(&store, &[Value::I32(4), Value::I32(0)])
        .unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::UndefinedElement), "{e:?}");
}

fn host_function_in_table_matches_wasm_type(strategy: Strategy) {
    let (store, owner) = shared_table(strategy);
    let triple = Func::wrap(&store, |x: i32| x.wrapping_mul(3)).unwrap();
    let table = owner.get_table(&store, "table").unwrap();
    table.set(&store, 3, Value::FuncRef(Some(triple))).unwrap();
    let call = owner
        .get_func(&store, "call")
        .unwrap()
        .typed::<(i32, i32), i32>(&store)
        .unwrap();
    assert_eq!(call.call(&store, (3, 5)).unwrap(), 15);
    let wrong = Func::wrap(&store, |x: i64| x).unwrap();
    table.set(&store, 3, Value::FuncRef(Some(wrong))).unwrap();
    let e = call.call(&store, (3, 5)).unwrap_err();
    assert_eq!(e.trap_kind(), Some(TrapKind::IndirectCallTypeMismatch));
}

fn func_from_another_store_is_refused_by_table(strategy: Strategy) {
    let engine = engine(strategy);
    let (store, owner) = shared_table(strategy);
    let other = Store::new(&engine);
    let f = Func::wrap(&other, |x: i32| x).unwrap();
    let table = owner.get_table(&store, "table").unwrap();
    let e = table.set(&store, 3, Value::FuncRef(Some(f))).unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e:?}");
}
