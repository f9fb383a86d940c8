//! The GC operators that need no heap object (RATIONALE.md, "Step 2b"): `ref.i31`,
//! `i31.get_*`, `ref.eq`, the conversions between `any` and `extern`, `ref.test`,
//! `ref.cast`, `br_on_cast` and `br_on_cast_fail`.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#reference-instructions>.
//! References are their raw form in an `i64` (`values/refs.rs`): 0 is null; in the
//! `any` and `extern` hierarchies an odd word is an `i31` (`v << 1 | 1`), `n << 2 | 2` a
//! host reference and a non-zero multiple of 8 an object (none is allocated yet). So
//! `ref.eq` compares words, the conversions are nothing, and a cast to an abstract type
//! tests bits inline; a cast to a concrete function type asks the `func_ref_has_type`
//! libcall for a non-null reference.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value, types};

use super::{Translator, block_args};
use crate::error::{Result, TrapKind};
use crate::native::libcalls::Libcall;
use crate::values::{HeapType, RefType, SubType, ValType};

use types::{I8, I32, I64};

/// The validated reference type of a cast operator (parsing refused what this does not
/// take, `module/parse.rs`).
fn ref_type(ty: wasmparser::RefType, types: &[SubType]) -> RefType {
    RefType::from_wasmparser_of(ty, types).unwrap_or(RefType::nullable(HeapType::None))
}

/// `(ref null? hty)`.
fn ref_type_of_heap(hty: wasmparser::HeapType, nullable: bool, types: &[SubType]) -> RefType {
    let ty = wasmparser::RefType::new(nullable, hty).unwrap_or(wasmparser::RefType::NULLREF);
    ref_type(ty, types)
}

impl Translator<'_, '_> {
    pub(super) fn ref_eq(&mut self) -> Result<()> {
        let b = self.pop();
        let a = self.pop();
        let eq = self.b.ins().icmp(IntCC::Equal, a, b);
        let v = self.b.ins().uextend(I32, eq);
        self.push(v);
        Ok(())
    }

    /// `any.convert_extern` and `extern.convert_any`: one raw form for both.
    pub(super) fn convert_reference(&mut self) -> Result<()> {
        Ok(())
    }

    /// `ref.i31`: the low 31 bits of the i32, shifted over the tag bit.
    pub(super) fn ref_i31(&mut self) -> Result<()> {
        let v = self.pop();
        let shifted = self.b.ins().ishl_imm_u(v, 1);
        let tagged = self.b.ins().bor_imm_u(shifted, 1);
        let raw = self.b.ins().uextend(I64, tagged);
        self.declare_roots(&[raw], &[ValType::Ref(RefType::non_null(HeapType::I31))]);
        self.push(raw);
        Ok(())
    }

    /// `i31.get_s` (`signed`) and `i31.get_u`: trap on null.
    pub(super) fn i31_get(&mut self, signed: bool) -> Result<()> {
        let raw = self.pop();
        let null = self.b.ins().icmp_imm_u(IntCC::Equal, raw, 0);
        self.trap_if(null, TrapKind::NullI31Reference);
        let low = self.b.ins().ireduce(I32, raw);
        let v = match signed {
            true => self.b.ins().sshr_imm_u(low, 1),
            false => self.b.ins().ushr_imm_u(low, 1),
        };
        self.push(v);
        Ok(())
    }

    pub(super) fn ref_test(&mut self, hty: wasmparser::HeapType, nullable: bool) -> Result<()> {
        let raw = self.pop();
        let admitted = self.admitted(raw, ref_type_of_heap(hty, nullable, &self.env.info.types));
        let v = self.b.ins().uextend(I32, admitted);
        self.push(v);
        Ok(())
    }

    /// `ref.cast`: traps unless the reference is of the type; it stays on the stack.
    pub(super) fn ref_cast(&mut self, hty: wasmparser::HeapType, nullable: bool) -> Result<()> {
        let raw = *self.stack.last().expect("validated operand stack");
        let admitted = self.admitted(raw, ref_type_of_heap(hty, nullable, &self.env.info.types));
        let refused = self.b.ins().bxor_imm_u(admitted, 1);
        self.trap_if(refused, TrapKind::CastFailure);
        Ok(())
    }

    /// `br_on_cast` (`on_fail` false) and `br_on_cast_fail`: branch with the reference
    /// (it stays on the stack either way) when it is (is not) of type `to`.
    pub(super) fn br_on_cast(
        &mut self,
        relative_depth: u32,
        to: wasmparser::RefType,
        on_fail: bool,
    ) -> Result<()> {
        let raw = *self.stack.last().expect("validated operand stack");
        let admitted = self.admitted(raw, ref_type(to, &self.env.info.types));
        let (target, n) = self.target(relative_depth);
        let args = self.peekn(n);
        let cont = self.b.create_block();
        match on_fail {
            false => self
                .b
                .ins()
                .brif(admitted, target, &block_args(&args), cont, &[]),
            true => self
                .b
                .ins()
                .brif(admitted, cont, &[], target, &block_args(&args)),
        };
        self.enter(cont);
        Ok(())
    }

    /// Whether reference `raw` is of type `ty` (an `i8`, 0 or 1).
    fn admitted(&mut self, raw: Value, ty: RefType) -> Value {
        let nullable = self.b.ins().iconst(I8, i64::from(ty.nullable));
        let object = match ty.heap {
            HeapType::Concrete(type_index) => {
                return self.asked(raw, nullable, Libcall::FuncRefHasType, &[type_index]);
            }
            HeapType::Struct => Some((0, 0)),
            HeapType::Array => Some((1, 0)),
            HeapType::ConcreteStruct(t) | HeapType::ConcreteArray(t) => Some((2, t)),
            _ => None,
        };
        if let Some((kind, type_index)) = object {
            return self.asked(raw, nullable, Libcall::GcRefTest, &[kind, type_index]);
        }
        let non_null = match ty.heap {
            HeapType::Any | HeapType::Extern | HeapType::Func | HeapType::Exn => {
                self.b.ins().iconst(I8, 1)
            }
            HeapType::I31 => self.is_i31(raw),
            // An `i31` or an object.
            HeapType::Eq => {
                let i31 = self.is_i31(raw);
                let low = self.b.ins().band_imm_u(raw, 7);
                let object = self.b.ins().icmp_imm_u(IntCC::Equal, low, 0);
                self.b.ins().bor(i31, object)
            }
            // A bottom type has no non-null value (struct and array types: above).
            HeapType::Struct
            | HeapType::Array
            | HeapType::ConcreteStruct(_)
            | HeapType::ConcreteArray(_)
            | HeapType::None
            | HeapType::NoExtern
            | HeapType::NoFunc
            | HeapType::NoExn
            | HeapType::Concrete(_) => self.b.ins().iconst(I8, 0),
        };
        let null = self.b.ins().icmp_imm_u(IntCC::Equal, raw, 0);
        self.b.ins().select(null, nullable, non_null)
    }

    fn is_i31(&mut self, raw: Value) -> Value {
        let tag = self.b.ins().band_imm_u(raw, 1);
        self.b.ins().icmp_imm_u(IntCC::NotEqual, tag, 0)
    }

    /// A cast's test that needs the runtime: `nullable` for a null `raw`, else the answer
    /// (0 or 1) of `libcall`, called with the vmctx, `raw` and the constants `args`:
    /// `func_ref_has_type` (is the function's type a subtype of the target?) or
    /// `gc_ref_test` (is the object of the kind or type?, read from its header).
    fn asked(&mut self, raw: Value, nullable: Value, libcall: Libcall, args: &[u32]) -> Value {
        let ask = self.b.create_block();
        let done = self.b.create_block();
        let admitted = self.b.append_block_param(done, I8);
        self.b
            .ins()
            .brif(raw, ask, &[], done, &block_args(&[nullable]));
        self.enter(ask);
        let mut call_args = vec![self.vmctx, raw];
        call_args.extend(args.iter().map(|a| self.b.ins().iconst(I32, i64::from(*a))));
        let answer = self.libcall(libcall, &call_args)[0];
        let answer = self.b.ins().ireduce(I8, answer);
        self.b.ins().jump(done, &block_args(&[answer]));
        self.enter(done);
        admitted
    }
}
