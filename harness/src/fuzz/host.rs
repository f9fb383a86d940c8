//! The host imports of a plan, built in a runtime `Store` with `HostModuleBuilder`:
//! functions that log every call and answer with `plan::host_action`, and globals,
//! memories and tables with the plan's initial contents.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use runtime::{Extern, Func, HostModuleBuilder, Instance, MemoryType, Store, TableType, Value};

use crate::fuzz::observe::{FuncId, HostCall, Val};
use crate::fuzz::plan::{HostAction, ImportPlan, Plan, host_action};

/// Host calls as they happened, with raw store values (named after the run, when the
/// module's functions are known).
pub type RawLog = Arc<Mutex<Vec<(String, Vec<Value>)>>>;

/// The host side of one case in one store.
pub struct Host {
    pub log: RawLog,
    /// The host module instances, by module name.
    pub instances: Vec<(String, Instance)>,
    /// Host functions by `module.name`.
    pub funcs: HashMap<String, Func>,
}

impl Host {
    /// Takes the calls logged so far.
    pub fn drain(&self, names: &impl Fn(&Value) -> Val) -> Vec<HostCall> {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.drain(..)
            .map(|(func, args)| HostCall {
                func,
                args: args.iter().map(names).collect(),
            })
            .collect()
    }

    /// A plan value as a store value (host funcrefs resolve to this store's functions).
    pub fn value(&self, v: &Val) -> Value {
        to_value(v, &self.funcs)
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
        Val::ExternRef(e) => Value::ExternRef(e.map(runtime::ExternRef)),
        // The generator makes no exceptions, so no host value is a non-null exnref.
        Val::ExnRef(_) => Value::ExnRef(None),
    }
}

/// A store value without store identity beyond what `funcs` names.
pub fn from_value(v: &Value, funcs: &HashMap<u32, FuncId>) -> Val {
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
        Value::ExternRef(e) => Val::ExternRef(e.map(|e| e.0)),
        Value::ExnRef(e) => Val::ExnRef(e.is_some()),
    }
}

/// Builds and registers the host modules of `plan` in `store`.
pub fn build(store: &Store, plan: &Plan) -> runtime::Result<Host> {
    let log: RawLog = Arc::default();
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
                ImportPlan::Func { ty, salt, exit } => {
                    let (log, id, salt, exit, results) =
                        (log.clone(), imp.id(), *salt, *exit, ty.results().to_vec());
                    b.func(&imp.name, ty.clone(), move |caller, args, out| {
                        let none = HashMap::new();
                        let vals: Vec<Val> = args.iter().map(|a| from_value(a, &none)).collect();
                        log.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((id.clone(), args.to_vec()));
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
                for (off, bytes) in writes {
                    let n = bytes.len().min(size.saturating_sub(*off as usize));
                    if n > 0 {
                        m.write(store, *off as u64, &bytes[..n])?;
                    }
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
        log,
        instances,
        funcs,
    })
}
