//! Compiling a large module's functions on several threads (`Config::compile_threads`;
//! the native engine) gives the same code as on one: a module over the parallel
//! threshold (64 KiB of bodies) whose functions call each other directly (so their code
//! is linked across threads) and through a table, run with 1, 2 and 4 threads. The
//! interpreter ignores the setting; it runs the same module as the reference result.

use runtime::{Config, Instance, Module, Store, Strategy, Value};

use crate::common::engine_with;

/// 160 functions of ~600 bytes each: function `i` mixes its argument with constants,
/// calls function `i - 1` directly and (from the fourth on) one of the first three
/// through the table.
fn wat() -> String {
    let n = 160;
    let mut src = String::from("(module\n  (type $t (func (param i32) (result i32)))\n");
    src.push_str(&format!("  (table {n} funcref)\n"));
    for i in 0..n {
        src.push_str(&format!("  (func $f{i} (type $t) (local $x i32)\n"));
        src.push_str("    (local.set $x (local.get 0))\n");
        for k in 0..40 {
            src.push_str(&format!(
                "    (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const {})) (i32.const {})))\n",
                2 * (i * 40 + k) + 1,
                i * 7919 + k
            ));
        }
        if i > 0 {
            src.push_str(&format!(
                "    (local.set $x (i32.add (local.get $x) (call $f{} (i32.shr_u (local.get 0) (i32.const 1)))))\n",
                i - 1
            ));
        }
        if i > 2 {
            src.push_str(&format!(
                "    (local.set $x (i32.sub (local.get $x) (call_indirect (type $t) (i32.shr_u (local.get 0) (i32.const 2)) (i32.const {}))))\n",
                i % 3
            ));
        }
        src.push_str("    (local.get $x))\n");
        src.push_str(&format!("  (elem (i32.const {i}) $f{i})\n"));
    }
    src.push_str(&format!("  (export \"run\" (func $f{}))\n)", n - 1));
    src
}

fn results(strategy: Strategy, threads: usize, bytes: &[u8]) -> Vec<Value> {
    let engine = engine_with(Config {
        compile_threads: threads,
        ..Config::new(strategy)
    });
    let module = Module::from_binary(&engine, bytes).unwrap();
    let store = Store::new(&engine);
    let instance = Instance::new(&store, &module, None).unwrap();
    let run = instance.get_func(&store, "run").unwrap();
    [0, 1, 12345, -1]
        .iter()
        .flat_map(|&a| run.call(&store, &[Value::I32(a)]).unwrap())
        .collect()
}

#[test]
fn functions_compiled_on_several_threads_run_as_on_one() {
    let bytes = wat::parse_str(wat()).unwrap();
    assert!(
        bytes.len() > 64 * 1024,
        "{} bytes: under the threshold",
        bytes.len()
    );
    let reference = results(Strategy::Interpreter, 0, &bytes);
    for threads in [1, 2, 4] {
        assert_eq!(
            results(Strategy::Native, threads, &bytes),
            reference,
            "native engine, {threads} compile threads"
        );
    }
}
