//! Rough timings (run with `--ignored --nocapture`); not assertions.

use super::*;

fn time(wat: &str, name: &str, args: &[Value]) {
    let engine = Engine::new(Config::default()).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let store = Store::new(&engine);
    let instance = Instance::new(&store, &module, None).unwrap();
    let f = instance.get_func(&store, name).unwrap();
    let start = std::time::Instant::now();
    let r = f.call(&store, args).unwrap();
    println!("{name}: {:?} in {:?}", r, start.elapsed());
}

#[test]
#[ignore]
fn perf_kernels() {
    time(
        r#"(module (func $fib (export "fib") (param i64) (result i64)
        (if (result i64) (i64.lt_s (local.get 0) (i64.const 2))
          (then (local.get 0))
          (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                         (call $fib (i64.sub (local.get 0) (i64.const 2))))))))"#,
        "fib",
        &[Value::I64(30)],
    );
    time(
        r#"(module (memory 1) (func (export "sieve") (param $n i32) (result i32)
        (local $i i32) (local $j i32) (local $count i32) (local $round i32)
        (loop $rounds
          (memory.fill (i32.const 0) (i32.const 0) (local.get $n))
          (local.set $count (i32.const 0))
          (local.set $i (i32.const 2))
          (block $done (loop $outer
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (if (i32.eqz (i32.load8_u (local.get $i))) (then
              (local.set $count (i32.add (local.get $count) (i32.const 1)))
              (local.set $j (i32.mul (local.get $i) (local.get $i)))
              (block $jd (loop $inner
                (br_if $jd (i32.ge_u (local.get $j) (local.get $n)))
                (i32.store8 (local.get $j) (i32.const 1))
                (local.set $j (i32.add (local.get $j) (local.get $i)))
                (br $inner)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $outer)))
          (local.set $round (i32.add (local.get $round) (i32.const 1)))
          (br_if $rounds (i32.lt_u (local.get $round) (i32.const 300))))
        (local.get $count)))"#,
        "sieve",
        &[Value::I32(65000)],
    );
}
