//! The imports and exports of a module binary, read with wasmparser: what the plan of
//! host imports and export calls is made from (without compiling the module).

use runtime::{
    ConcreteKind, FuncType, GlobalType, HeapType, MemoryType, RefType, TableType, ValType,
};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

#[derive(Debug, Clone)]
pub enum ImportTy {
    Func(FuncType),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    /// An exception tag, by the type of its payload.
    Tag(FuncType),
}

#[derive(Debug, Clone)]
pub struct ImportShape {
    pub module: String,
    pub name: String,
    pub ty: ImportTy,
}

#[derive(Debug, Clone, Default)]
pub struct Shape {
    pub imports: Vec<ImportShape>,
    /// Exported functions: name, module function index, type.
    pub func_exports: Vec<(String, u32, FuncType)>,
    /// Exported globals: name, module global index.
    pub global_exports: Vec<(String, u32)>,
    pub num_imported_funcs: u32,
    /// What a host function may change through the instance's exports (`effects.rs`):
    /// exported memories, tables (with their element type) and mutable globals (with
    /// their content type).
    pub memory_exports: Vec<String>,
    pub table_exports: Vec<(String, RefType)>,
    pub mutable_global_exports: Vec<(String, ValType)>,
}

fn val_type(t: wasmparser::ValType, kinds: &[ConcreteKind]) -> Option<ValType> {
    ValType::from_wasmparser_in(t, |i| kinds.get(i as usize).copied())
}

/// The reference types the generator makes, as the runtime reads them: Wasm 2.0's,
/// `exnref`, typed function references (`typed_refs.rs`) and GC's (unshared); `kinds`
/// tells what a concrete type index defines.
fn ref_type(r: wasmparser::RefType, kinds: &[ConcreteKind]) -> Option<RefType> {
    RefType::from_wasmparser_in(r, |i| kinds.get(i as usize).copied())
}

/// An import's reference type as the host builds it: a concrete type index is the
/// module's, which means nothing to the store (whose API names types by store-wide
/// ids), so the host gets the abstract type above it, and the import fails to link
/// (alike on every engine) rather than naming some other type.
fn host_ref(r: RefType) -> RefType {
    let heap = match r.heap {
        HeapType::Concrete(_) => HeapType::Func,
        HeapType::ConcreteStruct(_) => HeapType::Struct,
        HeapType::ConcreteArray(_) => HeapType::Array,
        other => other,
    };
    RefType { heap, ..r }
}

fn host_val(t: ValType) -> ValType {
    match t {
        ValType::Ref(r) => host_ref(r).into(),
        other => other,
    }
}

fn host_func(f: &FuncType) -> FuncType {
    let params: Vec<ValType> = f.params().iter().map(|t| host_val(*t)).collect();
    let results: Vec<ValType> = f.results().iter().map(|t| host_val(*t)).collect();
    FuncType::new(params, results)
}

/// The types of a type section: function types by index (`None` for struct and array
/// types), and what every index defines.
fn types(r: wasmparser::TypeSectionReader) -> Option<(Vec<Option<FuncType>>, Vec<ConcreteKind>)> {
    use wasmparser::CompositeInnerType as C;
    let mut subs = Vec::new();
    for group in r {
        subs.extend(group.ok()?.into_types());
    }
    let kinds: Vec<ConcreteKind> = (subs.iter())
        .map(|t| match t.composite_type.inner {
            C::Func(_) => Some(ConcreteKind::Func),
            C::Struct(_) => Some(ConcreteKind::Struct),
            C::Array(_) => Some(ConcreteKind::Array),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let mut funcs = Vec::new();
    for t in &subs {
        funcs.push(match &t.composite_type.inner {
            C::Func(f) => {
                let params = f.params().iter().map(|t| val_type(*t, &kinds));
                let results = f.results().iter().map(|t| val_type(*t, &kinds));
                Some(FuncType::new(
                    params.collect::<Option<Vec<_>>>()?,
                    results.collect::<Option<Vec<_>>>()?,
                ))
            }
            _ => None,
        });
    }
    Some((funcs, kinds))
}

/// The shape of a module, or `None` if it does not parse (or uses types outside Wasm 2.0).
pub fn shape(wasm: &[u8]) -> Option<Shape> {
    let mut types: Vec<Option<FuncType>> = Vec::new();
    let mut kinds: Vec<ConcreteKind> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new();
    // Table element types and global types in index order (imports first), for the
    // exported ones.
    let mut tables: Vec<RefType> = Vec::new();
    let mut globals: Vec<GlobalType> = Vec::new();
    let mut out = Shape::default();
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.ok()? {
            Payload::TypeSection(r) => (types, kinds) = self::types(r)?,
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.ok()?;
                    let ty = match imp.ty {
                        TypeRef::Func(t) => {
                            func_types.push(t);
                            out.num_imported_funcs += 1;
                            ImportTy::Func(host_func(types.get(t as usize)?.as_ref()?))
                        }
                        TypeRef::Table(t) => {
                            tables.push(ref_type(t.element_type, &kinds)?);
                            ImportTy::Table(TableType {
                                element: host_ref(ref_type(t.element_type, &kinds)?),
                                min: t.initial,
                                max: t.maximum,
                                table64: t.table64,
                            })
                        }
                        TypeRef::Memory(m) => ImportTy::Memory(MemoryType {
                            min: m.initial,
                            max: m.maximum,
                            memory64: m.memory64,
                        }),
                        TypeRef::Global(g) => {
                            let g = GlobalType {
                                content: val_type(g.content_type, &kinds)?,
                                mutable: g.mutable,
                            };
                            globals.push(g);
                            ImportTy::Global(GlobalType {
                                content: host_val(g.content),
                                ..g
                            })
                        }
                        TypeRef::Tag(t) => {
                            ImportTy::Tag(host_func(types.get(t.func_type_idx as usize)?.as_ref()?))
                        }
                        _ => return None,
                    };
                    out.imports.push(ImportShape {
                        module: imp.module.to_string(),
                        name: imp.name.to_string(),
                        ty,
                    });
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    func_types.push(t.ok()?);
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    tables.push(ref_type(t.ok()?.ty.element_type, &kinds)?);
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let ty = g.ok()?.ty;
                    globals.push(GlobalType {
                        content: val_type(ty.content_type, &kinds)?,
                        mutable: ty.mutable,
                    });
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.ok()?;
                    exports.push((e.name.to_string(), e.kind, e.index));
                }
            }
            _ => {}
        }
    }
    for (name, kind, index) in exports {
        match kind {
            ExternalKind::Func => {
                let ty = types
                    .get(*func_types.get(index as usize)? as usize)?
                    .clone()?;
                out.func_exports.push((name, index, ty));
            }
            ExternalKind::Global => {
                if let Some(g) = globals.get(index as usize).filter(|g| g.mutable) {
                    out.mutable_global_exports.push((name.clone(), g.content));
                }
                out.global_exports.push((name, index));
            }
            ExternalKind::Memory => out.memory_exports.push(name),
            ExternalKind::Table => {
                if let Some(t) = tables.get(index as usize) {
                    out.table_exports.push((name, *t));
                }
            }
            _ => {}
        }
    }
    Some(out)
}
