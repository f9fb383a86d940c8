//! Where an object's fields sit in the GC heap, the same for both engines and the API.
//!
//! An object starts with an 8-byte header: its type's store-wide id (`u32`), then an
//! array's length (`u32`; 0 for a struct). A struct's fields follow in declaration order,
//! each at the next offset aligned to its size (packed `i8`/`i16` 1 and 2 bytes, numbers
//! their width, references a 64-bit cell, `v128` 16 bytes); an array's elements follow
//! back to back. Declaration order is what makes subtyping work without a lookup: a
//! subtype's fields extend its supertype's (spec: struct subtyping is width and depth
//! subtyping of a prefix), so every field of the supertype is at the same offset in the
//! subtype's objects and `struct.get` compiles to one load whatever the object's exact
//! type. Objects take whole 8-byte granules.

use crate::values::{CompositeType, RefFamily, StorageType, SubType, ValType};

/// Bytes of an object's header.
pub(crate) const HEADER_BYTES: u32 = 8;
/// Objects start at multiples of this, and take multiples of it.
pub(crate) const GRANULE: u32 = 8;

/// A field's place in a struct object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldLayout {
    /// Bytes from the object's start.
    pub offset: u32,
    pub storage: StorageType,
}

/// How to find the fields (and the references among them) of objects of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ObjectLayout {
    Struct {
        /// The object's size, header included, rounded up to whole granules.
        size: u32,
        fields: Box<[FieldLayout]>,
        /// Offsets of the fields the collector must trace (`is_traced`), ascending.
        traced: Box<[u32]>,
    },
    Array {
        element: StorageType,
        /// Whether every element must be traced.
        traced: bool,
    },
}

impl ObjectLayout {
    /// The layout of a struct or array type, `None` for a function type (no objects).
    pub(crate) fn of(ty: &CompositeType) -> Option<ObjectLayout> {
        match ty {
            CompositeType::Func(_) => None,
            CompositeType::Struct(s) => {
                let mut end = HEADER_BYTES;
                let mut fields = Vec::with_capacity(s.fields.len());
                for field in s.fields.iter() {
                    let size = field.storage.size();
                    let offset = end.next_multiple_of(size);
                    end = offset + size;
                    fields.push(FieldLayout {
                        offset,
                        storage: field.storage,
                    });
                }
                let traced = (fields.iter())
                    .filter(|f| is_traced(f.storage))
                    .map(|f| f.offset)
                    .collect();
                Some(ObjectLayout::Struct {
                    size: end.next_multiple_of(GRANULE),
                    fields: fields.into(),
                    traced,
                })
            }
            CompositeType::Array(a) => Some(ObjectLayout::Array {
                element: a.element.storage,
                traced: is_traced(a.element.storage),
            }),
        }
    }

    /// The size of an object of this layout with `len` elements (an array's length;
    /// ignored for a struct), rounded up to whole granules: `None` if it would not fit
    /// in the heap's 32-bit offsets.
    pub(crate) fn object_size(&self, len: u32) -> Option<u32> {
        match self {
            ObjectLayout::Struct { size, .. } => Some(*size),
            ObjectLayout::Array { element, .. } => {
                let bytes = u64::from(element.size()) * u64::from(len);
                let total = (u64::from(HEADER_BYTES) + bytes).next_multiple_of(GRANULE.into());
                u32::try_from(total).ok()
            }
        }
    }

    /// The offset of element `index` of an array (from the object's start).
    pub(crate) fn element_offset(element: StorageType, index: u32) -> u64 {
        u64::from(HEADER_BYTES) + u64::from(element.size()) * u64::from(index)
    }
}

/// How a field or element is read and written: its width, and for a packed read the
/// extension to `i32` (`struct.get_s`, `array.get_u`, ...). Values travel as raw cells
/// (`RawValue`): an `i32` or `f32` in the low 32 bits, a reference or `i64`/`f64` in 64,
/// a `v128` in all 128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Access {
    I8S,
    I8U,
    I16S,
    I16U,
    B32,
    B64,
    B128,
}

impl Access {
    /// Every access, in declaration order (`ObjectOp::code`).
    pub(crate) const ALL: [Access; 7] = [
        Access::I8S,
        Access::I8U,
        Access::I16S,
        Access::I16U,
        Access::B32,
        Access::B64,
        Access::B128,
    ];

    /// The access to a field of `storage`; `signed` picks the extension of a packed
    /// read (ignored otherwise, and by writes).
    pub(crate) fn of(storage: StorageType, signed: bool) -> Access {
        match (storage.size(), signed) {
            (1, true) => Access::I8S,
            (1, false) => Access::I8U,
            (2, true) => Access::I16S,
            (2, false) => Access::I16U,
            (4, _) => Access::B32,
            (8, _) => Access::B64,
            _ => Access::B128,
        }
    }

    pub(crate) fn size(self) -> u32 {
        match self {
            Access::I8S | Access::I8U => 1,
            Access::I16S | Access::I16U => 2,
            Access::B32 => 4,
            Access::B64 => 8,
            Access::B128 => 16,
        }
    }

    /// Whether the value takes two interpreter slots (a `v128`).
    pub(crate) fn is_wide(self) -> bool {
        self == Access::B128
    }

    /// The raw cell of the `size()` little-endian bytes in `bytes`.
    pub(crate) fn load(self, bytes: &[u8]) -> u128 {
        let mut cell = [0u8; 16];
        cell[..bytes.len()].copy_from_slice(bytes);
        let v = u128::from_le_bytes(cell);
        match self {
            Access::I8S => v as u8 as i8 as i32 as u32 as u128,
            Access::I16S => v as u16 as i16 as i32 as u32 as u128,
            _ => v,
        }
    }

    /// The `size()` low bytes of `value`, little-endian, into `bytes`.
    pub(crate) fn store(self, bytes: &mut [u8], value: u128) {
        bytes.copy_from_slice(&value.to_le_bytes()[..bytes.len()]);
    }
}

/// Field `field` of struct type `type_index` of a validated module with definitions
/// `types`: its byte offset and storage (the translators' view of the layout; a
/// validated module names a struct type and one of its fields).
pub(crate) fn struct_field(types: &[SubType], type_index: u32, field: u32) -> (u32, StorageType) {
    let layout = (types.get(type_index as usize)).and_then(|t| ObjectLayout::of(&t.composite));
    match layout {
        Some(ObjectLayout::Struct { fields, .. }) => {
            (fields.get(field as usize)).map_or((0, StorageType::I8), |f| (f.offset, f.storage))
        }
        _ => (0, StorageType::I8),
    }
}

/// The number of fields of struct type `type_index` of a validated module.
pub(crate) fn struct_field_count(types: &[SubType], type_index: u32) -> u32 {
    match types.get(type_index as usize).map(|t| &t.composite) {
        Some(CompositeType::Struct(s)) => s.fields.len() as u32,
        _ => 0,
    }
}

/// The element storage of array type `type_index` of a validated module.
pub(crate) fn array_element(types: &[SubType], type_index: u32) -> StorageType {
    match types.get(type_index as usize).map(|t| &t.composite) {
        Some(CompositeType::Array(a)) => a.element.storage,
        _ => StorageType::I8,
    }
}

/// Whether a field of this storage may hold a reference to a heap object, so the
/// collector must look at it: references of the `any` and `extern` hierarchies (they
/// share one raw form, so `any.convert_extern` costs nothing and an `externref` may hold
/// an object). Function and exception references name store objects, which the
/// collector does not manage.
pub(crate) fn is_traced(storage: StorageType) -> bool {
    match storage {
        StorageType::Val(ValType::Ref(r)) => match r.family() {
            RefFamily::Extern | RefFamily::Any => true,
            RefFamily::Func | RefFamily::Exn => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::values::{ArrayType, FieldType, StructType};

    fn field(storage: StorageType) -> FieldType {
        FieldType {
            storage,
            mutable: true,
        }
    }

    #[test]
    fn struct_fields_are_aligned_in_declaration_order() {
        let ty = CompositeType::Struct(Arc::new(StructType {
            fields: [
                StorageType::I8,
                StorageType::Val(ValType::I64),
                StorageType::I16,
                StorageType::Val(ValType::EXTERNREF),
                StorageType::Val(ValType::V128),
                StorageType::Val(ValType::FUNCREF),
            ]
            .map(field)
            .into(),
        }));
        let ObjectLayout::Struct {
            size,
            fields,
            traced,
        } = ObjectLayout::of(&ty).unwrap()
        else {
            panic!("not a struct layout")
        };
        let offsets: Vec<u32> = fields.iter().map(|f| f.offset).collect();
        assert_eq!(offsets, [8, 16, 24, 32, 48, 64]);
        assert_eq!(size, 72);
        assert_eq!(&*traced, &[32], "only the externref field is traced");
    }

    #[test]
    fn a_subtype_keeps_its_supertypes_offsets() {
        let base = [StorageType::I8, StorageType::Val(ValType::F64)];
        let sub = [
            StorageType::I8,
            StorageType::Val(ValType::F64),
            StorageType::I16,
        ];
        let offsets = |storages: &[StorageType]| {
            let ty = CompositeType::Struct(Arc::new(StructType {
                fields: storages.iter().copied().map(field).collect(),
            }));
            match ObjectLayout::of(&ty).unwrap() {
                ObjectLayout::Struct { fields, .. } => {
                    fields.iter().map(|f| f.offset).collect::<Vec<_>>()
                }
                ObjectLayout::Array { .. } => unreachable!(),
            }
        };
        assert_eq!(offsets(&sub)[..2], offsets(&base)[..]);
    }

    #[test]
    fn array_sizes_round_up_and_refuse_what_does_not_fit() {
        let layout = ObjectLayout::of(&CompositeType::Array(ArrayType {
            element: field(StorageType::I16),
        }))
        .unwrap();
        assert_eq!(layout.object_size(0), Some(8));
        assert_eq!(layout.object_size(3), Some(16));
        assert_eq!(layout.object_size(u32::MAX), None);
        assert_eq!(ObjectLayout::element_offset(StorageType::I16, 3), 14);
    }

    #[test]
    fn an_empty_struct_is_one_granule() {
        let ty = CompositeType::Struct(Arc::new(StructType {
            fields: Box::new([]),
        }));
        assert_eq!(ObjectLayout::of(&ty).unwrap().object_size(0), Some(8));
    }
}
