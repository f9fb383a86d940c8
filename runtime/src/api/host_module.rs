//! Host modules: named instances whose exports the host provides (functions from Rust
//! closures, memories, tables, globals), which Wasm modules import by name. This is
//! the runtime's linker, in wazero's manner (`HostModuleBuilder`).

use std::sync::Arc;

use crate::api::externs::{new_global, new_memory, new_table};
use crate::api::func::HostFn;
use crate::api::func::new_host_func;
use crate::api::{Caller, Extern, Instance, IntoHostFunc};
use crate::api::{Store, Value};
use crate::error::Result;
use crate::module::{MemoryType, TableType};
use crate::store::InstanceData;
use crate::values::FuncType;

enum HostExport {
    Func(FuncType, HostFn),
    Memory(MemoryType),
    Table(TableType, Value),
    Global(Value, bool),
    Extern(Extern),
}

/// Builds a host module and registers it in a store under its name.
pub struct HostModuleBuilder {
    name: String,
    exports: Vec<(String, HostExport)>,
}

impl HostModuleBuilder {
    pub fn new(name: impl Into<String>) -> HostModuleBuilder {
        HostModuleBuilder {
            name: name.into(),
            exports: Vec::new(),
        }
    }

    /// A function with a dynamic signature.
    pub fn func(
        mut self,
        name: impl Into<String>,
        ty: FuncType,
        f: impl Fn(&mut Caller<'_>, &[Value], &mut [Value]) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.exports
            .push((name.into(), HostExport::Func(ty, Arc::new(f))));
        self
    }

    /// A function from a typed closure, e.g. `|x: i32| x * 2`.
    pub fn func_wrap<P, R>(mut self, name: impl Into<String>, f: impl IntoHostFunc<P, R>) -> Self {
        let (ty, imp) = f.into_host_func();
        self.exports.push((name.into(), HostExport::Func(ty, imp)));
        self
    }

    pub fn memory(mut self, name: impl Into<String>, ty: MemoryType) -> Self {
        self.exports.push((name.into(), HostExport::Memory(ty)));
        self
    }

    pub fn table(mut self, name: impl Into<String>, ty: TableType, init: Value) -> Self {
        self.exports
            .push((name.into(), HostExport::Table(ty, init)));
        self
    }

    pub fn global(mut self, name: impl Into<String>, value: Value, mutable: bool) -> Self {
        self.exports
            .push((name.into(), HostExport::Global(value, mutable)));
        self
    }

    /// Re-exports something that already exists in the store.
    pub fn export(mut self, name: impl Into<String>, ext: Extern) -> Self {
        self.exports.push((name.into(), HostExport::Extern(ext)));
        self
    }

    /// Creates the instance and registers it under the builder's name.
    pub fn instantiate(self, store: &Store) -> Result<Instance> {
        store.under_name(Some(&self.name), || self.build(store))
    }

    fn build(&self, store: &Store) -> Result<Instance> {
        let mut d = store.lock()?;
        let index = d.instances.len() as u32;
        let mut inst = InstanceData::new(None, Some(self.name.clone()), Arc::new([]));
        for (name, export) in &self.exports {
            let ext = match export {
                HostExport::Func(ty, f) => Extern::Func(new_host_func(
                    &mut d,
                    Arc::new(ty.clone()),
                    f.clone(),
                    Some(index),
                )),
                HostExport::Memory(ty) => Extern::Memory(new_memory(&mut d, *ty)?),
                HostExport::Table(ty, init) => Extern::Table(new_table(&mut d, *ty, init.clone())?),
                HostExport::Global(v, m) => Extern::Global(new_global(&mut d, v.clone(), *m)?),
                HostExport::Extern(e) => *e,
            };
            inst.exports.insert(name, ext.to_store());
        }
        d.instances.push(inst);
        Ok(Instance {
            store: store.id(),
            index,
        })
    }
}
