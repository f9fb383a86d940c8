//! Instantiation. Spec: <https://webassembly.github.io/spec/core/exec/modules.html#instantiation>;
//! error wording and hooks after wazero's `Store.instantiate` / `resolveImports`.
//!
//! The API layer claims the name in the registry and finds the instance behind each
//! import's module name (the resolver hook, then the registry) before it comes here.
//!
//! Order: resolve and check every import; allocate functions, globals,
//! tables and memories; build element and data instances; apply active element
//! segments, then active data segments, in order (a trap stops there, and what earlier
//! segments wrote stays, as the spec requires); run the start function last. The start
//! function's error is wrapped with its name, except an exit request, which passes through.

use super::instance::Exports;
use super::ops::address_operand;
use super::{
    FuncEntity, FuncKind, GlobalInstance, InstanceData, MemoryInstance, ModuleCode, StoreData,
    StoreExtern, TableInstance,
};
use crate::error::{Error, LinkError, LinkErrorKind, Result, Trap};
use crate::module::{
    ConstEnv, ConstOp, DataMode, ElemMode, ExternKind, Import, ImportType, ModuleInfo,
};
use crate::values::RawValue;

/// What constant expressions see while instance `inst` is being made in the store of `d`.
struct Env<'a> {
    d: &'a mut StoreData,
    inst: &'a InstanceData,
}

impl ConstEnv for Env<'_> {
    fn global(&self, g: u32) -> u128 {
        self.d.globals[self.inst.globals[g as usize] as usize].value
    }

    fn func_ref(&self, f: u32) -> u64 {
        self.inst.funcs[f as usize] as u64 + 1
    }

    /// Objects made here are held only by Rust values until the instance is in the
    /// store, so these allocations never collect (`stack` is `None`).
    fn new_object(&mut self, op: ConstOp, operands: &[RawValue]) -> Result<u128> {
        let type_id = |t: u32| self.inst.type_ids[t as usize];
        let object = match op {
            ConstOp::StructNew { type_index, .. } => {
                self.d.gc_new_struct(type_id(type_index), operands, None)?
            }
            ConstOp::StructNewDefault(t) => self.d.gc_new_struct(type_id(t), &[], None)?,
            ConstOp::ArrayNew(t) => {
                let (fill, len) = (operands[0], operands[1] as u32);
                self.d.gc_new_array(type_id(t), len, fill, None)?
            }
            ConstOp::ArrayNewDefault(t) => {
                self.d
                    .gc_new_array(type_id(t), operands[0] as u32, 0, None)?
            }
            ConstOp::ArrayNewFixed { type_index, .. } => {
                self.d
                    .gc_new_array_of(type_id(type_index), operands, None)?
            }
            _ => unreachable!("{op:?} makes no object"),
        };
        Ok(object.into())
    }
}

/// The value of a constant expression that makes no object (a segment's offset: an
/// integer, by validation).
fn const_number(expr: &crate::module::ConstExpr, d: &mut StoreData, inst: &InstanceData) -> u64 {
    // Evaluation fails only when it makes an object.
    expr.eval(&mut Env { d, inst }).unwrap_or(0) as u64
}

pub(crate) fn instantiate(
    d: &mut StoreData,
    module: &ModuleCode,
    name: Option<&str>,
    providers: &[Option<u32>],
) -> Result<u32> {
    let info = module.info();
    let type_ids = if d.types.is_empty() {
        let (types, ids) = module.fresh_store_types();
        d.types = types.clone();
        ids.clone()
    } else {
        d.types.ids_of_module(&info.types, &info.rec_groups).into()
    };
    let mut resolved = Vec::with_capacity(info.imports.len());
    for (import, provider) in info.imports.iter().zip(providers) {
        resolved.push(resolve_import(d, info, &type_ids, import, *provider)?);
    }

    let index = d.instances.len() as u32;
    let mut inst = InstanceData::new(Some(module.clone()), name.map(str::to_string), type_ids);
    // Sized once: a vector grown from empty allocates again at 4, 8, ... entries.
    inst.funcs.reserve_exact(info.funcs.len());
    inst.tables.reserve_exact(info.tables.len());
    inst.memories.reserve_exact(info.memories.len());
    inst.globals.reserve_exact(info.globals.len());
    inst.tags.reserve_exact(info.tags.len());
    d.funcs
        .reserve(info.funcs.len() - info.num_imported_funcs as usize);
    // Runtime objects name concrete types by store-wide id, so that an object's type
    // means the same in every instance that imports it.
    let store_id = |i: u32| inst.type_ids[i as usize];
    for ext in &resolved {
        match *ext {
            StoreExtern::Func(f) => inst.funcs.push(f),
            StoreExtern::Table(t) => inst.tables.push(t),
            StoreExtern::Memory(m) => inst.memories.push(m),
            StoreExtern::Global(g) => inst.globals.push(g),
            StoreExtern::Tag(t) => inst.tags.push(t),
        }
    }
    // A defined tag is a new tag per instantiation (two instances of one module throw
    // distinct exceptions).
    for &type_index in &info.tags[info.num_imported_tags as usize..] {
        let ty = info.signature(type_index).clone();
        let type_id = inst.type_ids[type_index as usize];
        inst.tags.push(d.add_tag(ty, type_id));
    }
    for func_index in info.num_imported_funcs..info.funcs.len() as u32 {
        let type_index = info.funcs[func_index as usize] as usize;
        let type_id = inst.type_ids[type_index];
        let ty = d.types.func_type(type_id).expect("a function type").clone();
        inst.funcs.push(d.funcs.len() as u32);
        d.funcs.push(FuncEntity {
            ty,
            type_id,
            kind: FuncKind::Wasm {
                instance: index,
                index: func_index,
            },
        });
    }
    for (i, init) in info.global_inits.iter().enumerate() {
        let mut ty = info.globals[info.num_imported_globals as usize + i];
        ty.content = ty.content.map_concrete(store_id);
        let value = init.eval(&mut Env { d, inst: &inst })?;
        inst.globals.push(d.globals.len() as u32);
        d.globals.push(Box::new(GlobalInstance { value, ty }));
    }

    for (i, init) in info.table_inits.iter().enumerate() {
        let mut ty = info.tables[info.num_imported_tables as usize + i];
        ty.element = ty.element.map_concrete(store_id);
        let raw = match init {
            Some(e) => e.eval(&mut Env { d, inst: &inst })? as u64,
            None => 0,
        };
        let table = TableInstance::new(ty, raw).ok_or_else(|| {
            Error::Instantiation(format!("cannot allocate a table of {} elements", ty.min))
        })?;
        inst.tables.push(d.tables.len() as u32);
        d.tables.push(table);
    }
    for ty in &info.memories[info.num_imported_memories as usize..] {
        let alloc = d.allocator.clone();
        let mem = MemoryInstance::new(*ty, alloc.as_deref(), d.signal_traps)
            .map_err(Error::Instantiation)?;
        inst.memories.push(d.memories.len() as u32);
        d.memories.push(mem);
    }

    let externs = (info.exports.iter())
        .map(|export| {
            let i = export.index as usize;
            match export.kind {
                ExternKind::Func => StoreExtern::Func(inst.funcs[i]),
                ExternKind::Table => StoreExtern::Table(inst.tables[i]),
                ExternKind::Memory => StoreExtern::Memory(inst.memories[i]),
                ExternKind::Global => StoreExtern::Global(inst.globals[i]),
                ExternKind::Tag => StoreExtern::Tag(inst.tags[i]),
            }
        })
        .collect();
    inst.exports = Exports::new(module.export_names().clone(), externs);

    let mut elems = Vec::with_capacity(info.elements.len());
    for seg in &info.elements {
        let items = (seg.items.iter())
            .map(|e| Ok(e.eval(&mut Env { d, inst: &inst })? as u64))
            .collect::<Result<Vec<u64>>>()?;
        elems.push(items);
    }
    inst.elems = elems;
    inst.datas = info.data.iter().map(|s| s.range.clone()).collect();

    // An offset is an i32 or, for a 64-bit table or memory, an i64 constant.
    let offsets_elem: Vec<Option<(u32, u64)>> = info
        .elements
        .iter()
        .map(|seg| match &seg.mode {
            ElemMode::Active { table, offset } => Some((
                *table,
                address_operand(
                    const_number(offset, d, &inst),
                    info.tables[*table as usize].table64,
                ),
            )),
            _ => None,
        })
        .collect();
    let offsets_data: Vec<Option<(u32, u64)>> = info
        .data
        .iter()
        .map(|seg| match &seg.mode {
            DataMode::Active { memory, offset } => Some((
                *memory,
                address_operand(
                    const_number(offset, d, &inst),
                    info.memories[*memory as usize].memory64,
                ),
            )),
            DataMode::Passive => None,
        })
        .collect();
    d.instances.push(inst);

    for (i, seg) in info.elements.iter().enumerate() {
        if let Some((table, offset)) = offsets_elem[i] {
            let len = seg.items.len() as u64;
            let table = d.instances[index as usize].tables[table as usize];
            d.table_init(index, table, i as u32, offset, 0, len, false)
                .map_err(|k| Trap::with_context(k, format!("elem[{i}]")))?;
        }
        if !matches!(seg.mode, ElemMode::Passive) {
            d.elem_drop(index, i as u32);
        }
    }
    let imaged = map_data_image(d, module, index);
    for (i, seg) in info.data.iter().enumerate() {
        if let Some((memory, offset)) = offsets_data[i] {
            if imaged {
                d.data_drop(index, i as u32);
                continue;
            }
            let len = seg.range.len() as u64;
            let memory = d.instances[index as usize].memories[memory as usize];
            d.memory_init(index, memory, i as u32, offset, 0, len, false)
                .map_err(|k| Trap::with_context(k, format!("data[{i}]")))?;
            d.data_drop(index, i as u32);
        }
    }

    if let Some(start) = info.start {
        let func = d.instances[index as usize].funcs[start as usize];
        match d.invoke(func, &[], &mut []) {
            Ok(_) => {}
            Err(e @ Error::Exit(_)) => return Err(e),
            Err(e) => {
                return Err(Error::Start {
                    func: info.func_desc(start),
                    source: Box::new(e),
                });
            }
        }
    }
    Ok(index)
}

/// Applies every active data segment at once by mapping the module's data image
/// (`image.rs`) over its memory, when the module has one (then no segment can trap) and
/// the memory is one the image may replace; false when the segments are to be copied.
fn map_data_image(d: &mut StoreData, module: &ModuleCode, instance: u32) -> bool {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    {
        // Copying checks for an interrupt request (and traps on one); mapping would not.
        if !d.signal_traps || d.interrupted() {
            return false;
        }
        let Some(image) = module.data_image() else {
            return false;
        };
        let memory = d.instances[instance as usize].memories[image.memory as usize];
        d.memories[memory as usize].map_image_of_fresh(image)
    }
    #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
    {
        let _ = (d, module, instance);
        false
    }
}

fn link_error(import: &Import, kind: LinkErrorKind, detail: String) -> Error {
    Error::Link(LinkError {
        kind,
        extern_kind: import.ty.kind().name(),
        module: import.module.clone(),
        name: import.name.clone(),
        detail,
    })
}

/// Finds `import` in `provider` and checks its type, with the spec's import matching
/// rules (<https://webassembly.github.io/spec/core/valid/types.html#import-subtyping>):
/// tables and memories match on their current size, not their declared minimum.
fn resolve_import(
    d: &mut StoreData,
    info: &ModuleInfo,
    type_ids: &[u32],
    import: &Import,
    provider: Option<u32>,
) -> Result<StoreExtern> {
    let store_id = |i: u32| type_ids[i as usize];
    let unknown = |detail: String| link_error(import, LinkErrorKind::UnknownImport, detail);
    let incompatible =
        |detail: String| link_error(import, LinkErrorKind::IncompatibleImportType, detail);
    let provider =
        provider.ok_or_else(|| unknown(format!("module[{}] not instantiated", import.module)))?;
    let pinst = &d.instances[provider as usize];
    if pinst.closed.is_some() {
        return Err(unknown(format!("module[{}] is closed", import.module)));
    }
    let ext = *pinst.exports.get(&import.name).ok_or_else(|| {
        unknown(format!(
            "{:?} is not exported in module {:?}",
            import.name, import.module
        ))
    })?;
    if ext.kind() != import.ty.kind() {
        return Err(incompatible(format!(
            "export {:?} in module {:?} is a {}, not a {}",
            import.name,
            import.module,
            ext.kind().name(),
            import.ty.kind().name()
        )));
    }
    let limits = |expected_min: u64,
                  expected_max: Option<u64>,
                  actual_min: u64,
                  actual_max: Option<u64>|
     -> Result<()> {
        if expected_min > actual_min {
            return Err(incompatible(format!(
                "minimum size mismatch: {expected_min} > {actual_min}"
            )));
        }
        if let Some(em) = expected_max {
            match actual_max {
                None => {
                    return Err(incompatible(format!(
                        "maximum size mismatch: {em}, but actual has no max"
                    )));
                }
                Some(am) if am > em => {
                    return Err(incompatible(format!("maximum size mismatch: {em} < {am}")));
                }
                _ => {}
            }
        }
        Ok(())
    };
    match (&import.ty, ext) {
        (ImportType::Func(type_index), StoreExtern::Func(f)) => {
            // A function matches its own type and the supertypes it declares.
            let expected_id = type_ids[*type_index as usize];
            let actual = &d.funcs[f as usize];
            if !d.types.is_subtype(actual.type_id, expected_id) {
                let expected = d.types.func_type(expected_id).expect("a function type");
                let why = if **expected == *actual.ty {
                    " (same signature, different recursion groups)"
                } else {
                    ""
                };
                return Err(incompatible(format!(
                    "signature mismatch: {expected} != {}{why}",
                    actual.ty
                )));
            }
        }
        (ImportType::Table(expected), StoreExtern::Table(t)) => {
            // Tables are mutable: the element types must be equal, not just match.
            let actual = &d.tables[t as usize];
            if expected.table64 != actual.ty.table64 {
                return Err(incompatible(format!(
                    "index type mismatch: {} != {}",
                    index_type(expected.table64),
                    index_type(actual.ty.table64)
                )));
            }
            let element = expected.element.map_concrete(store_id);
            if element != actual.ty.element {
                return Err(incompatible(format!(
                    "table type mismatch: {} != {}",
                    element, actual.ty.element
                )));
            }
            limits(expected.min, expected.max, actual.size(), actual.ty.max)?;
        }
        (ImportType::Memory(expected), StoreExtern::Memory(m)) => {
            let actual = &d.memories[m as usize];
            if expected.memory64 != actual.ty.memory64 {
                return Err(incompatible(format!(
                    "address type mismatch: {} != {}",
                    index_type(expected.memory64),
                    index_type(actual.ty.memory64)
                )));
            }
            limits(expected.min, expected.max, actual.pages(), actual.ty.max)?;
        }
        (ImportType::Global(expected), StoreExtern::Global(g)) => {
            let actual = &d.globals[g as usize];
            if expected.mutable != actual.ty.mutable {
                return Err(incompatible(format!(
                    "mutability mismatch: {} != {}",
                    expected.mutable, actual.ty.mutable
                )));
            }
            // An immutable global may have a subtype of the expected type; a mutable
            // one is written through both types, so they must be equal.
            let content = expected.content.map_concrete(store_id);
            let matches = match expected.mutable {
                true => content == actual.ty.content,
                false => {
                    (actual.ty.content).is_subtype_of(content, |a, b| d.types.is_subtype(a, b))
                }
            };
            if !matches {
                return Err(incompatible(format!(
                    "value type mismatch: {} != {}",
                    content, actual.ty.content
                )));
            }
        }
        (ImportType::Tag(type_index), StoreExtern::Tag(t)) => {
            // Tag types match exactly (no subtyping of the payload).
            let expected = &info.signature(*type_index);
            let expected_id = type_ids[*type_index as usize];
            let actual = &d.tags[t as usize];
            if actual.type_id != expected_id {
                return Err(incompatible(format!(
                    "tag type mismatch: {} != {}",
                    expected, actual.ty
                )));
            }
        }
        _ => unreachable!("kinds were compared above"),
    }
    Ok(ext)
}

/// The name of an address type: i64 for a 64-bit memory or table, else i32.
fn index_type(is_64: bool) -> &'static str {
    if is_64 { "i64" } else { "i32" }
}
