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

    /// The bytes an array of `ciovec`s names, concatenated (what one write sends).
    pub fn gather(&self, iovs: &[(u32, u32)]) -> WasiResult<Vec<u8>> {
        let mut out = Vec::new();
        for &(buf, len) in iovs {
            out.extend_from_slice(self.slice(buf, len)?);
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

/// The total length of an iovec array, capped so one call never asks the host for more
/// than a 32-bit result can report.
pub fn iovecs_len(iovs: &[(u32, u32)]) -> usize {
    iovs.iter()
        .fold(0usize, |acc, &(_, len)| acc.saturating_add(len as usize))
        .min(u32::MAX as usize)
}
