//! Module instance handles.

use crate::api::{AsContext, Extern, Func, Global, Memory, Module, Table};
use crate::error::{Error, Result};
use crate::store::{Store, StoreId};

/// An instance of a module (or a host module) in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Instance {
    /// Instantiates `module`, registering it under `name` when given so other modules
    /// can import from it. See `store::instantiate` for the steps and their order.
    pub fn new(store: &Store, module: &Module, name: Option<&str>) -> Result<Instance> {
        crate::store::instantiate(store, module, name)
    }

    pub fn get_export(&self, mut ctx: impl AsContext, name: &str) -> Option<Extern> {
        ctx.with_data(|d| {
            if d.id != self.store {
                return Err(Error::Usage("instance belongs to another store".into()));
            }
            Ok(d.instances[self.index as usize].exports.get(name).copied())
        })
        .ok()
        .flatten()
    }

    pub fn get_func(&self, ctx: impl AsContext, name: &str) -> Option<Func> {
        self.get_export(ctx, name)?.into_func()
    }
    pub fn get_memory(&self, ctx: impl AsContext, name: &str) -> Option<Memory> {
        self.get_export(ctx, name)?.into_memory()
    }
    pub fn get_table(&self, ctx: impl AsContext, name: &str) -> Option<Table> {
        self.get_export(ctx, name)?.into_table()
    }
    pub fn get_global(&self, ctx: impl AsContext, name: &str) -> Option<Global> {
        self.get_export(ctx, name)?.into_global()
    }

    /// Every export, in declaration order.
    pub fn exports(&self, mut ctx: impl AsContext) -> Vec<(String, Extern)> {
        ctx.with_data(|d| {
            let inst = &d.instances[self.index as usize];
            Ok(inst
                .export_order
                .iter()
                .map(|n| (n.clone(), inst.exports[n]))
                .collect())
        })
        .unwrap_or_default()
    }

    pub fn name(&self, mut ctx: impl AsContext) -> Option<String> {
        ctx.with_data(|d| Ok(d.instances[self.index as usize].name.clone()))
            .ok()
            .flatten()
    }

    /// The exit code it was closed with, if closed.
    pub fn exit_code(&self, mut ctx: impl AsContext) -> Option<u32> {
        ctx.with_data(|d| Ok(d.instances[self.index as usize].closed))
            .ok()
            .flatten()
    }

    /// Runs `hook` with the exit code when this instance is closed.
    pub fn on_close(
        &self,
        mut ctx: impl AsContext,
        hook: impl FnOnce(u32) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        ctx.with_data(|d| {
            d.instances[self.index as usize]
                .close_hooks
                .push(Box::new(hook));
            Ok(())
        })
    }

    /// Closes the instance: later calls into it fail with `Error::Exit(code)`, its names
    /// leave the registry, and its close hooks run (their errors are joined). Closing
    /// twice is a no-op.
    pub fn close_with_exit_code(&self, store: &Store, code: u32) -> Result<()> {
        if self.store != store.id() {
            return Err(Error::Usage("instance belongs to another store".into()));
        }
        let (hooks, code) = {
            let mut d = store.lock()?;
            let inst = &mut d.instances[self.index as usize];
            if inst.closed.is_some() && inst.close_hooks.is_empty() {
                store.registry().remove_instance(self.index);
                return Ok(());
            }
            // Hooks see the code the instance was first closed with (e.g. by an exit).
            let code = *inst.closed.get_or_insert(code);
            (std::mem::take(&mut inst.close_hooks), code)
        };
        store.registry().remove_instance(self.index);
        let mut errors: Vec<Error> = hooks.into_iter().filter_map(|h| h(code).err()).collect();
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Multiple(errors)),
        }
    }
}
