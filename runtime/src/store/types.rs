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
use std::sync::{Arc, LazyLock};

use super::gc::{Layouts, ObjectLayout};
use crate::values::{
    CompositeType, FieldType, FuncType, HeapType, RefType, StorageType, SubType, ValType,
};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum RolledStorage {
    I8,
    I16,
    Val(RolledType),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct RolledField {
    storage: RolledStorage,
    mutable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RolledComposite {
    Func(Box<[RolledType]>, Box<[RolledType]>),
    Struct(Box<[RolledField]>),
    Array(RolledField),
}

/// A type definition in its group's rolled form: what makes two definitions the same
/// type is all of it, finality and declared supertype included.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RolledSub {
    is_final: bool,
    supertype: Option<RolledHeap>,
    composite: RolledComposite,
}

/// A recursion group's rolled form: its definitions, in order.
type RolledGroup = Vec<RolledSub>;

/// What the store knows of a type id.
#[derive(Debug, Clone)]
pub(crate) struct TypeDef {
    /// The definition, naming concrete types (its supertype, the types in its
    /// signature or fields) by store-wide id.
    pub ty: SubType,
    /// Its depth below the root of its supertype chain (0: declares no supertype).
    pub depth: u32,
    /// Where its chain starts in the registry's `chains`: the ancestors from the root
    /// down to itself, `depth + 1` ids, so a subtype test is one comparison.
    chain: u32,
    /// Where an object of this type keeps its fields (structs and arrays only).
    pub layout: Option<ObjectLayout>,
}

/// The store's types. Shared copy-on-write: a fresh store takes the registry a module's
/// types give an empty one (`ModuleCode`'s cache, made once) by counting a reference,
/// and copies it only when it interns more (RATIONALE.md, "Instantiation: ...").
#[derive(Clone, Default)]
pub(crate) struct TypeRegistry {
    /// `None` until a type is interned (a new store allocates nothing: it usually takes
    /// its first module's registry right away).
    tables: Option<Arc<Tables>>,
}

#[derive(Default, Clone)]
struct Tables {
    /// Each interned group and the id of its first type (its types' ids follow).
    groups: HashMap<RolledGroup, u32>,
    /// The ids of groups of one final function type that declares no supertype and
    /// references no other type (almost every type of a Wasm 2.0 module, and every host
    /// function's): found by signature, with no rolled key to build. Such a group
    /// equals no group in `groups` (a group there has two types or more, or a
    /// reference to a type, or is not such a function type), so it is interned here
    /// only, with one hash of its signature.
    plain: HashMap<Arc<FuncType>, u32>,
    /// Indexed by id.
    defs: Vec<TypeDef>,
    /// Every type's supertype chain, one after another (`TypeDef::chain`): one vector
    /// rather than one allocation per type, since a store interns every type of every
    /// module it instantiates.
    chains: Vec<u32>,
}

impl TypeRegistry {
    /// The store-wide ids of a module's types (`types`, in recursion groups `groups`,
    /// which validation guarantees reference only their own or earlier groups, and
    /// declare supertypes only among the types before them).
    pub fn ids_of_module(&mut self, types: &[SubType], groups: &[Range<u32>]) -> Vec<u32> {
        Arc::make_mut(self.tables.get_or_insert_default()).ids_of_module(types, groups)
    }

    fn tables(&self) -> &Tables {
        static EMPTY: LazyLock<Tables> = LazyLock::new(Tables::default);
        self.tables.as_deref().unwrap_or(&EMPTY)
    }

    /// Whether no type is interned (a fresh store's registry).
    pub fn is_empty(&self) -> bool {
        self.tables().defs.is_empty()
    }

    /// The id of `ty` defined on its own (a group of one final type), as host
    /// functions' types are; its concrete types, if any, are store-wide ids already.
    pub fn id_of_single(&mut self, ty: &Arc<FuncType>) -> u32 {
        if !ty.has_concrete()
            && let Some(&id) = self.tables().plain.get(&**ty)
        {
            return id;
        }
        Arc::make_mut(self.tables.get_or_insert_default()).id_of_single(ty)
    }

    /// What the store knows of type `id`.
    pub fn def(&self, id: u32) -> &TypeDef {
        &self.tables().defs[id as usize]
    }

    /// The signature of function type `id`.
    pub fn func_type(&self, id: u32) -> Option<&Arc<FuncType>> {
        self.def(id).ty.as_func()
    }

    /// Whether type `sub` is `sup` or declares it as an ancestor (spec:
    /// <https://webassembly.github.io/spec/core/valid/matching.html#heap-types>, for
    /// two concrete types).
    /// An id the store does not have (an embedder may write any number into a type it
    /// hands the API) is a subtype of nothing and has none.
    pub fn is_subtype(&self, sub: u32, sup_id: u32) -> bool {
        let t = self.tables();
        let (Some(sub), Some(sup)) = (t.defs.get(sub as usize), t.defs.get(sup_id as usize)) else {
            return false;
        };
        sup.depth <= sub.depth && t.chains[(sub.chain + sup.depth) as usize] == sup_id
    }

    /// The supertype chain of type `id`, from its root down to itself.
    #[cfg(test)]
    pub fn supertypes(&self, id: u32) -> &[u32] {
        let def = self.def(id);
        &self.tables().chains[def.chain as usize..=(def.chain + def.depth) as usize]
    }
}

impl Tables {
    fn ids_of_module(&mut self, types: &[SubType], groups: &[Range<u32>]) -> Vec<u32> {
        let mut ids: Vec<u32> = Vec::with_capacity(types.len());
        self.plain.reserve(types.len());
        self.defs.reserve(types.len());
        self.chains.reserve(types.len());
        for group in groups {
            let defs = &types[group.start as usize..group.end as usize];
            if let [def] = defs
                && let Some(func) = plain_func(def)
            {
                ids.push(self.id_of_plain(func));
                continue;
            }
            let roll_heap = |i: u32| match group.contains(&i) {
                true => RolledHeap::InGroup(i - group.start),
                false => RolledHeap::Id(ids[i as usize]),
            };
            let key: RolledGroup = defs.iter().map(|def| roll(def, roll_heap)).collect();
            let first = match self.groups.get(&key) {
                Some(&first) => first,
                None => {
                    let first = self.defs.len() as u32;
                    let to_store = |i: u32| match group.contains(&i) {
                        true => first + (i - group.start),
                        false => ids[i as usize],
                    };
                    for def in defs {
                        self.define(SubType {
                            is_final: def.is_final,
                            supertype: def.supertype.map(to_store),
                            composite: def.composite.map_concrete(to_store),
                        });
                    }
                    self.groups.insert(key, first);
                    first
                }
            };
            ids.extend((0..group.len() as u32).map(|i| first + i));
        }
        ids
    }

    /// The id of `ty` defined on its own (a group of one final type), as host
    /// functions' types are; its concrete types, if any, are store-wide ids already.
    fn id_of_single(&mut self, ty: &Arc<FuncType>) -> u32 {
        if !ty.has_concrete() {
            return self.id_of_plain(ty);
        }
        let def = SubType::func(ty.clone());
        let key = vec![roll(&def, RolledHeap::Id)];
        if let Some(&id) = self.groups.get(&key) {
            return id;
        }
        let id = self.define(def);
        self.groups.insert(key, id);
        id
    }

    fn def(&self, id: u32) -> &TypeDef {
        &self.defs[id as usize]
    }

    /// The id of a group of one type that references no other type, by signature.
    fn id_of_plain(&mut self, ty: &Arc<FuncType>) -> u32 {
        if let Some(&id) = self.plain.get(&**ty) {
            return id;
        }
        let id = self.define(SubType::func(ty.clone()));
        self.plain.insert(ty.clone(), id);
        id
    }

    /// Gives `ty` (in store ids) the next id.
    fn define(&mut self, ty: SubType) -> u32 {
        let id = self.defs.len() as u32;
        let chain = self.chains.len() as u32;
        let depth = match ty.supertype {
            Some(sup) => {
                let (start, depth) = (self.def(sup).chain as usize, self.def(sup).depth);
                self.chains
                    .extend_from_within(start..=start + depth as usize);
                depth + 1
            }
            None => 0,
        };
        self.chains.push(id);
        let layout = match ty.composite {
            CompositeType::Func(_) => None,
            _ => ObjectLayout::of(&ty.composite),
        };
        self.defs.push(TypeDef {
            ty,
            depth,
            chain,
            layout,
        });
        id
    }
}

impl Layouts for TypeRegistry {
    fn layout(&self, type_id: u32) -> Option<&ObjectLayout> {
        self.tables().defs.get(type_id as usize)?.layout.as_ref()
    }
}

/// The signature of a definition that needs no rolled key: a final function type
/// declaring no supertype and referencing no type.
fn plain_func(def: &SubType) -> Option<&Arc<FuncType>> {
    let func = def.as_func()?;
    (def.is_final && def.supertype.is_none() && !func.has_concrete()).then_some(func)
}

/// The rolled form of `def`, its concrete types mapped by `heap`.
fn roll(def: &SubType, heap: impl Fn(u32) -> RolledHeap + Copy) -> RolledSub {
    let val = |t: &ValType| match *t {
        ValType::Ref(RefType {
            nullable,
            heap: HeapType::Concrete(i),
        }) => RolledType::Ref {
            nullable,
            heap: heap(i),
        },
        ValType::Ref(RefType { nullable, heap }) => RolledType::Ref {
            nullable,
            heap: RolledHeap::Abstract(heap),
        },
        other => RolledType::Plain(other),
    };
    let field = |f: &FieldType| RolledField {
        storage: match f.storage {
            StorageType::I8 => RolledStorage::I8,
            StorageType::I16 => RolledStorage::I16,
            StorageType::Val(t) => RolledStorage::Val(val(&t)),
        },
        mutable: f.mutable,
    };
    RolledSub {
        is_final: def.is_final,
        supertype: def.supertype.map(heap),
        composite: match &def.composite {
            CompositeType::Func(t) => RolledComposite::Func(
                t.params().iter().map(val).collect(),
                t.results().iter().map(val).collect(),
            ),
            CompositeType::Struct(s) => {
                RolledComposite::Struct(s.fields.iter().map(field).collect())
            }
            CompositeType::Array(a) => RolledComposite::Array(field(&a.element)),
        },
    }
}

#[cfg(test)]
// A module's groups are given as a list of ranges; `&[0..2]` is one group of two.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use crate::values::{ArrayType, StructType};

    fn sub(is_final: bool, supertype: Option<u32>, composite: CompositeType) -> SubType {
        SubType {
            is_final,
            supertype,
            composite,
        }
    }

    /// `struct { (ref null $i) }` where `$i` is type index `i`.
    fn struct_ref(i: u32) -> CompositeType {
        CompositeType::Struct(Arc::new(StructType {
            fields: Box::new([FieldType {
                storage: StorageType::Val(ValType::Ref(RefType::nullable(HeapType::Concrete(i)))),
                mutable: true,
            }]),
        }))
    }

    fn array_i8() -> CompositeType {
        CompositeType::Array(ArrayType {
            element: FieldType {
                storage: StorageType::I8,
                mutable: false,
            },
        })
    }

    #[test]
    fn recursive_groups_are_equal_across_modules_and_finality_counts() {
        let mut registry = TypeRegistry::default();
        // Module A: one group of two types referencing each other.
        let a = [
            sub(false, None, struct_ref(1)),
            sub(true, None, struct_ref(0)),
        ];
        let ids_a = registry.ids_of_module(&a, &[0..2]);
        // Module B: an unrelated type first, then the same group.
        let b = [
            sub(true, None, array_i8()),
            sub(false, None, struct_ref(2)),
            sub(true, None, struct_ref(1)),
        ];
        let ids_b = registry.ids_of_module(&b, &[0..1, 1..3]);
        assert_eq!(ids_a, ids_b[1..]);
        // The same shapes, the first type final this time: another type.
        let c = [
            sub(true, None, struct_ref(1)),
            sub(true, None, struct_ref(0)),
        ];
        let ids_c = registry.ids_of_module(&c, &[0..2]);
        assert!(ids_c.iter().all(|id| !ids_a.contains(id)));
        // The same group with its types swapped is another group.
        let d = [
            sub(true, None, struct_ref(1)),
            sub(false, None, struct_ref(0)),
        ];
        let ids_d = registry.ids_of_module(&d, &[0..2]);
        assert!(ids_d.iter().all(|id| !ids_a.contains(id)));
    }

    #[test]
    fn subtyping_follows_declared_chains() {
        let mut registry = TypeRegistry::default();
        // $0 <: nothing, $1 <: $0, $2 <: $1, $3 <: $0; $4 unrelated, same shape as $0.
        let types = [
            sub(false, None, array_i8()),
            sub(false, Some(0), array_i8()),
            sub(true, Some(1), array_i8()),
            sub(true, Some(0), array_i8()),
            sub(true, None, array_i8()),
        ];
        let ids = registry.ids_of_module(&types, &[0..1, 1..2, 2..3, 3..4, 4..5]);
        let is = |a: usize, b: usize| registry.is_subtype(ids[a], ids[b]);
        assert!(is(2, 2) && is(2, 1) && is(2, 0) && is(1, 0) && is(3, 0));
        assert!(!is(0, 1) && !is(1, 2) && !is(3, 1) && !is(2, 3) && !is(4, 0) && !is(0, 4));
        assert_eq!(registry.supertypes(ids[2]), &[ids[0], ids[1], ids[2]]);
        assert!(registry.layout(ids[2]).is_some() && registry.func_type(ids[2]).is_none());
    }

    #[test]
    fn a_declared_supertype_is_part_of_the_identity() {
        let mut registry = TypeRegistry::default();
        let with = [
            sub(false, None, array_i8()),
            sub(false, Some(0), array_i8()),
        ];
        let without = [sub(false, None, array_i8()), sub(false, None, array_i8())];
        let ids_with = registry.ids_of_module(&with, &[0..1, 1..2]);
        let ids_without = registry.ids_of_module(&without, &[0..1, 1..2]);
        assert_eq!(ids_with[0], ids_without[0]);
        assert_eq!(ids_without[0], ids_without[1]);
        assert_ne!(ids_with[1], ids_without[1]);
    }

    #[test]
    fn host_signatures_meet_module_types() {
        let mut registry = TypeRegistry::default();
        let plain = Arc::new(FuncType::new([ValType::I32], []));
        let ids = registry.ids_of_module(&[SubType::func(plain.clone())], &[0..1]);
        assert_eq!(registry.id_of_single(&plain), ids[0]);
        let referencing = Arc::new(FuncType::new(
            [ValType::Ref(RefType::non_null(HeapType::Concrete(ids[0])))],
            [],
        ));
        let module = [
            SubType::func(plain),
            SubType::func(Arc::new(FuncType::new(
                [ValType::Ref(RefType::non_null(HeapType::Concrete(0)))],
                [],
            ))),
        ];
        let ids = registry.ids_of_module(&module, &[0..1, 1..2]);
        assert_eq!(registry.id_of_single(&referencing), ids[1]);
        assert_eq!(registry.func_type(ids[1]), Some(&referencing));
    }
}
