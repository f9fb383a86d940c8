//! Import resolution and linking: error kinds and messages (wazero's wording) for
//! unknown imports and mismatched kinds, types and limits, shared globals, and
//! cross-module `call_indirect` through a shared table with store-wide type ids. Host
//! modules and the embedder's hooks are in `host_and_hooks`.

use crate::common::{engine, instantiate, instantiate_err};
use runtime::{
    Caller, Error, Func, FuncType, HostModuleBuilder, Instance, LinkError, LinkErrorKind,
    MemoryType, RefType, Store, Strategy, TableType, TrapKind, ValType, Value,
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
pub(crate) fn link_error_of(store: &Store, src: &str) -> LinkError {
    link_error(instantiate_err(store, src, None))
}

/// A host module `env` with one of each kind of export.
fn env(store: &Store) -> Instance {
    HostModuleBuilder::new("env")
        .func_wrap("add", |a: i32, b: i32| a + b)
        .func_wrap("nop", || {})
        .memory("mem", MemoryType::new(1, Some(4)))
        .memory("mem_nomax", MemoryType::new(1, None))
        .table(
            "tab",
            TableType {
                element: RefType::FUNCREF,
                min: 2,
                max: Some(10),
                table64: false,
            },
            Value::FuncRef(None),
        )
        .table(
            "tab_nomax",
            TableType {
                element: RefType::FUNCREF,
                min: 2,
                max: None,
                table64: false,
            },
            Value::FuncRef(None),
        )
        .global("g_i32", Value::I32(7), false)
        .global("g_mut_i32", Value::I32(8), true)
        .instantiate(store)
        .expect("host module env")
}

/// A store on `strategy`'s engine with the host module `env` registered.
pub(crate) fn with_env(strategy: Strategy) -> (Store, Instance) {
    let store = Store::new(&engine(strategy));
    let env = env(&store);
    (store, env)
}

// ---------------------------------------------------------------------------------------
// Unknown imports

fn unknown_module_is_a_link_error(strategy: Strategy) {
    let (store, _env) = with_env(strategy);
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
    let (store, _env) = with_env(strategy);
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
    let (store, _env) = with_env(strategy);
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
    let (store, _env) = with_env(strategy);
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
    let (store, _env) = with_env(strategy);
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
    let (store, env) = with_env(strategy);
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
    let (store, _env) = with_env(strategy);
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
    let (store, _env) = with_env(strategy);
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
    let (store, env) = with_env(strategy);
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
    let (store, _env) = with_env(strategy);
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
    let (store, _env) = with_env(strategy);
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
    let (store, _env) = with_env(strategy);
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
    let (store, env) = with_env(strategy);
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
