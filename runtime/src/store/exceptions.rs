//! Tags and exception objects (Wasm 3.0 exception handling). Spec:
//! <https://webassembly.github.io/spec/core/exec/runtime.html#tag-instances> and
//! <https://webassembly.github.io/spec/core/exec/runtime.html#exception-instances>.
//!
//! A tag's identity is its store index: a defined tag is new per instantiation, an
//! imported one is the exporter's, so `catch` compares store indices. An exception is
//! its tag and its payload's raw values; an `exnref` is its store index + 1 (0 is null).
//! Exceptions are never freed before the store drops: there is no collector yet
//! (RATIONALE.md, "Exceptions").

use std::sync::Arc;

use super::StoreData;
use crate::error::{Error, Exception};
use crate::values::{FuncType, RawValue};

/// A tag instance: the type of its payload (a function type without results) and that
/// type's store-wide id, which import matching compares.
pub(crate) struct TagInstance {
    pub ty: Arc<FuncType>,
    pub type_id: u32,
}

/// An exception instance: which tag it was thrown with, and the payload (one raw value
/// per parameter of the tag's type).
pub(crate) struct ExceptionObject {
    pub tag: u32,
    pub payload: Box<[RawValue]>,
}

impl StoreData {
    /// Adds a tag of type `ty` (store-wide id `type_id`); returns its store index.
    pub(crate) fn add_tag(&mut self, ty: Arc<FuncType>, type_id: u32) -> u32 {
        self.tags.push(TagInstance { ty, type_id });
        self.tags.len() as u32 - 1
    }

    /// Allocates an exception of store tag `tag` with `payload` (of the tag's parameter
    /// types, which the caller has checked); returns its store index.
    pub(crate) fn new_exception(&mut self, tag: u32, payload: &[RawValue]) -> u32 {
        self.exceptions.push(ExceptionObject {
            tag,
            payload: payload.into(),
        });
        self.exceptions.len() as u32 - 1
    }

    /// The error that carries exception `index` of this store out of a call.
    pub(crate) fn exception_error(&self, index: u32) -> Error {
        Error::Exception(Exception {
            store: self.id.0,
            index,
        })
    }

    /// The store index of the exception `e` carries, if it is a thrown exception of
    /// this store. An exception of another store is not this store's to catch: it
    /// passes through as the error it is.
    pub(crate) fn thrown_exception(&self, e: &Error) -> Option<u32> {
        match e {
            Error::Exception(x)
                if x.store == self.id.0 && (x.index as usize) < self.exceptions.len() =>
            {
                Some(x.index)
            }
            _ => None,
        }
    }

    /// Store index of the tag of exception `index`.
    pub(crate) fn exception_tag(&self, index: u32) -> u32 {
        self.exceptions[index as usize].tag
    }

    /// The payload of exception `index`.
    pub(crate) fn exception_payload(&self, index: u32) -> &[RawValue] {
        &self.exceptions[index as usize].payload
    }
}
