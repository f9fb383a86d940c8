//! Statistics of the blind-spot functions (`fuzz/blind_spots.rs`) and of link failures,
//! read from the first subject's observation of each case.

use std::collections::BTreeMap;
use std::fmt;

use crate::fuzz::blind_spots::{COUNTERS, PENDING, PREFIX, Pending, is_added};
use crate::fuzz::observe::{Outcome, Val};
use crate::fuzz::oracle::Checked;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct BlindSpotStats {
    /// Modules with each kind of added function (`memory_copy`, `deep`, ...).
    pub modules: BTreeMap<String, u64>,
    /// Operations the added functions completed, by counter (`COUNTERS`), summed over
    /// the modules' last states.
    pub ops: BTreeMap<String, u64>,
    /// Calls of added functions that trapped in their edge operation, by operation.
    pub edge_traps: BTreeMap<String, u64>,
    /// Modules with a call that ended in `call stack exhausted`, in an added function
    /// (compared) or anywhere else (an exhaustion stop).
    pub exhausted_modules: u64,
    /// Calls of added recursion functions that exhausted the stack (on every engine:
    /// anything else is a divergence), and those that returned.
    pub exhausted_calls: u64,
    pub recursion_returned: u64,
    /// Calls compared after an exhausted one in the same store.
    pub calls_after_exhaustion: u64,
    /// Link failures when the plan left an import out on purpose, and otherwise.
    pub link_intended: u64,
    pub link_unintended: u64,
}

fn kind(export: &str) -> &str {
    export
        .strip_prefix(PREFIX)
        .unwrap_or(export)
        .trim_end_matches(|c: char| c.is_ascii_digit())
}

impl BlindSpotStats {
    pub fn record(&mut self, checked: &Checked) {
        let Some(obs) = checked.observations.first() else {
            return;
        };
        let mut kinds: Vec<&str> = checked
            .shape
            .func_exports
            .iter()
            .filter(|(name, ..)| is_added(name))
            .map(|(name, ..)| kind(name))
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        for k in kinds {
            *self.modules.entry(k.to_string()).or_default() += 1;
        }
        if let Some(first) = obs.steps.first()
            && matches!(first.outcome, Outcome::Link(_))
        {
            if checked.plan.omit.is_some() {
                self.link_intended += 1;
            } else {
                self.link_unintended += 1;
            }
        }
        let calls = obs.calls();
        if let Some(last) = calls.last() {
            for (name, v) in &last.state.globals {
                if let (Some(counter), Val::I32(n)) = (name.strip_prefix("__bs#"), v)
                    && COUNTERS.contains(&counter)
                    && *n > 0
                {
                    *self.ops.entry(counter.to_string()).or_default() += u64::from(*n);
                }
            }
        }
        let mut exhausted = false;
        for s in calls {
            if exhausted {
                self.calls_after_exhaustion += 1;
            }
            let recursion = is_added(&s.export) && matches!(kind(&s.export), "deep" | "mutual");
            match &s.outcome {
                o if o.is_exhaustion() => {
                    exhausted = true;
                    self.exhausted_calls += is_added(&s.export) as u64;
                }
                Outcome::Returned(_) if recursion => self.recursion_returned += 1,
                Outcome::Trap(_) if is_added(&s.export) => {
                    let pending = s.state.globals.iter().find(|(n, _)| n == PENDING);
                    if let Some((_, Val::I32(code))) = pending
                        && let Some(name) = Pending::name(*code)
                    {
                        *self.edge_traps.entry(name.to_string()).or_default() += 1;
                    }
                }
                _ => {}
            }
        }
        self.exhausted_modules += exhausted as u64;
    }

    pub fn merge(&mut self, o: &BlindSpotStats) {
        for (mine, theirs) in [
            (&mut self.modules, &o.modules),
            (&mut self.ops, &o.ops),
            (&mut self.edge_traps, &o.edge_traps),
        ] {
            for (k, v) in theirs {
                *mine.entry(k.clone()).or_default() += v;
            }
        }
        self.exhausted_modules += o.exhausted_modules;
        self.exhausted_calls += o.exhausted_calls;
        self.recursion_returned += o.recursion_returned;
        self.calls_after_exhaustion += o.calls_after_exhaustion;
        self.link_intended += o.link_intended;
        self.link_unintended += o.link_unintended;
    }

    /// The report's lines, `modules` being the run's module count (for percentages).
    pub fn show(&self, f: &mut fmt::Formatter<'_>, modules: u64) -> fmt::Result {
        let pct = |a: u64| {
            if modules == 0 {
                "-".to_string()
            } else {
                format!("{:.2}%", 100.0 * a as f64 / modules as f64)
            }
        };
        writeln!(
            f,
            "link failures:       {} intended (an import left out), {} unintended ({})",
            self.link_intended,
            self.link_unintended,
            pct(self.link_unintended)
        )?;
        writeln!(f, "blind spots (modules with the added functions):")?;
        for (k, v) in &self.modules {
            writeln!(f, "    {:<16} {v} ({})", format!("{k}:"), pct(*v))?;
        }
        writeln!(f, "  operations completed:")?;
        for (k, v) in &self.ops {
            writeln!(f, "    {k:<24} {v}")?;
        }
        writeln!(f, "  edge operations that trapped:")?;
        for (k, v) in &self.edge_traps {
            writeln!(f, "    {:<36} {v}", format!("{k}:"))?;
        }
        writeln!(
            f,
            "  stack exhaustion:  {} modules ({}), {} calls in added functions (compared), {} later calls compared; {} bounded recursions returned",
            self.exhausted_modules,
            pct(self.exhausted_modules),
            self.exhausted_calls,
            self.calls_after_exhaustion,
            self.recursion_returned
        )
    }
}
