//! A WebAssembly runtime with two independent engines, an interpreter and a native
//! (Cranelift) engine, behind one embedding API.
//!
//! ```
//! use runtime::{Config, Engine, Instance, Module, Store, Value};
//! let engine = Engine::new(Config::default()).unwrap();
//! let module = Module::new(&engine, r#"(module (func (export "add") (param i32 i32) (result i32)
//!     local.get 0 local.get 1 i32.add))"#).unwrap();
//! let store = Store::new(&engine);
//! let instance = Instance::new(&store, &module, None).unwrap();
//! let add = instance.get_func(&store, "add").unwrap();
//! assert_eq!(add.call(&store, &[Value::I32(2), Value::I32(3)]).unwrap(), vec![Value::I32(5)]);
//! ```

pub mod api;
pub mod engine;
pub mod error;
mod interp;
pub mod module;
mod native;
pub mod store;
pub mod values;

pub use api::{
    AsContext, Caller, Extern, Func, Global, HostModuleBuilder, HostResult, Instance, IntoHostFunc,
    Memory, Module, Table, TypedFunc, WasmParams, WasmResults, WasmTy,
};
pub use engine::{Config, Engine, Strategy, WasmFeatures};
pub use error::{
    CompileError, CompileErrorKind, Error, ExitError, LinkError, LinkErrorKind, Result, Trap,
    TrapKind,
};
pub use module::{ExternKind, GlobalType, MemoryType, TableType};
pub use store::{ImportResolver, LinearMemory, MemoryAllocator, Store};
pub use values::{ExternRef, FuncType, RefType, ValType, Value};
