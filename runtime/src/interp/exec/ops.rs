//! The macros the execution loop's arms (`dispatch.rs`) are written with: an operator
//! applied to slots, a compare-and-branch, a load or a store. Each takes the running
//! function (`Running`: its slot window `regs`, instruction pointer `ip` and memory view
//! `view`) first. Macros rather than functions because an arm's operator is often an
//! infix one (`$op:tt`) and a load or store returns its trap with `?`; everything they
//! expand to is inlined into the one loop.
//!
//! Slot operands are read and written through `frame.rs`'s `slot!`/`set_slot!`, branch
//! targets taken through `jump!`: each states once why its unchecked access is in range.

/// Slot `$s` of the running function.
macro_rules! get {
    ($run:ident, $s:expr) => {
        $crate::interp::exec::frame::slot!($run.regs, $s)
    };
}
pub(super) use get;

/// Writes `$v` to slot `$s` of the running function.
macro_rules! set {
    ($run:ident, $s:expr, $v:expr) => {
        $crate::interp::exec::frame::set_slot!($run.regs, $s, $v)
    };
}
pub(super) use set;

/// `dst = f(src)`.
macro_rules! unary {
    ($run:ident, $dst:expr, $src:expr, $f:expr) => {{
        let v = $f(get!($run, $src));
        set!($run, $dst, v);
    }};
}
pub(super) use unary;

/// `dst = f(lhs, rhs)`.
macro_rules! binary {
    ($run:ident, $dst:expr, $lhs:expr, $rhs:expr, $f:expr) => {{
        let v = $f(get!($run, $lhs), get!($run, $rhs));
        set!($run, $dst, v);
    }};
}
pub(super) use binary;

/// `binary!` on i32 operands.
macro_rules! i32_binary {
    ($run:ident, $dst:expr, $lhs:expr, $rhs:expr, $f:expr) => {
        binary!(
            $run,
            $dst,
            $lhs,
            $rhs,
            |a: u64, b: u64| $f(a as u32, b as u32) as u64
        )
    };
}
pub(super) use i32_binary;

/// An i32 comparison, the operands as `$t` (`i32` or `u32`).
macro_rules! i32_cmp {
    ($run:ident, $dst:expr, $lhs:expr, $rhs:expr, $t:ty, $op:tt) => {
        binary!($run, $dst, $lhs, $rhs, |a: u64, b: u64| {
            ((a as u32 as $t) $op (b as u32 as $t)) as u64
        })
    };
}
pub(super) use i32_cmp;

/// An i64 comparison, the operands as `$t` (`i64` or `u64`).
macro_rules! i64_cmp {
    ($run:ident, $dst:expr, $lhs:expr, $rhs:expr, $t:ty, $op:tt) => {
        binary!($run, $dst, $lhs, $rhs, |a: u64, b: u64| ((a as $t) $op (b as $t)) as u64)
    };
}
pub(super) use i64_cmp;

/// `binary!` on f32 operands.
macro_rules! f32_binary {
    ($run:ident, $dst:expr, $lhs:expr, $rhs:expr, $f:expr) => {
        binary!($run, $dst, $lhs, $rhs, |a, b| {
            num::from_f32($f(num::f32_of(a), num::f32_of(b)))
        })
    };
}
pub(super) use f32_binary;

/// `binary!` on f64 operands.
macro_rules! f64_binary {
    ($run:ident, $dst:expr, $lhs:expr, $rhs:expr, $f:expr) => {
        binary!($run, $dst, $lhs, $rhs, |a, b| {
            num::from_f64($f(num::f64_of(a), num::f64_of(b)))
        })
    };
}
pub(super) use f64_binary;

/// A float comparison, the operands read with `$of` (`num::f32_of` or `num::f64_of`).
macro_rules! float_cmp {
    ($run:ident, $dst:expr, $lhs:expr, $rhs:expr, $of:path, $op:tt) => {
        binary!($run, $dst, $lhs, $rhs, |a, b| ($of(a) $op $of(b)) as u64)
    };
}
pub(super) use float_cmp;

/// `unary!` on an f32 operand.
macro_rules! f32_unary {
    ($run:ident, $dst:expr, $src:expr, $f:expr) => {
        unary!($run, $dst, $src, |a| num::from_f32($f(num::f32_of(a))))
    };
}
pub(super) use f32_unary;

/// `unary!` on an f64 operand.
macro_rules! f64_unary {
    ($run:ident, $dst:expr, $src:expr, $f:expr) => {
        unary!($run, $dst, $src, |a| num::from_f64($f(num::f64_of(a))))
    };
}
pub(super) use f64_unary;

/// `dst = f(src)?` (an operator that may trap).
macro_rules! unary_trap {
    ($run:ident, $dst:expr, $src:expr, $f:expr) => {{
        let v = $f(get!($run, $src))?;
        set!($run, $dst, v);
    }};
}
pub(super) use unary_trap;

/// `dst = f(lhs, rhs)?` (an operator that may trap).
macro_rules! binary_trap {
    ($run:ident, $dst:expr, $lhs:expr, $rhs:expr, $f:expr) => {{
        let v = $f(get!($run, $lhs), get!($run, $rhs))?;
        set!($run, $dst, v);
    }};
}
pub(super) use binary_trap;

/// Takes the branch just fetched, whose target operand is `$target`.
macro_rules! jump {
    ($run:ident, $target:expr) => {{
        let target: u32 = $target;
        let ip = &mut $run.ip;
        // SAFETY: `target` is the target operand of the branch just fetched from the
        // verified code `ip` runs: `Code::new` checked it in range and stored it
        // relative to the next instruction (invariant 2).
        unsafe { ip.jump(target) }
    }};
}
pub(super) use jump;

/// Traps with "interrupted" if the store's interrupt flag is set (`CheckInterrupt`, and
/// the metered forms that do its work, `translate/metering.rs`).
macro_rules! check_interrupt {
    ($store:ident) => {
        if $store.interrupted() {
            return Err(super::ops::interrupted().into());
        }
    };
}
pub(super) use check_interrupt;

/// The trap of a check that found a request: cold, so that its code is laid out away from
/// the hot dispatch loop (like `out_of_fuel`; where it landed moved the metered
/// interpreter's wall time by up to 50%, benches/README.md "All six in one run").
#[cold]
#[inline(never)]
pub(super) fn interrupted() -> crate::error::TrapKind {
    crate::error::TrapKind::Interrupted
}

/// The `a` and `b` of the `Extra` after the instruction just fetched, stepping over it.
macro_rules! extra {
    ($run:ident) => {{
        let ip = &mut $run.ip;
        // SAFETY: only used by instructions that read an `Extra`, which `Code::new`
        // verified is there (invariant 4).
        unsafe { ip.extra() }
    }};
}
pub(super) use extra;

/// Branches when the i32 comparison holds, the operands as `$t` (`i32` or `u32`).
macro_rules! br_i32 {
    ($run:ident, $lhs:expr, $rhs:expr, $target:expr, $t:ty, $op:tt) => {
        if (get!($run, $lhs) as u32 as $t) $op (get!($run, $rhs) as u32 as $t) {
            jump!($run, $target);
        }
    };
}
pub(super) use br_i32;

/// Branches when the i64 comparison holds, the operands as `$t` (`i64` or `u64`).
macro_rules! br_i64 {
    ($run:ident, $lhs:expr, $rhs:expr, $target:expr, $t:ty, $op:tt) => {
        if (get!($run, $lhs) as $t) $op (get!($run, $rhs) as $t) {
            jump!($run, $target);
        }
    };
}
pub(super) use br_i64;

/// A fused loop counter: `dst += step`, then the branch; `rhs` is read after the add (it
/// may be `dst`). Not taken, it steps over the unfused branch after it. A metered form
/// (`translate/metering.rs`) gives the metering to do before it jumps.
macro_rules! count_and_branch {
    ($run:ident, $step:expr, $dst:expr, $rhs:expr, $target:expr, $t:ty, $op:tt $(, $meter:expr)?) => {{
        let v = (get!($run, $dst) as u32).wrapping_add($step as i32 as u32);
        set!($run, $dst, v as u64);
        if (v as $t) $op (get!($run, $rhs) as u32 as $t) {
            $($meter;)?
            jump!($run, $target);
        } else {
            // SAFETY: two instructions follow a fused counter (invariant 4).
            unsafe { $run.ip.skip(1) }
        }
    }};
}
pub(super) use count_and_branch;

/// `dst = conv(bytes)` of the `$n` bytes at `addr + offset` of memory 0.
macro_rules! load {
    ($run:ident, $dst:expr, $addr:expr, $offset:expr, $n:literal, $conv:expr) => {{
        let bytes = $run.view.load::<$n>(get!($run, $addr), $offset)?;
        set!($run, $dst, $conv(bytes));
    }};
}
pub(super) use load;

/// `load!` at `(idx << shift) + offset`.
macro_rules! load_shl {
    ($run:ident, $dst:expr, $idx:expr, $shift:expr, $offset:expr, $n:literal, $conv:expr) => {{
        let addr = (get!($run, $idx) as u32).wrapping_shl($shift as u32) as u64;
        let bytes = $run.view.load::<$n>(addr, $offset)?;
        set!($run, $dst, $conv(bytes));
    }};
}
pub(super) use load_shl;

/// Stores `conv(value)` at `addr + offset` of memory 0.
macro_rules! store_value {
    ($run:ident, $addr:expr, $value:expr, $offset:expr, $conv:expr) => {{
        let bytes = $conv(get!($run, $value));
        $run.view.store(get!($run, $addr), $offset, bytes)?;
    }};
}
pub(super) use store_value;

/// Runs the instruction after the one just fetched in the same dispatch if it matches
/// `$pat` (the follower of a fused pair, `translate/peephole.rs::fuse_pairs`, or the
/// entry a `BrTable` chose), stepping over it; otherwise leaves it to the loop. Only
/// where `ip` points at an instruction: after one that is not an `ends` one (invariant
/// 3), or at a `BrTable`'s entry (invariant 4).
macro_rules! then_if {
    ($run:ident, $pat:pat => $body:expr) => {{
        // SAFETY: `ip` points inside the code: past an instruction that never ends its
        // code (invariant 3), or at an entry of the `BrTable` just fetched (invariant 4).
        let follower = unsafe { $run.ip.peek() };
        if let $pat = *follower {
            #[cfg(feature = "op-coverage")]
            // SAFETY: `follower` is about to run with `run.regs`, in verified code.
            unsafe {
                super::coverage::observe(follower, &$run.regs)
            };
            // SAFETY: as above, the follower is inside the code; fetching it makes it
            // the instruction just fetched, for a branch's `jump!`.
            let _ = unsafe { $run.ip.next() };
            $body
        }
    }};
}
pub(super) use then_if;
