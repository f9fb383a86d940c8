//! Module instance handles.

use crate::api::{AsContext, Extern, Func, Global, Memory, Module, Store, Table, Tag};
use crate::error::{Error, Result};
use crate::store::{StoreData, StoreId};

/// An instance of a module (or a host module) in a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Instance {
    /// Instantiates `module`, registering it under `name` when given so other modules
    /// can import from it (`Store::under_name`). See `store::instantiate` for the steps
    /// and their order.
    pub fn new(store: &Store, module: &Module, name: Option<&str>) -> Result<Instance> {
        if !module.engine().same(store.engine()) {
            return Err(Error::Usage(
                "module was compiled by another engine than the store's".into(),
            ));
        }
        store.under_name(name, || Instance::new_unregistered(store, module, name))
    }

    fn new_unregistered(store: &Store, module: &Module, name: Option<&str>) -> Result<Instance> {
        // Find the instance behind each import module name before taking the data lock,
        // so the resolver hook runs without it.
        let resolver = match module.imports().is_empty() {
            true => None,
            false => store.resolver(),
        };
        let providers: Vec<Option<u32>> = (module.imports().iter())
            .map(|import| {
                let from_hook = resolver.as_ref().and_then(|r| r(&import.module));
                from_hook
                    .filter(|i| i.store == store.id())
                    .or_else(|| store.instance(&import.module))
                    .map(|i| i.index)
            })
            .collect();
        let mut data = store.lock()?;
        let index = crate::store::instantiate(&mut data, module.code(), name, &providers)?;
        Ok(Instance {
            store: store.id(),
            index,
        })
    }

    /// Fails unless this handle belongs to the store of `d`.
    pub(crate) fn check_store(&self, d: &StoreData) -> Result<()> {
        if self.store != d.id || self.index as usize >= d.instances.len() {
            return Err(Error::Usage("instance belongs to another store".into()));
        }
        Ok(())
    }

    /// Runs `f` on this instance's data, after checking the handle belongs to the store.
    fn with<R>(
        &self,
        mut ctx: impl AsContext,
        f: impl FnOnce(&mut StoreData) -> Result<R>,
    ) -> Result<R> {
        ctx.with_data(|d| {
            self.check_store(d)?;
            f(d)
        })
    }

    pub fn get_export(&self, ctx: impl AsContext, name: &str) -> Option<Extern> {
        self.with(ctx, |d| {
            let ext = d.instances[self.index as usize].exports.get(name).copied();
            Ok(ext.map(|e| Extern::from_store(d.id, e)))
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
    pub fn get_tag(&self, ctx: impl AsContext, name: &str) -> Option<Tag> {
        self.get_export(ctx, name)?.into_tag()
    }

    /// Every export, in declaration order.
    pub fn exports(&self, ctx: impl AsContext) -> Vec<(String, Extern)> {
        self.with(ctx, |d| {
            let inst = &d.instances[self.index as usize];
            Ok((inst.exports.iter())
                .map(|(n, e)| (n.to_string(), Extern::from_store(d.id, e)))
                .collect())
        })
        .unwrap_or_default()
    }

    pub fn name(&self, ctx: impl AsContext) -> Option<String> {
        self.with(ctx, |d| Ok(d.instances[self.index as usize].name.clone()))
            .ok()
            .flatten()
    }

    /// The exit code it was closed with, if closed.
    pub fn exit_code(&self, ctx: impl AsContext) -> Option<u32> {
        self.with(ctx, |d| Ok(d.instances[self.index as usize].closed))
            .ok()
            .flatten()
    }

    /// Runs `hook` with the exit code when this instance is closed.
    pub fn on_close(
        &self,
        ctx: impl AsContext,
        hook: impl FnOnce(u32) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        self.with(ctx, |d| {
            d.instances[self.index as usize]
                .close_hooks
                .push(Box::new(hook));
            Ok(())
        })
    }

    /// Closes the instance: later calls into it fail with `Error::Exit(code)` (the first
    /// code it was closed with sticks), its names leave the registry, and its close
    /// hooks run once (their errors are joined). Closing again is a no-op.
    /// Given a `&Store`, the hooks run after the store lock is released, so they may
    /// use the store.
    pub fn close_with_exit_code(&self, ctx: impl AsContext, code: u32) -> Result<()> {
        let (hooks, code) = self.with(ctx, |d| Ok(d.close_instance(self.index, code)))?;
        crate::store::run_close_hooks(hooks, code)
    }
}
