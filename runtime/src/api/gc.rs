//! GC objects as the embedder reads them, and the heap's statistics (RATIONALE.md,
//! "Garbage collection"). A [`StructRef`] or [`ArrayRef`] roots its object while held;
//! its fields and elements are read through the store that owns it.

use crate::api::AsContext;
use crate::api::Instance;
use crate::api::Value;
use crate::error::{Error, Result};
use crate::store::StoreData;
use crate::store::gc::ObjectLayout;
use crate::store::gc::layout::Access;
use crate::values::{AnyRef, ArrayRef, CompositeType, StorageType, StructRef};

/// What the store's GC heap holds and has done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcStats {
    /// Collections run so far.
    pub collections: u64,
    /// Bytes in objects that survived the last collection.
    pub live_bytes: u64,
    /// Bytes the heap's memory takes (it grows, and does not shrink).
    pub heap_bytes: u64,
}

/// The value a field or element of `storage` holds as raw `raw`: a packed field reads
/// as its `i32`, zero-extended.
fn field_value(storage: StorageType, raw: u128, d: &StoreData) -> Value {
    match storage {
        StorageType::I8 | StorageType::I16 => Value::I32(raw as u32 as i32),
        StorageType::Val(ty) => Value::from_raw(ty, raw, d),
    }
}

/// The layout of the object `offset` of the store of `d`, after checking the handle's
/// store.
fn layout_of(d: &StoreData, store: u64, offset: u32) -> Result<&ObjectLayout> {
    if store != d.id.0 {
        return Err(Error::Usage("GC object belongs to another store".into()));
    }
    (d.gc_layout_of(offset)).ok_or_else(|| Error::Usage("not a GC object of this store".into()))
}

/// The store type id of type `type_index` of `instance`, if it is a struct (`array`
/// false) or array type.
fn object_type(d: &StoreData, instance: &Instance, type_index: u32, array: bool) -> Result<u32> {
    instance.check_store(d)?;
    let id = (d.instances[instance.index as usize]
        .type_ids
        .get(type_index as usize))
    .copied()
    .ok_or_else(|| Error::Usage(format!("no type {type_index} in the instance")))?;
    match (&d.types.def(id).layout, array) {
        (Some(ObjectLayout::Struct { .. }), false) | (Some(ObjectLayout::Array { .. }), true) => {
            Ok(id)
        }
        _ => Err(Error::Usage(format!(
            "type {type_index} is not {} type",
            if array { "an array" } else { "a struct" }
        ))),
    }
}

/// Checks that `v` fits a field or element of `storage` (store type ids), giving its raw
/// form.
fn field_raw(d: &StoreData, storage: StorageType, v: &Value) -> Result<u128> {
    v.check_type(storage.unpacked(), d)?;
    Ok(v.to_raw())
}

/// A handle on the new object `offset` of the store of `d`.
fn handle(d: &StoreData, offset: u32) -> Result<AnyRef> {
    (d.object_ref(offset)).ok_or_else(|| Error::Usage("the new object is missing".into()))
}

impl StructRef {
    /// A new struct of type `type_index` of `instance` (a struct type), its fields
    /// `fields` in order (a packed field takes an `i32`, wrapped).
    pub fn new(
        mut ctx: impl AsContext,
        instance: &Instance,
        type_index: u32,
        fields: &[Value],
    ) -> Result<StructRef> {
        ctx.with_data(|d| {
            let id = object_type(d, instance, type_index, false)?;
            let CompositeType::Struct(ty) = &d.types.def(id).ty.composite else {
                return Err(Error::Usage("not a struct type".into()));
            };
            if ty.fields.len() != fields.len() {
                let n = ty.fields.len();
                return Err(Error::Usage(format!("the struct type has {n} fields")));
            }
            let raws = (ty.fields.iter().zip(fields))
                .map(|(f, v)| field_raw(d, f.storage, v))
                .collect::<Result<Vec<u128>>>()?;
            let offset = d.gc_new_struct(id, &raws, None)?;
            match handle(d, offset)? {
                AnyRef::Struct(s) => Ok(s),
                _ => Err(Error::Usage("not a struct".into())),
            }
        })
    }

    /// The number of fields.
    pub fn fields(&self, mut ctx: impl AsContext) -> Result<usize> {
        ctx.with_data(|d| match layout_of(d, self.0.store(), self.0.offset())? {
            ObjectLayout::Struct { fields, .. } => Ok(fields.len()),
            ObjectLayout::Array { .. } => Err(Error::Usage("not a struct".into())),
        })
    }

    /// Field `index` (a packed field as its `i32`, zero-extended).
    pub fn field(&self, mut ctx: impl AsContext, index: usize) -> Result<Value> {
        ctx.with_data(|d| {
            let offset = self.0.offset();
            let field = match layout_of(d, self.0.store(), offset)? {
                ObjectLayout::Struct { fields, .. } => fields.get(index).copied(),
                ObjectLayout::Array { .. } => None,
            };
            let field = field.ok_or_else(|| Error::Usage(format!("no field {index}")))?;
            let at = u64::from(offset) + u64::from(field.offset);
            let raw = d.gc_read(at, Access::of(field.storage, false))?;
            Ok(field_value(field.storage, raw, d))
        })
    }
}

impl ArrayRef {
    /// A new array of type `type_index` of `instance` (an array type) holding `elements`
    /// (a packed element takes an `i32`, wrapped).
    pub fn new(
        mut ctx: impl AsContext,
        instance: &Instance,
        type_index: u32,
        elements: &[Value],
    ) -> Result<ArrayRef> {
        ctx.with_data(|d| {
            let id = object_type(d, instance, type_index, true)?;
            let CompositeType::Array(ty) = &d.types.def(id).ty.composite else {
                return Err(Error::Usage("not an array type".into()));
            };
            let storage = ty.element.storage;
            let raws = (elements.iter())
                .map(|v| field_raw(d, storage, v))
                .collect::<Result<Vec<u128>>>()?;
            let offset = d.gc_new_array_of(id, &raws, None)?;
            match handle(d, offset)? {
                AnyRef::Array(a) => Ok(a),
                _ => Err(Error::Usage("not an array".into())),
            }
        })
    }

    /// The number of elements.
    pub fn len(&self, mut ctx: impl AsContext) -> Result<u32> {
        ctx.with_data(|d| {
            layout_of(d, self.0.store(), self.0.offset())?;
            d.gc_array_len(self.0.offset().into())
        })
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self, ctx: impl AsContext) -> Result<bool> {
        Ok(self.len(ctx)? == 0)
    }

    /// Element `index` (a packed element as its `i32`, zero-extended).
    pub fn get(&self, mut ctx: impl AsContext, index: u32) -> Result<Value> {
        ctx.with_data(|d| {
            let offset = self.0.offset();
            let storage = match layout_of(d, self.0.store(), offset)? {
                ObjectLayout::Array { element, .. } => *element,
                ObjectLayout::Struct { .. } => return Err(Error::Usage("not an array".into())),
            };
            let access = Access::of(storage, false);
            let at = (d.gc_elements(offset, access, index, 1))
                .map_err(|_| Error::Usage(format!("array index {index} out of bounds")))?;
            let raw = d.gc_read(at, access)?;
            Ok(field_value(storage, raw, d))
        })
    }
}
