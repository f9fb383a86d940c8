//! The guest's linear memory as preview1 sees it: little-endian scalars and byte ranges
//! at 32-bit addresses, every access bounds-checked (`EFAULT` when out of range, never a
//! host panic).

use crate::errno::{Errno, WasiResult};

/// A borrowed view of the calling instance's memory.
pub struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMemory<'a> {
    pub fn new(bytes: &'a mut [u8]) -> GuestMemory<'a> {
        GuestMemory { bytes }
    }

    fn range(&self, addr: u32, len: u32) -> WasiResult<std::ops::Range<usize>> {
        let start = addr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::Fault)?;
        if end > self.bytes.len() {
            return Err(Errno::Fault);
        }
        Ok(start..end)
    }

    pub fn slice(&self, addr: u32, len: u32) -> WasiResult<&[u8]> {
        let r = self.range(addr, len)?;
        Ok(&self.bytes[r])
    }

    pub fn slice_mut(&mut self, addr: u32, len: u32) -> WasiResult<&mut [u8]> {
        let r = self.range(addr, len)?;
        Ok(&mut self.bytes[r])
    }

    pub fn write_bytes(&mut self, addr: u32, data: &[u8]) -> WasiResult<()> {
        let len = u32::try_from(data.len()).map_err(|_| Errno::Fault)?;
        self.slice_mut(addr, len)?.copy_from_slice(data);
        Ok(())
    }

    pub fn read_u8(&self, addr: u32) -> WasiResult<u8> {
        Ok(self.slice(addr, 1)?[0])
    }

    pub fn read_u16(&self, addr: u32) -> WasiResult<u16> {
        Ok(u16::from_le_bytes(
            self.slice(addr, 2)?.try_into().unwrap_or_default(),
        ))
    }

    pub fn read_u32(&self, addr: u32) -> WasiResult<u32> {
        Ok(u32::from_le_bytes(
            self.slice(addr, 4)?.try_into().unwrap_or_default(),
        ))
    }

    pub fn read_u64(&self, addr: u32) -> WasiResult<u64> {
        Ok(u64::from_le_bytes(
            self.slice(addr, 8)?.try_into().unwrap_or_default(),
        ))
    }

    pub fn write_u8(&mut self, addr: u32, v: u8) -> WasiResult<()> {
        self.write_bytes(addr, &[v])
    }

    pub fn write_u16(&mut self, addr: u32, v: u16) -> WasiResult<()> {
        self.write_bytes(addr, &v.to_le_bytes())
    }

    pub fn write_u32(&mut self, addr: u32, v: u32) -> WasiResult<()> {
        self.write_bytes(addr, &v.to_le_bytes())
    }

    pub fn write_u64(&mut self, addr: u32, v: u64) -> WasiResult<()> {
        self.write_bytes(addr, &v.to_le_bytes())
    }

    /// A guest string (a path), which preview1 requires to be UTF-8 (`EILSEQ` if not).
    pub fn read_str(&self, addr: u32, len: u32) -> WasiResult<String> {
        let bytes = self.slice(addr, len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| Errno::IlSeq)
    }

    /// An `iovec`/`ciovec` array: `(buf, buf_len)` pairs of 8 bytes each.
    pub fn read_iovecs(&self, addr: u32, count: u32) -> WasiResult<Vec<(u32, u32)>> {
        let size = count.checked_mul(8).ok_or(Errno::Fault)?;
        self.range(addr, size)?;
        (0..count)
            .map(|i| {
                let at = addr + i * 8;
                let buf = self.read_u32(at)?;
                let len = self.read_u32(at + 4)?;
                self.range(buf, len)?;
                Ok((buf, len))
            })
            .collect()
    }

    /// The bytes an array of `ciovec`s names, concatenated (what one write sends), at
    /// most [`MAX_TRANSFER`] of them: a shorter write is one POSIX allows.
    pub fn gather(&self, iovs: &[(u32, u32)]) -> WasiResult<Vec<u8>> {
        let mut out = Vec::new();
        for &(buf, len) in iovs {
            let room = MAX_TRANSFER - out.len();
            let bytes = self.slice(buf, len)?;
            out.extend_from_slice(&bytes[..bytes.len().min(room)]);
            if out.len() == MAX_TRANSFER {
                break;
            }
        }
        Ok(out)
    }

    /// Spreads `data` over an array of `iovec`s, in order (what one read fills).
    pub fn scatter(&mut self, iovs: &[(u32, u32)], mut data: &[u8]) -> WasiResult<()> {
        for &(buf, len) in iovs {
            if data.is_empty() {
                break;
            }
            let n = (len as usize).min(data.len());
            self.slice_mut(buf, n as u32)?.copy_from_slice(&data[..n]);
            data = &data[n..];
        }
        Ok(())
    }
}

/// The most one read or write moves. Iovecs may overlap, so their lengths can add up to
/// far more than the guest's memory; a host buffer of that size is not the guest's to
/// ask for. Reads and writes may be short, so the cap is invisible to a correct program.
pub const MAX_TRANSFER: usize = 16 << 20;

/// How much one read into an iovec array moves: their total length, capped.
pub fn iovecs_len(iovs: &[(u32, u32)]) -> usize {
    iovs.iter()
        .fold(0usize, |acc, &(_, len)| acc.saturating_add(len as usize))
        .min(MAX_TRANSFER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_past_the_end_or_wrapping_are_efault() {
        let mut bytes = vec![0u8; 64];
        let mut mem = GuestMemory::new(&mut bytes);
        assert_eq!(mem.read_u32(60), Ok(0));
        assert_eq!(mem.read_u32(61), Err(Errno::Fault));
        assert_eq!(mem.read_u64(u32::MAX - 3), Err(Errno::Fault));
        assert_eq!(mem.write_u32(u32::MAX, 1), Err(Errno::Fault));
        assert_eq!(mem.slice(0, u32::MAX).err(), Some(Errno::Fault));
        // An iovec array whose entries point past the end is refused as a whole.
        mem.write_u32(0, 32).unwrap();
        mem.write_u32(4, 64).unwrap();
        assert_eq!(mem.read_iovecs(0, 1), Err(Errno::Fault));
        assert_eq!(mem.read_iovecs(0, u32::MAX), Err(Errno::Fault));
    }

    #[test]
    fn overlapping_iovecs_are_capped_not_multiplied() {
        let mut bytes = vec![7u8; 1 << 20];
        let mem = GuestMemory::new(&mut bytes);
        // 64 iovecs over the same MiB: 64 MiB named, one transfer's worth gathered.
        let iovs = vec![(0u32, 1u32 << 20); 64];
        assert_eq!(iovecs_len(&iovs), MAX_TRANSFER);
        assert_eq!(mem.gather(&iovs).unwrap().len(), MAX_TRANSFER);
    }
}
