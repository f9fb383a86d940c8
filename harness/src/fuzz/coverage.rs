//! Operator coverage: which numeric, conversion and SIMD operators the fuzzed modules
//! executed, and how many of those executions had an edge operand (a value of
//! `fuzz/edges.rs`). The interpreter reports each operator it runs when the harness is
//! built with the feature `op-coverage` (`runtime::op_coverage`); without it the counts
//! stay empty and the statistics say so.
//!
//! The universe is the operator grid's list (`grid/ops.rs`): the operators the grid
//! checks on edge operands directly are the ones whose edges matter inside bodies too;
//! less the reinterpretations (plain copies in the interpreter's bytecode) and the
//! relaxed operators the interpreter runs as their deterministic counterparts (counted
//! under the counterpart's name).
//! A `v128` operand is an edge when it is one of `edges::V128`, or when every lane, in
//! the operator's lane shape, is an edge of the lane's type.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::grid::ops::{self, Ty};

/// Executions of one operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCount {
    pub executed: u64,
    /// Executions with at least one edge operand.
    pub with_edge: u64,
}

/// Counts by operator, keyed by the grid's (text format) name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub ops: BTreeMap<String, OpCount>,
}

impl Coverage {
    pub fn merge(&mut self, other: &Coverage) {
        for (name, c) in &other.ops {
            let mine = self.ops.entry(name.clone()).or_default();
            mine.executed += c.executed;
            mine.with_edge += c.with_edge;
        }
    }

    /// Operators executed at least once, and of those the ones that met an edge operand.
    pub fn distinct(&self) -> (usize, usize) {
        let executed = self.ops.values().filter(|c| c.executed > 0).count();
        let edged = self.ops.values().filter(|c| c.with_edge > 0).count();
        (executed, edged)
    }

    /// Moves this thread's counts (see [`install`]) into `self`.
    pub fn take_thread_counts(&mut self) {
        #[cfg(feature = "op-coverage")]
        recording::take_into(self);
    }
}

/// Starts recording the interpreter's operators on this thread (a no-op without the
/// `op-coverage` feature).
pub fn install() {
    #[cfg(feature = "op-coverage")]
    recording::install();
}

/// Whether this build records coverage.
pub const ENABLED: bool = cfg!(feature = "op-coverage");

/// Normalises an operator name for matching the interpreter's (`I8x16ExtractLaneS`)
/// with the text format's (`i8x16.extract_lane_s`): lower case, no dots or underscores.
fn key(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '.' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The relaxed operators the interpreter runs as themselves (normalised names).
const OWN_RELAXED: [&str; 6] = [
    "f32x4relaxedmadd",
    "f32x4relaxednmadd",
    "f64x2relaxedmadd",
    "f64x2relaxednmadd",
    "i16x8relaxeddoti8x16i7x16s",
    "i32x4relaxeddoti8x16i7x16adds",
];

/// One operator of the universe: its text name and operand types.
struct Known {
    name: String,
    #[cfg_attr(not(feature = "op-coverage"), allow(dead_code))]
    params: Vec<Ty>,
}

/// The grid's operators by normalised name (immediates dropped: one entry per operator).
fn universe() -> BTreeMap<String, Known> {
    let mut all = BTreeMap::new();
    for op in ops::all() {
        // The reinterpretations are copies of the bits in the interpreter's bytecode: it
        // never reports them, so they are not counted either way.
        // Relaxed operators with a deterministic counterpart run as that counterpart
        // (`i8x16.relaxed_swizzle` as `i8x16.swizzle`) and are counted under its name.
        if op.instr.contains("reinterpret")
            || (op.relaxed && !OWN_RELAXED.contains(&key(&op.instr).as_str()))
        {
            continue;
        }
        let name = op.instr.split(' ').next().unwrap_or_default().to_string();
        all.entry(key(&name)).or_insert(Known {
            name,
            params: op.params.clone(),
        });
    }
    all
}

/// The lane width of an operator's `v128` operands, from its name's prefix.
fn lane_shape(name: &str) -> Option<(u32, Ty)> {
    Some(match name.split('.').next()? {
        "i8x16" => (8, Ty::I32),
        "i16x8" => (16, Ty::I32),
        "i32x4" => (32, Ty::I32),
        "i64x2" => (64, Ty::I64),
        "f32x4" => (32, Ty::F32),
        "f64x2" => (64, Ty::F64),
        _ => return None,
    })
}

fn is_scalar_edge(ty: Ty, v: u128) -> bool {
    use crate::fuzz::edges;
    match ty {
        Ty::I32 => edges::I32.contains(&(v as u32)),
        Ty::I64 => edges::I64.contains(&(v as u64)),
        Ty::F32 => edges::F32.contains(&(v as u32)),
        Ty::F64 => edges::F64.contains(&(v as u64)),
        Ty::V128 => edges::V128.contains(&v),
    }
}

/// Whether an operand of type `ty` of operator `name` is an edge value.
pub fn is_edge(name: &str, ty: Ty, v: u128) -> bool {
    if ty != Ty::V128 {
        return is_scalar_edge(ty, v);
    }
    if is_scalar_edge(Ty::V128, v) {
        return true;
    }
    let Some((bits, lane_ty)) = lane_shape(name) else {
        return false;
    };
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    (0..128 / bits).all(|i| {
        let lane = (v >> (i * bits)) as u64 & mask;
        match bits {
            // Narrow integer lanes: 0, 1, -1, MIN, MAX of the lane.
            8 | 16 => {
                let min = 1u64 << (bits - 1);
                [0, 1, mask, min, min - 1].contains(&lane)
            }
            _ => is_scalar_edge(lane_ty, u128::from(lane)),
        }
    })
}

#[cfg(feature = "op-coverage")]
mod recording {
    use std::cell::RefCell;
    use std::collections::{BTreeMap, HashMap};
    use std::hash::{BuildHasherDefault, Hasher};

    use super::{Coverage, Known, Ty, is_edge, key, universe};

    /// An operator the interpreter reported, mapped to the universe, and its counts.
    struct Entry {
        name: String,
        params: Vec<Ty>,
        executed: u64,
        with_edge: u64,
    }

    /// By interpreter name (by address: names are `'static` strings of the runtime); `None`
    /// for names outside the universe. Hashed by the address itself: the sink runs for
    /// every operator the interpreter executes, and SipHash there cost more than the rest
    /// of the sink.
    #[derive(Default)]
    struct Recorder {
        by_name: HashMap<usize, Option<Entry>, BuildHasherDefault<AddressHasher>>,
    }

    /// Hashes a `usize` (an address) to itself, mixed by a multiplication.
    #[derive(Default)]
    struct AddressHasher(u64);

    impl Hasher for AddressHasher {
        fn finish(&self) -> u64 {
            self.0
        }

        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            }
        }

        fn write_usize(&mut self, n: usize) {
            self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    thread_local! {
        static RECORDER: RefCell<Recorder> = RefCell::new(Recorder::default());
        static UNIVERSE: BTreeMap<String, Known> = universe();
    }

    pub(super) fn install() {
        runtime::op_coverage::set_sink(Some(sink));
    }

    fn sink(operator: &'static str, operands: &[u128]) {
        RECORDER.with(|r| {
            let mut r = r.borrow_mut();
            let entry = r
                .by_name
                .entry(operator.as_ptr() as usize)
                .or_insert_with(|| {
                    UNIVERSE.with(|u| {
                        u.get(&key(operator)).map(|k| Entry {
                            name: k.name.clone(),
                            params: k.params.clone(),
                            executed: 0,
                            with_edge: 0,
                        })
                    })
                });
            let Some(e) = entry else {
                return;
            };
            e.executed += 1;
            if operands
                .iter()
                .zip(&e.params)
                .any(|(v, ty)| is_edge(&e.name, *ty, *v))
            {
                e.with_edge += 1;
            }
        });
    }

    pub(super) fn take_into(coverage: &mut Coverage) {
        RECORDER.with(|r| {
            for e in r.borrow_mut().by_name.values_mut().flatten() {
                if e.executed == 0 {
                    continue;
                }
                let c = coverage.ops.entry(e.name.clone()).or_default();
                c.executed += e.executed;
                c.with_edge += e.with_edge;
                e.executed = 0;
                e.with_edge = 0;
            }
        });
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !ENABLED {
            return write!(
                f,
                "not measured (build the harness with `--features op-coverage`)"
            );
        }
        let (executed, edged) = self.distinct();
        let (never, no_edge) = self.gaps();
        // Counts are kept for universe operators only, so these two make up the universe.
        let total = executed + never.len();
        write!(
            f,
            "{executed} of {total} grid operators executed in the interpreter, {edged} of them \
             on an edge operand"
        )?;
        for (what, names) in [("never executed", never), ("no edge operand", no_edge)] {
            if !names.is_empty() {
                write!(f, "\n  {what}: {}", names.join(" "))?;
            }
        }
        Ok(())
    }
}

impl Coverage {
    /// The grid operators never executed, and those executed but never on an edge
    /// operand (text names, sorted).
    pub fn gaps(&self) -> (Vec<String>, Vec<String>) {
        let mut never = Vec::new();
        let mut no_edge = Vec::new();
        for known in universe().into_values() {
            match self.ops.get(&known.name) {
                Some(c) if c.with_edge > 0 => {}
                Some(c) if c.executed > 0 => no_edge.push(known.name),
                _ => never.push(known.name),
            }
        }
        never.sort();
        no_edge.sort();
        (never, no_edge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreter_names_match_the_grid_names() {
        let u = universe();
        for name in [
            "I32Add",
            "I8x16ExtractLaneS",
            "F32x4DemoteF64x2Zero",
            "V128AnyTrue",
        ] {
            assert!(u.contains_key(&key(name)), "{name} not in the grid");
        }
        assert!(u.len() > 300, "{} grid operators", u.len());
    }

    #[test]
    fn edges_are_recognised_by_type_and_lane_shape() {
        assert!(is_edge("i32.add", Ty::I32, 0x8000_0000));
        assert!(!is_edge("i32.add", Ty::I32, 12345));
        // Every i16 lane MIN, MAX, 0, -1 or 1: an edge for an i16x8 operator.
        let lanes = 0x8000_7fff_0000_ffff_0001_8000_7fff_0000u128;
        assert!(is_edge("i16x8.add_sat_s", Ty::V128, lanes));
        assert!(!is_edge("i16x8.add_sat_s", Ty::V128, lanes ^ 0x1234));
        assert!(is_edge("f64x2.mul", Ty::V128, u128::MAX));
    }
}
