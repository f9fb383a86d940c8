//! Criterion benchmarks: `compile/<workload>/<engine>`, `instantiate/<workload>/<engine>`
//! and `execute/<workload>/<engine>`. See benches/README.md for how to run and compare.
//!
//! Before an engine is timed on a workload, its result is checked against the `native`
//! engine's result for the same `n` (and the reference result of the C build where one
//! is known): a wrong result panics instead of producing a number.
//!
//! Run without `--bench` (as `cargo test` runs it, the target has `test = true`),
//! criterion is in test mode and runs every benchmark once, untimed; `execute` then calls
//! `run` with each workload's small `test_n` instead of `bench_n`, so that this smoke run
//! stays short.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use benches::{Runner, Workload};
use criterion::{BenchmarkId, Criterion, SamplingMode};

/// Expected `run(n)` results, computed once per (workload, n) on the native engine.
struct Expected {
    native: Box<dyn Runner>,
    cache: HashMap<(&'static str, i32), i64>,
}

impl Expected {
    fn get(&mut self, w: &Workload, n: i32) -> i64 {
        *self.cache.entry((w.name, n)).or_insert_with(|| {
            let got = benches::run_once(&*self.native, w, n).unwrap();
            if let Some((rn, want)) = w.reference
                && rn == n
            {
                assert_eq!(
                    got, want,
                    "{}.run({n}) on native: reference mismatch",
                    w.name
                );
            }
            got
        })
    }
}

fn check(r: &dyn Runner, w: &Workload, got: i64, want: i64, n: i32) {
    assert_eq!(
        got,
        want,
        "{}.run({n}) on {} disagrees with native",
        w.name,
        r.name()
    );
}

/// Whether criterion runs in test mode: the same rule as its `configure_from_args`
/// (`--bench` is what `cargo bench` passes; `--test` forces test mode).
fn criterion_test_mode() -> bool {
    let has = |flag: &str| std::env::args().skip(1).any(|a| a == flag);
    !has("--bench") || has("--test")
}

fn main() {
    let smoke = criterion_test_mode();
    let workloads = benches::workloads().expect("loading workloads");
    let runners = benches::runners();
    let mut expected = Expected {
        native: benches::runner("native").unwrap(),
        cache: HashMap::new(),
    };
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();

    // Compile and instantiate are checked with the small n; execute with its own n.
    {
        let mut g = c.benchmark_group("compile");
        for w in &workloads {
            for r in &runners {
                let mut checked = false;
                g.bench_function(BenchmarkId::new(w.name, r.name()), |b| {
                    if !checked {
                        let got = benches::run_once(&**r, w, w.test_n).unwrap();
                        check(&**r, w, got, expected.get(w, w.test_n), w.test_n);
                        checked = true;
                    }
                    b.iter(|| r.compile(black_box(&w.wasm)).unwrap())
                });
            }
        }
        g.finish();
    }

    {
        let mut g = c.benchmark_group("instantiate");
        for w in &workloads {
            for r in &runners {
                let mut compiled = None;
                g.bench_function(BenchmarkId::new(w.name, r.name()), |b| {
                    let m = compiled.get_or_insert_with(|| {
                        let m = r.compile(&w.wasm).unwrap();
                        let got = m.instantiate().unwrap().run(w.test_n).unwrap();
                        check(&**r, w, got, expected.get(w, w.test_n), w.test_n);
                        m
                    });
                    b.iter(|| m.instantiate().unwrap())
                });
            }
        }
        g.finish();
    }

    {
        let mut g = c.benchmark_group("execute");
        // One iteration is 10 ms to seconds: a fixed iteration count per sample, and
        // the fewest samples criterion allows.
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_secs(3));
        for w in &workloads {
            let n = if smoke { w.test_n } else { w.bench_n };
            for r in &runners {
                let mut inst = None;
                g.bench_function(BenchmarkId::new(w.name, r.name()), |b| {
                    let i = inst.get_or_insert_with(|| {
                        let mut i = r.compile(&w.wasm).unwrap().instantiate().unwrap();
                        let got = i.run(n).unwrap();
                        check(&**r, w, got, expected.get(w, n), n);
                        i
                    });
                    b.iter(|| i.run(black_box(n)).unwrap())
                });
            }
        }
        g.finish();
    }

    {
        // The GC workloads, on the engines that run Wasm GC (`benches::gc_runners`),
        // each checked against its reference result first.
        let mut g = c.benchmark_group("gc");
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_secs(3));
        for w in &benches::gc_workloads().expect("loading the GC workloads") {
            let n = if smoke { w.test_n } else { w.bench_n };
            for r in &benches::gc_runners() {
                let (rn, want) = w.reference.expect("GC workloads have references");
                let got = benches::run_once(&**r, w, rn).unwrap();
                check(&**r, w, got, want, rn);
                let mut inst = r.compile(&w.wasm).unwrap().instantiate().unwrap();
                g.bench_function(BenchmarkId::new(w.name, r.name()), |b| {
                    b.iter(|| inst.run(black_box(n)).unwrap())
                });
            }
        }
        g.finish();
    }

    c.final_summary();
}
