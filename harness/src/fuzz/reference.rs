//! A third opinion: the same case on crates.io's `wasmi` (feature `reference-wasmi`),
//! observed exactly like our engines, so a bug both our engines share shows up too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use runtime::{RefFamily, TrapKind, ValType};
use wasmi::errors::ErrorKind;
use wasmi::{
    AsContext, AsContextMut, CompilationMode, Config, Engine, Error, ExternRef, Func, FuncType,
    Global, Instance, Linker, Memory, MemoryType, Module, Mutability, Nullable, Ref, RefType,
    Store, StoreContext, Table, TableType, TrapCode, V128, Val as WVal,
};

use crate::fuzz::effects::{self, Effected, HostEnv, Limits, Stop};
use crate::fuzz::observe::{FuncId, HostCall, INSTANTIATE, Observation, Outcome, State, Step, Val};
use crate::fuzz::plan::{HostAction, ImportPlan, Plan, args_hash, host_action};
use crate::fuzz::shape::Shape;
use crate::fuzz::subject::Subject;

pub struct WasmiSubject {
    engine: Engine,
}

impl Default for WasmiSubject {
    fn default() -> Self {
        Self::new()
    }
}

impl WasmiSubject {
    pub fn new() -> WasmiSubject {
        let mut config = Config::default();
        config.compilation_mode(CompilationMode::Eager);
        WasmiSubject {
            engine: Engine::new(&config),
        }
    }
}

fn wty(t: ValType) -> wasmi::ValType {
    match t {
        ValType::I32 => wasmi::ValType::I32,
        ValType::I64 => wasmi::ValType::I64,
        ValType::F32 => wasmi::ValType::F32,
        ValType::F64 => wasmi::ValType::F64,
        ValType::V128 => wasmi::ValType::V128,
        ValType::Ref(r) => match rty(r) {
            RefType::Func => wasmi::ValType::FuncRef,
            RefType::Extern => wasmi::ValType::ExternRef,
        },
    }
}

fn rty(t: runtime::RefType) -> RefType {
    // The generator makes only Wasm 2.0's reference types for a wasmi reference run.
    match t.family() {
        RefFamily::Func | RefFamily::Exn => RefType::Func,
        RefFamily::Extern => RefType::Extern,
        RefFamily::Any => unreachable!("a wasmi reference run has no GC types"),
    }
}

/// wasmi functions have no public identity; their `Debug` form names the store slot.
fn func_key(f: &Func) -> String {
    format!("{f:?}")
}

/// Host calls as they happened: `module.name`, raw arguments, effects.
type Log = Arc<Mutex<Vec<(String, Vec<WVal>, Vec<Effected>)>>>;

/// What every host function of one run shares (as `host.rs` has it for our runtime).
#[derive(Default)]
struct Shared {
    log: Log,
    /// Host functions by `module.name`, set once all exist.
    funcs: OnceLock<HashMap<String, Func>>,
    /// Host function identities by `func_key`, set with `funcs`.
    host_names: OnceLock<HashMap<String, FuncId>>,
    nesting: crate::fuzz::effects::CallsBack,
    /// The module's defined function exports: `(name, module function index)`.
    defined: Vec<(String, u32)>,
    /// The module's instance once made, for host functions the embedder calls directly.
    instance: OnceLock<Instance>,
    /// The exit code our runtime would have closed the instance with: calls into it
    /// exit again there (wasmi has no closing; this emulates it).
    closed: Mutex<Option<u32>>,
}

impl Shared {
    fn closed(&self) -> Option<u32> {
        *self.closed.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn close(&self, code: u32) {
        let mut closed = self.closed.lock().unwrap_or_else(|p| p.into_inner());
        closed.get_or_insert(code);
    }
}

/// A host function's view of its calling instance through wasmi's `Caller`.
struct CallerEnv<'c, 'a> {
    caller: &'c mut wasmi::Caller<'a, ()>,
    shared: &'c Shared,
}

impl CallerEnv<'_, '_> {
    /// An export of the calling instance, else of the module's instance.
    fn export(&self, name: &str) -> Option<wasmi::Extern> {
        (self.caller.get_export(name))
            .or_else(|| self.shared.instance.get()?.get_export(&*self.caller, name))
    }

    fn wval(&mut self, v: &Val) -> WVal {
        if let Val::FuncRef(Some(FuncId::Defined(i))) = v {
            let f = (self.shared.defined.iter())
                .find(|(_, idx)| idx == i)
                .and_then(|(name, _)| self.export(name)?.into_func());
            return WVal::FuncRef(f.map_or(Nullable::Null, Nullable::Val));
        }
        let none = HashMap::new();
        let funcs = self.shared.funcs.get().unwrap_or(&none);
        to_wval(&mut *self.caller, v, funcs)
    }

    fn val(&self, v: &WVal) -> Val {
        if let WVal::FuncRef(Nullable::Val(f)) = v {
            let key = func_key(f);
            let host = (self.shared.host_names.get()).and_then(|n| n.get(&key).cloned());
            let id = host.or_else(|| {
                (self.shared.defined.iter())
                    .find(|(name, _)| {
                        (self.export(name).and_then(|e| e.into_func()))
                            .is_some_and(|g| func_key(&g) == key)
                    })
                    .map(|(_, idx)| FuncId::Defined(*idx))
            });
            return Val::FuncRef(Some(id.unwrap_or(FuncId::Unknown(u32::MAX))));
        }
        from_wval(self.caller.as_context(), v, &HashMap::new())
    }

    fn wref(&mut self, v: &Val) -> Option<Ref> {
        match self.wval(v) {
            WVal::FuncRef(f) => Some(Ref::Func(f)),
            WVal::ExternRef(e) => Some(Ref::Extern(e)),
            _ => None,
        }
    }
}

impl HostEnv for CallerEnv<'_, '_> {
    fn has_instance(&mut self) -> bool {
        // wasmi's `Caller` does not say; a caller instance exports every function the
        // module defines (the generator exports everything), a direct call sees none.
        self.shared.instance.get().is_some()
            || (self.shared.defined.iter()).any(|(name, _)| self.caller.get_export(name).is_some())
    }

    fn call_export(&mut self, export: &str, args: &[Val]) -> Option<Outcome> {
        let f = self.export(export)?.into_func()?;
        if let Some(code) = self.shared.closed() {
            return Some(Outcome::Exit(code));
        }
        let args: Vec<WVal> = args.iter().map(|a| self.wval(a)).collect();
        let ty = f.ty(&*self.caller);
        let mut out: Vec<WVal> = (ty.results().iter())
            .map(|t| WVal::default_for_ty(*t))
            .collect();
        let outcome = match f.call(&mut *self.caller, &args, &mut out) {
            Ok(()) => Outcome::Returned(out.iter().map(|v| self.val(v)).collect()),
            Err(e) => outcome_of(&e),
        };
        // An exit inside a call into the instance comes from a host function it called:
        // our runtime closes the instance then.
        if let Outcome::Exit(code) = outcome {
            self.shared.close(code);
        }
        Some(outcome)
    }

    fn memory_limits(&mut self, memory: &str) -> Option<Limits> {
        let m = self.export(memory)?.into_memory()?;
        let ty = m.ty(&*self.caller);
        Some(Limits {
            size: m.size(&*self.caller),
            max: ty.maximum(),
            is_64: ty.is_64(),
        })
    }

    fn memory_grow(&mut self, memory: &str, delta: u64) -> Option<Option<u64>> {
        let m = self.export(memory)?.into_memory()?;
        Some(m.grow(&mut *self.caller, delta).ok())
    }

    fn memory_write(&mut self, memory: &str, offset: u64, bytes: &[u8]) -> Option<bool> {
        let m = self.export(memory)?.into_memory()?;
        let Ok(offset) = usize::try_from(offset) else {
            return Some(false);
        };
        Some(m.write(&mut *self.caller, offset, bytes).is_ok())
    }

    fn global_set(&mut self, global: &str, value: &Val) -> Option<bool> {
        let g = self.export(global)?.into_global()?;
        let v = self.wval(value);
        Some(g.set(&mut *self.caller, v).is_ok())
    }

    fn table_limits(&mut self, table: &str) -> Option<Limits> {
        let t = self.export(table)?.into_table()?;
        let ty = t.ty(&*self.caller);
        Some(Limits {
            size: t.size(&*self.caller),
            max: ty.maximum(),
            is_64: ty.is_64(),
        })
    }

    fn table_set(&mut self, table: &str, index: u64, value: &Val) -> Option<bool> {
        let t = self.export(table)?.into_table()?;
        let Some(r) = self.wref(value) else {
            return Some(false);
        };
        Some(t.set(&mut *self.caller, index, r).is_ok())
    }

    fn table_grow(&mut self, table: &str, delta: u64, init: &Val) -> Option<Option<u64>> {
        let t = self.export(table)?.into_table()?;
        let Some(r) = self.wref(init) else {
            return Some(None);
        };
        Some(t.grow(&mut *self.caller, delta, r).ok())
    }
}

struct Ctx {
    /// Host functions by `module.name`.
    funcs: HashMap<String, Func>,
    /// Function identities by `func_key`.
    names: HashMap<String, FuncId>,
}

fn to_wval(
    mut store: impl AsContextMut<Data = ()>,
    v: &Val,
    funcs: &HashMap<String, Func>,
) -> WVal {
    match v {
        Val::I32(x) => WVal::I32(*x as i32),
        Val::I64(x) => WVal::I64(*x as i64),
        Val::F32(x) => WVal::F32(wasmi::F32::from_bits(*x)),
        Val::F64(x) => WVal::F64(wasmi::F64::from_bits(*x)),
        Val::V128(x) => WVal::V128(V128::from(*x)),
        Val::FuncRef(Some(FuncId::Host(n))) => match funcs.get(n) {
            Some(f) => WVal::FuncRef(Nullable::Val(*f)),
            None => WVal::FuncRef(Nullable::Null),
        },
        Val::FuncRef(_) => WVal::FuncRef(Nullable::Null),
        Val::ExternRef(None) => WVal::ExternRef(Nullable::Null),
        Val::ExternRef(Some(n)) => WVal::ExternRef(Nullable::Val(ExternRef::new(&mut store, *n))),
        // The generator makes no exceptions; wasmi runs without them (nor GC).
        Val::ExnRef(_) | Val::AnyRef(_) | Val::ExternAny(_) => WVal::FuncRef(Nullable::Null),
    }
}

fn from_wval(store: StoreContext<'_, ()>, v: &WVal, names: &HashMap<String, FuncId>) -> Val {
    match v {
        WVal::I32(x) => Val::I32(*x as u32),
        WVal::I64(x) => Val::I64(*x as u64),
        WVal::F32(x) => Val::F32(x.to_bits()),
        WVal::F64(x) => Val::F64(x.to_bits()),
        WVal::V128(x) => Val::V128(x.as_u128()),
        WVal::FuncRef(f) => Val::FuncRef(f.val().map(|f| {
            names
                .get(&func_key(f))
                .cloned()
                .unwrap_or(FuncId::Unknown(u32::MAX))
        })),
        WVal::ExternRef(e) => Val::ExternRef(e.val().map(|e| {
            e.data(store)
                .downcast_ref::<u32>()
                .copied()
                .unwrap_or(u32::MAX)
        })),
    }
}

fn from_ref(store: &Store<()>, r: Ref, names: &HashMap<String, FuncId>) -> Val {
    match r {
        Ref::Func(f) => from_wval(store.as_context(), &WVal::FuncRef(f), names),
        Ref::Extern(e) => from_wval(store.as_context(), &WVal::ExternRef(e), names),
    }
}

fn outcome_of(e: &Error) -> Outcome {
    if let Some(code) = e.i32_exit_status() {
        return Outcome::Exit(code as u32);
    }
    if let Some(code) = e.as_trap_code() {
        return Outcome::Trap(match code {
            TrapCode::UnreachableCodeReached => TrapKind::Unreachable,
            TrapCode::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
            TrapCode::TableOutOfBounds => TrapKind::TableOutOfBounds,
            TrapCode::IndirectCallToNull => TrapKind::UninitializedElement,
            TrapCode::IntegerDivisionByZero => TrapKind::IntegerDivideByZero,
            TrapCode::IntegerOverflow => TrapKind::IntegerOverflow,
            TrapCode::BadConversionToInteger => TrapKind::InvalidConversionToInteger,
            TrapCode::StackOverflow => TrapKind::CallStackExhausted,
            TrapCode::BadSignature => TrapKind::IndirectCallTypeMismatch,
            other => return Outcome::Error(format!("wasmi trap {other:?}")),
        });
    }
    let text = e.to_string();
    match e.kind() {
        // Segment initialisation out of bounds is an instantiation error in wasmi, a
        // trap in the spec.
        ErrorKind::Instantiation(_) if text.contains("out of bounds table access") => {
            Outcome::Trap(TrapKind::TableOutOfBounds)
        }
        ErrorKind::Instantiation(_) if text.contains("out of bounds memory access") => {
            Outcome::Trap(TrapKind::MemoryOutOfBounds)
        }
        ErrorKind::Linker(_) | ErrorKind::Instantiation(_) => Outcome::Link(text),
        _ => Outcome::Error(e.to_string()),
    }
}

impl Subject for WasmiSubject {
    fn name(&self) -> &str {
        "wasmi"
    }

    fn observe(&self, wasm: &[u8], shape: &Shape, plan: &Plan) -> Observation {
        let mut obs = Observation {
            engine: "wasmi".into(),
            compile: Ok(()),
            steps: Vec::new(),
        };
        let module = match Module::new(&self.engine, wasm) {
            Ok(m) => m,
            Err(e) => {
                obs.compile = Err(e.to_string());
                return obs;
            }
        };
        let mut store = Store::new(&self.engine, ());
        let shared = Arc::new(Shared {
            defined: (shape.func_exports.iter())
                .filter(|(_, idx, _)| *idx >= shape.num_imported_funcs)
                .map(|(name, idx, _)| (name.clone(), *idx))
                .collect(),
            ..Shared::default()
        });
        let log = shared.log.clone();
        let mut linker = Linker::<()>::new(&self.engine);
        let mut ctx = Ctx {
            funcs: HashMap::new(),
            names: HashMap::new(),
        };
        // Host exports by `module.name`, in plan order, for snapshots.
        let mut host_exports: Vec<(String, String, wasmi::Extern)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, imp) in plan.imports.iter().enumerate() {
            if plan.omit == Some(i) || !seen.insert((imp.module.clone(), imp.name.clone())) {
                continue;
            }
            if let ImportPlan::Func {
                ty,
                salt,
                exit,
                effects,
            } = &imp.plan
            {
                let fty = FuncType::new(
                    ty.params().iter().map(|t| wty(*t)).collect::<Vec<_>>(),
                    ty.results().iter().map(|t| wty(*t)).collect::<Vec<_>>(),
                );
                let (shared, id, salt, exit, effects, results) = (
                    shared.clone(),
                    imp.id(),
                    *salt,
                    *exit,
                    effects.clone(),
                    ty.results().to_vec(),
                );
                let f = Func::new(&mut store, fty, move |mut caller, args, out| {
                    let none = HashMap::new();
                    let vals: Vec<Val> = args
                        .iter()
                        .map(|a| from_wval(caller.as_context(), a, &none))
                        .collect();
                    let at = {
                        let mut log = shared.log.lock().unwrap_or_else(|p| p.into_inner());
                        log.push((id.clone(), args.to_vec(), Vec::new()));
                        log.len() - 1
                    };
                    let mut env = CallerEnv {
                        caller: &mut caller,
                        shared: &shared,
                    };
                    let hash = args_hash(salt, &vals);
                    let (done, stop) = effects::perform(&mut env, &effects, hash, &shared.nesting);
                    if let Some(entry) = (shared.log.lock())
                        .unwrap_or_else(|p| p.into_inner())
                        .get_mut(at)
                    {
                        entry.2 = done;
                    }
                    match stop {
                        Some(Stop::Exit(code)) => return Err(Error::i32_exit(code as i32)),
                        Some(Stop::Exhausted) => return Err(Error::from(TrapCode::StackOverflow)),
                        None => {}
                    }
                    match host_action(salt, exit, &vals, &results) {
                        HostAction::Exit(code) => Err(Error::i32_exit(code as i32)),
                        HostAction::Return(vals) => {
                            for (slot, v) in out.iter_mut().zip(&vals) {
                                *slot = match v {
                                    Val::ExternRef(Some(n)) => WVal::ExternRef(Nullable::Val(
                                        ExternRef::new(&mut caller, *n),
                                    )),
                                    Val::I32(x) => WVal::I32(*x as i32),
                                    Val::I64(x) => WVal::I64(*x as i64),
                                    Val::F32(x) => WVal::F32(wasmi::F32::from_bits(*x)),
                                    Val::F64(x) => WVal::F64(wasmi::F64::from_bits(*x)),
                                    Val::V128(x) => WVal::V128(V128::from(*x)),
                                    Val::ExternRef(None) => WVal::ExternRef(Nullable::Null),
                                    _ => WVal::FuncRef(Nullable::Null),
                                };
                            }
                            Ok(())
                        }
                    }
                });
                ctx.funcs.insert(imp.id(), f);
                ctx.names.insert(func_key(&f), FuncId::Host(imp.id()));
                let _ = linker.define(&imp.module, &imp.name, f);
                host_exports.push((imp.module.clone(), imp.id(), f.into()));
            }
        }
        let _ = shared.funcs.set(ctx.funcs.clone());
        let _ = shared.host_names.set(ctx.names.clone());
        for (i, imp) in plan.imports.iter().enumerate() {
            if plan.omit == Some(i) || host_exports.iter().any(|(_, n, _)| *n == imp.id()) {
                continue;
            }
            let ext: wasmi::Extern = match &imp.plan {
                // wasmi has no exception handling: the module is refused anyway.
                ImportPlan::Func { .. } | ImportPlan::Tag { .. } => continue,
                ImportPlan::Global { value, mutable } => {
                    let v = to_wval(&mut store, value, &HashMap::new());
                    let m = if *mutable {
                        Mutability::Var
                    } else {
                        Mutability::Const
                    };
                    Global::new(&mut store, v, m).into()
                }
                ImportPlan::Memory {
                    min,
                    max,
                    memory64,
                    writes,
                } => {
                    let ty = if *memory64 {
                        MemoryType::new64(*min, *max)
                    } else {
                        MemoryType::new(*min as u32, max.map(|m| m as u32))
                    };
                    let Ok(m) = Memory::new(&mut store, ty) else {
                        continue;
                    };
                    let data = m.data_mut(&mut store);
                    for (off, bytes) in crate::fuzz::plan::clipped_writes(writes, data.len()) {
                        data[off..off + bytes.len()].copy_from_slice(bytes);
                    }
                    m.into()
                }
                ImportPlan::Table {
                    element,
                    min,
                    max,
                    table64,
                    elems,
                } => {
                    let ty = if *table64 {
                        TableType::new64(rty(*element), *min, *max)
                    } else {
                        TableType::new(rty(*element), *min as u32, max.map(|m| m as u32))
                    };
                    let Ok(t) = Table::new(&mut store, ty, Ref::null(rty(*element))) else {
                        continue;
                    };
                    for (index, v) in elems {
                        let r = match to_wval(&mut store, v, &ctx.funcs) {
                            WVal::FuncRef(f) => Ref::Func(f),
                            WVal::ExternRef(e) => Ref::Extern(e),
                            _ => continue,
                        };
                        let _ = t.set(&mut store, *index as u64, r);
                    }
                    t.into()
                }
            };
            let _ = linker.define(&imp.module, &imp.name, ext);
            host_exports.push((imp.module.clone(), imp.id(), ext));
        }
        let made = linker.instantiate_and_start(&mut store, &module);
        if let Ok(inst) = &made {
            let _ = shared.instance.set(*inst);
            for (name, idx, _) in &shape.func_exports {
                if *idx >= shape.num_imported_funcs
                    && let Some(f) = inst.get_func(&store, name)
                {
                    ctx.names
                        .entry(func_key(&f))
                        .or_insert(FuncId::Defined(*idx));
                }
            }
        }
        let drain = |store: &Store<()>, names: &HashMap<String, FuncId>| -> Vec<HostCall> {
            let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
            l.drain(..)
                .map(|(func, args, effects)| HostCall {
                    func,
                    args: args
                        .iter()
                        .map(|a| from_wval(store.as_context(), a, names))
                        .collect(),
                    effects,
                })
                .collect()
        };
        let outcome = match &made {
            Ok(_) => Outcome::Returned(vec![]),
            Err(e) => outcome_of(e),
        };
        obs.steps.push(Step {
            export: INSTANTIATE.into(),
            args: vec![],
            outcome,
            host_calls: drain(&store, &ctx.names),
            state: snapshot(&store, made.as_ref().ok(), &host_exports, &ctx.names),
        });
        let Ok(inst) = made else {
            return obs;
        };
        for call in &plan.calls {
            if let Some((name, amount)) = &plan.fuel
                && let Some(g) = inst.get_global(&store, name)
            {
                let _ = g.set(&mut store, WVal::I32(*amount as i32));
            }
            // A re-exported import is the host's function, not the instance's: calling it
            // runs the host function even after the instance closed, and an exit from it
            // (there is no Wasm caller) closes nothing.
            let direct = shape
                .func_exports
                .iter()
                .any(|(n, idx, _)| *n == call.export && *idx < shape.num_imported_funcs);
            let outcome = if let (Some(code), false) = (shared.closed(), direct) {
                // Our runtime closes an instance that exited; calls into it exit again.
                Outcome::Exit(code)
            } else {
                let args: Vec<WVal> = call
                    .args
                    .iter()
                    .map(|a| to_wval(&mut store, a, &ctx.funcs))
                    .collect();
                match inst.get_func(&store, &call.export) {
                    None => Outcome::Error(format!("no export {}", call.export)),
                    Some(f) => {
                        let ty = f.ty(&store);
                        let mut out: Vec<WVal> = ty
                            .results()
                            .iter()
                            .map(|t| WVal::default_for_ty(*t))
                            .collect();
                        match f.call(&mut store, &args, &mut out) {
                            Ok(()) => Outcome::Returned(
                                out.iter()
                                    .map(|v| from_wval(store.as_context(), v, &ctx.names))
                                    .collect(),
                            ),
                            Err(e) => outcome_of(&e),
                        }
                    }
                }
            };
            if let (Outcome::Exit(code), false) = (&outcome, direct) {
                shared.close(*code);
            }
            // After exhaustion the store stays usable, as in our engines.
            obs.steps.push(Step {
                export: call.export.clone(),
                args: call.args.clone(),
                outcome,
                host_calls: drain(&store, &ctx.names),
                state: snapshot(&store, Some(&inst), &host_exports, &ctx.names),
            });
        }
        obs
    }
}

fn snapshot(
    store: &Store<()>,
    inst: Option<&Instance>,
    host: &[(String, String, wasmi::Extern)],
    names: &HashMap<String, FuncId>,
) -> State {
    let mut state = State::default();
    let mut exports: Vec<(String, wasmi::Extern)> = Vec::new();
    if let Some(inst) = inst {
        for e in inst.exports(store) {
            exports.push((e.name().to_string(), e.into_extern()));
        }
    }
    // Host items: imported ones re-exported by the module were seen under its name.
    let key = |e: &wasmi::Extern| format!("{e:?}");
    let mut seen: std::collections::HashSet<String> = exports.iter().map(|(_, e)| key(e)).collect();
    // Keep the runtime subject's order: module exports, then host modules sorted by
    // module name (BTreeMap there), each in plan order.
    let mut host_sorted: Vec<&(String, String, wasmi::Extern)> = host.iter().collect();
    host_sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, id, e) in host_sorted {
        if seen.insert(key(e)) {
            exports.push((format!("host:{id}"), *e));
        }
    }
    for (name, ext) in exports {
        match ext {
            wasmi::Extern::Func(_) => {}
            wasmi::Extern::Global(g) => {
                state
                    .globals
                    .push((name, from_wval(store.as_context(), &g.get(store), names)));
            }
            wasmi::Extern::Memory(m) => state.memories.push((name, m.data(store).into())),
            wasmi::Extern::Table(t) => {
                let elems = (0..t.size(store))
                    .map(|i| {
                        t.get(store, i)
                            .map(|r| from_ref(store, r, names))
                            .unwrap_or(Val::I32(0))
                    })
                    .collect();
                state.tables.push((name, elems));
            }
        }
    }
    state
}

/// The operator grid (`crate::grid`) evaluated on wasmi, for the spec-rule comparison
/// with our engines (`tests/operator_grid.rs`).
pub fn grid_results(grid: &crate::grid::Grid) -> anyhow::Result<crate::grid::Results> {
    use crate::grid::{Outcome as GridOutcome, Ty};
    let engine = WasmiSubject::new().engine;
    let wasmi_err = |e: Error| anyhow::anyhow!("wasmi: {e}");
    let module = Module::new(&engine, &grid.wasm).map_err(wasmi_err)?;
    let mut store = Store::new(&engine, ());
    let linker = Linker::<()>::new(&engine);
    let inst = (linker.instantiate_and_start(&mut store, &module)).map_err(wasmi_err)?;
    let (no_funcs, no_names) = (HashMap::new(), HashMap::new());
    let mut outcomes = Vec::with_capacity(grid.ops.len());
    for (i, op) in grid.ops.iter().enumerate() {
        let func = (inst.get_func(&store, &format!("f{i}")))
            .ok_or_else(|| anyhow::anyhow!("no export f{i}"))?;
        let mut row = Vec::new();
        for tuple in crate::grid::operands(op) {
            let args: Vec<WVal> = (op.params.iter().zip(&tuple))
                .map(|(ty, bits)| {
                    let v = match ty {
                        Ty::I32 => Val::I32(*bits as u32),
                        Ty::I64 => Val::I64(*bits as u64),
                        Ty::F32 => Val::F32(*bits as u32),
                        Ty::F64 => Val::F64(*bits as u64),
                        Ty::V128 => Val::V128(*bits),
                    };
                    to_wval(&mut store, &v, &no_funcs)
                })
                .collect();
            let ty = func.ty(&store);
            let mut out: Vec<WVal> = (ty.results().iter())
                .map(|t| WVal::default_for_ty(*t))
                .collect();
            row.push(match func.call(&mut store, &args, &mut out) {
                Ok(()) => match out
                    .first()
                    .map(|v| from_wval(store.as_context(), v, &no_names))
                {
                    Some(Val::I32(x) | Val::F32(x)) => GridOutcome::Value(u128::from(x)),
                    Some(Val::I64(x) | Val::F64(x)) => GridOutcome::Value(u128::from(x)),
                    Some(Val::V128(x)) => GridOutcome::Value(x),
                    other => GridOutcome::Error(format!("{other:?}")),
                },
                Err(e) => match outcome_of(&e) {
                    Outcome::Trap(k) => GridOutcome::Trap(k),
                    other => GridOutcome::Error(other.to_string()),
                },
            });
        }
        outcomes.push(row);
    }
    Ok(crate::grid::Results {
        engine: "wasmi".into(),
        outcomes,
    })
}
