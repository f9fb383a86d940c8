//! Fuzz input -> a Wasm module both engines support (wasm-smith), plus the name of
//! its fuel global.

use super::leb::leb;
use arbitrary::{Result, Unstructured};
use runtime::WasmFeatures;
use wasm_smith::{Config, Module};

/// The export under which the fuel global of `ensure_termination` is exported; the
/// oracle refills it before every call so one endless loop does not starve every later call.
pub const FUEL_EXPORT: &str = "__fuel";
/// Fuel given at instantiation and before every export call (one unit per loop
/// iteration or function entry).
pub const FUEL: u32 = 2_000;

/// The features the engines under test run with: what both implement (a module uses
/// only those its generator config turned on).
pub const FEATURES: WasmFeatures = WasmFeatures::WASM2
    .union(WasmFeatures::MULTI_MEMORY)
    .union(WasmFeatures::EXTENDED_CONST)
    .union(WasmFeatures::RELAXED_SIMD)
    .union(WasmFeatures::TAIL_CALL)
    .union(WasmFeatures::MEMORY64)
    .union(WasmFeatures::FUNCTION_REFERENCES)
    .union(WasmFeatures::EXCEPTIONS)
    .union(WasmFeatures::GC);

/// A generator configuration drawn from the input, restricted to what both engines
/// support: Wasm 2.0 (fixed-width SIMD in most modules) plus multi-memory, memory64,
/// extended constant expressions, relaxed SIMD and tail calls, small memories and
/// tables, small functions.
pub fn config(u: &mut Unstructured) -> Result<Config> {
    let mut c: Config = u.arbitrary()?;
    // Features: Wasm 2.0. The Wasm 2.0 features themselves (bulk memory, reference
    // types, multi-value, saturating conversions, sign extension) stay as drawn; SIMD
    // is on for 3 inputs out of 4, so scalar-only modules keep their share. Of Wasm 3.0:
    // relaxed SIMD in half the SIMD inputs (both engines give one fixed result per
    // operator, RATIONALE.md), multi-memory (two to four memories) in 1 input of 3,
    // extended constant expressions, tail calls and memory64 (which wasm-smith applies
    // to each memory and table by chance: i64 addresses and indices) in 1 of 2 each.
    c.simd_enabled = u.ratio(3, 4)?;
    c.relaxed_simd_enabled = c.simd_enabled && u.ratio(1, 2)?;
    let multi_memory = u.ratio(1, 3)?;
    c.extended_const_enabled = u.ratio(1, 2)?;
    c.threads_enabled = false;
    c.shared_everything_threads_enabled = false;
    // GC (struct and array types, their operators, i31, casts) in 2 inputs of 3; it
    // needs reference types, which it turns on.
    c.gc_enabled = u.ratio(9, 10)?;
    c.reference_types_enabled |= c.gc_enabled;
    // Array lengths in constant expressions from a small budget (`array_lengths.rs`
    // bounds the others).
    c.limit_arrays_in_const_exprs = true;
    // Exceptions (tags, throw, throw_ref, try_table) in 1 input of 3.
    c.exceptions_enabled = u.ratio(1, 3)?;
    c.memory64_enabled = u.ratio(1, 2)?;
    c.tail_call_enabled = u.ratio(1, 2)?;
    c.wide_arithmetic_enabled = false;
    c.custom_page_sizes_enabled = false;
    c.compact_imports_enabled = false;
    c.custom_descriptors_enabled = false;
    c.acquire_release_atomics_enabled = false;
    c.multibyte_array_access_enabled = false;
    // (wasm-smith has no multi-memory switch: more than one memory is multi-memory.)
    if multi_memory {
        c.min_memories = 2;
        c.max_memories = 4;
    } else {
        c.max_memories = c.max_memories.min(1);
    }
    if !c.reference_types_enabled {
        c.max_tables = c.max_tables.min(1);
    }
    // Every float result is canonical, so NaN bits compare. wasm-smith canonicalizes
    // the f32x4/f64x2 arithmetic lanes too (`canonicalize_nan` with `v128.bitselect`
    // on a self-`eq` mask in its code builder), but not its relaxed `min`/`max`: those
    // are canonicalised by `relaxed.rs`.
    c.canonicalize_nans = true;
    c.export_everything = true;
    c.allow_invalid_funcs = false;
    // Bounds: a few pages, small tables, small functions.
    c.max_memory32_bytes = c.max_memory32_bytes.min(4 * 65536);
    c.max_memory64_bytes = c.max_memory64_bytes.min(4 * 65536);
    c.memory_max_size_required = true;
    c.max_table_elements = c.max_table_elements.min(64);
    c.table_max_size_required = true;
    c.max_tables = c.max_tables.min(3);
    c.max_types = c.max_types.min(24);
    c.max_imports = c.max_imports.min(8);
    c.max_funcs = c.max_funcs.clamp(3, 12);
    c.min_funcs = 2;
    c.max_globals = c.max_globals.min(12);
    c.max_instructions = c.max_instructions.min(200);
    c.max_data_segments = c.max_data_segments.min(6);
    c.max_element_segments = c.max_element_segments.min(6);
    c.max_elements = c.max_elements.min(16);
    c.max_nesting_depth = c.max_nesting_depth.min(6);
    // Traps from every instruction that can trap make most calls end at once; keep
    // them, but let the input turn them off half the time.
    c.disallow_traps = c.disallow_traps || u.arbitrary()?;
    Ok(c)
}

/// The module of an input, and the config it was made with.
pub fn module(u: &mut Unstructured) -> Result<(Vec<u8>, Config)> {
    generated(u).map(|g| (g.wasm, g.config))
}

/// A generated module and how it was made.
pub struct Generated {
    pub wasm: Vec<u8>,
    pub config: Config,
    /// Constants the steering pass rewrote to edge values (`fuzz/steer.rs`).
    pub steered_consts: u32,
}

/// The module of an input: wasm-smith's, with the fuel global exported and a share of
/// its constants steered to edge values.
pub fn generated(u: &mut Unstructured) -> Result<Generated> {
    let config = config(u)?;
    // In 1 input of 4 the imports come from candidates of every arity up to 8
    // (`wide_imports.rs`): wasm-smith alone rarely imports a wide function. With GC in
    // every input: wasm-smith's own imports name the module's types (`(ref $t)`), which
    // a host cannot (`shape::host_ref`), so they would fail to link.
    let mut smith = config.clone();
    if config.gc_enabled || u.ratio(1, 4)? {
        smith.available_imports = Some(crate::fuzz::wide_imports::candidates(u, &config)?);
    }
    let mut m = Module::new(smith, u)?;
    let fuel_global = m
        .ensure_termination(FUEL)
        .map_err(|_| arbitrary::Error::IncorrectFormat)?;
    let mut bytes = export_global(&m.to_bytes(), FUEL_EXPORT, fuel_global)
        .ok_or(arbitrary::Error::IncorrectFormat)?;
    if config.relaxed_simd_enabled {
        let seed = u.arbitrary()?;
        if let Some((swapped, _)) = crate::fuzz::relaxed::swap(&bytes, seed) {
            bytes = swapped;
        }
    }
    // Typed function references in 1 input of 2: wasm-smith makes them only with GC, so
    // a share of the direct calls is rewritten to go through references (`typed_refs.rs`).
    if u.ratio(1, 2)? {
        let rate = u.int_in_range(10..=60)?;
        let seed = u.arbitrary()?;
        if let Some((rewritten, _)) = crate::fuzz::typed_refs::rewrite(&bytes, seed, rate) {
            bytes = rewritten;
        }
    }
    let (wasm, steered_consts) = crate::fuzz::steer::steer(bytes, fuel_global);
    // After steering, which may make a length huge.
    let wasm = crate::fuzz::array_lengths::bound(wasm).ok_or(arbitrary::Error::IncorrectFormat)?;
    // A function building a graph of the module's own struct and array types.
    let wasm = crate::fuzz::gc_graph::add(wasm);
    // Last, so neither steering nor the call rewrite touches the depths and edges it draws.
    let wasm = crate::fuzz::blind_spots::add(wasm, config.tail_call_enabled);
    Ok(Generated {
        wasm,
        config,
        steered_consts,
    })
}

/// Adds an export of global `index` named `name` to a module binary (rewriting or
/// inserting the export section; every other section is copied as is).
pub fn export_global(wasm: &[u8], name: &str, index: u32) -> Option<Vec<u8>> {
    use wasmparser::{Parser, Payload};
    const EXPORT_ID: u8 = 7;
    let mut out = wasm.get(..8)?.to_vec();
    let mut entries: Vec<u8> = Vec::new();
    let mut count = 0u64;
    let push_new = |entries: &mut Vec<u8>, count: &mut u64| {
        leb(name.len() as u64, entries);
        entries.extend_from_slice(name.as_bytes());
        entries.push(0x03); // global
        leb(index as u64, entries);
        *count += 1;
    };
    let mut written = false;
    let write_section = |out: &mut Vec<u8>, entries: &[u8], count: u64| {
        let mut body = Vec::new();
        leb(count, &mut body);
        body.extend_from_slice(entries);
        out.push(EXPORT_ID);
        leb(body.len() as u64, out);
        out.extend_from_slice(&body);
    };
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.ok()?;
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let range = range.start as usize..range.end as usize;
        if id == EXPORT_ID {
            let Payload::ExportSection(reader) = payload else {
                return None;
            };
            for e in reader {
                let e = e.ok()?;
                leb(e.name.len() as u64, &mut entries);
                entries.extend_from_slice(e.name.as_bytes());
                entries.push(match e.kind {
                    wasmparser::ExternalKind::Func => 0,
                    wasmparser::ExternalKind::Table => 1,
                    wasmparser::ExternalKind::Memory => 2,
                    wasmparser::ExternalKind::Global => 3,
                    wasmparser::ExternalKind::Tag => 4,
                    _ => return None,
                });
                leb(e.index as u64, &mut entries);
                count += 1;
            }
            push_new(&mut entries, &mut count);
            write_section(&mut out, &entries, count);
            written = true;
            continue;
        }
        // The export section goes after globals (6) and before start (8) and the
        // rest; custom sections (0) stay where they are.
        if !written && id != 0 && section_order(id) > section_order(EXPORT_ID) {
            push_new(&mut entries, &mut count);
            write_section(&mut out, &entries, count);
            written = true;
        }
        // Copy the section header and body as they were.
        let header_start = section_header_start(wasm, range.start)?;
        out.extend_from_slice(&wasm[header_start..range.end]);
    }
    if !written {
        push_new(&mut entries, &mut count);
        write_section(&mut out, &entries, count);
    }
    Some(out)
}

/// Binary order of sections: by id, except that the tag section (13) sits between
/// memory (5) and global (6), and data count (12) between element (9) and code (10).
fn section_order(id: u8) -> u8 {
    const ORDER: [u8; 13] = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
    ORDER
        .iter()
        .position(|&x| x == id)
        .map_or(u8::MAX, |p| p as u8 + 1)
}

/// Where the section whose body starts at `body_start` begins (its id byte): walk back
/// over the LEB128 size.
pub(crate) fn section_header_start(wasm: &[u8], body_start: usize) -> Option<usize> {
    // The size is 1..=5 bytes; its last byte has the high bit clear, the others set.
    let mut i = body_start.checked_sub(1)?;
    if wasm[i] & 0x80 != 0 {
        return None;
    }
    while i > 0 && wasm[i - 1] & 0x80 != 0 {
        i -= 1;
    }
    i.checked_sub(1)
}

/// The cases generated from seeds `0..n` (seeds that give none left out), each checked to
/// validate with [`FEATURES`]: what the passes' tests run over.
#[cfg(test)]
pub(crate) fn valid_cases(n: u64) -> Vec<(u64, crate::fuzz::oracle::Case)> {
    (0..n)
        .filter_map(|seed| {
            let (case, ..) =
                crate::fuzz::oracle::Case::generate(&crate::fuzz::input::seed_bytes(seed))?;
            wasmparser::Validator::new_with_features(FEATURES)
                .validate_all(&case.wasm)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            Some((seed, case))
        })
        .collect()
}
