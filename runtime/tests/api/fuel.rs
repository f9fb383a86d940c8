//! Fuel metering (`Config::consume_fuel`, `Store::set_fuel/fuel/add_fuel`): both engines
//! charge the one cost table of `module/fuel.rs` at the same points, so they run out at
//! the same operator and leave the same fuel; the expected figures below are worked out
//! by hand from that table (1 per operator, `block/loop/else/end/nop` free, calls 5,
//! host calls 50 more, bulk memory 1 per 64 bytes rounded up).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use runtime::{Config, Error, HostModuleBuilder, Instance, Store, Strategy, TrapKind, Value};

use crate::common::{engine, engine_with, instantiate};

const WAT: &str = r#"(module
  (import "host" "nop" (func $nop))
  (global $g (export "g") (mut i32) (i32.const 0))
  (memory 1)
  ;; Each iteration: global.get, i32.const, i32.add, global.set, br = 5.
  (func (export "count")
    (loop $l
      (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (br $l)))
  ;; local.get, local.get, i32.add = 3.
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  ;; call = 5, and 50 for the host function.
  (func (export "call_host") (call $nop))
  ;; i32.const, i32.const, local.get, memory.fill = 4, and 1 per 64 bytes.
  (func (export "fill") (param i32) (memory.fill (i32.const 0) (i32.const 1) (local.get 0)))
  ;; Runs: entry local.get, i32.const, i32.lt_u, if = 4; then local.get = 1; else
  ;; local.get, i32.const, i32.sub, call = 8, then after the call local.get, i32.const,
  ;; i32.sub, call = 8, then after that call i32.add = 1.
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#;

struct Setup {
    store: Store,
    inst: Instance,
    host_calls: Arc<AtomicU32>,
}

fn setup(strategy: Strategy) -> Setup {
    let store = Store::new(&engine_with(Config::new(strategy).consume_fuel(true)));
    let host_calls = Arc::new(AtomicU32::new(0));
    let counter = host_calls.clone();
    HostModuleBuilder::new("host")
        .func_wrap("nop", move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .instantiate(&store)
        .unwrap();
    let inst = instantiate(&store, WAT, None);
    Setup {
        store,
        inst,
        host_calls,
    }
}

impl Setup {
    fn call(&self, name: &str, args: &[Value]) -> runtime::Result<Vec<Value>> {
        let f = self.inst.get_func(&self.store, name).unwrap();
        f.call(&self.store, args)
    }

    fn global(&self) -> i32 {
        let g = self.inst.get_global(&self.store, "g").unwrap();
        match g.get(&self.store).unwrap() {
            Value::I32(v) => v,
            other => panic!("{other:?}"),
        }
    }
}

fn trap(r: runtime::Result<Vec<Value>>) -> Option<TrapKind> {
    r.err().and_then(|e| e.trap_kind())
}

fn runs_out_at_the_same_operator(strategy: Strategy) {
    let s = setup(strategy);
    s.store.set_fuel(1003).unwrap();
    let err = s.call("count", &[]).unwrap_err();
    assert_eq!(err.trap_kind(), Some(TrapKind::OutOfFuel));
    assert!(err.to_string().contains("all fuel consumed"), "{err}");
    // 200 iterations of 5; the 201st needs 5 of the 3 left, and takes none.
    assert_eq!(s.global(), 200);
    assert_eq!(s.store.fuel().unwrap(), 3);
}

fn normal_returns_leave_what_the_table_says(strategy: Strategy) {
    let s = setup(strategy);
    s.store.set_fuel(10).unwrap();
    let r = s.call("add", &[Value::I32(2), Value::I32(3)]).unwrap();
    assert_eq!(r, vec![Value::I32(5)]);
    assert_eq!(s.store.fuel().unwrap(), 7);
    // Not enough for the function's one run: nothing runs, nothing is taken.
    s.store.set_fuel(2).unwrap();
    assert_eq!(
        trap(s.call("add", &[Value::I32(2), Value::I32(3)])),
        Some(TrapKind::OutOfFuel)
    );
    assert_eq!(s.store.fuel().unwrap(), 2);
    // fib(n) costs 5 for n < 2 (entry 4, then 1), else 21 plus fib(n-1) and fib(n-2).
    fn cost(n: u64) -> u64 {
        if n < 2 {
            5
        } else {
            21 + cost(n - 1) + cost(n - 2)
        }
    }
    s.store.set_fuel(10_000).unwrap();
    let r = s.call("fib", &[Value::I32(10)]).unwrap();
    assert_eq!(r, vec![Value::I32(55)]);
    assert_eq!(s.store.fuel().unwrap(), 10_000 - cost(10));
}

fn host_calls_and_bulk_operations_follow_the_table(strategy: Strategy) {
    let s = setup(strategy);
    s.store.set_fuel(100).unwrap();
    s.call("call_host", &[]).unwrap();
    assert_eq!(s.store.fuel().unwrap(), 45);
    assert_eq!(s.host_calls.load(Ordering::SeqCst), 1);
    // 5 for the call leaves 49 of 54, short of the host call's 50: it does not run.
    s.store.set_fuel(54).unwrap();
    assert_eq!(trap(s.call("call_host", &[])), Some(TrapKind::OutOfFuel));
    assert_eq!(s.store.fuel().unwrap(), 49);
    assert_eq!(s.host_calls.load(Ordering::SeqCst), 1);

    // 4 + ceil(1000 / 64) = 20.
    s.store.set_fuel(100).unwrap();
    s.call("fill", &[Value::I32(1000)]).unwrap();
    assert_eq!(s.store.fuel().unwrap(), 80);
    // Out of bounds: the 4 of the run, nothing for the bytes never written.
    s.call("fill", &[Value::I32(70_000)]).unwrap_err();
    assert_eq!(s.store.fuel().unwrap(), 76);
    // An empty fill costs the run only.
    s.store.set_fuel(19).unwrap();
    s.call("fill", &[Value::I32(0)]).unwrap();
    assert_eq!(s.store.fuel().unwrap(), 15);
    // 4 + 16 = 20 needed, 19 there: the run takes its 4, then the fill traps before
    // writing, taking nothing for the bytes.
    s.store.set_fuel(19).unwrap();
    assert_eq!(
        trap(s.call("fill", &[Value::I32(1024)])),
        Some(TrapKind::OutOfFuel)
    );
    assert_eq!(s.store.fuel().unwrap(), 15);
}

fn added_fuel_lets_the_next_call_run(strategy: Strategy) {
    let s = setup(strategy);
    // A new store has no fuel.
    assert_eq!(s.store.fuel().unwrap(), 0);
    assert_eq!(trap(s.call("count", &[])), Some(TrapKind::OutOfFuel));
    s.store.add_fuel(2).unwrap();
    s.store.add_fuel(2).unwrap();
    let r = s.call("add", &[Value::I32(40), Value::I32(2)]).unwrap();
    assert_eq!(r, vec![Value::I32(42)]);
    assert_eq!(s.store.fuel().unwrap(), 1);
    s.store.add_fuel(u64::MAX).unwrap();
    assert_eq!(s.store.fuel().unwrap(), u64::MAX);
}

fn off_by_default(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    for r in [
        store.set_fuel(1).map(|_| 0),
        store.add_fuel(1).map(|_| 0),
        store.fuel(),
    ] {
        match r {
            Err(Error::Usage(m)) => assert!(m.contains("consume_fuel"), "{m}"),
            other => panic!("expected a usage error, got {other:?}"),
        }
    }
}

/// Both engines side by side over every fuel amount from nothing to enough: the same
/// outcome, the same global and the same fuel left each time.
#[test]
fn engines_agree_at_every_amount() {
    let (interp, native) = (setup(Strategy::Interpreter), setup(Strategy::Native));
    for fuel in 0..400 {
        for (name, args) in [("fib", vec![Value::I32(6)]), ("count", vec![])] {
            let outcome = |s: &Setup| {
                s.store.set_fuel(fuel).unwrap();
                let r = s.call(name, &args).map_err(|e| e.trap_kind());
                (r, s.global(), s.store.fuel().unwrap())
            };
            assert_eq!(outcome(&interp), outcome(&native), "{name} with {fuel}");
        }
    }
}

/// Loops of the shapes whose charges the interpreter does without dispatching them
/// (RATIONALE.md, "Fuel"): an exit test at the top with a `br` back (the test charges
/// the body where it falls through, the `br` the header), a fused counter `br_if` back
/// (it charges the header where taken), a `br_if` back on another condition, and the
/// same shapes with runs too costly for those instructions' amount fields (300 and
/// 70,000, which stay separate charges). `$g` counts iterations.
fn loops_wat() -> String {
    let cheap = "(drop (i32.const 0))";
    let mut wat = String::from(
        r#"(module
  (global $g (export "g") (mut i32) (i32.const 0))"#,
    );
    for (name, pad) in [("", 0), ("_300", 150), ("_70000", 35_000)] {
        let pad = cheap.repeat(pad);
        wat += &format!(
            r#"
  (func (export "top_exit{name}") (param $n i32) (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        {pad}
        (global.set $g (i32.add (global.get $g) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))))
  (func (export "counter{name}") (param $n i32) (local $i i32)
    (loop $l
      {pad}
      (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func (export "bottom_test{name}") (param $n i32)
    (loop $l
      {pad}
      (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (br_if $l (i32.lt_s (global.get $g) (local.get $n)))))"#
        );
    }
    wat + ")"
}

/// Both engines over many fuel amounts for each loop of `loops_wat`, three iterations:
/// the same outcome, iterations and fuel left; with enough fuel, the amount the table
/// gives. Interruptible too (the loop headers check before they charge), and not.
#[test]
fn engines_agree_on_metered_loops() {
    for interruptible in [false, true] {
        agree_on_metered_loops(interruptible);
    }
}

fn agree_on_metered_loops(interruptible: bool) {
    let wat = loops_wat();
    let setups = [Strategy::Interpreter, Strategy::Native].map(|strategy| {
        let config = Config::new(strategy)
            .consume_fuel(true)
            .interruptible(interruptible);
        let store = Store::new(&engine_with(config));
        let inst = instantiate(&store, &wat, None);
        (store, inst)
    });
    // Per iteration and outside the loop, by the table (the padded runs cost `pad` more
    // per iteration): `top_exit`'s header is 4 (local.get, local.get, i32.ge_u, br_if),
    // its body 9 (the global's four, the counter's four, br), and the last header,
    // which exits, 4; `counter`'s one run is 12 (four each for the global, the counter
    // and the test); `bottom_test`'s 8 (the global's four, then global.get, local.get,
    // i32.lt_s, br_if).
    let costs = [
        ("top_exit", 13, 4),
        ("counter", 12, 0),
        ("bottom_test", 8, 0),
    ];
    for (name, pad) in [("", 0), ("_300", 300), ("_70000", 70_000)] {
        for (shape, per_iteration, outside) in costs {
            let export = format!("{shape}{name}");
            let total: u64 = 3 * (per_iteration + pad) + outside;
            let step = (total / 300).max(1) as usize;
            let amounts = (0..=total + 1)
                .step_by(step)
                .chain([total - 1, total, total + 1]);
            for fuel in amounts {
                let outcome = |(store, inst): &(Store, Instance)| {
                    let g = inst.get_global(store, "g").unwrap();
                    g.set(store, Value::I32(0)).unwrap();
                    store.set_fuel(fuel).unwrap();
                    let f = inst.get_func(store, &export).unwrap();
                    let r = f.call(store, &[Value::I32(3)]).map_err(|e| e.trap_kind());
                    (r, g.get(store).unwrap(), store.fuel().unwrap())
                };
                let (interp, native) = (outcome(&setups[0]), outcome(&setups[1]));
                assert_eq!(interp, native, "{export} with {fuel}");
                if fuel >= total {
                    assert_eq!(interp.0, Ok(vec![]), "{export} with {fuel}");
                    assert_eq!(interp.2, fuel - total, "{export} with {fuel}");
                }
            }
        }
    }
}

on_both_engines!(
    runs_out_at_the_same_operator,
    normal_returns_leave_what_the_table_says,
    host_calls_and_bulk_operations_follow_the_table,
    added_fuel_lets_the_next_call_run,
    off_by_default,
);
