//! Fuel left where native code keeps the counter in a register and must put it back
//! (RATIONALE.md, "Fuel"): after a trap in the middle of a run, before and after a call,
//! after a `call_indirect` to a host function, after an exception caught in the caller,
//! after a tail call, around a host function that calls back into Wasm. The figures are worked out by hand from `module/fuel.rs`'s table
//! (1 per operator, `block/loop/try_table/end` free, calls 5, host calls 50 more); a
//! run is paid in full before its first operator.

use runtime::{
    Caller, Config, Error, Extern, HostModuleBuilder, Instance, Store, Strategy, TrapKind, Value,
    WasmFeatures,
};

use crate::common::{engine_with, instantiate};

const WAT: &str = r#"(module
  (import "host" "nop" (func $nop))
  ;; Calls the caller's export `div` with its argument and returns the result.
  (import "host" "reenter" (func $reenter (param i32) (result i32)))
  (type $v (func))
  (table 2 funcref)
  (elem (i32.const 0) $nop $leaf)
  (tag $e (param i32))
  ;; No operator that costs anything: no charge.
  (func $leaf)
  ;; One run: i32.const, local.get, i32.div_u, i32.const, i32.add = 5.
  (func $div (export "div") (param i32) (result i32)
    (i32.add (i32.div_u (i32.const 10) (local.get 0)) (i32.const 1)))
  ;; call = 5; after it: i32.const, local.get, i32.div_u = 3.
  (func (export "div_after_call") (param i32) (result i32)
    (call $leaf)
    (i32.div_u (i32.const 10) (local.get 0)))
  ;; i32.const, call_indirect = 6, and 50 for the host function.
  (func (export "indirect_host") (call_indirect (type $v) (i32.const 0)))
  ;; i32.const, call_indirect = 6; after it i32.const = 1.
  (func (export "indirect_wasm") (result i32)
    (call_indirect (type $v) (i32.const 1))
    (i32.const 7))
  ;; local.get, throw = 2.
  (func $thrower (param i32) (throw $e (local.get 0)))
  ;; i32.const, call = 6; the thrower's 2; at the catch label i32.const, i32.add = 2:
  ;; 10 in all, and the payload plus one.
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (call $thrower (local.get 0)))
      (i32.const 0))
    (i32.const 1)
    (i32.add))
  ;; local.get, call = 6, 50 for the host function, `div`'s 5, then i32.const,
  ;; i32.add = 2.
  (func (export "via_host") (param i32) (result i32)
    (i32.add (call $reenter (local.get 0)) (i32.const 1)))
  ;; local.get, return_call = 6; then the callee's 5.
  (func (export "tail_div") (param i32) (result i32)
    (return_call $div (local.get 0))))"#;

struct Setup {
    store: Store,
    inst: Instance,
}

fn setup(strategy: Strategy) -> Setup {
    let features = WasmFeatures::WASM2 | WasmFeatures::EXCEPTIONS | WasmFeatures::TAIL_CALL;
    let config = Config::new(strategy).features(features).consume_fuel(true);
    let store = Store::new(&engine_with(config));
    HostModuleBuilder::new("host")
        .func_wrap("nop", || {})
        .func_wrap("reenter", |caller: &mut Caller<'_>, x: i32| {
            let inst = caller.instance().ok_or_else(|| Error::host("no caller"))?;
            let Some(Extern::Func(div)) = inst.get_export(&mut *caller, "div") else {
                return Err(Error::host("no div"));
            };
            match caller.call(div, &[Value::I32(x)])?.first() {
                Some(Value::I32(v)) => Ok(*v),
                _ => Err(Error::host("div returned no i32")),
            }
        })
        .instantiate(&store)
        .unwrap();
    let inst = instantiate(&store, WAT, None);
    Setup { store, inst }
}

impl Setup {
    /// Calls `name` with `fuel`: the trap (if any) and the fuel left.
    fn run(&self, name: &str, args: &[Value], fuel: u64) -> (Option<TrapKind>, u64) {
        self.store.set_fuel(fuel).unwrap();
        let f = self.inst.get_func(&self.store, name).unwrap();
        let trap = f.call(&self.store, args).err().map(|e| {
            e.trap_kind()
                .unwrap_or_else(|| panic!("{name}: not a trap: {e}"))
        });
        (trap, self.store.fuel().unwrap())
    }
}

const ZERO: Value = Value::I32(0);

fn a_trap_in_the_middle_of_a_run_has_paid_for_it(strategy: Strategy) {
    let s = setup(strategy);
    assert_eq!(s.run("div", &[Value::I32(2)], 100), (None, 95));
    assert_eq!(
        s.run("div", &[ZERO], 100),
        (Some(TrapKind::IntegerDivideByZero), 95)
    );
    // Too little for the run: it does not start, so the division never traps.
    assert_eq!(s.run("div", &[ZERO], 4), (Some(TrapKind::OutOfFuel), 4));
    // The same after a call: the caller's fuel comes back from the callee first.
    assert_eq!(
        s.run("div_after_call", &[ZERO], 100),
        (Some(TrapKind::IntegerDivideByZero), 92)
    );
    assert_eq!(
        s.run("div_after_call", &[ZERO], 7),
        (Some(TrapKind::OutOfFuel), 2)
    );
    // And through a tail call.
    assert_eq!(
        s.run("tail_div", &[ZERO], 100),
        (Some(TrapKind::IntegerDivideByZero), 89)
    );
    assert_eq!(
        s.run("tail_div", &[ZERO], 10),
        (Some(TrapKind::OutOfFuel), 4)
    );
}

fn call_indirect_to_host_and_wasm_functions(strategy: Strategy) {
    let s = setup(strategy);
    assert_eq!(s.run("indirect_host", &[], 100), (None, 44));
    // 6 taken by the run, then 49 short of the host call's 50: it does not run.
    assert_eq!(
        s.run("indirect_host", &[], 55),
        (Some(TrapKind::OutOfFuel), 49)
    );
    assert_eq!(s.run("indirect_wasm", &[], 100), (None, 93));
    assert_eq!(
        s.run("indirect_wasm", &[], 6),
        (Some(TrapKind::OutOfFuel), 0)
    );
}

fn a_host_function_that_calls_back_in(strategy: Strategy) {
    let s = setup(strategy);
    assert_eq!(s.run("via_host", &[Value::I32(2)], 100), (None, 37));
    // The inner call traps: everything up to its run paid, the outer call traps too.
    assert_eq!(
        s.run("via_host", &[ZERO], 100),
        (Some(TrapKind::IntegerDivideByZero), 39)
    );
    // 6 and 50 paid, 4 left for `div`'s 5.
    assert_eq!(
        s.run("via_host", &[Value::I32(2)], 60),
        (Some(TrapKind::OutOfFuel), 4)
    );
    // 6 and 55 paid, 1 left for the caller's last run of 2.
    assert_eq!(
        s.run("via_host", &[Value::I32(2)], 62),
        (Some(TrapKind::OutOfFuel), 1)
    );
}

fn a_caught_exception_leaves_the_throwers_fuel(strategy: Strategy) {
    let s = setup(strategy);
    assert_eq!(s.run("catch", &[Value::I32(5)], 100), (None, 90));
    assert_eq!(s.run("catch", &[Value::I32(5)], 10), (None, 0));
    // 6 and 2 paid, 1 left for the label's run of 2.
    assert_eq!(
        s.run("catch", &[Value::I32(5)], 9),
        (Some(TrapKind::OutOfFuel), 1)
    );
    // The thrower cannot pay its run: out of fuel, which no `catch` catches.
    assert_eq!(
        s.run("catch", &[Value::I32(5)], 7),
        (Some(TrapKind::OutOfFuel), 1)
    );
}

/// Both engines side by side over every fuel amount from nothing to enough.
#[test]
fn engines_agree_at_every_amount() {
    let (interp, native) = (setup(Strategy::Interpreter), setup(Strategy::Native));
    let cases: [(&str, Vec<Value>); 10] = [
        ("div", vec![ZERO]),
        ("div", vec![Value::I32(3)]),
        ("div_after_call", vec![ZERO]),
        ("indirect_host", vec![]),
        ("indirect_wasm", vec![]),
        ("catch", vec![Value::I32(5)]),
        ("tail_div", vec![ZERO]),
        ("tail_div", vec![Value::I32(3)]),
        ("via_host", vec![ZERO]),
        ("via_host", vec![Value::I32(2)]),
    ];
    for fuel in 0..70 {
        for (name, args) in &cases {
            assert_eq!(
                interp.run(name, args, fuel),
                native.run(name, args, fuel),
                "{name} with {fuel}"
            );
        }
    }
}

on_both_engines!(
    a_trap_in_the_middle_of_a_run_has_paid_for_it,
    call_indirect_to_host_and_wasm_functions,
    a_caught_exception_leaves_the_throwers_fuel,
    a_host_function_that_calls_back_in,
);
