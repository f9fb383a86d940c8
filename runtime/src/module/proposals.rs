//! How error messages name the operators of a Wasm proposal, for both engines' refusals of
//! operators they do not implement (`Module::from_binary` refuses a module that needs a
//! feature its engine lacks first; these are the translators' own line of defence).

use crate::error::Error;

/// The operators of proposal `$proposal` (wasmparser's tag), as error messages name them.
/// There is no catch-all rule: a proposal that a new wasmparser adds fails to compile in
/// the engines' translators until it is named here.
#[rustfmt::skip]
macro_rules! proposal_name {
    (exceptions) => { "exception handling operators" };
    (legacy_exceptions) => { "legacy exception handling operators" };
    (tail_call) => { "tail calls" };
    (threads) => { "atomic operators (threads)" };
    (shared_everything_threads) => { "shared-everything threads operators" };
    (gc) => { "garbage collection operators" };
    (custom_descriptors) => { "custom descriptors operators" };
    (function_references) => { "typed function references operators" };
    (stack_switching) => { "stack switching operators" };
    (wide_arithmetic) => { "wide arithmetic operators" };
    (acquire_release_atomics) => { "acquire-release atomic operators" };
    (memory_control) => { "memory control operators" };
    (relaxed_simd) => { "relaxed SIMD operators" };
}
pub(crate) use proposal_name;

/// The error of `engine` for the operator of visit method `visit` (wasmparser's name),
/// one of `operators` (a [`proposal_name!`]).
pub(crate) fn unsupported_operator(engine: &str, operators: &str, visit: &str) -> Error {
    let op = visit.strip_prefix("visit_").unwrap_or(visit);
    Error::unsupported(format!("{engine}: {operators} ({op}) are not supported"))
}
