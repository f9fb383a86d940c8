//! The host imports of a plan, built in a runtime `Store` with `HostModuleBuilder`:
//! functions that log every call, apply their effects to the calling instance through
//! its `Caller` (`effects.rs`) and answer with `plan::host_action`, and globals,
//! memories and tables with the plan's initial contents.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use runtime::{
    AnyRef, Caller, Extern, Func, HostModuleBuilder, Instance, MemoryType, Store, TableType,
    TrapKind, Value,
};

use crate::fuzz::effects::{self, Effected, HostEnv, Limits, Stop};
use crate::fuzz::objects::Objects;
use crate::fuzz::observe::{AnyVal, FuncId, HostCall, Outcome, UNNUMBERED, Val};
use crate::fuzz::plan::{HostAction, ImportPlan, Plan, args_hash, host_action};
use crate::fuzz::shape::Shape;

/// One host call as it happened, with raw store values (named after the run, when the
/// module's functions are known); its effects' values are named at once.
pub struct RawCall {
    pub func: String,
    pub args: Vec<Value>,
    pub effects: Vec<Effected>,
}

/// Host calls as they happened, in order.
pub type RawLog = Arc<Mutex<Vec<RawCall>>>;

/// What every host function of one run shares.
#[derive(Default)]
struct Shared {
    log: RawLog,
    /// Host functions by `module.name`, set once they exist (after the host modules
    /// are instantiated, before any of them can be called).
    funcs: OnceLock<HashMap<String, Func>>,
    /// Calls back into Wasm under way (`effects::perform`).
    nesting: crate::fuzz::effects::CallsBack,
    /// The module's function exports: `(name, module function index)`, defined ones.
    defined: Vec<(String, u32)>,
    /// The module's instance once made: what a host function acts on when the embedder
    /// calls it directly (a re-exported import), as an embedder keeping the instance it
    /// made would. A call from Wasm acts on its caller (the same instance, or during
    /// the start function the one being made).
    instance: OnceLock<Instance>,
}

/// The host side of one case in one store.
pub struct Host {
    pub log: RawLog,
    /// The host module instances, by module name.
    pub instances: Vec<(String, Instance)>,
    /// Host functions by `module.name`.
    pub funcs: HashMap<String, Func>,
    shared: Arc<Shared>,
}

impl Host {
    /// Tells the host functions which instance to act on when no Wasm caller does.
    pub fn attach(&self, instance: Instance) {
        let _ = self.shared.instance.set(instance);
    }

    /// Takes the calls logged so far.
    pub fn drain(&self, names: &impl Fn(&Value) -> Val) -> Vec<HostCall> {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.drain(..)
            .map(|c| HostCall {
                func: c.func,
                args: c.args.iter().map(names).collect(),
                effects: c.effects,
            })
            .collect()
    }

    /// A plan value as a store value (host funcrefs resolve to this store's functions).
    pub fn value(&self, v: &Val) -> Value {
        to_value(v, &self.funcs)
    }
}

/// A host function's view of its calling instance, for `effects::perform`.
struct CallerEnv<'c, 'a> {
    caller: &'c mut Caller<'a>,
    shared: &'c Shared,
}

impl CallerEnv<'_, '_> {
    fn instance(&self) -> Option<Instance> {
        self.caller
            .instance()
            .or_else(|| self.shared.instance.get().copied())
    }

    fn export(&mut self, name: &str) -> Option<Extern> {
        let inst = self.instance()?;
        inst.get_export(&mut *self.caller, name)
    }

    /// A plan value in this store: a `FuncId::Defined` is the instance's export of it.
    fn value(&mut self, v: &Val) -> Value {
        match v {
            Val::FuncRef(Some(FuncId::Defined(i))) => {
                let name = (self.shared.defined.iter())
                    .find(|(_, idx)| idx == i)
                    .map(|(name, _)| name.clone());
                Value::FuncRef(name.and_then(|n| self.export(&n)?.into_func()))
            }
            _ => to_value(v, self.shared.funcs.get().unwrap_or(&HashMap::new())),
        }
    }

    /// A store value as a plan value: functions named by the host import they are or
    /// the export of the calling instance they are.
    fn val(&mut self, v: &Value) -> Val {
        let Value::FuncRef(Some(f)) = v else {
            return from_value(v, &HashMap::new(), None);
        };
        let host = (self.shared.funcs.get().into_iter().flatten())
            .find(|(_, h)| *h == f)
            .map(|(id, _)| FuncId::Host(id.clone()));
        let shared = self.shared;
        let id = host.or_else(|| {
            (shared.defined.iter())
                .find(|(name, _)| self.export(name).and_then(Extern::into_func) == Some(*f))
                .map(|(_, idx)| FuncId::Defined(*idx))
        });
        Val::FuncRef(Some(id.unwrap_or(FuncId::Unknown(f.index()))))
    }

    /// An exception that escaped a call back, as `subject::exception_outcome` names
    /// one: by the export name of its tag.
    fn exception(&mut self, x: runtime::Exception) -> Outcome {
        let caller = &mut *self.caller;
        let (Ok(tag), Ok(values)) = (x.tag(&mut *caller), x.values(&mut *caller)) else {
            return Outcome::Error("exception of another store".into());
        };
        let exports = (self.instance())
            .map(|i| i.exports(&mut *self.caller))
            .unwrap_or_default();
        let tag = exports
            .into_iter()
            .find(|(_, e)| matches!(e, Extern::Tag(t) if *t == tag))
            .map_or_else(|| "imported".to_string(), |(n, _)| n);
        Outcome::Exception {
            tag,
            values: values.iter().map(|v| self.val(v)).collect(),
        }
    }

    fn limits(&mut self, name: &str) -> Option<(Extern, Limits)> {
        let ext = self.export(name)?;
        let caller = &mut *self.caller;
        let limits = match ext {
            Extern::Memory(m) => Limits {
                size: m.size(&mut *caller).ok()?,
                max: m.ty(&mut *caller).ok()?.max,
                is_64: m.is_64(&mut *caller).ok()?,
            },
            Extern::Table(t) => Limits {
                size: t.size(&mut *caller).ok()?,
                max: t.ty(&mut *caller).ok()?.max,
                is_64: t.is_64(&mut *caller).ok()?,
            },
            _ => return None,
        };
        Some((ext, limits))
    }
}

impl HostEnv for CallerEnv<'_, '_> {
    fn has_instance(&mut self) -> bool {
        self.instance().is_some()
    }

    fn call_export(&mut self, export: &str, args: &[Val]) -> Option<Outcome> {
        let f = self.export(export)?.into_func()?;
        let args: Vec<Value> = args.iter().map(|a| self.value(a)).collect();
        Some(match self.caller.call(f, &args) {
            Ok(vals) => Outcome::Returned(vals.iter().map(|v| self.val(v)).collect()),
            Err(e) => match e.exception() {
                Some(x) => self.exception(x),
                None => crate::fuzz::subject::outcome_of_error(&e),
            },
        })
    }

    fn memory_limits(&mut self, memory: &str) -> Option<Limits> {
        self.limits(memory)
            .filter(|(e, _)| matches!(e, Extern::Memory(_)))
            .map(|(_, l)| l)
    }

    fn memory_grow(&mut self, memory: &str, delta: u64) -> Option<Option<u64>> {
        let m = self.export(memory)?.into_memory()?;
        Some(m.grow(&mut *self.caller, delta).ok())
    }

    fn memory_write(&mut self, memory: &str, offset: u64, bytes: &[u8]) -> Option<bool> {
        let m = self.export(memory)?.into_memory()?;
        Some(m.write(&mut *self.caller, offset, bytes).is_ok())
    }

    fn global_set(&mut self, global: &str, value: &Val) -> Option<bool> {
        let g = self.export(global)?.into_global()?;
        let v = self.value(value);
        Some(g.set(&mut *self.caller, v).is_ok())
    }

    fn table_limits(&mut self, table: &str) -> Option<Limits> {
        self.limits(table)
            .filter(|(e, _)| matches!(e, Extern::Table(_)))
            .map(|(_, l)| l)
    }

    fn table_set(&mut self, table: &str, index: u64, value: &Val) -> Option<bool> {
        let t = self.export(table)?.into_table()?;
        let v = self.value(value);
        Some(t.set(&mut *self.caller, index, v).is_ok())
    }

    fn table_grow(&mut self, table: &str, delta: u64, init: &Val) -> Option<Option<u64>> {
        let t = self.export(table)?.into_table()?;
        let v = self.value(init);
        Some(t.grow(&mut *self.caller, delta, v).ok())
    }
}

pub fn to_value(v: &Val, funcs: &HashMap<String, Func>) -> Value {
    match v {
        Val::I32(x) => Value::I32(*x as i32),
        Val::I64(x) => Value::I64(*x as i64),
        Val::F32(x) => Value::F32(*x),
        Val::F64(x) => Value::F64(*x),
        Val::V128(x) => Value::V128(*x),
        Val::FuncRef(Some(FuncId::Host(n))) => Value::FuncRef(funcs.get(n).copied()),
        Val::FuncRef(_) => Value::FuncRef(None),
        Val::ExternRef(e) => Value::ExternRef(e.map(runtime::ExternRef::host)),
        // The generator makes no exceptions, so no host value is a non-null exnref.
        Val::ExnRef(_) => Value::ExnRef(None),
        // A plan names no object (the host makes none): only i31 and host references.
        Val::AnyRef(a) => Value::AnyRef(a.and_then(plain_any)),
        Val::ExternAny(a) => Value::ExternRef(plain_any(*a).map(runtime::ExternRef::from_any)),
    }
}

/// The internal reference a plan can name: an `i31` or a host reference.
fn plain_any(a: AnyVal) -> Option<AnyRef> {
    match a {
        AnyVal::I31(v) => Some(AnyRef::I31(runtime::I31::wrapping(v as i32))),
        AnyVal::Host(n) => Some(AnyRef::Host(n)),
        AnyVal::Object(_) => None,
    }
}

/// A store value without store identity beyond what `funcs` names; GC objects are
/// numbered by `objects` (`objects.rs`), or all [`UNNUMBERED`] without it.
pub fn from_value(v: &Value, funcs: &HashMap<u32, FuncId>, objects: Option<&Objects>) -> Val {
    let any = |a: &AnyRef| match objects {
        Some(o) => o.any(a),
        None => match a {
            AnyRef::I31(v) => AnyVal::I31(v.get_u()),
            AnyRef::Host(n) => AnyVal::Host(*n),
            AnyRef::Struct(_) | AnyRef::Array(_) => AnyVal::Object(UNNUMBERED),
        },
    };
    match v {
        Value::I32(x) => Val::I32(*x as u32),
        Value::I64(x) => Val::I64(*x as u64),
        Value::F32(x) => Val::F32(*x),
        Value::F64(x) => Val::F64(*x),
        Value::V128(x) => Val::V128(*x),
        Value::FuncRef(f) => Val::FuncRef(f.map(|f| {
            funcs
                .get(&f.index())
                .cloned()
                .unwrap_or(FuncId::Unknown(f.index()))
        })),
        Value::ExternRef(None) => Val::ExternRef(None),
        Value::ExternRef(Some(e)) => match e.host_number() {
            Some(n) => Val::ExternRef(Some(n)),
            None => Val::ExternAny(any(&e.to_any())),
        },
        Value::ExnRef(e) => Val::ExnRef(e.is_some()),
        Value::AnyRef(a) => Val::AnyRef(a.as_ref().map(any)),
    }
}

/// Builds and registers the host modules of `plan` (for a module of `shape`) in `store`.
pub fn build(store: &Store, plan: &Plan, shape: &Shape) -> runtime::Result<Host> {
    let shared = Arc::new(Shared {
        defined: (shape.func_exports.iter())
            .filter(|(_, idx, _)| *idx >= shape.num_imported_funcs)
            .map(|(name, idx, _)| (name.clone(), *idx))
            .collect(),
        ..Shared::default()
    });
    let mut by_module: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut seen = HashSet::new();
    let mut built = HashSet::new();
    for (i, imp) in plan.imports.iter().enumerate() {
        if plan.omit == Some(i) || !seen.insert((&imp.module, &imp.name)) {
            continue;
        }
        built.insert(i);
        by_module.entry(&imp.module).or_default().push(i);
    }
    let mut instances = Vec::new();
    for (module, items) in &by_module {
        let mut b = HostModuleBuilder::new(*module);
        for &i in items {
            let imp = &plan.imports[i];
            b = match &imp.plan {
                ImportPlan::Func {
                    ty,
                    salt,
                    exit,
                    effects,
                } => {
                    let (shared, id, salt, exit, effects, results) = (
                        shared.clone(),
                        imp.id(),
                        *salt,
                        *exit,
                        effects.clone(),
                        ty.results().to_vec(),
                    );
                    b.func(&imp.name, ty.clone(), move |caller, args, out| {
                        let none = HashMap::new();
                        let vals: Vec<Val> =
                            args.iter().map(|a| from_value(a, &none, None)).collect();
                        let at = {
                            let mut log = shared.log.lock().unwrap_or_else(|p| p.into_inner());
                            log.push(RawCall {
                                func: id.clone(),
                                args: args.to_vec(),
                                effects: Vec::new(),
                            });
                            log.len() - 1
                        };
                        let mut env = CallerEnv {
                            caller: &mut *caller,
                            shared: &shared,
                        };
                        let hash = args_hash(salt, &vals);
                        let (done, stop) =
                            effects::perform(&mut env, &effects, hash, &shared.nesting);
                        if let Some(entry) = (shared.log.lock())
                            .unwrap_or_else(|p| p.into_inner())
                            .get_mut(at)
                        {
                            entry.effects = done;
                        }
                        match stop {
                            Some(Stop::Exit(code)) => return Err(caller.exit(code)),
                            Some(Stop::Exhausted) => {
                                return Err(TrapKind::CallStackExhausted.into());
                            }
                            None => {}
                        }
                        match host_action(salt, exit, &vals, &results) {
                            HostAction::Exit(code) => Err(caller.exit(code)),
                            HostAction::Return(vals) => {
                                for (slot, v) in out.iter_mut().zip(&vals) {
                                    *slot = to_value(v, &HashMap::new());
                                }
                                Ok(())
                            }
                        }
                    })
                }
                ImportPlan::Global { value, mutable } => {
                    b.global(&imp.name, to_value(value, &HashMap::new()), *mutable)
                }
                ImportPlan::Tag { ty } => b.export(
                    &imp.name,
                    runtime::Extern::Tag(runtime::Tag::new(store, ty.clone())?),
                ),
                ImportPlan::Memory {
                    min, max, memory64, ..
                } => b.memory(
                    &imp.name,
                    MemoryType {
                        min: *min,
                        max: *max,
                        memory64: *memory64,
                    },
                ),
                ImportPlan::Table {
                    element,
                    min,
                    max,
                    table64,
                    ..
                } => b.table(
                    &imp.name,
                    TableType {
                        element: *element,
                        min: *min,
                        max: *max,
                        table64: *table64,
                    },
                    runtime::Value::default_for((*element).into()),
                ),
            };
        }
        instances.push((module.to_string(), b.instantiate(store)?));
    }
    let mut funcs = HashMap::new();
    for (module, inst) in &instances {
        for (name, ext) in inst.exports(store) {
            if let Extern::Func(f) = ext {
                funcs.insert(format!("{module}.{name}"), f);
            }
        }
    }
    let _ = shared.funcs.set(funcs.clone());
    // Initial contents, now that the host functions exist.
    for (i, imp) in plan.imports.iter().enumerate() {
        let Some((_, inst)) = instances.iter().find(|(m, _)| *m == imp.module) else {
            continue;
        };
        if !built.contains(&i) {
            continue;
        }
        match &imp.plan {
            ImportPlan::Memory { writes, .. } => {
                let Some(m) = inst.get_memory(store, &imp.name) else {
                    continue;
                };
                let size = m.data_size(store)?;
                for (off, bytes) in crate::fuzz::plan::clipped_writes(writes, size) {
                    m.write(store, off as u64, bytes)?;
                }
            }
            ImportPlan::Table { elems, .. } => {
                let Some(t) = inst.get_table(store, &imp.name) else {
                    continue;
                };
                let size = t.size(store)?;
                for (index, v) in elems {
                    if (*index as u64) < size {
                        t.set(store, *index as u64, to_value(v, &funcs))?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(Host {
        log: shared.log.clone(),
        instances,
        funcs,
        shared,
    })
}
