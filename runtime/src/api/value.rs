//! Values as the embedder sees them. Spec:
//! <https://webassembly.github.io/spec/core/exec/runtime.html#values>.
//!
//! Below the API, the store and the engines hold values raw ([`RawValue`]); the
//! conversions are here, at the boundary, where the store a funcref belongs to is known.

use std::fmt;

use crate::api::Func;
use crate::error::{Error, Exception, Result};
use crate::store::StoreData;
use crate::values::{
    AnyRef, ArrayRef, ExternRef, HeapType, RawValue, RefFamily, RefType, StructRef, ValType,
};

/// A WebAssembly value. Floats are kept as bits so that NaN payloads survive.
/// Not `Copy`: a reference to a GC object roots it while held (`AnyRef`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    I32(i32),
    I64(i64),
    /// An `f32`, as its IEEE 754 bits.
    F32(u32),
    /// An `f64`, as its IEEE 754 bits.
    F64(u64),
    V128(u128),
    FuncRef(Option<Func>),
    ExternRef(Option<ExternRef>),
    /// A reference of the `any` hierarchy (`anyref`, `eqref`, `i31ref`, ...; the GC
    /// proposal).
    AnyRef(Option<AnyRef>),
    /// An `exnref`: an exception of the store, or null.
    ExnRef(Option<Exception>),
}

impl Value {
    pub fn ty(&self) -> ValType {
        match self {
            Value::I32(_) => ValType::I32,
            Value::I64(_) => ValType::I64,
            Value::F32(_) => ValType::F32,
            Value::F64(_) => ValType::F64,
            Value::V128(_) => ValType::V128,
            Value::FuncRef(_) => ValType::FUNCREF,
            Value::ExternRef(_) => ValType::EXTERNREF,
            Value::AnyRef(Some(AnyRef::I31(_))) => ValType::Ref(RefType::non_null(HeapType::I31)),
            Value::AnyRef(Some(AnyRef::Struct(_))) => {
                ValType::Ref(RefType::non_null(HeapType::Struct))
            }
            Value::AnyRef(Some(AnyRef::Array(_))) => {
                ValType::Ref(RefType::non_null(HeapType::Array))
            }
            Value::AnyRef(_) => ValType::Ref(RefType::nullable(HeapType::Any)),
            Value::ExnRef(_) => ValType::EXNREF,
        }
    }

    /// The default (zero) value of a type: what locals and new table slots start as.
    /// A non-nullable reference type has none ([`ValType::is_defaultable`]); this gives
    /// the null of its hierarchy, which no such location may hold.
    pub fn default_for(ty: ValType) -> Value {
        match ty {
            ValType::I32 => Value::I32(0),
            ValType::I64 => Value::I64(0),
            ValType::F32 => Value::F32(0),
            ValType::F64 => Value::F64(0),
            ValType::V128 => Value::V128(0),
            ValType::Ref(r) => match r.family() {
                RefFamily::Func => Value::FuncRef(None),
                RefFamily::Extern => Value::ExternRef(None),
                RefFamily::Exn => Value::ExnRef(None),
                RefFamily::Any => Value::AnyRef(None),
            },
        }
    }

    pub fn f32(v: f32) -> Value {
        Value::F32(v.to_bits())
    }

    pub fn f64(v: f64) -> Value {
        Value::F64(v.to_bits())
    }

    pub fn i32(&self) -> Option<i32> {
        match self {
            Value::I32(v) => Some(*v),
            _ => None,
        }
    }

    pub fn i64(&self) -> Option<i64> {
        match self {
            Value::I64(v) => Some(*v),
            _ => None,
        }
    }

    pub fn f32_value(&self) -> Option<f32> {
        match self {
            Value::F32(v) => Some(f32::from_bits(*v)),
            _ => None,
        }
    }

    pub fn f64_value(&self) -> Option<f64> {
        match self {
            Value::F64(v) => Some(f64::from_bits(*v)),
            _ => None,
        }
    }

    /// The value's raw form ([`RawValue`]). A funcref must belong to the store it is
    /// handed to; callers check that first ([`Value::check_store`]).
    pub(crate) fn to_raw(&self) -> RawValue {
        match *self {
            Value::I32(v) => v as u32 as RawValue,
            Value::I64(v) => v as u64 as RawValue,
            Value::F32(v) => v as RawValue,
            Value::F64(v) => v as RawValue,
            Value::V128(v) => v,
            Value::FuncRef(None) | Value::ExternRef(None) | Value::AnyRef(None) => 0,
            Value::ExnRef(None) => 0,
            Value::FuncRef(Some(f)) => f.index as RawValue + 1,
            Value::ExternRef(Some(ref e)) => e.to_raw().into(),
            Value::AnyRef(Some(ref a)) => a.to_raw().into(),
            Value::ExnRef(Some(e)) => e.index as RawValue + 1,
        }
    }

    /// The inverse of [`Value::to_raw`] for a value of type `ty` living in the store of
    /// `d` (for types other than `v128` only the low 64 bits matter). A GC object gets
    /// a handle that roots it.
    pub(crate) fn from_raw(ty: ValType, raw: RawValue, d: &StoreData) -> Value {
        let store = d.id;
        let low = raw as u64;
        match ty {
            ValType::I32 => Value::I32(low as u32 as i32),
            ValType::I64 => Value::I64(low as i64),
            ValType::F32 => Value::F32(low as u32),
            ValType::F64 => Value::F64(low),
            ValType::V128 => Value::V128(raw),
            ValType::Ref(r) => match r.family() {
                RefFamily::Func => Value::FuncRef(
                    low.checked_sub(1)
                        .map(|i| Func::from_raw_parts(store, i as u32)),
                ),
                RefFamily::Extern => {
                    Value::ExternRef(ExternRef::from_raw(low, |o| d.object_ref(o)))
                }
                RefFamily::Any => Value::AnyRef(AnyRef::from_raw(low, |o| d.object_ref(o))),
                RefFamily::Exn => Value::ExnRef(low.checked_sub(1).map(|i| Exception {
                    store: store.0,
                    index: i as u32,
                })),
            },
        }
    }

    /// Fails unless the value is of type `ty` (concrete types named by store-wide id,
    /// as runtime objects' types are) and, if a function reference, of the store of `d`:
    /// a typed reference type admits null only if nullable, and a concrete function type
    /// admits functions of that type or of a subtype of it.
    pub(crate) fn check_type(&self, ty: ValType, d: &StoreData) -> Result<()> {
        self.check_store(d)?;
        let fits = match (ty, self) {
            (ValType::Ref(r), Value::FuncRef(f)) if r.family() == RefFamily::Func => match f {
                None => r.nullable,
                Some(f) => match r.heap {
                    HeapType::Concrete(id) => {
                        d.types.is_subtype(d.funcs[f.index as usize].type_id, id)
                    }
                    heap => !heap.is_bottom(),
                },
            },
            (ValType::Ref(r), Value::ExternRef(e)) if r.family() == RefFamily::Extern => match e {
                None => r.nullable,
                Some(_) => !r.heap.is_bottom(),
            },
            (ValType::Ref(r), Value::ExnRef(e)) if r.family() == RefFamily::Exn => match e {
                None => r.nullable,
                Some(_) => !r.heap.is_bottom(),
            },
            (ValType::Ref(r), Value::AnyRef(a)) if r.family() == RefFamily::Any => match a {
                None => r.nullable,
                Some(AnyRef::I31(_)) => {
                    matches!(r.heap, HeapType::Any | HeapType::Eq | HeapType::I31)
                }
                Some(AnyRef::Host(_)) => r.heap == HeapType::Any,
                Some(AnyRef::Struct(StructRef(o)) | AnyRef::Array(ArrayRef(o))) => {
                    let is_array = matches!(a, Some(AnyRef::Array(_)));
                    match (d.gc.heap(), r.heap) {
                        (Some(heap), _) if !heap.is_object(o.offset().into()) => false,
                        (_, HeapType::Any | HeapType::Eq) => true,
                        (_, HeapType::Struct) => !is_array,
                        (_, HeapType::Array) => is_array,
                        (
                            Some(heap),
                            HeapType::ConcreteStruct(id) | HeapType::ConcreteArray(id),
                        ) => d.types.is_subtype(heap.type_of(o.offset()), id),
                        _ => false,
                    }
                }
            },
            (ValType::Ref(_), _) => false,
            (ty, v) => v.ty() == ty,
        };
        if fits {
            return Ok(());
        }
        let what = match self {
            Value::FuncRef(Some(f)) => format!("{self} of type {}", d.funcs[f.index as usize].ty),
            _ => self.to_string(),
        };
        Err(Error::Usage(format!("value {what} is not of type {ty}")))
    }

    /// Fails when the value is a reference to a function that is not of the store of
    /// `d` ([`Func::check_store`]).
    pub(crate) fn check_store(&self, d: &StoreData) -> Result<()> {
        let object = match self {
            Value::FuncRef(Some(f)) => return f.check_store(d),
            Value::ExnRef(Some(e)) => return e.check_store(d),
            Value::AnyRef(Some(a)) => a.root(),
            Value::ExternRef(Some(e)) => e.root(),
            _ => None,
        };
        match object {
            Some(o) if o.store() != d.id.0 => {
                Err(Error::Usage("GC object belongs to another store".into()))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(v) => write!(f, "f32:{}", f32::from_bits(*v)),
            Value::F64(v) => write!(f, "f64:{}", f64::from_bits(*v)),
            Value::V128(v) => write!(f, "v128:{v:#034x}"),
            Value::FuncRef(None) => write!(f, "funcref:null"),
            Value::FuncRef(Some(func)) => write!(f, "funcref:{}", func.index),
            Value::ExternRef(None) => write!(f, "externref:null"),
            Value::ExternRef(Some(e)) => write!(f, "externref:{e}"),
            Value::AnyRef(None) => write!(f, "anyref:null"),
            Value::AnyRef(Some(a)) => write!(f, "anyref:{a}"),
            Value::ExnRef(None) => write!(f, "exnref:null"),
            Value::ExnRef(Some(e)) => write!(f, "exnref:{}", e.index),
        }
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::I32(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::I64(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::f32(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::f64(v)
    }
}
