//! Run statistics: what the fuzzer did, counted from the first subject's observations.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::fuzz::compare::Verdict;
use crate::fuzz::generate::FUEL_EXPORT;
use crate::fuzz::observe::{Observation, Outcome, Val};
use crate::fuzz::plan::Setup;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Inputs tried.
    pub inputs: u64,
    /// Inputs the generator gave up on (no module).
    pub no_module: u64,
    /// Modules run through the oracle.
    pub modules: u64,
    /// Modules generated with SIMD enabled (the input decides).
    pub simd_modules: u64,
    /// Modules that use one Wasm 3.0 feature or more (`features::used`).
    pub wasm3_modules: u64,
    /// Modules that use each Wasm 3.0 feature, by its name in `features::WASM3`.
    pub feature_modules: BTreeMap<String, u64>,
    pub compile_errors: u64,
    pub instantiated: u64,
    /// Instantiations that failed, by class (`link`, `trap: ...`, `exit`, ...).
    pub instantiation_failures: BTreeMap<String, u64>,
    pub calls: u64,
    pub returned: u64,
    pub traps: BTreeMap<String, u64>,
    /// Unreachable traps with the fuel global at zero: the call ran out of fuel.
    pub out_of_fuel: u64,
    /// Calls that ran out of engine fuel (`subject::CALL_FUEL`), on the engine whose
    /// observation is counted (the other's is compared with it).
    #[serde(default)]
    pub engine_out_of_fuel: u64,
    /// Modules run with fuel metering on, and the export calls made in them (after each
    /// of which the fuel left is compared); modules run interruptible (`plan::Setup`).
    #[serde(default)]
    pub fuel_modules: u64,
    #[serde(default)]
    pub fuel_calls: u64,
    #[serde(default)]
    pub interruptible_modules: u64,
    /// Modules by the native engine's optimisation level.
    #[serde(default)]
    pub opt_level_modules: BTreeMap<String, u64>,
    /// Modules compiled with the single-pass register allocator (the rest: backtracking).
    #[serde(default)]
    pub single_pass_modules: u64,
    /// Modules run with `Config::signal_traps` (native: guard pages, no bounds checks).
    pub signal_trap_modules: u64,
    pub exits: u64,
    /// Export calls that ended with an uncaught exception (tag and payload compared).
    pub exceptions: u64,
    pub other_errors: u64,
    pub host_calls: u64,
    /// v128 values that crossed the boundary: export-call arguments and results, and
    /// host-call arguments.
    pub v128_values: u64,
    pub exhaustion_stops: u64,
    pub divergences: u64,
    /// Cases whose worker process died (a signal) or hung (stable driver, isolated):
    /// counted in `divergences` too.
    pub crashes: u64,
    /// Modules whose constants the edge-steering pass rewrote (`generate::steer`).
    pub steered_modules: u64,
    /// Cases where our engines agree and the reference runtime differs.
    pub reference_only: u64,
    /// Modules whose store allocated GC objects (its heap grew: `Store::gc_stats`).
    #[serde(default)]
    pub gc_modules: u64,
    /// Modules where a GC object reachable from a result, host-call argument, global or
    /// table was compared structurally (`objects.rs`), and the objects compared.
    #[serde(default)]
    pub gc_compared_modules: u64,
    #[serde(default)]
    pub gc_objects: u64,
    /// Operators the interpreter executed (feature `op-coverage`).
    #[serde(default)]
    pub operators: crate::fuzz::coverage::Coverage,
    /// Blind-spot functions, stack exhaustion and link failures (`fuzz/blind_stats.rs`).
    #[serde(default)]
    pub blind_spots: crate::fuzz::blind_stats::BlindSpotStats,
    /// Of those, the ones a known issue explains (`fuzz/known.rs`), by issue.
    #[serde(default)]
    pub reference_explained: BTreeMap<String, u64>,
    /// And the ones none explains (counted in `divergences` too).
    #[serde(default)]
    pub reference_unexplained: u64,
    /// Host function widths and effects (`host_stats.rs`).
    #[serde(default)]
    pub host: crate::fuzz::host_stats::HostStats,
    pub elapsed: Duration,
}

fn class(o: &Outcome) -> String {
    match o {
        Outcome::Returned(_) => "returned".into(),
        Outcome::Trap(k) => format!("trap: {k}"),
        Outcome::Exit(_) => "exit".into(),
        Outcome::Link(_) => "link error".into(),
        Outcome::Exception { .. } => "uncaught exception".into(),
        Outcome::Error(_) => "other error".into(),
    }
}

impl Stats {
    pub fn record(&mut self, obs: &Observation, verdict: &Verdict, setup: Setup) {
        self.modules += 1;
        self.fuel_modules += setup.fuel as u64;
        self.interruptible_modules += setup.interruptible as u64;
        *self
            .opt_level_modules
            .entry(format!("{:?}", setup.opt_level))
            .or_default() += 1;
        self.single_pass_modules +=
            (setup.regalloc == runtime::RegallocAlgorithm::SinglePass) as u64;
        self.signal_trap_modules += setup.signal_traps as u64;
        if setup.fuel {
            self.fuel_calls += obs.calls().len() as u64;
        }
        match verdict {
            Verdict::Agree => {}
            Verdict::Exhausted { .. } => self.exhaustion_stops += 1,
            Verdict::Diverged(_) => self.divergences += 1,
            Verdict::ReferenceOnly(_) => self.reference_only += 1,
        }
        if obs.compile.is_err() {
            self.compile_errors += 1;
            return;
        }
        let Some(first) = obs.steps.first() else {
            return;
        };
        let heap = obs.steps.iter().filter_map(|s| s.state.gc_heap_bytes).max();
        self.gc_modules += heap.is_some_and(|b| b > 0) as u64;
        // The comparison stops at an exhaustion: the objects after it were not compared.
        let compared = match verdict {
            Verdict::Exhausted { step } => *step,
            _ => obs.steps.len(),
        };
        let objects: u64 = (obs.steps[..compared].iter())
            .map(|s| s.state.objects.len() as u64)
            .sum();
        self.gc_compared_modules += (objects > 0) as u64;
        self.gc_objects += objects;
        self.host_calls += obs
            .steps
            .iter()
            .map(|s| s.host_calls.len() as u64)
            .sum::<u64>();
        let is_v128 = |v: &Val| matches!(v, Val::V128(_));
        for s in &obs.steps {
            let results: &[Val] = match &s.outcome {
                Outcome::Returned(vals) => vals,
                _ => &[],
            };
            let host_args = s.host_calls.iter().flat_map(|c| &c.args);
            self.v128_values += s
                .args
                .iter()
                .chain(results)
                .chain(host_args)
                .filter(|v| is_v128(v))
                .count() as u64;
        }
        if obs.instantiated() {
            self.instantiated += 1;
        } else {
            *self
                .instantiation_failures
                .entry(class(&first.outcome))
                .or_default() += 1;
        }
        for s in obs.calls() {
            self.calls += 1;
            match &s.outcome {
                Outcome::Returned(_) => self.returned += 1,
                Outcome::Trap(k) => {
                    let fuel_out = s
                        .state
                        .globals
                        .iter()
                        .any(|(n, v)| n == FUEL_EXPORT && *v == Val::I32(0));
                    if fuel_out && *k == runtime::TrapKind::Unreachable {
                        self.out_of_fuel += 1;
                    }
                    if *k == runtime::TrapKind::OutOfFuel {
                        self.engine_out_of_fuel += 1;
                    }
                    *self.traps.entry(k.to_string()).or_default() += 1;
                }
                Outcome::Exit(_) => self.exits += 1,
                Outcome::Exception { .. } => self.exceptions += 1,
                Outcome::Link(_) | Outcome::Error(_) => self.other_errors += 1,
            }
        }
    }

    pub fn merge(&mut self, o: &Stats) {
        self.inputs += o.inputs;
        self.no_module += o.no_module;
        self.modules += o.modules;
        self.simd_modules += o.simd_modules;
        self.wasm3_modules += o.wasm3_modules;
        for (k, v) in &o.feature_modules {
            *self.feature_modules.entry(k.clone()).or_default() += v;
        }
        self.compile_errors += o.compile_errors;
        self.instantiated += o.instantiated;
        for (k, v) in &o.instantiation_failures {
            *self.instantiation_failures.entry(k.clone()).or_default() += v;
        }
        self.calls += o.calls;
        self.returned += o.returned;
        for (k, v) in &o.traps {
            *self.traps.entry(k.clone()).or_default() += v;
        }
        self.out_of_fuel += o.out_of_fuel;
        self.engine_out_of_fuel += o.engine_out_of_fuel;
        self.fuel_modules += o.fuel_modules;
        self.fuel_calls += o.fuel_calls;
        self.interruptible_modules += o.interruptible_modules;
        self.single_pass_modules += o.single_pass_modules;
        self.signal_trap_modules += o.signal_trap_modules;
        for (k, v) in &o.opt_level_modules {
            *self.opt_level_modules.entry(k.clone()).or_default() += v;
        }
        self.exits += o.exits;
        self.exceptions += o.exceptions;
        self.other_errors += o.other_errors;
        self.host_calls += o.host_calls;
        self.v128_values += o.v128_values;
        self.exhaustion_stops += o.exhaustion_stops;
        self.divergences += o.divergences;
        self.crashes += o.crashes;
        self.steered_modules += o.steered_modules;
        self.reference_only += o.reference_only;
        self.gc_modules += o.gc_modules;
        self.gc_compared_modules += o.gc_compared_modules;
        self.gc_objects += o.gc_objects;
        self.operators.merge(&o.operators);
        self.blind_spots.merge(&o.blind_spots);
        for (k, v) in &o.reference_explained {
            *self.reference_explained.entry(k.clone()).or_default() += v;
        }
        self.reference_unexplained += o.reference_unexplained;
        self.host.merge(&o.host);
    }

    pub fn modules_per_sec(&self) -> f64 {
        self.modules as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// One line, for progress output.
    pub fn line(&self) -> String {
        let traps: u64 = self.traps.values().sum();
        format!(
            "modules {} ({} instantiated, {}; {} steered) | calls {} ({} returned, {}; {} traps, {} exits) | exhaustion stops {} | divergences {} ({} crashes) | {:.1} modules/s",
            self.modules,
            self.instantiated,
            pct(self.instantiated, self.modules),
            self.steered_modules,
            self.calls,
            self.returned,
            pct(self.returned, self.calls),
            traps,
            self.exits,
            self.exhaustion_stops,
            self.divergences,
            self.crashes,
            self.modules_per_sec()
        )
    }
}

fn pct(a: u64, b: u64) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * a as f64 / b as f64)
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "inputs:              {}", self.inputs)?;
        writeln!(
            f,
            "  no module:         {} (generator gave up)",
            self.no_module
        )?;
        writeln!(f, "modules:             {}", self.modules)?;
        writeln!(
            f,
            "  with SIMD:         {} ({})",
            self.simd_modules,
            pct(self.simd_modules, self.modules)
        )?;
        writeln!(
            f,
            "  using Wasm 3.0:    {} ({}, modules invalid without one of its features)",
            self.wasm3_modules,
            pct(self.wasm3_modules, self.modules)
        )?;
        for (name, _) in crate::fuzz::features::WASM3 {
            let n = self.feature_modules.get(name).copied().unwrap_or(0);
            writeln!(
                f,
                "    {:<16} {} ({})",
                format!("{name}:"),
                n,
                pct(n, self.modules)
            )?;
        }
        writeln!(
            f,
            "  steered:           {} ({}, constants rewritten to edge values)",
            self.steered_modules,
            pct(self.steered_modules, self.modules)
        )?;
        writeln!(f, "  compile errors:    {}", self.compile_errors)?;
        writeln!(
            f,
            "  instantiated:      {} ({})",
            self.instantiated,
            pct(self.instantiated, self.modules)
        )?;
        for (k, v) in &self.instantiation_failures {
            writeln!(f, "  not instantiated:  {v} {k}")?;
        }
        writeln!(f, "export calls:        {}", self.calls)?;
        writeln!(
            f,
            "  returned:          {} ({})",
            self.returned,
            pct(self.returned, self.calls)
        )?;
        for (k, v) in &self.traps {
            writeln!(f, "  trap {k:<28} {v} ({})", pct(*v, self.calls))?;
        }
        writeln!(
            f,
            "  (out of fuel:      {} of the unreachable traps)",
            self.out_of_fuel
        )?;
        writeln!(
            f,
            "  out of engine fuel: {} of {} calls in {} modules run with fuel metering ({}; fuel left compared after every call)",
            self.engine_out_of_fuel,
            self.fuel_calls,
            self.fuel_modules,
            pct(self.fuel_modules, self.modules)
        )?;
        writeln!(
            f,
            "  interruptible:     {} modules ({}; the checks never fire, results compared as usual)",
            self.interruptible_modules,
            pct(self.interruptible_modules, self.modules)
        )?;
        let levels: Vec<String> = (self.opt_level_modules.iter())
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(
            f,
            "  native opt level:  {}; single-pass register allocation in {} ({})",
            levels.join(", "),
            self.single_pass_modules,
            pct(self.single_pass_modules, self.modules)
        )?;
        writeln!(
            f,
            "  signal traps:      {} modules ({}; guard pages instead of bounds checks)",
            self.signal_trap_modules,
            pct(self.signal_trap_modules, self.modules)
        )?;
        writeln!(f, "  exits:             {}", self.exits)?;
        writeln!(f, "  uncaught exceptions: {}", self.exceptions)?;
        writeln!(f, "  other errors:      {}", self.other_errors)?;
        writeln!(f, "host calls:          {}", self.host_calls)?;
        writeln!(f, "{}", self.host)?;
        writeln!(
            f,
            "v128 values:         {} (call arguments and results, host-call arguments)",
            self.v128_values
        )?;
        writeln!(
            f,
            "GC:                  {} modules allocated objects ({}); {} compared objects structurally ({}), {} objects",
            self.gc_modules,
            pct(self.gc_modules, self.modules),
            self.gc_compared_modules,
            pct(self.gc_compared_modules, self.modules),
            self.gc_objects
        )?;
        writeln!(f, "operators:           {}", self.operators)?;
        self.blind_spots.show(f, self.modules)?;
        writeln!(f, "exhaustion stops:    {}", self.exhaustion_stops)?;
        writeln!(f, "divergences:         {}", self.divergences)?;
        writeln!(
            f,
            "  crashes:           {} (worker died of a signal or hung; reproducers name it)",
            self.crashes
        )?;
        if self.reference_only > 0 {
            writeln!(
                f,
                "reference differs:   {} (our engines agree)",
                self.reference_only
            )?;
            for (issue, n) in &self.reference_explained {
                writeln!(f, "  explained:         {n} {issue}")?;
            }
            writeln!(
                f,
                "  unexplained:       {} (divergences, reproducers in OUT/)",
                self.reference_unexplained
            )?;
        }
        write!(
            f,
            "time:                {:.1} s, {:.1} modules/s",
            self.elapsed.as_secs_f64(),
            self.modules_per_sec()
        )
    }
}
