//! Helpers shared by the test modules: engines by strategy, compiling and instantiating
//! with the source in the panic message, and running a test body in a child process or
//! on a thread with a chosen stack size.

use std::process::Command;
use std::thread;

use runtime::{
    Config, Engine, Error, Instance, Module, Store, Strategy, TrapKind, Value, WasmFeatures,
};

/// The name `on_both_engines!` gives the test of `strategy`: a failure report names
/// the engine through it.
pub fn engine_test_name(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::Interpreter => "interp",
        Strategy::Native => "native",
    }
}

pub fn engine(strategy: Strategy) -> Engine {
    engine_with(Config::new(strategy))
}

pub fn engine_with(config: Config) -> Engine {
    let name = engine_test_name(config.strategy);
    Engine::new(config).unwrap_or_else(|e| panic!("the {name} engine is not available: {e}"))
}

/// An engine with every Wasm 3.0 feature but threads.
pub fn engine3(strategy: Strategy) -> Engine {
    engine_with(Config::new(strategy).features(WasmFeatures::WASM3 - WasmFeatures::THREADS))
}

/// A store of [`engine3`] and an instance of `wat` in it.
pub fn setup3(strategy: Strategy, wat: &str) -> (Store, Instance) {
    let store = Store::new(&engine3(strategy));
    let instance = instantiate(&store, wat, None);
    (store, instance)
}

/// Compiles WAT (or binary) source, panicking with the error when it does not compile.
pub fn module(engine: &Engine, src: &str) -> Module {
    Module::new(engine, src).unwrap_or_else(|e| panic!("module does not compile: {e}\n{src}"))
}

/// Instantiates WAT source under `name`, panicking with the error on failure.
pub fn instantiate(store: &Store, src: &str, name: Option<&str>) -> Instance {
    let m = module(store.engine(), src);
    Instance::new(store, &m, name).unwrap_or_else(|e| panic!("instantiation failed: {e}\n{src}"))
}

/// Instantiates WAT source under `name`, expecting an error.
pub fn instantiate_err(store: &Store, src: &str, name: Option<&str>) -> Error {
    let m = module(store.engine(), src);
    match Instance::new(store, &m, name) {
        Ok(_) => panic!("instantiation succeeded but should have failed:\n{src}"),
        Err(e) => e,
    }
}

/// The full name of the test `on_both_engines!` stamps out for `test` of the module
/// `module_path` (pass `module_path!()`) on `strategy`.
pub fn test_path(module_path: &str, test: &str, strategy: Strategy) -> String {
    // `module_path!()` starts with this test crate's name, which test filters leave out.
    let module = module_path.split_once("::").map_or("", |(_, rest)| rest);
    format!("{module}::{test}::{}", engine_test_name(strategy))
}

const CHILD_ENV: &str = "RUNTIME_TESTS_ISOLATED_CHILD";

/// Runs `body` in a child process (this test binary, filtered to the one test named
/// `test_path`); fails if the child fails or dies by a signal.
///
/// For tests that may crash the process if the runtime is wrong (a host stack
/// overflow aborts it): the crash is then reported as a failure of that test instead
/// of killing every test of the binary. Also for measurements of the whole process
/// (resident memory), which tests running on other threads would disturb.
pub fn isolated(test_path: &str, body: impl FnOnce()) {
    if std::env::var(CHILD_ENV).as_deref() == Ok(test_path) {
        body();
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([test_path, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, test_path)
        .output()
        .expect("spawn the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = out.status.signal() {
            panic!(
                "{test_path}: the process died by signal {sig} (crash, not a clean error)\n\
                 --- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
            );
        }
    }
    assert!(
        out.status.success(),
        "{test_path}: child failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("1 passed"),
        "{test_path}: the child did not run the test\n{stdout}"
    );
}

/// Runs `f` on a fresh thread with `stack` bytes of stack and returns its result.
pub fn on_thread<T: Send + 'static>(stack: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    thread::Builder::new()
        .stack_size(stack)
        .spawn(f)
        .expect("spawn thread")
        .join()
        .expect("thread panicked")
}

/// Instantiates `wat` on a fresh engine of `strategy` and calls export `name` with `args`.
pub fn run(
    strategy: Strategy,
    wat: &str,
    name: &str,
    args: &[Value],
) -> runtime::Result<Vec<Value>> {
    let engine = engine(strategy);
    let module = Module::new(&engine, wat)?;
    let store = Store::new(&engine);
    let instance = Instance::new(&store, &module, None)?;
    let f = instance.get_func(&store, name).expect("export");
    f.call(&store, args)
}

/// `run`, expecting exactly one result.
pub fn run1(strategy: Strategy, wat: &str, name: &str, args: &[Value]) -> Value {
    let r = run(strategy, wat, name, args).unwrap();
    assert_eq!(r.len(), 1);
    r[0].clone()
}

/// `run`, expecting a trap.
pub fn trap_of(strategy: Strategy, wat: &str, name: &str, args: &[Value]) -> TrapKind {
    match run(strategy, wat, name, args) {
        Err(e) => e.trap_kind().unwrap_or_else(|| panic!("not a trap: {e}")),
        Ok(v) => panic!("expected a trap, got {v:?}"),
    }
}

/// Compiles and instantiates `wat` on a fresh engine of `strategy`.
pub fn setup(strategy: Strategy, wat: &str) -> (Store, Instance) {
    let engine = engine(strategy);
    let module = Module::new(&engine, wat).unwrap();
    let store = Store::new(&engine);
    let instance = Instance::new(&store, &module, None).unwrap();
    (store, instance)
}

/// Calls export `name` of `inst`.
pub fn call(
    store: &Store,
    inst: &Instance,
    name: &str,
    args: &[Value],
) -> runtime::Result<Vec<Value>> {
    inst.get_func(store, name).unwrap().call(store, args)
}

/// The kind of the trap `r` must be.
pub fn trap_kind(r: runtime::Result<Vec<Value>>) -> TrapKind {
    r.unwrap_err().trap_kind().expect("a trap")
}

/// Set in the child process that [`assert_child_dies_of`] starts: the test body that
/// must crash runs only where it is set.
pub const CRASH_CHILD_ENV: &str = "RUNTIME_TESTS_CRASH_CHILD";

/// Runs test `path` of this test binary alone in a child process with
/// [`CRASH_CHILD_ENV`] set, and asserts that it died of `signal` before printing
/// "survived".
#[cfg(unix)]
pub fn assert_child_dies_of(path: &str, signal: i32) {
    use std::os::unix::process::ExitStatusExt;
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([path, "--exact", "--nocapture", "--test-threads=1"])
        .env(CRASH_CHILD_ENV, "1")
        .output()
        .expect("spawn the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.signal(),
        Some(signal),
        "{}\n{stdout}",
        out.status
    );
    assert!(!stdout.contains("survived"), "{stdout}");
}

/// A guest for [`call_back_host`]: `outer` calls the host, which calls `inner` back,
/// which recurses until the call stack is exhausted.
pub const RECURSION_BELOW_HOST: &str = r#"(module $guest
    (import "host" "call_back" (func $call_back))
    (func $outer (export "outer") call $middle)
    (func $middle call $call_back)
    (func $inner (export "inner") call $recurse)
    (func $recurse call $recurse))"#;

/// A host function `host.call_back` that calls the caller's export `inner`.
pub fn call_back_host(store: &Store) {
    runtime::HostModuleBuilder::new("host")
        .func_wrap(
            "call_back",
            |caller: &mut runtime::Caller<'_>| -> runtime::Result<()> {
                let inner = (caller.get_export("inner").and_then(|e| e.into_func()))
                    .ok_or_else(|| Error::host("no export inner"))?;
                caller.call(inner, &[])?;
                Ok(())
            },
        )
        .instantiate(store)
        .unwrap();
}

/// The i32 results of a call that must succeed with only i32 results.
pub fn i32s(r: runtime::Result<Vec<Value>>) -> Vec<i32> {
    r.unwrap()
        .iter()
        .map(|v| v.i32().expect("an i32"))
        .collect()
}
