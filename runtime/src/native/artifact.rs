//! A module's relocatable machine code: what `compile.rs` produces, `link.rs` places in
//! executable memory and the code cache (`cache/`) stores on disk. Whether it was just
//! compiled or read back from the cache, the same `link` turns it into a `NativeModule`,
//! so everything derived from it (function addresses and sizes) is the same either way.

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir;

use super::libcalls::Libcall;
use crate::error::TrapKind;

/// What a relocation points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RelocTarget {
    /// A defined function of the module (index not counting imports).
    Func(u32),
    /// One of our libcalls.
    Libcall(Libcall),
    /// A function Cranelift itself calls (its legalisation of a few float operations on
    /// ISAs without the instruction), found by symbol name in the process.
    CraneliftLibcall(ir::LibCall),
    /// An offset inside the code of the relocation itself.
    SelfOffset(u32),
}

/// A relocation: at `offset` in its code, write `target`'s address plus `addend` the
/// way `kind` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CodeReloc {
    pub offset: u32,
    pub kind: Reloc,
    pub target: RelocTarget,
    pub addend: i64,
}

/// One function's machine code (a defined function, an entry trampoline or a host
/// adapter), with its relocations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CodeBlob {
    pub bytes: Vec<u8>,
    pub alignment: u64,
    pub relocs: Vec<CodeReloc>,
    /// The instructions whose fault is a trap (`Config::signal_traps`, `signals.rs`),
    /// by ascending offset: memory accesses without a bounds check, the prologue's
    /// stack check, the tests of the trap flag that leave by signal; empty without
    /// signal traps.
    pub trap_sites: Vec<TrapSite>,
    /// Where the call sites keep their live GC references (`any` and `extern` values);
    /// empty for code that holds none across a call, and for trampolines and adapters.
    pub stack_maps: StackMaps,
}

/// The stack maps of one function (RATIONALE.md, "Step 4a: roots in native frames"):
/// for each call site across which the function keeps `any`/`extern` references live,
/// the return address's offset in the function's code and the stack words holding those
/// references at that point. Cranelift spills every such value to a slot of its own
/// before the call and reloads it after (`translate::gc_roots`), so a collector that
/// runs inside the call finds each one at `frame pointer - slot`.
///
/// Two flat arrays: `sites` by strictly ascending return offset, each with where its
/// slots start in `slots` (they end where the next site's start); a slot is a distance
/// in bytes below the frame pointer, a non-zero multiple of 8, ascending within a site.
/// Frame-pointer-relative rather than the stack-pointer offsets Cranelift gives, so the
/// walker needs nothing but the frame record it reads anyway.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StackMaps {
    sites: Vec<StackMapSite>,
    slots: Vec<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StackMapSite {
    return_offset: u32,
    first_slot: u32,
}

impl StackMaps {
    /// From call sites `(return offset, slots below the frame pointer)`, which must
    /// come in strictly ascending order of offset, each slot a non-zero multiple of 8;
    /// otherwise says what is wrong (a cache file may hold anything).
    pub fn new<S: IntoIterator<Item = u32>>(
        sites: impl IntoIterator<Item = (u32, S)>,
    ) -> Result<StackMaps, String> {
        let mut maps = StackMaps::default();
        for (return_offset, slots) in sites {
            if maps
                .sites
                .last()
                .is_some_and(|s| s.return_offset >= return_offset)
            {
                return Err(format!("stack map at {return_offset} out of order"));
            }
            let first_slot = u32::try_from(maps.slots.len())
                .map_err(|_| "too many stack map slots".to_string())?;
            maps.sites.push(StackMapSite {
                return_offset,
                first_slot,
            });
            maps.slots.extend(slots);
            let site = &mut maps.slots[first_slot as usize..];
            site.sort_unstable();
            if let Some(bad) = site.iter().find(|&&s| s == 0 || s % 8 != 0) {
                return Err(format!("stack map slot {bad} at {return_offset}"));
            }
        }
        Ok(maps)
    }

    /// The call sites, in ascending order of return offset, with their slots.
    pub fn sites(&self) -> impl ExactSizeIterator<Item = (u32, &[u32])> {
        (0..self.sites.len()).map(|i| (self.sites[i].return_offset, self.site_slots(i)))
    }

    /// The slots of the call site whose return address is at `return_offset` in the
    /// function's code: none for a call that keeps no reference live (it has no map).
    pub fn slots_at(&self, return_offset: u32) -> &[u32] {
        match (self.sites).binary_search_by_key(&return_offset, |s| s.return_offset) {
            Ok(i) => self.site_slots(i),
            Err(_) => &[],
        }
    }

    /// Every slot any call site names, ascending, each once.
    pub fn all_slots(&self) -> Vec<u32> {
        let mut all = self.slots.clone();
        all.sort_unstable();
        all.dedup();
        all
    }

    fn site_slots(&self, i: usize) -> &[u32] {
        let start = self.sites[i].first_slot as usize;
        let end = (self.sites.get(i + 1)).map_or(self.slots.len(), |s| s.first_slot as usize);
        &self.slots[start..end]
    }
}

/// An instruction of a function whose fault (`SIGSEGV`/`SIGBUS` of an access, `SIGILL`
/// of the `ud2` a failed prologue stack check jumps to) is a trap of `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TrapSite {
    pub offset: u32,
    pub kind: SiteKind,
}

/// What a fault at a trap site means. The numbers are the cache format's (`cache/`)
/// and the entry shim's status after a landing (`signals.rs`); never 0, the status of
/// a normal return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum SiteKind {
    /// A 32-bit memory access past the accessible bytes.
    MemoryOutOfBounds = 1,
    /// The stack pointer below the limit (exhaustion, or an interrupt request, which
    /// raises the limit: `entry.rs` tells them apart).
    StackOverflow = 2,
    /// The `ud2` a call's non-zero status (or a libcall's trap flag) jumps to in code
    /// that leaves by signal (`CodeOptions::leave_by_signal`): a callee, a libcall or a
    /// host function set the trap flag already, and its backtrace as far as recorded.
    Flagged = 3,
    /// The `ud2` of an inline check (`Translator::trap_if`, `trap_now`) in code with
    /// signal traps, one kind per trap: `unreachable`, a zero divisor, an overflowing
    /// division or conversion, a NaN or out-of-range conversion, a `call_indirect`
    /// index past its table's end, a table access past the end.
    Unreachable = 4,
    IntegerDivideByZero = 5,
    IntegerOverflow = 6,
    InvalidConversionToInteger = 7,
    UndefinedElement = 8,
    TableOutOfBounds = 9,
}

impl SiteKind {
    /// The kind numbered `n` (as `SiteKind as u8`), if any.
    pub fn from_number(n: u64) -> Option<SiteKind> {
        match n {
            1 => Some(SiteKind::MemoryOutOfBounds),
            2 => Some(SiteKind::StackOverflow),
            3 => Some(SiteKind::Flagged),
            4 => Some(SiteKind::Unreachable),
            5 => Some(SiteKind::IntegerDivideByZero),
            6 => Some(SiteKind::IntegerOverflow),
            7 => Some(SiteKind::InvalidConversionToInteger),
            8 => Some(SiteKind::UndefinedElement),
            9 => Some(SiteKind::TableOutOfBounds),
            _ => None,
        }
    }

    /// Every kind whose `ud2` Cranelift marks with a user trap code, the kind's number
    /// (`translate::site_trap_code`): all but the two with Cranelift's own codes.
    pub const USER_CODED: [SiteKind; 7] = [
        SiteKind::Flagged,
        SiteKind::Unreachable,
        SiteKind::IntegerDivideByZero,
        SiteKind::IntegerOverflow,
        SiteKind::InvalidConversionToInteger,
        SiteKind::UndefinedElement,
        SiteKind::TableOutOfBounds,
    ];

    /// The trap a fault here is reported as (before `entry.rs` reads a raised limit
    /// as an interrupt request); `None` for `Flagged`, whose trap the flag says.
    pub fn trap_kind(self) -> Option<TrapKind> {
        Some(match self {
            SiteKind::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
            SiteKind::StackOverflow => TrapKind::CallStackExhausted,
            SiteKind::Flagged => return None,
            SiteKind::Unreachable => TrapKind::Unreachable,
            SiteKind::IntegerDivideByZero => TrapKind::IntegerDivideByZero,
            SiteKind::IntegerOverflow => TrapKind::IntegerOverflow,
            SiteKind::InvalidConversionToInteger => TrapKind::InvalidConversionToInteger,
            SiteKind::UndefinedElement => TrapKind::UndefinedElement,
            SiteKind::TableOutOfBounds => TrapKind::TableOutOfBounds,
        })
    }

    /// The kind of the `ud2` of an inline check that traps with `kind`, if it has one.
    pub fn of_check(kind: TrapKind) -> Option<SiteKind> {
        Some(match kind {
            TrapKind::Unreachable => SiteKind::Unreachable,
            TrapKind::IntegerDivideByZero => SiteKind::IntegerDivideByZero,
            TrapKind::IntegerOverflow => SiteKind::IntegerOverflow,
            TrapKind::InvalidConversionToInteger => SiteKind::InvalidConversionToInteger,
            TrapKind::UndefinedElement => SiteKind::UndefinedElement,
            TrapKind::TableOutOfBounds => SiteKind::TableOutOfBounds,
            _ => return None,
        })
    }

    /// Whether a fault at a site of this kind is its `ud2` (`SIGILL`), not an access.
    pub fn is_ud2(self) -> bool {
        self != SiteKind::MemoryOutOfBounds
    }
}

/// A module's machine code before linking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ModuleArtifact {
    /// Per defined function.
    pub funcs: Vec<CodeBlob>,
    /// Per type of the module: the entry trampoline (`trampolines.rs`), if the module
    /// needs one (`compile::Needs`).
    pub trampolines: Vec<Option<CodeBlob>>,
    /// Per type of the module: the host adapter, if the module needs one.
    pub adapters: Vec<Option<CodeBlob>>,
}

impl ModuleArtifact {
    /// Every blob: functions, trampolines, adapters.
    pub fn blobs(&self) -> impl Iterator<Item = &CodeBlob> {
        (self.funcs.iter())
            .chain(self.trampolines.iter().flatten())
            .chain(self.adapters.iter().flatten())
    }
}

/// The relocation kinds the linker (cranelift-jit's) applies without failing, with how
/// many bytes at its offset each rewrites. A cache file names a kind by its position here;
/// a relocation of any other kind is never read from one.
pub(crate) const RELOC_KINDS: [(Reloc, usize); 6] = [
    (Reloc::Abs8, 8),
    (Reloc::X86PCRel4, 4),
    (Reloc::X86CallPCRel4, 4),
    (Reloc::Arm64Call, 4),
    (Reloc::Aarch64AdrPrelPgHi21, 4),
    (Reloc::Aarch64AddAbsLo12Nc, 4),
];

/// How many bytes a relocation of `kind` rewrites, if it is one of `RELOC_KINDS`.
pub(crate) fn reloc_width(kind: Reloc) -> Option<usize> {
    RELOC_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, w)| *w)
}

#[cfg(test)]
mod tests {
    use super::SiteKind;
    use crate::native::translate::site_trap_code;

    /// A kind's number reads back as that kind (the cache format and the entry shim's
    /// status both carry the number), and the `ud2` kinds with user trap codes have
    /// codes of their own, so `compile::emit` maps each code back to one kind.
    #[test]
    fn site_kinds_round_trip_through_numbers_and_trap_codes() {
        let kinds: Vec<SiteKind> = (0..=255).filter_map(SiteKind::from_number).collect();
        assert!(
            kinds
                .iter()
                .all(|k| SiteKind::from_number(*k as u64) == Some(*k))
        );
        assert_eq!(
            SiteKind::from_number(0),
            None,
            "0 is a normal return's status"
        );
        for kind in SiteKind::USER_CODED {
            assert!(kind.is_ud2() && kinds.contains(&kind));
            let same_code = SiteKind::USER_CODED
                .iter()
                .filter(|other| site_trap_code(**other) == site_trap_code(kind));
            assert_eq!(same_code.count(), 1, "{kind:?}");
        }
    }
}
