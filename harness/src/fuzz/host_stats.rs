//! Statistics of the host that fights back (`effects.rs`): how wide the host functions
//! are and what their effects did, counted from the first subject's observation.

use std::fmt;

use crate::fuzz::effects::Effected;
use crate::fuzz::observe::Observation;
use crate::fuzz::plan::{ImportPlan, Plan};

/// Parameters from which a host function counts as wide (issue 14: an argument-order
/// bug that only shows from three parameters up went unseen).
pub const WIDE_PARAMS: usize = 3;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct HostStats {
    /// Modules whose plan has a host function (imports at least one function).
    pub func_import_modules: u64,
    /// Of those, modules with a host function of [`WIDE_PARAMS`] parameters or more.
    pub wide_modules: u64,
    /// The widest host function seen.
    pub max_params: u64,
    /// Calls back into the instance from a host function, made (not refused).
    pub reentrant_calls: u64,
    /// Modules with at least one call back made.
    pub reentrant_modules: u64,
    /// Modules with at least one host memory growth that succeeded by a page or more.
    pub memory_growth_modules: u64,
    /// Calls back refused at the nesting bound.
    pub refused_calls: u64,
    pub memory_grows: u64,
    /// Of `memory_grows`, those that failed (past the maximum).
    pub memory_grow_failures: u64,
    pub memory_writes: u64,
    pub global_sets: u64,
    /// Table element sets and table growths.
    pub table_writes: u64,
}

impl HostStats {
    pub fn record(&mut self, plan: &Plan, obs: &Observation) {
        let widths: Vec<usize> = (plan.imports.iter())
            .filter_map(|i| match &i.plan {
                ImportPlan::Func { ty, .. } => Some(ty.params().len()),
                _ => None,
            })
            .collect();
        if !widths.is_empty() {
            self.func_import_modules += 1;
            self.wide_modules += widths.iter().any(|&w| w >= WIDE_PARAMS) as u64;
            let widest = widths.iter().copied().max().unwrap_or(0) as u64;
            self.max_params = self.max_params.max(widest);
        }
        let effects = (obs.steps.iter())
            .flat_map(|s| &s.host_calls)
            .flat_map(|c| &c.effects);
        let (mut reentered, mut grown) = (false, false);
        for e in effects {
            match e {
                Effected::Called { .. } => {
                    self.reentrant_calls += 1;
                    reentered = true;
                }
                Effected::TooDeep { .. } => self.refused_calls += 1,
                Effected::MemoryGrown { result, delta, .. } => {
                    self.memory_grows += 1;
                    self.memory_grow_failures += result.is_none() as u64;
                    grown |= result.is_some() && *delta > 0;
                }
                Effected::MemoryWritten { .. } => self.memory_writes += 1,
                Effected::GlobalSet { .. } => self.global_sets += 1,
                Effected::TableSet { .. } | Effected::TableGrown { .. } => self.table_writes += 1,
                Effected::Missing { .. } => {}
            }
        }
        self.reentrant_modules += reentered as u64;
        self.memory_growth_modules += grown as u64;
    }

    pub fn merge(&mut self, o: &HostStats) {
        self.func_import_modules += o.func_import_modules;
        self.wide_modules += o.wide_modules;
        self.max_params = self.max_params.max(o.max_params);
        self.reentrant_calls += o.reentrant_calls;
        self.reentrant_modules += o.reentrant_modules;
        self.memory_growth_modules += o.memory_growth_modules;
        self.refused_calls += o.refused_calls;
        self.memory_grows += o.memory_grows;
        self.memory_grow_failures += o.memory_grow_failures;
        self.memory_writes += o.memory_writes;
        self.global_sets += o.global_sets;
        self.table_writes += o.table_writes;
    }

    /// The share of function-importing modules with a wide host function, in percent.
    pub fn wide_percent(&self) -> f64 {
        100.0 * self.wide_modules as f64 / (self.func_import_modules.max(1)) as f64
    }
}

impl fmt::Display for HostStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "host functions:      {} modules import some; {} ({:.1}%) one of {WIDE_PARAMS}+ parameters (widest {})",
            self.func_import_modules,
            self.wide_modules,
            self.wide_percent(),
            self.max_params
        )?;
        writeln!(
            f,
            "  modules where a host function called back: {}, grew a memory: {}",
            self.reentrant_modules, self.memory_growth_modules
        )?;
        write!(
            f,
            "  effects:           {} calls back ({} refused too deep), {} memory grows ({} failed), {} memory writes, {} global sets, {} table sets/grows",
            self.reentrant_calls,
            self.refused_calls,
            self.memory_grows,
            self.memory_grow_failures,
            self.memory_writes,
            self.global_sets,
            self.table_writes
        )
    }
}
