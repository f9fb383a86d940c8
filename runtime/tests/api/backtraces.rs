//! Trap backtraces: the Wasm frames a trap unwound, innermost first, named from the name
//! section, on both engines; bounded for runaway recursion; across instances and across
//! host functions that call back into Wasm; the store still usable afterwards.

use runtime::{
    Backtrace, Config, Error, HostModuleBuilder, Instance, Store, Strategy, Trap, TrapKind, Value,
    WasmFeatures,
};

use crate::common::{
    RECURSION_BELOW_HOST, call_back_host, engine, engine_with, instantiate, instantiate_err,
    on_thread,
};

on_both_engines!(
    unreachable_in_a_chain,
    out_of_bounds_load_in_a_chain,
    divide_by_zero_in_a_chain,
    traps_raised_outside_compiled_checks,
    trap_inside_try_table,
    no_name_section_gives_indices,
    stack_exhaustion_is_bounded,
    frames_of_two_instances,
    host_function_between_wasm_frames,
    exhaustion_below_a_host_function,
    host_function_returning_a_trap,
    start_function_trap,
    store_usable_after_traps,
);

/// Frames as `(func index, func name, module name)`.
type Frame = (u32, Option<String>, Option<String>);

fn frames(backtrace: &Backtrace) -> Vec<Frame> {
    backtrace
        .frames()
        .map(|f| {
            (
                f.func_index(),
                f.func_name().map(str::to_string),
                f.module_name().map(str::to_string),
            )
        })
        .collect()
}

fn named(index: u32, func: &str, module: Option<&str>) -> Frame {
    (index, Some(func.to_string()), module.map(str::to_string))
}

/// Calls export `name` of `instance`, which must trap with `kind`; its backtrace.
fn trap(store: &Store, instance: &Instance, name: &str, kind: TrapKind) -> Backtrace {
    let func = instance.get_func(store, name).expect("export");
    match func.call(store, &[]) {
        Err(e) if e.trap_kind() == Some(kind) => {
            // Display stays the trap message alone, and equality ignores the backtrace.
            assert_eq!(e.to_string(), kind.message(), "{name}");
            if let Error::Trap(t) = &e {
                assert_eq!(*t, Trap::new(kind), "{name}");
            }
            e.backtrace()
                .unwrap_or_else(|| panic!("{name}: trap without a backtrace"))
                .clone()
        }
        other => panic!("{name}: expected a trap ({kind}), got {other:?}"),
    }
}

/// `a` calls `b` calls `c`, which does `BODY`; an import first, so that the defined
/// functions' indices start at 1.
fn chain(body: &str) -> String {
    format!(
        r#"(module $chain
            (import "host" "nop" (func $imported_nop))
            (memory 1)
            (func $a (export "a") call $b)
            (func $b call $c)
            (func $c {body}))"#
    )
}

fn host_nop(store: &Store) {
    HostModuleBuilder::new("host")
        .func_wrap("nop", || {})
        .instantiate(store)
        .unwrap();
}

fn assert_chain(strategy: Strategy, body: &str, kind: TrapKind) {
    let store = Store::new(&engine(strategy));
    host_nop(&store);
    let inst = instantiate(&store, &chain(body), None);
    let bt = trap(&store, &inst, "a", kind);
    let m = Some("chain");
    assert_eq!(
        frames(&bt),
        vec![named(3, "c", m), named(2, "b", m), named(1, "a", m)]
    );
    assert_eq!(bt.omitted(), 0);
    assert_eq!(
        bt.to_string(),
        "  0: chain!c (func 3)\n  1: chain!b (func 2)\n  2: chain!a (func 1)"
    );
}

fn unreachable_in_a_chain(strategy: Strategy) {
    assert_chain(strategy, "unreachable", TrapKind::Unreachable);
}

fn out_of_bounds_load_in_a_chain(strategy: Strategy) {
    assert_chain(
        strategy,
        "i32.const 65536 i32.load drop",
        TrapKind::MemoryOutOfBounds,
    );
}

fn divide_by_zero_in_a_chain(strategy: Strategy) {
    assert_chain(
        strategy,
        "i32.const 1 i32.const 0 i32.div_u drop",
        TrapKind::IntegerDivideByZero,
    );
}

/// Traps the native engine raises in Rust (bulk memory operations, `call_indirect`'s
/// slow path) rather than in a compiled check: the frames are the same.
fn traps_raised_outside_compiled_checks(strategy: Strategy) {
    assert_chain(
        strategy,
        "i32.const 65535 i32.const 0 i32.const 2 memory.fill",
        TrapKind::MemoryOutOfBounds,
    );
    let store = Store::new(&engine(strategy));
    let inst = instantiate(
        &store,
        r#"(module
            (type $v (func))
            (table 1 funcref)
            (func $outer (export "outer") call $indirect)
            (func $indirect i32.const 0 call_indirect (type $v)))"#,
        None,
    );
    let bt = trap(&store, &inst, "outer", TrapKind::UninitializedElement);
    assert_eq!(
        frames(&bt),
        vec![named(1, "indirect", None), named(0, "outer", None)]
    );
}

/// A `try_table` does not catch traps; the frames inside and outside it are kept.
fn trap_inside_try_table(strategy: Strategy) {
    let config = Config::new(strategy).features(WasmFeatures::WASM2 | WasmFeatures::EXCEPTIONS);
    let store = Store::new(&engine_with(config));
    let inst = instantiate(
        &store,
        r#"(module
            (memory 1)
            (func $outer (export "outer")
                (block $h (try_table (catch_all $h) call $fill)))
            (func $fill
                (block $h
                    (try_table (catch_all $h)
                        i32.const 65535 i32.const 0 i32.const 2 memory.fill))))"#,
        None,
    );
    let bt = trap(&store, &inst, "outer", TrapKind::MemoryOutOfBounds);
    assert_eq!(
        frames(&bt),
        vec![named(1, "fill", None), named(0, "outer", None)]
    );
}

fn no_name_section_gives_indices(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    // No `$` names and no module name: the text format emits no name section.
    let inst = instantiate(
        &store,
        r#"(module
            (func (export "a") call 1)
            (func call 2)
            (func unreachable))"#,
        None,
    );
    let bt = trap(&store, &inst, "a", TrapKind::Unreachable);
    assert_eq!(
        frames(&bt),
        vec![(2, None, None), (1, None, None), (0, None, None)]
    );
    assert_eq!(bt.to_string(), "  0: func 2\n  1: func 1\n  2: func 0");
}

/// Runaway recursion: the first and last frames, and how many were left out.
fn stack_exhaustion_is_bounded(strategy: Strategy) {
    let engine = engine(strategy);
    on_thread(1024 * 1024, move || {
        let store = Store::new(&engine);
        let inst = instantiate(
            &store,
            r#"(module $deep
                (func $entry (export "entry") call $recurse)
                (func $recurse call $recurse))"#,
            None,
        );
        let bt = trap(&store, &inst, "entry", TrapKind::CallStackExhausted);
        let kept = frames(&bt);
        let (head, tail) = (Backtrace::HEAD_FRAMES, Backtrace::TAIL_FRAMES);
        assert_eq!(kept.len(), head + tail, "{bt}");
        assert!(bt.omitted() > 1000, "only {} frames", bt.total_frames());
        assert_eq!(bt.total_frames(), head + bt.omitted() + tail);
        let m = Some("deep");
        let (last, rest) = kept.split_last().unwrap();
        assert_eq!(last, &named(0, "entry", m));
        assert!(rest.iter().all(|f| *f == named(1, "recurse", m)), "{bt}");
        let text = bt.to_string();
        assert_eq!(text.lines().count(), head + 1 + tail);
        assert!(
            text.contains(&format!("  ... {} frames omitted", bt.omitted())),
            "{text}"
        );
    });
}

/// A trap in one instance's function called (as an import) by another's: each frame
/// named from its own module.
fn frames_of_two_instances(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    instantiate(
        &store,
        r#"(module $lib
            (func $helper (export "helper") call $fail)
            (func $fail unreachable))"#,
        Some("lib"),
    );
    let inst = instantiate(
        &store,
        r#"(module $app
            (import "lib" "helper" (func $lib_helper))
            (func $main (export "main") call $lib_helper))"#,
        None,
    );
    let bt = trap(&store, &inst, "main", TrapKind::Unreachable);
    assert_eq!(
        frames(&bt),
        vec![
            named(1, "fail", Some("lib")),
            named(0, "helper", Some("lib")),
            named(1, "main", Some("app")),
        ]
    );
}

/// Wasm calls a host function that calls back into Wasm, which traps: the backtrace has
/// the Wasm frames on both sides of the host function (which is no frame itself).
fn host_function_between_wasm_frames(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    call_back_host(&store);
    let inst = instantiate(
        &store,
        r#"(module $guest
            (import "host" "call_back" (func $call_back))
            (func $outer (export "outer") call $middle)
            (func $middle call $call_back)
            (func $inner (export "inner") call $fail)
            (func $fail i32.const 1 i32.const 0 i32.div_s drop))"#,
        None,
    );
    let bt = trap(&store, &inst, "outer", TrapKind::IntegerDivideByZero);
    let m = Some("guest");
    assert_eq!(
        frames(&bt),
        vec![
            named(4, "fail", m),
            named(3, "inner", m),
            named(2, "middle", m),
            named(1, "outer", m),
        ]
    );
}

/// A runaway recursion under a host function: the kept frames end with the Wasm frames
/// on both sides of the host function, the recursion's middle is left out.
fn exhaustion_below_a_host_function(strategy: Strategy) {
    let engine = engine(strategy);
    on_thread(1024 * 1024, move || {
        let store = Store::new(&engine);
        call_back_host(&store);
        let inst = instantiate(&store, RECURSION_BELOW_HOST, None);
        let bt = trap(&store, &inst, "outer", TrapKind::CallStackExhausted);
        assert!(bt.omitted() > 1000, "only {} frames", bt.total_frames());
        let kept = frames(&bt);
        let m = Some("guest");
        let recurse = named(4, "recurse", m);
        let (head, tail) = kept.split_at(Backtrace::HEAD_FRAMES);
        assert!(head.iter().all(|f| *f == recurse), "{bt}");
        let mut expected = vec![recurse; Backtrace::TAIL_FRAMES - 3];
        expected.extend([
            named(3, "inner", m),
            named(2, "middle", m),
            named(1, "outer", m),
        ]);
        assert_eq!(tail, expected);
        // The store is still usable.
        let bt = trap(&store, &inst, "outer", TrapKind::CallStackExhausted);
        assert_eq!(frames(&bt).last(), Some(&named(1, "outer", m)));
    });
}

/// A trap a host function makes itself gets the frames of the Wasm code that called it.
fn host_function_returning_a_trap(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("host")
        .func_wrap("fail", || -> runtime::Result<()> {
            Err(TrapKind::IntegerOverflow.into())
        })
        .instantiate(&store)
        .unwrap();
    let inst = instantiate(
        &store,
        r#"(module $guest
            (import "host" "fail" (func $host_fail))
            (func $outer (export "outer") call $calls_host)
            (func $calls_host call $host_fail))"#,
        None,
    );
    let bt = trap(&store, &inst, "outer", TrapKind::IntegerOverflow);
    let m = Some("guest");
    assert_eq!(
        frames(&bt),
        vec![named(2, "calls_host", m), named(1, "outer", m)]
    );
}

fn start_function_trap(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let e = instantiate_err(
        &store,
        r#"(module
            (func $start call $fail)
            (func $fail unreachable)
            (start $start))"#,
        None,
    );
    assert_eq!(e.trap_kind(), Some(TrapKind::Unreachable), "{e}");
    let bt = e.backtrace().expect("a backtrace through the start error");
    assert_eq!(
        frames(bt),
        vec![named(1, "fail", None), named(0, "start", None)]
    );
}

/// After traps (and a runaway recursion), the store runs code and reports the next trap's
/// own frames, not leftovers of the last one.
fn store_usable_after_traps(strategy: Strategy) {
    let engine = engine(strategy);
    on_thread(1024 * 1024, move || {
        let store = Store::new(&engine);
        let inst = instantiate(
            &store,
            r#"(module
                (func $recurse (export "recurse") call $recurse)
                (func $fail (export "fail") unreachable)
                (func $add (export "add") (param i32 i32) (result i32)
                    local.get 0 local.get 1 i32.add))"#,
            None,
        );
        let add = inst.get_func(&store, "add").unwrap();
        for _ in 0..3 {
            trap(&store, &inst, "recurse", TrapKind::CallStackExhausted);
            let bt = trap(&store, &inst, "fail", TrapKind::Unreachable);
            assert_eq!(frames(&bt), vec![named(1, "fail", None)]);
            let sum = add.call(&store, &[Value::I32(2), Value::I32(3)]).unwrap();
            assert_eq!(sum, vec![Value::I32(5)]);
        }
    });
}
