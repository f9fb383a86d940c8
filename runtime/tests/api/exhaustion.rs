//! Call stack exhaustion: unbounded recursion in Wasm, and host <-> Wasm ping-pong
//! through `Caller::call`, on host threads with small stacks. The runtime must return
//! a `CallStackExhausted` trap (or another clean error), never overflow the host stack.
//!
//! Each test runs its body in a child process (this same test binary, filtered to the
//! one test), so a crash (SIGSEGV / stack overflow abort) is reported as a failure of
//! that test instead of killing every test of the binary; the parent also checks that
//! the process lived on.

use runtime::{
    Caller, Config, Error, HostModuleBuilder, Instance, Store, Strategy, TrapKind, Value,
};

use crate::common::{engine_with, instantiate, isolated, on_thread, test_path};

on_both_engines!(
    deep_recursion_traps_on_small_stack,
    deep_recursion_traps_on_main_sized_stack,
    host_wasm_ping_pong_small_stack,
    host_wasm_ping_pong_default_stack,
    deep_wasm_between_host_reentries,
    huge_depth_limit_still_ends_cleanly,
);

const SMALL_STACK: usize = 256 * 1024;

const RECURSIVE: &str = r#"(module
    (type $v (func))
    (table 1 funcref)
    (elem (i32.const 0) $indirect)
    ;; unbounded, with an argument and a result
    (func $f (export "f") (param i32) (result i32)
        local.get 0 i32.const 1 i32.add call $f)
    ;; unbounded, nothing on the operand stack
    (func $g (export "g") call $g)
    ;; unbounded, big frames
    (func $big (export "big") (param i64) (result i64)
        (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64
               i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64
               f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64)
        local.get 0 i64.const 1 i64.add call $big
        local.get 0 i64.add)
    ;; unbounded through call_indirect
    (func $indirect (export "indirect") i32.const 0 call_indirect (type $v))
    ;; bounded: sum 0..=n recursively
    (func $sum (export "sum") (param i32) (result i32)
        local.get 0 i32.eqz
        if (result i32)
            i32.const 0
        else
            local.get 0
            local.get 0 i32.const 1 i32.sub call $sum
            i32.add
        end))"#;

fn assert_exhausted(what: &str, r: runtime::Result<Vec<Value>>) {
    match r {
        Err(Error::Trap(t)) if t.kind == TrapKind::CallStackExhausted => {
            assert!(t.to_string().contains("call stack exhausted"), "{t}");
        }
        other => panic!("{what}: expected a call-stack-exhausted trap, got {other:?}"),
    }
}

fn deep_recursion_traps_on_small_stack(strategy: Strategy) {
    let path = test_path(
        module_path!(),
        "deep_recursion_traps_on_small_stack",
        strategy,
    );
    isolated(&path, || deep_recursion(strategy));
}

fn deep_recursion(strategy: Strategy) {
    let engine = engine_with(Config::new(strategy));
    on_thread(SMALL_STACK, move || {
        let store = Store::new(&engine);
        let inst = instantiate(&store, RECURSIVE, None);
        let func = |n: &str| inst.get_func(&store, n).unwrap();
        let sum = func("sum");
        // A call before, to show the thread and store work.
        assert_eq!(
            sum.call(&store, &[Value::I32(100)]).unwrap(),
            vec![Value::I32(5050)]
        );
        for _ in 0..3 {
            assert_exhausted("f", func("f").call(&store, &[Value::I32(0)]));
            assert_exhausted("g", func("g").call(&store, &[]));
            assert_exhausted("big", func("big").call(&store, &[Value::I64(0)]));
            assert_exhausted("indirect", func("indirect").call(&store, &[]));
            // The same thread then runs a moderately deep call successfully: the depth
            // accounting was reset by the trap.
            assert_eq!(
                sum.call(&store, &[Value::I32(1000)]).unwrap(),
                vec![Value::I32(500500)]
            );
        }
    });
}

fn deep_recursion_traps_on_main_sized_stack(strategy: Strategy) {
    // The default test thread (2 MiB here) must also get a trap, not a crash, with the
    // default call-depth limit.
    let path = test_path(
        module_path!(),
        "deep_recursion_traps_on_main_sized_stack",
        strategy,
    );
    isolated(&path, || {
        let store = Store::new(&engine_with(Config::new(strategy)));
        let inst = instantiate(&store, RECURSIVE, None);
        assert_exhausted(
            "big",
            inst.get_func(&store, "big")
                .unwrap()
                .call(&store, &[Value::I64(0)]),
        );
    });
}

/// Interpreter only: the native engine does not count calls (`Config::max_call_depth`
/// says why); its recursion is bounded by the machine stack, tested above.
#[test]
fn max_call_depth_is_honoured() {
    // With a small configured depth, a recursion just below it works and one above traps.
    isolated("exhaustion::max_call_depth_is_honoured", || {
        let config = Config {
            max_call_depth: 500,
            ..Config::new(Strategy::Interpreter)
        };
        let store = Store::new(&engine_with(config));
        let inst = instantiate(&store, RECURSIVE, None);
        let sum = inst.get_func(&store, "sum").unwrap();
        assert_eq!(
            sum.call(&store, &[Value::I32(400)]).unwrap(),
            vec![Value::I32(80200)]
        );
        assert_exhausted("sum 600", sum.call(&store, &[Value::I32(600)]));
    });
}

/// Wasm `f(n)` calls host `reenter(n)`, which calls `f(n + 1)` back through its Caller,
/// forever (or until `limit`, when one is given).
fn ping_pong(store: &Store, limit: Option<i32>) -> Instance {
    HostModuleBuilder::new("host")
        .func_wrap(
            "reenter",
            move |caller: &mut Caller<'_>, n: i32| -> runtime::Result<i32> {
                if limit.is_some_and(|l| n >= l) {
                    return Ok(n);
                }
                let f = caller
                    .get_export("f")
                    .and_then(|e| e.into_func())
                    .ok_or_else(|| Error::host("no export f"))?;
                let out = caller.call(f, &[Value::I32(n + 1)])?;
                Ok(out[0].i32().unwrap())
            },
        )
        .instantiate(store)
        .unwrap();
    instantiate(
        store,
        r#"(module
            (import "host" "reenter" (func $reenter (param i32) (result i32)))
            (func $f (export "f") (param i32) (result i32)
                local.get 0 call $reenter)
            ;; recurse $d levels in Wasm, then re-enter the host
            (func $deep (export "deep") (param $n i32) (param $d i32) (result i32)
                local.get $d i32.eqz
                if (result i32)
                    local.get $n call $reenter
                else
                    local.get $n local.get $d i32.const 1 i32.sub call $deep
                end))"#,
        Some("guest"),
    )
}

fn assert_clean_exhaustion(what: &str, r: runtime::Result<Vec<Value>>) {
    match r {
        Err(e) if e.trap_kind() == Some(TrapKind::CallStackExhausted) => {}
        // Another clean error is acceptable, as long as it is an error.
        Err(e @ (Error::Trap(_) | Error::Usage(_) | Error::Host(_))) => {
            eprintln!("{what}: ended with {e}");
        }
        other => panic!("{what}: expected call stack exhaustion, got {other:?}"),
    }
}

fn host_wasm_ping_pong(strategy: Strategy, stack: usize) {
    let engine = engine_with(Config::new(strategy));
    on_thread(stack, move || {
        let store = Store::new(&engine);
        let inst = ping_pong(&store, None);
        let f = inst.get_func(&store, "f").unwrap();
        for _ in 0..3 {
            assert_clean_exhaustion("ping-pong", f.call(&store, &[Value::I32(0)]));
        }
        // The store is usable afterwards on the same thread: a bounded ping-pong of a
        // few levels completes.
        let store2 = Store::new(&engine);
        let inst2 = ping_pong(&store2, Some(20));
        let f2 = inst2.get_func(&store2, "f").unwrap();
        assert_eq!(
            f2.call(&store2, &[Value::I32(0)]).unwrap(),
            vec![Value::I32(20)]
        );
        // And the first store too (its re-entry count went back to zero).
        let deep = inst.get_func(&store, "deep").unwrap();
        assert_clean_exhaustion(
            "deep ping-pong",
            deep.call(&store, &[Value::I32(0), Value::I32(10)]),
        );
    });
}

fn host_wasm_ping_pong_small_stack(strategy: Strategy) {
    let path = test_path(module_path!(), "host_wasm_ping_pong_small_stack", strategy);
    isolated(&path, || host_wasm_ping_pong(strategy, SMALL_STACK));
}

fn host_wasm_ping_pong_default_stack(strategy: Strategy) {
    let path = test_path(
        module_path!(),
        "host_wasm_ping_pong_default_stack",
        strategy,
    );
    isolated(&path, || host_wasm_ping_pong(strategy, 2 * 1024 * 1024));
}

fn deep_wasm_between_host_reentries(strategy: Strategy) {
    // Each re-entry first recurses 2000 levels in Wasm: the total depth across entries
    // must be bounded too (by depth, memory or re-entry count), ending cleanly.
    let path = test_path(module_path!(), "deep_wasm_between_host_reentries", strategy);
    isolated(&path, || {
        on_thread(SMALL_STACK, move || {
            let store = Store::new(&engine_with(Config::new(strategy)));
            let inst = ping_pong(&store, None);
            // 2000 Wasm levels, then unbounded host <-> Wasm ping-pong on top.
            let deep = inst.get_func(&store, "deep").unwrap();
            assert_clean_exhaustion(
                "deep",
                deep.call(&store, &[Value::I32(0), Value::I32(2000)]),
            );
            // Bounded variant on a fresh store: 20 entries of `levels` Wasm levels each.
            // 20 * 300 = 6000 frames < the default depth of 20000 on the interpreter:
            // completes whether depth is counted across entries or per entry. The native
            // engine is bounded by the machine stack instead (`Config::max_call_depth`):
            // 256 KiB holds about 5,900 frames of `deep` and a host re-entry costs about
            // as much as 57 of them (measured in the test profile), so 6000 frames do not
            // fit; 20 * 150 = 3000 frames plus the re-entries, about 4,100, do.
            let levels = match strategy {
                Strategy::Interpreter => 300,
                Strategy::Native => 150,
            };
            let store2 = Store::new(&engine_with(Config::new(strategy)));
            HostModuleBuilder::new("host")
                .func_wrap(
                    "reenter",
                    move |caller: &mut Caller<'_>, n: i32| -> runtime::Result<i32> {
                        if n >= 20 {
                            return Ok(n);
                        }
                        let deep = caller
                            .get_export("deep")
                            .and_then(|e| e.into_func())
                            .unwrap();
                        let out = caller.call(deep, &[Value::I32(n + 1), Value::I32(levels)])?;
                        Ok(out[0].i32().unwrap())
                    },
                )
                .instantiate(&store2)
                .unwrap();
            let inst2 = instantiate(
                &store2,
                r#"(module
                    (import "host" "reenter" (func $reenter (param i32) (result i32)))
                    (func $deep (export "deep") (param $n i32) (param $d i32) (result i32)
                        local.get $d i32.eqz
                        if (result i32)
                            local.get $n call $reenter
                        else
                            local.get $n local.get $d i32.const 1 i32.sub call $deep
                        end))"#,
                None,
            );
            let r = inst2
                .get_func(&store2, "deep")
                .unwrap()
                .call(&store2, &[Value::I32(0), Value::I32(levels)]);
            assert_eq!(r.unwrap(), vec![Value::I32(20)]);
        });
    });
}

fn huge_depth_limit_still_ends_cleanly(strategy: Strategy) {
    let path = test_path(
        module_path!(),
        "huge_depth_limit_still_ends_cleanly",
        strategy,
    );
    isolated(&path, || huge_depth(strategy));
}

fn huge_depth(strategy: Strategy) {
    // A call-depth limit far beyond what a 256 KiB host stack can hold if Wasm calls
    // were host calls: the runtime still has to stop cleanly (by the depth limit or by
    // another one). Not u32::MAX: an interpreter that keeps frames on the heap would
    // then legitimately grow them until the machine runs out of memory.
    let engine = engine_with(Config {
        max_call_depth: 1_000_000,
        ..Config::new(strategy)
    });
    on_thread(SMALL_STACK, move || {
        let store = Store::new(&engine);
        let inst = instantiate(&store, RECURSIVE, None);
        for name in ["g", "indirect"] {
            let r = inst.get_func(&store, name).unwrap().call(&store, &[]);
            assert_clean_exhaustion(name, r);
        }
        let r = inst
            .get_func(&store, "big")
            .unwrap()
            .call(&store, &[Value::I64(0)]);
        assert_clean_exhaustion("big", r);
        let sum = inst.get_func(&store, "sum").unwrap();
        assert_eq!(
            sum.call(&store, &[Value::I32(10)]).unwrap(),
            vec![Value::I32(55)]
        );
    });
}
