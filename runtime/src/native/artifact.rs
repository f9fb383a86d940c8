//! A module's relocatable machine code: what `compile.rs` produces, `link.rs` places in
//! executable memory and the code cache (`cache/`) stores on disk. Whether it was just
//! compiled or read back from the cache, the same `link` turns it into a `NativeModule`,
//! so everything derived from it (function addresses and sizes) is the same either way.

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir;

use super::libcalls::Libcall;

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
    /// Offsets, ascending, of the memory accesses that have no bounds check and whose
    /// fault is an out-of-bounds trap (`Config::signal_traps`, `signals.rs`); empty
    /// without signal traps.
    pub trap_sites: Vec<u32>,
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
