//! Generation aimed at the blind spots: a pass over a generated module that adds exported
//! functions wasm-smith seldom writes, on the module's own memories, tables and segments
//! (`fuzz/blind_ops.rs` writes their bodies):
//!
//! - overlapping `memory.copy` / `table.copy`, forward (src < dst) and backward, on a
//!   region first filled with distinct bytes or functions, then one copy or fill at the
//!   end of the memory or table (exactly fitting, one past, length 0 at and past the end);
//! - `memory.grow` / `table.grow` to exactly the maximum, one past it, by amounts past
//!   every limit (u32/u64 maxima for memory64/table64), by 0, then an access at the new end;
//! - `memory.init` / `data.drop` and `table.init` / `elem.drop` sequences: an init that
//!   fits the segment exactly (or one past it), the drop, length 0 after the drop (allowed),
//!   a second drop, then an init after the drop (a trap);
//! - deep and mutual recursion whose depth is either at most 511 frames, safely within
//!   every engine's limit (so both must return the same result), or unbounded, so every
//!   engine must report `call stack exhausted` and carry on with the next call (never the
//!   gray zone between the engines' limits, RATIONALE.md); with tail calls, mutual
//!   `return_call` recursion 20,500+ deep, which must return;
//! - the interpreter translator's patterns that two surviving mutants showed wasm-smith
//!   never writes (harness/mutants/results-d22db5b/survivors.md): a loop whose counter is
//!   incremented right before an exit test on another local, and multi-value returns of
//!   parameters picked in any order (`(p2, p0)`), whose copies into the return slots may
//!   overwrite a parameter a later result reads.
//!
//! The added functions are exported under names starting with [`PREFIX`]; the oracle
//! compares exhaustion in them strictly (`fuzz/compare.rs`). Each function sets the exported
//! global [`PENDING`] to the kind of its edge operation before it and back to 0 after,
//! and counts what it executed in exported counter globals ([`COUNTERS`]), so the
//! statistics see what ran and what trapped from the observations alone.
//!
//! The pass also renames an import that repeats the module and name of an earlier import
//! of a different type (wasm-smith's names are random): a host provides one item per
//! name, so such a module could never link. Every module goes through that; the added
//! functions go into a share of them. Deterministic: the choices come from a PRNG seeded by
//! the module's bytes.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{ExportKind, Instruction, ValType};
use wasmparser::{DataKind, ElementKind, ExternalKind, Parser, Payload, TypeRef};

use crate::fuzz::blind_ops::{self, Func};
use crate::fuzz::input::{SplitMix64, fnv1a};

/// Names of the functions this pass adds start with this.
pub const PREFIX: &str = "__bs:";
/// The exported i32 global naming the edge operation in progress ([`Pending`] as i32).
pub const PENDING: &str = "__bs#pending";
/// One module in this many gets blind-spot functions.
const MODULE_RATE: u64 = 2;

/// What an added function is doing when it traps (the value of [`PENDING`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Pending {
    None = 0,
    /// A `memory.copy`/`memory.fill` at the end of the memory.
    MemoryEdge = 1,
    TableEdge = 2,
    /// An init that fits its segment exactly, or one past it, before any drop.
    MemoryInitEdge = 3,
    TableInitEdge = 4,
    /// An init of length 1, or of length 0 at offset 1, after the segment was dropped.
    MemoryInitAfterDrop = 5,
    TableInitAfterDrop = 6,
    /// An access at the end of a memory or table just grown.
    AccessAfterGrow = 7,
}

impl Pending {
    pub fn name(code: u32) -> Option<&'static str> {
        Some(match code {
            1 => "memory copy/fill at the end",
            2 => "table copy/fill at the end",
            3 => "memory.init at the segment's end",
            4 => "table.init at the segment's end",
            5 => "memory.init after data.drop",
            6 => "table.init after elem.drop",
            7 => "access at the end after grow",
            _ => return None,
        })
    }
}

/// The counters, each an exported mutable i32 global named `__bs#NAME`, in global order
/// after [`PENDING`].
pub const COUNTERS: [&str; 12] = [
    "memory_copy_forward",
    "memory_copy_backward",
    "table_copy_forward",
    "table_copy_backward",
    "memory_grow_to_max",
    "memory_grow_failed",
    "table_grow_to_max",
    "table_grow_failed",
    "init_fitting",
    "drops",
    "init_len0_after_drop",
    "end_edge_ok",
];

/// A counter's position in [`COUNTERS`].
#[derive(Debug, Clone, Copy)]
pub enum Counter {
    MemoryCopyForward,
    MemoryCopyBackward,
    TableCopyForward,
    TableCopyBackward,
    MemoryGrowToMax,
    MemoryGrowFailed,
    TableGrowToMax,
    TableGrowFailed,
    InitFitting,
    Drops,
    InitLen0AfterDrop,
    EndEdgeOk,
}

/// Appends a mutable i32 global starting at 0 (what a rewriting pass adds to keep state
/// the observations can see).
pub(crate) fn push_zeroed_i32_global(globals: &mut wasm_encoder::GlobalSection) {
    let ty = wasm_encoder::GlobalType {
        val_type: ValType::I32,
        mutable: true,
        shared: false,
    };
    globals.global(ty, &wasm_encoder::ConstExpr::i32_const(0));
}

/// Whether `export` is one of the functions this pass adds.
pub fn is_added(export: &str) -> bool {
    export.starts_with(PREFIX)
}

#[derive(Debug, Clone)]
pub(crate) struct Memory {
    pub memory64: bool,
    pub max: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub table64: bool,
    pub element: wasmparser::RefType,
    pub max: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Segment {
    /// Bytes (data) or elements (elem).
    pub len: u32,
    /// Still there after instantiation (active and declared segments are dropped then).
    pub passive: bool,
    /// Element segments: their element type.
    pub element: Option<wasmparser::RefType>,
}

/// What the pass needs to know of a module before copying it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scan {
    pub num_types: u32,
    pub num_funcs: u32,
    pub num_globals: u32,
    pub memories: Vec<Memory>,
    pub tables: Vec<Table>,
    pub data: Vec<Segment>,
    pub elems: Vec<Segment>,
    pub has_data_count: bool,
    pub export_names: HashSet<String>,
    /// Exported functions (so declared: `ref.func` may name them).
    pub exported_funcs: Vec<u32>,
    /// Type, function, global, export and code sections present: the pass appends to
    /// them and does not create them.
    pub sections: HashSet<u8>,
    /// Two imports share a module and name but not their type.
    pub import_clash: bool,
}

fn scan(wasm: &[u8]) -> Option<Scan> {
    let mut s = Scan::default();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.ok()?;
        if let Some((id, _)) = payload.as_section() {
            s.sections.insert(id);
        }
        match payload {
            Payload::TypeSection(r) => {
                for group in r {
                    s.num_types += group.ok()?.types().len() as u32;
                }
            }
            Payload::ImportSection(r) => {
                let mut seen = HashMap::new();
                for imp in r.into_imports() {
                    let imp = imp.ok()?;
                    let first = *seen.entry((imp.module, imp.name)).or_insert(imp.ty);
                    s.import_clash |= first != imp.ty;
                    match imp.ty {
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => s.num_funcs += 1,
                        TypeRef::Global(_) => s.num_globals += 1,
                        TypeRef::Memory(m) => s.memories.push(Memory {
                            memory64: m.memory64,
                            max: m.maximum,
                        }),
                        TypeRef::Table(t) => s.tables.push(Table {
                            table64: t.table64,
                            element: t.element_type,
                            max: t.maximum,
                        }),
                        TypeRef::Tag(_) => {}
                    }
                }
            }
            Payload::FunctionSection(r) => s.num_funcs += r.count(),
            Payload::GlobalSection(r) => s.num_globals += r.count(),
            Payload::MemorySection(r) => {
                for m in r {
                    let m = m.ok()?;
                    s.memories.push(Memory {
                        memory64: m.memory64,
                        max: m.maximum,
                    });
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t.ok()?.ty;
                    s.tables.push(Table {
                        table64: t.table64,
                        element: t.element_type,
                        max: t.maximum,
                    });
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    let d = d.ok()?;
                    s.data.push(Segment {
                        len: d.data.len() as u32,
                        passive: matches!(d.kind, DataKind::Passive),
                        element: None,
                    });
                }
            }
            Payload::DataCountSection { .. } => s.has_data_count = true,
            Payload::ElementSection(r) => {
                for e in r {
                    let e = e.ok()?;
                    let (len, element) = match e.items {
                        wasmparser::ElementItems::Functions(f) => {
                            (f.count(), wasmparser::RefType::FUNCREF)
                        }
                        wasmparser::ElementItems::Expressions(t, x) => (x.count(), t),
                    };
                    s.elems.push(Segment {
                        len,
                        passive: matches!(e.kind, ElementKind::Passive),
                        element: Some(element),
                    });
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.ok()?;
                    s.export_names.insert(e.name.to_string());
                    if e.kind == ExternalKind::Func {
                        s.exported_funcs.push(e.index);
                    }
                }
            }
            _ => {}
        }
    }
    Some(s)
}

/// What the pass adds to one module.
struct Additions {
    /// New function types, indexed from `Scan::num_types`.
    types: Vec<blind_ops::FuncSig>,
    /// New functions, indexed from `Scan::num_funcs`.
    funcs: Vec<Func>,
    /// Whether the pending and counter globals are added.
    globals: bool,
}

struct Pass<'a> {
    scan: &'a Scan,
    add: Option<&'a Additions>,
    /// `(module, name)` of the imports seen, with their types.
    imports: HashMap<(String, String), TypeRef>,
    renamed: u32,
}

impl Reencode for Pass<'_> {
    type Error = Infallible;

    fn parse_import_section(
        &mut self,
        imports: &mut wasm_encoder::ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        for imp in section.into_imports() {
            let imp = imp?;
            let mut name = imp.name.to_string();
            let key = (imp.module.to_string(), name.clone());
            if let Some(first) = self.imports.get(&key)
                && *first != imp.ty
            {
                let mut n = 0;
                while self
                    .imports
                    .contains_key(&(key.0.clone(), format!("{}~{n}", imp.name)))
                {
                    n += 1;
                }
                name = format!("{}~{n}", imp.name);
                self.renamed += 1;
            }
            self.imports
                .entry((key.0.clone(), name.clone()))
                .or_insert(imp.ty);
            imports.import(imp.module, &name, self.entity_type(imp.ty)?);
        }
        Ok(())
    }

    fn parse_type_section(
        &mut self,
        types: &mut wasm_encoder::TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        reencode::utils::parse_type_section(self, types, section)?;
        if let Some(add) = self.add {
            for (params, results) in &add.types {
                types
                    .ty()
                    .function(params.iter().copied(), results.iter().copied());
            }
        }
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut wasm_encoder::FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        reencode::utils::parse_function_section(self, functions, section)?;
        if let Some(add) = self.add {
            for f in &add.funcs {
                functions.function(self.scan.num_types + f.ty);
            }
        }
        Ok(())
    }

    fn parse_global_section(
        &mut self,
        globals: &mut wasm_encoder::GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        reencode::utils::parse_global_section(self, globals, section)?;
        if self.add.is_some_and(|a| a.globals) {
            for _ in 0..=COUNTERS.len() {
                push_zeroed_i32_global(globals);
            }
        }
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        reencode::utils::parse_export_section(self, exports, section)?;
        if let Some(add) = self.add {
            for (i, f) in add.funcs.iter().enumerate() {
                if let Some(name) = &f.export {
                    exports.export(name, ExportKind::Func, self.scan.num_funcs + i as u32);
                }
            }
            if add.globals {
                let g = self.scan.num_globals;
                exports.export(PENDING, ExportKind::Global, g);
                for (i, name) in COUNTERS.iter().enumerate() {
                    exports.export(
                        &format!("__bs#{name}"),
                        ExportKind::Global,
                        g + 1 + i as u32,
                    );
                }
            }
        }
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        // Bodies are copied as they are: the instructions need no rewriting.
        for body in section {
            let body = body?;
            code.raw(body.as_bytes());
        }
        if let Some(add) = self.add {
            for f in &add.funcs {
                let mut func = wasm_encoder::Function::new_with_locals_types(f.locals.clone());
                for i in &f.body {
                    func.instruction(i);
                }
                func.instruction(&Instruction::End);
                code.function(&func);
            }
        }
        Ok(())
    }
}

/// Module `wasm` with clashing import names made unique and, in a share of modules,
/// blind-spot functions added (module docs). `tail_calls`: whether the module's generator
/// config enabled tail calls (only then is tail recursion added). Returns `wasm`
/// unchanged when it has a shape the pass does not handle.
pub fn add(wasm: Vec<u8>, tail_calls: bool) -> Vec<u8> {
    let Some(scan) = scan(&wasm) else {
        return wasm;
    };
    let mut rng = SplitMix64::new(fnv1a(&wasm) ^ 0xb115_d5b0_7500_0000);
    let wanted = [1u8, 3, 6, 7, 10]; // type, function, global, export, code
    let additions = if rng.next_u64().is_multiple_of(MODULE_RATE)
        && wanted.iter().all(|id| scan.sections.contains(id))
        && !scan.export_names.iter().any(|n| n.starts_with("__bs"))
    {
        blind_ops::plan(&scan, &mut rng, tail_calls)
    } else {
        None
    }
    .map(|(types, funcs)| {
        let globals = funcs.iter().any(|f| f.uses_globals);
        Additions {
            types,
            funcs,
            globals,
        }
    });
    // Re-encoding costs about as much as scanning: only when something changes.
    if additions.is_none() && !scan.import_clash {
        return wasm;
    }
    let run = |add: Option<&Additions>| {
        let mut pass = Pass {
            scan: &scan,
            add,
            imports: HashMap::new(),
            renamed: 0,
        };
        let mut module = wasm_encoder::Module::new();
        pass.parse_core_module(&mut module, Parser::new(0), &wasm)
            .ok()?;
        Some((module.finish(), pass.renamed))
    };
    match run(additions.as_ref()) {
        Some((out, renamed)) if renamed > 0 || additions.is_some() => out,
        _ => wasm,
    }
}

/// The global index of counter `c` or of the pending global, given the first new global.
pub(crate) fn counter_global(first_new_global: u32, c: Counter) -> u32 {
    first_new_global + 1 + c as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::generate::{FEATURES, generated};
    use crate::fuzz::input::seed_bytes;

    /// Every module the generator makes (blind-spot functions and renamed imports
    /// included) validates with the engines' features, the pass adds functions to some,
    /// and no two imports share a module and name unless they have one type.
    #[test]
    fn generated_modules_validate_and_imports_are_unique_by_type() {
        let mut with_added = 0;
        for seed in 0..300 {
            let Ok(g) = generated(&mut arbitrary::Unstructured::new(&seed_bytes(seed))) else {
                continue;
            };
            if let Err(e) = wasmparser::Validator::new_with_features(FEATURES).validate_all(&g.wasm)
            {
                panic!("seed {seed}: invalid module: {e}");
            }
            let s = scan(&g.wasm).expect("scans");
            with_added += s.export_names.iter().any(|n| is_added(n)) as u32;
            let mut seen: HashMap<(String, String), TypeRef> = HashMap::new();
            for p in Parser::new(0).parse_all(&g.wasm) {
                if let Ok(Payload::ImportSection(r)) = p {
                    for imp in r.into_imports() {
                        let imp = imp.expect("import");
                        let key = (imp.module.to_string(), imp.name.to_string());
                        let first = *seen.entry(key).or_insert(imp.ty);
                        assert_eq!(first, imp.ty, "seed {seed}: clashing import {}", imp.name);
                    }
                }
            }
        }
        assert!(
            with_added > 30,
            "only {with_added} modules got blind-spot functions"
        );
    }
}
