//! A test-only hook that makes an isolated worker process fail at given seeds, so the
//! crash isolation of `harness fuzz` can be tested without a real engine bug
//! (harness/tests/fuzz_isolation.rs).
//!
//! `HARNESS_FUZZ_INJECT_FAULT=segv@17,abort@30,hang@45` (kinds: `segv`, `bus`, `ill`,
//! `abort`, `hang`; a kind with `-ref`, e.g. `segv-ref@17`, fails only in a worker that
//! runs a reference runtime, the way a crash of the reference itself would). Only the
//! worker side (`harness fuzz --worker`) reads it, so it can never kill an in-process run
//! or a test binary.

use std::collections::HashMap;

/// The variable the worker reads.
pub const ENV: &str = "HARNESS_FUZZ_INJECT_FAULT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Segv,
    Bus,
    Ill,
    Abort,
    Hang,
}

/// A fault to inject, and whether only with a reference runtime in the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Injected {
    pub fault: Fault,
    pub reference_only: bool,
}

/// The faults to inject, by seed; empty when the variable is unset.
pub fn from_env() -> anyhow::Result<HashMap<u64, Injected>> {
    let Ok(spec) = std::env::var(ENV) else {
        return Ok(HashMap::new());
    };
    parse(&spec)
}

pub fn parse(spec: &str) -> anyhow::Result<HashMap<u64, Injected>> {
    let mut faults = HashMap::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (kind, seed) = item
            .split_once('@')
            .ok_or_else(|| anyhow::anyhow!("{ENV}: expected KIND@SEED, got {item:?}"))?;
        let (kind, reference_only) = match kind.strip_suffix("-ref") {
            Some(kind) => (kind, true),
            None => (kind, false),
        };
        let fault = match kind {
            "segv" => Fault::Segv,
            "bus" => Fault::Bus,
            "ill" => Fault::Ill,
            "abort" => Fault::Abort,
            "hang" => Fault::Hang,
            other => anyhow::bail!("{ENV}: unknown fault {other:?}"),
        };
        let injected = Injected {
            fault,
            reference_only,
        };
        faults.insert(seed.parse()?, injected);
    }
    Ok(faults)
}

/// Makes this process fail the way `fault` says; does not return.
pub fn inject(fault: Fault) -> ! {
    let signal = match fault {
        Fault::Abort => std::process::abort(),
        Fault::Hang => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        Fault::Segv => libc::SIGSEGV,
        Fault::Bus => libc::SIGBUS,
        Fault::Ill => libc::SIGILL,
    };
    // The default action, not std's SIGSEGV/SIGBUS handler (which only knows stack
    // overflows, and returns for a raised signal), so the process dies of the signal
    // exactly as it would of a fault in generated code.
    // SAFETY: `signal` and `raise` have no memory-safety preconditions; SIG_DFL is a
    // valid disposition for these signals.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
    unreachable!("signal {signal} did not end the process")
}
