//! Module instances. Spec: <https://webassembly.github.io/spec/core/exec/runtime.html#module-instances>.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use super::ModuleCode;
use crate::error::Result;
use crate::module::ExternKind;

/// Runs when an instance is closed, with the exit code; its error joins the others.
pub type CloseHook = Box<dyn FnOnce(u32) -> Result<()> + Send>;

/// An exported (or imported) thing as the store names it: its kind and its index in
/// the store's arena of that kind. The API pairs it with the store's id (`Extern`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreExtern {
    Func(u32),
    Table(u32),
    Memory(u32),
    Global(u32),
    Tag(u32),
}

impl StoreExtern {
    pub fn kind(self) -> ExternKind {
        match self {
            StoreExtern::Func(_) => ExternKind::Func,
            StoreExtern::Table(_) => ExternKind::Table,
            StoreExtern::Memory(_) => ExternKind::Memory,
            StoreExtern::Global(_) => ExternKind::Global,
            StoreExtern::Tag(_) => ExternKind::Tag,
        }
    }
}

pub(crate) struct InstanceData {
    /// The module it was made from; `None` for host modules.
    pub module: Option<ModuleCode>,
    pub name: Option<String>,
    /// Module index space to store index, per kind.
    pub funcs: Vec<u32>,
    pub tables: Vec<u32>,
    pub memories: Vec<u32>,
    pub globals: Vec<u32>,
    pub tags: Vec<u32>,
    /// Module type index to store-wide type id (shared with the module's cache when
    /// the store was fresh).
    pub type_ids: Arc<[u32]>,
    /// Element instances: the raw references of each segment; emptied by `elem.drop`
    /// and after an active or declarative segment is applied.
    pub elems: Vec<Vec<u64>>,
    /// Data instances: each segment's byte range in the module's bytes; emptied by
    /// `data.drop` and after an active segment is applied.
    pub datas: Vec<Range<usize>>,
    pub exports: Exports,
    /// Set when closed: later calls into the instance fail with this exit code.
    pub closed: Option<u32>,
    pub close_hooks: Vec<CloseHook>,
    /// Per-instance state of the engine that runs it (the native engine keeps its VM
    /// context here), built lazily by that engine.
    pub engine_state: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl InstanceData {
    /// An instance with nothing in it yet but its module, name and type ids.
    pub(crate) fn new(
        module: Option<ModuleCode>,
        name: Option<String>,
        type_ids: Arc<[u32]>,
    ) -> InstanceData {
        InstanceData {
            module,
            name,
            funcs: Vec::new(),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            tags: Vec::new(),
            type_ids,
            elems: Vec::new(),
            datas: Vec::new(),
            exports: Exports::default(),
            closed: None,
            close_hooks: Vec::new(),
            engine_state: None,
        }
    }

    /// The bytes of data instance `index` (empty once dropped).
    pub(crate) fn data_bytes(&self, index: u32) -> &[u8] {
        match &self.module {
            Some(m) => &m.info().bytes[self.datas[index as usize].clone()],
            None => &[],
        }
    }
}

/// An instance's exports by name, in declaration order. The names are shared by every
/// instance of a module (`ModuleCode` makes them once), so instantiating copies no
/// string and hashes none; each instance has only its own externs.
#[derive(Default)]
pub(crate) struct Exports {
    /// `None` while there are none (so that an empty instance allocates nothing).
    names: Option<Arc<ExportNames>>,
    /// Indexed like `names.order`.
    externs: Vec<StoreExtern>,
}

/// Export names, in declaration order, and each one's place in that order.
#[derive(Default, Clone)]
pub(crate) struct ExportNames {
    order: Vec<String>,
    places: HashMap<String, u32>,
}

impl ExportNames {
    /// The names of `names` (distinct, as validation guarantees for a module's exports).
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> ExportNames {
        let mut n = ExportNames::default();
        for name in names {
            n.places.insert(name.to_string(), n.order.len() as u32);
            n.order.push(name.to_string());
        }
        n
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// The place of `name`: a scan of a few names costs less than hashing one.
    fn place(&self, name: &str) -> Option<u32> {
        if self.order.len() <= FEW_EXPORTS {
            return (self.order.iter().position(|n| n == name)).map(|i| i as u32);
        }
        self.places.get(name).copied()
    }
}

/// Up to this many exports, a lookup compares names rather than hash one (SipHash of a
/// short name costs about as much as comparing eight).
const FEW_EXPORTS: usize = 8;

impl Exports {
    /// Exports with `names` whose externs, in their order, are `externs`.
    pub(crate) fn new(names: Arc<ExportNames>, externs: Vec<StoreExtern>) -> Exports {
        debug_assert_eq!(names.len(), externs.len());
        Exports {
            names: Some(names),
            externs,
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&StoreExtern> {
        let place = self.names.as_ref()?.place(name)?;
        self.externs.get(place as usize)
    }

    /// Exports `ext` as `name`; a name exported already keeps its place and now names
    /// `ext`.
    pub(crate) fn insert(&mut self, name: &str, ext: StoreExtern) {
        if let Some(place) = self.names.as_ref().and_then(|n| n.place(name)) {
            self.externs[place as usize] = ext;
            return;
        }
        let names = Arc::make_mut(self.names.get_or_insert_default());
        names
            .places
            .insert(name.to_string(), names.order.len() as u32);
        names.order.push(name.to_string());
        self.externs.push(ext);
    }

    /// Every export, in declaration order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, StoreExtern)> {
        let names = self.names.as_ref().map_or(&[][..], |n| &n.order[..]);
        (names.iter().map(String::as_str)).zip(self.externs.iter().copied())
    }
}
