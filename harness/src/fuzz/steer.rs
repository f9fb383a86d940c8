//! Steering constants toward edges: a pass over a generated module that rewrites a share
//! of the `i32.const`, `i64.const`, `f32.const`, `f64.const` and `v128.const` immediates
//! in function bodies to edge values (`fuzz/edges.rs`), so that edge operands meet
//! inside bodies and not only at the export boundary. Deterministic: the choices come
//! from a PRNG seeded by the module's own bytes.
//!
//! Constant expressions (global initialisers, segment offsets) are left alone, so
//! instantiation succeeds as often as before; so is the `i32.const` of a fuel decrement
//! (`global.get $fuel; i32.const 1; i32.sub`), so every module still halts.

use wasmparser::{Operator, Parser, Payload};

use super::leb::{leb, sleb};
use crate::fuzz::edges;
use crate::fuzz::input::{SplitMix64, fnv1a};

/// One module in this many keeps wasm-smith's constants, so the generator's own mix is
/// still covered; the others are steered.
const UNSTEERED_RATE: u64 = 4;
/// In a steered module, one constant in this many is rewritten.
const CONST_RATE: u64 = 3;

/// Rewrites constants of `wasm`'s function bodies; returns the new module and how many
/// constants it rewrote (0: `wasm` unchanged, returned as is). `fuel_global` is the
/// index of the termination fuel global, whose decrements are kept.
pub fn steer(wasm: Vec<u8>, fuel_global: u32) -> (Vec<u8>, u32) {
    let mut rng = SplitMix64::new(fnv1a(&wasm));
    if rng.next_u64().is_multiple_of(UNSTEERED_RATE) {
        return (wasm, 0);
    }
    match rewrite(&wasm, fuel_global, &mut rng) {
        Some((out, n)) if n > 0 => (out, n),
        _ => (wasm, 0),
    }
}

fn rewrite(wasm: &[u8], fuel_global: u32, rng: &mut SplitMix64) -> Option<(Vec<u8>, u32)> {
    let mut rewritten = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        let Payload::CodeSectionStart {
            unchecked_range,
            count,
            ..
        } = payload.ok()?
        else {
            continue;
        };
        let range = usize::try_from(unchecked_range.start).ok()?
            ..usize::try_from(unchecked_range.end).ok()?;
        let header = crate::fuzz::generate::section_header_start(wasm, range.start)?;
        let mut bodies = Vec::new();
        leb(u64::from(count), &mut bodies);
        let reader = wasmparser::CodeSectionReader::new(wasmparser::BinaryReader::new(
            wasm.get(range.clone())?,
            unchecked_range.start,
        ))
        .ok()?;
        for body in reader {
            let body = body.ok()?;
            let mut out = Vec::new();
            let mut ops = body.get_operators_reader().ok()?;
            let at = |p: u64| p as usize;
            out.extend_from_slice(&wasm[at(body.range().start)..at(ops.original_position())]);
            let mut after_fuel_get = false;
            while !ops.eof() {
                let start = at(ops.original_position());
                let op = ops.read().ok()?;
                let end = at(ops.original_position());
                let keep = after_fuel_get || !rng.next_u64().is_multiple_of(CONST_RATE);
                after_fuel_get = matches!(op, Operator::GlobalGet { global_index } if global_index == fuel_global);
                if !keep && edge_const(&op, rng, &mut out) {
                    rewritten += 1;
                } else {
                    out.extend_from_slice(&wasm[start..end]);
                }
            }
            leb(out.len() as u64, &mut bodies);
            bodies.extend_from_slice(&out);
        }
        let mut module = wasm[..header].to_vec();
        module.push(10); // the code section's id
        leb(bodies.len() as u64, &mut module);
        module.extend_from_slice(&bodies);
        module.extend_from_slice(&wasm[range.end..]);
        return Some((module, rewritten));
    }
    None
}

/// Writes `op` with an edge immediate when it is a constant; `false` otherwise.
fn edge_const(op: &Operator, rng: &mut SplitMix64, out: &mut Vec<u8>) -> bool {
    let mut pick = |n: usize| (rng.next_u64() % n as u64) as usize;
    match op {
        Operator::I32Const { .. } => {
            out.push(0x41);
            sleb(i64::from(edges::I32[pick(edges::I32.len())] as i32), out);
        }
        Operator::I64Const { .. } => {
            out.push(0x42);
            sleb(edges::I64[pick(edges::I64.len())] as i64, out);
        }
        Operator::F32Const { .. } => {
            out.push(0x43);
            out.extend_from_slice(&edges::F32[pick(edges::F32.len())].to_le_bytes());
        }
        Operator::F64Const { .. } => {
            out.push(0x44);
            out.extend_from_slice(&edges::F64[pick(edges::F64.len())].to_le_bytes());
        }
        Operator::V128Const { .. } => {
            out.extend_from_slice(&[0xfd, 0x0c]);
            out.extend_from_slice(&edges::V128[pick(edges::V128.len())].to_le_bytes());
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_leb_round_trips_the_edges() {
        for v in edges::I64 {
            let mut out = Vec::new();
            sleb(v as i64, &mut out);
            let mut r = wasmparser::BinaryReader::new(&out, 0);
            assert_eq!(r.read_var_i64().unwrap(), v as i64);
            assert!(r.eof());
        }
    }
}
