//! Loads and stores (scalar and `v128`), `memory.size`/`memory.grow` and bulk memory.
//!
//! Every access is bounds checked against the length read through the memory's
//! `VMMemoryDefinition`, unless the check is known to hold already: the address is
//! small enough for the memory's minimum size, or an earlier check covers it
//! (`in_bounds`). Base and length are loaded at every access, in the `DEFS`
//! alias region; Cranelift reuses an earlier load (from the entry block, see
//! `preload_def`) unless a call lies between, and every grow happens inside a call
//! (`memory.grow` is a libcall, host functions and other instances are calls), so a
//! grow is always seen.

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    DataFlowGraph, InstBuilder, InstructionData, MemFlagsData, Opcode, Type, Value, ValueDef, types,
};
use wasmparser::MemArg;

use super::simd::cast;
use super::{InBounds, Translator, defs, heap, heap_trapping, readonly};
use crate::error::{Result, TrapKind};
use crate::native::libcalls::Libcall;
use crate::native::vmctx::{DEF_BASE, DEF_LENGTH, VM_MEMORY0_BASE};
use crate::store::{GUARD_BYTES, GUARDED_RESERVATION};

use types::{I8, I8X16, I16, I32, I64, I64X2};

/// Bytes per Wasm page.
const PAGE: u64 = 65536;

impl Translator<'_, '_> {
    /// Checks `[addr + offset, addr + offset + size)` and returns the host address of
    /// `addr + offset`. The check is left out only where it is known to hold already
    /// ([`Translator::in_bounds`]).
    ///
    /// Also returns the flags the access itself must carry: with signal traps, a 32-bit
    /// access whose `offset + size` fits the guard (`store/memory.rs`, `GUARD_BYTES`) has
    /// no check at all, and its load or store is the trap site (Cranelift records it,
    /// `compile.rs`); a fault there becomes the trap (`signals.rs`).
    pub(super) fn heap_addr(&mut self, memarg: &MemArg, size: u64) -> (Value, MemFlagsData) {
        let addr = self.pop();
        let mem = match memarg.target {
            wasmparser::MemArgTarget::Memory(m) => m,
            wasmparser::MemArgTarget::Array(m) => m,
        };
        self.preload_def(mem as usize);
        if self.env.info.memories[mem as usize].memory64 {
            return (self.heap_addr_64(mem, addr, memarg.offset, size), heap());
        }
        let def = self.mem_defs[mem as usize];
        // addr < 2^32 and offset < 2^32: no 64-bit overflow below.
        let end = memarg.offset + size;
        let need = self.access(mem, addr, end);
        let constant = need.base.is_none().then(|| need.end - end);
        // The highest byte touched is below 2^32 + `end` (dynamic address) or at
        // `need.end` (constant address): inside the reservation when these hold.
        let guarded =
            self.env.options.signal_traps && end <= GUARD_BYTES && need.end <= GUARDED_RESERVATION;
        let known = self.in_bounds(&need);
        let flags = if guarded && !known {
            heap_trapping()
        } else {
            heap()
        };
        if !guarded && !known {
            let len = self.b.ins().load(I64, defs(), def, DEF_LENGTH);
            let oob = match constant {
                Some(_) => self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedLessThan, len, need.end as i64),
                None => {
                    let addr64 = self.b.ins().uextend(I64, addr);
                    let last = self.b.ins().iadd_imm_u(addr64, end as i64);
                    self.b.ins().icmp(IntCC::UnsignedGreaterThan, last, len)
                }
            };
            self.trap_if(oob, TrapKind::MemoryOutOfBounds);
            self.facts.push(need);
        }
        let base = self.base(mem as usize);
        let p = match constant {
            Some(c) => self.b.ins().iadd_imm_u(base, (c + memarg.offset) as i64),
            None => {
                let addr64 = self.b.ins().uextend(I64, addr);
                let p = self.b.ins().iadd(base, addr64);
                if memarg.offset == 0 {
                    p
                } else {
                    self.b.ins().iadd_imm_u(p, memarg.offset as i64)
                }
            }
        };
        (p, flags)
    }

    /// `heap_addr` on a 64-bit memory (memory64): `addr` is an i64 and `offset` any u64,
    /// so `addr + offset + size` may exceed 2^64. The check is made on the wrapped sum
    /// and on whether it wrapped (a carry is always out of bounds, since no memory
    /// reaches 2^64 bytes); an offset that overflows with the size alone always traps.
    /// No check is ever left out: `in_bounds` reasons about i32 addresses, and 64-bit
    /// memories neither record nor use its facts.
    fn heap_addr_64(&mut self, mem: u32, addr: Value, offset: u64, size: u64) -> Value {
        let def = self.mem_defs[mem as usize];
        let oob = match offset.checked_add(size) {
            Some(end) => {
                let len = self.b.ins().load(I64, defs(), def, DEF_LENGTH);
                let last = self.b.ins().iadd_imm_u(addr, end as i64);
                let wrapped = self.b.ins().icmp(IntCC::UnsignedLessThan, last, addr);
                let past = self.b.ins().icmp(IntCC::UnsignedGreaterThan, last, len);
                self.b.ins().bor(wrapped, past)
            }
            None => self.b.ins().iconst(I8, 1),
        };
        self.trap_if(oob, TrapKind::MemoryOutOfBounds);
        // In bounds: `addr + offset + size <= length`, so nothing below wraps.
        let base = self.b.ins().load(I64, defs(), def, DEF_BASE);
        let p = self.b.ins().iadd(base, addr);
        if offset == 0 {
            p
        } else {
            self.b.ins().iadd_imm_u(p, offset as i64)
        }
    }

    /// The bounds fact an access to `[addr, addr + end)` of memory `mem` needs, with
    /// `addr` split into an SSA value plus a constant where it is a sum of the two, and
    /// a constant address folded into `end`.
    fn access(&self, mem: u32, addr: Value, end: u64) -> InBounds {
        let dfg = &self.b.func.dfg;
        if let Some(c) = const_value(dfg, addr) {
            return InBounds {
                mem,
                base: None,
                k: 0,
                end: c + end,
            };
        }
        let (base, k) = match binary(dfg, addr) {
            Some((Opcode::Iadd, [x, y])) => match (const_value(dfg, x), const_value(dfg, y)) {
                (_, Some(k)) => (x, k as u32),
                (Some(k), _) => (y, k as u32),
                _ => (addr, 0),
            },
            _ => (addr, 0),
        };
        InBounds {
            mem,
            base: Some(base),
            k,
            end,
        }
    }

    /// Whether the access `need` is known to be in bounds here: its address cannot
    /// exceed what the memory's declared minimum holds (a memory is never smaller than
    /// its type's minimum: defined memories are created with it, imported ones are
    /// checked against it at instantiation, and none ever shrinks), or an earlier check
    /// dominating this point covers it (facts are dropped when control leaves the
    /// region that check dominates, see `Frame::facts`).
    fn in_bounds(&self, need: &InBounds) -> bool {
        let min = self.env.info.memories[need.mem as usize]
            .min
            .saturating_mul(PAGE);
        let max_addr = match need.base {
            None => 0,
            Some(b) => max_value(&self.b.func.dfg, b, 4) + need.k as u64,
        };
        // With `k`, `max_addr` may exceed 2^32 where the real address wraps: then it
        // is above `min` too, which is at most 2^32.
        if max_addr + need.end <= min {
            return true;
        }
        // Only the most recent facts: enough for the accesses of one stretch of code,
        // without a quadratic cost on long ones.
        self.facts.iter().rev().take(64).any(|f| {
            f.mem == need.mem
                && match need.base {
                    // Any fact proves `length >= f.end`.
                    None => need.end <= f.end,
                    // Same base: `need`'s address is `f`'s plus `d` (mod 2^32), and since
                    // `f`'s address + `f.end` <= length <= 2^32, adding `d` cannot wrap
                    // when `d + need.end <= f.end`.
                    Some(_) => {
                        f.base == need.base && (need.k.wrapping_sub(f.k) as u64) + need.end <= f.end
                    }
                }
        })
    }

    /// At the first access to memory `m` in this function, loads its length (where
    /// checks use it, `guarded`) and base in the entry block too, right after
    /// its definition pointer. Each access still
    /// loads them (`defs()` flags); alias analysis replaces those loads by the entry
    /// block's wherever no call lies between (a call may grow memory), loops included,
    /// so base and length stay in registers between calls.
    fn preload_def(&mut self, m: usize) {
        if std::mem::replace(&mut self.mem_preloaded[m], true) {
            return;
        }
        let def = self.mem_defs[m];
        let ValueDef::Result(inst, _) = self.b.func.dfg.value_def(def) else {
            unreachable!("a definition pointer is a load's result")
        };
        let guarded = self.guarded(m);
        let (base_at, base_offset) = self.base_field(m);
        let mut pos = FuncCursor::new(self.b.func).after_inst(inst);
        if guarded {
            // The base is the same everywhere, and nothing compares with the length.
            pos.ins().load(I64, readonly(), base_at, base_offset);
            return;
        }
        pos.ins().load(I64, defs(), def, DEF_LENGTH);
        pos.ins().load(I64, defs(), def, DEF_BASE);
        // And after every call made so far (see `reload_defs_after_call`) whose block has
        // code yet: one that has none is where translation still is (the access's own
        // loads come next) or was never reached. The loads only help alias analysis, so
        // leaving one out never changes what the code does.
        for &block in &self.after_calls {
            if !self.b.func.layout.is_block_inserted(block) {
                continue;
            }
            let mut pos = FuncCursor::new(self.b.func).at_first_insertion_point(block);
            pos.ins().load(I64, defs(), def, DEF_LENGTH);
            pos.ins().load(I64, defs(), def, DEF_BASE);
        }
    }

    /// After a call (which may have grown memory): loads the length and base of every
    /// memory this function has used so far again, as the entry block does (and
    /// `preload_def` adds them here for a memory first used later). Alias
    /// analysis then replaces the loads of later accesses by these up to the next call,
    /// in particular in a loop that follows a call and makes none: without them, each
    /// iteration loaded both anew (dispatch: 2 of its step's 18 instructions), since
    /// no earlier load after the call dominated the loop's. A guarded memory needs
    /// neither (`guarded`).
    pub(super) fn reload_defs_after_call(&mut self) {
        if let Some(block) = self.b.current_block() {
            self.after_calls.push(block);
        }
        for m in 0..self.mem_defs.len() {
            if self.mem_preloaded[m] && !self.guarded(m) {
                let def = self.mem_defs[m];
                self.b.ins().load(I64, defs(), def, DEF_LENGTH);
                self.b.ins().load(I64, defs(), def, DEF_BASE);
            }
        }
    }

    /// Whether memory `m` is a guarded one: a 32-bit memory with signal traps. Then
    /// - its accesses do not compare addresses with its length, except one with an
    ///   offset beyond the guard (`heap_addr`), which loads the length itself (as
    ///   `memory.size` does), so the length is not preloaded: Cranelift lowers every
    ///   load, used or not, and quicksort's comparator paid two loads per call for it;
    /// - its base never changes while code runs (a guarded memory grows in place,
    ///   `MemoryInstance::grow` aborts if a backing moved one), so the base load is
    ///   read-only and movable: loaded once in the entry block and kept across calls,
    ///   not loaded again after each call that might have grown the memory.
    fn guarded(&self, m: usize) -> bool {
        self.env.options.signal_traps && !self.env.info.memories[m].memory64
    }

    /// Loads the base of memory `m`. A guarded memory 0's is a field of the VM context
    /// itself (`VMContext::memory0_base`): one load instead of three (context, array of
    /// definitions, definition), which every call of a small function that touches
    /// memory paid on entry (quicksort's comparator: 17 instructions, 3 of them this).
    fn base(&mut self, m: usize) -> Value {
        let (at, offset) = self.base_field(m);
        let flags = if self.guarded(m) { readonly() } else { defs() };
        self.b.ins().load(I64, flags, at, offset)
    }

    /// Where [`Self::base`] loads memory `m`'s base from: a pointer and an offset.
    fn base_field(&self, m: usize) -> (Value, i32) {
        match m == 0 && self.guarded(0) {
            true => (self.vmctx, VM_MEMORY0_BASE),
            false => (self.mem_defs[m], DEF_BASE),
        }
    }

    /// Loads `size` bytes as a `ty`; `ext` says whether a narrower load is sign-extended
    /// (`Some(true)`) or zero-extended (`Some(false)`).
    pub(super) fn load(
        &mut self,
        memarg: MemArg,
        ty: Type,
        size: u64,
        ext: Option<bool>,
    ) -> Result<()> {
        let (p, flags) = self.heap_addr(&memarg, size);
        let v = match (ext, size) {
            (None, _) => self.b.ins().load(ty, flags, p, 0),
            (Some(true), 1) => self.b.ins().sload8(ty, flags, p, 0),
            (Some(false), 1) => self.b.ins().uload8(ty, flags, p, 0),
            (Some(true), 2) => self.b.ins().sload16(ty, flags, p, 0),
            (Some(false), 2) => self.b.ins().uload16(ty, flags, p, 0),
            (Some(true), _) => self.b.ins().sload32(flags, p, 0),
            (Some(false), _) => self.b.ins().uload32(flags, p, 0),
        };
        self.push(v);
        Ok(())
    }

    /// Stores `size` bytes of the operand, truncated to `narrow` if given.
    pub(super) fn store(&mut self, memarg: MemArg, size: u64, narrow: Option<Type>) -> Result<()> {
        let v = self.pop();
        let (p, flags) = self.heap_addr(&memarg, size);
        match narrow {
            None => self.b.ins().store(flags, v, p, 0),
            Some(I8) => self.b.ins().istore8(flags, v, p, 0),
            Some(I16) => self.b.ins().istore16(flags, v, p, 0),
            Some(_) => self.b.ins().istore32(flags, v, p, 0),
        };
        Ok(())
    }

    // `v128` accesses.

    pub(super) fn v128_load(&mut self, memarg: MemArg) -> Result<()> {
        let (p, flags) = self.heap_addr(&memarg, 16);
        let v = self.b.ins().load(I8X16, flags, p, 0);
        self.push(v);
        Ok(())
    }

    pub(super) fn v128_store(&mut self, memarg: MemArg) -> Result<()> {
        let v = self.vpop(I8X16);
        let (p, flags) = self.heap_addr(&memarg, 16);
        self.b.ins().store(flags, v, p, 0);
        Ok(())
    }

    pub(super) fn simd_load_lane(&mut self, memarg: MemArg, ty: Type, lane: u8) -> Result<()> {
        let v = self.vpop(ty);
        let lt = ty.lane_type();
        let (p, flags) = self.heap_addr(&memarg, lt.bytes() as u64);
        let x = self.b.ins().load(lt, flags, p, 0);
        let r = self.b.ins().insertlane(v, x, lane);
        self.vpush(r);
        Ok(())
    }

    pub(super) fn simd_store_lane(&mut self, memarg: MemArg, ty: Type, lane: u8) -> Result<()> {
        let v = self.vpop(ty);
        let x = self.b.ins().extractlane(v, lane);
        let (p, flags) = self.heap_addr(&memarg, ty.lane_type().bytes() as u64);
        self.b.ins().store(flags, x, p, 0);
        Ok(())
    }

    pub(super) fn simd_splat_load(&mut self, memarg: MemArg, ty: Type) -> Result<()> {
        let lt = ty.lane_type();
        let (p, flags) = self.heap_addr(&memarg, lt.bytes() as u64);
        let x = self.b.ins().load(lt, flags, p, 0);
        let r = self.b.ins().splat(ty, x);
        self.vpush(r);
        Ok(())
    }

    pub(super) fn simd_zero_load(&mut self, memarg: MemArg, ty: Type) -> Result<()> {
        let lt = ty.lane_type();
        let (p, flags) = self.heap_addr(&memarg, lt.bytes() as u64);
        let x = self.b.ins().load(lt, flags, p, 0);
        let r = self.b.ins().scalar_to_vector(ty, x);
        self.vpush(r);
        Ok(())
    }

    /// `v128.loadNxM_{s,u}`: 8 bytes widened to `to` lanes.
    pub(super) fn simd_ext_load(&mut self, memarg: MemArg, from: Type, signed: bool) -> Result<()> {
        let (p, flags) = self.heap_addr(&memarg, 8);
        let x = self.b.ins().load(I64, flags, p, 0);
        let v = self.b.ins().scalar_to_vector(I64X2, x);
        let v = cast(&mut self.b, v, from);
        let r = if signed {
            self.b.ins().swiden_low(v)
        } else {
            self.b.ins().uwiden_low(v)
        };
        self.vpush(r);
        Ok(())
    }

    fn i32c(&mut self, v: u32) -> Value {
        self.b.ins().iconst(I32, v as i64)
    }

    /// An address, index or length operand as the u64 the libcalls take: an i32
    /// (a 32-bit memory's or table's) zero-extended, an i64 as it is.
    pub(super) fn widen_to_u64(&mut self, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == I32 {
            self.b.ins().uextend(I64, v)
        } else {
            v
        }
    }

    pub(super) fn memory_size(&mut self, mem: u32) -> Result<()> {
        let def = self.mem_defs[mem as usize];
        let len = self.b.ins().load(I64, defs(), def, DEF_LENGTH);
        let pages = self.b.ins().ushr_imm_u(len, 16);
        let v = if self.env.info.memories[mem as usize].memory64 {
            pages
        } else {
            self.b.ins().ireduce(I32, pages)
        };
        self.push(v);
        Ok(())
    }

    pub(super) fn memory_grow(&mut self, mem: u32) -> Result<()> {
        // The delta's type is the memory's address type, and so is the result.
        let delta = self.pop();
        let ty = self.b.func.dfg.value_type(delta);
        let delta = self.widen_to_u64(delta);
        let m = self.i32c(mem);
        let vmctx = self.vmctx;
        let r = self.libcall(Libcall::MemoryGrow, &[vmctx, m, delta]);
        self.check_trap();
        let old = if ty == I32 {
            self.b.ins().ireduce(I32, r[0])
        } else {
            r[0]
        };
        self.push(old);
        Ok(())
    }

    pub(super) fn memory_fill(&mut self, mem: u32) -> Result<()> {
        let (d, val, n) = self.pop3();
        let (d, n) = (self.widen_to_u64(d), self.widen_to_u64(n));
        let m = self.i32c(mem);
        let vmctx = self.vmctx;
        self.libcall(Libcall::MemoryFill, &[vmctx, m, d, val, n]);
        self.check_trap();
        Ok(())
    }

    /// Each operand has its memory's address type (the length is i64 only between two
    /// 64-bit memories), so widening each by its own type is the spec's rule.
    pub(super) fn memory_copy(&mut self, dst_mem: u32, src_mem: u32) -> Result<()> {
        let (d, s, n) = self.pop3();
        let (d, s, n) = (
            self.widen_to_u64(d),
            self.widen_to_u64(s),
            self.widen_to_u64(n),
        );
        let dm = self.i32c(dst_mem);
        let sm = self.i32c(src_mem);
        let vmctx = self.vmctx;
        self.libcall(Libcall::MemoryCopy, &[vmctx, dm, sm, d, s, n]);
        self.check_trap();
        Ok(())
    }

    pub(super) fn memory_init(&mut self, data_index: u32, mem: u32) -> Result<()> {
        let (d, s, n) = self.pop3();
        let (d, s, n) = (
            self.widen_to_u64(d),
            self.widen_to_u64(s),
            self.widen_to_u64(n),
        );
        let m = self.i32c(mem);
        let seg = self.i32c(data_index);
        let vmctx = self.vmctx;
        self.libcall(Libcall::MemoryInit, &[vmctx, m, seg, d, s, n]);
        self.check_trap();
        Ok(())
    }

    pub(super) fn data_drop(&mut self, data_index: u32) -> Result<()> {
        let seg = self.i32c(data_index);
        let vmctx = self.vmctx;
        self.libcall(Libcall::DataDrop, &[vmctx, seg]);
        Ok(())
    }
}

/// The value of `v` if it is an integer constant (as an unsigned 32-bit number).
fn const_value(dfg: &DataFlowGraph, v: Value) -> Option<u64> {
    let ValueDef::Result(inst, _) = dfg.value_def(v) else {
        return None;
    };
    match dfg.insts[inst] {
        InstructionData::UnaryImm {
            opcode: Opcode::Iconst,
            imm,
        } => Some(imm.bits() as u32 as u64),
        _ => None,
    }
}

/// The opcode and operands of `v`'s definition if it is a binary instruction.
fn binary(dfg: &DataFlowGraph, v: Value) -> Option<(Opcode, [Value; 2])> {
    let ValueDef::Result(inst, _) = dfg.value_def(v) else {
        return None;
    };
    match dfg.insts[inst] {
        InstructionData::Binary { opcode, args } => Some((opcode, args)),
        _ => None,
    }
}

/// An upper bound of the i32 `v` read as unsigned, from the instructions that computed
/// it (up to `depth` levels up): enough to see that `(x & 15) << 2`, a zero-extended
/// byte or a comparison result is small.
fn max_value(dfg: &DataFlowGraph, v: Value, depth: u32) -> u64 {
    const ANY: u64 = u32::MAX as u64;
    if dfg.value_type(v) != I32 {
        return ANY;
    }
    let ValueDef::Result(inst, _) = dfg.value_def(v) else {
        return ANY;
    };
    let max = |x: Value| {
        if depth == 0 {
            ANY
        } else {
            max_value(dfg, x, depth - 1)
        }
    };
    match dfg.insts[inst] {
        InstructionData::UnaryImm {
            opcode: Opcode::Iconst,
            imm,
        } => imm.bits() as u32 as u64,
        InstructionData::Unary {
            opcode: Opcode::Uextend,
            arg,
        } => match dfg.value_type(arg) {
            I8 => u8::MAX as u64,
            I16 => u16::MAX as u64,
            _ => ANY,
        },
        InstructionData::Load {
            opcode: Opcode::Uload8,
            ..
        } => u8::MAX as u64,
        InstructionData::Load {
            opcode: Opcode::Uload16,
            ..
        } => u16::MAX as u64,
        InstructionData::Binary {
            opcode,
            args: [x, y],
        } => {
            let shift = || const_value(dfg, y).map(|s| s & 31);
            match opcode {
                Opcode::Band | Opcode::Umin => max(x).min(max(y)),
                Opcode::Iadd => (max(x) + max(y)).min(ANY),
                Opcode::Ushr => shift().map_or(ANY, |s| max(x) >> s),
                Opcode::Ishl => shift().map_or(ANY, |s| (max(x) << s).min(ANY)),
                _ => ANY,
            }
        }
        InstructionData::Ternary {
            opcode: Opcode::Select,
            args: [_, a, b],
        } => max(a).max(max(b)),
        _ => ANY,
    }
}
