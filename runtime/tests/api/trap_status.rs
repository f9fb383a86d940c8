//! How a trap, an exception or a host function's error reaches the Wasm code that made
//! the call, in the cases where a lost or stale "something happened" would show: the
//! native engine learns it from the status every compiled function returns (RATIONALE.md,
//! "Native engine: VM context and traps"), so these check a host function that swallows a
//! nested trap, tail calls (whose callee returns its status to the caller's caller),
//! callees with more results than registers, and exceptions caught after such calls, each
//! under every setting that changes the compiled code.

use runtime::{
    Caller, Config, Extern, HostModuleBuilder, Instance, Store, Strategy, TrapKind, Value,
    WasmFeatures,
};

use crate::common::{call, engine_with, instantiate, trap_kind};

on_both_engines!(
    a_host_function_that_swallows_a_nested_trap,
    tail_calls_hand_the_outcome_to_the_callers_caller,
    many_results_and_a_trap,
    exceptions_caught_after_calls,
);

/// Every setting that shapes native code (interrupts, fuel, signal traps), one at a
/// time, with the Wasm 3.0 features these tests use; and signal traps without exception
/// handling, where a function that sees the flag set leaves by signal
/// ([`WITHOUT_EXCEPTIONS`]).
fn stores(strategy: Strategy) -> Vec<(&'static str, Store)> {
    let base = || Config::new(strategy).features(WasmFeatures::WASM3 - WasmFeatures::THREADS);
    let no_exceptions = WasmFeatures::EXCEPTIONS | WasmFeatures::LEGACY_EXCEPTIONS;
    let configs = [
        ("plain", base()),
        ("interruptible", base().interruptible(true)),
        ("fuel", base().consume_fuel(true)),
        ("signal traps", base().signal_traps(true)),
        (
            WITHOUT_EXCEPTIONS,
            Config::new(strategy)
                .features(WasmFeatures::WASM3 - WasmFeatures::THREADS - no_exceptions)
                .signal_traps(true),
        ),
    ];
    configs
        .into_iter()
        .map(|(name, config)| {
            let store = Store::new(&engine_with(config));
            if name == "fuel" {
                store.set_fuel(1 << 40).unwrap();
            }
            (name, store)
        })
        .collect()
}

/// The setting of [`stores`] that cannot compile `try_table` or `throw`.
const WITHOUT_EXCEPTIONS: &str = "signal traps, no exception handling";

fn global_i32(store: &Store, instance: &Instance, name: &str) -> i32 {
    match instance.get_export(store, name) {
        Some(Extern::Global(g)) => g.get(store).unwrap().i32().expect("an i32 global"),
        other => panic!("{name}: {other:?}"),
    }
}

/// A host function calls back into Wasm, which traps, and returns normally anyway: the
/// Wasm code that called the host function goes on as after any normal return (the
/// nested entry took the trap), and the next call traps or not on its own.
fn a_host_function_that_swallows_a_nested_trap(strategy: Strategy) {
    for (setting, store) in stores(strategy) {
        HostModuleBuilder::new("host")
            .func_wrap(
                "swallow",
                |c: &mut Caller<'_>, x: i32| -> runtime::Result<i32> {
                    let Some(Extern::Func(inner)) = c.get_export("inner") else {
                        panic!("no inner")
                    };
                    Ok(match c.call(inner, &[Value::I32(x)]) {
                        Ok(r) => r[0].i32().expect("an i32"),
                        Err(e) => {
                            assert_eq!(e.trap_kind(), Some(TrapKind::IntegerDivideByZero));
                            -1
                        }
                    })
                },
            )
            .instantiate(&store)
            .unwrap();
        let instance = instantiate(
            &store,
            r#"(module
                (import "host" "swallow" (func $swallow (param i32) (result i32)))
                (global $after (export "after") (mut i32) (i32.const 0))
                (func (export "inner") (param i32) (result i32)
                  (i32.div_u (i32.const 100) (local.get 0)))
                (func (export "outer") (param i32) (result i32)
                  (local $r i32)
                  (local.set $r (call $swallow (local.get 0)))
                  (global.set $after (i32.add (global.get $after) (i32.const 1)))
                  (i32.add (local.get $r) (call $swallow (i32.const 50)))))"#,
            None,
        );
        for (x, expected) in [(0, -1 + 2), (4, 25 + 2), (0, -1 + 2)] {
            let r = call(&store, &instance, "outer", &[Value::I32(x)]);
            assert_eq!(r.unwrap(), [Value::I32(expected)], "{setting}, x = {x}");
        }
        assert_eq!(global_i32(&store, &instance, "after"), 3, "{setting}");
    }
}

/// `return_call`, `return_call_indirect` and `return_call_ref` to a function that traps
/// or to a host function that fails: the outcome goes to the function that called the
/// tail-calling one, which does nothing more (its global stays), and the trap's
/// backtrace lacks the replaced frame; with an argument that does not fail, the result
/// comes back the same ways.
fn tail_calls_hand_the_outcome_to_the_callers_caller(strategy: Strategy) {
    for (setting, store) in stores(strategy) {
        HostModuleBuilder::new("host")
            .func_wrap("half", |x: i32| -> runtime::Result<i32> {
                match x % 2 {
                    0 => Ok(x / 2),
                    _ => Err(TrapKind::IntegerOverflow.into()),
                }
            })
            .instantiate(&store)
            .unwrap();
        let instance = instantiate(
            &store,
            r#"(module $tails
                (import "host" "half" (func $half (param i32) (result i32)))
                (type $t (func (param i32) (result i32)))
                (table 2 funcref)
                (elem (i32.const 0) $half $div)
                (elem declare func $div $half)
                (global $after (export "after") (mut i32) (i32.const 0))
                (func $div (param i32) (result i32) (i32.div_u (i32.const 100) (local.get 0)))
                (func $direct (param i32) (result i32) (return_call $div (local.get 0)))
                (func $direct_host (param i32) (result i32) (return_call $half (local.get 0)))
                (func $indirect (param i32 i32) (result i32)
                  (return_call_indirect (type $t) (local.get 0) (local.get 1)))
                (func $by_ref (param i32) (result i32)
                  (return_call_ref $t (local.get 0)
                    (select (result (ref $t)) (ref.func $div) (ref.func $half)
                      (i32.lt_u (local.get 0) (i32.const 10)))))
                (func $count (param i32) (result i32)
                  (global.set $after (i32.add (global.get $after) (i32.const 1)))
                  (local.get 0))
                (func (export "direct") (param i32) (result i32)
                  (call $count (call $direct (local.get 0))))
                (func (export "direct_host") (param i32) (result i32)
                  (call $count (call $direct_host (local.get 0))))
                (func (export "indirect_host") (param i32) (result i32)
                  (call $count (call $indirect (local.get 0) (i32.const 0))))
                (func (export "indirect") (param i32) (result i32)
                  (call $count (call $indirect (local.get 0) (i32.const 1))))
                (func (export "by_ref") (param i32) (result i32)
                  (call $count (call $by_ref (local.get 0)))))"#,
            None,
        );
        // (export, an argument, its result, an argument that fails, how)
        let cases = [
            ("direct", 4, 25, 0, TrapKind::IntegerDivideByZero),
            ("direct_host", 12, 6, 13, TrapKind::IntegerOverflow),
            ("indirect_host", 12, 6, 13, TrapKind::IntegerOverflow),
            ("indirect", 4, 25, 0, TrapKind::IntegerDivideByZero),
            ("by_ref", 5, 20, 0, TrapKind::IntegerDivideByZero),
            ("by_ref", 12, 6, 13, TrapKind::IntegerOverflow),
        ];
        let mut counted = 0;
        for (name, good, expected, bad, kind) in cases {
            let r = call(&store, &instance, name, &[Value::I32(good)]);
            assert_eq!(
                r.unwrap(),
                [Value::I32(expected)],
                "{setting}, {name}({good})"
            );
            counted += 1;
            let e = call(&store, &instance, name, &[Value::I32(bad)]).unwrap_err();
            assert_eq!(e.trap_kind(), Some(kind), "{setting}, {name}({bad})");
            let frames: Vec<Option<&str>> = (e.backtrace().expect("a backtrace").frames())
                .map(|f| f.func_name())
                .collect();
            // The exported function, and `$div` when it trapped itself; the tail-calling
            // function's frame was replaced.
            let mut expected_frames = vec![None];
            if kind == TrapKind::IntegerDivideByZero {
                expected_frames.insert(0, Some("div"));
            }
            assert_eq!(frames, expected_frames, "{setting}, {name}({bad})");
            assert_eq!(
                global_i32(&store, &instance, "after"),
                counted,
                "{setting}, {name}({bad})"
            );
        }
    }
}

/// A callee with more integer results than the calling convention returns in
/// registers (the rest go through memory), which traps or returns.
fn many_results_and_a_trap(strategy: Strategy) {
    for (setting, store) in stores(strategy) {
        let instance = instantiate(
            &store,
            r#"(module
                (global $after (export "after") (mut i32) (i32.const 0))
                (func $many (param i32) (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i32)
                  (if (i32.eqz (local.get 0)) (then unreachable))
                  (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5)
                  (i64.const 6) (i64.const 7) (i64.const 8) (i64.const 9) (i64.const 10)
                  (local.get 0))
                (func (export "sum") (param i32) (result i64)
                  (local $x i32)
                  (call $many (local.get 0))
                  (local.set $x)
                  (global.set $after (i32.const 1))
                  (i64.extend_i32_u (local.get $x))
                  i64.add i64.add i64.add i64.add i64.add
                  i64.add i64.add i64.add i64.add i64.add))"#,
            None,
        );
        let r = call(&store, &instance, "sum", &[Value::I32(100)]);
        assert_eq!(r.unwrap(), [Value::I64(155)], "{setting}");
        assert_eq!(global_i32(&store, &instance, "after"), 1, "{setting}");
        let r = call(&store, &instance, "sum", &[Value::I32(0)]);
        assert_eq!(trap_kind(r), TrapKind::Unreachable, "{setting}");
    }
}

/// An exception thrown by a callee, a tail-called callee, or a host function is caught
/// by the `try_table` around the call, and the code after it runs normally; an
/// exception a `try_table` does not catch passes through.
fn exceptions_caught_after_calls(strategy: Strategy) {
    let stores = stores(strategy).into_iter();
    for (setting, store) in stores.filter(|(setting, _)| *setting != WITHOUT_EXCEPTIONS) {
        HostModuleBuilder::new("host")
            .func_wrap(
                "rethrow",
                |c: &mut Caller<'_>, x: i32| -> runtime::Result<i32> {
                    let Some(Extern::Func(thrower)) = c.get_export("thrower") else {
                        panic!("no thrower")
                    };
                    // The exception comes out of the nested call as the error, and goes on.
                    c.call(thrower, &[Value::I32(x)])?;
                    Ok(x)
                },
            )
            .instantiate(&store)
            .unwrap();
        let instance = instantiate(
            &store,
            r#"(module
                (import "host" "rethrow" (func $rethrow (param i32) (result i32)))
                (tag $e (param i32))
                (tag $other)
                (func $thrower (export "thrower") (param i32) (result i32)
                  (if (i32.gt_u (local.get 0) (i32.const 10)) (then (throw $e (local.get 0))))
                  (if (i32.eq (local.get 0) (i32.const 7)) (then (throw $other)))
                  (local.get 0))
                (func $tail (param i32) (result i32) (return_call $thrower (local.get 0)))
                (func $catching (param i32) (param $via i32) (result i32)
                  (i32.add (i32.const 2000)
                    (block $caught (result i32)
                      (try_table (catch $e $caught)
                        (return
                          (i32.add (i32.const 1000)
                            (if (result i32) (i32.eqz (local.get $via))
                              (then (call $thrower (local.get 0)))
                              (else (if (result i32) (i32.eq (local.get $via) (i32.const 1))
                                (then (call $tail (local.get 0)))
                                (else (call $rethrow (local.get 0)))))))))
                      (unreachable))))
                (func (export "run") (param i32 i32) (result i32)
                  (call $catching (local.get 0) (local.get 1))))"#,
            None,
        );
        for via in 0..3 {
            let run = |x: i32| call(&store, &instance, "run", &[Value::I32(x), Value::I32(via)]);
            assert_eq!(run(3).unwrap(), [Value::I32(1003)], "{setting}, via {via}");
            assert_eq!(run(12).unwrap(), [Value::I32(2012)], "{setting}, via {via}");
            let e = run(7).unwrap_err();
            assert!(e.trap_kind().is_none(), "{setting}, via {via}: {e}");
            assert_eq!(run(5).unwrap(), [Value::I32(1005)], "{setting}, via {via}");
        }
    }
}
