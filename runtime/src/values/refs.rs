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

use std::fmt;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnyRef {
    I31(I31),
    /// A host reference made internal by `any.convert_extern`.
    Host(u32),
}

/// A non-null `externref`: a host reference the embedder made, or an internal
/// reference made external by `extern.convert_any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternRef(ExternInner);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    pub fn host_number(self) -> Option<u32> {
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
    pub fn to_any(self) -> AnyRef {
        match self.0 {
            ExternInner::Host(n) => AnyRef::Host(n),
            ExternInner::Any(any) => any,
        }
    }

    /// The shared raw form.
    pub(crate) fn to_raw(self) -> u64 {
        self.to_any().to_raw()
    }

    /// The reference with raw form `raw` (non-null).
    pub(crate) fn from_raw(raw: u64) -> Option<ExternRef> {
        AnyRef::from_raw(raw).map(ExternRef::from_any)
    }
}

impl AnyRef {
    /// The shared raw form.
    pub(crate) fn to_raw(self) -> u64 {
        match self {
            AnyRef::I31(v) => u64::from(v.0) << 1 | 1,
            AnyRef::Host(n) => u64::from(n) << 2 | 2,
        }
    }

    /// The reference with raw form `raw`, `None` for null. (An object's offset cannot
    /// occur yet: no engine allocates objects; the GC work of issue 15 adds them.)
    pub(crate) fn from_raw(raw: u64) -> Option<AnyRef> {
        match raw {
            0 => None,
            r if r & 1 == 1 => Some(AnyRef::I31(I31((r >> 1) as u32 & 0x7fff_ffff))),
            r if r & 3 == 2 => Some(AnyRef::Host((r >> 2) as u32)),
            r => unreachable!("raw reference {r:#x}: objects are not allocated yet"),
        }
    }
}

impl fmt::Display for AnyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyRef::I31(v) => write!(f, "i31:{}", v.get_s()),
            AnyRef::Host(n) => write!(f, "host:{n}"),
        }
    }
}

impl fmt::Display for ExternRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
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
            assert_eq!(AnyRef::from_raw(raw), Some(r));
            let e = ExternRef::from_any(r);
            assert_eq!(e.to_raw(), raw, "converting costs nothing");
            assert_eq!(ExternRef::from_raw(raw), Some(e));
            assert_eq!(e.to_any(), r);
        }
        assert_eq!(AnyRef::from_raw(0), None);
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
