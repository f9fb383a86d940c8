//! Fuel metering and interruption checks in compiled code (RATIONALE.md, "Fuel" and
//! "Interruption").
//!
//! **Fuel.** The store's counter (`StoreData::fuel`, reached through `VMRuntime::fuel`)
//! is the one every charger shares, but compiled code keeps the fuel left in a Cranelift
//! variable, so a charge point is a compare, a branch and a subtract in registers, and
//! passes it from caller to callee and back in registers too (an `i64` parameter and
//! result of the Wasm ABI, `abi::wasm_signature`): a call does not go through memory,
//! whose store-to-load latency on every call made `fib` 2.6x slower than without fuel.
//! Memory is made right wherever anything else can read or charge the counter:
//! - the entry trampoline loads it for the callee and stores what the callee returns;
//!   a host adapter stores what it is passed, calls the host and returns what is left;
//! - every libcall (bulk operations, `memory.grow`, throws, `call_indirect`'s slow path)
//!   stores it before and reloads it right after, before the trap test;
//! - every trap block of an inline check stores it (filled in by `finish`), so the fuel
//!   left after a trap is what the interpreter leaves (all of the run's cost paid, or
//!   nothing taken if the run itself could not pay); a trap's way out then returns what
//!   memory holds, so the fuel a call returns is right on every path and a caller takes
//!   it as it is, trap or not, and so does a `try_table`'s dispatch block.
//!
//! **Interruption.** Every function's stack check is against the store's interrupt
//! state's limit, which a request raises (`store/interrupt.rs`), so function entries
//! need no check of their own; every loop checks the flag at its header, with a plain
//! load kept apart from the others by a store on the way into the loop (see
//! `interrupt_check_at_loop`).

use cranelift_codegen::ir::{
    InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value, condcodes::IntCC, types,
};

use super::{INTERRUPT_REGION, Translator, readonly, region, trusted};
use crate::error::TrapKind;
use crate::native::vmctx::{INTERRUPT_FLAG, RT_FUEL, VM_INTERRUPT};

/// The last charge: it left `left`, which is `base - paid`.
#[derive(Clone, Copy)]
pub(super) struct FuelRun {
    left: Value,
    base: Value,
    paid: u64,
}

impl Translator<'_, '_> {
    /// Takes the fuel the caller passed into a variable (in the entry block, before
    /// anything can trap).
    pub(super) fn receive_fuel(&mut self, fuel: Value) {
        let left = self.b.declare_var(types::I64);
        self.b.def_var(left, fuel);
        self.fuel = Some(left);
    }

    /// The address of the store's counter (constant during a call: set at entry).
    fn fuel_counter(&mut self) -> Value {
        let rt = self.runtime();
        self.b.ins().load(types::I64, readonly(), rt, RT_FUEL)
    }

    /// Takes `amount` from the fuel left, or traps with "all fuel consumed" leaving it
    /// unchanged (the same rule as `StoreData::consume_fuel`; the trap block stores the
    /// unchanged value).
    pub(super) fn consume_fuel(&mut self, amount: u32) {
        let Some(left) = self.fuel else {
            return;
        };
        let fuel = self.b.use_var(left);
        // Charges in a row (the value left by one is the next one's, no call or join in
        // between) test the value the first one started from against their sum, and
        // subtract from it: a compare and a branch each, no subtract in between. Exact,
        // since that value was at least the sum of the earlier amounts.
        let (base, paid) = match self.fuel_run {
            Some(run) if run.left == fuel => (run.base, run.paid),
            _ => (fuel, 0),
        };
        let total = paid + u64::from(amount);
        let total = i64::try_from(total).expect("a run's costs add up to far less than 2^63");
        let short = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, base, total);
        self.trap_if(short, TrapKind::OutOfFuel);
        let rest = self.b.ins().iadd_imm_s(base, -total);
        self.b.def_var(left, rest);
        self.fuel_run = Some(FuelRun {
            left: rest,
            base,
            paid: total as u64,
        });
    }

    /// The fuel left, to pass to a callee or return (`None` when not metering).
    pub(super) fn fuel_left(&mut self) -> Option<Value> {
        self.fuel.map(|left| self.b.use_var(left))
    }

    /// Takes what a callee returned as the fuel left.
    pub(super) fn fuel_returned(&mut self, fuel: Value) {
        let left = self
            .fuel
            .expect("a callee returns fuel only to metered code");
        self.b.def_var(left, fuel);
    }

    /// Makes the store's counter right (before a libcall, a trap's exit).
    pub(super) fn fuel_to_memory(&mut self) {
        if let Some(left) = self.fuel {
            let fuel = self.b.use_var(left);
            let counter = self.fuel_counter();
            self.b.ins().store(trusted(), fuel, counter, 0);
        }
    }

    /// Takes the store's counter back into the variable (after a libcall, which may
    /// have charged it).
    pub(super) fn fuel_from_memory(&mut self) {
        if let Some(left) = self.fuel {
            let fuel = self.load_fuel_from_memory();
            self.b.def_var(left, fuel);
        }
    }

    /// The store's counter as it is in memory.
    pub(super) fn load_fuel_from_memory(&mut self) -> Value {
        let counter = self.fuel_counter();
        self.b.ins().load(types::I64, trusted(), counter, 0)
    }

    /// The address of the store's interrupt state (in the vmctx), loaded once by the
    /// function's stack check for the loop headers' checks too; with the check in the
    /// prologue (signal traps), by the loop headers, as one pure load Cranelift shares.
    pub(super) fn interrupt_state_address(&mut self) -> Value {
        self.b
            .ins()
            .load(types::I64, readonly(), self.vmctx, VM_INTERRUPT)
    }

    /// Before the jump into a new loop: a store to the flag's region, so that the loop
    /// header's load of the flag is a load of its own (see [`Self::interrupt_check_at_loop`]).
    pub(super) fn interrupt_loop_entry(&mut self) {
        let slot = match self.interrupt_dummy {
            Some(slot) => slot,
            None => {
                let data = StackSlotData::new(StackSlotKind::ExplicitSlot, 4, 2);
                let slot = self.b.create_sized_stack_slot(data);
                self.interrupt_dummy = Some(slot);
                slot
            }
        };
        // A value of its own per loop: storing what an earlier store on the way left
        // there would be removed as idempotent.
        self.interrupt_loops += 1;
        let ordinal = self
            .b
            .ins()
            .iconst(types::I32, i64::from(self.interrupt_loops));
        let dummy = self.b.ins().stack_addr(types::I64, slot, 0);
        self.b.ins().store(interrupt_flags(), ordinal, dummy, 0);
    }

    /// At the top of a loop: traps with "interrupted" if the flag is set. A plain load
    /// (a load, a test and a branch), which Cranelift's alias analysis would take for the
    /// same value as the entry's load (no store in Wasm code writes the flag), so that a
    /// loop never saw a request, if [`Self::interrupt_loop_entry`] had not stored to the
    /// flag's region on the way in: that store dominates the header and makes its load
    /// a new one, read on every iteration. An atomic load would be new too, but it is a
    /// fence: every load in the loop (memory bases and lengths) would be repeated on every
    /// iteration as well (sieve +39% instructions, +27% without).
    pub(super) fn interrupt_check_at_loop(&mut self) {
        // The stack check's (the body's first, unless the prologue checks).
        let state = match self.interrupt_state {
            Some(state) => state,
            None => self.interrupt_state_address(),
        };
        let set = self.load_interrupt_flag(state);
        self.trap_if(set, TrapKind::Interrupted);
    }

    /// Whether the flag of the interrupt state at `state` is set.
    fn load_interrupt_flag(&mut self, state: Value) -> Value {
        let flags = interrupt_flags();
        let byte = self.b.ins().load(types::I8, flags, state, INTERRUPT_FLAG);
        self.b.ins().icmp_imm_u(IntCC::NotEqual, byte, 0)
    }
}

/// Loads of the interrupt flag and the stores that keep them apart: plain accesses in
/// a region of their own (a request is seen by the next check that loads the byte).
fn interrupt_flags() -> MemFlagsData {
    trusted().with_alias_region(region(INTERRUPT_REGION))
}
