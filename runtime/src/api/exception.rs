//! Tags and exceptions as the embedder sees them (Wasm 3.0 exception handling).
//!
//! A [`Tag`] is a store-owned extern like a memory or a global: made by the host with
//! a payload type, exported and imported by modules. An [`Exception`] (defined with the
//! errors, since an uncaught one is an [`Error::Exception`]) is a handle to an exception
//! object in its store: the embedder reads its tag and payload, makes new ones, and
//! throws one from a host function by returning `Err(Error::Exception(e))`, where the
//! calling Wasm code's `try_table` can catch it.

use std::sync::Arc;

use crate::api::{AsContext, Store, Value};
use crate::error::{Error, Exception, Result};
use crate::store::{StoreData, StoreId};
use crate::values::{FuncType, with_raw_values};

/// An exception tag of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Tag {
    /// A new tag owned by the host, whose exceptions carry values of `ty`'s parameter
    /// types (`ty` has no results). It is distinct from every other tag, even of the
    /// same type.
    pub fn new(store: &Store, ty: FuncType) -> Result<Tag> {
        if !ty.results().is_empty() {
            return Err(Error::Usage(format!(
                "a tag's type has no results, not {ty}"
            )));
        }
        let mut d = store.lock()?;
        let ty = Arc::new(ty);
        let type_id = d.types.id_of_single(&ty);
        let index = d.add_tag(ty, type_id);
        Ok(Tag { store: d.id, index })
    }

    fn check_store(&self, d: &StoreData) -> Result<()> {
        if self.store != d.id || self.index as usize >= d.tags.len() {
            return Err(Error::Usage("tag belongs to another store".into()));
        }
        Ok(())
    }

    /// The tag's type: its parameters are the payload's types.
    pub fn ty(&self, mut ctx: impl AsContext) -> Result<FuncType> {
        ctx.with_data(|d| {
            self.check_store(d)?;
            Ok((*d.tags[self.index as usize].ty).clone())
        })
    }
}

impl Exception {
    /// A new exception of `tag` with payload `values` (of the tag's parameter types), to
    /// throw from a host function as `Err(Error::Exception(e))`.
    pub fn new(mut ctx: impl AsContext, tag: &Tag, values: &[Value]) -> Result<Exception> {
        ctx.with_data(|d| {
            tag.check_store(d)?;
            let ty = d.tags[tag.index as usize].ty.clone();
            if values.len() != ty.params().len()
                || values.iter().zip(ty.params()).any(|(v, t)| v.ty() != *t)
            {
                let got: Vec<String> = values.iter().map(|v| v.ty().to_string()).collect();
                return Err(Error::Usage(format!(
                    "exception payload mismatch: tag is {ty}, got ({})",
                    got.join(",")
                )));
            }
            with_raw_values(values.len(), |raw| {
                for (cell, v) in raw.iter_mut().zip(values) {
                    v.check_store(d)?;
                    *cell = v.to_raw();
                }
                let index = d.new_exception(tag.index, raw);
                Ok(Exception {
                    store: d.id.0,
                    index,
                })
            })
        })
    }

    /// Fails unless this exception is one of the store of `d`.
    pub(crate) fn check_store(&self, d: &StoreData) -> Result<()> {
        if self.store != d.id.0 || self.index as usize >= d.exceptions.len() {
            return Err(Error::Usage("exception belongs to another store".into()));
        }
        Ok(())
    }

    /// The tag the exception was thrown with.
    pub fn tag(&self, mut ctx: impl AsContext) -> Result<Tag> {
        ctx.with_data(|d| {
            self.check_store(d)?;
            Ok(Tag {
                store: d.id,
                index: d.exception_tag(self.index),
            })
        })
    }

    /// The exception's payload, typed by its tag.
    pub fn values(&self, mut ctx: impl AsContext) -> Result<Vec<Value>> {
        ctx.with_data(|d| {
            self.check_store(d)?;
            let tag = d.exception_tag(self.index);
            let ty = d.tags[tag as usize].ty.clone();
            Ok((ty.params().iter().zip(d.exception_payload(self.index)))
                .map(|(t, raw)| Value::from_raw(*t, *raw, d))
                .collect())
        })
    }
}
