//! Rewrites of a module that step around a reference runtime's known issue
//! (`fuzz/known.rs`) while computing what the module computed on our engines:
//!
//! - `select_via_global`: every `select` condition goes through a new, unexported
//!   mutable i32 global (`global.set $g; global.get $g`) before the select, so wasmi
//!   cannot fuse the comparison that made it into the select (the fusion inverts it in
//!   wasmi 2.0.0).
//! - `relaxed_as_ours`: the relaxed SIMD operators whose permitted results differ between
//!   engines become the Wasm 2.0 code of the result our engines give (RATIONALE.md):
//!   `relaxed_madd` is `mul` then `add` (two roundings; wasmtime and wasmi fuse),
//!   `relaxed_nmadd` is `mul`, `neg`, `add`, each with its NaN lanes made canonical
//!   (the generator feeds them NaNs with payloads, and the NaN's sign and payload are
//!   each engine's choice), and `i32x4.relaxed_dot_i8x16_i7x16_add_s` sums its four
//!   products exactly (wasmi wraps the pair sums to 16 bits first). Four new v128
//!   locals per function that has one, as scratch.

use std::convert::Infallible;

use wasm_encoder::reencode::{self, Reencode, RoundtripReencoder};
use wasm_encoder::{Instruction, ValType};
use wasmparser::{Operator, Parser, Payload, TypeRef};

/// Which rewrites to apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Workarounds {
    pub select_via_global: bool,
    pub relaxed_as_ours: bool,
}

impl Workarounds {
    pub fn union(self, other: Workarounds) -> Workarounds {
        Workarounds {
            select_via_global: self.select_via_global || other.select_via_global,
            relaxed_as_ours: self.relaxed_as_ours || other.relaxed_as_ours,
        }
    }
}

struct Counts {
    /// Parameter count of every type (0 for a non-function type).
    param_counts: Vec<u32>,
    /// Type index of every defined function.
    defined_types: Vec<u32>,
    /// Imported plus defined globals: the index the new global gets.
    num_globals: u32,
    has_global_section: bool,
}

fn counts(wasm: &[u8]) -> Option<Counts> {
    let mut c = Counts {
        param_counts: Vec::new(),
        defined_types: Vec::new(),
        num_globals: 0,
        has_global_section: false,
    };
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.ok()? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.ok()?.into_types() {
                        c.param_counts.push(match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => f.params().len() as u32,
                            _ => 0,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if let TypeRef::Global(_) = import.ok()?.ty {
                        c.num_globals += 1;
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    c.defined_types.push(t.ok()?);
                }
            }
            Payload::GlobalSection(reader) => {
                c.num_globals += reader.count();
                c.has_global_section = true;
            }
            _ => {}
        }
    }
    Some(c)
}

struct Rewriter {
    counts: Counts,
    with: Workarounds,
    /// Defined functions seen so far in the code section.
    defined: u32,
    rewrites: u32,
}

/// Lane bytes of `i8x16.shuffle` that pick i32 lanes 0 and 2 of both operands (`EVEN`),
/// or lanes 1 and 3 (`ODD`).
const EVEN: [u8; 16] = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
const ODD: [u8; 16] = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];

/// The canonical NaN in every lane.
const CANON_F32: i128 = 0x7fc0_0000_7fc0_0000_7fc0_0000_7fc0_0000;
const CANON_F64: i128 = 0x7ff8_0000_0000_0000_7ff8_0000_0000_0000;

impl Rewriter {
    fn select_global(&self) -> u32 {
        self.counts.num_globals
    }

    /// The replacement of a relaxed operator, with scratch locals `s..s+4`, or `None`
    /// when `op` is not one this pass rewrites.
    fn relaxed(op: &Operator, s: u32) -> Option<Vec<Instruction<'static>>> {
        use Instruction as I;
        // `mul`, [`neg`,] `add`, then every NaN lane made canonical: NaN payloads and
        // signs are the engines' choice, and the operands the generator gives the
        // multiply-adds include NaNs with payloads.
        let madd = |f64: bool, neg: bool| {
            let (mul, negate, add, eq, canon) = if f64 {
                (I::F64x2Mul, I::F64x2Neg, I::F64x2Add, I::F64x2Eq, CANON_F64)
            } else {
                (I::F32x4Mul, I::F32x4Neg, I::F32x4Add, I::F32x4Eq, CANON_F32)
            };
            let mut v = vec![I::LocalSet(s), mul];
            if neg {
                v.push(negate);
            }
            v.extend([
                I::LocalGet(s),
                add,
                I::LocalSet(s),
                I::LocalGet(s),
                I::V128Const(canon),
                I::LocalGet(s),
                I::LocalGet(s),
                eq,
                I::V128Bitselect,
            ]);
            v
        };
        Some(match op {
            Operator::F32x4RelaxedMadd => madd(false, false),
            Operator::F32x4RelaxedNmadd => madd(false, true),
            Operator::F64x2RelaxedMadd => madd(true, false),
            Operator::F64x2RelaxedNmadd => madd(true, true),
            Operator::I32x4RelaxedDotI8x16I7x16AddS => {
                let (c, b, a, lo) = (s, s + 1, s + 2, s + 3);
                let half = |extend: fn() -> Instruction<'static>| {
                    [
                        I::LocalGet(a),
                        extend(),
                        I::LocalGet(b),
                        extend(),
                        I::I32x4DotI16x8S,
                    ]
                };
                let mut v = vec![I::LocalSet(c), I::LocalSet(b), I::LocalSet(a)];
                v.extend(half(|| I::I16x8ExtendLowI8x16S));
                v.push(I::LocalSet(lo));
                // `a` is read for the last time above: it takes the high half.
                v.extend(half(|| I::I16x8ExtendHighI8x16S));
                v.push(I::LocalSet(a));
                v.extend([
                    I::LocalGet(lo),
                    I::LocalGet(a),
                    I::I8x16Shuffle(EVEN),
                    I::LocalGet(lo),
                    I::LocalGet(a),
                    I::I8x16Shuffle(ODD),
                    I::I32x4Add,
                    I::LocalGet(c),
                    I::I32x4Add,
                ]);
                v
            }
            _ => return None,
        })
    }
}

impl Reencode for Rewriter {
    type Error = Infallible;

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        body: wasmparser::FunctionBody<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        let ty = self.counts.defined_types[self.defined as usize];
        self.defined += 1;
        let mut num_locals = self.counts.param_counts[ty as usize];
        let mut locals = Vec::new();
        for pair in body.get_locals_reader()? {
            let (count, ty) = pair?;
            num_locals += count;
            locals.push((count, RoundtripReencoder.val_type(ty)?));
        }
        let scratch = num_locals;
        let mut scratch_used = false;
        let mut out = Vec::new();
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let op = reader.read()?;
            if self.with.select_via_global
                && matches!(op, Operator::Select | Operator::TypedSelect { .. })
            {
                let g = self.select_global();
                out.extend([Instruction::GlobalSet(g), Instruction::GlobalGet(g)]);
                self.rewrites += 1;
            } else if self.with.relaxed_as_ours
                && let Some(code) = Self::relaxed(&op, scratch)
            {
                out.extend(code);
                scratch_used = true;
                self.rewrites += 1;
                continue;
            }
            out.push(RoundtripReencoder.instruction(op)?);
        }
        if scratch_used {
            locals.push((4, ValType::V128));
        }
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
        if self.with.select_via_global {
            crate::fuzz::blind_spots::push_zeroed_i32_global(globals);
        }
        Ok(())
    }
}

/// `wasm` with the `with` rewrites applied, or `None` when none applies (nothing to
/// rewrite) or the module has a shape this pass does not handle (no global section for
/// the select global, or it does not parse).
pub fn rewrite(wasm: &[u8], with: Workarounds) -> Option<Vec<u8>> {
    let counts = counts(wasm)?;
    if with.select_via_global && !counts.has_global_section {
        return None;
    }
    let mut rewriter = Rewriter {
        counts,
        with,
        defined: 0,
        rewrites: 0,
    };
    let mut module = wasm_encoder::Module::new();
    rewriter
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .ok()?;
    (rewriter.rewrites > 0).then(|| module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::generate::{FEATURES, module};

    /// Every rewritten generated module validates, and each rewrite happens.
    #[test]
    fn rewritten_modules_validate() {
        let select = Workarounds {
            select_via_global: true,
            ..Workarounds::default()
        };
        let relaxed = Workarounds {
            relaxed_as_ours: true,
            ..Workarounds::default()
        };
        let mut rewritten = [0; 3];
        for seed in 0..300u64 {
            let bytes = crate::fuzz::input::seed_bytes(seed);
            let Ok((wasm, _)) = module(&mut arbitrary::Unstructured::new(&bytes)) else {
                continue;
            };
            for (n, with) in [select, relaxed, select.union(relaxed)].iter().enumerate() {
                let Some(out) = rewrite(&wasm, *with) else {
                    continue;
                };
                rewritten[n] += 1;
                if let Err(e) =
                    wasmparser::Validator::new_with_features(FEATURES).validate_all(&out)
                {
                    panic!("seed {seed}, {with:?}: rewritten module is invalid: {e}");
                }
            }
        }
        let [select, relaxed, both] = rewritten;
        assert!(select > 50 && relaxed > 10, "rewritten: {rewritten:?}");
        assert!(both >= select.max(relaxed), "rewritten: {rewritten:?}");
    }

    /// The exact dot product: lanes of -128 * -128 (whose pair sums overflow 16 bits)
    /// sum to 65536 per i32 lane, plus the accumulator.
    #[test]
    fn relaxed_dot_rewrite_sums_exactly() {
        let wat = r#"(module (global (mut i32) (i32.const 0))
            (func (export "dot") (result v128)
              v128.const i8x16 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128
              v128.const i8x16 -128 -128 -128 -128 -128 -128 -128 -128 1 2 3 4 5 6 7 8
              v128.const i32x4 1 2 3 4
              i32x4.relaxed_dot_i8x16_i7x16_add_s))"#;
        let wasm = crate::fuzz::known::wat_to_wasm(wat).expect("valid text");
        let out = rewrite(
            &wasm,
            Workarounds {
                relaxed_as_ours: true,
                ..Workarounds::default()
            },
        )
        .expect("rewritten");
        let engine = runtime::Engine::new(
            runtime::Config::new(runtime::Strategy::Interpreter).features(FEATURES),
        )
        .expect("engine");
        let store = runtime::Store::new(&engine);
        let m = runtime::Module::from_binary(&engine, &out).expect("compiles");
        let inst = runtime::Instance::new(&store, &m, None).expect("instantiates");
        let f = inst.get_func(&store, "dot").expect("export");
        let got = f.call(&store, &[]).expect("runs");
        // Lanes 0 and 1: four products of 16384 each, plus 1 and 2; lanes 2 and 3:
        // -128 * (1+2+3+4) and -128 * (5+6+7+8), plus 3 and 4.
        let lanes: [i32; 4] = [65536 + 1, 65536 + 2, -1280 + 3, -3328 + 4];
        let want = lanes
            .iter()
            .enumerate()
            .fold(0u128, |acc, (i, l)| acc | u128::from(*l as u32) << (32 * i));
        assert_eq!(got, vec![runtime::Value::V128(want)]);
    }
}
