//! A third opinion from wasmtime 48 (feature `reference-wasmtime`): the same case observed
//! exactly like our engines, with exactly the features of `generate::FEATURES` and the
//! relaxed SIMD results the spec calls deterministic (what our engines give, except the
//! multiply-adds, which wasmtime fuses: `fuzz/known.rs` explains those).
//!
//! Host imports: every host function call goes through [`perform`], the one place where a
//! plan's host action turns into wasmtime calls; a new kind of host effect is one more arm
//! there.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use runtime::{HeapType as OurHeap, TrapKind, ValType};
use wasmtime::{
    Caller, Config, Engine, Error, ExternRef, Func, FuncType, Global, GlobalType, HeapType,
    Instance, Linker, Memory, MemoryType, Module, Mutability, Ref, RefType, Store, Table,
    TableType, Tag, TagType, ThrownException, Trap, V128, Val as WVal,
};

use crate::fuzz::observe::{FuncId, HostCall, INSTANTIATE, Observation, Outcome, State, Step, Val};
use crate::fuzz::plan::{HostAction, ImportPlan, Plan, host_action};
use crate::fuzz::shape::Shape;
use crate::fuzz::subject::Subject;

pub struct WasmtimeSubject {
    engine: Engine,
}

/// A host function's request to end the run with an exit code, carried through wasmtime
/// as the error of the host call.
#[derive(Debug)]
struct ExitRequest(u32);

impl std::fmt::Display for ExitRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit({})", self.0)
    }
}

impl std::error::Error for ExitRequest {}

impl WasmtimeSubject {
    pub fn new() -> anyhow::Result<WasmtimeSubject> {
        let mut config = Config::new();
        config.strategy(wasmtime::Strategy::Cranelift);
        // Exactly the engines' features: everything off, then ours on, by name (wasmtime
        // links its own wasmparser, whose flag bits need not be ours).
        config.wasm_features(wasmtime::WasmFeatures::all(), false);
        config.wasm_features(features(), true);
        // Relaxed SIMD as the spec's deterministic profile: what our engines give for
        // every relaxed operator but the multiply-adds (RATIONALE.md).
        config.relaxed_simd_deterministic(true);
        // The generated modules canonicalise their own NaNs.
        config.cranelift_nan_canonicalization(false);
        let engine = Engine::new(&config).map_err(|e| anyhow::anyhow!("wasmtime: {e}"))?;
        Ok(WasmtimeSubject { engine })
    }
}

/// `generate::FEATURES` as wasmtime's flags.
fn features() -> wasmtime::WasmFeatures {
    let mut out = wasmtime::WasmFeatures::empty();
    for (name, _) in crate::fuzz::generate::FEATURES.iter_names() {
        if let Some(flag) = wasmtime::WasmFeatures::from_name(name) {
            out |= flag;
        }
    }
    out
}

fn heap(h: OurHeap) -> HeapType {
    match h {
        OurHeap::Func | OurHeap::Concrete(_) => HeapType::Func,
        OurHeap::NoFunc => HeapType::NoFunc,
        OurHeap::Extern => HeapType::Extern,
        OurHeap::NoExtern => HeapType::NoExtern,
        OurHeap::Exn => HeapType::Exn,
        OurHeap::NoExn => HeapType::NoExn,
    }
}

fn rty(t: runtime::RefType) -> RefType {
    RefType::new(t.nullable, heap(t.heap))
}

fn wty(t: ValType) -> wasmtime::ValType {
    match t {
        ValType::I32 => wasmtime::ValType::I32,
        ValType::I64 => wasmtime::ValType::I64,
        ValType::F32 => wasmtime::ValType::F32,
        ValType::F64 => wasmtime::ValType::F64,
        ValType::V128 => wasmtime::ValType::V128,
        ValType::Ref(r) => wasmtime::ValType::Ref(rty(r)),
    }
}

fn func_type(engine: &Engine, ty: &runtime::FuncType) -> FuncType {
    FuncType::new(
        engine,
        ty.params().iter().map(|t| wty(*t)),
        ty.results().iter().map(|t| wty(*t)),
    )
}

/// wasmtime functions have no public identity; their `Debug` form names the store and
/// the function's `VMFuncRef`.
fn func_key(f: &Func) -> String {
    format!("{f:?}")
}

/// A host call's argument as logged: read inside the call (an externref is unrooted once
/// the call returns), except a function, which is named after the step, when the
/// module's functions are known.
#[derive(Clone)]
enum Arg {
    Read(Val),
    Func(Option<Func>),
}

/// Host calls as they happened.
type Log = Arc<Mutex<Vec<(String, Vec<Arg>)>>>;

fn to_wval(store: &mut Store<()>, v: &Val, funcs: &HashMap<String, Func>) -> WVal {
    match v {
        Val::I32(x) => WVal::I32(*x as i32),
        Val::I64(x) => WVal::I64(*x as i64),
        Val::F32(x) => WVal::F32(*x),
        Val::F64(x) => WVal::F64(*x),
        Val::V128(x) => WVal::V128(V128::from(*x)),
        Val::FuncRef(Some(FuncId::Host(n))) => WVal::FuncRef(funcs.get(n).copied()),
        Val::FuncRef(_) => WVal::FuncRef(None),
        Val::ExternRef(None) => WVal::ExternRef(None),
        Val::ExternRef(Some(n)) => WVal::ExternRef(ExternRef::new(&mut *store, *n).ok()),
        // No host value is a non-null exception reference (`plan.rs`).
        Val::ExnRef(_) => WVal::ExnRef(None),
    }
}

fn from_wval(store: &mut Store<()>, v: &WVal, names: &HashMap<String, FuncId>) -> Val {
    match v {
        WVal::I32(x) => Val::I32(*x as u32),
        WVal::I64(x) => Val::I64(*x as u64),
        WVal::F32(x) => Val::F32(*x),
        WVal::F64(x) => Val::F64(*x),
        WVal::V128(x) => Val::V128(x.as_u128()),
        WVal::FuncRef(f) => Val::FuncRef(f.as_ref().map(|f| {
            names
                .get(&func_key(f))
                .cloned()
                .unwrap_or(FuncId::Unknown(u32::MAX))
        })),
        WVal::ExternRef(e) => Val::ExternRef(e.as_ref().map(|e| {
            e.data(&*store)
                .ok()
                .flatten()
                .and_then(|d| d.downcast_ref::<u32>().copied())
                .unwrap_or(u32::MAX)
        })),
        WVal::ExnRef(e) => Val::ExnRef(e.is_some()),
        // Never made without GC and stack switching: shown as a value no engine gives.
        WVal::AnyRef(_) | WVal::ContRef(_) => Val::I32(u32::MAX),
    }
}

fn from_ref(store: &mut Store<()>, r: Ref, names: &HashMap<String, FuncId>) -> Val {
    let v = match r {
        Ref::Func(f) => WVal::FuncRef(f),
        Ref::Extern(e) => WVal::ExternRef(e),
        Ref::Exn(e) => WVal::ExnRef(e),
        Ref::Any(a) => WVal::AnyRef(a),
    };
    from_wval(store, &v, names)
}

/// A store value for a host function's result (results name no module function).
fn result_wval(caller: &mut Caller<'_, ()>, v: &Val) -> WVal {
    match v {
        Val::I32(x) => WVal::I32(*x as i32),
        Val::I64(x) => WVal::I64(*x as i64),
        Val::F32(x) => WVal::F32(*x),
        Val::F64(x) => WVal::F64(*x),
        Val::V128(x) => WVal::V128(V128::from(*x)),
        Val::ExternRef(Some(n)) => WVal::ExternRef(ExternRef::new(&mut *caller, *n).ok()),
        Val::ExternRef(None) => WVal::ExternRef(None),
        Val::FuncRef(_) => WVal::FuncRef(None),
        Val::ExnRef(_) => WVal::ExnRef(None),
    }
}

/// Carries out a host function's action for the plan: results written to `out`, or the
/// exit request as the call's error. Every effect a host function has on the store goes
/// through here.
fn perform(
    caller: &mut Caller<'_, ()>,
    action: HostAction,
    out: &mut [WVal],
) -> wasmtime::Result<()> {
    match action {
        HostAction::Exit(code) => Err(Error::new(ExitRequest(code))),
        HostAction::Return(vals) => {
            for (slot, v) in out.iter_mut().zip(&vals) {
                *slot = result_wval(caller, v);
            }
            Ok(())
        }
    }
}

fn trap_kind(t: Trap) -> Option<TrapKind> {
    Some(match t {
        Trap::UnreachableCodeReached => TrapKind::Unreachable,
        Trap::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
        // wasmtime has one trap for `call_indirect` past a table's end and table
        // accesses out of bounds; the comparison treats the two as one for it.
        Trap::TableOutOfBounds => TrapKind::TableOutOfBounds,
        Trap::IndirectCallToNull => TrapKind::UninitializedElement,
        Trap::IntegerDivisionByZero => TrapKind::IntegerDivideByZero,
        Trap::IntegerOverflow => TrapKind::IntegerOverflow,
        Trap::BadConversionToInteger => TrapKind::InvalidConversionToInteger,
        Trap::StackOverflow => TrapKind::CallStackExhausted,
        Trap::BadSignature => TrapKind::IndirectCallTypeMismatch,
        // One trap for `call_ref`, `ref.as_non_null` and `throw_ref` of null; the
        // comparison treats our three as one for wasmtime.
        Trap::NullReference => TrapKind::NullReference,
        _ => return None,
    })
}

/// The outcome of a failed instantiation or call; an escaping exception is taken from
/// the store and named by the instance's export of its tag.
fn outcome_of(
    store: &mut Store<()>,
    inst: Option<&Instance>,
    e: &Error,
    names: &HashMap<String, FuncId>,
) -> Outcome {
    if let Some(ExitRequest(code)) = e.downcast_ref::<ExitRequest>() {
        return Outcome::Exit(*code);
    }
    if let Some(t) = e.downcast_ref::<Trap>() {
        return match trap_kind(*t) {
            Some(k) => Outcome::Trap(k),
            None => Outcome::Error(format!("wasmtime trap {t:?}")),
        };
    }
    if e.is::<ThrownException>() {
        let Some(exn) = store.take_pending_exception() else {
            return Outcome::Error("thrown exception without a pending one".into());
        };
        let tag = exn.tag(&mut *store).ok();
        let values: Vec<WVal> = match exn.fields(&mut *store) {
            Ok(fields) => fields.collect(),
            Err(e) => return Outcome::Error(format!("exception fields: {e}")),
        };
        let mut tag_name = "imported".to_string();
        if let (Some(tag), Some(inst)) = (tag, inst) {
            let exports: Vec<(String, wasmtime::Extern)> = inst
                .exports(&mut *store)
                .map(|x| (x.name().to_string(), x.into_extern()))
                .collect();
            for (name, ext) in exports {
                if let wasmtime::Extern::Tag(t) = ext
                    && Tag::eq(&t, &tag, &*store)
                {
                    tag_name = name;
                    break;
                }
            }
        }
        return Outcome::Exception {
            tag: tag_name,
            values: values.iter().map(|v| from_wval(store, v, names)).collect(),
        };
    }
    // Link errors are errors without a trap (the import is missing or of another type).
    Outcome::Link(format!("{e:#}"))
}

impl Subject for WasmtimeSubject {
    fn name(&self) -> &str {
        "wasmtime"
    }

    /// Not yet: its host functions answer and exit as planned but do not call back,
    /// grow, write or set (`effects::HostEnv` has no wasmtime side yet).
    fn applies_host_effects(&self) -> bool {
        false
    }

    fn observe(&self, wasm: &[u8], shape: &Shape, plan: &Plan) -> Observation {
        let mut obs = Observation {
            engine: "wasmtime".into(),
            compile: Ok(()),
            steps: Vec::new(),
        };
        let module = match Module::new(&self.engine, wasm) {
            Ok(m) => m,
            Err(e) => {
                obs.compile = Err(format!("{e:#}"));
                return obs;
            }
        };
        let mut store = Store::new(&self.engine, ());
        let log: Log = Arc::default();
        let mut linker = Linker::<()>::new(&self.engine);
        let mut funcs: HashMap<String, Func> = HashMap::new();
        let mut names: HashMap<String, FuncId> = HashMap::new();
        // Host items by `module.name`, in plan order, for snapshots.
        let mut host_items: Vec<(String, String, wasmtime::Extern)> = Vec::new();
        let mut seen = HashSet::new();
        let built: Vec<usize> = (plan.imports.iter().enumerate())
            .filter(|(i, imp)| {
                plan.omit != Some(*i) && seen.insert((imp.module.clone(), imp.name.clone()))
            })
            .map(|(i, _)| i)
            .collect();
        // Functions first: host tables may hold them.
        for &i in &built {
            let imp = &plan.imports[i];
            let ImportPlan::Func { ty, salt, exit, .. } = &imp.plan else {
                continue;
            };
            let (log, id, salt, exit, results) =
                (log.clone(), imp.id(), *salt, *exit, ty.results().to_vec());
            let f = Func::new(
                &mut store,
                func_type(&self.engine, ty),
                move |mut caller, args, out| {
                    let vals: Vec<Val> =
                        (args.iter()).map(|a| caller_val(&mut caller, a)).collect();
                    let logged = (args.iter().zip(&vals))
                        .map(|(a, v)| match a {
                            WVal::FuncRef(f) => Arg::Func(*f),
                            _ => Arg::Read(v.clone()),
                        })
                        .collect();
                    log.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((id.clone(), logged));
                    perform(&mut caller, host_action(salt, exit, &vals, &results), out)
                },
            );
            funcs.insert(imp.id(), f);
            names.insert(func_key(&f), FuncId::Host(imp.id()));
            let _ = linker.define(&store, &imp.module, &imp.name, f);
            host_items.push((imp.module.clone(), imp.id(), f.into()));
        }
        for &i in &built {
            let imp = &plan.imports[i];
            let ext: wasmtime::Extern = match &imp.plan {
                ImportPlan::Func { .. } => continue,
                ImportPlan::Tag { ty } => {
                    let ty = TagType::new(func_type(&self.engine, ty));
                    match Tag::new(&mut store, &ty) {
                        Ok(t) => t.into(),
                        Err(_) => continue,
                    }
                }
                ImportPlan::Global { value, mutable } => {
                    let v = to_wval(&mut store, value, &HashMap::new());
                    let content = match &shape.imports.get(i).map(|s| &s.ty) {
                        Some(crate::fuzz::shape::ImportTy::Global(g)) => wty(g.content),
                        _ => continue,
                    };
                    let m = if *mutable {
                        Mutability::Var
                    } else {
                        Mutability::Const
                    };
                    match Global::new(&mut store, GlobalType::new(content, m), v) {
                        Ok(g) => g.into(),
                        Err(_) => continue,
                    }
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
                    let Ok(t) = Table::new(&mut store, ty, Ref::null(&heap(element.heap))) else {
                        continue;
                    };
                    for (index, v) in elems {
                        let r = match to_wval(&mut store, v, &funcs) {
                            WVal::FuncRef(f) => Ref::Func(f),
                            WVal::ExternRef(e) => Ref::Extern(e),
                            _ => continue,
                        };
                        let _ = t.set(&mut store, *index as u64, r);
                    }
                    t.into()
                }
            };
            let _ = linker.define(&store, &imp.module, &imp.name, ext.clone());
            host_items.push((imp.module.clone(), imp.id(), ext));
        }
        let made = linker.instantiate(&mut store, &module);
        if let Ok(inst) = &made {
            name_exports(&mut store, inst, shape, &mut names);
        }
        let outcome = match &made {
            Ok(_) => Outcome::Returned(vec![]),
            // Our runtime reports an exception escaping the start function as an
            // instantiation error (its tag and payload are not observed there).
            Err(e) if e.is::<ThrownException>() => {
                let _ = store.take_pending_exception();
                Outcome::Error("uncaught exception".into())
            }
            Err(e) => outcome_of(&mut store, None, e, &names),
        };
        let host_calls = drain(&mut store, &log, &names);
        let state = snapshot(&mut store, made.as_ref().ok(), &host_items, &names);
        obs.steps.push(Step {
            export: INSTANTIATE.into(),
            args: vec![],
            outcome,
            host_calls,
            state,
        });
        let Ok(inst) = made else {
            return obs;
        };
        let fuel = (plan.fuel.as_ref())
            .and_then(|(name, amount)| Some((inst.get_global(&mut store, name)?, *amount)));
        let mut closed: Option<u32> = None;
        for call in &plan.calls {
            if let Some((g, amount)) = fuel {
                let _ = g.set(&mut store, WVal::I32(amount as i32));
            }
            // As in the wasmi reference: our runtime closes an instance that exited and
            // calls into it exit again, but a re-exported import is the host's function.
            let direct = (shape.func_exports.iter())
                .any(|(n, idx, _)| *n == call.export && *idx < shape.num_imported_funcs);
            let outcome = if let (Some(code), false) = (closed, direct) {
                Outcome::Exit(code)
            } else {
                let args: Vec<WVal> = (call.args.iter())
                    .map(|a| to_wval(&mut store, a, &funcs))
                    .collect();
                match inst.get_func(&mut store, &call.export) {
                    None => Outcome::Error(format!("no export {}", call.export)),
                    Some(f) => {
                        let ty = f.ty(&store);
                        let mut out: Vec<WVal> = (ty.results())
                            .map(|t| WVal::default_for_ty(&t).unwrap_or(WVal::I32(0)))
                            .collect();
                        match f.call(&mut store, &args, &mut out) {
                            Ok(()) => Outcome::Returned(
                                out.iter()
                                    .map(|v| from_wval(&mut store, v, &names))
                                    .collect(),
                            ),
                            Err(e) => outcome_of(&mut store, Some(&inst), &e, &names),
                        }
                    }
                }
            };
            if let (Outcome::Exit(code), false) = (&outcome, direct) {
                closed = Some(*code);
            }
            // After exhaustion the store stays usable, as in our engines: the calls after
            // it run too (they are compared, `fuzz/blind_spots.rs`).
            let host_calls = drain(&mut store, &log, &names);
            let state = snapshot(&mut store, Some(&inst), &host_items, &names);
            obs.steps.push(Step {
                export: call.export.clone(),
                args: call.args.clone(),
                outcome,
                host_calls,
                state,
            });
        }
        obs
    }
}

/// A host call's argument, read inside the call (module functions are named later).
fn caller_val(caller: &mut Caller<'_, ()>, v: &WVal) -> Val {
    match v {
        WVal::ExternRef(Some(e)) => Val::ExternRef(Some(
            (e.data(&*caller).ok().flatten())
                .and_then(|d| d.downcast_ref::<u32>().copied())
                .unwrap_or(u32::MAX),
        )),
        WVal::I32(x) => Val::I32(*x as u32),
        WVal::I64(x) => Val::I64(*x as u64),
        WVal::F32(x) => Val::F32(*x),
        WVal::F64(x) => Val::F64(*x),
        WVal::V128(x) => Val::V128(x.as_u128()),
        WVal::ExternRef(None) => Val::ExternRef(None),
        // The host action hashes only whether a reference is null.
        WVal::FuncRef(f) => Val::FuncRef(f.map(|_| FuncId::Unknown(0))),
        WVal::ExnRef(e) => Val::ExnRef(e.is_some()),
        WVal::AnyRef(_) | WVal::ContRef(_) => Val::I32(u32::MAX),
    }
}

/// Names the module's own functions by index, and its re-exported imports by the
/// host function they are (wasmtime may hand out another `VMFuncRef` for them).
fn name_exports(
    store: &mut Store<()>,
    inst: &Instance,
    shape: &Shape,
    names: &mut HashMap<String, FuncId>,
) {
    let imported: Vec<String> = (shape.imports.iter())
        .filter(|i| matches!(i.ty, crate::fuzz::shape::ImportTy::Func(_)))
        .map(|i| format!("{}.{}", i.module, i.name))
        .collect();
    for (name, idx, _) in &shape.func_exports {
        let Some(f) = inst.get_func(&mut *store, name) else {
            continue;
        };
        let id = match imported.get(*idx as usize) {
            Some(host) => FuncId::Host(host.clone()),
            None => FuncId::Defined(*idx),
        };
        names.entry(func_key(&f)).or_insert(id);
    }
}

fn drain(store: &mut Store<()>, log: &Log, names: &HashMap<String, FuncId>) -> Vec<HostCall> {
    let calls: Vec<(String, Vec<Arg>)> =
        std::mem::take(&mut *log.lock().unwrap_or_else(|p| p.into_inner()));
    calls
        .into_iter()
        .map(|(func, args)| HostCall {
            func,
            args: (args.into_iter())
                .map(|a| match a {
                    Arg::Read(v) => v,
                    Arg::Func(f) => from_wval(store, &WVal::FuncRef(f), names),
                })
                .collect(),
            // No effects: the oracle runs every subject without them when this one is
            // in (`applies_host_effects`).
            effects: Vec::new(),
        })
        .collect()
}

/// Every exported global, memory and table of the module, then the host items the
/// module does not re-export (named `host:module.name`), as the other subjects do.
fn snapshot(
    store: &mut Store<()>,
    inst: Option<&Instance>,
    host: &[(String, String, wasmtime::Extern)],
    names: &HashMap<String, FuncId>,
) -> State {
    let mut state = State::default();
    let mut exports: Vec<(String, wasmtime::Extern)> = Vec::new();
    if let Some(inst) = inst {
        exports.extend(
            inst.exports(&mut *store)
                .map(|e| (e.name().to_string(), e.into_extern())),
        );
    }
    let mut seen: HashSet<String> = exports.iter().map(|(_, e)| extern_key(e)).collect();
    let mut host_sorted: Vec<&(String, String, wasmtime::Extern)> = host.iter().collect();
    host_sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, id, e) in host_sorted {
        if seen.insert(extern_key(e)) {
            exports.push((format!("host:{id}"), e.clone()));
        }
    }
    for (name, ext) in exports {
        match ext {
            wasmtime::Extern::Global(g) => {
                let v = g.get(&mut *store);
                state.globals.push((name, from_wval(store, &v, names)));
            }
            wasmtime::Extern::Memory(m) => state.memories.push((name, m.data(&*store).into())),
            wasmtime::Extern::Table(t) => {
                let size = t.size(&*store);
                let mut elems = Vec::with_capacity(size as usize);
                for i in 0..size {
                    elems.push(match t.get(&mut *store, i) {
                        Some(r) => from_ref(store, r, names),
                        None => Val::I32(0),
                    });
                }
                state.tables.push((name, elems));
            }
            _ => {}
        }
    }
    state
}

/// An item's identity in its store (its `Debug` form names the store and the slot).
fn extern_key(e: &wasmtime::Extern) -> String {
    format!("{e:?}")
}
