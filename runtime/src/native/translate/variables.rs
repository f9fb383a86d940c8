//! Locals, globals, tables and references.
//!
//! Globals are read and written in their 128-bit cells (through the vmctx's pointer
//! array); `table.get`/`set`/`size` work on the table's `VMTableDefinition`; the other
//! table operations are libcalls into `store/ops.rs`.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};

use super::{Translator, clif_type, defs, global_flags, readonly, trusted};
use crate::error::{Result, TrapKind};
use crate::native::libcalls::Libcall;
use crate::native::vmctx::{DEF_BASE, DEF_LENGTH, VM_FUNC_INDICES, VM_GLOBALS, VM_TABLES};
use crate::values::ValType;

use types::{F32, F64, I32, I64};

impl Translator<'_, '_> {
    fn global_cell(&mut self, index: u32) -> Value {
        let vmctx = self.vmctx;
        let array = self.b.ins().load(I64, readonly(), vmctx, VM_GLOBALS);
        self.b
            .ins()
            .load(I64, readonly(), array, (index as i32) * 8)
    }

    fn table_def(&mut self, index: u32) -> Value {
        let vmctx = self.vmctx;
        let array = self.b.ins().load(I64, readonly(), vmctx, VM_TABLES);
        self.b
            .ins()
            .load(I64, readonly(), array, (index as i32) * 8)
    }

    /// Address of element `index` (an i32, or an i64 on a 64-bit table) of table
    /// `table`, bounds checked (trapping with `oob_trap`). The check compares all 64
    /// bits of the index with the length, so `index * 8` below cannot wrap.
    ///
    /// A table whose type has `max == min` keeps that size for ever: a defined one is
    /// created with `min` elements and `grow` stops at `max`; an imported one has at
    /// least `min` elements and a maximum of at most ours (import matching). Its check
    /// is then against the constant, and its base, which only a `grow` that changes the
    /// length moves (`store/table.rs`), is a pure load that Cranelift hoists out of
    /// loops with the rest of the address (quicksort calls its comparator through such
    /// a table, `(table 3 3 funcref)`, from clang).
    pub(super) fn table_elem(&mut self, table: u32, index: Value, oob_trap: TrapKind) -> Value {
        let def = self.table_def(table);
        let ty = &self.env.info.tables[table as usize];
        let fixed_size = (ty.max == Some(ty.min)).then_some(ty.min);
        let i = self.widen_to_u64(index);
        let oob = match fixed_size {
            // `min` is at most `MAX_TABLE_ELEMENTS` (instantiation fails otherwise).
            Some(len) => self.b.ins().icmp_imm_u(
                IntCC::UnsignedGreaterThanOrEqual,
                i,
                len.min(i64::MAX as u64) as i64,
            ),
            None => {
                let len = self.b.ins().load(I64, defs(), def, DEF_LENGTH);
                self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, i, len)
            }
        };
        self.trap_if(oob, oob_trap);
        let base_flags = match fixed_size {
            Some(_) => readonly(),
            None => defs(),
        };
        let base = self.b.ins().load(I64, base_flags, def, DEF_BASE);
        let off = self.b.ins().ishl_imm_u(i, 3);
        self.b.ins().iadd(base, off)
    }

    /// Calls `libcall` with the vmctx, `consts` and the top `n_stack` operands, and
    /// returns its results. The operands are indices and lengths, i32 or, on a 64-bit
    /// table, i64 (widened to the libcalls' u64), and references (already i64).
    fn table_libcall(&mut self, libcall: Libcall, consts: &[u32], n_stack: usize) -> Vec<Value> {
        let mut args = vec![self.vmctx];
        for c in consts {
            args.push(self.b.ins().iconst(I32, *c as i64));
        }
        for v in self.stack.split_off(self.stack.len() - n_stack) {
            args.push(self.widen_to_u64(v));
        }
        let results = self.libcall(libcall, &args);
        self.check_trap();
        results
    }

    pub(super) fn local_get(&mut self, local_index: u32) -> Result<()> {
        let v = self.b.use_var(self.locals[local_index as usize]);
        self.push(v);
        Ok(())
    }

    pub(super) fn local_set(&mut self, local_index: u32) -> Result<()> {
        let v = self.pop();
        self.b.def_var(self.locals[local_index as usize], v);
        Ok(())
    }

    pub(super) fn local_tee(&mut self, local_index: u32) -> Result<()> {
        let v = *self.stack.last().unwrap();
        self.b.def_var(self.locals[local_index as usize], v);
        Ok(())
    }

    pub(super) fn global_get(&mut self, global_index: u32) -> Result<()> {
        let content = self.env.info.globals[global_index as usize].content;
        let ty = clif_type(content);
        let cell = self.global_cell(global_index);
        let v = self.b.ins().load(ty, global_flags(ty), cell, 0);
        self.declare_roots(&[v], &[content]);
        self.push(v);
        Ok(())
    }

    pub(super) fn global_set(&mut self, global_index: u32) -> Result<()> {
        let v = self.pop();
        let cell = self.global_cell(global_index);
        // Keep the cell's low 64 bits a valid raw value (`Value::to_raw`).
        let ty = self.b.func.dfg.value_type(v);
        let raw = match ty {
            I32 => self.b.ins().uextend(I64, v),
            F32 => {
                let bits = self.b.ins().bitcast(I32, MemFlagsData::new(), v);
                self.b.ins().uextend(I64, bits)
            }
            F64 => self.b.ins().bitcast(I64, MemFlagsData::new(), v),
            _ => v,
        };
        self.b.ins().store(global_flags(ty), raw, cell, 0);
        Ok(())
    }

    pub(super) fn ref_null(&mut self) -> Result<()> {
        let v = self.b.ins().iconst(I64, 0);
        self.push(v);
        Ok(())
    }

    pub(super) fn ref_is_null(&mut self) -> Result<()> {
        let a = self.pop();
        let c = self.b.ins().icmp_imm_s(IntCC::Equal, a, 0);
        let v = self.b.ins().uextend(I32, c);
        self.push(v);
        Ok(())
    }

    pub(super) fn ref_func(&mut self, function_index: u32) -> Result<()> {
        let vmctx = self.vmctx;
        let array = self.b.ins().load(I64, readonly(), vmctx, VM_FUNC_INDICES);
        let idx = self
            .b
            .ins()
            .load(I32, readonly(), array, (function_index as i32) * 4);
        let wide = self.b.ins().uextend(I64, idx);
        let v = self.b.ins().iadd_imm_u(wide, 1);
        self.push(v);
        Ok(())
    }

    pub(super) fn table_get(&mut self, table: u32) -> Result<()> {
        let i = self.pop();
        let p = self.table_elem(table, i, TrapKind::TableOutOfBounds);
        let v = self.b.ins().load(I64, trusted(), p, 0);
        let element = self.env.info.tables[table as usize].element;
        self.declare_roots(&[v], &[ValType::Ref(element)]);
        self.push(v);
        Ok(())
    }

    pub(super) fn table_set(&mut self, table: u32) -> Result<()> {
        let v = self.pop();
        let i = self.pop();
        let p = self.table_elem(table, i, TrapKind::TableOutOfBounds);
        self.b.ins().store(trusted(), v, p, 0);
        Ok(())
    }

    pub(super) fn table_size(&mut self, table: u32) -> Result<()> {
        let def = self.table_def(table);
        let len = self.b.ins().load(I64, defs(), def, DEF_LENGTH);
        let v = if self.env.info.tables[table as usize].table64 {
            len
        } else {
            self.b.ins().ireduce(I32, len)
        };
        self.push(v);
        Ok(())
    }

    pub(super) fn table_grow(&mut self, table: u32) -> Result<()> {
        // The libcall takes (delta, init), the operands are (init, delta).
        let delta = self.pop();
        let init = self.pop();
        let ty = self.b.func.dfg.value_type(delta);
        self.push(delta);
        self.push(init);
        let old = self.table_libcall(Libcall::TableGrow, &[table], 2)[0];
        // The result has the table's index type, as the delta does.
        let old = if ty == I32 {
            self.b.ins().ireduce(I32, old)
        } else {
            old
        };
        self.push(old);
        Ok(())
    }

    pub(super) fn table_fill(&mut self, table: u32) -> Result<()> {
        self.table_libcall(Libcall::TableFill, &[table], 3);
        Ok(())
    }

    pub(super) fn table_copy(&mut self, dst_table: u32, src_table: u32) -> Result<()> {
        self.table_libcall(Libcall::TableCopy, &[dst_table, src_table], 3);
        Ok(())
    }

    pub(super) fn table_init(&mut self, elem_index: u32, table: u32) -> Result<()> {
        self.table_libcall(Libcall::TableInit, &[table, elem_index], 3);
        Ok(())
    }

    pub(super) fn elem_drop(&mut self, elem_index: u32) -> Result<()> {
        self.table_libcall(Libcall::ElemDrop, &[elem_index], 0);
        Ok(())
    }
}
