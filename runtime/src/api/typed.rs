//! Typed calls in both directions: `TypedFunc<(i32, i64), f64>` for host-to-Wasm calls,
//! and host functions made from plain Rust closures.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::api::func::HostFn;
use crate::api::{AsContext, Caller, Func, Value};
use crate::error::{Error, Result};
use crate::values::{ExternRef, FuncType, ValType};

/// A Rust type that stands for one Wasm value type.
pub trait WasmTy: Sized + Send + 'static {
    fn ty() -> ValType;
    fn into_value(self) -> Value;
    fn from_value(v: Value) -> Option<Self>;
}

macro_rules! wasm_ty {
    ($t:ty, $vt:ident, $to:expr, $from:pat => $out:expr) => {
        impl WasmTy for $t {
            fn ty() -> ValType {
                ValType::$vt
            }
            fn into_value(self) -> Value {
                let f: fn($t) -> Value = $to;
                f(self)
            }
            fn from_value(v: Value) -> Option<Self> {
                match v {
                    $from => Some($out),
                    _ => None,
                }
            }
        }
    };
}

wasm_ty!(i32, I32, Value::I32, Value::I32(x) => x);
wasm_ty!(u32, I32, |x| Value::I32(x as i32), Value::I32(x) => x as u32);
wasm_ty!(i64, I64, Value::I64, Value::I64(x) => x);
wasm_ty!(u64, I64, |x| Value::I64(x as i64), Value::I64(x) => x as u64);
wasm_ty!(f32, F32, Value::f32, Value::F32(x) => f32::from_bits(x));
wasm_ty!(f64, F64, Value::f64, Value::F64(x) => f64::from_bits(x));
wasm_ty!(Option<Func>, FUNCREF, Value::FuncRef, Value::FuncRef(x) => x);
wasm_ty!(Option<ExternRef>, EXTERNREF, Value::ExternRef, Value::ExternRef(x) => x);

/// A tuple of [`WasmTy`] (or a single one): the parameters of a typed call.
pub trait WasmParams: Sized + Send + 'static {
    fn types() -> Vec<ValType>;
    fn into_values(self) -> Vec<Value>;
    fn from_values(vs: &[Value]) -> Option<Self>;
}

/// Results of a typed call; same shapes as [`WasmParams`].
pub trait WasmResults: WasmParams {}
impl<T: WasmParams> WasmResults for T {}

impl<T: WasmTy> WasmParams for T {
    fn types() -> Vec<ValType> {
        vec![T::ty()]
    }
    fn into_values(self) -> Vec<Value> {
        vec![self.into_value()]
    }
    fn from_values(vs: &[Value]) -> Option<Self> {
        match vs {
            [v] => T::from_value(v.clone()),
            _ => None,
        }
    }
}

macro_rules! tuple_params {
    ($($t:ident),*) => {
        impl<$($t: WasmTy),*> WasmParams for ($($t,)*) {
            fn types() -> Vec<ValType> {
                vec![$($t::ty()),*]
            }
            #[allow(non_snake_case)]
            fn into_values(self) -> Vec<Value> {
                let ($($t,)*) = self;
                vec![$($t.into_value()),*]
            }
            #[allow(non_snake_case, unused_mut, unused_variables)]
            fn from_values(vs: &[Value]) -> Option<Self> {
                let mut it = vs.iter();
                $(let $t = $t::from_value(it.next()?.clone())?;)*
                if it.next().is_some() {
                    return None;
                }
                Some(($($t,)*))
            }
        }
    };
}

tuple_params!();
tuple_params!(A);
tuple_params!(A, B);
tuple_params!(A, B, C);
tuple_params!(A, B, C, D);
tuple_params!(A, B, C, D, E);
tuple_params!(A, B, C, D, E, F);
tuple_params!(A, B, C, D, E, F, G);
tuple_params!(A, B, C, D, E, F, G, H);

/// A function viewed with a static signature.
#[derive(Debug)]
pub struct TypedFunc<P, R> {
    func: Func,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for TypedFunc<P, R> {}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    pub(crate) fn new(func: Func) -> Self {
        TypedFunc {
            func,
            _marker: PhantomData,
        }
    }

    pub fn func(&self) -> Func {
        self.func
    }

    pub fn call(&self, ctx: impl AsContext, params: P) -> Result<R> {
        let out = self.func.call(ctx, &params.into_values())?;
        R::from_values(&out).ok_or_else(|| Error::Usage("typed call: result type mismatch".into()))
    }
}

/// What a typed host closure may return: results, or `Result` of results.
pub trait HostResult: Send + 'static {
    type Values: WasmResults;
    fn into_result(self) -> Result<Self::Values>;
}

impl<T: WasmResults> HostResult for T {
    type Values = T;
    fn into_result(self) -> Result<T> {
        Ok(self)
    }
}

impl<T: WasmResults> HostResult for Result<T> {
    type Values = T;
    fn into_result(self) -> Result<T> {
        self
    }
}

/// A Rust closure that can become a host function. `Params` is a marker: the tuple of
/// argument types, with `Caller` first for closures that take one.
pub trait IntoHostFunc<Params, Results>: Send + Sync + 'static {
    fn into_host_func(self) -> (FuncType, HostFn);
}

fn write_results<R: HostResult>(r: R, results: &mut [Value]) -> Result<()> {
    let values = r.into_result()?.into_values();
    for (slot, v) in results.iter_mut().zip(values) {
        *slot = v;
    }
    Ok(())
}

fn bad_args() -> Error {
    Error::Usage("host function called with arguments of the wrong type".into())
}

macro_rules! into_host_func {
    ($($t:ident),*) => {
        impl<Fun, Res, $($t: WasmTy),*> IntoHostFunc<($($t,)*), Res> for Fun
        where
            Fun: Fn($($t),*) -> Res + Send + Sync + 'static,
            Res: HostResult,
        {
            #[allow(non_snake_case)]
            fn into_host_func(self) -> (FuncType, HostFn) {
                let ty = FuncType::new(<($($t,)*)>::types(), Res::Values::types());
                let imp: HostFn = Arc::new(move |_caller: &mut Caller<'_>, args: &[Value], results: &mut [Value]| {
                    let ($($t,)*) = <($($t,)*)>::from_values(args).ok_or_else(bad_args)?;
                    write_results((self)($($t),*), results)
                });
                (ty, imp)
            }
        }

        impl<Fun, Res, $($t: WasmTy),*> IntoHostFunc<(Caller<'static>, $($t,)*), Res> for Fun
        where
            Fun: Fn(&mut Caller<'_>, $($t),*) -> Res + Send + Sync + 'static,
            Res: HostResult,
        {
            #[allow(non_snake_case)]
            fn into_host_func(self) -> (FuncType, HostFn) {
                let ty = FuncType::new(<($($t,)*)>::types(), Res::Values::types());
                let imp: HostFn = Arc::new(move |caller: &mut Caller<'_>, args: &[Value], results: &mut [Value]| {
                    let ($($t,)*) = <($($t,)*)>::from_values(args).ok_or_else(bad_args)?;
                    write_results((self)(caller, $($t),*), results)
                });
                (ty, imp)
            }
        }
    };
}

into_host_func!();
into_host_func!(A);
into_host_func!(A, B);
into_host_func!(A, B, C);
into_host_func!(A, B, C, D);
into_host_func!(A, B, C, D, E);
into_host_func!(A, B, C, D, E, F);
