//! Mutations of a module's bytes: bit and byte changes, insertions, deletions and
//! copies, LEB128 values and section headers patched, sections swapped and duplicated.

use proptest::prelude::*;
use proptest::strategy::Strategy as PropStrategy;

#[derive(Debug, Clone)]
pub(super) enum Mutation {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize, usize),
    Truncate(usize),
    /// Replace the LEB128 starting at a position with the encoding of a value.
    PatchLeb(usize, u64, bool),
    /// Patch the size (or, with `true`, the first LEB of the payload, usually a count)
    /// of the n-th section.
    PatchSection(usize, u64, bool),
    /// Swap two sections (breaks the order rules).
    SwapSections(usize, usize),
    /// Duplicate a whole section.
    DupSection(usize),
    /// Set a byte inside a section's payload, past its first LEB (often a count): keeps
    /// the framing intact, so the change reaches the section's own decoder (or, in a
    /// data segment or a constant, survives validation).
    PayloadByte(usize, usize, u8),
}

fn interesting_u64() -> impl PropStrategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(0x7f),
        Just(0x80),
        Just(0x3fff),
        Just(0x4000),
        Just(0xffff),
        Just(0x1_0000),
        Just(0x7fff_ffff),
        Just(0x8000_0000),
        Just(0xffff_ffff),
        Just(0x1_0000_0000),
        Just(u64::MAX),
        0u64..300,
        any::<u64>(),
    ]
}

pub(super) fn mutation() -> impl PropStrategy<Value = Mutation> {
    let pos = any::<usize>();
    prop_oneof![
        (pos, 0u8..8).prop_map(|(p, b)| Mutation::FlipBit(p, b)),
        (pos, any::<u8>()).prop_map(|(p, b)| Mutation::SetByte(p, b)),
        (pos, prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(p, v)| Mutation::Insert(p, v)),
        (pos, 1usize..16).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (pos, 1usize..32, pos).prop_map(|(a, n, b)| Mutation::Duplicate(a, n, b)),
        pos.prop_map(Mutation::Truncate),
        (pos, interesting_u64(), any::<bool>()).prop_map(|(p, v, o)| Mutation::PatchLeb(p, v, o)),
        (any::<usize>(), interesting_u64(), any::<bool>())
            .prop_map(|(s, v, c)| Mutation::PatchSection(s, v, c)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapSections(a, b)),
        any::<usize>().prop_map(Mutation::DupSection),
        (any::<usize>(), any::<usize>(), any::<u8>())
            .prop_map(|(s, o, v)| Mutation::PayloadByte(s, o, v)),
    ]
}

/// Reads an unsigned LEB128 at `pos`: (value, length), tolerating garbage.
fn read_leb(bytes: &[u8], pos: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for i in 0..10 {
        let b = *bytes.get(pos + i)?;
        value |= ((b & 0x7f) as u64).checked_shl(7 * i as u32).unwrap_or(0);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// LEB128 of `v`; `overlong` pads to 5 bytes (or more) with continuation bytes.
pub(super) fn leb(mut v: u64, overlong: bool) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    if overlong {
        while out.len() < 5 {
            *out.last_mut().unwrap() |= 0x80;
            out.push(0);
        }
    }
    out
}

/// Top-level sections: (start of the id byte, start of the size LEB, payload range).
fn sections(bytes: &[u8]) -> Vec<(usize, usize, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < bytes.len() {
        let Some((size, n)) = read_leb(bytes, pos + 1) else {
            break;
        };
        let start = pos + 1 + n;
        let end = start.saturating_add(size as usize);
        if end > bytes.len() {
            break;
        }
        out.push((pos, pos + 1, start..end));
        pos = end;
    }
    out
}

fn replace_leb(bytes: &mut Vec<u8>, pos: usize, v: u64, overlong: bool) {
    let len = read_leb(bytes, pos).map(|(_, n)| n).unwrap_or(1);
    let end = (pos + len).min(bytes.len());
    bytes.splice(pos..end, leb(v, overlong));
}

pub(super) fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len();
    let at = |p: usize| if len == 0 { 0 } else { p % len };
    match m {
        Mutation::FlipBit(p, b) => {
            if len > 0 {
                bytes[at(*p)] ^= 1 << b;
            }
        }
        Mutation::SetByte(p, v) => {
            if len > 0 {
                bytes[at(*p)] = *v;
            }
        }
        Mutation::Insert(p, v) => {
            let p = if len == 0 { 0 } else { p % (len + 1) };
            bytes.splice(p..p, v.iter().copied());
        }
        Mutation::Delete(p, n) => {
            if len > 0 {
                let p = at(*p);
                bytes.drain(p..(p + n).min(len));
            }
        }
        Mutation::Duplicate(a, n, b) => {
            if len > 0 {
                let a = at(*a);
                let chunk = bytes[a..(a + n).min(len)].to_vec();
                let b = b % (len + 1);
                bytes.splice(b..b, chunk);
            }
        }
        Mutation::Truncate(p) => bytes.truncate(if len == 0 { 0 } else { p % len }),
        Mutation::PatchLeb(p, v, o) => {
            if len > 0 {
                replace_leb(bytes, at(*p), *v, *o);
            }
        }
        Mutation::PatchSection(s, v, count) => {
            let secs = sections(bytes);
            if secs.is_empty() {
                return;
            }
            let (_, size_at, payload) = secs[s % secs.len()].clone();
            if *count {
                if !payload.is_empty() {
                    replace_leb(bytes, payload.start, *v, false);
                }
            } else {
                replace_leb(bytes, size_at, *v, false);
            }
        }
        Mutation::SwapSections(a, b) => {
            let secs = sections(bytes);
            if secs.len() < 2 {
                return;
            }
            let (a, b) = (a % secs.len(), b % secs.len());
            let (a, b) = (a.min(b), a.max(b));
            if a == b {
                return;
            }
            let whole = |i: usize| secs[i].0..secs[i].2.end;
            let (ra, rb) = (whole(a), whole(b));
            let sa = bytes[ra.clone()].to_vec();
            let sb = bytes[rb.clone()].to_vec();
            let mut out = bytes[..ra.start].to_vec();
            out.extend_from_slice(&sb);
            out.extend_from_slice(&bytes[ra.end..rb.start]);
            out.extend_from_slice(&sa);
            out.extend_from_slice(&bytes[rb.end..]);
            *bytes = out;
        }
        Mutation::PayloadByte(s, o, v) => {
            let secs = sections(bytes);
            if secs.is_empty() {
                return;
            }
            let (_, _, payload) = secs[s % secs.len()].clone();
            let skip = read_leb(bytes, payload.start).map_or(0, |(_, n)| n);
            let from = payload.start + skip;
            if from < payload.end {
                bytes[from + o % (payload.end - from)] = *v;
            }
        }
        Mutation::DupSection(s) => {
            let secs = sections(bytes);
            if secs.is_empty() {
                return;
            }
            let (id_at, _, payload) = secs[s % secs.len()].clone();
            let sec = bytes[id_at..payload.end].to_vec();
            bytes.splice(payload.end..payload.end, sec);
        }
    }
}
