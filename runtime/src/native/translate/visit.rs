//! The operator table of the native translator: its `VisitOperator` implementation maps
//! every operator to the `Translator` method that translates it, one line per operator
//! (the methods live in the family files); `simd.rs` has the same for
//! `VisitSimdOperator`. Removing an operator's line is a compile error (a missing trait
//! method). The operators of proposals the engine does not implement come from
//! wasmparser's own lists, filtered by proposal, and are refused with an `Unsupported`
//! compile error naming the proposal.

use cranelift_codegen::ir::InstBuilder;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, F64, I8, I16, I32, I64};
use wasmparser::{BlockType, BrTable, HeapType, Ieee32, Ieee64, MemArg, RefType, ValType};
use wasmparser::{VisitOperator, VisitSimdOperator};

use super::Translator;
use crate::error::Result;
use crate::store::gc::ObjectOp;

/// Defines visit methods from lines `visit_name(immediates) => method(arguments);`: each
/// calls `self.method(arguments)`, except in dead code (after an unconditional branch),
/// which is skipped. With `simd` first, the method also refuses to translate on a host
/// without the ISA extensions the SIMD lowering needs.
macro_rules! visit_methods {
    (simd; $(
        $visit:ident $(($($arg:ident: $arg_ty:ty),*))? => $method:ident($($argument:expr),*);
    )*) => {
        $(
            fn $visit(&mut self $($(, $arg: $arg_ty)*)?) -> $crate::error::Result<()> {
                if !self.reachable {
                    return Ok(());
                }
                if !self.env.simd {
                    return Err($crate::error::Error::simd_unsupported());
                }
                self.$method($($argument),*)
            }
        )*
    };
    ($(
        $visit:ident $(($($arg:ident: $arg_ty:ty),*))? => $method:ident($($argument:expr),*);
    )*) => {
        $(
            fn $visit(&mut self $($(, $arg: $arg_ty)*)?) -> $crate::error::Result<()> {
                if !self.reachable {
                    return Ok(());
                }
                self.$method($($argument),*)
            }
        )*
    };
}
pub(super) use visit_methods;

/// For wasmparser's `for_each_visit_operator!` and `for_each_visit_simd_operator!`:
/// defines a visit method refusing each operator of a proposal the native engine does
/// not implement, and nothing for the proposals it implements (their methods are in the
/// operator tables). A proposal new to wasmparser fails to compile in
/// `module::proposal_name!` until it is named there.
macro_rules! refuse_unimplemented_proposals {
    ($(
        @$proposal:ident $op:ident $({ $($arg:ident: $arg_ty:ty),* })? => $visit:ident ($($ann:tt)*)
    )*) => {
        $( refuse_unimplemented_proposals!(@refuse $proposal $visit $($($arg_ty),*)?); )*
    };
    (@refuse mvp $($rest:tt)*) => {};
    (@refuse sign_extension $($rest:tt)*) => {};
    (@refuse saturating_float_to_int $($rest:tt)*) => {};
    (@refuse bulk_memory $($rest:tt)*) => {};
    (@refuse reference_types $($rest:tt)*) => {};
    (@refuse simd $($rest:tt)*) => {};
    (@refuse relaxed_simd $($rest:tt)*) => {};
    // `return_call` and `return_call_indirect` (wasmparser lists `return_call_ref` with
    // typed function references).
    (@refuse tail_call $($rest:tt)*) => {};
    (@refuse function_references $($rest:tt)*) => {};
    (@refuse exceptions $($rest:tt)*) => {};
    // Every GC operator (`gc.rs`, `gc_objects.rs`).
    (@refuse gc $($rest:tt)*) => {};
    (@refuse $proposal:ident $visit:ident $($arg_ty:ty),*) => {
        fn $visit(&mut self $(, _: $arg_ty)*) -> $crate::error::Result<()> {
            Err($crate::module::unsupported_operator(
                "native engine",
                $crate::module::proposal_name!($proposal),
                stringify!($visit),
            ))
        }
    };
}
pub(super) use refuse_unimplemented_proposals;

impl<'op> VisitOperator<'op> for Translator<'_, '_> {
    type Output = Result<()>;

    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'op, Output = Result<()>>> {
        // Always: the SIMD methods refuse on hosts without the needed ISA themselves,
        // with the engine's own error (wasmparser's would be a decoding error).
        Some(self)
    }

    // Frames are followed through dead code too, to know where it ends (`control.rs`).
    fn visit_block(&mut self, blockty: BlockType) -> Result<()> {
        self.open_block(blockty)
    }

    fn visit_loop(&mut self, blockty: BlockType) -> Result<()> {
        self.open_loop(blockty)
    }

    fn visit_if(&mut self, blockty: BlockType) -> Result<()> {
        self.open_if(blockty)
    }

    fn visit_else(&mut self) -> Result<()> {
        self.else_branch()
    }

    fn visit_end(&mut self) -> Result<()> {
        self.end()
    }

    fn visit_try_table(&mut self, try_table: wasmparser::TryTable) -> Result<()> {
        self.open_try_table(try_table)
    }

    visit_methods! {
        // Control (control.rs).
        visit_unreachable => unreachable();
        visit_nop => nop();
        visit_br(relative_depth: u32) => br(relative_depth);
        visit_br_if(relative_depth: u32) => br_if(relative_depth);
        visit_br_table(targets: BrTable<'op>) => br_table(targets);
        visit_return => return_from_function();
        visit_drop => drop_operand();
        visit_select => select();
        visit_typed_select(ty: ValType) => typed_select(ty);
        visit_typed_select_multi(_tys: Vec<ValType>) => refuse("select with several results");

        // Calls (calls.rs).
        visit_call(function_index: u32) => call(function_index);
        visit_call_indirect(type_index: u32, table_index: u32) =>
            call_indirect(type_index, table_index);
        visit_return_call(function_index: u32) => return_call(function_index);
        visit_return_call_indirect(type_index: u32, table_index: u32) =>
            return_call_indirect(type_index, table_index);
        // Typed function references (func_refs.rs).
        visit_call_ref(type_index: u32) => call_ref(type_index);
        visit_return_call_ref(type_index: u32) => return_call_ref(type_index);
        visit_ref_as_non_null => ref_as_non_null();
        visit_br_on_null(relative_depth: u32) => br_on_null(relative_depth);
        visit_br_on_non_null(relative_depth: u32) => br_on_non_null(relative_depth);

        // GC operators without heap objects (gc.rs).
        visit_ref_eq => ref_eq();
        visit_any_convert_extern => convert_reference();
        visit_extern_convert_any => convert_reference();
        visit_ref_i31 => ref_i31();
        visit_i31_get_s => i31_get(true);
        visit_i31_get_u => i31_get(false);
        visit_ref_test_non_null(hty: HeapType) => ref_test(hty, false);
        visit_ref_test_nullable(hty: HeapType) => ref_test(hty, true);
        visit_ref_cast_non_null(hty: HeapType) => ref_cast(hty, false);
        visit_ref_cast_nullable(hty: HeapType) => ref_cast(hty, true);
        visit_br_on_cast(relative_depth: u32, _from: RefType, to: RefType) =>
            br_on_cast(relative_depth, to, false);
        visit_br_on_cast_fail(relative_depth: u32, _from: RefType, to: RefType) =>
            br_on_cast(relative_depth, to, true);

        // GC objects (gc_objects.rs).
        visit_struct_new(struct_type_index: u32) => struct_new(struct_type_index, false);
        visit_struct_new_default(struct_type_index: u32) => struct_new(struct_type_index, true);
        visit_struct_get(struct_type_index: u32, field_index: u32) =>
            struct_get(struct_type_index, field_index, false);
        visit_struct_get_s(struct_type_index: u32, field_index: u32) =>
            struct_get(struct_type_index, field_index, true);
        visit_struct_get_u(struct_type_index: u32, field_index: u32) =>
            struct_get(struct_type_index, field_index, false);
        visit_struct_set(struct_type_index: u32, field_index: u32) =>
            struct_set(struct_type_index, field_index);
        visit_array_new(array_type_index: u32) =>
            array_new(array_type_index, ObjectOp::ArrayNew, 0);
        visit_array_new_default(array_type_index: u32) =>
            array_new(array_type_index, ObjectOp::ArrayNewDefault, 0);
        visit_array_new_fixed(array_type_index: u32, array_size: u32) =>
            array_new(array_type_index, ObjectOp::ArrayNewFixed, array_size);
        visit_array_new_data(array_type_index: u32, array_data_index: u32) =>
            array_new(array_type_index, ObjectOp::ArrayNewData, array_data_index);
        visit_array_new_elem(array_type_index: u32, array_elem_index: u32) =>
            array_new(array_type_index, ObjectOp::ArrayNewElem, array_elem_index);
        visit_array_get(array_type_index: u32) => array_get(array_type_index, false);
        visit_array_get_s(array_type_index: u32) => array_get(array_type_index, true);
        visit_array_get_u(array_type_index: u32) => array_get(array_type_index, false);
        visit_array_set(array_type_index: u32) =>
            array_bulk(array_type_index, ObjectOp::ArraySet, 0);
        visit_array_len => array_len();
        visit_array_fill(array_type_index: u32) =>
            array_bulk(array_type_index, ObjectOp::ArrayFill, 0);
        visit_array_copy(array_type_index_dst: u32, _array_type_index_src: u32) =>
            array_bulk(array_type_index_dst, ObjectOp::ArrayCopy, 0);
        visit_array_init_data(array_type_index: u32, array_data_index: u32) =>
            array_bulk(array_type_index, ObjectOp::ArrayInitData, array_data_index);
        visit_array_init_elem(array_type_index: u32, array_elem_index: u32) =>
            array_init_elem(array_type_index, array_elem_index);

        // Exceptions (exceptions.rs).
        visit_throw(tag_index: u32) => throw(tag_index);
        visit_throw_ref => throw_ref();

        // Locals, globals, references and tables (variables.rs).
        visit_local_get(local_index: u32) => local_get(local_index);
        visit_local_set(local_index: u32) => local_set(local_index);
        visit_local_tee(local_index: u32) => local_tee(local_index);
        visit_global_get(global_index: u32) => global_get(global_index);
        visit_global_set(global_index: u32) => global_set(global_index);
        visit_ref_null(_hty: HeapType) => ref_null();
        visit_ref_is_null => ref_is_null();
        visit_ref_func(function_index: u32) => ref_func(function_index);
        visit_table_get(table: u32) => table_get(table);
        visit_table_set(table: u32) => table_set(table);
        visit_table_size(table: u32) => table_size(table);
        visit_table_grow(table: u32) => table_grow(table);
        visit_table_fill(table: u32) => table_fill(table);
        visit_table_copy(dst_table: u32, src_table: u32) => table_copy(dst_table, src_table);
        visit_table_init(elem_index: u32, table: u32) => table_init(elem_index, table);
        visit_elem_drop(elem_index: u32) => elem_drop(elem_index);

        // Memory (memory.rs).
        visit_i32_load(memarg: MemArg) => load(memarg, I32, 4, None);
        visit_i64_load(memarg: MemArg) => load(memarg, I64, 8, None);
        visit_f32_load(memarg: MemArg) => load(memarg, F32, 4, None);
        visit_f64_load(memarg: MemArg) => load(memarg, F64, 8, None);
        visit_i32_load8_s(memarg: MemArg) => load(memarg, I32, 1, Some(true));
        visit_i32_load8_u(memarg: MemArg) => load(memarg, I32, 1, Some(false));
        visit_i32_load16_s(memarg: MemArg) => load(memarg, I32, 2, Some(true));
        visit_i32_load16_u(memarg: MemArg) => load(memarg, I32, 2, Some(false));
        visit_i64_load8_s(memarg: MemArg) => load(memarg, I64, 1, Some(true));
        visit_i64_load8_u(memarg: MemArg) => load(memarg, I64, 1, Some(false));
        visit_i64_load16_s(memarg: MemArg) => load(memarg, I64, 2, Some(true));
        visit_i64_load16_u(memarg: MemArg) => load(memarg, I64, 2, Some(false));
        visit_i64_load32_s(memarg: MemArg) => load(memarg, I64, 4, Some(true));
        visit_i64_load32_u(memarg: MemArg) => load(memarg, I64, 4, Some(false));
        visit_i32_store(memarg: MemArg) => store(memarg, 4, None);
        visit_i64_store(memarg: MemArg) => store(memarg, 8, None);
        visit_f32_store(memarg: MemArg) => store(memarg, 4, None);
        visit_f64_store(memarg: MemArg) => store(memarg, 8, None);
        visit_i32_store8(memarg: MemArg) => store(memarg, 1, Some(I8));
        visit_i32_store16(memarg: MemArg) => store(memarg, 2, Some(I16));
        visit_i64_store8(memarg: MemArg) => store(memarg, 1, Some(I8));
        visit_i64_store16(memarg: MemArg) => store(memarg, 2, Some(I16));
        visit_i64_store32(memarg: MemArg) => store(memarg, 4, Some(I32));
        visit_memory_size(mem: u32) => memory_size(mem);
        visit_memory_grow(mem: u32) => memory_grow(mem);
        visit_memory_fill(mem: u32) => memory_fill(mem);
        visit_memory_copy(dst_mem: u32, src_mem: u32) => memory_copy(dst_mem, src_mem);
        visit_memory_init(data_index: u32, mem: u32) => memory_init(data_index, mem);
        visit_data_drop(data_index: u32) => data_drop(data_index);

        // Numeric (numeric.rs).
        visit_i32_const(value: i32) => i32_const(value);
        visit_i64_const(value: i64) => i64_const(value);
        visit_f32_const(value: Ieee32) => f32_const(value);
        visit_f64_const(value: Ieee64) => f64_const(value);
        visit_i32_eqz => eqz();
        visit_i64_eqz => eqz();
        visit_i32_eq => icmp(IntCC::Equal);
        visit_i64_eq => icmp(IntCC::Equal);
        visit_i32_ne => icmp(IntCC::NotEqual);
        visit_i64_ne => icmp(IntCC::NotEqual);
        visit_i32_lt_s => icmp(IntCC::SignedLessThan);
        visit_i64_lt_s => icmp(IntCC::SignedLessThan);
        visit_i32_lt_u => icmp(IntCC::UnsignedLessThan);
        visit_i64_lt_u => icmp(IntCC::UnsignedLessThan);
        visit_i32_gt_s => icmp(IntCC::SignedGreaterThan);
        visit_i64_gt_s => icmp(IntCC::SignedGreaterThan);
        visit_i32_gt_u => icmp(IntCC::UnsignedGreaterThan);
        visit_i64_gt_u => icmp(IntCC::UnsignedGreaterThan);
        visit_i32_le_s => icmp(IntCC::SignedLessThanOrEqual);
        visit_i64_le_s => icmp(IntCC::SignedLessThanOrEqual);
        visit_i32_le_u => icmp(IntCC::UnsignedLessThanOrEqual);
        visit_i64_le_u => icmp(IntCC::UnsignedLessThanOrEqual);
        visit_i32_ge_s => icmp(IntCC::SignedGreaterThanOrEqual);
        visit_i64_ge_s => icmp(IntCC::SignedGreaterThanOrEqual);
        visit_i32_ge_u => icmp(IntCC::UnsignedGreaterThanOrEqual);
        visit_i64_ge_u => icmp(IntCC::UnsignedGreaterThanOrEqual);
        visit_f32_eq => fcmp(FloatCC::Equal);
        visit_f64_eq => fcmp(FloatCC::Equal);
        visit_f32_ne => fcmp(FloatCC::NotEqual);
        visit_f64_ne => fcmp(FloatCC::NotEqual);
        visit_f32_lt => fcmp(FloatCC::LessThan);
        visit_f64_lt => fcmp(FloatCC::LessThan);
        visit_f32_gt => fcmp(FloatCC::GreaterThan);
        visit_f64_gt => fcmp(FloatCC::GreaterThan);
        visit_f32_le => fcmp(FloatCC::LessThanOrEqual);
        visit_f64_le => fcmp(FloatCC::LessThanOrEqual);
        visit_f32_ge => fcmp(FloatCC::GreaterThanOrEqual);
        visit_f64_ge => fcmp(FloatCC::GreaterThanOrEqual);
        visit_i32_clz => unary(|ins, x| ins.clz(x));
        visit_i64_clz => unary(|ins, x| ins.clz(x));
        visit_i32_ctz => unary(|ins, x| ins.ctz(x));
        visit_i64_ctz => unary(|ins, x| ins.ctz(x));
        visit_i32_popcnt => unary(|ins, x| ins.popcnt(x));
        visit_i64_popcnt => unary(|ins, x| ins.popcnt(x));
        visit_i32_add => binary(|ins, x, y| ins.iadd(x, y));
        visit_i64_add => binary(|ins, x, y| ins.iadd(x, y));
        visit_i32_sub => binary(|ins, x, y| ins.isub(x, y));
        visit_i64_sub => binary(|ins, x, y| ins.isub(x, y));
        visit_i32_mul => binary(|ins, x, y| ins.imul(x, y));
        visit_i64_mul => binary(|ins, x, y| ins.imul(x, y));
        visit_i32_div_s => div_rem(I32, true, false);
        visit_i32_div_u => div_rem(I32, false, false);
        visit_i32_rem_s => div_rem(I32, true, true);
        visit_i32_rem_u => div_rem(I32, false, true);
        visit_i64_div_s => div_rem(I64, true, false);
        visit_i64_div_u => div_rem(I64, false, false);
        visit_i64_rem_s => div_rem(I64, true, true);
        visit_i64_rem_u => div_rem(I64, false, true);
        visit_i32_and => binary(|ins, x, y| ins.band(x, y));
        visit_i64_and => binary(|ins, x, y| ins.band(x, y));
        visit_i32_or => binary(|ins, x, y| ins.bor(x, y));
        visit_i64_or => binary(|ins, x, y| ins.bor(x, y));
        visit_i32_xor => binary(|ins, x, y| ins.bxor(x, y));
        visit_i64_xor => binary(|ins, x, y| ins.bxor(x, y));
        visit_i32_shl => binary(|ins, x, y| ins.ishl(x, y));
        visit_i64_shl => binary(|ins, x, y| ins.ishl(x, y));
        visit_i32_shr_s => binary(|ins, x, y| ins.sshr(x, y));
        visit_i64_shr_s => binary(|ins, x, y| ins.sshr(x, y));
        visit_i32_shr_u => binary(|ins, x, y| ins.ushr(x, y));
        visit_i64_shr_u => binary(|ins, x, y| ins.ushr(x, y));
        visit_i32_rotl => binary(|ins, x, y| ins.rotl(x, y));
        visit_i64_rotl => binary(|ins, x, y| ins.rotl(x, y));
        visit_i32_rotr => binary(|ins, x, y| ins.rotr(x, y));
        visit_i64_rotr => binary(|ins, x, y| ins.rotr(x, y));
        visit_f32_abs => unary(|ins, x| ins.fabs(x));
        visit_f64_abs => unary(|ins, x| ins.fabs(x));
        visit_f32_neg => unary(|ins, x| ins.fneg(x));
        visit_f64_neg => unary(|ins, x| ins.fneg(x));
        visit_f32_ceil => unary(|ins, x| ins.ceil(x));
        visit_f64_ceil => unary(|ins, x| ins.ceil(x));
        visit_f32_floor => unary(|ins, x| ins.floor(x));
        visit_f64_floor => unary(|ins, x| ins.floor(x));
        visit_f32_trunc => unary(|ins, x| ins.trunc(x));
        visit_f64_trunc => unary(|ins, x| ins.trunc(x));
        visit_f32_nearest => unary(|ins, x| ins.nearest(x));
        visit_f64_nearest => unary(|ins, x| ins.nearest(x));
        visit_f32_sqrt => unary(|ins, x| ins.sqrt(x));
        visit_f64_sqrt => unary(|ins, x| ins.sqrt(x));
        visit_f32_add => binary(|ins, x, y| ins.fadd(x, y));
        visit_f64_add => binary(|ins, x, y| ins.fadd(x, y));
        visit_f32_sub => binary(|ins, x, y| ins.fsub(x, y));
        visit_f64_sub => binary(|ins, x, y| ins.fsub(x, y));
        visit_f32_mul => binary(|ins, x, y| ins.fmul(x, y));
        visit_f64_mul => binary(|ins, x, y| ins.fmul(x, y));
        visit_f32_div => binary(|ins, x, y| ins.fdiv(x, y));
        visit_f64_div => binary(|ins, x, y| ins.fdiv(x, y));
        visit_f32_min => binary(|ins, x, y| ins.fmin(x, y));
        visit_f64_min => binary(|ins, x, y| ins.fmin(x, y));
        visit_f32_max => binary(|ins, x, y| ins.fmax(x, y));
        visit_f64_max => binary(|ins, x, y| ins.fmax(x, y));
        visit_f32_copysign => binary(|ins, x, y| ins.fcopysign(x, y));
        visit_f64_copysign => binary(|ins, x, y| ins.fcopysign(x, y));
        visit_i32_wrap_i64 => unary(|ins, x| ins.ireduce(I32, x));
        visit_i64_extend_i32_s => unary(|ins, x| ins.sextend(I64, x));
        visit_i64_extend_i32_u => unary(|ins, x| ins.uextend(I64, x));
        visit_i32_trunc_f32_s => trunc(I32, true);
        visit_i32_trunc_f64_s => trunc(I32, true);
        visit_i32_trunc_f32_u => trunc(I32, false);
        visit_i32_trunc_f64_u => trunc(I32, false);
        visit_i64_trunc_f32_s => trunc(I64, true);
        visit_i64_trunc_f64_s => trunc(I64, true);
        visit_i64_trunc_f32_u => trunc(I64, false);
        visit_i64_trunc_f64_u => trunc(I64, false);
        visit_i32_trunc_sat_f32_s => unary(|ins, x| ins.fcvt_to_sint_sat(I32, x));
        visit_i32_trunc_sat_f64_s => unary(|ins, x| ins.fcvt_to_sint_sat(I32, x));
        visit_i32_trunc_sat_f32_u => unary(|ins, x| ins.fcvt_to_uint_sat(I32, x));
        visit_i32_trunc_sat_f64_u => unary(|ins, x| ins.fcvt_to_uint_sat(I32, x));
        visit_i64_trunc_sat_f32_s => unary(|ins, x| ins.fcvt_to_sint_sat(I64, x));
        visit_i64_trunc_sat_f64_s => unary(|ins, x| ins.fcvt_to_sint_sat(I64, x));
        visit_i64_trunc_sat_f32_u => unary(|ins, x| ins.fcvt_to_uint_sat(I64, x));
        visit_i64_trunc_sat_f64_u => unary(|ins, x| ins.fcvt_to_uint_sat(I64, x));
        visit_f32_convert_i32_s => unary(|ins, x| ins.fcvt_from_sint(F32, x));
        visit_f32_convert_i64_s => unary(|ins, x| ins.fcvt_from_sint(F32, x));
        visit_f32_convert_i32_u => unary(|ins, x| ins.fcvt_from_uint(F32, x));
        visit_f32_convert_i64_u => unary(|ins, x| ins.fcvt_from_uint(F32, x));
        visit_f64_convert_i32_s => unary(|ins, x| ins.fcvt_from_sint(F64, x));
        visit_f64_convert_i64_s => unary(|ins, x| ins.fcvt_from_sint(F64, x));
        visit_f64_convert_i32_u => unary(|ins, x| ins.fcvt_from_uint(F64, x));
        visit_f64_convert_i64_u => unary(|ins, x| ins.fcvt_from_uint(F64, x));
        visit_f32_demote_f64 => unary(|ins, x| ins.fdemote(F32, x));
        visit_f64_promote_f32 => unary(|ins, x| ins.fpromote(F64, x));
        visit_i32_reinterpret_f32 => reinterpret(I32);
        visit_i64_reinterpret_f64 => reinterpret(I64);
        visit_f32_reinterpret_i32 => reinterpret(F32);
        visit_f64_reinterpret_i64 => reinterpret(F64);
        visit_i32_extend8_s => extend_from(I8, I32);
        visit_i32_extend16_s => extend_from(I16, I32);
        visit_i64_extend8_s => extend_from(I8, I64);
        visit_i64_extend16_s => extend_from(I16, I64);
        visit_i64_extend32_s => extend_from(I32, I64);
    }

    wasmparser::for_each_visit_operator!(refuse_unimplemented_proposals);
}
