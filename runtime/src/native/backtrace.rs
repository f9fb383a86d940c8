//! Trap backtraces in the native engine (RATIONALE.md, "Trap backtraces").
//!
//! A trap unwinds compiled code by ordinary returns, so its frames exist only until the
//! first function that sees it returns. Every function therefore leaves through one
//! cold block that calls [`record_backtrace`] with its own frame pointer and index
//! before it returns: the function that trapped, or the one whose libcall, host
//! function or callee failed. The first call of an entry walks the frame-pointer chain
//! (Cranelift keeps frame pointers in every function, `preserve_frame_pointers`) from
//! there up to the entry trampoline, mapping each return address to a defined function
//! through the [`CodeMap`] of every module of the store; the later ones return at once
//! (`VMRuntime::backtrace_recorded`).
//!
//! A host function between Wasm frames ends the walk: its frames are Rust's, which keep
//! no frame pointers. The trap's backtrace still gets the Wasm frames on both sides: the
//! nested entry records the inner ones, and when the error comes back out of the host
//! function as the pending error, the calling Wasm function's `record_backtrace`
//! appends its own frame and its callers.
//!
//! A trap by signal (`Config::signal_traps`) leaves no function to record it: the
//! handler notes the code addresses of the frames it drops (`signals/frames.rs`), and
//! [`backtrace_of_addresses`] maps them here the same way. Nor does a function that
//! leaves by signal when it sees the flag set (`CodeOptions::leave_by_signal`): the entry
//! then appends those frames as that function's `record_backtrace` would have
//! ([`record_flagged`]).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use super::native_module;
use super::vmctx::{PENDING_ERROR, Pending, VMContext, VMRuntime};
use crate::error::{Backtrace, FrameInfo, FrameNames};
use crate::store::StoreData;

/// Where the machine code of each defined function of a module is, sorted by address:
/// the return addresses a walk finds are looked up here.
pub(crate) struct CodeMap {
    ranges: Vec<CodeRange>,
}

struct CodeRange {
    start: usize,
    len: usize,
    defined: u32,
}

impl CodeMap {
    /// From each defined function's code address and length in bytes (both indexed by
    /// defined function index).
    pub(crate) fn new(addresses: &[usize], lengths: &[u32]) -> CodeMap {
        let mut ranges: Vec<CodeRange> = (addresses.iter().zip(lengths).enumerate())
            .map(|(defined, (&start, &len))| CodeRange {
                start,
                len: len as usize,
                defined: defined as u32,
            })
            .collect();
        ranges.sort_by_key(|r| r.start);
        CodeMap { ranges }
    }

    /// The defined function whose code holds address `pc`.
    pub(crate) fn defined_func_at(&self, pc: usize) -> Option<u32> {
        let after = self.ranges.partition_point(|r| r.start <= pc);
        let r = &self.ranges[after.checked_sub(1)?];
        (pc - r.start < r.len).then_some(r.defined)
    }
}

/// Called (as a libcall) by a compiled function as it returns because of a trap:
/// defined function `defined` of `vmctx`'s instance, whose frame pointer is `fp`, both
/// in `site` with a trap code (`translate::trap_site_word`: `defined + 1` in the high
/// half, the code in the low half). A trap of one of the function's own checks passes
/// its code, which sets the trap flag here (the check's cold block needs no runtime
/// address); any other way here passes 0, the flag being set already (by a libcall, a
/// host function or a callee). Returns the status the function returns: 1.
///
/// Then records the entry's Wasm frames in the trap's backtrace if that is not done yet:
/// the runtime's own for a trap code, the pending error's for a trap that came out of a
/// host function; nothing for any other pending error (an exception, an exit).
///
/// # Safety
///
/// Called by compiled code only (`libcalls.rs`, "Safety"), with its own frame pointer.
pub(super) unsafe extern "C" fn record_backtrace(
    vmctx: *mut VMContext,
    fp: usize,
    site: u64,
) -> u32 {
    // SAFETY: compiled code passes its own vmctx, alive while its store is, and calls
    // under an entry of that store on this thread, which leaves the runtime to it.
    let (rt, instance) = unsafe { ((*vmctx).runtime, (*vmctx).instance) };
    // SAFETY: as above; no other reference to the runtime is live during a libcall.
    let rt: &mut VMRuntime = unsafe { &mut *rt };
    let (defined, code) = (((site >> 32) as u32).wrapping_sub(1), site as u32);
    if code != 0 {
        rt.trap = code;
    }
    // The status the function returns.
    const TRAPPED: u32 = 1;
    if rt.backtrace_recorded {
        return TRAPPED;
    }
    // SAFETY: the entry set `store` to the store it holds exclusively and does not
    // touch it until compiled code returns; the runtime is a separate allocation.
    let store: &StoreData = unsafe { &*rt.store };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let Some(backtrace) = flagged_backtrace(rt) else {
            return false;
        };
        add_frames(store, instance, fp, defined, backtrace);
        true
    }));
    match outcome {
        Ok(recorded) => rt.backtrace_recorded = recorded,
        // A bug of ours: the entry resumes the panic once compiled code has returned.
        Err(panic) => {
            rt.trap = PENDING_ERROR;
            rt.pending = Some(Pending::Panic(panic));
            rt.backtrace_recorded = true;
        }
    }
    TRAPPED
}

/// The backtrace the frames of the trap the flag says go to: the runtime's own for a
/// trap code, the pending error's for a trap that came out of a host function; none for
/// any other pending error (an exception, an exit) or no trap.
fn flagged_backtrace(rt: &mut VMRuntime) -> Option<&mut Backtrace> {
    match rt.trap {
        0 => None,
        PENDING_ERROR => match &mut rt.pending {
            Some(Pending::Error(e)) => e.trap_backtrace_mut(),
            _ => None,
        },
        _ => Some(rt.trap_backtrace.get_or_insert_with(Default::default)),
    }
}

/// After a landing at a `SiteKind::Flagged` site (code that leaves by signal): what
/// [`record_backtrace`] does in the function that saw the flag, with `add_frames`
/// appending the frames the handler noted (that function's and its callers'). A
/// function that trapped by its own check recorded them already.
pub(super) fn record_flagged(rt: &mut VMRuntime, add_frames: impl FnOnce(&mut Backtrace)) {
    if rt.backtrace_recorded {
        return;
    }
    if let Some(backtrace) = flagged_backtrace(rt) {
        add_frames(backtrace);
        rt.backtrace_recorded = true;
    }
}

/// A module whose code the walk has met.
struct Seen<'a> {
    code: &'a CodeMap,
    names: Arc<dyn FrameNames>,
    num_imported_funcs: u32,
}

impl<'a> Seen<'a> {
    fn of_instance(store: &'a StoreData, instance: u32) -> Option<Seen<'a>> {
        let module = store.instances[instance as usize].module.as_ref()?;
        Some(Seen {
            code: &native_module(module).code_map,
            names: module.frame_names(),
            num_imported_funcs: module.info().num_imported_funcs,
        })
    }

    fn frame(&self, defined: u32) -> FrameInfo {
        FrameInfo::new(self.num_imported_funcs + defined, self.names.clone())
    }
}

/// A frame found by the walk: defined function `defined` of module `seen[module]`.
#[derive(Clone, Copy)]
struct Found {
    module: usize,
    defined: u32,
}

/// The frames of a walk that a backtrace may keep, whatever it holds already: the first
/// `HEAD_FRAMES` and the last `TAIL_FRAMES`, and how many there were. A runaway
/// recursion's walk passes hundreds of thousands of frames; they are only counted.
#[derive(Default)]
struct Walked {
    head: Vec<Found>,
    tail: VecDeque<Found>,
    count: usize,
}

impl Walked {
    fn push(&mut self, frame: Found) {
        if self.head.len() < Backtrace::HEAD_FRAMES {
            self.head.push(frame);
        } else {
            if self.tail.len() == Backtrace::TAIL_FRAMES {
                self.tail.pop_front();
            }
            self.tail.push_back(frame);
        }
        self.count += 1;
    }

    /// Counts `n` frames passed without being kept, once the head is full.
    fn skip(&mut self, n: usize) {
        debug_assert!(n == 0 || self.head.len() == Backtrace::HEAD_FRAMES);
        self.count += n;
    }

    /// Frame `i` of the walk, if kept: `Backtrace::extend` asks for no other.
    fn get(&self, i: usize) -> Found {
        match self.head.get(i) {
            Some(f) => *f,
            None => self.tail[i - (self.count - self.tail.len())],
        }
    }
}

/// Finds the Wasm function holding a code address among the modules of a store,
/// those met already first.
struct FrameFinder<'a> {
    store: &'a StoreData,
    seen: Vec<Seen<'a>>,
}

impl<'a> FrameFinder<'a> {
    fn new(store: &'a StoreData) -> FrameFinder<'a> {
        FrameFinder {
            store,
            seen: Vec::new(),
        }
    }

    /// The defined function whose code holds `pc`, if any module of the store has it.
    fn find(&mut self, pc: usize) -> Option<Found> {
        let hit = (self.seen.iter().enumerate())
            .find_map(|(module, s)| Some((module, s.code.defined_func_at(pc)?)));
        if let Some((module, defined)) = hit {
            return Some(Found { module, defined });
        }
        // A module met for the first time (or no module: not Wasm code).
        let store = self.store;
        let instance = (0..store.instances.len() as u32).find(|&i| {
            (store.instances[i as usize].module.as_ref())
                .is_some_and(|m| native_module(m).code_map.defined_func_at(pc).is_some())
        });
        let s = Seen::of_instance(store, instance?)?;
        let defined = s.code.defined_func_at(pc)?;
        self.seen.push(s);
        Some(Found {
            module: self.seen.len() - 1,
            defined,
        })
    }

    /// The frame of a return address `pc`: a return address follows its call, and the
    /// call itself is at `pc - 1`.
    fn find_caller(&mut self, pc: usize) -> Option<Found> {
        self.find(pc.wrapping_sub(1))
    }

    /// Appends the walked frames to `backtrace`.
    fn extend(&self, walked: &Walked, backtrace: &mut Backtrace) {
        backtrace.extend(walked.count, |i| {
            let f = walked.get(i);
            self.seen[f.module].frame(f.defined)
        });
    }
}

/// Appends to `backtrace` defined function `defined` of `instance`, whose frame pointer
/// is `fp`, and then each caller up the frame-pointer chain while its return address is
/// in the code of a module of the store.
fn add_frames(
    store: &StoreData,
    instance: u32,
    fp: usize,
    defined: u32,
    backtrace: &mut Backtrace,
) {
    let Some(first) = Seen::of_instance(store, instance) else {
        return;
    };
    let mut finder = FrameFinder::new(store);
    finder.seen.push(first);
    let mut walked = Walked::default();
    walked.push(Found { module: 0, defined });
    let mut frame_at = |pc: usize, _fp: usize| match finder.find_caller(pc) {
        Some(found) => {
            walked.push(found);
            true
        }
        None => false,
    };
    // SAFETY: `fp` is the frame pointer of the compiled function that called
    // `record_backtrace`, a live frame of this thread's stack (the libcall's contract),
    // and `frame_at` accepts only return addresses inside compiled Wasm functions, whose
    // frames all keep a frame record.
    unsafe { walk_frame_chain(fp, &mut frame_at) };
    finder.extend(&walked, backtrace);
}

/// Appends to `backtrace` the frames of a trap by signal from the code addresses the
/// handler recorded (`signals/frames.rs`): `head[0]` is the faulting instruction, every
/// other address a return address; `omitted` addresses were passed between `head` and
/// `tail`. Mapped as [`add_frames`] maps a walk, up to the first address in no Wasm
/// function of the store, so a trap gives the same frames by signal as by explicit check.
#[cfg_attr(
    not(all(target_os = "linux", target_arch = "x86_64")),
    allow(dead_code, reason = "signal traps are x86-64 Linux only")
)]
pub(super) fn backtrace_of_addresses(
    store: &StoreData,
    head: &[usize],
    omitted: usize,
    tail: impl Iterator<Item = usize>,
    backtrace: &mut Backtrace,
) {
    let mut finder = FrameFinder::new(store);
    let mut walked = Walked::default();
    let mut complete = true;
    for (i, &address) in head.iter().enumerate() {
        // The faulting instruction is in its function as it is, not after a call.
        let found = match i {
            0 => finder.find(address),
            _ => finder.find_caller(address),
        };
        match found {
            Some(found) => walked.push(found),
            None => {
                complete = false;
                break;
            }
        }
    }
    if complete {
        let mut last = Vec::with_capacity(Backtrace::TAIL_FRAMES);
        let mut tail = tail.peekable();
        while let Some(found) = tail.peek().and_then(|&pc| finder.find_caller(pc)) {
            last.push(found);
            tail.next();
        }
        // The handler's walk stops before the first address that is not Wasm code, so
        // all are found. Were one not, the walk would end there; but past frames left
        // out, the last frames before it are not known, and only the first ones stay.
        if tail.peek().is_none() || omitted == 0 {
            walked.skip(omitted);
            last.into_iter().for_each(|found| walked.push(found));
        }
    }
    finder.extend(&walked, backtrace);
}

/// Follows the frame-pointer chain from frame pointer `fp`: calls `frame_at` with each
/// frame's return address and the frame pointer saved beside it (that of the frame the
/// return address is in), and goes on to the caller's frame while `frame_at` returns
/// true. Every frame pointer read must be word-aligned, above the walker's own frame,
/// below the top of this thread's stack, and above the one before, so the walk reads
/// only this thread's mapped stack and ends.
///
/// # Safety
///
/// `fp` is the frame pointer of a live frame of compiled code on this thread's stack,
/// and `frame_at` returns true only for a return address into code that keeps a frame
/// record (saved frame pointer, return address) at its frame pointer: the walk then
/// reads nothing but frame records of compiled code.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(super) unsafe fn walk_frame_chain(fp: usize, frame_at: &mut dyn FnMut(usize, usize) -> bool) {
    const WORD: usize = std::mem::size_of::<usize>();
    // On both, a frame record is the caller's frame pointer, then the return address.
    let low = crate::store::stack_pointer();
    let high = crate::store::stack_top();
    let mut fp = fp;
    loop {
        if !fp.is_multiple_of(WORD) || fp < low || fp > high.saturating_sub(2 * WORD) {
            return;
        }
        // SAFETY: `[fp, fp + 2 words)` lies between this function's frame and the top
        // of this thread's stack, all of it mapped, and is a frame record of compiled
        // code (this function's contract, then `frame_at`'s answer for the previous
        // return address); only plain integers are read.
        let (caller_fp, return_address) = unsafe {
            (
                std::ptr::read(fp as *const usize),
                std::ptr::read((fp + WORD) as *const usize),
            )
        };
        if !frame_at(return_address, caller_fp) || caller_fp <= fp {
            return;
        }
        fp = caller_fp;
    }
}

/// Elsewhere the frame record's layout is not known here: the backtrace has the
/// trapping frame only.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(super) unsafe fn walk_frame_chain(_fp: usize, _frame_at: &mut dyn FnMut(usize, usize) -> bool) {
}

#[cfg(test)]
mod tests {
    use super::CodeMap;

    #[test]
    fn code_map_finds_the_function_holding_an_address() {
        // Placed out of order, with a gap between 0x1010 and 0x2000.
        let map = CodeMap::new(&[0x2000, 0x1000, 0x3000], &[0x100, 0x10, 0x1]);
        assert_eq!(map.defined_func_at(0xfff), None);
        assert_eq!(map.defined_func_at(0x1000), Some(1));
        assert_eq!(map.defined_func_at(0x100f), Some(1));
        assert_eq!(map.defined_func_at(0x1010), None);
        assert_eq!(map.defined_func_at(0x20ff), Some(0));
        assert_eq!(map.defined_func_at(0x3000), Some(2));
        assert_eq!(map.defined_func_at(0x3001), None);
        assert_eq!(CodeMap::new(&[], &[]).defined_func_at(0x1000), None);
    }
}
