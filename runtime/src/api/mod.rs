//! The public API: small and typed, in the manner of wasmtime (`Engine`, `Store`,
//! `Module`, `Instance`, `Func`, `TypedFunc`, `Memory`, `Table`, `Global`), with
//! wazero's store semantics underneath.

mod caller;
mod externs;
mod func;
mod host_module;
mod instance;
mod module;
mod typed;

pub use caller::{AsContext, Caller};
pub use externs::{Extern, Global, Memory, Table};
pub use func::Func;
pub use host_module::HostModuleBuilder;
pub use instance::Instance;
pub use module::Module;
pub(crate) use module::simd_unsupported;
pub use typed::{HostResult, IntoHostFunc, TypedFunc, WasmParams, WasmResults, WasmTy};
