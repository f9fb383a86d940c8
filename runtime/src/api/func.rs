//! Function handles.

use std::sync::Arc;

use crate::api::{AsContext, Caller, IntoHostFunc, TypedFunc, WasmParams, WasmResults};
use crate::error::{Error, Result};
use crate::store::{FuncEntity, FuncKind, HostFuncImpl, Store, StoreData, StoreId};
use crate::values::{FuncType, Value};

/// A function of a store: exported by a module instance, or made by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Func {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Func {
    pub(crate) fn from_raw_parts(store: StoreId, index: u32) -> Func {
        Func { store, index }
    }

    /// The store-wide index of this function (stable for the store's life).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// A host function with a dynamic signature.
    pub fn new(
        store: &Store,
        ty: FuncType,
        f: impl Fn(&mut Caller<'_>, &[Value], &mut [Value]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<Func> {
        let mut data = store.lock()?;
        Ok(new_host_func(&mut data, Arc::new(ty), Arc::new(f), None))
    }

    /// A host function from a typed Rust closure, e.g. `|a: i32, b: i32| a + b`, or one
    /// that takes `&mut Caller` first.
    pub fn wrap<Params, Results>(
        store: &Store,
        f: impl IntoHostFunc<Params, Results>,
    ) -> Result<Func> {
        let (ty, imp) = f.into_host_func();
        let mut data = store.lock()?;
        Ok(new_host_func(&mut data, Arc::new(ty), imp, None))
    }

    pub fn ty(&self, mut ctx: impl AsContext) -> Result<FuncType> {
        ctx.with_data(|d| {
            d.check_func(*self)?;
            Ok((*d.funcs[self.index as usize].ty).clone())
        })
    }

    /// Calls the function. A trap is `Error::Trap`; an exit request (or a call into a
    /// closed module) is `Error::Exit`.
    pub fn call(&self, mut ctx: impl AsContext, args: &[Value]) -> Result<Vec<Value>> {
        ctx.with_data(|d| {
            d.check_func(*self)?;
            d.invoke(self.index, args)
        })
    }

    /// A typed view of the function; fails if the signature differs.
    pub fn typed<P: WasmParams, R: WasmResults>(
        &self,
        ctx: impl AsContext,
    ) -> Result<TypedFunc<P, R>> {
        let ty = self.ty(ctx)?;
        if ty.params() != P::types().as_slice() || ty.results() != R::types().as_slice() {
            return Err(Error::Usage(format!(
                "function type mismatch: function is {ty}, typed view asks for {}",
                FuncType::new(P::types(), R::types())
            )));
        }
        Ok(TypedFunc::new(*self))
    }
}

/// Adds a host function to the store.
pub(crate) fn new_host_func(
    data: &mut StoreData,
    ty: Arc<FuncType>,
    func: HostFuncImpl,
    instance: Option<u32>,
) -> Func {
    let type_id = data.types.id_of(&ty);
    let index = data.funcs.len() as u32;
    data.funcs.push(FuncEntity {
        ty,
        type_id,
        kind: FuncKind::Host { func, instance },
    });
    Func {
        store: data.id,
        index,
    }
}
