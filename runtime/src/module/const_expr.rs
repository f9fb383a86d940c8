//! Constant expressions, used by global initialisers and segment offsets.
//!
//! Spec: <https://webassembly.github.io/spec/core/valid/instructions.html#constant-expressions>.
//! Kept as a tiny op list (not a single value) so that extended-const can come later.

use crate::error::{CompileError, Result};
use crate::values::{AnyRef, CompositeType, I31, RefType, SubType};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConstOp {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull(RefType),
    RefFunc(u32),
    /// `ref.i31` of the i32 on top.
    RefI31,
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
    /// `struct.new` of type `type_index` (module index space), its `fields` operands on top.
    StructNew {
        type_index: u32,
        fields: u32,
    },
    StructNewDefault(u32),
    /// `array.new`: the initial value and the length on top.
    ArrayNew(u32),
    /// `array.new_default`: the length on top.
    ArrayNewDefault(u32),
    /// `array.new_fixed`: `len` elements on top.
    ArrayNewFixed {
        type_index: u32,
        len: u32,
    },
}

/// What a constant expression reads from the instance being made, and how it makes GC
/// objects (the store's heap: `store/instantiate.rs`).
pub(crate) trait ConstEnv {
    /// The raw cell of global `g` (module index space).
    fn global(&self, g: u32) -> u128;
    /// The raw funcref of function `f` (module index space).
    fn func_ref(&self, f: u32) -> u64;
    /// Runs `op`, one of the object-making operators, on its `operands` (in stack order),
    /// giving the new object's raw reference.
    fn new_object(&mut self, op: ConstOp, operands: &[u128]) -> Result<u128>;
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConstExpr(pub Vec<ConstOp>);

impl ConstExpr {
    /// The constant expression `expr` of a module whose type definitions so far are
    /// `types` (a `ref.null` of a concrete type gets its kind from them).
    pub(crate) fn from_wasmparser(
        expr: &wasmparser::ConstExpr<'_>,
        types: &[SubType],
    ) -> Result<ConstExpr, CompileError> {
        use wasmparser::Operator as O;
        let mut ops = Vec::new();
        let mut reader = expr.get_operators_reader();
        while !reader.eof() {
            let op = reader.read().map_err(super::parse::malformed)?;
            ops.push(match op {
                O::I32Const { value } => ConstOp::I32(value),
                O::I64Const { value } => ConstOp::I64(value),
                O::F32Const { value } => ConstOp::F32(value.bits()),
                O::F64Const { value } => ConstOp::F64(value.bits()),
                O::V128Const { value } => ConstOp::V128(value.i128() as u128),
                O::RefNull { hty } => ConstOp::RefNull(
                    wasmparser::RefType::new(true, hty)
                        .and_then(|r| RefType::from_wasmparser_of(r, types))
                        .ok_or_else(|| {
                            super::parse::gc_unsupported(
                                "a null of a GC heap type",
                                reader.original_position(),
                            )
                        })?,
                ),
                O::RefFunc { function_index } => ConstOp::RefFunc(function_index),
                O::RefI31 => ConstOp::RefI31,
                // `any` and `extern` share their raw form: converting is nothing.
                O::AnyConvertExtern | O::ExternConvertAny => continue,
                O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
                O::I32Add => ConstOp::I32Add,
                O::I32Sub => ConstOp::I32Sub,
                O::I32Mul => ConstOp::I32Mul,
                O::I64Add => ConstOp::I64Add,
                O::I64Sub => ConstOp::I64Sub,
                O::I64Mul => ConstOp::I64Mul,
                O::StructNew { struct_type_index } => {
                    let fields = match types.get(struct_type_index as usize).map(|t| &t.composite) {
                        Some(CompositeType::Struct(s)) => s.fields.len() as u32,
                        _ => 0, // validation: a struct type
                    };
                    ConstOp::StructNew {
                        type_index: struct_type_index,
                        fields,
                    }
                }
                O::StructNewDefault { struct_type_index } => {
                    ConstOp::StructNewDefault(struct_type_index)
                }
                O::ArrayNew { array_type_index } => ConstOp::ArrayNew(array_type_index),
                O::ArrayNewDefault { array_type_index } => {
                    ConstOp::ArrayNewDefault(array_type_index)
                }
                O::ArrayNewFixed {
                    array_type_index,
                    array_size,
                } => ConstOp::ArrayNewFixed {
                    type_index: array_type_index,
                    len: array_size,
                },
                O::End => continue,
                other if super::parse::gc_operator_name(&other).is_some() => {
                    return Err(super::parse::gc_unsupported(
                        &format!("constant expression operator {other:?}"),
                        reader.original_position(),
                    ));
                }
                other => {
                    return Err(CompileError {
                        kind: crate::error::CompileErrorKind::Unsupported,
                        message: format!("constant expression operator {other:?}"),
                        offset: Some(reader.original_position()),
                    });
                }
            });
        }
        Ok(ConstExpr(ops))
    }

    /// Whether evaluating it makes a GC object.
    pub(crate) fn makes_objects(&self) -> bool {
        self.0.iter().any(|op| op.operands().is_some())
    }

    /// Evaluates to a raw cell (see `Value::to_raw`; a `v128` uses all 128 bits); fails
    /// only when making an object fails (a full GC heap).
    pub(crate) fn eval(&self, env: &mut impl ConstEnv) -> Result<u128> {
        // Most constant expressions are one constant, function reference or global (every
        // segment offset and element of a Wasm 2.0 module): no stack to allocate.
        if let [op] = self.0[..] {
            match op {
                ConstOp::I32(v) => return Ok(v as u32 as u128),
                ConstOp::I64(v) => return Ok(v as u64 as u128),
                ConstOp::RefNull(_) => return Ok(0),
                ConstOp::RefFunc(i) => return Ok(env.func_ref(i) as u128),
                ConstOp::GlobalGet(i) => return Ok(env.global(i)),
                _ => {}
            }
        }
        let mut stack: Vec<u128> = Vec::with_capacity(2);
        for op in &self.0 {
            if let Some(n) = op.operands() {
                // Validation guarantees the operands.
                let at = stack.len().saturating_sub(n as usize);
                let v = env.new_object(*op, &stack[at..])?;
                stack.truncate(at);
                stack.push(v);
                continue;
            }
            let v = match *op {
                ConstOp::I32(v) => v as u32 as u128,
                ConstOp::I64(v) => v as u64 as u128,
                ConstOp::F32(v) => v as u128,
                ConstOp::F64(v) => v as u128,
                ConstOp::V128(v) => v,
                ConstOp::RefNull(_) => 0,
                ConstOp::RefFunc(i) => env.func_ref(i) as u128,
                ConstOp::GlobalGet(i) => env.global(i),
                ConstOp::RefI31 => {
                    // Validation guarantees an i32 operand.
                    let v = stack.pop().unwrap_or(0) as u32 as i32;
                    u128::from(AnyRef::I31(I31::wrapping(v)).to_raw())
                }
                bin => {
                    // Validation guarantees two operands of the right type.
                    let b = stack.pop().unwrap_or(0) as u64;
                    let a = stack.pop().unwrap_or(0) as u64;
                    (match bin {
                        ConstOp::I32Add => (a as u32).wrapping_add(b as u32) as u64,
                        ConstOp::I32Sub => (a as u32).wrapping_sub(b as u32) as u64,
                        ConstOp::I32Mul => (a as u32).wrapping_mul(b as u32) as u64,
                        ConstOp::I64Add => a.wrapping_add(b),
                        ConstOp::I64Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    }) as u128
                }
            };
            stack.push(v);
        }
        Ok(stack.pop().unwrap_or(0))
    }
}

impl ConstOp {
    /// How many operands an object-making operator takes; `None` for the others.
    fn operands(&self) -> Option<u32> {
        match *self {
            ConstOp::StructNew { fields, .. } => Some(fields),
            ConstOp::StructNewDefault(_) => Some(0),
            ConstOp::ArrayNew(_) => Some(2),
            ConstOp::ArrayNewDefault(_) => Some(1),
            ConstOp::ArrayNewFixed { len, .. } => Some(len),
            _ => None,
        }
    }
}
