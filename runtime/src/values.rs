//! Value types and values, as seen by the embedder.
//!
//! Spec: <https://webassembly.github.io/spec/core/syntax/types.html> and
//! <https://webassembly.github.io/spec/core/exec/runtime.html#values>.

use std::fmt;

use crate::api::Func;
use crate::store::StoreId;

/// A WebAssembly value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
}

impl ValType {
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef)
    }

    pub(crate) fn from_wasmparser(ty: wasmparser::ValType) -> Option<ValType> {
        use wasmparser::ValType as W;
        Some(match ty {
            W::I32 => ValType::I32,
            W::I64 => ValType::I64,
            W::F32 => ValType::F32,
            W::F64 => ValType::F64,
            W::V128 => ValType::V128,
            W::Ref(r) => RefType::from_wasmparser(r)?.into(),
        })
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
        })
    }
}

/// The element type of a table: the two reference types of Wasm 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefType {
    FuncRef,
    ExternRef,
}

impl RefType {
    pub(crate) fn from_wasmparser(ty: wasmparser::RefType) -> Option<RefType> {
        if !ty.is_nullable() {
            return None;
        }
        if ty.is_func_ref() {
            Some(RefType::FuncRef)
        } else if ty.is_extern_ref() {
            Some(RefType::ExternRef)
        } else {
            None
        }
    }
}

impl From<RefType> for ValType {
    fn from(r: RefType) -> ValType {
        match r {
            RefType::FuncRef => ValType::FuncRef,
            RefType::ExternRef => ValType::ExternRef,
        }
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ValType::from(*self).fmt(f)
    }
}

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

impl FuncType {
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }

    pub fn params(&self) -> &[ValType] {
        &self.params
    }

    pub fn results(&self) -> &[ValType] {
        &self.results
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, tys: &[ValType]) -> fmt::Result {
            f.write_str("(")?;
            for (i, t) in tys.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{t}")?;
            }
            f.write_str(")")
        }
        list(f, &self.params)?;
        f.write_str(" -> ")?;
        list(f, &self.results)
    }
}

/// An opaque host reference carried by an `externref`.
///
/// The embedder chooses the number and maps it to its own data; the runtime only
/// compares and stores it. (The spec harness uses `ref.extern N` this way.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternRef(pub u32);

/// A WebAssembly value. Floats are kept as bits so that NaN payloads survive.
#[derive(Debug, Clone, Copy, PartialEq)]
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
}

impl Value {
    pub fn ty(&self) -> ValType {
        match self {
            Value::I32(_) => ValType::I32,
            Value::I64(_) => ValType::I64,
            Value::F32(_) => ValType::F32,
            Value::F64(_) => ValType::F64,
            Value::V128(_) => ValType::V128,
            Value::FuncRef(_) => ValType::FuncRef,
            Value::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The default (zero) value of a type: what locals and new table slots start as.
    pub fn default_for(ty: ValType) -> Value {
        match ty {
            ValType::I32 => Value::I32(0),
            ValType::I64 => Value::I64(0),
            ValType::F32 => Value::F32(0),
            ValType::F64 => Value::F64(0),
            ValType::V128 => Value::V128(0),
            ValType::FuncRef => Value::FuncRef(None),
            ValType::ExternRef => Value::ExternRef(None),
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

    /// Encodes the value as an untyped 64-bit cell, the representation engines use
    /// for locals, operands, globals and table elements (`v128` does not fit: its
    /// engines use two cells, see RATIONALE.md).
    ///
    /// References: 0 is null; a funcref is its store function index + 1; an externref
    /// is its host number + 1.
    pub(crate) fn to_raw(self) -> u64 {
        match self {
            Value::I32(v) => v as u32 as u64,
            Value::I64(v) => v as u64,
            Value::F32(v) => v as u64,
            Value::F64(v) => v,
            Value::V128(v) => v as u64,
            Value::FuncRef(None) | Value::ExternRef(None) => 0,
            Value::FuncRef(Some(f)) => f.index as u64 + 1,
            Value::ExternRef(Some(e)) => e.0 as u64 + 1,
        }
    }

    /// The inverse of [`Value::to_raw`] for a value of type `ty` living in store `store`.
    pub(crate) fn from_raw(ty: ValType, raw: u64, store: StoreId) -> Value {
        match ty {
            ValType::I32 => Value::I32(raw as u32 as i32),
            ValType::I64 => Value::I64(raw as i64),
            ValType::F32 => Value::F32(raw as u32),
            ValType::F64 => Value::F64(raw),
            ValType::V128 => Value::V128(raw as u128),
            ValType::FuncRef => Value::FuncRef(
                raw.checked_sub(1)
                    .map(|i| Func::from_raw_parts(store, i as u32)),
            ),
            ValType::ExternRef => Value::ExternRef(raw.checked_sub(1).map(|i| ExternRef(i as u32))),
        }
    }
}

impl Value {
    /// Encodes the value as a 128-bit cell: a `v128` whole, any other value as its
    /// [`Value::to_raw`] cell in the low 64 bits (the upper bits are zero).
    pub(crate) fn to_raw128(self) -> u128 {
        match self {
            Value::V128(v) => v,
            v => v.to_raw() as u128,
        }
    }

    /// The inverse of [`Value::to_raw128`] (only the low 64 bits matter for types
    /// other than `v128`).
    pub(crate) fn from_raw128(ty: ValType, raw: u128, store: StoreId) -> Value {
        match ty {
            ValType::V128 => Value::V128(raw),
            _ => Value::from_raw(ty, raw as u64, store),
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
            Value::ExternRef(Some(e)) => write!(f, "externref:{}", e.0),
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
