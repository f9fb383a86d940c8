//! Store-wide function type ids (wazero's `typeIDs`), with the spec's type identity.
//!
//! Spec: <https://webassembly.github.io/spec/core/valid/conventions.html#rolling-and-unrolling>.
//! Types are defined in recursion groups (a plain `type` is a group of one); two types
//! are the same when their groups are the same and they sit at the same place in them.
//! A group is compared in its rolled form: a reference to a type of the same group is
//! its place in the group, a reference to an earlier type is that type's own identity.
//! Interning each group once, in order, makes that identity a number: an earlier type's
//! identity is its store-wide id, so a group's key is flat (no nesting, one hash per
//! group) and two ids are equal exactly when the types are iso-recursively equal.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use crate::values::{FuncType, HeapType, RefType, ValType};

/// A heap type in a group's rolled form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum RolledHeap {
    /// An abstract heap type (`func`, `extern`, ...).
    Abstract(HeapType),
    /// The type at this place in the same group.
    InGroup(u32),
    /// A type of an earlier group, by its store-wide id.
    Id(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum RolledType {
    Plain(ValType),
    Ref { nullable: bool, heap: RolledHeap },
}

/// A recursion group's rolled form: the signatures of its types, in order.
type RolledGroup = Vec<(Box<[RolledType]>, Box<[RolledType]>)>;

#[derive(Default)]
pub(crate) struct TypeRegistry {
    /// Each interned group and the id of its first type (its types' ids follow).
    groups: HashMap<RolledGroup, u32>,
    /// The ids of groups of one type that references no other type (almost every type
    /// of a Wasm 2.0 module, and every host function's): found by signature, with no
    /// rolled key to build. Such a group equals no group in `groups` (a group there has
    /// two types or more, or a reference to a type), so it is interned here only, with one
    /// hash of its signature.
    plain: HashMap<Arc<FuncType>, u32>,
    next: u32,
}

impl TypeRegistry {
    /// The store-wide ids of a module's types (`types`, in recursion groups `groups`,
    /// which validation guarantees reference only their own or earlier groups).
    pub fn ids_of_module(&mut self, types: &[Arc<FuncType>], groups: &[Range<u32>]) -> Vec<u32> {
        let mut ids: Vec<u32> = Vec::with_capacity(types.len());
        self.plain.reserve(types.len());
        for group in groups {
            let first_type = &types[group.start as usize];
            if group.len() == 1 && !first_type.has_concrete() {
                ids.push(self.id_of_plain(first_type));
                continue;
            }
            let roll = |t: &ValType| match *t {
                ValType::Ref(RefType {
                    nullable,
                    heap: HeapType::Concrete(i),
                }) => RolledType::Ref {
                    nullable,
                    heap: if group.contains(&i) {
                        RolledHeap::InGroup(i - group.start)
                    } else {
                        RolledHeap::Id(ids[i as usize])
                    },
                },
                other => rolled(other),
            };
            let key: RolledGroup = types[group.start as usize..group.end as usize]
                .iter()
                .map(|ty| {
                    (
                        ty.params().iter().map(roll).collect(),
                        ty.results().iter().map(roll).collect(),
                    )
                })
                .collect();
            let first = self.intern(key);
            ids.extend((0..group.len() as u32).map(|i| first + i));
        }
        ids
    }

    /// The id of `ty` defined on its own (a group of one), as host functions' types
    /// are; its concrete types, if any, are store-wide ids already.
    pub fn id_of_single(&mut self, ty: &Arc<FuncType>) -> u32 {
        if !ty.has_concrete() {
            return self.id_of_plain(ty);
        }
        self.intern(single_key(ty))
    }

    /// The id of a group of one type that references no other type, by signature.
    fn id_of_plain(&mut self, ty: &Arc<FuncType>) -> u32 {
        if let Some(&id) = self.plain.get(&**ty) {
            return id;
        }
        let id = self.next;
        self.next += 1;
        self.plain.insert(ty.clone(), id);
        id
    }

    fn intern(&mut self, key: RolledGroup) -> u32 {
        let len = key.len() as u32;
        let next = &mut self.next;
        *self.groups.entry(key).or_insert_with(|| {
            let first = *next;
            *next += len;
            first
        })
    }
}

/// The key of `ty` as a group of one, its concrete types being store-wide ids.
fn single_key(ty: &FuncType) -> RolledGroup {
    let roll = |t: &ValType| rolled(*t);
    vec![(
        ty.params().iter().map(roll).collect(),
        ty.results().iter().map(roll).collect(),
    )]
}

/// The rolled form of a type whose concrete types are store-wide ids.
fn rolled(t: ValType) -> RolledType {
    match t {
        ValType::Ref(RefType { nullable, heap }) => RolledType::Ref {
            nullable,
            heap: match heap {
                HeapType::Concrete(id) => RolledHeap::Id(id),
                abstract_heap => RolledHeap::Abstract(abstract_heap),
            },
        },
        other => RolledType::Plain(other),
    }
}
