//! The struct and array operators (RATIONALE.md, "Garbage collection", step 4): each is
//! one call of the `gc_object_op` libcall, which runs the store's implementation, the
//! interpreter's too (`store/gc/ops.rs`), on operands spilled to a stack buffer of raw
//! cells, and leaves the result in the buffer's first cell. Casts to struct, array and
//! concrete struct and array types ask `gc_ref_test` about an object (`gc.rs`).
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#aggregate-instructions>.

use cranelift_codegen::ir::{InstBuilder, StackSlotData, StackSlotKind, Type, types};

use super::Translator;
use super::gc_roots::is_gc_root;
use super::trampolines::{load_raw, store_raw};
use crate::error::Result;
use crate::native::abi::clif_type;
use crate::native::libcalls::Libcall;
use crate::store::gc::ObjectOp;
use crate::store::gc::layout::{Access, array_element, struct_field, struct_field_count};
use crate::values::StorageType;

/// Bytes of a raw cell of the buffer.
const CELL: u32 = 16;

/// An operator's result: its Cranelift type, and whether it is a reference a
/// collection must find (a new object, or an `any`/`extern` field or element).
#[derive(Clone, Copy)]
struct ObjectResult {
    ty: Type,
    root: bool,
}

/// A new object.
const OBJECT: Option<ObjectResult> = Some(ObjectResult {
    ty: types::I64,
    root: true,
});

/// The result of reading a field or element of `storage`.
fn read_result(storage: StorageType) -> Option<ObjectResult> {
    let t = storage.unpacked();
    Some(ObjectResult {
        ty: clif_type(t),
        root: is_gc_root(t),
    })
}

impl Translator<'_, '_> {
    /// Runs `op` with immediate `imm` and `extra` on its operands from the stack
    /// (`fields` is a `struct.new`'s field count), pushing its result, of type `result`.
    fn object_op(
        &mut self,
        op: ObjectOp,
        (imm, extra, fields): (u32, u32, u32),
        result: Option<ObjectResult>,
    ) -> Result<()> {
        let n = op.operands(fields, extra) as usize;
        let operands = self.stack.split_off(self.stack.len() - n);
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            n.max(1) as u32 * CELL,
            4,
        ));
        let buf = self.b.ins().stack_addr(types::I64, slot, 0);
        for (i, v) in operands.into_iter().enumerate() {
            store_raw(&mut self.b, v, buf, i);
        }
        let args = [op.code(), imm, extra, n as u32, self.defined]
            .map(|v| self.b.ins().iconst(types::I32, i64::from(v)));
        // This function's frame pointer and index: where a collection starts looking for
        // the references of the suspended frames (`stack_roots::for_each_root_at`).
        let fp = self.b.ins().get_frame_pointer(types::I64);
        let vmctx = self.vmctx;
        let call = [vmctx, args[0], args[1], args[2], buf, args[3], fp, args[4]];
        self.libcall(Libcall::GcObjectOp, &call);
        self.check_trap();
        if let Some(ObjectResult { ty, root }) = result {
            let v = load_raw(&mut self.b, ty, buf, 0);
            if root {
                // A reference a later collection must find (`gc_roots.rs`).
                self.b.declare_value_needs_stack_map(v);
            }
            self.push(v);
        }
        Ok(())
    }

    pub(super) fn struct_new(&mut self, type_index: u32, default: bool) -> Result<()> {
        let fields = struct_field_count(&self.env.info.types, type_index);
        let op = match default {
            true => ObjectOp::StructNewDefault,
            false => ObjectOp::StructNew,
        };
        self.object_op(op, (type_index, 0, fields), OBJECT)
    }

    pub(super) fn struct_get(&mut self, type_index: u32, field: u32, signed: bool) -> Result<()> {
        let (offset, storage) = struct_field(&self.env.info.types, type_index, field);
        let op = ObjectOp::StructGet(Access::of(storage, signed));
        self.object_op(op, (offset, 0, 0), read_result(storage))
    }

    pub(super) fn struct_set(&mut self, type_index: u32, field: u32) -> Result<()> {
        let (offset, storage) = struct_field(&self.env.info.types, type_index, field);
        self.object_op(
            ObjectOp::StructSet(Access::of(storage, false)),
            (offset, 0, 0),
            None,
        )
    }

    fn array_access(&self, type_index: u32, signed: bool) -> Access {
        Access::of(array_element(&self.env.info.types, type_index), signed)
    }

    /// `array.new*`: `op`, with `array.new_fixed`'s count or the segment in `extra`.
    pub(super) fn array_new(&mut self, type_index: u32, op: ObjectOp, extra: u32) -> Result<()> {
        self.object_op(op, (type_index, extra, 0), OBJECT)
    }

    pub(super) fn array_get(&mut self, type_index: u32, signed: bool) -> Result<()> {
        let storage = array_element(&self.env.info.types, type_index);
        let access = self.array_access(type_index, signed);
        self.object_op(
            ObjectOp::ArrayGet(access),
            (type_index, 0, 0),
            read_result(storage),
        )
    }

    /// `array.set`, `array.fill`, `array.copy` (of the destination's type) and
    /// `array.init_data`: `op` of the array's access.
    pub(super) fn array_bulk(
        &mut self,
        type_index: u32,
        op: fn(Access) -> ObjectOp,
        extra: u32,
    ) -> Result<()> {
        let access = self.array_access(type_index, false);
        self.object_op(op(access), (type_index, extra, 0), None)
    }

    pub(super) fn array_len(&mut self) -> Result<()> {
        let len = ObjectResult {
            ty: types::I32,
            root: false,
        };
        self.object_op(ObjectOp::ArrayLen, (0, 0, 0), Some(len))
    }

    pub(super) fn array_init_elem(&mut self, type_index: u32, elem: u32) -> Result<()> {
        self.object_op(ObjectOp::ArrayInitElem, (type_index, elem, 0), None)
    }
}
