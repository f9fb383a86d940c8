//! The bodies of the blind-spot functions (`fuzz/blind_spots.rs` has the overview and adds
//! them to a module). Every operand that matters is either a drawn constant or computed
//! from the memory's or table's current size, so the edges are hit whatever size earlier
//! calls left behind.

use wasm_encoder::reencode::Reencode;
use wasm_encoder::{BlockType, HeapType, Instruction as I, MemArg, ValType};

use crate::fuzz::blind_spots::{Counter, PREFIX, Pending, Scan, counter_global};
use crate::fuzz::input::SplitMix64;

/// One added function.
pub(crate) struct Func {
    /// Index among the added types.
    pub ty: u32,
    pub locals: Vec<ValType>,
    /// The body without its final `end`.
    pub body: Vec<I<'static>>,
    /// Its export name; `None` for a function only the added ones call.
    pub export: Option<String>,
    /// Whether it writes the pending and counter globals.
    pub uses_globals: bool,
}

/// The added types: `[] -> []`, `[i32] -> [i32]`, `[i32 i32] -> [i32]`, and
/// `[i32 i64 * N] -> [i32]` for the two recursions ([`types`]).
const T_VOID: u32 = 0;
const T_REC: u32 = 1;
const T_TAIL: u32 = 2;
const T_DEEP: u32 = 3;
const T_MUTUAL: u32 = 4;
const T_PICK3: u32 = 5;
const T_PICK2: u32 = 6;
/// i64 parameters the self and the mutual recursion carry from frame to frame.
const DEEP_CARRIED: u32 = 6;
const MUTUAL_CARRIED: u32 = 4;

/// Parameters and results of a function type.
pub(crate) type FuncSig = (Vec<ValType>, Vec<ValType>);

fn types() -> Vec<FuncSig> {
    let carrying = |n: u32| {
        let mut p = vec![ValType::I32];
        p.extend((0..n).map(|_| ValType::I64));
        (p, vec![ValType::I32])
    };
    vec![
        (vec![], vec![]),
        (vec![ValType::I32], vec![ValType::I32]),
        (vec![ValType::I32, ValType::I32], vec![ValType::I32]),
        carrying(DEEP_CARRIED),
        carrying(MUTUAL_CARRIED),
        (vec![ValType::I32; 3], vec![ValType::I32; 3]),
        (vec![ValType::I32; 3], vec![ValType::I32; 2]),
    ]
}

/// Deepest recursion a bounded call makes (frames below the export's): well within the
/// interpreter's 20,000 frames, wasmi's 1,000, and the native engine's machine stack on
/// any thread of 256 KiB or more (RATIONALE.md).
pub const SAFE_DEPTH_MASK: i32 = 511;
/// Depth of an unbounded call: past every engine's limit.
pub const UNBOUNDED_DEPTH: i32 = i32::MAX;
/// Least iterations of the tail-call recursion: past the interpreter's frame limit, so a
/// tail call that kept its frame would exhaust the stack.
pub const TAIL_DEPTH: i32 = 20_500;

struct Builder<'a> {
    scan: &'a Scan,
    rng: &'a mut SplitMix64,
    funcs: Vec<Func>,
    /// Functions `ref.func` may name (exported ones).
    declared: Vec<u32>,
}

fn k(wide: bool, v: i64) -> I<'static> {
    if wide {
        I::I64Const(v)
    } else {
        I::I32Const(v as i32)
    }
}

fn add(wide: bool) -> I<'static> {
    if wide { I::I64Add } else { I::I32Add }
}

fn sub(wide: bool) -> I<'static> {
    if wide { I::I64Sub } else { I::I32Sub }
}

fn eq(wide: bool) -> I<'static> {
    if wide { I::I64Eq } else { I::I32Eq }
}

fn mem(offset: u64, m: u32) -> MemArg {
    MemArg {
        offset,
        align: 0,
        target: wasm_encoder::MemArgTarget::Memory(m),
        ordering: None,
    }
}

impl Builder<'_> {
    fn below(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n.max(1)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as u64) as i64
    }

    fn coin(&mut self) -> bool {
        self.rng.next_u64() & 1 == 1
    }

    fn globals(&self) -> u32 {
        self.scan.num_globals
    }

    fn incr(&self, c: Counter, b: &mut Vec<I<'static>>) {
        let g = counter_global(self.globals(), c);
        b.extend([I::GlobalGet(g), I::I32Const(1), I::I32Add, I::GlobalSet(g)]);
    }

    fn pending(&self, p: Pending, b: &mut Vec<I<'static>>) {
        b.extend([I::I32Const(p as i32), I::GlobalSet(self.globals())]);
    }

    /// `copy` (a `memory.copy` or `table.copy` within one memory or table) of `len` units
    /// between local 0 and `dist` past it, overlapping: first to the higher address (src <
    /// dst: a copy that runs front to back reads units it already overwrote), then back
    /// down; each completed copy bumps its counter of `counters` (forward, backward).
    fn overlapping_copies(
        &self,
        b: &mut Vec<I<'static>>,
        wide: bool,
        dist: i64,
        len: i64,
        copy: &I<'static>,
        counters: (Counter, Counter),
    ) {
        b.extend([
            I::LocalGet(0),
            k(wide, dist),
            add(wide),
            I::LocalGet(0),
            k(wide, len),
            copy.clone(),
        ]);
        self.incr(counters.0, b);
        b.extend([
            I::LocalGet(0),
            I::LocalGet(0),
            k(wide, dist),
            add(wide),
            k(wide, len),
            copy.clone(),
        ]);
        self.incr(counters.1, b);
    }

    /// The memory's size in bytes.
    fn mem_bytes(&self, m: u32, b: &mut Vec<I<'static>>) {
        let wide = self.scan.memories[m as usize].memory64;
        b.push(I::MemorySize(m));
        b.push(k(wide, 16));
        b.push(if wide { I::I64Shl } else { I::I32Shl });
    }

    fn push(&mut self, kind: &str, ty: u32, locals: Vec<ValType>, body: Vec<I<'static>>) -> u32 {
        let index = self.scan.num_funcs + self.funcs.len() as u32;
        let export = format!("{PREFIX}{kind}{}", self.funcs.len());
        self.funcs.push(Func {
            ty,
            locals,
            body,
            export: Some(export),
            uses_globals: true,
        });
        index
    }

    /// Overlapping copies forward and backward over a region filled with distinct
    /// bytes (at the start of the memory or at its end), then one edge operation.
    fn memory_copy(&mut self, m: u32) {
        let wide = self.scan.memories[m as usize].memory64;
        let len = self.range(2, 40);
        let dist = self.range(1, len - 1);
        let span = len + dist;
        let mut b = Vec::new();
        if self.coin() {
            b.push(k(wide, self.range(0, 32)));
        } else {
            self.mem_bytes(m, &mut b);
            b.extend([k(wide, span + self.range(0, 3)), sub(wide)]);
        }
        b.push(I::LocalSet(0));
        let mut j = 0;
        while j < span {
            b.push(I::LocalGet(0));
            if span - j >= 8 {
                b.extend([
                    I::I64Const(self.rng.next_u64() as i64),
                    I::I64Store(mem(j as u64, m)),
                ]);
                j += 8;
            } else {
                b.extend([
                    I::I32Const(self.range(1, 255) as i32),
                    I::I32Store8(mem(j as u64, m)),
                ]);
                j += 1;
            }
        }
        let copy = I::MemoryCopy {
            src_mem: m,
            dst_mem: m,
        };
        let counters = (Counter::MemoryCopyForward, Counter::MemoryCopyBackward);
        self.overlapping_copies(&mut b, wide, dist, len, &copy, counters);
        // At the end: fits exactly, one past (dst or src), length 0 at and past the end,
        // or a fill that fits or is one past.
        self.pending(Pending::MemoryEdge, &mut b);
        let edge = self.below(6);
        let end = |s: &Self, b: &mut Vec<I<'static>>, minus: i64| {
            s.mem_bytes(m, b);
            b.extend([k(wide, minus), sub(wide)]);
        };
        match edge {
            0 | 1 => {
                end(self, &mut b, len - edge as i64);
                b.extend([I::LocalGet(0), k(wide, len), copy]);
            }
            2 => {
                b.push(I::LocalGet(0));
                end(self, &mut b, len - 1);
                b.extend([k(wide, len), copy]);
            }
            3 | 4 => {
                end(self, &mut b, 3 - edge as i64);
                b.extend([I::LocalGet(0), k(wide, 0), copy]);
            }
            _ => {
                let past = self.below(2) as i64;
                end(self, &mut b, len - past);
                b.extend([
                    I::I32Const(self.range(0, 255) as i32),
                    k(wide, len),
                    I::MemoryFill(m),
                ]);
            }
        }
        self.incr(Counter::EndEdgeOk, &mut b);
        self.pending(Pending::None, &mut b);
        let idx = if wide { ValType::I64 } else { ValType::I32 };
        self.push("memory_copy", T_VOID, vec![idx], b);
    }

    /// A reference `ref.func` may make, or null, for table `t`'s contents.
    fn table_ref(&mut self, j: u64) -> I<'static> {
        if j % 4 == 3 || self.declared.is_empty() {
            I::RefNull(HeapType::FUNC)
        } else {
            let i = self.below(self.declared.len() as u64) as usize;
            I::RefFunc(self.declared[i])
        }
    }

    /// [`Self::memory_copy`] on a funcref table, filled with distinct functions.
    fn table_copy(&mut self, t: u32) {
        let wide = self.scan.tables[t as usize].table64;
        let len = self.range(2, 10);
        let dist = self.range(1, len - 1);
        let span = len + dist;
        let mut b = Vec::new();
        if self.coin() {
            b.push(k(wide, self.range(0, 3)));
        } else {
            b.extend([I::TableSize(t), k(wide, span + self.range(0, 2)), sub(wide)]);
        }
        b.push(I::LocalSet(0));
        for j in 0..span {
            b.extend([I::LocalGet(0), k(wide, j), add(wide)]);
            b.push(self.table_ref(j as u64));
            b.push(I::TableSet(t));
        }
        let copy = I::TableCopy {
            src_table: t,
            dst_table: t,
        };
        let counters = (Counter::TableCopyForward, Counter::TableCopyBackward);
        self.overlapping_copies(&mut b, wide, dist, len, &copy, counters);
        self.pending(Pending::TableEdge, &mut b);
        let edge = self.below(6);
        match edge {
            0 | 1 => b.extend([
                I::TableSize(t),
                k(wide, len - edge as i64),
                sub(wide),
                I::LocalGet(0),
                k(wide, len),
                copy,
            ]),
            2 => b.extend([
                I::LocalGet(0),
                I::TableSize(t),
                k(wide, len - 1),
                sub(wide),
                k(wide, len),
                copy,
            ]),
            3 | 4 => b.extend([
                I::TableSize(t),
                k(wide, edge as i64 - 3),
                add(wide),
                I::LocalGet(0),
                k(wide, 0),
                copy,
            ]),
            _ => {
                let past = self.below(2) as i64;
                b.extend([I::TableSize(t), k(wide, len - past), sub(wide)]);
                b.push(self.table_ref(0));
                b.extend([k(wide, len), I::TableFill(t)]);
            }
        }
        self.incr(Counter::EndEdgeOk, &mut b);
        self.pending(Pending::None, &mut b);
        let idx = if wide { ValType::I64 } else { ValType::I32 };
        self.push("table_copy", T_VOID, vec![idx], b);
    }

    /// `grow` results: -1 counts as a failure, anything else as `ok`.
    fn count_grow(
        &self,
        wide: bool,
        ok: Option<Counter>,
        failed: Counter,
        b: &mut Vec<I<'static>>,
    ) {
        b.extend([k(wide, -1), eq(wide), I::If(BlockType::Empty)]);
        self.incr(failed, b);
        if let Some(ok) = ok {
            b.push(I::Else);
            self.incr(ok, b);
        }
        b.push(I::End);
    }

    /// Grow to exactly the maximum, one past it, by an amount past every limit, by 0;
    /// then a store at the end (fitting, or one byte past).
    fn memory_grow(&mut self, m: u32, max: u64) {
        let wide = self.scan.memories[m as usize].memory64;
        let mut b = Vec::new();
        b.extend([
            k(wide, max as i64),
            I::MemorySize(m),
            sub(wide),
            I::MemoryGrow(m),
        ]);
        self.count_grow(
            wide,
            Some(Counter::MemoryGrowToMax),
            Counter::MemoryGrowFailed,
            &mut b,
        );
        b.extend([k(wide, 1), I::MemoryGrow(m)]);
        self.count_grow(wide, None, Counter::MemoryGrowFailed, &mut b);
        let huge = if wide {
            [-1, (1 << 48) + 1, i64::MAX][self.below(3) as usize]
        } else {
            [-1, 0x1_0001, i32::MIN as i64][self.below(3) as usize]
        };
        b.extend([k(wide, huge), I::MemoryGrow(m)]);
        self.count_grow(wide, None, Counter::MemoryGrowFailed, &mut b);
        b.extend([k(wide, 0), I::MemoryGrow(m), I::Drop]);
        self.pending(Pending::AccessAfterGrow, &mut b);
        self.mem_bytes(m, &mut b);
        b.extend([
            k(wide, 4 - self.below(2) as i64),
            sub(wide),
            I::I32Const(self.rng.next_u64() as i32),
            I::I32Store(mem(0, m)),
        ]);
        self.incr(Counter::EndEdgeOk, &mut b);
        self.pending(Pending::None, &mut b);
        self.push("memory_grow", T_VOID, vec![], b);
    }

    fn null_or_func(&mut self, t: u32) -> Option<I<'static>> {
        let table = &self.scan.tables[t as usize];
        if !table.element.is_nullable() {
            return None;
        }
        let heap = wasm_encoder::reencode::RoundtripReencoder
            .heap_type(table.element.heap_type())
            .ok()?;
        if heap == HeapType::FUNC && !self.declared.is_empty() && self.coin() {
            return Some(self.table_ref(0));
        }
        Some(I::RefNull(heap))
    }

    /// [`Self::memory_grow`] on a table (initial value null or a function), then a read
    /// at the end.
    fn table_grow(&mut self, t: u32, max: u64) -> Option<()> {
        let wide = self.scan.tables[t as usize].table64;
        let mut b = vec![self.null_or_func(t)?];
        b.extend([
            k(wide, max as i64),
            I::TableSize(t),
            sub(wide),
            I::TableGrow(t),
        ]);
        self.count_grow(
            wide,
            Some(Counter::TableGrowToMax),
            Counter::TableGrowFailed,
            &mut b,
        );
        b.push(self.null_or_func(t)?);
        b.extend([k(wide, 1), I::TableGrow(t)]);
        self.count_grow(wide, None, Counter::TableGrowFailed, &mut b);
        b.push(self.null_or_func(t)?);
        b.extend([k(wide, if wide { i64::MAX } else { -1 }), I::TableGrow(t)]);
        self.count_grow(wide, None, Counter::TableGrowFailed, &mut b);
        self.pending(Pending::AccessAfterGrow, &mut b);
        b.extend([
            I::TableSize(t),
            k(wide, 1 - self.below(2) as i64),
            sub(wide),
            I::TableGet(t),
            I::Drop,
        ]);
        self.incr(Counter::EndEdgeOk, &mut b);
        self.pending(Pending::None, &mut b);
        self.push("table_grow", T_VOID, vec![], b);
        Some(())
    }

    /// An init that fits the segment exactly (or one past it), the drop, length 0 after
    /// the drop, a second drop, an init after the drop. A segment dropped at
    /// instantiation (active or declared) starts at the length-0 init.
    /// `target` is the memory or table; `table` says which.
    fn init_drop(&mut self, table: bool, target: u32, seg: u32) {
        let (wide, len, passive) = if table {
            let s = &self.scan.elems[seg as usize];
            (self.scan.tables[target as usize].table64, s.len, s.passive)
        } else {
            let s = &self.scan.data[seg as usize];
            (
                self.scan.memories[target as usize].memory64,
                s.len,
                s.passive,
            )
        };
        let init = if table {
            I::TableInit {
                elem_index: seg,
                table: target,
            }
        } else {
            I::MemoryInit {
                mem: target,
                data_index: seg,
            }
        };
        let drop = if table {
            I::ElemDrop(seg)
        } else {
            I::DataDrop(seg)
        };
        let (edge, after_drop) = if table {
            (Pending::TableInitEdge, Pending::TableInitAfterDrop)
        } else {
            (Pending::MemoryInitEdge, Pending::MemoryInitAfterDrop)
        };
        let dst = k(wide, self.range(0, if table { 2 } else { 16 }));
        let mut b = Vec::new();
        if passive {
            let n = if len > 0 {
                self.range(1, len.into())
            } else {
                0
            };
            let past = self.below(4) == 0;
            let off = len as i64 - n + past as i64;
            self.pending(edge, &mut b);
            if self.below(3) == 0 && !table {
                // At the end of the memory too.
                self.mem_bytes(target, &mut b);
                b.extend([k(wide, n), sub(wide)]);
            } else {
                b.push(dst.clone());
            }
            b.extend([I::I32Const(off as i32), I::I32Const(n as i32), init.clone()]);
            self.incr(Counter::InitFitting, &mut b);
            b.push(drop.clone());
            self.incr(Counter::Drops, &mut b);
        }
        self.pending(Pending::None, &mut b);
        b.extend([dst.clone(), I::I32Const(0), I::I32Const(0), init.clone()]);
        self.incr(Counter::InitLen0AfterDrop, &mut b);
        b.push(drop);
        self.incr(Counter::Drops, &mut b);
        self.pending(after_drop, &mut b);
        let (off, n) = if self.coin() { (0, 1) } else { (1, 0) };
        b.extend([dst, I::I32Const(off), I::I32Const(n), init]);
        self.pending(Pending::None, &mut b);
        self.push(
            if table { "table_init" } else { "memory_init" },
            T_VOID,
            vec![],
            b,
        );
    }

    /// The depth a recursion export makes of its argument `n`: unbounded when `n` is
    /// negative and odd (-1 among the plan's edge values; a quarter of its random
    /// values), `n & 511` otherwise.
    fn depth(b: &mut Vec<I<'static>>) {
        b.extend([
            I::LocalGet(0),
            I::I32Const(i32::MIN | 1),
            I::I32And,
            I::I32Const(i32::MIN | 1),
            I::I32Eq,
            I::If(BlockType::Result(ValType::I32)),
            I::I32Const(UNBOUNDED_DEPTH),
            I::Else,
            I::LocalGet(0),
            I::I32Const(SAFE_DEPTH_MASK),
            I::I32And,
            I::End,
        ]);
    }

    /// A body of type `[i32 i64 * carried] -> [i32]` that returns a constant at depth 0
    /// and otherwise calls `callee` with the depth less one and its i64 parameters
    /// rotated, then combines the result with its first i64. The i64s are live across
    /// the call, so native frames are larger (the machine stack fills in fewer calls: an
    /// exhausting call costs less) and differ in shape between the two recursions.
    fn recursive(&mut self, callee: u32, carried: u32, combine: I<'static>) -> Vec<I<'static>> {
        let mut b = vec![
            I::LocalGet(0),
            I::I32Eqz,
            I::If(BlockType::Result(ValType::I32)),
            I::I32Const(self.rng.next_u64() as i32),
            I::Else,
            I::LocalGet(0),
            I::I32Const(1),
            I::I32Sub,
        ];
        for j in 2..=carried {
            b.push(I::LocalGet(j));
        }
        b.extend([
            I::LocalGet(1),
            I::I64Const(self.rng.next_u64() as i64 | 1),
            I::I64Add,
            I::Call(callee),
            I::LocalGet(1),
            I::I32WrapI64,
            combine,
            I::I32Const(1),
            I::I32Rotl,
            I::End,
        ]);
        b
    }

    fn internal(&mut self, ty: u32, locals: Vec<ValType>, body: Vec<I<'static>>) {
        self.funcs.push(Func {
            ty,
            locals,
            body,
            export: None,
            uses_globals: false,
        });
    }

    /// A loop whose counter `i` is incremented right before the loop's exit test, and
    /// the test reads *another* local `j` (`j < n` or `j != n`): the interpreter fuses an
    /// increment with the compare-and-branch after it only when the branch reads the
    /// counter (`peephole.rs`), a pattern wasm-smith practically never writes (a mutant
    /// that fused it anyway survived the spec suite and the fuzzer). Returns
    /// `i * 65536 + j` after `n = param & 255` iterations.
    fn counter_loop(&mut self) {
        let (n, i, j) = (2, 3, 4);
        let step = self.range(1, 5);
        let not_equal = self.coin();
        let mut b = vec![
            I::LocalGet(0),
            I::I32Const(255),
            I::I32And,
            I::LocalSet(n),
            I::Block(BlockType::Empty),
            I::LocalGet(n),
            I::I32Eqz,
            I::BrIf(0),
            I::Loop(BlockType::Empty),
            I::LocalGet(j),
            I::I32Const(1),
            I::I32Add,
            I::LocalSet(j),
            I::LocalGet(i),
            I::I32Const(step as i32),
            I::I32Add,
            I::LocalSet(i),
            I::LocalGet(j),
            I::LocalGet(n),
        ];
        b.push(if not_equal { I::I32Ne } else { I::I32LtS });
        b.extend([
            I::BrIf(0),
            I::End,
            I::End,
            I::LocalGet(i),
            I::I32Const(16),
            I::I32Shl,
            I::LocalGet(j),
            I::I32Add,
        ]);
        self.push("counter", T_TAIL, vec![ValType::I32; 3], b);
        self.funcs.last_mut().expect("just pushed").uses_globals = false;
    }

    /// Returns two or three of its three parameters, each picked at random (repeats
    /// allowed), by falling off the end or by `return`: copying results into the return
    /// slots must not overwrite a parameter a later result still reads, e.g. results
    /// `(p2, p0)` (the interpreter's `emit_return` hazard check, which a surviving mutant
    /// weakened).
    fn picked_return(&mut self) {
        let (ty, n) = if self.coin() {
            (T_PICK3, 3)
        } else {
            (T_PICK2, 2)
        };
        let mut b: Vec<I<'static>> = (0..n).map(|_| I::LocalGet(self.below(3) as u32)).collect();
        if self.coin() {
            b.push(I::Return);
        }
        self.push("pick", ty, vec![], b);
        self.funcs.last_mut().expect("just pushed").uses_globals = false;
    }

    /// Self recursion (with locals live across the call, so native frames spill) and
    /// mutual recursion, each behind an export that bounds the depth; with tail calls,
    /// mutual `return_call` recursion past the interpreter's frame limit.
    fn recursion(&mut self, tail_calls: bool) {
        let base = self.scan.num_funcs + self.funcs.len() as u32;
        let (rec, mutual, ping, pong) = (base + 1, base + 2, base + 3, base + 4);
        let mut b = Vec::new();
        Self::depth(&mut b);
        for _ in 0..DEEP_CARRIED {
            b.push(I::I64Const(self.rng.next_u64() as i64));
        }
        b.push(I::Call(rec));
        self.push("deep", T_REC, vec![], b);
        self.funcs.last_mut().expect("just pushed").uses_globals = false;
        let body = self.recursive(rec, DEEP_CARRIED, I::I32Xor);
        self.internal(T_DEEP, vec![], body);
        debug_assert_eq!(self.scan.num_funcs + self.funcs.len() as u32, mutual);
        let mut b = Vec::new();
        Self::depth(&mut b);
        for _ in 0..MUTUAL_CARRIED {
            b.push(I::I64Const(self.rng.next_u64() as i64));
        }
        b.push(I::Call(ping));
        self.push("mutual", T_REC, vec![], b);
        self.funcs.last_mut().expect("just pushed").uses_globals = false;
        for (callee, combine) in [(pong, I::I32Add), (ping, I::I32Mul)] {
            let body = self.recursive(callee, MUTUAL_CARRIED, combine);
            self.internal(T_MUTUAL, vec![], body);
        }
        if !tail_calls {
            return;
        }
        let base = self.scan.num_funcs + self.funcs.len() as u32;
        let (ta, tb) = (base + 1, base + 2);
        self.push(
            "tail",
            T_REC,
            vec![],
            vec![
                I::LocalGet(0),
                I::I32Const(0xff),
                I::I32And,
                I::I32Const(TAIL_DEPTH),
                I::I32Add,
                I::I32Const(0),
                I::Call(ta),
            ],
        );
        self.funcs.last_mut().expect("just pushed").uses_globals = false;
        for (callee, mix) in [(tb, [I::I32Add, I::Nop]), (ta, [I::I32Xor, I::Nop])] {
            let [mix, nop] = mix;
            self.internal(
                T_TAIL,
                vec![],
                vec![
                    I::LocalGet(0),
                    I::I32Eqz,
                    I::If(BlockType::Result(ValType::I32)),
                    I::LocalGet(1),
                    I::Else,
                    I::LocalGet(0),
                    I::I32Const(1),
                    I::I32Sub,
                    I::LocalGet(1),
                    I::I32Const(31),
                    I::I32Mul,
                    I::LocalGet(0),
                    mix,
                    nop,
                    I::ReturnCall(callee),
                    I::End,
                ],
            );
        }
    }
}

/// Whether element segment `seg` may initialise table `t` (`table.init` validates).
fn elem_fits(scan: &Scan, seg: usize, t: usize) -> bool {
    use wasmparser::{AbstractHeapType as A, HeapType as H};
    let (Some(e), table) = (scan.elems[seg].element, &scan.tables[t]) else {
        return false;
    };
    let abstract_of = |h: H| match h {
        H::Abstract { shared: false, ty } => Some(ty),
        H::Concrete(_) => Some(A::Func),
        _ => None,
    };
    let table_abstract = matches!(table.element.heap_type(), H::Abstract { .. });
    table.element.is_nullable()
        && table_abstract
        && matches!(
            abstract_of(table.element.heap_type()),
            Some(A::Func | A::Extern)
        )
        && abstract_of(e.heap_type()) == abstract_of(table.element.heap_type())
}

/// The functions to add to a module of `scan`'s shape, with the types they use; `None`
/// when none fits.
pub(crate) fn plan(
    scan: &Scan,
    rng: &mut SplitMix64,
    tail_calls: bool,
) -> Option<(Vec<FuncSig>, Vec<Func>)> {
    let mut b = Builder {
        scan,
        rng,
        funcs: Vec::new(),
        declared: scan.exported_funcs.clone(),
    };
    // Recursion in 1 of 8 (about 2% of all modules then exhaust the stack): an
    // exhausting call costs the interpreter 20,000 frames and the native engine its whole
    // machine stack (8 MiB in a worker process), ~2.5 ms together (RATIONALE.md).
    if b.below(8) == 0 {
        // Tail recursion in half of those: 21,000 iterations cost the interpreter ~1 ms.
        let tail = tail_calls && b.coin();
        b.recursion(tail);
    }
    // The interpreter translator's patterns (cheap: no memory, a few hundred steps).
    if b.below(4) == 0 {
        b.counter_loop();
    }
    if b.below(4) == 0 {
        b.picked_return();
    }
    let nm = scan.memories.len() as u64;
    let nt = scan.tables.len() as u64;
    // One or two bulk functions: each is called in every round of the plan, and every
    // call snapshots every memory (the main cost of these functions).
    for _ in 0..b.range(1, 2) {
        match b.below(6) {
            0 if nm > 0 => {
                let m = b.below(nm) as u32;
                b.memory_copy(m);
            }
            1 if nm > 0 => {
                let m = b.below(nm) as u32;
                if let Some(max) = scan.memories[m as usize].max.filter(|&x| x <= 16) {
                    b.memory_grow(m, max);
                }
            }
            2 if nm > 0 && scan.has_data_count && !scan.data.is_empty() => {
                let m = b.below(nm) as u32;
                let d = b.below(scan.data.len() as u64) as u32;
                b.init_drop(false, m, d);
            }
            3 if nt > 0 => {
                let t = b.below(nt) as usize;
                let e = &scan.tables[t].element;
                if e.is_nullable() && e.heap_type() == wasmparser::HeapType::FUNC {
                    b.table_copy(t as u32);
                }
            }
            4 if nt > 0 => {
                let t = b.below(nt) as u32;
                if let Some(max) = scan.tables[t as usize].max.filter(|&x| x <= 1024) {
                    b.table_grow(t, max);
                }
            }
            5 if nt > 0 && !scan.elems.is_empty() => {
                let t = b.below(nt) as usize;
                let e = b.below(scan.elems.len() as u64) as usize;
                if elem_fits(scan, e, t) {
                    b.init_drop(true, t as u32, e as u32);
                }
            }
            _ => {}
        }
    }
    if b.funcs.is_empty() {
        return None;
    }
    Some((types(), b.funcs))
}
