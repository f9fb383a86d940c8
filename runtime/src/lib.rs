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

/// Test hook, not API (issue 15, step 4a): the stack slots (address, raw word) that the
/// native engine's stack maps name in the Wasm frames suspended under the host call
/// `caller` belongs to (`native/stack_roots.rs`; nulls included; none for the interpreter
/// or a host function the embedder called). For `tests/api/native_stack_roots.rs` until
/// the collector walks the frames itself.
#[doc(hidden)]
pub fn native_stack_roots_for_tests(caller: &mut Caller<'_>) -> Vec<(usize, u64)> {
    let mut roots = Vec::new();
    native::stack_roots::for_each_stack_root(caller.store, &mut |root| {
        roots.push((root.slot as usize, root.raw));
    });
    roots
}
