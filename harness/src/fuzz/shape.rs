//! The imports and exports of a module binary, read with wasmparser: what the plan of
//! host imports and export calls is made from (without compiling the module).

use runtime::{FuncType, GlobalType, HeapType, MemoryType, RefType, TableType, ValType};
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

fn val_type(t: wasmparser::ValType) -> Option<ValType> {
    use wasmparser::ValType as W;
    Some(match t {
        W::I32 => ValType::I32,
        W::I64 => ValType::I64,
        W::F32 => ValType::F32,
        W::F64 => ValType::F64,
        W::V128 => ValType::V128,
        W::Ref(r) => ref_type(r)?.into(),
    })
}

/// The reference types the generator makes: Wasm 2.0's, `exnref`, and typed function
/// references (`typed_refs.rs`); GC types are never generated.
fn ref_type(r: wasmparser::RefType) -> Option<RefType> {
    use wasmparser::{AbstractHeapType as A, HeapType as W};
    let heap = match r.heap_type() {
        W::Abstract { shared: false, ty } => match ty {
            A::Func => HeapType::Func,
            A::NoFunc => HeapType::NoFunc,
            A::Extern => HeapType::Extern,
            A::NoExtern => HeapType::NoExtern,
            A::Exn => HeapType::Exn,
            A::NoExn => HeapType::NoExn,
            _ => return None,
        },
        W::Concrete(i) => HeapType::Concrete(i.as_module_index()?),
        _ => return None,
    };
    Some(RefType {
        nullable: r.is_nullable(),
        heap,
    })
}

/// The shape of a module, or `None` if it does not parse (or uses types outside Wasm 2.0).
pub fn shape(wasm: &[u8]) -> Option<Shape> {
    let mut types: Vec<FuncType> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new();
    // Table element types and global types in index order (imports first), for the
    // exported ones.
    let mut tables: Vec<RefType> = Vec::new();
    let mut globals: Vec<GlobalType> = Vec::new();
    let mut out = Shape::default();
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.ok()? {
            Payload::TypeSection(r) => {
                for ty in r.into_iter_err_on_gc_types() {
                    let f = ty.ok()?;
                    let params = f.params().iter().map(|t| val_type(*t));
                    let results = f.results().iter().map(|t| val_type(*t));
                    types.push(FuncType::new(
                        params.collect::<Option<Vec<_>>>()?,
                        results.collect::<Option<Vec<_>>>()?,
                    ));
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.ok()?;
                    let ty = match imp.ty {
                        TypeRef::Func(t) => {
                            func_types.push(t);
                            out.num_imported_funcs += 1;
                            ImportTy::Func(types.get(t as usize)?.clone())
                        }
                        TypeRef::Table(t) => {
                            tables.push(ref_type(t.element_type)?);
                            ImportTy::Table(TableType {
                                element: ref_type(t.element_type)?,
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
                                content: val_type(g.content_type)?,
                                mutable: g.mutable,
                            };
                            globals.push(g);
                            ImportTy::Global(g)
                        }
                        TypeRef::Tag(t) => {
                            ImportTy::Tag(types.get(t.func_type_idx as usize)?.clone())
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
                    tables.push(ref_type(t.ok()?.ty.element_type)?);
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let ty = g.ok()?.ty;
                    globals.push(GlobalType {
                        content: val_type(ty.content_type)?,
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
                    .clone();
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
