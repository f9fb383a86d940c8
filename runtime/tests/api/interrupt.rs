//! Stopping a running call from another thread (`Store::interrupt_handle`,
//! `Config::interruptible`): tight loops, nested loops, a deep recursion, a cycle of
//! tail calls and a long `memory.fill` each
//! end with "interrupted" within 10 ms of the request, and the store then runs the next
//! call correctly; a deadline interrupts by itself and, dropped, never fires (and
//! withdraws a late request); a request from a host function stops the bulk operation
//! that follows it (the chunk check); a request made between calls stops the next one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use runtime::{
    Caller, Config, Error, Extern, HostModuleBuilder, Instance, InterruptHandle, Store, Strategy,
    TrapKind, Value, WasmFeatures,
};

use crate::common::{engine, engine_with, instantiate};

const WAT: &str = r#"(module
  (import "host" "interrupt" (func $interrupt))
  ;; Tells the test the call has started (so the request lands inside it).
  (import "host" "started" (func $started))
  (import "host" "call_back" (func $call_back))
  ;; 1 GiB: a fill of all of it takes far longer than 10 ms (first touch of every page).
  (memory 16384)
  (func (export "spin") (call $started) (loop $l (br $l)))
  ;; The other back edges the interpreter checks without a dispatch: a `br_if` (its
  ;; argument 1) and a fused loop counter (2^32 iterations before it ends).
  (func (export "spin_br_if") (param i32) (call $started) (loop $l (br_if $l (local.get 0))))
  (func (export "spin_counter") (local $i i32)
    (call $started)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.ne (local.get $i) (i32.const 0)))))
  ;; Spins in the innermost of three nested loops, which reads and writes memory: each
  ;; loop header must load the flag anew (native code must not reuse an enclosing
  ;; header's load of it, nor the function entry's). In a function that calls nothing,
  ;; which native code does not check at its entry.
  (func (export "nested") (call $started) (call $nested))
  (func $nested (local $i i32)
    (loop $outer
      (loop $middle
        (local.set $i (i32.const 4096))
        (loop $inner
          (i32.store8 (local.get $i) (i32.add (i32.load8_u (local.get $i)) (i32.const 1)))
          (br_if $inner (i32.const 1)))
        (br $middle))
      (br $outer)))
  ;; 1,000 frames deep, then a doubly recursive tail that never ends in practice: no loop,
  ;; only function entries.
  (func (export "deep_from") (param $n i32) (result i32)
    (call $started) (call $deep (local.get $n)))
  (func $deep (export "deep") (param $n i32) (result i32)
    (if (result i32) (i32.gt_u (local.get $n) (i32.const 60))
      (then (i32.add (call $deep (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))
      (else (if (result i32) (i32.eqz (local.get $n))
        (then (i32.const 1))
        (else (i32.add (call $deep (i32.sub (local.get $n) (i32.const 1)))
                       (call $deep (i32.sub (local.get $n) (i32.const 1)))))))))
  ;; A cycle of tail calls: no loop, no frame added, only function entries (native)
  ;; and the tail calls themselves (the interpreter) can see a request.
  (func (export "tail_cycle") (call $started) (return_call $ping))
  (func $ping (return_call $pong))
  (func $pong (return_call $ping))
  (func (export "fill")
    (call $started)
    (memory.fill (i32.const 0) (i32.const 7) (i32.const 0x40000000)))
  ;; The host asks for an interrupt, then a 2 MiB fill runs with no function entry or
  ;; loop in between: only the bulk operation's own check can stop it, before its
  ;; second chunk.
  (func (export "fill_after_request")
    (call $interrupt)
    (memory.fill (i32.const 0) (i32.const 9) (i32.const 0x200000)))
  ;; A host function that calls `interrupt_then_check` back, keeps the trap it ends
  ;; with and returns normally: the outer call must stop at its next check all the same
  ;; (the request stays pending until the call the host made returns).
  (func (export "interrupt_then_check") (call $interrupt) (call $checks))
  (func (export "outer") (result i32) (call $call_back) (call $checks) (i32.const 7))
  ;; Both engines check at the entry of a function that makes a call.
  (func $checks (call $nothing))
  (func $nothing)
  ;; Unbounded recursion: exhaustion, never mistaken for an interrupt.
  (func $forever (export "forever") (call $forever))
  (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;

struct Setup {
    store: Store,
    inst: Instance,
    handle: InterruptHandle,
    /// Set by the `started` import.
    started: Arc<AtomicBool>,
    /// The trap the `call_back` import's call ended with.
    inner: Arc<Mutex<Option<TrapKind>>>,
}

fn setup(strategy: Strategy) -> Setup {
    let features = WasmFeatures::WASM2 | WasmFeatures::TAIL_CALL;
    let config = Config::new(strategy).features(features).interruptible(true);
    let store = Store::new(&engine_with(config));
    let handle = store.interrupt_handle().expect("an interruptible engine");
    let started = Arc::new(AtomicBool::new(false));
    let (for_host, flag) = (handle.clone(), started.clone());
    let inner = Arc::new(Mutex::new(None));
    let kept = inner.clone();
    HostModuleBuilder::new("host")
        .func_wrap("interrupt", move || for_host.interrupt())
        .func_wrap("started", move || flag.store(true, Ordering::SeqCst))
        .func_wrap("call_back", move |caller: &mut Caller<'_>| {
            let inst = caller.instance().ok_or_else(|| Error::host("no caller"))?;
            let Some(Extern::Func(f)) = inst.get_export(&mut *caller, "interrupt_then_check")
            else {
                return Err(Error::host("no export interrupt_then_check"));
            };
            *kept.lock().unwrap() = trap(caller.call(f, &[]));
            Ok(())
        })
        .instantiate(&store)
        .unwrap();
    let inst = instantiate(&store, WAT, None);
    Setup {
        store,
        inst,
        handle,
        started,
        inner,
    }
}

fn trap(r: runtime::Result<Vec<Value>>) -> Option<TrapKind> {
    r.err().and_then(|e| e.trap_kind())
}

/// Runs export `name` on another thread, interrupts it `after` it has started, and
/// returns the time from the request to the call's return (best of three tries: one
/// slow wake-up on a loaded machine says nothing about the check).
fn interrupt_after(s: &Setup, name: &str, args: &[Value], after: Duration) -> Duration {
    let (store, handle) = (&s.store, &s.handle);
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let f = s.inst.get_func(store, name).unwrap();
        let (store2, args2) = (store.clone(), args.to_vec());
        s.started.store(false, Ordering::SeqCst);
        let call = std::thread::spawn(move || {
            let r = f.call(&store2, &args2);
            (r, Instant::now())
        });
        while !s.started.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(after);
        let requested = Instant::now();
        handle.interrupt();
        let (r, returned) = call.join().unwrap();
        assert_eq!(trap(r), Some(TrapKind::Interrupted), "{name}");
        best = best.min(returned.saturating_duration_since(requested));
    }
    best
}

fn store_still_works(store: &Store, inst: &Instance) {
    let add = inst.get_func(store, "add").unwrap();
    let r = add.call(store, &[Value::I32(40), Value::I32(2)]).unwrap();
    assert_eq!(r, vec![Value::I32(42)]);
}

fn tight_loop_deep_recursion_and_long_fill(strategy: Strategy) {
    let s = setup(strategy);
    let (store, inst) = (&s.store, &s.inst);
    let ms = Duration::from_millis;
    let cases: [(&str, Vec<Value>, Duration); 7] = [
        ("spin", vec![], ms(20)),
        ("spin_br_if", vec![Value::I32(1)], ms(20)),
        ("spin_counter", vec![], ms(20)),
        ("nested", vec![], ms(20)),
        ("deep_from", vec![Value::I32(1060)], ms(20)),
        ("tail_cycle", vec![], ms(20)),
        // Soon after the start: the whole fill must still be running.
        ("fill", vec![], ms(2)),
    ];
    for (name, args, after) in cases {
        let latency = interrupt_after(&s, name, &args, after);
        eprintln!("{strategy:?} {name}: returned {latency:?} after the request");
        assert!(latency < ms(10), "{name}: interrupted after {latency:?}");
        store_still_works(store, inst);
    }
    // The fill was stopped part way: the start is filled, the end is not.
    let byte = inst.get_func(store, "byte").unwrap();
    assert_eq!(
        byte.call(store, &[Value::I32(0)]).unwrap(),
        vec![Value::I32(7)]
    );
    let last = Value::I32(0x3fff_ffff);
    assert_eq!(byte.call(store, &[last]).unwrap(), vec![Value::I32(0)]);
}

fn a_request_stops_the_next_bulk_chunk(strategy: Strategy) {
    let Setup { store, inst, .. } = setup(strategy);
    let f = inst.get_func(&store, "fill_after_request").unwrap();
    assert_eq!(trap(f.call(&store, &[])), Some(TrapKind::Interrupted));
    // Checked before the first chunk: nothing was written.
    let byte = inst.get_func(&store, "byte").unwrap();
    assert_eq!(
        byte.call(&store, &[Value::I32(0)]).unwrap(),
        vec![Value::I32(0)]
    );
    store_still_works(&store, &inst);
}

fn deadlines_fire_and_cancel(strategy: Strategy) {
    let Setup {
        store,
        inst,
        handle,
        ..
    } = setup(strategy);
    let spin = inst.get_func(&store, "spin").unwrap();
    let start = Instant::now();
    let deadline = handle.interrupt_after(Duration::from_millis(30));
    assert_eq!(trap(spin.call(&store, &[])), Some(TrapKind::Interrupted));
    drop(deadline);
    assert!(start.elapsed() >= Duration::from_millis(30));
    // Dropped before it fires: it never does, even while a later call runs.
    drop(handle.interrupt_after(Duration::from_millis(10)));
    // Fired after its call returned: dropping it withdraws the request.
    let late = handle.interrupt_after(Duration::from_millis(1));
    std::thread::sleep(Duration::from_millis(20));
    drop(late);
    let deep = inst.get_func(&store, "deep").unwrap();
    let r = deep.call(&store, &[Value::I32(18)]).unwrap();
    assert_eq!(r, vec![Value::I32(1 << 18)]);
    std::thread::sleep(Duration::from_millis(20));
    store_still_works(&store, &inst);
}

/// A request made while no call runs stays pending (no request is lost to a race with
/// the start of a call): the next call stops at its first check, the one after runs.
fn a_request_between_calls_stops_the_next(strategy: Strategy) {
    let Setup {
        store,
        inst,
        handle,
        ..
    } = setup(strategy);
    handle.interrupt();
    let spin = inst.get_func(&store, "spin").unwrap();
    assert_eq!(trap(spin.call(&store, &[])), Some(TrapKind::Interrupted));
    store_still_works(&store, &inst);
}

/// A request made in a call back from a host function stops that call, and then the
/// outer call at its next check, though the host function returned normally; the store
/// then runs the next call. (Native code checks function entries with the stack check,
/// against a limit the request raises and every entry restores: `store/interrupt.rs`.)
fn a_request_in_a_call_back_stops_the_outer_call_too(strategy: Strategy) {
    let s = setup(strategy);
    let outer = s.inst.get_func(&s.store, "outer").unwrap();
    assert_eq!(trap(outer.call(&s.store, &[])), Some(TrapKind::Interrupted));
    assert_eq!(*s.inner.lock().unwrap(), Some(TrapKind::Interrupted));
    store_still_works(&s.store, &s.inst);
    let again = outer.call(&s.store, &[]);
    assert_eq!(
        trap(again),
        Some(TrapKind::Interrupted),
        "a new request each time"
    );
}

/// Exhausting the stack in interruptible code is exhaustion, not an interrupt (the
/// native engine's interrupt check is its stack check), before and after a request.
fn exhaustion_is_not_an_interrupt(strategy: Strategy) {
    let s = setup(strategy);
    let forever = s.inst.get_func(&s.store, "forever").unwrap();
    let exhausted = Some(TrapKind::CallStackExhausted);
    assert_eq!(trap(forever.call(&s.store, &[])), exhausted);
    s.handle.interrupt();
    assert_eq!(
        trap(forever.call(&s.store, &[])),
        Some(TrapKind::Interrupted)
    );
    assert_eq!(trap(forever.call(&s.store, &[])), exhausted);
    store_still_works(&s.store, &s.inst);
}

fn off_by_default(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    match store.interrupt_handle() {
        Err(Error::Usage(m)) => assert!(m.contains("interruptible"), "{m}"),
        other => panic!("expected a usage error, got {other:?}"),
    }
}

on_both_engines!(
    tight_loop_deep_recursion_and_long_fill,
    a_request_stops_the_next_bulk_chunk,
    deadlines_fire_and_cancel,
    a_request_between_calls_stops_the_next,
    a_request_in_a_call_back_stops_the_outer_call_too,
    exhaustion_is_not_an_interrupt,
    off_by_default,
);
