//! The public API, the top layer: small and typed, in the manner of wasmtime (`Engine`,
//! `Store`, `Module`, `Instance`, `Func`, `TypedFunc`, `Memory`, `Table`, `Global`,
//! `Value`), with wazero's store semantics underneath. It is the one layer that knows
//! which engines exist (`engine.rs` picks one) and the one that converts between typed
//! values and the raw ones the store and the engines hold.

mod caller;
mod engine;
mod exception;
mod externs;
mod func;
mod gc;
mod host_module;
mod instance;
mod interrupt;
mod module;
mod store;
mod typed;
mod value;

pub use crate::native::{CodeCacheOutcome, OptLevel, RegallocAlgorithm};
pub use caller::{AsContext, Caller};
pub use engine::{Config, Engine, Strategy, WasmFeatures};
pub use exception::Tag;
pub use externs::{Extern, Global, Memory, Table};
pub use func::Func;
pub use gc::GcStats;
pub use host_module::HostModuleBuilder;
pub use instance::Instance;
pub use interrupt::{Deadline, InterruptHandle};
pub use module::Module;
pub use store::{ImportResolver, Store};
pub use typed::{HostResult, IntoHostFunc, TypedFunc, WasmParams, WasmResults, WasmTy};
pub use value::Value;
