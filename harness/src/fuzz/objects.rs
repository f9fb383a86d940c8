//! GC objects as plain data: the objects a step can reach from what it shows (results,
//! host-call arguments, globals, tables), numbered in the order they are first reached.
//!
//! Two stores' objects cannot be compared by identity (`ref.eq` means nothing across
//! stores), so each side numbers its own: the first object reached is #0, the next new
//! one #1, and an object reached again keeps its number. Both engines reach their values
//! in the same order, so their graphs agree up to a bijection between the objects
//! exactly when the numbered values and objects are equal: an object shared (or a cycle
//! closed) on one side and not on the other shows as a number that differs.
//!
//! A step reads at most [`MAX_OBJECTS`] objects and [`MAX_VALUES`] fields and elements
//! (the same prefix on both sides when they agree so far), so a huge array costs little.

use std::cell::RefCell;
use std::collections::HashMap;

use runtime::{AnyRef, ArrayRef, Store, StructRef, Value};

use crate::fuzz::observe::{AnyVal, Object, ObjectKind, UNNUMBERED, Val};

/// Objects numbered per step, at most.
pub const MAX_OBJECTS: usize = 1_000;
/// Fields and elements read per step, at most.
pub const MAX_VALUES: usize = 16_384;

#[derive(Clone, PartialEq, Eq, Hash)]
enum Handle {
    Struct(StructRef),
    Array(ArrayRef),
}

/// Numbers one step's objects as its values are converted, then reads them.
#[derive(Default)]
pub struct Objects {
    inner: RefCell<Numbering>,
}

#[derive(Default)]
struct Numbering {
    ids: HashMap<Handle, u32>,
    /// By number; the handles root the objects until the step is read.
    order: Vec<Handle>,
}

impl Objects {
    /// The number of the object `any` is, or its plain form when it is no object.
    pub fn any(&self, any: &AnyRef) -> AnyVal {
        let handle = match any {
            AnyRef::I31(v) => return AnyVal::I31(v.get_u()),
            AnyRef::Host(n) => return AnyVal::Host(*n),
            AnyRef::Struct(s) => Handle::Struct(s.clone()),
            AnyRef::Array(a) => Handle::Array(a.clone()),
        };
        let mut n = self.inner.borrow_mut();
        if let Some(id) = n.ids.get(&handle) {
            return AnyVal::Object(*id);
        }
        if n.order.len() >= MAX_OBJECTS {
            return AnyVal::Object(UNNUMBERED);
        }
        let id = n.order.len() as u32;
        n.ids.insert(handle.clone(), id);
        n.order.push(handle);
        AnyVal::Object(id)
    }

    /// Reads every object numbered so far, and those their fields reach, in number
    /// order (`convert` converts a field, numbering new objects through `self`); then
    /// forgets them, for the next step.
    pub fn take(&self, store: &Store, convert: &impl Fn(&Value) -> Val) -> Vec<Object> {
        let mut objects = Vec::new();
        let mut budget = MAX_VALUES;
        loop {
            let next = self.inner.borrow().order.get(objects.len()).cloned();
            let Some(handle) = next else { break };
            objects.push(read(store, &handle, &mut budget, convert));
        }
        *self.inner.borrow_mut() = Numbering::default();
        objects
    }
}

/// One object: its kind, length and its first fields or elements within `budget`. A
/// read that fails (it cannot for a handle of this store) shows as `i32:0`, alike on
/// both sides.
fn read(
    store: &Store,
    handle: &Handle,
    budget: &mut usize,
    convert: &impl Fn(&Value) -> Val,
) -> Object {
    let (kind, len) = match handle {
        Handle::Struct(s) => (ObjectKind::Struct, s.fields(store).unwrap_or(0) as u32),
        Handle::Array(a) => (ObjectKind::Array, a.len(store).unwrap_or(0)),
    };
    let n = (len as usize).min(*budget);
    *budget -= n;
    let values = (0..n)
        .map(|i| {
            let v = match handle {
                Handle::Struct(s) => s.field(store, i),
                Handle::Array(a) => a.get(store, i as u32),
            };
            v.map_or(Val::I32(0), |v| convert(&v))
        })
        .collect();
    Object { kind, len, values }
}
