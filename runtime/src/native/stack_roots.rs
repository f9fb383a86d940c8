//! The GC references held by the native frames suspended in a host call (RATIONALE.md,
//! "Step 4a: roots in native frames").
//!
//! Compiled code keeps every `any`/`extern` value that is live across a call in a stack
//! slot named by the call site's stack map (`translate/gc_roots.rs`,
//! `artifact::StackMaps`). A collection runs inside a call out of compiled code; there,
//! [`for_each_stack_root`] finds the slots of every suspended Wasm frame:
//!
//! - Each host call of compiled code is a [`WasmExit`] of the store's runtime, linked to
//!   the host calls it runs under (a host function that called Wasm that called another
//!   host function), innermost first; `libcalls::host_call` pushes and pops them.
//! - From an exit, the walk follows the frame-pointer chain as a trap's backtrace does
//!   (`backtrace::walk_frame_chain`): the host adapter's frame record holds the return
//!   address into the Wasm function that called it and that function's frame pointer;
//!   each return address is mapped to its function through the `CodeMap`s of the
//!   store's modules, and the walk ends at the first one that is in no Wasm function,
//!   the entry trampoline's. Rust frames (host functions, the entry) between two
//!   segments keep no frame pointers: the next segment starts at the next exit.
//! - In each Wasm frame, the stack map of the call site (the return address's offset in
//!   the function) names the slots, as distances below the frame's frame pointer.
//!
//! The next collection's mark phase reads the slots as roots (and, the collector being
//! non-moving, never writes them); a slot's address is given as well for a collector
//! that would.

use super::NativeModule;
use super::artifact::StackMaps;
use super::backtrace::walk_frame_chain;
use super::vmctx::{WasmExit, existing_runtime};
use crate::store::StoreData;

const WORD: usize = std::mem::size_of::<u64>();

/// A GC reference held in a native Wasm frame: the stack slot it is spilled to for the
/// duration of the call, and the raw reference there (`values`' raw form: 0 null, odd
/// an `i31`, `n << 2 | 2` a host reference, a multiple of 8 an object).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StackRoot {
    pub slot: *const u64,
    pub raw: u64,
}

/// Calls `root` with every slot that the native Wasm frames of this thread's running
/// host calls into `store`'s code name in their stack maps, innermost frame first. To
/// be called from inside a host function called by compiled code of `store` (nothing is
/// found otherwise: no host call is under way); a reference may come more than once,
/// and nulls are passed too.
pub(crate) fn for_each_stack_root(store: &StoreData, root: &mut dyn FnMut(StackRoot)) {
    let Some(rt) = existing_runtime(store) else {
        return;
    };
    // SAFETY: the runtime lives as long as the store; during a host call it is this
    // thread's alone, and `wasm_exits` is a plain pointer field read by value.
    let mut exit: *const WasmExit = unsafe { (*rt).wasm_exits };
    let mut modules = ModuleFinder {
        store,
        seen: Vec::new(),
    };
    while !exit.is_null() {
        // SAFETY: every exit in the chain lives on the frame of a `host_call` that is
        // still running below this one on this thread's stack: `host_call` unlinks its
        // exit before returning.
        let WasmExit { adapter_fp, outer } = unsafe { std::ptr::read(exit) };
        walk_segment(&mut modules, adapter_fp, root);
        exit = outer;
    }
}

/// The Wasm frames above the host adapter whose frame pointer is `adapter_fp`, up to the
/// entry trampoline.
fn walk_segment(
    modules: &mut ModuleFinder<'_>,
    adapter_fp: usize,
    root: &mut dyn FnMut(StackRoot),
) {
    let mut frame_at = |return_address: usize, fp: usize| {
        // The call is the instruction before the return address.
        let Some((maps, start)) = modules.function_at(return_address.wrapping_sub(1)) else {
            return false;
        };
        let offset = (return_address - start) as u32;
        for &below_fp in maps.slots_at(offset) {
            let Some(slot) = fp.checked_sub(below_fp as usize) else {
                continue;
            };
            if !slot.is_multiple_of(WORD) || slot < crate::store::stack_pointer() {
                continue;
            }
            // SAFETY: `fp` is the frame pointer of a suspended Wasm function (its frame
            // record was just read by the walk, whose return address is in that
            // function), and the stack map of the call it is suspended in names `slot`
            // as a word of its frame holding a spilled reference, written before the
            // call: between this walker's stack pointer and `fp`, aligned (checked
            // above, so a damaged map from a cache file cannot make this read outside
            // the live stack).
            let raw = unsafe { std::ptr::read(slot as *const u64) };
            root(StackRoot {
                slot: slot as *const u64,
                raw,
            });
        }
        true
    };
    // SAFETY: the adapter's frame is live (its `host_call` is still running), compiled
    // with a frame record like all compiled code (`preserve_frame_pointers`), and
    // `frame_at` accepts only return addresses inside compiled Wasm functions.
    unsafe { walk_frame_chain(adapter_fp, &mut frame_at) };
}

/// Finds the Wasm function holding a code address among the store's native modules,
/// those met already first (a walk mostly stays in one module).
struct ModuleFinder<'a> {
    store: &'a StoreData,
    seen: Vec<&'a NativeModule>,
}

impl<'a> ModuleFinder<'a> {
    /// The stack maps and start address of the function whose code holds `pc`.
    fn function_at(&mut self, pc: usize) -> Option<(&'a StackMaps, usize)> {
        let found = |m: &&'a NativeModule| {
            let defined = m.code_map.defined_func_at(pc)? as usize;
            Some((m.stack_maps.get(defined)?, *m.funcs.get(defined)?))
        };
        if let Some(hit) = self.seen.iter().find_map(found) {
            return Some(hit);
        }
        let module = (self.store.instances.iter())
            .filter_map(|i| i.module.as_ref()?.compiled().as_any().downcast_ref())
            .find(|m: &&NativeModule| m.code_map.defined_func_at(pc).is_some())?;
        self.seen.push(module);
        found(&module)
    }
}

/// Calls `root` with the references a collection inside a libcall must keep: those of
/// the calling Wasm function, defined function `defined` of instance `instance`'s module
/// with frame pointer `fp`, and of every Wasm frame it is suspended in (its callers up to
/// the entry, then the segments of the host calls under way, as [`for_each_stack_root`]
/// walks them).
///
/// The caller's own call site is not known (a libcall keeps no frame record to read its
/// return address from), so every slot that any of its stack maps names is read: a
/// superset of the references live at this call. The others hold stale words of this
/// frame, which the non-moving collector takes conservatively (an object one of them
/// names lives one collection longer), RATIONALE.md "Step 4b".
///
/// # Safety
///
/// `fp` is the frame pointer of the running defined function `defined` of `instance`'s
/// module, suspended in the libcall that calls this (on this thread).
pub(crate) unsafe fn for_each_root_at(
    store: &StoreData,
    instance: u32,
    defined: u32,
    fp: usize,
    root: &mut dyn FnMut(u64),
) {
    let module = (store.instances.get(instance as usize))
        .and_then(|i| i.module.as_ref())
        .and_then(|m| m.compiled().as_any().downcast_ref::<NativeModule>());
    let maps = module.and_then(|m| m.stack_maps.get(defined as usize));
    for below_fp in maps.map(StackMaps::all_slots).unwrap_or_default() {
        let Some(slot) = fp.checked_sub(below_fp as usize) else {
            continue;
        };
        if !slot.is_multiple_of(WORD) || slot < crate::store::stack_pointer() {
            continue;
        }
        // SAFETY: `fp` is the frame pointer of a suspended Wasm function (the contract),
        // whose stack maps name `slot` as a word of its frame: between this walker's
        // stack pointer and `fp` (checked above), aligned, so mapped and readable,
        // whatever it holds now.
        root(unsafe { std::ptr::read_volatile(slot as *const u64) });
    }
    let mut modules = ModuleFinder {
        store,
        seen: module.into_iter().collect(),
    };
    // The callers, from the caller's frame record up to the entry.
    walk_segment(&mut modules, fp, &mut |r| root(r.raw));
    for_each_stack_root(store, &mut |r| root(r.raw));
}
