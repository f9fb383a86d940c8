//! A host that fights back: what a host function does besides answering, drawn by the
//! plan and applied the same way on every engine.
//!
//! A host function may call an export of the instance that called it (re-entrancy, at
//! most [`MAX_NESTING`] host-to-Wasm calls deep), grow or write one of its memories,
//! set one of its mutable globals, set or grow one of its tables. The plan says what
//! (`HostEffect`), this file says how (`perform`), and each subject only supplies the
//! operations through [`HostEnv`]: the runtime's `Caller` (`host.rs`), wasmi's
//! (`reference.rs`), any other reference the same way. Every effect leaves an
//! [`Effected`] record in the host call's entry of the observation, so a divergence
//! inside a nested call or a host write is reported at the host call that made it.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use arbitrary::{Result, Unstructured};
use runtime::{RefFamily, RefType, ValType};

use crate::fuzz::generate::FUEL_EXPORT;
use crate::fuzz::input::draw_val;
use crate::fuzz::observe::{FuncId, Outcome, Val, show_vals};
use crate::fuzz::shape::Shape;

/// Most host-to-Wasm calls on the stack at once: an export called back by a host
/// function whose own caller was called back by a host function is as deep as it goes.
pub const MAX_NESTING: u32 = 2;

/// Most calls back one run makes (all host functions together); later ones are refused
/// like those past [`MAX_NESTING`]. Calls back multiply: each may reach host functions
/// that call back again, and without a bound they tripled the fuzzer's CPU per module.
pub const MAX_CALLS_BACK: u32 = 24;

/// The calls back of one run: how many are under way, and how many were made.
#[derive(Debug, Default)]
pub struct CallsBack {
    depth: AtomicU32,
    made: AtomicU32,
}

impl CallsBack {
    /// A run whose host functions are already `depth` calls back deep (tests).
    pub fn at_depth(depth: u32) -> CallsBack {
        CallsBack {
            depth: AtomicU32::new(depth),
            made: AtomicU32::new(0),
        }
    }
}

/// Memories grow by small deltas only while they stay within this many pages, so the
/// per-step snapshots stay small (generated memories are at most 4 pages anyway).
pub const SOFT_MAX_PAGES: u64 = 4;

/// Tables grow by small deltas only while they stay within this many elements.
pub const SOFT_MAX_ELEMENTS: u64 = 96;

/// How much a memory or table grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grow {
    /// By this many pages (elements): becomes 0 past the soft limit.
    By(u64),
    /// Just past the maximum (the declared one, or the index type's), which must fail.
    PastMax,
}

/// One thing a host function does to its calling instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostEffect {
    /// Calls the instance's export back with these arguments.
    CallExport {
        export: String,
        args: Vec<Val>,
    },
    GrowMemory {
        memory: String,
        grow: Grow,
    },
    /// Writes `bytes` at `at` modulo (size + 16): now and then partly past the end,
    /// which must fail and write nothing.
    WriteMemory {
        memory: String,
        at: u32,
        bytes: Vec<u8>,
    },
    SetGlobal {
        global: String,
        value: Val,
    },
    /// Sets element `at` modulo (size + 2): now and then past the end, which must fail.
    SetTable {
        table: String,
        at: u32,
        value: Val,
    },
    GrowTable {
        table: String,
        grow: Grow,
        init: Val,
    },
}

/// An effect and when it applies: on calls whose argument hash is divisible by `every`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectPlan {
    pub every: u32,
    pub effect: HostEffect,
}

/// What one effect did, as every engine must report it alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effected {
    /// A call back into the instance and how it ended (a trap inside is swallowed by the
    /// host, an exit or stack exhaustion ends the host call with it).
    Called {
        export: String,
        args: Vec<Val>,
        outcome: Outcome,
    },
    /// A call back refused: already [`MAX_NESTING`] host-to-Wasm calls deep.
    TooDeep { export: String },
    /// `result` is the old size in pages, `None` when growth failed.
    MemoryGrown {
        memory: String,
        delta: u64,
        result: Option<u64>,
    },
    MemoryWritten {
        memory: String,
        offset: u64,
        len: usize,
        ok: bool,
    },
    GlobalSet {
        global: String,
        value: Val,
        ok: bool,
    },
    TableSet {
        table: String,
        index: u64,
        value: Val,
        ok: bool,
    },
    TableGrown {
        table: String,
        delta: u64,
        result: Option<u64>,
    },
    /// The export the plan names is missing (or of another kind) in the caller.
    Missing { export: String },
}

impl fmt::Display for Effected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grown =
            |r: &Option<u64>| r.map_or_else(|| "failed".to_string(), |o| format!("was {o}"));
        let ok = |b: &bool| if *b { "ok" } else { "failed" };
        match self {
            Effected::Called {
                export,
                args,
                outcome,
            } => write!(f, "call {export}{} -> {outcome}", show_vals(args)),
            Effected::TooDeep { export } => write!(f, "call {export} refused (too deep)"),
            Effected::MemoryGrown {
                memory,
                delta,
                result,
            } => write!(f, "memory {memory} grow {delta}: {}", grown(result)),
            Effected::MemoryWritten {
                memory,
                offset,
                len,
                ok: b,
            } => write!(
                f,
                "memory {memory} write {len} bytes at {offset:#x}: {}",
                ok(b)
            ),
            Effected::GlobalSet {
                global,
                value,
                ok: b,
            } => write!(f, "global {global} = {value}: {}", ok(b)),
            Effected::TableSet {
                table,
                index,
                value,
                ok: b,
            } => write!(f, "table {table}[{index}] = {value}: {}", ok(b)),
            Effected::TableGrown {
                table,
                delta,
                result,
            } => write!(f, "table {table} grow {delta}: {}", grown(result)),
            Effected::Missing { export } => write!(f, "{export} missing"),
        }
    }
}

/// Current size and declared maximum of a memory (pages) or table (elements), and
/// whether it is indexed by i64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub size: u64,
    pub max: Option<u64>,
    pub is_64: bool,
}

/// The operations a subject provides to a host function for the calling instance's
/// exports. Values are plan values: a `FuncRef` to `FuncId::Defined(i)` is the
/// function the instance exports (`Shape::func_exports`), one to `FuncId::Host(id)`
/// the host function of that import. `None`/`false` for an export that is missing or
/// of another kind.
pub trait HostEnv {
    /// Whether a Wasm instance made this call (a host function the embedder calls
    /// directly, through a re-exported import, has no instance to act on).
    fn has_instance(&mut self) -> bool;
    /// Calls the export; results (and an exception's payload) as plan values.
    fn call_export(&mut self, export: &str, args: &[Val]) -> Option<Outcome>;
    fn memory_limits(&mut self, memory: &str) -> Option<Limits>;
    /// The old size, or `Some(None)` when growth failed.
    fn memory_grow(&mut self, memory: &str, delta: u64) -> Option<Option<u64>>;
    fn memory_write(&mut self, memory: &str, offset: u64, bytes: &[u8]) -> Option<bool>;
    fn global_set(&mut self, global: &str, value: &Val) -> Option<bool>;
    fn table_limits(&mut self, table: &str) -> Option<Limits>;
    fn table_set(&mut self, table: &str, index: u64, value: &Val) -> Option<bool>;
    fn table_grow(&mut self, table: &str, delta: u64, init: &Val) -> Option<Option<u64>>;
}

/// How a host call must end because of a nested call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The instance exited inside the nested call: the host call exits with the code.
    Exit(u32),
    /// The nested call exhausted the stack: the host call fails with that trap, so the
    /// oracle sees exhaustion at the export call and stops comparing there.
    Exhausted,
}

/// Applies the effects of one host call whose arguments hashed to `arg_hash`.
/// `calls_back` counts the calls back into Wasm under way in this store (none when the
/// embedder's export call reached this host function directly) and made so far; shared
/// by all host functions of a run. Stops early when a nested call exits or exhausts the stack.
pub fn perform(
    env: &mut dyn HostEnv,
    effects: &[EffectPlan],
    arg_hash: u64,
    calls_back: &CallsBack,
) -> (Vec<Effected>, Option<Stop>) {
    let mut done = Vec::new();
    if effects.is_empty() || !env.has_instance() {
        return (done, None);
    }
    for plan in effects {
        if !arg_hash.is_multiple_of(u64::from(plan.every.max(1))) {
            continue;
        }
        let missing = |name: &str| Effected::Missing {
            export: name.to_string(),
        };
        let record = match &plan.effect {
            HostEffect::CallExport { export, args } => {
                if calls_back.depth.load(Ordering::Relaxed) >= MAX_NESTING
                    || calls_back.made.load(Ordering::Relaxed) >= MAX_CALLS_BACK
                {
                    done.push(Effected::TooDeep {
                        export: export.clone(),
                    });
                    continue;
                }
                calls_back.made.fetch_add(1, Ordering::Relaxed);
                calls_back.depth.fetch_add(1, Ordering::Relaxed);
                let called = env.call_export(export, args);
                calls_back.depth.fetch_sub(1, Ordering::Relaxed);
                let Some(outcome) = called else {
                    done.push(missing(export));
                    continue;
                };
                let stop = match outcome {
                    Outcome::Exit(code) => Some(Stop::Exit(code)),
                    ref o if o.is_exhaustion() => Some(Stop::Exhausted),
                    _ => None,
                };
                done.push(Effected::Called {
                    export: export.clone(),
                    args: args.clone(),
                    outcome,
                });
                if stop.is_some() {
                    return (done, stop);
                }
                continue;
            }
            HostEffect::GrowMemory { memory, grow } => {
                match env.memory_limits(memory).and_then(|l| {
                    let delta = grow_delta(*grow, l, SOFT_MAX_PAGES, max_pages(l.is_64));
                    Some((delta, env.memory_grow(memory, delta)?))
                }) {
                    Some((delta, result)) => Effected::MemoryGrown {
                        memory: memory.clone(),
                        delta,
                        result,
                    },
                    None => missing(memory),
                }
            }
            HostEffect::WriteMemory { memory, at, bytes } => {
                match env.memory_limits(memory).and_then(|l| {
                    let offset = u64::from(*at) % (l.size * 65536 + 16);
                    Some((offset, env.memory_write(memory, offset, bytes)?))
                }) {
                    Some((offset, ok)) => Effected::MemoryWritten {
                        memory: memory.clone(),
                        offset,
                        len: bytes.len(),
                        ok,
                    },
                    None => missing(memory),
                }
            }
            HostEffect::SetGlobal { global, value } => match env.global_set(global, value) {
                Some(ok) => Effected::GlobalSet {
                    global: global.clone(),
                    value: value.clone(),
                    ok,
                },
                None => missing(global),
            },
            HostEffect::SetTable { table, at, value } => {
                match env.table_limits(table).and_then(|l| {
                    let index = u64::from(*at) % (l.size + 2);
                    Some((index, env.table_set(table, index, value)?))
                }) {
                    Some((index, ok)) => Effected::TableSet {
                        table: table.clone(),
                        index,
                        value: value.clone(),
                        ok,
                    },
                    None => missing(table),
                }
            }
            HostEffect::GrowTable { table, grow, init } => {
                match env.table_limits(table).and_then(|l| {
                    let limit = if l.is_64 {
                        u64::MAX
                    } else {
                        u64::from(u32::MAX)
                    };
                    let delta = grow_delta(*grow, l, SOFT_MAX_ELEMENTS, limit);
                    Some((delta, env.table_grow(table, delta, init)?))
                }) {
                    Some((delta, result)) => Effected::TableGrown {
                        table: table.clone(),
                        delta,
                        result,
                    },
                    None => missing(table),
                }
            }
        };
        done.push(record);
    }
    (done, None)
}

/// The spec's page limit of a memory: 2^16 pages of 32-bit addresses, 2^48 of 64-bit.
fn max_pages(is_64: bool) -> u64 {
    if is_64 { 1 << 48 } else { 1 << 16 }
}

/// The delta a growth plan means for a memory or table of limits `l`: a small one
/// while the result stays within `soft`, else 0; or one past the maximum (declared,
/// else the index type's `limit`), which fails by the spec on every engine without
/// reserving anything.
fn grow_delta(grow: Grow, l: Limits, soft: u64, limit: u64) -> u64 {
    match grow {
        Grow::By(d) if l.size.saturating_add(d) <= soft => d,
        Grow::By(_) => 0,
        Grow::PastMax => l
            .max
            .unwrap_or(limit)
            .saturating_sub(l.size)
            .saturating_add(1),
    }
}

/// The callable exports of a module for a host function to call back: functions the
/// module defines (a re-exported import would call the host directly, with no
/// instance to act on), not the fuel global's.
fn callable(shape: &Shape) -> Vec<(&str, &runtime::FuncType)> {
    shape
        .func_exports
        .iter()
        .filter(|(name, idx, _)| *idx >= shape.num_imported_funcs && name != FUEL_EXPORT)
        .map(|(name, _, ty)| (name.as_str(), ty))
        .collect()
}

/// A value to store in a table or a global of reference type `ty`: null, a host
/// function, a function the module exports, or an extern reference. Only what the
/// type admits: a non-nullable or typed reference gets what fits or nothing.
fn draw_ref(
    u: &mut Unstructured,
    ty: RefType,
    shape: &Shape,
    host_funcs: &[FuncId],
) -> Result<Option<Val>> {
    let abstract_func = ty.heap == runtime::HeapType::Func;
    match ty.family() {
        RefFamily::Func if abstract_func => {
            let defined: Vec<u32> = shape
                .func_exports
                .iter()
                .filter(|(_, idx, _)| *idx >= shape.num_imported_funcs)
                .map(|(_, idx, _)| *idx)
                .collect();
            let v = match u.int_in_range(0..=2)? {
                0 if !defined.is_empty() => {
                    Val::FuncRef(Some(FuncId::Defined(*u.choose(&defined)?)))
                }
                1 if !host_funcs.is_empty() => Val::FuncRef(Some(u.choose(host_funcs)?.clone())),
                _ if ty.nullable => Val::FuncRef(None),
                _ => return Ok(None),
            };
            Ok(Some(v))
        }
        RefFamily::Extern if ty.heap == runtime::HeapType::Extern => {
            let v = draw_val(u, ValType::Ref(ty), host_funcs)?;
            Ok((ty.nullable || v != Val::ExternRef(None)).then_some(v))
        }
        // The host makes no GC objects: an i31 where the type holds one.
        RefFamily::Any => {
            let v = crate::fuzz::input::any_of(ty, u.arbitrary()?);
            Ok((ty.nullable || v != Val::AnyRef(None)).then_some(v))
        }
        // Typed function references and bottom types: only null, where it fits.
        _ if ty.nullable => Ok(Some(match ty.family() {
            RefFamily::Extern => Val::ExternRef(None),
            RefFamily::Exn => Val::ExnRef(false),
            RefFamily::Func => Val::FuncRef(None),
            RefFamily::Any => Val::AnyRef(None),
        })),
        _ => Ok(None),
    }
}

/// The effects of one host function, drawn for a module of `shape`: none for half the
/// functions, else one to three, each on every call or on a share of them.
pub fn draw_effects(
    u: &mut Unstructured,
    shape: &Shape,
    host_funcs: &[FuncId],
) -> Result<Vec<EffectPlan>> {
    let mut out = Vec::new();
    if u.ratio(1, 2)? {
        return Ok(out);
    }
    let funcs = callable(shape);
    let globals: Vec<&(String, ValType)> = shape
        .mutable_global_exports
        .iter()
        // Not the fuel global, nor the blind-spot functions' counters, whose values the
        // statistics read (`blind_stats.rs`).
        .filter(|(n, _)| n != FUEL_EXPORT && !n.starts_with("__bs#"))
        .collect();
    for _ in 0..u.int_in_range(1..=3)? {
        let every = if u.ratio(1, 2)? {
            1
        } else {
            u.int_in_range(2..=4)?
        };
        let grow = |u: &mut Unstructured| -> Result<Grow> {
            Ok(if u.ratio(1, 4)? {
                Grow::PastMax
            } else {
                Grow::By(u.int_in_range(0..=2)?)
            })
        };
        // Calls back and memory effects are what the native engine's assumptions
        // across calls rest on: they get the larger share.
        let effect = match u.int_in_range(0..=9)? {
            0..=2 if !funcs.is_empty() => {
                let (name, ty) = *u.choose(&funcs)?;
                let args = ty
                    .params()
                    .iter()
                    .map(|t| draw_val(u, *t, host_funcs))
                    .collect::<Result<Vec<_>>>()?;
                HostEffect::CallExport {
                    export: name.to_string(),
                    args,
                }
            }
            3..=4 if !shape.memory_exports.is_empty() => HostEffect::GrowMemory {
                memory: u.choose(&shape.memory_exports)?.clone(),
                grow: grow(u)?,
            },
            5..=6 if !shape.memory_exports.is_empty() => {
                let len = u.int_in_range(1..=16)?;
                HostEffect::WriteMemory {
                    memory: u.choose(&shape.memory_exports)?.clone(),
                    at: u.arbitrary()?,
                    bytes: (0..len).map(|_| u.arbitrary()).collect::<Result<_>>()?,
                }
            }
            7 if !globals.is_empty() => {
                let (name, ty) = *u.choose(&globals)?;
                let value = match ty {
                    ValType::Ref(r) => match draw_ref(u, *r, shape, host_funcs)? {
                        Some(v) => v,
                        None => continue,
                    },
                    t => draw_val(u, *t, host_funcs)?,
                };
                HostEffect::SetGlobal {
                    global: name.clone(),
                    value,
                }
            }
            8 if !shape.table_exports.is_empty() => {
                let (name, ty) = u.choose(&shape.table_exports)?;
                let Some(value) = draw_ref(u, *ty, shape, host_funcs)? else {
                    continue;
                };
                HostEffect::SetTable {
                    table: name.clone(),
                    at: u.arbitrary()?,
                    value,
                }
            }
            9 if !shape.table_exports.is_empty() => {
                let (name, ty) = u.choose(&shape.table_exports)?;
                let Some(init) = draw_ref(u, *ty, shape, host_funcs)? else {
                    continue;
                };
                HostEffect::GrowTable {
                    table: name.clone(),
                    grow: grow(u)?,
                    init,
                }
            }
            _ => continue,
        };
        out.push(EffectPlan { every, effect });
    }
    Ok(out)
}

/// The export name of module function `index` (what a `FuncId::Defined` in an effect
/// value means to a subject).
pub fn export_of(shape: &Shape, index: u32) -> Option<&str> {
    shape
        .func_exports
        .iter()
        .find(|(_, idx, _)| *idx == index)
        .map(|(n, ..)| n.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(size: u64, max: Option<u64>) -> Limits {
        Limits {
            size,
            max,
            is_64: false,
        }
    }

    #[test]
    fn growth_stays_small_or_fails_past_the_maximum() {
        assert_eq!(grow_delta(Grow::By(2), limits(1, Some(4)), 8, 1 << 16), 2);
        assert_eq!(grow_delta(Grow::By(2), limits(7, None), 8, 1 << 16), 0);
        assert_eq!(grow_delta(Grow::PastMax, limits(1, Some(4)), 8, 1 << 16), 4);
        assert_eq!(
            grow_delta(Grow::PastMax, limits(3, None), 8, 1 << 16),
            (1 << 16) - 2
        );
    }

    /// An environment that records what it was asked and answers fixed things.
    #[derive(Default)]
    struct Scripted {
        asked: Vec<String>,
        exit_on_call: bool,
    }

    impl HostEnv for Scripted {
        fn has_instance(&mut self) -> bool {
            true
        }
        fn call_export(&mut self, export: &str, _: &[Val]) -> Option<Outcome> {
            self.asked.push(format!("call {export}"));
            Some(if self.exit_on_call {
                Outcome::Exit(3)
            } else {
                Outcome::Returned(vec![])
            })
        }
        fn memory_limits(&mut self, _: &str) -> Option<Limits> {
            Some(limits(1, Some(2)))
        }
        fn memory_grow(&mut self, _: &str, delta: u64) -> Option<Option<u64>> {
            self.asked.push(format!("grow {delta}"));
            Some((delta <= 1).then_some(1))
        }
        fn memory_write(&mut self, _: &str, offset: u64, _: &[u8]) -> Option<bool> {
            self.asked.push(format!("write {offset}"));
            Some(true)
        }
        fn global_set(&mut self, _: &str, _: &Val) -> Option<bool> {
            None
        }
        fn table_limits(&mut self, _: &str) -> Option<Limits> {
            None
        }
        fn table_set(&mut self, _: &str, _: u64, _: &Val) -> Option<bool> {
            None
        }
        fn table_grow(&mut self, _: &str, _: u64, _: &Val) -> Option<Option<u64>> {
            None
        }
    }

    fn call(every: u32) -> EffectPlan {
        EffectPlan {
            every,
            effect: HostEffect::CallExport {
                export: "f".into(),
                args: vec![],
            },
        }
    }

    #[test]
    fn effects_apply_in_order_and_nesting_is_bounded() {
        let grow = EffectPlan {
            every: 1,
            effect: HostEffect::GrowMemory {
                memory: "m".into(),
                grow: Grow::PastMax,
            },
        };
        let mut env = Scripted::default();
        let one = CallsBack::at_depth(1);
        let (done, stop) = perform(&mut env, &[call(1), grow.clone(), call(2)], 3, &one);
        assert_eq!(stop, None);
        assert_eq!(env.asked, ["call f", "grow 2"]);
        assert!(matches!(
            done[1],
            Effected::MemoryGrown { result: None, .. }
        ));
        assert_eq!(done.len(), 2, "call(2) does not apply to an odd hash");
        assert_eq!(
            one.depth.load(Ordering::Relaxed),
            1,
            "restored after the call"
        );
        let (done, _) = perform(&mut env, &[call(1)], 0, &CallsBack::at_depth(MAX_NESTING));
        assert_eq!(done, [Effected::TooDeep { export: "f".into() }]);
        let spent = CallsBack::default();
        spent.made.store(MAX_CALLS_BACK, Ordering::Relaxed);
        let (done, _) = perform(&mut env, &[call(1)], 0, &spent);
        assert_eq!(
            done,
            [Effected::TooDeep { export: "f".into() }],
            "budget spent"
        );
    }

    #[test]
    fn an_exit_inside_a_nested_call_ends_the_host_call() {
        let mut env = Scripted {
            exit_on_call: true,
            ..Scripted::default()
        };
        let set = EffectPlan {
            every: 1,
            effect: HostEffect::SetGlobal {
                global: "g".into(),
                value: Val::I32(1),
            },
        };
        let (done, stop) = perform(&mut env, &[call(1), set], 0, &CallsBack::default());
        assert_eq!(stop, Some(Stop::Exit(3)));
        assert_eq!(done.len(), 1);
    }
}
