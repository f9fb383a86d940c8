//! Value types, and the raw form in which the store and the engines hold values (the
//! embedder's typed `Value` is the API's, `api/value.rs`).
//!
//! Spec: <https://webassembly.github.io/spec/core/syntax/types.html> and
//! <https://webassembly.github.io/spec/core/exec/runtime.html#values>.

use std::fmt;

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

/// A value as the store and the engines hold it: untyped bits whose type is known from
/// context (a signature, a global's or a table's type). Numbers are their bits, an `i32`
/// or `f32` zero-extended; a `v128` uses all 128 bits. A reference is 0 when null, its
/// store function index + 1 for a funcref, its host number + 1 for an externref. Engines
/// keep scalars in 64-bit cells: the low half of this, the upper half being zero.
pub(crate) type RawValue = u128;

/// Runs `f` with `n` zeroed raw values: on the stack when they are few (as almost every
/// signature's are), so a call across the host boundary allocates nothing for them.
#[inline]
pub(crate) fn with_raw_values<R>(n: usize, f: impl FnOnce(&mut [RawValue]) -> R) -> R {
    const ON_STACK: usize = 16;
    if n <= ON_STACK {
        f(&mut [0; ON_STACK][..n])
    } else {
        f(&mut vec![0; n])
    }
}
