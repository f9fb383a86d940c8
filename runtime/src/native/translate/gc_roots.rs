//! Which values compiled code must keep where a collector can find them (RATIONALE.md,
//! "Step 4a: roots in native frames").
//!
//! A collection happens inside a call (a libcall or a host function) made by compiled
//! code; the non-moving collector then needs every GC reference the suspended Wasm
//! frames still hold. Cranelift's user stack maps do the work: a value declared here is
//! spilled by cranelift-frontend to a stack slot of its own before every call it is live
//! across, reloaded after, and each such call site gets a stack map naming the slots
//! (`compile::stack_maps`, `artifact::StackMaps`, found by `native/stack_roots.rs`).
//!
//! Declared: every value whose Wasm type is in the `any` hierarchy (objects, `i31`) or
//! `extern` (which shares `any`'s raw form, so it may carry an object after
//! `extern.convert_any`). Function and exception references are store indices, not
//! collected objects: left out. Declarations are made where such values come into being
//! with a type: locals and parameters (variables, so every value bound to them and every
//! block parameter cranelift-frontend makes for them is covered), the parameters of
//! control blocks (branch results and loop parameters), call results, `global.get`,
//! `table.get`, `ref.i31` and typed `select`. The other operators that yield a reference
//! pass a declared value through unchanged (`ref.as_non_null`, `ref.cast`, the
//! conversions), yield a null (`ref.null`, nothing to find), or hand it straight to a
//! block parameter (catch payloads, `br_on_*`). A function with no such value declares
//! nothing, and cranelift-frontend then skips its safepoint pass entirely: no cost.

use cranelift_codegen::ir::Value;

use super::Translator;
use crate::values::{RefFamily, ValType};

/// Whether values of type `t` are references a collector must find as roots.
pub(crate) fn is_gc_root(t: ValType) -> bool {
    match t {
        ValType::Ref(r) => matches!(r.family(), RefFamily::Any | RefFamily::Extern),
        _ => false,
    }
}

impl Translator<'_, '_> {
    /// Declares each of `values` whose type (the matching item of `types`) is a root.
    pub(super) fn declare_roots(&mut self, values: &[Value], types: &[ValType]) {
        debug_assert_eq!(values.len(), types.len());
        for (v, t) in values.iter().zip(types) {
            if is_gc_root(*t) {
                self.b.declare_value_needs_stack_map(*v);
            }
        }
    }
}
