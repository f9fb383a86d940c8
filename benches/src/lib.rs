//! Shared code of the benchmark suite: the workloads (C programs built to wasm32 and
//! hand-written WAT kernels, each exporting `run(n)`) and one small [`Runner`] trait with
//! one implementation per engine, so every engine is measured by the same code on the
//! same module bytes.
//!
//! Engines: ours (`interp`, `native`) always; with the `peers` feature also wasmtime
//! (Cranelift, Winch, Pulley) and wasmi (lazy and eager translation).

use anyhow::{Context, Result, anyhow, bail, ensure};

pub mod placement;

/// The only code callgrind counts in the tools of this crate (`icount`, `compile_real`,
/// the `profile_*` examples): `f`, run once. Give valgrind
/// `--toggle-collect=icount_measured`; unmangled and never inlined, so callgrind finds it
/// by that name in every binary that calls it.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "Rust" fn icount_measured(f: &mut dyn FnMut()) {
    f()
}

/// One benchmark workload: a module exporting `run(n: i32) -> i32 | i64`.
pub struct Workload {
    pub name: &'static str,
    /// Binary wasm: every engine is handed exactly these bytes.
    pub wasm: Vec<u8>,
    /// `n` for the `execute` benchmarks: sized so one call takes 10–200 ms on `native`.
    pub bench_n: i32,
    /// A small `n` for tests and instruction-count checks.
    pub test_n: i32,
    /// A known result of `run(n)`: from the native gcc build for the C programs (see
    /// programs/README.md), from a Python model of the kernel for simd.
    pub reference: Option<(i32, i64)>,
}

macro_rules! program {
    ($name:literal, $bench_n:expr, $test_n:expr, $reference:expr) => {
        (
            $name,
            Src::Wasm(include_bytes!(concat!("../programs/", $name, ".wasm"))),
            $bench_n,
            $test_n,
            $reference,
        )
    };
}

macro_rules! kernel {
    ($name:literal, $bench_n:expr, $test_n:expr) => {
        kernel!($name, $bench_n, $test_n, None)
    };
    ($name:literal, $bench_n:expr, $test_n:expr, $reference:expr) => {
        (
            $name,
            Src::Wat(include_str!(concat!("../kernels/", $name, ".wat"))),
            $bench_n,
            $test_n,
            $reference,
        )
    };
}

enum Src {
    Wasm(&'static [u8]),
    Wat(&'static str),
}

/// Names of all workloads, in the order [`workloads`] returns them.
pub const NAMES: &[&str] = &[
    "sha256",
    "quicksort",
    "nbody",
    "lz",
    "fib",
    "locals",
    "sieve",
    "matmul",
    "dispatch",
    "indirect",
    "bulk",
    "simd",
];

/// The GC workloads (issue 15), run by the `gc` group with [`gc_runners`]: apart from the
/// others, as they need Wasm 3.0's GC, which not every peer has (wasmi has none).
pub fn gc_workloads() -> Result<Vec<Workload>> {
    let wat = include_str!("../kernels/gc_trees.wat");
    Ok(vec![Workload {
        name: "gc_trees",
        wasm: wat::parse_str(wat).context("parsing gc_trees.wat")?,
        // n: trees of 511 nodes built and dropped
        bench_n: 2_000,
        test_n: 20,
        reference: Some((20, 20 * 511 + 8191)),
    }])
}

/// The engines of the `gc` group: ours with Wasm 3.0 on, and wasmtime (Cranelift, its
/// default collector) with GC on when built with `peers`.
pub fn gc_runners() -> Vec<Box<dyn Runner>> {
    #[allow(unused_mut)]
    let mut v: Vec<Box<dyn Runner>> = vec![
        Box::new(Ours::gc(runtime::Strategy::Interpreter)),
        Box::new(Ours::gc(runtime::Strategy::Native)),
    ];
    #[cfg(feature = "peers")]
    v.push(Box::new(peers::WasmtimeGc));
    v
}

/// Every workload, with its module bytes ready (kernels converted from WAT).
pub fn workloads() -> Result<Vec<Workload>> {
    #[allow(clippy::type_complexity)]
    let table: [(&'static str, Src, i32, i32, Option<(i32, i64)>); 12] = [
        // n: MiB hashed
        program!("sha256", 4, 1, Some((4, 2236613753))),
        // n: thousand ints sorted (twice)
        program!("quicksort", 50, 10, Some((300, 2818082485))),
        // n: thousand steps
        program!("nbody", 500, 2, Some((1000, -169086184))),
        // n: 64 KiB blocks compressed + decompressed
        program!("lz", 64, 1, Some((32, 1012898))),
        kernel!("fib", 32, 15),
        kernel!("locals", 30_000_000, 10_000),
        kernel!("sieve", 16_000_000, 10_000),
        kernel!("matmul", 256, 12),
        kernel!("dispatch", 8_000, 20),
        kernel!("indirect", 2_000_000, 10_000),
        kernel!("bulk", 16, 1),
        // n: rounds over 2 MiB of f32 and 256 KiB of bytes (n/16 of them for n < 16);
        // reference: the kernel modelled in Python with f32 rounding (struct.pack)
        kernel!("simd", 50, 1, Some((1, 999427136953))),
    ];
    table
        .into_iter()
        .map(|(name, src, bench_n, test_n, reference)| {
            // The C programs but nbody return u32; the kernels' references are exact.
            let returns_u32 = matches!(src, Src::Wasm(_)) && name != "nbody";
            let wasm = match src {
                Src::Wasm(b) => b.to_vec(),
                Src::Wat(t) => wat::parse_str(t).with_context(|| format!("parsing {name}.wat"))?,
            };
            Ok(Workload {
                name,
                wasm,
                bench_n,
                test_n,
                reference: reference.map(|(n, r): (i32, i64)| {
                    // Unsigned 32-bit references are compared as the i32 they wrap to.
                    let r = if returns_u32 {
                        r as u32 as i32 as i64
                    } else {
                        r
                    };
                    (n, r)
                }),
            })
        })
        .collect()
}

/// The workload called `name`.
pub fn workload(name: &str) -> Result<Workload> {
    workloads()?
        .into_iter()
        .find(|w| w.name == name)
        .ok_or_else(|| anyhow!("no workload {name:?}; known: {NAMES:?}"))
}

/// One engine: bytes to compiled module.
pub trait Runner {
    /// The engine's name in benchmark ids (`interp`, `native`, `wasmtime`, ...).
    fn name(&self) -> &'static str;
    /// Bytes to ready-to-run code (for lazily translating engines: as ready as they get
    /// before the first call).
    fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>>;
}

/// A compiled module of one engine.
pub trait Compiled {
    /// A fresh store with one instance of the module and its `run` export looked up.
    fn instantiate(&self) -> Result<Box<dyn Instance>>;
}

/// An instance, ready to call.
pub trait Instance {
    /// Calls `run(n)`; an i32 result is sign-extended.
    fn run(&mut self, n: i32) -> Result<i64>;
}

/// Our engines, plus the peers when built with `peers`.
pub fn runners() -> Vec<Box<dyn Runner>> {
    #[allow(unused_mut)]
    let mut v: Vec<Box<dyn Runner>> = vec![
        Box::new(Ours::plain(runtime::Strategy::Interpreter)),
        Box::new(Ours::plain(runtime::Strategy::Native)),
    ];
    for strategy in [runtime::Strategy::Interpreter, runtime::Strategy::Native] {
        for metering in [Metering::Fuel, Metering::Interruptible] {
            v.push(Box::new(Ours {
                strategy,
                metering,
                gc: false,
            }));
        }
    }
    #[cfg(feature = "peers")]
    v.extend(peers::runners());
    v
}

/// The runner called `name` (see [`runners`]).
pub fn runner(name: &str) -> Result<Box<dyn Runner>> {
    runners()
        .into_iter()
        .find(|r| r.name() == name)
        .ok_or_else(|| anyhow!("no engine {name:?} in this build"))
}

/// Compiles, instantiates and runs `w` with `n` on `r`.
pub fn run_once(r: &dyn Runner, w: &Workload, n: i32) -> Result<i64> {
    let compiled = r
        .compile(&w.wasm)
        .with_context(|| format!("{}: compiling {}", r.name(), w.name))?;
    let mut inst = compiled
        .instantiate()
        .with_context(|| format!("{}: instantiating {}", r.name(), w.name))?;
    inst.run(n)
        .with_context(|| format!("{}: {}.run({n})", r.name(), w.name))
}

/// Checks that every runner gives the same `run(n)` result for `w` (and the reference
/// result when `n` is the reference's); returns that result.
pub fn check_agree(runners: &[Box<dyn Runner>], w: &Workload, n: i32) -> Result<i64> {
    let mut first: Option<(&str, i64)> = None;
    for r in runners {
        let got = run_once(&**r, w, n)?;
        match first {
            None => first = Some((r.name(), got)),
            Some((name, want)) => ensure!(
                got == want,
                "{}.run({n}): {} gives {got}, {name} gives {want}",
                w.name,
                r.name()
            ),
        }
    }
    let (_, got) = first.ok_or_else(|| anyhow!("no runners"))?;
    if let Some((rn, want)) = w.reference
        && rn == n
        && got != want
    {
        bail!("{}.run({n}) = {got}, reference result is {want}", w.name);
    }
    Ok(got)
}

// ---------------------------------------------------------------------------------------
// Our engines.

/// The runtime of this repository with one strategy, metered or not.
pub struct Ours {
    pub strategy: runtime::Strategy,
    pub metering: Metering,
    /// Wasm 3.0 (GC included) on, for the GC workloads; Wasm 2.0 otherwise, the default.
    pub gc: bool,
}

/// What an engine checks as it runs, besides the Wasm semantics: the metered variants
/// are separate runners (`native+fuel`, `interp+interrupt`, ...), so that a metered and
/// an unmetered time of one workload come from the same `cargo bench` run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Metering {
    /// No fuel, not interruptible: what a plain `Config` gives.
    Off,
    /// `Config::consume_fuel`, with fuel that never runs out.
    Fuel,
    /// `Config::interruptible`: a check at every function entry and loop header.
    Interruptible,
}

impl Ours {
    pub fn plain(strategy: runtime::Strategy) -> Ours {
        Ours {
            strategy,
            metering: Metering::Off,
            gc: false,
        }
    }

    /// The plain runner with Wasm 3.0 on (GC).
    pub fn gc(strategy: runtime::Strategy) -> Ours {
        Ours {
            gc: true,
            ..Ours::plain(strategy)
        }
    }

    /// `BENCH_GUARD_PAGES=0` turns `Config::signal_traps` (on by default) off.
    /// `BENCH_CONSUME_FUEL=1` and `BENCH_INTERRUPTIBLE=1` turn metering on for the plain
    /// runners too (for `icount`, which measures one runner by name).
    fn config(&self) -> runtime::Config {
        let env = |name: &str| std::env::var_os(name).is_some_and(|v| v == "1");
        let features = match self.gc {
            true => runtime::WasmFeatures::WASM3 - runtime::WasmFeatures::THREADS,
            false => runtime::WasmFeatures::WASM2,
        };
        runtime::Config::new(self.strategy)
            .features(features)
            .consume_fuel(self.metering == Metering::Fuel || env("BENCH_CONSUME_FUEL"))
            .interruptible(self.metering == Metering::Interruptible || env("BENCH_INTERRUPTIBLE"))
            .signal_traps(std::env::var_os("BENCH_GUARD_PAGES").is_none_or(|v| v != "0"))
    }
}

struct OursCompiled {
    engine: runtime::Engine,
    module: runtime::Module,
}

struct OursInstance {
    store: runtime::Store,
    run: runtime::Func,
    args: [runtime::Value; 1],
}

impl Runner for Ours {
    fn name(&self) -> &'static str {
        use runtime::Strategy::{Interpreter, Native};
        match (self.strategy, self.metering) {
            (s, Metering::Off) => s.name(),
            (Interpreter, Metering::Fuel) => "interp+fuel",
            (Interpreter, Metering::Interruptible) => "interp+interrupt",
            (Native, Metering::Fuel) => "native+fuel",
            (Native, Metering::Interruptible) => "native+interrupt",
        }
    }
    fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>> {
        let engine = runtime::Engine::new(self.config())?;
        let module = runtime::Module::from_binary(&engine, wasm)?;
        Ok(Box::new(OursCompiled { engine, module }))
    }
}

impl Compiled for OursCompiled {
    fn instantiate(&self) -> Result<Box<dyn Instance>> {
        let store = runtime::Store::new(&self.engine);
        if self.engine.config().consume_fuel {
            store.set_fuel(u64::MAX)?;
        }
        let instance = runtime::Instance::new(&store, &self.module, None)?;
        let run = instance
            .get_func(&store, "run")
            .ok_or_else(|| anyhow!("no export run"))?;
        Ok(Box::new(OursInstance {
            store,
            run,
            args: [runtime::Value::I32(0)],
        }))
    }
}

impl Instance for OursInstance {
    fn run(&mut self, n: i32) -> Result<i64> {
        self.args[0] = runtime::Value::I32(n);
        let out = self.run.call(&self.store, &self.args)?;
        match out.as_slice() {
            [runtime::Value::I32(x)] => Ok(*x as i64),
            [runtime::Value::I64(x)] => Ok(*x),
            other => bail!("run returned {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Peer engines from crates.io.

#[cfg(feature = "peers")]
pub mod peers {
    use super::{Compiled, Instance, Runner};
    use anyhow::{Result, anyhow, bail};

    pub fn runners() -> Vec<Box<dyn Runner>> {
        vec![
            Box::new(Wasmtime(WasmtimeKind::Cranelift)),
            Box::new(Wasmtime(WasmtimeKind::Winch)),
            Box::new(Wasmtime(WasmtimeKind::Pulley)),
            Box::new(Wasmi(wasmi::CompilationMode::LazyTranslation)),
            Box::new(Wasmi(wasmi::CompilationMode::Eager)),
        ]
    }

    /// wasmtime (Cranelift) with Wasm GC on, its default collector: the `gc` group's peer.
    pub struct WasmtimeGc;

    impl Runner for WasmtimeGc {
        fn name(&self) -> &'static str {
            "wasmtime"
        }
        fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>> {
            let mut config = wasmtime::Config::new();
            config.strategy(wasmtime::Strategy::Cranelift);
            config.wasm_function_references(true);
            config.wasm_gc(true);
            let engine = wasmtime::Engine::new(&config)?;
            let module = wasmtime::Module::new(&engine, wasm)?;
            Ok(Box::new(WasmtimeCompiled { engine, module }))
        }
    }

    #[derive(Clone, Copy)]
    pub enum WasmtimeKind {
        Cranelift,
        Winch,
        Pulley,
    }

    /// wasmtime with its defaults otherwise, but compiling on one thread (the
    /// `parallel-compilation` feature is off) like our engines, and no code cache.
    pub struct Wasmtime(pub WasmtimeKind);

    struct WasmtimeCompiled {
        engine: wasmtime::Engine,
        module: wasmtime::Module,
    }

    struct WasmtimeInstance {
        store: wasmtime::Store<()>,
        run: wasmtime::Func,
        out: [wasmtime::Val; 1],
    }

    impl Runner for Wasmtime {
        fn name(&self) -> &'static str {
            match self.0 {
                WasmtimeKind::Cranelift => "wasmtime",
                WasmtimeKind::Winch => "wasmtime-winch",
                WasmtimeKind::Pulley => "wasmtime-pulley",
            }
        }
        fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>> {
            let mut config = wasmtime::Config::new();
            match self.0 {
                WasmtimeKind::Cranelift => {
                    config.strategy(wasmtime::Strategy::Cranelift);
                }
                WasmtimeKind::Winch => {
                    config.strategy(wasmtime::Strategy::Winch);
                }
                WasmtimeKind::Pulley => {
                    config.target("pulley64")?;
                }
            }
            let engine = wasmtime::Engine::new(&config)?;
            let module = wasmtime::Module::new(&engine, wasm)?;
            Ok(Box::new(WasmtimeCompiled { engine, module }))
        }
    }

    impl Compiled for WasmtimeCompiled {
        fn instantiate(&self) -> Result<Box<dyn Instance>> {
            let mut store = wasmtime::Store::new(&self.engine, ());
            let instance = wasmtime::Instance::new(&mut store, &self.module, &[])?;
            let run = instance
                .get_func(&mut store, "run")
                .ok_or_else(|| anyhow!("no export run"))?;
            let out = match run.ty(&store).results().next() {
                Some(wasmtime::ValType::I64) => wasmtime::Val::I64(0),
                _ => wasmtime::Val::I32(0),
            };
            Ok(Box::new(WasmtimeInstance {
                store,
                run,
                out: [out],
            }))
        }
    }

    impl Instance for WasmtimeInstance {
        fn run(&mut self, n: i32) -> Result<i64> {
            self.run
                .call(&mut self.store, &[wasmtime::Val::I32(n)], &mut self.out)?;
            match self.out[0] {
                wasmtime::Val::I32(x) => Ok(x as i64),
                wasmtime::Val::I64(x) => Ok(x),
                ref other => bail!("run returned {other:?}"),
            }
        }
    }

    /// wasmi 2 with its defaults and one compilation mode.
    pub struct Wasmi(pub wasmi::CompilationMode);

    struct WasmiCompiled {
        engine: wasmi::Engine,
        module: wasmi::Module,
    }

    struct WasmiInstance {
        store: wasmi::Store<()>,
        run: wasmi::Func,
        out: [wasmi::Val; 1],
    }

    impl Runner for Wasmi {
        fn name(&self) -> &'static str {
            match self.0 {
                wasmi::CompilationMode::Eager => "wasmi-eager",
                _ => "wasmi",
            }
        }
        fn compile(&self, wasm: &[u8]) -> Result<Box<dyn Compiled>> {
            let mut config = wasmi::Config::default();
            config.compilation_mode(self.0);
            let engine = wasmi::Engine::new(&config);
            let module = wasmi::Module::new(&engine, wasm)?;
            Ok(Box::new(WasmiCompiled { engine, module }))
        }
    }

    impl Compiled for WasmiCompiled {
        fn instantiate(&self) -> Result<Box<dyn Instance>> {
            let mut store = wasmi::Store::new(&self.engine, ());
            let linker = wasmi::Linker::<()>::new(&self.engine);
            let instance = linker.instantiate_and_start(&mut store, &self.module)?;
            let run = instance
                .get_func(&store, "run")
                .ok_or_else(|| anyhow!("no export run"))?;
            let out = match run.ty(&store).results().first() {
                Some(wasmi::ValType::I64) => wasmi::Val::I64(0),
                _ => wasmi::Val::I32(0),
            };
            Ok(Box::new(WasmiInstance {
                store,
                run,
                out: [out],
            }))
        }
    }

    impl Instance for WasmiInstance {
        fn run(&mut self, n: i32) -> Result<i64> {
            self.run
                .call(&mut self.store, &[wasmi::Val::I32(n)], &mut self.out)?;
            match self.out[0] {
                wasmi::Val::I32(x) => Ok(x as i64),
                wasmi::Val::I64(x) => Ok(x),
                ref other => bail!("run returned {other:?}"),
            }
        }
    }
}
