//! The machine stack's limit for Wasm execution, shared by both engines: the native
//! engine checks it in every function prologue, the interpreter at every host-to-Wasm
//! entry (its own frames live on the heap, but host functions that call back into Wasm
//! nest machine frames).

use std::cell::Cell;

thread_local! {
    /// (lowest usable address, size) of this thread's stack, 0 when unknown.
    static STACK: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// The lowest stack pointer compiled code may run at on this thread: the stack's bottom
/// plus a margin for the frames of host functions and libcalls below the deepest Wasm
/// frame (a quarter of the stack, between 48 KiB and 256 KiB).
pub(crate) fn stack_limit() -> usize {
    let (low, size) = stack_bounds();
    let margin = (size / 4).clamp(48 * 1024, 256 * 1024);
    low + margin
}

/// One past the highest address of this thread's stack: from any frame's address up to
/// here, the stack is mapped (what the native engine's backtrace walk may read).
pub(crate) fn stack_top() -> usize {
    let (low, size) = stack_bounds();
    low + size
}

fn stack_bounds() -> (usize, usize) {
    STACK.with(|s| {
        if s.get().1 == 0 {
            s.set(thread_stack());
        }
        s.get()
    })
}

#[cfg(target_os = "linux")]
fn thread_stack() -> (usize, usize) {
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    let mut addr: *mut libc::c_void = std::ptr::null_mut();
    let mut size: libc::size_t = 0;
    // SAFETY: `attr` is initialised by `pthread_getattr_np` before it is read and
    // destroyed after; `addr` and `size` are plain out-parameters.
    let ok = unsafe {
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            false
        } else {
            let r = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size);
            libc::pthread_attr_destroy(attr.as_mut_ptr());
            r == 0
        }
    };
    if ok && size > 0 {
        (addr as usize, size)
    } else {
        fallback_stack()
    }
}

#[cfg(not(target_os = "linux"))]
fn thread_stack() -> (usize, usize) {
    fallback_stack()
}

/// Without thread stack bounds, assume 1 MiB below the current frame is usable.
fn fallback_stack() -> (usize, usize) {
    let here = 0u8;
    let sp = &here as *const u8 as usize;
    let size = 1024 * 1024;
    (sp.saturating_sub(size), size)
}

/// About where the stack pointer is: the address of a local of this call.
#[inline(never)]
pub(crate) fn stack_pointer() -> usize {
    let here = 0u8;
    std::hint::black_box(&here) as *const u8 as usize
}
