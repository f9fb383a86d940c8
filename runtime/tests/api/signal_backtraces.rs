//! Backtraces of traps by signal (`Config::signal_traps`): an out-of-bounds access
//! that faults gives exactly the backtrace the same access gives with explicit bounds
//! checks, deep in a call chain, across instances, past the kept frames of a deep
//! recursion, through host functions that call back into Wasm, and on several threads
//! at once. The interpreter ignores the setting; it runs the same tests against the
//! same expected frames.

use std::sync::{Arc, Barrier};

use runtime::{
    Backtrace, Caller, Config, Engine, Error, HostModuleBuilder, Instance, Store, Strategy,
    TrapKind, Value, WasmFeatures,
};

use crate::common::{engine_with, instantiate};

on_both_engines!(
    out_of_bounds_deep_in_a_chain,
    out_of_bounds_across_instances,
    through_call_indirect_tail_calls_and_try_table,
    recursion_past_the_kept_frames,
    trap_under_a_host_call_back,
    deep_frames_on_both_sides_of_a_host_function,
    traps_on_two_threads_at_once,
);

/// A frame as `(func index, func name, module name)`.
type Frame = (u32, Option<String>, Option<String>);

/// What a backtrace says: its kept frames and how many it left out.
#[derive(Debug, PartialEq)]
struct Frames {
    kept: Vec<Frame>,
    omitted: usize,
}

fn frames_of(backtrace: &Backtrace) -> Frames {
    let kept = (backtrace.frames())
        .map(|f| {
            let name = |s: Option<&str>| s.map(str::to_string);
            (f.func_index(), name(f.func_name()), name(f.module_name()))
        })
        .collect();
    Frames {
        kept,
        omitted: backtrace.omitted(),
    }
}

fn named(index: u32, func: &str, module: &str) -> Frame {
    (index, Some(func.to_string()), Some(module.to_string()))
}

fn engine(strategy: Strategy, signal_traps: bool) -> Engine {
    engine_with(Config::new(strategy).signal_traps(signal_traps))
}

/// Calls `name(args)`, which must trap out of bounds; the trap's frames.
fn oob_frames(store: &Store, inst: &Instance, name: &str, args: &[Value]) -> Frames {
    let func = inst.get_func(store, name).expect("export");
    match func.call(store, args) {
        Err(e) if e.trap_kind() == Some(TrapKind::MemoryOutOfBounds) => {
            frames_of(e.backtrace().expect("a backtrace"))
        }
        other => panic!("{name}{args:?}: expected an out-of-bounds trap, got {other:?}"),
    }
}

/// Runs `scenario` with signal traps off and on: both give `expected`.
fn same_with_and_without(
    strategy: Strategy,
    expected: &Frames,
    scenario: impl Fn(&Engine) -> Frames,
) {
    for signal_traps in [false, true] {
        let frames = scenario(&engine(strategy, signal_traps));
        assert_eq!(&frames, expected, "signal traps {signal_traps}");
    }
}

/// `f0` calls `f1` ... calls `f9`, passing the address on; `f9` loads or stores there
/// (the address a parameter, so the access has no check with signal traps). An
/// import first, so defined functions start at index 1.
const CHAIN: &str = r#"(module $chain
    (import "host" "nop" (func $nop))
    (memory 1)
    (func $f0 (export "load") (param i32) local.get 0 call $f1)
    (func $f1 (param i32) call $nop local.get 0 call $f2)
    (func $f2 (param i32) local.get 0 call $f3)
    (func $f3 (param i32) local.get 0 call $f4)
    (func $f4 (param i32) local.get 0 call $f5)
    (func $f5 (param i32) local.get 0 call $f6)
    (func $f6 (param i32) local.get 0 call $f7)
    (func $f7 (param i32) local.get 0 call $f8)
    (func $f8 (param i32) local.get 0 call $f9)
    (func $f9 (param i32) local.get 0 i64.load offset=8 drop)
    (func $store (export "store") (param i32) local.get 0 call $store_in)
    (func $store_in (param i32) local.get 0 i32.const 7 i32.store16 offset=1000))"#;

fn out_of_bounds_deep_in_a_chain(strategy: Strategy) {
    let load: Vec<Frame> = (0..10)
        .rev()
        .map(|i| named(i + 1, &format!("f{i}"), "chain"))
        .collect();
    let store_frames = vec![named(12, "store_in", "chain"), named(11, "store", "chain")];
    // Just past the end, far into the guard, and at the top of the address space.
    for addr in [65536 - 15, 65536, 1 << 20, -16] {
        let arg = [Value::I32(addr)];
        for (export, frames) in [("load", &load), ("store", &store_frames)] {
            let expected = Frames {
                kept: frames.clone(),
                omitted: 0,
            };
            same_with_and_without(strategy, &expected, |engine| {
                let store = Store::new(engine);
                HostModuleBuilder::new("host")
                    .func_wrap("nop", || {})
                    .instantiate(&store)
                    .unwrap();
                let inst = instantiate(&store, CHAIN, None);
                oob_frames(&store, &inst, export, &arg)
            });
        }
    }
}

/// The faulting function is in one instance, its callers in another: each frame found
/// in, and named from, its own module.
fn out_of_bounds_across_instances(strategy: Strategy) {
    let expected = Frames {
        kept: vec![
            named(1, "read", "lib"),
            named(0, "helper", "lib"),
            named(2, "main", "app"),
            named(1, "start", "app"),
        ],
        omitted: 0,
    };
    same_with_and_without(strategy, &expected, |engine| {
        let store = Store::new(engine);
        instantiate(
            &store,
            r#"(module $lib
                (memory 1)
                (func $helper (export "helper") (param i32) local.get 0 call $read)
                (func $read (param i32) local.get 0 f64.load drop))"#,
            Some("lib"),
        );
        let inst = instantiate(
            &store,
            r#"(module $app
                (import "lib" "helper" (func $helper (param i32)))
                (func $start (export "start") (param i32) local.get 0 call $main)
                (func $main (param i32) local.get 0 call $helper))"#,
            None,
        );
        oob_frames(&store, &inst, "start", &[Value::I32(70_000)])
    });
}

/// The chain reaches the fault through `call_indirect`, a tail call (whose caller's
/// frame it replaced, so that frame is gone both ways) and `try_table`s (which catch no
/// trap), and the fault is a `v128.load` inside one.
fn through_call_indirect_tail_calls_and_try_table(strategy: Strategy) {
    let expected = Frames {
        kept: vec![
            named(3, "leaf", "mixed"),
            named(2, "leaf_caller", "mixed"),
            named(0, "top", "mixed"),
        ],
        omitted: 0,
    };
    let features = WasmFeatures::WASM2 | WasmFeatures::TAIL_CALL | WasmFeatures::EXCEPTIONS;
    for signal_traps in [false, true] {
        let config = Config::new(strategy)
            .features(features)
            .signal_traps(signal_traps);
        let store = Store::new(&engine_with(config));
        let inst = instantiate(
            &store,
            r#"(module $mixed
                (type $t (func (param i32)))
                (table 1 funcref)
                (elem (i32.const 0) $via_table)
                (memory 1)
                (func $top (export "top") (param i32)
                    (block $h
                        (try_table (catch_all $h)
                            local.get 0 i32.const 0 call_indirect (type $t))))
                (func $via_table (param i32) local.get 0 return_call $leaf_caller)
                (func $leaf_caller (param i32) local.get 0 call $leaf)
                (func $leaf (param i32)
                    (block $h
                        (try_table (catch_all $h) local.get 0 v128.load drop))))"#,
            None,
        );
        let frames = oob_frames(&store, &inst, "top", &[Value::I32(65536 - 8)]);
        assert_eq!(frames, expected, "signal traps {signal_traps}");
    }
}

/// `$recurse(n)` recurses `n` times, then loads out of bounds: `n + 2` frames with
/// `$entry`.
const RECURSION: &str = r#"(module $deep
    (memory 1)
    (func $entry (export "entry") (param i32) local.get 0 call $recurse)
    (func $recurse (param i32)
        local.get 0
        if
            local.get 0 i32.const 1 i32.sub call $recurse
        else
            local.get 0 i32.const 65536 i32.add i32.load drop
        end))"#;

/// Around and far past the 64 + 8 frames a backtrace keeps: the same frames kept and
/// the same count left out.
fn recursion_past_the_kept_frames(strategy: Strategy) {
    let (head, tail) = (Backtrace::HEAD_FRAMES, Backtrace::TAIL_FRAMES);
    let kept_frames = head + tail;
    for depth in [
        kept_frames - 3,
        kept_frames - 2,
        kept_frames - 1,
        kept_frames,
        kept_frames + 9,
        1000,
        5000,
    ] {
        let total = depth + 2;
        let kept = total.min(kept_frames);
        let mut expected = Frames {
            kept: vec![named(1, "recurse", "deep"); kept - 1],
            omitted: total - kept,
        };
        expected.kept.push(named(0, "entry", "deep"));
        same_with_and_without(strategy, &expected, |engine| {
            let store = Store::new(engine);
            let inst = instantiate(&store, RECURSION, None);
            oob_frames(&store, &inst, "entry", &[Value::I32(depth as i32)])
        });
    }
}

/// A host function `host.call_back(n)` that calls the caller's export `inner(n)`.
fn call_back_host(store: &Store) {
    HostModuleBuilder::new("host")
        .func_wrap(
            "call_back",
            |caller: &mut Caller<'_>, n: i32| -> runtime::Result<()> {
                let inner = (caller.get_export("inner").and_then(|e| e.into_func()))
                    .ok_or_else(|| Error::host("no export inner"))?;
                caller.call(inner, &[Value::I32(n)])?;
                Ok(())
            },
        )
        .instantiate(store)
        .unwrap();
}

/// `outer(n)` calls `middle(n)`, which calls the host, which calls `inner(n)`, which
/// recurses `n` times in `$recurse` before loading out of bounds.
const CALL_BACK: &str = r#"(module $guest
    (import "host" "call_back" (func $call_back (param i32)))
    (memory 1)
    (func $outer (export "outer") (param i32) local.get 0 call $middle)
    (func $middle (param i32) local.get 0 call $call_back)
    (func $inner (export "inner") (param i32) local.get 0 call $recurse)
    (func $recurse (param i32)
        local.get 0
        if
            local.get 0 i32.const 1 i32.sub call $recurse
        else
            i32.const -1 i32.load8_u drop
        end))"#;

/// The nested entry's frames, then, as the trap passes out through the host function,
/// the outer Wasm frames; the host function is no frame.
fn trap_under_a_host_call_back(strategy: Strategy) {
    let expected = Frames {
        kept: vec![
            named(4, "recurse", "guest"),
            named(4, "recurse", "guest"),
            named(3, "inner", "guest"),
            named(2, "middle", "guest"),
            named(1, "outer", "guest"),
        ],
        omitted: 0,
    };
    same_with_and_without(strategy, &expected, |engine| {
        let store = Store::new(engine);
        call_back_host(&store);
        let inst = instantiate(&store, CALL_BACK, None);
        oob_frames(&store, &inst, "outer", &[Value::I32(1)])
    });
}

/// A deep recursion under the host function: the frames left out are counted across
/// the nested entry, and the last kept ones end with the outer Wasm frames.
fn deep_frames_on_both_sides_of_a_host_function(strategy: Strategy) {
    let depth = 300;
    let total = depth + 1 + 3;
    let (head, tail) = (Backtrace::HEAD_FRAMES, Backtrace::TAIL_FRAMES);
    let mut kept = vec![named(4, "recurse", "guest"); head + tail - 3];
    kept.extend([
        named(3, "inner", "guest"),
        named(2, "middle", "guest"),
        named(1, "outer", "guest"),
    ]);
    let expected = Frames {
        kept,
        omitted: total - head - tail,
    };
    same_with_and_without(strategy, &expected, |engine| {
        let store = Store::new(engine);
        call_back_host(&store);
        let inst = instantiate(&store, CALL_BACK, None);
        oob_frames(&store, &inst, "outer", &[Value::I32(depth as i32)])
    });
}

/// Two threads trap at the same time, each its own depth, many times: each trap's
/// frames are its own thread's.
fn traps_on_two_threads_at_once(strategy: Strategy) {
    for signal_traps in [false, true] {
        let engine = engine(strategy, signal_traps);
        let start = Arc::new(Barrier::new(2));
        let threads: Vec<_> = [3usize, 90]
            .into_iter()
            .map(|depth| {
                let (engine, start) = (engine.clone(), start.clone());
                std::thread::spawn(move || {
                    let store = Store::new(&engine);
                    let inst = instantiate(&store, RECURSION, None);
                    let total = depth + 2;
                    let kept = total.min(Backtrace::HEAD_FRAMES + Backtrace::TAIL_FRAMES);
                    let mut expected = Frames {
                        kept: vec![named(1, "recurse", "deep"); kept - 1],
                        omitted: total - kept,
                    };
                    expected.kept.push(named(0, "entry", "deep"));
                    start.wait();
                    for _ in 0..200 {
                        let arg = [Value::I32(depth as i32)];
                        let frames = oob_frames(&store, &inst, "entry", &arg);
                        assert_eq!(frames, expected, "depth {depth}");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
    }
}

/// Only where signal traps work (elsewhere the engine installs no handler to chain to).
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod by_signal {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use runtime::{Engine, Store, Strategy, Value};

    use super::{RECURSION, engine, oob_frames};
    use crate::common::{instantiate, isolated};

    static FAULTS_SEEN: AtomicUsize = AtomicUsize::new(0);
    static ENGINES_HANDLER: AtomicUsize = AtomicUsize::new(0);

    /// Counts a fault and passes it on to the engine's handler, which it replaced.
    extern "C" fn counting_handler(
        signal: libc::c_int,
        info: *mut libc::siginfo_t,
        context: *mut libc::c_void,
    ) {
        FAULTS_SEEN.fetch_add(1, Ordering::SeqCst);
        type Action = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);
        let handler = ENGINES_HANDLER.load(Ordering::SeqCst);
        // SAFETY: the engine installs its handler with SA_SIGINFO (checked when recorded).
        let engines = unsafe { std::mem::transmute::<usize, Action>(handler) };
        engines(signal, info, context);
    }

    /// These traps really come through the signal handler: one that counts faults and
    /// chains to the engine's (installed after it, as RATIONALE.md says an embedder must)
    /// sees one fault per trap with signal traps on, none with them off, and the
    /// backtraces are the same. In a child process: handlers are process-wide.
    #[test]
    fn the_backtraces_are_of_traps_by_signal() {
        let path = "signal_backtraces::by_signal::the_backtraces_are_of_traps_by_signal";
        isolated(path, || {
            let on = engine(Strategy::Native, true);
            // SAFETY: reads the engine's action, then installs one with the SA_SIGINFO
            // signature that chains to it.
            unsafe {
                let mut engines: libc::sigaction = std::mem::zeroed();
                assert_eq!(
                    libc::sigaction(libc::SIGSEGV, std::ptr::null(), &mut engines),
                    0
                );
                assert_ne!(engines.sa_flags & libc::SA_SIGINFO, 0);
                ENGINES_HANDLER.store(engines.sa_sigaction, Ordering::SeqCst);
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = counting_handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                assert_eq!(
                    libc::sigaction(libc::SIGSEGV, &action, std::ptr::null_mut()),
                    0
                );
            }
            let run = |engine: &Engine| {
                let store = Store::new(engine);
                let inst = instantiate(&store, RECURSION, None);
                (0..3)
                    .map(|_| oob_frames(&store, &inst, "entry", &[Value::I32(100)]))
                    .collect::<Vec<_>>()
            };
            let by_signal = run(&on);
            assert_eq!(FAULTS_SEEN.load(Ordering::SeqCst), 3);
            let by_check = run(&engine(Strategy::Native, false));
            assert_eq!(FAULTS_SEEN.load(Ordering::SeqCst), 3);
            assert_eq!(by_signal, by_check);
            assert_eq!(by_check[0].kept.len(), 72);
            assert_eq!(by_check[0].omitted, 102 - 72);
        });
    }
}
