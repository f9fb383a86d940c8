//! Garbage collection (the Wasm 3.0 GC proposal): the heap of struct and array objects
//! that a store owns and both engines share, and its collector (RATIONALE.md, "Garbage
//! collection").
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/runtime.html#aggregate-instances>.

mod heap;
pub(crate) mod layout;
mod objects;
mod ops;
mod state;

#[cfg(test)]
mod tests;

pub(crate) use heap::Layouts;
pub(crate) use layout::ObjectLayout;
pub(crate) use ops::{ObjectOp, Operands};
pub(crate) use state::{EngineRoots, GcState};
