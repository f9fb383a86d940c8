//! Linear-memory loads and stores with the spec's bounds check.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#xref-syntax-instructions-syntax-instr-memory-mathsf-t-mathsf-load-xref-syntax-instructions-syntax-memarg-mathit-memarg>:
//! the effective address is the i32 operand plus the static offset, computed without
//! wrapping; any byte past the end traps.

use crate::error::TrapKind;

#[inline(always)]
fn range<const N: usize>(len: usize, addr: u64, offset: u32) -> Result<usize, TrapKind> {
    let ea = addr as u32 as u64 + offset as u64;
    if ea + N as u64 > len as u64 {
        return Err(TrapKind::MemoryOutOfBounds);
    }
    Ok(ea as usize)
}

#[inline(always)]
pub(crate) fn load<const N: usize>(
    mem: &[u8],
    addr: u64,
    offset: u32,
) -> Result<[u8; N], TrapKind> {
    let at = range::<N>(mem.len(), addr, offset)?;
    let mut out = [0u8; N];
    out.copy_from_slice(&mem[at..at + N]);
    Ok(out)
}

#[inline(always)]
pub(crate) fn store<const N: usize>(
    mem: &mut [u8],
    addr: u64,
    offset: u32,
    bytes: [u8; N],
) -> Result<(), TrapKind> {
    let at = range::<N>(mem.len(), addr, offset)?;
    mem[at..at + N].copy_from_slice(&bytes);
    Ok(())
}
