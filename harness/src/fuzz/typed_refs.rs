//! Typed function references in generated modules.
//!
//! wasm-smith generates the function-references proposal's instructions only together
//! with the whole GC proposal, which the engines do not implement. This pass takes a
//! module wasm-smith made without either and rewrites a share of its direct calls into
//! equivalent code through typed references, so that `call_ref`, `return_call_ref`,
//! `ref.as_non_null`, `br_on_null`, `br_on_non_null`, non-nullable locals and typed
//! globals reach both engines in otherwise ordinary programs. Every rewrite calls the same
//! function with the same arguments, so the module computes what it did before; what
//! differs is the path each engine takes to get there.
//!
//! `ref.func $f` needs `$f` declared; the generator exports every function, and an export
//! declares it (spec: <https://webassembly.github.io/spec/core/valid/modules.html>, C.refs).

use std::convert::Infallible;

use wasm_encoder::reencode::{self, Reencode, RoundtripReencoder};
use wasm_encoder::{BlockType, HeapType, Instruction, RefType, ValType};
use wasmparser::{Operator, Parser, Payload, TypeRef};

/// The ways a direct call can be made through a reference.
#[derive(Clone, Copy)]
enum Form {
    /// `ref.func $f; call_ref $t`
    RefFunc,
    /// `ref.func $f; ref.as_non_null; call_ref $t`
    AsNonNull,
    /// `block (result (ref $t)) (block (ref.func $f; br_on_null 0; br 1)); unreachable end`
    BrOnNull,
    /// `block (result (ref $t)) (ref.null $t; br_on_non_null 0; ref.func $f) end`: the null
    /// falls through, then the function is the block's result.
    BrOnNonNull,
    /// `ref.func $f; local.set $l; local.get $l; call_ref $t` with `$l` a new non-nullable
    /// local.
    NonNullLocal,
    /// `global.get $g; call_ref $t` with `$g` a new immutable `(ref $t)` global holding `$f`.
    TypedGlobal,
}

const FORMS: [Form; 6] = [
    Form::RefFunc,
    Form::AsNonNull,
    Form::BrOnNull,
    Form::BrOnNonNull,
    Form::NonNullLocal,
    Form::TypedGlobal,
];

/// A small deterministic generator (splitmix64), seeded per module.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the rewrite needs to know of the module before its sections are copied.
struct Shape {
    /// Type index of every function, imported ones first.
    func_types: Vec<u32>,
    /// Parameter count of every type (0 for a non-function type).
    param_counts: Vec<u32>,
    num_imported_funcs: u32,
    /// Imported plus defined globals: the index of the first new one.
    num_globals: u32,
}

fn shape(wasm: &[u8]) -> Option<Shape> {
    let mut s = Shape {
        func_types: Vec::new(),
        param_counts: Vec::new(),
        num_imported_funcs: 0,
        num_globals: 0,
    };
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.ok()? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.ok()?.into_types() {
                        s.param_counts.push(match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => f.params().len() as u32,
                            _ => return None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    match import.ok()?.ty {
                        TypeRef::Func(t) => {
                            s.func_types.push(t);
                            s.num_imported_funcs += 1;
                        }
                        TypeRef::Global(_) => s.num_globals += 1,
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    s.func_types.push(t.ok()?);
                }
            }
            Payload::GlobalSection(reader) => s.num_globals += reader.count(),
            _ => {}
        }
    }
    Some(s)
}

struct Rewriter {
    shape: Shape,
    rng: Rng,
    /// Percent of direct calls rewritten in this module.
    rate: u64,
    /// Defined functions seen so far in the code section.
    defined: u32,
    /// The functions that got a typed global, in global order.
    globals: Vec<u32>,
    rewrites: u32,
}

impl Rewriter {
    fn ref_to(&self, func: u32) -> RefType {
        RefType {
            nullable: false,
            heap_type: HeapType::Concrete(self.shape.func_types[func as usize]),
        }
    }

    fn global_of(&mut self, func: u32) -> u32 {
        let i = match self.globals.iter().position(|&f| f == func) {
            Some(i) => i,
            None => {
                self.globals.push(func);
                self.globals.len() - 1
            }
        };
        self.shape.num_globals + i as u32
    }

    /// The instructions that put a non-null reference to `func` on the stack, in `form`;
    /// `new_local` is the index the function's next added local gets.
    fn push_ref<'a>(
        &mut self,
        form: Form,
        func: u32,
        new_local: u32,
        out: &mut Vec<Instruction<'a>>,
    ) {
        let ty = self.shape.func_types[func as usize];
        let typed = BlockType::Result(ValType::Ref(self.ref_to(func)));
        match form {
            Form::RefFunc => out.push(Instruction::RefFunc(func)),
            Form::AsNonNull => {
                out.extend([Instruction::RefFunc(func), Instruction::RefAsNonNull]);
            }
            Form::BrOnNull => out.extend([
                Instruction::Block(typed),
                Instruction::Block(BlockType::Empty),
                Instruction::RefFunc(func),
                Instruction::BrOnNull(0),
                Instruction::Br(1),
                Instruction::End,
                Instruction::Unreachable,
                Instruction::End,
            ]),
            Form::BrOnNonNull => out.extend([
                Instruction::Block(typed),
                Instruction::RefNull(HeapType::Concrete(ty)),
                Instruction::BrOnNonNull(0),
                Instruction::RefFunc(func),
                Instruction::End,
            ]),
            Form::NonNullLocal => out.extend([
                Instruction::RefFunc(func),
                Instruction::LocalSet(new_local),
                Instruction::LocalGet(new_local),
            ]),
            Form::TypedGlobal => {
                let g = self.global_of(func);
                out.push(Instruction::GlobalGet(g));
            }
        }
    }
}

impl Reencode for Rewriter {
    type Error = Infallible;

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        body: wasmparser::FunctionBody<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        let func = self.shape.num_imported_funcs + self.defined;
        self.defined += 1;
        let own_type = self.shape.func_types[func as usize];
        let params = self.shape.param_counts[own_type as usize];
        let mut locals = Vec::new();
        let mut num_locals = params;
        for pair in body.get_locals_reader()? {
            let (count, ty) = pair?;
            num_locals += count;
            locals.push((count, RoundtripReencoder.val_type(ty)?));
        }
        let mut out = Vec::new();
        let mut added: Vec<ValType> = Vec::new();
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let op = reader.read()?;
            let (callee, tail) = match op {
                Operator::Call { function_index } => (function_index, false),
                Operator::ReturnCall { function_index } => (function_index, true),
                other => {
                    out.push(RoundtripReencoder.instruction(other)?);
                    continue;
                }
            };
            if self.rng.below(100) >= self.rate {
                out.push(if tail {
                    Instruction::ReturnCall(callee)
                } else {
                    Instruction::Call(callee)
                });
                continue;
            }
            let form = FORMS[self.rng.below(FORMS.len() as u64) as usize];
            let new_local = num_locals + added.len() as u32;
            if let Form::NonNullLocal = form {
                added.push(ValType::Ref(self.ref_to(callee)));
            }
            self.push_ref(form, callee, new_local, &mut out);
            let ty = self.shape.func_types[callee as usize];
            out.push(if tail {
                Instruction::ReturnCallRef(ty)
            } else {
                Instruction::CallRef(ty)
            });
            self.rewrites += 1;
        }
        locals.extend(added.into_iter().map(|t| (1, t)));
        let mut f = wasm_encoder::Function::new(locals);
        for i in &out {
            f.instruction(i);
        }
        code.function(&f);
        Ok(())
    }

    fn parse_global_section(
        &mut self,
        globals: &mut wasm_encoder::GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        reencode::utils::parse_global_section(self, globals, section)?;
        // The typed globals are known only once the code is rewritten: `rewrite` runs
        // twice and adds, on the second run, the globals the first one asked for.
        for &func in &self.globals.clone() {
            globals.global(
                wasm_encoder::GlobalType {
                    val_type: ValType::Ref(self.ref_to(func)),
                    mutable: false,
                    shared: false,
                },
                &wasm_encoder::ConstExpr::ref_func(func),
            );
        }
        Ok(())
    }
}

/// Rewrites about `rate` percent of the direct calls of module `wasm` (valid, made
/// without the function-references and GC proposals, with every function exported) into
/// calls through typed references, deterministically for `seed`. Returns the new module
/// and how many calls were rewritten, or `None` when the module has a shape this pass
/// does not handle.
pub fn rewrite(wasm: &[u8], seed: u64, rate: u64) -> Option<(Vec<u8>, u32)> {
    let shape = shape(wasm)?;
    // The code section comes after the global section, so a first run learns which
    // typed globals the code will use and a second, identical one declares them.
    let mut first = Rewriter {
        shape,
        rng: Rng(seed),
        rate,
        defined: 0,
        globals: Vec::new(),
        rewrites: 0,
    };
    let mut module = wasm_encoder::Module::new();
    first
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .ok()?;
    if first.rewrites == 0 {
        return Some((wasm.to_vec(), 0));
    }
    let mut second = Rewriter {
        shape: first.shape,
        rng: Rng(seed),
        rate,
        defined: 0,
        globals: first.globals,
        rewrites: 0,
    };
    let mut module = wasm_encoder::Module::new();
    second
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .ok()?;
    Some((module.finish(), second.rewrites))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::generate::{FEATURES, config};

    /// Every rewritten module validates with typed function references, and the pass
    /// does rewrite calls.
    #[test]
    fn rewritten_modules_validate() {
        let features = FEATURES | wasmparser::WasmFeatures::FUNCTION_REFERENCES;
        let mut rewritten = 0;
        for seed in 0..300u64 {
            let bytes: Vec<u8> = (0..4096u64)
                .map(|i| (Rng(seed * 4096 + i).next() >> 24) as u8)
                .collect();
            // wasm-smith's module, as `generate::generated` hands it to this pass (before
            // the blind-spot functions, which are not all exported).
            let mut u = arbitrary::Unstructured::new(&bytes);
            let Ok(config) = config(&mut u) else {
                continue;
            };
            let gc = config.gc_enabled;
            let Ok(m) = wasm_smith::Module::new(config, &mut u) else {
                continue;
            };
            let wasm = m.to_bytes();
            // The pass leaves modules with GC types alone (they have typed references).
            let Some((out, n)) = rewrite(&wasm, seed, 60) else {
                assert!(gc, "seed {seed}: a module without GC does not rewrite");
                continue;
            };
            rewritten += n;
            if let Err(e) = wasmparser::Validator::new_with_features(features).validate_all(&out) {
                panic!("seed {seed}: rewritten module is invalid: {e}");
            }
        }
        assert!(rewritten > 100, "only {rewritten} calls rewritten");
    }
}
