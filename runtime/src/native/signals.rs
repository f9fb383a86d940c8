//! Traps by signal (`Config::signal_traps`; RATIONALE.md "Guard pages and signal
//! traps"), x86-64 Linux only.
//!
//! With signal traps, a 32-bit memory access has no bounds check: its memory reserves
//! 8 GiB of which only the first `length` bytes are accessible (`store/guarded.rs`), so
//! an access past the end faults (`SIGSEGV`, `SIGBUS`). And a function checks the stack
//! in its prologue, which Cranelift writes (`translate::prologue_stack_limit`): a
//! failed check runs `ud2` (`SIGILL`). Such an instruction is a *trap site*: Cranelift
//! records its offset and trap code (`compile.rs`), linking registers the sites of each
//! function here with their kind ([`TrapSiteRegistration`], removed before the code is
//! freed).
//!
//! Every host-to-Wasm entry of such an engine goes through [`call_entry`]: a small
//! assembly shim saves the host's callee-saved registers on its own frame and the stack
//! pointer in an [`EntryRecord`] on the Rust stack, which a thread-local points to
//! (the innermost entry's; a host function calling back into Wasm nests a new one). The
//! process-wide `SIGSEGV`/`SIGBUS`/`SIGILL` handler, installed once, checks that the
//! thread is inside such an entry and that the faulting instruction is a registered trap
//! site of a kind that faults with that signal; then it rewrites the signal context so
//! that, when the handler returns, execution continues at the shim's landing with the
//! saved stack pointer and the site's kind as the status: the shim restores the
//! registers and returns it, and `entry.rs` reports the trap of that kind. The Wasm
//! frames in between are dropped; they own nothing (no Rust frame lies between an entry
//! and the Wasm code it runs, since any call out of Wasm returns before Wasm resumes).
//! Before it lands, the handler notes their code addresses in a thread-local buffer
//! (`frames.rs`), from which the trap gets its backtrace.
//!
//! Any other fault goes to the handler that was installed before ours (the embedder's, or
//! Rust's stack-overflow handler), or, if there was none, to the default action: the
//! process dies as it would without us.

use std::arch::global_asm;
use std::cell::{Cell, UnsafeCell};
use std::collections::BTreeMap;
use std::ffi::{c_int, c_void};
use std::sync::{OnceLock, RwLock};

use super::artifact::{CodeBlob, SiteKind, TrapSite};
use super::vmctx::VMContext;
use crate::error::Backtrace;
use crate::store::StoreData;

mod frames;

use frames::TrapFrames;

/// Signal traps work here.
pub(crate) const SUPPORTED: bool = true;

/// Where an entry's stack pointer is kept while its Wasm code runs: the value the shim's
/// landing needs (its callee-saved registers are on the shim's frame above it).
#[repr(C)]
struct EntryRecord {
    stack_pointer: usize,
}

thread_local! {
    /// The innermost entry on this thread running code with trap sites; null outside one.
    static INNERMOST_ENTRY: Cell<*const EntryRecord> = const { Cell::new(std::ptr::null()) };
    /// Whether this thread is writing the registry (the handler then never reads it: a
    /// fault there is a bug, and waiting for our own lock would hang instead of crash).
    static UPDATING_REGISTRY: Cell<bool> = const { Cell::new(false) };
    /// The frames of this thread's last trap by signal, written by the handler. One per
    /// thread is enough: the entry that lands reads them before anything else on this
    /// thread can run Wasm code (nested entries included). Not on the entry's stack: a
    /// host function calling back into Wasm would then pay its ~600 bytes per nesting.
    /// A `const` thread-local without `Drop`: reaching it never allocates or registers
    /// anything, and the module's thread-local block exists before any fault, since
    /// `call_entry` has used `INNERMOST_ENTRY` on this thread.
    static TRAP_FRAMES: UnsafeCell<TrapFrames> = const { UnsafeCell::new(TrapFrames::new()) };
}

/// A call that ended by a fault at a trap site of this kind; its frames are in this
/// thread's `TRAP_FRAMES` until the thread next runs Wasm code.
pub(crate) struct TrapBySignal(SiteKind);

impl TrapBySignal {
    /// What the fault's site was.
    pub(crate) fn kind(&self) -> SiteKind {
        self.0
    }

    /// Appends the frames the handler noted, mapped to the Wasm functions of `store`, to
    /// `backtrace`.
    pub(crate) fn extend_backtrace(self, store: &StoreData, backtrace: &mut Backtrace) {
        let frames = TRAP_FRAMES.with(UnsafeCell::get);
        // SAFETY: the thread's own buffer, which lives as long as the thread. Only the
        // handler writes it, and only while a fault in Wasm code is handled; this thread
        // runs no Wasm code until the backtrace is made.
        unsafe { (*frames).extend_backtrace(store, backtrace) }
    }
}

// The entry shim, System V ABI:
// `runtime_signal_entry(record, trampoline, code, vmctx, buf) -> u32` calls
// `trampoline(code, vmctx, vmctx, buf)` (the `EntryFn` ABI) and returns 0; the landing
// returns from the same frame with the status the handler put in eax (the site's kind).
// Frame: return address, rbp, rbx, r12-r15, 8 bytes of padding (16-byte alignment at the
// call), the record holding rsp at that point.
global_asm!(
    ".text",
    ".p2align 4",
    ".globl runtime_signal_entry",
    ".type runtime_signal_entry, @function",
    "runtime_signal_entry:",
    "push rbp",
    "mov rbp, rsp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "mov qword ptr [rdi], rsp",
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    "mov rdx, rcx",
    "mov rcx, r8",
    "call rax",
    "xor eax, eax",
    // Both ways out (a return, status 0, and a landing, the site's kind) restore the
    // same registers from the same frame.
    ".Lruntime_signal_exit:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".size runtime_signal_entry, . - runtime_signal_entry",
    ".p2align 4",
    ".globl runtime_signal_landing",
    ".type runtime_signal_landing, @function",
    "runtime_signal_landing:",
    "jmp .Lruntime_signal_exit",
    ".size runtime_signal_landing, . - runtime_signal_landing",
);

unsafe extern "sysv64" {
    fn runtime_signal_entry(
        record: *mut EntryRecord,
        trampoline: usize,
        code: *const u8,
        vmctx: *mut c_void,
        buf: *mut u128,
    ) -> u32;
    /// Jumped to (never called) by the handler, with rsp set to a record's value and
    /// rax to the site's kind.
    fn runtime_signal_landing();
}

/// Calls `code` through entry trampoline `trampoline` as `EntryFn` would; the trap when
/// the call ended by a fault at a trap site (its kind, and its frames).
///
/// # Safety
/// As calling the trampoline directly: `trampoline` is a finalized entry trampoline,
/// `code` finalized code of its signature, `vmctx` and `buf` what it expects.
pub(crate) unsafe fn call_entry(
    trampoline: usize,
    code: *const u8,
    vmctx: *mut VMContext,
    buf: *mut u128,
) -> Option<TrapBySignal> {
    let mut record = EntryRecord { stack_pointer: 0 };
    let record_ptr = &raw mut record;
    let outer = INNERMOST_ENTRY.replace(record_ptr);
    // SAFETY: the caller's contract covers the trampoline call; the shim writes only
    // `record`, which outlives the call, and restores every callee-saved register on
    // both of its ways out.
    let status = unsafe { runtime_signal_entry(record_ptr, trampoline, code, vmctx.cast(), buf) };
    INNERMOST_ENTRY.set(outer);
    // 0 is a normal return; the landing's status is a kind the handler wrote.
    SiteKind::from_number(u64::from(status)).map(TrapBySignal)
}

/// One registered function: its code length and trap sites (ascending offsets).
struct RegisteredCode {
    len: usize,
    sites: Box<[TrapSite]>,
}

/// Every live function with trap sites, by start address.
static REGISTRY: RwLock<BTreeMap<usize, RegisteredCode>> = RwLock::new(BTreeMap::new());

fn update_registry(update: impl FnOnce(&mut BTreeMap<usize, RegisteredCode>)) {
    UPDATING_REGISTRY.set(true);
    let mut registry = REGISTRY.write().unwrap_or_else(|p| p.into_inner());
    update(&mut registry);
    drop(registry);
    UPDATING_REGISTRY.set(false);
}

/// The trap sites of one module's functions, registered while this value lives.
pub(crate) struct TrapSiteRegistration {
    starts: Vec<usize>,
}

impl TrapSiteRegistration {
    /// Registers the sites of each `(address, blob)`: a linked function's address and
    /// the blob it was linked from (sites checked by `link::validate`).
    pub(crate) fn new<'a>(
        funcs: impl Iterator<Item = (usize, &'a CodeBlob)>,
    ) -> TrapSiteRegistration {
        let entries: Vec<(usize, RegisteredCode)> = funcs
            .filter(|(_, blob)| !blob.trap_sites.is_empty())
            .map(|(start, blob)| {
                let code = RegisteredCode {
                    len: blob.bytes.len(),
                    sites: blob.trap_sites.clone().into_boxed_slice(),
                };
                (start, code)
            })
            .collect();
        let starts = entries.iter().map(|(start, _)| *start).collect();
        if !entries.is_empty() {
            update_registry(|registry| registry.extend(entries));
        }
        TrapSiteRegistration { starts }
    }
}

impl Drop for TrapSiteRegistration {
    fn drop(&mut self) {
        if !self.starts.is_empty() {
            update_registry(|registry| {
                for start in &self.starts {
                    registry.remove(start);
                }
            });
        }
    }
}

/// The kind of the registered trap site at `pc`, if it is one.
fn trap_site_at(pc: usize) -> Option<SiteKind> {
    // A blocking read: only a writer on another thread can hold the lock, briefly (this
    // thread is not writing, `UPDATING_REGISTRY`).
    let registry = REGISTRY.read().unwrap_or_else(|p| p.into_inner());
    let (&start, code) = registry.range(..=pc).next_back()?;
    let offset = pc - start;
    if offset >= code.len {
        return None;
    }
    let offset = u32::try_from(offset).ok()?;
    let index = (code.sites)
        .binary_search_by_key(&offset, |site| site.offset)
        .ok()?;
    // `get`, though the index is the search's: nothing in the handler may panic.
    code.sites.get(index).map(|site| site.kind)
}

/// Whether a fault by `signal` at a site of `kind` is that site's trap: an access past
/// the accessible bytes faults with `SIGSEGV` (or `SIGBUS`), the `ud2` of a failed stack
/// check with `SIGILL`. Anything else at a site (a `SIGILL` at an access, say) is not
/// what the site means, and is passed on.
fn is_site_fault(signal: c_int, kind: SiteKind) -> bool {
    match kind.is_ud2() {
        true => signal == libc::SIGILL,
        false => signal == libc::SIGSEGV || signal == libc::SIGBUS,
    }
}

/// The handlers of `SIGSEGV`, `SIGBUS` and `SIGILL` before ours.
static PREVIOUS: OnceLock<[libc::sigaction; 3]> = OnceLock::new();
const SIGNALS: [c_int; 3] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL];

/// Installs the handler for the process, once; `false` if the system refused.
pub(crate) fn install_handler() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        // SAFETY: an all-zero `sigaction` is a valid value (SIG_DFL, empty mask).
        let mut previous: [libc::sigaction; 3] = unsafe { std::mem::zeroed() };
        for (signal, old) in SIGNALS.iter().zip(&mut previous) {
            // SAFETY: reads the current action into `old`, changes nothing.
            if unsafe { libc::sigaction(*signal, std::ptr::null(), old) } != 0 {
                return false;
            }
        }
        // Recorded before ours is in place: from then on a fault may need them.
        if PREVIOUS.set(previous).is_err() {
            return false;
        }
        for signal in SIGNALS {
            // SAFETY: as above; the fields are set below.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = on_fault as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            // SAFETY: `on_fault` has the `SA_SIGINFO` signature; the mask is ours to set.
            let installed = unsafe {
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut())
            };
            if installed != 0 {
                return false;
            }
        }
        true
    })
}

/// The handler: lands a fault at a trap site in the innermost entry, passes any other on.
extern "C" fn on_fault(signal: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel passes a valid `siginfo_t`. A signal another process or thread
    // sent (`kill`, `tgkill`: a code <= 0) is never ours, whatever the thread was running.
    let from_kernel = unsafe { (*info).si_code } > 0;
    // SAFETY: the kernel passes a valid `ucontext_t` for an `SA_SIGINFO` handler.
    if from_kernel && unsafe { land_at_entry(signal, context.cast()) } {
        return;
    }
    // SAFETY: `info` and `context` are the kernel's, passed on unchanged.
    unsafe { chain(signal, info, context) }
}

/// If the fault by `signal` is at a trap site that faults so and this thread is in an
/// entry, points the context at the entry's landing (returning from the handler then
/// resumes there, with the site's kind as the shim's status).
///
/// # Safety
/// `context` is the signal context of the fault being handled.
unsafe fn land_at_entry(signal: c_int, context: *mut libc::ucontext_t) -> bool {
    let record = INNERMOST_ENTRY.get();
    if record.is_null() || UPDATING_REGISTRY.get() {
        return false;
    }
    // SAFETY: per the contract.
    let registers = unsafe { &mut (*context).uc_mcontext.gregs };
    let pc = registers[libc::REG_RIP as usize] as usize;
    let Some(kind) = trap_site_at(pc).filter(|kind| is_site_fault(signal, *kind)) else {
        return false;
    };
    // SAFETY: the record is on the stack of a `call_entry` still running on this thread
    // (it clears the pointer before returning), and the shim wrote the stack pointer
    // before calling into Wasm, which alone can reach a trap site.
    let stack_pointer = unsafe { (*record).stack_pointer };
    let frame_pointer = registers[libc::REG_RBP as usize] as usize;
    let fault_stack_pointer = registers[libc::REG_RSP as usize] as usize;
    let frames = TRAP_FRAMES.with(UnsafeCell::get);
    // SAFETY: the fault is in Wasm code running under this entry (a trap site, and the
    // innermost entry's record: a nested entry would have replaced it), so the stack
    // from the faulting frame's stack pointer up to the entry's is this thread's, live
    // and mapped. `capture` is async-signal-safe: it reads the stack and writes the
    // thread's buffer (plain integers, no allocation, no lock), which no other code
    // reads while Wasm code runs on this thread (`TRAP_FRAMES`).
    unsafe { (*frames).capture(pc, frame_pointer, fault_stack_pointer, stack_pointer) };
    registers[libc::REG_RSP as usize] = stack_pointer as i64;
    registers[libc::REG_RIP as usize] = runtime_signal_landing as *const () as usize as i64;
    registers[libc::REG_RAX as usize] = i64::from(kind as u8);
    true
}

/// Passes a fault that is not ours to the handler installed before ours; with none, or
/// one that ignored it, restores the default action, so that the faulting instruction,
/// run again on return, ends the process.
///
/// # Safety
/// `info` and `context` are the kernel's for the signal being handled.
unsafe fn chain(signal: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    let index = SIGNALS.iter().position(|s| *s == signal);
    let previous = PREVIOUS.get().zip(index).map(|(p, i)| &p[i]);
    let handler = previous.map_or(libc::SIG_DFL, |p| p.sa_sigaction);
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // SAFETY: an all-zero `sigaction` is SIG_DFL with an empty mask.
        let default: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: async-signal-safe; puts back the system's action.
        unsafe { libc::sigaction(signal, &default, std::ptr::null_mut()) };
        return;
    }
    let siginfo = previous.is_some_and(|p| p.sa_flags & libc::SA_SIGINFO != 0);
    if siginfo {
        type Action = extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void);
        // SAFETY: installed with SA_SIGINFO, so `handler` has this signature.
        let action = unsafe { std::mem::transmute::<usize, Action>(handler) };
        action(signal, info, context);
    } else {
        // SAFETY: installed without SA_SIGINFO, so `handler` is a plain handler.
        let action = unsafe { std::mem::transmute::<usize, extern "C" fn(c_int)>(handler) };
        action(signal);
    }
}
