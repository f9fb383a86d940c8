//! Entry trampolines and host adapters, kept per engine by signature.
//!
//! Both are determined by their Cranelift signature and the engine's settings (the
//! backend's ISA, fuel metering), never by the module: an entry trampoline unpacks an
//! argument buffer by the signature's types, a host adapter packs them and calls the
//! `host_call` libcall, whose address is resolved at link time like every call's
//! (`link.rs`). So a signature compiled for one module serves the next: a process that
//! compiles many small modules (the fuzzer compiles one to four per module) stops
//! compiling them again. Bounded, so that a process compiling an endless stream of new
//! signatures keeps a fixed amount of them.

use std::collections::HashMap;
use std::sync::Mutex;

use cranelift_codegen::ir::Signature;

use super::artifact::CodeBlob;
use crate::error::Result;

/// Most code blobs kept (a few hundred bytes each).
const CAPACITY: usize = 4096;

/// Which of the two per-signature stubs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Stub {
    Entry,
    HostAdapter,
}

#[derive(Default)]
pub(crate) struct TrampolineCache {
    blobs: Mutex<HashMap<(Stub, Signature), CodeBlob>>,
}

impl TrampolineCache {
    /// The stub `kind` for Wasm signature `sig`: kept, or built by `build` and kept.
    pub(crate) fn get_or_build(
        &self,
        kind: Stub,
        sig: &Signature,
        build: impl FnOnce() -> Result<CodeBlob>,
    ) -> Result<CodeBlob> {
        let key = (kind, sig.clone());
        if let Some(blob) = self.lock().get(&key) {
            return Ok(blob.clone());
        }
        // Built outside the lock: two threads may build the same stub, the same code.
        let blob = build()?;
        let mut blobs = self.lock();
        if blobs.len() < CAPACITY {
            blobs.insert(key, blob.clone());
        }
        Ok(blob)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Stub, Signature), CodeBlob>> {
        // A panic while holding the lock leaves a map of complete entries.
        self.blobs.lock().unwrap_or_else(|p| p.into_inner())
    }
}
