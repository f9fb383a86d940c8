//! Ownership of a module's machine code.
//!
//! cranelift-jit's `JITModule` maps code pages writable while it writes them and
//! read+execute (never both) once `finalize_definitions` has run. It leaks its memory on
//! drop (to keep function pointers valid), so we free it explicitly when the compiled
//! module — kept alive by `Module` and every instance of it — is dropped.

use std::sync::Mutex;

use cranelift_jit::JITModule;

pub(crate) struct CodeMemory {
    /// Behind a mutex only to be `Sync`: nothing uses it after finalization.
    jit: Mutex<Option<JITModule>>,
}

impl CodeMemory {
    pub fn new(jit: JITModule) -> CodeMemory {
        CodeMemory {
            jit: Mutex::new(Some(jit)),
        }
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        let jit = self.jit.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(jit) = jit {
            // SAFETY: the `NativeModule` owning this memory is being dropped, so no
            // `Module` or instance refers to it any more: no code of it is running (an
            // invocation holds the instance's `Module`) and its function pointers, which
            // only that `NativeModule` and the contexts of its instances hold, are never
            // called again.
            unsafe { jit.free_memory() };
        }
    }
}
