//! The translator as a wasmparser `VisitOperator`: one method per operator.
//!
//! Every operator the interpreter implements has its own method, written here or
//! generated from one of the interpreter's lists (`generated.rs`), so an operator missing
//! from both is a missing trait method, a compile error. The operators of proposals the
//! interpreter does not implement come from wasmparser's own list and are refused as
//! `Unsupported`.

use wasmparser::{
    BlockType, BrTable, HeapType, Ieee32, Ieee64, MemArg, RefType, ValType, VisitOperator,
};

use super::gc::{GcResult, cast_target, cast_target_of_heap};
use super::generated::generated_visits;
use super::{CtrlKind, Operand, Translator};
use crate::error::Result;
use crate::interp::bytecode::{Instr, for_each_numeric};
use crate::interp::gc::GcOp;
use crate::store::gc::ObjectOp;

/// Defines `listed_numeric!(Op => visit_method)`: the visit method of `Op` if
/// `for_each_numeric!` lists it (a plain unary or binary instruction of the same name),
/// nothing otherwise.
/// (`$visit` and `$other` are not bound here: they pass through as written and become
/// the generated macro's own metavariables.)
macro_rules! define_listed_numeric {
    (
        unary: [$($un:ident),*],
        unary_trap: [$($unt:ident),*],
        binary: [$($bin:ident),*],
        binary_trap: [$($bint:ident),*],
    ) => {
        macro_rules! listed_numeric {
            $(($un => $visit:ident) => {
                fn $visit(&mut self) -> Self::Output {
                    self.unary(|dst, src| Instr::$un { dst, src });
                    Ok(())
                }
            };)*
            $(($unt => $visit:ident) => {
                fn $visit(&mut self) -> Self::Output {
                    self.unary(|dst, src| Instr::$unt { dst, src });
                    Ok(())
                }
            };)*
            $(($bin => $visit:ident) => {
                fn $visit(&mut self) -> Self::Output {
                    self.binary(|dst, lhs, rhs| Instr::$bin { dst, lhs, rhs });
                    Ok(())
                }
            };)*
            $(($bint => $visit:ident) => {
                fn $visit(&mut self) -> Self::Output {
                    self.binary(|dst, lhs, rhs| Instr::$bint { dst, lhs, rhs });
                    Ok(())
                }
            };)*
            ($other:ident => $visit:ident) => {};
        }
    };
}
for_each_numeric!(define_listed_numeric);

impl<'a> VisitOperator<'a> for Translator<'_> {
    type Output = Result<()>;

    fn simd_visitor(
        &mut self,
    ) -> Option<&mut dyn wasmparser::VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }

    wasmparser::for_each_visit_operator!(generated_visits);

    // --- Control ---

    fn visit_unreachable(&mut self) -> Self::Output {
        self.emit(Instr::Unreachable);
        self.reachable = false;
        Ok(())
    }

    fn visit_nop(&mut self) -> Self::Output {
        Ok(())
    }

    fn visit_block(&mut self, blockty: BlockType) -> Self::Output {
        self.enter_block(CtrlKind::Block, blockty, None)
    }

    fn visit_loop(&mut self, blockty: BlockType) -> Self::Output {
        self.enter_block(CtrlKind::Loop, blockty, None)
    }

    fn visit_if(&mut self, blockty: BlockType) -> Self::Output {
        self.op_if(blockty)
    }

    fn visit_else(&mut self) -> Self::Output {
        self.op_else();
        Ok(())
    }

    fn visit_end(&mut self) -> Self::Output {
        self.op_end();
        Ok(())
    }

    fn visit_br(&mut self, relative_depth: u32) -> Self::Output {
        self.op_br(relative_depth);
        Ok(())
    }

    fn visit_br_if(&mut self, relative_depth: u32) -> Self::Output {
        self.op_br_if(relative_depth);
        Ok(())
    }

    fn visit_br_table(&mut self, targets: BrTable<'a>) -> Self::Output {
        let mut depths = Vec::with_capacity(targets.len() as usize + 1);
        for t in targets.targets() {
            depths.push(t.map_err(super::malformed)?);
        }
        depths.push(targets.default());
        self.op_br_table(depths);
        Ok(())
    }

    fn visit_return(&mut self) -> Self::Output {
        self.op_return();
        Ok(())
    }

    fn visit_call(&mut self, function_index: u32) -> Self::Output {
        self.op_call(function_index);
        Ok(())
    }

    fn visit_call_indirect(&mut self, type_index: u32, table_index: u32) -> Self::Output {
        self.narrow_table_index(table_index)?;
        self.op_call_indirect(type_index, table_index);
        Ok(())
    }

    fn visit_return_call(&mut self, function_index: u32) -> Self::Output {
        self.op_return_call(function_index);
        Ok(())
    }

    fn visit_return_call_indirect(&mut self, type_index: u32, table_index: u32) -> Self::Output {
        self.narrow_table_index(table_index)?;
        self.op_return_call_indirect(type_index, table_index);
        Ok(())
    }

    fn visit_call_ref(&mut self, type_index: u32) -> Self::Output {
        self.op_call_ref(type_index);
        Ok(())
    }

    fn visit_return_call_ref(&mut self, type_index: u32) -> Self::Output {
        self.op_return_call_ref(type_index);
        Ok(())
    }

    fn visit_ref_as_non_null(&mut self) -> Self::Output {
        self.op_ref_as_non_null();
        Ok(())
    }

    fn visit_br_on_null(&mut self, relative_depth: u32) -> Self::Output {
        self.op_br_on_null(relative_depth);
        Ok(())
    }

    fn visit_br_on_non_null(&mut self, relative_depth: u32) -> Self::Output {
        self.op_br_on_non_null(relative_depth);
        Ok(())
    }

    fn visit_try_table(&mut self, try_table: wasmparser::TryTable) -> Self::Output {
        self.op_try_table(try_table)
    }

    fn visit_throw(&mut self, tag_index: u32) -> Self::Output {
        self.op_throw(tag_index);
        Ok(())
    }

    fn visit_throw_ref(&mut self) -> Self::Output {
        self.op_throw_ref();
        Ok(())
    }

    fn visit_drop(&mut self) -> Self::Output {
        self.pop_op();
        self.last_def = None;
        Ok(())
    }

    fn visit_select(&mut self) -> Self::Output {
        self.op_select();
        Ok(())
    }

    fn visit_typed_select(&mut self, _ty: ValType) -> Self::Output {
        self.op_select();
        Ok(())
    }

    fn visit_typed_select_multi(&mut self, _tys: Vec<ValType>) -> Self::Output {
        // Validation rejects a `select` with several results.
        Err(crate::error::Error::unsupported(
            "interpreter: select with several results is not supported",
        ))
    }

    // --- Variables ---

    fn visit_local_get(&mut self, local_index: u32) -> Self::Output {
        let i = local_index as usize;
        self.push_w(Operand::Local(self.local_slots[i]), self.local_wide[i]);
        Ok(())
    }

    fn visit_local_set(&mut self, local_index: u32) -> Self::Output {
        self.local_set(local_index, false);
        Ok(())
    }

    fn visit_local_tee(&mut self, local_index: u32) -> Self::Output {
        self.local_set(local_index, true);
        Ok(())
    }

    fn visit_global_get(&mut self, global_index: u32) -> Self::Output {
        self.op_global_get(global_index);
        Ok(())
    }

    fn visit_global_set(&mut self, global_index: u32) -> Self::Output {
        self.op_global_set(global_index);
        Ok(())
    }

    // --- Constants and reinterpretations ---

    fn visit_i32_const(&mut self, value: i32) -> Self::Output {
        self.push_const(value as u32 as u64);
        Ok(())
    }

    fn visit_i64_const(&mut self, value: i64) -> Self::Output {
        self.push_const(value as u64);
        Ok(())
    }

    fn visit_f32_const(&mut self, value: Ieee32) -> Self::Output {
        self.push_const(value.bits() as u64);
        Ok(())
    }

    fn visit_f64_const(&mut self, value: Ieee64) -> Self::Output {
        self.push_const(value.bits());
        Ok(())
    }

    // Same bits, another type: nothing to do on raw cells.
    fn visit_i32_reinterpret_f32(&mut self) -> Self::Output {
        Ok(())
    }

    fn visit_f32_reinterpret_i32(&mut self) -> Self::Output {
        Ok(())
    }

    fn visit_i64_reinterpret_f64(&mut self) -> Self::Output {
        Ok(())
    }

    fn visit_f64_reinterpret_i64(&mut self) -> Self::Output {
        Ok(())
    }

    // --- Memory ---

    fn visit_i32_load(&mut self, memarg: MemArg) -> Self::Output {
        self.load_scalable(
            &memarg,
            |dst, addr, offset| Instr::I32Load { dst, addr, offset },
            |shift, dst, idx, offset| Instr::I32LoadShl {
                shift,
                dst,
                idx,
                offset,
            },
        );
        Ok(())
    }

    fn visit_i64_load(&mut self, memarg: MemArg) -> Self::Output {
        self.load_scalable(
            &memarg,
            |dst, addr, offset| Instr::I64Load { dst, addr, offset },
            |shift, dst, idx, offset| Instr::I64LoadShl {
                shift,
                dst,
                idx,
                offset,
            },
        );
        Ok(())
    }

    fn visit_f32_load(&mut self, memarg: MemArg) -> Self::Output {
        self.load_scalable(
            &memarg,
            |dst, addr, offset| Instr::F32Load { dst, addr, offset },
            |shift, dst, idx, offset| Instr::F32LoadShl {
                shift,
                dst,
                idx,
                offset,
            },
        );
        Ok(())
    }

    fn visit_f64_load(&mut self, memarg: MemArg) -> Self::Output {
        self.load_scalable(
            &memarg,
            |dst, addr, offset| Instr::F64Load { dst, addr, offset },
            |shift, dst, idx, offset| Instr::F64LoadShl {
                shift,
                dst,
                idx,
                offset,
            },
        );
        Ok(())
    }

    fn visit_i32_load8_s(&mut self, memarg: MemArg) -> Self::Output {
        self.load(&memarg, |dst, addr, offset| Instr::I32Load8S {
            dst,
            addr,
            offset,
        });
        Ok(())
    }

    fn visit_i32_load8_u(&mut self, memarg: MemArg) -> Self::Output {
        self.load(&memarg, |dst, addr, offset| Instr::I32Load8U {
            dst,
            addr,
            offset,
        });
        Ok(())
    }

    fn visit_i32_load16_s(&mut self, memarg: MemArg) -> Self::Output {
        self.load(&memarg, |dst, addr, offset| Instr::I32Load16S {
            dst,
            addr,
            offset,
        });
        Ok(())
    }

    fn visit_i32_load16_u(&mut self, memarg: MemArg) -> Self::Output {
        self.load(&memarg, |dst, addr, offset| Instr::I32Load16U {
            dst,
            addr,
            offset,
        });
        Ok(())
    }

    fn visit_i64_load8_s(&mut self, memarg: MemArg) -> Self::Output {
        self.load(&memarg, |dst, addr, offset| Instr::I64Load8S {
            dst,
            addr,
            offset,
        });
        Ok(())
    }

    fn visit_i64_load8_u(&mut self, memarg: MemArg) -> Self::Output {
        self.load(&memarg, |dst, addr, offset| Instr::I64Load8U {
            dst,
            addr,
            offset,
        });
        Ok(())
    }

    fn visit_i64_load16_s(&mut self, memarg: MemArg) -> Self::Output {
        self.load(&memarg, |dst, addr, offset| Instr::I64Load16S {
            dst,
            addr,
            offset,
        });
        Ok(())
    }

    fn visit_i64_load16_u(&mut self, memarg: MemArg) -> Self::Output {
        self.load(&memarg, |dst, addr, offset| Instr::I64Load16U {
            dst,
            addr,
            offset,
        });
        Ok(())
    }

    fn visit_i64_load32_s(&mut self, memarg: MemArg) -> Self::Output {
        self.load(&memarg, |dst, addr, offset| Instr::I64Load32S {
            dst,
            addr,
            offset,
        });
        Ok(())
    }

    fn visit_i64_load32_u(&mut self, memarg: MemArg) -> Self::Output {
        self.load(&memarg, |dst, addr, offset| Instr::I64Load32U {
            dst,
            addr,
            offset,
        });
        Ok(())
    }

    fn visit_i32_store(&mut self, memarg: MemArg) -> Self::Output {
        self.store(&memarg, |addr, value, offset| Instr::I32Store {
            addr,
            value,
            offset,
        });
        Ok(())
    }

    fn visit_i64_store(&mut self, memarg: MemArg) -> Self::Output {
        self.store(&memarg, |addr, value, offset| Instr::I64Store {
            addr,
            value,
            offset,
        });
        Ok(())
    }

    fn visit_f32_store(&mut self, memarg: MemArg) -> Self::Output {
        self.store(&memarg, |addr, value, offset| Instr::F32Store {
            addr,
            value,
            offset,
        });
        Ok(())
    }

    fn visit_f64_store(&mut self, memarg: MemArg) -> Self::Output {
        self.store(&memarg, |addr, value, offset| Instr::F64Store {
            addr,
            value,
            offset,
        });
        Ok(())
    }

    fn visit_i32_store8(&mut self, memarg: MemArg) -> Self::Output {
        self.store(&memarg, |addr, value, offset| Instr::I32Store8 {
            addr,
            value,
            offset,
        });
        Ok(())
    }

    fn visit_i32_store16(&mut self, memarg: MemArg) -> Self::Output {
        self.store(&memarg, |addr, value, offset| Instr::I32Store16 {
            addr,
            value,
            offset,
        });
        Ok(())
    }

    fn visit_i64_store8(&mut self, memarg: MemArg) -> Self::Output {
        self.store(&memarg, |addr, value, offset| Instr::I64Store8 {
            addr,
            value,
            offset,
        });
        Ok(())
    }

    fn visit_i64_store16(&mut self, memarg: MemArg) -> Self::Output {
        self.store(&memarg, |addr, value, offset| Instr::I64Store16 {
            addr,
            value,
            offset,
        });
        Ok(())
    }

    fn visit_i64_store32(&mut self, memarg: MemArg) -> Self::Output {
        self.store(&memarg, |addr, value, offset| Instr::I64Store32 {
            addr,
            value,
            offset,
        });
        Ok(())
    }

    fn visit_memory_size(&mut self, mem: u32) -> Self::Output {
        let dst = self.next_slot();
        self.other_memory(mem, mem);
        self.emit_result(Instr::MemorySize { dst });
        Ok(())
    }

    fn visit_memory_grow(&mut self, mem: u32) -> Self::Output {
        let delta = self.pop_slot();
        let dst = self.next_slot();
        self.other_memory(mem, mem);
        self.emit(Instr::MemoryGrow { dst, delta });
        self.push(Operand::Stack);
        Ok(())
    }

    fn visit_memory_fill(&mut self, mem: u32) -> Self::Output {
        let (dst, value, len) = self.pop3();
        self.other_memory(mem, mem);
        self.emit(Instr::MemoryFill { dst, value, len });
        Ok(())
    }

    fn visit_memory_copy(&mut self, dst_mem: u32, src_mem: u32) -> Self::Output {
        let (dst, src, len) = self.pop3();
        self.other_memory(dst_mem, src_mem);
        self.emit(Instr::MemoryCopy { dst, src, len });
        Ok(())
    }

    fn visit_memory_init(&mut self, data_index: u32, mem: u32) -> Self::Output {
        let (dst, src, len) = self.pop3();
        self.other_memory(mem, mem);
        self.emit(Instr::MemoryInit { dst, src, len });
        self.emit_extra(data_index, 0);
        Ok(())
    }

    fn visit_data_drop(&mut self, data_index: u32) -> Self::Output {
        self.emit(Instr::SegmentDrop {
            elem: false,
            index: data_index,
        });
        Ok(())
    }

    // --- Tables and references ---

    fn visit_ref_null(&mut self, _hty: HeapType) -> Self::Output {
        self.push_const(0);
        Ok(())
    }

    // --- GC operators without heap objects (gc.rs) ---

    fn visit_ref_eq(&mut self) -> Self::Output {
        self.binary(|dst, lhs, rhs| Instr::I64Eq { dst, lhs, rhs });
        Ok(())
    }

    fn visit_any_convert_extern(&mut self) -> Self::Output {
        Ok(())
    }

    fn visit_extern_convert_any(&mut self) -> Self::Output {
        Ok(())
    }

    fn visit_ref_i31(&mut self) -> Self::Output {
        self.op_gc_unary(GcOp::RefI31, 0);
        Ok(())
    }

    fn visit_i31_get_s(&mut self) -> Self::Output {
        self.op_gc_unary(GcOp::I31GetS, 0);
        Ok(())
    }

    fn visit_i31_get_u(&mut self) -> Self::Output {
        self.op_gc_unary(GcOp::I31GetU, 0);
        Ok(())
    }

    fn visit_ref_test_non_null(&mut self, hty: HeapType) -> Self::Output {
        let (target, index) = cast_target_of_heap(hty, false, &self.info.types);
        self.op_gc_unary(GcOp::Test(target), index);
        Ok(())
    }

    fn visit_ref_test_nullable(&mut self, hty: HeapType) -> Self::Output {
        let (target, index) = cast_target_of_heap(hty, true, &self.info.types);
        self.op_gc_unary(GcOp::Test(target), index);
        Ok(())
    }

    fn visit_ref_cast_non_null(&mut self, hty: HeapType) -> Self::Output {
        self.op_ref_cast(cast_target_of_heap(hty, false, &self.info.types));
        Ok(())
    }

    fn visit_ref_cast_nullable(&mut self, hty: HeapType) -> Self::Output {
        self.op_ref_cast(cast_target_of_heap(hty, true, &self.info.types));
        Ok(())
    }

    // --- GC objects (gc.rs) ---

    fn visit_struct_new(&mut self, struct_type_index: u32) -> Self::Output {
        self.op_struct_new(struct_type_index, false);
        Ok(())
    }

    fn visit_struct_new_default(&mut self, struct_type_index: u32) -> Self::Output {
        self.op_struct_new(struct_type_index, true);
        Ok(())
    }

    fn visit_struct_get(&mut self, struct_type_index: u32, field_index: u32) -> Self::Output {
        self.op_struct_get(struct_type_index, field_index, false);
        Ok(())
    }

    fn visit_struct_get_s(&mut self, struct_type_index: u32, field_index: u32) -> Self::Output {
        self.op_struct_get(struct_type_index, field_index, true);
        Ok(())
    }

    fn visit_struct_get_u(&mut self, struct_type_index: u32, field_index: u32) -> Self::Output {
        self.op_struct_get(struct_type_index, field_index, false);
        Ok(())
    }

    fn visit_struct_set(&mut self, struct_type_index: u32, field_index: u32) -> Self::Output {
        self.op_struct_set(struct_type_index, field_index);
        Ok(())
    }

    fn visit_array_new(&mut self, array_type_index: u32) -> Self::Output {
        self.op_gc_n(
            GcOp::Object(ObjectOp::ArrayNew),
            2,
            array_type_index,
            GcResult::Scalar,
            None,
        );
        Ok(())
    }

    fn visit_array_new_default(&mut self, array_type_index: u32) -> Self::Output {
        let op = GcOp::Object(ObjectOp::ArrayNewDefault);
        self.op_gc_n(op, 1, array_type_index, GcResult::Scalar, None);
        Ok(())
    }

    fn visit_array_new_fixed(&mut self, array_type_index: u32, array_size: u32) -> Self::Output {
        let (op, n) = (GcOp::Object(ObjectOp::ArrayNewFixed), array_size as usize);
        self.op_gc_n(op, n, array_type_index, GcResult::Scalar, Some(array_size));
        Ok(())
    }

    fn visit_array_new_data(
        &mut self,
        array_type_index: u32,
        array_data_index: u32,
    ) -> Self::Output {
        let op = GcOp::Object(ObjectOp::ArrayNewData);
        self.op_gc_n(
            op,
            2,
            array_type_index,
            GcResult::Scalar,
            Some(array_data_index),
        );
        Ok(())
    }

    fn visit_array_new_elem(
        &mut self,
        array_type_index: u32,
        array_elem_index: u32,
    ) -> Self::Output {
        let op = GcOp::Object(ObjectOp::ArrayNewElem);
        self.op_gc_n(
            op,
            2,
            array_type_index,
            GcResult::Scalar,
            Some(array_elem_index),
        );
        Ok(())
    }

    fn visit_array_get(&mut self, array_type_index: u32) -> Self::Output {
        let access = self.array_access(array_type_index, false);
        let result = GcResult::of_access(access);
        self.op_gc_n(
            GcOp::Object(ObjectOp::ArrayGet(access)),
            2,
            array_type_index,
            result,
            None,
        );
        Ok(())
    }

    fn visit_array_get_s(&mut self, array_type_index: u32) -> Self::Output {
        let access = self.array_access(array_type_index, true);
        let op = GcOp::Object(ObjectOp::ArrayGet(access));
        self.op_gc_n(op, 2, array_type_index, GcResult::Scalar, None);
        Ok(())
    }

    fn visit_array_get_u(&mut self, array_type_index: u32) -> Self::Output {
        let access = self.array_access(array_type_index, false);
        let op = GcOp::Object(ObjectOp::ArrayGet(access));
        self.op_gc_n(op, 2, array_type_index, GcResult::Scalar, None);
        Ok(())
    }

    fn visit_array_set(&mut self, array_type_index: u32) -> Self::Output {
        let op = GcOp::Object(ObjectOp::ArraySet(
            self.array_access(array_type_index, false),
        ));
        self.op_gc_n(op, 3, array_type_index, GcResult::None, None);
        Ok(())
    }

    fn visit_array_len(&mut self) -> Self::Output {
        self.op_gc_n(
            GcOp::Object(ObjectOp::ArrayLen),
            1,
            0,
            GcResult::Scalar,
            None,
        );
        Ok(())
    }

    fn visit_array_fill(&mut self, array_type_index: u32) -> Self::Output {
        let op = GcOp::Object(ObjectOp::ArrayFill(
            self.array_access(array_type_index, false),
        ));
        self.op_gc_n(op, 4, array_type_index, GcResult::None, None);
        Ok(())
    }

    fn visit_array_copy(
        &mut self,
        array_type_index_dst: u32,
        _array_type_index_src: u32,
    ) -> Self::Output {
        // Validation: the source's elements are of the destination's size.
        let op = GcOp::Object(ObjectOp::ArrayCopy(
            self.array_access(array_type_index_dst, false),
        ));
        self.op_gc_n(op, 5, array_type_index_dst, GcResult::None, None);
        Ok(())
    }

    fn visit_array_init_data(
        &mut self,
        array_type_index: u32,
        array_data_index: u32,
    ) -> Self::Output {
        let op = GcOp::Object(ObjectOp::ArrayInitData(
            self.array_access(array_type_index, false),
        ));
        self.op_gc_n(
            op,
            4,
            array_type_index,
            GcResult::None,
            Some(array_data_index),
        );
        Ok(())
    }

    fn visit_array_init_elem(
        &mut self,
        array_type_index: u32,
        array_elem_index: u32,
    ) -> Self::Output {
        let op = GcOp::Object(ObjectOp::ArrayInitElem);
        self.op_gc_n(
            op,
            4,
            array_type_index,
            GcResult::None,
            Some(array_elem_index),
        );
        Ok(())
    }

    fn visit_br_on_cast(
        &mut self,
        relative_depth: u32,
        _from_ref_type: RefType,
        to_ref_type: RefType,
    ) -> Self::Output {
        self.op_br_on_cast(
            relative_depth,
            cast_target(to_ref_type, &self.info.types),
            false,
        );
        Ok(())
    }

    fn visit_br_on_cast_fail(
        &mut self,
        relative_depth: u32,
        _from_ref_type: RefType,
        to_ref_type: RefType,
    ) -> Self::Output {
        self.op_br_on_cast(
            relative_depth,
            cast_target(to_ref_type, &self.info.types),
            true,
        );
        Ok(())
    }

    fn visit_ref_is_null(&mut self) -> Self::Output {
        self.unary(|dst, src| Instr::I64Eqz { dst, src });
        Ok(())
    }

    fn visit_ref_func(&mut self, function_index: u32) -> Self::Output {
        let dst = self.next_slot();
        self.emit_result(Instr::RefFunc {
            dst,
            func: function_index,
        });
        Ok(())
    }

    fn visit_table_get(&mut self, table: u32) -> Self::Output {
        let index = self.pop_slot();
        let dst = self.next_slot();
        self.table_prefix(&[table]);
        self.emit_result(Instr::TableGet { dst, index, table });
        Ok(())
    }

    fn visit_table_set(&mut self, table: u32) -> Self::Output {
        let value = self.pop_slot();
        let index = self.pop_slot();
        self.table_prefix(&[table]);
        self.emit(Instr::TableSet {
            index,
            value,
            table,
        });
        Ok(())
    }

    fn visit_table_size(&mut self, table: u32) -> Self::Output {
        let dst = self.next_slot();
        self.table_prefix(&[table]);
        self.emit_result(Instr::TableSize { dst, table });
        Ok(())
    }

    fn visit_table_grow(&mut self, table: u32) -> Self::Output {
        let delta = self.pop_slot();
        let init = self.pop_slot();
        let dst = self.next_slot();
        self.table_prefix(&[table]);
        self.emit(Instr::TableGrow { dst, init, delta });
        self.emit_extra(table, 0);
        self.push(Operand::Stack);
        Ok(())
    }

    fn visit_table_fill(&mut self, table: u32) -> Self::Output {
        let (dst, value, len) = self.pop3();
        self.table_prefix(&[table]);
        self.emit(Instr::TableFill { dst, value, len });
        self.emit_extra(table, 0);
        Ok(())
    }

    fn visit_table_copy(&mut self, dst_table: u32, src_table: u32) -> Self::Output {
        let (dst, src, len) = self.pop3();
        self.table_prefix(&[dst_table, src_table]);
        self.emit(Instr::TableCopy { dst, src, len });
        self.emit_extra(dst_table, src_table);
        Ok(())
    }

    fn visit_table_init(&mut self, elem_index: u32, table: u32) -> Self::Output {
        let (dst, src, len) = self.pop3();
        self.table_prefix(&[table]);
        self.emit(Instr::TableInit { dst, src, len });
        self.emit_extra(table, elem_index);
        Ok(())
    }

    fn visit_elem_drop(&mut self, elem_index: u32) -> Self::Output {
        self.emit(Instr::SegmentDrop {
            elem: true,
            index: elem_index,
        });
        Ok(())
    }
}
