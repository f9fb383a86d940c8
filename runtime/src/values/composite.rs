//! Struct and array types: the composite types of the GC proposal (Wasm 3.0), beside
//! function types ([`FuncType`]).
//!
//! Spec: <https://webassembly.github.io/spec/core/syntax/types.html#composite-types>.

use std::sync::Arc;

#[cfg(doc)]
use super::HeapType;
use super::{ConcreteKind, FuncType, ValType};

/// What a field or an array element holds: a value type, or a packed integer that is
/// read back sign- or zero-extended to `i32` (`struct.get_s`, `array.get_u`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageType {
    I8,
    I16,
    Val(ValType),
}

impl StorageType {
    /// The bytes a field of this type takes in an object (its alignment too): packed
    /// types their width, numbers their width, a reference a 64-bit cell, a `v128` 16.
    pub fn size(self) -> u32 {
        match self {
            StorageType::I8 => 1,
            StorageType::I16 => 2,
            StorageType::Val(ValType::I32 | ValType::F32) => 4,
            StorageType::Val(ValType::I64 | ValType::F64 | ValType::Ref(_)) => 8,
            StorageType::Val(ValType::V128) => 16,
        }
    }

    /// The type a read of this storage yields on the operand stack.
    pub fn unpacked(self) -> ValType {
        match self {
            StorageType::I8 | StorageType::I16 => ValType::I32,
            StorageType::Val(t) => t,
        }
    }

    /// This storage with each concrete type index mapped by `f` ([`ValType::map_concrete`]).
    pub fn map_concrete(self, f: impl Fn(u32) -> u32) -> StorageType {
        match self {
            StorageType::Val(t) => StorageType::Val(t.map_concrete(f)),
            packed => packed,
        }
    }
}

/// A struct field or an array's element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldType {
    pub storage: StorageType,
    pub mutable: bool,
}

impl FieldType {
    pub fn map_concrete(self, f: impl Fn(u32) -> u32) -> FieldType {
        FieldType {
            storage: self.storage.map_concrete(f),
            ..self
        }
    }
}

/// A struct type: its fields in declaration order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructType {
    pub fields: Box<[FieldType]>,
}

/// An array type: the type of every element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArrayType {
    pub element: FieldType,
}

/// A type definition's shape: a function signature, a struct or an array.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CompositeType {
    Func(Arc<FuncType>),
    Struct(Arc<StructType>),
    Array(ArrayType),
}

impl CompositeType {
    /// What a concrete reference to this type is ([`HeapType::concrete_of`]).
    pub fn kind(&self) -> ConcreteKind {
        match self {
            CompositeType::Func(_) => ConcreteKind::Func,
            CompositeType::Struct(_) => ConcreteKind::Struct,
            CompositeType::Array(_) => ConcreteKind::Array,
        }
    }

    /// This type with each concrete type index mapped by `f`.
    pub fn map_concrete(&self, f: impl Fn(u32) -> u32) -> CompositeType {
        match self {
            CompositeType::Func(t) => CompositeType::Func(Arc::new(t.map_concrete(f))),
            CompositeType::Struct(s) => CompositeType::Struct(Arc::new(StructType {
                fields: s.fields.iter().map(|t| t.map_concrete(&f)).collect(),
            })),
            CompositeType::Array(a) => CompositeType::Array(ArrayType {
                element: a.element.map_concrete(f),
            }),
        }
    }

    /// Calls `f` with every value type this definition mentions (parameters and
    /// results, or unpacked field types).
    pub fn for_each_val_type(&self, mut f: impl FnMut(ValType)) {
        let fields: &[FieldType] = match self {
            CompositeType::Func(t) => {
                t.params().iter().chain(t.results()).for_each(|&t| f(t));
                &[]
            }
            CompositeType::Struct(s) => &s.fields,
            CompositeType::Array(a) => std::slice::from_ref(&a.element),
        };
        for field in fields {
            if let StorageType::Val(t) = field.storage {
                f(t);
            }
        }
    }
}

/// A type definition: its shape, whether it may have subtypes, and the supertype it
/// declares (at most one; spec:
/// <https://webassembly.github.io/spec/core/syntax/types.html#recursive-types>).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubType {
    pub is_final: bool,
    pub supertype: Option<u32>,
    pub composite: CompositeType,
}

impl SubType {
    /// A final function type without supertype: a Wasm 1.0/2.0 `type`.
    pub fn func(ty: Arc<FuncType>) -> SubType {
        SubType {
            is_final: true,
            supertype: None,
            composite: CompositeType::Func(ty),
        }
    }

    /// The signature, if this defines a function type.
    pub fn as_func(&self) -> Option<&Arc<FuncType>> {
        match &self.composite {
            CompositeType::Func(t) => Some(t),
            _ => None,
        }
    }
}
