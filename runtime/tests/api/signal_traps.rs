//! `Config::signal_traps`: 32-bit memory accesses without bounds checks, their faults
//! turned into traps by a signal handler (native engine on x86-64 Linux; the interpreter
//! ignores the setting, so each test also checks it gives the same answers there).

use std::sync::{Arc, Mutex};

use runtime::{
    Caller, Config, Engine, Error, Extern, HostModuleBuilder, Instance, LinearMemory,
    MemoryAllocator, Module, Store, Strategy, TrapKind, Value, WasmFeatures,
};

use crate::common::{CRASH_CHILD_ENV, assert_child_dies_of, engine_with, isolated, module};

fn guarded_engine(strategy: Strategy) -> Engine {
    let features = WasmFeatures::WASM2 | WasmFeatures::MEMORY64;
    engine_with(Config::new(strategy).features(features).signal_traps(true))
}

/// Whether the native engine really leaves checks out here.
const SIGNALS_HERE: bool = cfg!(all(target_os = "linux", target_arch = "x86_64"));

/// Every load and store, as (instruction, access bytes, stored value type).
const ACCESSES: [(&str, u32, &str); 23] = [
    ("i32.load", 4, ""),
    ("i64.load", 8, ""),
    ("f32.load", 4, ""),
    ("f64.load", 8, ""),
    ("i32.load8_s", 1, ""),
    ("i32.load8_u", 1, ""),
    ("i32.load16_s", 2, ""),
    ("i32.load16_u", 2, ""),
    ("i64.load8_s", 1, ""),
    ("i64.load8_u", 1, ""),
    ("i64.load16_s", 2, ""),
    ("i64.load16_u", 2, ""),
    ("i64.load32_s", 4, ""),
    ("i64.load32_u", 4, ""),
    ("v128.load", 16, ""),
    ("i32.store", 4, "i32"),
    ("i64.store", 8, "i64"),
    ("f32.store", 4, "f32"),
    ("f64.store", 8, "f64"),
    ("i32.store8", 1, "i32"),
    ("i32.store16", 2, "i32"),
    ("i64.store8", 1, "i64"),
    ("v128.store", 16, "v128"),
];

/// A module with one export `access(addr)` doing `instr offset=OFFSET` at `addr`, and
/// `grow(delta)`, `peek(addr)` to check the store is still usable.
fn access_module(instr: &str, value: &str, offset: u32) -> String {
    let body = match value {
        "" => format!("local.get 0 {instr} offset={offset} drop"),
        "v128" => format!("local.get 0 v128.const i64x2 -1 -1 {instr} offset={offset}"),
        ty => format!("local.get 0 {ty}.const -1 {instr} offset={offset}"),
    };
    format!(
        r#"(module
            (memory 1)
            (func (export "access") (param i32) {body})
            (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
            (func (export "peek") (param i32) (result i32) local.get 0 i32.load8_u))"#
    )
}

fn call(store: &Store, inst: &Instance, name: &str, arg: i32) -> runtime::Result<Vec<Value>> {
    let f = inst.get_func(store, name).expect("export");
    f.call(store, &[Value::I32(arg)])
}

fn trap_kind(r: runtime::Result<Vec<Value>>) -> Option<TrapKind> {
    r.err().and_then(|e| e.trap_kind())
}

const PAGE: i32 = 65536;

/// At the last in-bounds address an access works; one byte further it traps; so do
/// addresses far beyond (in the guard) and the highest 32-bit ones; the store works on
/// after each trap; after a grow the same address works.
fn edge_accesses_of_every_width(strategy: Strategy) {
    let engine = guarded_engine(strategy);
    for (instr, size, value) in ACCESSES {
        for offset in [0u32, 1, 4096, 65535] {
            let store = Store::new(&engine);
            let src = access_module(instr, value, offset);
            let inst = Instance::new(&store, &module(&engine, &src), None).unwrap();
            let last = PAGE - size as i32 - offset as i32;
            let what = format!("{instr} offset={offset}");
            if last >= 0 {
                assert!(
                    call(&store, &inst, "access", last).is_ok(),
                    "{what} at {last}"
                );
            }
            // The first address out of bounds (0 when the offset alone reaches the end).
            let first_out = (last + 1).max(0);
            for addr in [first_out, PAGE, 3 * PAGE, i32::MAX, -1, -(size as i32)] {
                assert_eq!(
                    trap_kind(call(&store, &inst, "access", addr)),
                    Some(TrapKind::MemoryOutOfBounds),
                    "{what} at {addr}"
                );
                assert!(
                    call(&store, &inst, "peek", 0).is_ok(),
                    "usable after a trap"
                );
            }
            assert_eq!(call(&store, &inst, "grow", 1).unwrap(), vec![Value::I32(1)]);
            assert!(
                call(&store, &inst, "access", first_out).is_ok(),
                "{what} grown"
            );
            let new_last = 2 * PAGE - size as i32 - offset as i32;
            assert!(call(&store, &inst, "access", new_last).is_ok());
            assert_eq!(
                trap_kind(call(&store, &inst, "access", new_last + 1)),
                Some(TrapKind::MemoryOutOfBounds),
                "{what} past the grown end"
            );
        }
    }
}

/// A huge static offset (beyond the guard) keeps its explicit check; 64-bit memories
/// always do; both still trap correctly.
fn large_offsets_and_memory64_still_trap(strategy: Strategy) {
    let features = WasmFeatures::WASM2 | WasmFeatures::MEMORY64 | WasmFeatures::MULTI_MEMORY;
    let engine = engine_with(Config::new(strategy).features(features).signal_traps(true));
    let store = Store::new(&engine);
    let src = r#"(module
        (memory $m32 1)
        (memory $m64 i64 1)
        (func (export "far") (param i32) (result i32)
            local.get 0 i32.load $m32 offset=4294967295)
        (func (export "wide") (param i32) (result i32)
            local.get 0 i64.extend_i32_u i32.load $m64 offset=65532))"#;
    let inst = Instance::new(&store, &module(&engine, src), None).unwrap();
    for addr in [0, 1, -1] {
        assert_eq!(
            trap_kind(call(&store, &inst, "far", addr)),
            Some(TrapKind::MemoryOutOfBounds)
        );
    }
    assert_eq!(call(&store, &inst, "wide", 0).unwrap(), vec![Value::I32(0)]);
    for addr in [1, PAGE, -1] {
        assert_eq!(
            trap_kind(call(&store, &inst, "wide", addr)),
            Some(TrapKind::MemoryOutOfBounds)
        );
    }
}

/// A host function calls back into Wasm that traps by signal: the inner call fails,
/// the host goes on, the outer call completes; then the outer one traps by itself.
fn a_trap_in_a_call_back_ends_only_the_inner_call(strategy: Strategy) {
    let engine = guarded_engine(strategy);
    let store = Store::new(&engine);
    let inner = Arc::new(Mutex::new(None));
    let kept = inner.clone();
    HostModuleBuilder::new("host")
        .func_wrap("call_back", move |caller: &mut Caller<'_>| {
            let inst = caller.instance().ok_or_else(|| Error::host("no caller"))?;
            let Some(Extern::Func(f)) = inst.get_export(&mut *caller, "oob") else {
                return Err(Error::host("no export oob"));
            };
            *kept.lock().unwrap() = trap_kind(caller.call(f, &[Value::I32(PAGE)]));
            Ok(())
        })
        .instantiate(&store)
        .unwrap();
    let src = r#"(module
        (import "host" "call_back" (func $call_back))
        (memory 1)
        (func (export "oob") (param i32) (result i32) local.get 0 i32.load)
        (func (export "outer") (param i32) (result i32)
            call $call_back
            i32.const 8 i32.const 42 i32.store
            local.get 0 i32.load))"#;
    let inst = Instance::new(&store, &module(&engine, src), None).unwrap();
    assert_eq!(
        call(&store, &inst, "outer", 8).unwrap(),
        vec![Value::I32(42)]
    );
    assert_eq!(*inner.lock().unwrap(), Some(TrapKind::MemoryOutOfBounds));
    *inner.lock().unwrap() = None;
    assert_eq!(
        trap_kind(call(&store, &inst, "outer", PAGE - 3)),
        Some(TrapKind::MemoryOutOfBounds)
    );
    assert_eq!(*inner.lock().unwrap(), Some(TrapKind::MemoryOutOfBounds));
}

/// Several threads trap at once, each in its own store, many times.
fn traps_on_several_threads_at_once(strategy: Strategy) {
    let engine = guarded_engine(strategy);
    let src = access_module("i64.load", "", 0);
    let m = module(&engine, &src);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (engine, m) = (engine.clone(), m.clone());
            std::thread::spawn(move || {
                let store = Store::new(&engine);
                let inst = Instance::new(&store, &m, None).unwrap();
                for i in 0..300 {
                    let addr = PAGE - 7 + (i + t) % 5000;
                    assert_eq!(
                        trap_kind(call(&store, &inst, "access", addr)),
                        Some(TrapKind::MemoryOutOfBounds)
                    );
                    assert!(call(&store, &inst, "access", PAGE - 8).is_ok());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
}

/// With fuel, checks stay explicit (a fault would lose the count in registers): the same
/// trap, and the same fuel left, with the setting on or off.
fn fuel_is_exact_after_a_trap(strategy: Strategy) {
    let left = |signal_traps: bool| {
        let config = Config::new(strategy)
            .consume_fuel(true)
            .signal_traps(signal_traps);
        let engine = engine_with(config);
        let store = Store::new(&engine);
        store.set_fuel(10_000).unwrap();
        let src = access_module("i32.load", "", 0);
        let inst = Instance::new(&store, &module(&engine, &src), None).unwrap();
        let kind = trap_kind(call(&store, &inst, "access", PAGE));
        (kind, store.fuel().unwrap())
    };
    let on = left(true);
    assert_eq!(on.0, Some(TrapKind::MemoryOutOfBounds));
    assert_eq!(on, left(false));
}

/// An allocator whose memories reserve nothing.
struct PlainAllocator;

struct PlainMemory(Vec<u8>);

impl LinearMemory for PlainMemory {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }

    fn reallocate(&mut self, new_len: usize) -> Option<&mut [u8]> {
        self.0.resize(new_len, 0);
        Some(&mut self.0)
    }
}

impl MemoryAllocator for PlainAllocator {
    fn allocate(&self, initial: usize, _max: usize) -> Option<Box<dyn LinearMemory>> {
        Some(Box::new(PlainMemory(vec![0; initial])))
    }
}

/// Code without checks never runs on a memory without the guard: a custom allocator's
/// 32-bit memory that reserves nothing is refused with a clear error (64-bit ones are
/// fine: they keep their checks). The interpreter takes any.
fn a_memory_without_the_guard_is_refused(strategy: Strategy) {
    let engine = guarded_engine(strategy);
    let store = Store::new(&engine);
    store
        .set_memory_allocator(Arc::new(PlainAllocator))
        .unwrap();
    let m32 = module(&engine, "(module (memory 1))");
    let m64 = module(&engine, "(module (memory i64 1))");
    let result = Instance::new(&store, &m32, None);
    if strategy == Strategy::Native && SIGNALS_HERE {
        let Err(e) = result else {
            panic!("a memory without the reservation was accepted")
        };
        assert!(e.to_string().contains("reserved_bytes"), "{e}");
    } else {
        assert!(result.is_ok());
    }
    assert!(Instance::new(&store, &m64, None).is_ok());
}

on_both_engines!(
    edge_accesses_of_every_width,
    large_offsets_and_memory64_still_trap,
    a_trap_in_a_call_back_ends_only_the_inner_call,
    traps_on_several_threads_at_once,
    fuel_is_exact_after_a_trap,
    a_memory_without_the_guard_is_refused,
);

/// Set by [`embedder_handler`].
static EMBEDDER_SAW: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// An embedder's own `SIGSEGV` handler: makes the faulting page readable and counts.
extern "C" fn embedder_handler(_: i32, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    EMBEDDER_SAW.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    // SAFETY: the kernel's siginfo for a SIGSEGV; the page is the test's own mapping.
    unsafe {
        let page = ((*info).si_addr() as usize) & !4095;
        libc::mprotect(page as *mut libc::c_void, 4096, libc::PROT_READ);
    }
}

/// A fresh no-access page of the test's own.
fn no_access_page() -> *const u8 {
    // SAFETY: a new mapping, touching nothing else.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED);
    p as *const u8
}

/// A handler installed before the engine's still sees the faults that are not Wasm's,
/// and Wasm's traps do not reach it. In a child process: handlers are process-wide.
#[test]
fn an_embedders_handler_installed_first_still_gets_other_faults() {
    let path = "signal_traps::an_embedders_handler_installed_first_still_gets_other_faults";
    isolated(path, || {
        // SAFETY: installs a handler with the SA_SIGINFO signature.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = embedder_handler as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(
                libc::sigaction(libc::SIGSEGV, &action, std::ptr::null_mut()),
                0
            );
        }
        let engine = guarded_engine(Strategy::Native);
        let store = Store::new(&engine);
        let src = access_module("i32.load", "", 0);
        let inst = Instance::new(&store, &module(&engine, &src), None).unwrap();
        assert_eq!(
            trap_kind(call(&store, &inst, "access", PAGE)),
            Some(TrapKind::MemoryOutOfBounds)
        );
        assert_eq!(EMBEDDER_SAW.load(std::sync::atomic::Ordering::SeqCst), 0);
        let page = no_access_page();
        // SAFETY: faults once; the embedder's handler makes the page readable (zero).
        let byte = unsafe { std::ptr::read_volatile(page) };
        assert_eq!(byte, 0);
        assert_eq!(EMBEDDER_SAW.load(std::sync::atomic::Ordering::SeqCst), 1);
        // And Wasm traps still work after.
        assert_eq!(
            trap_kind(call(&store, &inst, "access", -1)),
            Some(TrapKind::MemoryOutOfBounds)
        );
    });
}

/// A fault that is neither Wasm's nor anyone else's still kills the process by
/// `SIGSEGV`, even while a Wasm call is on the stack (a host function faults).
#[test]
fn a_fault_outside_trap_sites_still_crashes() {
    if std::env::var(CRASH_CHILD_ENV).is_ok() {
        let engine = guarded_engine(Strategy::Native);
        let store = Store::new(&engine);
        HostModuleBuilder::new("host")
            .func_wrap("fault", || {
                // SAFETY: deliberately not: reads a no-access page, which must crash.
                let byte = unsafe { std::ptr::read_volatile(no_access_page()) };
                println!("survived a fault: {byte}");
            })
            .instantiate(&store)
            .unwrap();
        let src = r#"(module (import "host" "fault" (func $f)) (memory 1)
            (func (export "run") (param i32) call $f))"#;
        let inst = Instance::new(&store, &module(&engine, src), None).unwrap();
        let _ = call(&store, &inst, "run", 0);
        println!("survived a fault");
        return;
    }
    assert_child_dies_of(
        "signal_traps::a_fault_outside_trap_sites_still_crashes",
        libc::SIGSEGV,
    );
}

/// The setting leaves modules without memory accesses, and engines without it, alone:
/// a module compiles and runs the same with both settings.
fn same_results_with_and_without(strategy: Strategy) {
    let src = r#"(module (memory 1 2)
        (func (export "f") (param i32) (result i32)
            local.get 0 i32.const 77 i32.store
            local.get 0 i32.load offset=0
            memory.size i32.add))"#;
    for on in [false, true] {
        let engine = engine_with(Config::new(strategy).signal_traps(on));
        let store = Store::new(&engine);
        let inst = Instance::new(&store, &Module::new(&engine, src).unwrap(), None).unwrap();
        assert_eq!(call(&store, &inst, "f", 100).unwrap(), vec![Value::I32(78)]);
        assert_eq!(
            trap_kind(call(&store, &inst, "f", PAGE - 2)),
            Some(TrapKind::MemoryOutOfBounds)
        );
    }
}

on_both_engines!(same_results_with_and_without);

/// Trap sites travel through the code cache: a module loaded from it traps by signal
/// like a compiled one (without them the fault would kill the process, hence a child).
#[test]
fn cached_code_keeps_its_trap_sites() {
    isolated("signal_traps::cached_code_keeps_its_trap_sites", || {
        let dir = tempfile::tempdir().unwrap();
        let config = || {
            Config::new(Strategy::Native)
                .signal_traps(true)
                .cache_dir(Some(dir.path().to_path_buf()))
        };
        let src = access_module("i64.store", "i64", 8);
        let stored = module(&engine_with(config()), &src);
        assert!(!stored.loaded_from_cache());
        let engine = engine_with(config());
        let loaded = module(&engine, &src);
        assert!(loaded.loaded_from_cache(), "{:?}", loaded.code_cache());
        let store = Store::new(&engine);
        let inst = Instance::new(&store, &loaded, None).unwrap();
        assert!(call(&store, &inst, "access", PAGE - 16).is_ok());
        let e = call(&store, &inst, "access", PAGE - 15).expect_err("traps");
        assert_eq!(e.trap_kind(), Some(TrapKind::MemoryOutOfBounds));
        // The handler's backtrace too (`signal_backtraces.rs`).
        let frames = e.backtrace().map_or(0, |b| b.frames().count());
        assert_eq!(frames, 1);
    });
}
