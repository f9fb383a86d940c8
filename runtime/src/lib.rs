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

// The layers, lowest first; a module imports only from layers below its own (checked by
// the `layers` test, RATIONALE.md "Layers"): `error` and `values`, then `module` (the
// front end), then `store` (with the engine boundary), then the engines, then `api`.
mod api;
mod error;
mod interp;
mod module;
mod native;
mod store;
mod values;

pub use api::{
    AsContext, Caller, CodeCacheOutcome, Config, Deadline, Engine, Extern, Func, GcStats, Global,
    HostModuleBuilder, HostResult, ImportResolver, Instance, InterruptHandle, IntoHostFunc, Memory,
    Module, OptLevel, RegallocAlgorithm, Store, Strategy, Table, Tag, TypedFunc, Value,
    WasmFeatures, WasmParams, WasmResults, WasmTy,
};
pub use error::{
    Backtrace, CompileError, CompileErrorKind, Error, Exception, ExitError, FrameInfo, LinkError,
    LinkErrorKind, Result, Trap, TrapKind,
};
pub use module::{
    Export, ExternKind, GlobalType, Import, ImportType, MemoryType, ModuleInfo, TableType,
};
pub use store::{CloseHook, LinearMemory, MemoryAllocator};

/// Which operators the interpreter executes, with their operands (feature `op-coverage`,
/// off by default: the differential fuzzer's coverage statistics).
#[cfg(feature = "op-coverage")]
pub mod op_coverage {
    pub use crate::interp::coverage::{Sink, set_sink};
}
pub use values::{
    AnyRef, ArrayRef, ArrayType, CompositeType, ConcreteKind, ExternRef, FieldType, FuncType,
    HeapType, I31, RefFamily, RefType, StorageType, StructRef, StructType, SubType, ValType,
};
