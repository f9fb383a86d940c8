//! Which Wasm 3.0 features a generated module uses, for the statistics: a module uses a
//! feature when it no longer validates without it. That counts what the engines were
//! actually given, not what the generator was allowed to make (a config with tail calls
//! on often makes no `return_call`).

use wasmparser::{Validator, WasmFeatures};

/// The Wasm 3.0 features the generator makes (GC aside), with the names the statistics use.
pub const WASM3: [(&str, WasmFeatures); 7] = [
    ("multi-memory", WasmFeatures::MULTI_MEMORY),
    ("memory64", WasmFeatures::MEMORY64),
    ("extended const", WasmFeatures::EXTENDED_CONST),
    ("relaxed SIMD", WasmFeatures::RELAXED_SIMD),
    ("tail calls", WasmFeatures::TAIL_CALL),
    ("typed func refs", WasmFeatures::FUNCTION_REFERENCES),
    ("exceptions", WasmFeatures::EXCEPTIONS),
];

/// The names of the [`WASM3`] features among `enabled` that module `wasm` (valid with
/// `enabled`) needs. One validation when it needs none.
pub fn used(wasm: &[u8], enabled: WasmFeatures) -> Vec<&'static str> {
    let validates = |features: WasmFeatures| {
        Validator::new_with_features(features)
            .validate_all(wasm)
            .is_ok()
    };
    let all = WASM3
        .iter()
        .fold(WasmFeatures::empty(), |acc, (_, f)| acc | *f);
    if validates(enabled - all) {
        return Vec::new();
    }
    WASM3
        .iter()
        .filter(|(_, f)| enabled.contains(*f) && !validates(enabled - *f))
        .map(|(name, _)| *name)
        .collect()
}
