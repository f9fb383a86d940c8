//! The store's fuel counter (`Config::consume_fuel`): what the interpreter's
//! `ConsumeFuel`, the shared host-call and bulk-operation paths and the public API use.
//! Native code does the same subtraction inline on the same counter. The cost table
//! and charge points are `module/fuel.rs`.

use super::StoreData;
use crate::error::TrapKind;
use crate::module::fuel::BYTES_PER_UNIT;

impl StoreData {
    /// Takes `amount` from the fuel, or traps with "all fuel consumed" and takes nothing.
    #[inline]
    pub(crate) fn consume_fuel(&mut self, amount: u64) -> Result<(), TrapKind> {
        match self.fuel.checked_sub(amount) {
            Some(left) => {
                self.fuel = left;
                Ok(())
            }
            None => Err(out_of_fuel()),
        }
    }

    /// Charges a bulk memory operation on `bytes` bytes (when metering).
    pub(super) fn charge_bytes(&mut self, bytes: usize) -> Result<(), TrapKind> {
        if !self.metering {
            return Ok(());
        }
        self.consume_fuel((bytes as u64).div_ceil(BYTES_PER_UNIT))
    }

    /// Charges a bulk table operation on `elements` elements (when metering).
    pub(crate) fn charge_elements(&mut self, elements: usize) -> Result<(), TrapKind> {
        if !self.metering {
            return Ok(());
        }
        self.consume_fuel(elements as u64)
    }
}

/// The trap of a charge that cannot be paid: cold, so that the code running out of fuel
/// takes is laid out away from the interpreter's hot dispatch loop.
#[cold]
#[inline(never)]
fn out_of_fuel() -> TrapKind {
    TrapKind::OutOfFuel
}
