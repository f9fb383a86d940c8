//! The operands of the interpreter's `Gc` instruction: the GC operators that need no
//! heap object (`i31`s, casts; RATIONALE.md, "Step 2b").
//!
//! They share one instruction kind, run out of the inner loop (`exec/gc.rs`), because
//! `Instr` has 256 kinds, as many as a one-byte tag holds, and must stay 16 bytes (the
//! two segment drops became one kind to make room for this one).
//! `ref.eq` needs no instruction of its own (`I64Eq`: the raw forms are canonical), nor
//! do the conversions between `any` and `extern` (one raw form).

use crate::values::HeapType;

/// What a `Gc { op, dst, src, type_index }` does with the reference in `src`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GcOp {
    /// `ref.i31`: `dst` is the `i31` of the low 31 bits of the i32 in `src`.
    RefI31,
    /// `i31.get_s` and `i31.get_u`: traps ("null i31 reference") on null.
    I31GetS,
    I31GetU,
    /// `ref.test`: `dst` is 1 if `src` is of the target type, else 0.
    Test(CastTarget),
    /// `ref.cast`: traps ("cast failure") unless `src` is of the target type; writes
    /// nothing.
    Cast(CastTarget),
}

impl GcOp {
    /// Whether the instruction writes `dst` (the translator may redirect only then).
    pub(crate) fn writes_dst(self) -> bool {
        !matches!(self, GcOp::Cast(_))
    }
}

/// The target type of a cast: its heap type, reduced to what tells the values apart
/// without objects, and whether null is of it. A concrete function type's index is the
/// instruction's `type_index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CastTarget {
    pub heap: CastHeap,
    pub nullable: bool,
}

/// A cast's heap type, by which non-null values it admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CastHeap {
    /// The top of a hierarchy (`any`, `extern`, `func`, `exn`): every non-null value.
    Top,
    /// `eq`: `i31`s and objects.
    Eq,
    /// `i31`.
    I31,
    /// `struct`, `array`: objects only, and none exist yet.
    Object,
    /// A bottom type: no non-null value.
    Bottom,
    /// The concrete function type `type_index`: functions whose type is a subtype of it.
    Func,
}

impl CastTarget {
    /// The target of a cast to `(ref null? heap)`, `heap` naming module type indices.
    /// Struct and array types are refused before translation (`module/parse.rs`).
    pub(crate) fn new(heap: HeapType, nullable: bool) -> CastTarget {
        let heap = match heap {
            HeapType::Any | HeapType::Extern | HeapType::Func | HeapType::Exn => CastHeap::Top,
            HeapType::Eq => CastHeap::Eq,
            HeapType::I31 => CastHeap::I31,
            HeapType::Struct
            | HeapType::Array
            | HeapType::ConcreteStruct(_)
            | HeapType::ConcreteArray(_) => CastHeap::Object,
            HeapType::None | HeapType::NoExtern | HeapType::NoFunc | HeapType::NoExn => {
                CastHeap::Bottom
            }
            HeapType::Concrete(_) => CastHeap::Func,
        };
        CastTarget { heap, nullable }
    }

    /// Whether the reference with raw form `raw` is of this type; `func_matches` says
    /// whether the function of a non-null function reference has a subtype of the
    /// concrete target type. A reference of the `any` or `extern` hierarchy is tagged by
    /// its low bits (`values/refs.rs`): odd for an `i31`, `10` for a host reference, a
    /// multiple of 8 for an object.
    pub(crate) fn admits(self, raw: u64, func_matches: impl FnOnce(u64) -> bool) -> bool {
        if raw == 0 {
            return self.nullable;
        }
        match self.heap {
            CastHeap::Top => true,
            CastHeap::Eq => raw & 1 == 1 || raw & 7 == 0,
            CastHeap::I31 => raw & 1 == 1,
            // No object is ever allocated yet (the heap comes with issue 15's step 3).
            CastHeap::Object | CastHeap::Bottom => false,
            CastHeap::Func => func_matches(raw),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{AnyRef, I31};

    #[test]
    fn casts_tell_the_raw_forms_apart() {
        let i31 = AnyRef::I31(I31::wrapping(-5)).to_raw();
        let host = AnyRef::Host(3).to_raw();
        let no_func = |_| panic!("not a function reference");
        let admits = |heap, nullable, raw| CastTarget::new(heap, nullable).admits(raw, no_func);
        assert!(admits(HeapType::Any, false, host));
        assert!(admits(HeapType::Any, false, i31));
        assert!(!admits(HeapType::Any, false, 0));
        assert!(admits(HeapType::Any, true, 0));
        assert!(admits(HeapType::Eq, false, i31));
        assert!(!admits(HeapType::Eq, true, host));
        assert!(admits(HeapType::I31, false, i31));
        assert!(!admits(HeapType::I31, false, host));
        assert!(!admits(HeapType::Struct, false, i31));
        assert!(admits(HeapType::Array, true, 0));
        assert!(!admits(HeapType::None, false, i31));
        assert!(admits(HeapType::None, true, 0));
        assert!(admits(HeapType::Extern, false, i31));
        assert!(!admits(HeapType::NoExtern, false, host));
        let func = CastTarget::new(HeapType::Concrete(2), false);
        assert!(func.admits(7, |raw| raw == 7));
        assert!(!func.admits(8, |raw| raw == 7));
        assert!(!func.admits(0, |_| true));
    }
}
