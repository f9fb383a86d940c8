//! The GC operators that need no heap object (RATIONALE.md, "Step 2b"): `ref.i31`,
//! `i31.get_*`, `ref.eq`, the conversions between `any` and `extern`, `ref.test`,
//! `ref.cast`, `br_on_cast` and `br_on_cast_fail`. Most become a `Gc` instruction
//! (`interp/gc.rs`); `ref.eq` is `I64Eq` (raw forms are canonical: null is 0 and an
//! `i31` has one form) and the conversions are nothing (one raw form).
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#reference-instructions>.

use super::{Operand, Translator};
use crate::interp::bytecode::Instr;
use crate::interp::gc::{CastTarget, GcOp};
use crate::store::gc::ObjectOp;
use crate::store::gc::layout::{Access, array_element, struct_field, struct_field_count};
use crate::values::{HeapType, RefType, SubType};

/// The cast target of a validated operator's reference type, and the concrete type index
/// it names (0 if none).
pub(super) fn cast_target(ty: wasmparser::RefType, types: &[SubType]) -> (CastTarget, u32) {
    // Parsing refused every type `from_wasmparser_of` does not take (`refuse_gc_in_body`).
    let r = RefType::from_wasmparser_of(ty, types).unwrap_or(RefType::nullable(HeapType::None));
    let index = r.heap.concrete().unwrap_or(0);
    (CastTarget::new(r.heap, r.nullable), index)
}

/// [`cast_target`] of `(ref null? hty)`.
pub(super) fn cast_target_of_heap(
    hty: wasmparser::HeapType,
    nullable: bool,
    types: &[SubType],
) -> (CastTarget, u32) {
    let ty = wasmparser::RefType::new(nullable, hty).unwrap_or(wasmparser::RefType::NULLREF);
    cast_target(ty, types)
}

impl Translator<'_> {
    /// An operator with one operand and one result, as a `Gc` instruction.
    pub(super) fn op_gc_unary(&mut self, op: GcOp, type_index: u32) {
        let src = self.pop_slot();
        let dst = self.next_slot();
        self.emit_result(Instr::Gc {
            op,
            dst,
            src,
            type_index,
        });
    }

    /// `ref.cast`: traps unless the top operand is of the target type; it stays in
    /// place.
    pub(super) fn op_ref_cast(&mut self, (target, type_index): (CastTarget, u32)) {
        let src = self.top_slot();
        self.emit(Instr::Gc {
            op: GcOp::Cast(target),
            dst: src,
            src,
            type_index,
        });
    }

    /// `br_on_cast` (`on_fail` false) and `br_on_cast_fail`: the test goes to the slot
    /// above the reference, and the branch (with the reference, which stays on the stack
    /// either way) reads it before any value moves.
    pub(super) fn op_br_on_cast(
        &mut self,
        depth: u32,
        (target, type_index): (CastTarget, u32),
        on_fail: bool,
    ) {
        let src = self.top_slot();
        let cond = self.next_slot();
        self.emit(Instr::Gc {
            op: GcOp::Test(target),
            dst: cond,
            src,
            type_index,
        });
        // Counted in the frame's height, then free again.
        self.push(Operand::Stack);
        self.pop_op();
        let when_admitted = Instr::BrIfNez { cond, target: 0 };
        let when_refused = Instr::BrIfEqz { cond, target: 0 };
        match on_fail {
            false => self.branch_on(depth, when_admitted, when_refused),
            true => self.branch_on(depth, when_refused, when_admitted),
        }
    }
}

/// What a `Gc` instruction leaves on the operand stack.
#[derive(Clone, Copy)]
pub(super) enum GcResult {
    None,
    Scalar,
    /// A `v128`.
    Wide,
}

impl GcResult {
    pub(super) fn of_access(access: Access) -> GcResult {
        match access.is_wide() {
            true => GcResult::Wide,
            false => GcResult::Scalar,
        }
    }
}

impl Translator<'_> {
    /// A `Gc` instruction whose `operands` top operands are read from consecutive slots
    /// (`interp/gc.rs`), followed by `Extra { a: extra }` if given.
    pub(super) fn op_gc_n(
        &mut self,
        op: GcOp,
        operands: usize,
        type_index: u32,
        result: GcResult,
        extra: Option<u32>,
    ) {
        self.materialize_top(operands);
        let first = self.stack.len() - operands;
        let src = self.canonical(first);
        self.truncate_stack(first);
        let dst = self.next_slot();
        let instr = Instr::Gc {
            op,
            dst,
            src,
            type_index,
        };
        match result {
            GcResult::None => {
                self.emit(instr);
            }
            GcResult::Scalar => self.emit_result(instr),
            GcResult::Wide => self.emit_result_w(instr, true),
        }
        // The result's slot stays counted in the frame even if an `Extra` follows.
        if let Some(a) = extra {
            self.emit_extra(a, 0);
        }
    }

    pub(super) fn op_struct_new(&mut self, type_index: u32, default: bool) {
        let (op, n) = match default {
            true => (GcOp::Object(ObjectOp::StructNewDefault), 0),
            false => (
                GcOp::Object(ObjectOp::StructNew),
                struct_field_count(&self.info.types, type_index) as usize,
            ),
        };
        self.op_gc_n(op, n, type_index, GcResult::Scalar, None);
    }

    /// `struct.get*` (`signed` for `_s`); its field's byte offset goes in `type_index`.
    pub(super) fn op_struct_get(&mut self, type_index: u32, field: u32, signed: bool) {
        let (offset, storage) = struct_field(&self.info.types, type_index, field);
        let access = Access::of(storage, signed);
        self.op_gc_n(
            GcOp::Object(ObjectOp::StructGet(access)),
            1,
            offset,
            GcResult::of_access(access),
            None,
        );
    }

    /// `struct.set`: the struct and the value from `src` on.
    pub(super) fn op_struct_set(&mut self, type_index: u32, field: u32) {
        let (offset, storage) = struct_field(&self.info.types, type_index, field);
        let op = GcOp::Object(ObjectOp::StructSet(Access::of(storage, false)));
        self.op_gc_n(op, 2, offset, GcResult::None, None);
    }

    /// The access to elements of array type `type_index` (`signed` for `_s` reads).
    pub(super) fn array_access(&self, type_index: u32, signed: bool) -> Access {
        Access::of(array_element(&self.info.types, type_index), signed)
    }
}
