//! Candidate imports for wasm-smith (`Config::available_imports`): a module of host
//! functions of every arity up to [`MAX_PARAMS`] with mixed parameter types, plus a
//! global, a memory and a table now and then, drawn per input. wasm-smith takes each
//! candidate or leaves it (one in two), so a module made this way imports a few of
//! them and nothing else.
//!
//! Left to itself wasm-smith imports a function in about 1 module of 10, and one of 3
//! or more parameters in about 1 of those 10: an argument-order bug in the host-call
//! path of wide functions went unseen (issue 14). See RATIONALE.md ("A host that
//! fights back").

use arbitrary::{Result, Unstructured};
use wasm_encoder::{
    EntityType, GlobalType, ImportSection, MemoryType, Module, RefType, TableType, TypeSection,
    ValType,
};

/// The widest host function offered.
pub const MAX_PARAMS: u32 = 8;

/// The import module name of the candidates.
pub const MODULE: &str = "host";

/// The candidate module for a generator configured as `config` (its features decide
/// which value types appear: v128 with SIMD, references with reference types, two
/// results with multi-value).
pub fn candidates(u: &mut Unstructured, config: &wasm_smith::Config) -> Result<Vec<u8>> {
    let mut value_types = vec![ValType::I32, ValType::I64, ValType::F32, ValType::F64];
    if config.simd_enabled {
        value_types.push(ValType::V128);
    }
    if config.reference_types_enabled {
        value_types.push(ValType::FUNCREF);
        value_types.push(ValType::EXTERNREF);
    }
    let max_results = if config.multi_value_enabled { 2 } else { 1 };
    let mut types = TypeSection::new();
    let mut imports = ImportSection::new();
    let funcs = u.int_in_range(3..=6)?;
    for i in 0..funcs {
        // Uniform arity: two functions in three have 3 or more parameters.
        let params = (0..u.int_in_range(0..=MAX_PARAMS)?)
            .map(|_| u.choose(&value_types).copied())
            .collect::<Result<Vec<_>>>()?;
        let results = (0..u.int_in_range(0..=max_results)?)
            .map(|_| u.choose(&value_types).copied())
            .collect::<Result<Vec<_>>>()?;
        types.ty().function(params, results);
        imports.import(MODULE, &format!("f{i}"), EntityType::Function(i));
    }
    if u.ratio(1, 2)? {
        let val_type = *u.choose(&value_types[..4])?;
        let mutable = u.arbitrary()?;
        imports.import(
            MODULE,
            "global",
            GlobalType {
                val_type,
                mutable,
                shared: false,
            },
        );
    }
    // 32-bit and with a maximum, like the memories and tables the generator defines
    // (`generate::config`), so a module that takes them stays within its bounds.
    if config.max_memories > 0 && u.ratio(1, 2)? {
        let minimum = u.int_in_range(0..=1)?;
        let maximum = u.int_in_range(minimum..=4)?;
        imports.import(
            MODULE,
            "memory",
            MemoryType {
                minimum,
                maximum: Some(maximum),
                memory64: false,
                shared: false,
                page_size_log2: None,
            },
        );
    }
    if config.max_tables > 0 && u.ratio(1, 2)? {
        let minimum = u.int_in_range(0..=8)?;
        let maximum = u.int_in_range(minimum..=16)?;
        imports.import(
            MODULE,
            "table",
            TableType {
                element_type: RefType::FUNCREF,
                table64: false,
                minimum,
                maximum: Some(maximum),
                shared: false,
            },
        );
    }
    let mut module = Module::new();
    module.section(&types).section(&imports);
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every candidate module is valid for the validator wasm-smith checks it with, for
    /// any configuration drawn (wasm-smith panics on an invalid one).
    #[test]
    fn candidate_modules_are_valid() {
        for seed in 0..200u64 {
            let bytes = crate::fuzz::input::seed_bytes(seed);
            let mut u = Unstructured::new(&bytes);
            let config = crate::fuzz::generate::config(&mut u).unwrap();
            let wasm = candidates(&mut u, &config).unwrap();
            wasmparser::Validator::new()
                .validate_all(&wasm)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
    }
}
