//! Value types, and the raw form in which the store and the engines hold values (the
//! embedder's typed `Value` is the API's, `api/value.rs`).
//!
//! Spec: <https://webassembly.github.io/spec/core/syntax/types.html> and
//! <https://webassembly.github.io/spec/core/exec/runtime.html#values>.

use std::fmt;

mod composite;

pub use composite::{ArrayType, CompositeType, FieldType, StorageType, StructType, SubType};

/// A WebAssembly value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    Ref(RefType),
}

impl ValType {
    /// `funcref`, Wasm 2.0's function reference: `(ref null func)`.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`: `(ref null extern)`.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);
    /// `exnref`: `(ref null exn)`.
    pub const EXNREF: ValType = ValType::Ref(RefType::EXNREF);

    pub fn is_ref(self) -> bool {
        matches!(self, ValType::Ref(_))
    }

    /// The reference type, if this is one.
    pub fn as_ref(self) -> Option<RefType> {
        match self {
            ValType::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// Whether a local or a new table slot of this type has a default value (every type
    /// but a non-nullable reference). Spec:
    /// <https://webassembly.github.io/spec/core/valid/types.html#defaultable-types>.
    pub fn is_defaultable(self) -> bool {
        !matches!(
            self,
            ValType::Ref(RefType {
                nullable: false,
                ..
            })
        )
    }

    /// Value subtyping: numeric and vector types match only themselves.
    pub fn is_subtype_of(self, other: ValType) -> bool {
        match (self, other) {
            (ValType::Ref(a), ValType::Ref(b)) => a.is_subtype_of(b),
            (a, b) => a == b,
        }
    }

    /// This type with each concrete type index mapped by `f` ([`RefType::map_concrete`]).
    pub fn map_concrete(self, f: impl Fn(u32) -> u32) -> ValType {
        match self {
            ValType::Ref(r) => ValType::Ref(r.map_concrete(f)),
            other => other,
        }
    }

    /// The value type of a wasmparser type, or `None` for a reference type outside the
    /// function, extern and exception hierarchies (the GC proposal's).
    pub(crate) fn from_wasmparser(ty: wasmparser::ValType) -> Option<ValType> {
        use wasmparser::ValType as W;
        Some(match ty {
            W::I32 => ValType::I32,
            W::I64 => ValType::I64,
            W::F32 => ValType::F32,
            W::F64 => ValType::F64,
            W::V128 => ValType::V128,
            W::Ref(r) => ValType::Ref(RefType::from_wasmparser(r)?),
        })
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(r) => r.fmt(f),
        }
    }
}

/// What a reference points to. Spec:
/// <https://webassembly.github.io/spec/core/syntax/types.html#heap-types>. The three
/// hierarchies without garbage collection: functions (`func` above every concrete function
/// type, `nofunc` below them all), host references (`extern` above `noextern`) and
/// exceptions (`exn` above `noexn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeapType {
    Func,
    NoFunc,
    Extern,
    NoExtern,
    Exn,
    NoExn,
    /// A function type: in a module (`ModuleInfo`), by its index in the type section; in
    /// the type of a runtime object (a function, table or global of a store, as the API
    /// reports it), by its store-wide type id, equal for the same type in any module
    /// (recursion groups compared iso-recursively, `store/types.rs`).
    Concrete(u32),
}

/// The three reference hierarchies; a reference's raw form depends only on this
/// (`RawValue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefFamily {
    Func,
    Extern,
    Exn,
}

impl HeapType {
    pub fn family(self) -> RefFamily {
        match self {
            HeapType::Func | HeapType::NoFunc | HeapType::Concrete(_) => RefFamily::Func,
            HeapType::Extern | HeapType::NoExtern => RefFamily::Extern,
            HeapType::Exn | HeapType::NoExn => RefFamily::Exn,
        }
    }

    /// Whether this is a bottom type (`nofunc`, `noextern`, `noexn`): only null has it.
    pub fn is_bottom(self) -> bool {
        matches!(
            self,
            HeapType::NoFunc | HeapType::NoExtern | HeapType::NoExn
        )
    }
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapType::Func => f.write_str("func"),
            HeapType::NoFunc => f.write_str("nofunc"),
            HeapType::Extern => f.write_str("extern"),
            HeapType::NoExtern => f.write_str("noextern"),
            HeapType::Exn => f.write_str("exn"),
            HeapType::NoExn => f.write_str("noexn"),
            HeapType::Concrete(i) => write!(f, "{i}"),
        }
    }
}

/// A reference type: a heap type and whether null is a value of it. Spec:
/// <https://webassembly.github.io/spec/core/syntax/types.html#reference-types>.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefType {
    pub nullable: bool,
    pub heap: HeapType,
}

impl RefType {
    pub const FUNCREF: RefType = RefType::nullable(HeapType::Func);
    pub const EXTERNREF: RefType = RefType::nullable(HeapType::Extern);
    pub const EXNREF: RefType = RefType::nullable(HeapType::Exn);

    pub const fn nullable(heap: HeapType) -> RefType {
        RefType {
            nullable: true,
            heap,
        }
    }

    pub const fn non_null(heap: HeapType) -> RefType {
        RefType {
            nullable: false,
            heap,
        }
    }

    pub fn family(self) -> RefFamily {
        self.heap.family()
    }

    /// Whether every value of `self` is a value of `other` (spec reference subtyping:
    /// <https://webassembly.github.io/spec/core/valid/matching.html#reference-types>),
    /// both naming concrete types in the same index space (one module's, or the store's
    /// type ids). Concrete function types are final and have no supertypes (the engines
    /// refuse subtype declarations), so one matches another only if it is the same type.
    pub fn is_subtype_of(self, other: RefType) -> bool {
        let heap = self.heap == other.heap
            || (self.family() == other.family()
                && (self.heap.is_bottom()
                    || matches!(
                        (self.heap, other.heap),
                        (HeapType::Concrete(_), HeapType::Func)
                    )));
        heap && (other.nullable || !self.nullable)
    }

    /// This type with each concrete type index mapped by `f` (from a module's index
    /// space to the store's type ids).
    pub fn map_concrete(self, f: impl Fn(u32) -> u32) -> RefType {
        match self.heap {
            HeapType::Concrete(i) => RefType {
                heap: HeapType::Concrete(f(i)),
                ..self
            },
            _ => self,
        }
    }

    /// The reference type of a wasmparser type, or `None` for the GC proposal's heap
    /// types (any, eq, i31, struct, array, none) and shared ones.
    pub(crate) fn from_wasmparser(ty: wasmparser::RefType) -> Option<RefType> {
        use wasmparser::{AbstractHeapType as A, HeapType as W};
        let heap = match ty.heap_type() {
            W::Abstract { shared: false, ty } => match ty {
                A::Func => HeapType::Func,
                A::NoFunc => HeapType::NoFunc,
                A::Extern => HeapType::Extern,
                A::NoExtern => HeapType::NoExtern,
                A::Exn => HeapType::Exn,
                A::NoExn => HeapType::NoExn,
                _ => return None,
            },
            W::Concrete(index) => HeapType::Concrete(index.as_module_index()?),
            W::Abstract { shared: true, .. } | W::Exact(_) => return None,
        };
        Some(RefType {
            nullable: ty.is_nullable(),
            heap,
        })
    }
}

impl From<RefType> for ValType {
    fn from(r: RefType) -> ValType {
        ValType::Ref(r)
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.nullable, self.heap) {
            (true, HeapType::Func) => f.write_str("funcref"),
            (true, HeapType::Extern) => f.write_str("externref"),
            (true, HeapType::Exn) => f.write_str("exnref"),
            (true, HeapType::NoFunc) => f.write_str("nullfuncref"),
            (true, HeapType::NoExtern) => f.write_str("nullexternref"),
            (true, HeapType::NoExn) => f.write_str("nullexnref"),
            (true, heap) => write!(f, "(ref null {heap})"),
            (false, heap) => write!(f, "(ref {heap})"),
        }
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

    /// This signature with each concrete type index mapped by `f`
    /// ([`RefType::map_concrete`]).
    pub fn map_concrete(&self, f: impl Fn(u32) -> u32) -> FuncType {
        FuncType::new(
            self.params.iter().map(|t| t.map_concrete(&f)),
            self.results.iter().map(|t| t.map_concrete(&f)),
        )
    }

    /// Whether any parameter or result names a concrete type.
    pub fn has_concrete(&self) -> bool {
        self.params.iter().chain(self.results.iter()).any(|t| {
            matches!(
                t,
                ValType::Ref(RefType {
                    heap: HeapType::Concrete(_),
                    ..
                })
            )
        })
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
/// or `f32` zero-extended; a `v128` uses all 128 bits. A reference is 0 when null; else,
/// by its [`RefFamily`], its store function index + 1 for a function reference, its host
/// number + 1 for an extern reference, its store exception index + 1 for an exception
/// reference. Engines
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
