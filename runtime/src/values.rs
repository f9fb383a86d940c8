//! Value types, and the raw form in which the store and the engines hold values (the
//! embedder's typed `Value` is the API's, `api/value.rs`).
//!
//! Spec: <https://webassembly.github.io/spec/core/syntax/types.html> and
//! <https://webassembly.github.io/spec/core/exec/runtime.html#values>.

use std::fmt;

mod composite;
mod refs;

pub use composite::{ArrayType, CompositeType, FieldType, StorageType, StructType, SubType};
pub(crate) mod roots;
pub use refs::{AnyRef, ArrayRef, ExternRef, I31, StructRef};

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

    /// Value subtyping: numeric and vector types match only themselves; references as
    /// [`RefType::is_subtype_of`] says.
    pub fn is_subtype_of(self, other: ValType, concrete: impl Fn(u32, u32) -> bool) -> bool {
        match (self, other) {
            (ValType::Ref(a), ValType::Ref(b)) => a.is_subtype_of(b, concrete),
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

    /// The value type of a wasmparser type in a module whose type definitions are
    /// `types` (so a concrete type gets its kind), or `None` for a reference type
    /// [`RefType::from_wasmparser_in`] does not take.
    pub(crate) fn from_wasmparser_of(
        ty: wasmparser::ValType,
        types: &[SubType],
    ) -> Option<ValType> {
        ValType::from_wasmparser_in(ty, |i| Some(types.get(i as usize)?.composite.kind()))
    }

    /// The value type of a wasmparser type, concrete type indices having the kinds
    /// `kind_of` gives ([`RefType::from_wasmparser_in`]). Public for tools that read
    /// modules themselves (the fuzzer's harness) and must see types as the runtime does.
    pub fn from_wasmparser_in(
        ty: wasmparser::ValType,
        kind_of: impl Fn(u32) -> Option<ConcreteKind>,
    ) -> Option<ValType> {
        use wasmparser::ValType as W;
        Some(match ty {
            W::I32 => ValType::I32,
            W::I64 => ValType::I64,
            W::F32 => ValType::F32,
            W::F64 => ValType::F64,
            W::V128 => ValType::V128,
            W::Ref(r) => ValType::Ref(RefType::from_wasmparser_in(r, kind_of)?),
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
/// <https://webassembly.github.io/spec/core/syntax/types.html#heap-types>. Four
/// hierarchies: functions (`func` above every concrete function type, `nofunc` below
/// them all), host references (`extern` above `noextern`), exceptions (`exn` above
/// `noexn`) and the GC proposal's internal references (`any` above `eq`, which is above
/// `i31`, `struct` and `array`; concrete struct and array types below those; `none` at
/// the bottom).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeapType {
    Func,
    NoFunc,
    Extern,
    NoExtern,
    Exn,
    NoExn,
    Any,
    Eq,
    I31,
    Struct,
    Array,
    None,
    /// A function type: in a module (`ModuleInfo`), by its index in the type section; in
    /// the type of a runtime object (a function, table or global of a store, as the API
    /// reports it), by its store-wide type id, equal for the same type in any module
    /// (recursion groups compared iso-recursively, `store/types.rs`).
    Concrete(u32),
    /// A struct type, indexed as [`HeapType::Concrete`].
    ConcreteStruct(u32),
    /// An array type, indexed as [`HeapType::Concrete`].
    ConcreteArray(u32),
}

/// The four reference hierarchies. A reference's raw form depends only on this
/// (`RawValue`), and `Any` and `Extern` share theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefFamily {
    Func,
    Extern,
    Exn,
    Any,
}

/// What a concrete type index names: the kind of its definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConcreteKind {
    Func,
    Struct,
    Array,
}

impl HeapType {
    pub fn family(self) -> RefFamily {
        match self {
            HeapType::Func | HeapType::NoFunc | HeapType::Concrete(_) => RefFamily::Func,
            HeapType::Extern | HeapType::NoExtern => RefFamily::Extern,
            HeapType::Exn | HeapType::NoExn => RefFamily::Exn,
            HeapType::Any
            | HeapType::Eq
            | HeapType::I31
            | HeapType::Struct
            | HeapType::Array
            | HeapType::None
            | HeapType::ConcreteStruct(_)
            | HeapType::ConcreteArray(_) => RefFamily::Any,
        }
    }

    /// Whether this is a bottom type (`nofunc`, `noextern`, `noexn`, `none`): only null
    /// has it.
    pub fn is_bottom(self) -> bool {
        matches!(
            self,
            HeapType::NoFunc | HeapType::NoExtern | HeapType::NoExn | HeapType::None
        )
    }

    /// The concrete type index or id this names, if it is concrete.
    pub fn concrete(self) -> Option<u32> {
        match self {
            HeapType::Concrete(i) | HeapType::ConcreteStruct(i) | HeapType::ConcreteArray(i) => {
                Some(i)
            }
            _ => None,
        }
    }

    /// The concrete heap type of kind `kind` at index (or id) `index`.
    pub fn concrete_of(kind: ConcreteKind, index: u32) -> HeapType {
        match kind {
            ConcreteKind::Func => HeapType::Concrete(index),
            ConcreteKind::Struct => HeapType::ConcreteStruct(index),
            ConcreteKind::Array => HeapType::ConcreteArray(index),
        }
    }

    /// Heap subtyping (spec:
    /// <https://webassembly.github.io/spec/core/valid/matching.html#heap-types>), both
    /// types naming concrete types in one index space, where `concrete(a, b)` says
    /// whether concrete type `a` is `b` or declares it as an ancestor.
    pub fn is_subtype_of(self, other: HeapType, concrete: impl Fn(u32, u32) -> bool) -> bool {
        use HeapType as H;
        if self == other {
            return true;
        }
        match (self, other) {
            (a, b) if a.is_bottom() => a.family() == b.family(),
            (H::Concrete(_), H::Func) => true,
            (H::ConcreteStruct(_), H::Struct | H::Eq | H::Any) => true,
            (H::ConcreteArray(_), H::Array | H::Eq | H::Any) => true,
            (H::I31 | H::Struct | H::Array, H::Eq | H::Any) => true,
            (H::Eq, H::Any) => true,
            (H::Concrete(a), H::Concrete(b))
            | (H::ConcreteStruct(a), H::ConcreteStruct(b))
            | (H::ConcreteArray(a), H::ConcreteArray(b)) => concrete(a, b),
            _ => false,
        }
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
            HeapType::Any => f.write_str("any"),
            HeapType::Eq => f.write_str("eq"),
            HeapType::I31 => f.write_str("i31"),
            HeapType::Struct => f.write_str("struct"),
            HeapType::Array => f.write_str("array"),
            HeapType::None => f.write_str("none"),
            HeapType::Concrete(i) | HeapType::ConcreteStruct(i) | HeapType::ConcreteArray(i) => {
                write!(f, "{i}")
            }
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
    /// both naming concrete types in one index space (one module's, or the store's type
    /// ids), `concrete` deciding between two concrete types ([`HeapType::is_subtype_of`]).
    pub fn is_subtype_of(self, other: RefType, concrete: impl Fn(u32, u32) -> bool) -> bool {
        (other.nullable || !self.nullable) && self.heap.is_subtype_of(other.heap, concrete)
    }

    /// This type with each concrete type index mapped by `f` (from a module's index
    /// space to the store's type ids).
    pub fn map_concrete(self, f: impl Fn(u32) -> u32) -> RefType {
        let heap = match self.heap {
            HeapType::Concrete(i) => HeapType::Concrete(f(i)),
            HeapType::ConcreteStruct(i) => HeapType::ConcreteStruct(f(i)),
            HeapType::ConcreteArray(i) => HeapType::ConcreteArray(f(i)),
            abstract_heap => abstract_heap,
        };
        RefType { heap, ..self }
    }

    /// The reference type of a wasmparser type in a module whose type definitions are
    /// `types` (so a concrete type gets its kind).
    pub(crate) fn from_wasmparser_of(
        ty: wasmparser::RefType,
        types: &[SubType],
    ) -> Option<RefType> {
        RefType::from_wasmparser_in(ty, |i| Some(types.get(i as usize)?.composite.kind()))
    }

    /// The reference type of a wasmparser type whose concrete type indices have the
    /// kinds `kind_of` gives (`None`: not a type of the module); `None` for shared heap
    /// types and later proposals'. Public as [`ValType::from_wasmparser_in`] is.
    pub fn from_wasmparser_in(
        ty: wasmparser::RefType,
        kind_of: impl Fn(u32) -> Option<ConcreteKind>,
    ) -> Option<RefType> {
        use wasmparser::{AbstractHeapType as A, HeapType as W};
        let heap = match ty.heap_type() {
            W::Abstract { shared: false, ty } => match ty {
                A::Func => HeapType::Func,
                A::NoFunc => HeapType::NoFunc,
                A::Extern => HeapType::Extern,
                A::NoExtern => HeapType::NoExtern,
                A::Exn => HeapType::Exn,
                A::NoExn => HeapType::NoExn,
                A::Any => HeapType::Any,
                A::Eq => HeapType::Eq,
                A::I31 => HeapType::I31,
                A::Struct => HeapType::Struct,
                A::Array => HeapType::Array,
                A::None => HeapType::None,
                A::Cont | A::NoCont => return None,
            },
            W::Concrete(index) => {
                let index = index.as_module_index()?;
                HeapType::concrete_of(kind_of(index)?, index)
            }
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
            (true, HeapType::Any) => f.write_str("anyref"),
            (true, HeapType::Eq) => f.write_str("eqref"),
            (true, HeapType::I31) => f.write_str("i31ref"),
            (true, HeapType::Struct) => f.write_str("structref"),
            (true, HeapType::Array) => f.write_str("arrayref"),
            (true, HeapType::None) => f.write_str("nullref"),
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

/// A value as the store and the engines hold it: untyped bits whose type is known from
/// context (a signature, a global's or a table's type). Numbers are their bits, an `i32`
/// or `f32` zero-extended; a `v128` uses all 128 bits. A reference is 0 when null; else,
/// by its [`RefFamily`], its store function index + 1 for a function reference, its store
/// exception index + 1 for an exception reference, and the form `refs.rs` describes for
/// the `any` and `extern` hierarchies. Engines
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
