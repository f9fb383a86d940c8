//! The stack check with `Config::signal_traps`: the native engine leaves it to
//! Cranelift's prologue, whose failed check runs `ud2`, a trap site the signal handler
//! turns into "call stack exhausted", or "interrupted" while an interrupt request has
//! raised the limit. Each scenario runs with signal traps off and on against the same
//! expectations, on both engines (the interpreter ignores the setting).

use std::sync::{Arc, Barrier};

use runtime::{Backtrace, Config, Engine, Instance, Store, Strategy, TrapKind, Value};

use crate::common::{RECURSION_BELOW_HOST, call_back_host, engine_with, instantiate, on_thread};

on_both_engines!(
    exhaustion_backtraces_are_the_same,
    exhaustion_below_a_host_function_is_the_same,
    a_frame_over_32_kib_is_checked_and_interrupted,
    exhaustion_and_out_of_bounds_on_threads_at_once,
);

fn engine(strategy: Strategy, signal_traps: bool) -> Engine {
    engine_with(Config::new(strategy).signal_traps(signal_traps))
}

/// A frame as `(func index, func name)`.
type Frame = (u32, Option<String>);

fn frames(backtrace: &Backtrace) -> Vec<Frame> {
    (backtrace.frames())
        .map(|f| (f.func_index(), f.func_name().map(str::to_string)))
        .collect()
}

fn named(index: u32, name: &str) -> Frame {
    (index, Some(name.to_string()))
}

/// Calls `name(args)`, which must trap with `kind`; the trap's backtrace.
fn trap(store: &Store, inst: &Instance, name: &str, args: &[Value], kind: TrapKind) -> Backtrace {
    let func = inst.get_func(store, name).expect("export");
    match func.call(store, args) {
        Err(e) if e.trap_kind() == Some(kind) => e.backtrace().expect("a backtrace").clone(),
        other => panic!("{name}: expected {kind:?}, got {other:?}"),
    }
}

/// `entry` recurses through `call_indirect`: `$recurse` calls itself through the table,
/// and `$leaf` on the way. `$leaf` is a leaf without a frame, which has no prologue
/// check: with signal traps the failing check is always `$recurse`'s, while with the
/// check in the body it can be `$leaf`'s, one frame further.
const RECURSION: &str = r#"(module $deep
    (type $v (func))
    (type $ii (func (param i32) (result i32)))
    (table 2 funcref)
    (elem (i32.const 0) $recurse $leaf)
    (func $entry (export "entry") call $recurse)
    (func $recurse (type $v)
        (drop (call_indirect (type $ii) (i32.const 5) (i32.const 1)))
        (call_indirect (type $v) (i32.const 0)))
    (func $leaf (type $ii) (i32.add (local.get 0) (i32.const 1))))"#;

/// A plain runaway recursion, whose check fails in `$recurse` wherever it is.
const PLAIN_RECURSION: &str = r#"(module $deep
    (func $entry (export "entry") call $recurse)
    (func $recurse call $recurse))"#;

/// The kept frames of a runaway recursion through [`RECURSION`], with a leading `$leaf`
/// left out (the only difference the check's place makes), and whether it was there.
fn recursion_frames(bt: &Backtrace) -> (Vec<Frame>, bool) {
    let mut kept = frames(bt);
    let in_leaf = kept.first() == Some(&named(2, "leaf"));
    if in_leaf {
        kept.remove(0);
    }
    (kept, in_leaf)
}

/// A runaway recursion: the same kept frames with the check in the prologue (a trap by
/// signal) as with the check in the body, but for a frameless leaf, which has no
/// prologue check and so is never the trapping frame with signal traps; many frames
/// left out either way.
fn exhaustion_backtraces_are_the_same(strategy: Strategy) {
    let plain: Vec<Vec<Frame>> = [false, true]
        .into_iter()
        .map(|signal_traps| {
            let engine = engine(strategy, signal_traps);
            on_thread(1024 * 1024, move || {
                let store = Store::new(&engine);
                let inst = instantiate(&store, PLAIN_RECURSION, None);
                let bt = trap(&store, &inst, "entry", &[], TrapKind::CallStackExhausted);
                assert!(bt.omitted() > 1000, "only {} frames", bt.total_frames());
                frames(&bt)
            })
        })
        .collect();
    assert_eq!(plain[0], plain[1]);
    assert_eq!(
        plain[0].len(),
        Backtrace::HEAD_FRAMES + Backtrace::TAIL_FRAMES
    );
    for signal_traps in [false, true] {
        let engine = engine(strategy, signal_traps);
        let kept = on_thread(1024 * 1024, move || {
            let store = Store::new(&engine);
            let inst = instantiate(&store, RECURSION, None);
            let bt = trap(&store, &inst, "entry", &[], TrapKind::CallStackExhausted);
            assert!(bt.omitted() > 1000, "only {} frames", bt.total_frames());
            let (kept, in_leaf) = recursion_frames(&bt);
            let in_prologue = signal_traps && strategy == Strategy::Native;
            assert!(
                !(in_prologue && in_leaf),
                "a leaf without a frame has no check"
            );
            // Twice: the store works on after the trap.
            let again = trap(&store, &inst, "entry", &[], TrapKind::CallStackExhausted);
            assert_eq!(recursion_frames(&again).0, kept);
            kept
        });
        let (head, tail) = (Backtrace::HEAD_FRAMES, Backtrace::TAIL_FRAMES);
        assert!(kept.len() + 1 >= head + tail);
        let (last, rest) = kept.split_last().unwrap();
        assert_eq!(last, &named(0, "entry"));
        assert!(rest.iter().all(|f| *f == named(1, "recurse")), "{kept:?}");
    }
}

/// Exhaustion in a nested entry (under a host function): the trap by signal lands in
/// the inner entry, and the backtrace continues past the host function as before.
fn exhaustion_below_a_host_function_is_the_same(strategy: Strategy) {
    for signal_traps in [false, true] {
        let engine = engine(strategy, signal_traps);
        on_thread(1024 * 1024, move || {
            let store = Store::new(&engine);
            call_back_host(&store);
            let inst = instantiate(&store, RECURSION_BELOW_HOST, None);
            for _ in 0..2 {
                let bt = trap(&store, &inst, "outer", &[], TrapKind::CallStackExhausted);
                let kept = frames(&bt);
                let (head, tail) = kept.split_at(Backtrace::HEAD_FRAMES);
                assert!(head.iter().all(|f| *f == named(4, "recurse")), "{kept:?}");
                let mut expected = vec![named(4, "recurse"); Backtrace::TAIL_FRAMES - 3];
                expected.extend([named(3, "inner"), named(2, "middle"), named(1, "outer")]);
                assert_eq!(tail, expected, "signal traps {signal_traps}");
            }
        });
    }
}

/// A recursive function with about 48 KiB of values live across its call (loaded from
/// memory before it, which the call may change, so they cannot be recomputed after
/// it), so that its frame is larger than 32 KiB, where Cranelift's prologue check
/// compares the limit alone before it adds the frame size: exhaustion is exhaustion,
/// and under an interrupt request (a limit raised near the top of the address space)
/// the check fails rather than wrapping around.
fn big_frame_module() -> String {
    const LOCALS: usize = 6000;
    let mut body = String::new();
    for i in 0..LOCALS {
        body.push_str(&format!(
            "(local.set {} (i64.load offset={} (i32.const 0)))\n",
            i + 1,
            i * 8
        ));
    }
    body.push_str("(call $big (local.get 0))\n");
    for i in 0..LOCALS {
        body.push_str(&format!("(i64.xor (local.get {}))\n", i + 1));
    }
    format!(
        r#"(module (memory 1)
            (func $big (export "big") (param i64) (result i64) (local {})
                {body})
            (func (export "small") (param i64) (result i64) (i64.add (local.get 0) (i64.const 1))))"#,
        "i64 ".repeat(LOCALS)
    )
}

fn a_frame_over_32_kib_is_checked_and_interrupted(strategy: Strategy) {
    let src = big_frame_module();
    for signal_traps in [false, true] {
        let config = Config::new(strategy)
            .signal_traps(signal_traps)
            .interruptible(true);
        let engine = engine_with(config);
        let src = src.clone();
        on_thread(4 * 1024 * 1024, move || {
            let store = Store::new(&engine);
            let handle = store.interrupt_handle().expect("an interruptible engine");
            let inst = instantiate(&store, &src, None);
            let arg = [Value::I64(1)];
            let bt = trap(&store, &inst, "big", &arg, TrapKind::CallStackExhausted);
            assert!(bt.total_frames() > 10, "{} frames", bt.total_frames());
            handle.interrupt();
            trap(&store, &inst, "big", &arg, TrapKind::Interrupted);
            trap(&store, &inst, "big", &arg, TrapKind::CallStackExhausted);
            let small = inst.get_func(&store, "small").expect("export");
            assert_eq!(small.call(&store, &arg).unwrap(), vec![Value::I64(2)]);
        });
    }
}

/// Several threads, each with its own store, exhaust the stack and access out of
/// bounds in turn, at once: every trap by signal gets its own kind.
fn exhaustion_and_out_of_bounds_on_threads_at_once(strategy: Strategy) {
    let src = r#"(module (memory 1)
        (func $recurse (export "recurse") (param i32) (result i32)
            (i32.add (call $recurse (local.get 0)) (i32.const 1)))
        (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))"#;
    for signal_traps in [false, true] {
        let engine = engine(strategy, signal_traps);
        let start = Arc::new(Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (engine, start) = (engine.clone(), start.clone());
                std::thread::Builder::new()
                    .stack_size(512 * 1024)
                    .spawn(move || {
                        let store = Store::new(&engine);
                        let inst = instantiate(&store, src, None);
                        start.wait();
                        for i in 0..40 {
                            let arg = [Value::I32(65536 + t + i)];
                            trap(&store, &inst, "recurse", &arg, TrapKind::CallStackExhausted);
                            trap(&store, &inst, "load", &arg, TrapKind::MemoryOutOfBounds);
                        }
                    })
                    .expect("spawn")
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
    }
}

/// Only where signal traps work (elsewhere the engine installs no handler).
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod by_signal {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use runtime::{Config, Engine, HostModuleBuilder, Store, Strategy, TrapKind};

    use super::{PLAIN_RECURSION, RECURSION, engine, frames, trap};
    use crate::common::{
        CRASH_CHILD_ENV, assert_child_dies_of, engine_with, instantiate, isolated, module,
    };

    static SEEN: AtomicUsize = AtomicUsize::new(0);
    static ENGINES_HANDLER: AtomicUsize = AtomicUsize::new(0);

    /// Counts a `SIGILL` and passes it on to the engine's handler, which it replaced.
    extern "C" fn counting_handler(
        signal: libc::c_int,
        info: *mut libc::siginfo_t,
        context: *mut libc::c_void,
    ) {
        SEEN.fetch_add(1, Ordering::SeqCst);
        type Action = extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void);
        let handler = ENGINES_HANDLER.load(Ordering::SeqCst);
        // SAFETY: the engine installs its handler with SA_SIGINFO (checked when recorded).
        let engines = unsafe { std::mem::transmute::<usize, Action>(handler) };
        engines(signal, info, context);
    }

    /// Installs `handler` (`SA_SIGINFO`) for `SIGILL`; the action it replaced.
    fn install_sigill(handler: usize) -> libc::sigaction {
        // SAFETY: replaces the process's SIGILL action by one with the SA_SIGINFO
        // signature, reading the old one.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(libc::sigaction(libc::SIGILL, &action, &mut old), 0);
            old
        }
    }

    /// Exhaustion with signal traps really is a `SIGILL` through the engine's handler:
    /// one installed after it, counting and chaining, sees one per trap with signal
    /// traps and none without, and the backtraces are the same. In a child process:
    /// handlers are process-wide.
    #[test]
    fn exhaustion_comes_through_sigill() {
        let path = "signal_stack_checks::by_signal::exhaustion_comes_through_sigill";
        isolated(path, || {
            let on = engine(Strategy::Native, true);
            let engines = install_sigill(counting_handler as *const () as usize);
            assert_ne!(engines.sa_flags & libc::SA_SIGINFO, 0);
            ENGINES_HANDLER.store(engines.sa_sigaction, Ordering::SeqCst);
            let run = |engine: Engine| {
                crate::common::on_thread(1024 * 1024, move || {
                    let store = Store::new(&engine);
                    let inst = instantiate(&store, PLAIN_RECURSION, None);
                    (0..3)
                        .map(|_| {
                            let kind = TrapKind::CallStackExhausted;
                            frames(&trap(&store, &inst, "entry", &[], kind))
                        })
                        .collect::<Vec<_>>()
                })
            };
            let by_signal = run(on);
            assert_eq!(SEEN.load(Ordering::SeqCst), 3);
            let by_check = run(engine(Strategy::Native, false));
            assert_eq!(SEEN.load(Ordering::SeqCst), 3);
            assert_eq!(by_signal, by_check);
        });
    }

    static EMBEDDER_SAW: AtomicUsize = AtomicUsize::new(0);

    /// An embedder's own `SIGILL` handler: counts, and skips the 2-byte `ud2`.
    extern "C" fn embedder_handler(
        _: libc::c_int,
        _: *mut libc::siginfo_t,
        context: *mut libc::c_void,
    ) {
        EMBEDDER_SAW.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the kernel's context for this SA_SIGINFO handler.
        unsafe {
            let registers = &mut (*context.cast::<libc::ucontext_t>()).uc_mcontext.gregs;
            registers[libc::REG_RIP as usize] += 2;
        }
    }

    /// A `ud2` of the host's own, which only `embedder_handler` survives.
    fn ud2() {
        // SAFETY: raises SIGILL; the test's handler skips the instruction.
        unsafe { std::arch::asm!("ud2") };
    }

    /// A `SIGILL` handler installed before the engine's still gets the host's own, and
    /// Wasm's stack checks do not reach it.
    #[test]
    fn an_embedders_sigill_handler_installed_first_still_gets_its_own() {
        let path = "signal_stack_checks::by_signal::an_embedders_sigill_handler_installed_first_still_gets_its_own";
        isolated(path, || {
            install_sigill(embedder_handler as *const () as usize);
            let engine = engine(Strategy::Native, true);
            crate::common::on_thread(1024 * 1024, move || {
                let store = Store::new(&engine);
                let inst = instantiate(&store, RECURSION, None);
                trap(&store, &inst, "entry", &[], TrapKind::CallStackExhausted);
                assert_eq!(EMBEDDER_SAW.load(Ordering::SeqCst), 0);
                ud2();
                assert_eq!(EMBEDDER_SAW.load(Ordering::SeqCst), 1);
                trap(&store, &inst, "entry", &[], TrapKind::CallStackExhausted);
                assert_eq!(EMBEDDER_SAW.load(Ordering::SeqCst), 1);
            });
        });
    }

    /// A `ud2` that is no trap site still kills the process by `SIGILL`, even while a
    /// Wasm call is on the stack (a host function runs it).
    #[test]
    fn a_sigill_outside_trap_sites_still_crashes() {
        let path = "signal_stack_checks::by_signal::a_sigill_outside_trap_sites_still_crashes";
        if std::env::var(CRASH_CHILD_ENV).is_ok() {
            let engine = engine(Strategy::Native, true);
            let store = Store::new(&engine);
            HostModuleBuilder::new("host")
                .func_wrap("ud2", || {
                    ud2();
                    println!("survived a ud2");
                })
                .instantiate(&store)
                .unwrap();
            let src = r#"(module (import "host" "ud2" (func $f))
                (func (export "run") call $f))"#;
            let inst = instantiate(&store, src, None);
            let run = inst.get_func(&store, "run").expect("export");
            let _ = run.call(&store, &[]);
            println!("survived a ud2");
            return;
        }
        assert_child_dies_of(path, libc::SIGILL);
    }

    /// The stack checks' trap sites travel through the code cache: a module loaded from
    /// it is stopped by exhaustion and by an interrupt request like a compiled one
    /// (without its sites the `ud2` would kill the process, hence a child).
    #[test]
    fn cached_code_keeps_its_stack_check_sites() {
        let path = "signal_stack_checks::by_signal::cached_code_keeps_its_stack_check_sites";
        isolated(path, || {
            let dir = tempfile::tempdir().unwrap();
            let config = || {
                Config::new(Strategy::Native)
                    .signal_traps(true)
                    .interruptible(true)
                    .cache_dir(Some(dir.path().to_path_buf()))
            };
            let stored = module(&engine_with(config()), RECURSION);
            assert!(!stored.loaded_from_cache());
            let engine = engine_with(config());
            let loaded = module(&engine, RECURSION);
            assert!(loaded.loaded_from_cache(), "{:?}", loaded.code_cache());
            crate::common::on_thread(1024 * 1024, move || {
                let store = Store::new(&engine);
                let handle = store.interrupt_handle().expect("interruptible");
                let inst = runtime::Instance::new(&store, &loaded, None).unwrap();
                let bt = trap(&store, &inst, "entry", &[], TrapKind::CallStackExhausted);
                assert!(bt.omitted() > 1000, "only {} frames", bt.total_frames());
                handle.interrupt();
                trap(&store, &inst, "entry", &[], TrapKind::Interrupted);
            });
        });
    }
}
