//! The cache file: a header, the encoded `ModuleArtifact`, and a SHA-256 of both.
//!
//! ```text
//! magic "RTNCODE\0" | format version u32 | key [32] | payload length u64
//! payload (below)
//! SHA-256 of everything above [32]
//! ```
//!
//! Payload, all integers little-endian: function count u32, type count u32, then the
//! blobs: the functions', then per type a presence byte (0 or 1) and the entry trampoline
//! if present, then per type the host adapter. Every adapter is there: without them all,
//! loading would need to know which types the code calls indirectly, which only
//! translating it tells (`compile::Needs`), and a missing one would be found only when a
//! host function is called at that type. Each blob is `alignment u32, length u32, code,
//! relocation count u32, relocations`, a relocation being `kind u8` (index into
//! `RELOC_KINDS`), `offset u32`, `addend i64` and a target: tag 0 + defined function
//! u32, tag 1 + libcall u32, tag 2 + Cranelift libcall u8 (index into
//! `LibCall::all_libcalls`), tag 3 + offset u32; then the trap site count u32 and the
//! trap sites in ascending order of offset, each an offset u32 and a kind u8
//! (`SiteKind` as u8; `CodeBlob::trap_sites`; `link::validate` checks they lie in the
//! code); then the stack map site count u32 and the sites in ascending order of return
//! offset, each a return offset u32, a slot count u32 and the slots, u32 each
//! (`artifact::StackMaps`: non-zero multiples of 8 below the frame pointer, checked
//! here; the return offsets are checked to lie in the code by `link::validate`).
//!
//! Decoding trusts nothing: every read is bounds-checked, every count and index is
//! checked, and an error says what was wrong (the entry is then recompiled).

use cranelift_codegen::ir;
use sha2::{Digest, Sha256};

use super::super::artifact::{
    CodeBlob, CodeReloc, ModuleArtifact, RELOC_KINDS, RelocTarget, SiteKind, StackMaps, TrapSite,
};
use super::super::libcalls::Libcall;
use super::CacheKey;

const MAGIC: [u8; 8] = *b"RTNCODE\0";
/// Changes whenever the layout of a file or the meaning of its content changes (3: the
/// Wasm ABI returns a status first, and `record_backtrace` takes the trap code; 4: trap
/// sites have a kind, and code with signal traps checks the stack in its prologue;
/// 5: stack maps, and host adapters pass their frame pointer to `host_call`; 6: code
/// reads a guarded memory 0's base and `call_indirect`'s cache from the VM context;
/// 7: the runtime's fuel pointer moved, its cache fields gone).
pub(crate) const FORMAT_VERSION: u32 = 7;
const HEADER_LEN: usize = MAGIC.len() + 4 + 32 + 8;
const CHECKSUM_LEN: usize = 32;

const TARGET_FUNC: u8 = 0;
const TARGET_LIBCALL: u8 = 1;
const TARGET_CRANELIFT_LIBCALL: u8 = 2;
const TARGET_SELF_OFFSET: u8 = 3;

/// The file content for `artifact` under `key`, or why it cannot be stored (a
/// relocation of a kind the cache does not know).
pub(crate) fn encode(key: &CacheKey, artifact: &ModuleArtifact) -> Result<Vec<u8>, String> {
    let mut payload = Vec::new();
    put_u32(&mut payload, count(artifact.funcs.len())?);
    put_u32(&mut payload, count(artifact.trampolines.len())?);
    if artifact.adapters.len() != artifact.trampolines.len() {
        return Err("as many adapters as trampolines expected".into());
    }
    for blob in &artifact.funcs {
        encode_blob(&mut payload, blob)?;
    }
    for trampoline in &artifact.trampolines {
        payload.push(u8::from(trampoline.is_some()));
        if let Some(blob) = trampoline {
            encode_blob(&mut payload, blob)?;
        }
    }
    for adapter in &artifact.adapters {
        let blob = adapter
            .as_ref()
            .ok_or("an adapter is missing (entries have every adapter)")?;
        encode_blob(&mut payload, blob)?;
    }
    let mut file = Vec::with_capacity(HEADER_LEN + payload.len() + CHECKSUM_LEN);
    file.extend_from_slice(&MAGIC);
    put_u32(&mut file, FORMAT_VERSION);
    file.extend_from_slice(&key.0);
    file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    file.extend_from_slice(&payload);
    let checksum = Sha256::digest(&file);
    file.extend_from_slice(&checksum);
    Ok(file)
}

fn count(n: usize) -> Result<u32, String> {
    u32::try_from(n).map_err(|_| format!("{n} items do not fit a cache file"))
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn encode_blob(out: &mut Vec<u8>, blob: &CodeBlob) -> Result<(), String> {
    put_u32(out, count(blob.alignment as usize)?);
    put_u32(out, count(blob.bytes.len())?);
    out.extend_from_slice(&blob.bytes);
    put_u32(out, count(blob.relocs.len())?);
    for r in &blob.relocs {
        let kind = RELOC_KINDS
            .iter()
            .position(|(k, _)| *k == r.kind)
            .ok_or_else(|| format!("relocation kind {:?} is not cached", r.kind))?;
        out.push(kind as u8);
        put_u32(out, r.offset);
        out.extend_from_slice(&r.addend.to_le_bytes());
        match r.target {
            RelocTarget::Func(f) => {
                out.push(TARGET_FUNC);
                put_u32(out, f);
            }
            RelocTarget::Libcall(l) => {
                out.push(TARGET_LIBCALL);
                put_u32(out, l.index());
            }
            RelocTarget::CraneliftLibcall(l) => {
                let index = ir::LibCall::all_libcalls()
                    .iter()
                    .position(|c| *c == l)
                    .and_then(|i| u8::try_from(i).ok())
                    .ok_or_else(|| format!("Cranelift libcall {l} is not cached"))?;
                out.push(TARGET_CRANELIFT_LIBCALL);
                out.push(index);
            }
            RelocTarget::SelfOffset(o) => {
                out.push(TARGET_SELF_OFFSET);
                put_u32(out, o);
            }
        }
    }
    put_u32(out, count(blob.trap_sites.len())?);
    for site in &blob.trap_sites {
        put_u32(out, site.offset);
        out.push(site.kind as u8);
    }
    put_u32(out, count(blob.stack_maps.sites().len())?);
    for (return_offset, slots) in blob.stack_maps.sites() {
        put_u32(out, return_offset);
        put_u32(out, count(slots.len())?);
        slots.iter().for_each(|&slot| put_u32(out, slot));
    }
    Ok(())
}

/// The artifact in `file` if it is an intact entry of this format under `key`; else
/// what is wrong with it. The artifact's consistency with the module is `link`'s to
/// check (`link::validate`).
pub(crate) fn decode(file: &[u8], key: &CacheKey) -> Result<ModuleArtifact, String> {
    if file.len() < HEADER_LEN + CHECKSUM_LEN {
        return Err(format!("truncated: {} bytes", file.len()));
    }
    let mut header = Reader::new(&file[..HEADER_LEN]);
    if header.take(MAGIC.len())? != MAGIC {
        return Err("not a code cache file (magic)".into());
    }
    let version = header.u32()?;
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version}, this engine writes {FORMAT_VERSION}"
        ));
    }
    if header.take(32)? != key.0 {
        return Err("the entry is for another module, engine or settings (key)".into());
    }
    let payload_len = header.u64()?;
    let actual = (file.len() - HEADER_LEN - CHECKSUM_LEN) as u64;
    if payload_len != actual {
        return Err(format!(
            "payload of {actual} bytes, the header says {payload_len} (truncated or extended)"
        ));
    }
    let (content, checksum) = file.split_at(file.len() - CHECKSUM_LEN);
    if Sha256::digest(content).as_slice() != checksum {
        return Err("checksum mismatch".into());
    }
    let mut payload = Reader::new(&content[HEADER_LEN..]);
    let funcs = payload.u32()?;
    let types = payload.u32()?;
    let funcs = (0..funcs)
        .map(|_| decode_blob(&mut payload))
        .collect::<Result<_, _>>()?;
    let trampolines = (0..types)
        .map(|_| match payload.u8()? {
            0 => Ok(None),
            1 => decode_blob(&mut payload).map(Some),
            other => Err(format!("trampoline presence byte {other}")),
        })
        .collect::<Result<_, _>>()?;
    let adapters = (0..types)
        .map(|_| decode_blob(&mut payload).map(Some))
        .collect::<Result<_, _>>()?;
    let artifact = ModuleArtifact {
        funcs,
        trampolines,
        adapters,
    };
    if payload.pos != payload.bytes.len() {
        return Err("bytes after the payload".into());
    }
    Ok(artifact)
}

fn decode_blob(r: &mut Reader<'_>) -> Result<CodeBlob, String> {
    let alignment = u64::from(r.u32()?);
    let len = r.u32()? as usize;
    let bytes = r.take(len)?.to_vec();
    let count = r.u32()?;
    let mut relocs = Vec::new();
    for _ in 0..count {
        let kind = RELOC_KINDS
            .get(usize::from(r.u8()?))
            .ok_or("unknown relocation kind")?
            .0;
        let offset = r.u32()?;
        let addend = r.u64()? as i64;
        let target = match r.u8()? {
            TARGET_FUNC => RelocTarget::Func(r.u32()?),
            TARGET_LIBCALL => {
                let index = r.u32()? as usize;
                RelocTarget::Libcall(*Libcall::ALL.get(index).ok_or("unknown libcall")?)
            }
            TARGET_CRANELIFT_LIBCALL => {
                let index = usize::from(r.u8()?);
                let all = ir::LibCall::all_libcalls();
                RelocTarget::CraneliftLibcall(*all.get(index).ok_or("unknown Cranelift libcall")?)
            }
            TARGET_SELF_OFFSET => RelocTarget::SelfOffset(r.u32()?),
            tag => return Err(format!("unknown relocation target tag {tag}")),
        };
        relocs.push(CodeReloc {
            offset,
            kind,
            target,
            addend,
        });
    }
    let sites = r.u32()?;
    // Each takes 5 bytes: a count the file cannot hold is refused before allocating.
    if sites as usize > r.left() / 5 {
        return Err(format!("{sites} trap sites past the end of the file"));
    }
    let trap_sites = (0..sites)
        .map(|_| {
            let offset = r.u32()?;
            let kind = r.u8()?;
            let kind = SiteKind::from_number(u64::from(kind))
                .ok_or_else(|| format!("trap site kind {kind}"))?;
            Ok(TrapSite { offset, kind })
        })
        .collect::<Result<_, String>>()?;
    Ok(CodeBlob {
        bytes,
        alignment,
        relocs,
        trap_sites,
        stack_maps: decode_stack_maps(r)?,
    })
}

/// A blob's stack maps; counts the file cannot hold are refused before allocating.
fn decode_stack_maps(r: &mut Reader<'_>) -> Result<StackMaps, String> {
    let count = r.u32()? as usize;
    // A site takes at least 8 bytes, a slot 4.
    if count > r.left() / 8 {
        return Err(format!("{count} stack maps past the end of the file"));
    }
    let mut sites = Vec::with_capacity(count);
    for _ in 0..count {
        let return_offset = r.u32()?;
        let slots = r.u32()? as usize;
        if slots > r.left() / 4 {
            return Err(format!("{slots} stack map slots past the end of the file"));
        }
        let slots = (0..slots).map(|_| r.u32()).collect::<Result<Vec<_>, _>>()?;
        sites.push((return_offset, slots));
    }
    StackMaps::new(sites)
}

/// Bounds-checked little-endian reads.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    /// How many bytes are left to read.
    fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let rest = &self.bytes[self.pos..];
        if n > rest.len() {
            return Err("the payload ends early".into());
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::binemit::Reloc;

    fn sample() -> ModuleArtifact {
        let blob = |n: u8, relocs| CodeBlob {
            bytes: vec![n; 16],
            alignment: 16,
            relocs,
            trap_sites: match n {
                2 => vec![
                    TrapSite {
                        offset: 3,
                        kind: SiteKind::MemoryOutOfBounds,
                    },
                    TrapSite {
                        offset: 9,
                        kind: SiteKind::StackOverflow,
                    },
                ],
                _ => Vec::new(),
            },
            stack_maps: match n {
                4 => StackMaps::new([(6, vec![8, 24]), (11, vec![]), (14, vec![16])]).unwrap(),
                _ => StackMaps::default(),
            },
        };
        ModuleArtifact {
            funcs: vec![
                blob(
                    1,
                    vec![
                        CodeReloc {
                            offset: 2,
                            kind: Reloc::X86CallPCRel4,
                            target: RelocTarget::Func(1),
                            addend: -4,
                        },
                        CodeReloc {
                            offset: 8,
                            kind: Reloc::Abs8,
                            target: RelocTarget::Libcall(Libcall::MemoryGrow),
                            addend: 0,
                        },
                    ],
                ),
                blob(
                    2,
                    vec![CodeReloc {
                        offset: 0,
                        kind: Reloc::Abs8,
                        target: RelocTarget::CraneliftLibcall(ir::LibCall::CeilF32),
                        addend: 0,
                    }],
                ),
            ],
            trampolines: vec![Some(blob(3, Vec::new())), None],
            adapters: vec![
                Some(blob(5, Vec::new())),
                Some(blob(
                    4,
                    vec![CodeReloc {
                        offset: 4,
                        kind: Reloc::X86PCRel4,
                        target: RelocTarget::SelfOffset(12),
                        addend: -4,
                    }],
                )),
            ],
        }
    }

    #[test]
    fn round_trip() {
        let key = CacheKey([7; 32]);
        let file = encode(&key, &sample()).unwrap();
        assert_eq!(decode(&file, &key).unwrap(), sample());
        assert!(decode(&file, &CacheKey([8; 32])).is_err());
    }

    /// Every truncation and every single flipped bit is detected, never a panic.
    #[test]
    fn every_truncation_and_flip_is_refused() {
        let key = CacheKey([7; 32]);
        let file = encode(&key, &sample()).unwrap();
        for len in 0..file.len() {
            assert!(decode(&file[..len], &key).is_err(), "truncated to {len}");
        }
        for i in 0..file.len() {
            for bit in 0..8 {
                let mut bad = file.clone();
                bad[i] ^= 1 << bit;
                assert!(decode(&bad, &key).is_err(), "bit {bit} of byte {i}");
            }
        }
    }

    /// A well-formed file (valid checksum) with nonsense in it is refused by the payload
    /// checks, not trusted.
    #[test]
    fn inconsistent_payload_with_a_valid_checksum_is_refused() {
        let key = CacheKey([7; 32]);
        let mut file = encode(&key, &sample()).unwrap();
        // The first relocation's kind byte: after the two counts, the first blob's
        // alignment, length and code, and its relocation count.
        let kind_at = HEADER_LEN + 8 + 8 + 16 + 4;
        file[kind_at] = RELOC_KINDS.len() as u8;
        let len = file.len();
        let checksum = Sha256::digest(&file[..len - CHECKSUM_LEN]);
        file[len - CHECKSUM_LEN..].copy_from_slice(&checksum);
        assert_eq!(
            decode(&file, &key).unwrap_err(),
            "unknown relocation kind".to_string()
        );
    }

    /// A trap site of a kind this engine does not know (a valid checksum) is refused:
    /// the handler would not know what its fault means.
    #[test]
    fn unknown_trap_site_kind_is_refused() {
        let key = CacheKey([7; 32]);
        let mut file = encode(&key, &sample()).unwrap();
        // The first blob: alignment, length, 16 bytes of code, relocation count, two
        // relocations of 18 bytes, no trap site, no stack map. The second up to its first site's
        // kind: alignment, length, code, relocation count, one relocation of 15 bytes,
        // the site count and the site's offset.
        let kind_at =
            HEADER_LEN + 8 + (4 + 4 + 16 + 4 + 2 * 18 + 4 + 4) + (4 + 4 + 16 + 4 + 15 + 4 + 4);
        assert_eq!(file[kind_at], SiteKind::MemoryOutOfBounds as u8);
        for kind in [0, 10, 255] {
            file[kind_at] = kind;
            let len = file.len();
            let checksum = Sha256::digest(&file[..len - CHECKSUM_LEN]);
            file[len - CHECKSUM_LEN..].copy_from_slice(&checksum);
            assert_eq!(
                decode(&file, &key).unwrap_err(),
                format!("trap site kind {kind}")
            );
        }
    }

    /// Stack maps that a walker could misread (a valid checksum) are refused: a slot
    /// not a multiple of 8 (or 0), sites out of order, counts past the end.
    #[test]
    fn inconsistent_stack_maps_are_refused() {
        let key = CacheKey([7; 32]);
        let file = encode(&key, &sample()).unwrap();
        // The last adapter's stack maps end the payload: count, then (6: two slots),
        // (11: none), (14: one slot).
        let maps_at = file.len() - CHECKSUM_LEN - (4 + 16 + 8 + 12);
        let word =
            |file: &[u8], at: usize| u32::from_le_bytes(file[at..at + 4].try_into().unwrap());
        assert_eq!(word(&file, maps_at), 3);
        assert_eq!(word(&file, maps_at + 4 + 16 + 8 + 8), 16);
        let patched = |at: usize, value: u32| {
            let mut bad = file.clone();
            bad[at..at + 4].copy_from_slice(&value.to_le_bytes());
            let len = bad.len();
            let checksum = Sha256::digest(&bad[..len - CHECKSUM_LEN]);
            bad[len - CHECKSUM_LEN..].copy_from_slice(&checksum);
            decode(&bad, &key).unwrap_err()
        };
        let last_slot = maps_at + 4 + 16 + 8 + 8;
        assert_eq!(patched(last_slot, 12), "stack map slot 12 at 14");
        assert_eq!(patched(last_slot, 0), "stack map slot 0 at 14");
        assert_eq!(patched(maps_at + 4 + 16, 6), "stack map at 6 out of order");
        assert_eq!(
            patched(maps_at, u32::MAX),
            format!("{} stack maps past the end of the file", u32::MAX)
        );
        assert_eq!(
            patched(maps_at + 8, 1 << 20),
            format!("{} stack map slots past the end of the file", 1 << 20)
        );
    }
}
