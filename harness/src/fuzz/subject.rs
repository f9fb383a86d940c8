//! An engine under test: runs one case (module bytes + plan) and reports an
//! [`Observation`]. Our two engines are [`RuntimeSubject`]s; `reference.rs` adds wasmi.

use std::collections::HashMap;
use std::sync::Arc;

use runtime::{Config, Engine, Error, Extern, Instance, Module, Store, Strategy, Value};

use crate::fuzz::host::{self, Host};
use crate::fuzz::objects::Objects;
use crate::fuzz::observe::{FuncId, INSTANTIATE, Observation, Outcome, State, Step, Val};
use crate::fuzz::plan::{Plan, Setup};
use crate::fuzz::shape::Shape;

pub trait Subject {
    fn name(&self) -> &str;
    fn observe(&self, wasm: &[u8], shape: &Shape, plan: &Plan) -> Observation;
    /// Whether its host functions carry out the plan's effects (`effects.rs`). When one
    /// subject's do not, the oracle runs every subject without them, so that what is
    /// compared is what all of them do.
    fn applies_host_effects(&self) -> bool {
        true
    }
}

/// The engine fuel each step (instantiation, every export call) starts with: the
/// calls wasm-smith's functions make run out of it about as often as of the fuel global
/// (8% and 4% of calls), so both the trap and the fuel left at it are compared often.
pub const CALL_FUEL: u64 = 20_000;
/// What instantiation starts with: a start function is a call, but a module that cannot
/// be instantiated makes no calls at all, so it gets five calls' worth (with 20,000,
/// 1.5% of modules stopped in their start function).
pub const START_FUEL: u64 = 5 * CALL_FUEL;
/// What a call of a blind-spot function (`blind_spots.rs`) starts with instead: enough
/// for the unbounded recursions to exhaust the call stack, which they are there to test.
pub const BLIND_SPOT_FUEL: u64 = 1 << 40;

/// One of the runtime's engines, in each configuration a plan can ask for
/// ([`Setup`]); the interpreter's differ only in fuel and interruptibility.
pub struct RuntimeSubject {
    strategy: Strategy,
    engines: Vec<(Setup, Engine)>,
}

impl RuntimeSubject {
    pub fn new(strategy: Strategy) -> runtime::Result<RuntimeSubject> {
        let mut engines = Vec::new();
        for setup in Setup::all() {
            let config = Config::new(strategy)
                .features(crate::fuzz::generate::FEATURES)
                .consume_fuel(setup.fuel)
                .interruptible(setup.interruptible)
                .opt_level(setup.opt_level)
                .regalloc_algorithm(setup.regalloc)
                .signal_traps(setup.signal_traps);
            engines.push((setup, Engine::new(config)?));
        }
        Ok(RuntimeSubject { strategy, engines })
    }

    fn engine(&self, setup: Setup) -> &Engine {
        let found = self.engines.iter().find(|(s, _)| *s == setup);
        &found.expect("an engine for every setup").1
    }
}

/// The error class of a failed step.
pub fn outcome_of_error(e: &Error) -> Outcome {
    if let Some(k) = e.trap_kind() {
        return Outcome::Trap(k);
    }
    match e {
        Error::Exit(x) => Outcome::Exit(x.code),
        Error::Start { source, .. } => outcome_of_error(source),
        Error::Link(l) => Outcome::Link(l.to_string()),
        other => Outcome::Error(other.to_string()),
    }
}

/// An uncaught exception as an outcome: tags are named by their export (the generator
/// exports everything), so the two engines' stores, which number tags alike, need not be
/// trusted to agree on numbers.
fn exception_outcome(
    store: &Store,
    inst: &Instance,
    x: runtime::Exception,
    name_of: &impl Fn(&Value) -> Val,
) -> Outcome {
    let (Ok(tag), Ok(values)) = (x.tag(store), x.values(store)) else {
        return Outcome::Error("exception of another store".into());
    };
    let name = inst
        .exports(store)
        .into_iter()
        .find(|(_, e)| matches!(e, runtime::Extern::Tag(t) if *t == tag))
        .map_or_else(|| "imported".to_string(), |(n, _)| n);
    Outcome::Exception {
        tag: name,
        values: values.iter().map(name_of).collect(),
    }
}

impl Subject for RuntimeSubject {
    fn name(&self) -> &str {
        self.strategy.name()
    }

    fn observe(&self, wasm: &[u8], shape: &Shape, plan: &Plan) -> Observation {
        let engine = self.engine(plan.setup);
        let mut obs = Observation {
            engine: self.name().to_string(),
            compile: Ok(()),
            steps: Vec::new(),
        };
        let module = match Module::from_binary(engine, wasm) {
            Ok(m) => m,
            Err(e) => {
                obs.compile = Err(e.to_string());
                return obs;
            }
        };
        let store = Store::new(engine);
        let host = match host::build(&store, plan, shape) {
            Ok(h) => h,
            Err(e) => {
                obs.steps.push(Step {
                    export: INSTANTIATE.into(),
                    args: vec![],
                    outcome: Outcome::Error(format!("host setup: {e}")),
                    host_calls: vec![],
                    state: State::default(),
                });
                return obs;
            }
        };
        let mut names: HashMap<u32, FuncId> = HashMap::new();
        for (id, f) in &host.funcs {
            names.insert(f.index(), FuncId::Host(id.clone()));
        }
        // Without metering these fail (a usage error) and the fuel left reads as `None`.
        let _ = store.set_fuel(START_FUEL);
        let made = Instance::new(&store, &module, None);
        if let Ok(inst) = &made {
            host.attach(*inst);
            for (name, ext) in inst.exports(&store) {
                if let Extern::Func(f) = ext
                    && let Some((_, idx, _)) = shape.func_exports.iter().find(|(n, ..)| *n == name)
                    && *idx >= shape.num_imported_funcs
                {
                    names.entry(f.index()).or_insert(FuncId::Defined(*idx));
                }
            }
        }
        let objects = Objects::default();
        let name_of = |v: &Value| host::from_value(v, &names, Some(&objects));
        let mut snap = Snapshots::default();
        let outcome = match &made {
            Ok(_) => Outcome::Returned(vec![]),
            Err(e) => outcome_of_error(e),
        };
        obs.steps.push(Step {
            export: INSTANTIATE.into(),
            args: vec![],
            outcome,
            host_calls: host.drain(&name_of),
            state: snap.take(&store, made.as_ref().ok(), &host, &name_of),
        });
        let first = &mut obs.steps[0].state;
        first.fuel = store.fuel().ok();
        first.objects = objects.take(&store, &name_of);
        first.gc_heap_bytes = store.gc_stats().ok().map(|s| s.heap_bytes);
        let Ok(inst) = made else {
            return obs;
        };
        let fuel = plan
            .fuel
            .as_ref()
            .and_then(|(n, amount)| Some((inst.get_global(&store, n)?, *amount)));
        for call in &plan.calls {
            if let Some((g, amount)) = fuel {
                let _ = g.set(&store, Value::I32(amount as i32));
            }
            let args: Vec<Value> = call.args.iter().map(|a| host.value(a)).collect();
            let added = crate::fuzz::blind_spots::is_added(&call.export);
            let _ = store.set_fuel(if added { BLIND_SPOT_FUEL } else { CALL_FUEL });
            let outcome = match inst.get_func(&store, &call.export) {
                None => Outcome::Error(format!("no export {}", call.export)),
                Some(f) => match f.call(&store, &args) {
                    Ok(vals) => Outcome::Returned(vals.iter().map(name_of).collect()),
                    Err(e) => match e.exception() {
                        Some(x) => exception_outcome(&store, &inst, x, &name_of),
                        None => outcome_of_error(&e),
                    },
                },
            };
            // An exhausted call leaves the store usable: the calls after it run too.
            obs.steps.push(Step {
                export: call.export.clone(),
                args: call.args.clone(),
                outcome,
                host_calls: host.drain(&name_of),
                state: State {
                    fuel: store.fuel().ok(),
                    ..snap.take(&store, Some(&inst), &host, &name_of)
                },
            });
            let state = &mut obs.steps.last_mut().expect("pushed").state;
            state.objects = objects.take(&store, &name_of);
            state.gc_heap_bytes = store.gc_stats().ok().map(|s| s.heap_bytes);
        }
        obs
    }
}

/// Takes the snapshots of one run. The observed exports are listed once (an instance's
/// exports never change). A memory is compared in place with the previous snapshot and
/// shares its bytes when it has not changed, so an unchanged memory costs one comparison
/// per step, no copy and no allocation.
#[derive(Default)]
struct Snapshots {
    exports: Option<Vec<Observed>>,
}

/// An export observed at every step, under `name`.
struct Observed {
    name: String,
    ext: Extern,
    /// A memory's bytes at the previous step.
    prev: Option<Arc<[u8]>>,
}

impl Snapshots {
    /// Every global, memory and table the module exports, under each export name (a
    /// table exported under two names is observed twice, as the wasmi reference does),
    /// then those of the host modules the module does not re-export.
    fn take(
        &mut self,
        store: &Store,
        inst: Option<&Instance>,
        host: &Host,
        name_of: &impl Fn(&Value) -> Val,
    ) -> State {
        let exports = self
            .exports
            .get_or_insert_with(|| observed_exports(store, inst, host));
        let mut state = State::default();
        for Observed { name, ext, prev } in exports.iter_mut() {
            match *ext {
                // A tag has no state: its identity shows in the exceptions it tags.
                Extern::Func(_) | Extern::Tag(_) => {}
                Extern::Global(g) => {
                    if let Ok(v) = g.get(store) {
                        state.globals.push((name.clone(), name_of(&v)));
                    }
                }
                Extern::Memory(m) => {
                    if let Some(bytes) = memory(store, m, prev) {
                        state.memories.push((name.clone(), bytes));
                    }
                }
                Extern::Table(t) => {
                    let size = t.size(store).unwrap_or(0);
                    let elems = (0..size)
                        .map(|i| t.get(store, i).map(|v| name_of(&v)).unwrap_or(Val::I32(0)))
                        .collect();
                    state.tables.push((name.clone(), elems));
                }
            }
        }
        state
    }
}

/// What [`Snapshots::take`] observes, in order: the instance's exports, then the host
/// instances' that the module does not re-export (named `host:module.name`).
fn observed_exports(store: &Store, inst: Option<&Instance>, host: &Host) -> Vec<Observed> {
    let mut exports: Vec<(String, Extern)> = Vec::new();
    if let Some(inst) = inst {
        exports.extend(inst.exports(store));
    }
    let mut seen: std::collections::HashSet<Extern> = exports.iter().map(|(_, e)| *e).collect();
    for (module, hi) in &host.instances {
        for (name, ext) in hi.exports(store) {
            if seen.insert(ext) {
                exports.push((format!("host:{module}.{name}"), ext));
            }
        }
    }
    (exports.into_iter())
        .map(|(name, ext)| Observed {
            name,
            ext,
            prev: None,
        })
        .collect()
}

/// The bytes of memory `m`: `prev`'s own when unchanged, else a copy that becomes `prev`.
fn memory(store: &Store, m: runtime::Memory, prev: &mut Option<Arc<[u8]>>) -> Option<Arc<[u8]>> {
    let bytes = m
        .with_data(store, |now| match prev {
            Some(p) if p[..] == *now => p.clone(),
            _ => Arc::from(now),
        })
        .ok()?;
    *prev = Some(bytes.clone());
    Some(bytes)
}
