//! Hosts without signal traps (`signals.rs` is x86-64 Linux only): every access is bounds
//! checked (`Config::signal_traps` has no effect), so no code has trap sites.

use super::abi::EntryFn;
use super::artifact::{CodeBlob, SiteKind};
use super::vmctx::VMContext;
use crate::error::Backtrace;
use crate::store::StoreData;

/// Signal traps do not work here.
pub(crate) const SUPPORTED: bool = false;

/// Never called (`SUPPORTED` is false).
pub(crate) fn install_handler() -> bool {
    false
}

/// Nothing to register: without signal traps no code has trap sites.
pub(crate) struct TrapSiteRegistration;

impl TrapSiteRegistration {
    pub(crate) fn new<'a>(_funcs: impl Iterator<Item = (usize, &'a CodeBlob)>) -> Self {
        TrapSiteRegistration
    }
}

/// The frames of a trap by signal: there is none here.
pub(crate) enum TrapBySignal {}

impl TrapBySignal {
    pub(crate) fn kind(&self) -> SiteKind {
        match *self {}
    }

    pub(crate) fn extend_backtrace(self, _store: &StoreData, _backtrace: &mut Backtrace) {
        match self {}
    }
}

/// Calls the trampoline directly (no code has trap sites here): never a trap by signal.
///
/// # Safety
/// As calling `trampoline` as an `EntryFn`.
pub(crate) unsafe fn call_entry(
    trampoline: usize,
    code: *const u8,
    vmctx: *mut VMContext,
    buf: *mut u128,
) -> Option<TrapBySignal> {
    // SAFETY: per the contract.
    unsafe { std::mem::transmute::<usize, EntryFn>(trampoline)(code, vmctx, vmctx, buf) };
    None
}
