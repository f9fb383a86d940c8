//! References of the `any` and `extern` hierarchies as the embedder holds them, and the
//! raw form the two hierarchies share (RATIONALE.md, "Garbage collection"):
//!
//! | raw (low bits) | reference |
//! |---|---|
//! | `0` | null |
//! | `v << 1 \| 1` | an `i31` with value `v` |
//! | `n << 2 \| 2` | host reference `n` |
//! | non-zero multiple of 8 | a GC object, by its offset in the store's heap |
//!
//! One form for both hierarchies makes `any.convert_extern` and `extern.convert_any`
//! free: an `externref` may carry an `i31` or an object, an `anyref` a host reference.
//! The embedder holds an object through a [`StructRef`] or [`ArrayRef`], which roots it
//! (`store/gc/roots.rs`), so these references are `Clone`, not `Copy`.

use std::fmt;

use super::roots::Root;

/// An unboxed 31-bit integer: the payload of an `i31ref` (spec:
/// <https://webassembly.github.io/spec/core/exec/runtime.html#values>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct I31(u32);

impl I31 {
    /// The low 31 bits of `v` (as `ref.i31` takes them).
    pub fn wrapping(v: i32) -> I31 {
        I31(v as u32 & 0x7fff_ffff)
    }

    /// The value sign-extended from 31 bits (`i31.get_s`).
    pub fn get_s(self) -> i32 {
        ((self.0 << 1) as i32) >> 1
    }

    /// The value zero-extended (`i31.get_u`).
    pub fn get_u(self) -> u32 {
        self.0
    }
}

/// A non-null reference of the `any` hierarchy that the embedder can hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AnyRef {
    I31(I31),
    /// A host reference made internal by `any.convert_extern`.
    Host(u32),
    Struct(StructRef),
    Array(ArrayRef),
}

/// A struct object of a store's GC heap; the object stays alive while this handle or a
/// clone of it is held. Equal handles name the same object (`ref.eq`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructRef(pub(crate) Root);

/// An array object of a store's GC heap, rooted as [`StructRef`] is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArrayRef(pub(crate) Root);

/// A non-null `externref`: a host reference the embedder made, or an internal
/// reference made external by `extern.convert_any`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternRef(ExternInner);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ExternInner {
    Host(u32),
    /// Never `AnyRef::Host`: externalising an internalised host reference gives the
    /// host reference back.
    Any(AnyRef),
}

impl ExternRef {
    /// Host reference number `n`: the embedder chooses the number and maps it to its
    /// own data; the runtime only compares and stores it. (The spec harness uses
    /// `ref.extern N` this way.)
    pub fn host(n: u32) -> ExternRef {
        ExternRef(ExternInner::Host(n))
    }

    /// The host reference number, if this is a host reference.
    pub fn host_number(&self) -> Option<u32> {
        match self.0 {
            ExternInner::Host(n) => Some(n),
            ExternInner::Any(_) => None,
        }
    }

    /// `extern.convert_any`.
    pub fn from_any(any: AnyRef) -> ExternRef {
        match any {
            AnyRef::Host(n) => ExternRef::host(n),
            other => ExternRef(ExternInner::Any(other)),
        }
    }

    /// `any.convert_extern`.
    pub fn to_any(&self) -> AnyRef {
        match &self.0 {
            ExternInner::Host(n) => AnyRef::Host(*n),
            ExternInner::Any(any) => any.clone(),
        }
    }

    /// The shared raw form.
    pub(crate) fn to_raw(&self) -> u64 {
        match &self.0 {
            ExternInner::Host(n) => AnyRef::Host(*n).to_raw(),
            ExternInner::Any(any) => any.to_raw(),
        }
    }

    /// The reference with raw form `raw`, `None` for null; `object` gives the handle
    /// on the object at an offset (the store's: it roots it).
    pub(crate) fn from_raw(
        raw: u64,
        object: impl FnOnce(u32) -> Option<AnyRef>,
    ) -> Option<ExternRef> {
        AnyRef::from_raw(raw, object).map(ExternRef::from_any)
    }

    /// The heap object this reference carries, if any.
    pub(crate) fn root(&self) -> Option<&Root> {
        match &self.0 {
            ExternInner::Host(_) => None,
            ExternInner::Any(any) => any.root(),
        }
    }
}

impl AnyRef {
    /// The shared raw form.
    pub(crate) fn to_raw(&self) -> u64 {
        match self {
            AnyRef::I31(v) => u64::from(v.0) << 1 | 1,
            AnyRef::Host(n) => u64::from(*n) << 2 | 2,
            AnyRef::Struct(StructRef(r)) | AnyRef::Array(ArrayRef(r)) => r.offset().into(),
        }
    }

    /// The `i31` of a raw form that is one.
    pub(crate) fn i31_of_raw(raw: u64) -> Option<I31> {
        (raw & 1 == 1).then_some(I31((raw >> 1) as u32 & 0x7fff_ffff))
    }

    /// The reference with raw form `raw`, `None` for null; `object` gives the handle
    /// on the object at an offset (the store's: it roots it).
    pub(crate) fn from_raw(raw: u64, object: impl FnOnce(u32) -> Option<AnyRef>) -> Option<AnyRef> {
        match raw {
            0 => None,
            r if r & 1 == 1 => AnyRef::i31_of_raw(r).map(AnyRef::I31),
            r if r & 3 == 2 => Some(AnyRef::Host((r >> 2) as u32)),
            r => object(u32::try_from(r).ok()?),
        }
    }

    /// The heap object this reference is, if it is one.
    pub(crate) fn root(&self) -> Option<&Root> {
        match self {
            AnyRef::Struct(StructRef(r)) | AnyRef::Array(ArrayRef(r)) => Some(r),
            AnyRef::I31(_) | AnyRef::Host(_) => None,
        }
    }
}

impl fmt::Display for AnyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyRef::I31(v) => write!(f, "i31:{}", v.get_s()),
            AnyRef::Host(n) => write!(f, "host:{n}"),
            AnyRef::Struct(StructRef(r)) => write!(f, "struct@{:#x}", r.offset()),
            AnyRef::Array(ArrayRef(r)) => write!(f, "array@{:#x}", r.offset()),
        }
    }
}

impl fmt::Display for ExternRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ExternInner::Host(n) => write!(f, "{n}"),
            ExternInner::Any(any) => write!(f, "{any}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_forms_round_trip_and_keep_their_tags() {
        let d = |_| panic!("no object");
        let refs = [
            AnyRef::I31(I31::wrapping(-1)),
            AnyRef::I31(I31::wrapping(0x4000_0000)),
            AnyRef::I31(I31::wrapping(0)),
            AnyRef::Host(0),
            AnyRef::Host(u32::MAX),
        ];
        for r in refs {
            let raw = r.to_raw();
            assert_ne!(raw, 0);
            assert_ne!(raw % 8, 0, "never an object's offset");
            assert_eq!(AnyRef::from_raw(raw, d), Some(r.clone()));
            let e = ExternRef::from_any(r.clone());
            assert_eq!(e.to_raw(), raw, "converting costs nothing");
            assert_eq!(ExternRef::from_raw(raw, d), Some(e.clone()));
            assert_eq!(e.to_any(), r);
        }
        assert_eq!(AnyRef::from_raw(0, d), None);
        assert_eq!(ExternRef::from_any(AnyRef::Host(7)), ExternRef::host(7));
        assert_eq!(ExternRef::host(7).host_number(), Some(7));
        assert_eq!(
            ExternRef::from_any(AnyRef::I31(I31::wrapping(3))).host_number(),
            None
        );
    }

    #[test]
    fn i31_wraps_and_extends() {
        assert_eq!(I31::wrapping(-1).get_s(), -1);
        assert_eq!(I31::wrapping(-1).get_u(), 0x7fff_ffff);
        assert_eq!(I31::wrapping(0x4000_0000).get_s(), -0x4000_0000);
        assert_eq!(I31::wrapping(i32::MAX).get_s(), -1);
        assert_eq!(I31::wrapping(0x3fff_ffff).get_s(), 0x3fff_ffff);
    }
}
