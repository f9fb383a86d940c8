//! Relaxed SIMD in generated modules.
//!
//! wasm-smith picks each instruction among hundreds, so a module made with relaxed SIMD
//! enabled seldom contains one of its twenty operators (1.5% of modules did). This pass
//! swaps about half of the fixed-width SIMD operators that have a relaxed counterpart of
//! the same type (`swizzle`, `min`/`max`, `trunc_sat`, `bitselect`, `q15mulr_sat`) for
//! that counterpart, and after a quarter of the `v128.const`s and `v128.load`s applies
//! one relaxed operator to the value (with constant other operands), so the engines'
//! one deterministic choice per relaxed operator (RATIONALE.md) is compared on ordinary
//! programs, NaNs and out-of-range lanes included.
//!
//! It also canonicalises the NaN lanes of the `relaxed_min`/`relaxed_max` that wasm-smith
//! writes itself: its `canonicalize_nans` covers `f32x4.min`/`f64x2.max` and the other
//! float arithmetic but not their relaxed twins, and with a NaN operand the two engines
//! give different (spec-permitted) NaN bits there, so an uncanonicalised result whose bits
//! the module then looks at (`bitmask`, a lane, a store) is a false divergence (seed 21102).

use std::convert::Infallible;

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{Instruction, ValType};
use wasmparser::{Operator, Parser, Payload};

/// The relaxed counterpart of `op`, if it has one of the same type.
fn relaxed(op: &Operator<'_>) -> Option<Instruction<'static>> {
    use Instruction as I;
    use Operator as O;
    Some(match op {
        O::I8x16Swizzle => I::I8x16RelaxedSwizzle,
        O::F32x4Min => I::F32x4RelaxedMin,
        O::F32x4Max => I::F32x4RelaxedMax,
        O::F64x2Min => I::F64x2RelaxedMin,
        O::F64x2Max => I::F64x2RelaxedMax,
        O::I32x4TruncSatF32x4S => I::I32x4RelaxedTruncF32x4S,
        O::I32x4TruncSatF32x4U => I::I32x4RelaxedTruncF32x4U,
        O::I32x4TruncSatF64x2SZero => I::I32x4RelaxedTruncF64x2SZero,
        O::I32x4TruncSatF64x2UZero => I::I32x4RelaxedTruncF64x2UZero,
        O::V128Bitselect => I::I8x16RelaxedLaneselect,
        O::I16x8Q15MulrSatS => I::I16x8RelaxedQ15mulrS,
        _ => return None,
    })
}

/// Operand patterns that meet the relaxed operators' choices: NaNs with payloads, ±0,
/// out-of-range float lanes, swizzle indices at and above 16, mixed-sign mask bytes.
const OPERANDS: [u128; 6] = [
    0x7fc0_0001_ffc0_0000_8000_0000_0000_0000,
    0x4f00_0000_cf00_0001_7f80_0000_ff80_0000,
    0x1f10_0f80_7f11_0001_ff0e_2001_0302_ff10,
    0xff00_ff00_00ff_00ff_8000_7fff_0080_ff7f,
    0x7ff8_0000_0000_0001_8000_0000_0000_0000,
    0x0000_0000_0000_0000_0000_0000_0000_0000,
];

/// The float lane shape of a relaxed `min`/`max` that wasm-smith leaves uncanonicalised.
fn relaxed_min_max_lanes(op: &Operator<'_>) -> Option<FloatLanes> {
    match op {
        Operator::F32x4RelaxedMin | Operator::F32x4RelaxedMax => Some(FloatLanes::F32x4),
        Operator::F64x2RelaxedMin | Operator::F64x2RelaxedMax => Some(FloatLanes::F64x2),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum FloatLanes {
    F32x4,
    F64x2,
}

/// Replaces every NaN lane of the `v128` on top of the stack by the canonical NaN of its
/// lane shape, with `scratch` a `v128` local: the sequence wasm-smith puts after the float
/// operators it canonicalises (`x == x` selects `x`, else the canonical NaN).
fn canonicalise_nan_lanes(lanes: FloatLanes, scratch: u32, out: &mut Vec<Instruction<'_>>) {
    let (nan, eq) = match lanes {
        FloatLanes::F32x4 => (
            0x7fc0_0000_7fc0_0000_7fc0_0000_7fc0_0000u128,
            Instruction::F32x4Eq,
        ),
        FloatLanes::F64x2 => (
            0x7ff8_0000_0000_0000_7ff8_0000_0000_0000u128,
            Instruction::F64x2Eq,
        ),
    };
    out.extend([
        Instruction::LocalTee(scratch),
        Instruction::V128Const(nan as i128),
        Instruction::LocalGet(scratch),
        Instruction::LocalGet(scratch),
        eq,
        Instruction::V128Bitselect,
    ]);
}

/// The parameter count of every defined function of `wasm`, in code section order (so
/// that a local added to a body gets the right index). `None` when it does not parse.
fn defined_param_counts(wasm: &[u8]) -> Option<Vec<u32>> {
    let mut type_params = Vec::new();
    let mut defined = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.ok()? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.ok()?.into_types() {
                        type_params.push(match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => f.params().len() as u32,
                            _ => 0,
                        });
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    defined.push(*type_params.get(t.ok()? as usize)?);
                }
            }
            _ => {}
        }
    }
    Some(defined)
}

struct Swapper {
    state: u64,
    swaps: u32,
    /// Parameter count of each defined function, in code section order.
    param_counts: Vec<u32>,
    /// Function bodies re-encoded so far.
    bodies: usize,
}

impl Swapper {
    /// 64 random bits (splitmix64).
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn operand(&mut self) -> Instruction<'static> {
        Instruction::V128Const(OPERANDS[(self.next() % OPERANDS.len() as u64) as usize] as i128)
    }

    /// Instructions of type `[v128] -> [v128]` that end in a relaxed operator.
    fn apply_relaxed(&mut self, out: &mut Vec<Instruction<'_>>) {
        use Instruction as I;
        // Not `relaxed_min`/`relaxed_max`: with a NaN operand the engines may give
        // different NaN bits, as the spec allows (RATIONALE.md, relaxed SIMD), and a
        // result inserted here is not canonicalised; the swaps above, which keep
        // wasm-smith's NaN canonicalisation after the operator, cover them.
        let binary = [
            I::I8x16RelaxedSwizzle,
            I::I16x8RelaxedQ15mulrS,
            I::I16x8RelaxedDotI8x16I7x16S,
        ];
        let ternary = [
            I::F32x4RelaxedMadd,
            I::F32x4RelaxedNmadd,
            I::F64x2RelaxedMadd,
            I::F64x2RelaxedNmadd,
            I::I8x16RelaxedLaneselect,
            I::I16x8RelaxedLaneselect,
            I::I32x4RelaxedLaneselect,
            I::I64x2RelaxedLaneselect,
            I::I32x4RelaxedDotI8x16I7x16AddS,
        ];
        let unary = [
            I::I32x4RelaxedTruncF32x4S,
            I::I32x4RelaxedTruncF32x4U,
            I::I32x4RelaxedTruncF64x2SZero,
            I::I32x4RelaxedTruncF64x2UZero,
        ];
        let pick = self.next() as usize % (binary.len() + ternary.len() + unary.len());
        if pick < unary.len() {
            out.push(unary[pick].clone());
        } else if pick < unary.len() + binary.len() {
            out.push(self.operand());
            out.push(binary[pick - unary.len()].clone());
        } else {
            out.push(self.operand());
            out.push(self.operand());
            out.push(ternary[pick - unary.len() - binary.len()].clone());
        }
        self.swaps += 1;
    }
}

impl Reencode for Swapper {
    type Error = Infallible;

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        body: wasmparser::FunctionBody<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        let params = self.param_counts.get(self.bodies).copied().unwrap_or(0);
        self.bodies += 1;
        let mut locals = Vec::new();
        let mut num_locals = params;
        for pair in body.get_locals_reader()? {
            let (count, ty) = pair?;
            num_locals = num_locals.saturating_add(count);
            locals.push((count, self.val_type(ty)?));
        }
        // One `v128` scratch local after the body's own, added only if a relaxed
        // `min`/`max` needs canonicalising.
        let scratch = num_locals;
        let mut needs_scratch = false;
        let mut reader = body.get_operators_reader()?;
        let mut out = Vec::new();
        while !reader.eof() {
            let op = reader.read()?;
            let makes_v128 = matches!(op, Operator::V128Const { .. } | Operator::V128Load { .. });
            let uncanonicalised = relaxed_min_max_lanes(&op);
            match relaxed(&op) {
                Some(swapped) if self.next() & 1 == 1 => {
                    self.swaps += 1;
                    out.push(swapped);
                }
                _ => out.push(self.instruction(op)?),
            }
            if let Some(lanes) = uncanonicalised {
                needs_scratch = true;
                canonicalise_nan_lanes(lanes, scratch, &mut out);
            }
            if makes_v128 && self.next().is_multiple_of(4) {
                self.apply_relaxed(&mut out);
            }
        }
        if needs_scratch {
            locals.push((1, ValType::V128));
        }
        let mut f = wasm_encoder::Function::new(locals);
        for i in &out {
            f.instruction(i);
        }
        code.function(&f);
        Ok(())
    }
}

/// Puts relaxed SIMD operators into module `wasm` as the module documentation says,
/// deterministically for `seed`. Returns the module and the number of operators put in,
/// or `None` when the module does not re-encode.
pub fn swap(wasm: &[u8], seed: u64) -> Option<(Vec<u8>, u32)> {
    let mut swapper = Swapper {
        state: seed,
        swaps: 0,
        param_counts: defined_param_counts(wasm)?,
        bodies: 0,
    };
    let mut module = wasm_encoder::Module::new();
    swapper
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .ok()?;
    Some((module.finish(), swapper.swaps))
}
