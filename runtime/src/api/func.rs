//! Function handles.

use std::sync::Arc;

use crate::api::{
    AsContext, Caller, IntoHostFunc, Store, TypedFunc, Value, WasmParams, WasmResults,
};
use crate::error::{Error, Result};
use crate::store::{HostFuncImpl, StoreData, StoreId};
use crate::values::{FuncType, RawValue, with_raw_values};

/// A host function as the embedder writes it: typed values in and out, with a `Caller`.
pub(crate) type HostFn =
    Arc<dyn Fn(&mut Caller<'_>, &[Value], &mut [Value]) -> Result<()> + Send + Sync>;

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
            self.check_store(d)?;
            Ok((*d.funcs[self.index as usize].ty).clone())
        })
    }

    /// Calls the function. A trap is `Error::Trap`; an exit request (or a call into a
    /// closed module) is `Error::Exit`.
    pub fn call(&self, mut ctx: impl AsContext, args: &[Value]) -> Result<Vec<Value>> {
        ctx.with_data(|d| self.call_on(d, args))
    }

    /// Fails unless this handle belongs to the store of `d`.
    pub(crate) fn check_store(&self, d: &StoreData) -> Result<()> {
        if self.store != d.id || self.index as usize >= d.funcs.len() {
            return Err(Error::Usage("function belongs to another store".into()));
        }
        Ok(())
    }

    /// Calls the function on the store's data, with `args` checked against its type.
    pub(crate) fn call_on(&self, d: &mut StoreData, args: &[Value]) -> Result<Vec<Value>> {
        self.check_store(d)?;
        let ty = d.funcs[self.index as usize].ty.clone();
        if args.len() != ty.params().len()
            || args
                .iter()
                .zip(ty.params())
                .any(|(a, t)| !a.ty().is_ref() && a.ty() != *t)
        {
            let got: Vec<String> = args.iter().map(|a| a.ty().to_string()).collect();
            return Err(Error::Usage(format!(
                "argument mismatch: function expects {ty}, got ({})",
                got.join(",")
            )));
        }
        with_raw_values(args.len() + ty.results().len(), |cells| {
            let (raw_args, raw_results) = cells.split_at_mut(args.len());
            for ((cell, a), t) in raw_args.iter_mut().zip(args).zip(ty.params()) {
                a.check_type(*t, d)
                    .map_err(|e| Error::Usage(format!("argument mismatch: {e}")))?;
                *cell = a.to_raw();
            }
            d.invoke(self.index, raw_args, raw_results)?;
            Ok((ty.results().iter().zip(raw_results.iter()))
                .map(|(t, raw)| Value::from_raw(*t, *raw, d))
                .collect())
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

/// Adds host function `func` of type `ty` to the store, owned by host module instance
/// `instance` if any.
pub(crate) fn new_host_func(
    data: &mut StoreData,
    ty: Arc<FuncType>,
    func: HostFn,
    instance: Option<u32>,
) -> Func {
    let index = data.add_host_func(ty.clone(), raw_host_func(ty, func), instance);
    Func {
        store: data.id,
        index,
    }
}

/// The store's form of host function `f`: raw cells converted to values of `ty` and
/// back. The results the embedder writes must have the signature's types and belong to
/// this store: an engine trusts every raw value it gets.
fn raw_host_func(ty: Arc<FuncType>, f: HostFn) -> HostFuncImpl {
    Arc::new(
        move |data: &mut StoreData,
              caller: Option<u32>,
              args: &[RawValue],
              results: &mut [RawValue]| {
            let args: Vec<Value> = (ty.params().iter().zip(args))
                .map(|(t, raw)| Value::from_raw(*t, *raw, data))
                .collect();
            let mut values: Vec<Value> = ty
                .results()
                .iter()
                .map(|t| Value::default_for(*t))
                .collect();
            f(&mut Caller::new(data, caller), &args, &mut values)?;
            for ((cell, v), t) in results.iter_mut().zip(&values).zip(ty.results()) {
                v.check_type(*t, data).map_err(|e| {
                    Error::Usage(format!(
                        "host function of type {ty} returned a bad result: {e}"
                    ))
                })?;
                *cell = v.to_raw();
            }
            Ok(())
        },
    )
}
