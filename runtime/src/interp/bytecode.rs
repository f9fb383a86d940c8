//! The interpreter's instruction set: a register-like ("slot") form of Wasm.
//!
//! Every local, every constant and every operand-stack position of a function has a
//! fixed slot in its frame (the Wasm operand stack height is static), so instructions
//! name the slots they read and write instead of pushing and popping. Frame layout:
//!
//! ```text
//! [ params | other locals (zeroed) | constants (copied in) | operand stack ]
//! ```
//!
//! A call places the callee's frame at the caller's slot of the first argument, so the
//! arguments become the callee's first locals and the results come back in the same
//! slots. Branch targets are absolute instruction indices while translating; `Code::new`
//! stores them relative to the instruction after the branch. Each instruction is 16 bytes.
//!
//! Every instruction is defined once, in [`for_each_instr`]; the `Instr` enum, its
//! accessors, the SIMD lowering below, `Code::new`'s checks (`code.rs`) and the arms of
//! the lowered instructions in the execution loop (`exec/dispatch.rs`) are made from it.

use super::code::Code;
use super::gc::GcOp;
use super::simd::SimdOp;

/// A slot index, relative to the current frame's base.
pub(crate) type Slot = u32;

// Why a `macro_rules!` table rather than a build script that writes the enum: everything
// made from the table is a short pattern per instruction (a variant, a match arm, a
// check per operand), which `macro_rules!` expresses directly; the table stays ordinary
// Rust that the compiler type-checks in place, with no generated file to look for, no
// build step to rerun and nothing added to the build. A build script would pay off for
// what macros cannot do (renaming `I32Add` to `i32_add`, writing docs or an encoder),
// none of which the interpreter needs.

/// Calls `$mac!` with the whole instruction set (after the tokens in the optional
/// parentheses), in three sections:
///
/// - `others`: each instruction with its fields, then its rules;
/// - `lowered`: the hottest SIMD operations, which `Code::new` lowers out of
///   `Simd { op, dst, a, b }` into instructions of their own so that they dispatch
///   once; each with its fields and, after `=`, the `SimdOp` and `[dst, a, b]` it
///   stands for (a pattern when lowering, an expression when raising);
/// - the numeric instructions, from [`for_each_numeric`].
///
/// A field's kind says how `Code::new` checks it:
///
/// - `slot`: a slot the instruction reads or writes: below the frame size;
/// - `result`: the one slot a single-result instruction writes: checked as `slot`, and
///   the translator may redirect it into a local (`Instr::result_slot_mut`);
/// - `wide`: a `v128`: it and the slot after it are below the frame size;
/// - `target`: a branch target: an instruction index, stored relative once checked;
/// - `entries`: `BrTable`'s `len`: its `len + 1` entries follow it;
/// - `base`: where a call's arguments start; the call checks the callee's frame (a tail
///   call also the range its arguments move from);
/// - `by_op`: an operand of `Simd`, checked as its `SimdOp` uses it (`simd::operands`);
///   `by_op_result`: the same, and the redirectable result if the operator writes one;
/// - a type (`u8`, `i16`, `u32`, `u64`, `SimdOp`): an immediate, not checked.
///
/// Rules: `ends` (never falls through, so it may be a function's last instruction),
/// `extra_slot` / `extra_imm` (followed by an `Extra` whose `a` is a slot, or holding
/// immediates only), `skips_next` (may step over the next instruction, so two follow
/// it), `simd_operands(..)` (the `Simd` check).
macro_rules! for_each_instr {
    ($mac:ident $(($($prefix:tt)*))?) => {
        $crate::interp::bytecode::for_each_numeric! { $mac(
            $($($prefix)*)?
            others: {
                // --- Control ---
                Unreachable ends;
                /// Traps with "interrupted" if the store's interrupt flag is set (at
                /// function entries and loop headers, only when the engine is
                /// interruptible: `api/interrupt.rs`).
                CheckInterrupt;
                /// Takes `amount` from the store's fuel, or traps with "all fuel consumed"
                /// taking nothing (at the charge points of `module/fuel.rs`, only when
                /// the engine meters fuel).
                ConsumeFuel { amount: u32 };
                /// Metered forms (`translate/metering.rs`), only when the engine meters:
                /// the branch named, doing the work of the `ConsumeFuel { amount }`
                /// (`*Fuel` forms) or of the `CheckInterrupt` (`*Check` forms) at its
                /// target, its target past it.
                /// `Br`.
                BrFuel { amount: u32, target: target } ends;
                BrCheck { target: target } ends;
                /// Fused loop counters (`I32AddImmBr*`), metered where they are taken.
                I32AddImmBrLtUFuel { amount: u8, step: i16, dst: slot, rhs: slot, target: target } skips_next;
                I32AddImmBrLtSFuel { amount: u8, step: i16, dst: slot, rhs: slot, target: target } skips_next;
                I32AddImmBrNeFuel { amount: u8, step: i16, dst: slot, rhs: slot, target: target } skips_next;
                I32AddImmBrLtUCheck { step: i16, dst: slot, rhs: slot, target: target } skips_next;
                I32AddImmBrLtSCheck { step: i16, dst: slot, rhs: slot, target: target } skips_next;
                I32AddImmBrNeCheck { step: i16, dst: slot, rhs: slot, target: target } skips_next;
                /// Operands of the instruction before it; never executed.
                Extra { a: u32, b: u32, c: u32 };
                Br { target: target } ends;
                BrIfNez { cond: slot, target: target };
                BrIfEqz { cond: slot, target: target };
                /// Followed by `len + 1` `Br` entries; `index` picks one (the last if out
                /// of range).
                BrTable { index: slot, len: entries };
                /// Fused compare-and-branch (branch when the i32 comparison holds).
                BrI32Eq { lhs: slot, rhs: slot, target: target };
                BrI32Ne { lhs: slot, rhs: slot, target: target };
                BrI32LtS { lhs: slot, rhs: slot, target: target };
                BrI32LtU { lhs: slot, rhs: slot, target: target };
                BrI32GeS { lhs: slot, rhs: slot, target: target };
                BrI32GeU { lhs: slot, rhs: slot, target: target };
                BrI32GtS { lhs: slot, rhs: slot, target: target };
                BrI32GtU { lhs: slot, rhs: slot, target: target };
                BrI32LeS { lhs: slot, rhs: slot, target: target };
                BrI32LeU { lhs: slot, rhs: slot, target: target };
                BrI64Eq { lhs: slot, rhs: slot, target: target };
                BrI64Ne { lhs: slot, rhs: slot, target: target };
                BrI64LtS { lhs: slot, rhs: slot, target: target };
                BrI64LtU { lhs: slot, rhs: slot, target: target };
                BrI64GtS { lhs: slot, rhs: slot, target: target };
                BrI64GtU { lhs: slot, rhs: slot, target: target };
                BrI64LeS { lhs: slot, rhs: slot, target: target };
                BrI64LeU { lhs: slot, rhs: slot, target: target };
                BrI64GeS { lhs: slot, rhs: slot, target: target };
                BrI64GeU { lhs: slot, rhs: slot, target: target };
                /// Fused loop counter: `dst += step` (i32), then branch when `dst < rhs`
                /// (unsigned); otherwise skip the next instruction, which is the unfused
                /// compare-and-branch (kept, as it may be a branch target itself).
                I32AddImmBrLtU { step: i16, dst: slot, rhs: slot, target: target } skips_next;
                /// As `I32AddImmBrLtU`, signed `<`.
                I32AddImmBrLtS { step: i16, dst: slot, rhs: slot, target: target } skips_next;
                /// As `I32AddImmBrLtU`, `!=`.
                I32AddImmBrNe { step: i16, dst: slot, rhs: slot, target: target } skips_next;
                /// Return; the results are already in slots `0..n`.
                Return ends;
                /// Copy `src` to slot 0 (in every frame: `Code::new` rejects an empty
                /// one), then return.
                ReturnSlot { src: slot } ends;
                Copy { dst: result, src: slot };
                /// `I32Add`, then, in the same dispatch, the instruction after it when
                /// that is the one named after `Then` (otherwise the loop dispatches it as
                /// usual): pairs that are frequent at run time (`translate/peephole.rs`).
                I32AddThenI32Add { dst: result, lhs: slot, rhs: slot };
                I32AddThenCopy { dst: result, lhs: slot, rhs: slot };
                I32AddThenBr { dst: result, lhs: slot, rhs: slot };
                I32AddThenI32Load { dst: result, lhs: slot, rhs: slot };
                I32AddThenI32Load8U { dst: result, lhs: slot, rhs: slot };
                I32AddThenF64Load { dst: result, lhs: slot, rhs: slot };
                /// More fused pairs, as the `I32AddThen*` ones: the first instruction's
                /// fields, then its follower's if that is the one named.
                CopyThenCopy { dst: result, src: slot };
                I32RotlThenI32Xor { dst: result, lhs: slot, rhs: slot };
                /// A constant that did not get a constant slot.
                Const { dst: result, value: u64 };
                /// Call defined function `func` of this module; arguments start at `base`.
                Call { func: u32, base: base };
                /// Call function `func` (module index space) through the instance's
                /// imports.
                CallImport { func: u32, base: base };
                /// `call_indirect`; followed by `Extra { a: table }`.
                CallIndirect { type_index: u32, index: slot, base: base } extra_imm;
                /// `select`; followed by `Extra { a: cond }`.
                Select { dst: slot, lhs: slot, rhs: slot } extra_slot;

                // --- Variables ---
                GlobalGet { dst: result, global: u32 };
                GlobalSet { global: u32, src: slot };

                // --- Memory (0, unless prefixed by `OtherMemory`) ---
                I32Load { dst: result, addr: slot, offset: u32 };
                I64Load { dst: result, addr: slot, offset: u32 };
                F32Load { dst: result, addr: slot, offset: u32 };
                F64Load { dst: result, addr: slot, offset: u32 };
                I32Load8S { dst: result, addr: slot, offset: u32 };
                I32Load8U { dst: result, addr: slot, offset: u32 };
                I32Load16S { dst: result, addr: slot, offset: u32 };
                I32Load16U { dst: result, addr: slot, offset: u32 };
                I64Load8S { dst: result, addr: slot, offset: u32 };
                I64Load8U { dst: result, addr: slot, offset: u32 };
                I64Load16S { dst: result, addr: slot, offset: u32 };
                I64Load16U { dst: result, addr: slot, offset: u32 };
                I64Load32S { dst: result, addr: slot, offset: u32 };
                I64Load32U { dst: result, addr: slot, offset: u32 };
                /// Loads at `(idx << shift) + offset`: a shift by a constant fused into the
                /// load that uses it as its address (array indexing).
                I32LoadShl { shift: u8, dst: result, idx: slot, offset: u32 };
                I64LoadShl { shift: u8, dst: result, idx: slot, offset: u32 };
                F32LoadShl { shift: u8, dst: result, idx: slot, offset: u32 };
                F64LoadShl { shift: u8, dst: result, idx: slot, offset: u32 };
                I32Store { addr: slot, value: slot, offset: u32 };
                I64Store { addr: slot, value: slot, offset: u32 };
                F32Store { addr: slot, value: slot, offset: u32 };
                F64Store { addr: slot, value: slot, offset: u32 };
                I32Store8 { addr: slot, value: slot, offset: u32 };
                I32Store16 { addr: slot, value: slot, offset: u32 };
                I64Store8 { addr: slot, value: slot, offset: u32 };
                I64Store16 { addr: slot, value: slot, offset: u32 };
                I64Store32 { addr: slot, value: slot, offset: u32 };
                MemorySize { dst: result };
                MemoryGrow { dst: slot, delta: slot };
                MemoryFill { dst: slot, value: slot, len: slot };
                MemoryCopy { dst: slot, src: slot, len: slot };
                /// Followed by `Extra { a: data }`.
                MemoryInit { dst: slot, src: slot, len: slot } extra_imm;
                /// `elem.drop` of element segment `index` if `elem`, else `data.drop` of
                /// data segment `index`: one kind for both (they run once per segment),
                /// so that `Instr` has room for `Gc` within 256 kinds.
                SegmentDrop { elem: bool, index: u32 };
                /// Runs the memory instruction after it (one of those above, or a `Simd`
                /// memory operator, with its `Extra`) on the instance's memory `memory`
                /// instead of memory 0, and `memory.copy` from memory `source` (otherwise
                /// `source == memory`). A prefix, so that memory 0's instructions are
                /// untouched by multi-memory; only other memories pay for it (outside the
                /// inner loop, `exec/other_memory.rs`). The translator emits it only
                /// before a memory instruction. Every instruction on a 64-bit memory
                /// (memory64) has it, memory 0 too: then addresses are i64, and
                /// `offset_high` is the high half of the instruction's u64 offset. So
                /// does every table instruction on a 64-bit table (table64), the memory
                /// fields unused (`exec/tables.rs`).
                OtherMemory { memory: u32, source: u32, offset_high: u32 } skips_next;

                // --- Tables and references ---
                TableGet { dst: result, index: slot, table: u32 };
                TableSet { index: slot, value: slot, table: u32 };
                TableSize { dst: result, table: u32 };
                /// Followed by `Extra { a: table }`.
                TableGrow { dst: slot, init: slot, delta: slot } extra_imm;
                /// Followed by `Extra { a: table }`.
                TableFill { dst: slot, value: slot, len: slot } extra_imm;
                /// Followed by `Extra { a: dst_table, b: src_table }`.
                TableCopy { dst: slot, src: slot, len: slot } extra_imm;
                /// Followed by `Extra { a: table, b: elem }`.
                TableInit { dst: slot, src: slot, len: slot } extra_imm;
                RefFunc { dst: result, func: u32 };

                // --- SIMD ---
                /// A `v128` operation (see `SimdOp` for its operands and the `Extra` some
                /// read), run out of line.
                Simd { op: SimdOp, dst: by_op_result, a: by_op, b: by_op } simd_operands(op, dst, a, b);

                // --- Tail calls ---
                /// `return_call` of defined function `func` of this module, arguments at
                /// `base`: they move down to slot 0 and the callee replaces the current
                /// frame, returning where the current function would have.
                ReturnCall { func: u32, base: base } ends;
                /// `return_call` of function `func` (module index space) through the
                /// instance's imports.
                ReturnCallImport { func: u32, base: base } ends;
                /// `return_call_indirect`; followed by `Extra { a: table }` (and, so that
                /// the `Extra` is never a function's last instruction, by anything).
                ReturnCallIndirect { type_index: u32, index: slot, base: base } ends extra_imm;

                // --- Typed function references ---
                /// `call_ref` of the function reference in `func` (null traps); arguments
                /// at `base`, as for `call`.
                CallRef { func: slot, base: base };
                /// `return_call_ref`: `call_ref`, replacing the current frame.
                ReturnCallRef { func: slot, base: base } ends;
                /// `ref.as_non_null`: traps when the reference in `src` is null (the value
                /// stays where it is).
                RefAsNonNull { src: slot };
                /// A GC operator that needs no heap object, run out of the inner loop
                /// (`exec/gc.rs`); `op` says which (`interp/gc.rs`). `type_index` is a
                /// cast's concrete function type, else unused.
                Gc { op: GcOp, dst: result, src: slot, type_index: u32 };
                /// Branch when the reference in `cond` is null (all 64 bits zero).
                BrIfNull { cond: slot, target: target };
                /// Branch when the reference in `cond` is not null.
                BrIfNonNull { cond: slot, target: target };
                // --- Exceptions (`exec/exceptions.rs`) ---
                /// `throw` of tag `tag` (module index space), its payload in the slots
                /// from `base` on (read, checked, by the outer loop).
                Throw { tag: u32, base: base } ends;
                /// `throw_ref` of the exnref in `src` (null traps).
                ThrowRef { src: slot } ends;
            },
            // A `v128` operand names the first of its two slots.
            lowered: {
                V128Load { dst: wide, addr: slot, offset: u32 } = V128Load [dst, addr, offset];
                V128Store { addr: slot, value: wide, offset: u32 } = V128Store [value, addr, offset];
                V128Copy { dst: wide, src: wide } = Copy [dst, src, 0];
                V128And { dst: wide, lhs: wide, rhs: wide } = V128And [dst, lhs, rhs];
                V128Or { dst: wide, lhs: wide, rhs: wide } = V128Or [dst, lhs, rhs];
                V128Xor { dst: wide, lhs: wide, rhs: wide } = V128Xor [dst, lhs, rhs];
                I8x16Add { dst: wide, lhs: wide, rhs: wide } = I8x16Add [dst, lhs, rhs];
                I8x16Sub { dst: wide, lhs: wide, rhs: wide } = I8x16Sub [dst, lhs, rhs];
                I8x16Eq { dst: wide, lhs: wide, rhs: wide } = I8x16Eq [dst, lhs, rhs];
                I32x4Add { dst: wide, lhs: wide, rhs: wide } = I32x4Add [dst, lhs, rhs];
                F32x4Add { dst: wide, lhs: wide, rhs: wide } = F32x4Add [dst, lhs, rhs];
                F32x4Mul { dst: wide, lhs: wide, rhs: wide } = F32x4Mul [dst, lhs, rhs];
                /// `rhs` is the (scalar) shift count.
                I8x16ShrU { dst: wide, lhs: wide, rhs: slot } = I8x16ShrU [dst, lhs, rhs];
            },
        ) }
    };
}
pub(crate) use for_each_instr;

/// Calls `$mac!` (after the tokens in the optional parentheses) with the numeric
/// instructions that need no special translation: each `{ dst: result, src: slot }`
/// (unary) or `{ dst: result, lhs: slot, rhs: slot }` (binary), named after its
/// wasmparser operator; `unary_trap`/`binary_trap` may trap. The numeric section of
/// [`for_each_instr`].
macro_rules! for_each_numeric {
    ($mac:ident $(($($prefix:tt)*))?) => {
        $mac! {
            $($($prefix)*)?
            unary: [
                I32Eqz, I64Eqz, I32Clz, I32Ctz, I32Popcnt, I64Clz, I64Ctz, I64Popcnt,
                F32Abs, F32Neg, F32Ceil, F32Floor, F32Trunc, F32Nearest, F32Sqrt,
                F64Abs, F64Neg, F64Ceil, F64Floor, F64Trunc, F64Nearest, F64Sqrt,
                I32WrapI64, I64ExtendI32S, I64ExtendI32U,
                F32ConvertI32S, F32ConvertI32U, F32ConvertI64S, F32ConvertI64U, F32DemoteF64,
                F64ConvertI32S, F64ConvertI32U, F64ConvertI64S, F64ConvertI64U, F64PromoteF32,
                I32Extend8S, I32Extend16S, I64Extend8S, I64Extend16S, I64Extend32S,
                I32TruncSatF32S, I32TruncSatF32U, I32TruncSatF64S, I32TruncSatF64U,
                I64TruncSatF32S, I64TruncSatF32U, I64TruncSatF64S, I64TruncSatF64U
            ],
            unary_trap: [
                I32TruncF32S, I32TruncF32U, I32TruncF64S, I32TruncF64U,
                I64TruncF32S, I64TruncF32U, I64TruncF64S, I64TruncF64U
            ],
            binary: [
                I32Eq, I32Ne, I32LtS, I32LtU, I32GtS, I32GtU, I32LeS, I32LeU, I32GeS, I32GeU,
                I64Eq, I64Ne, I64LtS, I64LtU, I64GtS, I64GtU, I64LeS, I64LeU, I64GeS, I64GeU,
                F32Eq, F32Ne, F32Lt, F32Gt, F32Le, F32Ge,
                F64Eq, F64Ne, F64Lt, F64Gt, F64Le, F64Ge,
                I32Add, I32Sub, I32Mul, I32And, I32Or, I32Xor, I32Shl, I32ShrS, I32ShrU,
                I32Rotl, I32Rotr,
                I64Add, I64Sub, I64Mul, I64And, I64Or, I64Xor, I64Shl, I64ShrS, I64ShrU,
                I64Rotl, I64Rotr,
                F32Add, F32Sub, F32Mul, F32Div, F32Min, F32Max, F32Copysign,
                F64Add, F64Sub, F64Mul, F64Div, F64Min, F64Max, F64Copysign
            ],
            binary_trap: [
                I32DivS, I32DivU, I32RemS, I32RemU, I64DivS, I64DivU, I64RemS, I64RemU
            ],
        }
    };
}
pub(crate) use for_each_numeric;

/// The Rust type of a field of kind `$kind` (see [`for_each_instr`]).
macro_rules! field_type {
    (slot) => {
        Slot
    };
    (result) => {
        Slot
    };
    (wide) => {
        Slot
    };
    (base) => {
        Slot
    };
    (by_op) => {
        Slot
    };
    (by_op_result) => {
        Slot
    };
    (target) => {
        u32
    };
    (entries) => {
        u32
    };
    ($immediate:ty) => {
        $immediate
    };
}

/// `Some($field)` if it is the redirectable result (kind `result`).
macro_rules! if_result {
    (result, $field:ident) => {
        Some($field)
    };
    (by_op_result, $field:ident) => {
        Some($field)
    };
    ($kind:ident, $field:ident) => {{
        let _ = $field;
        None
    }};
}

/// Points `$field` at `$to` if it is a branch target.
macro_rules! if_target {
    (target, $field:ident, $to:expr) => {{
        *$field = $to;
    }};
    ($kind:ident, $field:ident, $to:expr) => {{
        let _ = $field;
    }};
}

/// What `Instr::visit_operands` reports of an instruction: each checked field, by its
/// kind in the table (`result` fields as `slot`), then each rule. `Code::new`'s checks
/// are such a visitor.
pub(crate) trait OperandVisitor {
    /// A `slot` or `result` field.
    fn slot(&mut self, s: Slot);
    /// A `wide` field.
    fn wide(&mut self, s: Slot);
    /// A `target` field.
    fn target(&mut self, target: u32);
    /// An `entries` field.
    fn entries(&mut self, len: u32);
    /// The `ends` rule.
    fn ends(&mut self);
    /// The `extra_slot` rule.
    fn extra_slot(&mut self);
    /// The `extra_imm` rule.
    fn extra_imm(&mut self);
    /// The `skips_next` rule.
    fn skips_next(&mut self);
    /// The `simd_operands` rule: `Simd`'s operands, as its operator uses them.
    fn simd_operands(&mut self, op: SimdOp, dst: Slot, a: Slot, b: Slot);
}

/// Reports field `$value` of kind `$kind` to the visitor `$v`, if the kind is checked.
macro_rules! visit_field {
    ($v:ident, slot, $value:ident) => {
        $v.slot($value)
    };
    ($v:ident, result, $value:ident) => {
        $v.slot($value)
    };
    ($v:ident, wide, $value:ident) => {
        $v.wide($value)
    };
    ($v:ident, target, $value:ident) => {
        $v.target($value)
    };
    ($v:ident, entries, $value:ident) => {
        $v.entries($value)
    };
    // `base`: the call checks the callee's frame when it makes it; `by_op*`: the
    // `simd_operands` rule covers them; anything else is an immediate.
    ($v:ident, $unchecked:ident, $value:ident) => {{
        let _ = $value;
    }};
}

/// Applies `$f` to field `$value` of kind `$kind` if it holds a slot (`map_slots`).
macro_rules! map_field {
    ($f:ident, slot, $value:ident) => {
        *$value = $f(*$value)
    };
    ($f:ident, result, $value:ident) => {
        *$value = $f(*$value)
    };
    ($f:ident, wide, $value:ident) => {
        *$value = $f(*$value)
    };
    ($f:ident, base, $value:ident) => {
        *$value = $f(*$value)
    };
    // `by_op*` fields are mapped by their operator's uses (`map_slots`); the rest are
    // immediates.
    ($f:ident, $other:ident, $value:ident) => {{
        let _ = $value;
    }};
}

macro_rules! define_instr {
    (
        others: {
            $($(#[$doc:meta])* $name:ident $({ $($field:ident: $kind:ident),* })?
                $($rule:ident $(($($arg:tt)*))?)*;)*
        },
        lowered: {
            $($(#[$ldoc:meta])* $lname:ident { $($lfield:ident: $lkind:ident),* }
                = $op:ident [$($simd:tt),*];)*
        },
        unary: [$($un:ident),*],
        unary_trap: [$($unt:ident),*],
        binary: [$($bin:ident),*],
        binary_trap: [$($bint:ident),*],
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Instr {
            $($un { dst: Slot, src: Slot },)*
            $($unt { dst: Slot, src: Slot },)*
            $($bin { dst: Slot, lhs: Slot, rhs: Slot },)*
            $($bint { dst: Slot, lhs: Slot, rhs: Slot },)*
            $($(#[$doc])* $name $({ $($field: field_type!($kind)),* })?,)*
            $($(#[$ldoc])* $lname { $($lfield: field_type!($lkind)),* },)*
        }

        impl Instr {
            /// The slot a simple single-result instruction writes, so the translator can
            /// redirect it straight into a local (`local.set` after an operation).
            pub(crate) fn result_slot_mut(&mut self) -> Option<&mut Slot> {
                if let Instr::Simd { op, .. } = self
                    && !op.writes_dst()
                {
                    return None;
                }
                if let Instr::Gc { op, .. } = self
                    && !op.writes_dst()
                {
                    return None;
                }
                match self {
                    $(Instr::$un { dst, .. })|* => Some(dst),
                    $(Instr::$unt { dst, .. })|* => Some(dst),
                    $(Instr::$bin { dst, .. })|* => Some(dst),
                    $(Instr::$bint { dst, .. })|* => Some(dst),
                    $(Instr::$name $({ $($field),* })? => None $($(.or(if_result!($kind, $field)))*)?,)*
                    $(Instr::$lname { .. })|* => None,
                }
            }

            /// Reports the checked fields and the rules of this instruction to `v`.
            /// Every instruction is listed (no catch-all), so none can skip them.
            pub(crate) fn visit_operands(&self, v: &mut impl OperandVisitor) {
                match *self {
                    $(Instr::$un { dst, src })|* => {
                        v.slot(dst);
                        v.slot(src);
                    }
                    $(Instr::$unt { dst, src })|* => {
                        v.slot(dst);
                        v.slot(src);
                    }
                    $(Instr::$bin { dst, lhs, rhs })|* => {
                        v.slot(dst);
                        v.slot(lhs);
                        v.slot(rhs);
                    }
                    $(Instr::$bint { dst, lhs, rhs })|* => {
                        v.slot(dst);
                        v.slot(lhs);
                        v.slot(rhs);
                    }
                    $(Instr::$name $({ $($field),* })? => {
                        $($(visit_field!(v, $kind, $field);)*)?
                        $(v.$rule($($($arg)*)?);)*
                    })*
                    $(Instr::$lname { $($lfield),* } => {
                        $(visit_field!(v, $lkind, $lfield);)*
                    })*
                }
            }

            /// Replaces every slot this instruction reads or writes (the fields
            /// `visit_operands` reports as slots, a `Simd`'s as its operator uses them,
            /// and the `base` of the values a call or throw passes) by `f` of it. The
            /// `Extra` word after it is the caller's (`code::map_slots`).
            pub(crate) fn map_slots(&mut self, f: &mut impl FnMut(Slot) -> Slot) {
                if let Instr::Simd { op, dst, a, b } = self {
                    let (d, x, y, _) = crate::interp::simd::operands(*op);
                    for (used, slot) in [(d, dst), (x, a), (y, b)] {
                        if used != crate::interp::simd::Use::Imm {
                            *slot = f(*slot);
                        }
                    }
                    return;
                }
                match self {
                    $(Instr::$un { dst, src })|* => {
                        *dst = f(*dst);
                        *src = f(*src);
                    }
                    $(Instr::$unt { dst, src })|* => {
                        *dst = f(*dst);
                        *src = f(*src);
                    }
                    $(Instr::$bin { dst, lhs, rhs })|* => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    $(Instr::$bint { dst, lhs, rhs })|* => {
                        *dst = f(*dst);
                        *lhs = f(*lhs);
                        *rhs = f(*rhs);
                    }
                    $(Instr::$name $({ $($field),* })? => {
                        $($(map_field!(f, $kind, $field);)*)?
                    })*
                    $(Instr::$lname { $($lfield),* } => {
                        $(map_field!(f, $lkind, $lfield);)*
                    })*
                }
            }

            /// Points a branch at `to` (used when a forward label is bound).
            pub(crate) fn set_target(&mut self, to: u32) {
                match self {
                    $(Instr::$name $({ $($field),* })? => { $($(if_target!($kind, $field, to);)*)? })*
                    _ => {}
                }
            }

            /// The dedicated instruction for `Simd { op, dst, a, b }`, if `op` has one
            /// (the inverse of `raise_simd`).
            pub(crate) fn lower_simd(op: SimdOp, dst: Slot, a: Slot, b: Slot) -> Option<Instr> {
                match (op, [dst, a, b]) {
                    $((SimdOp::$op, [$($simd),*]) => Some(Instr::$lname { $($lfield),* }),)*
                    _ => None,
                }
            }

            /// The `Simd { op, dst, a, b }` a lowered instruction stands for (tests check
            /// that lowering round-trips and that both are checked alike).
            #[cfg(test)]
            pub(crate) fn raise_simd(&self) -> Option<(SimdOp, [Slot; 3])> {
                match *self {
                    $(Instr::$lname { $($lfield),* } => Some((SimdOp::$op, [$($simd),*])),)*
                    _ => None,
                }
            }

            /// One of each lowered instruction, its operands distinct.
            #[cfg(test)]
            pub(crate) fn lowered_samples() -> Vec<Instr> {
                let mut operand = 0;
                let mut next = || {
                    operand += 1;
                    operand
                };
                vec![$(Instr::$lname { $($lfield: next()),* }),*]
            }
        }
    };
}

for_each_instr!(define_instr);

/// One translated function.
#[derive(Debug)]
pub(crate) struct FuncCode {
    /// The instructions, verified against the frame size (`Code::frame_size`).
    pub instrs: Code,
    /// Values of the constant slots, copied into every new frame.
    pub consts: Vec<u64>,
    /// `v128.const` values and `i8x16.shuffle` lane indices.
    pub v128_consts: Vec<u128>,
    pub num_params: u32,
    /// Params plus declared locals.
    pub num_locals: u32,
    /// The first four constants, zero-padded (small frames copy these four at once).
    pub head_consts: [u64; 4],
    /// The `try_table` catch clauses, innermost `try_table` first, each `try_table`'s
    /// in order (`exec/exceptions.rs`).
    pub handlers: Box<[Handler]>,
}

/// One catch clause of a `try_table`: where it applies and where it lands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Handler {
    /// The `try_table`'s body: an instruction at index `i` is in it when
    /// `start <= i < end`, so a throw or call whose resume point (`pc` after it) is in
    /// `start + 1..=end` is covered.
    pub start: u32,
    pub end: u32,
    /// The tag caught (module index space), `None` for `catch_all`/`catch_all_ref`.
    pub tag: Option<u32>,
    /// Whether the exnref follows the payload (`catch_ref`, `catch_all_ref`).
    pub with_ref: bool,
    /// The first slot of the label's values: the payload, then the exnref.
    pub dst: Slot,
    /// The landing pad (an instruction index): the branch to the label.
    pub target: u32,
}

#[cfg(test)]
mod tests {
    use super::{Instr, SimdOp};

    #[test]
    fn instr_is_16_bytes() {
        assert_eq!(std::mem::size_of::<Instr>(), 16);
    }

    #[test]
    fn simd_lowering_round_trips() {
        let samples = Instr::lowered_samples();
        assert_eq!(samples.len(), 13);
        for lowered in samples {
            let (op, [dst, a, b]) = lowered.raise_simd().unwrap();
            assert_eq!(Instr::lower_simd(op, dst, a, b), Some(lowered), "{op:?}");
        }
        assert_eq!(Instr::lower_simd(SimdOp::I8x16Swizzle, 1, 2, 3), None);
        // `v128` copies are lowered only as the plain move (`b == 0`).
        assert_eq!(Instr::lower_simd(SimdOp::Copy, 1, 2, 3), None);
    }
}
