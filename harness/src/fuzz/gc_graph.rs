//! Object graphs from a module's own types: a pass over a generated module with struct or
//! array types that adds an exported function [`BUILD`] allocating one object of each of
//! up to [`MAX_OBJECTS`] of those types, linking them through their reference fields and
//! elements (sharing and cycles, as the types allow), writing constants into their
//! numeric fields, and returning them all.
//!
//! wasm-smith allocates in a share of its modules only (a `struct.new` needs every field
//! on the stack; a body that reaches one has often trapped before), and its objects reach
//! an observable place (a result, an exported global or table) in fewer still. The
//! added function makes every module with a defaultable struct or array type allocate,
//! and its results are graphs of the module's types that the oracle compares
//! structurally (`objects.rs`), through both engines' `struct.new_default`,
//! `array.new_default`, `struct.set` and `array.set` on the module's layouts (packed
//! fields, every value type). Deterministic: the choices come from a PRNG seeded by the
//! module's bytes.

use std::convert::Infallible;

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{ExportKind, HeapType, Instruction, RefType, ValType};
use wasmparser::{CompositeInnerType, Parser, Payload, StorageType, SubType};

use crate::fuzz::input::{SplitMix64, fnv1a};

/// The export name of the added function.
pub const BUILD: &str = "__gc:build";
/// Objects the function makes, at most.
const MAX_OBJECTS: usize = 4;
/// Links (reference fields or elements set) and constants written, at most.
const MAX_WRITES: usize = 8;

/// A type the function can allocate, and its index.
#[derive(Clone)]
struct Allocatable {
    index: u32,
    ty: SubType,
}

struct Scan {
    types: Vec<SubType>,
    num_funcs: u32,
    export_names: Vec<String>,
    sections: Vec<u8>,
}

fn scan(wasm: &[u8]) -> Option<Scan> {
    let mut s = Scan {
        types: Vec::new(),
        num_funcs: 0,
        export_names: Vec::new(),
        sections: Vec::new(),
    };
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.ok()?;
        if let Some((id, _)) = payload.as_section() {
            s.sections.push(id);
        }
        match payload {
            Payload::TypeSection(r) => {
                for group in r {
                    s.types.extend(group.ok()?.into_types());
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    if let wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_) =
                        imp.ok()?.ty
                    {
                        s.num_funcs += 1;
                    }
                }
            }
            Payload::FunctionSection(r) => s.num_funcs += r.count(),
            Payload::ExportSection(r) => {
                for e in r {
                    s.export_names.push(e.ok()?.name.to_string());
                }
            }
            _ => {}
        }
    }
    Some(s)
}

fn defaultable(t: StorageType) -> bool {
    match t {
        StorageType::I8 | StorageType::I16 => true,
        StorageType::Val(wasmparser::ValType::Ref(r)) => r.is_nullable(),
        StorageType::Val(_) => true,
    }
}

/// Whether a field of storage type `t` can hold object `j` of type `obj`.
fn holds(t: StorageType, obj: &Allocatable) -> bool {
    use wasmparser::{AbstractHeapType as A, HeapType as H};
    let StorageType::Val(wasmparser::ValType::Ref(r)) = t else {
        return false;
    };
    let is_array = matches!(obj.ty.composite_type.inner, CompositeInnerType::Array(_));
    match r.heap_type() {
        H::Abstract { shared: false, ty } => match ty {
            A::Any | A::Eq => true,
            A::Struct => !is_array,
            A::Array => is_array,
            _ => false,
        },
        H::Concrete(i) => i.as_module_index() == Some(obj.index),
        _ => false,
    }
}

/// A constant of storage type `t` from `r`, if it is numeric.
fn constant(t: StorageType, r: u64) -> Option<Instruction<'static>> {
    use wasmparser::ValType as W;
    Some(match t {
        StorageType::I8 | StorageType::I16 | StorageType::Val(W::I32) => {
            Instruction::I32Const(r as i32)
        }
        StorageType::Val(W::I64) => Instruction::I64Const(r as i64),
        StorageType::Val(W::F32) => Instruction::F32Const((r as u32 as f32 / 7.0).into()),
        StorageType::Val(W::F64) => Instruction::F64Const((r as i64 as f64 / 3.0).into()),
        StorageType::Val(W::V128) => Instruction::V128Const(((r as i128) << 64) | r as i128),
        StorageType::Val(W::Ref(_)) => return None,
    })
}

/// The added function's body and locals, or `None` when no type of the module can be
/// allocated by default.
fn build(scan: &Scan, rng: &mut SplitMix64) -> Option<(Vec<ValType>, Vec<Instruction<'static>>)> {
    let candidates: Vec<Allocatable> = (scan.types.iter().enumerate())
        .filter(|(_, t)| {
            let c = &t.composite_type;
            !c.shared && c.descriptor_idx.is_none() && c.describes_idx.is_none()
        })
        .filter(|(_, t)| match &t.composite_type.inner {
            CompositeInnerType::Struct(s) => s.fields.iter().all(|f| defaultable(f.element_type)),
            CompositeInnerType::Array(a) => defaultable(a.0.element_type),
            _ => false,
        })
        .map(|(i, t)| Allocatable {
            index: i as u32,
            ty: t.clone(),
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let n = 1 + (rng.next_u64() as usize % MAX_OBJECTS);
    let objects: Vec<Allocatable> = (0..n)
        .map(|_| candidates[rng.next_u64() as usize % candidates.len()].clone())
        .collect();
    let locals: Vec<ValType> = (objects.iter())
        .map(|o| {
            ValType::Ref(RefType {
                nullable: true,
                heap_type: HeapType::Concrete(o.index),
            })
        })
        .collect();
    let mut body = Vec::new();
    // Arrays of 1 to 4 elements, so that a link or constant lands on a random one.
    let mut lengths = Vec::new();
    for (k, o) in objects.iter().enumerate() {
        match o.ty.composite_type.inner {
            CompositeInnerType::Array(_) => {
                let len = 1 + (rng.next_u64() % 4) as i32;
                lengths.push(len);
                body.push(Instruction::I32Const(len));
                body.push(Instruction::ArrayNewDefault(o.index));
            }
            _ => {
                lengths.push(0);
                body.push(Instruction::StructNewDefault(o.index));
            }
        }
        body.push(Instruction::LocalSet(k as u32));
    }
    for _ in 0..MAX_WRITES {
        let k = rng.next_u64() as usize % n;
        let o = &objects[k];
        // The field (or element) written, its storage type, whether it is mutable.
        let (field, storage, mutable) = match &o.ty.composite_type.inner {
            CompositeInnerType::Struct(s) if !s.fields.is_empty() => {
                let f = rng.next_u64() as usize % s.fields.len();
                (f as u32, s.fields[f].element_type, s.fields[f].mutable)
            }
            CompositeInnerType::Array(a) => (
                (rng.next_u64() % lengths[k] as u64) as u32,
                a.0.element_type,
                a.0.mutable,
            ),
            _ => continue,
        };
        if !mutable {
            continue;
        }
        let target = rng.next_u64() as usize % n;
        let value = if holds(storage, &objects[target]) {
            Instruction::LocalGet(target as u32)
        } else if let Some(c) = constant(storage, rng.next_u64()) {
            c
        } else {
            continue;
        };
        body.push(Instruction::LocalGet(k as u32));
        match o.ty.composite_type.inner {
            CompositeInnerType::Array(_) => {
                body.push(Instruction::I32Const(field as i32));
                body.push(value);
                body.push(Instruction::ArraySet(o.index));
            }
            _ => {
                body.push(value);
                body.push(Instruction::StructSet {
                    struct_type_index: o.index,
                    field_index: field,
                });
            }
        }
    }
    for k in 0..n {
        body.push(Instruction::LocalGet(k as u32));
    }
    Some((locals, body))
}

struct Pass<'a> {
    num_types: u32,
    num_funcs: u32,
    locals: &'a [ValType],
    body: &'a [Instruction<'static>],
}

impl Reencode for Pass<'_> {
    type Error = Infallible;

    fn parse_type_section(
        &mut self,
        types: &mut wasm_encoder::TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        reencode::utils::parse_type_section(self, types, section)?;
        let results = vec![ValType::Ref(RefType::ANYREF); self.locals.len()];
        types.ty().function([], results);
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut wasm_encoder::FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        reencode::utils::parse_function_section(self, functions, section)?;
        functions.function(self.num_types);
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        reencode::utils::parse_export_section(self, exports, section)?;
        exports.export(BUILD, ExportKind::Func, self.num_funcs);
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        for body in section {
            code.raw(body?.as_bytes());
        }
        let mut func = wasm_encoder::Function::new_with_locals_types(self.locals.iter().copied());
        for i in self.body {
            func.instruction(i);
        }
        func.instruction(&Instruction::End);
        code.function(&func);
        Ok(())
    }
}

/// Module `wasm` with the graph-building function added (module docs); `wasm` as it is
/// when it has no type to allocate or a shape the pass does not handle.
pub fn add(wasm: Vec<u8>) -> Vec<u8> {
    let Some(scan) = scan(&wasm) else {
        return wasm;
    };
    // Type, function, export and code sections: the ones the function goes into.
    let wanted = [1u8, 3, 7, 10];
    if !wanted.iter().all(|id| scan.sections.contains(id))
        || scan.export_names.iter().any(|n| n == BUILD)
    {
        return wasm;
    }
    let mut rng = SplitMix64::new(fnv1a(&wasm) ^ 0x6c67_7261_7068_0000);
    let Some((locals, body)) = build(&scan, &mut rng) else {
        return wasm;
    };
    let mut pass = Pass {
        num_types: scan.types.len() as u32,
        num_funcs: scan.num_funcs,
        locals: &locals,
        body: &body,
    };
    let mut module = wasm_encoder::Module::new();
    match pass.parse_core_module(&mut module, Parser::new(0), &wasm) {
        Ok(()) => module.finish(),
        Err(_) => wasm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every generated module stays valid; a share gets the function.
    #[test]
    fn generated_modules_stay_valid() {
        let mut added = 0;
        for (_, case) in crate::fuzz::generate::valid_cases(300) {
            let shape = crate::fuzz::shape::shape(&case.wasm).expect("parses");
            added += shape.func_exports.iter().any(|(n, ..)| n == BUILD) as u32;
        }
        assert!(added >= 60, "only {added} modules got {BUILD}");
    }
}
