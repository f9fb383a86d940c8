//! The plan of one case, drawn from the input for a given module: what the host
//! imports are and do, and which export calls are made with which arguments. Every
//! engine runs the same plan.

use arbitrary::{Result, Unstructured};
use runtime::{FuncType, OptLevel, RefFamily, RefType, RegallocAlgorithm, ValType};

use crate::fuzz::effects::{EffectPlan, draw_effects};
use crate::fuzz::generate::{FUEL, FUEL_EXPORT};
use crate::fuzz::input::{SplitMix64, draw_val, fnv1a};
use crate::fuzz::observe::{AnyVal, FuncId, Val};
use crate::fuzz::shape::{ImportTy, Shape};

/// Most export calls one case makes.
pub const MAX_CALLS: usize = 48;

#[derive(Debug, Clone)]
pub enum ImportPlan {
    Func {
        ty: FuncType,
        /// Mixed into the results, so two host functions of one type differ.
        salt: u64,
        /// `(modulus, code)`: the call exits with `code` when the hash of its
        /// arguments is divisible by `modulus`.
        exit: Option<(u32, u32)>,
        /// What the call does to the calling instance before answering (`effects.rs`).
        effects: Vec<EffectPlan>,
    },
    Global {
        value: Val,
        mutable: bool,
    },
    Memory {
        min: u64,
        max: Option<u64>,
        /// Addressed by i64 (memory64).
        memory64: bool,
        /// `(offset, bytes)` written after creation (clipped to the memory).
        writes: Vec<(u32, Vec<u8>)>,
    },
    /// A host tag of this payload type (a new one per instance, like a defined tag).
    Tag {
        ty: FuncType,
    },
    Table {
        element: RefType,
        min: u64,
        max: Option<u64>,
        /// Indexed by i64 (table64).
        table64: bool,
        /// `(index, value)` set after creation (ignored past the end).
        elems: Vec<(u32, Val)>,
    },
}

/// The planned `writes` of an `ImportPlan::Memory` on a memory of `size` bytes: each as
/// `(offset, bytes)` clipped to the memory, those wholly past its end left out. Every
/// subject applies them through this, so they agree on what the host wrote.
pub fn clipped_writes(
    writes: &[(u32, Vec<u8>)],
    size: usize,
) -> impl Iterator<Item = (usize, &[u8])> {
    writes.iter().filter_map(move |(off, bytes)| {
        let off = *off as usize;
        let n = bytes.len().min(size.saturating_sub(off));
        (n > 0).then(|| (off, &bytes[..n]))
    })
}

#[derive(Debug, Clone)]
pub struct HostImport {
    pub module: String,
    pub name: String,
    pub plan: ImportPlan,
}

impl HostImport {
    pub fn id(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }
}

impl Plan {
    /// Drops every host function's effects (for a subject that cannot apply them).
    pub fn without_host_effects(&mut self) {
        for imp in &mut self.imports {
            if let ImportPlan::Func { effects, .. } = &mut imp.plan {
                effects.clear();
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct CallPlan {
    pub export: String,
    pub args: Vec<Val>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    /// What the host provides, one per import of the module (first of a duplicate name wins).
    pub imports: Vec<HostImport>,
    /// An import the host leaves out, to check both engines fail to link alike.
    pub omit: Option<usize>,
    pub calls: Vec<CallPlan>,
    /// The fuel global to refill before every call, and how much.
    pub fuel: Option<(String, u32)>,
    /// How our engines are configured for this case (RATIONALE.md, "Fuzzer throughput").
    pub setup: Setup,
}

/// How our engines are configured for one case: each optional run-time check on in half
/// of the cases, independently, each native optimisation level in a third, and each
/// register allocator in half. The
/// default configuration (no fuel, not interruptible, `Speed`) is what most embedders
/// run; fuel metering is compared between the engines where it is on; interruption
/// checks (never fired by the fuzzer) must not change any result; and every level the
/// API offers must compute the same results (wasmtime's fuzzers, too, draw their
/// engine's configuration per case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Setup {
    pub fuel: bool,
    pub interruptible: bool,
    pub opt_level: OptLevel,
    pub regalloc: RegallocAlgorithm,
    /// `Config::signal_traps` (guard pages instead of bounds checks), in half the cases
    /// without fuel (with fuel the native engine keeps its checks anyway).
    pub signal_traps: bool,
}

impl Setup {
    /// Every setup a case can draw.
    pub fn all() -> impl Iterator<Item = Setup> {
        let levels = [OptLevel::None, OptLevel::Speed, OptLevel::SpeedAndSize];
        let allocators = [
            RegallocAlgorithm::Backtracking,
            RegallocAlgorithm::SinglePass,
        ];
        let checks = [
            (false, false, false),
            (false, true, false),
            (true, false, false),
            (true, true, false),
            (false, false, true),
            (false, true, true),
        ];
        levels.into_iter().flat_map(move |opt_level| {
            allocators.into_iter().flat_map(move |regalloc| {
                checks.map(|(fuel, interruptible, signal_traps)| Setup {
                    fuel,
                    interruptible,
                    opt_level,
                    regalloc,
                    signal_traps,
                })
            })
        })
    }

    /// Drawn from the hash of the plan's input bytes, apart from the rest of the plan, so
    /// that the other draws are the same whatever this picks.
    fn of(bytes: &[u8]) -> Setup {
        let bits = SplitMix64::new(fnv1a(bytes) ^ 0x6d65_7465_7269_6e67).next_u64();
        let fuel = bits & 1 == 1;
        Setup {
            fuel,
            interruptible: bits & 2 == 2,
            opt_level: match (bits >> 2) % 3 {
                0 => OptLevel::None,
                1 => OptLevel::Speed,
                _ => OptLevel::SpeedAndSize,
            },
            regalloc: if bits & (1 << 40) == 0 {
                RegallocAlgorithm::Backtracking
            } else {
                RegallocAlgorithm::SinglePass
            },
            signal_traps: !fuel && bits & (1 << 41) != 0,
        }
    }
}

/// The plan for `shape` from `bytes`. Short inputs are stretched with a PRNG seeded
/// by their hash, so any bytes (even none) give a full plan.
pub fn plan(shape: &Shape, bytes: &[u8]) -> Plan {
    let mut data = bytes.to_vec();
    if data.len() < 1024 {
        let mut extra = vec![0; 1024 - data.len()];
        SplitMix64::new(fnv1a(bytes)).fill(&mut extra);
        data.extend_from_slice(&extra);
    }
    let mut u = Unstructured::new(&data);
    // An exhausted Unstructured yields minimal values, never an error, for what is
    // drawn here; the fallback keeps that an invariant.
    let setup = Setup::of(bytes);
    draw_plan(shape, &mut u, setup).unwrap_or_else(|_| Plan {
        imports: Vec::new(),
        omit: None,
        calls: Vec::new(),
        fuel: None,
        setup,
    })
}

fn draw_plan(shape: &Shape, u: &mut Unstructured, setup: Setup) -> Result<Plan> {
    let host_funcs: Vec<FuncId> = shape
        .imports
        .iter()
        .filter(|i| matches!(i.ty, ImportTy::Func(_)))
        .map(|i| FuncId::Host(format!("{}.{}", i.module, i.name)))
        .collect();
    let mut imports = Vec::new();
    for imp in &shape.imports {
        let plan = match &imp.ty {
            ImportTy::Func(ty) => ImportPlan::Func {
                ty: ty.clone(),
                salt: u.arbitrary()?,
                exit: if u.ratio(1, 4)? {
                    Some((u.int_in_range(2..=9)?, u.int_in_range(0..=3)?))
                } else {
                    None
                },
                effects: draw_effects(u, shape, &host_funcs)?,
            },
            ImportTy::Tag(ty) => ImportPlan::Tag { ty: ty.clone() },
            ImportTy::Global(g) => ImportPlan::Global {
                // A host funcref global must exist before the host functions do: null.
                value: draw_val(u, g.content, &[])?,
                mutable: g.mutable,
            },
            ImportTy::Memory(m) => {
                let mut writes = Vec::new();
                let size = m.min * 65536;
                for _ in 0..u.int_in_range(0..=4)? {
                    if size == 0 {
                        break;
                    }
                    let off = u.int_in_range(0..=size - 1)? as u32;
                    let len = u.int_in_range(1..=32)?;
                    let bytes = (0..len)
                        .map(|_| u.arbitrary())
                        .collect::<Result<Vec<u8>>>()?;
                    writes.push((off, bytes));
                }
                ImportPlan::Memory {
                    min: m.min,
                    max: m.max,
                    memory64: m.memory64,
                    writes,
                }
            }
            ImportTy::Table(t) => {
                let mut elems = Vec::new();
                for _ in 0..u.int_in_range(0..=4)? {
                    if t.min == 0 {
                        break;
                    }
                    let i = u.int_in_range(0..=t.min - 1)? as u32;
                    elems.push((i, draw_val(u, t.element.into(), &host_funcs)?));
                }
                ImportPlan::Table {
                    element: t.element,
                    min: t.min,
                    max: t.max,
                    table64: t.table64,
                    elems,
                }
            }
        };
        imports.push(HostImport {
            module: imp.module.clone(),
            name: imp.name.clone(),
            plan,
        });
    }
    let omit = if !imports.is_empty() && u.ratio(1, 40)? {
        Some(u.choose_index(imports.len())?)
    } else {
        None
    };
    let funcs: Vec<_> = shape
        .func_exports
        .iter()
        .filter(|(name, _, _)| name != FUEL_EXPORT)
        .collect();
    let mut calls = Vec::new();
    let rounds = u.int_in_range(2..=4)?;
    'rounds: for _ in 0..rounds {
        for (name, _, ty) in &funcs {
            if calls.len() >= MAX_CALLS {
                break 'rounds;
            }
            let args = ty
                .params()
                .iter()
                .map(|t| draw_val(u, *t, &host_funcs))
                .collect::<Result<Vec<_>>>()?;
            calls.push(CallPlan {
                export: name.clone(),
                args,
            });
        }
    }
    let fuel = shape
        .global_exports
        .iter()
        .any(|(n, _)| n == FUEL_EXPORT)
        .then(|| (FUEL_EXPORT.to_string(), FUEL));
    Ok(Plan {
        imports,
        omit,
        calls,
        fuel,
        setup,
    })
}

/// What a host function call does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostAction {
    Return(Vec<Val>),
    Exit(u32),
}

fn val_hash(v: &Val) -> u64 {
    match v {
        Val::I32(x) | Val::F32(x) => *x as u64,
        Val::I64(x) | Val::F64(x) => *x,
        Val::V128(x) => (*x as u64) ^ ((*x >> 64) as u64),
        Val::FuncRef(f) => f.is_some() as u64,
        Val::ExnRef(e) => *e as u64,
        Val::ExternRef(e) => e.map_or(0, |e| e as u64 + 1),
        Val::AnyRef(a) => a.map_or(0, |a| any_hash(&a)),
        Val::ExternAny(a) => any_hash(a) ^ 0x5a5a,
    }
}

/// An internal reference's share of [`args_hash`]: objects all alike (a host function
/// cannot tell two stores' objects apart).
fn any_hash(a: &AnyVal) -> u64 {
    match a {
        AnyVal::I31(v) => u64::from(*v) << 2 | 1,
        AnyVal::Host(n) => u64::from(*n) << 2 | 2,
        AnyVal::Object(_) => 3,
    }
}

/// The hash of a host call's arguments that its exit and its effects depend on.
pub fn args_hash(salt: u64, args: &[Val]) -> u64 {
    let mut rng = SplitMix64::new(salt);
    let mut h = rng.next_u64();
    for a in args {
        h = (h ^ val_hash(a))
            .wrapping_mul(0x100_0000_01b3)
            .rotate_left(17);
    }
    h
}

/// The host function's behaviour: results derived from the arguments (the same on
/// every engine), or an exit request for some arguments.
pub fn host_action(
    salt: u64,
    exit: Option<(u32, u32)>,
    args: &[Val],
    results: &[ValType],
) -> HostAction {
    let h = args_hash(salt, args);
    if let Some((modulus, code)) = exit
        && h.is_multiple_of(modulus as u64)
    {
        return HostAction::Exit(code);
    }
    let mut rng = SplitMix64::new(h);
    HostAction::Return(
        results
            .iter()
            .map(|t| {
                let r = rng.next_u64();
                match t {
                    // Small numbers half the time, so results feed addresses and counts.
                    ValType::I32 => Val::I32(if r & 1 == 0 {
                        (r >> 8) as u32 % 64
                    } else {
                        (r >> 8) as u32
                    }),
                    ValType::I64 => Val::I64(if r & 1 == 0 { (r >> 8) % 64 } else { r }),
                    ValType::F32 => Val::F32(((r >> 16) as i16 as f32 / 4.0).to_bits()),
                    ValType::F64 => Val::F64(((r >> 16) as i32 as f64 / 16.0).to_bits()),
                    ValType::V128 => Val::V128(u128::from(r) << 64 | u128::from(rng.next_u64())),
                    ValType::Ref(t) => match t.family() {
                        RefFamily::Extern => Val::ExternRef(
                            (r & 3 != 0 && t.heap != runtime::HeapType::NoExtern)
                                .then_some((r >> 8) as u32 % 8),
                        ),
                        RefFamily::Func => Val::FuncRef(None),
                        // Exception references are never generated (`shape.rs`).
                        RefFamily::Exn => Val::ExnRef(false),
                        // The host makes no objects: an i31 where the type allows one.
                        RefFamily::Any => crate::fuzz::input::any_of(*t, r),
                    },
                }
            })
            .collect(),
    )
}
