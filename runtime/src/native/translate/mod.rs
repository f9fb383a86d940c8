//! Wasm operators to Cranelift IR, one function at a time.
//!
//! The Wasm ABI of every compiled function is `(callee_vmctx: i64, caller_vmctx: i64,
//! params...) -> (status: i32, results...)`. Values live in SSA form on a
//! translation-time operand stack; locals are cranelift-frontend variables. Traps are
//! explicit, but for the trap sites of signal traps (`signals.rs`): unchecked memory
//! accesses, the prologue's stack check, and the `trapnz`/`trap` that most inline checks
//! are then (`Translator::check_site`). Otherwise a check branches to a cold block that
//! goes, with the trap code, to the function's one block that sets the runtime's trap
//! flag, records the trap's backtrace (`native/backtrace.rs`) and returns status 1 (and
//! zeros); a normal return returns status 0. Every call of Wasm code (a defined function,
//! an import, a table element, a reference, a host adapter) is followed by a test of
//! the status it returned, in its register, which leaves the same way when it is
//! non-zero; a libcall that may trap is followed by a test of the trap flag itself
//! (RATIONALE.md, "Native engine: VM context and traps"); with signal traps and without
//! exception handling both tests are trap sites instead (`Translator::leave_if`,
//! RATIONALE.md "Native compile time: fewer blocks"). A tail call has no "after":
//! its callee returns its status to this function's caller, which tests it. The flag
//! stays what says which trap it is; the status only says that the flag is set. The
//! runtime's address (`VM_RUNTIME`) is loaded where it is used, not once per function,
//! so that it does not occupy a register across the function.
//!
//! The translator implements wasmparser's `VisitOperator` and `VisitSimdOperator`:
//! `visit` maps each operator to the method that translates it, one line per operator,
//! and refuses the operators of proposals the engine does not implement; the methods
//! themselves are split by family: `control` (blocks, branches), `calls`, `numeric`,
//! `memory`, `variables` (locals, globals, tables and references), `simd` (which also
//! holds its own operator list, relaxed SIMD included) and `relaxed_simd`. `trampolines`
//! builds entry trampolines and host adapters.

mod calls;
mod control;
mod exceptions;
mod func_refs;
mod gc;
mod gc_objects;
mod gc_roots;
pub(crate) use exceptions::CATCH_ALL;
mod memory;
mod metering;
mod numeric;
mod relaxed_simd;
mod simd;
pub(crate) mod trampolines;
mod variables;
mod visit;

use rustc_hash::FxHashMap as HashMap;

use cranelift_codegen::ir::{
    self, Block, BlockArg, InstBuilder, MemFlagsData, Signature, Type, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};

use super::CodeOptions;
use super::abi::{STATUS, clif_type, libcall_signature};
use super::artifact::SiteKind;
use super::libcalls::Libcall;
use super::vmctx::{
    INTERRUPT_STACK_LIMIT, RT_STACK_LIMIT, RT_TRAP, VM_INTERRUPT, VM_MEMORIES, VM_RUNTIME,
    trap_code,
};
use crate::error::{CompileErrorKind, Error, Result, TrapKind};
use crate::module::ModuleInfo;
use crate::module::fuel::MeteringPlan;
use crate::values::{SubType, ValType};

/// The namespace of the `UserExternalName`s that name defined functions (index: the
/// defined function's index, imports not counted).
pub(crate) const FUNC_NAMESPACE: u32 = 0;
/// The namespace of the `UserExternalName`s that name libcalls (index: `Libcall::index`).
/// Compiled code reaches libcalls through relocations the linker (`link.rs`) resolves,
/// never through an address baked in, so that the code holds nothing of the process that
/// compiled it and can be cached on disk (`cache/`).
pub(crate) const LIBCALL_NAMESPACE: u32 = 1;

/// The Cranelift trap code of the `ud2` trap sites of `kind`, one of
/// `SiteKind::USER_CODED`: the kind's number as a user code.
pub(crate) const fn site_trap_code(kind: SiteKind) -> ir::TrapCode {
    match ir::TrapCode::user(kind as u8) {
        Some(code) => code,
        None => panic!("site kinds are numbered below Cranelift's reserved codes"),
    }
}

/// Imports `libcall` into `func`, for a `call` (not colocated: a Rust function may be
/// anywhere in the address space).
pub(crate) fn import_libcall(
    func: &mut ir::Function,
    libcall: Libcall,
    call_conv: CallConv,
) -> ir::FuncRef {
    let signature = func.import_signature(libcall_signature(libcall, call_conv));
    let name = func.declare_imported_user_function(ir::UserExternalName {
        namespace: LIBCALL_NAMESPACE,
        index: libcall.index(),
    });
    func.import_function(ir::ExtFuncData {
        name: ir::ExternalName::user(name),
        signature,
        colocated: false,
        patchable: false,
    })
}

/// What translating one function needs to know about its module.
pub(crate) struct Env<'a> {
    pub info: &'a ModuleInfo,
    /// Wasm-ABI signature of every type of the module.
    pub sigs: &'a [Signature],
    /// The host's calling convention (libcalls and entry trampolines; the Wasm ABI has
    /// `abi::WASM_CALL_CONV`).
    pub call_conv: CallConv,
    pub frontend: cranelift_codegen::isa::TargetFrontendConfig,
    /// Whether the host ISA has what the SIMD lowering needs (else SIMD is refused).
    pub simd: bool,
    /// Interruption checks, fuel, bounds checks left to guard pages (`memory.rs`).
    pub options: CodeOptions,
}

fn wasm_type(t: wasmparser::ValType, types: &[SubType]) -> Result<ValType> {
    ValType::from_wasmparser_of(t, types)
        .ok_or_else(|| unsupported("a reference type the front end refuses"))
}

pub(crate) fn unsupported(what: &str) -> Error {
    Error::unsupported(format!("native engine: {what}"))
}

pub(crate) fn wp_error(e: wasmparser::BinaryReaderError) -> Error {
    Error::from_wasmparser(CompileErrorKind::Malformed, &e)
}

pub(crate) fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|v| BlockArg::Value(*v)).collect()
}

/// Flags for loads of VM context fields that never change. Their addresses are valid
/// throughout the function, so the loads may also move (be hoisted out of loops).
pub(crate) fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// Alias regions (declared in every function, in this order, by [`declare_regions`]).
/// Cranelift's alias analysis assumes accesses in different regions never touch the same
/// bytes, and that calls may write anything; it then reuses loaded values across stores
/// to other regions. The regions are disjoint allocations:
/// - `HEAP`: the bytes of linear memories;
/// - `DEFS`: what only Rust code writes, i.e. only inside a call from the function's point
///   of view: memory and table definitions (`base`, `length`), `call_indirect`'s function
///   cache. So base and length are loaded once and reused until the next call;
/// - `GLOBALS`: global cells.
///
/// Everything else (table elements, the runtime's trap flag) has no region: a store to
/// it may alias anything.
const HEAP_REGION: u32 = 0;
const DEFS_REGION: u32 = 1;
const GLOBALS_REGION: u32 = 2;
/// The interrupt flag, and the stores that keep loop headers' loads of it apart
/// (`metering.rs`).
const INTERRUPT_REGION: u32 = 3;

fn declare_regions(func: &mut ir::Function) {
    for (id, name) in [
        (HEAP_REGION, "linear memory"),
        (DEFS_REGION, "memory and table definitions, function cache"),
        (GLOBALS_REGION, "global cells"),
        (INTERRUPT_REGION, "interrupt flag"),
    ] {
        let r = func.dfg.alias_regions.insert(ir::AliasRegionData {
            user_id: id,
            description: name.into(),
        });
        assert_eq!(r.as_u32(), id, "alias regions are declared in order");
    }
}

fn region(id: u32) -> Option<ir::AliasRegion> {
    Some(ir::AliasRegion::from_u32(id))
}

/// Linear memory accesses: may be unaligned, never trap (checked before).
pub(crate) fn heap() -> MemFlagsData {
    MemFlagsData::new()
        .with_notrap()
        .with_alias_region(region(HEAP_REGION))
}

/// A linear memory access with no bounds check before it (`Env::signal_traps`): it may
/// fault, and Cranelift records it as a trap site with the heap code (`signals.rs`).
pub(crate) fn heap_trapping() -> MemFlagsData {
    MemFlagsData::new()
        .with_trap_code(Some(ir::TrapCode::HEAP_OUT_OF_BOUNDS))
        .with_alias_region(region(HEAP_REGION))
}

/// Fields of memory and table definitions and of `call_indirect`'s function cache.
pub(crate) fn defs() -> MemFlagsData {
    trusted().with_alias_region(region(DEFS_REGION))
}

/// A global cell holding a value of type `ty` (vectors: no alignment assumed, since SSE
/// memory operands would need it).
pub(crate) fn global_flags(ty: Type) -> MemFlagsData {
    let flags = if ty.is_vector() {
        MemFlagsData::new().with_notrap()
    } else {
        trusted()
    };
    flags.with_alias_region(region(GLOBALS_REGION))
}

pub(crate) fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

enum FrameKind {
    Block,
    Loop {
        header: Block,
    },
    If {
        else_block: Block,
        else_seen: bool,
        param_values: Vec<Value>,
    },
}

struct Frame {
    kind: FrameKind,
    /// Where control continues after `end`; its parameters are the results.
    dest: Block,
    num_params: usize,
    num_results: usize,
    /// Operand stack height below the frame's parameters.
    height: usize,
    /// Whether anything jumps to `dest`.
    dest_reachable: bool,
    /// `Translator::facts` at the frame's start: what holds there also holds at its
    /// `else` and at `dest`, which that point dominates; later facts may not.
    facts: usize,
}

/// A bounds check made on every path to the current point: `a + end <= length` of
/// memory `mem`, where the i32 address `a` is `base + k` (mod 2^32), or 0 when `base`
/// is `None` (a constant address is folded into `end`). Memories never shrink and
/// `base` is an SSA value, so it stays true wherever the check dominates.
#[derive(Clone, Copy)]
pub(crate) struct InBounds {
    mem: u32,
    base: Option<Value>,
    k: u32,
    end: u64,
}

pub(crate) struct Translator<'a, 'b> {
    b: FunctionBuilder<'b>,
    env: &'a Env<'a>,
    locals: Vec<Variable>,
    stack: Vec<Value>,
    control: Vec<Frame>,
    /// False after an unconditional branch until the enclosing frame ends.
    reachable: bool,
    /// Blocks opened inside unreachable code (skipped, only counted).
    unreachable_depth: u32,
    vmctx: Value,
    /// Definition pointer of each memory, loaded in the entry block.
    mem_defs: Vec<Value>,
    /// Whether the entry block also loads each memory's base and length.
    mem_preloaded: Vec<bool>,
    /// The blocks that continue after each Wasm call so far, where memories' lengths and
    /// bases are loaded again (`Translator::reload_defs_after_call`).
    after_calls: Vec<Block>,
    /// Bounds checks dominating the current point (see [`InBounds`]).
    facts: Vec<InBounds>,
    results: Vec<Type>,
    /// Blocks to fill in at the end that go, with their trap code (0: the flag is set
    /// already), to the block that sets the flag, records the backtrace and returns.
    trap_blocks: Vec<(u32, Block)>,
    /// The defined index of the function translated (for its backtrace frame).
    defined: u32,
    func_refs: HashMap<u32, ir::FuncRef>,
    sig_refs: HashMap<u32, ir::SigRef>,
    /// The libcalls imported into this function.
    libcall_refs: HashMap<Libcall, ir::FuncRef>,
    /// The open `try_table`s, innermost last (`exceptions.rs`).
    try_scopes: Vec<exceptions::TryScope>,
    /// The types this function calls through a table or a reference, each once: a host
    /// function can arrive there, so the module needs a host adapter for each.
    indirect_types: Vec<u32>,
    /// The fuel left, when the code consumes fuel (`metering.rs`).
    fuel: Option<Variable>,
    /// The last charge, which the next one may add to (`metering.rs`).
    fuel_run: Option<metering::FuelRun>,
    /// The address of the store's interrupt state (`VMRuntime::interrupt`), loaded once by
    /// the stack check in the body, which dominates every loop header's check (`None`
    /// when the prologue checks, `prologue_stack_limit`).
    interrupt_state: Option<Value>,
    /// The stack word that loop entries store to, and how many loops did
    /// (`metering.rs`).
    interrupt_dummy: Option<ir::StackSlot>,
    interrupt_loops: u32,
}

/// Translates defined function `defined` into `func` (whose signature is set); returns
/// the types it calls indirectly (`Translator::indirect_types`).
pub(crate) fn translate_function(
    func: &mut ir::Function,
    fbc: &mut FunctionBuilderContext,
    env: &Env<'_>,
    defined: usize,
) -> Result<Vec<u32>> {
    let info = env.info;
    let func_index = info.num_imported_funcs as usize + defined;
    let ty = info.func_type(func_index as u32).clone();
    let body = info.body_reader(defined);
    declare_regions(func);
    // With signal traps, Cranelift checks the stack in the prologue, and a failed check
    // is a trap site (`signals.rs`); without, the first thing the body does is check.
    let prologue_check = env.options.signal_traps;
    if prologue_check {
        func.stack_limit = Some(prologue_stack_limit(func, env.options.interruptible));
    }
    let (mut b, params) = builder_at_entry(func, fbc);
    let vmctx = params[0];
    // Metered code receives the fuel left after the two vmctx parameters.
    let first_param = 2 + usize::from(env.options.consume_fuel);

    let mut locals = Vec::new();
    for (i, p) in ty.params().iter().enumerate() {
        let var = b.declare_var(clif_type(*p));
        if gc_roots::is_gc_root(*p) {
            b.declare_var_needs_stack_map(var);
        }
        b.def_var(var, params[first_param + i]);
        locals.push(var);
    }
    let mut reader = body.get_locals_reader().map_err(wp_error)?;
    for _ in 0..reader.get_count() {
        let (count, t) = reader.read().map_err(wp_error)?;
        let wasm_type = wasm_type(t, &info.types)?;
        let t = clif_type(wasm_type);
        let zero = zero_value(&mut b, t);
        for _ in 0..count {
            let var = b.declare_var(t);
            if gc_roots::is_gc_root(wasm_type) {
                b.declare_var_needs_stack_map(var);
            }
            b.def_var(var, zero);
            locals.push(var);
        }
    }
    let num_memories = info.memories.len();
    let mut mem_defs = Vec::with_capacity(num_memories);
    if num_memories > 0 {
        let array = b.ins().load(types::I64, readonly(), vmctx, VM_MEMORIES);
        for m in 0..num_memories {
            mem_defs.push(b.ins().load(types::I64, readonly(), array, (m * 8) as i32));
        }
    }
    let results: Vec<Type> = ty.results().iter().map(|t| clif_type(*t)).collect();
    let ret_block = b.create_block();
    for t in &results {
        b.append_block_param(ret_block, *t);
    }

    let mut t = Translator {
        b,
        env,
        locals,
        stack: Vec::new(),
        control: vec![Frame {
            kind: FrameKind::Block,
            dest: ret_block,
            num_params: 0,
            num_results: results.len(),
            height: 0,
            dest_reachable: false,
            facts: 0,
        }],
        reachable: true,
        unreachable_depth: 0,
        vmctx,
        mem_preloaded: vec![false; mem_defs.len()],
        after_calls: Vec::new(),
        mem_defs,
        facts: Vec::new(),
        results,
        trap_blocks: Vec::new(),
        defined: defined as u32,
        func_refs: HashMap::default(),
        sig_refs: HashMap::default(),
        libcall_refs: HashMap::default(),
        try_scopes: Vec::new(),
        indirect_types: Vec::new(),
        fuel: None,
        fuel_run: None,
        interrupt_state: None,
        interrupt_dummy: None,
        interrupt_loops: 0,
    };
    if env.options.consume_fuel {
        t.receive_fuel(params[2]);
    }
    if !prologue_check {
        t.stack_check();
    }

    let plan = match env.options.consume_fuel {
        true => Some(MeteringPlan::of(&body)?),
        false => None,
    };
    let mut fuel = plan.as_ref().map(MeteringPlan::cursor);
    let mut ops = body.get_operators_reader().map_err(wp_error)?;
    while !ops.eof() {
        if let Some(fuel) = &mut fuel
            && let Some(amount) = fuel.charge_at(ops.original_position())
            && t.reachable
        {
            t.consume_fuel(amount);
        }
        ops.visit_operator(&mut t).map_err(wp_error)??;
        if t.control.is_empty() {
            break;
        }
    }
    let indirect_types = std::mem::take(&mut t.indirect_types);
    t.finish();
    Ok(indirect_types)
}

/// The stack limit of `func` as a global value, for Cranelift's prologue stack check:
/// the same limit [`Translator::stack_check`] loads, through the callee's vmctx (the
/// signature's `VMContext` parameter, `abi::wasm_signature`). Cranelift compares it
/// with the stack pointer minus the frame it is about to allocate, right after pushing
/// the frame pointer, and jumps to a `ud2` (trap code `STACK_OVERFLOW`, a trap site)
/// when below; a leaf function without a frame has no check, since it takes only the
/// return address and the frame pointer below its caller's checked frame, which the
/// limit's margin (`store/stack.rs`) covers many times. In interruptible code the
/// limit is the interrupt state's, which a request raises: the prologue's check is then
/// the function's interrupt check, and `entry.rs` reports the trap as "interrupted".
fn prologue_stack_limit(func: &mut ir::Function, interruptible: bool) -> ir::GlobalValue {
    // The vmctx's fields and the runtime's or interrupt state's address never change
    // while compiled code runs; the limit does change (nested entries, requests), but
    // only between function entries, and the prologue reads it afresh every time.
    let flags = func.dfg.mem_flags.insert_unchecked(readonly());
    let vmctx = func.create_global_value(ir::GlobalValueData::VMContext);
    let (holder, limit) = match interruptible {
        true => (VM_INTERRUPT, INTERRUPT_STACK_LIMIT),
        false => (VM_RUNTIME, RT_STACK_LIMIT),
    };
    let base = func.create_global_value(ir::GlobalValueData::Load {
        base: vmctx,
        offset: holder.into(),
        global_type: types::I64,
        flags,
    });
    func.create_global_value(ir::GlobalValueData::Load {
        base,
        offset: limit.into(),
        global_type: types::I64,
        flags,
    })
}

/// A builder positioned in `func`'s (sealed) entry block, and the function's parameters.
pub(crate) fn builder_at_entry<'a>(
    func: &'a mut ir::Function,
    fbc: &'a mut FunctionBuilderContext,
) -> (FunctionBuilder<'a>, Vec<Value>) {
    let mut b = FunctionBuilder::new(func, fbc);
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    b.seal_block(block);
    let params = b.block_params(block).to_vec();
    (b, params)
}

/// The word a trap block passes to `record_backtrace`: the function's defined index plus
/// one in the high half, the trap code (0: the flag is set already) in the low half.
/// Never small: the recording block may hold it as a constant (one trap block, or
/// Cranelift's removal of a parameter with one predecessor), and a constant there
/// equal to one the block returns after the libcall (a zero result, say) could be
/// computed once and kept in a callee-saved register across the libcall, which costs
/// even a leaf function a register save in its prologue. For the same reason the
/// status returned is the libcall's result, not a constant 1.
fn trap_site_word(defined: u32, code: u32) -> u64 {
    ((u64::from(defined) + 1) << 32) | u64::from(code)
}

pub(crate) fn zero_value(b: &mut FunctionBuilder<'_>, t: Type) -> Value {
    match t {
        types::F32 => b.ins().f32const(0.0),
        types::F64 => b.ins().f64const(0.0),
        types::I8X16 => simd::v128_const(b, &[0; 16]),
        _ => b.ins().iconst(t, 0),
    }
}

impl Translator<'_, '_> {
    /// Refuses to translate what the engine does not implement.
    fn refuse(&mut self, what: &str) -> Result<()> {
        Err(unsupported(&format!("{what} is not supported")))
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().expect("validated operand stack")
    }

    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn peekn(&self, n: usize) -> Vec<Value> {
        self.stack[self.stack.len() - n..].to_vec()
    }

    /// A cold block of its own that traps with `kind`. One per check rather than one per
    /// kind: a shared one would make every check's edge to it critical, and Cranelift
    /// would split each such edge with an extra block anyway, which cost 3-11% of the
    /// compile instructions of lz, nbody and sha256.
    /// The block stores nothing itself: the function's recording block sets the flag
    /// (`finish`), so that no trap block needs the runtime's address.
    fn trap_block(&mut self, kind: TrapKind) -> Block {
        let b = self.b.create_block();
        self.b.set_cold_block(b);
        self.trap_blocks.push((trap_code(kind), b));
        b
    }

    /// Continues in `block`, all of whose predecessors are known.
    fn enter(&mut self, block: Block) {
        self.b.switch_to_block(block);
        self.b.seal_block(block);
    }

    /// The trap site kind of an inline check that traps with `kind`, when its `ud2` can
    /// be one: with signal traps, whose handler turns the `SIGILL` into the trap and
    /// notes the frames (no block, no backtrace libcall: a check is then no more than
    /// Cranelift's `trapnz`, as an access past a guarded memory's end is a load).
    fn check_site(&self, kind: TrapKind) -> Option<SiteKind> {
        SiteKind::of_check(kind).filter(|_| self.env.options.signal_traps)
    }

    /// Traps with `kind` when `cond` is non-zero.
    fn trap_if(&mut self, cond: Value, kind: TrapKind) {
        if let Some(site) = self.check_site(kind) {
            self.b.ins().trapnz(cond, site_trap_code(site));
            return;
        }
        let trap = self.trap_block(kind);
        let cont = self.b.create_block();
        self.b.ins().brif(cond, trap, &[], cont, &[]);
        self.enter(cont);
    }

    /// Traps with `kind` unconditionally; what follows is unreachable.
    fn trap_now(&mut self, kind: TrapKind) {
        match self.check_site(kind) {
            Some(site) => {
                self.b.ins().trap(site_trap_code(site));
            }
            None => {
                let trap = self.trap_block(kind);
                self.b.ins().jump(trap, &[]);
            }
        }
        self.reachable = false;
    }

    /// The address of the store's runtime (`VMRuntime`), loaded here from the vmctx.
    /// A plain load, not a `readonly` one that Cranelift would treat as pure and share
    /// with every later use (and hoist out of loops), which made the address live across
    /// the whole function in a callee-saved register; alias analysis still reuses one
    /// such load until the next call. The cold paths that need the runtime load it there.
    fn runtime(&mut self) -> Value {
        self.b
            .ins()
            .load(types::I64, trusted(), self.vmctx, VM_RUNTIME)
    }

    /// After a libcall that may trap: return at once if it did, by a test of the trap
    /// flag in the runtime (libcalls are slow anyway, and return no status).
    fn check_trap(&mut self) {
        let rt = self.runtime();
        let flag = self.b.ins().load(types::I32, trusted(), rt, RT_TRAP);
        self.leave_if(flag);
    }

    /// After a call of Wasm code (or a host adapter): return at once if its `status` is
    /// non-zero, i.e. the callee trapped, threw or a host function failed (the flag is
    /// set), without loading anything.
    fn check_status(&mut self, status: Value) {
        self.leave_if(status);
    }

    /// Leaves when `cond` is non-zero (the trap flag is set). The branch goes to a cold
    /// block of its own that jumps to the recording block, for the reason given at
    /// [`Translator::trap_block`] (3% of quicksort's compile); inside a `try_table`, to
    /// its dispatch block instead (`exceptions.rs`).
    /// With `CodeOptions::leave_by_signal` (no `try_table` then), a conditional trap
    /// instead: no block at all, which made 2 of every 5 blocks of resvg's functions.
    fn leave_if(&mut self, cond: Value) {
        let out = match self.dispatch_block() {
            Some(dispatch) => dispatch,
            None if self.env.options.leave_by_signal => {
                self.b.ins().trapnz(cond, site_trap_code(SiteKind::Flagged));
                return;
            }
            None => self.returning_block(),
        };
        let cont = self.b.create_block();
        self.b.ins().brif(cond, out, &[], cont, &[]);
        self.enter(cont);
    }

    /// A cold block of its own that returns with the trap flag as it is.
    fn returning_block(&mut self) -> Block {
        let out = self.b.create_block();
        self.b.set_cold_block(out);
        self.trap_blocks.push((0, out));
        out
    }

    /// Traps if the stack is below its limit. In interruptible code the limit is the
    /// interrupt state's, which a request raises: this is the function's interrupt
    /// check too (`store/interrupt.rs`), and the entry traps with "interrupted".
    fn stack_check(&mut self) {
        let sp = self.b.ins().get_stack_pointer(types::I64);
        let limit = if self.env.options.interruptible {
            let state = self.interrupt_state_address();
            self.interrupt_state = Some(state);
            // A plain load: no store in the function writes the limit, and a function
            // loads it once.
            self.b
                .ins()
                .load(types::I64, trusted(), state, INTERRUPT_STACK_LIMIT)
        } else {
            // `readonly`, hence pure for Cranelift: its own value, which the plain loads
            // of [`Self::runtime`] elsewhere are never replaced by.
            let rt = self
                .b
                .ins()
                .load(types::I64, readonly(), self.vmctx, VM_RUNTIME);
            self.b.ins().load(types::I64, trusted(), rt, RT_STACK_LIMIT)
        };
        let below = self
            .b
            .ins()
            .icmp(ir::condcodes::IntCC::UnsignedLessThan, sp, limit);
        self.trap_if(below, TrapKind::CallStackExhausted);
    }

    /// Calls `libcall` with `args` (the caller tests the trap flag if it may trap).
    fn libcall(&mut self, libcall: Libcall, args: &[Value]) -> Vec<Value> {
        debug_assert!(
            libcall.params().len() == args.len()
                && (libcall.params().iter())
                    .zip(args)
                    .all(|(t, v)| *t == self.b.func.dfg.value_type(*v)),
            "{libcall:?} called with arguments of other types"
        );
        let callee = match self.libcall_refs.get(&libcall) {
            Some(f) => *f,
            None => {
                let f = import_libcall(self.b.func, libcall, self.env.call_conv);
                self.libcall_refs.insert(libcall, f);
                f
            }
        };
        // Recording a backtrace runs on a trap's way out, after the counter was stored.
        let metered = libcall != Libcall::RecordBacktrace;
        if metered {
            self.fuel_to_memory();
        }
        let call = self.b.ins().call(callee, args);
        if metered {
            self.fuel_from_memory();
        }
        self.b.inst_results(call).to_vec()
    }

    /// In a trap block: what it passes to `record_backtrace` (`trap_site_word`), after
    /// storing the fuel left for a trap of an inline check (code non-zero), which has it
    /// in the variable.
    fn trap_site(&mut self, code: u32) -> Value {
        if code != 0 {
            self.fuel_to_memory();
        }
        let word = trap_site_word(self.defined, code);
        self.b.ins().iconst(types::I64, word as i64)
    }

    fn finish(mut self) {
        let trap_blocks = std::mem::take(&mut self.trap_blocks);
        if !trap_blocks.is_empty() {
            // One block per function calls the libcall, which also sets the trap flag to
            // the code it is passed (0: it is set already): the trap blocks stay a
            // constant and a jump each, and none needs the runtime's address. A function
            // with one trap block (a leaf's stack check, often) calls it there: a block
            // parameter with one predecessor only costs Cranelift time to remove.
            let site = if let [(code, block)] = trap_blocks[..] {
                self.b.switch_to_block(block);
                self.trap_site(code)
            } else {
                let record = self.b.create_block();
                self.b.set_cold_block(record);
                let site = self.b.append_block_param(record, types::I64);
                for (code, block) in trap_blocks {
                    self.b.switch_to_block(block);
                    let c = self.trap_site(code);
                    self.b.ins().jump(record, &block_args(&[c]));
                }
                self.b.switch_to_block(record);
                site
            };
            let fp = self.b.ins().get_frame_pointer(types::I64);
            let status = self.libcall(Libcall::RecordBacktrace, &[self.vmctx, fp, site])[0];
            // The function's one trap exit: the libcall's status and zeros (the caller
            // sees the status and ignores them). Every way here has made the store's
            // counter right (`metering.rs`).
            let fuel = self.fuel.map(|_| self.load_fuel_from_memory());
            let zeros: Vec<Value> = std::iter::once(status)
                .chain(
                    self.results
                        .clone()
                        .into_iter()
                        .map(|t| zero_value(&mut self.b, t)),
                )
                .chain(fuel)
                .collect();
            self.b.ins().return_(&zeros);
        }
        self.b.seal_all_blocks();
        self.b.finalize(self.env.frontend);
    }
}
