//! Code placement: the same workload with its code at other addresses.
//!
//! A function's speed on native code depends on where it lands (loop headers are not
//! aligned, and functions are placed one after another at the code buffer's minimum
//! alignment), so one build's time is one draw from a spread (RATIONALE.md, "Code placement
//! and benchmark ratios"). [`with_pad`] moves every function of a module by putting a pad
//! function of a chosen size before the first one; the `placements` binary times a
//! workload over several pad sizes.

use std::convert::Infallible;

use anyhow::{Result, anyhow, bail};
use wasm_encoder::reencode::{Error, Reencode, utils};
use wasm_encoder::{CodeSection, FunctionSection, Instruction, TypeSection, ValType};

/// `wasm` with a pad function inserted before its first defined function: every later
/// function index goes up by one (calls, exports, element segments, `ref.func`, the start
/// function and the name section follow). The pad is never called; its body is `ops`
/// operations `x = x * x + y` on its two `i32` parameters, which no compiler folds away, so
/// its code grows with `ops` (by about 7 bytes each on x86-64).
pub fn with_pad(wasm: &[u8], ops: u32) -> Result<Vec<u8>> {
    let counts = count_types_and_imported_functions(wasm)?;
    let mut pad = PadFirst {
        imported_functions: counts.imported_functions,
        pad_type: counts.types,
        ops,
    };
    let mut module = wasm_encoder::Module::new();
    pad.parse_core_module(&mut module, wasmparser::Parser::new(0), wasm)
        .map_err(|e| anyhow!("adding a pad function: {e}"))?;
    Ok(module.finish())
}

struct Counts {
    types: u32,
    imported_functions: u32,
}

fn count_types_and_imported_functions(wasm: &[u8]) -> Result<Counts> {
    let mut counts = Counts {
        types: 0,
        imported_functions: 0,
    };
    let mut has_code = false;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload? {
            wasmparser::Payload::TypeSection(section) => {
                for group in section {
                    counts.types += u32::try_from(group?.types().len())?;
                }
            }
            wasmparser::Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    if let wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_) =
                        import?.ty
                    {
                        counts.imported_functions += 1;
                    }
                }
            }
            wasmparser::Payload::CodeSectionStart { count, .. } => has_code = count > 0,
            _ => {}
        }
    }
    if !has_code {
        bail!("the module defines no function to move");
    }
    Ok(counts)
}

/// The reencoder that inserts the pad: a new type at the end of the type section (no
/// existing type index moves; a module that defines functions has a type section), the
/// pad first in the function and code sections, and every defined function's index
/// shifted by one.
struct PadFirst {
    imported_functions: u32,
    pad_type: u32,
    ops: u32,
}

impl Reencode for PadFirst {
    type Error = Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, Error<Infallible>> {
        Ok(if func < self.imported_functions {
            func
        } else {
            func + 1
        })
    }

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), Error<Infallible>> {
        utils::parse_type_section(self, types, section)?;
        types
            .ty()
            .function([ValType::I32, ValType::I32], [ValType::I32]);
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), Error<Infallible>> {
        functions.function(self.pad_type);
        utils::parse_function_section(self, functions, section)
    }

    fn parse_code_section(
        &mut self,
        code: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), Error<Infallible>> {
        let mut pad = wasm_encoder::Function::new([]);
        for _ in 0..self.ops {
            pad.instructions()
                .local_get(0)
                .local_get(0)
                .i32_mul()
                .local_get(1)
                .i32_add()
                .local_set(0);
        }
        pad.instruction(&Instruction::LocalGet(0));
        pad.instruction(&Instruction::End);
        code.function(&pad);
        utils::parse_code_section(self, code, section)
    }
}
