//! The native engine's GC roots in its frames (issue 15, step 4a; RATIONALE.md "Step 4a:
//! roots in native frames"): the walker (`native/stack_roots.rs`, reached through the
//! test hook `runtime::native_stack_roots_for_tests`) finds exactly the `any`/`extern`
//! values that native Wasm frames keep live across a host call: in locals and on the
//! operand stack, through nested Wasm frames and through a Wasm -> host -> Wasm -> host
//! nesting, with and without signal traps (which move the stack check into the prologue
//! and change frames). `i31` and host references stand in for objects: they are the same
//! raw words to the walker. Native only: the interpreter's frames are its own slots, which
//! its collector scans (step 3), and it has no stack maps.
//!
//! Each test's host function `walk` records the non-null raw values the walker finds;
//! the Wasm code then returns the values it held, so the test also sees that they came
//! back intact from their slots.

use std::sync::{Arc, Mutex};

use runtime::{
    AnyRef, Caller, CodeCacheOutcome, Config, Engine, Error, ExternRef, FuncType,
    HostModuleBuilder, I31, Instance, Module, Store, Strategy, ValType, Value, WasmFeatures,
    native_stack_roots_for_tests,
};

/// The raw values each `walk` call found, by the checkpoint number it was passed.
type Found = Arc<Mutex<Vec<(i32, Vec<u64>)>>>;

/// The code generation settings that change frames or calls.
#[derive(Clone, Copy)]
enum Setup {
    /// Explicit bounds and stack checks.
    Checked,
    /// Signal traps: the stack check in the prologue, guard pages.
    SignalTraps,
    /// Fuel metering: the fuel left passed in registers to and from every call.
    Metered,
    /// Code loaded from the code cache: the stack maps as the cache file kept them.
    Cached,
}

/// The engine, and for [`Setup::Cached`] the cache directory it uses (kept alive).
fn engine(setup: Setup) -> (Engine, Option<tempfile::TempDir>) {
    let features = WasmFeatures::WASM3 - WasmFeatures::THREADS;
    let cache = matches!(setup, Setup::Cached).then(|| tempfile::tempdir().unwrap());
    let config = Config::new(Strategy::Native)
        .features(features)
        .signal_traps(matches!(setup, Setup::SignalTraps))
        .consume_fuel(matches!(setup, Setup::Metered))
        .cache_dir(cache.as_ref().map(|dir| dir.path().to_path_buf()));
    (Engine::new(config).expect("the native engine"), cache)
}

fn i31(v: i32) -> Value {
    Value::AnyRef(Some(AnyRef::I31(I31::wrapping(v))))
}

fn host(n: u32) -> Value {
    Value::ExternRef(Some(ExternRef::host(n)))
}

/// The raw form of a reference value (RATIONALE.md, "Garbage collection": an `i31` is
/// `v << 1 | 1`, host reference `n` is `n << 2 | 2`, in `anyref` and `externref` alike).
fn raw(v: &Value) -> u64 {
    let any = match v {
        Value::AnyRef(Some(r)) => r.clone(),
        Value::ExternRef(Some(r)) => r.to_any(),
        other => panic!("not a non-null any/extern reference: {other:?}"),
    };
    match any {
        AnyRef::I31(v) => u64::from(v.get_u()) << 1 | 1,
        AnyRef::Host(n) => u64::from(n) << 2 | 2,
        object => panic!("these tests make no objects: {object:?}"),
    }
}

fn sorted(mut raws: Vec<u64>) -> Vec<u64> {
    raws.sort_unstable();
    raws
}

/// A store with host functions `host.walk(i32)`, which records what the walker finds
/// under that checkpoint, and `host.reenter(i32)`, which calls the caller's export
/// `inner` with its argument (Wasm -> host -> Wasm).
/// The store's code cache directory, if any, is returned to be kept while it is used.
fn store_with_walker(setup: Setup) -> (Store, Found, Option<tempfile::TempDir>) {
    let (engine, cache) = engine(setup);
    let store = Store::new(&engine);
    if let Setup::Metered = setup {
        store.set_fuel(1_000_000).unwrap();
    }
    let found: Found = Arc::default();
    let record = found.clone();
    HostModuleBuilder::new("host")
        .func(
            "walk",
            FuncType::new([ValType::I32], []),
            move |caller: &mut Caller<'_>, args: &[Value], _: &mut [Value]| {
                let roots = native_stack_roots_for_tests(caller);
                // Each slot once, a word of the stack.
                let mut slots: Vec<usize> = roots.iter().map(|(slot, _)| *slot).collect();
                assert!(slots.iter().all(|slot| slot % 8 == 0), "{slots:x?}");
                slots.sort_unstable();
                slots.dedup();
                assert_eq!(slots.len(), roots.len(), "a slot twice");
                let raws: Vec<u64> = (roots.into_iter())
                    .map(|(_, raw)| raw)
                    .filter(|&raw| raw != 0)
                    .collect();
                let checkpoint = args[0].i32().expect("an i32 checkpoint");
                record.lock().unwrap().push((checkpoint, raws));
                Ok(())
            },
        )
        .func(
            "reenter",
            FuncType::new([ValType::I32], []),
            |caller: &mut Caller<'_>, args: &[Value], _: &mut [Value]| {
                let instance = caller.instance().ok_or_else(|| Error::host("no caller"))?;
                let inner = (instance.get_func(&mut *caller, "inner"))
                    .ok_or_else(|| Error::host("no export inner"))?;
                caller.call(inner, args)?;
                Ok(())
            },
        )
        .instantiate(&store)
        .unwrap();
    (store, found, cache)
}

/// Instantiates `wat`; with a code cache, from the second compile, which loads the first's
/// entry.
fn instantiate(store: &Store, wat: &str) -> Instance {
    let compile = || Module::new(store.engine(), wat).unwrap_or_else(|e| panic!("{e}"));
    let mut module = compile();
    if !matches!(module.code_cache(), CodeCacheOutcome::Disabled) {
        module = compile();
        assert!(module.loaded_from_cache(), "{:?}", module.code_cache());
    }
    Instance::new(store, &module, None).unwrap_or_else(|e| panic!("{e}"))
}

fn call(store: &Store, instance: &Instance, name: &str, args: &[Value]) -> Vec<Value> {
    let f = instance.get_func(store, name).expect("the export");
    f.call(store, args)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The checkpoints recorded since the last call, emptied.
fn take(found: &Found) -> Vec<(i32, Vec<u64>)> {
    std::mem::take(&mut *found.lock().unwrap())
}

const PRELUDE: &str = r#"
    (import "host" "walk" (func $walk (param i32)))
    (export "walk" (func $walk))
    (import "host" "reenter" (func $reenter (param i32)))
    (global $g (mut externref) (ref.null extern))
    (table $t 2 anyref)
    (func (export "set_global") (param externref) (global.set $g (local.get 0)))
    (func (export "set_table") (param anyref) (table.set $t (i32.const 0) (local.get 0)))
"#;

fn module_wat(body: &str) -> String {
    format!("(module {PRELUDE} {body})")
}

/// One frame: parameters, a local set before the call, values pushed by `ref.i31`,
/// `global.get` and `table.get` on the operand stack, and values that are not live
/// across the call (a local overwritten before it, an operand dropped, a local never
/// read after it), which need not be found.
const ONE_FRAME: &str = r#"
    (func (export "one") (param $a externref) (param $b anyref)
        (result i31ref externref anyref externref anyref i31ref)
        (local $c i31ref) (local $dead anyref) (local $unused i31ref)
        (local.set $c (ref.i31 (i32.const 7)))
        (local.set $dead (ref.i31 (i32.const 99)))
        (local.set $dead (ref.null any))
        (local.set $unused (ref.i31 (i32.const 98)))
        (drop (ref.i31 (i32.const 97)))
        (ref.i31 (i32.const 11))
        (global.get $g)
        (table.get $t (i32.const 0))
        (call $walk (i32.const 1))
        (local.get $a) (local.get $b) (local.get $c))
"#;

fn one_frame_locals_and_operands(setup: Setup) {
    let (store, found, _cache) = store_with_walker(setup);
    let instance = instantiate(&store, &module_wat(ONE_FRAME));
    call(&store, &instance, "set_global", &[host(40)]);
    call(&store, &instance, "set_table", &[i31(-5)]);
    let (a, b) = (host(1), i31(2));
    let results = call(&store, &instance, "one", &[a.clone(), b.clone()]);
    let expected = [i31(11), host(40), i31(-5), a, b, i31(7)];
    assert_eq!(results, expected);
    let walks = take(&found);
    assert_eq!(walks.len(), 1);
    assert_eq!(walks[0].0, 1);
    assert_eq!(
        sorted(walks[0].1.clone()),
        sorted(expected.iter().map(raw).collect())
    );
}

/// Three Wasm frames, each holding its own values across the call to the next (a block
/// result and a typed `select` included), the innermost calling the walker.
const NESTED_FRAMES: &str = r#"
    (func $inner (param $x anyref) (result anyref externref)
        (local $y externref)
        (local.set $y (global.get $g))
        (call $walk (i32.const 2))
        (local.get $x) (local.get $y))
    (func $middle (param $p externref) (param $flag i32)
        (result i31ref anyref externref externref i31ref)
        (block (result i31ref) (ref.i31 (i32.const 21)))
        (call $inner (ref.i31 (i32.const 22)))
        (local.get $p)
        (select (result i31ref)
            (ref.i31 (i32.const 23)) (ref.i31 (i32.const 24)) (local.get $flag))
        (call $walk (i32.const 3)))
    (func (export "nested") (param $q anyref)
        (result i31ref anyref externref externref i31ref anyref)
        (call $middle (global.get $g) (i32.const 1))
        (local.get $q))
"#;

fn nested_wasm_frames(setup: Setup) {
    let (store, found, _cache) = store_with_walker(setup);
    let instance = instantiate(&store, &module_wat(NESTED_FRAMES));
    call(&store, &instance, "set_global", &[host(50)]);
    let q = i31(60);
    let results = call(&store, &instance, "nested", std::slice::from_ref(&q));
    assert_eq!(
        results,
        [i31(21), i31(22), host(50), host(50), i31(23), q.clone()]
    );
    let walks = take(&found);
    assert_eq!(walks.len(), 2);
    // At the innermost call: $inner's x and y, $middle's block result and p (the
    // argument it passed on is not live in it), "nested"'s q.
    let at_inner = [i31(22), host(50), i31(21), host(50), q.clone()];
    assert_eq!(walks[0].0, 2);
    assert_eq!(
        sorted(walks[0].1.clone()),
        sorted(at_inner.iter().map(raw).collect())
    );
    // At $middle's own call: its operands (the block result, $inner's two results, p,
    // the select's result) and q.
    let at_middle = [i31(21), i31(22), host(50), host(50), i31(23), q];
    assert_eq!(walks[1].0, 3);
    assert_eq!(
        sorted(walks[1].1.clone()),
        sorted(at_middle.iter().map(raw).collect())
    );
}

/// Wasm -> host -> Wasm -> host: the walk continues past the Rust frames of `reenter`
/// into the outer Wasm frames, through the outer host call's exit.
const REENTERED: &str = r#"
    (func (export "inner") (param $n i32)
        (local $v externref)
        (local.set $v (global.get $g))
        (i32.const 0)
        (ref.i31 (local.get $n))
        (call $walk (i32.const 4))
        (table.set $t)
        (table.set $t (i32.const 1) (any.convert_extern (local.get $v))))
    (func $outer_helper (param $h anyref) (result anyref)
        (call $reenter (i32.const 31))
        (local.get $h))
    (func (export "outer") (param $e externref) (result anyref externref anyref anyref)
        (ref.i31 (i32.const 32))
        (drop (call $outer_helper (ref.i31 (i32.const 33))))
        (local.get $e)
        (table.get $t (i32.const 0))
        (table.get $t (i32.const 1)))
"#;

fn wasm_host_wasm_host(setup: Setup) {
    let (store, found, _cache) = store_with_walker(setup);
    let instance = instantiate(&store, &module_wat(REENTERED));
    call(&store, &instance, "set_global", &[host(70)]);
    let e = host(80);
    let results = call(&store, &instance, "outer", std::slice::from_ref(&e));
    // The table's second element is the global's host reference, as an `anyref`.
    let results: Vec<u64> = results.iter().map(raw).collect();
    assert_eq!(
        results,
        [raw(&i31(32)), raw(&e), raw(&i31(31)), raw(&host(70))]
    );
    let walks = take(&found);
    assert_eq!(walks.len(), 1);
    assert_eq!(walks[0].0, 4);
    // "inner": v and the i31 31 on its operand stack; then, past `reenter`,
    // $outer_helper's h (i31 33), and "outer"'s i31 32 on its operand stack and e.
    let expected = [host(70), i31(31), i31(33), i31(32), e];
    assert_eq!(
        sorted(walks[0].1.clone()),
        sorted(expected.iter().map(raw).collect())
    );
}

/// No host call of compiled code under way, nothing to find: `walk` called by the
/// embedder, before any Wasm code ran (no runtime yet) and after a call that went
/// through host calls (their exits are unlinked).
fn nothing_outside_host_calls_of_wasm(setup: Setup) {
    let (store, found, _cache) = store_with_walker(setup);
    let instance = instantiate(&store, &module_wat(ONE_FRAME));
    let walk = instance.get_func(&store, "walk").expect("re-exported walk");
    walk.call(&store, &[Value::I32(8)]).unwrap();
    call(&store, &instance, "one", &[host(1), i31(2)]);
    walk.call(&store, &[Value::I32(9)]).unwrap();
    let walks = take(&found);
    let checkpoints: Vec<i32> = walks.iter().map(|(c, _)| *c).collect();
    assert_eq!(checkpoints, [8, 1, 9]);
    assert_eq!(walks[0].1, []);
    assert_eq!(walks[2].1, []);
}

/// Loop parameters and results, a caught exception's payload (block parameters the
/// catch branches to), values live across the `throw` libcall, a local that is a
/// different value on each path to the call, and a tail call to the host function.
const CONTROL: &str = r#"
    (tag $e (param anyref))
    (func (export "control") (param $x anyref) (result i31ref anyref anyref)
        (ref.i31 (i32.const 41))
        (loop (param i31ref) (result i31ref)
            (call $walk (i32.const 10)))
        (block $caught (result anyref)
            (try_table (catch $e $caught)
                (throw $e (ref.i31 (i32.const 42))))
            (unreachable))
        (call $walk (i32.const 11))
        (local.get $x))
    ;; A local assigned on two paths: at the join it is a new value (a block parameter
    ;; the SSA construction makes), live across the call.
    (func (export "joined") (param $c i32) (result i31ref)
        (local $l i31ref)
        (if (local.get $c)
            (then (local.set $l (ref.i31 (i32.const 51))))
            (else (local.set $l (ref.i31 (i32.const 52)))))
        (call $walk (i32.const 12))
        (local.get $l))
    ;; A tail call to the host function: the frame that made it is gone, and the walk
    ;; starts in its caller, at the call of the function that made the tail call.
    (func $tail_to_walk (param $gone anyref) (return_call $walk (i32.const 13)))
    (func (export "tail") (param $x anyref) (result anyref)
        (call $tail_to_walk (ref.i31 (i32.const 61)))
        (local.get $x))
"#;

fn loops_and_caught_exceptions(setup: Setup) {
    let (store, found, _cache) = store_with_walker(setup);
    let instance = instantiate(&store, &module_wat(CONTROL));
    let x = i31(40);
    let results = call(&store, &instance, "control", std::slice::from_ref(&x));
    assert_eq!(results, [i31(41), i31(42), x.clone()]);
    let walks = take(&found);
    assert_eq!(walks.len(), 2);
    assert_eq!(walks[0].0, 10);
    assert_eq!(
        sorted(walks[0].1.clone()),
        sorted(vec![raw(&i31(41)), raw(&x)])
    );
    assert_eq!(walks[1].0, 11);
    let at_11 = [i31(41), i31(42), x.clone()].iter().map(raw).collect();
    assert_eq!(sorted(walks[1].1.clone()), sorted(at_11));
    for (c, l) in [(1, 51), (0, 52)] {
        assert_eq!(
            call(&store, &instance, "joined", &[Value::I32(c)]),
            [i31(l)]
        );
        assert_eq!(take(&found), [(12, vec![raw(&i31(l))])]);
    }
    assert_eq!(
        call(&store, &instance, "tail", std::slice::from_ref(&x)),
        std::slice::from_ref(&x)
    );
    assert_eq!(take(&found), [(13, vec![raw(&x)])]);
}

/// Each test under every [`Setup`].
macro_rules! under_every_setup {
    ($($name:ident),* $(,)?) => {
        mod checked {
            $( #[test] fn $name() { super::$name(super::Setup::Checked) } )*
        }
        mod signal_traps {
            $( #[test] fn $name() { super::$name(super::Setup::SignalTraps) } )*
        }
        mod metered {
            $( #[test] fn $name() { super::$name(super::Setup::Metered) } )*
        }
        mod cached {
            $( #[test] fn $name() { super::$name(super::Setup::Cached) } )*
        }
    };
}

under_every_setup!(
    one_frame_locals_and_operands,
    nested_wasm_frames,
    wasm_host_wasm_host,
    loops_and_caught_exceptions,
    nothing_outside_host_calls_of_wasm,
);
