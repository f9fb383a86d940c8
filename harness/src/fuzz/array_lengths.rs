//! Bounded array lengths: a pass over a generated module that keeps `array.new` and
//! `array.new_default` to at most [`MAX_LENGTH`] elements.
//!
//! wasm-smith takes the length from any `i32` at hand, and the store's heap admits
//! 4 GiB: an array of a billion `i16`s is valid, fills for seconds on each engine and
//! setup, and holds gigabytes per worker. What it would test (allocating and filling
//! many elements) a thousand elements test as well. In function bodies the length is
//! masked (`i32.const MAX_LENGTH; i32.and` before the operator); in constant
//! expressions, which have no `i32.and`, the `i32.const` giving the length is rewritten
//! in place, and a module whose constant length is computed otherwise is given up.

use super::leb::{leb, sleb};
use wasmparser::{ConstExpr, ElementItems, Operator, Parser, Payload, TableInit};

/// The largest length an array allocation gets (a mask: all low bits set).
pub const MAX_LENGTH: u32 = 0x3ff;

/// `wasm` with every array allocation's length bounded; `None` when it does not parse
/// or has a constant length it cannot bound. A module without array allocations comes
/// back unchanged.
pub fn bound(wasm: Vec<u8>) -> Option<Vec<u8>> {
    let mut patched = wasm.clone();
    let mut code = None;
    for payload in Parser::new(0).parse_all(&wasm) {
        match payload.ok()? {
            Payload::GlobalSection(r) => {
                for g in r {
                    const_expr(&g.ok()?.init_expr, &mut patched)?;
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    if let TableInit::Expr(e) = t.ok()?.init {
                        const_expr(&e, &mut patched)?;
                    }
                }
            }
            Payload::ElementSection(r) => {
                for e in r {
                    if let ElementItems::Expressions(_, exprs) = e.ok()?.items {
                        for expr in exprs {
                            const_expr(&expr.ok()?, &mut patched)?;
                        }
                    }
                }
            }
            Payload::CodeSectionStart {
                unchecked_range,
                count,
                ..
            } => code = Some((unchecked_range, count)),
            _ => {}
        }
    }
    let Some((range, count)) = code else {
        return Some(patched);
    };
    // The code section comes after every section with constant expressions but data's
    // offsets (no arrays there), so the patches above are all before it.
    let (start, end) = (at(range.start), at(range.end));
    let header = crate::fuzz::generate::section_header_start(&wasm, start)?;
    let reader = wasmparser::CodeSectionReader::new(wasmparser::BinaryReader::new(
        wasm.get(start..end)?,
        range.start,
    ))
    .ok()?;
    let mut bodies = Vec::new();
    leb(u64::from(count), &mut bodies);
    let mut masked = 0;
    for body in reader {
        let body = body.ok()?;
        let mut out = Vec::new();
        let mut ops = body.get_operators_reader().ok()?;
        out.extend_from_slice(wasm.get(at(body.range().start)..at(ops.original_position()))?);
        while !ops.eof() {
            let from = ops.original_position();
            let op = ops.read().ok()?;
            if matches!(
                op,
                Operator::ArrayNew { .. } | Operator::ArrayNewDefault { .. }
            ) {
                out.push(0x41); // i32.const
                sleb(i64::from(MAX_LENGTH), &mut out);
                out.push(0x71); // i32.and
                masked += 1;
            }
            out.extend_from_slice(wasm.get(at(from)..at(ops.original_position()))?);
        }
        leb(out.len() as u64, &mut bodies);
        bodies.extend_from_slice(&out);
    }
    if masked == 0 {
        return Some(patched);
    }
    let mut module = patched.get(..header)?.to_vec();
    module.push(10); // the code section's id
    leb(bodies.len() as u64, &mut module);
    module.extend_from_slice(&bodies);
    module.extend_from_slice(patched.get(end..)?);
    Some(module)
}

/// Bounds the lengths of the array allocations of constant expression `e` in `out`
/// (bytes at the same offsets as those `e` was read from).
fn const_expr(e: &ConstExpr, out: &mut [u8]) -> Option<()> {
    let mut ops = e.get_operators_reader();
    // Where the last operator was an `i32.const`: its immediate's range and value.
    let mut last_const = None;
    while !ops.eof() {
        let from = ops.original_position();
        let op = ops.read().ok()?;
        if matches!(
            op,
            Operator::ArrayNew { .. } | Operator::ArrayNewDefault { .. }
        ) {
            let (range, value): (std::ops::Range<usize>, i32) = last_const?;
            let bytes = out.get_mut(range)?;
            // One byte of signed LEB128 holds 0..=63 at most.
            let mask = if bytes.len() == 1 { 0x3f } else { MAX_LENGTH };
            write_padded(i64::from(value as u32 & mask), bytes);
        }
        last_const = match op {
            Operator::I32Const { value } => {
                Some((at(from) + 1..at(ops.original_position()), value))
            }
            _ => None,
        };
    }
    Some(())
}

/// A reader's offset (of bytes in memory) as an index.
fn at(offset: u64) -> usize {
    offset as usize
}

/// `v` (non-negative, fitting) as signed LEB128 of exactly `out.len()` bytes.
fn write_padded(v: i64, out: &mut [u8]) {
    let n = out.len();
    for (i, b) in out.iter_mut().enumerate() {
        let bits = ((v >> (7 * i)) & 0x7f) as u8;
        *b = if i + 1 < n { bits | 0x80 } else { bits };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wat(text: &str) -> Vec<u8> {
        crate::fuzz::known::wat_to_wasm(text).expect("valid text")
    }

    /// The lengths a module's array allocations get, where constant (after the pass, a
    /// masked length shows as the mask).
    fn lengths(wasm: &[u8]) -> Vec<Option<i32>> {
        let mut out = Vec::new();
        let mut last = None;
        let mut visit = |op: Operator| {
            if matches!(
                op,
                Operator::ArrayNew { .. } | Operator::ArrayNewDefault { .. }
            ) {
                out.push(last);
            }
            last = match op {
                Operator::I32Const { value } => Some(value),
                Operator::I32And => last,
                _ => None,
            };
        };
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.unwrap() {
                Payload::GlobalSection(r) => {
                    for g in r {
                        let mut ops = g.unwrap().init_expr.get_operators_reader();
                        while !ops.eof() {
                            visit(ops.read().unwrap());
                        }
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let mut ops = body.get_operators_reader().unwrap();
                    while !ops.eof() {
                        visit(ops.read().unwrap());
                    }
                }
                _ => {}
            }
        }
        out
    }

    #[test]
    fn lengths_are_bounded_in_bodies_and_constant_expressions() {
        let wasm = wat(r#"(module
              (type $a (array (mut i16)))
              (global (ref $a) (array.new $a (i32.const 7) (i32.const 1706531906)))
              (global (ref $a) (array.new_default $a (i32.const 5)))
              (func (export "f") (param i32) (result i32)
                (array.len (array.new_default $a (local.get 0)))))"#);
        assert_eq!(lengths(&wasm), vec![Some(1706531906), Some(5), None]);
        let bounded = bound(wasm).expect("bounded");
        wasmparser::Validator::new_with_features(crate::fuzz::generate::FEATURES)
            .validate_all(&bounded)
            .expect("still valid");
        let masked = MAX_LENGTH as i32;
        assert_eq!(
            lengths(&bounded),
            vec![Some(1706531906 & masked), Some(5), Some(masked)]
        );
    }

    #[test]
    fn a_computed_constant_length_gives_the_module_up() {
        let wasm = wat(r#"(module
              (type $a (array i8))
              (global (ref $a)
                (array.new_default $a (i32.add (i32.const 1) (i32.const 2)))))"#);
        assert_eq!(bound(wasm), None);
    }

    /// Generated modules stay valid, and their lengths bounded where constant.
    #[test]
    fn generated_modules_stay_valid() {
        let mut allocating = 0;
        for (_, case) in crate::fuzz::generate::valid_cases(300) {
            let n = lengths_unchecked(&case.wasm);
            allocating += (n > 0) as u32;
        }
        assert!(
            allocating >= 10,
            "only {allocating} modules allocate arrays"
        );
    }

    /// How many array allocations a module's bodies make, each one masked or with a
    /// small constant length (those `gc_graph.rs` adds).
    fn lengths_unchecked(wasm: &[u8]) -> usize {
        let mut n = 0;
        for payload in Parser::new(0).parse_all(wasm) {
            if let Payload::CodeSectionEntry(body) = payload.unwrap() {
                let mut ops = body.get_operators_reader().unwrap();
                // The constant before the last operator, and the last operator's.
                let mut prev: [Option<i32>; 2] = [None, None];
                let mut last_and = false;
                while !ops.eof() {
                    let op = ops.read().unwrap();
                    if matches!(
                        op,
                        Operator::ArrayNew { .. } | Operator::ArrayNewDefault { .. }
                    ) {
                        let masked = last_and && prev[0] == Some(MAX_LENGTH as i32);
                        let small = prev[1].is_some_and(|v| (0..=MAX_LENGTH as i32).contains(&v));
                        assert!(masked || small, "an unbounded allocation");
                        n += 1;
                    }
                    last_and = matches!(op, Operator::I32And);
                    let constant = match op {
                        Operator::I32Const { value } => Some(value),
                        _ => None,
                    };
                    prev = [prev[1], constant];
                }
            }
        }
        n
    }
}
