//! The native engine's on-disk code cache (`Config::cache_dir`), through the public API:
//! a second compile loads the code and runs it the same; a damaged, stale or unreadable
//! entry is never used but recompiled and replaced (and the replacement then loads);
//! other settings or another module get an entry of their own; concurrent compiles of
//! one module leave one whole entry; the interpreter ignores the cache.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use runtime::{
    CodeCacheOutcome, Config, Engine, Error, HostModuleBuilder, Instance, Module, OptLevel,
    RegallocAlgorithm, Store, Strategy, TrapKind, Value, WasmFeatures,
};

/// Direct calls, an indirect call, a host import (a host adapter), libcalls
/// (`memory.grow`, `memory.fill`), a float operation and a trap: every kind of
/// relocation and blob the linker resolves.
const MODULE: &str = r#"(module
    (import "host" "double" (func $double (param i32) (result i32)))
    (type $t (func (param i32) (result i32)))
    (memory 1)
    (table 2 funcref)
    (elem (i32.const 0) $square $increment)
    (func $square (type $t) (i32.mul (local.get 0) (local.get 0)))
    (func $increment (type $t) (i32.add (local.get 0) (i32.const 1)))
    (func (export "run") (param i32) (result i32)
        (memory.fill (i32.const 0) (local.get 0) (i32.const 16))
        (i32.add
            (i32.add (call $square (local.get 0))
                     (call_indirect (type $t) (local.get 0) (i32.const 1)))
            (i32.add (call $double (local.get 0))
                     (i32.add (memory.grow (i32.const 1)) (i32.load8_u (i32.const 15))))))
    (func (export "ceil") (param f32) (result f32) (f32.ceil (local.get 0)))
    (func (export "divide") (param i32 i32) (result i32)
        (i32.div_u (local.get 0) (local.get 1))))"#;

fn config(dir: &Path) -> Config {
    Config::new(Strategy::Native).cache_dir(Some(dir.to_path_buf()))
}

fn compile(config: Config, wat: &str) -> Module {
    let engine = Engine::new(config).expect("native engine");
    Module::new(&engine, wat).unwrap_or_else(|e| panic!("compile: {e}"))
}

/// What `MODULE` computes: `run` on 3 and 7 (fresh instance each), `ceil`, and a trap.
fn outcomes(module: &Module) -> Vec<String> {
    let store = Store::new(module.engine());
    HostModuleBuilder::new("host")
        .func_wrap("double", |x: i32| -> runtime::Result<i32> { Ok(2 * x) })
        .instantiate(&store)
        .unwrap();
    let instance = Instance::new(&store, module, None).unwrap();
    let call = |name: &str, args: &[Value]| {
        let func = instance.get_func(&store, name).unwrap();
        match func.call(&store, args) {
            Ok(values) => format!("{values:?}"),
            Err(Error::Trap(t)) => format!("trap {:?}", t.kind),
            Err(e) => format!("error {e}"),
        }
    };
    vec![
        call("run", &[Value::I32(3)]),
        call("run", &[Value::I32(7)]),
        call("ceil", &[Value::F32(1.25f32.to_bits())]),
        call("divide", &[Value::I32(7), Value::I32(2)]),
        call("divide", &[Value::I32(7), Value::I32(0)]),
    ]
}

/// The expected results, from a module compiled without any cache.
fn expected() -> Vec<String> {
    let reference = compile(Config::new(Strategy::Native), MODULE);
    assert_eq!(*reference.code_cache(), CodeCacheOutcome::Disabled);
    let results = outcomes(&reference);
    assert_eq!(
        results[4],
        format!("trap {:?}", TrapKind::IntegerDivideByZero)
    );
    results
}

/// The cache files in `dir` (temporary files of a write in progress excluded).
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "code"));
    files.sort();
    files
}

fn only_entry(dir: &Path) -> PathBuf {
    let files = entries(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn second_compile_loads_from_the_cache_and_runs_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let expected = expected();
    let first = compile(config(dir.path()), MODULE);
    assert_eq!(
        *first.code_cache(),
        CodeCacheOutcome::Stored { replaced: None }
    );
    assert!(!first.loaded_from_cache());
    assert_eq!(outcomes(&first), expected);
    only_entry(dir.path());
    // Another engine with the same configuration (as another process would be).
    let second = compile(config(dir.path()), MODULE);
    assert!(second.loaded_from_cache(), "{:?}", second.code_cache());
    assert_eq!(outcomes(&second), expected);
    // The same engine again; and both modules live side by side.
    let third = Module::new(second.engine(), MODULE).unwrap();
    assert!(third.loaded_from_cache());
    assert_eq!(outcomes(&third), expected);
    assert_eq!(outcomes(&first), expected);
    only_entry(dir.path());
}

/// A damage done to a good entry: what it is, how, and words of the reason the cache
/// must give.
type Damage = (&'static str, fn(&mut Vec<u8>), &'static str);

fn damages() -> Vec<Damage> {
    vec![
        ("empty", |f| f.clear(), "truncated"),
        ("truncated to the header", |f| f.truncate(40), "truncated"),
        (
            "truncated by one byte",
            |f| {
                f.pop();
            },
            "truncated",
        ),
        ("cut in half", |f| f.truncate(f.len() / 2), "truncated"),
        ("extended", |f| f.push(0), "extended"),
        (
            "byte flipped in the payload",
            |f| {
                let i = f.len() / 2;
                f[i] ^= 0x40;
            },
            "checksum",
        ),
        (
            "byte flipped in the checksum",
            |f| {
                let i = f.len() - 1;
                f[i] ^= 1;
            },
            "checksum",
        ),
        ("byte flipped in the magic", |f| f[0] ^= 1, "magic"),
        ("byte flipped in the key", |f| f[20] ^= 1, "key"),
        (
            "byte flipped in the payload length",
            |f| f[44] ^= 1,
            "truncated or extended",
        ),
        (
            "another format version",
            |f| f[8] = f[8].wrapping_add(1),
            "format version",
        ),
    ]
}

#[test]
fn damaged_or_stale_entries_are_recompiled_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let expected = expected();
    compile(config(dir.path()), MODULE);
    let entry = only_entry(dir.path());
    let good = std::fs::read(&entry).unwrap();
    for (what, damage, reason) in damages() {
        let mut bad = good.clone();
        damage(&mut bad);
        assert_ne!(bad, good, "{what}");
        std::fs::write(&entry, &bad).unwrap();
        let module = compile(config(dir.path()), MODULE);
        match module.code_cache() {
            CodeCacheOutcome::Stored {
                replaced: Some(why),
            } => assert!(why.contains(reason), "{what}: {why}"),
            other => panic!("{what}: {other:?}"),
        }
        assert_eq!(outcomes(&module), expected, "{what}");
        assert_eq!(std::fs::read(&entry).unwrap(), good, "{what}: not replaced");
        let again = compile(config(dir.path()), MODULE);
        assert!(
            again.loaded_from_cache(),
            "{what}: {:?}",
            again.code_cache()
        );
        assert_eq!(outcomes(&again), expected, "{what}");
    }
    only_entry(dir.path());
}

#[test]
fn an_unusable_cache_never_fails_the_compile() {
    let expected = expected();
    // The entry's name taken by a directory: it can be neither read nor replaced.
    let dir = tempfile::tempdir().unwrap();
    compile(config(dir.path()), MODULE);
    let entry = only_entry(dir.path());
    std::fs::remove_file(&entry).unwrap();
    std::fs::create_dir(&entry).unwrap();
    std::fs::write(entry.join("inside"), b"x").unwrap();
    let module = compile(config(dir.path()), MODULE);
    match module.code_cache() {
        CodeCacheOutcome::NotStored {
            replaced: Some(why),
            error,
        } => assert!(
            why.contains("unreadable") && error.contains("cannot write"),
            "{why}; {error}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(outcomes(&module), expected);
    // A cache directory that cannot be created (its parent is a file).
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let module = compile(config(&file.join("cache")), MODULE);
    match module.code_cache() {
        CodeCacheOutcome::NotStored {
            replaced: None,
            error,
        } => assert!(error.contains("cannot create"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(outcomes(&module), expected);
}

#[test]
fn other_settings_and_other_modules_get_entries_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let base = compile(config(dir.path()), MODULE);
    assert!(!base.loaded_from_cache());
    // Other Wasm features: another key, even though this module's code is the same.
    let features = WasmFeatures::WASM2 | WasmFeatures::TAIL_CALL;
    let other = compile(config(dir.path()).features(features), MODULE);
    assert_eq!(
        *other.code_cache(),
        CodeCacheOutcome::Stored { replaced: None }
    );
    assert_eq!(entries(dir.path()).len(), 2);
    // One byte more in the module (a custom section): another key.
    let mut bytes = wat::parse_str(MODULE).unwrap();
    bytes.extend_from_slice(&[0, 2, 1, b'x']);
    let engine = Engine::new(config(dir.path())).unwrap();
    let changed = Module::from_binary(&engine, &bytes).unwrap();
    assert_eq!(
        *changed.code_cache(),
        CodeCacheOutcome::Stored { replaced: None }
    );
    assert_eq!(entries(dir.path()).len(), 3);
    // Each loads its own.
    assert!(compile(config(dir.path()), MODULE).loaded_from_cache());
    assert!(compile(config(dir.path()).features(features), MODULE).loaded_from_cache());
    assert!(
        Module::from_binary(&engine, &bytes)
            .unwrap()
            .loaded_from_cache()
    );
    // Compile threads do not change the code: the same entry.
    let mut threads = config(dir.path());
    threads.compile_threads = 1;
    assert!(compile(threads, MODULE).loaded_from_cache());
    assert_eq!(entries(dir.path()).len(), 3);
    // Interruption checks do: code without them must never serve an interruptible engine.
    let interruptible = compile(config(dir.path()).interruptible(true), MODULE);
    assert!(!interruptible.loaded_from_cache());
    assert_eq!(entries(dir.path()).len(), 4);
    assert!(compile(config(dir.path()).interruptible(true), MODULE).loaded_from_cache());
    // So do the optimisation level and the register allocator, and code of each runs the
    // same.
    let settings = [
        (OptLevel::None, RegallocAlgorithm::Backtracking),
        (OptLevel::SpeedAndSize, RegallocAlgorithm::Backtracking),
        (OptLevel::Speed, RegallocAlgorithm::SinglePass),
    ];
    for (n, (level, regalloc)) in (5..).zip(settings) {
        let with = || {
            config(dir.path())
                .opt_level(level)
                .regalloc_algorithm(regalloc)
        };
        let m = compile(with(), MODULE);
        assert!(!m.loaded_from_cache(), "{level:?} {regalloc:?}");
        assert_eq!(entries(dir.path()).len(), n);
        assert_eq!(outcomes(&m), expected(), "{level:?} {regalloc:?}");
        let again = compile(with(), MODULE);
        assert!(again.loaded_from_cache(), "{level:?} {regalloc:?}");
        assert_eq!(outcomes(&again), expected(), "{level:?} {regalloc:?}");
    }
}

#[test]
fn the_interpreter_ignores_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new(Strategy::Interpreter).cache_dir(Some(dir.path().to_path_buf()));
    let module = compile(config, MODULE);
    assert_eq!(*module.code_cache(), CodeCacheOutcome::Disabled);
    assert_eq!(outcomes(&module), expected());
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn concurrent_compiles_leave_one_whole_entry() {
    let expected = expected();
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let threads = 6;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                let config = config(dir.path());
                std::thread::spawn(move || {
                    let engine = Engine::new(config).unwrap();
                    barrier.wait();
                    let module = Module::new(&engine, MODULE).unwrap();
                    (module.code_cache().clone(), outcomes(&module))
                })
            })
            .collect();
        for handle in handles {
            let (cache, results) = handle.join().unwrap();
            assert!(
                matches!(
                    cache,
                    CodeCacheOutcome::Loaded | CodeCacheOutcome::Stored { replaced: None }
                ),
                "round {round}: {cache:?}"
            );
            assert_eq!(results, expected, "round {round}");
        }
        let all: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(all.len(), 1, "round {round}: temporary files left: {all:?}");
        let module = compile(config(dir.path()), MODULE);
        assert!(module.loaded_from_cache(), "round {round}");
        assert_eq!(outcomes(&module), expected, "round {round}");
    }
}
