//! Decode + validate a binary with wasmparser, in one pass, into a [`ModuleInfo`].
//!
//! Spec: <https://webassembly.github.io/spec/core/binary/modules.html>.

use std::collections::HashMap;
use std::sync::Arc;

use wasmparser::{
    ElementItems, ElementKind, ExternalKind, FuncToValidate, FuncValidatorAllocations,
    FunctionBody, Name, Parser, Payload, TypeRef, ValidPayload, Validator, ValidatorResources,
    WasmFeatures,
};

use super::{
    ConstExpr, ConstOp, DataMode, DataSegment, ElemMode, ElemSegment, Export, ExternKind, FuncBody,
    GlobalType, Import, ImportType, MemoryType, ModuleInfo, TableType,
};
use crate::error::{CompileError, CompileErrorKind, Error};
use crate::values::{
    ArrayType, CompositeType, ConcreteKind, FieldType, FuncType, RefType, StorageType, StructType,
    SubType, ValType,
};

pub(crate) fn malformed(e: wasmparser::BinaryReaderError) -> CompileError {
    CompileError {
        kind: CompileErrorKind::Malformed,
        message: e.message().to_string(),
        offset: Some(e.offset()),
    }
}

fn invalid(e: wasmparser::BinaryReaderError) -> CompileError {
    CompileError {
        kind: CompileErrorKind::Invalid,
        message: e.message().to_string(),
        offset: Some(e.offset()),
    }
}

fn unsupported(message: impl Into<String>, offset: u64) -> CompileError {
    CompileError {
        kind: CompileErrorKind::Unsupported,
        message: message.into(),
        offset: Some(offset),
    }
}

/// A value type of a module whose definitions so far are `types`.
fn val_type(
    ty: wasmparser::ValType,
    offset: u64,
    types: &[SubType],
) -> Result<ValType, CompileError> {
    ValType::from_wasmparser_of(ty, types).ok_or_else(|| match ty {
        wasmparser::ValType::Ref(r) => ref_unsupported(r, offset),
        _ => unsupported(format!("value type {ty} is not supported"), offset),
    })
}

pub(crate) fn gc_unsupported(what: &str, offset: u64) -> CompileError {
    unsupported(
        format!("garbage collection is not supported yet ({what})"),
        offset,
    )
}

fn ref_type(
    ty: wasmparser::RefType,
    offset: u64,
    types: &[SubType],
) -> Result<RefType, CompileError> {
    RefType::from_wasmparser_of(ty, types).ok_or_else(|| ref_unsupported(ty, offset))
}

/// A reference type the engines do not take (shared, exact or of a later proposal).
fn ref_unsupported(ty: wasmparser::RefType, offset: u64) -> CompileError {
    gc_unsupported(&format!("reference type {ty}"), offset)
}

fn table_type(
    t: &wasmparser::TableType,
    offset: u64,
    types: &[SubType],
) -> Result<TableType, CompileError> {
    Ok(TableType {
        element: ref_type(t.element_type, offset, types)?,
        min: t.initial,
        max: t.maximum,
        table64: t.table64,
    })
}

fn memory_type(m: &wasmparser::MemoryType) -> MemoryType {
    MemoryType {
        min: m.initial,
        max: m.maximum,
        memory64: m.memory64,
    }
}

fn global_type(
    g: &wasmparser::GlobalType,
    offset: u64,
    types: &[SubType],
) -> Result<GlobalType, CompileError> {
    Ok(GlobalType {
        content: val_type(g.content_type, offset, types)?,
        mutable: g.mutable,
    })
}

/// Decodes and validates `bytes` with `features`. Function bodies are validated here too,
/// so the engines' translators may assume valid code.
pub(crate) fn parse(bytes: Arc<[u8]>, features: WasmFeatures) -> Result<ModuleInfo, Error> {
    parse_with(bytes, features, None)
}

/// An engine's compiler of one function body, which validates the body with the
/// validator it is given as it translates it, in one decode (`parse_compiling`). It is
/// called with the module decoded so far (every section before the code section) and
/// the body's defined function index, and says whether the body makes or reads GC
/// objects (`ModuleInfo::uses_objects`). Its errors are the module's, and so must be
/// classified as `parse` would have: whatever the validator or the decoder refuses in
/// the body is invalid (RATIONALE.md, "Interpreter compile: one decode per body").
pub(crate) type BodyCompiler<'c> = dyn FnMut(
        &ModuleInfo,
        usize,
        FunctionBody<'_>,
        FuncToValidate<ValidatorResources>,
    ) -> Result<bool, Error>
    + 'c;

/// Like `parse`, but leaves each function body's validation to `compile_body`, which is
/// called as the body is met, so errors come in the same order as `parse`'s.
pub(crate) fn parse_compiling(
    bytes: Arc<[u8]>,
    features: WasmFeatures,
    compile_body: &mut BodyCompiler<'_>,
) -> Result<ModuleInfo, Error> {
    parse_with(bytes, features, Some(compile_body))
}

fn parse_with(
    bytes: Arc<[u8]>,
    features: WasmFeatures,
    mut compile_body: Option<&mut BodyCompiler<'_>>,
) -> Result<ModuleInfo, Error> {
    let mut info = ModuleInfo {
        bytes: bytes.clone(),
        types: Vec::new(),
        rec_groups: Vec::new(),
        imports: Vec::new(),
        funcs: Vec::new(),
        tables: Vec::new(),
        memories: Vec::new(),
        globals: Vec::new(),
        tags: Vec::new(),
        num_imported_funcs: 0,
        num_imported_tables: 0,
        num_imported_memories: 0,
        num_imported_globals: 0,
        num_imported_tags: 0,
        global_inits: Vec::new(),
        table_inits: Vec::new(),
        exports: Vec::new(),
        start: None,
        elements: Vec::new(),
        data: Vec::new(),
        bodies: Vec::new(),
        name: None,
        func_names: HashMap::new(),
        uses_objects: false,
    };
    let mut validator = Validator::new_with_features(features);
    let mut allocs = FuncValidatorAllocations::default();

    // The parser must know the features too: with memory64 off it reads memory limits as
    // u32, so an overlong encoding is malformed (spec binary-leb128.wast).
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(&bytes) {
        let payload = payload.map_err(malformed)?;
        let mut to_compile = None;
        match validator.payload(&payload).map_err(invalid)? {
            ValidPayload::Func(func, body) if compile_body.is_some() => {
                to_compile = Some((func, body));
            }
            ValidPayload::Func(func, body) => {
                let mut fv = func.into_validator(std::mem::take(&mut allocs));
                fv.validate(&body).map_err(invalid)?;
                allocs = fv.into_allocations();
                if features.contains(WasmFeatures::GC) && uses_objects(&body)? {
                    info.uses_objects = true;
                }
            }
            ValidPayload::Parser(_) => {
                return Err(unsupported("nested modules and components", 0).into());
            }
            ValidPayload::Ok | ValidPayload::End(_) => {}
        }
        read_payload(&mut info, payload)?;
        // After `read_payload`, which records the body's place in `info.bodies`.
        if let (Some((func, body)), Some(compile)) = (to_compile, compile_body.as_deref_mut()) {
            let defined = info.bodies.len() - 1;
            if compile(&info, defined, body, func)? && features.contains(WasmFeatures::GC) {
                info.uses_objects = true;
            }
        }
    }
    let exprs = (info.global_inits.iter())
        .chain(info.table_inits.iter().flatten())
        .chain(info.elements.iter().flat_map(|e| &e.items));
    info.uses_objects |= exprs.into_iter().any(|e| e.makes_objects());
    Ok(info)
}

fn read_payload(info: &mut ModuleInfo, payload: Payload<'_>) -> Result<(), CompileError> {
    match payload {
        Payload::TypeSection(reader) => {
            // Every type is in a recursion group (a plain `type` is a group of one). The
            // engines implement every definition: function types (their signatures may
            // use the GC types), subtypes of them (a call through a supertype accepts
            // them), struct and array types (their references can only be null until
            // objects exist: the operators that make and use objects are refused in
            // bodies and constant expressions).
            for group in reader.into_iter_with_offsets() {
                let (off, group) = group.map_err(malformed)?;
                let start = info.types.len() as u32;
                let subs: Vec<wasmparser::SubType> = group.into_types().collect();
                // A type may reference any type of its own group, later ones included,
                // so the group's kinds are known before its types are read.
                let kinds: Vec<ConcreteKind> = subs.iter().map(composite_kind).collect();
                let types = &info.types;
                let kind_of = |i: u32| match i.checked_sub(start) {
                    None => types.get(i as usize).map(|t| t.composite.kind()),
                    Some(in_group) => kinds.get(in_group as usize).copied(),
                };
                let mut defs = Vec::with_capacity(subs.len());
                for sub in &subs {
                    defs.push(sub_type(sub, &kind_of, off)?);
                }
                info.types.extend(defs);
                info.rec_groups.push(start..info.types.len() as u32);
            }
        }
        Payload::ImportSection(reader) => {
            for import in reader.into_imports() {
                let import = import.map_err(malformed)?;
                let off = 0;
                let ty = match import.ty {
                    TypeRef::Func(t) => {
                        info.funcs.push(t);
                        info.num_imported_funcs += 1;
                        ImportType::Func(t)
                    }
                    TypeRef::Table(t) => {
                        let t = table_type(&t, off, &info.types)?;
                        info.tables.push(t);
                        info.num_imported_tables += 1;
                        ImportType::Table(t)
                    }
                    TypeRef::Memory(m) => {
                        let m = memory_type(&m);
                        info.memories.push(m);
                        info.num_imported_memories += 1;
                        ImportType::Memory(m)
                    }
                    TypeRef::Global(g) => {
                        let g = global_type(&g, off, &info.types)?;
                        info.globals.push(g);
                        info.num_imported_globals += 1;
                        ImportType::Global(g)
                    }
                    TypeRef::Tag(t) => {
                        info.tags.push(t.func_type_idx);
                        info.num_imported_tags += 1;
                        ImportType::Tag(t.func_type_idx)
                    }
                    other => return Err(unsupported(format!("import of {other:?}"), off)),
                };
                info.imports.push(Import {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                    ty,
                });
            }
        }
        Payload::FunctionSection(reader) => {
            for t in reader {
                info.funcs.push(t.map_err(malformed)?);
            }
        }
        Payload::TableSection(reader) => {
            for table in reader {
                let table = table.map_err(malformed)?;
                info.tables.push(table_type(&table.ty, 0, &info.types)?);
                info.table_inits.push(match &table.init {
                    wasmparser::TableInit::RefNull => None,
                    wasmparser::TableInit::Expr(e) => {
                        Some(ConstExpr::from_wasmparser(e, &info.types)?)
                    }
                });
            }
        }
        Payload::MemorySection(reader) => {
            for m in reader {
                info.memories.push(memory_type(&m.map_err(malformed)?));
            }
        }
        Payload::GlobalSection(reader) => {
            for g in reader {
                let g = g.map_err(malformed)?;
                info.globals.push(global_type(&g.ty, 0, &info.types)?);
                info.global_inits
                    .push(ConstExpr::from_wasmparser(&g.init_expr, &info.types)?);
            }
        }
        Payload::ExportSection(reader) => {
            for e in reader {
                let e = e.map_err(malformed)?;
                let kind = match e.kind {
                    ExternalKind::Func | ExternalKind::FuncExact => ExternKind::Func,
                    ExternalKind::Table => ExternKind::Table,
                    ExternalKind::Memory => ExternKind::Memory,
                    ExternalKind::Global => ExternKind::Global,
                    ExternalKind::Tag => ExternKind::Tag,
                };
                info.exports.push(Export {
                    name: e.name.to_string(),
                    kind,
                    index: e.index,
                });
            }
        }
        Payload::TagSection(reader) => {
            for t in reader {
                info.tags.push(t.map_err(malformed)?.func_type_idx);
            }
        }
        Payload::StartSection { func, .. } => info.start = Some(func),
        Payload::ElementSection(reader) => {
            for elem in reader {
                info.elements
                    .push(elem_segment(elem.map_err(malformed)?, &info.types)?);
            }
        }
        Payload::DataSection(reader) => {
            for d in reader {
                let d = d.map_err(malformed)?;
                let mode = match d.kind {
                    wasmparser::DataKind::Passive => DataMode::Passive,
                    wasmparser::DataKind::Active {
                        memory_index,
                        offset_expr,
                    } => DataMode::Active {
                        memory: memory_index,
                        offset: ConstExpr::from_wasmparser(&offset_expr, &info.types)?,
                    },
                };
                info.data.push(DataSegment {
                    mode,
                    range: d.range.end as usize - d.data.len()..d.range.end as usize,
                });
            }
        }
        Payload::CodeSectionEntry(body) => {
            info.bodies.push(FuncBody {
                range: body.range().start as usize..body.range().end as usize,
            });
        }
        Payload::CustomSection(section) => {
            if let wasmparser::KnownCustom::Name(names) = section.as_known() {
                // The name section is advisory: a malformed one is ignored, as the spec allows.
                for name in names.into_iter().flatten() {
                    match name {
                        Name::Module { name, .. } => info.name = Some(name.to_string()),
                        Name::Function(map) => {
                            for naming in map.into_iter().flatten() {
                                info.func_names
                                    .insert(naming.index, naming.name.to_string());
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn composite_kind(sub: &wasmparser::SubType) -> ConcreteKind {
    match sub.composite_type.inner {
        wasmparser::CompositeInnerType::Func(_) => ConcreteKind::Func,
        wasmparser::CompositeInnerType::Struct(_) => ConcreteKind::Struct,
        wasmparser::CompositeInnerType::Array(_) => ConcreteKind::Array,
        // Refused when the definition is read (`sub_type`).
        wasmparser::CompositeInnerType::Cont(_) => ConcreteKind::Func,
    }
}

/// A type definition, its concrete references having the kinds `kind_of` gives.
fn sub_type(
    sub: &wasmparser::SubType,
    kind_of: &impl Fn(u32) -> Option<ConcreteKind>,
    off: u64,
) -> Result<SubType, CompileError> {
    let ty = &sub.composite_type;
    if ty.shared || ty.descriptor_idx.is_some() || ty.describes_idx.is_some() {
        return Err(unsupported(
            "shared types and custom descriptors are not supported",
            off,
        ));
    }
    let val = |t: wasmparser::ValType| {
        ValType::from_wasmparser_in(t, kind_of)
            .ok_or_else(|| unsupported(format!("value type {t} is not supported"), off))
    };
    let field = |f: &wasmparser::FieldType| -> Result<FieldType, CompileError> {
        Ok(FieldType {
            storage: match f.element_type {
                wasmparser::StorageType::I8 => StorageType::I8,
                wasmparser::StorageType::I16 => StorageType::I16,
                wasmparser::StorageType::Val(t) => StorageType::Val(val(t)?),
            },
            mutable: f.mutable,
        })
    };
    let composite = match &ty.inner {
        wasmparser::CompositeInnerType::Func(f) => CompositeType::Func(Arc::new(FuncType::new(
            f.params()
                .iter()
                .map(|&t| val(t))
                .collect::<Result<Vec<_>, _>>()?,
            f.results()
                .iter()
                .map(|&t| val(t))
                .collect::<Result<Vec<_>, _>>()?,
        ))),
        wasmparser::CompositeInnerType::Struct(s) => CompositeType::Struct(Arc::new(StructType {
            fields: s.fields.iter().map(field).collect::<Result<_, _>>()?,
        })),
        wasmparser::CompositeInnerType::Array(a) => CompositeType::Array(ArrayType {
            element: field(&a.0)?,
        }),
        wasmparser::CompositeInnerType::Cont(_) => {
            return Err(unsupported("stack switching is not supported", off));
        }
    };
    let supertype = match sub.supertype_idxs[..] {
        [] => None,
        [i, ..] => Some(
            i.as_module_index()
                .ok_or_else(|| unsupported("a supertype outside the module", off))?,
        ),
    };
    Ok(SubType {
        is_final: sub.is_final,
        supertype,
        composite,
    })
}

fn elem_segment(
    elem: wasmparser::Element<'_>,
    types: &[SubType],
) -> Result<ElemSegment, CompileError> {
    let off = elem.range.start;
    let mode = match elem.kind {
        ElementKind::Passive => ElemMode::Passive,
        ElementKind::Declared => ElemMode::Declarative,
        ElementKind::Active {
            table_index,
            offset_expr,
        } => ElemMode::Active {
            table: table_index.unwrap_or(0),
            offset: ConstExpr::from_wasmparser(&offset_expr, types)?,
        },
    };
    let (ty, items) = match elem.items {
        ElementItems::Functions(funcs) => {
            let items = funcs
                .into_iter()
                .map(|f| f.map(|f| ConstExpr(vec![ConstOp::RefFunc(f)])))
                .collect::<Result<Vec<_>, _>>()
                .map_err(malformed)?;
            (RefType::FUNCREF, items)
        }
        ElementItems::Expressions(ty, exprs) => {
            let mut items = Vec::new();
            for e in exprs {
                items.push(ConstExpr::from_wasmparser(&e.map_err(malformed)?, types)?);
            }
            (ref_type(ty, off, types)?, items)
        }
    };
    Ok(ElemSegment { mode, ty, items })
}

/// The features among `candidates` that module `bytes`, valid with `enabled`, needs: a
/// smallest set of them (no member can be left out) without which it no longer validates.
/// Empty when it validates with `enabled` minus all the candidates (the common case, one
/// validation).
pub(crate) fn features_needed(
    bytes: &[u8],
    enabled: WasmFeatures,
    candidates: WasmFeatures,
) -> Vec<String> {
    let validates = |features: WasmFeatures| {
        Validator::new_with_features(features)
            .validate_all(bytes)
            .is_ok()
    };
    if candidates.is_empty() || validates(enabled - candidates) {
        return Vec::new();
    }
    // Leave out every candidate the module still validates without, one at a time: what
    // remains is needed. Later proposals go first, so that where a feature implies another
    // (gc implies function_references) the smaller one is what is named.
    let mut needed = candidates;
    let flags: Vec<WasmFeatures> = candidates.iter_names().map(|(_, flag)| flag).collect();
    for &flag in flags.iter().rev() {
        let without = needed - flag;
        if validates(enabled - (candidates - without)) {
            needed = without;
        }
    }
    needed
        .iter_names()
        .map(|(name, _)| name.to_lowercase())
        .collect()
}

/// The name of `op`'s visit method if it is an operator of the GC proposal.
macro_rules! define_gc_operator_name {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        pub(crate) fn gc_operator_name(op: &wasmparser::Operator<'_>) -> Option<&'static str> {
            #[allow(unreachable_patterns)]
            match op {
                $( wasmparser::Operator::$op { .. } => define_gc_operator_name!(@name $proposal $visit), )*
                _ => None,
            }
        }
    };
    (@name gc $visit:ident) => { Some(stringify!($visit)) };
    (@name $proposal:ident $visit:ident) => { None };
}
wasmparser::for_each_visit_operator!(define_gc_operator_name);

/// Whether a validated body makes or reads GC objects (a `struct.*` or `array.*`
/// operator): the engines that cannot run those refuse the module. Every other GC
/// operator and type runs in both engines.
fn uses_objects(body: &wasmparser::FunctionBody<'_>) -> Result<bool, CompileError> {
    let mut reader = body.get_operators_reader().map_err(malformed)?;
    while !reader.eof() {
        let op = reader.read().map_err(malformed)?;
        if gc_operator_name(&op).is_some() && !gc_operator_without_objects(&op) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `op` is one of the GC operators the engines implement: those on `i31`s, casts
/// and conversions, which need no heap object (RATIONALE.md, "Step 2b").
pub(crate) fn gc_operator_without_objects(op: &wasmparser::Operator<'_>) -> bool {
    use wasmparser::Operator as O;
    matches!(
        op,
        O::RefEq
            | O::RefI31
            | O::I31GetS
            | O::I31GetU
            | O::AnyConvertExtern
            | O::ExternConvertAny
            | O::RefTestNonNull { .. }
            | O::RefTestNullable { .. }
            | O::RefCastNonNull { .. }
            | O::RefCastNullable { .. }
            | O::BrOnCast { .. }
            | O::BrOnCastFail { .. }
    )
}
