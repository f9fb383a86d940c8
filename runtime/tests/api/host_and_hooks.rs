//! Host modules (functions, memories, tables and globals used by Wasm) and the
//! embedder's hooks: the import resolver and the memory allocator.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use runtime::{
    Caller, Config, Error, HostModuleBuilder, Instance, LinearMemory, LinkErrorKind,
    MemoryAllocator, MemoryType, Store, Strategy, Value,
};

use crate::common::{engine, engine_with, instantiate, instantiate_err, module};
use crate::linking::{link_error_of, with_env};

on_both_engines!(
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
);

// ---------------------------------------------------------------------------------------
// Host modules: calls

fn host_function_called_from_wasm(strategy: Strategy) {
    let (store, _env) = with_env(strategy);
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
    let (store, env) = with_env(strategy);
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
                mem.read(&mut *caller, ptr as u64, &mut buf)?;
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
    let (store, env) = with_env(strategy);
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

/// An engine for these allocators, which reserve nothing beyond a memory's length: the
/// native engine's default guard pages need 8 GiB reserved per 32-bit memory, so it
/// compiles explicit bounds checks here (`signal_traps.rs` tests the refusal of an
/// allocator that reserves too little, and one that reserves enough).
fn allocator_engine(strategy: Strategy) -> runtime::Engine {
    engine_with(Config::new(strategy).signal_traps(false))
}

fn memory_allocator_is_used_for_module_memories(strategy: Strategy) {
    let store = Store::new(&allocator_engine(strategy));
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
    let store = Store::new(&allocator_engine(strategy));
    let alloc = Arc::new(CountingAllocator::default());
    store.set_memory_allocator(alloc.clone()).unwrap();
    HostModuleBuilder::new("env")
        .memory("m", MemoryType::new(1, None))
        .instantiate(&store)
        .unwrap();
    assert_eq!(alloc.allocs.load(Ordering::SeqCst), 1);
    assert_eq!(
        alloc.requests.lock().unwrap().as_slice(),
        &[(PAGE, 65536 * PAGE)]
    );
}

fn memory_allocator_refusal_fails_instantiation(strategy: Strategy) {
    let store = Store::new(&allocator_engine(strategy));
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
    let store = Store::new(&allocator_engine(strategy));
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
