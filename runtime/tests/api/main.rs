//! The runtime's tests, through its public API only, each run on both engines.
//!
//! One test binary (Cargo builds `tests/api/main.rs` and the modules beside it as one
//! target): one link instead of one per file. A test is a `fn(Strategy)`;
//! `on_both_engines!` stamps out a `#[test]` per engine, `NAME::interp` and
//! `NAME::native`, so a report names the engine that failed and
//! `cargo test -p runtime --test api ::native` runs one engine. A test that applies to
//! one engine only is a plain `#[test]` whose comment says why.

/// For each `fn NAME(Strategy)` listed, a module `NAME` with the tests `interp` and
/// `native`, calling it with that engine's strategy. A listed function that does not
/// exist fails to compile; one left out of the list is dead code, a warning.
macro_rules! on_both_engines {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[test]
            fn interp() {
                super::$test(runtime::Strategy::Interpreter);
            }

            #[test]
            fn native() {
                super::$test(runtime::Strategy::Native);
            }
        }
    )+};
}

mod common;

// Execution semantics, one area per module.
mod basics;
mod calls;
mod control;
mod exceptions;
mod fixed_tables;
mod func_refs;
mod gc_objects;
mod gc_refs;
mod memory;
mod memory64;
mod multi_memory;
mod native_stack_roots;
mod numeric;
mod relaxed_simd;
mod signal_backtraces;
mod signal_stack_checks;
mod signal_traps;
mod simd;
mod table64;
mod tables;
mod tail_calls;
mod tail_calls_interp;
mod trap_status;

// Tail calls, implemented by the native engine only.
mod tail_calls_native;

// The embedding API and the runtime's limits.
mod backtraces;
mod caller_instance;
mod caller_memory;
mod closing;
mod concurrency;
mod data_images;
mod exhaustion;
mod fuel;
mod fuel_edges;
mod host_and_hooks;
mod instantiation;
mod interrupt;
mod leaks;
mod linking;
mod no_panic;
mod parallel_compile;
mod unsupported;

// How the runtime's sources are layered (engine-independent).
mod layers;
