//! The front end: a decoded, validated module, shared by both engines.
//!
//! Spec: <https://webassembly.github.io/spec/core/syntax/modules.html>. Decoding and
//! validation are wasmparser's; this folder only keeps what instantiation and the
//! engines need, in index spaces that count imports first, as the spec does.

mod const_expr;
pub(crate) mod fuel;
mod parse;
mod proposals;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

pub(crate) use const_expr::ConstEnv;
pub use const_expr::{ConstExpr, ConstOp};
pub(crate) use parse::{
    BodyCompiler, features_needed, gc_operator_without_objects, parse, parse_compiling,
};
pub(crate) use proposals::{proposal_name, unsupported_operator};

use crate::error::FrameNames;
use crate::values::{FuncType, RefType, SubType, ValType};

/// Limits of a memory, in 64 KiB pages, and its address type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryType {
    pub min: u64,
    pub max: Option<u64>,
    /// Addressed by i64 (memory64) rather than i32: its addresses, sizes and
    /// `memory.grow` operands and results are i64.
    pub memory64: bool,
}

impl MemoryType {
    /// A memory addressed by i32, as in Wasm 1.0 and 2.0.
    pub fn new(min: u64, max: Option<u64>) -> MemoryType {
        MemoryType {
            min,
            max,
            memory64: false,
        }
    }
}

/// A table's element type and limits, in elements, and its index type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableType {
    pub element: RefType,
    pub min: u64,
    pub max: Option<u64>,
    /// Indexed by i64 (table64) rather than i32: its indices, sizes and `table.grow`
    /// operands and results are i64.
    pub table64: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalType {
    pub content: ValType,
    pub mutable: bool,
}

/// What an import or export refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternKind {
    Func,
    Table,
    Memory,
    Global,
    /// An exception tag (Wasm 3.0 exception handling).
    Tag,
}

impl ExternKind {
    pub fn name(self) -> &'static str {
        match self {
            ExternKind::Func => "func",
            ExternKind::Table => "table",
            ExternKind::Memory => "memory",
            ExternKind::Global => "global",
            ExternKind::Tag => "tag",
        }
    }
}

/// The declared type of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportType {
    /// A type index into [`ModuleInfo::types`].
    Func(u32),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    /// A tag, by its type index into [`ModuleInfo::types`] (the parameters are the
    /// exception's payload; the results are empty).
    Tag(u32),
}

impl ImportType {
    pub fn kind(&self) -> ExternKind {
        match self {
            ImportType::Func(_) => ExternKind::Func,
            ImportType::Table(_) => ExternKind::Table,
            ImportType::Memory(_) => ExternKind::Memory,
            ImportType::Global(_) => ExternKind::Global,
            ImportType::Tag(_) => ExternKind::Tag,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub ty: ImportType,
}

#[derive(Debug, Clone)]
pub struct Export {
    pub name: String,
    pub kind: ExternKind,
    /// Index in the kind's index space (imports first).
    pub index: u32,
}

/// How an element segment is used. Spec:
/// <https://webassembly.github.io/spec/core/syntax/modules.html#element-segments>.
#[derive(Debug, Clone)]
pub enum ElemMode {
    Passive,
    Active { table: u32, offset: ConstExpr },
    Declarative,
}

#[derive(Debug, Clone)]
pub struct ElemSegment {
    pub mode: ElemMode,
    pub ty: RefType,
    /// One constant expression per element (function indices become `ref.func`).
    pub items: Vec<ConstExpr>,
}

#[derive(Debug, Clone)]
pub enum DataMode {
    Passive,
    Active { memory: u32, offset: ConstExpr },
}

#[derive(Debug, Clone)]
pub struct DataSegment {
    pub mode: DataMode,
    /// Where the segment's bytes sit in [`ModuleInfo::bytes`].
    pub range: Range<usize>,
}

/// Where a defined function's body sits in [`ModuleInfo::bytes`].
#[derive(Debug, Clone)]
pub struct FuncBody {
    pub range: Range<usize>,
}

/// A decoded and validated module: everything but the compiled code.
#[derive(Debug)]
pub struct ModuleInfo {
    /// The original binary (text input is converted first); bodies and data point into it.
    pub bytes: Arc<[u8]>,
    /// The type section's definitions, by type index.
    pub types: Vec<SubType>,
    /// The recursion groups of the type section, as ranges of type indices, in order
    /// (a plain `type` is a group of one). A type's identity across modules is its
    /// group's, with references outside the group resolved to their own identities, and
    /// its place in it (`store::TypeRegistry`).
    pub rec_groups: Vec<Range<u32>>,
    pub imports: Vec<Import>,
    /// The type index of every function, imported ones first.
    pub funcs: Vec<u32>,
    pub tables: Vec<TableType>,
    pub memories: Vec<MemoryType>,
    pub globals: Vec<GlobalType>,
    /// The type index of every tag, imported ones first.
    pub tags: Vec<u32>,
    pub num_imported_funcs: u32,
    pub num_imported_tables: u32,
    pub num_imported_memories: u32,
    pub num_imported_globals: u32,
    pub num_imported_tags: u32,
    /// Initialisers of the defined globals (index - num_imported_globals).
    pub global_inits: Vec<ConstExpr>,
    /// Initial value of each defined table's elements, when given (null otherwise).
    pub table_inits: Vec<Option<ConstExpr>>,
    pub exports: Vec<Export>,
    pub start: Option<u32>,
    pub elements: Vec<ElemSegment>,
    pub data: Vec<DataSegment>,
    /// Bodies of the defined functions (index - num_imported_funcs).
    pub bodies: Vec<FuncBody>,
    /// The module's name from the name section, if any.
    pub name: Option<String>,
    /// Function names from the name section.
    pub func_names: HashMap<u32, String>,
    /// Whether a body or constant expression makes or reads GC objects (`struct.*`,
    /// `array.*`): an engine that cannot run them refuses the module.
    pub uses_objects: bool,
}

impl ModuleInfo {
    /// The signature of function type `type_index`. Validation makes every type index
    /// that names a signature (a function's, a tag's, `call_indirect`'s, a block's) a
    /// function type's.
    pub fn signature(&self, type_index: u32) -> &Arc<FuncType> {
        (self.types[type_index as usize].as_func())
            .expect("validation: the type index of a signature names a function type")
    }

    pub fn func_type(&self, func_index: u32) -> &Arc<FuncType> {
        self.signature(self.funcs[func_index as usize])
    }

    /// The type of tag `tag_index` (its parameters are the payload).
    pub fn tag_type(&self, tag_index: u32) -> &Arc<FuncType> {
        self.signature(self.tags[tag_index as usize])
    }

    pub fn body_bytes(&self, defined_index: usize) -> &[u8] {
        &self.bytes[self.bodies[defined_index].range.clone()]
    }

    /// A wasmparser view of one defined function's body, for the engines' translators.
    pub fn body_reader(&self, defined_index: usize) -> wasmparser::FunctionBody<'_> {
        let range = self.bodies[defined_index].range.clone();
        let start = range.start;
        wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
            &self.bytes[range],
            start as u64,
        ))
    }

    /// This module's names for backtrace frames (`error::FrameInfo`).
    pub(crate) fn frame_names(self: &Arc<ModuleInfo>) -> Arc<dyn FrameNames> {
        self.clone()
    }

    /// `function[3]`, or `function[3](name)` when the name section names it.
    pub fn func_desc(&self, func_index: u32) -> String {
        match self.func_names.get(&func_index) {
            Some(n) => format!("function[{func_index}]({n})"),
            None => format!("function[{func_index}]"),
        }
    }
}

/// Backtrace frames are named from the name section (imported functions included: the
/// map is in the function index space).
impl FrameNames for ModuleInfo {
    fn module_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    fn func_name(&self, func_index: u32) -> Option<&str> {
        self.func_names.get(&func_index).map(String::as_str)
    }
}
