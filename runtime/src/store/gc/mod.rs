//! Garbage collection (the Wasm 3.0 GC proposal): the heap of struct and array objects
//! that a store owns and both engines share, and its collector (RATIONALE.md, "Garbage
//! collection").
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/runtime.html#aggregate-instances>.

// Built and tested ahead of its users: the store and the engines take it up in the next
// steps of issue 15 (RATIONALE.md, "Garbage collection", "Plan").
#![cfg_attr(not(test), allow(dead_code, unused_imports))]

mod heap;
mod layout;

#[cfg(test)]
mod tests;

pub(crate) use heap::{GcHeap, Layouts};
pub(crate) use layout::ObjectLayout;
