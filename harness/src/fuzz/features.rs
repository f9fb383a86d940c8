//! Which Wasm 3.0 features a generated module uses, for the statistics: a module uses a
//! feature when it no longer validates without it. That counts what the engines were
//! actually given, not what the generator was allowed to make (a config with tail calls
//! on often makes no `return_call`).
//!
//! Validating once per feature made this 5% of the fuzzer's time, so a syntactic scan
//! ([`may_need`]) first rules out the features whose constructs the module does not
//! contain; only the rest are decided by validation. The scan may say "maybe" too often,
//! never too rarely: the test below checks that both ways agree.

use wasmparser::{
    BlockType, CompositeInnerType, ConstExpr, ElementItems, ElementKind, HeapType, Operator,
    Parser, Payload, RefType, TableInit, TypeRef, ValType, Validator, WasmFeatures,
};

/// The Wasm 3.0 features the generator makes, with the names the statistics use.
pub const WASM3: [(&str, WasmFeatures); 8] = [
    ("multi-memory", WasmFeatures::MULTI_MEMORY),
    ("memory64", WasmFeatures::MEMORY64),
    ("extended const", WasmFeatures::EXTENDED_CONST),
    ("relaxed SIMD", WasmFeatures::RELAXED_SIMD),
    ("tail calls", WasmFeatures::TAIL_CALL),
    ("typed func refs", WasmFeatures::FUNCTION_REFERENCES),
    ("exceptions", WasmFeatures::EXCEPTIONS),
    ("GC", WasmFeatures::GC),
];

/// What a GC construct may need: GC, and typed references, which GC builds on (the
/// scan does not tell which of the two validation will find missing).
const GC_MAYBE: WasmFeatures = WasmFeatures::GC.union(WasmFeatures::FUNCTION_REFERENCES);

/// The names of the [`WASM3`] features among `enabled` that module `wasm` (valid with
/// `enabled`) needs: those the scan cannot rule out and without which it fails to validate.
pub fn used(wasm: &[u8], enabled: WasmFeatures) -> Vec<&'static str> {
    let maybe = may_need(wasm);
    WASM3
        .iter()
        .filter(|(_, f)| {
            enabled.contains(*f) && maybe.contains(*f) && !validates(wasm, enabled - *f)
        })
        .map(|(name, _)| *name)
        .collect()
}

fn validates(wasm: &[u8], features: WasmFeatures) -> bool {
    Validator::new_with_features(features)
        .validate_all(wasm)
        .is_ok()
}

/// The [`WASM3`] features module `wasm` may need, judged from the constructs it contains:
/// a feature left out is certainly not needed. Bytes that do not parse may need anything.
fn may_need(wasm: &[u8]) -> WasmFeatures {
    let mut scan = Scan {
        found: WasmFeatures::empty(),
        memories: 0,
    };
    match scan.module(wasm) {
        Ok(()) => scan.found,
        Err(_) => WasmFeatures::all(),
    }
}

struct Scan {
    found: WasmFeatures,
    memories: u32,
}

impl Scan {
    fn module(&mut self, wasm: &[u8]) -> wasmparser::Result<()> {
        for payload in Parser::new(0).parse_all(wasm) {
            match payload? {
                Payload::TypeSection(r) => {
                    for group in r {
                        let group = group?;
                        if group.is_explicit_rec_group() {
                            self.found |= GC_MAYBE;
                        }
                        for ty in group.into_types() {
                            if !ty.is_final || !ty.supertype_idxs.is_empty() {
                                self.found |= GC_MAYBE;
                            }
                            match &ty.composite_type.inner {
                                CompositeInnerType::Func(f) => {
                                    for t in f.params().iter().chain(f.results()) {
                                        self.val(*t);
                                    }
                                }
                                CompositeInnerType::Struct(st) => {
                                    self.found |= GC_MAYBE;
                                    for f in st.fields.iter() {
                                        self.storage(f.element_type);
                                    }
                                }
                                CompositeInnerType::Array(at) => {
                                    self.found |= GC_MAYBE;
                                    self.storage(at.0.element_type);
                                }
                                _ => self.found |= WasmFeatures::all(),
                            }
                        }
                    }
                }
                Payload::ImportSection(r) => {
                    for import in r.into_imports() {
                        match import?.ty {
                            TypeRef::Memory(m) => self.memory(m.memory64),
                            TypeRef::Table(t) => self.table(t.table64, t.element_type),
                            TypeRef::Global(g) => self.val(g.content_type),
                            TypeRef::Tag(_) => self.found |= WasmFeatures::EXCEPTIONS,
                            TypeRef::Func(_) | TypeRef::FuncExact(_) => {}
                        }
                    }
                }
                Payload::MemorySection(r) => {
                    for m in r {
                        self.memory(m?.memory64);
                    }
                }
                Payload::TableSection(r) => {
                    for t in r {
                        let t = t?;
                        self.table(t.ty.table64, t.ty.element_type);
                        if let TableInit::Expr(e) = t.init {
                            // An initialiser other than null needs typed references.
                            self.found |= WasmFeatures::FUNCTION_REFERENCES;
                            self.const_expr(&e)?;
                        }
                    }
                }
                Payload::TagSection(_) => self.found |= WasmFeatures::EXCEPTIONS,
                Payload::GlobalSection(r) => {
                    for g in r {
                        let g = g?;
                        self.val(g.ty.content_type);
                        self.const_expr(&g.init_expr)?;
                    }
                }
                Payload::ElementSection(r) => {
                    for e in r {
                        let e = e?;
                        if let ElementKind::Active { offset_expr, .. } = &e.kind {
                            self.const_expr(offset_expr)?;
                        }
                        if let ElementItems::Expressions(ty, exprs) = e.items {
                            self.reference(ty);
                            for expr in exprs {
                                self.const_expr(&expr?)?;
                            }
                        }
                    }
                }
                Payload::DataSection(r) => {
                    for d in r {
                        if let wasmparser::DataKind::Active { offset_expr, .. } = d?.kind {
                            self.const_expr(&offset_expr)?;
                        }
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    for local in body.get_locals_reader()? {
                        self.val(local?.1);
                    }
                    let mut ops = body.get_operators_reader()?;
                    while !ops.eof() {
                        self.operator(&ops.read()?);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn memory(&mut self, memory64: bool) {
        self.memories += 1;
        if self.memories > 1 {
            self.found |= WasmFeatures::MULTI_MEMORY;
        }
        if memory64 {
            self.found |= WasmFeatures::MEMORY64;
        }
    }

    fn table(&mut self, table64: bool, element: RefType) {
        if table64 {
            self.found |= WasmFeatures::MEMORY64;
        }
        self.reference(element);
    }

    fn storage(&mut self, t: wasmparser::StorageType) {
        if let wasmparser::StorageType::Val(v) = t {
            self.val(v);
        }
    }

    fn val(&mut self, t: ValType) {
        if let ValType::Ref(r) = t {
            self.reference(r);
        }
    }

    /// Non-nullable and concrete references need typed references; `exnref` needs
    /// exceptions.
    fn reference(&mut self, r: RefType) {
        if !r.is_nullable() {
            self.found |= WasmFeatures::FUNCTION_REFERENCES;
        }
        self.heap(r.heap_type());
    }

    fn heap(&mut self, h: HeapType) {
        match h {
            HeapType::Concrete(_) | HeapType::Exact(_) => {
                self.found |= WasmFeatures::FUNCTION_REFERENCES
            }
            HeapType::Abstract { ty, .. } => {
                use wasmparser::AbstractHeapType as A;
                match ty {
                    A::Exn | A::NoExn => self.found |= WasmFeatures::EXCEPTIONS,
                    A::Func | A::Extern => {}
                    // Everything else, the bottom types `nofunc` and `noextern` too,
                    // came with GC.
                    _ => self.found |= GC_MAYBE,
                }
            }
        }
    }

    /// A constant expression of more than one instruction needs extended constants.
    fn const_expr(&mut self, e: &ConstExpr<'_>) -> wasmparser::Result<()> {
        let mut ops = e.get_operators_reader();
        let mut count = 0;
        while !ops.eof() {
            let op = ops.read()?;
            if !matches!(op, Operator::End) {
                count += 1;
            }
            self.operator(&op);
        }
        if count > 1 {
            self.found |= WasmFeatures::EXTENDED_CONST;
        }
        Ok(())
    }

    fn operator(&mut self, op: &Operator<'_>) {
        use Operator as O;
        let block = |b: &BlockType| match b {
            BlockType::Type(t) => Some(*t),
            _ => None,
        };
        match op {
            O::ReturnCall { .. } | O::ReturnCallIndirect { .. } => {
                self.found |= WasmFeatures::TAIL_CALL
            }
            O::ReturnCallRef { .. } => {
                self.found |= WasmFeatures::TAIL_CALL | WasmFeatures::FUNCTION_REFERENCES
            }
            O::CallRef { .. } | O::RefAsNonNull | O::BrOnNull { .. } | O::BrOnNonNull { .. } => {
                self.found |= WasmFeatures::FUNCTION_REFERENCES
            }
            O::Throw { .. } | O::ThrowRef => self.found |= WasmFeatures::EXCEPTIONS,
            O::TryTable { try_table } => {
                self.found |= WasmFeatures::EXCEPTIONS;
                if let Some(t) = block(&try_table.ty) {
                    self.val(t);
                }
            }
            O::Block { blockty } | O::Loop { blockty } | O::If { blockty } => {
                if let Some(t) = block(blockty) {
                    self.val(t);
                }
            }
            O::TypedSelect { ty } => self.val(*ty),
            O::TypedSelectMulti { tys } => tys.iter().for_each(|t| self.val(*t)),
            O::RefNull { hty } => self.heap(*hty),
            O::RefEq
            | O::StructNew { .. }
            | O::StructNewDefault { .. }
            | O::StructGet { .. }
            | O::StructGetS { .. }
            | O::StructGetU { .. }
            | O::StructSet { .. }
            | O::ArrayNew { .. }
            | O::ArrayNewDefault { .. }
            | O::ArrayNewFixed { .. }
            | O::ArrayNewData { .. }
            | O::ArrayNewElem { .. }
            | O::ArrayGet { .. }
            | O::ArrayGetS { .. }
            | O::ArrayGetU { .. }
            | O::ArraySet { .. }
            | O::ArrayLen
            | O::ArrayFill { .. }
            | O::ArrayCopy { .. }
            | O::ArrayInitData { .. }
            | O::ArrayInitElem { .. }
            | O::RefTestNonNull { .. }
            | O::RefTestNullable { .. }
            | O::RefCastNonNull { .. }
            | O::RefCastNullable { .. }
            | O::BrOnCast { .. }
            | O::BrOnCastFail { .. }
            | O::AnyConvertExtern
            | O::ExternConvertAny
            | O::RefI31
            | O::I31GetS
            | O::I31GetU => self.found |= GC_MAYBE,
            O::I8x16RelaxedSwizzle
            | O::I32x4RelaxedTruncF32x4S
            | O::I32x4RelaxedTruncF32x4U
            | O::I32x4RelaxedTruncF64x2SZero
            | O::I32x4RelaxedTruncF64x2UZero
            | O::F32x4RelaxedMadd
            | O::F32x4RelaxedNmadd
            | O::F64x2RelaxedMadd
            | O::F64x2RelaxedNmadd
            | O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect
            | O::F32x4RelaxedMin
            | O::F32x4RelaxedMax
            | O::F64x2RelaxedMin
            | O::F64x2RelaxedMax
            | O::I16x8RelaxedQ15mulrS
            | O::I16x8RelaxedDotI8x16I7x16S
            | O::I32x4RelaxedDotI8x16I7x16AddS => self.found |= WasmFeatures::RELAXED_SIMD,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition itself: the features without which the module no longer validates.
    fn used_by_validation(wasm: &[u8], enabled: WasmFeatures) -> Vec<&'static str> {
        WASM3
            .iter()
            .filter(|(_, f)| enabled.contains(*f) && !validates(wasm, enabled - *f))
            .map(|(name, _)| *name)
            .collect()
    }

    /// The scan never rules out a feature that validation finds needed, on generated
    /// modules (each feature appears in hundreds of these).
    #[test]
    fn scan_agrees_with_validation() {
        let features = crate::fuzz::generate::FEATURES;
        let mut seen = std::collections::BTreeMap::<&str, usize>::new();
        for seed in 0..600 {
            let Some((case, ..)) =
                crate::fuzz::oracle::Case::generate(&crate::fuzz::input::seed_bytes(seed))
            else {
                continue;
            };
            let fast = used(&case.wasm, features);
            assert_eq!(
                fast,
                used_by_validation(&case.wasm, features),
                "seed {seed}"
            );
            for name in fast {
                *seen.entry(name).or_default() += 1;
            }
        }
        for (name, _) in WASM3 {
            assert!(
                seen.get(name).is_some_and(|n| *n >= 5),
                "{name} too rare: {seen:?}"
            );
        }
    }
}
